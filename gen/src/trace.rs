//! A capture being generated: timestamps, link layer, and how IKE messages are carried
//! (UDP 500, UDP 4500 with the non-ESP marker, TCP with RFC 9329 framing).

use crate::net::{self, IpOptions, Link, TcpFlags};
use crate::pcap::{PcapWriter, PcapngWriter};
use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;

/// How an IKE message travels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Carrier {
    Udp,
    /// UDP with the 4-octet non-ESP marker (NAT-T, port 4500).
    UdpNatT,
    /// TCP, RFC 9329 framing.
    Tcp,
}

#[derive(Clone, Debug)]
pub struct Packet {
    pub ts_us: u64,
    pub frame: Vec<u8>,
    /// Original length (> frame length when cut by a snaplen).
    pub orig_len: usize,
    /// pcapng interface index.
    pub interface: u32,
}

/// Packets of one capture, in order.
pub struct Trace {
    pub link: Link,
    pub packets: Vec<Packet>,
    pub clock_us: u64,
    pub mtu: usize,
    pub v6_dest_opts: bool,
    ident: u32,
    /// Next sequence number per TCP direction.
    tcp_seq: HashMap<(SocketAddr, SocketAddr), u32>,
    /// Extra link layers (pcapng interfaces beyond the first).
    pub extra_links: Vec<Link>,
    pub interface: u32,
}

impl Trace {
    pub fn new(link: Link) -> Self {
        Trace {
            link,
            packets: Vec::new(),
            clock_us: 1_764_000_000_000_000,
            mtu: 1500,
            v6_dest_opts: false,
            ident: 0x1000,
            tcp_seq: HashMap::new(),
            extra_links: Vec::new(),
            interface: 0,
        }
    }

    pub fn advance_ms(&mut self, ms: u64) {
        self.clock_us += ms * 1000;
    }

    fn current_link(&self) -> &Link {
        match self.interface {
            0 => &self.link,
            n => self.extra_links.get(n as usize - 1).unwrap_or(&self.link),
        }
    }

    /// The IP packet inside frame `index` (what an ICMP error quotes).
    pub fn ip_packet(&self, index: usize) -> Vec<u8> {
        self.packets
            .get(index)
            .and_then(|p| p.frame.get(self.link.header_len()..))
            .unwrap_or_default()
            .to_vec()
    }

    /// Adds IP packets (already built) as frames, 100 µs apart.
    pub fn push_ip(&mut self, ip_packets: Vec<Vec<u8>>) {
        for ip in ip_packets {
            let frame = self.current_link().frame(&ip);
            let orig_len = frame.len();
            self.packets.push(Packet {
                ts_us: self.clock_us,
                frame,
                orig_len,
                interface: self.interface,
            });
            self.clock_us += 100;
        }
    }

    fn options(&mut self) -> IpOptions {
        self.ident += 1;
        IpOptions {
            mtu: self.mtu,
            ident: self.ident,
            v6_dest_opts: self.v6_dest_opts,
        }
    }

    /// The IP packets of a UDP datagram (fragmented to the trace's MTU).
    pub fn udp_ip(&mut self, from: SocketAddr, to: SocketAddr, payload: &[u8]) -> Vec<Vec<u8>> {
        let t = net::udp(from.ip(), to.ip(), from.port(), to.port(), payload);
        let o = self.options();
        net::ip(from.ip(), to.ip(), 17, &t, o)
    }

    pub fn udp(&mut self, from: SocketAddr, to: SocketAddr, payload: &[u8]) {
        let p = self.udp_ip(from, to, payload);
        self.push_ip(p);
    }

    /// Sends one IKE message.
    pub fn ike(&mut self, from: SocketAddr, to: SocketAddr, carrier: Carrier, msg: &[u8]) {
        match carrier {
            Carrier::Udp => self.udp(from, to, msg),
            Carrier::UdpNatT => {
                let mut p = vec![0, 0, 0, 0];
                p.extend_from_slice(msg);
                self.udp(from, to, &p);
            }
            Carrier::Tcp => {
                let mut rec = ((msg.len() + 6) as u16).to_be_bytes().to_vec();
                rec.extend_from_slice(&[0, 0, 0, 0]);
                rec.extend_from_slice(msg);
                self.tcp_data(from, to, &rec);
            }
        }
        self.advance_ms(1);
    }

    /// Opens a TCP connection (handshake + the initiator's `IKETCP` prefix) if not yet open.
    pub fn tcp_open(&mut self, client: SocketAddr, server: SocketAddr) {
        if self.tcp_seq.contains_key(&(client, server)) {
            return;
        }
        let (ci, si) = (1_000_000u32, 2_000_000u32);
        let syn = TcpFlags {
            syn: true,
            ..Default::default()
        };
        let synack = TcpFlags {
            syn: true,
            ack: true,
            ..Default::default()
        };
        let ack = TcpFlags {
            ack: true,
            ..Default::default()
        };
        self.tcp_segment(client, server, ci, 0, syn, &[]);
        self.tcp_segment(server, client, si, ci + 1, synack, &[]);
        self.tcp_segment(client, server, ci + 1, si + 1, ack, &[]);
        self.tcp_seq.insert((client, server), ci + 1);
        self.tcp_seq.insert((server, client), si + 1);
        self.tcp_data(client, server, b"IKETCP");
    }

    fn tcp_segment(
        &mut self,
        from: SocketAddr,
        to: SocketAddr,
        seq: u32,
        ack: u32,
        flags: TcpFlags,
        data: &[u8],
    ) {
        let t = net::tcp(
            from.ip(),
            to.ip(),
            from.port(),
            to.port(),
            seq,
            ack,
            flags,
            data,
        );
        let o = self.options();
        let p = net::ip(from.ip(), to.ip(), 6, &t, o);
        self.push_ip(p);
    }

    /// Sends stream data in MSS-sized segments.
    pub fn tcp_data(&mut self, from: SocketAddr, to: SocketAddr, data: &[u8]) {
        let seq = *self.tcp_seq.get(&(from, to)).unwrap_or(&1);
        let ack = *self.tcp_seq.get(&(to, from)).unwrap_or(&1);
        let mss = self.mtu.saturating_sub(60).max(64);
        let mut s = seq;
        for chunk in data.chunks(mss) {
            let flags = TcpFlags {
                ack: true,
                psh: true,
                ..Default::default()
            };
            self.tcp_segment(from, to, s, ack, flags, chunk);
            s = s.wrapping_add(chunk.len() as u32);
        }
        self.tcp_seq.insert((from, to), s);
    }

    /// Writes a classic pcap (or pcapng when extra interfaces exist).
    pub fn write(&self, out: impl io::Write) -> io::Result<()> {
        if self.extra_links.is_empty() {
            let mut w = PcapWriter::new(out, self.link.linktype(), 262_144)?;
            for p in &self.packets {
                w.packet(p.ts_us, &p.frame, p.orig_len)?;
            }
            w.into_inner().flush()
        } else {
            let mut types = vec![self.link.linktype()];
            types.extend(self.extra_links.iter().map(Link::linktype));
            let mut w = PcapngWriter::new(out, &types)?;
            for p in &self.packets {
                w.packet(p.interface, p.ts_us, &p.frame)?;
            }
            w.into_inner().flush()
        }
    }
}
