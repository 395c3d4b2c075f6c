//! Helpers shared by the integration tests: the corpus, running the real binary, reading its
//! NDJSON events.
#![allow(dead_code)]

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every capture file under `pcaps/`, sorted.
pub fn corpus() -> Vec<PathBuf> {
    fn walk(d: &Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(d).expect("pcaps/ readable") {
            let p = e.expect("dir entry").path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|x| x == "pcap" || x == "pcapng") {
                out.push(p);
            }
        }
    }
    let mut v = Vec::new();
    walk(&root().join("pcaps"), &mut v);
    v.sort();
    assert!(!v.is_empty(), "no captures in pcaps/");
    v
}

pub fn ikescope(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ikescope"))
        .args(args)
        .output()
        .expect("run ikescope")
}

/// Runs `ikescope analyze --log-messages --events -` and returns the parsed events.
pub fn events(capture: &Path) -> Vec<Value> {
    let out = ikescope(&[
        "analyze",
        "--log-messages",
        "--events",
        "-",
        capture.to_str().expect("utf-8 path"),
    ]);
    assert!(
        out.status.success(),
        "ikescope failed on {}: {}",
        capture.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .expect("utf-8 events")
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad event line {l}: {e}")))
        .collect()
}

/// The `ike_message` events only.
pub fn messages(capture: &Path) -> Vec<Value> {
    events(capture)
        .into_iter()
        .filter(|e| e["event_type"] == "ike_message")
        .collect()
}

pub fn tshark_available() -> bool {
    Command::new("tshark")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}
