#!/usr/bin/env python3
"""Real-peer lab: real IKE daemons in network namespaces, `ikescope live` on the bridge between
them, a real Prometheus scraping it. Asserts each tunnel's posture and findings from the events
and from /metrics, and that every dashboard query returns data for the series the lab produced.

Topology (all namespaces created and removed here; nothing touches the host network):
  iks-a (strongSwan 5.9.8 initiator, 192.0.2.1-4)  ─┐
  iks-b (strongSwan 5.9.8 responder, 198.51.100.1-4)├─ br0 in iks-m (router, capture, Prometheus)
  iks-c (libreswan 4.10 initiator, 192.0.2.11-12)  ─┤
  iks-d (libreswan 4.10 responder, 198.51.100.11-12)┘

usage: tests/lab/lab.py IKESCOPE_BINARY   (as root; see tests/lab.rs)
"""
import json, os, shutil, signal, subprocess, sys, tempfile, time, urllib.parse, urllib.request

NS = ["iks-m", "iks-a", "iks-b", "iks-c", "iks-d"]
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
WORK = tempfile.mkdtemp(prefix="ikescope-lab-")
PIDS = []  # (name, Popen) of every process started here


def sh(cmd, check=True, ns=None, **kw):
    if ns:
        cmd = ["ip", "netns", "exec", ns] + cmd
    r = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if check and r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)}: {r.stdout}{r.stderr}")
    return r


def start(name, cmd, ns):
    log = open(os.path.join(WORK, f"{name}.log"), "w")
    p = subprocess.Popen(["ip", "netns", "exec", ns] + cmd, stdout=log, stderr=subprocess.STDOUT)
    PIDS.append((name, p))
    return p


def topology():
    for ns in NS:
        sh(["ip", "netns", "del", ns], check=False)
        sh(["ip", "netns", "add", ns])
        sh(["ip", "link", "set", "dev", "lo", "up"], ns=ns)
    sh(["ip", "link", "add", "br0", "type", "bridge"], ns="iks-m")
    sh(["ip", "link", "set", "dev", "br0", "up"], ns="iks-m")
    sh(["ip", "addr", "add", "192.0.2.254/24", "dev", "br0"], ns="iks-m")
    sh(["ip", "addr", "add", "198.51.100.254/24", "dev", "br0"], ns="iks-m")
    sh(["sysctl", "-qw", "net.ipv4.ip_forward=1"], ns="iks-m")
    plan = {"a": ("192.0.2", [1, 2, 3, 4]), "b": ("198.51.100", [1, 2, 3, 4]), "c": ("192.0.2", [11, 12]), "d": ("198.51.100", [11, 12])}
    for x, (net, hosts) in plan.items():
        ns = f"iks-{x}"
        # Names that cannot be read as iproute2 keywords ("ma" would abbreviate "master").
        end, mid = f"veth-{x}", f"port-{x}"
        sh(["ip", "link", "add", "dev", end, "netns", ns, "type", "veth", "peer", "name", mid, "netns", "iks-m"])
        sh(["ip", "link", "set", "dev", mid, "master", "br0"], ns="iks-m")
        sh(["ip", "link", "set", "dev", mid, "up"], ns="iks-m")
        sh(["ip", "link", "set", "dev", end, "up"], ns=ns)
        for h in hosts:
            sh(["ip", "addr", "add", f"{net}.{h}/24", "dev", end], ns=ns)
        sh(["ip", "route", "add", "default", "via", f"{net}.254"], ns=ns)
        for dev, n in ((end, ns), (mid, "iks-m")):
            sh(["ethtool", "-K", dev, "tx", "off", "rx", "off", "gso", "off", "tso", "off", "gro", "off", "sg", "off"], ns=n, check=False)


def teardown():
    for name, p in reversed(PIDS):
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
    for ns in NS:
        sh(["ip", "netns", "del", ns], check=False)

PSK = "lab-psk-0123456789abcdef"

