//! Scenarios that complete the coverage of spec §2-3 on synthetic traffic: the PPK postures,
//! COOKIE, retransmissions, ICMP errors (v4), a gateway restart, weak IKEv2 and IKEv1
//! Aggressive Mode — and the link types the others do not use (single VLAN, LOOP).

use crate::ike::{self, Header, Proposal};
use crate::ikev1::{self, Phase1};
use crate::kem;
use crate::net::{self, Link};
use crate::rng::Rng;
use crate::scenario::*;
use crate::trace::Trace;
use serde_json::json;

const N_COOKIE: u16 = 16390;

fn ppk_classical() -> Scenario {
    let mut t = Trace::new(Link::Ethernet { vlans: vec![10] });
    let mut sa = Ike2::new(addr("192.0.2.70:500"), addr("198.51.100.70:500"), 70);
    let p = Proposal::ike(1, &suite(&[20], &[]));
    let ppk = [(N_USE_PPK, vec![])];
    sa.init_pair(&mut t, &p, 20, &ppk);
    sa.auth(&mut t);
    scenario(
        "ppk_classical_vlan",
        "802.1Q VLAN 10: ECP-384 with USE_PPK (RFC 8784) in both IKE_SA_INIT messages",
        t,
        json!({"classification": "ppk", "evidence": "negotiated", "key_exchanges": ["ecp384"], "findings": []}),
    )
}

fn hybrid_ppk() -> Scenario {
    let mut t = Trace::new(Link::Loop);
    let mut sa = Ike2::new(addr("192.0.2.71:500"), addr("198.51.100.71:500"), 71);
    let prop = Proposal::ike(1, &suite(&[20], &[(1, 36)]));
    let caps = vec![(N_INT_SUP, vec![]), (N_USE_PPK, vec![])];
    sa.init_pair(&mut t, &prop, 20, &caps);
    sa.intermediate_ke(&mut t, 36);
    sa.auth(&mut t);
    t.advance_ms(20_000);
    hybrid_rekey(&mut t, &mut sa, 20, &[36]);
    scenario("hybrid_ppk_loop", "OpenBSD LOOP link: ECP-384 + ADDKE1 ML-KEM-768 with USE_PPK both ways; an IKE SA rekey with IKE_FOLLOWUP_KE on UDP 500", t,
        json!({"classification": "hybrid+ppk", "evidence": "confirmed", "key_exchanges": ["ecp384", "mlkem768"], "findings": []}))
}

fn cookie() -> Scenario {
    let mut t = Trace::new(Link::Ethernet { vlans: vec![] });
    let mut sa = Ike2::new(addr("192.0.2.72:500"), addr("198.51.100.72:500"), 72);
    let p = Proposal::ike(1, &suite(&[19], &[]));
    let (ki, kr) = kem::share(19, &mut sa.rng);
    sa.init_request(&mut t, std::slice::from_ref(&p), 19, &ki, &[]);
    let cookie = sa.rng.bytes(20);
    sa.init_notify_answer(&mut t, N_COOKIE, &cookie);
    // RFC 7296 §2.6: the retry repeats the request with the COOKIE notify first.
    let mut payloads = vec![ike::notify(N_COOKIE, &cookie)];
    payloads.extend(sa.init_payloads(std::slice::from_ref(&p), 19, &ki, &[]));
    let msg = ike::encode(
        Header::v2(sa.spi_i, 0, ike::IKE_SA_INIT, ike::FLAG_I, 0),
        &payloads,
    );
    t.ike(sa.i, sa.r, sa.carrier, &msg);
    sa.init_response(&mut t, &p, 19, &kr, &[]);
    sa.auth(&mut t);
    scenario(
        "cookie_challenge_classical",
        "IKE_SA_INIT answered by a COOKIE challenge, repeated with the COOKIE first, then ECP-256",
        t,
        json!({"classification": "classical", "evidence": "confirmed", "key_exchanges": ["ecp256"], "findings": ["cookie_challenge", "quantum_vulnerable_key_exchange"]}),
    )
}

fn retransmission_storm() -> Scenario {
    let mut t = Trace::new(Link::Ethernet { vlans: vec![] });
    let mut sa = Ike2::new(addr("192.0.2.73:500"), addr("198.51.100.73:500"), 73);
    let p = Proposal::ike(1, &suite(&[19], &[]));
    sa.init_pair(&mut t, &p, 19, &[]);
    sa.unanswered(&mut t, ike::IKE_AUTH, ike::IDI, AUTH_REQ_PLAIN, 6);
    scenario(
        "retransmission_storm_ike_auth",
        "IKE_SA_INIT answered, then the IKE_AUTH request is sent 6 times without an answer",
        t,
        json!({"classification": "failed", "evidence": "negotiated", "key_exchanges": [], "findings": ["retransmission_storm"]}),
    )
}

/// IPv4: a large IKE_AUTH (certificate chain) without IKE fragmentation meets a 1400-octet
/// link: ICMP fragmentation needed, retransmissions, no answer.
fn frag_needed_v4() -> Scenario {
    let mut t = Trace::new(Link::Ethernet { vlans: vec![] });
    let mut sa = Ike2::new(addr("192.0.2.74:500"), addr("198.51.100.74:500"), 74);
    let p = Proposal::ike(1, &suite(&[19], &[]));
    sa.init_pair(&mut t, &p, 19, &[]);
    let before = t.packets.len();
    sa.unanswered(&mut t, ike::IKE_AUTH, ike::IDI, 2100, 1);
    let quoted = t.ip_packet(before);
    let router: std::net::IpAddr = "192.0.2.254".parse().unwrap_or(sa.i.ip());
    t.push_ip(vec![net::icmp_error(
        router,
        sa.i.ip(),
        Some(1400),
        &quoted,
    )]);
    sa.mid_i -= 1;
    sa.unanswered(&mut t, ike::IKE_AUTH, ike::IDI, 2100, 2);
    scenario("icmp_frag_needed_ipv4_large_auth", "IPv4: a 2100-octet IKE_AUTH (certificates) without IKE fragmentation is IP-fragmented; a router sends ICMP fragmentation needed (MTU 1400); no answer after retransmissions", t,
        json!({"classification": "failed", "evidence": "negotiated", "key_exchanges": [], "findings": ["fragmentation_unsupported_large_message", "icmp_frag_needed", "mtu_blackhole_suspected"]}))
}

