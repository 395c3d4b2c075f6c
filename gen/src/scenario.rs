//! Scenarios: small captures, one behaviour each, with the result ikescope must report.

use crate::ike::{self, Header, Proposal, Transform};
use crate::kem;
use crate::net::Link;
use crate::rng::Rng;
use crate::trace::{Carrier, Trace};
use serde_json::{json, Value};
use std::net::SocketAddr;

// Notify types used below (RFC 7296, 7383, 9242, 9370).
pub const N_NAT_SRC: u16 = 16388;
pub const N_NAT_DST: u16 = 16389;
pub const N_FRAG_SUP: u16 = 16430;
pub const N_INT_SUP: u16 = 16438;
pub const N_ADDKE: u16 = 16441;
pub const N_USE_PPK: u16 = 16435;

/// AES-GCM-16-256 / PRF-SHA384 with a KE and optional ADDKE transforms.
pub fn suite(ke: &[u16], addke: &[(u8, u16)]) -> Vec<Transform> {
    let mut t: Vec<Transform> = vec![(1, 20, Some(256)), (2, 6, None)];
    t.extend(ke.iter().map(|m| (4u8, *m, None)));
    t.extend(addke.iter().map(|(slot, m)| (5 + slot, *m, None)));
    t
}

/// One IKEv2 SA being negotiated between two peers.
pub struct Ike2 {
    pub i: SocketAddr,
    pub r: SocketAddr,
    pub spi_i: u64,
    pub spi_r: u64,
    pub carrier: Carrier,
    /// Next message ID of the original initiator's requests.
    pub mid_i: u32,
    /// SKF chunk size (plain octets) when IKE fragmentation is in use.
    pub skf_chunk: Option<usize>,
    pub rng: Rng,
}

impl Ike2 {
    pub fn new(i: SocketAddr, r: SocketAddr, seed: u64) -> Self {
        let mut rng = Rng::new(seed);
        let spi_i = rng.next_u64() | 1;
        Ike2 {
            i,
            r,
            spi_i,
            spi_r: 0,
            carrier: Carrier::Udp,
            mid_i: 0,
            skf_chunk: None,
            rng,
        }
    }

    /// IKE_SA_INIT request: SA, KE, Nonce, NAT-D, then `notifies`.
    pub fn init_request(
        &mut self,
        t: &mut Trace,
        proposals: &[Proposal],
        ke_method: u16,
        ke_data: &[u8],
        notifies: &[(u16, Vec<u8>)],
    ) {
        let p = self.init_payloads(proposals, ke_method, ke_data, notifies);
        let msg = ike::encode(
            Header::v2(self.spi_i, 0, ike::IKE_SA_INIT, ike::FLAG_I, 0),
            &p,
        );
        t.ike(self.i, self.r, self.carrier, &msg);
    }

    /// SA, KE, Nonce, both NAT-D notifies, then `notifies` (IKE_SA_INIT either way).
    pub fn init_payloads(
        &mut self,
        proposals: &[Proposal],
        ke_method: u16,
        ke_data: &[u8],
        notifies: &[(u16, Vec<u8>)],
    ) -> Vec<ike::Payload> {
        let nonce = self.rng.bytes(32);
        let mut p = vec![
            ike::sa(proposals),
            ike::ke(ke_method, ke_data),
            ike::nonce(&nonce),
        ];
        p.push(ike::notify(N_NAT_SRC, &self.rng.bytes(20)));
        p.push(ike::notify(N_NAT_DST, &self.rng.bytes(20)));
        p.extend(notifies.iter().map(|(n, d)| ike::notify(*n, d)));
        p
    }

    /// IKE_SA_INIT response selecting `proposal`.
    pub fn init_response(
        &mut self,
        t: &mut Trace,
        proposal: &Proposal,
        ke_method: u16,
        ke_data: &[u8],
        notifies: &[(u16, Vec<u8>)],
    ) {
        self.spi_r = self.rng.next_u64() | 2;
        let p = self.init_payloads(std::slice::from_ref(proposal), ke_method, ke_data, notifies);
        let msg = ike::encode(
            Header::v2(self.spi_i, self.spi_r, ike::IKE_SA_INIT, ike::FLAG_R, 0),
            &p,
        );
        t.ike(self.r, self.i, self.carrier, &msg);
        self.mid_i = 1;
    }

