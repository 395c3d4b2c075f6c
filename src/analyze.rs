//! `ikescope analyze`: offline analysis of capture files.

use crate::analysis::{Analyzer, AnalyzerOptions};
use crate::capture::{bpf_filter, expand, Input};
use crate::decode::{Decoder, Limits, LinkType, PacketMeta};
use crate::event::EventWriter;
use crate::metrics::Metrics;
use crate::sink::{EventsOut, MessageSink, Source};
use crate::stats::Stats;
use pcap::{Capture, Offline};
use std::collections::{BTreeMap, HashMap};
use std::io::Read;
use std::path::PathBuf;

/// What `analyze` was asked to do.
pub struct AnalyzeOptions {
    pub inputs: Vec<PathBuf>,
    pub log_messages: bool,
    pub filter: Option<String>,
    pub limits: Limits,
    pub analyzer: AnalyzerOptions,
    /// Show a progress bar on stderr for long inputs (only when stderr is a terminal).
    pub progress: bool,
}

/// A per-input failure: one line for stderr.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InputError {
    pub input: String,
    pub message: String,
}

impl std::fmt::Display for InputError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.input, self.message)
    }
}

/// Messages counted by (IKE version, exchange name, role).
pub type ExchangeCounts = BTreeMap<(u8, String, &'static str), u64>;

/// The outcome of a run.
pub struct RunSummary {
    pub inputs: Vec<String>,
    pub stats: Stats,
    pub exchanges: ExchangeCounts,
    pub errors: Vec<InputError>,
    pub analyzer: Analyzer,
}

/// A progress bar over the bytes of all inputs, for runs long enough to need one. Positions
/// are approximate for pcapng (record sizes are estimated from the packet lengths).
struct Progress {
    bar: Option<indicatif::ProgressBar>,
    base: std::cell::Cell<u64>,
}

impl Progress {
    const MIN_BYTES: u64 = 64 << 20;

    fn new(wanted: bool, inputs: &[Input]) -> Self {
        use std::io::IsTerminal;
        let total: u64 = inputs
            .iter()
            .filter_map(|i| match i {
                Input::File(p) => std::fs::metadata(p).ok().map(|m| m.len()),
                Input::Stdin => None,
            })
            .sum();
        let bar =
            (wanted && total >= Self::MIN_BYTES && std::io::stderr().is_terminal()).then(|| {
                let b = indicatif::ProgressBar::new(total);
                b.set_style(
                    indicatif::ProgressStyle::with_template(
                        "{bar:40} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
                    )
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
                );
                b
            });
        Progress {
            bar,
            base: std::cell::Cell::new(0),
        }
    }

    fn at(&self, offset: u64) {
        if let Some(b) = &self.bar {
            b.set_position(self.base.get() + offset);
        }
    }

    fn done_with(&self, offset: u64) {
        self.base.set(self.base.get() + offset);
        self.at(0);
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}

/// Reads the first octets of a file to tell pcap (fixed-size records: byte offsets can be
/// computed) from pcapng.
fn is_classic_pcap(input: &Input) -> bool {
    let Input::File(p) = input else { return false };
    let mut magic = [0u8; 4];
    let ok = std::fs::File::open(p)
        .and_then(|mut f| f.read_exact(&mut magic))
        .is_ok();
    ok && matches!(
        magic,
        [0xd4, 0xc3, 0xb2, 0xa1]
            | [0xa1, 0xb2, 0xc3, 0xd4]
            | [0x4d, 0x3c, 0xb2, 0xa1]
            | [0xa1, 0xb2, 0x3c, 0x4d]
    )
}

fn open(input: &Input) -> Result<Capture<Offline>, String> {
    let path = match input {
        Input::Stdin => PathBuf::from("-"),
        Input::File(p) => p.clone(),
    };
    Capture::from_file(&path).map_err(|e| {
        let msg = match e {
            pcap::Error::PcapError(m) => m,
            other => other.to_string(),
        };
        // libpcap prefixes some messages with the path already.
        let prefix = format!("{}: ", path.display());
        let msg = msg.strip_prefix(&prefix).unwrap_or(&msg);
        if msg.contains("unknown file format") {
            "not a pcap or pcapng file (unknown file format)".to_string()
        } else {
            msg.to_string()
        }
    })
}

/// Analyses one input, returning its counters; a read error after some packets still keeps
/// what was decoded.
fn analyze_input(
    input: &Input,
    opts: &AnalyzeOptions,
    sink: &mut MessageSink<'_, '_>,
    progress: &Progress,
) -> (Stats, Option<String>) {
    let mut cap = match open(input) {
        Ok(c) => c,
        Err(e) => return (Stats::default(), Some(e)),
    };
    let dlt = cap.get_datalink();
    let Some(link) = LinkType::from_linktype(dlt.0) else {
        let name = dlt.get_name().unwrap_or_else(|_| "?".into());
        return (Stats::default(), Some(format!("unsupported link type {} ({name}); supported: Ethernet, Linux SLL/SLL2, raw IP, NULL/LOOP", dlt.0)));
    };
    let program = match cap.compile(&bpf_filter(link, opts.filter.as_deref()), true) {
        Ok(p) => p,
        Err(e) => {
            return (
                Stats::default(),
                Some(format!("invalid capture filter: {e}")),
            )
        }
    };
    let classic = is_classic_pcap(input);
    let mut decoder = Decoder::new(link, opts.limits);
    let mut pcap_cnt = 0u64;
    let mut offset = 24u64;
    // pcap_loop (for_each) rather than pcap_next_ex per packet: the per-call overhead is what
    // separated ikescope from tcpdump on SPAN-sized files. Every packet is counted (pcap_cnt
    // must match Wireshark's frame numbers), so the filter runs here, not inside libpcap.
    let result = cap.for_each(None, |packet| {
        pcap_cnt += 1;
        offset += 16 + u64::from(packet.header.caplen);
        if !program.filter(packet.data) {
            return;
        }
        let h = packet.header;
        let ts_us = h.ts.tv_sec * 1_000_000 + h.ts.tv_usec;
        let meta = PacketMeta { ts_us, pcap_cnt };
        decoder.packet(meta, packet.data, h.caplen < h.len, sink);
        if pcap_cnt.is_multiple_of(8192) {
            sink.analyzer.expire(ts_us, &mut sink.out);
            progress.at(offset);
        }
    });
    let error = match result {
        Ok(()) | Err(pcap::Error::NoMorePackets) => None,
        Err(e) => {
            let at = if classic {
                format!(" (byte offset {offset})")
            } else {
                String::new()
            };
            let cause = match e {
                pcap::Error::PcapError(m) => m,
                other => other.to_string(),
            };
            Some(format!("packet {}{at}: {cause}", pcap_cnt + 1))
        }
    };
    progress.done_with(offset);
    decoder.finish(sink);
    (decoder.stats, error)
}

/// Runs the analysis over every input; events go to `events` when given. SAs and tunnels span
/// inputs (one capture split into several files is one story).
pub fn run(
    opts: &AnalyzeOptions,
    mut events: Option<&mut EventWriter>,
    metrics: Option<&Metrics>,
) -> RunSummary {
    let (inputs, walk_errors) = expand(&opts.inputs);
    let names: Vec<String> = inputs.iter().map(Input::name).collect();
    let mut analyzer = Analyzer::new(opts.analyzer.clone());
    let mut stats = Stats::default();
    let mut exchanges = ExchangeCounts::new();
    let mut errors: Vec<InputError> = walk_errors
        .into_iter()
        .map(|(input, message)| InputError { input, message })
        .collect();
    let mut write_error = None;
    let progress = Progress::new(opts.progress, &inputs);
    for (idx, input) in inputs.iter().enumerate() {
        let out = EventsOut {
            events: events.as_deref_mut(),
            source: Source::Files(&names),
            write_error: None,
            metrics,
        };
        let mut sink = MessageSink {
            analyzer: &mut analyzer,
            out,
            log_messages: opts.log_messages,
            input: idx as u32,
            v1_initiators: HashMap::new(),
            exchanges: BTreeMap::new(),
            parse_errors: Vec::new(),
            messages: 0,
        };
        let (mut st, error) = analyze_input(input, opts, &mut sink, &progress);
        st.ike_messages += sink.messages;
        for layer in sink.parse_errors.drain(..) {
            st.parse_error(layer);
        }
        write_error = write_error.or(sink.out.write_error.take());
        for (k, v) in std::mem::take(&mut sink.exchanges) {
            *exchanges.entry(k).or_default() += v;
        }
        stats.merge(&st);
        if let Some(message) = error {
            errors.push(InputError {
                input: input.name(),
                message,
            });
        }
    }
    let mut out = EventsOut {
        events,
        source: Source::Files(&names),
        write_error: None,
        metrics,
    };
    analyzer.finish(&mut out);
    if let Some(e) = write_error.or(out.write_error) {
        errors.push(InputError {
            input: "events".into(),
            message: e.to_string(),
        });
    }
    if let Some(m) = metrics {
        m.sync_stats(&stats);
        m.gauges(&analyzer.tracker, &analyzer.tunnels);
    }
    RunSummary {
        inputs: names,
        stats,
        exchanges,
        errors,
        analyzer,
    }
}
