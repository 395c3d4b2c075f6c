//! Per-SA findings (spec §3): downgrade and PQ assurance, fragmentation / MTU, classical
//! hygiene. Cross-SA findings (regression, IKEv1 fallback, mass re-establishment, policy) are
//! in `tunnel`.

use super::algos::*;
use super::assess::*;
use super::classify::{v1_attr, ParentView};
use super::model::{Finding, Posture, SaState, Severity};
use crate::ike::{MessageSummary, ProposalSummary};
use crate::track::{followup_rounds_after, IkeSa, NetEventKind, Obs};
use ikescope_parsers::registry::{KeMethod, NotifyType};
use serde_json::{json, Value};

/// Collects findings for one SA.
pub struct Findings<'a> {
    a: &'a Assessment,
    tunnel: String,
    pub out: Vec<Finding>,
}

impl<'a> Findings<'a> {
    pub fn new(a: &'a Assessment, tunnel: String) -> Self {
        Findings {
            a,
            tunnel,
            out: Vec::new(),
        }
    }

    pub fn add(
        &mut self,
        code: &'static str,
        severity: Severity,
        message: String,
        evidence: Value,
    ) {
        if self.out.iter().any(|f| f.code == code) {
            return; // one finding per code and SA; the evidence names the first occurrence
        }
        self.out.push(Finding {
            code,
            severity,
            message,
            tunnel: self.tunnel.clone(),
            spi_i: self.a.spi_i.clone(),
            spi_r: self.a.spi_r.clone(),
            evidence,
        });
    }
}

fn pkt(o: &Obs) -> Value {
    json!({"input": o.input, "pcap_cnt": o.pcap_cnt, "timestamp": crate::event::rfc3339_us(o.ts_us)})
}

fn kes_in(p: &ProposalSummary) -> impl Iterator<Item = (u8, u16)> + '_ {
    p.transforms
        .iter()
        .filter(|t| t.ttype == 4 || (6..=12).contains(&t.ttype))
        .map(|t| (t.ttype, t.id))
}

fn offers_pq(m: &MessageSummary) -> bool {
    m.proposals
        .iter()
        .any(|p| kes_in(p).any(|(_, id)| KeMethod(id).is_post_quantum()))
}

fn wants_ppk(m: &MessageSummary) -> bool {
    has_notify(m, NotifyType::USE_PPK.0) || has_notify(m, NotifyType::USE_PPK_INT.0)
}

fn names(ids: &[u16]) -> String {
    ids.iter()
        .map(|m| KeMethod(*m).short_name())
        .collect::<Vec<_>>()
        .join("+")
}

/// All per-SA rules.
pub fn sa_findings(sa: &IkeSa, a: &Assessment, parent: Option<&ParentView>, f: &mut Findings<'_>) {
    if sa.version == 2 {
        let view = InitView::new(sa);
        downgrade(a, &view, f);
        retries(&view, f);
        conflicts(&view, f);
        key_shares(&view, f);
        rekeys(sa, a, parent, f);
        hygiene_v2(a, &view, parent, f);
    } else {
        hygiene_v1(sa, a, f);
    }
    fragmentation(sa, a, f);
    reachability(sa, a, f);
    operations(sa, a, f);
}

