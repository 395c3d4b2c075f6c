//! `ikescope live`: the always-on sensor on a SPAN/TAP interface. Capture runs on the main
//! thread; `/metrics` and `/healthz` are served from their own thread and never block it.

use crate::analysis::{Analyzer, AnalyzerOptions};
use crate::capture::bpf_filter;
use crate::decode::{Decoder, Limits, LinkType, PacketMeta};
use crate::event::EventWriter;
use crate::metrics::Metrics;
use crate::sink::{EventsOut, MessageSink, Source};
use crate::stats::Stats;
use pcap::{Active, Capture};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

pub struct LiveOptions {
    pub iface: String,
    pub snaplen: i32,
    pub buffer_size: Option<i32>,
    pub promisc: bool,
    pub filter: Option<String>,
    pub metrics_listen: String,
    pub metrics_tunnels: usize,
    pub events: Option<PathBuf>,
    pub sensor: String,
    pub log_messages: bool,
    pub analyzer: AnalyzerOptions,
    pub stats_interval: Duration,
}

/// What the sensor saw, printed on exit and sent as `capture_stats` events.
#[derive(Clone, Debug, Default, Serialize)]
pub struct CaptureStats {
    pub interface: String,
    pub captured: u64,
    pub kernel_drops: u64,
    pub interface_drops: u64,
    pub ike_messages: u64,
    pub ike_sas: u64,
    pub interface_down_events: u64,
}

#[derive(Serialize)]
struct CaptureStatsBody<'a> {
    capture_stats: &'a CaptureStats,
}

fn now_us() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as i64)
}

/// The exact command that grants capture rights without running as root.
pub fn setcap_hint() -> String {
    let exe = std::env::current_exe().map_or_else(
        |_| "/usr/local/bin/ikescope".into(),
        |p| p.display().to_string(),
    );
    format!("sudo setcap cap_net_raw,cap_net_admin=eip {exe}")
}

/// Interfaces libpcap can open, for the "no such interface" message.
fn interfaces() -> Vec<String> {
    pcap::Device::list()
        .map(|v| v.into_iter().map(|d| d.name).collect())
        .unwrap_or_default()
}

/// Preflight + open. Errors are one line that says what to do.
pub fn open(o: &LiveOptions) -> Result<Capture<Active>, String> {
    let known = interfaces();
    if !known.is_empty()
        && !known.contains(&o.iface)
        && !std::path::Path::new("/sys/class/net")
            .join(&o.iface)
            .exists()
    {
        return Err(format!(
            "no such interface: {} (available: {})",
            o.iface,
            known.join(", ")
        ));
    }
    let mut inactive = Capture::from_device(o.iface.as_str())
        .map_err(|e| format!("{}: {e}", o.iface))?
        .promisc(o.promisc)
        .snaplen(o.snaplen)
        .immediate_mode(true)
        .timeout(200);
    if let Some(b) = o.buffer_size {
        inactive = inactive.buffer_size(b);
    }
    let mut cap = inactive.open().map_err(|e| {
        let msg = e.to_string();
        if msg.contains("ermission") || msg.contains("not permitted") {
            format!(
                "{}: capture needs CAP_NET_RAW (run as root, or: {})",
                o.iface,
                setcap_hint()
            )
        } else if msg.contains("No such device") || msg.contains("doesn't exist") {
            format!("no such interface: {}", o.iface)
        } else {
            format!("{}: {msg}", o.iface)
        }
    })?;
    let link = LinkType::from_linktype(cap.get_datalink().0).ok_or_else(|| {
        format!(
            "{}: unsupported link type {}",
            o.iface,
            cap.get_datalink().0
        )
    })?;
    cap.filter(&bpf_filter(link, o.filter.as_deref()), true)
        .map_err(|e| format!("invalid capture filter: {e}"))?;
    // Non-blocking: libpcap in immediate mode may ignore the read timeout on Linux, and the
    // loop must keep expiring SAs and noticing SIGINT/SIGTERM while the link is quiet.
    cap.setnonblock().map_err(|e| format!("{}: {e}", o.iface))
}

/// Idle wait when no packet is queued (non-blocking capture).
const IDLE: Duration = Duration::from_millis(5);

