//! Counters of what the pipeline saw and dropped. Names match the `result` / `layer` labels of
//! the Prometheus metrics in the spec (§5).

use serde::Serialize;
use std::collections::BTreeMap;

/// Packet-level and reassembly counters for one run.
#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
pub struct Stats {
    /// Packets read from the capture (after the BPF prefilter).
    pub packets: u64,
    /// `ikescope_packets_total{result}`: ike, esp, nat_keepalive, non_ike, malformed, truncated.
    pub packets_by_result: BTreeMap<&'static str, u64>,
    /// `ikescope_ip_fragments_total{result}`: fragment, reassembled, incomplete, overflow, error.
    pub ip_fragments: BTreeMap<&'static str, u64>,
    /// `ikescope_parse_errors_total{layer}`.
    pub parse_errors: BTreeMap<&'static str, u64>,
    /// TCP (RFC 9329) stream counters: segments, records, gaps, evicted, overflow.
    pub tcp: BTreeMap<&'static str, u64>,
    /// IKE messages decoded.
    pub ike_messages: u64,
    /// ICMP errors quoting IKE.
    pub icmp_errors: u64,
}

fn bump(map: &mut BTreeMap<&'static str, u64>, key: &'static str) {
    *map.entry(key).or_default() += 1;
}

impl Stats {
    pub fn packet(&mut self, result: &'static str) {
        bump(&mut self.packets_by_result, result);
    }

    pub fn fragment(&mut self, result: &'static str) {
        bump(&mut self.ip_fragments, result);
    }

    pub fn parse_error(&mut self, layer: &'static str) {
        bump(&mut self.parse_errors, layer);
    }

    pub fn tcp(&mut self, what: &'static str) {
        bump(&mut self.tcp, what);
    }

    /// Adds another run's counters (one file of several).
    pub fn merge(&mut self, other: &Stats) {
        self.packets += other.packets;
        self.ike_messages += other.ike_messages;
        self.icmp_errors += other.icmp_errors;
        for (dst, src) in [
            (&mut self.packets_by_result, &other.packets_by_result),
            (&mut self.ip_fragments, &other.ip_fragments),
            (&mut self.parse_errors, &other.parse_errors),
            (&mut self.tcp, &other.tcp),
        ] {
            for (k, v) in src {
                *dst.entry(k).or_default() += v;
            }
        }
    }
}
