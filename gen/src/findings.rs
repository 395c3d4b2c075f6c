//! One scenario per finding the real captures do not raise: adversarial answers, rekey drops,
//! fallbacks, broken key shares, lost fragments, MTU black holes, floods.

use crate::ike::{self, Proposal};
use crate::ikev1::{self, Phase1};
use crate::kem;
use crate::net::{self, Link};
use crate::rng::Rng;
use crate::scenario::*;
use crate::trace::{Carrier, Trace};
use serde_json::json;

const N_NO_PROPOSAL: u16 = 14;
const N_INVALID_KE: u16 = 17;

fn eth() -> Trace {
    Trace::new(Link::Ethernet { vlans: vec![] })
}

fn addke_declined() -> Scenario {
    let mut t = eth();
    let mut sa = Ike2::new(addr("192.0.2.50:500"), addr("198.51.100.50:500"), 50);
    let offered = Proposal::ike(1, &suite(&[20], &[(1, 36), (1, 0)]));
    let chosen = Proposal::ike(1, &suite(&[20], &[(1, 0)]));
    classical(&mut t, &mut sa, &[offered], &chosen, 20);
    scenario("addke_declined_optional_mlkem768", "The initiator offers ECP-384 with ADDKE1 = ML-KEM-768 or NONE (optional); the responder selects ADDKE1 NONE", t,
        json!({"classification": "classical", "evidence": "confirmed", "key_exchanges": ["ecp384"], "findings": ["addke_declined", "quantum_vulnerable_key_exchange"]}))
}

fn invalid_ke_downgrade() -> Scenario {
    let mut t = eth();
    let mut sa = Ike2::new(addr("192.0.2.51:500"), addr("198.51.100.51:500"), 51);
    let hybrid = Proposal::ike(1, &suite(&[20], &[(1, 36)]));
    let (k1, _) = kem::share(20, &mut sa.rng);
    sa.init_request(&mut t, &[hybrid], 20, &k1, &[]);
    sa.init_notify_answer(&mut t, N_INVALID_KE, &14u16.to_be_bytes());
    let weak = Proposal::ike(1, &suite(&[14], &[]));
    classical(&mut t, &mut sa, std::slice::from_ref(&weak), &weak, 14);
    scenario("invalid_ke_downgrade_pq_dropped", "Hybrid ECP-384 + ML-KEM-768 offer answered by INVALID_KE_PAYLOAD asking for MODP-2048; the retry offers MODP-2048 only and is accepted", t,
        json!({"classification": "classical", "evidence": "confirmed", "key_exchanges": ["modp2048"], "findings": ["invalid_ke_downgrade", "pq_offered_not_negotiated", "quantum_vulnerable_key_exchange"]}))
}

fn injected(answer: u16, name: &'static str, description: &'static str, proceed: bool) -> Scenario {
    let mut t = eth();
    let mut sa = Ike2::new(
        addr("192.0.2.52:500"),
        addr("198.51.100.52:500"),
        52 + u64::from(answer),
    );
    let prop = Proposal::ike(1, &suite(&[20], &[(1, 36)]));
    let (ki, kr) = kem::share(20, &mut sa.rng);
    let caps = vec![(N_FRAG_SUP, vec![]), (N_INT_SUP, vec![])];
    sa.init_request(&mut t, std::slice::from_ref(&prop), 20, &ki, &caps);
    let data = if answer == N_INVALID_KE {
        2u16.to_be_bytes().to_vec()
    } else {
        vec![]
    };
    sa.init_notify_answer(&mut t, answer, &data);
    sa.init_response(&mut t, &prop, 20, &kr, &caps);
    let expected = if proceed {
        sa.intermediate_ke(&mut t, 36);
        sa.auth(&mut t);
        json!({"classification": "hybrid", "evidence": "confirmed", "key_exchanges": ["ecp384", "mlkem768"], "findings": ["duplicate_response_conflict"]})
    } else {
        json!({"classification": "hybrid", "evidence": "negotiated", "key_exchanges": ["ecp384", "mlkem768"], "findings": ["duplicate_response_conflict", "half_open_sa"]})
    };
    scenario(name, description, t, expected)
}

