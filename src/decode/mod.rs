//! Packet decoding below IKE: link layer, IP (with bounded reassembly), UDP / TCP (RFC 9329)
//! framing and ICMP errors that quote IKE. Produces [`Datagram`]s and side records for a
//! [`Sink`]; keeps no IKE state.

mod defrag;
mod icmp;
mod link;
mod tcp;

pub use icmp::{IcmpError, IcmpKind};
pub use link::LinkType;

use crate::stats::Stats;
use defrag::{Defrag, FragmentOutcome};
use etherparse::{IpNumber, NetSlice, SlicedPacket, TransportSlice, UdpSlice};
use ikescope_parsers::transport::{classify_udp, UdpContent};
use std::net::{IpAddr, SocketAddr};
use tcp::TcpStreams;

/// How an IKE message travelled.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Transport {
    /// UDP without the non-ESP marker (port 500).
    Udp500,
    /// UDP with the non-ESP marker (NAT-T, port 4500).
    Udp4500,
    /// TCP encapsulation (RFC 9329).
    Tcp,
}

impl Transport {
    pub fn as_str(self) -> &'static str {
        match self {
            Transport::Udp500 => "udp500",
            Transport::Udp4500 => "udp4500",
            Transport::Tcp => "tcp",
        }
    }

    /// IP protocol number (for the flow's `proto` and Community ID).
    pub fn ip_proto(self) -> u8 {
        match self {
            Transport::Tcp => 6,
            _ => 17,
        }
    }
}

/// Where and when a packet was seen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PacketMeta {
    /// Capture timestamp, microseconds since the Unix epoch.
    pub ts_us: i64,
    /// 1-based packet number in its file (as tshark numbers frames).
    pub pcap_cnt: u64,
}

/// One IKE message as carried on the wire (bytes not yet parsed as IKE).
#[derive(Clone, Copy, Debug)]
pub struct Datagram<'a> {
    pub meta: PacketMeta,
    pub src: SocketAddr,
    pub dst: SocketAddr,
    pub transport: Transport,
    /// Number of IP fragments the datagram arrived in (1 when not fragmented).
    pub ip_fragments: u16,
    /// The IKE message (after any non-ESP marker / TCP length).
    pub ike: &'a [u8],
}

/// A datagram whose IP fragments never all arrived.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FragmentLoss {
    /// Packet number and time of the last fragment seen.
    pub last: PacketMeta,
    pub src: IpAddr,
    pub dst: IpAddr,
    pub fragments_seen: u16,
    /// UDP ports, known when the first fragment (offset 0) was seen.
    pub ports: Option<(u16, u16)>,
}

/// Receives what the decoder finds. Implemented by the analysis stages.
pub trait Sink {
    fn ike(&mut self, datagram: &Datagram<'_>);
    fn icmp_error(&mut self, _error: &IcmpError) {}
    fn fragment_loss(&mut self, _loss: &FragmentLoss) {}
}

/// Resource caps (spec §8: every table bounded, with counters for what was dropped).
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Datagrams being reassembled at once.
    pub max_reassemblies: usize,
    /// Fragments accepted for one datagram.
    pub max_fragments_per_datagram: u16,
    /// Capture-time after which an incomplete reassembly is given up.
    pub reassembly_timeout_us: i64,
    /// TCP connections followed at once.
    pub max_tcp_streams: usize,
    /// Buffered, not yet framed octets per TCP direction.
    pub max_tcp_buffer: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_reassemblies: 4096,
            max_fragments_per_datagram: 64,
            reassembly_timeout_us: 30_000_000,
            max_tcp_streams: 4096,
            max_tcp_buffer: 256 * 1024,
        }
    }
}

/// Decoder for one capture stream (state does not cross files: fragments and TCP streams
/// cannot span two captures).
pub struct Decoder {
    link: LinkType,
    defrag: Defrag,
    tcp: TcpStreams,
    pub stats: Stats,
}

/// Addresses of the IP layer a transport payload came with.
#[derive(Clone, Copy)]
struct IpPair {
    src: IpAddr,
    dst: IpAddr,
    fragments: u16,
}

impl Decoder {
    pub fn new(link: LinkType, limits: Limits) -> Self {
        Decoder {
            link,
            defrag: Defrag::new(limits),
            tcp: TcpStreams::new(limits),
            stats: Stats::default(),
        }
    }

    /// Decodes one captured packet. `truncated` is caplen < original length.
    pub fn packet(&mut self, meta: PacketMeta, data: &[u8], truncated: bool, sink: &mut dyn Sink) {
        self.stats.packets += 1;
        if truncated {
            self.stats.packet("truncated");
            return;
        }
        let sliced = match link::slice(self.link, data) {
            Ok(s) => s,
            Err(_) => {
                self.stats.packet("malformed");
                self.stats.parse_error("link");
                return;
            }
        };
        self.sliced(meta, &sliced, sink);
        self.expire(meta, sink);
    }

