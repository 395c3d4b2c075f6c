//! IKE message encoder: the inverse of `ikescope-parsers`, building wire bytes from payloads.

use crate::rng::Rng;

pub const SA: u8 = 33;
pub const KE: u8 = 34;
pub const IDI: u8 = 35;
pub const AUTH: u8 = 39;
pub const NONCE: u8 = 40;
pub const NOTIFY: u8 = 41;
pub const DELETE: u8 = 42;
pub const VENDOR_ID: u8 = 43;
pub const SK: u8 = 46;
pub const SKF: u8 = 53;

pub const IKE_SA_INIT: u8 = 34;
pub const IKE_AUTH: u8 = 35;
pub const CREATE_CHILD_SA: u8 = 36;
pub const INFORMATIONAL: u8 = 37;
pub const IKE_INTERMEDIATE: u8 = 43;
pub const IKE_FOLLOWUP_KE: u8 = 44;

pub const FLAG_I: u8 = 0x08;
pub const FLAG_R: u8 = 0x20;

/// One payload before encoding. `inner_next` is set for SK/SKF (the first inner payload type).
#[derive(Clone, Debug)]
pub struct Payload {
    pub ptype: u8,
    pub critical: bool,
    pub body: Vec<u8>,
    pub inner_next: Option<u8>,
}

impl Payload {
    pub fn new(ptype: u8, body: Vec<u8>) -> Self {
        Payload {
            ptype,
            critical: false,
            body,
            inner_next: None,
        }
    }
}

/// IKE header fields.
#[derive(Clone, Copy, Debug)]
pub struct Header {
    pub spi_i: u64,
    pub spi_r: u64,
    pub version: u8,
    pub exchange: u8,
    pub flags: u8,
    pub message_id: u32,
}

impl Header {
    pub fn v2(spi_i: u64, spi_r: u64, exchange: u8, flags: u8, message_id: u32) -> Self {
        Header {
            spi_i,
            spi_r,
            version: 0x20,
            exchange,
            flags,
            message_id,
        }
    }

    pub fn v1(spi_i: u64, spi_r: u64, exchange: u8, flags: u8, message_id: u32) -> Self {
        Header {
            spi_i,
            spi_r,
            version: 0x10,
            exchange,
            flags,
            message_id,
        }
    }
}

/// Encodes a message: header, then each payload with its next-payload field pointing at the
/// following one (or at the first inner payload for SK/SKF).
pub fn encode(h: Header, payloads: &[Payload]) -> Vec<u8> {
    let body_len: usize = payloads.iter().map(|p| p.body.len() + 4).sum();
    let mut out = Vec::with_capacity(28 + body_len);
    out.extend_from_slice(&h.spi_i.to_be_bytes());
    out.extend_from_slice(&h.spi_r.to_be_bytes());
    out.push(payloads.first().map_or(0, |p| p.ptype));
    out.push(h.version);
    out.push(h.exchange);
    out.push(h.flags);
    out.extend_from_slice(&h.message_id.to_be_bytes());
    out.extend_from_slice(&((28 + body_len) as u32).to_be_bytes());
    for (i, p) in payloads.iter().enumerate() {
        let next = p
            .inner_next
            .unwrap_or_else(|| payloads.get(i + 1).map_or(0, |n| n.ptype));
        out.push(next);
        out.push(if p.critical { 0x80 } else { 0 });
        out.extend_from_slice(&((p.body.len() + 4) as u16).to_be_bytes());
        out.extend_from_slice(&p.body);
    }
    out
}

/// A transform: (type, id, key length in bits).
pub type Transform = (u8, u16, Option<u16>);

/// An IKEv2 proposal.
#[derive(Clone, Debug)]
pub struct Proposal {
    pub number: u8,
    pub protocol: u8,
    pub spi: Vec<u8>,
    pub transforms: Vec<Transform>,
}

