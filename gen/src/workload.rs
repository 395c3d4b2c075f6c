//! The benchmark workload: a large SPAN-like capture (mostly TCP/UDP/ESP background, about 1 %
//! IKE across thousands of tunnels, rekeys included), or an IKE-only variant. Streams to the
//! writer, so memory does not grow with the size asked for.

use crate::net::{self, IpOptions, Link, TcpFlags};
use crate::pcap::PcapWriter;
use crate::rng::Rng;
use crate::scenario::{hybrid_rekey, hybrid_setup, Ike2};
use crate::trace::Trace;
use std::io::{self, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

/// Distinct IKE conversations generated with real key shares; instances are copies with
/// fresh addresses and SPIs.
const TEMPLATES: u64 = 64;
const ETH: usize = 14;

pub struct WorkloadOptions {
    pub bytes: u64,
    pub ike_only: bool,
    pub seed: u64,
}

/// Summary of what was written.
#[derive(Debug, Default)]
pub struct WorkloadStats {
    pub packets: u64,
    pub ike_packets: u64,
    pub tunnels: u64,
    pub bytes: u64,
}

struct Template {
    frames: Vec<Vec<u8>>,
    initiator: [u8; 4],
    responder: [u8; 4],
}

fn template(n: u64) -> Template {
    let mut t = Trace::new(Link::Ethernet { vlans: vec![] });
    let i = SocketAddr::from(([192, 0, 2, 1], 500));
    let r = SocketAddr::from(([198, 51, 100, 1], 500));
    let mut sa = Ike2::new(i, r, 1000 + n);
    let (ke, addke): (u16, &[u16]) = match n % 4 {
        0 => (19, &[]),
        1 => (20, &[36]),
        2 => (31, &[36]),
        _ => (14, &[]),
    };
    hybrid_setup(&mut t, &mut sa, ke, addke, n % 2 == 1);
    hybrid_rekey(&mut t, &mut sa, ke, addke);
    Template {
        frames: t.packets.into_iter().map(|p| p.frame).collect(),
        initiator: [192, 0, 2, 1],
        responder: [198, 51, 100, 1],
    }
}

/// Rewrites a template frame for tunnel instance `k`: new peer addresses, SPIs made unique,
/// IPv4 header checksum recomputed, UDP checksum cleared (valid for IPv4).
fn instantiate(frame: &mut [u8], tpl: &Template, k: u64) {
    let ini = [10, (k >> 16) as u8, (k >> 8) as u8, k as u8];
    let res = [172, 16 + ((k >> 16) & 0x0f) as u8, (k >> 8) as u8, k as u8];
    let Some(ip) = frame.get_mut(ETH..) else {
        return;
    };
    for range in [12..16, 16..20] {
        let cur: [u8; 4] = ip[range.clone()].try_into().unwrap_or_default();
        let new = if cur == tpl.initiator {
            ini
        } else if cur == tpl.responder {
            res
        } else {
            cur
        };
        ip[range].copy_from_slice(&new);
    }
    ip[10] = 0;
    ip[11] = 0;
    let sum = header_checksum(&ip[..20]);
    ip[10..12].copy_from_slice(&sum.to_be_bytes());
    let udp = &mut ip[20..];
    udp[6] = 0;
    udp[7] = 0;
    let marker = if udp.get(8..12) == Some(&[0, 0, 0, 0]) {
        4
    } else {
        0
    };
    let spi = 8 + marker;
    for off in [spi, spi + 8] {
        if let Some(b) = udp.get_mut(off..off + 8) {
            let v = u64::from_be_bytes(b.try_into().unwrap_or_default());
            if v != 0 {
                b.copy_from_slice(&(v ^ (k << 20)).to_be_bytes());
            }
        }
    }
}

fn header_checksum(h: &[u8]) -> u16 {
    let mut sum: u32 = h
        .chunks(2)
        .map(|w| u32::from(u16::from_be_bytes([w[0], w[1]])))
        .sum();
    while sum >> 16 != 0 {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// Background frames: bulk TCP, ACKs, DNS-like UDP, ESP.
fn background(rng: &mut Rng) -> Vec<Vec<u8>> {
    let link = Link::Ethernet { vlans: vec![] };
    let mut out = Vec::new();
    for f in 0..32u8 {
        let a = IpAddr::V4(Ipv4Addr::new(10, 9, f, 1));
        let b = IpAddr::V4(Ipv4Addr::new(203, 0, 113, f));
        let data = rng.bytes(1448);
        let flags = TcpFlags {
            ack: true,
            psh: true,
            ..Default::default()
        };
        let seg = net::tcp(a, b, 443, 50000 + u16::from(f), 1, 1, flags, &data);
        out.push(link.frame(&net::ip(a, b, 6, &seg, IpOptions::default()).remove(0)));
        let ack = net::tcp(
            b,
            a,
            50000 + u16::from(f),
            443,
            1,
            1,
            TcpFlags {
                ack: true,
                ..Default::default()
            },
            &[],
        );
        out.push(link.frame(&net::ip(b, a, 6, &ack, IpOptions::default()).remove(0)));
        let dns = net::udp(a, b, 53000 + u16::from(f), 53, &rng.bytes(60));
        out.push(link.frame(&net::ip(a, b, 17, &dns, IpOptions::default()).remove(0)));
        let mut esp = (0x1000_0000u32 + u32::from(f)).to_be_bytes().to_vec();
        esp.extend_from_slice(&rng.bytes(1200));
        out.push(link.frame(&net::ip(a, b, 50, &esp, IpOptions::default()).remove(0)));
    }
    out
}

/// Writes the workload to `out` (classic pcap, Ethernet).
pub fn write(out: impl Write, o: &WorkloadOptions) -> io::Result<WorkloadStats> {
    let mut rng = Rng::new(o.seed);
    let templates: Vec<Template> = (0..TEMPLATES).map(template).collect();
    let bg = background(&mut rng);
    let mut w = PcapWriter::new(out, 1, 262_144)?;
    let mut st = WorkloadStats {
        bytes: 24,
        ..Default::default()
    };
    let mut ts = 1_764_000_000_000_000u64;
    let mut frame = Vec::with_capacity(2048);
    let mut k = 0u64;
    while st.bytes < o.bytes {
        // One tunnel's conversation, then (SPAN mode) ~99 background frames per IKE frame.
        let tpl = &templates[(k % TEMPLATES) as usize];
        for f in &tpl.frames {
            frame.clear();
            frame.extend_from_slice(f);
            instantiate(&mut frame, tpl, k);
            w.packet(ts, &frame, frame.len())?;
            st.ike_packets += 1;
            st.packets += 1;
            st.bytes += 16 + frame.len() as u64;
            ts += 7;
            if o.ike_only {
                continue;
            }
            for _ in 0..99 {
                let b = &bg[rng.below(bg.len() as u64) as usize];
                w.packet(ts, b, b.len())?;
                st.packets += 1;
                st.bytes += 16 + b.len() as u64;
                ts += 3;
            }
        }
        st.tunnels += 1;
        k += 1;
    }
    w.into_inner().flush()?;
    Ok(st)
}
