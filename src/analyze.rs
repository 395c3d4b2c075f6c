//! `ikescope analyze`: offline analysis of capture files.

use crate::analysis::{Analyzer, AnalyzerOptions, Output};
use crate::capture::{bpf_filter, expand, Input};
use crate::decode::{
    Datagram, Decoder, FragmentLoss, IcmpError, IcmpKind, Limits, LinkType, PacketMeta, Sink,
    Transport,
};
use crate::event::sa::{IkeFindingBody, IkeSaBody};
use crate::event::{EventWriter, Flow, IkeMessageBody, Origin};
use crate::ike::{self, MessageSummary, Sender};
use crate::posture::{Assessment, Finding};
use crate::stats::Stats;
use crate::track::{CloseReason, NetEvent, NetEventKind, Obs};
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
    pub analyzer: AnalyzerOptions,
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

/// Writes `ike_sa` and `ike_finding` events.
struct EventsOut<'w> {
    events: Option<&'w mut EventWriter>,
    names: &'w [String],
    write_error: Option<std::io::Error>,
}

impl EventsOut<'_> {
    fn emit<B: serde::Serialize>(&mut self, event_type: &'static str, a: &Assessment, body: B) {
        let Some(w) = self.events.as_deref_mut() else {
            return;
        };
        let flow = match (a.initiator_addr, a.responder_addr) {
            (Some(i), Some(r)) => {
                let t = match a.transport {
                    "tcp" => Transport::Tcp,
                    "udp4500" => Transport::Udp4500,
                    _ => Transport::Udp500,
                };
                Some(Flow::new(i, r, t))
            }
            _ => None,
        };
        let (input, pcap_cnt) = a.first_packet;
        let origin = self.names.get(input as usize).map(|n| Origin::Offline {
            pcap_filename: n.clone(),
            pcap_cnt,
        });
        if let Err(e) = w.write(event_type, a.ended, flow, origin, body) {
            self.write_error.get_or_insert(e);
        }
    }
}

impl Output for EventsOut<'_> {
    fn sa(&mut self, a: &Assessment, reason: CloseReason) {
        self.emit("ike_sa", a, IkeSaBody::new(a, reason));
    }

    fn finding(&mut self, a: &Assessment, f: &Finding) {
        self.emit("ike_finding", a, IkeFindingBody { finding: f });
    }
}

/// IKEv1 has no initiator flag: remember who opened each SA (bounded; cleared when full,
/// which only costs the sender guess of SAs already in flight).
const V1_SENDER_CAP: usize = 65_536;

/// Sink that turns datagrams into message summaries, `ike_message` events and analysis input.
struct MessageSink<'a, 'w> {
    analyzer: &'a mut Analyzer,
    out: EventsOut<'w>,
    log_messages: bool,
    input: u32,
    v1_initiators: HashMap<u64, SocketAddr>,
    exchanges: ExchangeCounts,
    parse_errors: Vec<&'static str>,
    messages: u64,
}

impl MessageSink<'_, '_> {
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
        if !self.log_messages {
            return;
        }
        let name = self
            .out
            .names
            .get(self.input as usize)
            .cloned()
            .unwrap_or_default();
        let Some(w) = self.out.events.as_deref_mut() else {
            return;
        };
        let origin = Origin::Offline {
            pcap_filename: name,
            pcap_cnt: d.meta.pcap_cnt,
        };
        if let Err(e) = w.datagram("ike_message", d, origin, IkeMessageBody { ike_message: s }) {
            self.out.write_error.get_or_insert(e);
        }
    }

    fn net(
        &mut self,
        a: std::net::IpAddr,
        b: std::net::IpAddr,
        meta: PacketMeta,
        kind: NetEventKind,
    ) {
        let ev = NetEvent {
            kind,
            pcap_cnt: meta.pcap_cnt,
            input: self.input,
            ts_us: meta.ts_us,
        };
        self.analyzer.net_event(a, b, ev, &mut self.out);
    }
}

/// IP datagram size of an IKE message: IKE + UDP/TCP framing + IP header.
fn wire_size(d: &Datagram<'_>, ike_len: u32) -> u32 {
    let ip = if d.src.is_ipv6() { 40 } else { 20 };
    let framing = match d.transport {
        Transport::Udp500 => 8,
        Transport::Udp4500 => 12,
        Transport::Tcp => 22,
    };
    ike_len + framing + ip
}

/// The tracker's view of one message.
pub fn observation(d: &Datagram<'_>, s: &MessageSummary, input: u32) -> Obs {
    Obs {
        pcap_cnt: d.meta.pcap_cnt,
        input,
        ts_us: d.meta.ts_us,
        src: d.src,
        dst: d.dst,
        transport: d.transport.as_str(),
        exchange: s.exchange_type,
        message_id: s.message_id,
        from_initiator: s.sender == "initiator",
        response: s.role == "response",
        length: s.length,
        wire_size: wire_size(d, s.length),
        ip_fragments: d.ip_fragments,
        encrypted_length: s.encrypted_length.map(|l| l as u32),
        skf: s.skf.map(|k| (k.number, k.total)),
        error_notifies: s
            .notify
            .iter()
            .filter(|n| (1..16384).contains(&n.ntype))
            .map(|n| n.ntype)
            .collect(),
    }
}

impl Sink for MessageSink<'_, '_> {
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
        let obs = observation(d, &summary, self.input);
        self.analyzer.message(obs, &summary, &mut self.out);
    }

    fn icmp_error(&mut self, e: &IcmpError) {
        let kind = match e.kind {
            IcmpKind::FragNeeded { mtu } => NetEventKind::PacketTooBig {
                mtu: mtu.into(),
                quoted_len: e.quoted_len,
            },
            IcmpKind::PacketTooBig { mtu } => NetEventKind::PacketTooBig {
                mtu,
                quoted_len: e.quoted_len,
            },
            IcmpKind::PortUnreachable => NetEventKind::PortUnreachable,
        };
        self.net(e.quoted_src.ip(), e.quoted_dst.ip(), e.meta, kind);
    }

    fn fragment_loss(&mut self, l: &FragmentLoss) {
        let ike_ports = l
            .ports
            .is_none_or(|(a, b)| [a, b].iter().any(|p| *p == 500 || *p == 4500));
        if ike_ports {
            self.net(
                l.src,
                l.dst,
                l.last,
                NetEventKind::FragmentLoss {
                    fragments_seen: l.fragments_seen,
                },
            );
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
        if pcap_cnt.is_multiple_of(8192) {
            sink.analyzer.expire(ts_us, &mut sink.out);
        }
    }
    decoder.finish(sink);
    (decoder.stats, error)
}

/// Runs the analysis over every input; events go to `events` when given. SAs and tunnels span
/// inputs (one capture split into several files is one story).
pub fn run(opts: &AnalyzeOptions, mut events: Option<&mut EventWriter>) -> RunSummary {
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
    for (idx, input) in inputs.iter().enumerate() {
        let out = EventsOut {
            events: events.as_deref_mut(),
            names: &names,
            write_error: None,
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
        let (mut st, error) = analyze_input(input, opts, &mut sink);
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
        names: &names,
        write_error: None,
    };
    analyzer.finish(&mut out);
    if let Some(e) = write_error.or(out.write_error) {
        errors.push(InputError {
            input: "events".into(),
            message: e.to_string(),
        });
    }
    RunSummary {
        inputs: names,
        stats,
        exchanges,
        errors,
        analyzer,
    }
}
