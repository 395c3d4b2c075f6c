//! The analysis stage: tracker → classification → per-SA and cross-SA findings → outputs.
//! Shared by `analyze` (offline) and the live sensor.

use crate::ike::MessageSummary;
use crate::policy::Policy;
use crate::posture::rules::{sa_findings, Findings};
use crate::posture::tunnel::{Baseline, TunnelRegistry};
use crate::posture::{classify, Assessment, Finding, ParentView, Posture, SaState, Severity};
use crate::track::{CloseReason, IkeSa, NetEvent, Obs, SaId, Tracker, TrackerLimits};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::net::IpAddr;

/// Receives the analysis results as they are produced.
pub trait Output {
    /// An SA report; `first` is false for the closing event of an SA reported while open.
    fn sa(&mut self, a: &Assessment, reason: CloseReason, first: bool);
    fn finding(&mut self, a: &Assessment, f: &Finding);
}

/// An output that drops everything (tests, benchmarks).
pub struct NoOutput;

impl Output for NoOutput {
    fn sa(&mut self, _: &Assessment, _: CloseReason, _: bool) {}
    fn finding(&mut self, _: &Assessment, _: &Finding) {}
}

#[derive(Clone, Debug)]
pub struct AnalyzerOptions {
    pub tracker: TrackerLimits,
    pub max_tunnels: usize,
    pub policy: Option<Policy>,
    pub baseline: Baseline,
}

impl Default for AnalyzerOptions {
    fn default() -> Self {
        AnalyzerOptions {
            tracker: TrackerLimits::default(),
            max_tunnels: 100_000,
            policy: None,
            baseline: Baseline::new(),
        }
    }
}

/// Totals over a run, for the summary and metrics.
#[derive(Clone, Debug, Default)]
pub struct Totals {
    pub sas: u64,
    pub sas_by_posture: BTreeMap<(&'static str, &'static str), u64>,
    pub findings: BTreeMap<(&'static str, Severity), u64>,
    pub key_exchanges: BTreeMap<(String, String), u64>,
}

impl Totals {
    /// Whether any finding reached `severity` (`--fail-on`).
    pub fn any_at_least(&self, severity: Severity) -> bool {
        self.findings.keys().any(|(_, s)| *s >= severity)
    }
}

/// Quiet time before a live SA that looks failed is reported as failed.
const FAILURE_SETTLE_US: i64 = 30_000_000;

/// Parent views kept for rekey children (bounded FIFO).
const MAX_PARENTS: usize = 65_536;

pub struct Analyzer {
    pub tracker: Tracker,
    pub tunnels: TunnelRegistry,
    parents: HashMap<SaId, ParentView>,
    parent_order: VecDeque<SaId>,
    /// SAs reported while open, with the finding codes already sent.
    reported: HashMap<SaId, Vec<&'static str>>,
    pub totals: Totals,
}

fn parent_view(a: &Assessment) -> ParentView {
    ParentView {
        posture: a.posture,
        key_exchange_ids: a.key_exchange_ids.clone(),
        ppk: a.ppk,
        selected: a.selected.clone(),
        spi: format!("{}/{}", a.spi_i, a.spi_r),
    }
}

impl Analyzer {
    pub fn new(o: AnalyzerOptions) -> Self {
        Analyzer {
            tracker: Tracker::new(o.tracker),
            tunnels: TunnelRegistry::new(o.max_tunnels, o.policy, o.baseline),
            parents: HashMap::new(),
            parent_order: VecDeque::new(),
            reported: HashMap::new(),
            totals: Totals::default(),
        }
    }

    /// One IKE message.
    pub fn message(&mut self, obs: Obs, msg: &MessageSummary, out: &mut dyn Output) {
        for (sa, reason) in self.tracker.message(obs, msg) {
            self.close(sa, reason, out);
        }
    }

    /// An ICMP error or lost fragments between two addresses (`a` sent the packet).
    pub fn net_event(&mut self, a: IpAddr, b: IpAddr, ev: NetEvent, out: &mut dyn Output) {
        for (sa, reason) in self.tracker.attach(a, b, ev) {
            self.close(sa, reason, out);
        }
    }

    /// Closes SAs idle at capture time `now_us`.
    pub fn expire(&mut self, now_us: i64, out: &mut dyn Output) {
        for (sa, reason) in self.tracker.expire(now_us) {
            self.close(sa, reason, out);
        }
    }

