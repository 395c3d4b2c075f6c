//! Bounded TCP reassembly for IKE over TCP (RFC 9329). Only in-order data is framed: a gap
//! (lost segment) resets the direction, since RFC 9329 records cannot be re-synchronised
//! without their length prefix. Written by hand because no maintained crate offers a small,
//! bounded, passive TCP reassembler that works on borrowed etherparse slices.

use super::{Datagram, Limits, PacketMeta, Sink, Transport};
use crate::stats::Stats;
use etherparse::TcpSlice;
use ikescope_parsers::transport::{next_tcp_frame, TcpFrame, TcpRecord, NAT_T_PORT};
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};

/// One direction of a TCP connection.
#[derive(Debug)]
struct Direction {
    next_seq: Option<u32>,
    buf: Vec<u8>,
    /// Nothing framed yet: the `IKETCP` prefix may come first.
    at_start: bool,
    /// Framing failed (not RFC 9329 framing): ignore the rest of this direction.
    broken: bool,
    last_seen: u64,
}

impl Direction {
    fn new() -> Self {
        Direction {
            next_seq: None,
            buf: Vec::new(),
            at_start: true,
            broken: false,
            last_seen: 0,
        }
    }
}

pub(super) struct TcpStreams {
    dirs: HashMap<(SocketAddr, SocketAddr), Direction>,
    limits: Limits,
    clock: u64,
}

impl TcpStreams {
    pub(super) fn new(limits: Limits) -> Self {
        TcpStreams {
            dirs: HashMap::new(),
            limits,
            clock: 0,
        }
    }

    pub(super) fn segment(
        &mut self,
        meta: PacketMeta,
        src: IpAddr,
        dst: IpAddr,
        tcp: &TcpSlice<'_>,
        stats: &mut Stats,
        sink: &mut dyn Sink,
    ) {
        let (sport, dport) = (tcp.source_port(), tcp.destination_port());
        if sport != NAT_T_PORT && dport != NAT_T_PORT {
            stats.packet("non_ike");
            return;
        }
        stats.tcp("segments");
        self.clock += 1;
        let key = (SocketAddr::new(src, sport), SocketAddr::new(dst, dport));
        if tcp.rst() || (tcp.fin() && tcp.payload().is_empty()) {
            self.dirs.remove(&key);
            stats.packet("non_ike");
            return;
        }
        if !self.dirs.contains_key(&key) && self.dirs.len() >= self.limits.max_tcp_streams {
            self.evict_oldest(stats);
        }
        let dir = self.dirs.entry(key).or_insert_with(Direction::new);
        dir.last_seen = self.clock;
        let data_seq = if tcp.syn() {
            tcp.sequence_number().wrapping_add(1)
        } else {
            tcp.sequence_number()
        };
        let payload = tcp.payload();
        if !accept(dir, data_seq, payload, self.limits.max_tcp_buffer, stats) {
            stats.packet("non_ike");
            return;
        }
        let framed = frame(dir, meta, key, stats, sink);
        stats.packet(if framed { "ike" } else { "non_ike" });
    }

    fn evict_oldest(&mut self, stats: &mut Stats) {
        if let Some(k) = self
            .dirs
            .iter()
            .min_by_key(|(_, d)| d.last_seen)
            .map(|(k, _)| *k)
        {
            self.dirs.remove(&k);
            stats.tcp("evicted");
        }
    }
}

/// Appends in-order payload; trims retransmitted overlap; resets on a gap.
fn accept(dir: &mut Direction, seq: u32, payload: &[u8], cap: usize, stats: &mut Stats) -> bool {
    if dir.broken {
        return false;
    }
    let expected = *dir.next_seq.get_or_insert(seq);
    let ahead = seq.wrapping_sub(expected) as i32;
    let fresh = if ahead > 0 {
        // Missing bytes before this segment: what is buffered can no longer be framed.
        stats.tcp("gaps");
        dir.buf.clear();
        dir.at_start = false;
        payload
    } else {
        payload
            .get(ahead.unsigned_abs() as usize..)
            .unwrap_or_default()
    };
    if fresh.is_empty() {
        return false;
    }
    if dir.buf.len() + fresh.len() > cap {
        stats.tcp("overflow");
        dir.buf.clear();
        dir.broken = true;
        return false;
    }
    dir.buf.extend_from_slice(fresh);
    dir.next_seq = Some(seq.wrapping_add(payload.len() as u32));
    true
}

/// Frames as many complete records as the buffer holds; returns whether any IKE was found.
fn frame(
    dir: &mut Direction,
    meta: PacketMeta,
    key: (SocketAddr, SocketAddr),
    stats: &mut Stats,
    sink: &mut dyn Sink,
) -> bool {
    let mut used = 0;
    let mut found = false;
    loop {
        let rest = dir.buf.get(used..).unwrap_or_default();
        match next_tcp_frame(rest, dir.at_start) {
            Ok(TcpFrame::Prefix) => used += 6,
            Ok(TcpFrame::Record(record, len)) => {
                used += len;
                stats.tcp("records");
                if let TcpRecord::Ike(ike) = record {
                    found = true;
                    let d = Datagram {
                        meta,
                        src: key.0,
                        dst: key.1,
                        transport: Transport::Tcp,
                        ip_fragments: 1,
                        ike,
                    };
                    sink.ike(&d);
                }
            }
            Ok(TcpFrame::Incomplete) => break,
            Err(_) => {
                // Not RFC 9329 framing: say so once, never guess record boundaries.
                stats.parse_error("framing");
                dir.broken = true;
                dir.buf.clear();
                return found;
            }
        }
        dir.at_start = false;
    }
    dir.buf.drain(..used);
    found
}
