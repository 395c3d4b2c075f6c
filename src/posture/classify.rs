//! Builds the [`Assessment`] of an IKE SA (spec §2). Findings are added by `rules`.

use super::assess::*;
use super::model::{Evidence, Posture, SaState};
use crate::ike::MessageSummary;
use crate::track::IkeSa;
use ikescope_parsers::registry::KeMethod;

/// What a rekeyed SA inherits from its parent's assessment.
#[derive(Clone, Debug)]
pub struct ParentView {
    pub posture: Posture,
    pub key_exchange_ids: Vec<u16>,
    pub ppk: bool,
    pub selected: Option<Selected>,
    pub spi: String,
}

fn hex(v: u64) -> String {
    format!("{v:016x}")
}

fn base(sa: &IkeSa) -> Assessment {
    let transport = sa
        .messages
        .iter()
        .rev()
        .map(|o| o.transport)
        .next()
        .unwrap_or("udp500");
    Assessment {
        sa_id: sa.id,
        version: sa.version,
        spi_i: hex(sa.spi_i),
        spi_r: hex(sa.spi_r),
        initiator: sa.initiator.to_string(),
        responder: sa.responder.to_string(),
        initiator_addr: Some(sa.initiator),
        responder_addr: Some(sa.responder),
        transport,
        nat_detected: sa.messages.iter().any(|o| o.transport == "udp4500"),
        state: SaState::Unknown,
        posture: Posture::Unknown,
        evidence: Evidence::Offered,
        evidence_detail: Vec::new(),
        key_exchanges: Vec::new(),
        key_exchange_ids: Vec::new(),
        proposals_offered: Vec::new(),
        selected: None,
        ppk: false,
        intermediate_rounds: 0,
        followup_ke_rounds: 0,
        fragmentation_supported: false,
        vendor_ids: Vec::new(),
        rekeyed_from: None,
        messages: sa.message_count,
        bytes: sa.bytes,
        started: sa.first_ts,
        ended: sa.last_ts,
        failure_reason: None,
        initiator_caps: Default::default(),
        responder_caps: Default::default(),
        findings: Vec::new(),
        first_packet: sa
            .messages
            .first()
            .map_or((sa.input, 0), |o| (o.input, o.pcap_cnt)),
    }
}

fn set_kes(a: &mut Assessment, ids: Vec<u16>) {
    a.key_exchanges = ids.iter().map(|m| KeMethod(*m).short_name()).collect();
    a.key_exchange_ids = ids;
}

/// Classifies an IKE SA. `parent` is the assessment of the SA it was rekeyed from, if any.
pub fn classify(sa: &IkeSa, parent: Option<&ParentView>) -> Assessment {
    let mut a = base(sa);
    if sa.version == 1 {
        classify_v1(sa, &mut a);
    } else if sa.init_requests.is_empty() && sa.init_responses.is_empty() {
        classify_without_init(sa, parent, &mut a);
    } else {
        classify_v2(sa, &mut a);
    }
    a
}

/// An SA whose IKE_SA_INIT was not seen: a rekey child (posture inferred from the parent and
/// the IKE_FOLLOWUP_KE rounds of its CREATE_CHILD_SA) or a capture that began mid-SA.
fn classify_without_init(sa: &IkeSa, parent: Option<&ParentView>, a: &mut Assessment) {
    a.state = SaState::Unknown;
    let (Some(link), Some(p)) = (&sa.rekeyed_from, parent) else {
        let why = if sa.placeholder {
            "no IKE message of these peers arrived whole: only network errors about them were seen"
        } else {
            "capture started after this IKE SA was set up: its key exchange was not seen"
        };
        a.evidence_detail.push(why.into());
        return;
    };
    a.state = SaState::Established;
    a.rekeyed_from = Some(format!(
        "{}/{}",
        hex(link.parent_spi_i),
        hex(link.parent_spi_r)
    ));
    a.followup_ke_rounds = link.followup_rounds;
    let mut kes: Vec<u16> = p.key_exchange_ids.iter().take(1).copied().collect();
    kes.extend(
        p.key_exchange_ids
            .iter()
            .skip(1)
            .take(link.followup_rounds as usize),
    );
    a.selected = p.selected.clone();
    a.ppk = p.ppk;
    set_kes(a, kes);
    a.posture = if p.posture == Posture::Failed {
        Posture::Unknown
    } else {
        posture_of(&a.key_exchange_ids, a.ppk)
    };
    a.evidence = Evidence::Negotiated;
    a.evidence_detail.push(format!(
        "inferred: IKE SA rekey of {} (CREATE_CHILD_SA message {}) followed by {} IKE_FOLLOWUP_KE round(s); the rekey's proposal is encrypted",
        a.rekeyed_from.as_deref().unwrap_or("?"),
        link.create_child_mid,
        link.followup_rounds
    ));
}

