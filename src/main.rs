//! The `ikescope` command line.

use clap::{Parser, Subcommand};
use ikescope::analyze::{self, AnalyzeOptions};
use ikescope::decode::Limits;
use ikescope::event::{default_sensor_name, EventWriter};
use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "ikescope",
    version,
    about = "Passive IKE analyzer: is each IPsec tunnel's key exchange classical, hybrid (ML-KEM), post-quantum or PPK-protected?"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Analyse pcap/pcapng files, directories of them, or '-' (stdin).
    Analyze(AnalyzeArgs),
}

#[derive(clap::Args)]
struct AnalyzeArgs {
    /// Capture files, directories (searched recursively for .pcap/.pcapng/.cap) or '-' for stdin.
    #[arg(required = true, value_name = "PCAP|DIR|-")]
    inputs: Vec<PathBuf>,
    /// Write NDJSON events to FILE ('-' = stdout).
    #[arg(long, value_name = "FILE|-")]
    events: Option<PathBuf>,
    /// Emit one `ike_message` event per IKE message.
    #[arg(long)]
    log_messages: bool,
    /// BPF filter added to the built-in IKE capture filter.
    #[arg(short = 'f', long = "filter", value_name = "BPF")]
    filter: Option<String>,
    /// Sensor name in events (default: host name).
    #[arg(long)]
    sensor_name: Option<String>,
    /// No summary on stdout.
    #[arg(short, long)]
    quiet: bool,
}

fn open_events(path: &PathBuf, sensor: String) -> Result<EventWriter, String> {
    let out: Box<dyn Write + Send> = if path.as_os_str() == "-" {
        Box::new(BufWriter::new(std::io::stdout()))
    } else {
        let f = std::fs::File::create(path)
            .map_err(|e| format!("{}: cannot create events file: {e}", path.display()))?;
        Box::new(BufWriter::with_capacity(1 << 16, f))
    };
    Ok(EventWriter::new(out, sensor))
}

fn analyze_cmd(a: AnalyzeArgs) -> ExitCode {
    let sensor = a.sensor_name.clone().unwrap_or_else(default_sensor_name);
    let events_to_stdout = a.events.as_ref().is_some_and(|p| p.as_os_str() == "-");
    let mut writer = match a
        .events
        .as_ref()
        .map(|p| open_events(p, sensor))
        .transpose()
    {
        Ok(w) => w,
        Err(e) => {
            eprintln!("ikescope: error: {e}");
            return ExitCode::from(2);
        }
    };
    let opts = AnalyzeOptions {
        inputs: a.inputs,
        log_messages: a.log_messages,
        filter: a.filter,
        limits: Limits::default(),
    };
    let events = if a.log_messages {
        writer.as_mut()
    } else {
        None
    };
    let summary = analyze::run(&opts, events);
    if let Some(w) = writer.as_mut() {
        if let Err(e) = w.flush() {
            eprintln!("ikescope: error: events: {e}");
            return ExitCode::from(2);
        }
    }
    if !a.quiet && !events_to_stdout {
        let mut out = std::io::stdout().lock();
        let _ = ikescope::report::write_summary(&mut out, &summary);
    }
    for e in &summary.errors {
        eprintln!("ikescope: error: {e}");
    }
    if summary.errors.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    }
}

fn main() -> ExitCode {
    match Cli::parse().command {
        Command::Analyze(a) => analyze_cmd(a),
    }
}
