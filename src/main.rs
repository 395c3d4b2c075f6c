//! The `ikescope` command line.

use clap::{Parser, Subcommand, ValueEnum};
use ikescope::analysis::AnalyzerOptions;
use ikescope::analyze::{self, AnalyzeOptions, RunSummary};
use ikescope::decode::Limits;
use ikescope::event::{default_sensor_name, EventWriter};
use ikescope::metrics::Metrics;
use ikescope::policy::Policy;
use ikescope::posture::tunnel::Baseline;
use ikescope::posture::Severity;
use ikescope::report;
use ikescope::track::TrackerLimits;
use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "ikescope",
    version,
    about = "Passive IKE analyzer: is each IPsec tunnel's key exchange classical, hybrid (ML-KEM), post-quantum or PPK-protected, and does it hold?"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Analyse pcap/pcapng files, directories of them, or '-' (stdin).
    Analyze(AnalyzeArgs),
    /// Run as a sensor on a SPAN/TAP interface: events, /metrics, /healthz.
    Live(LiveArgs),
}

#[derive(clap::Args)]
struct LiveArgs {
    /// Capture interface.
    #[arg(short = 'i', long = "interface", value_name = "IFACE")]
    iface: String,
    /// Write NDJSON events (ike_sa, ike_finding, capture_stats) to FILE ('-' = stdout); SIGHUP reopens it.
    #[arg(long, value_name = "FILE|-")]
    events: Option<PathBuf>,
    /// Also emit one `ike_message` event per IKE message.
    #[arg(long)]
    log_messages: bool,
    /// Address for /metrics and /healthz.
    #[arg(long, default_value = "127.0.0.1:9810", value_name = "ADDR")]
    metrics_listen: String,
    /// Export one ikescope_tunnel_info series per tunnel, for at most N tunnels.
    #[arg(long, value_name = "N", default_value_t = 0)]
    metrics_tunnels: usize,
    /// Snapshot length: the default never truncates an ML-KEM-1024 key share.
    #[arg(short = 's', long, default_value_t = 262_144)]
    snaplen: i32,
    /// Kernel capture buffer in bytes (raise it if kernel drops appear).
    #[arg(short = 'B', long = "buffer-size", value_name = "BYTES")]
    buffer_size: Option<i32>,
    /// Do not put the interface in promiscuous mode.
    #[arg(long)]
    no_promisc: bool,
    /// BPF filter added to the built-in IKE capture filter.
    #[arg(short = 'f', long = "filter", value_name = "BPF")]
    filter: Option<String>,
    /// Tunnel-class policy (TOML).
    #[arg(long, value_name = "FILE.toml")]
    policy: Option<PathBuf>,
    /// Prior tunnel postures (from analyze --save-baseline).
    #[arg(long, value_name = "FILE.json")]
    baseline: Option<PathBuf>,
    /// IKE SAs tracked at once.
    #[arg(long, default_value_t = 100_000)]
    max_sas: usize,
    /// Seconds between capture_stats events.
    #[arg(long, default_value_t = 10)]
    stats_interval: u64,
    /// Sensor name in events (default: host name).
    #[arg(long)]
    sensor_name: Option<String>,
}

fn live_cmd(a: LiveArgs) -> ExitCode {
    let policy = match a.policy.as_deref().map(Policy::load).transpose() {
        Ok(p) => p,
        Err(e) => return usage_error(e),
    };
    let baseline = match a.baseline.as_deref().map(report::load_baseline).transpose() {
        Ok(b) => b.unwrap_or_default(),
        Err(e) => return usage_error(e),
    };
    let tracker = TrackerLimits {
        max_sas: a.max_sas,
        ..TrackerLimits::default()
    };
    let o = ikescope::live::LiveOptions {
        iface: a.iface,
        snaplen: a.snaplen,
        buffer_size: a.buffer_size,
        promisc: !a.no_promisc,
        filter: a.filter,
        metrics_listen: a.metrics_listen,
        metrics_tunnels: a.metrics_tunnels,
        events: a.events,
        sensor: a.sensor_name.unwrap_or_else(default_sensor_name),
        log_messages: a.log_messages,
        analyzer: AnalyzerOptions {
            tracker,
            policy,
            baseline,
            ..AnalyzerOptions::default()
        },
        stats_interval: std::time::Duration::from_secs(a.stats_interval.max(1)),
    };
    match ikescope::live::run(o) {
        Ok(st) => {
            eprintln!(
                "ikescope: stopped on {}: {} packets captured, {} kernel drops, {} interface drops, {} IKE messages, {} IKE SAs",
                st.interface, st.captured, st.kernel_drops, st.interface_drops, st.ike_messages, st.ike_sas
            );
            ExitCode::SUCCESS
        }
        Err(e) => usage_error(e),
    }
}

