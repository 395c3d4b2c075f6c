//! Parser throughput on the corpus: every IKE message in `pcaps/` (real and synthetic), decoded
//! fully (header, payload chain, every body, SA substructures). Reports messages per second.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use ikescope::decode::{Datagram, Decoder, Limits, LinkType, PacketMeta, Sink};
use ikescope_parsers::{decode_v1, decode_v2, IkeMessage, V1Body, V2Body};
use std::hint::black_box;
use std::path::Path;

struct Collect(Vec<Vec<u8>>);

impl Sink for Collect {
    fn ike(&mut self, d: &Datagram<'_>) {
        self.0.push(d.ike.to_vec());
    }
}

fn corpus_messages() -> Vec<Vec<u8>> {
    fn walk(d: &Path, out: &mut Vec<std::path::PathBuf>) {
        for e in std::fs::read_dir(d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|x| x == "pcap" || x == "pcapng") {
                out.push(p);
            }
        }
    }
    let mut files = Vec::new();
    walk(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("pcaps"),
        &mut files,
    );
    let mut sink = Collect(Vec::new());
    for f in files {
        let Ok(mut cap) = pcap::Capture::from_file(&f) else {
            continue;
        };
        let Some(link) = LinkType::from_linktype(cap.get_datalink().0) else {
            continue;
        };
        let mut dec = Decoder::new(link, Limits::default());
        let mut n = 0;
        while let Ok(p) = cap.next_packet() {
            n += 1;
            dec.packet(
                PacketMeta {
                    ts_us: 0,
                    pcap_cnt: n,
                },
                p.data,
                false,
                &mut sink,
            );
        }
    }
    sink.0
}

/// Decodes everything a message holds; returns a count so nothing is optimised away.
fn decode_all(bytes: &[u8]) -> usize {
    let Ok(msg) = IkeMessage::parse(bytes) else {
        return 0;
    };
    let v2 = msg.header.is_ikev2();
    let mut n = 0;
    for p in msg.payloads().flatten() {
        n += 1;
        if v2 {
            if let Ok(V2Body::Sa(props)) = decode_v2(&p) {
                n += props
                    .flatten()
                    .map(|pr| {
                        pr.transforms()
                            .flatten()
                            .map(|t| usize::from(t.key_length().is_some()) + 1)
                            .sum::<usize>()
                    })
                    .sum::<usize>();
            }
        } else if let Ok(V1Body::Sa { proposals, .. }) = decode_v1(&p) {
            n += proposals
                .flatten()
                .map(|pr| {
                    pr.transforms()
                        .flatten()
                        .map(|t| t.attributes().count())
                        .sum::<usize>()
                })
                .sum::<usize>();
        }
    }
    n
}

fn bench(c: &mut Criterion) {
    let msgs = corpus_messages();
    assert!(!msgs.is_empty(), "no IKE messages in pcaps/");
    let mut g = c.benchmark_group("parser");
    g.throughput(Throughput::Elements(msgs.len() as u64));
    g.bench_function(format!("decode_all_{}_corpus_messages", msgs.len()), |b| {
        b.iter(|| msgs.iter().map(|m| decode_all(black_box(m))).sum::<usize>())
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
