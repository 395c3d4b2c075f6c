//! Property tests: messages built from arbitrary headers and payload chains decode back to the
//! same fields, and no input of any shape makes the parsers panic.

use ikescope_parsers::registry::{KeMethod, NotifyType};
use ikescope_parsers::{decode_v1, decode_v2, IkeMessage, V2Body};
use proptest::prelude::*;

/// A payload to encode: type, critical bit, body.
#[derive(Clone, Debug)]
struct P {
    ptype: u8,
    critical: bool,
    body: Vec<u8>,
}

fn encode(
    spi_i: u64,
    spi_r: u64,
    version: u8,
    exch: u8,
    flags: u8,
    mid: u32,
    payloads: &[P],
) -> Vec<u8> {
    let len = 28 + payloads.iter().map(|p| p.body.len() + 4).sum::<usize>();
    let mut v = Vec::new();
    v.extend_from_slice(&spi_i.to_be_bytes());
    v.extend_from_slice(&spi_r.to_be_bytes());
    v.push(payloads.first().map_or(0, |p| p.ptype));
    v.extend_from_slice(&[version, exch, flags]);
    v.extend_from_slice(&mid.to_be_bytes());
    v.extend_from_slice(&(len as u32).to_be_bytes());
    for (i, p) in payloads.iter().enumerate() {
        v.push(payloads.get(i + 1).map_or(0, |n| n.ptype));
        v.push(if p.critical { 0x80 } else { 0 });
        v.extend_from_slice(&((p.body.len() + 4) as u16).to_be_bytes());
        v.extend_from_slice(&p.body);
    }
    v
}

/// Payload types that may appear before the end of a chain (SK/SKF end it).
fn chain_type() -> impl Strategy<Value = u8> {
    prop_oneof![34u8..=45, 47u8..=52, 54u8..=255]
}

fn payload() -> impl Strategy<Value = P> {
    (
        chain_type(),
        any::<bool>(),
        proptest::collection::vec(any::<u8>(), 0..64),
    )
        .prop_map(|(ptype, critical, body)| P {
            ptype,
            critical,
            body,
        })
}

proptest! {
    #[test]
    fn header_and_payload_chain_round_trip(
        spi_i in any::<u64>(), spi_r in any::<u64>(), exch in any::<u8>(), flags in any::<u8>(), mid in any::<u32>(),
        payloads in proptest::collection::vec(payload(), 0..8),
    ) {
        let wire = encode(spi_i, spi_r, 0x20, exch, flags, mid, &payloads);
        let msg = IkeMessage::parse(&wire).unwrap();
        prop_assert_eq!(msg.header.spi_i, spi_i);
        prop_assert_eq!(msg.header.spi_r, spi_r);
        prop_assert_eq!(msg.header.exchange_type.0, exch);
        prop_assert_eq!(msg.header.flags, flags);
        prop_assert_eq!(msg.header.message_id, mid);
        prop_assert_eq!(msg.header.length as usize, wire.len());
        let got: Vec<_> = msg.payloads().collect::<Result<_, _>>().unwrap();
        prop_assert_eq!(got.len(), payloads.len());
        for (g, p) in got.iter().zip(&payloads) {
            prop_assert_eq!(g.ptype, p.ptype);
            prop_assert_eq!(g.critical, p.critical);
            prop_assert_eq!(g.body, &p.body[..]);
        }
    }

    #[test]
    fn ke_and_notify_bodies_round_trip(method in any::<u16>(), data in proptest::collection::vec(any::<u8>(), 0..1600), ntype in any::<u16>()) {
        let mut ke = method.to_be_bytes().to_vec();
        ke.extend_from_slice(&[0, 0]);
        ke.extend_from_slice(&data);
        let mut n = vec![1, 0];
        n.extend_from_slice(&ntype.to_be_bytes());
        n.extend_from_slice(&data[..data.len().min(32)]);
        let wire = encode(1, 0, 0x20, 34, 8, 0, &[P { ptype: 34, critical: false, body: ke }, P { ptype: 41, critical: false, body: n }]);
        let msg = IkeMessage::parse(&wire).unwrap();
        let mut it = msg.payloads();
        match decode_v2(&it.next().unwrap().unwrap()).unwrap() {
            V2Body::Ke(k) => { prop_assert_eq!(k.method, KeMethod(method)); prop_assert_eq!(k.data, &data[..]); }
            other => prop_assert!(false, "not KE: {:?}", other),
        }
        match decode_v2(&it.next().unwrap().unwrap()).unwrap() {
            V2Body::Notify(x) => { prop_assert_eq!(x.ntype, NotifyType(ntype)); prop_assert_eq!(x.data.len(), data.len().min(32)); }
            other => prop_assert!(false, "not Notify: {:?}", other),
        }
    }

    /// Arbitrary bytes: every layer either decodes or returns an error, never panics.
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        if let Ok(msg) = IkeMessage::parse(&bytes) {
            for p in msg.payloads().flatten() {
                let _ = decode_v2(&p);
                let _ = decode_v1(&p);
                if let Ok(V2Body::Sa(props)) = decode_v2(&p) {
                    for prop in props.flatten() {
                        for t in prop.transforms().flatten() {
                            let _ = t.key_length();
                            let _ = t.attributes().count();
                        }
                    }
                }
            }
        }
    }

    /// A length field that overruns the message is an error at a precise offset, not a panic.
    #[test]
    fn truncated_messages_report_where(payloads in proptest::collection::vec(payload(), 1..5), cut in 1usize..64) {
        let wire = encode(7, 0, 0x20, 34, 8, 0, &payloads);
        let cut = cut.min(wire.len() - 1);
        let short = &wire[..wire.len() - cut];
        let err = IkeMessage::parse(short).unwrap_err();
        prop_assert_eq!(err.offset, if short.len() < 28 { 0 } else { 24 });
    }
}

