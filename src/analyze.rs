//! `ikescope analyze`: offline analysis of capture files.

use crate::capture::{bpf_filter, expand, Input};
use crate::decode::{Datagram, Decoder, Limits, LinkType, PacketMeta, Sink};
use crate::event::{EventWriter, IkeMessageBody, Origin};
use crate::ike::{self, MessageSummary, Sender};
use crate::stats::Stats;
use pcap::{Capture, Offline};
use std::collections::{BTreeMap, HashMap};
use std::io::Read;
use std::net::SocketAddr;
use std::path::PathBuf;

/// What `analyze` was asked to do.
pub struct AnalyzeOptions {
    pub inputs: Vec<PathBuf>,
    pub log_messages: bool,
    pub filter: Option<String>,
    pub limits: Limits,
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
#[derive(Debug, Default)]
pub struct RunSummary {
    pub inputs: Vec<String>,
    pub stats: Stats,
    pub exchanges: ExchangeCounts,
    pub errors: Vec<InputError>,
}

/// IKEv1 has no initiator flag: remember who opened each SA (bounded; cleared when full,
/// which only costs the sender guess of SAs already in flight).
const V1_SENDER_CAP: usize = 65_536;

/// Sink that turns datagrams into message summaries and `ike_message` events.
struct MessageSink<'w> {
    events: Option<&'w mut EventWriter>,
    input: String,
    v1_initiators: HashMap<u64, SocketAddr>,
    exchanges: ExchangeCounts,
    parse_errors: Vec<&'static str>,
    messages: u64,
    write_error: Option<std::io::Error>,
}

impl MessageSink<'_> {
    fn v1_sender(&mut self, spi_i: u64, d: &Datagram<'_>) -> Sender {
        if self.v1_initiators.len() >= V1_SENDER_CAP {
            self.v1_initiators.clear();
        }
        let init = *self.v1_initiators.entry(spi_i).or_insert(d.src);
        if init == d.src {
            Sender::Initiator
        } else {
            Sender::Responder
        }
    }

    fn record(&mut self, d: &Datagram<'_>, s: &MessageSummary) {
        let exchange = s
            .exchange
            .map_or_else(|| s.exchange_type.to_string(), str::to_string);
        *self
            .exchanges
            .entry((s.version, exchange, s.role))
            .or_default() += 1;
        let Some(w) = self.events.as_deref_mut() else {
            return;
        };
        let origin = Origin::Offline {
            pcap_filename: self.input.clone(),
            pcap_cnt: d.meta.pcap_cnt,
        };
        if let Err(e) = w.datagram("ike_message", d, origin, IkeMessageBody { ike_message: s }) {
            self.write_error.get_or_insert(e);
        }
    }
}

impl Sink for MessageSink<'_> {
    fn ike(&mut self, d: &Datagram<'_>) {
        let msg = match ike::parse(d) {
            Ok(m) => m,
            Err(e) => return self.parse_errors.push(ike::layer_label(&e)),
        };
        self.messages += 1;
        let sender = self.v1_sender(msg.header.spi_i, d);
        let (summary, err) = ike::summarize(&msg, d, sender);
        if let Some(e) = err {
            self.parse_errors.push(ike::layer_label(&e));
        }
        self.record(d, &summary);
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
    sink: &mut MessageSink<'_>,
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
    let mut error = None;
    loop {
        let packet = match cap.next_packet() {
            Ok(p) => p,
            Err(pcap::Error::NoMorePackets) => break,
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
                error = Some(format!("packet {}{at}: {cause}", pcap_cnt + 1));
                break;
            }
        };
        pcap_cnt += 1;
        offset += 16 + u64::from(packet.header.caplen);
        if !program.filter(packet.data) {
            continue;
        }
        let h = packet.header;
        let ts_us = h.ts.tv_sec * 1_000_000 + h.ts.tv_usec;
        let meta = PacketMeta { ts_us, pcap_cnt };
        decoder.packet(meta, packet.data, h.caplen < h.len, sink);
    }
    decoder.finish(sink);
    (decoder.stats, error)
}

/// Runs the analysis over every input; events go to `events` when given.
pub fn run(opts: &AnalyzeOptions, mut events: Option<&mut EventWriter>) -> RunSummary {
    let (inputs, walk_errors) = expand(&opts.inputs);
    let mut summary = RunSummary::default();
    summary.errors.extend(
        walk_errors
            .into_iter()
            .map(|(input, message)| InputError { input, message }),
    );
    for input in &inputs {
        let mut sink = MessageSink {
            events: events.as_deref_mut(),
            input: input.name(),
            v1_initiators: HashMap::new(),
            exchanges: BTreeMap::new(),
            parse_errors: Vec::new(),
            messages: 0,
            write_error: None,
        };
        let (mut stats, error) = analyze_input(input, opts, &mut sink);
        stats.ike_messages += sink.messages;
        for layer in sink.parse_errors.drain(..) {
            stats.parse_error(layer);
        }
        if let Some(e) = sink.write_error.take() {
            summary.errors.push(InputError {
                input: "events".into(),
                message: e.to_string(),
            });
        }
        for (k, v) in std::mem::take(&mut sink.exchanges) {
            *summary.exchanges.entry(k).or_default() += v;
        }
        summary.stats.merge(&stats);
        summary.inputs.push(input.name());
        if let Some(message) = error {
            summary.errors.push(InputError {
                input: input.name(),
                message,
            });
        }
    }
    summary
}
