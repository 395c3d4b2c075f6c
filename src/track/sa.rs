//! One IKE SA as observed: the cleartext IKE_SA_INIT messages kept whole (as summaries), every
//! later message kept as an observation (header facts and sizes only — that is all the wire
//! shows of encrypted exchanges).

use crate::ike::MessageSummary;
use std::net::SocketAddr;

/// Where and how a message was seen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Obs {
    pub pcap_cnt: u64,
    /// Index of the input file in the run (offline), 0 live.
    pub input: u32,
    pub ts_us: i64,
    pub src: SocketAddr,
    pub dst: SocketAddr,
    pub transport: &'static str,
    pub exchange: u8,
    pub message_id: u32,
    pub from_initiator: bool,
    pub response: bool,
    /// IKE message length.
    pub length: u32,
    /// IP datagram size on the wire (IKE + UDP/TCP framing + IP header).
    pub wire_size: u32,
    pub ip_fragments: u16,
    pub encrypted_length: Option<u32>,
    pub skf: Option<(u16, u16)>,
    /// Error notify types in a cleartext message (IKEv1 informational, IKE_SA_INIT).
    pub error_notifies: Vec<u16>,
}

impl Obs {
    /// A bare observation (placeholder SAs).
    pub fn at(src: SocketAddr, dst: SocketAddr, ts_us: i64, input: u32) -> Self {
        Obs {
            pcap_cnt: 0,
            input,
            ts_us,
            src,
            dst,
            transport: "udp500",
            exchange: 0,
            message_id: 0,
            from_initiator: true,
            response: false,
            length: 0,
            wire_size: 0,
            ip_fragments: 1,
            encrypted_length: None,
            skf: None,
            error_notifies: Vec::new(),
        }
    }
}

/// A cleartext IKE_SA_INIT (or IKEv1 phase 1) message with its observation.
#[derive(Clone, Debug)]
pub struct InitMessage {
    pub obs: Obs,
    pub msg: MessageSummary,
}

/// Cap on the messages kept per SA (an SA living for days with DPD every few seconds would
/// otherwise grow without bound); beyond it only counters move.
pub const MAX_OBS_PER_SA: usize = 1024;
/// Cap on kept IKE_SA_INIT requests/responses (retransmission floods).
pub const MAX_INIT_PER_SA: usize = 16;

/// A network-level event about the SA's peers: ICMP errors quoting its packets, IP fragments
/// that never reassembled.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NetEvent {
    pub kind: NetEventKind,
    pub pcap_cnt: u64,
    pub input: u32,
    pub ts_us: i64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NetEventKind {
    /// ICMP fragmentation needed / ICMPv6 packet too big, with the MTU and the quoted size.
    PacketTooBig {
        mtu: u32,
        quoted_len: Option<u32>,
    },
    PortUnreachable,
    FragmentLoss {
        fragments_seen: u16,
    },
}

/// Cap on network events kept per SA.
pub const MAX_NET_EVENTS: usize = 32;

/// Identifier of an SA within one run.
pub type SaId = u64;

/// How a rekeyed SA was created from its parent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RekeyLink {
    pub parent: SaId,
    pub parent_spi_i: u64,
    pub parent_spi_r: u64,
    /// Message ID (in the parent) of the CREATE_CHILD_SA that made this SA.
    pub create_child_mid: u32,
    /// IKE_FOLLOWUP_KE exchanges that followed it in the parent.
    pub followup_rounds: u32,
    pub create_child: Option<(Obs, Option<Obs>)>,
}

#[derive(Clone, Debug)]
pub struct IkeSa {
    pub id: SaId,
    pub version: u8,
    pub spi_i: u64,
    pub spi_r: u64,
    /// Other initiator SPIs merged into this negotiation (retries that changed SPI).
    pub other_spis: Vec<u64>,
    pub initiator: SocketAddr,
    pub responder: SocketAddr,
    pub init_requests: Vec<InitMessage>,
    pub init_responses: Vec<InitMessage>,
    /// Count of IKE_SA_INIT requests including those beyond the cap.
    pub init_request_count: u32,
    pub messages: Vec<Obs>,
    pub dropped_messages: u64,
    pub message_count: u64,
    pub bytes: u64,
    pub first_ts: i64,
    pub last_ts: i64,
    /// The first message seen was not the start of the SA (capture began mid-SA).
    pub mid_capture: bool,
    pub rekeyed_from: Option<RekeyLink>,
    /// CREATE_CHILD_SA message IDs already claimed by a child IKE SA.
    pub claimed_rekeys: Vec<u32>,
    /// Input file index of the first message.
    pub input: u32,
    pub net_events: Vec<NetEvent>,
    /// Created only to hold network events of peers with no IKE message seen whole.
    pub placeholder: bool,
}

impl IkeSa {
    pub fn new(
        id: SaId,
        version: u8,
        spi_i: u64,
        spi_r: u64,
        obs: &Obs,
        from_initiator: bool,
    ) -> Self {
        let (initiator, responder) = if from_initiator {
            (obs.src, obs.dst)
        } else {
            (obs.dst, obs.src)
        };
        IkeSa {
            id,
            version,
            spi_i,
            spi_r,
            other_spis: Vec::new(),
            initiator,
            responder,
            init_requests: Vec::new(),
            init_responses: Vec::new(),
            init_request_count: 0,
            messages: Vec::new(),
            dropped_messages: 0,
            message_count: 0,
            bytes: 0,
            first_ts: obs.ts_us,
            last_ts: obs.ts_us,
            mid_capture: false,
            rekeyed_from: None,
            claimed_rekeys: Vec::new(),
            input: obs.input,
            net_events: Vec::new(),
            placeholder: false,
        }
    }

    /// An SA that holds network events (lost fragments, ICMP errors) of two peers whose IKE
    /// messages never arrived whole.
    pub fn placeholder(
        id: SaId,
        src: std::net::IpAddr,
        dst: std::net::IpAddr,
        ev: NetEvent,
    ) -> Self {
        let obs_addr = |ip| SocketAddr::new(ip, 500);
        let mut sa = IkeSa::new(
            id,
            2,
            0,
            0,
            &Obs::at(obs_addr(src), obs_addr(dst), ev.ts_us, ev.input),
            true,
        );
        sa.placeholder = true;
        sa.net_events.push(ev);
        sa
    }

    pub fn add(&mut self, obs: Obs, msg: Option<MessageSummary>) {
        self.message_count += 1;
        self.bytes += u64::from(obs.length);
        self.last_ts = self.last_ts.max(obs.ts_us);
        if let Some(m) = msg {
            let list = if obs.response {
                &mut self.init_responses
            } else {
                &mut self.init_requests
            };
            if !obs.response {
                self.init_request_count += 1;
            }
            if list.len() < MAX_INIT_PER_SA {
                list.push(InitMessage {
                    obs: obs.clone(),
                    msg: m,
                });
            }
        }
        if self.messages.len() < MAX_OBS_PER_SA {
            self.messages.push(obs);
        } else {
            self.dropped_messages += 1;
        }
    }

    /// Observations of one exchange type, in order.
    pub fn of_exchange(&self, exchange: u8) -> impl Iterator<Item = &Obs> {
        self.messages.iter().filter(move |o| o.exchange == exchange)
    }

    /// The peer pair as a tunnel key: IP addresses only (NAT-T port changes keep the tunnel).
    pub fn peers(&self) -> (std::net::IpAddr, std::net::IpAddr) {
        (self.initiator.ip(), self.responder.ip())
    }
}
