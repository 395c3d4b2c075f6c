//! IKE SA tracking: groups messages into SAs by SPI, links COOKIE / INVALID_KE_PAYLOAD retries
//! into one negotiation, links IKE SA rekeys to their parent, and bounds the table (LRU
//! eviction). No parsing here: it consumes [`MessageSummary`]s from the IKE stage.

mod sa;

pub use sa::{
    IkeSa, InitMessage, NetEvent, NetEventKind, Obs, RekeyLink, SaId, MAX_INIT_PER_SA,
    MAX_NET_EVENTS, MAX_OBS_PER_SA,
};

use crate::ike::MessageSummary;
use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;

const IKE_SA_INIT: u8 = 34;
const CREATE_CHILD_SA: u8 = 36;
const IKE_FOLLOWUP_KE: u8 = 44;

/// Why an SA left the table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CloseReason {
    /// The table was full: least recently used SA pushed out.
    Evicted,
    /// No message for the idle timeout.
    Idle,
    /// End of the capture (offline) or of the run (live).
    CaptureEnded,
    /// The SPI was reused by a brand-new IKE_SA_INIT.
    Replaced,
    /// Not closed: reported because it was established or failed (live).
    Open,
}

impl CloseReason {
    pub fn as_str(self) -> &'static str {
        match self {
            CloseReason::Evicted => "evicted",
            CloseReason::Idle => "idle_timeout",
            CloseReason::CaptureEnded => "capture_ended",
            CloseReason::Replaced => "replaced",
            CloseReason::Open => "open",
        }
    }
}

#[derive(Clone, Copy, Debug)]
pub struct TrackerLimits {
    /// IKE SAs tracked at once; the least recently active one is evicted beyond it.
    pub max_sas: usize,
    /// Capture time after which a silent SA is closed.
    pub idle_timeout_us: i64,
    /// How far back a CREATE_CHILD_SA may be to explain a new SPI pair as its rekey.
    pub rekey_window_us: i64,
    /// How long after a COOKIE / INVALID_KE_PAYLOAD answer a new IKE_SA_INIT counts as the retry.
    pub retry_window_us: i64,
}

impl Default for TrackerLimits {
    fn default() -> Self {
        TrackerLimits {
            max_sas: 100_000,
            idle_timeout_us: 3_600_000_000,
            rekey_window_us: 60_000_000,
            retry_window_us: 30_000_000,
        }
    }
}

/// A closed SA, ready for classification.
pub type Closed = (IkeSa, CloseReason);

fn pair(a: IpAddr, b: IpAddr) -> (IpAddr, IpAddr) {
    if a <= b {
        (a, b)
    } else {
        (b, a)
    }
}

#[derive(Default)]
pub struct Tracker {
    /// Boxed: an SA is large, and rehashing the table must not move them all.
    sas: HashMap<SaId, Box<IkeSa>>,
    by_spi: HashMap<(u8, u64), SaId>,
    /// LRU index: touch counter → SA.
    lru: BTreeMap<u64, SaId>,
    touched: HashMap<SaId, u64>,
    /// SAs between two addresses (unordered), for rekey and retry linking.
    by_peers: HashMap<(IpAddr, IpAddr), Vec<SaId>>,
    /// Initiator/responder address pairs whose last IKE_SA_INIT answer asked for a retry.
    pending_retry: HashMap<(IpAddr, IpAddr), SaId>,
    next_id: SaId,
    clock: u64,
    limits: TrackerLimits,
    /// SAs that received a message since the last `take_dirty` (bounded by the table).
    dirty: std::collections::HashSet<SaId>,
    /// SAs pushed out by the cap.
    pub evicted: u64,
    /// Highest number of SAs held at once.
    pub peak: usize,
}

impl Tracker {
    pub fn new(limits: TrackerLimits) -> Self {
        Tracker {
            limits,
            ..Default::default()
        }
    }

    pub fn len(&self) -> usize {
        self.sas.len()
    }

    pub fn is_empty(&self) -> bool {
        self.sas.is_empty()
    }