impl Proposal {
    pub fn ike(number: u8, transforms: &[Transform]) -> Self {
        Proposal {
            number,
            protocol: 1,
            spi: Vec::new(),
            transforms: transforms.to_vec(),
        }
    }
}

fn transform_v2(last: bool, t: &Transform) -> Vec<u8> {
    let attrs: Vec<u8> = t.2.map_or_else(Vec::new, |kl| {
        let mut a = vec![0x80, 14];
        a.extend_from_slice(&kl.to_be_bytes());
        a
    });
    let mut v = vec![if last { 0 } else { 3 }, 0];
    v.extend_from_slice(&((8 + attrs.len()) as u16).to_be_bytes());
    v.push(t.0);
    v.push(0);
    v.extend_from_slice(&t.1.to_be_bytes());
    v.extend_from_slice(&attrs);
    v
}

/// SA payload (IKEv2).
pub fn sa(proposals: &[Proposal]) -> Payload {
    let mut body = Vec::new();
    for (i, p) in proposals.iter().enumerate() {
        let transforms: Vec<u8> = p
            .transforms
            .iter()
            .enumerate()
            .flat_map(|(j, t)| transform_v2(j + 1 == p.transforms.len(), t))
            .collect();
        body.push(if i + 1 == proposals.len() { 0 } else { 2 });
        body.push(0);
        body.extend_from_slice(&((8 + p.spi.len() + transforms.len()) as u16).to_be_bytes());
        body.extend_from_slice(&[
            p.number,
            p.protocol,
            p.spi.len() as u8,
            p.transforms.len() as u8,
        ]);
        body.extend_from_slice(&p.spi);
        body.extend_from_slice(&transforms);
    }
    Payload::new(SA, body)
}

pub fn ke(method: u16, data: &[u8]) -> Payload {
    let mut body = method.to_be_bytes().to_vec();
    body.extend_from_slice(&[0, 0]);
    body.extend_from_slice(data);
    Payload::new(KE, body)
}

pub fn nonce(data: &[u8]) -> Payload {
    Payload::new(NONCE, data.to_vec())
}

pub fn notify(ntype: u16, data: &[u8]) -> Payload {
    let mut body = vec![0, 0];
    body.extend_from_slice(&ntype.to_be_bytes());
    body.extend_from_slice(data);
    Payload::new(NOTIFY, body)
}

pub fn vendor_id(vid: &[u8]) -> Payload {
    Payload::new(VENDOR_ID, vid.to_vec())
}

/// Size of an SK payload body carrying `plain` octets of inner payloads, with AES-GCM-16
/// (8-octet IV, 16-octet ICV, no block padding beyond the pad-length octet).
pub fn sk_body_len(plain: usize) -> usize {
    8 + plain + 1 + 16
}

/// SK payload with opaque content of the size the inner payloads would take.
pub fn sk(first_inner: u8, plain: usize, rng: &mut Rng) -> Payload {
    Payload {
        ptype: SK,
        critical: false,
        body: rng.bytes(sk_body_len(plain)),
        inner_next: Some(first_inner),
    }
}

/// SKF payloads splitting `plain` inner octets into fragments of at most `chunk` plain octets
/// (RFC 7383: only fragment 1 names the first inner payload).
pub fn skf(first_inner: u8, plain: usize, chunk: usize, rng: &mut Rng) -> Vec<Payload> {
    let total = plain.div_ceil(chunk.max(1)).max(1);
    (0..total)
        .map(|i| {
            let n = if i + 1 == total {
                plain - chunk * i
            } else {
                chunk
            };
            let mut body = ((i + 1) as u16).to_be_bytes().to_vec();
            body.extend_from_slice(&(total as u16).to_be_bytes());
            body.extend_from_slice(&rng.bytes(sk_body_len(n)));
            Payload {
                ptype: SKF,
                critical: false,
                body,
                inner_next: Some(if i == 0 { first_inner } else { 0 }),
            }
        })
        .collect()
}
