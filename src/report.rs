//! The human summary printed on stdout after `analyze`.

use crate::analyze::RunSummary;
use std::io::{self, Write};

/// Writes the run summary as aligned plain text.
pub fn write_summary(out: &mut dyn Write, s: &RunSummary) -> io::Result<()> {
    let st = &s.stats;
    writeln!(
        out,
        "ikescope analyze: {} input(s), {} packet(s) after the IKE prefilter, {} IKE message(s)",
        s.inputs.len(),
        st.packets,
        st.ike_messages
    )?;
    if !s.exchanges.is_empty() {
        writeln!(out)?;
        writeln!(
            out,
            "{:<4} {:<22} {:>9} {:>9}",
            "IKE", "exchange", "requests", "responses"
        )?;
        let mut rows: std::collections::BTreeMap<(u8, &str), (u64, u64)> = Default::default();
        for ((v, ex, role), n) in &s.exchanges {
            let e = rows.entry((*v, ex.as_str())).or_default();
            if *role == "request" {
                e.0 += n
            } else {
                e.1 += n
            }
        }
        for ((v, ex), (req, resp)) in rows {
            writeln!(out, "v{:<3} {:<22} {:>9} {:>9}", v, ex, req, resp)?;
        }
    }
    writeln!(out)?;
    let join = |m: &std::collections::BTreeMap<&str, u64>| {
        if m.is_empty() {
            "none".to_string()
        } else {
            m.iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(" ")
        }
    };
    writeln!(out, "packets:       {}", join(&st.packets_by_result))?;
    writeln!(out, "ip fragments:  {}", join(&st.ip_fragments))?;
    writeln!(out, "tcp (RFC 9329): {}", join(&st.tcp))?;
    writeln!(out, "icmp errors quoting IKE: {}", st.icmp_errors)?;
    writeln!(out, "parse errors:  {}", join(&st.parse_errors))?;
    if let Some(n) = st.packets_by_result.get("truncated").filter(|n| **n > 0) {
        writeln!(out, "note: {n} packet(s) were cut by the capture's snaplen; recapture with -s 0 (or 262144) so ML-KEM key shares are complete")?;
    }
    Ok(())
}