fn rekey_without_followup() -> Scenario {
    let mut t = eth();
    let mut sa = Ike2::new(addr("192.0.2.53:500"), addr("198.51.100.53:500"), 53);
    hybrid_setup(&mut t, &mut sa, 20, &[36], false);
    t.advance_ms(20_000);
    hybrid_rekey(&mut t, &mut sa, 20, &[]);
    sa.become_rekeyed();
    t.advance_ms(10_000);
    sa.exchange(&mut t, ike::INFORMATIONAL, 0, 0, 0);
    scenario("rekey_without_followup_ke", "Hybrid ECP-384 + ML-KEM-768 IKE SA rekeyed by CREATE_CHILD_SA without any IKE_FOLLOWUP_KE; the new SPI pair then exchanges a DPD", t,
        json!({"classification": "classical", "evidence": "negotiated", "key_exchanges": ["ecp384"], "findings": ["rekey_posture_drop"]}))
}

fn regression() -> Scenario {
    let mut t = eth();
    let mut first = Ike2::new(addr("192.0.2.54:500"), addr("198.51.100.54:500"), 54);
    hybrid_setup(&mut t, &mut first, 20, &[36], false);
    first.exchange(&mut t, ike::INFORMATIONAL, ike::DELETE, DELETE_PLAIN, 0);
    t.advance_ms(60_000);
    let mut second = Ike2::new(addr("192.0.2.54:500"), addr("198.51.100.54:500"), 55);
    let offered = [
        Proposal::ike(1, &suite(&[20], &[(1, 36)])),
        Proposal::ike(2, &suite(&[20], &[])),
    ];
    classical(&mut t, &mut second, &offered, &offered[1].clone(), 20);
    scenario("posture_regression_hybrid_then_classical", "The same peers negotiate a hybrid SA, delete it, and a minute later fall back to the classical proposal #2", t,
        json!({"classification": "classical", "evidence": "confirmed", "key_exchanges": ["ecp384"], "findings": ["posture_regression", "pq_offered_not_negotiated", "quantum_vulnerable_key_exchange"]}))
}

fn ikev1_fallback() -> Scenario {
    let mut t = Trace::new(Link::Null);
    let mut sa = Ike2::new(addr("192.0.2.56:500"), addr("198.51.100.56:500"), 56);
    let p = Proposal::ike(1, &suite(&[19], &[]));
    classical(&mut t, &mut sa, std::slice::from_ref(&p), &p, 19);
    t.advance_ms(30_000);
    let mut rng = Rng::new(57);
    let p1 = Phase1 {
        encr: 7,
        key_length: 256,
        hash: 4,
        auth: 1,
        group: 14,
    };
    ikev1::main_mode(&mut t, sa.i, sa.r, &p1, &mut rng);
    scenario("ikev1_fallback_after_ikev2", "BSD loopback link: an IKEv2 ECP-256 SA, then the same peers negotiate IKEv1 Main Mode (AES-256/SHA-256/MODP-2048) and Quick Mode", t,
        json!({"classification": "legacy-ikev1", "evidence": "confirmed", "key_exchanges": ["modp2048"], "findings": ["ikev1_fallback", "ikev1_in_use", "quantum_vulnerable_key_exchange"]}))
}