fn downgrade(a: &Assessment, view: &InitView<'_>, f: &mut Findings<'_>) {
    let (Some(resp), Some(req)) = (view.final_response, view.final_request) else {
        return;
    };
    let pq_offered = view.requests.iter().any(|r| offers_pq(&r.msg));
    let ppk_req = view.requests.iter().any(|r| wants_ppk(&r.msg));
    let ppk_resp = wants_ppk(&resp.msg);
    if ppk_req != ppk_resp && wants_ppk(&req.msg) != ppk_resp {
        let who = if ppk_req {
            "the initiator"
        } else {
            "the responder"
        };
        f.add(
            "ppk_not_negotiated",
            Severity::Medium,
            format!("USE_PPK was sent by {who} only, so no post-quantum preshared key protects this IKE SA: check that both gateways have the PPK and ppk/use_ppk enabled."),
            json!({"request": pkt(&req.obs), "response": pkt(&resp.obs)}),
        );
    }
    if !(pq_offered || ppk_req) || a.posture.is_pq() || a.posture == Posture::Failed {
        return;
    }
    let selected = resp.msg.proposals.first();
    let offered_same =
        selected.and_then(|s| req.msg.proposals.iter().find(|p| p.number == s.number));
    // RFC 9370 §2.2.2: an ADDKE offered together with NONE is optional; the responder took NONE.
    let declined: Vec<String> = offered_same
        .map(|p| {
            (6..=12u8)
                .filter(|slot| {
                    let ids: Vec<u16> = kes_in(p)
                        .filter(|(t, _)| t == slot)
                        .map(|(_, id)| id)
                        .collect();
                    ids.contains(&0) && ids.iter().any(|id| KeMethod(*id).is_post_quantum())
                })
                .map(|slot| format!("ADDKE{}", slot - 5))
                .collect()
        })
        .unwrap_or_default();
    let ev = json!({"request": pkt(&req.obs), "response": pkt(&resp.obs), "offered": a.proposals_offered, "selected": a.key_exchanges});
    if !declined.is_empty() {
        f.add(
            "addke_declined",
            Severity::High,
            format!("The initiator made {} optional and the responder chose NONE: the SA uses only {} (classical); require the ML-KEM ADDKE on both gateways (no ke1_none) if post-quantum protection is mandatory.", declined.join(", "), names(&a.key_exchange_ids)),
            ev,
        );
    } else {
        let what = if pq_offered {
            "a post-quantum key exchange"
        } else {
            "a PPK (USE_PPK)"
        };
        f.add(
            "pq_offered_not_negotiated",
            Severity::High,
            format!("The initiator offered {what} but the responder selected {} (classical only): a silent fallback; check the responder supports RFC 9370/ML-KEM and remove classical-only proposals if PQ is required.", names(&a.key_exchange_ids)),
            ev,
        );
    }
}

/// INVALID_KE_PAYLOAD / NO_PROPOSAL_CHOSEN followed by a weaker retry.
fn retries(view: &InitView<'_>, f: &mut Findings<'_>) {
    let ke_of = |m: &MessageSummary| m.ke.first().and_then(|k| k.method).unwrap_or(0);
    let mut prev: Option<&crate::track::InitMessage> = None;
    for req in view.requests {
        if let Some(p) = prev {
            let answer = view
                .responses
                .iter()
                .filter(|r| {
                    (r.obs.input, r.obs.pcap_cnt) > (p.obs.input, p.obs.pcap_cnt)
                        && (r.obs.input, r.obs.pcap_cnt) < (req.obs.input, req.obs.pcap_cnt)
                })
                .map(|r| (r, init_answer(&r.msg)))
                .find(|(_, a)| matches!(a, InitAnswer::InvalidKe(_) | InitAnswer::Error(14)));
            if let Some((resp, kind)) = answer {
                let lost_pq = offers_pq(&p.msg) && !offers_pq(&req.msg);
                let (before, after) = (ke_of(&p.msg), ke_of(&req.msg));
                let weaker = ke_strength(after) < ke_strength(before);
                if lost_pq || weaker {
                    let why = if let InitAnswer::InvalidKe(m) = kind {
                        format!("INVALID_KE_PAYLOAD asking for {}", KeMethod(m).short_name())
                    } else {
                        "NO_PROPOSAL_CHOSEN".to_string()
                    };
                    f.add(
                        "invalid_ke_downgrade",
                        Severity::High,
                        format!("After {why} the initiator retried with a weaker offer ({} → {}{}); this unauthenticated answer may be an on-path downgrade: verify the responder's configured groups.", KeMethod(before).short_name(), KeMethod(after).short_name(), if lost_pq { ", post-quantum dropped" } else { "" }),
                        json!({"first_request": pkt(&p.obs), "answer": pkt(&resp.obs), "retry": pkt(&req.obs)}),
                    );
                }
            }
        }
        prev = Some(req);
    }
}

