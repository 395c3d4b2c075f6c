//! What `analyze` prints: the per-tunnel table and summary (human), the same as one JSON
//! document (`--format json`), the inventory CSV and the baseline file.

use crate::analyze::RunSummary;
use crate::posture::tunnel::{Baseline, Tunnel};
use crate::posture::{Posture, Severity};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::io::{self, Write};
use std::path::Path;

/// Tunnels listed in the table (a flood or a large site would bury the important rows).
const MAX_TABLE_ROWS: usize = 40;

fn suite(t: &Tunnel) -> String {
    let Some(sel) = t.current().and_then(|s| s.selected.as_ref()) else {
        return "-".into();
    };
    [&sel.encr, &sel.integ, &sel.prf]
        .iter()
        .filter_map(|x| x.as_deref())
        .collect::<Vec<_>>()
        .join("-")
}

fn kes(t: &Tunnel) -> String {
    let k = t
        .current()
        .map(|s| s.key_exchanges.join("+"))
        .unwrap_or_default();
    if k.is_empty() {
        "-".into()
    } else {
        k
    }
}

fn worst(t: &Tunnel) -> Option<Severity> {
    t.findings.values().map(|(s, _)| *s).max()
}

fn findings_cell(t: &Tunnel) -> String {
    let n: u32 = t.findings.values().map(|(_, c)| c).sum();
    match worst(t) {
        Some(s) => format!("{n} (worst {})", s.as_str()),
        None => "0".into(),
    }
}

/// The human report.
pub fn write_table(out: &mut dyn Write, s: &RunSummary) -> io::Result<()> {
    let tunnels = s.analyzer.tunnels.sorted();
    writeln!(
        out,
        "ikescope: {} input(s), {} IKE message(s), {} IKE SA(s), {} tunnel(s)",
        s.inputs.len(),
        s.stats.ike_messages,
        s.analyzer.totals.sas,
        tunnels.len()
    )?;
    writeln!(out)?;
    let w = tunnels
        .iter()
        .map(|t| t.tunnel.len())
        .max()
        .unwrap_or(6)
        .max(6);
    writeln!(
        out,
        "{:<w$}  {:<12} {:<10} {:<26} {:<28} {:>4} {:>6}  FINDINGS",
        "TUNNEL", "POSTURE", "EVIDENCE", "KEY EXCHANGES", "SUITE", "SAS", "REKEYS"
    )?;
    // Worst first: what needs attention heads the table; the rest is in --format json / --inventory.
    let mut rows: Vec<&&Tunnel> = tunnels.iter().collect();
    rows.sort_by_key(|t| {
        (
            std::cmp::Reverse(worst(t)),
            t.posture().0.rank(),
            t.first_seen,
        )
    });
    let shown = rows.len().min(MAX_TABLE_ROWS);
    for t in &rows[..shown] {
        let (p, e) = t.posture();
        writeln!(
            out,
            "{:<w$}  {:<12} {:<10} {:<26} {:<28} {:>4} {:>6}  {}",
            t.tunnel,
            p.as_str(),
            e.as_str(),
            kes(t),
            suite(t),
            t.ike_sas,
            t.rekeys,
            findings_cell(t)
        )?;
    }
    if rows.len() > shown {
        writeln!(out, "... {} more tunnel(s) with lower-severity findings (all in --format json and --inventory)", rows.len() - shown)?;
    }
    writeln!(out)?;
    let postures = postures(&tunnels);
    writeln!(
        out,
        "Tunnels by posture: {}",
        postures
            .iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect::<Vec<_>>()
            .join(", ")
    )?;
    let by_code = &s.analyzer.totals.findings;
    if by_code.is_empty() {
        writeln!(out, "Findings: none")?;
    } else {
        writeln!(out, "Findings:")?;
        let mut rows: Vec<_> = by_code.iter().collect();
        rows.sort_by(|a, b| b.0 .1.cmp(&a.0 .1).then(a.0 .0.cmp(b.0 .0)));
        for ((code, sev), n) in rows {
            writeln!(out, "  {:<9} {:<40} {n}", sev.as_str(), code)?;
        }
    }
    next_steps(out, &tunnels)?;
    writeln!(out)?;
    crate::report::write_capture_stats(out, s)
}

