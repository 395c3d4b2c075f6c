//! Command-line behaviour on real and synthetic captures: inputs, errors, transports.

mod common;

use common::{ikescope, messages, root};
use serde_json::Value;
use std::collections::BTreeMap;

fn pcap(rel: &str) -> std::path::PathBuf {
    root().join("pcaps").join(rel)
}

fn count_by(msgs: &[Value], key: &str) -> BTreeMap<String, u64> {
    let mut m = BTreeMap::new();
    for e in msgs {
        let v = &e["ike_message"][key];
        let k = v.as_str().map_or_else(|| v.to_string(), str::to_string);
        *m.entry(k).or_default() += 1;
    }
    m
}

#[test]
fn bad_inputs_are_one_line_each_with_exit_2_and_the_rest_still_runs() {
    let dir = std::env::temp_dir().join(format!("ikescope-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let good = pcap("real/sw6_c3_hybrid_invalid_ke_retry.pcap");
    let bytes = std::fs::read(&good).unwrap();
    let truncated = dir.join("truncated.pcap");
    std::fs::write(&truncated, &bytes[..3000]).unwrap();
    let garbage = dir.join("garbage.pcap");
    std::fs::write(&garbage, b"this is not a capture file at all").unwrap();
    let missing = dir.join("missing.pcap");
    let events = dir.join("events.ndjson");
    let out = ikescope(&[
        "analyze",
        "--log-messages",
        "--events",
        events.to_str().unwrap(),
        missing.to_str().unwrap(),
        truncated.to_str().unwrap(),
        garbage.to_str().unwrap(),
        good.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 3, "one line per bad input:\n{stderr}");
    assert!(
        lines[0].contains("missing.pcap") && lines[0].contains("No such file"),
        "{}",
        lines[0]
    );
    assert!(
        lines[1].contains("truncated.pcap")
            && lines[1].contains("packet 11")
            && lines[1].contains("byte offset 1726"),
        "{}",
        lines[1]
    );
    assert!(
        lines[2].contains("garbage.pcap") && lines[2].contains("not a pcap or pcapng file"),
        "{}",
        lines[2]
    );
    // The good file and the readable part of the truncated one were analysed.
    let text = std::fs::read_to_string(&events).unwrap();
    let files: Vec<String> = text
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["pcap_filename"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(
        files
            .iter()
            .filter(|f| f.ends_with("sw6_c3_hybrid_invalid_ke_retry.pcap"))
            .count(),
        10
    );
    assert!(files.iter().any(|f| f.ends_with("truncated.pcap")));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn unknown_option_is_a_usage_error() {
    let out = ikescope(&["analyze", "--no-such-option", "x.pcap"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn stdin_is_read_when_the_input_is_a_dash() {
    let bytes = std::fs::read(pcap("real/sw6_c3_hybrid_invalid_ke_retry.pcap")).unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_ikescope"))
        .args(["analyze", "--log-messages", "--events", "-", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child.stdin.take().unwrap().write_all(&bytes).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let n = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.contains("\"ike_message\""))
        .count();
    assert_eq!(n, 10);
}

/// libreswan 4.10 over TCP (RFC 9329): tshark 4.0 cannot dissect it, so the ground truth is the
/// daemons' account: 6 IKE messages (IKE_SA_INIT, IKE_AUTH, INFORMATIONAL pairs) in one stream.
#[test]
fn ike_over_tcp_is_framed_from_the_stream() {
    let msgs = messages(&pcap("real/lsw_t3_ikev2_over_tcp_rfc8229_framing.pcap"));
    assert_eq!(msgs.len(), 6);
    assert!(msgs
        .iter()
        .all(|m| m["ike_message"]["transport"] == "tcp" && m["proto"] == "TCP"));
    let ex = count_by(&msgs, "exchange");
    assert_eq!(ex.get("IKE_SA_INIT"), Some(&2));
    assert_eq!(ex.get("IKE_AUTH"), Some(&2));
}

/// ML-KEM as the IKE_SA_INIT key exchange: method and exact FIPS 203 lengths are reported
/// (1184/1088 for ML-KEM-768, 1568/1568 for ML-KEM-1024, the latter IP-fragmented).
#[test]
fn ml_kem_key_shares_in_ike_sa_init_are_reported_with_exact_length() {
    for (file, method, lens, frags) in [
        (
            "synthetic/pq_only_mlkem768_eth_ipv4.pcap",
            36,
            [1184, 1088],
            1,
        ),
        (
            "synthetic/pq_only_mlkem1024_ip_fragmented.pcap",
            37,
            [1568, 1568],
            2,
        ),
    ] {
        let msgs = messages(&pcap(file));
        let init: Vec<&Value> = msgs
            .iter()
            .filter(|m| m["ike_message"]["exchange"] == "IKE_SA_INIT")
            .collect();
        assert_eq!(init.len(), 2, "{file}");
        for (m, len) in init.iter().zip(lens) {
            let ke = &m["ike_message"]["ke"][0];
            assert_eq!(ke["method"], method, "{file}");
            assert_eq!(ke["length"], len, "{file}");
            assert_eq!(m["ike_message"]["ip_fragments"], frags, "{file}");
        }
    }
}

/// IKE_INTERMEDIATE (43) and IKE_FOLLOWUP_KE (44) on each transport.
#[test]
fn intermediate_and_followup_ke_are_recognised_on_udp500_udp4500_and_tcp() {
    let cases = [
        (
            "real/k2_sw6_savekeys_hybrid_x25519_ke1mlkem768_ke2mlkem1024.pcap",
            "udp500",
            43,
        ),
        (
            "real/sw6_e2_natt_real_nat_masquerade_hybrid.pcap",
            "udp4500",
            43,
        ),
        (
            "synthetic/hybrid_natt_followup_ke_udp4500_qinq.pcap",
            "udp4500",
            44,
        ),
        ("synthetic/hybrid_tcp_rfc9329_sll2_ipv6.pcap", "tcp", 43),
        ("synthetic/hybrid_tcp_rfc9329_sll2_ipv6.pcap", "tcp", 44),
        ("synthetic/hybrid_ppk_loop.pcap", "udp500", 44),
    ];
    for (file, transport, exchange) in cases {
        let msgs = messages(&pcap(file));
        let found = msgs
            .iter()
            .filter(|m| {
                m["ike_message"]["exchange_type"] == exchange
                    && m["ike_message"]["transport"] == transport
            })
            .count();
        assert!(
            found >= 2,
            "{file}: {found} exchange-{exchange} messages on {transport}"
        );
    }
}

#[test]
fn link_types_and_pcapng_with_two_interfaces_decode() {
    for (file, expect) in [
        ("synthetic/hybrid_natt_followup_ke_udp4500_qinq.pcap", 12),
        ("synthetic/hybrid_tcp_rfc9329_sll2_ipv6.pcap", 12),
        (
            "synthetic/hybrid_mlkem1024_skf_pcapng_two_interfaces.pcapng",
            12,
        ),
        ("real/sw6_v6_classical_ecp256_psk.pcap", 6),
    ] {
        assert_eq!(messages(&pcap(file)).len(), expect, "{file}");
    }
}

#[test]
fn events_carry_the_common_fields() {
    let msgs = messages(&pcap("real/sw6_e2_natt_real_nat_masquerade_hybrid.pcap"));
    let e = &msgs[0];
    for f in [
        "timestamp",
        "event_type",
        "schema_version",
        "sensor",
        "src_ip",
        "src_port",
        "dest_ip",
        "dest_port",
        "proto",
        "community_id",
        "pcap_filename",
        "pcap_cnt",
    ] {
        assert!(!e[f].is_null(), "missing {f}");
    }
    assert!(e["timestamp"].as_str().unwrap().ends_with('Z'));
    assert!(e["community_id"].as_str().unwrap().starts_with("1:"));
    let spi = e["ike_message"]["spi_i"].as_str().unwrap();
    assert_eq!(spi.len(), 16);
    assert!(spi
        .chars()
        .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
}

#[test]
fn live_on_a_missing_interface_is_one_actionable_line() {
    let out = ikescope(&[
        "live",
        "-i",
        "nonexistent0",
        "--metrics-listen",
        "127.0.0.1:0",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("no such interface: nonexistent0") && err.contains("available:"),
        "{err}"
    );
}

/// Without CAP_NET_RAW (an unprivileged user), the error says so and gives the setcap line.
#[test]
fn live_without_cap_net_raw_names_the_setcap_command() {
    let is_root = std::process::Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
    let dir = std::env::temp_dir().join(format!("ikescope-nocap-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bin = dir.join("ikescope");
    std::fs::copy(env!("CARGO_BIN_EXE_ikescope"), &bin).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::set_permissions(&bin, std::fs::Permissions::from_mode(0o755)).unwrap();
    let mut cmd = if is_root {
        let mut c = std::process::Command::new("setpriv");
        c.args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(&bin);
        c
    } else {
        std::process::Command::new(&bin)
    };
    let out = cmd
        .args(["live", "-i", "lo", "--metrics-listen", "127.0.0.1:0"])
        .output()
        .unwrap();
    std::fs::remove_dir_all(&dir).ok();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("CAP_NET_RAW") && err.contains("setcap cap_net_raw,cap_net_admin=eip"),
        "{err}"
    );
}