fn usage_error(e: String) -> ExitCode {
    eprintln!("ikescope: error: {e}");
    ExitCode::from(2)
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Table,
    Json,
}

#[derive(Clone, Copy, ValueEnum)]
enum FailOn {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

#[derive(clap::Args)]
struct AnalyzeArgs {
    /// Capture files, directories (searched recursively for .pcap/.pcapng/.cap) or '-' for stdin.
    #[arg(required = true, value_name = "PCAP|DIR|-")]
    inputs: Vec<PathBuf>,
    /// Write NDJSON events (ike_sa, ike_finding, and ike_message with --log-messages) to FILE ('-' = stdout).
    #[arg(long, value_name = "FILE|-")]
    events: Option<PathBuf>,
    /// Also emit one `ike_message` event per IKE message.
    #[arg(long)]
    log_messages: bool,
    /// Report format on stdout.
    #[arg(long, value_enum, default_value = "table")]
    format: Format,
    /// Write the per-tunnel inventory (peers, suites, capabilities, posture) as CSV.
    #[arg(long, value_name = "FILE.csv")]
    inventory: Option<PathBuf>,
    /// Tunnel-class policy (TOML): required posture and fallback decision per class.
    #[arg(long, value_name = "FILE.toml")]
    policy: Option<PathBuf>,
    /// Prior tunnel postures (from --save-baseline): a tunnel now weaker is a posture_regression.
    #[arg(long, value_name = "FILE.json")]
    baseline: Option<PathBuf>,
    /// Save the tunnels' postures for a later --baseline.
    #[arg(long, value_name = "FILE.json")]
    save_baseline: Option<PathBuf>,
    /// Exit 1 when a finding at or above this severity was raised (CI / change gates).
    #[arg(long, value_enum, value_name = "SEVERITY")]
    fail_on: Option<FailOn>,
    /// BPF filter added to the built-in IKE capture filter.
    #[arg(short = 'f', long = "filter", value_name = "BPF")]
    filter: Option<String>,
    /// IKE SAs tracked at once (least recently active evicted beyond it).
    #[arg(long, default_value_t = 100_000)]
    max_sas: usize,
    /// Write the final metrics in Prometheus text format (node_exporter textfile collector).
    #[arg(long, value_name = "FILE.prom")]
    metrics_out: Option<PathBuf>,
    /// Export one ikescope_tunnel_info series per tunnel, for at most N tunnels.
    #[arg(long, value_name = "N", default_value_t = 0)]
    metrics_tunnels: usize,
    /// Sensor name in events (default: host name).
    #[arg(long)]
    sensor_name: Option<String>,
    /// No report on stdout.
    #[arg(short, long)]
    quiet: bool,
    /// Threads for --separate (one capture file per thread). A combined analysis follows one SA
    /// table through the files in order, on one core.
    #[arg(short = 'j', long = "threads", value_name = "N", default_value_t = 1)]
    threads: usize,
    /// Analyse each capture file on its own (unrelated lab captures that reuse addresses):
    /// one report per file.
    #[arg(long, conflicts_with_all = ["inventory", "save_baseline", "metrics_out", "events"])]
    separate: bool,
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

fn severity(f: FailOn) -> Severity {
    match f {
        FailOn::Info => Severity::Info,
        FailOn::Low => Severity::Low,
        FailOn::Medium => Severity::Medium,
        FailOn::High => Severity::High,
        FailOn::Critical => Severity::Critical,
    }
}

/// Loads policy and baseline; any error is a usage error (exit 2).
fn analyzer_options(a: &AnalyzeArgs) -> Result<(AnalyzerOptions, Baseline), String> {
    let policy = a.policy.as_deref().map(Policy::load).transpose()?;
    let baseline = a
        .baseline
        .as_deref()
        .map(report::load_baseline)
        .transpose()?
        .unwrap_or_default();
    let tracker = TrackerLimits {
        max_sas: a.max_sas,
        ..TrackerLimits::default()
    };
    Ok((
        AnalyzerOptions {
            tracker,
            policy,
            baseline: baseline.clone(),
            ..AnalyzerOptions::default()
        },
        baseline,
    ))
}

fn print_report(a: &AnalyzeArgs, summary: &RunSummary) {
    write_report(a, summary, &mut std::io::stdout().lock());
}

fn write_report(a: &AnalyzeArgs, summary: &RunSummary, out: &mut dyn Write) {
    let _ = match a.format {
        Format::Table => report::write_table(out, summary),
        Format::Json => writeln!(
            out,
            "{}",
            serde_json::to_string_pretty(&report::json_report(summary)).unwrap_or_default()
        ),
    };
}

/// One file's result under `--separate`: its report text, its errors, whether it tripped the gate.
type FileResult = (Vec<u8>, Vec<String>, bool);

fn analyze_one(a: &AnalyzeArgs, input: &ikescope::capture::Input) -> FileResult {
    let analyzer = match analyzer_options(a) {
        Ok((x, _)) => x,
        Err(e) => return (Vec::new(), vec![e], false),
    };
    let path = match input {
        ikescope::capture::Input::Stdin => PathBuf::from("-"),
        ikescope::capture::Input::File(p) => p.clone(),
    };
    let opts = AnalyzeOptions {
        inputs: vec![path],
        log_messages: false,
        filter: a.filter.clone(),
        limits: Limits::default(),
        analyzer,
        progress: false,
    };
    let summary = analyze::run(&opts, None, None);
    let mut text = Vec::new();
    if !a.quiet {
        let _ = writeln!(text, "== {input} ==");
        write_report(a, &summary, &mut text);
        let _ = writeln!(text);
    }
    let tripped = a
        .fail_on
        .map(severity)
        .is_some_and(|g| summary.analyzer.totals.any_at_least(g));
    (
        text,
        summary.errors.iter().map(ToString::to_string).collect(),
        tripped,
    )
}

/// `--separate`: one analysis and one report per capture file, `-j` files at a time, printed
/// in input order.
fn separate_cmd(a: &AnalyzeArgs) -> ExitCode {
    use rayon::prelude::*;
    let (inputs, walk_errors) = ikescope::capture::expand(&a.inputs);
    let pool = match rayon::ThreadPoolBuilder::new()
        .num_threads(a.threads.max(1))
        .build()
    {
        Ok(p) => p,
        Err(e) => return usage_error(format!("threads: {e}")),
    };
    let results: Vec<FileResult> =
        pool.install(|| inputs.par_iter().map(|i| analyze_one(a, i)).collect());
    let mut errors: Vec<String> = walk_errors
        .into_iter()
        .map(|(i, m)| format!("{i}: {m}"))
        .collect();
    let mut tripped = false;
    let mut out = std::io::stdout().lock();
    for (text, errs, t) in results {
        let _ = out.write_all(&text);
        errors.extend(errs);
        tripped |= t;
    }
    for e in &errors {
        eprintln!("ikescope: error: {e}");
    }
    match (errors.is_empty(), tripped) {
        (false, _) => ExitCode::from(2),
        (true, true) => ExitCode::from(1),
        (true, false) => ExitCode::SUCCESS,
    }
}

fn analyze_cmd(a: AnalyzeArgs) -> ExitCode {
    if a.separate {
        return separate_cmd(&a);
    }
    let fail = |e: String| {
        eprintln!("ikescope: error: {e}");
        ExitCode::from(2)
    };
    let (analyzer, prior) = match analyzer_options(&a) {
        Ok(x) => x,
        Err(e) => return fail(e),
    };
    let sensor = a.sensor_name.clone().unwrap_or_else(default_sensor_name);
    let events_to_stdout = a.events.as_ref().is_some_and(|p| p.as_os_str() == "-");
    let mut writer = match a
        .events
        .as_ref()
        .map(|p| open_events(p, sensor))
        .transpose()
    {
        Ok(w) => w,
        Err(e) => return fail(e),
    };
    let opts = AnalyzeOptions {
        inputs: a.inputs.clone(),
        log_messages: a.log_messages,
        filter: a.filter.clone(),
        limits: Limits::default(),
        analyzer,
        progress: !a.quiet,
    };
    let metrics = a
        .metrics_out
        .as_ref()
        .map(|_| Metrics::new(a.metrics_tunnels));
    let summary = analyze::run(&opts, writer.as_mut(), metrics.as_ref());
    if let Some(Err(e)) = writer.as_mut().map(EventWriter::flush) {
        return fail(format!("events: {e}"));
    }
    if !a.quiet && !events_to_stdout {
        print_report(&a, &summary);
    }
    let mut errors: Vec<String> = summary.errors.iter().map(ToString::to_string).collect();
    if let Some(p) = &a.inventory {
        errors.extend(report::write_inventory(p, &summary).err());
    }
    if let (Some(p), Some(m)) = (&a.metrics_out, &metrics) {
        errors.extend(m.write_file(p).err());
    }
    if let Some(p) = &a.save_baseline {
        errors.extend(report::save_baseline(p, &summary, &prior).err());
    }
    for e in &errors {
        eprintln!("ikescope: error: {e}");
    }
    if !errors.is_empty() {
        return ExitCode::from(2);
    }
    let gate = a.fail_on.map(severity);
    let tripped = gate.is_some_and(|g| summary.analyzer.totals.any_at_least(g));
    if tripped {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

fn main() -> ExitCode {
    match Cli::parse().command {
        Command::Analyze(a) => analyze_cmd(a),
        Command::Live(a) => live_cmd(a),
    }
}