    pub fn get(&self, id: SaId) -> Option<&IkeSa> {
        self.sas.get(&id).map(|b| &**b)
    }

    /// SAs currently open between two addresses.
    pub fn between(&self, a: IpAddr, b: IpAddr) -> impl Iterator<Item = &IkeSa> {
        self.by_peers
            .get(&pair(a, b))
            .into_iter()
            .flatten()
            .filter_map(|id| self.sas.get(id).map(|b| &**b))
    }

    fn touch(&mut self, id: SaId) {
        self.clock += 1;
        if let Some(old) = self.touched.insert(id, self.clock) {
            self.lru.remove(&old);
        }
        self.lru.insert(self.clock, id);
    }

    /// Asks for an SA to be looked at again at the next `take_dirty`.
    pub fn mark_dirty(&mut self, id: SaId) {
        if self.sas.contains_key(&id) {
            self.dirty.insert(id);
        }
    }

    /// SAs changed since the last call.
    pub fn take_dirty(&mut self) -> Vec<SaId> {
        let mut v: Vec<SaId> = self.dirty.drain().collect();
        v.sort_unstable();
        v
    }

    fn remove(&mut self, id: SaId) -> Option<IkeSa> {
        self.dirty.remove(&id);
        let sa = *self.sas.remove(&id)?;
        if let Some(t) = self.touched.remove(&id) {
            self.lru.remove(&t);
        }
        for spi in std::iter::once(sa.spi_i).chain(sa.other_spis.iter().copied()) {
            if self.by_spi.get(&(sa.version, spi)) == Some(&id) {
                self.by_spi.remove(&(sa.version, spi));
            }
        }
        let key = pair(sa.initiator.ip(), sa.responder.ip());
        if let Some(v) = self.by_peers.get_mut(&key) {
            v.retain(|x| *x != id);
            if v.is_empty() {
                self.by_peers.remove(&key);
            }
        }
        self.pending_retry.retain(|_, v| *v != id);
        Some(sa)
    }

    fn insert(&mut self, sa: IkeSa, closed: &mut Vec<Closed>) -> SaId {
        let key = (sa.version, sa.spi_i);
        let id = self.insert_unkeyed(sa, closed);
        self.by_spi.insert(key, id);
        id
    }

    /// Inserts without an SPI key (placeholders are found by peers only).
    fn insert_unkeyed(&mut self, sa: IkeSa, closed: &mut Vec<Closed>) -> SaId {
        while self.sas.len() >= self.limits.max_sas.max(1) {
            let Some((_, &victim)) = self.lru.iter().next() else {
                break;
            };
            if let Some(v) = self.remove(victim) {
                self.evicted += 1;
                closed.push((v, CloseReason::Evicted));
            }
        }
        let id = sa.id;
        let peers = self
            .by_peers
            .entry(pair(sa.initiator.ip(), sa.responder.ip()))
            .or_default();
        peers.push(id);
        // Bound the per-pair index too (a flood between two hosts).
        if peers.len() > 4096 {
            peers.remove(0);
        }
        self.sas.insert(id, Box::new(sa));
        self.peak = self.peak.max(self.sas.len());
        id
    }

    fn new_sa(
        &mut self,
        version: u8,
        spi_i: u64,
        spi_r: u64,
        obs: &Obs,
        closed: &mut Vec<Closed>,
    ) -> SaId {
        self.next_id += 1;
        let sa = IkeSa::new(self.next_id, version, spi_i, spi_r, obs, obs.from_initiator);
        self.insert(sa, closed)
    }

