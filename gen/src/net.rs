//! Frame construction: link layers, IPv4/IPv6 (with extension headers and fragmentation),
//! UDP, TCP and ICMP errors. Header encoding and checksums come from etherparse.

use etherparse::{
    IpFragOffset, IpNumber, Ipv4Header, Ipv6FlowLabel, Ipv6FragmentHeader, Ipv6Header, TcpHeader,
    UdpHeader,
};
use std::net::IpAddr;

/// Link layer of a generated capture.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Link {
    /// Ethernet with 0, 1 (802.1Q) or 2 (QinQ: 802.1ad outer) VLAN tags.
    Ethernet {
        vlans: Vec<u16>,
    },
    LinuxSll,
    LinuxSll2,
    /// LINKTYPE_RAW (101).
    Raw,
    /// BSD loopback, host-order family (LINKTYPE_NULL).
    Null,
    /// OpenBSD loopback, network-order family (LINKTYPE_LOOP).
    Loop,
}

impl Link {
    pub fn linktype(&self) -> u32 {
        match self {
            Link::Ethernet { .. } => 1,
            Link::LinuxSll => 113,
            Link::LinuxSll2 => 276,
            Link::Raw => 101,
            Link::Null => 0,
            Link::Loop => 108,
        }
    }

    /// Octets of link header in front of the IP packet.
    pub fn header_len(&self) -> usize {
        match self {
            Link::Ethernet { vlans } => 14 + 4 * vlans.len(),
            Link::LinuxSll => 16,
            Link::LinuxSll2 => 20,
            Link::Raw => 0,
            Link::Null | Link::Loop => 4,
        }
    }

    /// Wraps an IP packet in this link layer.
    pub fn frame(&self, ip: &[u8]) -> Vec<u8> {
        let v6 = ip.first().is_some_and(|b| b >> 4 == 6);
        let ether_type: u16 = if v6 { 0x86dd } else { 0x0800 };
        let mut f = Vec::with_capacity(ip.len() + 40);
        match self {
            Link::Ethernet { vlans } => {
                f.extend_from_slice(&[0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01]);
                for (i, vid) in vlans.iter().enumerate() {
                    let tpid: u16 = if i == 0 && vlans.len() > 1 {
                        0x88a8
                    } else {
                        0x8100
                    };
                    f.extend_from_slice(&tpid.to_be_bytes());
                    f.extend_from_slice(&(vid & 0x0fff).to_be_bytes());
                }
                f.extend_from_slice(&ether_type.to_be_bytes());
            }
            Link::LinuxSll => {
                // packet type 0 (to us), ARPHRD_ETHER, 6-octet address padded to 8, protocol.
                f.extend_from_slice(&[0, 0, 0, 1, 0, 6, 0x02, 0, 0, 0, 0, 0x01, 0, 0]);
                f.extend_from_slice(&ether_type.to_be_bytes());
            }
            Link::LinuxSll2 => {
                f.extend_from_slice(&ether_type.to_be_bytes());
                f.extend_from_slice(&[0, 0, 0, 0, 0, 2, 0, 1, 0, 6, 0x02, 0, 0, 0, 0, 0x01, 0, 0]);
            }
            Link::Raw => {}
            Link::Null => {
                let family: u32 = if v6 { 24 } else { 2 };
                f.extend_from_slice(&family.to_le_bytes());
            }
            Link::Loop => {
                let family: u32 = if v6 { 24 } else { 2 };
                f.extend_from_slice(&family.to_be_bytes());
            }
        }
        f.extend_from_slice(ip);
        f
    }
}

/// IP-level options for one datagram.
#[derive(Clone, Copy, Debug)]
pub struct IpOptions {
    /// Path MTU: larger datagrams are sent as fragments.
    pub mtu: usize,
    /// IPv4 identification / IPv6 fragment identification.
    pub ident: u32,
    /// IPv6: put a Destination Options header before the transport header.
    pub v6_dest_opts: bool,
}

impl Default for IpOptions {
    fn default() -> Self {
        IpOptions {
            mtu: 1500,
            ident: 1,
            v6_dest_opts: false,
        }
    }
}

fn v4(a: IpAddr) -> [u8; 4] {
    match a {
        IpAddr::V4(x) => x.octets(),
        IpAddr::V6(_) => [0; 4],
    }
}

