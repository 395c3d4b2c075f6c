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

fn ip(ns: &str, args: &[&str]) -> bool {
    Command::new("ip")
        .args(["netns", "exec", ns, "ip"])
        .args(args)
        .status()
        .is_ok_and(|s| s.success())
}

fn healthz(ns: &str, port: u16) -> bool {
    let probe = format!("import urllib.request;urllib.request.urlopen('http://127.0.0.1:{port}/healthz', timeout=2)");
    Command::new("ip")
        .args(["netns", "exec", ns, "python3", "-c", &probe])
        .status()
        .is_ok_and(|s| s.success())
}

/// The capture interface disappears and comes back: ikescope says so, keeps serving /healthz,
/// resumes, and still exits 0 on SIGTERM.
#[test]
fn live_survives_the_interface_going_away() {
    if !is_root() {
        eprintln!("skipped: needs root for a network namespace");
        return;
    }
    let ns = format!("ikt-flap-{}", std::process::id() % 10000);
    let _ = Command::new("ip").args(["netns", "del", &ns]).status();
    assert!(Command::new("ip")
        .args(["netns", "add", &ns])
        .status()
        .unwrap()
        .success());
    let up = |ns: &str| {
        ip(
            ns,
            &[
                "link", "add", "dev", "flap0", "type", "veth", "peer", "name", "flap1",
            ],
        ) && ip(ns, &["link", "set", "dev", "flap0", "up"])
            && ip(ns, &["link", "set", "dev", "flap1", "up"])
    };
    assert!(ip(&ns, &["link", "set", "dev", "lo", "up"]) && up(&ns));
    let log = std::env::temp_dir().join(format!("{ns}.log"));
    let mut child = Command::new("ip")
        .args([
            "netns",
            "exec",
            &ns,
            env!("CARGO_BIN_EXE_ikescope"),
            "live",
            "-i",
            "flap0",
            "--metrics-listen",
            "127.0.0.1:19877",
        ])
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let wait_for = |text: &str| {
        (0..50).any(|_| {
            std::thread::sleep(std::time::Duration::from_millis(200));
            std::fs::read_to_string(&log)
                .unwrap_or_default()
                .contains(text)
        })
    };
    assert!(wait_for("capturing on flap0"));
    assert!(ip(&ns, &["link", "del", "dev", "flap0"]));
    assert!(
        wait_for("stopped"),
        "{}",
        std::fs::read_to_string(&log).unwrap_or_default()
    );
    let serving_while_down = healthz(&ns, 19877);
    assert!(up(&ns));
    let resumed = wait_for("resumed");
    // SIGTERM by PID: the child is `ip netns exec`, which execs ikescope in place.
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let status = child.wait().unwrap();
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    let _ = Command::new("ip").args(["netns", "del", &ns]).status();
    assert!(
        serving_while_down,
        "/healthz not served while the interface was gone"
    );
    assert!(resumed, "{text}");
    assert!(status.success(), "{text}");
    assert!(text.contains("stopped on flap0"), "{text}");
}