/// Two different answers to the same IKE_SA_INIT request: one of them was injected.
fn conflicts(view: &InitView<'_>, f: &mut Findings<'_>) {
    let at = |o: &Obs| (o.input, o.pcap_cnt);
    for (i, req) in view.requests.iter().enumerate() {
        let next = view
            .requests
            .iter()
            .skip(i + 1)
            .find(|q| q.msg.length != req.msg.length || q.msg.ke != req.msg.ke);
        let answers: Vec<&crate::track::InitMessage> = view
            .responses
            .iter()
            .filter(|r| at(&r.obs) > at(&req.obs) && next.is_none_or(|n| at(&r.obs) < at(&n.obs)))
            .collect();
        let distinct = |x: &MessageSummary, y: &MessageSummary| {
            x.spi_r != y.spi_r || x.length != y.length || init_answer(x) != init_answer(y)
        };
        if let Some((x, y)) = answers
            .iter()
            .zip(answers.iter().skip(1))
            .find(|(x, y)| distinct(&x.msg, &y.msg))
        {
            f.add(
                "duplicate_response_conflict",
                Severity::Critical,
                format!("Two different IKE_SA_INIT responses ({:?} and {:?}) answered the same request: one was likely forged by an on-path attacker to force a downgrade; investigate the path to {}.", init_answer(&x.msg), init_answer(&y.msg), x.obs.src.ip()),
                json!({"request": pkt(&req.obs), "responses": [pkt(&x.obs), pkt(&y.obs)]}),
            );
            return;
        }
    }
}

/// ML-KEM key shares in IKE_SA_INIT: exact FIPS 203 lengths and the encapsulation-key check.
fn key_shares(view: &InitView<'_>, f: &mut Findings<'_>) {
    for m in view.requests.iter().chain(view.responses) {
        for ke in &m.msg.ke {
            let Some(method) = ke.method.filter(|x| (35..=37).contains(x)) else {
                continue;
            };
            let Some((ek, ct)) = KeMethod(method).data_lengths() else {
                continue;
            };
            let expected = if m.obs.response { ct } else { ek };
            let bad_len = ke.length != expected;
            if bad_len || ke.fips203_valid == Some(false) {
                let what = if bad_len {
                    format!("is {} octets instead of {expected}", ke.length)
                } else {
                    "fails the FIPS 203 encapsulation-key modulus check".to_string()
                };
                f.add(
                    "malformed_pq_key_share",
                    Severity::High,
                    format!("The {} key share from {} {what}: a broken or fake post-quantum implementation; check the peer's firmware.", KeMethod(method).short_name(), m.obs.src.ip()),
                    json!({"packet": pkt(&m.obs), "method": method, "length": ke.length, "expected_length": expected}),
                );
            }
        }
    }
}