    /// An IKE_SA_INIT answer that carries only one notify (COOKIE, INVALID_KE_PAYLOAD,
    /// NO_PROPOSAL_CHOSEN), SPIr zero, as responders (or attackers) send it.
    pub fn init_notify_answer(&mut self, t: &mut Trace, ntype: u16, data: &[u8]) {
        let msg = ike::encode(
            Header::v2(self.spi_i, 0, ike::IKE_SA_INIT, ike::FLAG_R, 0),
            &[ike::notify(ntype, data)],
        );
        t.ike(self.r, self.i, self.carrier, &msg);
    }

    /// A request from the original initiator that gets no answer, sent `times` times (the
    /// retransmissions are byte-identical).
    pub fn unanswered(
        &mut self,
        t: &mut Trace,
        exchange: u8,
        first_inner: u8,
        plain: usize,
        times: usize,
    ) {
        let mid = self.mid_i;
        self.mid_i += 1;
        let msgs = self.encrypted(exchange, ike::FLAG_I, mid, first_inner, plain);
        for _ in 0..times {
            for m in &msgs {
                t.ike(self.i, self.r, self.carrier, m);
            }
            t.advance_ms(2000);
        }
    }

    /// Switches to the SA a rekey created: fresh SPIs, message IDs from 0.
    pub fn become_rekeyed(&mut self) {
        self.spi_i = self.rng.next_u64() | 1;
        self.spi_r = self.rng.next_u64() | 2;
        self.mid_i = 0;
    }

    /// Encrypted message(s): one SK, or SKF fragments when fragmentation is on and needed.
    pub fn encrypted(
        &mut self,
        exchange: u8,
        flags: u8,
        mid: u32,
        first_inner: u8,
        plain: usize,
    ) -> Vec<Vec<u8>> {
        let h = Header::v2(self.spi_i, self.spi_r, exchange, flags, mid);
        match self.skf_chunk {
            Some(chunk) if plain > chunk => ike::skf(first_inner, plain, chunk, &mut self.rng)
                .into_iter()
                .map(|f| ike::encode(h, &[f]))
                .collect(),
            _ => vec![ike::encode(
                h,
                &[ike::sk(first_inner, plain, &mut self.rng)],
            )],
        }
    }

    /// A request from the original initiator and its response, with inner sizes in octets.
    pub fn exchange(
        &mut self,
        t: &mut Trace,
        exchange: u8,
        first_inner: u8,
        req_plain: usize,
        resp_plain: usize,
    ) {
        let mid = self.mid_i;
        self.mid_i += 1;
        for m in self.encrypted(exchange, ike::FLAG_I, mid, first_inner, req_plain) {
            t.ike(self.i, self.r, self.carrier, &m);
        }
        for m in self.encrypted(exchange, ike::FLAG_R, mid, first_inner, resp_plain) {
            t.ike(self.r, self.i, self.carrier, &m);
        }
    }

    /// IKE_SA_INIT request offering one proposal and the response selecting it, with key
    /// shares of `ke` and the same extra notifies both ways.
    pub fn init_pair(
        &mut self,
        t: &mut Trace,
        prop: &Proposal,
        ke: u16,
        notifies: &[(u16, Vec<u8>)],
    ) {
        let (ki, kr) = kem::share(ke, &mut self.rng);
        self.init_request(t, std::slice::from_ref(prop), ke, &ki, notifies);
        self.init_response(t, prop, ke, &kr, notifies);
    }