#[test]
fn sk_ends_the_top_level_chain() {
    // SK's next-payload (IDi = 35) names the first inner payload, which must not be parsed.
    let mut wire = encode(
        1,
        2,
        0x20,
        35,
        8,
        1,
        &[P {
            ptype: 46,
            critical: false,
            body: vec![0xaa; 40],
        }],
    );
    wire[28] = 35;
    let msg = IkeMessage::parse(&wire).unwrap();
    let types: Vec<u8> = msg.payloads().map(|p| p.unwrap().ptype).collect();
    assert_eq!(types, vec![46]);
}

#[test]
fn skf_numbers_are_exposed_even_when_inconsistent() {
    let mut body = 3u16.to_be_bytes().to_vec();
    body.extend_from_slice(&2u16.to_be_bytes());
    body.extend_from_slice(&[0; 20]);
    let wire = encode(
        1,
        2,
        0x20,
        43,
        8,
        1,
        &[P {
            ptype: 53,
            critical: false,
            body,
        }],
    );
    let msg = IkeMessage::parse(&wire).unwrap();
    let p = msg.payloads().next().unwrap().unwrap();
    match decode_v2(&p).unwrap() {
        V2Body::EncryptedFragment(f) => {
            assert_eq!((f.number, f.total), (3, 2));
            assert!(!f.is_consistent());
        }
        other => panic!("not SKF: {other:?}"),
    }
}

#[test]
fn invalid_ke_payload_names_the_requested_method() {
    let body = vec![0, 0, 0, 17, 0, 20];
    let wire = encode(
        1,
        0,
        0x20,
        34,
        0x20,
        0,
        &[P {
            ptype: 41,
            critical: false,
            body,
        }],
    );
    let msg = IkeMessage::parse(&wire).unwrap();
    match decode_v2(&msg.payloads().next().unwrap().unwrap()).unwrap() {
        V2Body::Notify(n) => assert_eq!(n.invalid_ke_method(), Some(KeMethod::ECP384)),
        other => panic!("not Notify: {other:?}"),
    }
}

#[test]
fn bad_major_version_is_rejected_with_its_offset() {
    let wire = encode(1, 0, 0x30, 34, 8, 0, &[]);
    let e = IkeMessage::parse(&wire).unwrap_err();
    assert_eq!(e.offset, 17);
}
