//! Posture, evidence, key exchanges and the exact finding set of every capture in `pcaps/`,
//! against ground truth: for the real captures the daemons' own logs (`<name>.json`,
//! `expected`), for the synthetic ones the scenario definition (`expected`), for Suricata's
//! its test expectations. Evidence levels and finding sets are what the wire can support; where
//! the wire cannot show the daemons' truth, the comment says why.

mod common;

use common::{ikescope, root};
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::Path;

/// The analysed tunnels of a capture (JSON report).
fn report(capture: &Path, extra: &[&str]) -> Value {
    let mut args = vec!["analyze", "--format", "json"];
    args.extend_from_slice(extra);
    args.push(capture.to_str().expect("path"));
    let out = ikescope(&args);
    assert!(
        out.status.code().is_some_and(|c| c < 2),
        "{}: {}",
        capture.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("json report")
}

fn codes(t: &Value) -> BTreeSet<String> {
    t["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| f["code"].as_str().expect("code").to_string())
        .collect()
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// Spec posture from the real captures' ground truth: `classification`, and `ppk: true` on a
/// hybrid means `hybrid+ppk`.
fn truth_posture(e: &Value) -> String {
    let c = e["classification"].as_str().expect("classification");
    if c == "hybrid" && e["ppk"] == true {
        "hybrid+ppk".into()
    } else {
        c.into()
    }
}

struct Case {
    file: &'static str,
    /// Evidence level the wire supports.
    evidence: &'static str,
    /// The exact finding set.
    findings: &'static [&'static str],
    /// Posture when the wire cannot show the daemons' truth (reason in a comment).
    passive_posture: Option<&'static str>,
}

const QV: &str = "quantum_vulnerable_key_exchange";

const REAL: &[Case] = &[
    Case {
        file: "k0_sw6_savekeys_classical_ecp384_control",
        evidence: "confirmed",
        findings: &[QV],
        passive_posture: None,
    },
    Case {
        file: "k2_sw6_savekeys_hybrid_x25519_ke1mlkem768_ke2mlkem1024",
        evidence: "confirmed",
        findings: &[],
        passive_posture: None,
    },
    // Hybrid confirmed by the IKE_INTERMEDIATE sizes; the PPK part is only negotiated (its use
    // is decided inside the encrypted IKE_AUTH), which the evidence detail says.
    Case {
        file: "k4_sw6_savekeys_ppk_hybrid_ecp384_mlkem768",
        evidence: "confirmed",
        findings: &[],
        passive_posture: None,
    },
    // The Quick Mode request is retransmitted 7 times (the kernel could not install the SA).
    Case {
        file: "lsw_b4_ikev1_main_mode_psk",
        evidence: "confirmed",
        findings: &[
            "ikev1_in_use",
            "retransmission_storm",
            "weak_integrity",
            "weak_prf",
        ],
        passive_posture: None,
    },
    // Truth: classical — the responder ignored the PPK and verified NO_PPK_AUTH inside the
    // encrypted IKE_AUTH. On the wire both IKE_SA_INIT messages carry USE_PPK exactly as in a
    // genuine PPK SA (lsw_f5, sw6_p1), so the best passive answer is ppk at "negotiated".
    Case {
        file: "lsw_f2_ppk_propose_responder_ppk_no_fallback",
        evidence: "negotiated",
        findings: &[],
        passive_posture: Some("ppk"),
    },
    Case {
        file: "lsw_f3_ppk_insist_responder_ppk_no_fail",
        evidence: "negotiated",
        findings: &[],
        passive_posture: None,
    },
    Case {
        file: "lsw_f4_intermediate_classical_dh19",
        evidence: "confirmed",
        findings: &[QV],
        passive_posture: None,
    },
    Case {
        file: "lsw_f5_intermediate_plus_ppk",
        evidence: "negotiated",
        findings: &[],
        passive_posture: None,
    },
    Case {
        file: "lsw_f6_classical_gcm_dh20_baseline",
        evidence: "confirmed",
        findings: &[QV],
        passive_posture: None,
    },
    Case {
        file: "lsw_t3_ikev2_over_tcp_rfc8229_framing",
        evidence: "confirmed",
        findings: &[QV, "tcp_encapsulation"],
        passive_posture: None,
    },
    // The newest SA is the IKE rekey's: its proposal is encrypted, inferred from the parent.
    Case {
        file: "sw59_a2_classical_kernel_noesp_childfail",
        evidence: "negotiated",
        findings: &[QV],
        passive_posture: None,
    },
    Case {
        file: "sw59_a_classical_ecp256_psk_rekey",
        evidence: "negotiated",
        findings: &[QV],
        passive_posture: None,
    },
    Case {
        file: "sw59_b1_weak_ikev2_3des_sha1_modp1024",
        evidence: "confirmed",
        findings: &[
            QV,
            "weak_dh_group",
            "weak_encryption",
            "weak_integrity",
            "weak_prf",
        ],
        passive_posture: None,
    },
    Case {
        file: "sw59_b2_ikev1_main_mode_psk_quickmode_rekey",
        evidence: "confirmed",
        findings: &["ikev1_in_use", "weak_integrity", "weak_prf"],
        passive_posture: None,
    },
    Case {
        file: "sw59_b3a_ikev1_aggressive_psk_rejected",
        evidence: "negotiated",
        findings: &[
            "ikev1_aggressive_mode",
            "ikev1_in_use",
            "weak_dh_group",
            "weak_encryption",
            "weak_integrity",
            "weak_prf",
        ],
        passive_posture: None,
    },
    Case {
        file: "sw59_b3b_ikev1_aggressive_psk_allowed_3des_md5_modp1024",
        evidence: "confirmed",
        findings: &[
            "ikev1_aggressive_mode",
            "ikev1_in_use",
            "weak_dh_group",
            "weak_encryption",
            "weak_integrity",
            "weak_prf",
        ],
        passive_posture: None,
    },
    Case {
        file: "sw59_c2_no_proposal_chosen",
        evidence: "negotiated",
        findings: &[],
        passive_posture: None,
    },
    Case {
        file: "sw59_d1_ikev2_frag_rsa4096_chain_fragsize576",
        evidence: "confirmed",
        findings: &[QV],
        passive_posture: None,
    },
    Case {
        file: "sw59_d2_ikev2_frag_rsa4096_fragdrop_skf_ok",
        evidence: "confirmed",
        findings: &[QV],
        passive_posture: None,
    },
    // IKE fragmentation disabled: the 2224-octet IKE_AUTH crossed the path as IP fragments.
    Case {
        file: "sw59_d4_rsa4096_no_ikefrag_ipfrag_ok",
        evidence: "confirmed",
        findings: &[QV, "fragmentation_unsupported_large_message"],
        passive_posture: None,
    },
    // X25519 → ECP-384 keeps classical strength and the ML-KEM ADDKE: not a downgrade.
    Case {
        file: "sw6_c3_hybrid_invalid_ke_retry",
        evidence: "confirmed",
        findings: &[],
        passive_posture: None,
    },
    Case {
        file: "sw6_c4_cookie_challenge_classical_ecp384",
        evidence: "confirmed",
        findings: &[QV, "cookie_challenge"],
        passive_posture: None,
    },
    Case {
        file: "sw6_c5_cookie_challenge_hybrid_ecp384_mlkem768",
        evidence: "confirmed",
        findings: &["cookie_challenge"],
        passive_posture: None,
    },
    Case {
        file: "sw6_classical_ecp256_psk_rekey",
        evidence: "negotiated",
        findings: &[QV],
        passive_posture: None,
    },
    Case {
        file: "sw6_e1_natt_forced_encap_yes",
        evidence: "confirmed",
        findings: &[QV],
        passive_posture: None,
    },
    Case {
        file: "sw6_e2_natt_real_nat_masquerade_hybrid",
        evidence: "confirmed",
        findings: &[],
        passive_posture: None,
    },
    // One lost IKE_INTERMEDIATE retransmitted once: loss, not an MTU problem, no storm.
    Case {
        file: "sw6_l1_hybrid_first_intermediate_dropped_retransmit",
        evidence: "confirmed",
        findings: &[],
        passive_posture: None,
    },
    Case {
        file: "sw6_p1_ppk_required_classical_ecp384",
        evidence: "negotiated",
        findings: &[],
        passive_posture: None,
    },
    Case {
        file: "sw6_p2_ppk_required_hybrid_ecp384_mlkem768",
        evidence: "confirmed",
        findings: &[],
        passive_posture: None,
    },
    // The restarted responder answered DPD with ICMP port unreachable; one IKE SA (20 CHILD
    // SAs) is re-created, which is not a mass re-establishment.
    Case {
        file: "sw6_r0_gateway_restart_1ike_20child_hybrid",
        evidence: "confirmed",
        findings: &["icmp_unreachable"],
        passive_posture: None,
    },
    // 20 simultaneous IKE_SA_INIT trigger the responder's COOKIE threshold; 20 IKE SAs come
    // back within seconds of the restart.
    Case {
        file: "sw6_r1_gateway_restart_20_tunnels_hybrid",
        evidence: "confirmed",
        findings: &[
            "cookie_challenge",
            "icmp_unreachable",
            "mass_reestablishment",
        ],
        passive_posture: None,
    },
    Case {
        file: "sw6_r2_gateway_restart_20_tunnels_hybrid_to_classical",
        evidence: "confirmed",
        findings: &[
            QV,
            "cookie_challenge",
            "icmp_unreachable",
            "mass_reestablishment",
            "posture_regression",
            "pq_offered_not_negotiated",
        ],
        passive_posture: None,
    },
    Case {
        file: "sw6_v6_classical_ecp256_psk",
        evidence: "confirmed",
        findings: &[QV],
        passive_posture: None,
    },
    Case {
        file: "x1_sw6_hybrid_to_sw59_responder_fallback",
        evidence: "confirmed",
        findings: &[QV, "pq_offered_not_negotiated"],
        passive_posture: None,
    },
    // Hybrid-only offer refused: a failure, not a silent fallback.
    Case {
        file: "x2_sw6_hybrid_only_to_sw59_responder_fail",
        evidence: "negotiated",
        findings: &[],
        passive_posture: None,
    },
    Case {
        file: "x3_sw6_hybrid_to_libreswan410_responder_fallback",
        evidence: "confirmed",
        findings: &[QV, "pq_offered_not_negotiated"],
        passive_posture: None,
    },
    Case {
        file: "x4_sw6_hybrid_only_to_libreswan410_responder_fail",
        evidence: "negotiated",
        findings: &[],
        passive_posture: None,
    },
];

/// Checks one tunnel of a capture: `tunnel` names it, otherwise the first one seen.
fn check_tunnel(
    capture: &Path,
    tunnel: Option<&str>,
    posture: &str,
    evidence: &str,
    kes: &[String],
    findings: &BTreeSet<String>,
) -> Result<(), String> {
    let r = report(capture, &[]);
    let t = r["tunnels"]
        .as_array()
        .and_then(|a| a.iter().find(|t| tunnel.is_none_or(|n| t["tunnel"] == n)))
        .ok_or_else(|| format!("{}: no tunnel {tunnel:?}", capture.display()))?;
    let got = (
        t["posture"].as_str().unwrap_or(""),
        t["evidence"].as_str().unwrap_or(""),
        strings(&t["key_exchanges"]),
        codes(t),
    );
    if (got.0, got.1, &got.2, &got.3) != (posture, evidence, &kes.to_vec(), findings) {
        return Err(format!(
            "{}:\n  want {posture}/{evidence} {kes:?} {findings:?}\n  got  {}/{} {:?} {:?}",
            capture.display(),
            got.0,
            got.1,
            got.2,
            got.3
        ));
    }
    Ok(())
}

fn check(
    capture: &Path,
    posture: &str,
    evidence: &str,
    kes: &[String],
    findings: &BTreeSet<String>,
) -> Result<(), String> {
    check_tunnel(capture, None, posture, evidence, kes, findings)
}

fn set(v: &[&str]) -> BTreeSet<String> {
    v.iter().map(|s| s.to_string()).collect()
}

#[test]
fn real_captures_match_the_daemons_ground_truth() {
    let dir = root().join("pcaps/real");
    let mut failures = Vec::new();
    let listed: BTreeSet<&str> = REAL.iter().map(|c| c.file).collect();
    for p in common::corpus().iter().filter(|p| p.starts_with(&dir)) {
        let stem = p.file_stem().and_then(|s| s.to_str()).unwrap_or_default();
        assert!(
            listed.contains(stem),
            "{stem}: real capture without an expectation in tests/posture.rs"
        );
    }
    for c in REAL {
        let truth: Value = serde_json::from_str(
            &std::fs::read_to_string(dir.join(format!("{}.json", c.file))).expect("truth"),
        )
        .expect("json");
        let e = &truth["expected"];
        let posture = c
            .passive_posture
            .map_or_else(|| truth_posture(e), str::to_string);
        let kes = strings(&e["key_exchanges"]);
        if let Err(msg) = check(
            &dir.join(format!("{}.pcap", c.file)),
            &posture,
            c.evidence,
            &kes,
            &set(c.findings),
        ) {
            failures.push(msg);
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} captures differ:\n{}",
        failures.len(),
        REAL.len(),
        failures.join("\n")
    );
}

#[test]
fn synthetic_captures_match_their_scenario() {
    let mut failures = Vec::new();
    let mut n = 0;
    for p in common::corpus()
        .iter()
        .filter(|p| p.to_string_lossy().contains("/synthetic/"))
    {
        let truth: Value = serde_json::from_str(
            &std::fs::read_to_string(p.with_extension("json")).expect("scenario json"),
        )
        .expect("json");
        let e = &truth["expected"];
        let findings: BTreeSet<String> = strings(&e["findings"]).into_iter().collect();
        if let Err(msg) = check_tunnel(
            p,
            e["tunnel"].as_str(),
            e["classification"].as_str().expect("classification"),
            e["evidence"].as_str().expect("evidence"),
            &strings(&e["key_exchanges"]),
            &findings,
        ) {
            failures.push(msg);
        }
        n += 1;
    }
    assert!(
        failures.is_empty(),
        "{} of {n} captures differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Suricata's expectations (pcaps/suricata-verify/README.md): the Main Mode capture is
/// legacy IKEv1 with MODP-1024 and SHA-1; the lone IKE_SA_INIT offers weak DH, and with only
/// the initiator seen its evidence is `offered`.
#[test]
fn suricata_captures_match_its_expectations() {
    let dir = root().join("pcaps/suricata-verify");
    let weak_v1 = set(&[
        "ikev1_in_use",
        "weak_dh_group",
        "weak_integrity",
        "weak_prf",
    ]);
    let kes = vec!["modp1024".to_string()];
    check(
        &dir.join("ikev1-isakmp-main-mode.pcap"),
        "legacy-ikev1",
        "confirmed",
        &kes,
        &weak_v1,
    )
    .unwrap();
    check(
        &dir.join("ikev1-duplicate-proposals.pcap"),
        "legacy-ikev1",
        "offered",
        &kes,
        &weak_v1,
    )
    .unwrap();
    check(
        &dir.join("ikev2-sa-init-weak-dh.pcap"),
        "classical",
        "offered",
        &kes,
        &set(&["weak_dh_group"]),
    )
    .unwrap();
}

/// Every finding code of spec §3 (decryption-only ones excepted) is raised by some capture,
/// and the clean captures raise no downgrade or MTU finding.
#[test]
fn every_finding_code_is_raised_somewhere() {
    let mut seen = BTreeSet::new();
    for c in REAL {
        seen.extend(c.findings.iter().map(|s| s.to_string()));
    }
    for p in common::corpus()
        .iter()
        .filter(|p| p.to_string_lossy().contains("/synthetic/"))
    {
        let truth: Value =
            serde_json::from_str(&std::fs::read_to_string(p.with_extension("json")).unwrap())
                .unwrap();
        seen.extend(strings(&truth["expected"]["findings"]));
    }
    seen.insert("policy_violation".into()); // raised in tests/outputs.rs with a policy file
    let all = [
        "pq_offered_not_negotiated",
        "addke_declined",
        "invalid_ke_downgrade",
        "duplicate_response_conflict",
        "rekey_posture_drop",
        "posture_regression",
        "ikev1_fallback",
        "policy_violation",
        "ppk_not_negotiated",
        "malformed_pq_key_share",
        "ike_sa_init_ip_fragmented",
        "ip_fragment_loss",
        "mtu_blackhole_suspected",
        "icmp_frag_needed",
        "icmp_unreachable",
        "skf_incomplete",
        "skf_inconsistent",
        "fragmentation_unsupported_large_message",
        "retransmission_storm",
        "half_open_sa",
        "cookie_challenge",
        "tcp_encapsulation",
        "mass_reestablishment",
        "weak_dh_group",
        "weak_encryption",
        "weak_integrity",
        "weak_prf",
        "no_integrity",
        "ikev1_in_use",
        "ikev1_aggressive_mode",
        QV,
    ];
    let missing: Vec<&str> = all.iter().copied().filter(|c| !seen.contains(*c)).collect();
    assert!(missing.is_empty(), "no capture raises {missing:?}");
    let downgrade_or_mtu = [
        "pq_offered_not_negotiated",
        "addke_declined",
        "invalid_ke_downgrade",
        "duplicate_response_conflict",
        "rekey_posture_drop",
        "posture_regression",
        "ikev1_fallback",
        "ppk_not_negotiated",
        "ike_sa_init_ip_fragmented",
        "ip_fragment_loss",
        "mtu_blackhole_suspected",
        "icmp_frag_needed",
        "skf_incomplete",
        "skf_inconsistent",
        "fragmentation_unsupported_large_message",
    ];
    let clean = [
        "k0_sw6_savekeys_classical_ecp384_control",
        "k2_sw6_savekeys_hybrid_x25519_ke1mlkem768_ke2mlkem1024",
        "lsw_f6_classical_gcm_dh20_baseline",
        "sw6_v6_classical_ecp256_psk",
        "sw6_e2_natt_real_nat_masquerade_hybrid",
        "sw6_l1_hybrid_first_intermediate_dropped_retransmit",
    ];
    for c in REAL.iter().filter(|c| clean.contains(&c.file)) {
        let bad: Vec<&&str> = c
            .findings
            .iter()
            .filter(|f| downgrade_or_mtu.contains(f))
            .collect();
        assert!(bad.is_empty(), "{} is clean but expects {bad:?}", c.file);
    }
}

/// A flood of IKE_SA_INIT with random SPIs stays within the SA cap: the table never holds more
/// than --max-sas SAs and the excess is counted as evicted.
#[test]
fn sa_table_stays_bounded_under_an_ike_sa_init_flood() {
    let r = report(
        &root().join("pcaps/synthetic/ike_sa_init_flood_random_spis.pcap"),
        &["--max-sas", "100"],
    );
    let st = &r["stats"];
    assert_eq!(st["ike_sas"], 2000);
    assert!(st["sas_peak"].as_u64().unwrap() <= 100, "{st}");
    assert_eq!(st["sas_evicted"], 1900);
}
