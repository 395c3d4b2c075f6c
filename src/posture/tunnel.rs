//! Tunnels (peer pairs) over time, and the findings that need more than one SA: posture
//! regression (in the run or against a baseline), IKEv1 fallback, mass re-establishment, policy.

use super::assess::{Assessment, Capabilities, Selected};
use super::model::{Evidence, Posture, SaState, Severity};
use super::rules::Findings;
use crate::policy::Policy;
use serde::Serialize;
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::net::IpAddr;

/// An SA as a tunnel remembers it.
#[derive(Clone, Debug, Serialize)]
pub struct TunnelSa {
    pub posture: Posture,
    pub evidence: Evidence,
    pub key_exchanges: Vec<String>,
    pub selected: Option<Selected>,
    pub version: u8,
    pub spi_i: String,
    pub spi_r: String,
    pub started: i64,
    pub ppk: bool,
    pub state: SaState,
}

/// Recent SA lifetimes of a tunnel (for re-establishment detection).
#[derive(Clone, Copy, Debug)]
struct Life {
    last: i64,
    posture: Posture,
}

const MAX_LIVES: usize = 64;
const MAX_PROPOSALS: usize = 32;

#[derive(Clone, Debug, Serialize)]
pub struct Tunnel {
    pub tunnel: String,
    pub initiator: IpAddr,
    pub responder: IpAddr,
    pub first_seen: i64,
    pub last_seen: i64,
    pub ike_sas: u32,
    pub rekeys: u32,
    pub ike_versions: BTreeSet<u8>,
    /// Newest established SA.
    pub established: Option<TunnelSa>,
    /// Newest SA of any state.
    pub newest: Option<TunnelSa>,
    pub findings: BTreeMap<&'static str, (Severity, u32)>,
    /// The message of each code's first finding (what the report tells the engineer).
    #[serde(skip)]
    pub finding_messages: BTreeMap<&'static str, String>,
    pub nat_t: bool,
    pub transports: BTreeSet<&'static str>,
    pub proposals: BTreeSet<String>,
    pub vendors: BTreeSet<String>,
    pub initiator_caps: Capabilities,
    pub responder_caps: Capabilities,
    pub fragmentation: bool,
    #[serde(skip)]
    best_rank: Option<u8>,
    #[serde(skip)]
    prev_rank: Option<u8>,
    #[serde(skip)]
    lives: VecDeque<Life>,
    #[serde(skip)]
    baseline_flagged: bool,
}

impl Tunnel {
    fn new(a: &Assessment, initiator: IpAddr, responder: IpAddr) -> Self {
        Tunnel {
            tunnel: format!("{initiator}<->{responder}"),
            initiator,
            responder,
            first_seen: a.started,
            last_seen: a.ended,
            ike_sas: 0,
            rekeys: 0,
            ike_versions: BTreeSet::new(),
            established: None,
            newest: None,
            findings: BTreeMap::new(),
            finding_messages: BTreeMap::new(),
            nat_t: false,
            transports: BTreeSet::new(),
            proposals: BTreeSet::new(),
            vendors: BTreeSet::new(),
            initiator_caps: Capabilities::default(),
            responder_caps: Capabilities::default(),
            fragmentation: false,
            best_rank: None,
            prev_rank: None,
            lives: VecDeque::new(),
            baseline_flagged: false,
        }
    }

    /// The tunnel's posture (spec §5): its newest established SA's; otherwise that of its newest
    /// SA (failed, unknown, or only offered).
    pub fn posture(&self) -> (Posture, Evidence) {
        match (&self.established, &self.newest) {
            (Some(e), _) => (e.posture, e.evidence),
            (None, Some(n)) => (n.posture, n.evidence),
            (None, None) => (Posture::Unknown, Evidence::Offered),
        }
    }

    pub fn current(&self) -> Option<&TunnelSa> {
        self.established.as_ref().or(self.newest.as_ref())
    }
}

fn merge_caps(into: &mut Capabilities, from: &Capabilities) {
    into.intermediate |= from.intermediate;
    into.addke |= from.addke;
    into.ppk |= from.ppk;
    into.ppk_int |= from.ppk_int;
    into.fragmentation |= from.fragmentation;
    for m in &from.mlkem {
        if !into.mlkem.contains(m) {
            into.mlkem.push(m.clone());
        }
    }
    for h in &from.signature_hashes {
        if !into.signature_hashes.contains(h) {
            into.signature_hashes.push(*h);
        }
    }
    for v in &from.vendors {
        if !into.vendors.contains(v) {
            into.vendors.push(v.clone());
        }
    }
}

/// Re-establishments seen per gateway, for `mass_reestablishment`.
#[derive(Default)]
struct Gateway {
    times: VecDeque<(i64, Posture, Posture)>,
    quiet_until: i64,
}

/// Threshold and window of `mass_reestablishment`.
pub const MASS_COUNT: usize = 10;
pub const MASS_WINDOW_US: i64 = 60_000_000;
/// An SA that ended at most this long before a new one started is being replaced by it.
const REPLACE_WINDOW_US: i64 = 300_000_000;

