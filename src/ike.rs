//! The IKE stage: parses one message with `ikescope-parsers` and keeps what the tracker and the
//! sinks need as a small owned [`MessageSummary`] (names beside raw numbers, spec §5).

use crate::decode::Datagram;
use crate::mlkem;
use ikescope_parsers::registry::{ExchangeType, NotifyType};
use ikescope_parsers::sa::{Proposal, ProposalIter};
use ikescope_parsers::{
    decode_v1, decode_v2, IkeMessage, Layer, ParseError, Payload, V1Body, V2Body,
};
use serde::Serialize;

#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct TransformSummary {
    /// IKEv2 transform type; IKEv1 transform number.
    #[serde(rename = "type")]
    pub ttype: u8,
    pub id: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_length: Option<u16>,
    /// IKEv1 only: every attribute as type/value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attributes: Option<Vec<AttributeSummary>>,
}

#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct AttributeSummary {
    #[serde(rename = "type")]
    pub atype: u16,
    /// Numeric value (TLV values longer than 8 octets are reported as their length in `length`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub length: Option<usize>,
}

#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct ProposalSummary {
    pub number: u8,
    pub protocol: u8,
    pub spi: String,
    pub transforms: Vec<TransformSummary>,
}

#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct KeSummary {
    /// IKEv2 method; absent for IKEv1 (the group is an SA attribute there).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub method: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Key exchange data octets.
    pub length: usize,
    /// For an ML-KEM encapsulation key (initiator's share): whether it passes the FIPS 203
    /// §7.2 input checks (length and the modulus check of every coefficient).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fips203_valid: Option<bool>,
}

#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct NotifySummary {
    #[serde(rename = "type")]
    pub ntype: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<&'static str>,
    pub protocol: u8,
    pub data_length: usize,
    /// INVALID_KE_PAYLOAD: the method the responder asks for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requested_method: Option<u16>,
    /// SIGNATURE_HASH_ALGORITHMS: the hash algorithm IDs announced (RFC 7427).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hash_algorithms: Option<Vec<u16>>,
}

#[derive(Clone, Copy, Debug, Serialize, PartialEq, Eq)]
pub struct SkfSummary {
    pub number: u16,
    pub total: u16,
}

/// Everything ikescope keeps of one IKE message.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct MessageSummary {
    pub version: u8,
    pub exchange_type: u8,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exchange: Option<&'static str>,
    /// SPIs as numbers; events show them as 16 lower-case hex digits.
    #[serde(serialize_with = "hex_spi")]
    pub spi_i: u64,
    #[serde(serialize_with = "hex_spi")]
    pub spi_r: u64,
    pub message_id: u32,
    pub flags: u8,
    pub sender: &'static str,
    pub role: &'static str,
    pub length: u32,
    pub transport: &'static str,
    pub ip_fragments: u16,
    pub payloads: Vec<u8>,
    pub proposals: Vec<ProposalSummary>,
    pub ke: Vec<KeSummary>,
    pub notify: Vec<NotifySummary>,
    pub vendor_ids: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skf: Option<SkfSummary>,
    /// Octets of the SK / SKF payload (IV, ciphertext, ICV): the size evidence for what is
    /// inside.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encrypted_length: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parse_error: Option<String>,
}

fn hex_spi<S: serde::Serializer>(spi: &u64, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(&format_args!("{spi:016x}"))
}

fn hex(b: &[u8]) -> String {
    use std::fmt::Write;
    b.iter()
        .fold(String::with_capacity(b.len() * 2), |mut s, x| {
            let _ = write!(s, "{x:02x}");
            s
        })
}

/// The label of a parse error's layer for `ikescope_parse_errors_total{layer}`.
pub fn layer_label(e: &ParseError) -> &'static str {
    match e.layer {
        Layer::Framing => "framing",
        Layer::Header => "ike_header",
        Layer::Payload(_) => "ike_payload",
        Layer::Proposal | Layer::Transform | Layer::Attribute => "ike_sa",
        Layer::TrafficSelector => "ike_payload",
    }
}

/// Who sent a message. IKEv2 says so in the I flag; IKEv1 has no such flag, so the caller
/// tells (from which side opened the exchange).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sender {
    Initiator,
    Responder,
}

/// Parses a datagram's IKE bytes. `Err` when not even the header is usable.
pub fn parse<'a>(d: &Datagram<'a>) -> Result<IkeMessage<'a>, ParseError> {
    IkeMessage::parse(d.ike)
}

