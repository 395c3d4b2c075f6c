//! `ike_sa` and `ike_finding` event bodies (spec §5), built from assessments.

use crate::posture::{Assessment, Finding, Selected};
use crate::track::CloseReason;
use serde::Serialize;

#[derive(Serialize)]
pub struct IkeSaEvent<'a> {
    pub version: u8,
    pub spi_i: &'a str,
    pub spi_r: &'a str,
    pub initiator: &'a str,
    pub responder: &'a str,
    pub transport: &'static str,
    pub nat_detected: bool,
    pub state: crate::posture::SaState,
    pub closed: &'static str,
    pub posture: &'static str,
    pub evidence: &'static str,
    pub evidence_detail: &'a [String],
    pub key_exchanges: &'a [String],
    pub key_exchange_ids: &'a [u16],
    pub proposals_offered: &'a [String],
    pub selected: Option<&'a Selected>,
    pub ppk: bool,
    pub intermediate_rounds: u32,
    pub followup_ke_rounds: u32,
    pub fragmentation_supported: bool,
    pub vendor_ids: &'a [String],
    pub rekeyed_from: Option<&'a str>,
    pub messages: u64,
    pub bytes: u64,
    pub started: String,
    pub ended: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure_reason: Option<&'a str>,
    pub findings: Vec<&'static str>,
}

#[derive(Serialize)]
pub struct IkeSaBody<'a> {
    pub ike_sa: IkeSaEvent<'a>,
}

impl<'a> IkeSaBody<'a> {
    pub fn new(a: &'a Assessment, reason: CloseReason) -> Self {
        IkeSaBody {
            ike_sa: IkeSaEvent {
                version: a.version,
                spi_i: &a.spi_i,
                spi_r: &a.spi_r,
                initiator: &a.initiator,
                responder: &a.responder,
                transport: a.transport,
                nat_detected: a.nat_detected,
                state: a.state,
                closed: reason.as_str(),
                posture: a.posture.as_str(),
                evidence: a.evidence.as_str(),
                evidence_detail: &a.evidence_detail,
                key_exchanges: &a.key_exchanges,
                key_exchange_ids: &a.key_exchange_ids,
                proposals_offered: &a.proposals_offered,
                selected: a.selected.as_ref(),
                ppk: a.ppk,
                intermediate_rounds: a.intermediate_rounds,
                followup_ke_rounds: a.followup_ke_rounds,
                fragmentation_supported: a.fragmentation_supported,
                vendor_ids: &a.vendor_ids,
                rekeyed_from: a.rekeyed_from.as_deref(),
                messages: a.messages,
                bytes: a.bytes,
                started: super::rfc3339_us(a.started),
                ended: super::rfc3339_us(a.ended),
                failure_reason: a.failure_reason.as_deref(),
                findings: a.findings.iter().map(|f| f.code).collect(),
            },
        }
    }
}

#[derive(Serialize)]
pub struct IkeFindingBody<'a> {
    pub finding: &'a Finding,
}
