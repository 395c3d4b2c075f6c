//! Classification of one IKE SA from what the wire showed (spec §2): key exchanges in slot
//! order, posture, evidence level with its reasons, SA state.

use super::algos::{proposal_string, sk_overhead};
use super::model::{Evidence, Finding, Posture, SaState};
use crate::ike::{MessageSummary, NotifySummary, ProposalSummary};
use crate::track::{IkeSa, InitMessage, Obs};
use ikescope_parsers::registry::{KeClass, KeMethod, NotifyType};
use serde::Serialize;
use std::net::SocketAddr;

pub const IKE_SA_INIT: u8 = 34;
pub const IKE_AUTH: u8 = 35;
pub const CREATE_CHILD_SA: u8 = 36;
pub const IKE_INTERMEDIATE: u8 = 43;
pub const IKE_FOLLOWUP_KE: u8 = 44;

/// The responder's selected transforms.
#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
pub struct Selected {
    pub encr: Option<String>,
    pub prf: Option<String>,
    pub integ: Option<String>,
    pub ke: Option<String>,
    pub addke: Vec<String>,
    #[serde(skip)]
    pub ids: SelectedIds,
}

/// Raw IDs of the selected transforms (for rules).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SelectedIds {
    pub encr: Option<u16>,
    pub prf: Option<u16>,
    pub integ: Option<u16>,
    pub ke: Option<u16>,
    /// (slot 1-7, method) including NONE.
    pub addke: Vec<(u8, u16)>,
    /// IKEv1: hash attribute.
    pub v1_hash: Option<u64>,
    pub v1_auth: Option<u64>,
}

/// What one side announced in IKE_SA_INIT: the passive capability fingerprint.
#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
pub struct Capabilities {
    pub intermediate: bool,
    pub addke: bool,
    pub mlkem: Vec<String>,
    pub ppk: bool,
    pub ppk_int: bool,
    pub fragmentation: bool,
    pub signature_hashes: Vec<u16>,
    pub vendors: Vec<String>,
}

/// Everything ikescope concludes about one IKE SA.
#[derive(Clone, Debug, Serialize)]
pub struct Assessment {
    #[serde(skip)]
    pub sa_id: u64,
    pub version: u8,
    pub spi_i: String,
    pub spi_r: String,
    pub initiator: String,
    pub responder: String,
    #[serde(skip)]
    pub initiator_addr: Option<SocketAddr>,
    #[serde(skip)]
    pub responder_addr: Option<SocketAddr>,
    pub transport: &'static str,
    pub nat_detected: bool,
    pub state: SaState,
    pub posture: Posture,
    pub evidence: Evidence,
    pub evidence_detail: Vec<String>,
    pub key_exchanges: Vec<String>,
    pub key_exchange_ids: Vec<u16>,
    pub proposals_offered: Vec<String>,
    pub selected: Option<Selected>,
    pub ppk: bool,
    pub intermediate_rounds: u32,
    pub followup_ke_rounds: u32,
    pub fragmentation_supported: bool,
    pub vendor_ids: Vec<String>,
    pub rekeyed_from: Option<String>,
    pub messages: u64,
    pub bytes: u64,
    pub started: i64,
    pub ended: i64,
    pub failure_reason: Option<String>,
    #[serde(skip)]
    pub initiator_caps: Capabilities,
    #[serde(skip)]
    pub responder_caps: Capabilities,
    #[serde(skip)]
    pub findings: Vec<Finding>,
    /// (input index, packet number) of the first message, for ordering and evidence.
    #[serde(skip)]
    pub first_packet: (u32, u64),
}

/// An IKE_SA_INIT response kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InitAnswer {
    Selected,
    Cookie,
    InvalidKe(u16),
    Error(u16),
    Other,
}

pub fn init_answer(m: &MessageSummary) -> InitAnswer {
    if !m.proposals.is_empty() {
        return InitAnswer::Selected;
    }
    for n in &m.notify {
        match n.ntype {
            16390 => return InitAnswer::Cookie,
            17 => return InitAnswer::InvalidKe(n.requested_method.unwrap_or(0)),
            t if (1..16384).contains(&t) => return InitAnswer::Error(t),
            _ => {}
        }
    }
    InitAnswer::Other
}