/// Serves `/metrics` and `/healthz` until `stop`.
fn serve(
    listen: &str,
    metrics: Arc<Metrics>,
    stop: Arc<AtomicBool>,
) -> Result<std::thread::JoinHandle<()>, String> {
    let server = tiny_http::Server::http(listen)
        .map_err(|e| format!("cannot listen on {listen} for metrics: {e}"))?;
    Ok(std::thread::spawn(move || {
        while !stop.load(Ordering::Relaxed) {
            let Ok(Some(req)) = server.recv_timeout(Duration::from_millis(250)) else {
                continue;
            };
            let (code, body, ctype) = match (req.method(), req.url()) {
                (tiny_http::Method::Get, "/metrics") => {
                    (200, metrics.render(), "text/plain; version=0.0.4")
                }
                (tiny_http::Method::Get, "/healthz") => (200, "ok\n".to_string(), "text/plain"),
                _ => (404, "not found\n".to_string(), "text/plain"),
            };
            let header = tiny_http::Header::from_bytes(&b"Content-Type"[..], ctype.as_bytes()).ok();
            let mut resp = tiny_http::Response::from_string(body).with_status_code(code);
            if let Some(h) = header {
                resp = resp.with_header(h);
            }
            let _ = req.respond(resp);
        }
    }))
}

fn open_events(path: &PathBuf, sensor: &str) -> Result<EventWriter, String> {
    let out: Box<dyn std::io::Write + Send> = if path.as_os_str() == "-" {
        Box::new(std::io::BufWriter::new(std::io::stdout()))
    } else {
        let f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| format!("{}: {e}", path.display()))?;
        Box::new(std::io::LineWriter::new(f))
    };
    Ok(EventWriter::new(out, sensor.to_string()))
}

/// Kernel/interface drop counters from pcap stats are u32 and wrap: count by wrapping deltas.
#[derive(Default)]
struct DropCounter {
    last: Option<(u32, u32, u32)>,
}

impl DropCounter {
    fn update(&mut self, s: pcap::Stat, st: &mut CaptureStats, m: &Metrics) {
        let now = (s.received, s.dropped, s.if_dropped);
        if let Some(prev) = self.last {
            let dk = u64::from(now.1.wrapping_sub(prev.1));
            let di = u64::from(now.2.wrapping_sub(prev.2));
            st.kernel_drops += dk;
            st.interface_drops += di;
            m.kernel_drops.inc_by(dk);
            m.interface_drops.inc_by(di);
        } else {
            st.kernel_drops += u64::from(now.1);
            st.interface_drops += u64::from(now.2);
            m.kernel_drops.inc_by(u64::from(now.1));
            m.interface_drops.inc_by(u64::from(now.2));
        }
        self.last = Some(now);
    }
}

fn events_out<'a>(
    events: &'a mut Option<EventWriter>,
    iface: &'a str,
    metrics: &'a Metrics,
) -> EventsOut<'a> {
    EventsOut {
        events: events.as_mut(),
        source: Source::Interface(iface),
        write_error: None,
        metrics: Some(metrics),
    }
}

/// A `capture_stats` event (flushed: it is also the liveness signal of the events file).
fn write_stats(events: &mut Option<EventWriter>, st: &CaptureStats) {
    if let Some(w) = events.as_mut() {
        let _ = w.write(
            "capture_stats",
            now_us(),
            None,
            None,
            CaptureStatsBody { capture_stats: st },
        );
        let _ = w.flush();
    }
}

