//! Cross-check of the IKE decoder against Wireshark's dissector (tshark), message by message,
//! on every capture in `pcaps/`. tshark 4.0 lacks names for the newest code points (43/44,
//! ADDKE, ML-KEM), so numbers are compared.

mod common;

use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

/// A field that tshark prints once as a value and several times as an array.
fn list(v: &Value) -> Vec<&Value> {
    match v {
        Value::Array(a) => a.iter().collect(),
        Value::Null => Vec::new(),
        other => vec![other],
    }
}

fn num(v: &Value) -> u64 {
    let s = v.as_str().unwrap_or_else(|| panic!("not a string: {v}"));
    match s.strip_prefix("0x") {
        Some(h) => u64::from_str_radix(h, 16).expect("hex number"),
        None => s.parse().unwrap_or_else(|_| panic!("not a number: {s}")),
    }
}

fn hex_bytes(v: &Value) -> String {
    v.as_str().unwrap_or_default().replace(':', "")
}

/// (type or IKEv1 transform number, id, key length, [(attribute type, value)])
type TransformView = (u64, u64, Option<u64>, Vec<(u64, u64)>);

/// The comparable view of one message, built the same way from both sides.
#[derive(Debug, PartialEq, Eq)]
struct View {
    version: u64,
    spi_i: String,
    spi_r: String,
    exchange_type: u64,
    message_id: u64,
    flags: u64,
    length: u64,
    payloads: Vec<u64>,
    /// (number, protocol, transforms)
    proposals: Vec<(u64, u64, Vec<TransformView>)>,
    /// (method, data length); method 0 for IKEv1.
    ke: Vec<(u64, u64)>,
    notify: Vec<u64>,
    vendor_ids: Vec<String>,
    skf: Option<(u64, u64)>,
}

fn tshark_transform(t: &Value, v1: bool) -> TransformView {
    let obj = t.as_object().expect("transform object");
    if v1 {
        // Phase 1 attributes are `isakmp.ike.attr.*`, Quick Mode ones `isakmp.ipsec.attr.*`.
        let attr_list = obj
            .get("isakmp.ike.attr")
            .or_else(|| obj.get("isakmp.ipsec.attr"));
        let attrs = list(attr_list.unwrap_or(&Value::Null))
            .into_iter()
            .map(|a| {
                let field = |f: &str| {
                    a.get(format!("isakmp.ike.attr.{f}"))
                        .or_else(|| a.get(format!("isakmp.ipsec.attr.{f}")))
                };
                let value = field("value").map_or(u64::MAX, |v| {
                    u64::from_str_radix(&hex_bytes(v), 16).unwrap_or(u64::MAX)
                });
                (num(field("type").expect("attribute type")), value)
            })
            .collect();
        return (
            num(&obj["isakmp.trans.number"]),
            num(&obj["isakmp.trans.id"]),
            None,
            attrs,
        );
    }
    let id = obj
        .iter()
        .find(|(k, _)| k.starts_with("isakmp.tf.id"))
        .map(|(_, v)| num(v))
        .expect("transform id");
    let key_length = list(obj.get("isakmp.ike2.attr").unwrap_or(&Value::Null))
        .into_iter()
        .find_map(|a| a.get("isakmp.ike2.attr.key_length").map(num));
    (num(&obj["isakmp.tf.type"]), id, key_length, Vec::new())
}

fn tshark_view(ike: &Value) -> View {
    let version = num(&ike["isakmp.version"]) >> 4;
    let v1 = version == 1;
    let mut view = View {
        version,
        spi_i: hex_bytes(&ike["isakmp.ispi"]),
        spi_r: hex_bytes(&ike["isakmp.rspi"]),
        exchange_type: num(&ike["isakmp.exchangetype"]),
        message_id: num(&ike["isakmp.messageid"]),
        flags: num(&ike["isakmp.flags"]),
        length: num(&ike["isakmp.length"]),
        payloads: list(&ike["isakmp.typepayload"])
            .into_iter()
            .map(num)
            .collect(),
        proposals: Vec::new(),
        ke: Vec::new(),
        notify: Vec::new(),
        vendor_ids: Vec::new(),
        skf: None,
    };
    let types = view.payloads.clone();
    for (t, tree) in types.iter().zip(list(&ike["isakmp.typepayload_tree"])) {
        match (v1, t) {
            (false, 33) | (true, 1) => {
                for p in list(&tree["isakmp.typepayload_tree"]) {
                    let transforms = list(&p["isakmp.typepayload_tree"])
                        .into_iter()
                        .map(|t| tshark_transform(t, v1))
                        .collect();
                    view.proposals.push((
                        num(&p["isakmp.prop.number"]),
                        num(&p["isakmp.prop.protoid"]),
                        transforms,
                    ));
                }
            }
            (false, 34) => view.ke.push((
                num(&tree["isakmp.key_exchange.dh_group"]),
                num(&tree["isakmp.payloadlength"]) - 8,
            )),
            (true, 4) => view.ke.push((0, num(&tree["isakmp.payloadlength"]) - 4)),
            (false, 41) | (true, 11) => view.notify.push(num(&tree["isakmp.notify.msgtype"])),
            (false, 43) | (true, 13) => view.vendor_ids.push(hex_bytes(&tree["isakmp.vid_bytes"])),
            (false, 53) => {
                view.skf = Some((
                    num(&tree["isakmp.frag.number"]),
                    num(&tree["isakmp.frag.total"]),
                ))
            }
            _ => {}
        }
    }
    view
}