/// Summarises a parsed message. `v1_sender` is used for IKEv1 only.
pub fn summarize(
    msg: &IkeMessage<'_>,
    d: &Datagram<'_>,
    v1_sender: Sender,
) -> (MessageSummary, Option<ParseError>) {
    let h = &msg.header;
    let major = h.major_version();
    let sender = if major == 2 {
        if h.is_from_initiator() {
            Sender::Initiator
        } else {
            Sender::Responder
        }
    } else {
        v1_sender
    };
    let role = match (major, h.is_response(), sender) {
        (2, true, _) | (1, _, Sender::Responder) => "response",
        _ => "request",
    };
    let mut s = MessageSummary {
        version: major,
        exchange_type: h.exchange_type.0,
        exchange: ExchangeType(h.exchange_type.0).name_for(major),
        spi_i: h.spi_i,
        spi_r: h.spi_r,
        message_id: h.message_id,
        flags: h.flags,
        sender: if sender == Sender::Initiator {
            "initiator"
        } else {
            "responder"
        },
        role,
        length: h.length,
        transport: d.transport.as_str(),
        ip_fragments: d.ip_fragments,
        payloads: Vec::new(),
        proposals: Vec::new(),
        ke: Vec::new(),
        notify: Vec::new(),
        vendor_ids: Vec::new(),
        skf: None,
        encrypted_length: None,
        parse_error: None,
    };
    let mut error = None;
    for p in msg.payloads() {
        let r = p.and_then(|p| {
            s.payloads.push(p.ptype);
            if major == 2 {
                add_v2(&mut s, &p)
            } else {
                add_v1(&mut s, &p)
            }
        });
        if let Err(e) = r {
            s.parse_error = Some(e.to_string());
            error = Some(e);
            break;
        }
    }
    (s, error)
}

fn proposals(s: &mut MessageSummary, iter: ProposalIter<'_>, v2: bool) -> Result<(), ParseError> {
    for p in iter {
        let p = p?;
        s.proposals.push(proposal(&p, v2)?);
    }
    Ok(())
}

fn proposal(p: &Proposal<'_>, v2: bool) -> Result<ProposalSummary, ParseError> {
    let mut transforms = Vec::new();
    for t in p.transforms() {
        let t = t?;
        let attributes = if v2 {
            None
        } else {
            let mut v = Vec::new();
            for a in t.attributes() {
                let a = a?;
                let value = a.value_u64();
                let length = match (value, a.value) {
                    (None, ikescope_parsers::AttributeValue::Tlv(b)) => Some(b.len()),
                    _ => None,
                };
                v.push(AttributeSummary {
                    atype: a.atype,
                    value,
                    length,
                });
            }
            Some(v)
        };
        transforms.push(TransformSummary {
            ttype: t.ttype.0,
            id: t.id,
            key_length: if v2 { t.key_length() } else { None },
            attributes,
        });
    }
    Ok(ProposalSummary {
        number: p.number,
        protocol: p.protocol.0,
        spi: hex(p.spi),
        transforms,
    })
}

fn notify_summary(n: &ikescope_parsers::v2::Notify<'_>) -> NotifySummary {
    NotifySummary {
        ntype: n.ntype.0,
        name: NotifyType(n.ntype.0).name(),
        protocol: n.protocol.0,
        data_length: n.data.len(),
        requested_method: n.invalid_ke_method().map(|m| m.0),
        hash_algorithms: (n.ntype == NotifyType::SIGNATURE_HASH_ALGORITHMS).then(|| {
            n.data
                .chunks_exact(2)
                .map(|c| u16::from_be_bytes([c[0], c[1]]))
                .collect()
        }),
    }
}

fn add_v2(s: &mut MessageSummary, p: &Payload<'_>) -> Result<(), ParseError> {
    match decode_v2(p)? {
        V2Body::Sa(iter) => proposals(s, iter, true)?,
        V2Body::Ke(ke) => s.ke.push(KeSummary {
            method: Some(ke.method.0),
            name: Some(ke.method.short_name()),
            length: ke.data.len(),
            // Only the initiator's share is an encapsulation key (ML-KEM-1024 ciphertexts have
            // the same length).
            fips203_valid: (s.role == "request")
                .then(|| mlkem::check_encapsulation_key(ke.method.0, ke.data))
                .flatten(),
        }),
        V2Body::Notify(n) => s.notify.push(notify_summary(&n)),
        V2Body::VendorId(v) => s.vendor_ids.push(hex(v)),
        V2Body::Encrypted(b) => s.encrypted_length = Some(b.len()),
        V2Body::EncryptedFragment(f) => {
            s.skf = Some(SkfSummary {
                number: f.number,
                total: f.total,
            });
            s.encrypted_length = Some(f.data.len());
        }
        _ => {}
    }
    Ok(())
}

fn add_v1(s: &mut MessageSummary, p: &Payload<'_>) -> Result<(), ParseError> {
    match decode_v1(p)? {
        V1Body::Sa {
            proposals: iter, ..
        } => proposals(s, iter, false)?,
        V1Body::Ke(data) => s.ke.push(KeSummary {
            method: None,
            name: None,
            length: data.len(),
            fips203_valid: None,
        }),
        V1Body::Notify { notify, .. } => s.notify.push(notify_summary(&notify)),
        V1Body::VendorId(v) => s.vendor_ids.push(hex(v)),
        _ => {}
    }
    Ok(())
}
