//! The sinks shared by `analyze` and `live`: datagrams → IKE summaries → `ike_message`
//! events, metrics and the analysis; assessments → `ike_sa` / `ike_finding` events.

use crate::analysis::{Analyzer, Output};
use crate::analyze::ExchangeCounts;
use crate::decode::{Datagram, FragmentLoss, IcmpError, IcmpKind, PacketMeta, Sink, Transport};
use crate::event::sa::{IkeFindingBody, IkeSaBody};
use crate::event::{EventWriter, Flow, IkeMessageBody, Origin};
use crate::ike::{self, MessageSummary, Sender};
use crate::metrics::Metrics;
use crate::posture::{Assessment, Finding};
use crate::track::{CloseReason, NetEvent, NetEventKind, Obs};
use std::collections::HashMap;
use std::net::SocketAddr;

/// Where events come from: capture files (offline) or an interface (live).
#[derive(Clone, Copy, Debug)]
pub enum Source<'a> {
    Files(&'a [String]),
    Interface(&'a str),
}

impl Source<'_> {
    pub fn origin(&self, input: u32, pcap_cnt: u64) -> Option<Origin> {
        match self {
            Source::Files(names) => names.get(input as usize).map(|n| Origin::Offline {
                pcap_filename: n.clone(),
                pcap_cnt,
            }),
            Source::Interface(i) => Some(Origin::Live {
                in_iface: (*i).to_string(),
            }),
        }
    }
}

/// Writes `ike_sa` and `ike_finding` events.
pub struct EventsOut<'w> {
    pub events: Option<&'w mut EventWriter>,
    pub source: Source<'w>,
    pub write_error: Option<std::io::Error>,
    pub metrics: Option<&'w Metrics>,
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
        let origin = self.source.origin(input, pcap_cnt);
        if let Err(e) = w.write(event_type, a.ended, flow, origin, body) {
            self.write_error.get_or_insert(e);
        }
    }
}

impl Output for EventsOut<'_> {
    fn sa(&mut self, a: &Assessment, reason: CloseReason, first: bool) {
        if let (Some(m), true) = (self.metrics, first) {
            m.sa(a);
        }
        self.emit("ike_sa", a, IkeSaBody::new(a, reason));
    }

    fn finding(&mut self, a: &Assessment, f: &Finding) {
        if let Some(m) = self.metrics {
            m.finding(f);
        }
        self.emit("ike_finding", a, IkeFindingBody { finding: f });
    }
}

/// IKEv1 has no initiator flag: remember who opened each SA (bounded; cleared when full,
/// which only costs the sender guess of SAs already in flight).
const V1_SENDER_CAP: usize = 65_536;

/// Sink that turns datagrams into message summaries, `ike_message` events and analysis input.
pub struct MessageSink<'a, 'w> {
    pub analyzer: &'a mut Analyzer,
    pub out: EventsOut<'w>,
    pub log_messages: bool,
    pub input: u32,
    pub v1_initiators: HashMap<u64, SocketAddr>,
    pub exchanges: ExchangeCounts,
    pub parse_errors: Vec<&'static str>,
    pub messages: u64,
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
        if let Some(m) = self.out.metrics {
            m.message(s);
        }
        if !self.log_messages {
            return;
        }
        let origin = self.out.source.origin(self.input, d.meta.pcap_cnt);
        let Some(w) = self.out.events.as_deref_mut() else {
            return;
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