/// Rekeys that ran a fresh key exchange without the additional (post-quantum) ones.
fn rekeys(sa: &IkeSa, a: &Assessment, parent: Option<&ParentView>, f: &mut Findings<'_>) {
    if let (Some(link), Some(p)) = (&sa.rekeyed_from, parent) {
        let want = p.key_exchange_ids.len().saturating_sub(1) as u32;
        if p.posture.is_pq()
            && p.key_exchange_ids
                .iter()
                .any(|m| KeMethod(*m).is_post_quantum())
            && link.followup_rounds < want
        {
            let ev = link
                .create_child
                .as_ref()
                .map_or(Value::Null, |(q, _)| pkt(q));
            f.add(
                "rekey_posture_drop",
                Severity::Medium,
                format!("The IKE SA rekey of {} ran {} but only {} of its {want} additional key exchange(s) (IKE_FOLLOWUP_KE): keys still chain from the hybrid SA, but this SA has lost post-quantum forward secrecy; check RFC 9370 rekey support (strongSwan keN_ in the rekey proposal).", p.spi, names(&p.key_exchange_ids[..1]), link.followup_rounds),
                json!({"create_child_sa": ev, "followup_ke_rounds": link.followup_rounds, "parent_key_exchanges": p.key_exchange_ids}),
            );
        }
    }
    // CHILD SA rekeys with PFS, inferred from the CREATE_CHILD_SA size.
    let addke = a.key_exchange_ids.len().saturating_sub(1) as u32;
    let Some(&ke) = a.key_exchange_ids.first() else {
        return;
    };
    if addke == 0 || !a.posture.is_pq() {
        return;
    }
    let overhead = overhead_of(a.selected.as_ref());
    let ke_len = KeMethod(ke).data_lengths().map_or(64, |(i, _)| i as u32);
    for cc in sa
        .of_exchange(CREATE_CHILD_SA)
        .filter(|o| !o.response && !sa.claimed_rekeys.contains(&o.message_id))
    {
        let plain = plain_estimate(std::slice::from_ref(cc), overhead);
        // Without KE a CHILD SA request holds ~120 octets (SA, Nonce, TSi, TSr); a KE adds 8 + data.
        let carries_ke = plain >= 120 + (ke_len + 8) / 2;
        if carries_ke && followup_rounds_after(sa, cc) < addke {
            f.add(
                "rekey_posture_drop",
                Severity::Medium,
                format!("A CREATE_CHILD_SA of this hybrid SA carried a {} key exchange (inferred from its {plain}-octet size) without IKE_FOLLOWUP_KE: that CHILD SA's PFS is classical only; enable the additional key exchanges for ESP rekeys too.", KeMethod(ke).short_name()),
                json!({"create_child_sa": pkt(cc), "plain_estimate": plain, "inferred": true}),
            );
        }
    }
}

fn hygiene_v2(
    a: &Assessment,
    view: &InitView<'_>,
    parent: Option<&ParentView>,
    f: &mut Findings<'_>,
) {
    // Negotiated: judge the selection. Only offered: judge everything offered.
    let sets: Vec<SelectedIds> = match (&a.selected, view.final_response) {
        (Some(s), Some(_)) => vec![s.ids.clone()],
        _ => view.offered().iter().map(|p| selected_v2(p).ids).collect(),
    };
    let scope = if view.final_response.is_some() {
        "negotiated"
    } else {
        "offered"
    };
    let mut weak = |code: &'static str, sev: Severity, label: String, advice: &str| {
        f.add(
            code,
            sev,
            format!("{label} {scope}: {advice}"),
            json!({"scope": scope, "algorithm": label}),
        );
    };
    for s in &sets {
        for m in
            s.ke.iter()
                .chain(s.addke.iter().map(|(_, m)| m))
                .filter(|m| is_weak_dh(**m))
        {
            weak(
                "weak_dh_group",
                Severity::High,
                format!("Weak key exchange {}", KeMethod(*m).short_name()),
                "move to ecp384/x25519 (RFC 8247) and add ML-KEM.",
            );
        }
        if let Some(e) = s.encr.filter(|e| is_weak_encr(*e)) {
            let n = ikescope_parsers::registry::EncrId(e).name().unwrap_or("?");
            weak(
                "weak_encryption",
                Severity::High,
                format!("Weak encryption {n}"),
                "use AES-GCM or ChaCha20-Poly1305.",
            );
        }
        if let Some(i) = s.integ.filter(|i| is_weak_integ(*i)) {
            let n = ikescope_parsers::registry::IntegId(i).name().unwrap_or("?");
            weak(
                "weak_integrity",
                Severity::Medium,
                format!("Weak integrity {n}"),
                "use SHA-256 or better, or an AEAD cipher.",
            );
        }
        if let Some(p) = s.prf.filter(|p| is_weak_prf(*p)) {
            let n = ikescope_parsers::registry::PrfId(p).name().unwrap_or("?");
            weak(
                "weak_prf",
                Severity::Medium,
                format!("Weak PRF {n}"),
                "use prfsha256 or better.",
            );
        }
        let aead = s
            .encr
            .is_some_and(|e| ikescope_parsers::registry::EncrId(e).is_aead());
        if s.encr.is_some() && !aead && s.integ.unwrap_or(0) == 0 {
            weak(
                "no_integrity",
                Severity::High,
                "A non-AEAD cipher without integrity protection".into(),
                "add an INTEG transform or use AES-GCM.",
            );
        }
    }
    // A rekey child of a PQ SA still chains its keys from the PQ parent (RFC 7296 §2.18).
    let pq_parent = parent.is_some_and(|p| p.posture.is_pq());
    if a.posture == Posture::Classical
        && matches!(a.state, SaState::Established | SaState::HalfOpen)
        && !pq_parent
    {
        f.add(
            "quantum_vulnerable_key_exchange",
            Severity::Info,
            format!("Key establishment is classical only ({}): traffic recorded today can be decrypted by a future quantum computer; plan ML-KEM (RFC 9370 ADDKE) or a PPK.", names(&a.key_exchange_ids)),
            json!({"key_exchanges": a.key_exchanges}),
        );
    }
}