/// Runs until SIGINT/SIGTERM. SIGHUP reopens the events file (logrotate).
pub fn run(o: LiveOptions) -> Result<CaptureStats, String> {
    let stop = Arc::new(AtomicBool::new(false));
    let hup = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(sig, stop.clone())
            .map_err(|e| format!("signal handler: {e}"))?;
    }
    signal_hook::flag::register(signal_hook::consts::SIGHUP, hup.clone())
        .map_err(|e| format!("signal handler: {e}"))?;
    let mut cap = Some(open(&o)?);
    let metrics = Arc::new(Metrics::new(o.metrics_tunnels));
    let server = serve(&o.metrics_listen, metrics.clone(), stop.clone())?;
    let mut events = o
        .events
        .as_ref()
        .map(|p| open_events(p, &o.sensor))
        .transpose()?;
    let mut analyzer = Analyzer::new(o.analyzer.clone());
    let mut st = CaptureStats {
        interface: o.iface.clone(),
        ..Default::default()
    };
    let mut stats = Stats::default();
    let mut drops = DropCounter::default();
    let mut decoder = cap
        .as_ref()
        .and_then(|c| LinkType::from_linktype(c.get_datalink().0))
        .map(|l| Decoder::new(l, Limits::default()));
    let mut last_house = Instant::now();
    let mut last_stats = Instant::now();
    let mut exchanges = BTreeMap::new();
    // IKEv1 sender attribution must survive from packet to packet.
    let mut v1_initiators = HashMap::new();
    eprintln!(
        "ikescope: capturing on {} (snaplen {}), metrics on http://{}/metrics",
        o.iface, o.snaplen, o.metrics_listen
    );
    while !stop.load(Ordering::Relaxed) {
        if hup.swap(false, Ordering::Relaxed) {
            if let Some(p) = &o.events {
                events = Some(open_events(p, &o.sensor)?);
            }
        }
        match (cap.as_mut(), decoder.as_mut()) {
            (Some(c), Some(dec)) => match c.next_packet() {
                Ok(p) => {
                    st.captured += 1;
                    let ts_us = p.header.ts.tv_sec * 1_000_000 + p.header.ts.tv_usec;
                    let meta = PacketMeta {
                        ts_us,
                        pcap_cnt: st.captured,
                    };
                    let out = events_out(&mut events, &o.iface, &metrics);
                    let mut sink = MessageSink {
                        analyzer: &mut analyzer,
                        out,
                        log_messages: o.log_messages,
                        input: 0,
                        v1_initiators: std::mem::take(&mut v1_initiators),
                        exchanges: std::mem::take(&mut exchanges),
                        parse_errors: Vec::new(),
                        messages: 0,
                    };
                    dec.packet(meta, p.data, p.header.caplen < p.header.len, &mut sink);
                    st.ike_messages += sink.messages;
                    for l in sink.parse_errors.drain(..) {
                        dec.stats.parse_error(l);
                    }
                    exchanges = std::mem::take(&mut sink.exchanges);
                    v1_initiators = std::mem::take(&mut sink.v1_initiators);
                }
                Err(pcap::Error::TimeoutExpired) => std::thread::sleep(IDLE),
                Err(e) => {
                    st.interface_down_events += 1;
                    eprintln!("ikescope: capture on {} stopped ({e}); metrics stay up, retrying every second", o.iface);
                    stats.merge(&dec.stats);
                    cap = None;
                    decoder = None;
                }
            },
            _ => {
                std::thread::sleep(Duration::from_secs(1));
                if let Ok(c) = open(&o) {
                    eprintln!("ikescope: capture on {} resumed", o.iface);
                    decoder = LinkType::from_linktype(c.get_datalink().0)
                        .map(|l| Decoder::new(l, Limits::default()));
                    cap = Some(c);
                }
            }
        }
        if last_house.elapsed() >= Duration::from_secs(1) {
            last_house = Instant::now();
            let mut all = stats.clone();
            if let Some(d) = &decoder {
                all.merge(&d.stats);
            }
            metrics.sync_stats(&all);
            if let Some(s) = cap.as_mut().and_then(|c| c.stats().ok()) {
                drops.update(s, &mut st, &metrics);
            }
            let mut out = events_out(&mut events, &o.iface, &metrics);
            analyzer.checkpoint(now_us(), &mut out);
            analyzer.expire(now_us(), &mut out);
            metrics.gauges(&analyzer.tracker, &analyzer.tunnels);
            st.ike_sas = analyzer.totals.sas;
        }
        if last_stats.elapsed() >= o.stats_interval {
            last_stats = Instant::now();
            write_stats(&mut events, &st);
        }
    }
    if let Some(s) = cap.as_mut().and_then(|c| c.stats().ok()) {
        drops.update(s, &mut st, &metrics);
    }
    let mut out = events_out(&mut events, &o.iface, &metrics);
    analyzer.finish(&mut out);
    st.ike_sas = analyzer.totals.sas;
    metrics.gauges(&analyzer.tracker, &analyzer.tunnels);
    write_stats(&mut events, &st);
    stop.store(true, Ordering::Relaxed);
    let _ = server.join();
    Ok(st)
}
