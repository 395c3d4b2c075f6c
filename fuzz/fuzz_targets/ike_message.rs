//! The message parser on arbitrary bytes: header, payload chain, every body decoder, SA
//! substructures, traffic selectors, and the UDP/TCP framing helpers.
#![no_main]

use ikescope_parsers::transport::{classify_nat_t, next_tcp_frame};
use ikescope_parsers::{decode_v1, decode_v2, IkeMessage, V1Body, V2Body};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = classify_nat_t(data);
    let _ = next_tcp_frame(data, true);
    let _ = next_tcp_frame(data, false);
    let Ok(msg) = IkeMessage::parse(data) else { return };
    for p in msg.payloads().flatten() {
        match decode_v2(&p) {
            Ok(V2Body::Sa(props)) => {
                for prop in props.flatten() {
                    for t in prop.transforms().flatten() {
                        let _ = t.key_length();
                        let _ = t.attributes().count();
                    }
                }
            }
            Ok(V2Body::TrafficSelectors(ts)) => {
                let _ = ts.iter().count();
            }
            Ok(V2Body::Notify(n)) => {
                let _ = n.invalid_ke_method();
            }
            Ok(V2Body::Configuration { attributes, .. }) => {
                let _ = attributes.count();
            }
            _ => {}
        }
        if let Ok(V1Body::Sa { proposals, .. }) = decode_v1(&p) {
            for prop in proposals.flatten() {
                let _ = prop.transforms().flatten().map(|t| t.attributes().count()).sum::<usize>();
            }
        }
    }
});