fn ppk_one_side() -> Scenario {
    let mut t = eth();
    let mut sa = Ike2::new(addr("192.0.2.58:500"), addr("198.51.100.58:500"), 58);
    let p = Proposal::ike(1, &suite(&[20], &[]));
    let (ki, kr) = kem::share(20, &mut sa.rng);
    sa.init_request(
        &mut t,
        std::slice::from_ref(&p),
        20,
        &ki,
        &[(N_USE_PPK, vec![])],
    );
    sa.init_response(&mut t, &p, 20, &kr, &[]);
    sa.auth(&mut t);
    scenario(
        "ppk_not_negotiated_responder_silent",
        "The initiator sends USE_PPK (RFC 8784); the responder does not echo it",
        t,
        json!({"classification": "classical", "evidence": "confirmed", "key_exchanges": ["ecp384"], "findings": ["ppk_not_negotiated", "pq_offered_not_negotiated", "quantum_vulnerable_key_exchange"]}),
    )
}

fn malformed_key_share() -> Scenario {
    let mut t = eth();
    let mut sa = Ike2::new(addr("192.0.2.59:500"), addr("198.51.100.59:500"), 59);
    let p = Proposal::ike(1, &suite(&[36], &[]));
    // Every 12-bit coefficient 0xFFF > q = 3329: fails the FIPS 203 modulus check.
    let fake = vec![0xff; 1184];
    let (_, ct) = kem::share(36, &mut sa.rng);
    sa.init_request(&mut t, std::slice::from_ref(&p), 36, &fake, &[]);
    sa.init_response(&mut t, &p, 36, &ct, &[]);
    sa.auth(&mut t);
    scenario("malformed_mlkem768_key_share", "ML-KEM-768 as the IKE_SA_INIT key exchange with an encapsulation key whose coefficients all exceed q (fails the FIPS 203 modulus check)", t,
        json!({"classification": "pq-only", "evidence": "negotiated", "key_exchanges": ["mlkem768"], "findings": ["malformed_pq_key_share"]}))
}

fn fragment_loss() -> Scenario {
    let mut t = eth();
    let mut sa = Ike2::new(addr("192.0.2.60:500"), addr("198.51.100.60:500"), 60);
    let p = Proposal::ike(1, &suite(&[37], &[]));
    let (ek, _) = kem::share(37, &mut sa.rng);
    // Build the fragmented request once, then keep only its first fragment (a middlebox in front
    // of the capture point drops the rest), three times.
    let mut probe = Trace::new(Link::Ethernet { vlans: vec![] });
    sa.init_request(&mut probe, std::slice::from_ref(&p), 37, &ek, &[]);
    for _ in 0..3 {
        if let Some(first) = probe.packets.first().cloned() {
            t.packets.push(crate::trace::Packet {
                ts_us: t.clock_us,
                ..first
            });
        }
        t.advance_ms(40_000);
    }
    scenario("ip_fragment_loss_mlkem1024_init", "ML-KEM-1024 IKE_SA_INIT requests in IPv4 fragments of which only the first ever arrives (three attempts, 40 s apart)", t,
        json!({"classification": "unknown", "evidence": "offered", "key_exchanges": [], "findings": ["ip_fragment_loss"]}))
}

fn mtu_blackhole_v6() -> Scenario {
    let mut t = Trace::new(Link::Raw);
    let mut sa = Ike2::new(
        addr("[2001:db8:60::1]:500"),
        addr("[2001:db8:61::1]:500"),
        61,
    );
    let prop = Proposal::ike(1, &suite(&[20], &[(1, 37)]));
    let caps = vec![(N_INT_SUP, vec![])];
    sa.init_pair(&mut t, &prop, 20, &caps);
    // The 1600-octet IKE_INTERMEDIATE (ML-KEM-1024 key, no IKE fragmentation) is IP-fragmented;
    // a 1280-MTU link drops it and a router answers with ICMPv6 Packet Too Big.
    let (ek, _) = kem::share(37, &mut sa.rng);
    let before = t.packets.len();
    sa.unanswered(
        &mut t,
        ike::IKE_INTERMEDIATE,
        ike::KE,
        ke_plain(ek.len()),
        1,
    );
    let quoted = t.ip_packet(before);
    let router: std::net::IpAddr = "2001:db8:60::fe".parse().unwrap_or(sa.i.ip());
    t.push_ip(vec![net::icmp_error(
        router,
        sa.i.ip(),
        Some(1280),
        &quoted,
    )]);
    sa.mid_i -= 1;
    sa.unanswered(
        &mut t,
        ike::IKE_INTERMEDIATE,
        ike::KE,
        ke_plain(ek.len()),
        2,
    );
    scenario("mtu_blackhole_ipv6_ptb_raw", "Raw-IP IPv6: hybrid ECP-384 + ML-KEM-1024 without IKE fragmentation; the IKE_INTERMEDIATE key share needs IPv6 fragments, a router sends ICMPv6 Packet Too Big (MTU 1280) and the request is retransmitted without answer", t,
        json!({"classification": "failed", "evidence": "negotiated", "key_exchanges": [], "findings": ["fragmentation_unsupported_large_message", "icmp_frag_needed", "mtu_blackhole_suspected"]}))
}