/// Prior postures per tunnel (`--baseline`).
pub type Baseline = HashMap<String, Posture>;

pub struct TunnelRegistry {
    tunnels: HashMap<(IpAddr, IpAddr), Tunnel>,
    gateways: HashMap<IpAddr, Gateway>,
    max_tunnels: usize,
    pub evicted: u64,
    pub policy: Option<Policy>,
    pub baseline: Baseline,
}

fn norm(a: IpAddr, b: IpAddr) -> (IpAddr, IpAddr) {
    if a <= b {
        (a, b)
    } else {
        (b, a)
    }
}

impl TunnelRegistry {
    pub fn new(max_tunnels: usize, policy: Option<Policy>, baseline: Baseline) -> Self {
        TunnelRegistry {
            tunnels: HashMap::new(),
            gateways: HashMap::new(),
            max_tunnels,
            evicted: 0,
            policy,
            baseline,
        }
    }

    pub fn tunnels(&self) -> impl Iterator<Item = &Tunnel> {
        self.tunnels.values()
    }

    pub fn len(&self) -> usize {
        self.tunnels.len()
    }

    pub fn is_empty(&self) -> bool {
        self.tunnels.is_empty()
    }

    /// Name of the tunnel an SA belongs to ("initiator<->responder" of its first SA).
    pub fn name_for(&self, a: &Assessment) -> String {
        let (i, r) = ends(a);
        self.tunnels
            .get(&norm(i, r))
            .map_or_else(|| format!("{i}<->{r}"), |t| t.tunnel.clone())
    }

    fn tunnel_mut(&mut self, a: &Assessment) -> &mut Tunnel {
        let (i, r) = ends(a);
        let key = norm(i, r);
        if !self.tunnels.contains_key(&key) && self.tunnels.len() >= self.max_tunnels.max(1) {
            if let Some(old) = self
                .tunnels
                .iter()
                .min_by_key(|(_, t)| t.last_seen)
                .map(|(k, _)| *k)
            {
                self.tunnels.remove(&old);
                self.evicted += 1;
            }
        }
        // A rekey child's initiator may be the original responder: keep the first orientation.
        self.tunnels
            .entry(key)
            .or_insert_with(|| Tunnel::new(a, i, r))
    }

    /// Adds an assessed SA, raising the cross-SA findings into `f`, and tallies all of the SA's
    /// findings in its tunnel.
    pub fn add(&mut self, a: &Assessment, f: &mut Findings<'_>) {
        self.add_sa(a, f);
        self.tally(a, &f.out);
    }

    /// Counts findings in the SA's tunnel (and its last-seen time).
    pub fn tally(&mut self, a: &Assessment, findings: &[super::model::Finding]) {
        let (i, r) = ends(a);
        if let Some(t) = self.tunnels.get_mut(&norm(i, r)) {
            t.last_seen = t.last_seen.max(a.ended);
            for x in findings {
                t.findings.entry(x.code).or_insert((x.severity, 0)).1 += 1;
                t.finding_messages
                    .entry(x.code)
                    .or_insert_with(|| x.message.clone());
            }
        }
    }

    fn add_sa(&mut self, a: &Assessment, f: &mut Findings<'_>) {
        let policy = self.policy.clone();
        let baseline = self.baseline.clone();
        let t = self.tunnel_mut(a);
        t.ike_sas += 1;
        t.rekeys += u32::from(a.rekeyed_from.is_some());
        t.first_seen = t.first_seen.min(a.started);
        t.last_seen = t.last_seen.max(a.ended);
        t.nat_t |= a.nat_detected;
        t.transports.insert(a.transport);
        t.fragmentation |= a.fragmentation_supported;
        for p in a.proposals_offered.iter().take(MAX_PROPOSALS) {
            if t.proposals.len() < MAX_PROPOSALS {
                t.proposals.insert(p.clone());
            }
        }
        merge_caps(&mut t.initiator_caps, &a.initiator_caps);
        merge_caps(&mut t.responder_caps, &a.responder_caps);
        for v in a
            .initiator_caps
            .vendors
            .iter()
            .chain(&a.responder_caps.vendors)
        {
            t.vendors.insert(v.clone());
        }
        if a.version == 1 && t.ike_versions.contains(&2) {
            f.add("ikev1_fallback", Severity::High, format!("Peers {} used IKEv2 earlier and now negotiate IKEv1: a fallback (or an attacker blocking IKEv2) that removes every post-quantum option; disable IKEv1 on both gateways.", t.tunnel), json!({"tunnel": t.tunnel}));
        }
        t.ike_versions.insert(a.version);
        let sa = TunnelSa {
            posture: a.posture,
            evidence: a.evidence,
            key_exchanges: a.key_exchanges.clone(),
            selected: a.selected.clone(),
            version: a.version,
            spi_i: a.spi_i.clone(),
            spi_r: a.spi_r.clone(),
            started: a.started,
            ppk: a.ppk,
            state: a.state,
        };
        if t.newest.as_ref().is_none_or(|n| n.started <= a.started) {
            t.newest = Some(sa.clone());
        }
        if a.state != SaState::Established {
            return;
        }
        let Some(rank) = a.posture.rank() else { return };
        // A rekey child that lost its additional key exchanges is `rekey_posture_drop`.
        if a.rekeyed_from.is_none() {
            regression(t, a, rank, &baseline, f);
        }
        if t.established
            .as_ref()
            .is_none_or(|e| e.started <= a.started)
        {
            t.established = Some(sa);
        }
        if let Some(c) = policy
            .as_ref()
            .and_then(|p| p.class_of(t.initiator, t.responder))
        {
            if !c.require.met_by(a.posture) {
                f.add("policy_violation", c.fallback.severity(), format!("Tunnel class {:?} requires {} but this IKE SA negotiated {} ({}): {}.", c.name, c.require.as_str(), a.posture.as_str(), a.key_exchanges.join("+"), if c.fallback.severity() == Severity::High { "fail-closed policy: treat as an incident" } else { "fallback allowed but logged" }), json!({"class": c.name, "require": c.require.as_str(), "posture": a.posture.as_str()}));
            }
        }
        let replaced = a.rekeyed_from.is_none()
            && t.lives
                .iter()
                .any(|l| l.last <= a.started && a.started - l.last <= REPLACE_WINDOW_US);
        let before = t
            .lives
            .iter()
            .rev()
            .find(|l| l.last <= a.started)
            .map_or(a.posture, |l| l.posture);
        t.lives.push_back(Life {
            last: a.ended,
            posture: a.posture,
        });
        if t.lives.len() > MAX_LIVES {
            t.lives.pop_front();
        }
        let responder = t.responder;
        if replaced {
            self.reestablished(responder, a, before, f);
        }
    }

