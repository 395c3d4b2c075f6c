//! NDJSON events (spec §5): the common envelope and the writer. Each event kind has its own
//! module with a serialisable model built from decoded data; nothing here parses wire bytes.

mod community_id;
pub mod sa;

pub use community_id::community_id;

use crate::decode::{Datagram, Transport};
use crate::ike::MessageSummary;
use serde::Serialize;
use std::io::{self, Write};
use std::net::SocketAddr;
use std::time::{Duration, UNIX_EPOCH};

pub const SCHEMA_VERSION: u32 = 1;

/// RFC 3339 UTC timestamp with microseconds.
pub fn rfc3339_us(ts_us: i64) -> String {
    let t = UNIX_EPOCH + Duration::from_micros(ts_us.max(0) as u64);
    humantime::format_rfc3339_micros(t).to_string()
}

/// Flow fields of an event tied to one packet.
#[derive(Clone, Debug, Serialize)]
pub struct Flow {
    pub src_ip: String,
    pub src_port: u16,
    pub dest_ip: String,
    pub dest_port: u16,
    pub proto: &'static str,
    pub community_id: String,
}

impl Flow {
    pub fn new(src: SocketAddr, dst: SocketAddr, transport: Transport) -> Self {
        Flow {
            src_ip: src.ip().to_string(),
            src_port: src.port(),
            dest_ip: dst.ip().to_string(),
            dest_port: dst.port(),
            proto: if transport == Transport::Tcp {
                "TCP"
            } else {
                "UDP"
            },
            community_id: community_id(src, dst, transport.ip_proto()),
        }
    }
}

/// Where the packet came from: file + packet number offline, interface live.
#[derive(Clone, Debug, Serialize)]
#[serde(untagged)]
pub enum Origin {
    Offline {
        pcap_filename: String,
        pcap_cnt: u64,
    },
    Live {
        in_iface: String,
    },
}

/// The common envelope; `body` is flattened in (`"ike_message": {...}` etc.).
#[derive(Serialize)]
pub struct Event<'a, B: Serialize> {
    pub timestamp: String,
    pub event_type: &'static str,
    pub schema_version: u32,
    pub sensor: &'a str,
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub flow: Option<Flow>,
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub origin: Option<Origin>,
    #[serde(flatten)]
    pub body: B,
}

/// Writes one JSON object per line to a file or stdout.
pub struct EventWriter {
    out: Box<dyn Write + Send>,
    sensor: String,
}

impl EventWriter {
    pub fn new(out: Box<dyn Write + Send>, sensor: String) -> Self {
        EventWriter { out, sensor }
    }

    pub fn sensor(&self) -> &str {
        &self.sensor
    }

    /// Writes an event tied to a datagram.
    pub fn datagram<B: Serialize>(
        &mut self,
        event_type: &'static str,
        d: &Datagram<'_>,
        origin: Option<Origin>,
        body: B,
    ) -> io::Result<()> {
        let ev = Event {
            timestamp: rfc3339_us(d.meta.ts_us),
            event_type,
            schema_version: SCHEMA_VERSION,
            sensor: &self.sensor,
            flow: Some(Flow::new(d.src, d.dst, d.transport)),
            origin,
            body,
        };
        serde_json::to_writer(&mut self.out, &ev)?;
        self.out.write_all(b"\n")
    }

    /// Writes an event with explicit time, flow and origin.
    pub fn write<B: Serialize>(
        &mut self,
        event_type: &'static str,
        ts_us: i64,
        flow: Option<Flow>,
        origin: Option<Origin>,
        body: B,
    ) -> io::Result<()> {
        let ev = Event {
            timestamp: rfc3339_us(ts_us),
            event_type,
            schema_version: SCHEMA_VERSION,
            sensor: &self.sensor,
            flow,
            origin,
            body,
        };
        serde_json::to_writer(&mut self.out, &ev)?;
        self.out.write_all(b"\n")
    }

    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

/// The sensor name: the host name unless `--sensor-name` says otherwise.
pub fn default_sensor_name() -> String {
    gethostname::gethostname().to_string_lossy().into_owned()
}

/// Body of an `ike_message` event.
#[derive(Serialize)]
pub struct IkeMessageBody<'a> {
    pub ike_message: &'a MessageSummary,
}
