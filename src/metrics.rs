//! Prometheus metrics (spec §5), in a private registry: the live sensor serves them on
//! `/metrics`, `analyze --metrics-out` writes them in the node_exporter textfile format.

use crate::ike::MessageSummary;
use crate::posture::tunnel::TunnelRegistry;
use crate::posture::{Assessment, Finding};
use crate::stats::Stats;
use crate::track::Tracker;
use prometheus::{
    Encoder, Gauge, GaugeVec, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGaugeVec,
    Opts, Registry, TextEncoder,
};
use std::collections::BTreeMap;
use std::sync::Mutex;

/// Message size buckets: around the IPv4 minimum (576), the IPv6 minimum MTU (1280), Ethernet
/// (1500), and what ML-KEM-1024 or certificate chains need (3000, 9000).
const SIZE_BUCKETS: &[f64] = &[256.0, 576.0, 1024.0, 1280.0, 1500.0, 2048.0, 3000.0, 9000.0];

pub struct Metrics {
    registry: Registry,
    packets: IntCounterVec,
    messages: IntCounterVec,
    negotiations: IntCounterVec,
    sas: IntGaugeVec,
    tunnels: IntGaugeVec,
    key_exchanges: IntCounterVec,
    findings: IntCounterVec,
    sizes: HistogramVec,
    ip_fragments: IntCounterVec,
    ike_fragments: IntCounterVec,
    parse_errors: IntCounterVec,
    pub kernel_drops: IntCounter,
    pub interface_drops: IntCounter,
    tunnel_info: GaugeVec,
    tunnel_dropped: IntCounter,
    /// Last synced value of each stats counter (counters only move by deltas).
    synced: Mutex<BTreeMap<(&'static str, &'static str), u64>>,
    max_tunnel_series: usize,
}

fn counter(r: &Registry, name: &str, help: &str, labels: &[&str]) -> IntCounterVec {
    let c = IntCounterVec::new(Opts::new(name, help), labels)
        .unwrap_or_else(|e| panic!("metric {name}: {e}"));
    r.register(Box::new(c.clone()))
        .unwrap_or_else(|e| panic!("register {name}: {e}"));
    c
}

fn gauge(r: &Registry, name: &str, help: &str, labels: &[&str]) -> IntGaugeVec {
    let g = IntGaugeVec::new(Opts::new(name, help), labels)
        .unwrap_or_else(|e| panic!("metric {name}: {e}"));
    r.register(Box::new(g.clone()))
        .unwrap_or_else(|e| panic!("register {name}: {e}"));
    g
}

fn single(r: &Registry, name: &str, help: &str) -> IntCounter {
    let c = IntCounter::new(name, help).unwrap_or_else(|e| panic!("metric {name}: {e}"));
    r.register(Box::new(c.clone()))
        .unwrap_or_else(|e| panic!("register {name}: {e}"));
    c
}