    fn sliced(&mut self, meta: PacketMeta, p: &SlicedPacket<'_>, sink: &mut dyn Sink) {
        let Some(ip) = ip_pair(p) else {
            self.stats.packet("non_ike");
            return;
        };
        if is_fragment(p) {
            self.stats.fragment("fragment");
            match self.defrag.add(meta, p) {
                FragmentOutcome::Complete {
                    ip_number,
                    payload,
                    fragments,
                } => {
                    self.stats.fragment("reassembled");
                    let pair = IpPair { fragments, ..ip };
                    self.reassembled(meta, pair, ip_number, &payload, sink);
                    self.defrag.recycle(payload);
                }
                FragmentOutcome::Pending => {}
                FragmentOutcome::Rejected(why) => self.stats.fragment(why),
            }
            return;
        }
        match &p.transport {
            Some(TransportSlice::Udp(udp)) => self.udp(
                meta,
                ip,
                udp.source_port(),
                udp.destination_port(),
                udp.payload(),
                sink,
            ),
            Some(TransportSlice::Tcp(tcp)) => {
                self.tcp
                    .segment(meta, ip.src, ip.dst, tcp, &mut self.stats, sink)
            }
            Some(TransportSlice::Icmpv4(icmp)) => {
                self.icmp(icmp::from_v4(meta, ip.src, icmp), sink)
            }
            Some(TransportSlice::Icmpv6(icmp)) => {
                self.icmp(icmp::from_v6(meta, ip.src, icmp), sink)
            }
            Some(_) | None => self.stats.packet("non_ike"),
        }
    }

    fn reassembled(
        &mut self,
        meta: PacketMeta,
        ip: IpPair,
        proto: IpNumber,
        payload: &[u8],
        sink: &mut dyn Sink,
    ) {
        if proto != IpNumber::UDP {
            // Fragmented TCP/ICMP is out of scope: count it, it is not IKE over UDP.
            self.stats.packet("non_ike");
            return;
        }
        match UdpSlice::from_slice(payload) {
            Ok(udp) => self.udp(
                meta,
                ip,
                udp.source_port(),
                udp.destination_port(),
                udp.payload(),
                sink,
            ),
            Err(_) => {
                self.stats.packet("malformed");
                self.stats.parse_error("udp");
            }
        }
    }

    fn udp(
        &mut self,
        meta: PacketMeta,
        ip: IpPair,
        sport: u16,
        dport: u16,
        payload: &[u8],
        sink: &mut dyn Sink,
    ) {
        let (ike, transport) = match classify_udp(sport, dport, payload) {
            Some(UdpContent::Ike { data, marker }) => (
                data,
                if marker {
                    Transport::Udp4500
                } else {
                    Transport::Udp500
                },
            ),
            Some(UdpContent::Esp { .. }) => return self.stats.packet("esp"),
            Some(UdpContent::NatKeepalive) => return self.stats.packet("nat_keepalive"),
            Some(UdpContent::Malformed(_)) => {
                self.stats.parse_error("framing");
                return self.stats.packet("malformed");
            }
            None => return self.stats.packet("non_ike"),
        };
        self.stats.packet("ike");
        let datagram = Datagram {
            meta,
            src: SocketAddr::new(ip.src, sport),
            dst: SocketAddr::new(ip.dst, dport),
            transport,
            ip_fragments: ip.fragments,
            ike,
        };
        sink.ike(&datagram);
    }

    fn icmp(&mut self, error: Option<IcmpError>, sink: &mut dyn Sink) {
        match error {
            Some(e) => {
                self.stats.icmp_errors += 1;
                self.stats.packet("ike");
                sink.icmp_error(&e);
            }
            None => self.stats.packet("non_ike"),
        }
    }

    fn expire(&mut self, now: PacketMeta, sink: &mut dyn Sink) {
        for loss in self.defrag.expire(now.ts_us) {
            self.stats.fragment("incomplete");
            sink.fragment_loss(&loss);
        }
    }

    /// End of capture: everything still waiting is lost.
    pub fn finish(&mut self, sink: &mut dyn Sink) {
        for loss in self.defrag.expire(i64::MAX) {
            self.stats.fragment("incomplete");
            sink.fragment_loss(&loss);
        }
    }
}

fn ip_pair(p: &SlicedPacket<'_>) -> Option<IpPair> {
    let (src, dst) = match &p.net {
        Some(NetSlice::Ipv4(v4)) => (
            IpAddr::V4(v4.header().source_addr()),
            IpAddr::V4(v4.header().destination_addr()),
        ),
        Some(NetSlice::Ipv6(v6)) => (
            IpAddr::V6(v6.header().source_addr()),
            IpAddr::V6(v6.header().destination_addr()),
        ),
        _ => return None,
    };
    Some(IpPair {
        src,
        dst,
        fragments: 1,
    })
}

fn is_fragment(p: &SlicedPacket<'_>) -> bool {
    match &p.net {
        Some(NetSlice::Ipv4(v4)) => v4.header().is_fragmenting_payload(),
        Some(NetSlice::Ipv6(v6)) => v6.extensions().is_fragmenting_payload(),
        _ => false,
    }
}