    /// One IKE_INTERMEDIATE round carrying an additional key exchange of `method`: the
    /// encapsulation key out, the ciphertext back (sizes of genuine key material).
    pub fn intermediate_ke(&mut self, t: &mut Trace, method: u16) {
        let (ek, ct) = kem::share(method, &mut self.rng);
        self.exchange(
            t,
            ike::IKE_INTERMEDIATE,
            ike::KE,
            ke_plain(ek.len()),
            ke_plain(ct.len()),
        );
    }

    /// IKE_AUTH with PSK-sized payloads.
    pub fn auth(&mut self, t: &mut Trace) {
        self.exchange(t, ike::IKE_AUTH, ike::IDI, AUTH_REQ_PLAIN, AUTH_RESP_PLAIN);
    }

    /// Moves the SA to UDP 4500 (after NAT detection), both ends on port 4500.
    pub fn float_to_nat_t(&mut self) {
        self.i.set_port(4500);
        self.r.set_port(4500);
        self.carrier = Carrier::UdpNatT;
    }
}

/// KE payload plain size: generic header (4) + method/reserved (4) + data.
pub fn ke_plain(data_len: usize) -> usize {
    8 + data_len
}

/// Plain sizes of IKE_AUTH (PSK): IDi, AUTH, SA (ESP), TSi, TSr and a few notifies.
pub const AUTH_REQ_PLAIN: usize = 236;
pub const AUTH_RESP_PLAIN: usize = 180;
/// INFORMATIONAL with a Delete payload for the IKE SA.
pub const DELETE_PLAIN: usize = 8;

/// A generated scenario: its capture and what ikescope must say about it.
pub struct Scenario {
    pub name: &'static str,
    pub description: &'static str,
    pub trace: Trace,
    pub expected: Value,
}

/// Builds a scenario (shorthand for the scenario modules).
pub fn scenario(
    name: &'static str,
    description: &'static str,
    trace: Trace,
    expected: Value,
) -> Scenario {
    Scenario {
        name,
        description,
        trace,
        expected,
    }
}

/// Classical IKE_SA_INIT + IKE_AUTH with the given proposals offered and one selected.
pub fn classical(t: &mut Trace, sa: &mut Ike2, offered: &[Proposal], chosen: &Proposal, ke: u16) {
    let (ki, kr) = kem::share(ke, &mut sa.rng);
    sa.init_request(t, offered, ke, &ki, &[]);
    sa.init_response(t, chosen, ke, &kr, &[]);
    sa.auth(t);
}

pub fn addr(s: &str) -> SocketAddr {
    s.parse()
        .unwrap_or_else(|_| SocketAddr::from(([0, 0, 0, 0], 0)))
}

/// Full hybrid setup: IKE_SA_INIT with KE + ADDKEs, one IKE_INTERMEDIATE per ADDKE, IKE_AUTH.
pub fn hybrid_setup(t: &mut Trace, sa: &mut Ike2, ke: u16, addke: &[u16], nat_t: bool) {
    let slots: Vec<(u8, u16)> = addke
        .iter()
        .enumerate()
        .map(|(i, m)| (i as u8 + 1, *m))
        .collect();
    let prop = Proposal::ike(1, &suite(&[ke], &slots));
    let (ke_i, ke_r) = kem::share(ke, &mut sa.rng);
    let caps = vec![(N_FRAG_SUP, vec![]), (N_INT_SUP, vec![])];
    sa.init_request(t, std::slice::from_ref(&prop), ke, &ke_i, &caps);
    sa.init_response(t, &prop, ke, &ke_r, &caps);
    if nat_t {
        sa.float_to_nat_t();
    }
    for m in addke {
        sa.intermediate_ke(t, *m);
    }
    sa.auth(t);
}