fn hygiene_v1(sa: &IkeSa, a: &Assessment, f: &mut Findings<'_>) {
    f.add("ikev1_in_use", Severity::Medium, "IKEv1 is deprecated (RFC 9395) and has no post-quantum mechanism: migrate this tunnel to IKEv2.".into(), json!({"first_packet": a.first_packet.1}));
    if sa.messages.iter().any(|o| o.exchange == 4) {
        f.add("ikev1_aggressive_mode", Severity::High, "IKEv1 Aggressive Mode exposes the identity and, with PSK, an offline-crackable hash: disable it.".into(), json!({}));
    }
    let view = InitView::new(sa);
    let props: Vec<&ProposalSummary> = match sa
        .init_responses
        .iter()
        .find_map(|r| r.msg.proposals.first())
    {
        Some(p) => vec![p],
        None => view.offered().iter().collect(),
    };
    for p in props {
        if let Some(g) = v1_attr(p, 4).filter(|g| is_weak_dh(*g as u16)) {
            f.add(
                "weak_dh_group",
                Severity::High,
                format!(
                    "Weak Diffie-Hellman group {} in IKEv1: use group 14+ or 19+ (and IKEv2).",
                    KeMethod(g as u16).short_name()
                ),
                json!({"group": g}),
            );
        }
        if let Some(e) = v1_attr(p, 1).filter(|e| is_weak_v1_encr(*e)) {
            f.add("weak_encryption", Severity::High, format!("Weak IKEv1 encryption algorithm {e} (DES/3DES/IDEA/Blowfish/RC5/CAST): use AES."), json!({"encryption": e}));
        }
        if let Some(h) = v1_attr(p, 2).filter(|h| is_weak_v1_hash(*h)) {
            let n = match h {
                1 => "MD5",
                2 => "SHA-1",
                _ => "Tiger",
            };
            f.add(
                "weak_integrity",
                Severity::Medium,
                format!("IKEv1 hash {n} is used for integrity: use SHA-256 or better."),
                json!({"hash": h}),
            );
            f.add(
                "weak_prf",
                Severity::Medium,
                format!("IKEv1 hash {n} is used as PRF: use SHA-256 or better."),
                json!({"hash": h}),
            );
        }
    }
}

/// One SKF fragment set: (exchange, message ID, response, total), numbers seen, first fragment.
type SkfSet<'a> = ((u8, u32, bool, u16), Vec<u16>, &'a Obs);
/// One distinct request: (exchange, message ID, fragment, length), sends, first send, answered.
type Sends<'a> = ((u8, u32, Option<(u16, u16)>, u32), u32, &'a Obs, bool);

