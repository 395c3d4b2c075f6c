//! The Grafana dashboard and the Prometheus rules: structure of the dashboard, promtool on the
//! rules and their unit tests, promtool on the metrics ikescope writes. (Queries are run against
//! a real Prometheus in the lab test.)

mod common;

use common::{ikescope, root};
use serde_json::Value;
use std::process::Command;

fn dashboard() -> Value {
    serde_json::from_str(
        &std::fs::read_to_string(root().join("grafana/dashboards/ikescope.json")).unwrap(),
    )
    .unwrap()
}

fn promtool(args: &[&str]) -> std::process::Output {
    Command::new("promtool")
        .args(args)
        .current_dir(root())
        .output()
        .expect("promtool (apt-get install prometheus)")
}

#[test]
fn every_panel_uses_the_datasource_variable_units_and_rate_interval() {
    let d = dashboard();
    let vars = d["templating"]["list"].as_array().unwrap();
    assert!(vars.iter().any(|v| v["name"] == "datasource"
        && v["type"] == "datasource"
        && v["query"] == "prometheus"));
    let panels = d["panels"].as_array().unwrap();
    assert!(panels.len() >= 10);
    for p in panels {
        let title = p["title"].as_str().unwrap();
        assert_eq!(p["datasource"]["uid"], "${datasource}", "{title}");
        assert!(
            p["fieldConfig"]["defaults"]["unit"].is_string(),
            "{title}: no unit"
        );
        for t in p["targets"].as_array().unwrap() {
            assert_eq!(t["datasource"]["uid"], "${datasource}", "{title}");
            let expr = t["expr"].as_str().unwrap();
            if expr.contains("rate(") || expr.contains("increase(") {
                assert!(expr.contains("[$__rate_interval]"), "{title}: {expr}");
            }
        }
    }
    let all: String = panels
        .iter()
        .flat_map(|p| {
            p["targets"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t["expr"].as_str().unwrap().to_string())
        })
        .collect();
    for metric in [
        "ikescope_tunnels",
        "ikescope_findings_total",
        "ikescope_ike_message_size_bytes_bucket",
        "ikescope_ike_messages_total",
        "ikescope_capture_kernel_drops_total",
        "ikescope_parse_errors_total",
        "ikescope_tunnel_info",
    ] {
        assert!(all.contains(metric), "no panel shows {metric}");
    }
}

#[test]
fn alert_rules_check_and_their_unit_tests_pass() {
    let check = promtool(&["check", "rules", "grafana/alerts/ikescope.rules.yml"]);
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stdout)
    );
    let test = promtool(&["test", "rules", "grafana/alerts/ikescope.rules.test.yml"]);
    assert!(
        test.status.success(),
        "{}{}",
        String::from_utf8_lossy(&test.stdout),
        String::from_utf8_lossy(&test.stderr)
    );
}

#[test]
fn metrics_out_passes_promtool_check_metrics() {
    let f = std::env::temp_dir().join(format!("ikescope-{}.prom", std::process::id()));
    let out = ikescope(&[
        "analyze",
        "-q",
        "--metrics-out",
        f.to_str().unwrap(),
        "--metrics-tunnels",
        "3",
        root().join("pcaps").to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&f).unwrap();
    for m in [
        "ikescope_build_info",
        "ikescope_packets_total",
        "ikescope_ike_messages_total",
        "ikescope_ike_sa_negotiations_total",
        "ikescope_tunnels",
        "ikescope_key_exchange_methods_total",
        "ikescope_findings_total",
        "ikescope_ike_message_size_bytes_bucket",
        "ikescope_tunnel_info",
        "ikescope_tunnel_series_dropped_total",
    ] {
        assert!(text.contains(m), "{m} missing");
    }
    assert_eq!(
        text.lines()
            .filter(|l| l.starts_with("ikescope_tunnel_info{"))
            .count(),
        3
    );
    let mut child = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("promtool");
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let res = child.wait_with_output().unwrap();
    assert!(
        res.status.success(),
        "{}{}",
        String::from_utf8_lossy(&res.stdout),
        String::from_utf8_lossy(&res.stderr)
    );
    std::fs::remove_file(&f).ok();
}
