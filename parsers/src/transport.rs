//! Framing of IKE inside UDP and TCP (RFC 7296 §2.23, RFC 3948 §2, RFC 9329 §3).

use crate::error::{Layer, ParseError};

pub const IKE_PORT: u16 = 500;
pub const NAT_T_PORT: u16 = 4500;
/// RFC 9329 §3.1: the initiator's first 6 octets on a new TCP connection.
pub const TCP_PREFIX: &[u8; 6] = b"IKETCP";

/// What a UDP datagram on an IKE port carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UdpContent<'a> {
    /// An IKE message (after the non-ESP marker on 4500); `marker` tells whether one was present.
    Ike { data: &'a [u8], marker: bool },
    /// ESP-in-UDP (RFC 3948): a non-zero SPI first.
    Esp { spi: u32 },
    /// The one-octet 0xFF NAT-T keepalive.
    NatKeepalive,
    /// Something that is none of the above (e.g. a short datagram on 4500).
    Malformed(ParseError),
}

/// Classifies a UDP payload by its ports: either port 4500 means NAT-T framing (non-ESP marker,
/// ESP or keepalive); otherwise port 500 means a bare IKE message.
pub fn classify_udp(src_port: u16, dst_port: u16, payload: &[u8]) -> Option<UdpContent<'_>> {
    if src_port == NAT_T_PORT || dst_port == NAT_T_PORT {
        Some(classify_nat_t(payload))
    } else if src_port == IKE_PORT || dst_port == IKE_PORT {
        Some(UdpContent::Ike {
            data: payload,
            marker: false,
        })
    } else {
        None
    }
}

/// UDP/4500 rule: 0xFF alone is a keepalive, four zero octets a non-ESP marker, anything else ESP.
pub fn classify_nat_t(payload: &[u8]) -> UdpContent<'_> {
    match payload {
        [0xff] => UdpContent::NatKeepalive,
        [0, 0, 0, 0, rest @ ..] => UdpContent::Ike {
            data: rest,
            marker: true,
        },
        [a, b, c, d, _, _, _, _, ..] => UdpContent::Esp {
            spi: u32::from_be_bytes([*a, *b, *c, *d]),
        },
        _ => UdpContent::Malformed(ParseError::truncated(Layer::Framing, 0, 8, payload.len())),
    }
}

/// One RFC 9329 record from a TCP stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TcpRecord<'a> {
    /// Non-ESP marker + IKE message.
    Ike(&'a [u8]),
    /// An ESP packet (starts with its SPI).
    Esp(&'a [u8]),
}

/// Result of looking at the front of a reassembled TCP byte stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TcpFrame<'a> {
    /// The `IKETCP` stream prefix (6 octets).
    Prefix,
    /// A complete record and the octets it took (length field included).
    Record(TcpRecord<'a>, usize),
    /// More octets are needed to decide.
    Incomplete,
}

/// Decodes the next unit at the start of `stream`. `at_start` says whether this is the first
/// octet of the initiator's direction, where the `IKETCP` prefix is expected.
pub fn next_tcp_frame(stream: &[u8], at_start: bool) -> Result<TcpFrame<'_>, ParseError> {
    if at_start && stream.len() < TCP_PREFIX.len() && TCP_PREFIX.starts_with(stream) {
        return Ok(TcpFrame::Incomplete);
    }
    if at_start && stream.starts_with(TCP_PREFIX) {
        return Ok(TcpFrame::Prefix);
    }
    let Some([hi, lo]) = stream.get(..2) else {
        return Ok(TcpFrame::Incomplete);
    };
    // The 16-bit length counts itself (RFC 9329 §3); a record holds at least a 4-octet
    // marker or SPI (the Linux espintcp minimum is 6 with the length).
    let len = usize::from(u16::from_be_bytes([*hi, *lo]));
    if len < 6 {
        return Err(ParseError::bad_length(
            Layer::Framing,
            0,
            "TCP record length",
            len,
        ));
    }
    let Some(record) = stream.get(2..len) else {
        return Ok(TcpFrame::Incomplete);
    };
    let rec = match record {
        [0, 0, 0, 0, ike @ ..] => TcpRecord::Ike(ike),
        _ => TcpRecord::Esp(record),
    };
    Ok(TcpFrame::Record(rec, len))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nat_t_keepalive_marker_and_esp() {
        assert_eq!(classify_nat_t(&[0xff]), UdpContent::NatKeepalive);
        assert!(matches!(
            classify_nat_t(&[0, 0, 0, 0, 1, 2]),
            UdpContent::Ike { marker: true, .. }
        ));
        assert_eq!(
            classify_nat_t(&[0, 0, 1, 0, 0, 0, 0, 1]),
            UdpContent::Esp { spi: 256 }
        );
        assert!(matches!(classify_nat_t(&[1, 2]), UdpContent::Malformed(_)));
    }

    #[test]
    fn port_500_is_bare_ike() {
        assert!(matches!(
            classify_udp(500, 500, &[1]),
            Some(UdpContent::Ike { marker: false, .. })
        ));
        assert_eq!(classify_udp(53, 1234, &[1]), None);
    }

    #[test]
    fn tcp_prefix_then_record() {
        let mut s = b"IKETCP".to_vec();
        assert_eq!(next_tcp_frame(&s, true), Ok(TcpFrame::Prefix));
        s.clear();
        s.extend_from_slice(&[0, 8, 0, 0, 0, 0, 0xaa, 0xbb, 0x99]);
        assert_eq!(
            next_tcp_frame(&s, false),
            Ok(TcpFrame::Record(TcpRecord::Ike(&[0xaa, 0xbb]), 8))
        );
        assert_eq!(next_tcp_frame(&s[..5], false), Ok(TcpFrame::Incomplete));
        assert!(next_tcp_frame(&[0, 2, 0], false).is_err());
    }
}