pub fn has_notify(m: &MessageSummary, t: u16) -> bool {
    m.notify.iter().any(|n| n.ntype == t)
}

fn order(o: &Obs) -> (u32, u64) {
    (o.input, o.pcap_cnt)
}

/// The negotiation as seen in IKE_SA_INIT: first request, final request, selected response.
pub struct InitView<'a> {
    pub requests: &'a [InitMessage],
    pub responses: &'a [InitMessage],
    pub final_response: Option<&'a InitMessage>,
    pub final_request: Option<&'a InitMessage>,
}

impl<'a> InitView<'a> {
    pub fn new(sa: &'a IkeSa) -> Self {
        let final_response = sa
            .init_responses
            .iter()
            .rev()
            .find(|r| init_answer(&r.msg) == InitAnswer::Selected);
        let final_request = match final_response {
            Some(resp) => sa
                .init_requests
                .iter()
                .rev()
                .find(|q| order(&q.obs) < order(&resp.obs)),
            None => sa.init_requests.last(),
        };
        InitView {
            requests: &sa.init_requests,
            responses: &sa.init_responses,
            final_response,
            final_request,
        }
    }

    pub fn offered(&self) -> &'a [ProposalSummary] {
        self.final_request.map_or(&[], |r| &r.msg.proposals)
    }
}

fn name(id: u16) -> String {
    KeMethod(id).short_name()
}

/// Selected transforms of an IKEv2 proposal.
pub fn selected_v2(p: &ProposalSummary) -> Selected {
    let mut ids = SelectedIds::default();
    for t in &p.transforms {
        match t.ttype {
            1 => ids.encr = Some(t.id),
            2 => ids.prf = Some(t.id),
            3 => ids.integ = Some(t.id),
            4 => ids.ke = Some(t.id),
            6..=12 => ids.addke.push((t.ttype - 5, t.id)),
            _ => {}
        }
    }
    ids.addke.sort();
    let single = ProposalSummary {
        number: p.number,
        protocol: p.protocol,
        spi: String::new(),
        transforms: Vec::new(),
    };
    let part = |ttype: u8| -> Option<String> {
        let ts: Vec<_> = p
            .transforms
            .iter()
            .filter(|t| t.ttype == ttype)
            .cloned()
            .collect();
        (!ts.is_empty()).then(|| {
            proposal_string(&ProposalSummary {
                transforms: ts,
                ..single.clone()
            })
        })
    };
    Selected {
        encr: part(1),
        prf: part(2),
        integ: part(3),
        ke: ids.ke.map(name),
        addke: ids.addke.iter().map(|(_, m)| name(*m)).collect(),
        ids,
    }
}

/// Key exchanges in slot order, NONE dropped.
pub fn key_exchanges(ids: &SelectedIds) -> Vec<u16> {
    ids.ke
        .into_iter()
        .chain(ids.addke.iter().map(|(_, m)| *m))
        .filter(|m| *m != 0)
        .collect()
}

/// Posture of a set of key exchanges plus PPK.
pub fn posture_of(kes: &[u16], ppk: bool) -> Posture {
    let pq = kes.iter().any(|m| KeMethod(*m).is_post_quantum());
    let classical = kes
        .iter()
        .any(|m| matches!(KeMethod(*m).class(), KeClass::Classical | KeClass::Unknown));
    match (pq, classical, ppk) {
        (true, true, false) => Posture::Hybrid,
        (true, true, true) => Posture::HybridPpk,
        (true, false, _) => Posture::PqOnly,
        (false, _, true) => Posture::Ppk,
        (false, _, false) => Posture::Classical,
    }
}

/// Complete exchanges (request and response seen) of a type, by message ID, in order, with the
/// plain-size estimates of both directions (SKF fragments summed).
pub struct Round {
    pub message_id: u32,
    pub request: Vec<Obs>,
    pub response: Vec<Obs>,
}

impl Round {
    pub fn complete(&self) -> bool {
        !self.request.is_empty() && !self.response.is_empty()
    }
}