    /// Adds one message. Returns SAs closed as a side effect (eviction, SPI reuse).
    pub fn message(&mut self, obs: Obs, msg: &MessageSummary) -> Vec<Closed> {
        let mut closed = Vec::new();
        let (spi_i, spi_r) = (msg.spi_i, msg.spi_r);
        let version = msg.version;
        let is_init = (version == 2 && msg.exchange_type == IKE_SA_INIT)
            || (version == 1 && obs.message_id == 0 && matches!(msg.exchange_type, 2 | 4));
        let id = if is_init && !obs.response {
            self.init_request(version, spi_i, msg, &obs, &mut closed)
        } else {
            self.existing_or_new(version, spi_i, spi_r, &obs, is_init, &mut closed)
        };
        let keep = is_init.then(|| msg.clone());
        let Some(sa) = self.sas.get_mut(&id) else {
            return closed;
        };
        if sa.spi_r == 0 && spi_r != 0 {
            sa.spi_r = spi_r;
        }
        if is_init && obs.response && version == 2 && msg.proposals.is_empty() {
            self.pending_retry
                .insert((sa.initiator.ip(), sa.responder.ip()), id);
        }
        sa.add(obs, keep);
        self.touch(id);
        self.dirty.insert(id);
        closed
    }

    fn in_init_phase(sa: &IkeSa) -> bool {
        sa.messages
            .iter()
            .all(|o| o.exchange == IKE_SA_INIT || (sa.version == 1 && o.message_id == 0))
    }

    fn init_request(
        &mut self,
        version: u8,
        spi_i: u64,
        msg: &MessageSummary,
        obs: &Obs,
        closed: &mut Vec<Closed>,
    ) -> SaId {
        if let Some(&id) = self.by_spi.get(&(version, spi_i)) {
            if self.sas.get(&id).is_some_and(|sa| Self::in_init_phase(sa)) {
                self.pending_retry.retain(|_, v| *v != id);
                return id;
            }
            if let Some(old) = self.remove(id) {
                closed.push((old, CloseReason::Replaced));
            }
        }
        // A retry after COOKIE / INVALID_KE_PAYLOAD may come with a fresh SPI (RFC 7296 §2.6
        // lets the initiator choose): same peers, shortly after the answer → same negotiation.
        let key = (obs.src.ip(), obs.dst.ip());
        if version == 2 && Self::answers_a_retry_request(msg) {
            if let Some(id) = self.pending_retry.remove(&key) {
                let window = self.limits.retry_window_us;
                if let Some(sa) = self
                    .sas
                    .get_mut(&id)
                    .filter(|sa| obs.ts_us - sa.last_ts <= window)
                {
                    if sa.spi_i != spi_i && !sa.other_spis.contains(&spi_i) {
                        sa.other_spis.push(spi_i);
                        self.by_spi.insert((version, spi_i), id);
                    }
                    return id;
                }
            }
        }
        self.new_sa(version, spi_i, 0, obs, closed)
    }

    /// A retry with a fresh SPI must show why it is a retry: the COOKIE notify first
    /// (RFC 7296 §2.6). Without it, SAs that share a peer pair (many tunnels between two
    /// gateways) would be merged. INVALID_KE_PAYLOAD retries keep their SPI in every
    /// implementation seen, and are linked by SPI.
    fn answers_a_retry_request(msg: &MessageSummary) -> bool {
        msg.notify.first().is_some_and(|n| n.ntype == 16390) && msg.payloads.first() == Some(&41)
    }

    fn existing_or_new(
        &mut self,
        version: u8,
        spi_i: u64,
        spi_r: u64,
        obs: &Obs,
        is_init: bool,
        closed: &mut Vec<Closed>,
    ) -> SaId {
        if let Some(&id) = self.by_spi.get(&(version, spi_i)) {
            let same = self
                .sas
                .get(&id)
                .is_some_and(|sa| sa.spi_r == 0 || spi_r == 0 || sa.spi_r == spi_r);
            if same {
                return id;
            }
        }
        let id = self.new_sa(version, spi_i, spi_r, obs, closed);
        if !is_init {
            self.link_rekey(id, obs);
        }
        id
    }

