//! IKEv1 (ISAKMP) messages: Main Mode with a cleartext SA/KE/Nonce phase, encrypted messages
//! 5/6, Quick Mode and Informational as opaque ciphertext (RFC 2408/2409).

use crate::ike::{self, Header, Payload};
use crate::rng::Rng;
use crate::trace::{Carrier, Trace};
use std::net::SocketAddr;

pub const MAIN: u8 = 2;
pub const AGGRESSIVE: u8 = 4;
pub const QUICK: u8 = 32;
const SA: u8 = 1;
const KE: u8 = 4;
const NONCE: u8 = 10;
const VID: u8 = 13;
const HASH: u8 = 8;
const NAT_D: u8 = 20;

/// Phase 1 transform attributes: (encryption, key length, hash, auth method, group).
#[derive(Clone, Copy, Debug)]
pub struct Phase1 {
    pub encr: u16,
    pub key_length: u16,
    pub hash: u16,
    pub auth: u16,
    pub group: u16,
}

fn sa(p: &Phase1) -> Payload {
    let mut attrs = Vec::new();
    for (t, v) in [
        (1u16, p.encr),
        (14, p.key_length),
        (2, p.hash),
        (3, p.auth),
        (4, p.group),
        (11, 1),
    ] {
        attrs.extend_from_slice(&(0x8000 | t).to_be_bytes());
        attrs.extend_from_slice(&v.to_be_bytes());
    }
    attrs.extend_from_slice(&12u16.to_be_bytes());
    attrs.extend_from_slice(&4u16.to_be_bytes());
    attrs.extend_from_slice(&28_800u32.to_be_bytes());
    let mut transform = vec![0, 0];
    transform.extend_from_slice(&((8 + attrs.len()) as u16).to_be_bytes());
    transform.extend_from_slice(&[1, 1, 0, 0]);
    transform.extend_from_slice(&attrs);
    let mut proposal = vec![0, 0];
    proposal.extend_from_slice(&((8 + transform.len()) as u16).to_be_bytes());
    proposal.extend_from_slice(&[1, 1, 0, 1]);
    proposal.extend_from_slice(&transform);
    let mut body = 1u32.to_be_bytes().to_vec();
    body.extend_from_slice(&1u32.to_be_bytes());
    body.extend_from_slice(&proposal);
    Payload::new(SA, body)
}

/// Encrypted IKEv1 message: header (E flag) whose first payload is HASH, then ciphertext.
fn encrypted(spi_i: u64, spi_r: u64, exchange: u8, mid: u32, len: usize, rng: &mut Rng) -> Vec<u8> {
    let mut m = ike::encode(Header::v1(spi_i, spi_r, exchange, 1, mid), &[]);
    m[16] = HASH;
    m.extend_from_slice(&rng.bytes(len));
    let total = (m.len() as u32).to_be_bytes();
    m[24..28].copy_from_slice(&total);
    m
}

const ID: u8 = 5;

/// Aggressive Mode (3 messages, identities in the clear) + Quick Mode.
pub fn aggressive_mode(t: &mut Trace, i: SocketAddr, r: SocketAddr, p: &Phase1, rng: &mut Rng) {
    let (spi_i, spi_r) = (rng.next_u64() | 1, rng.next_u64() | 2);
    let c = Carrier::Udp;
    let ke_len = match p.group {
        2 => 128,
        5 => 192,
        _ => 256,
    };
    // ID_IPV4_ADDR (1), UDP port 500, the sender's address.
    let id = |a: SocketAddr| {
        let ip = match a.ip() {
            std::net::IpAddr::V4(v4) => v4.octets(),
            std::net::IpAddr::V6(_) => [0; 4],
        };
        Payload::new(ID, [vec![1, 17, 1, 244], ip.to_vec()].concat())
    };
    let am1 = [
        sa(p),
        Payload::new(KE, rng.bytes(ke_len)),
        Payload::new(NONCE, rng.bytes(32)),
        id(i),
    ];
    t.ike(
        i,
        r,
        c,
        &ike::encode(Header::v1(spi_i, 0, AGGRESSIVE, 0, 0), &am1),
    );
    let am2 = [
        sa(p),
        Payload::new(KE, rng.bytes(ke_len)),
        Payload::new(NONCE, rng.bytes(32)),
        id(r),
        Payload::new(HASH, rng.bytes(16)),
    ];
    t.ike(
        r,
        i,
        c,
        &ike::encode(Header::v1(spi_i, spi_r, AGGRESSIVE, 0, 0), &am2),
    );
    t.ike(i, r, c, &encrypted(spi_i, spi_r, AGGRESSIVE, 0, 32, rng));
    let qm = rng.next_u64() as u32 | 1;
    t.ike(i, r, c, &encrypted(spi_i, spi_r, QUICK, qm, 400, rng));
    t.ike(r, i, c, &encrypted(spi_i, spi_r, QUICK, qm, 400, rng));
    t.ike(i, r, c, &encrypted(spi_i, spi_r, QUICK, qm, 48, rng));
}

/// A complete Main Mode + Quick Mode exchange.
pub fn main_mode(t: &mut Trace, i: SocketAddr, r: SocketAddr, p: &Phase1, rng: &mut Rng) {
    let (spi_i, spi_r) = (rng.next_u64() | 1, rng.next_u64() | 2);
    let c = Carrier::Udp;
    let h = |spi_r: u64| Header::v1(spi_i, spi_r, MAIN, 0, 0);
    t.ike(
        i,
        r,
        c,
        &ike::encode(
            h(0),
            &[
                sa(p),
                Payload::new(
                    VID,
                    b"\x4a\x13\x1c\x81\x07\x03\x58\x45\x5c\x57\x28\xf2\x0e\x95\x45\x2f".to_vec(),
                ),
            ],
        ),
    );
    t.ike(r, i, c, &ike::encode(h(spi_r), &[sa(p)]));
    let ke_len = match p.group {
        2 => 128,
        5 => 192,
        _ => 256,
    };
    for (from, to) in [(i, r), (r, i)] {
        let payloads = [
            Payload::new(KE, rng.bytes(ke_len)),
            Payload::new(NONCE, rng.bytes(32)),
            Payload::new(NAT_D, rng.bytes(20)),
            Payload::new(NAT_D, rng.bytes(20)),
        ];
        t.ike(from, to, c, &ike::encode(h(spi_r), &payloads));
    }
    t.ike(i, r, c, &encrypted(spi_i, spi_r, MAIN, 0, 64, rng));
    t.ike(r, i, c, &encrypted(spi_i, spi_r, MAIN, 0, 64, rng));
    let qm = rng.next_u64() as u32 | 1;
    t.ike(i, r, c, &encrypted(spi_i, spi_r, QUICK, qm, 400, rng));
    t.ike(r, i, c, &encrypted(spi_i, spi_r, QUICK, qm, 400, rng));
    t.ike(i, r, c, &encrypted(spi_i, spi_r, QUICK, qm, 48, rng));
}