# (name, initiator address suffix, version, initiator proposals, responder proposals)
SW_CONNS = [
    ("classical", 1, 2, "aes256-sha256-ecp256", "aes256-sha256-ecp256"),
    ("weak", 2, 2, "3des-sha1-modp1024", "3des-sha1-modp1024"),
    # The initiator's KE guess (ECP-256) is refused: INVALID_KE_PAYLOAD asks for MODP-2048.
    ("invalidke", 3, 2, "aes256-sha256-ecp256-modp2048", "aes256-sha256-modp2048"),
    ("ikev1", 4, 1, "aes128-sha256-modp2048", "aes128-sha256-modp2048"),
]


def strongswan(side):
    """Writes and starts one charon (side 'a' initiator, 'b' responder)."""
    d = os.path.join(WORK, f"sw-{side}")
    os.makedirs(os.path.join(d, "run"), exist_ok=True)
    mine, peer = ("192.0.2", "198.51.100") if side == "a" else ("198.51.100", "192.0.2")
    conns = []
    for name, n, version, pi, pr in SW_CONNS:
        props = pi if side == "a" else pr
        me, them = (f"i{n}@lab.example", f"r{n}@lab.example") if side == "a" else (f"r{n}@lab.example", f"i{n}@lab.example")
        conns.append(f"""  {name} {{
    version = {version}
    local_addrs = {mine}.{n}
    remote_addrs = {peer}.{n}
    proposals = {props}
    encap = no
    mobike = no
    local {{ auth = psk
            id = {me} }}
    remote {{ auth = psk
             id = {them} }}
    children {{ net {{ local_ts = {mine}.{n}/32
                      remote_ts = {peer}.{n}/32
                      esp_proposals = aes128-sha256
                      start_action = none }} }}
  }}""")
    secrets = "\n".join(f"  ike-{n} {{ id-1 = i{n}@lab.example\n    id-2 = r{n}@lab.example\n    secret = \"{PSK}\" }}" for _, n, *_ in SW_CONNS)
    open(os.path.join(d, "swanctl.conf"), "w").write("connections {\n" + "\n".join(conns) + "\n}\nsecrets {\n" + secrets + "\n}\n")
    open(os.path.join(d, "strongswan.conf"), "w").write(f"""charon {{
  load_modular = no
  load = random nonce openssl pem pkcs1 x509 pubkey aes des sha1 sha2 md5 hmac gmp curve25519 kdf kernel-netlink socket-default vici
  retransmit_timeout = 1.0
  retransmit_tries = 2
  install_routes = no
  filelog {{ lab {{ path = {d}/charon.log
                   default = 1
                   ike = 2 }} }}
  plugins {{ vici {{ socket = unix://{d}/charon.vici }} }}
}}
""")
    env = ["env", f"STRONGSWAN_CONF={d}/strongswan.conf"]
    # charon's pid file path is compiled in: give it a private /run (ip netns exec already runs
    # in a private mount namespace).
    start(f"charon-{side}", env + ["sh", "-c", f"mount --bind {d}/run /run && exec /usr/lib/ipsec/charon"], f"iks-{side}")
    vici = f"unix://{d}/charon.vici"
    for _ in range(50):
        if os.path.exists(f"{d}/charon.vici"):
            break
        time.sleep(0.2)
    sh(["swanctl", "--load-all", "--uri", vici, "--file", f"{d}/swanctl.conf"], ns=f"iks-{side}")
    return vici


LSW_CONNS = [("ppk", 11, "ppk=insist"), ("inter", 12, "intermediate=yes")]


