#!/usr/bin/env python3
"""Live capture under a burst: tcpreplay of the benchmark workload into a veth pair inside two
network namespaces made here, `ikescope live` on the other end. For each replay rate prints what
tcpreplay achieved, what ikescope captured and the kernel drops it reported (pcap stats), to find
the highest rate with zero kernel drops. Root only; removes its namespaces and processes.

usage: benches/live_burst.py [--size 256M] [--rates 200,500,1000,2000,top]
"""
import argparse, json, os, re, signal, subprocess, sys, tempfile, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def sh(*cmd, ns=None, check=True):
    cmd = (["ip", "netns", "exec", ns] if ns else []) + list(cmd)
    r = subprocess.run(cmd, capture_output=True, text=True)
    if check and r.returncode:
        sys.exit(f"{' '.join(cmd)}: {r.stderr}")
    return r


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", default="256M")
    ap.add_argument("--rates", default="200,500,1000,2000,top")
    ap.add_argument("--buffer", default="67108864", help="ikescope -B")
    a = ap.parse_args()
    subprocess.run(["cargo", "build", "--release", "--workspace", "--quiet"], cwd=ROOT, check=True)
    data = os.path.join(ROOT, "bench-data")
    os.makedirs(data, exist_ok=True)
    pcap = os.path.join(data, f"workload-span-{a.size}.pcap")
    if not os.path.exists(pcap):
        subprocess.run([os.path.join(ROOT, "target/release/ikescope-gen"), "workload", pcap, "--size", a.size], check=True)
    work = tempfile.mkdtemp(prefix="ikescope-burst-")
    p = None
    try:
        for ns in ("ikb-tx", "ikb-rx"):
            sh("ip", "netns", "del", ns, check=False)
            sh("ip", "netns", "add", ns)
        sh("ip", "link", "add", "dev", "burst-tx", "netns", "ikb-tx", "type", "veth", "peer", "name", "burst-rx", "netns", "ikb-rx")
        sh("ip", "link", "set", "dev", "burst-tx", "up", ns="ikb-tx")
        sh("ip", "link", "set", "dev", "burst-rx", "up", ns="ikb-rx")
        print(f"{'rate':>6} {'achieved Mbps':>14} {'sent':>9} {'captured':>9} {'kernel drops':>13} {'IKE msgs':>9}")
        for rate in a.rates.split(","):
            events = os.path.join(work, f"events-{rate}.ndjson")
            p = subprocess.Popen(["ip", "netns", "exec", "ikb-rx", os.path.join(ROOT, "target/release/ikescope"), "live", "-i", "burst-rx",
                                  "-B", a.buffer, "--events", events, "--metrics-listen", "127.0.0.1:19899"], stderr=subprocess.DEVNULL)
            time.sleep(1.5)
            speed = ["--topspeed"] if rate == "top" else ["--mbps", rate]
            r = sh("tcpreplay", "-i", "burst-tx", *speed, pcap, ns="ikb-tx")
            mbps = re.search(r"Rated:.*?([\d.]+) Mbps", r.stdout)
            sent = re.search(r"Successful packets:\s+(\d+)", r.stdout)
            achieved, sent = (mbps.group(1) if mbps else "?"), (sent.group(1) if sent else "?")
            time.sleep(2)
            p.send_signal(signal.SIGTERM)
            p.wait(timeout=60)
            last = [json.loads(l)["capture_stats"] for l in open(events) if '"capture_stats"' in l][-1]
            print(f"{rate:>6} {achieved:>14} {sent:>9} {last['captured']:>9} {last['kernel_drops']:>13} {last['ike_messages']:>9}")
    finally:
        if p is not None and p.poll() is None:
            p.send_signal(signal.SIGTERM)
            p.wait(timeout=60)
        for ns in ("ikb-tx", "ikb-rx"):
            sh("ip", "netns", "del", ns, check=False)


if __name__ == "__main__":
    main()
