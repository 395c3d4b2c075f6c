//! `ikescope-gen`: writes the synthetic scenario captures or the benchmark workload.

use anyhow::{bail, Context, Result};
use ikescope_gen::{scenario, workload};
use std::io::BufWriter;
use std::path::Path;

const USAGE: &str = "usage:
  ikescope-gen scenarios <DIR>                     write pcaps/synthetic-style captures + expected JSON
  ikescope-gen workload <FILE|-> [--size BYTES[K|M|G]] [--ike-only] [--seed N]";

fn size(s: &str) -> Result<u64> {
    let (n, mult) = match s.chars().last() {
        Some('K' | 'k') => (&s[..s.len() - 1], 1u64 << 10),
        Some('M' | 'm') => (&s[..s.len() - 1], 1 << 20),
        Some('G' | 'g') => (&s[..s.len() - 1], 1 << 30),
        _ => (s, 1),
    };
    Ok(n.parse::<u64>().with_context(|| format!("bad size {s}"))? * mult)
}

fn scenarios(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("create {}", dir.display()))?;
    for s in scenario::all() {
        let pcap = dir.join(format!(
            "{}.{}",
            s.name,
            if s.trace.extra_links.is_empty() {
                "pcap"
            } else {
                "pcapng"
            }
        ));
        let f =
            std::fs::File::create(&pcap).with_context(|| format!("create {}", pcap.display()))?;
        s.trace.write(BufWriter::new(f))?;
        let expected = serde_json::json!({"scenario": s.name, "description": s.description, "expected": s.expected});
        let text = serde_json::to_string_pretty(&expected)? + "\n";
        std::fs::write(dir.join(format!("{}.json", s.name)), text)?;
        println!("{}", pcap.display());
    }
    Ok(())
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("scenarios") if args.len() == 2 => scenarios(Path::new(&args[1])),
        Some("workload") if args.len() >= 2 => {
            let mut o = workload::WorkloadOptions {
                bytes: 1 << 30,
                ike_only: false,
                seed: 1,
            };
            let mut it = args[2..].iter();
            while let Some(a) = it.next() {
                match a.as_str() {
                    "--size" => o.bytes = size(it.next().context("--size needs a value")?)?,
                    "--ike-only" => o.ike_only = true,
                    "--seed" => o.seed = it.next().context("--seed needs a value")?.parse()?,
                    other => bail!("unknown option {other}\n{USAGE}"),
                }
            }
            let st = if args[1] == "-" {
                workload::write(
                    BufWriter::with_capacity(1 << 20, std::io::stdout().lock()),
                    &o,
                )?
            } else {
                let f = std::fs::File::create(&args[1])
                    .with_context(|| format!("create {}", args[1]))?;
                workload::write(BufWriter::with_capacity(1 << 20, f), &o)?
            };
            eprintln!(
                "wrote {} packets ({} IKE, {} tunnels), {} bytes",
                st.packets, st.ike_packets, st.tunnels, st.bytes
            );
            Ok(())
        }
        _ => bail!("{USAGE}"),
    }
}