fn port_unreachable() -> Scenario {
    let mut t = Trace::new(Link::Ethernet { vlans: vec![] });
    let mut sa = Ike2::new(addr("192.0.2.75:500"), addr("198.51.100.75:500"), 75);
    let p = Proposal::ike(1, &suite(&[19], &[]));
    let (ki, _) = kem::share(19, &mut sa.rng);
    for _ in 0..3 {
        let before = t.packets.len();
        sa.init_request(&mut t, std::slice::from_ref(&p), 19, &ki, &[]);
        let quoted = t.ip_packet(before);
        t.push_ip(vec![net::icmp_error(sa.r.ip(), sa.i.ip(), None, &quoted)]);
        t.advance_ms(2000);
    }
    scenario("icmp_port_unreachable_gateway_down", "Three IKE_SA_INIT requests to a gateway whose IKE daemon is down, each answered by ICMP port unreachable", t,
        json!({"classification": "failed", "evidence": "negotiated", "key_exchanges": [], "findings": ["icmp_unreachable"]}))
}

/// Twelve tunnels to one gateway; the gateway restarts (DPD unanswered), all come back.
fn gateway_restart() -> Scenario {
    let mut t = Trace::new(Link::Ethernet { vlans: vec![] });
    let p = Proposal::ike(1, &suite(&[20], &[]));
    let gw = addr("198.51.100.76:500");
    let peers: Vec<_> = (1..=12)
        .map(|n| addr(&format!("203.0.113.{}:500", 100 + n)))
        .collect();
    let setup = |t: &mut Trace, seed: u64| -> Vec<Ike2> {
        peers
            .iter()
            .enumerate()
            .map(|(k, i)| {
                let mut sa = Ike2::new(*i, gw, seed + k as u64);
                sa.init_pair(t, &p, 20, &[]);
                sa.auth(t);
                sa
            })
            .collect()
    };
    let mut before = setup(&mut t, 760);
    t.advance_ms(30_000);
    // The gateway dies: every tunnel's DPD goes unanswered.
    for sa in &mut before {
        sa.unanswered(&mut t, ike::INFORMATIONAL, 0, 0, 2);
    }
    t.advance_ms(5_000);
    setup(&mut t, 780);
    scenario("mass_reestablishment_gateway_restart", "Twelve tunnels to one gateway; its DPD answers stop (restart) and all twelve IKE SAs are set up again within seconds", t,
        json!({"classification": "classical", "evidence": "confirmed", "key_exchanges": ["ecp384"], "findings": ["mass_reestablishment", "quantum_vulnerable_key_exchange"],
               "tunnel": "203.0.113.110<->198.51.100.76"}))
}

fn weak_ikev2() -> Scenario {
    let mut t = Trace::new(Link::Ethernet { vlans: vec![] });
    let mut sa = Ike2::new(addr("192.0.2.77:500"), addr("198.51.100.77:500"), 77);
    let p = Proposal::ike(1, &[(1, 3, None), (3, 2, None), (2, 2, None), (4, 2, None)]);
    sa.init_pair(&mut t, &p, 2, &[]);
    sa.auth(&mut t);
    scenario(
        "weak_ikev2_3des_sha1_modp1024",
        "IKEv2 with 3DES, HMAC-SHA1-96, PRF-HMAC-SHA1 and MODP-1024",
        t,
        json!({"classification": "classical", "evidence": "confirmed", "key_exchanges": ["modp1024"], "findings": ["quantum_vulnerable_key_exchange", "weak_dh_group", "weak_encryption", "weak_integrity", "weak_prf"]}),
    )
}

fn ikev1_aggressive() -> Scenario {
    let mut t = Trace::new(Link::Ethernet { vlans: vec![] });
    let mut rng = Rng::new(78);
    let p1 = Phase1 {
        encr: 5,
        key_length: 192,
        hash: 1,
        auth: 1,
        group: 2,
    };
    ikev1::aggressive_mode(
        &mut t,
        addr("192.0.2.78:500"),
        addr("198.51.100.78:500"),
        &p1,
        &mut rng,
    );
    scenario(
        "ikev1_aggressive_3des_md5_modp1024",
        "IKEv1 Aggressive Mode with PSK, 3DES, MD5 and MODP-1024, then Quick Mode",
        t,
        json!({"classification": "legacy-ikev1", "evidence": "confirmed", "key_exchanges": ["modp1024"], "findings": ["ikev1_aggressive_mode", "ikev1_in_use", "weak_dh_group", "weak_encryption", "weak_integrity", "weak_prf"]}),
    )
}

pub fn all() -> Vec<Scenario> {
    vec![
        ppk_classical(),
        hybrid_ppk(),
        cookie(),
        retransmission_storm(),
        frag_needed_v4(),
        port_unreachable(),
        gateway_restart(),
        weak_ikev2(),
        ikev1_aggressive(),
    ]
}
