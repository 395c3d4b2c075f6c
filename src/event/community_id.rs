//! Community ID flow hash v1 (corelight/community-id-spec), so ikescope events join Zeek and
//! Suricata records of the same flow. Small enough to write here; it needs only SHA-1 + base64.

use base64::Engine;
use sha1::{Digest, Sha1};
use std::net::{IpAddr, SocketAddr};

fn ip_bytes(ip: &IpAddr) -> Vec<u8> {
    match ip {
        IpAddr::V4(v4) => v4.octets().to_vec(),
        IpAddr::V6(v6) => v6.octets().to_vec(),
    }
}

/// `1:<base64(sha1(seed ‖ saddr ‖ daddr ‖ proto ‖ 0 ‖ sport ‖ dport))>` with the endpoints in
/// canonical (smaller first) order, seed 0.
pub fn community_id(src: SocketAddr, dst: SocketAddr, proto: u8) -> String {
    let (a, b) = if (src.ip(), src.port()) <= (dst.ip(), dst.port()) {
        (src, dst)
    } else {
        (dst, src)
    };
    let mut h = Sha1::new();
    h.update(0u16.to_be_bytes());
    h.update(ip_bytes(&a.ip()));
    h.update(ip_bytes(&b.ip()));
    h.update([proto, 0]);
    h.update(a.port().to_be_bytes());
    h.update(b.port().to_be_bytes());
    format!(
        "1:{}",
        base64::engine::general_purpose::STANDARD.encode(h.finalize())
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reference value from the community-id-spec baseline (`tcp 128.232.110.120:34855 ->
    /// 66.35.250.204:80`).
    #[test]
    fn matches_spec_baseline() {
        let s: SocketAddr = "128.232.110.120:34855".parse().unwrap();
        let d: SocketAddr = "66.35.250.204:80".parse().unwrap();
        assert_eq!(community_id(s, d, 6), "1:LQU9qZlK+B5F3KDmev6m5PMibrg=");
        assert_eq!(community_id(d, s, 6), "1:LQU9qZlK+B5F3KDmev6m5PMibrg=");
    }
}