def libreswan(side):
    """Writes and starts one pluto from the Debian package unpacked into WORK/lsw-root."""
    root = os.path.join(WORK, "lsw-root")
    d = os.path.join(WORK, f"lsw-{side}")
    os.makedirs(os.path.join(d, "run"), exist_ok=True)
    os.makedirs(os.path.join(d, "nss"), exist_ok=True)
    mine, peer = ("192.0.2", "198.51.100") if side == "c" else ("198.51.100", "192.0.2")
    conf = [f"config setup\n\tlogfile={d}/pluto.log\n\tplutodebug=base\n\tprotostack=xfrm\n\tuniqueids=no\n\tikev1-policy=drop\n"]
    secrets = []
    for name, n, extra in LSW_CONNS:
        me, them = (f"@i{n}.lab", f"@r{n}.lab") if side == "c" else (f"@r{n}.lab", f"@i{n}.lab")
        conf.append(f"conn {name}\n\tikev2=insist\n\tleft={mine}.{n}\n\tleftid={me}\n\tright={peer}.{n}\n\trightid={them}\n\tauthby=secret\n\tike=aes256-sha2_256;dh19\n\tesp=aes256-sha2_256\n\tleftupdown=/bin/true\n\tretransmit-timeout=10s\n\tauto=add\n\t{extra}\n")
        secrets.append(f"@i{n}.lab @r{n}.lab : PSK \"{PSK}\"")
        secrets.append(f"@i{n}.lab @r{n}.lab : PPKS \"PPK_ID_LAB_{n}\" \"labppk-{n}-7dP0rQ2sV9xW4yZ1aB3cD5eF7gH9iJ1kL3\"")
    open(os.path.join(d, "ipsec.conf"), "w").write("\n".join(conf))
    open(os.path.join(d, "ipsec.secrets"), "w").write("\n".join(secrets) + "\n")
    sbin = os.path.join(root, "usr/libexec/ipsec")
    sh(["certutil", "-N", "-d", f"sql:{d}/nss", "--empty-password"])
    pluto = f"{sbin}/pluto --nofork --config {d}/ipsec.conf --secretsfile {d}/ipsec.secrets --nssdir {d}/nss --rundir {d}/run --ipsecdir {d} --dumpdir {d}/run --no-dnssec --nhelpers 1"
    # pluto execs /usr/libexec/ipsec/addconn: show it the unpacked tree, in this namespace only.
    start(f"pluto-{side}", ["sh", "-c", f"mount --bind {root}/usr/libexec /usr/libexec && exec {pluto}"], f"iks-{side}")
    ctl = f"{d}/run/pluto.ctl"
    for _ in range(50):
        if os.path.exists(ctl):
            break
        time.sleep(0.2)
    for name, _, _ in LSW_CONNS:
        sh(["sh", "-c", f"mount --bind {root}/usr/libexec /usr/libexec && {sbin}/addconn --ctlsocket {ctl} --config {d}/ipsec.conf {name}"], ns=f"iks-{side}")
    return ctl, sbin


def unpack_libreswan():
    """apt-get download + dpkg -x: libreswan conflicts with the strongswan packages."""
    root = os.path.join(WORK, "lsw-root")
    deb_dir = os.path.join(WORK, "deb")
    os.makedirs(deb_dir, exist_ok=True)
    sh(["apt-get", "download", "libreswan"], cwd=deb_dir)
    deb = [f for f in os.listdir(deb_dir) if f.endswith(".deb")][0]
    sh(["dpkg", "-x", os.path.join(deb_dir, deb), root])

METRICS = "127.0.0.1:9810"
PROM = "127.0.0.1:9090"


def sensor(binary):
    # A reference capture of the same traffic, kept with the work dir when the lab fails.
    start("tcpdump", ["tcpdump", "-i", "br0", "-s", "0", "-U", "-w", os.path.join(WORK, "lab.pcap")], "iks-m")
    events = os.path.join(WORK, "events.ndjson")
    start("ikescope", [binary, "live", "-i", "br0", "--events", events, "--metrics-listen", METRICS, "--metrics-tunnels", "50", "--stats-interval", "2"], "iks-m")
    wait_http(f"http://{METRICS}/healthz")
    return events


