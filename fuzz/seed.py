#!/usr/bin/env python3
"""Seeds the fuzz corpora from pcaps/: raw IKE messages for `ike_message`, length-prefixed
frame sequences (first octet = link type selector 0 = Ethernet) for `packet_path`.
Classic pcap files only (enough for seeds)."""
import glob, os, struct

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
out_msg = os.path.join(root, "fuzz/corpus/ike_message")
out_pkt = os.path.join(root, "fuzz/corpus/packet_path")
os.makedirs(out_msg, exist_ok=True)
os.makedirs(out_pkt, exist_ok=True)
n = 0
for path in sorted(glob.glob(os.path.join(root, "pcaps/**/*.pcap"), recursive=True)):
    data = open(path, "rb").read()
    if data[:4] != b"\xd4\xc3\xb2\xa1":
        continue
    linktype = struct.unpack("<I", data[20:24])[0]
    if linktype != 1:
        continue
    off, frames = 24, []
    while off + 16 <= len(data):
        caplen = struct.unpack("<I", data[off + 8:off + 12])[0]
        frames.append(data[off + 16:off + 16 + caplen])
        off += 16 + caplen
    seq = b"\x00" + b"".join(struct.pack(">H", len(f)) + f for f in frames[:64])
    open(os.path.join(out_pkt, os.path.basename(path)), "wb").write(seq)
    for i, f in enumerate(frames):
        if len(f) > 42 + 28 and f[12:14] == b"\x08\x00" and f[23] == 17:
            ihl = (f[14] & 0x0F) * 4
            udp = f[14 + ihl:]
            ports = struct.unpack(">HH", udp[:4])
            payload = udp[8:]
            if 4500 in ports and payload[:4] == b"\x00\x00\x00\x00":
                payload = payload[4:]
            if 500 in ports or 4500 in ports:
                open(os.path.join(out_msg, f"{os.path.basename(path)}-{i}"), "wb").write(payload)
                n += 1
print(f"seeded {n} IKE messages")