fn classify_v2(sa: &IkeSa, a: &mut Assessment) {
    let view = InitView::new(sa);
    a.proposals_offered = view
        .offered()
        .iter()
        .map(super::algos::proposal_string)
        .collect();
    if let Some(r) = view.final_request {
        a.initiator_caps = capabilities(&r.msg);
        a.vendor_ids.extend(r.msg.vendor_ids.iter().cloned());
    }
    if let Some(r) = view.final_response.or(view.responses.last()) {
        a.responder_caps = capabilities(&r.msg);
        a.vendor_ids.extend(r.msg.vendor_ids.iter().cloned());
    }
    a.fragmentation_supported = a.initiator_caps.fragmentation && a.responder_caps.fragmentation;
    let Some(resp) = view.final_response else {
        unanswered(sa, &view, a);
        return;
    };
    let Some(prop) = resp.msg.proposals.first() else {
        return;
    };
    let sel = selected_v2(prop);
    set_kes(a, key_exchanges(&sel.ids));
    let req = view.final_request.map(|r| &r.msg);
    a.ppk = req.is_some_and(wants_ppk) && wants_ppk(&resp.msg);
    a.selected = Some(sel);
    a.posture = posture_of(&a.key_exchange_ids, a.ppk);
    a.evidence = Evidence::Negotiated;
    a.evidence_detail.push(format!(
        "selected proposal in the IKE_SA_INIT response (packet {})",
        resp.obs.pcap_cnt
    ));
    let overhead = overhead_of(a.selected.as_ref());
    a.intermediate_rounds = rounds(sa, IKE_INTERMEDIATE)
        .iter()
        .filter(|r| r.complete())
        .count() as u32;
    a.followup_ke_rounds = rounds(sa, IKE_FOLLOWUP_KE)
        .iter()
        .filter(|r| r.complete())
        .count() as u32;
    establishment(sa, a, overhead);
    if a.state == SaState::Established {
        confirm(sa, a, overhead);
    }
    if a.ppk {
        // A PPK's only key material is mixed inside the encrypted IKE_AUTH: a PPK-only SA can
        // never be more than negotiated. With ML-KEM exchanges confirmed, the SA keeps
        // "confirmed" for them and says what stays invisible.
        if a.posture == Posture::Ppk {
            a.evidence = a.evidence.min(Evidence::Negotiated);
        }
        a.evidence_detail.push("PPK negotiated (USE_PPK both ways); whether IKE_AUTH used it or fell back to NO_PPK_AUTH is encrypted".into());
    }
}

/// A failed SA established no keys: its key exchanges move to the evidence as "attempted".
fn clear_failed(a: &mut Assessment) {
    if !a.key_exchanges.is_empty() {
        a.evidence_detail.push(format!(
            "attempted key exchanges: {}",
            a.key_exchanges.join("+")
        ));
    }
    a.key_exchanges.clear();
    a.key_exchange_ids.clear();
}

fn wants_ppk(m: &MessageSummary) -> bool {
    has_notify(m, 16435) || has_notify(m, 16445)
}

/// No IKE_SA_INIT response with a selected proposal.
fn unanswered(sa: &IkeSa, view: &InitView<'_>, a: &mut Assessment) {
    let offered = view.offered();
    if let Some(first) = offered.first() {
        let ids = selected_v2(first).ids;
        set_kes(a, key_exchanges(&ids));
        a.posture = posture_of(
            &a.key_exchange_ids,
            view.final_request.is_some_and(|r| wants_ppk(&r.msg)),
        );
    }
    let last_answer = view.responses.last().map(|r| init_answer(&r.msg));
    let answered_after_last_request = match (view.responses.last(), view.requests.last()) {
        (Some(r), Some(q)) => (r.obs.input, r.obs.pcap_cnt) > (q.obs.input, q.obs.pcap_cnt),
        (Some(_), None) => true,
        _ => false,
    };
    a.state = SaState::Offered;
    let reason = match last_answer {
        Some(InitAnswer::Error(t)) if answered_after_last_request => {
            let n = ikescope_parsers::registry::NotifyType(t)
                .name()
                .unwrap_or("error");
            Some(format!("{n} in the IKE_SA_INIT response"))
        }
        Some(InitAnswer::Cookie | InitAnswer::InvalidKe(_)) if answered_after_last_request => Some(
            "the responder asked for a retry (COOKIE / INVALID_KE_PAYLOAD) and none followed"
                .to_string(),
        ),
        _ if sa.init_request_count >= 2 => Some(format!(
            "no response to {} IKE_SA_INIT requests",
            sa.init_request_count
        )),
        _ => None,
    };
    match reason {
        Some(r) => {
            a.state = SaState::Failed;
            a.posture = Posture::Failed;
            a.failure_reason = Some(r);
            a.evidence = Evidence::Negotiated;
            clear_failed(a);
        }
        None => a
            .evidence_detail
            .push("only the initiator's IKE_SA_INIT request was seen".into()),
    }
}

