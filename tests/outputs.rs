//! Outputs and gates: policy classes, baselines, --fail-on, the inventory and the SA/finding
//! events, on real captures.

mod common;

use common::{ikescope, root};
use serde_json::Value;

fn real(name: &str) -> String {
    root()
        .join("pcaps/real")
        .join(name)
        .to_string_lossy()
        .into_owned()
}

fn tmp(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("ikescope-out-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d.join(name)
}

fn json(out: &std::process::Output) -> Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)))
}

fn finding<'a>(r: &'a Value, code: &str) -> Option<&'a Value> {
    r["tunnels"][0]["findings"]
        .as_array()?
        .iter()
        .find(|f| f["code"] == code)
}

/// x1: a hybrid initiator fell back to classical. A fail-closed class requiring hybrid makes it
/// a high policy violation; allowed-logged makes it medium; a class requiring classical, none.
#[test]
fn policy_classes_grade_the_fallback() {
    let x1 = real("x1_sw6_hybrid_to_sw59_responder_fallback.pcap");
    for (policy, severity) in [
        ("[[class]]\nname = \"partner\"\npeers = [\"198.51.100.0/24\"]\nrequire = \"hybrid\"\nfallback = \"fail-closed\"\n", Some("high")),
        ("[default]\nrequire = \"any-pq\"\nfallback = \"allowed-logged\"\n", Some("medium")),
        ("[[class]]\nname = \"legacy\"\npairs = [[\"198.51.100.1\", \"192.0.2.1\"]]\nrequire = \"classical\"\n", None),
    ] {
        let p = tmp("policy.toml");
        std::fs::write(&p, policy).unwrap();
        let r = json(&ikescope(&["analyze", "--format", "json", "--policy", p.to_str().unwrap(), &x1]));
        assert_eq!(finding(&r, "policy_violation").map(|f| f["severity"].as_str().unwrap()), severity, "{policy}");
    }
}