/// IKE SA rekey with RFC 9370 follow-up exchanges: CREATE_CHILD_SA (SA, Nonce, KE) then one
/// IKE_FOLLOWUP_KE per additional method; finally the old SA is deleted.
pub fn hybrid_rekey(t: &mut Trace, sa: &mut Ike2, ke: u16, addke: &[u16]) {
    let (ki, kr) = kem::share(ke, &mut sa.rng);
    let sa_plain = 4 + 8 + 8 + 8 * (3 + addke.len());
    sa.exchange(
        t,
        ike::CREATE_CHILD_SA,
        ike::SA,
        sa_plain + 36 + ke_plain(ki.len()),
        sa_plain + 36 + ke_plain(kr.len()) + 16,
    );
    for m in addke {
        let (ek, ct) = kem::share(*m, &mut sa.rng);
        sa.exchange(
            t,
            ike::IKE_FOLLOWUP_KE,
            ike::KE,
            ke_plain(ek.len()) + 16,
            ke_plain(ct.len()) + 16,
        );
    }
    sa.exchange(t, ike::INFORMATIONAL, ike::DELETE, DELETE_PLAIN, 0);
}

fn pq_only(name: &'static str, description: &'static str, method: u16, seed: u64) -> Scenario {
    let mut t = Trace::new(Link::Ethernet { vlans: vec![] });
    let mut sa = Ike2::new(addr("192.0.2.10:500"), addr("198.51.100.10:500"), seed);
    let prop = Proposal::ike(1, &suite(&[method], &[]));
    let (ek, ct) = kem::share(method, &mut sa.rng);
    sa.init_request(
        &mut t,
        std::slice::from_ref(&prop),
        method,
        &ek,
        &[(N_FRAG_SUP, vec![])],
    );
    sa.init_response(&mut t, &prop, method, &ct, &[(N_FRAG_SUP, vec![])]);
    sa.auth(&mut t);
    let name_ke = if method == 36 {
        "mlkem768"
    } else {
        "mlkem1024"
    };
    let fragmented = method == 37;
    let mut findings = vec![];
    if fragmented {
        findings.push("ike_sa_init_ip_fragmented");
    }
    Scenario {
        name,
        description,
        trace: t,
        expected: json!({
            "classification": "pq-only", "evidence": "confirmed", "key_exchanges": [name_ke],
            "findings": findings,
            "messages": {"IKE_SA_INIT": 2, "IKE_AUTH": 2},
            "ike_sa_init_ke": [{"method": method, "length": ek.len()}, {"method": method, "length": ct.len()}],
        }),
    }
}

fn hybrid_natt_qinq() -> Scenario {
    let mut t = Trace::new(Link::Ethernet {
        vlans: vec![100, 200],
    });
    let mut sa = Ike2::new(addr("192.0.2.20:500"), addr("198.51.100.20:500"), 20);
    hybrid_setup(&mut t, &mut sa, 20, &[36], true);
    // NAT-T keepalive and ESP-in-UDP on the same 5-tuple.
    t.udp(sa.i, sa.r, &[0xff]);
    let mut esp = 0x0c0f_fee0u32.to_be_bytes().to_vec();
    esp.extend_from_slice(&[0, 0, 0, 1]);
    esp.extend_from_slice(&sa.rng.bytes(96));
    t.udp(sa.i, sa.r, &esp);
    hybrid_rekey(&mut t, &mut sa, 20, &[36]);
    Scenario {
        name: "hybrid_natt_followup_ke_udp4500_qinq",
        description: "ECP-384 + ADDKE1 ML-KEM-768 over NAT-T (UDP 4500 with non-ESP marker) on QinQ Ethernet; IKE_INTERMEDIATE and an IKE SA rekey with IKE_FOLLOWUP_KE on 4500; NAT keepalive and ESP-in-UDP on the same ports",
        trace: t,
        expected: json!({
            "classification": "hybrid", "evidence": "confirmed", "key_exchanges": ["ecp384", "mlkem768"],
            "findings": [],
            "messages": {"IKE_SA_INIT": 2, "IKE_INTERMEDIATE": 2, "IKE_AUTH": 2, "CREATE_CHILD_SA": 2, "IKE_FOLLOWUP_KE": 2, "INFORMATIONAL": 2},
            "transports": {"udp500": 2, "udp4500": 10},
        }),
    }
}

