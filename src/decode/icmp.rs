//! ICMP / ICMPv6 errors whose quoted packet is IKE (RFC 792 / RFC 4443): fragmentation needed,
//! packet too big and port unreachable. They are the passive witnesses of MTU black holes.

use super::PacketMeta;
use etherparse::{
    Icmpv4Slice, Icmpv4Type, Icmpv6Slice, Icmpv6Type, LaxNetSlice, LaxSlicedPacket, TransportSlice,
};
use ikescope_parsers::transport::{IKE_PORT, NAT_T_PORT};
use std::net::{IpAddr, SocketAddr};

fn first_fragment_ports(p: &LaxSlicedPacket<'_>) -> Option<(u16, u16)> {
    let payload = match p.net.as_ref()? {
        LaxNetSlice::Ipv4(v4) if v4.header().fragments_offset().value() == 0 => v4.payload(),
        LaxNetSlice::Ipv6(v6) => v6.payload(),
        _ => return None,
    };
    if !payload.fragmented || !matches!(payload.ip_number.0, 6 | 17) {
        return None;
    }
    match payload.payload.get(..4)? {
        [a, b, c, d] => Some((u16::from_be_bytes([*a, *b]), u16::from_be_bytes([*c, *d]))),
        _ => None,
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum IcmpKind {
    /// ICMPv4 type 3 code 4, with the next-hop MTU.
    FragNeeded { mtu: u16 },
    /// ICMPv6 type 2, with the MTU.
    PacketTooBig { mtu: u32 },
    /// ICMPv4 type 3 code 3 / ICMPv6 type 1 code 4.
    PortUnreachable,
}

/// An ICMP error about an IKE packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IcmpError {
    pub meta: PacketMeta,
    /// Who sent the ICMP error (a router on the path, or the peer).
    pub reporter: IpAddr,
    pub kind: IcmpKind,
    /// The quoted packet's source and destination (the IKE flow it is about).
    pub quoted_src: SocketAddr,
    pub quoted_dst: SocketAddr,
    /// Quoted IP total length (the size that did not fit), when known.
    pub quoted_len: Option<u32>,
}

pub(super) fn from_v4(
    meta: PacketMeta,
    reporter: IpAddr,
    icmp: &Icmpv4Slice<'_>,
) -> Option<IcmpError> {
    use etherparse::icmpv4::DestUnreachableHeader as D;
    let kind = match icmp.icmp_type() {
        Icmpv4Type::DestinationUnreachable(D::FragmentationNeeded { next_hop_mtu }) => {
            IcmpKind::FragNeeded { mtu: next_hop_mtu }
        }
        Icmpv4Type::DestinationUnreachable(D::Port) => IcmpKind::PortUnreachable,
        _ => return None,
    };
    quoted(meta, reporter, kind, icmp.payload())
}

pub(super) fn from_v6(
    meta: PacketMeta,
    reporter: IpAddr,
    icmp: &Icmpv6Slice<'_>,
) -> Option<IcmpError> {
    use etherparse::icmpv6::DestUnreachableCode as D;
    let kind = match icmp.icmp_type() {
        Icmpv6Type::PacketTooBig { mtu } => IcmpKind::PacketTooBig { mtu },
        Icmpv6Type::DestinationUnreachable(D::Port) => IcmpKind::PortUnreachable,
        _ => return None,
    };
    quoted(meta, reporter, kind, icmp.payload())
}

/// The quoted datagram is cut short by design (RFC 792: IP header + 8 octets), so it is
/// sliced laxly. Only UDP/TCP to or from the IKE ports counts.
fn quoted(meta: PacketMeta, reporter: IpAddr, kind: IcmpKind, payload: &[u8]) -> Option<IcmpError> {
    let inner = LaxSlicedPacket::from_ip(payload).ok()?;
    let (src, dst, quoted_len) = match inner.net.as_ref()? {
        LaxNetSlice::Ipv4(v4) => {
            let h = v4.header();
            (
                IpAddr::V4(h.source_addr()),
                IpAddr::V4(h.destination_addr()),
                Some(u32::from(h.total_len())),
            )
        }
        LaxNetSlice::Ipv6(v6) => {
            let h = v6.header();
            (
                IpAddr::V6(h.source_addr()),
                IpAddr::V6(h.destination_addr()),
                Some(u32::from(h.payload_length()) + 40),
            )
        }
        _ => return None,
    };
    let (sport, dport) = match &inner.transport {
        Some(TransportSlice::Udp(u)) => (u.source_port(), u.destination_port()),
        Some(TransportSlice::Tcp(t)) => (t.source_port(), t.destination_port()),
        Some(_) => return None,
        // A quoted first fragment: etherparse does not slice transport in fragments, but the
        // ports are the first four octets of the fragment's payload.
        None => first_fragment_ports(&inner)?,
    };
    let ike_port = |p| p == IKE_PORT || p == NAT_T_PORT;
    (ike_port(sport) || ike_port(dport)).then_some(IcmpError {
        meta,
        reporter,
        kind,
        quoted_src: SocketAddr::new(src, sport),
        quoted_dst: SocketAddr::new(dst, dport),
        quoted_len,
    })
}