def prometheus():
    d = os.path.join(WORK, "prom")
    os.makedirs(d, exist_ok=True)
    shutil.copy(os.path.join(ROOT, "grafana/alerts/ikescope.rules.yml"), d)
    open(os.path.join(d, "prometheus.yml"), "w").write(f"""global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files: [ikescope.rules.yml]
scrape_configs:
  - job_name: ikescope
    static_configs: [{{targets: ["{METRICS}"]}}]
""")
    start("prometheus", ["prometheus", f"--config.file={d}/prometheus.yml", f"--storage.tsdb.path={d}/data", f"--web.listen-address={PROM}"], "iks-m")
    wait_http(f"http://{PROM}/-/ready")


def http(url, ns="iks-m"):
    r = sh(["python3", "-c", f"import urllib.request,sys;sys.stdout.write(urllib.request.urlopen({url!r}, timeout=5).read().decode())"], ns=ns, check=False)
    if r.returncode != 0:
        raise RuntimeError(r.stderr)
    return r.stdout


def wait_http(url, tries=100):
    for _ in range(tries):
        try:
            return http(url)
        except RuntimeError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} never answered")


def negotiate(vici, ctl, sbin):
    for name, *_ in SW_CONNS:
        # The CHILD SA fails (this kernel has XFRM but no ESP); the IKE SA is what is observed.
        sh(["swanctl", "--initiate", "--ike", name, "--child", "net", "--timeout", "15", "--uri", vici], ns="iks-a", check=False)
    for name, *_ in LSW_CONNS:
        sh(["sh", "-c", f"mount --bind {os.path.dirname(os.path.dirname(sbin))} /usr/libexec 2>/dev/null; {sbin}/whack --ctlsocket {ctl} --initiate --name {name} --asynchronous"], ns="iks-c", check=False)
    time.sleep(12)


def tunnels_from_events(path):
    """Newest ike_sa per tunnel (by initiator IP) and the tunnel's finding codes."""
    out = {}
    for line in open(path):
        e = json.loads(line)
        if e["event_type"] == "ike_sa":
            sa = e["ike_sa"]
            ip = sa["initiator"].rsplit(":", 1)[0]
            t = out.setdefault(ip, {"findings": set()})
            t.update(posture=sa["posture"], evidence=sa["evidence"], key_exchanges=sa["key_exchanges"], version=sa["version"])
            t["findings"].update(sa["findings"])
    return out

# What each tunnel must show (by initiator address): posture, and findings that must be there.
EXPECT = {
    "192.0.2.1": ("classical", ["ecp256"], {"quantum_vulnerable_key_exchange"}, set()),
    "192.0.2.2": ("classical", ["modp1024"], {"weak_dh_group", "weak_encryption", "weak_integrity", "weak_prf"}, set()),
    # ECP-256 (128-bit) guessed, MODP-2048 (112-bit) demanded and accepted: a weaker retry.
    "192.0.2.3": ("classical", ["modp2048"], {"invalid_ke_downgrade"}, set()),
    "192.0.2.4": ("legacy-ikev1", ["modp2048"], {"ikev1_in_use"}, set()),
    # ppk=insist both sides: USE_PPK both ways; PPK use itself is inside IKE_AUTH.
    "192.0.2.11": ("ppk", ["ecp256"], set(), {"quantum_vulnerable_key_exchange", "pq_offered_not_negotiated"}),
    # An empty IKE_INTERMEDIATE (no ADDKE) is not hybrid.
    "192.0.2.12": ("classical", ["ecp256"], {"quantum_vulnerable_key_exchange"}, set()),
}