fn skf_incomplete() -> Scenario {
    let mut t = eth();
    let mut sa = Ike2::new(addr("192.0.2.62:4500"), addr("198.51.100.62:4500"), 62);
    sa.carrier = Carrier::UdpNatT;
    sa.skf_chunk = Some(1100);
    let prop = Proposal::ike(1, &suite(&[20], &[(1, 37)]));
    let caps = vec![(N_FRAG_SUP, vec![]), (N_INT_SUP, vec![])];
    sa.init_pair(&mut t, &prop, 20, &caps);
    let (ek, _) = kem::share(37, &mut sa.rng);
    let frags = sa.encrypted(
        ike::IKE_INTERMEDIATE,
        ike::FLAG_I,
        1,
        ike::KE,
        ke_plain(ek.len()),
    );
    for _ in 0..3 {
        if let Some(f) = frags.first() {
            t.ike(sa.i, sa.r, sa.carrier, f);
        }
        t.advance_ms(2000);
    }
    scenario("skf_incomplete_natt", "UDP 4500: an IKE_INTERMEDIATE split into 2 SKF fragments (RFC 7383) of which only fragment 1 is ever seen, three times; no answer", t,
        json!({"classification": "failed", "evidence": "negotiated", "key_exchanges": [], "findings": ["skf_incomplete"]}))
}

fn skf_inconsistent() -> Scenario {
    let mut t = eth();
    let mut sa = Ike2::new(addr("192.0.2.63:500"), addr("198.51.100.63:500"), 63);
    let p = Proposal::ike(1, &suite(&[19], &[]));
    let caps = vec![(N_FRAG_SUP, vec![])];
    sa.init_pair(&mut t, &p, 19, &caps);
    sa.skf_chunk = Some(200);
    sa.auth(&mut t);
    // A fragment claiming number 3 of 2.
    let mut bad = ike::skf(0, 100, 100, &mut sa.rng);
    if let Some(f) = bad.first_mut() {
        f.body[0..4].copy_from_slice(&[0, 3, 0, 2]);
    }
    let msg = ike::encode(
        ike::Header::v2(sa.spi_i, sa.spi_r, ike::INFORMATIONAL, ike::FLAG_I, 2),
        &bad,
    );
    t.ike(sa.i, sa.r, Carrier::Udp, &msg);
    scenario(
        "skf_inconsistent_numbering",
        "A classical SA with SKF fragmentation whose later INFORMATIONAL fragment says 3 of 2",
        t,
        json!({"classification": "classical", "evidence": "confirmed", "key_exchanges": ["ecp256"], "findings": ["quantum_vulnerable_key_exchange", "skf_inconsistent"],
               "tshark_expected_warnings": ["Fragment number (3) must not be greater than total fragments (2)"]}),
    )
}

