//! Well-known Vendor ID payload values (reference §12: strongSwan, libreswan, ike-scan sources).

/// A recognised Vendor ID.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Vendor {
    /// Who sends it ("strongSwan", "Cisco", ...).
    pub vendor: &'static str,
    /// What the value says (product, version or capability).
    pub meaning: &'static str,
}

enum Match {
    Exact(&'static [u8]),
    Prefix(&'static [u8]),
}

const TABLE: &[(Match, &str, &str)] = &[
    (
        Match::Exact(&hex16(*b"882fe56d6fd20dbc2251613b2ebe5beb")),
        "strongSwan",
        "strongSwan",
    ),
    (
        Match::Prefix(b"OE-Libreswan-"),
        "libreswan",
        "libreswan >= 3.6",
    ),
    (Match::Prefix(b"OpenIKED-"), "OpenIKED", "OpenIKED"),
    (Match::Prefix(b"OEN"), "libreswan", "libreswan 3.0-3.5"),
    (Match::Prefix(b"OE"), "Openswan", "Openswan"),
    (
        Match::Prefix(&hex16(*b"1e2b516905991c7d7c96fcbfb587e461")),
        "Microsoft",
        "Windows (MS NT5 ISAKMPOAKLEY)",
    ),
    (
        Match::Exact(&hex16(*b"fb1de3cdf341b7ea16b7e5be0855f120")),
        "Microsoft",
        "MS-Negotiation Discovery Capable",
    ),
    (
        Match::Exact(&hex16(*b"e3a5966a76379fe707228231e5ce8652")),
        "Microsoft",
        "IKE CGA version 1",
    ),
    (
        Match::Exact(&hex16(*b"26244d38eddb61b3172a36e3d0cfb819")),
        "Microsoft",
        "Vid-Initial-Contact",
    ),
    (
        Match::Exact(&hex16(*b"686a8cbdfe634b405146fb2baf33e9e8")),
        "Microsoft",
        "MSFT IPsec Security Realm Id",
    ),
    (
        Match::Exact(&hex16(*b"12f5f28c457168a9702d9fe274cc0100")),
        "Cisco",
        "Cisco Unity",
    ),
    (
        Match::Exact(b"CISCO-DELETE-REASON"),
        "Cisco",
        "CISCO-DELETE-REASON",
    ),
    (Match::Exact(b"FLEXVPN-SUPPORTED"), "Cisco", "FlexVPN"),
    (
        Match::Exact(b"CISCO-DYNAMIC-ROUTE"),
        "Cisco",
        "CISCO-DYNAMIC-ROUTE",
    ),
    (Match::Exact(b"CISCOVPN-REV-02"), "Cisco", "CISCOVPN-REV-02"),
    (
        Match::Prefix(b"CISCO(COPYRIGHT)"),
        "Cisco",
        "Cisco copyright",
    ),
    (
        Match::Prefix(&[
            0x1f, 0x07, 0xf7, 0x0e, 0xaa, 0x65, 0x14, 0xd3, 0xb0, 0xfa, 0x96, 0x54, 0x2a, 0x50,
        ]),
        "Cisco",
        "VPN 3000 / ASA",
    ),
    (Match::Prefix(&[0x3e, 0x98, 0x40, 0x48]), "Cisco", "IOS"),
    (
        Match::Exact(&[
            0xfd, 0x80, 0x88, 0x04, 0xdf, 0x73, 0xb1, 0x51, 0x50, 0x70, 0x9d, 0x87, 0x80, 0x44,
            0xcd, 0xe0, 0xac, 0x1e, 0xfc, 0xde,
        ]),
        "Juniper",
        "SRX",
    ),
    (
        Match::Exact(&[
            0x69, 0x93, 0x69, 0x22, 0x87, 0x41, 0xc6, 0xd4, 0xca, 0x09, 0x4c, 0x93, 0xe2, 0x42,
            0xc9, 0xde, 0x19, 0xe7, 0xb7, 0xc6,
        ]),
        "Juniper",
        "NetScreen",
    ),
    (
        Match::Exact(&hex16(*b"1d6e178f6c2c0be284985465450fe9d4")),
        "Fortinet",
        "FortiGate",
    ),
    (
        Match::Exact(&hex16(*b"b4f01ca951e9da8d0bafbbd34ad3044e")),
        "Fortinet",
        "FortiClient (Endpoint Control)",
    ),
    (
        Match::Exact(&hex16(*b"4c53427b6d465d1b337bb755a37a7fef")),
        "Fortinet",
        "FortiClient (connect license)",
    ),
    (
        Match::Prefix(&[
            0xf4, 0xed, 0x19, 0xe0, 0xc1, 0x14, 0xeb, 0x51, 0x6f, 0xaa, 0xac, 0x0e, 0xe3, 0x7d,
            0xaf, 0x28, 0x07, 0xb4, 0x38, 0x1f,
        ]),
        "Check Point",
        "Check Point",
    ),
    (
        Match::Prefix(&[0x40, 0x4b, 0xf4, 0x39, 0x52, 0x2c, 0xa3, 0xf6]),
        "SonicWall",
        "SonicWall",
    ),
    (
        Match::Prefix(&[0xda, 0x8e, 0x93, 0x78, 0x80, 0x01, 0x00, 0x00]),
        "SonicWall",
        "SonicWall / WatchGuard",
    ),
    (
        Match::Exact(&[
            0xb8, 0x58, 0xd1, 0xad, 0xdd, 0x08, 0xc1, 0xe8, 0xad, 0xaf, 0xea, 0x15, 0x06, 0x08,
            0xaa, 0x44, 0x97, 0xaa, 0x6c, 0xc8,
        ]),
        "ZyXEL",
        "ZyWALL",
    ),
    (
        Match::Exact(&hex16(*b"4a131c81070358455c5728f20e95452f")),
        "IETF",
        "RFC 3947 NAT-T",
    ),
    (
        Match::Exact(&hex16(*b"afcad71368a1f1c96b8696fc77570100")),
        "IETF",
        "RFC 3706 DPD",
    ),
    (
        Match::Prefix(&[0x09, 0x00, 0x26, 0x89, 0xdf, 0xd6, 0xb7, 0x12]),
        "IETF",
        "XAUTH",
    ),
    (
        Match::Prefix(&hex16(*b"4048b7d56ebce88525e7de7f00d6c2d3")),
        "Cisco",
        "IKEv1 FRAGMENTATION",
    ),
    (
        Match::Exact(&hex16(*b"7003cbc1097dbe9c2600ba6983bc8b35")),
        "KAME",
        "racoon",
    ),
];

/// Decodes 32 hex digits at compile time (keeps the table readable as the sources print it).
const fn hex16(s: [u8; 32]) -> [u8; 16] {
    const fn nib(c: u8) -> u8 {
        match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' => c - b'a' + 10,
            _ => 0,
        }
    }
    let mut out = [0u8; 16];
    let mut i = 0;
    while i < 16 {
        out[i] = nib(s[2 * i]) << 4 | nib(s[2 * i + 1]);
        i += 1;
    }
    out
}

/// Looks a Vendor ID value up in the table (first match wins; exact entries precede prefixes of
/// the same vendor).
pub fn vendor_name(vid: &[u8]) -> Option<Vendor> {
    TABLE.iter().find_map(|(m, vendor, meaning)| {
        let hit = match m {
            Match::Exact(v) => vid == *v,
            Match::Prefix(p) => vid.starts_with(p),
        };
        hit.then_some(Vendor { vendor, meaning })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strongswan_vid_is_md5_of_its_name() {
        let vid = hex16(*b"882fe56d6fd20dbc2251613b2ebe5beb");
        assert_eq!(vendor_name(&vid).map(|v| v.vendor), Some("strongSwan"));
    }

    #[test]
    fn libreswan_ascii_prefix() {
        assert_eq!(
            vendor_name(b"OE-Libreswan-4.10").map(|v| v.vendor),
            Some("libreswan")
        );
        assert_eq!(vendor_name(b"nothing"), None);
    }
}