fn v6(a: IpAddr) -> [u8; 16] {
    match a {
        IpAddr::V6(x) => x.octets(),
        IpAddr::V4(x) => x.to_ipv6_mapped().octets(),
    }
}

/// UDP header + payload with a valid checksum.
pub fn udp(src: IpAddr, dst: IpAddr, sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
    let h = UdpHeader {
        source_port: sport,
        destination_port: dport,
        length: (8 + payload.len()) as u16,
        checksum: 0,
    };
    let checksum = match (src, dst) {
        (IpAddr::V4(_), IpAddr::V4(_)) => h.calc_checksum_ipv4_raw(v4(src), v4(dst), payload),
        _ => h.calc_checksum_ipv6_raw(v6(src), v6(dst), payload),
    }
    .unwrap_or(0);
    let mut out = UdpHeader { checksum, ..h }.to_bytes().to_vec();
    out.extend_from_slice(payload);
    out
}

/// TCP flags for [`tcp`].
#[derive(Clone, Copy, Debug, Default)]
pub struct TcpFlags {
    pub syn: bool,
    pub ack: bool,
    pub psh: bool,
    pub fin: bool,
}

/// TCP header + payload with a valid checksum.
#[allow(clippy::too_many_arguments)]
pub fn tcp(
    src: IpAddr,
    dst: IpAddr,
    sport: u16,
    dport: u16,
    seq: u32,
    ack: u32,
    flags: TcpFlags,
    payload: &[u8],
) -> Vec<u8> {
    let mut h = TcpHeader::new(sport, dport, seq, 64240);
    h.acknowledgment_number = ack;
    h.syn = flags.syn;
    h.ack = flags.ack;
    h.psh = flags.psh;
    h.fin = flags.fin;
    h.checksum = match (src, dst) {
        (IpAddr::V4(_), IpAddr::V4(_)) => h.calc_checksum_ipv4_raw(v4(src), v4(dst), payload),
        _ => h.calc_checksum_ipv6_raw(v6(src), v6(dst), payload),
    }
    .unwrap_or(0);
    let mut out = h.to_bytes().to_vec();
    out.extend_from_slice(payload);
    out
}

/// IP datagram(s) carrying `transport` (already including its header), fragmented to the MTU.
pub fn ip(src: IpAddr, dst: IpAddr, proto: u8, transport: &[u8], o: IpOptions) -> Vec<Vec<u8>> {
    match (src, dst) {
        (IpAddr::V4(_), IpAddr::V4(_)) => ipv4(v4(src), v4(dst), proto, transport, o),
        _ => ipv6(v6(src), v6(dst), proto, transport, o),
    }
}

/// One IP fragment: its offset in 8-octet units, whether more follow, its octets.
struct Piece<'a> {
    offset: IpFragOffset,
    more: bool,
    data: &'a [u8],
}

/// Splits `data` into fragments whose payload fits `room` octets (a multiple of 8).
fn pieces(data: &[u8], room: usize) -> Vec<Piece<'_>> {
    let max = (room / 8 * 8).max(8);
    let n = data.len().div_ceil(max).max(1);
    (0..n)
        .map(|i| Piece {
            offset: IpFragOffset::try_new((i * max / 8) as u16).unwrap_or_default(),
            more: i + 1 < n,
            data: data
                .get(i * max..((i + 1) * max).min(data.len()))
                .unwrap_or_default(),
        })
        .collect()
}

fn ipv4(src: [u8; 4], dst: [u8; 4], proto: u8, data: &[u8], o: IpOptions) -> Vec<Vec<u8>> {
    let whole = data.len() + 20 <= o.mtu;
    let parts = if whole {
        vec![Piece {
            offset: IpFragOffset::ZERO,
            more: false,
            data,
        }]
    } else {
        pieces(data, o.mtu.saturating_sub(20))
    };
    parts
        .into_iter()
        .map(|p| {
            let mut h = Ipv4Header::new(p.data.len() as u16, 64, IpNumber(proto), src, dst)
                .unwrap_or_default();
            h.identification = o.ident as u16;
            h.dont_fragment = whole;
            h.more_fragments = p.more;
            h.fragment_offset = p.offset;
            h.header_checksum = h.calc_header_checksum();
            let mut out = h.to_bytes().to_vec();
            out.extend_from_slice(p.data);
            out
        })
        .collect()
}

