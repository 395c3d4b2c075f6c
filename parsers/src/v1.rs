//! IKEv1 / ISAKMP payload bodies (RFC 2408 §3, RFC 2409, RFC 3947).

use crate::error::{take, Layer, ParseError};
use crate::payload::Payload;
use crate::registry::{PayloadTypeV1, ProtocolId};
use crate::sa::ProposalIter;
use crate::v2::{notify, Notify};

/// IKEv1 phase 1 attribute types (RFC 2409 appendix A).
pub mod attr {
    pub const ENCRYPTION: u16 = 1;
    pub const HASH: u16 = 2;
    pub const AUTH_METHOD: u16 = 3;
    pub const GROUP_DESCRIPTION: u16 = 4;
    pub const LIFE_TYPE: u16 = 11;
    pub const LIFE_DURATION: u16 = 12;
    pub const KEY_LENGTH: u16 = 14;
}

/// A decoded IKEv1 payload body.
#[derive(Clone, Debug)]
pub enum V1Body<'a> {
    Sa {
        doi: u32,
        situation: u32,
        proposals: ProposalIter<'a>,
    },
    /// IKEv1 KE carries no method: the group is negotiated in the SA attributes.
    Ke(&'a [u8]),
    Identification {
        id_type: u8,
        protocol: u8,
        port: u16,
        data: &'a [u8],
    },
    Hash(&'a [u8]),
    Signature(&'a [u8]),
    Nonce(&'a [u8]),
    Notify {
        doi: u32,
        notify: Notify<'a>,
    },
    Delete {
        doi: u32,
        protocol: ProtocolId,
        spi_size: u8,
        num_spis: u16,
        spis: &'a [u8],
    },
    VendorId(&'a [u8]),
    NatD(&'a [u8]),
    Other(&'a [u8]),
}

fn be(b: &[u8]) -> u64 {
    b.iter().fold(0u64, |acc, &x| acc << 8 | u64::from(x))
}

/// Decodes an IKEv1 payload body by its type.
pub fn decode_v1<'a>(p: &Payload<'a>) -> Result<V1Body<'a>, ParseError> {
    let layer = Layer::Payload(p.ptype);
    let off = p.body_offset();
    Ok(match PayloadTypeV1(p.ptype) {
        PayloadTypeV1::SA => {
            // DOI(4) + Situation(4) for the IPsec DOI; proposals follow as their own payloads.
            let (proposals, h) = take(p.body, 8, layer, off)?;
            let (doi, sit) = h.split_at(4);
            V1Body::Sa {
                doi: be(doi) as u32,
                situation: be(sit) as u32,
                proposals: ProposalIter::new(proposals, off + 8, false),
            }
        }
        PayloadTypeV1::KE => V1Body::Ke(p.body),
        PayloadTypeV1::ID => {
            let (data, h) = take(p.body, 4, layer, off)?;
            V1Body::Identification {
                id_type: be(&h[..1]) as u8,
                protocol: be(&h[1..2]) as u8,
                port: be(&h[2..]) as u16,
                data,
            }
        }
        PayloadTypeV1::HASH => V1Body::Hash(p.body),
        PayloadTypeV1::SIG => V1Body::Signature(p.body),
        PayloadTypeV1::NONCE => V1Body::Nonce(p.body),
        PayloadTypeV1::NOTIFY => {
            let (_, doi) = take(p.body, 4, layer, off)?;
            V1Body::Notify {
                doi: be(doi) as u32,
                notify: notify(p, 4)?,
            }
        }
        PayloadTypeV1::DELETE => {
            let (spis, h) = take(p.body, 8, layer, off)?;
            V1Body::Delete {
                doi: be(&h[..4]) as u32,
                protocol: ProtocolId(be(&h[4..5]) as u8),
                spi_size: be(&h[5..6]) as u8,
                num_spis: be(&h[6..]) as u16,
                spis,
            }
        }
        PayloadTypeV1::VENDOR_ID => V1Body::VendorId(p.body),
        PayloadTypeV1::NAT_D | PayloadTypeV1::NAT_D_DRAFT => V1Body::NatD(p.body),
        _ => V1Body::Other(p.body),
    })
}