fn hybrid_tcp_sll2_v6() -> Scenario {
    let mut t = Trace::new(Link::LinuxSll2);
    t.v6_dest_opts = true;
    let mut sa = Ike2::new(
        addr("[2001:db8::30]:40030"),
        addr("[2001:db8:1::30]:4500"),
        30,
    );
    sa.carrier = Carrier::Tcp;
    t.tcp_open(sa.i, sa.r);
    hybrid_setup(&mut t, &mut sa, 31, &[36], false);
    hybrid_rekey(&mut t, &mut sa, 31, &[36]);
    Scenario {
        name: "hybrid_tcp_rfc9329_sll2_ipv6",
        description: "X25519 + ADDKE1 ML-KEM-768 entirely over TCP (RFC 9329: IKETCP prefix, length-prefixed records) on IPv6 with a Destination Options header, Linux SLL2; IKE_INTERMEDIATE and IKE_FOLLOWUP_KE over TCP",
        trace: t,
        expected: json!({
            "classification": "hybrid", "evidence": "confirmed", "key_exchanges": ["x25519", "mlkem768"],
            "findings": ["tcp_encapsulation"],
            "messages": {"IKE_SA_INIT": 2, "IKE_INTERMEDIATE": 2, "IKE_AUTH": 2, "CREATE_CHILD_SA": 2, "IKE_FOLLOWUP_KE": 2, "INFORMATIONAL": 2},
            "transports": {"tcp": 12},
        }),
    }
}

fn hybrid_skf_pcapng() -> Scenario {
    let mut t = Trace::new(Link::Ethernet { vlans: vec![] });
    // libpcap reads pcapng only when every interface has the first one's link type.
    t.extra_links.push(Link::Ethernet { vlans: vec![] });
    let mut sa = Ike2::new(addr("192.0.2.40:500"), addr("198.51.100.40:500"), 40);
    sa.skf_chunk = Some(1180);
    hybrid_setup(&mut t, &mut sa, 20, &[37], false);
    // A second, classical tunnel seen on the other interface.
    t.interface = 1;
    let mut other = Ike2::new(addr("192.0.2.41:500"), addr("198.51.100.41:500"), 41);
    let prop = Proposal::ike(1, &suite(&[19], &[]));
    other.init_pair(&mut t, &prop, 19, &[]);
    other.auth(&mut t);
    Scenario {
        name: "hybrid_mlkem1024_skf_pcapng_two_interfaces",
        description: "pcapng with two Ethernet interfaces: ECP-384 + ADDKE1 ML-KEM-1024 whose IKE_INTERMEDIATE messages travel as 2 SKF fragments each (RFC 7383); a classical ECP-256 tunnel on the second interface",
        trace: t,
        expected: json!({
            "classification": "hybrid", "evidence": "confirmed", "key_exchanges": ["ecp384", "mlkem1024"],
            "findings": [],
            "messages": {"IKE_SA_INIT": 4, "IKE_INTERMEDIATE": 4, "IKE_AUTH": 4},
            "skf_messages": 4,
        }),
    }
}

/// Every scenario, in a fixed order.
pub fn all() -> Vec<Scenario> {
    let mut v = posture_scenarios();
    v.extend(crate::findings::all());
    v.extend(crate::coverage::all());
    v
}

fn posture_scenarios() -> Vec<Scenario> {
    vec![
        pq_only("pq_only_mlkem768_eth_ipv4", "ML-KEM-768 as the only key exchange in IKE_SA_INIT (1184-octet encapsulation key, 1088-octet ciphertext), no IKE_INTERMEDIATE", 36, 1),
        pq_only("pq_only_mlkem1024_ip_fragmented", "ML-KEM-1024 as the only key exchange: the 1568-octet key share pushes IKE_SA_INIT past 1500 octets, so both IKE_SA_INIT messages travel as IPv4 fragments", 37, 2),
        hybrid_natt_qinq(),
        hybrid_tcp_sll2_v6(),
        hybrid_skf_pcapng(),
    ]
}
