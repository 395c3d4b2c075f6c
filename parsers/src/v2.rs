//! IKEv2 payload bodies (RFC 7296 §3.3-3.16, RFC 7383 §2.5, G-IKEv2 types kept opaque).

use crate::error::{take, Layer, NomErr, ParseError};
use crate::payload::Payload;
use crate::registry::{KeMethod, NotifyType, PayloadType, ProtocolId};
use crate::sa::{AttributeIter, ProposalIter};
use nom::number::complete::{be_u16, be_u8};
use nom::Parser;

/// A decoded IKEv2 payload body.
#[derive(Clone, Debug)]
pub enum V2Body<'a> {
    Sa(ProposalIter<'a>),
    Ke(KeyExchange<'a>),
    Identification {
        id_type: u8,
        data: &'a [u8],
    },
    Certificate {
        encoding: u8,
        data: &'a [u8],
    },
    CertificateRequest {
        encoding: u8,
        data: &'a [u8],
    },
    Auth {
        method: u8,
        data: &'a [u8],
    },
    Nonce(&'a [u8]),
    Notify(Notify<'a>),
    Delete(Delete<'a>),
    VendorId(&'a [u8]),
    TrafficSelectors(TrafficSelectors<'a>),
    /// SK: IV, ciphertext, padding and ICV are opaque without keys.
    Encrypted(&'a [u8]),
    Configuration {
        cfg_type: u8,
        attributes: AttributeIter<'a>,
    },
    Eap(&'a [u8]),
    EncryptedFragment(EncryptedFragment<'a>),
    /// Any other type (GSPM, G-IKEv2, private use): kept by number, body opaque.
    Other(&'a [u8]),
}

/// KE payload: method and key exchange data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KeyExchange<'a> {
    pub method: KeMethod,
    pub data: &'a [u8],
}

/// Notify payload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Notify<'a> {
    pub protocol: ProtocolId,
    pub spi: &'a [u8],
    pub ntype: NotifyType,
    pub data: &'a [u8],
}

impl Notify<'_> {
    /// INVALID_KE_PAYLOAD carries exactly the 2-octet method the responder wants.
    pub fn invalid_ke_method(&self) -> Option<KeMethod> {
        match (self.ntype, self.data) {
            (NotifyType::INVALID_KE_PAYLOAD, [hi, lo]) => {
                Some(KeMethod(u16::from_be_bytes([*hi, *lo])))
            }
            _ => None,
        }
    }
}

/// Delete payload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Delete<'a> {
    pub protocol: ProtocolId,
    pub spi_size: u8,
    pub num_spis: u16,
    pub spis: &'a [u8],
}

/// TSi / TSr payload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TrafficSelectors<'a> {
    pub count: u8,
    pub selectors: &'a [u8],
}

/// One traffic selector (type 7 = IPv4 range, 8 = IPv6 range).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TrafficSelector<'a> {
    pub ts_type: u8,
    pub ip_protocol: u8,
    pub start_port: u16,
    pub end_port: u16,
    pub start_address: &'a [u8],
    pub end_address: &'a [u8],
}

impl<'a> TrafficSelectors<'a> {
    /// Decodes the selectors; stops at the first malformed one.
    pub fn iter(&self) -> impl Iterator<Item = Result<TrafficSelector<'a>, ParseError>> + 'a {
        let mut data = self.selectors;
        let mut failed = false;
        std::iter::from_fn(move || {
            if failed || data.is_empty() {
                return None;
            }
            let item = traffic_selector(data);
            match item {
                Ok((rest, ts)) => {
                    data = rest;
                    Some(Ok(ts))
                }
                Err(e) => {
                    failed = true;
                    Some(Err(e))
                }
            }
        })
    }
}

fn traffic_selector(input: &[u8]) -> Result<(&[u8], TrafficSelector<'_>), ParseError> {
    let layer = Layer::TrafficSelector;
    let (_, (ts_type, ip_protocol, len, start_port, end_port)) =
        (be_u8, be_u8, be_u16, be_u16, be_u16)
            .parse(input)
            .map_err(|_: NomErr<'_>| ParseError::truncated(layer, 0, 8, input.len()))?;
    let len = usize::from(len);
    if len < 8 || (len - 8) % 2 != 0 {
        return Err(ParseError::bad_length(layer, 2, "selector length", len));
    }
    let (rest, whole) = take(input, len, layer, 0)?;
    let (start_address, end_address) = whole[8..].split_at((len - 8) / 2);
    Ok((
        rest,
        TrafficSelector {
            ts_type,
            ip_protocol,
            start_port,
            end_port,
            start_address,
            end_address,
        },
    ))
}

/// SKF payload (RFC 7383 §2.5): fragment number and total are cleartext.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EncryptedFragment<'a> {
    pub number: u16,
    pub total: u16,
    pub data: &'a [u8],
}

impl EncryptedFragment<'_> {
    /// RFC 7383: numbers start at 1, the total is never 0 and no number exceeds it.
    pub fn is_consistent(&self) -> bool {
        self.number >= 1 && self.total >= 1 && self.number <= self.total
    }
}

/// Splits a fixed prefix of `n` octets off a payload body.
fn fixed<'a>(p: &Payload<'a>, n: usize) -> Result<(&'a [u8], &'a [u8]), ParseError> {
    take(p.body, n, Layer::Payload(p.ptype), p.body_offset())
}

fn u16_at(b: &[u8], i: usize) -> u16 {
    match b.get(i..i + 2) {
        Some([hi, lo]) => u16::from_be_bytes([*hi, *lo]),
        _ => 0,
    }
}

fn byte_at(b: &[u8], i: usize) -> u8 {
    b.get(i).copied().unwrap_or_default()
}

/// Decodes an IKEv2 payload body by its type.
pub fn decode_v2<'a>(p: &Payload<'a>) -> Result<V2Body<'a>, ParseError> {
    let t = PayloadType(p.ptype);
    Ok(match t {
        PayloadType::SA => V2Body::Sa(ProposalIter::new(p.body, p.body_offset(), true)),
        PayloadType::KE => {
            let (data, h) = fixed(p, 4)?;
            V2Body::Ke(KeyExchange {
                method: KeMethod(u16_at(h, 0)),
                data,
            })
        }
        PayloadType::IDI | PayloadType::IDR => {
            let (data, h) = fixed(p, 4)?;
            V2Body::Identification {
                id_type: byte_at(h, 0),
                data,
            }
        }
        PayloadType::CERT | PayloadType::CERTREQ => {
            let (data, h) = fixed(p, 1)?;
            let encoding = byte_at(h, 0);
            if t == PayloadType::CERT {
                V2Body::Certificate { encoding, data }
            } else {
                V2Body::CertificateRequest { encoding, data }
            }
        }
        PayloadType::AUTH => {
            let (data, h) = fixed(p, 4)?;
            V2Body::Auth {
                method: byte_at(h, 0),
                data,
            }
        }
        PayloadType::NONCE => V2Body::Nonce(p.body),
        PayloadType::NOTIFY => V2Body::Notify(notify(p, 0)?),
        PayloadType::DELETE => {
            let (spis, h) = fixed(p, 4)?;
            V2Body::Delete(Delete {
                protocol: ProtocolId(byte_at(h, 0)),
                spi_size: byte_at(h, 1),
                num_spis: u16_at(h, 2),
                spis,
            })
        }
        PayloadType::VENDOR_ID => V2Body::VendorId(p.body),
        PayloadType::TSI | PayloadType::TSR => {
            let (selectors, h) = fixed(p, 4)?;
            V2Body::TrafficSelectors(TrafficSelectors {
                count: byte_at(h, 0),
                selectors,
            })
        }
        PayloadType::SK => V2Body::Encrypted(p.body),
        PayloadType::CP => {
            let (attrs, h) = fixed(p, 4)?;
            V2Body::Configuration {
                cfg_type: byte_at(h, 0),
                attributes: AttributeIter::new(attrs, p.body_offset() + 4),
            }
        }
        PayloadType::EAP => V2Body::Eap(p.body),
        PayloadType::SKF => {
            let (data, h) = fixed(p, 4)?;
            V2Body::EncryptedFragment(EncryptedFragment {
                number: u16_at(h, 0),
                total: u16_at(h, 2),
                data,
            })
        }
        _ => V2Body::Other(p.body),
    })
}

/// Notify layout shared by IKEv2 and (after a 4-octet DOI) IKEv1.
pub(crate) fn notify<'a>(p: &Payload<'a>, skip: usize) -> Result<Notify<'a>, ParseError> {
    let (rest, h) = fixed(p, skip + 4)?;
    let spi_size = byte_at(h, skip + 1);
    let (data, spi) = take(
        rest,
        spi_size.into(),
        Layer::Payload(p.ptype),
        p.body_offset() + skip + 4,
    )?;
    Ok(Notify {
        protocol: ProtocolId(byte_at(h, skip)),
        spi,
        ntype: NotifyType(u16_at(h, skip + 2)),
        data,
    })
}