    /// A new SPI pair between known peers right after a CREATE_CHILD_SA of theirs is that
    /// exchange's IKE SA rekey (RFC 7296 §1.3.2); otherwise the capture began mid-SA.
    fn link_rekey(&mut self, id: SaId, obs: &Obs) {
        let window = self.limits.rekey_window_us;
        let parent = self
            .between(obs.src.ip(), obs.dst.ip())
            .filter(|p| p.id != id)
            .filter_map(|p| {
                let cc = p
                    .messages
                    .iter()
                    .rev()
                    .filter(|o| {
                        o.exchange == CREATE_CHILD_SA
                            && !o.response
                            && !p.claimed_rekeys.contains(&o.message_id)
                    })
                    .find(|o| o.ts_us <= obs.ts_us && obs.ts_us - o.ts_us <= window)?;
                Some((p.id, cc.clone()))
            })
            .max_by_key(|(_, o)| o.ts_us);
        let Some((pid, cc)) = parent else {
            if let Some(sa) = self.sas.get_mut(&id) {
                sa.mid_capture = true;
            }
            return;
        };
        let Some(p) = self.sas.get_mut(&pid) else {
            return;
        };
        p.claimed_rekeys.push(cc.message_id);
        let response = p
            .messages
            .iter()
            .find(|o| o.exchange == CREATE_CHILD_SA && o.response && o.message_id == cc.message_id)
            .cloned();
        let followups = followup_rounds_after(p, &cc);
        let link = RekeyLink {
            parent: pid,
            parent_spi_i: p.spi_i,
            parent_spi_r: p.spi_r,
            create_child_mid: cc.message_id,
            followup_rounds: followups,
            create_child: Some((cc, response)),
        };
        if let Some(sa) = self.sas.get_mut(&id) {
            sa.rekeyed_from = Some(link);
        }
    }

    /// Attaches a network event to the most recently active SA between two addresses; with no
    /// such SA, to a placeholder SA of the pair (`src` as initiator), so the loss is reported.
    /// Returns SAs evicted to make room.
    pub fn attach(&mut self, src: IpAddr, dst: IpAddr, ev: NetEvent) -> Vec<Closed> {
        let newest = self
            .between(src, dst)
            .max_by_key(|s| s.last_ts)
            .map(|s| s.id);
        if let Some(sa) = newest.and_then(|id| self.sas.get_mut(&id)) {
            if sa.net_events.len() < MAX_NET_EVENTS {
                sa.net_events.push(ev);
            }
            return Vec::new();
        }
        let mut closed = Vec::new();
        self.next_id += 1;
        let sa = IkeSa::placeholder(self.next_id, src, dst, ev);
        let id = self.insert_unkeyed(sa, &mut closed);
        self.touch(id);
        closed
    }

    /// Closes SAs silent for longer than the idle timeout at capture time `now_us`.
    pub fn expire(&mut self, now_us: i64) -> Vec<Closed> {
        let idle = self.limits.idle_timeout_us;
        let stale: Vec<SaId> = self
            .sas
            .values()
            .filter(|s| now_us - s.last_ts > idle)
            .map(|s| s.id)
            .collect();
        let mut out: Vec<Closed> = stale
            .into_iter()
            .filter_map(|id| self.remove(id))
            .map(|s| (s, CloseReason::Idle))
            .collect();
        out.sort_by_key(|(s, _)| s.first_ts);
        out
    }

    /// Closes everything (end of capture), oldest first.
    pub fn finish(&mut self) -> Vec<Closed> {
        let ids: Vec<SaId> = self.sas.keys().copied().collect();
        let mut out: Vec<Closed> = ids
            .into_iter()
            .filter_map(|id| self.remove(id))
            .map(|s| (s, CloseReason::CaptureEnded))
            .collect();
        out.sort_by_key(|(s, _)| (s.first_ts, s.id));
        out
    }
}

/// IKE_FOLLOWUP_KE exchanges (complete or not) after a CREATE_CHILD_SA request and before the
/// next CREATE_CHILD_SA request of the same SA.
pub fn followup_rounds_after(sa: &IkeSa, cc: &Obs) -> u32 {
    let mut mids: Vec<u32> = Vec::new();
    for o in sa.messages.iter().filter(|o| o.ts_us >= cc.ts_us) {
        if o.exchange == CREATE_CHILD_SA && !o.response && o.message_id != cc.message_id {
            break;
        }
        if o.exchange == IKE_FOLLOWUP_KE && !o.response && !mids.contains(&o.message_id) {
            mids.push(o.message_id);
        }
    }
    mids.len() as u32
}