/// For each tunnel with a high or critical finding: what happened and what to check.
fn next_steps(out: &mut dyn Write, tunnels: &[&Tunnel]) -> io::Result<()> {
    let urgent: Vec<&&Tunnel> = tunnels
        .iter()
        .filter(|t| worst(t) >= Some(Severity::High))
        .collect();
    if urgent.is_empty() {
        return Ok(());
    }
    writeln!(out)?;
    writeln!(
        out,
        "Check next (high and critical; details and packet numbers in the ike_finding events):"
    )?;
    for t in urgent {
        writeln!(out, "  {}", t.tunnel)?;
        for (code, (sev, n)) in t.findings.iter().filter(|(_, (s, _))| *s >= Severity::High) {
            let msg = t.finding_messages.get(code).map_or("", String::as_str);
            let times = if *n > 1 {
                format!(" (x{n})")
            } else {
                String::new()
            };
            writeln!(out, "    [{}] {code}{times}: {msg}", sev.as_str())?;
        }
    }
    Ok(())
}

fn postures(tunnels: &[&Tunnel]) -> BTreeMap<&'static str, u32> {
    let mut m = BTreeMap::new();
    for t in tunnels {
        *m.entry(t.posture().0.as_str()).or_default() += 1;
    }
    m
}

/// Packet-level counters.
pub fn write_capture_stats(out: &mut dyn Write, s: &RunSummary) -> io::Result<()> {
    let st = &s.stats;
    let join = |m: &BTreeMap<&str, u64>| {
        if m.is_empty() {
            "none".to_string()
        } else {
            m.iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(" ")
        }
    };
    writeln!(
        out,
        "Capture: {} packet(s) after the IKE prefilter; {}",
        st.packets,
        join(&st.packets_by_result)
    )?;
    writeln!(
        out,
        "  IP fragments: {}; TCP (RFC 9329): {}; ICMP errors quoting IKE: {}; parse errors: {}",
        join(&st.ip_fragments),
        join(&st.tcp),
        st.icmp_errors,
        join(&st.parse_errors)
    )?;
    let tr = &s.analyzer.tracker;
    if tr.evicted > 0 || s.analyzer.tunnels.evicted > 0 {
        writeln!(out, "  SA table: peak {} SAs, {} evicted (raise --max-sas if this is not a flood); tunnels evicted: {}", tr.peak, tr.evicted, s.analyzer.tunnels.evicted)?;
    }
    if let Some(n) = st.packets_by_result.get("truncated").filter(|n| **n > 0) {
        writeln!(out, "note: {n} packet(s) were cut by the capture's snaplen; recapture with -s 0 (or 262144) so ML-KEM key shares are complete")?;
    }
    Ok(())
}

/// The JSON report (`--format json`).
pub fn json_report(s: &RunSummary) -> Value {
    let tunnels = s.analyzer.tunnels.sorted();
    let list: Vec<Value> = tunnels
        .iter()
        .map(|t| {
            let (p, e) = t.posture();
            let cur = t.current();
            json!({
                "tunnel": t.tunnel, "initiator": t.initiator, "responder": t.responder,
                "posture": p.as_str(), "evidence": e.as_str(),
                "key_exchanges": cur.map(|c| c.key_exchanges.clone()).unwrap_or_default(),
                "ike_version": cur.map(|c| c.version),
                "ike_sas": t.ike_sas, "rekeys": t.rekeys, "nat_t": t.nat_t,
                "transports": t.transports, "selected": cur.and_then(|c| c.selected.clone()),
                "ppk": cur.is_some_and(|c| c.ppk), "fragmentation_supported": t.fragmentation,
                "first_seen": crate::event::rfc3339_us(t.first_seen), "last_seen": crate::event::rfc3339_us(t.last_seen),
                "findings": t.findings.iter().map(|(c, (s, n))| json!({"code": c, "severity": s.as_str(), "count": n})).collect::<Vec<_>>(),
            })
        })
        .collect();
    let mut findings: BTreeMap<&str, u64> = BTreeMap::new();
    for ((c, _), n) in &s.analyzer.totals.findings {
        *findings.entry(c).or_default() += n;
    }
    json!({
        "schema_version": crate::event::SCHEMA_VERSION,
        "inputs": s.inputs,
        "tunnels": list,
        "postures": postures(&tunnels),
        "findings": findings,
        "stats": {"packets": s.stats.packets, "ike_messages": s.stats.ike_messages, "ike_sas": s.analyzer.totals.sas,
                  "packets_by_result": s.stats.packets_by_result, "parse_errors": s.stats.parse_errors,
                  "sas_evicted": s.analyzer.tracker.evicted, "sas_peak": s.analyzer.tracker.peak},
        "errors": s.errors.iter().map(|e| e.to_string()).collect::<Vec<_>>(),
    })
}