impl Metrics {
    /// Builds the registry. Metric definitions are constants: a failure here is a programming
    /// error caught by the tests, never input-dependent.
    pub fn new(max_tunnel_series: usize) -> Self {
        let r = Registry::new();
        let build = Gauge::with_opts(
            Opts::new("ikescope_build_info", "ikescope build")
                .const_label("version", env!("CARGO_PKG_VERSION")),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        build.set(1.0);
        r.register(Box::new(build))
            .unwrap_or_else(|e| panic!("{e}"));
        let sizes = HistogramVec::new(
            HistogramOpts::new(
                "ikescope_ike_message_size_bytes",
                "IKE message length by exchange",
            )
            .buckets(SIZE_BUCKETS.to_vec()),
            &["exchange"],
        )
        .unwrap_or_else(|e| panic!("{e}"));
        r.register(Box::new(sizes.clone()))
            .unwrap_or_else(|e| panic!("{e}"));
        let tunnel_info = GaugeVec::new(
            Opts::new(
                "ikescope_tunnel_info",
                "One series per tunnel (opt-in, capped)",
            ),
            &[
                "tunnel",
                "initiator",
                "responder",
                "posture",
                "key_exchanges",
            ],
        )
        .unwrap_or_else(|e| panic!("{e}"));
        r.register(Box::new(tunnel_info.clone()))
            .unwrap_or_else(|e| panic!("{e}"));
        Metrics {
            packets: counter(
                &r,
                "ikescope_packets_total",
                "Packets after the IKE prefilter by result",
                &["result"],
            ),
            messages: counter(
                &r,
                "ikescope_ike_messages_total",
                "IKE messages",
                &["version", "exchange", "role"],
            ),
            negotiations: counter(
                &r,
                "ikescope_ike_sa_negotiations_total",
                "IKE SAs reported, by posture and evidence",
                &["posture", "evidence"],
            ),
            sas: gauge(
                &r,
                "ikescope_ike_sas",
                "IKE SAs being tracked, by state",
                &["state"],
            ),
            tunnels: gauge(
                &r,
                "ikescope_tunnels",
                "Tunnels (peer pairs) by current posture",
                &["posture"],
            ),
            key_exchanges: counter(
                &r,
                "ikescope_key_exchange_methods_total",
                "Negotiated key exchange methods by slot",
                &["slot", "method"],
            ),
            findings: counter(
                &r,
                "ikescope_findings_total",
                "Findings by code and severity",
                &["code", "severity"],
            ),
            ip_fragments: counter(
                &r,
                "ikescope_ip_fragments_total",
                "IP fragments and reassemblies by result",
                &["result"],
            ),
            ike_fragments: counter(
                &r,
                "ikescope_ike_fragments_total",
                "IKE (RFC 7383) fragments by result",
                &["result"],
            ),
            parse_errors: counter(
                &r,
                "ikescope_parse_errors_total",
                "Parse errors by layer",
                &["layer"],
            ),
            kernel_drops: single(
                &r,
                "ikescope_capture_kernel_drops_total",
                "Packets dropped by the kernel (pcap stats)",
            ),
            interface_drops: single(
                &r,
                "ikescope_capture_interface_drops_total",
                "Packets dropped by the interface (pcap stats)",
            ),
            tunnel_dropped: single(
                &r,
                "ikescope_tunnel_series_dropped_total",
                "Tunnel series not exported because of --metrics-tunnels",
            ),
            sizes,
            tunnel_info,
            registry: r,
            synced: Mutex::new(BTreeMap::new()),
            max_tunnel_series,
        }
    }

    pub fn message(&self, s: &MessageSummary) {
        let exchange = s.exchange.unwrap_or("other");
        self.messages
            .with_label_values(&[&s.version.to_string(), exchange, s.role])
            .inc();
        self.sizes
            .with_label_values(&[exchange])
            .observe(f64::from(s.length));
        if s.skf.is_some() {
            self.ike_fragments.with_label_values(&["fragment"]).inc();
        }
    }

    pub fn sa(&self, a: &Assessment) {
        self.negotiations
            .with_label_values(&[a.posture.as_str(), a.evidence.as_str()])
            .inc();
        for (i, k) in a.key_exchanges.iter().enumerate() {
            let slot = if i == 0 {
                "ke".to_string()
            } else {
                format!("addke{i}")
            };
            self.key_exchanges.with_label_values(&[&slot, k]).inc();
        }
    }

    pub fn finding(&self, f: &Finding) {
        self.findings
            .with_label_values(&[f.code, f.severity.as_str()])
            .inc();
        if f.code == "skf_incomplete" {
            self.ike_fragments.with_label_values(&["incomplete"]).inc();
        }
    }

    /// Brings the stats counters up to `stats` (cumulative values for the whole run).
    pub fn sync_stats(&self, stats: &Stats) {
        let Ok(mut last) = self.synced.lock() else {
            return;
        };
        let mut bump =
            |vec: &IntCounterVec, family: &'static str, label: &'static str, now: u64| {
                let prev = last.entry((family, label)).or_insert(0);
                if now > *prev {
                    vec.with_label_values(&[label]).inc_by(now - *prev);
                    *prev = now;
                }
            };
        for (k, v) in &stats.packets_by_result {
            bump(&self.packets, "packets", k, *v);
        }
        for (k, v) in &stats.ip_fragments {
            bump(&self.ip_fragments, "ip", k, *v);
        }
        for (k, v) in &stats.parse_errors {
            bump(&self.parse_errors, "parse", k, *v);
        }
    }

    /// Gauges: SAs in the table and tunnels by posture; the capped per-tunnel series.
    pub fn gauges(&self, tracker: &Tracker, tunnels: &TunnelRegistry) {
        self.sas.reset();
        self.sas
            .with_label_values(&["tracked"])
            .set(tracker.len() as i64);
        self.tunnels.reset();
        let mut by_posture: BTreeMap<&str, i64> = BTreeMap::new();
        for t in tunnels.tunnels() {
            *by_posture.entry(t.posture().0.as_str()).or_default() += 1;
        }
        for (p, n) in by_posture {
            self.tunnels.with_label_values(&[p]).set(n);
        }
        if self.max_tunnel_series == 0 {
            return;
        }
        self.tunnel_info.reset();
        let sorted = tunnels.sorted();
        for t in sorted.iter().take(self.max_tunnel_series) {
            let kes = t
                .current()
                .map(|c| c.key_exchanges.join("+"))
                .unwrap_or_default();
            self.tunnel_info
                .with_label_values(&[
                    &t.tunnel,
                    &t.initiator.to_string(),
                    &t.responder.to_string(),
                    t.posture().0.as_str(),
                    &kes,
                ])
                .set(1.0);
        }
        let dropped = sorted.len().saturating_sub(self.max_tunnel_series) as u64;
        if dropped > self.tunnel_dropped.get() {
            self.tunnel_dropped
                .inc_by(dropped - self.tunnel_dropped.get());
        }
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let mut buf = Vec::new();
        let _ = TextEncoder::new().encode(&self.registry.gather(), &mut buf);
        String::from_utf8(buf).unwrap_or_default()
    }

    /// Writes the text format atomically (node_exporter's textfile collector reads it).
    pub fn write_file(&self, path: &std::path::Path) -> Result<(), String> {
        let tmp = path.with_extension("prom.tmp");
        std::fs::write(&tmp, self.render())
            .and_then(|_| std::fs::rename(&tmp, path))
            .map_err(|e| format!("{}: {e}", path.display()))
    }
}