/// A setup request (IKE_INTERMEDIATE / IKE_AUTH) sent at least twice and never answered.
fn unanswered_setup(sa: &IkeSa) -> Option<(u8, usize)> {
    [IKE_INTERMEDIATE, IKE_AUTH].into_iter().find_map(|ex| {
        rounds(sa, ex)
            .into_iter()
            .find(|r| r.response.is_empty() && r.request.len() >= 2)
            .map(|r| (ex, r.request.len()))
    })
}

/// Decides established / failed / half-open from IKE_AUTH.
fn establishment(sa: &IkeSa, a: &mut Assessment, overhead: (u32, u32, u32)) {
    let later = sa
        .messages
        .iter()
        .any(|o| matches!(o.exchange, 36 | 37 | 44));
    match auth_response_is_error(sa, overhead) {
        Some(false) => a.state = SaState::Established,
        Some(true) if !later => {
            a.state = SaState::Failed;
            a.posture = Posture::Failed;
            a.failure_reason = Some("IKE_AUTH answered by an encrypted message too small to hold IDr and AUTH (an error notify such as AUTHENTICATION_FAILED)".into());
            clear_failed(a);
        }
        Some(true) => a.state = SaState::Established,
        None if later => a.state = SaState::Established,
        None => match unanswered_setup(sa) {
            Some((ex, sends)) => {
                a.state = SaState::Failed;
                a.posture = Posture::Failed;
                let name = if ex == IKE_AUTH {
                    "IKE_AUTH"
                } else {
                    "IKE_INTERMEDIATE"
                };
                a.failure_reason = Some(format!(
                    "{name} request sent {sends} times without any response"
                ));
                clear_failed(a);
            }
            None => a.state = SaState::HalfOpen,
        },
    }
}

/// Confirmed: one IKE_INTERMEDIATE round per selected ADDKE, each with sizes that fit its
/// method, and IKE_AUTH completed. For a KE in IKE_SA_INIT the data is in the clear.
fn confirm(sa: &IkeSa, a: &mut Assessment, overhead: (u32, u32, u32)) {
    let Some(sel) = a.selected.clone() else {
        return;
    };
    let fake = sa
        .init_requests
        .iter()
        .flat_map(|r| &r.msg.ke)
        .any(|k| k.fips203_valid == Some(false));
    if fake {
        a.evidence_detail.push("an ML-KEM encapsulation key failed the FIPS 203 checks: the post-quantum exchange cannot be confirmed".into());
        return;
    }
    let addke: Vec<u16> = sel
        .ids
        .addke
        .iter()
        .map(|(_, m)| *m)
        .filter(|m| *m != 0)
        .collect();
    let mut inter: Vec<Round> = rounds(sa, IKE_INTERMEDIATE)
        .into_iter()
        .filter(Round::complete)
        .collect();
    inter.sort_by_key(|r| r.message_id);
    if inter.len() < addke.len() {
        a.evidence_detail.push(format!(
            "{} IKE_INTERMEDIATE round(s) seen for {} additional key exchange(s)",
            inter.len(),
            addke.len()
        ));
        return;
    }
    for (i, (m, r)) in addke.iter().zip(&inter).enumerate() {
        let req = plain_estimate(&r.request, overhead);
        let resp = plain_estimate(&r.response, overhead);
        match size_fits(*m, req, resp, overhead.2) {
            Some(false) => {
                a.evidence_detail.push(format!(
                    "IKE_INTERMEDIATE #{} (message {}) sizes {}/{} do not fit {}",
                    i + 1,
                    r.message_id,
                    req,
                    resp,
                    KeMethod(*m).short_name()
                ));
                return;
            }
            Some(true) => a.evidence_detail.push(format!(
                "IKE_INTERMEDIATE #{} (message {}) carried ~{}/{} octets: fits {}",
                i + 1,
                r.message_id,
                req,
                resp,
                KeMethod(*m).short_name()
            )),
            None => a.evidence_detail.push(format!(
                "IKE_INTERMEDIATE #{} present; {} has no known size",
                i + 1,
                KeMethod(*m).short_name()
            )),
        }
    }
    a.evidence = Evidence::Confirmed;
    a.evidence_detail.push("IKE_AUTH completed".into());
}

