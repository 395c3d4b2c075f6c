//! The synthetic captures in `pcaps/synthetic/` are exactly what the generator writes, and tshark
//! finds nothing malformed in them.

mod common;

use std::path::Path;
use std::process::Command;

fn generator() -> std::path::PathBuf {
    // The generator binary lives beside ours in the target directory.
    let ours = Path::new(env!("CARGO_BIN_EXE_ikescope"));
    let gen = ours.with_file_name("ikescope-gen");
    if !gen.exists() {
        let st = Command::new(env!("CARGO"))
            .args(["build", "-p", "ikescope-gen"])
            .status()
            .expect("cargo build");
        assert!(st.success(), "building ikescope-gen failed");
    }
    gen
}

#[test]
fn checked_in_scenarios_are_reproducible_bit_for_bit() {
    let dir = std::env::temp_dir().join(format!("ikescope-gen-{}", std::process::id()));
    let st = Command::new(generator())
        .arg("scenarios")
        .arg(&dir)
        .output()
        .expect("run generator");
    assert!(
        st.status.success(),
        "{}",
        String::from_utf8_lossy(&st.stderr)
    );
    let checked_in = common::root().join("pcaps/synthetic");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).expect("generated dir") {
        let p = entry.expect("entry").path();
        let name = p.file_name().expect("name");
        let theirs = std::fs::read(checked_in.join(name)).unwrap_or_else(|_| panic!("{name:?} missing from pcaps/synthetic/ (run: ikescope-gen scenarios pcaps/synthetic)"));
        assert!(
            std::fs::read(&p).expect("read") == theirs,
            "{name:?} differs from the generator's output"
        );
        n += 1;
    }
    std::fs::remove_dir_all(&dir).ok();
    assert!(n >= 10, "only {n} files generated");
}

#[test]
fn tshark_finds_no_malformed_packet_or_warning_in_synthetic_captures() {
    assert!(common::tshark_available(), "tshark is required");
    for capture in common::corpus()
        .into_iter()
        .filter(|p| p.to_string_lossy().contains("/synthetic/"))
    {
        let out = Command::new("tshark")
            .arg("-r")
            .arg(&capture)
            .args([
                "-Y",
                "_ws.malformed or _ws.expert.severity >= 0x00600000",
                "-T",
                "fields",
                "-e",
                "frame.number",
                "-e",
                "_ws.expert.message",
            ])
            .output()
            .expect("tshark");
        // Adversarial scenarios may declare the warning tshark must raise (it agrees the
        // packet is invalid); anything else is a generator bug.
        let truth = std::fs::read_to_string(capture.with_extension("json")).expect("expected json");
        let truth: serde_json::Value = serde_json::from_str(&truth).expect("json");
        let allowed: Vec<&str> = truth["expected"]["tshark_expected_warnings"]
            .as_array()
            .map(|a| a.iter().filter_map(|v| v.as_str()).collect())
            .unwrap_or_default();
        let flagged = String::from_utf8_lossy(&out.stdout);
        let unexpected: Vec<&str> = flagged
            .lines()
            .filter(|l| !allowed.iter().any(|a| l.contains(a)))
            .collect();
        assert!(
            out.status.success() && unexpected.is_empty(),
            "{}: tshark flags:\n{}",
            capture.display(),
            unexpected.join("\n")
        );
    }
}
