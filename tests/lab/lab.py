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
        sh(["ip", "link", "set", "lo", "up"], ns=ns)
    sh(["ip", "link", "add", "br0", "type", "bridge"], ns="iks-m")
    sh(["ip", "link", "set", "br0", "up"], ns="iks-m")
    sh(["ip", "addr", "add", "192.0.2.254/24", "dev", "br0"], ns="iks-m")
    sh(["ip", "addr", "add", "198.51.100.254/24", "dev", "br0"], ns="iks-m")
    sh(["sysctl", "-qw", "net.ipv4.ip_forward=1"], ns="iks-m")
    plan = {"a": ("192.0.2", [1, 2, 3, 4]), "b": ("198.51.100", [1, 2, 3, 4]), "c": ("192.0.2", [11, 12]), "d": ("198.51.100", [11, 12])}
    for x, (net, hosts) in plan.items():
        ns = f"iks-{x}"
        sh(["ip", "link", "add", f"v{x}", "netns", ns, "type", "veth", "peer", "name", f"m{x}", "netns", "iks-m"])
        sh(["ip", "link", "set", f"m{x}", "master", "br0", "up"], ns="iks-m")
        sh(["ip", "link", "set", f"v{x}", "up"], ns=ns)
        for h in hosts:
            sh(["ip", "addr", "add", f"{net}.{h}/24", "dev", f"v{x}"], ns=ns)
        sh(["ip", "route", "add", "default", "via", f"{net}.254"], ns=ns)
        for dev, n in ((f"v{x}", ns), (f"m{x}", "iks-m")):
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