/// IKEv1: Main or Aggressive Mode; the group is an SA attribute.
fn classify_v1(sa: &IkeSa, a: &mut Assessment) {
    let view = InitView::new(sa);
    a.proposals_offered = view.offered().iter().map(v1_proposal_string).collect();
    let selected = sa
        .init_responses
        .iter()
        .find_map(|r| r.msg.proposals.first().cloned());
    let group_of = |p: &crate::ike::ProposalSummary| v1_attr(p, 4);
    if let Some(p) = selected.as_ref().or(view.offered().first()) {
        if let Some(g) = group_of(p) {
            set_kes(a, vec![g as u16]);
        }
        let mut ids = SelectedIds {
            encr: v1_attr(p, 1).map(|v| v as u16),
            ..Default::default()
        };
        ids.v1_hash = v1_attr(p, 2);
        ids.v1_auth = v1_attr(p, 3);
        ids.ke = v1_attr(p, 4).map(|v| v as u16);
        let v1s = v1_proposal_string(p);
        let mut parts = v1s
            .split(',')
            .next()
            .unwrap_or_default()
            .split('-')
            .map(str::to_string);
        let (encr, hash) = (parts.next(), parts.next());
        a.selected = Some(Selected {
            ke: ids.ke.map(|k| KeMethod(k).short_name()),
            prf: hash.as_ref().map(|h| format!("prf{h}")),
            integ: hash,
            encr,
            ids,
            ..Default::default()
        });
    }
    let errors: Vec<u16> = sa
        .messages
        .iter()
        .filter(|o| !o.from_initiator)
        .flat_map(|o| o.error_notifies.clone())
        .collect();
    let phase1_done = sa.messages.iter().any(|o| o.exchange == 32)
        || sa
            .messages
            .iter()
            .filter(|o| o.message_id == 0 && matches!(o.exchange, 2 | 4))
            .count()
            >= if sa.messages.iter().any(|o| o.exchange == 4) {
                3
            } else {
                5
            };
    if selected.is_some() {
        a.evidence = Evidence::Negotiated;
    }
    if let Some(e) = errors.first().filter(|_| !phase1_done) {
        a.state = SaState::Failed;
        a.posture = Posture::Failed;
        a.failure_reason = Some(format!(
            "{} notify from the responder",
            ikescope_parsers::registry::NotifyType(*e)
                .name()
                .unwrap_or("error")
        ));
        a.evidence = Evidence::Negotiated;
        clear_failed(a);
        return;
    }
    if phase1_done {
        a.state = SaState::Established;
        a.posture = Posture::LegacyIkev1;
        a.evidence = Evidence::Confirmed;
        a.evidence_detail.push(
            "IKEv1 phase 1 completed (encrypted Main Mode 5/6, Aggressive 3 or Quick Mode seen)"
                .into(),
        );
    } else if selected.is_some() {
        a.state = SaState::HalfOpen;
        a.posture = Posture::LegacyIkev1;
    } else if sa.init_request_count >= 2 {
        a.state = SaState::Failed;
        a.posture = Posture::Failed;
        a.failure_reason = Some(format!(
            "no response to {} IKEv1 requests",
            sa.init_request_count
        ));
        clear_failed(a);
    } else {
        a.state = SaState::Offered;
        a.posture = Posture::LegacyIkev1;
        a.evidence_detail
            .push("only the initiator's first IKEv1 message was seen".into());
    }
}

/// Value of an IKEv1 phase 1 attribute in the first transform of a proposal.
pub fn v1_attr(p: &crate::ike::ProposalSummary, atype: u16) -> Option<u64> {
    p.transforms
        .first()?
        .attributes
        .as_ref()?
        .iter()
        .find(|x| x.atype == atype)?
        .value
}

fn v1_proposal_string(p: &crate::ike::ProposalSummary) -> String {
    p.transforms
        .iter()
        .map(|t| {
            let attrs = t.attributes.as_deref().unwrap_or_default();
            let get = |k: u16| attrs.iter().find(|x| x.atype == k).and_then(|x| x.value);
            let encr = match get(1) {
                Some(1) => "des".to_string(),
                Some(5) => "3des".to_string(),
                Some(7) => format!("aes{}", get(14).unwrap_or(128)),
                Some(v) => format!("encr{v}"),
                None => "encr?".to_string(),
            };
            let hash = match get(2) {
                Some(1) => "md5",
                Some(2) => "sha1",
                Some(4) => "sha256",
                Some(5) => "sha384",
                Some(6) => "sha512",
                _ => "hash?",
            };
            let group =
                get(4).map_or_else(|| "group?".to_string(), |g| KeMethod(g as u16).short_name());
            format!("{encr}-{hash}-{group}")
        })
        .collect::<Vec<_>>()
        .join(",")
}