#[test]
fn a_bad_policy_is_exit_2_with_file_and_line() {
    let p = tmp("bad.toml");
    std::fs::write(
        &p,
        "[[class]]\nname = \"x\"\npeers = [\"10.0.0.0/33\"]\nrequire = \"hybrid\"\n",
    )
    .unwrap();
    let out = ikescope(&[
        "analyze",
        "--policy",
        p.to_str().unwrap(),
        &real("k0_sw6_savekeys_classical_ecp384_control.pcap"),
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("bad.toml:3:") && err.contains("10.0.0.0/33"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1);
}

/// k2 (hybrid) saved as baseline; x1 later between the same addresses negotiates classical.
#[test]
fn baseline_turns_a_weaker_tunnel_into_a_regression() {
    let b = tmp("baseline.json");
    let out = ikescope(&[
        "analyze",
        "-q",
        "--save-baseline",
        b.to_str().unwrap(),
        &real("k2_sw6_savekeys_hybrid_x25519_ke1mlkem768_ke2mlkem1024.pcap"),
    ]);
    assert!(out.status.success());
    let saved: Value = serde_json::from_str(&std::fs::read_to_string(&b).unwrap()).unwrap();
    assert_eq!(
        saved["tunnels"]["192.0.2.1<->198.51.100.1"]["posture"],
        "hybrid"
    );
    let x1 = real("x1_sw6_hybrid_to_sw59_responder_fallback.pcap");
    let with = json(&ikescope(&[
        "analyze",
        "--format",
        "json",
        "--baseline",
        b.to_str().unwrap(),
        &x1,
    ]));
    assert!(finding(&with, "posture_regression").is_some());
    let without = json(&ikescope(&["analyze", "--format", "json", &x1]));
    assert!(finding(&without, "posture_regression").is_none());
}

#[test]
fn fail_on_gates_by_severity() {
    let x1 = real("x1_sw6_hybrid_to_sw59_responder_fallback.pcap");
    assert_eq!(
        ikescope(&["analyze", "-q", "--fail-on", "high", &x1])
            .status
            .code(),
        Some(1)
    );
    assert_eq!(
        ikescope(&["analyze", "-q", "--fail-on", "critical", &x1])
            .status
            .code(),
        Some(0)
    );
    let k2 = real("k2_sw6_savekeys_hybrid_x25519_ke1mlkem768_ke2mlkem1024.pcap");
    assert_eq!(
        ikescope(&["analyze", "-q", "--fail-on", "info", &k2])
            .status
            .code(),
        Some(0)
    );
}

/// The inventory fingerprints what each side announced: strongSwan 6 offers RFC 9242, RFC 9370
/// ADDKE with ML-KEM-768 and fragmentation; the 5.9.8 responder none of the PQ parts.
#[test]
fn inventory_row_fingerprints_each_peer() {
    let csv = tmp("inventory.csv");
    let out = ikescope(&[
        "analyze",
        "-q",
        "--inventory",
        csv.to_str().unwrap(),
        &real("x1_sw6_hybrid_to_sw59_responder_fallback.pcap"),
    ]);
    assert!(out.status.success());
    let text = std::fs::read_to_string(&csv).unwrap();
    let mut rows = text.lines();
    let header: Vec<&str> = rows.next().unwrap().split(',').collect();
    let row = rows.next().unwrap();
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let fields: Vec<String> = row.split(',').map(str::to_string).collect();
    assert_eq!(fields[col("posture")], "classical");
    assert_eq!(fields[col("selected_ke")], "ecp384");
    let ini = &fields[col("initiator_capabilities")];
    let res = &fields[col("responder_capabilities")];
    assert!(
        ini.contains("rfc9242-intermediate")
            && ini.contains("rfc9370-addke")
            && ini.contains("mlkem768"),
        "{ini}"
    );
    assert!(!res.contains("mlkem") && !res.contains("rfc9370"), "{res}");
    assert!(fields[col("proposals_offered")].contains("ke1_mlkem768"));
}

#[test]
fn sa_and_finding_events_follow_the_schema() {
    let out = ikescope(&[
        "analyze",
        "--events",
        "-",
        &real("x1_sw6_hybrid_to_sw59_responder_fallback.pcap"),
    ]);
    let events: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let sa = events
        .iter()
        .find(|e| e["event_type"] == "ike_sa")
        .expect("ike_sa event");
    for f in [
        "version",
        "spi_i",
        "spi_r",
        "initiator",
        "responder",
        "transport",
        "nat_detected",
        "state",
        "posture",
        "evidence",
        "key_exchanges",
        "proposals_offered",
        "selected",
        "ppk",
        "intermediate_rounds",
        "followup_ke_rounds",
        "fragmentation_supported",
        "vendor_ids",
        "rekeyed_from",
        "messages",
        "bytes",
        "started",
        "ended",
    ] {
        assert!(sa["ike_sa"].get(f).is_some(), "ike_sa.{f} missing");
    }
    assert_eq!(sa["ike_sa"]["key_exchanges"], serde_json::json!(["ecp384"]));
    assert_eq!(sa["ike_sa"]["key_exchange_ids"], serde_json::json!([20]));
    assert_eq!(sa["ike_sa"]["selected"]["ke"], "ecp384");
    let f = events
        .iter()
        .find(|e| {
            e["event_type"] == "ike_finding" && e["finding"]["code"] == "pq_offered_not_negotiated"
        })
        .expect("finding event");
    for k in [
        "code", "severity", "message", "tunnel", "spi_i", "spi_r", "evidence",
    ] {
        assert!(f["finding"].get(k).is_some(), "finding.{k} missing");
    }
    assert_eq!(f["finding"]["severity"], "high");
    assert!(f["pcap_filename"]
        .as_str()
        .unwrap()
        .ends_with("x1_sw6_hybrid_to_sw59_responder_fallback.pcap"));
}

#[test]
fn table_report_names_posture_and_what_to_check() {
    let out = ikescope(&[
        "analyze",
        &real("x1_sw6_hybrid_to_sw59_responder_fallback.pcap"),
    ]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("192.0.2.1<->198.51.100.1")
            && text.contains("classical")
            && text.contains("ecp384"),
        "{text}"
    );
    assert!(
        text.contains("Check next") && text.contains("pq_offered_not_negotiated"),
        "{text}"
    );
}
