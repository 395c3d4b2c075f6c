//! The real-peer lab (tests/lab/lab.py): strongSwan 5.9.8 and libreswan 4.10 negotiate in
//! network namespaces while `ikescope live` captures between them and a real Prometheus
//! scrapes it. Needs root (namespaces) and the packages scripts/install-deps.sh installs.

use std::process::Command;

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

#[test]
fn real_daemons_real_prometheus_lab() {
    if !is_root() {
        eprintln!("lab skipped: it creates network namespaces and needs root (CI runs it as root)");
        return;
    }
    let lab = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/lab/lab.py");
    let out = Command::new("python3")
        .arg(lab)
        .arg(env!("CARGO_BIN_EXE_ikescope"))
        .output()
        .expect("python3");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "lab failed:\n{text}");
    assert!(text.contains("lab: 1 passed, 0 failed"), "{text}");
}