/// IP fragmentation of IKE_SA_INIT, SKF sets, large messages without IKE fragmentation.
fn fragmentation(sa: &IkeSa, a: &Assessment, f: &mut Findings<'_>) {
    if let Some(o) = sa
        .messages
        .iter()
        .find(|o| o.exchange == IKE_SA_INIT && o.ip_fragments > 1)
    {
        f.add(
            "ike_sa_init_ip_fragmented",
            Severity::Medium,
            format!("An IKE_SA_INIT of {} octets travelled in {} IP fragments (IKE fragmentation cannot apply to it): paths that drop fragments will fail; prefer ML-KEM as an ADDKE in IKE_INTERMEDIATE over a large KE in IKE_SA_INIT.", o.wire_size, o.ip_fragments),
            json!({"packet": pkt(o), "ip_fragments": o.ip_fragments, "size": o.wire_size}),
        );
    }
    let broken = |o: &Obs| o.skf.is_some_and(|(n, t)| n == 0 || t == 0 || n > t);
    let skf: Vec<&Obs> = sa.messages.iter().filter(|o| o.skf.is_some()).collect();
    if let Some(o) = skf.iter().find(|o| broken(o)) {
        f.add("skf_inconsistent", Severity::Medium, format!("An SKF fragment is numbered {:?} (number/total): broken RFC 7383 implementation or tampering.", o.skf), json!({"packet": pkt(o)}));
    }
    let mut sets: Vec<SkfSet<'_>> = Vec::new();
    for o in skf.iter().filter(|o| !broken(o)) {
        let (n, t) = o.skf.unwrap_or((0, 0));
        let key = (o.exchange, o.message_id, o.response, t);
        match sets.iter_mut().find(|s| s.0 == key) {
            Some(s) => s.1.push(n),
            None => sets.push((key, vec![n], o)),
        }
    }
    let complete =
        |s: &((u8, u32, bool, u16), Vec<u16>, &Obs)| (1..=s.0 .3).all(|n| s.1.contains(&n));
    for s in sets.iter().filter(|s| !complete(s)) {
        let other_complete = sets
            .iter()
            .any(|x| x.0 .0 == s.0 .0 && x.0 .1 == s.0 .1 && x.0 .2 == s.0 .2 && complete(x));
        if !other_complete {
            f.add("skf_incomplete", Severity::Medium, format!("IKE fragment set of message {} never completed ({} of {} fragments seen): fragments are lost on the path; lower the IKE fragment size (strongSwan charon.fragment_size).", s.0 .1, s.1.len(), s.0 .3), json!({"first_fragment": pkt(s.2), "seen": s.1, "total": s.0 .3}));
        }
    }
    if !a.fragmentation_supported {
        let limit = |o: &Obs| if o.src.is_ipv6() { 1280 } else { 1500 };
        if let Some(o) = sa.messages.iter().find(|o| {
            o.exchange != IKE_SA_INIT
                && o.encrypted_length.is_some()
                && (o.ip_fragments > 1 || o.wire_size > limit(o))
        }) {
            f.add(
                "fragmentation_unsupported_large_message",
                Severity::Medium,
                format!("A {}-octet encrypted message needed IP fragmentation while IKE fragmentation (RFC 7383) was not negotiated by both peers: enable fragmentation=yes on both gateways.", o.wire_size),
                json!({"packet": pkt(o), "size": o.wire_size, "ip_fragments": o.ip_fragments}),
            );
        }
    }
}