def check_events(events):
    got = tunnels_from_events(events)
    errors = []
    for ip, (posture, kes, must, must_not) in EXPECT.items():
        t = got.get(ip)
        if t is None:
            errors.append(f"{ip}: no ike_sa event")
            continue
        if t["posture"] != posture or t["key_exchanges"] != kes:
            errors.append(f"{ip}: {t['posture']} {t['key_exchanges']} ({t['evidence']}), expected {posture} {kes}")
        if not must <= t["findings"]:
            errors.append(f"{ip}: findings {sorted(t['findings'])} lack {sorted(must - t['findings'])}")
        if must_not & t["findings"]:
            errors.append(f"{ip}: unexpected {sorted(must_not & t['findings'])}")
    return errors


def check_metrics():
    text = http(f"http://{METRICS}/metrics")
    errors = []
    for ip, (posture, _, _, _) in EXPECT.items():
        if not any(l.startswith("ikescope_tunnel_info{") and f'initiator="{ip}"' in l and f'posture="{posture}"' in l for l in text.splitlines()):
            errors.append(f"/metrics: no ikescope_tunnel_info for {ip} with posture {posture}")
    for needle in ['ikescope_tunnels{posture="ppk"} 1', 'ikescope_tunnels{posture="legacy-ikev1"} 1', 'ikescope_findings_total{code="invalid_ke_downgrade",severity="high"}']:
        if needle not in text:
            errors.append(f"/metrics lacks {needle}")
    path = os.path.join(WORK, "metrics.prom")
    open(path, "w").write(text)
    r = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True, text=True)
    if r.returncode != 0:
        errors.append(f"promtool check metrics: {r.stdout}{r.stderr}")
    return errors, text


SELECTOR = __import__("re").compile(r"(ikescope_[a-z_]+)(\{[^}]*\})?")


def query(expr):
    url = f"http://{PROM}/api/v1/query?" + urllib.parse.urlencode({"query": expr})
    res = json.loads(http(url))
    return res["data"]["result"] if res.get("status") == "success" else None


def check_dashboard():
    """Every panel query returns data when the lab produced the series it selects: each
    `metric{labels}` selector of the query is looked up on its own first."""
    dash = json.load(open(os.path.join(ROOT, "grafana/dashboards/ikescope.json")))
    errors, checked = [], 0
    for p in dash["panels"]:
        for t in p["targets"]:
            expr = t["expr"].replace("$__rate_interval", "1m")
            selectors = [m.group(0) for m in SELECTOR.finditer(expr)]
            if not any(query(sel) for sel in selectors):
                continue
            checked += 1
            if not query(expr):
                errors.append(f"panel {p['title']!r}: no data for {expr}")
    return errors, checked


def main():
    binary = os.path.abspath(sys.argv[1])
    try:
        topology()
        unpack_libreswan()
        prometheus()
        events = sensor(binary)
        strongswan("b")
        vici = strongswan("a")
        libreswan("d")
        ctl, sbin = libreswan("c")
        negotiate(vici, ctl, sbin)
        # Checkpoints run every second; give slow machines up to 30 s to show every tunnel.
        for _ in range(30):
            errors, text = check_metrics()
            if not errors:
                break
            time.sleep(1)
        time.sleep(65)  # rate()/increase() windows of 1m need two samples a minute apart
        derr, checked = check_dashboard()
        errors += derr
        name, p = next(x for x in PIDS if x[0] == "ikescope")
        p.send_signal(signal.SIGTERM)
        p.wait(timeout=20)
        if p.returncode != 0:
            errors.append(f"ikescope exited {p.returncode} on SIGTERM")
        errors += check_events(events)
        last = [json.loads(l) for l in open(events) if '"capture_stats"' in l]
        if not last or last[-1]["capture_stats"]["captured"] == 0:
            errors.append("no final capture_stats event with captured packets")
        print(f"lab: {len(EXPECT)} tunnels, {checked} dashboard queries checked")
    finally:
        teardown()
    if errors:
        print("LAB FAILED (work dir kept: " + WORK + ")\n" + "\n".join(errors), file=sys.stderr)
        sys.exit(1)
    shutil.rmtree(WORK, ignore_errors=True)
    print("lab: 1 passed, 0 failed")


if __name__ == "__main__":
    main()
