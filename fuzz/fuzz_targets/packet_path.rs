//! The whole packet path: link decode, IP reassembly, UDP/TCP framing, ICMP, the IKE stage.
//! The input is a sequence of frames, each prefixed by a 2-octet length; the first octet picks
//! the link type, so state (fragments, TCP streams) is exercised across packets.
#![no_main]

use ikescope::decode::{Datagram, Decoder, FragmentLoss, IcmpError, Limits, LinkType, PacketMeta, Sink};
use ikescope::ike::{self, Sender};
use libfuzzer_sys::fuzz_target;

struct Summaries(usize);

impl Sink for Summaries {
    fn ike(&mut self, d: &Datagram<'_>) {
        if let Ok(msg) = ike::parse(d) {
            let (s, _) = ike::summarize(&msg, d, Sender::Initiator);
            self.0 += s.payloads.len();
        }
    }
    fn icmp_error(&mut self, _: &IcmpError) {}
    fn fragment_loss(&mut self, _: &FragmentLoss) {}
}

const LINKS: [i32; 7] = [1, 0, 101, 228, 229, 113, 276];

fuzz_target!(|data: &[u8]| {
    let Some((&sel, mut rest)) = data.split_first() else { return };
    let link = LinkType::from_linktype(LINKS[usize::from(sel) % LINKS.len()]).unwrap();
    let limits = Limits { max_reassemblies: 8, max_fragments_per_datagram: 8, max_tcp_streams: 4, max_tcp_buffer: 4096, ..Limits::default() };
    let mut dec = Decoder::new(link, limits);
    let mut sink = Summaries(0);
    let mut n = 0;
    while rest.len() >= 2 {
        let len = usize::from(u16::from_be_bytes([rest[0], rest[1]])).min(rest.len() - 2);
        let (frame, tail) = rest[2..].split_at(len);
        n += 1;
        dec.packet(PacketMeta { ts_us: n * 1000, pcap_cnt: n as u64 }, frame, false, &mut sink);
        rest = tail;
    }
    dec.finish(&mut sink);
});