pub fn rounds(sa: &IkeSa, exchange: u8) -> Vec<Round> {
    let mut out: Vec<Round> = Vec::new();
    for o in sa.of_exchange(exchange) {
        let idx = match out.iter().position(|r| r.message_id == o.message_id) {
            Some(i) => i,
            None => {
                out.push(Round {
                    message_id: o.message_id,
                    request: Vec::new(),
                    response: Vec::new(),
                });
                out.len() - 1
            }
        };
        let r = &mut out[idx];
        if o.response {
            r.response.push(o.clone())
        } else {
            r.request.push(o.clone())
        }
    }
    out
}

/// Upper estimate of the plain octets inside one direction of an exchange: per distinct SKF
/// fragment (or the single SK message) the encrypted length minus IV, ICV and pad-length octet.
pub fn plain_estimate(msgs: &[Obs], overhead: (u32, u32, u32)) -> u32 {
    let (iv, icv, _) = overhead;
    let mut seen: Vec<(u16, u16)> = Vec::new();
    let mut total = 0;
    for o in msgs {
        let key = o.skf.unwrap_or((0, 0));
        if seen.contains(&key) {
            continue; // retransmission
        }
        seen.push(key);
        let enc = o.encrypted_length.unwrap_or(0);
        // `encrypted_length` already excludes the SKF number/total octets.
        total += enc.saturating_sub(iv + icv + 1);
    }
    total
}

/// Does an exchange's size fit a key exchange of `method`? The KE payload takes 8 + data
/// octets; notifies (PPK_IDENTITY_KEY, ADDITIONAL_KEY_EXCHANGE) and padding may add some.
pub fn size_fits(method: u16, req_plain: u32, resp_plain: u32, block: u32) -> Option<bool> {
    let (i, r) = KeMethod(method).data_lengths()?;
    let fits = |plain: u32, data: usize| {
        let min = data as u32 + 8;
        plain + block >= min && plain <= min + 256 + block
    };
    Some(fits(req_plain, i) && fits(resp_plain, r))
}

pub fn capabilities(m: &MessageSummary) -> Capabilities {
    let notif = |t: u16| m.notify.iter().any(|n: &NotifySummary| n.ntype == t);
    let mut mlkem: Vec<String> = m
        .proposals
        .iter()
        .flat_map(|p| p.transforms.iter())
        .filter(|t| (t.ttype == 4 || (6..=12).contains(&t.ttype)) && (35..=37).contains(&t.id))
        .map(|t| name(t.id))
        .collect();
    mlkem.sort();
    mlkem.dedup();
    Capabilities {
        intermediate: notif(NotifyType::INTERMEDIATE_EXCHANGE_SUPPORTED.0),
        addke: m
            .proposals
            .iter()
            .flat_map(|p| p.transforms.iter())
            .any(|t| (6..=12).contains(&t.ttype)),
        mlkem,
        ppk: notif(NotifyType::USE_PPK.0),
        ppk_int: notif(NotifyType::USE_PPK_INT.0),
        fragmentation: notif(NotifyType::IKEV2_FRAGMENTATION_SUPPORTED.0),
        signature_hashes: m
            .notify
            .iter()
            .filter_map(|n| n.hash_algorithms.clone())
            .flatten()
            .collect(),
        vendors: m
            .vendor_ids
            .iter()
            .filter_map(|v| {
                let bytes: Vec<u8> = (0..v.len() / 2)
                    .filter_map(|i| u8::from_str_radix(v.get(2 * i..2 * i + 2)?, 16).ok())
                    .collect();
                ikescope_parsers::registry::vendor_name(&bytes)
                    .map(|x| format!("{} ({})", x.vendor, x.meaning))
            })
            .collect(),
    }
}

/// Does the IKE_AUTH response look like an error notify alone? A successful response carries at
/// least IDr and AUTH (and usually SA/TS): well over 40 octets of plain payloads; an
/// AUTHENTICATION_FAILED answer is an 8-octet notify.
pub fn auth_response_is_error(sa: &IkeSa, overhead: (u32, u32, u32)) -> Option<bool> {
    let auth = rounds(sa, IKE_AUTH)
        .into_iter()
        .rev()
        .find(Round::complete)?;
    let plain = plain_estimate(&auth.response, overhead);
    Some(plain < 40)
}

pub fn overhead_of(sel: Option<&Selected>) -> (u32, u32, u32) {
    sk_overhead(sel.and_then(|s| s.ids.encr), sel.and_then(|s| s.ids.integ))
}
