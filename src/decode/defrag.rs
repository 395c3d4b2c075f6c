//! Bounded IP reassembly on top of etherparse's `IpDefragPool`.
//!
//! The pool itself is not safe against memory exhaustion (its docs say so): it never forgets a
//! datagram. This wrapper keeps a side table with the same keys that counts fragments per
//! datagram, caps the number of datagrams in flight, and expires old ones by capture time —
//! reporting each abandoned datagram as a [`FragmentLoss`].

use super::{FragmentLoss, Limits, PacketMeta};
use etherparse::defrag::{IpDefragPayloadVec, IpDefragPool};
use etherparse::{IpNumber, NetSlice, SlicedPacket};
use std::collections::HashMap;
use std::net::IpAddr;

/// Side-table key: the fields the pool keys on that matter here (source, destination,
/// identification, protocol).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct Key {
    src: IpAddr,
    dst: IpAddr,
    id: u32,
    proto: u8,
}

#[derive(Clone, Copy, Debug)]
struct Pending {
    fragments: u16,
    last: PacketMeta,
    ports: Option<(u16, u16)>,
}

pub(super) enum FragmentOutcome {
    Complete {
        ip_number: IpNumber,
        payload: Vec<u8>,
        fragments: u16,
    },
    Pending,
    /// Not accepted; the label says why (an `ip_fragments_total` result).
    Rejected(&'static str),
}

/// The pool's timestamp: capture time of the newest fragment of a datagram.
type Stamp = i64;

pub(super) struct Defrag {
    pool: IpDefragPool<Stamp, ()>,
    pending: HashMap<Key, Pending>,
    limits: Limits,
    /// Oldest timestamp in `pending` may be older than this only after `expire` ran.
    next_expiry_check: i64,
}

struct FragInfo<'a> {
    key: Key,
    offset: u16,
    payload: &'a [u8],
}

fn frag_info<'a>(p: &SlicedPacket<'a>) -> Option<FragInfo<'a>> {
    match &p.net {
        Some(NetSlice::Ipv4(v4)) => {
            let h = v4.header();
            Some(FragInfo {
                key: Key {
                    src: IpAddr::V4(h.source_addr()),
                    dst: IpAddr::V4(h.destination_addr()),
                    id: h.identification().into(),
                    proto: h.protocol().0,
                },
                offset: h.fragments_offset().value(),
                payload: v4.payload().payload,
            })
        }
        Some(NetSlice::Ipv6(v6)) => {
            let frag = v6.extensions().clone().into_iter().find_map(|e| match e {
                etherparse::Ipv6ExtensionSlice::Fragment(f) => Some(f.to_header()),
                _ => None,
            })?;
            Some(FragInfo {
                key: Key {
                    src: IpAddr::V6(v6.header().source_addr()),
                    dst: IpAddr::V6(v6.header().destination_addr()),
                    id: frag.identification,
                    proto: v6.payload().ip_number.0,
                },
                offset: frag.fragment_offset.value(),
                payload: v6.payload().payload,
            })
        }
        _ => None,
    }
}

/// UDP ports from the first fragment (the only one that carries the UDP header).
fn first_fragment_ports(info: &FragInfo<'_>) -> Option<(u16, u16)> {
    if info.offset != 0 || info.key.proto != IpNumber::UDP.0 {
        return None;
    }
    match info.payload.get(..4)? {
        [a, b, c, d] => Some((u16::from_be_bytes([*a, *b]), u16::from_be_bytes([*c, *d]))),
        _ => None,
    }
}

impl Defrag {
    pub(super) fn new(limits: Limits) -> Self {
        Defrag {
            pool: IpDefragPool::new(),
            pending: HashMap::new(),
            limits,
            next_expiry_check: 0,
        }
    }

    pub(super) fn add(&mut self, meta: PacketMeta, p: &SlicedPacket<'_>) -> FragmentOutcome {
        let Some(info) = frag_info(p) else {
            return FragmentOutcome::Rejected("error");
        };
        let key = info.key;
        if !self.pending.contains_key(&key) && self.pending.len() >= self.limits.max_reassemblies {
            return FragmentOutcome::Rejected("overflow");
        }
        let entry = self.pending.entry(key).or_insert(Pending {
            fragments: 0,
            last: meta,
            ports: None,
        });
        entry.fragments = entry.fragments.saturating_add(1);
        entry.last = meta;
        entry.ports = entry.ports.or_else(|| first_fragment_ports(&info));
        if entry.fragments > self.limits.max_fragments_per_datagram {
            // Too many pieces for one datagram: drop it whole rather than grow.
            self.drop_key(key);
            return FragmentOutcome::Rejected("overflow");
        }
        let fragments = entry.fragments;
        match self.pool.process_sliced_packet(p, meta.ts_us, ()) {
            Ok(Some(IpDefragPayloadVec {
                ip_number, payload, ..
            })) => {
                self.pending.remove(&key);
                FragmentOutcome::Complete {
                    ip_number,
                    payload,
                    fragments,
                }
            }
            Ok(None) => FragmentOutcome::Pending,
            Err(_) => {
                self.drop_key(key);
                FragmentOutcome::Rejected("error")
            }
        }
    }

    /// Gives a finished payload buffer back to the pool for reuse.
    pub(super) fn recycle(&mut self, payload: Vec<u8>) {
        self.pool.return_buf(IpDefragPayloadVec {
            ip_number: IpNumber::UDP,
            len_source: etherparse::LenSource::Slice,
            payload,
        });
    }

    fn drop_key(&mut self, key: Key) {
        if let Some(p) = self.pending.remove(&key) {
            // The pool has no per-key removal; its stamp for this datagram is the last one seen.
            let stamp = p.last.ts_us;
            self.pool.retain(|t| *t != stamp);
        }
    }

    /// Abandons datagrams whose newest fragment is older than the timeout at `now_us`
    /// (`i64::MAX` = end of capture: abandon all).
    pub(super) fn expire(&mut self, now_us: i64) -> Vec<FragmentLoss> {
        if self.pending.is_empty() || (now_us < self.next_expiry_check && now_us != i64::MAX) {
            return Vec::new();
        }
        self.next_expiry_check = now_us.saturating_add(self.limits.reassembly_timeout_us / 4);
        let cutoff = now_us.saturating_sub(self.limits.reassembly_timeout_us);
        let keep = |t: &i64| now_us != i64::MAX && *t >= cutoff;
        let mut lost = Vec::new();
        self.pending.retain(|k, p| {
            let stay = keep(&p.last.ts_us);
            if !stay {
                lost.push(FragmentLoss {
                    last: p.last,
                    src: k.src,
                    dst: k.dst,
                    fragments_seen: p.fragments,
                    ports: p.ports,
                });
            }
            stay
        });
        if !lost.is_empty() {
            self.pool.retain(keep);
        }
        lost.sort_by_key(|l| l.last.pcap_cnt);
        lost
    }
}
