//! Link layers found in IKE captures. etherparse slices Ethernet (VLAN, QinQ), Linux SLL and raw
//! IP; SLL2 and BSD NULL/LOOP are stripped here because etherparse has no slicer for them.

use etherparse::{err::packet::SliceError, EtherType, SlicedPacket};

/// Supported pcap link types (LINKTYPE_* numbers).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkType {
    /// 1: Ethernet, with any 802.1Q / 802.1ad tags.
    Ethernet,
    /// 0 (host byte order family) and 108 (network byte order family).
    Null,
    /// 12/14/101: raw IP, version from the first nibble.
    Raw,
    /// 228: raw IPv4.
    Ipv4,
    /// 229: raw IPv6.
    Ipv6,
    /// 113: Linux cooked capture v1 (`tcpdump -i any`, older libpcap).
    LinuxSll,
    /// 276: Linux cooked capture v2 (`tcpdump -i any`, libpcap ≥ 1.10).
    LinuxSll2,
}

impl LinkType {
    pub fn from_linktype(n: i32) -> Option<LinkType> {
        Some(match n {
            1 => LinkType::Ethernet,
            0 | 108 => LinkType::Null,
            12 | 14 | 101 => LinkType::Raw,
            228 => LinkType::Ipv4,
            229 => LinkType::Ipv6,
            113 => LinkType::LinuxSll,
            276 => LinkType::LinuxSll2,
            _ => return None,
        })
    }

    /// Whether BPF `vlan` primitives are valid on this link type.
    pub fn has_vlan(self) -> bool {
        self == LinkType::Ethernet
    }
}

/// LINKTYPE_LINUX_SLL2 header: protocol(2) reserved(2) ifindex(4) hatype(2) pkttype(1)
/// halen(1) address(8) = 20 octets; the protocol is an EtherType.
const SLL2_LEN: usize = 20;
/// NULL/LOOP header: a 4-octet address family.
const NULL_LEN: usize = 4;

/// Error for a frame too short for its link header.
fn too_short(len: usize, needed: usize) -> SliceError {
    SliceError::Len(etherparse::err::LenError {
        required_len: needed,
        len,
        len_source: etherparse::LenSource::Slice,
        layer: etherparse::err::Layer::Ethernet2Header,
        layer_start_offset: 0,
    })
}

/// Slices a frame of the given link type down to its transport layer.
pub fn slice(link: LinkType, data: &[u8]) -> Result<SlicedPacket<'_>, SliceError> {
    match link {
        LinkType::Ethernet => SlicedPacket::from_ethernet(data),
        LinkType::LinuxSll => SlicedPacket::from_linux_sll(data),
        LinkType::Raw | LinkType::Ipv4 | LinkType::Ipv6 => SlicedPacket::from_ip(data),
        LinkType::LinuxSll2 => match (data.get(..2), data.get(SLL2_LEN..)) {
            (Some(&[hi, lo]), Some(rest)) => {
                SlicedPacket::from_ether_type(EtherType(u16::from_be_bytes([hi, lo])), rest)
            }
            _ => Err(too_short(data.len(), SLL2_LEN)),
        },
        // The family's byte order depends on the writer's host; the IP version nibble does not.
        LinkType::Null => match data.get(NULL_LEN..) {
            Some(rest) => SlicedPacket::from_ip(rest),
            None => Err(too_short(data.len(), NULL_LEN)),
        },
    }
}