    fn reestablished(
        &mut self,
        gateway: IpAddr,
        a: &Assessment,
        before: Posture,
        f: &mut Findings<'_>,
    ) {
        let g = self.gateways.entry(gateway).or_default();
        g.times.push_back((a.started, before, a.posture));
        while g
            .times
            .front()
            .is_some_and(|(t, _, _)| a.started - t > MASS_WINDOW_US)
        {
            g.times.pop_front();
        }
        if g.times.len() >= MASS_COUNT && a.started >= g.quiet_until {
            g.quiet_until = a.started + MASS_WINDOW_US;
            let count = |sel: fn(&(i64, Posture, Posture)) -> Posture| {
                let mut m: BTreeMap<&'static str, u32> = BTreeMap::new();
                for x in &g.times {
                    *m.entry(sel(x).as_str()).or_default() += 1;
                }
                m
            };
            let (b, after) = (count(|x| x.1), count(|x| x.2));
            f.add("mass_reestablishment", Severity::Medium, format!("{} IKE SAs to gateway {gateway} were re-established within {} s (restart or HA failover): posture before {:?}, after {:?}; compare them.", g.times.len(), MASS_WINDOW_US / 1_000_000, b, after), json!({"gateway": gateway, "count": g.times.len(), "posture_before": b, "posture_after": after}));
        }
    }

    /// Tunnels in a stable order (by first appearance, then name).
    pub fn sorted(&self) -> Vec<&Tunnel> {
        let mut v: Vec<&Tunnel> = self.tunnels.values().collect();
        v.sort_by(|a, b| (a.first_seen, &a.tunnel).cmp(&(b.first_seen, &b.tunnel)));
        v
    }
}

fn ends(a: &Assessment) -> (IpAddr, IpAddr) {
    let ip = |s: Option<std::net::SocketAddr>| s.map_or(IpAddr::from([0, 0, 0, 0]), |x| x.ip());
    (ip(a.initiator_addr), ip(a.responder_addr))
}

fn regression(t: &mut Tunnel, a: &Assessment, rank: u8, baseline: &Baseline, f: &mut Findings<'_>) {
    if let (Some(best), Some(prev)) = (t.best_rank, t.prev_rank) {
        if rank < best && prev == best {
            let was = t.established.as_ref().map_or("?", |e| e.posture.as_str());
            f.add("posture_regression", Severity::High, format!("Tunnel {} was {was} and its new IKE SA is {} ({}): post-quantum protection was lost; check what changed on the responder (restart, config, firmware).", t.tunnel, a.posture.as_str(), a.key_exchanges.join("+")), json!({"previous": was, "now": a.posture.as_str()}));
        }
    }
    if let Some(b) = baseline.get(&t.tunnel).filter(|_| !t.baseline_flagged) {
        if b.rank().is_some_and(|br| rank < br) {
            t.baseline_flagged = true;
            f.add("posture_regression", Severity::High, format!("Tunnel {} was {} in the baseline and is now {}: post-quantum protection was lost since the baseline was saved.", t.tunnel, b.as_str(), a.posture.as_str()), json!({"baseline": b.as_str(), "now": a.posture.as_str()}));
        }
    }
    t.best_rank = Some(t.best_rank.map_or(rank, |b| b.max(rank)));
    t.prev_rank = Some(rank);
}