fn half_open() -> Scenario {
    let mut t = eth();
    let mut sa = Ike2::new(addr("192.0.2.64:500"), addr("198.51.100.64:500"), 64);
    let p = Proposal::ike(1, &suite(&[19], &[]));
    sa.init_pair(&mut t, &p, 19, &[]);
    scenario(
        "half_open_sa",
        "IKE_SA_INIT answered, then silence: the initiator never sends IKE_AUTH",
        t,
        json!({"classification": "classical", "evidence": "negotiated", "key_exchanges": ["ecp256"], "findings": ["half_open_sa", "quantum_vulnerable_key_exchange"]}),
    )
}

fn no_integrity() -> Scenario {
    let mut t = Trace::new(Link::LinuxSll);
    let mut sa = Ike2::new(addr("192.0.2.65:500"), addr("198.51.100.65:500"), 65);
    let p = Proposal::ike(1, &[(1, 12, Some(128)), (2, 5, None), (4, 19, None)]);
    classical(&mut t, &mut sa, std::slice::from_ref(&p), &p, 19);
    scenario("no_integrity_aes_cbc_linux_sll", "Linux cooked capture: AES-CBC selected with no INTEG transform (not AEAD: no integrity protection)", t,
        json!({"classification": "classical", "evidence": "confirmed", "key_exchanges": ["ecp256"], "findings": ["no_integrity", "quantum_vulnerable_key_exchange"]}))
}

fn flood() -> Scenario {
    let mut t = eth();
    let mut rng = Rng::new(66);
    let p = Proposal::ike(1, &suite(&[19], &[]));
    for n in 0..2000u32 {
        let src = addr(&format!("203.0.113.{}:500", 1 + n % 50));
        let mut sa = Ike2::new(src, addr("198.51.100.66:500"), rng.next_u64());
        let ki = rng.bytes(64);
        sa.init_request(&mut t, std::slice::from_ref(&p), 19, &ki, &[]);
    }
    scenario(
        "ike_sa_init_flood_random_spis",
        "2000 IKE_SA_INIT requests with random SPIs from 50 sources to one gateway, none answered",
        t,
        json!({"classification": "classical", "evidence": "offered", "key_exchanges": ["ecp256"], "findings": [], "tunnels": 50, "ike_sas": 2000}),
    )
}

fn truncated() -> Scenario {
    let mut t = eth();
    let mut sa = Ike2::new(addr("192.0.2.67:500"), addr("198.51.100.67:500"), 67);
    hybrid_setup(&mut t, &mut sa, 20, &[36], false);
    // A 400-octet snaplen: IKE_SA_INIT fits, the ML-KEM IKE_INTERMEDIATE messages are cut.
    for p in &mut t.packets {
        p.frame.truncate(400);
    }
    scenario("snaplen_truncated_hybrid", "Hybrid setup captured with a 400-octet snaplen: IKE_SA_INIT is whole, IKE_INTERMEDIATE and larger messages are truncated", t,
        json!({"classification": "hybrid", "evidence": "negotiated", "key_exchanges": ["ecp384", "mlkem768"], "findings": [], "truncated_packets": 2}))
}

pub fn all() -> Vec<Scenario> {
    vec![
        addke_declined(),
        invalid_ke_downgrade(),
        injected(N_INVALID_KE, "injected_invalid_ke_conflict", "A forged INVALID_KE_PAYLOAD (asking for MODP-1024) and the genuine hybrid answer both reply to one IKE_SA_INIT; the initiator goes on with the genuine one", true),
        injected(N_NO_PROPOSAL, "injected_no_proposal_chosen_conflict", "A forged NO_PROPOSAL_CHOSEN beats the genuine hybrid answer to one IKE_SA_INIT; the initiator gives up", false),
        rekey_without_followup(),
        regression(),
        ikev1_fallback(),
        ppk_one_side(),
        malformed_key_share(),
        fragment_loss(),
        mtu_blackhole_v6(),
        skf_incomplete(),
        skf_inconsistent(),
        half_open(),
        no_integrity(),
        flood(),
        truncated(),
    ]
}