/// Retransmissions without answers, ICMP errors and lost fragments.
fn reachability(sa: &IkeSa, a: &Assessment, f: &mut Findings<'_>) {
    // Retransmissions are byte-identical: same exchange, message ID, fragment and length.
    let key = |o: &Obs| (o.exchange, o.message_id, o.skf, o.length);
    let mut sends: Vec<Sends<'_>> = Vec::new();
    for o in sa.messages.iter().filter(|o| !o.response) {
        match sends.iter_mut().find(|s| s.0 == key(o)) {
            Some(s) => s.1 += 1,
            None => sends.push((key(o), 1, o, false)),
        }
    }
    for s in &mut sends {
        s.3 = sa
            .messages
            .iter()
            .any(|o| o.response && o.exchange == s.0 .0 && o.message_id == s.0 .1);
    }
    let retransmits: u32 = sends.iter().map(|s| s.1 - 1).sum();
    if let Some(s) = sends.iter().find(|s| s.1 >= 5).or(if retransmits >= 10 {
        sends.iter().max_by_key(|s| s.1)
    } else {
        None
    }) {
        f.add("retransmission_storm", Severity::Medium, format!("{} retransmissions in this SA ({} sends of one request): the peer is unreachable or overloaded, or answers are lost; check reachability of {}.", retransmits, s.1, a.responder), json!({"request": pkt(s.2), "sends": s.1, "retransmissions": retransmits}));
    }
    let answered_small = sends.iter().any(|s| s.3 && s.2.wire_size <= 1280);
    let ptb: Vec<_> = sa
        .net_events
        .iter()
        .filter(|e| matches!(e.kind, NetEventKind::PacketTooBig { .. }))
        .collect();
    let blackholed = sends
        .iter()
        .find(|s| !s.3 && s.1 >= 2 && (s.2.wire_size > 1280 || s.2.ip_fragments > 1));
    if let Some(s) = blackholed.filter(|_| answered_small) {
        f.add("mtu_blackhole_suspected", Severity::High, format!("A {}-octet request was sent {} times without an answer while smaller messages of the same peers got through: the path likely drops large packets or fragments; check the path MTU and enable IKE fragmentation.", s.2.wire_size, s.1), json!({"request": pkt(s.2), "sends": s.1, "size": s.2.wire_size}));
    } else if let Some(e) = ptb.first() {
        f.add("mtu_blackhole_suspected", Severity::High, "A router reported that IKE packets of these peers are too big for the path: large messages (ML-KEM key shares, certificates) will be dropped; enable IKE fragmentation and check the MTU.".into(), json!({"icmp_packet": e.pcap_cnt}));
    }
    for e in &sa.net_events {
        match e.kind {
            NetEventKind::PacketTooBig { mtu, quoted_len } => f.add("icmp_frag_needed", Severity::Medium, format!("ICMP says an IKE packet ({} octets) exceeds a {mtu}-octet link on the path: IKE messages above that size need IKE fragmentation.", quoted_len.map_or("?".into(), |l| l.to_string())), json!({"icmp_packet": e.pcap_cnt, "input": e.input, "mtu": mtu, "quoted_length": quoted_len})),
            NetEventKind::PortUnreachable => f.add("icmp_unreachable", Severity::Low, "ICMP port unreachable for IKE: the peer's IKE daemon was not listening (restart or crash?); check the gateway.".into(), json!({"icmp_packet": e.pcap_cnt, "input": e.input})),
            NetEventKind::FragmentLoss { fragments_seen } => f.add("ip_fragment_loss", Severity::Medium, format!("An IKE datagram of these peers arrived in IP fragments that never all came ({fragments_seen} seen): a middlebox drops fragments; use IKE fragmentation or a smaller KE in IKE_SA_INIT."), json!({"last_fragment": e.pcap_cnt, "input": e.input, "fragments_seen": fragments_seen})),
        }
    }
}

/// Operational signals: COOKIE, half-open SAs, TCP encapsulation.
fn operations(sa: &IkeSa, a: &Assessment, f: &mut Findings<'_>) {
    if let Some(r) = sa
        .init_responses
        .iter()
        .find(|r| has_notify(&r.msg, NotifyType::COOKIE.0))
    {
        f.add("cookie_challenge", Severity::Info, format!("{} answered with a COOKIE challenge (RFC 7296 §2.6): it is under load or has many half-open SAs.", r.obs.src.ip()), json!({"packet": pkt(&r.obs)}));
    }
    if a.state == SaState::HalfOpen
        && sa.version == 2
        && !sa
            .messages
            .iter()
            .any(|o| matches!(o.exchange, IKE_AUTH | IKE_INTERMEDIATE))
    {
        f.add("half_open_sa", Severity::Low, "IKE_SA_INIT was answered but the initiator never authenticated: a scan, a crashed client or an IKE_SA_INIT flood.".into(), json!({"first_packet": a.first_packet.1}));
    }
    if let Some(o) = sa.messages.iter().find(|o| o.transport == "tcp") {
        f.add(
            "tcp_encapsulation",
            Severity::Info,
            "IKE runs over TCP (RFC 9329): UDP 500/4500 is probably blocked on this path.".into(),
            json!({"packet": pkt(o)}),
        );
    }
}
