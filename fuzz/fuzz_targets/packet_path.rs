//! The whole packet path: link decode, IP reassembly, UDP/TCP framing, ICMP, the IKE stage, the
//! SA tracker, classification and findings. The input is a sequence of frames, each prefixed
//! by a 2-octet length; the first octet picks the link type, so state (fragments, TCP streams,
//! SAs, tunnels) is exercised across packets.
#![no_main]

use ikescope::analysis::{Analyzer, AnalyzerOptions, NoOutput};
use ikescope::sink::observation;
use ikescope::decode::{Datagram, Decoder, FragmentLoss, IcmpError, Limits, LinkType, PacketMeta, Sink};
use ikescope::ike::{self, Sender};
use ikescope::track::{NetEvent, NetEventKind, TrackerLimits};
use libfuzzer_sys::fuzz_target;

struct Pipeline(Analyzer);

impl Sink for Pipeline {
    fn ike(&mut self, d: &Datagram<'_>) {
        if let Ok(msg) = ike::parse(d) {
            let (s, _) = ike::summarize(&msg, d, Sender::Initiator);
            self.0.message(observation(d, &s, 0), &s, &mut NoOutput);
        }
    }
    fn icmp_error(&mut self, e: &IcmpError) {
        let ev = NetEvent { kind: NetEventKind::PortUnreachable, pcap_cnt: e.meta.pcap_cnt, input: 0, ts_us: e.meta.ts_us };
        self.0.net_event(e.quoted_src.ip(), e.quoted_dst.ip(), ev, &mut NoOutput);
    }
    fn fragment_loss(&mut self, l: &FragmentLoss) {
        let ev = NetEvent { kind: NetEventKind::FragmentLoss { fragments_seen: l.fragments_seen }, pcap_cnt: l.last.pcap_cnt, input: 0, ts_us: l.last.ts_us };
        self.0.net_event(l.src, l.dst, ev, &mut NoOutput);
    }
}

const LINKS: [i32; 7] = [1, 0, 101, 228, 229, 113, 276];

fuzz_target!(|data: &[u8]| {
    let Some((&sel, mut rest)) = data.split_first() else { return };
    let link = LinkType::from_linktype(LINKS[usize::from(sel) % LINKS.len()]).unwrap();
    let limits = Limits { max_reassemblies: 8, max_fragments_per_datagram: 8, max_tcp_streams: 4, max_tcp_buffer: 4096, ..Limits::default() };
    let mut dec = Decoder::new(link, limits);
    let opts = AnalyzerOptions { tracker: TrackerLimits { max_sas: 16, ..TrackerLimits::default() }, max_tunnels: 8, ..AnalyzerOptions::default() };
    let mut sink = Pipeline(Analyzer::new(opts));
    let mut n = 0;
    while rest.len() >= 2 {
        let len = usize::from(u16::from_be_bytes([rest[0], rest[1]])).min(rest.len() - 2);
        let (frame, tail) = rest[2..].split_at(len);
        n += 1;
        dec.packet(PacketMeta { ts_us: n * 1000, pcap_cnt: n as u64 }, frame, false, &mut sink);
        rest = tail;
    }
    dec.finish(&mut sink);
    sink.0.finish(&mut NoOutput);
});