    /// End of input: every SA is closed and reported, oldest first.
    pub fn finish(&mut self, out: &mut dyn Output) {
        for (sa, reason) in self.tracker.finish() {
            self.close(sa, reason, out);
        }
    }

    fn parent_of(&self, sa: &IkeSa) -> Option<ParentView> {
        let link = sa.rekeyed_from.as_ref()?;
        if let Some(p) = self.parents.get(&link.parent) {
            return Some(p.clone());
        }
        // Parent still open (the child closed first): classify it as it stands.
        let p = self.tracker.get(link.parent)?;
        let pp = self.parent_of(p);
        Some(parent_view(&classify(p, pp.as_ref())))
    }

    fn close(&mut self, sa: IkeSa, reason: CloseReason, out: &mut dyn Output) {
        let earlier = self.reported.remove(&sa.id);
        self.report(&sa, reason, earlier, out);
    }

    /// Live: reports SAs that became established or failed since the last checkpoint, while
    /// they are still open (spec §5: an `ike_sa` event when an SA is established or fails).
    /// Each SA reaches the tunnel table once; its closing event later adds only new findings.
    pub fn checkpoint(&mut self, now_us: i64, out: &mut dyn Output) {
        for id in self.tracker.take_dirty() {
            if self.reported.contains_key(&id) {
                continue;
            }
            let Some(sa) = self.tracker.get(id) else {
                continue;
            };
            let parent = self.parent_of(sa);
            let state = classify(sa, parent.as_ref()).state;
            // A failure inferred from unanswered retransmissions may still turn into success
            // when the answer is only late: report it once the SA has been quiet a while.
            let settled = now_us - sa.last_ts >= FAILURE_SETTLE_US;
            match state {
                SaState::Established => {}
                SaState::Failed if settled => {}
                SaState::Failed => {
                    self.tracker.mark_dirty(id);
                    continue;
                }
                _ => continue,
            }
            let sa = sa.clone();
            self.report(&sa, CloseReason::Open, None, out);
        }
    }

    /// Classifies, finds, tallies and emits. `earlier`: codes already reported for this SA.
    fn report(
        &mut self,
        sa: &IkeSa,
        reason: CloseReason,
        earlier: Option<Vec<&'static str>>,
        out: &mut dyn Output,
    ) {
        let parent = self.parent_of(sa);
        let mut a = classify(sa, parent.as_ref());
        let tunnel = self.tunnels.name_for(&a);
        let mut f = Findings::new(&a, tunnel);
        sa_findings(sa, &a, parent.as_ref(), &mut f);
        let first = earlier.is_none();
        let findings = match &earlier {
            None => {
                self.tunnels.add(&a, &mut f);
                f.out
            }
            Some(seen) => {
                let new: Vec<Finding> = f
                    .out
                    .into_iter()
                    .filter(|x| !seen.contains(&x.code))
                    .collect();
                self.tunnels.tally(&a, &new);
                new
            }
        };
        self.count(&a, &findings, first);
        a.findings = findings;
        out.sa(&a, reason, first);
        for x in &a.findings {
            out.finding(&a, x);
        }
        if reason == CloseReason::Open {
            self.reported
                .insert(a.sa_id, a.findings.iter().map(|x| x.code).collect());
        }
        self.parents.insert(a.sa_id, parent_view(&a));
        self.parent_order.push_back(a.sa_id);
        if self.parent_order.len() > MAX_PARENTS {
            if let Some(old) = self.parent_order.pop_front() {
                self.parents.remove(&old);
            }
        }
    }

    fn count(&mut self, a: &Assessment, findings: &[Finding], first: bool) {
        let t = &mut self.totals;
        for x in findings {
            *t.findings.entry((x.code, x.severity)).or_default() += 1;
        }
        if !first {
            return;
        }
        t.sas += 1;
        *t.sas_by_posture
            .entry((a.posture.as_str(), a.evidence.as_str()))
            .or_default() += 1;
        if a.posture != Posture::Failed {
            for (i, k) in a.key_exchanges.iter().enumerate() {
                let slot = if i == 0 {
                    "ke".to_string()
                } else {
                    format!("addke{i}")
                };
                *t.key_exchanges.entry((slot, k.clone())).or_default() += 1;
            }
        }
    }
}
