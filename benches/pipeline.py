#!/usr/bin/env python3
"""Pipeline benchmark: ikescope vs tcpdump on the same generated SPAN-like capture.

Generates (deterministically, with ikescope-gen) a capture of mostly TCP/UDP/ESP background
with ~1 % IKE across thousands of tunnels, then times
  tcpdump -r FILE -w /dev/null '<the IKE filter>'      (the reference: read + BPF + write)
  ikescope analyze -q FILE                              (read + BPF + decode + IKE parse)
best of N runs each, and prints both with their ratio and each one's peak RSS. Two sizes are
run so that memory can be seen not to grow with the file.

usage: benches/pipeline.py [--size 1G] [--small 256M] [--runs 3] [--ike-only]
"""
import argparse, os, resource, subprocess, sys, time  # noqa: E401

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FILTER = "udp port 500 or udp port 4500 or tcp port 4500 or (ip[6:2] & 0x3fff != 0)"


def run(cmd):
    """Wall time of one run; exits on failure."""
    t0 = time.perf_counter()
    p = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    dt = time.perf_counter() - t0
    if p.returncode != 0:
        sys.exit(f"{cmd[0]} failed ({p.returncode}): {p.stderr.decode(errors='replace')}")
    return dt


def peak_rss(cmd):
    """Peak RSS of a command alone, via a fresh python child (RUSAGE_CHILDREN is a high-water mark)."""
    code = ("import resource,subprocess,sys;subprocess.run(sys.argv[1:],stdout=subprocess.DEVNULL,"
            "stderr=subprocess.DEVNULL,check=True);print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
    out = subprocess.run([sys.executable, "-c", code] + cmd, capture_output=True, text=True, check=True)
    return int(out.stdout.strip())


def best(cmd, runs):
    return min(run(cmd) for _ in range(runs))


def generate(gen, path, size, ike_only):
    if os.path.exists(path):
        return
    args = [gen, "workload", path, "--size", size] + (["--ike-only"] if ike_only else [])
    t0 = time.perf_counter()
    subprocess.run(args, check=True)
    print(f"generated {path} in {time.perf_counter() - t0:.1f} s")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", default="1G")
    ap.add_argument("--small", default="256M")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--ike-only", action="store_true")
    a = ap.parse_args()
    subprocess.run(["cargo", "build", "--release", "--workspace", "--quiet"], cwd=ROOT, check=True)
    ikescope = os.path.join(ROOT, "target/release/ikescope")
    gen = os.path.join(ROOT, "target/release/ikescope-gen")
    data = os.path.join(ROOT, "bench-data")
    os.makedirs(data, exist_ok=True)
    kind = "ike-only" if a.ike_only else "span"
    print(f"{'file':<28} {'size':>9} {'tcpdump s':>10} {'ikescope s':>11} {'ratio':>6} {'tcpdump RSS':>12} {'ikescope RSS':>13}")
    for size in [a.small, a.size]:
        path = os.path.join(data, f"workload-{kind}-{size}.pcap")
        generate(gen, path, size, a.ike_only)
        # Warm the page cache so both read from memory.
        subprocess.run(["cat", path], stdout=subprocess.DEVNULL, check=True)
        tcpdump = ["tcpdump", "-r", path, "-w", "/dev/null", FILTER]
        ours = [ikescope, "analyze", "-q", path]
        t_ref, t_ours = best(tcpdump, a.runs), best(ours, a.runs)
        rss_ref, rss_ours = peak_rss(tcpdump), peak_rss(ours)
        mib = os.path.getsize(path) / 2**20
        print(f"{os.path.basename(path):<28} {mib:>7.0f}Mi {t_ref:>10.2f} {t_ours:>11.2f} {t_ours / t_ref:>5.2f}x "
              f"{rss_ref / 1024:>9.1f}MiB {rss_ours / 1024:>10.1f}MiB")


if __name__ == "__main__":
    main()