fn caps(c: &crate::posture::Capabilities) -> String {
    let mut v: Vec<String> = Vec::new();
    if c.intermediate {
        v.push("rfc9242-intermediate".into())
    }
    if c.addke {
        v.push("rfc9370-addke".into())
    }
    v.extend(c.mlkem.iter().cloned());
    if c.ppk {
        v.push("rfc8784-ppk".into())
    }
    if c.ppk_int {
        v.push("rfc9867-ppk".into())
    }
    if c.fragmentation {
        v.push("rfc7383-fragmentation".into())
    }
    if !c.signature_hashes.is_empty() {
        v.push(format!(
            "rfc7427-sighash:{}",
            c.signature_hashes
                .iter()
                .map(u16::to_string)
                .collect::<Vec<_>>()
                .join("/")
        ));
    }
    v.join(" ")
}

/// The inventory CSV: one row per tunnel.
pub fn write_inventory(path: &Path, s: &RunSummary) -> Result<(), String> {
    let err = |e: &dyn std::fmt::Display| format!("{}: {e}", path.display());
    let mut w = csv::Writer::from_path(path).map_err(|e| err(&e))?;
    w.write_record([
        "tunnel",
        "initiator",
        "responder",
        "ike_version",
        "vendor",
        "proposals_offered",
        "selected_encr",
        "selected_prf",
        "selected_integ",
        "selected_ke",
        "selected_addke",
        "ppk",
        "nat_t",
        "ike_fragmentation",
        "posture",
        "evidence",
        "first_seen",
        "last_seen",
        "findings",
        "initiator_capabilities",
        "responder_capabilities",
    ])
    .map_err(|e| err(&e))?;
    for t in s.analyzer.tunnels.sorted() {
        let (p, e) = t.posture();
        let cur = t.current();
        let sel = cur.and_then(|c| c.selected.clone()).unwrap_or_default();
        let row = [
            t.tunnel.clone(),
            t.initiator.to_string(),
            t.responder.to_string(),
            t.ike_versions
                .iter()
                .map(u8::to_string)
                .collect::<Vec<_>>()
                .join("/"),
            t.vendors.iter().cloned().collect::<Vec<_>>().join("; "),
            t.proposals.iter().cloned().collect::<Vec<_>>().join(" "),
            sel.encr.unwrap_or_default(),
            sel.prf.unwrap_or_default(),
            sel.integ.unwrap_or_default(),
            sel.ke.unwrap_or_default(),
            sel.addke.join("+"),
            cur.is_some_and(|c| c.ppk).to_string(),
            t.nat_t.to_string(),
            t.fragmentation.to_string(),
            p.as_str().into(),
            e.as_str().into(),
            crate::event::rfc3339_us(t.first_seen),
            crate::event::rfc3339_us(t.last_seen),
            t.findings.keys().copied().collect::<Vec<_>>().join(" "),
            caps(&t.initiator_caps),
            caps(&t.responder_caps),
        ];
        w.write_record(&row).map_err(|e| err(&e))?;
    }
    w.flush().map_err(|e| err(&e))
}

/// Reads a baseline written by `--save-baseline`.
pub fn load_baseline(path: &Path) -> Result<Baseline, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let v: Value =
        serde_json::from_str(&text).map_err(|e| format!("{}:{}: {e}", path.display(), e.line()))?;
    let tunnels = v.get("tunnels").and_then(Value::as_object).ok_or_else(|| {
        format!(
            "{}: no \"tunnels\" object (not an ikescope baseline)",
            path.display()
        )
    })?;
    let mut b = Baseline::new();
    for (name, t) in tunnels {
        let p = t
            .get("posture")
            .and_then(Value::as_str)
            .and_then(Posture::parse)
            .ok_or_else(|| {
                format!(
                    "{}: tunnel {name}: missing or unknown posture",
                    path.display()
                )
            })?;
        b.insert(name.clone(), p);
    }
    Ok(b)
}

/// Writes the newest established posture of every tunnel (merged over the loaded baseline).
pub fn save_baseline(path: &Path, s: &RunSummary, prior: &Baseline) -> Result<(), String> {
    let mut tunnels = serde_json::Map::new();
    for (name, p) in prior {
        tunnels.insert(name.clone(), json!({"posture": p.as_str()}));
    }
    for t in s.analyzer.tunnels.sorted() {
        if let Some(e) = &t.established {
            tunnels.insert(t.tunnel.clone(), json!({"posture": e.posture.as_str(), "evidence": e.evidence.as_str(), "key_exchanges": e.key_exchanges, "last_seen": crate::event::rfc3339_us(t.last_seen)}));
        }
    }
    let doc = json!({"schema_version": crate::event::SCHEMA_VERSION, "tunnels": tunnels});
    let text = serde_json::to_string_pretty(&doc).unwrap_or_default() + "\n";
    std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))
}