fn n(v: &Value) -> u64 {
    v.as_u64().unwrap_or_else(|| panic!("not a number: {v}"))
}

fn ikescope_view(m: &Value) -> View {
    let proposals = m["proposals"]
        .as_array()
        .expect("proposals")
        .iter()
        .map(|p| {
            let transforms = p["transforms"]
                .as_array()
                .expect("transforms")
                .iter()
                .map(|t| {
                    let attrs = t["attributes"].as_array().map_or_else(Vec::new, |a| {
                        a.iter()
                            .map(|a| (n(&a["type"]), a["value"].as_u64().unwrap_or(u64::MAX)))
                            .collect()
                    });
                    (n(&t["type"]), n(&t["id"]), t["key_length"].as_u64(), attrs)
                })
                .collect();
            (n(&p["number"]), n(&p["protocol"]), transforms)
        })
        .collect();
    View {
        version: n(&m["version"]),
        spi_i: m["spi_i"].as_str().expect("spi_i").into(),
        spi_r: m["spi_r"].as_str().expect("spi_r").into(),
        exchange_type: n(&m["exchange_type"]),
        message_id: n(&m["message_id"]),
        flags: n(&m["flags"]),
        length: n(&m["length"]),
        payloads: m["payloads"]
            .as_array()
            .expect("payloads")
            .iter()
            .map(n)
            .collect(),
        proposals,
        ke: m["ke"]
            .as_array()
            .expect("ke")
            .iter()
            .map(|k| (k["method"].as_u64().unwrap_or(0), n(&k["length"])))
            .collect(),
        notify: m["notify"]
            .as_array()
            .expect("notify")
            .iter()
            .map(|x| n(&x["type"]))
            .collect(),
        vendor_ids: m["vendor_ids"]
            .as_array()
            .expect("vids")
            .iter()
            .map(|v| v.as_str().expect("vid").into())
            .collect(),
        skf: m.get("skf").map(|s| (n(&s["number"]), n(&s["total"]))),
    }
}

/// tshark's IKE messages by frame number. Frames where the IKE header sits inside an ICMP
/// error's quoted packet are not IKE messages on the wire and are excluded.
fn tshark_messages(capture: &Path) -> BTreeMap<u64, View> {
    let out = Command::new("tshark")
        .args([
            "-r",
            capture.to_str().expect("path"),
            "-T",
            "json",
            "--no-duplicate-keys",
            "-J",
            "frame isakmp",
        ])
        .args(["-Y", "isakmp and not icmp and not icmpv6"])
        .output()
        .expect("run tshark");
    assert!(
        out.status.success(),
        "tshark failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let frames: Value = serde_json::from_slice(&out.stdout).expect("tshark json");
    let mut map = BTreeMap::new();
    for f in frames.as_array().expect("frames") {
        let layers = &f["_source"]["layers"];
        let frame = num(&layers["frame"]["frame.number"]);
        // Frames cut by the snaplen are counted as truncated by ikescope, not decoded.
        if num(&layers["frame"]["frame.cap_len"]) < num(&layers["frame"]["frame.len"]) {
            continue;
        }
        let ikes = list(&layers["isakmp"]);
        assert_eq!(
            ikes.len(),
            1,
            "{}: frame {frame} holds {} IKE messages",
            capture.display(),
            ikes.len()
        );
        map.insert(frame, tshark_view(ikes[0]));
    }
    map
}

#[test]
fn every_ike_message_tshark_decodes_matches() {
    assert!(
        common::tshark_available(),
        "tshark is required (apt-get install tshark)"
    );
    let mut compared = 0;
    let mut failures = Vec::new();
    for capture in common::corpus() {
        let theirs = tshark_messages(&capture);
        let ours: BTreeMap<u64, (View, String)> = common::messages(&capture)
            .into_iter()
            .map(|e| {
                (
                    n(&e["pcap_cnt"]),
                    (
                        ikescope_view(&e["ike_message"]),
                        e["ike_message"]["transport"]
                            .as_str()
                            .unwrap_or("")
                            .to_string(),
                    ),
                )
            })
            .collect();
        for (frame, view) in &theirs {
            compared += 1;
            match ours.get(frame) {
                None => failures.push(format!(
                    "{}: frame {frame}: no ike_message event",
                    capture.display()
                )),
                Some((mine, _)) if mine != view => failures.push(format!(
                    "{}: frame {frame}:\n  tshark   {view:?}\n  ikescope {mine:?}",
                    capture.display()
                )),
                Some(_) => {}
            }
        }
        // The other direction: every UDP message we report is one tshark sees (tshark 4.0 does
        // not dissect RFC 9329 TCP, so TCP messages are checked by the TCP framing test).
        for (frame, (_, transport)) in &ours {
            if transport != "tcp" && !theirs.contains_key(frame) {
                failures.push(format!(
                    "{}: frame {frame}: ikescope reports a message tshark does not",
                    capture.display()
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {compared} messages differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(
        compared > 1000,
        "only {compared} messages compared: corpus missing?"
    );
    eprintln!("tshark cross-check: {compared} IKE messages identical");
}