/// Destination Options header with one PadN option (8 octets).
fn dest_opts(next: u8) -> [u8; 8] {
    [next, 0, 1, 4, 0, 0, 0, 0]
}

fn ipv6(src: [u8; 16], dst: [u8; 16], proto: u8, data: &[u8], o: IpOptions) -> Vec<Vec<u8>> {
    // Unfragmentable part: [dest opts]; the fragment header goes before it when fragmenting.
    let mut upper = Vec::new();
    let first_next = if o.v6_dest_opts {
        upper.extend_from_slice(&dest_opts(proto));
        60
    } else {
        proto
    };
    upper.extend_from_slice(data);
    let header = |next: u8, len: usize| Ipv6Header {
        traffic_class: 0,
        flow_label: Ipv6FlowLabel::ZERO,
        payload_length: len as u16,
        next_header: IpNumber(next),
        hop_limit: 64,
        source: src,
        destination: dst,
    };
    if upper.len() + 40 <= o.mtu {
        let mut out = header(first_next, upper.len()).to_bytes().to_vec();
        out.extend_from_slice(&upper);
        return vec![out];
    }
    pieces(&upper, o.mtu.saturating_sub(48))
        .into_iter()
        .map(|p| {
            let fh = Ipv6FragmentHeader::new(IpNumber(first_next), p.offset, p.more, o.ident);
            let mut out = header(44, 8 + p.data.len()).to_bytes().to_vec();
            out.extend_from_slice(&fh.to_bytes());
            out.extend_from_slice(p.data);
            out
        })
        .collect()
}

/// ICMPv4 "fragmentation needed" (type 3 code 4) or "port unreachable" (code 3), or ICMPv6
/// "packet too big" (type 2) / "port unreachable" (type 1 code 4), quoting `quoted` (an IP
/// packet) as far as the RFCs allow.
pub fn icmp_error(reporter: IpAddr, to: IpAddr, mtu: Option<u32>, quoted: &[u8]) -> Vec<u8> {
    let is_v6 = matches!(to, IpAddr::V6(_));
    let keep = if is_v6 {
        quoted.len().min(1232)
    } else {
        quoted.len().min(548)
    };
    let mut body = Vec::with_capacity(8 + keep);
    match (is_v6, mtu) {
        (false, Some(m)) => body.extend_from_slice(&[3, 4, 0, 0, 0, 0, (m >> 8) as u8, m as u8]),
        (false, None) => body.extend_from_slice(&[3, 3, 0, 0, 0, 0, 0, 0]),
        (true, Some(m)) => {
            body.extend_from_slice(&[2, 0, 0, 0]);
            body.extend_from_slice(&m.to_be_bytes());
        }
        (true, None) => body.extend_from_slice(&[1, 4, 0, 0, 0, 0, 0, 0]),
    }
    body.extend_from_slice(&quoted[..keep]);
    let sum = if is_v6 {
        let mut pseudo = Vec::new();
        pseudo.extend_from_slice(&v6(reporter));
        pseudo.extend_from_slice(&v6(to));
        pseudo.extend_from_slice(&(body.len() as u32).to_be_bytes());
        pseudo.extend_from_slice(&[0, 0, 0, 58]);
        checksum(&[&pseudo, &body])
    } else {
        checksum(&[&body])
    };
    body[2..4].copy_from_slice(&sum.to_be_bytes());
    let proto = if is_v6 { 58 } else { 1 };
    ip(
        reporter,
        to,
        proto,
        &body,
        IpOptions {
            mtu: 65535,
            ..Default::default()
        },
    )
    .remove(0)
}

/// Internet checksum (RFC 1071) over several slices, for ICMP (etherparse computes it only
/// from its own typed ICMP headers, which cannot carry an arbitrary quoted packet cheaply).
fn checksum(parts: &[&[u8]]) -> u16 {
    let mut sum: u32 = 0;
    for p in parts {
        for w in p.chunks(2) {
            let v = if w.len() == 2 {
                u16::from_be_bytes([w[0], w[1]])
            } else {
                u16::from(w[0]) << 8
            };
            sum += u32::from(v);
        }
    }
    while sum >> 16 != 0 {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}
