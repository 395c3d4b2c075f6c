//! Algorithm facts the classifier needs: key exchange strength, weak algorithm lists
//! (RFC 8247 §2.4-2.5 "MUST NOT"/"SHOULD NOT", RFC 9395), SK payload overhead, and
//! strongSwan-style proposal names.

use crate::ike::{ProposalSummary, TransformSummary};
use ikescope_parsers::registry::{EncrId, IntegId, KeMethod, PrfId};

/// Rough classical security level (bits) of a key exchange method, to tell a weaker retry from
/// a stronger one. Post-quantum methods rank above every classical one.
pub fn ke_strength(id: u16) -> u32 {
    match id {
        1 => 60,
        2 | 22 | 25 => 80,
        5 => 90,
        14 | 23 | 24 | 26 | 27 => 112,
        15 | 19 | 28 | 31 | 33 => 128,
        16 => 150,
        17 => 176,
        18 | 20 | 29 => 192,
        32 => 224,
        21 | 30 | 34 => 256,
        35..=37 | 1030..=1033 | 1040 | 1050..=1094 => 1000,
        _ => 0,
    }
}

/// MODP 768/1024/1536 and the RFC 5114 groups with 160/224-bit subgroups.
pub fn is_weak_dh(id: u16) -> bool {
    matches!(id, 1 | 2 | 5 | 22 | 23 | 24)
}

/// DES, 3DES, NULL, Blowfish, CAST, IDEA, RC5 (and the 3IDEA / DES-IV variants).
pub fn is_weak_encr(id: u16) -> bool {
    matches!(id, 1..=9 | 11)
}

/// MD5, SHA-1 and DES-MAC based integrity.
pub fn is_weak_integ(id: u16) -> bool {
    matches!(id, 1 | 2 | 3 | 4 | 6 | 7)
}

/// HMAC-MD5, HMAC-SHA1 (and TIGER) PRFs.
pub fn is_weak_prf(id: u16) -> bool {
    matches!(id, 1..=3)
}

/// IKEv1 encryption attribute values (RFC 2409 app. A): DES 1, IDEA 2, Blowfish 3, RC5 4,
/// 3DES 5, CAST 6 are weak; AES 7 and Camellia 8 are not.
pub fn is_weak_v1_encr(v: u64) -> bool {
    (1..=6).contains(&v)
}

/// IKEv1 hash attribute: MD5 1, SHA 2, Tiger 3.
pub fn is_weak_v1_hash(v: u64) -> bool {
    (1..=3).contains(&v)
}

/// (IV, ICV, cipher block) octets of the SK payload for the selected ENCR / INTEG.
pub fn sk_overhead(encr: Option<u16>, integ: Option<u16>) -> (u32, u32, u32) {
    let (iv, block, aead_icv) = match encr.unwrap_or(12) {
        14 | 18 | 25 => (8, 1, 8),
        15 | 19 | 26 => (8, 1, 12),
        16 | 20 | 27 | 28 => (8, 1, 16),
        3 | 2 | 1 | 9 => (8, 8, 0),
        _ => (16, 16, 0),
    };
    let icv = if aead_icv > 0 {
        aead_icv
    } else {
        match integ.unwrap_or(12) {
            1 | 2 | 5 | 8 => 12,
            12 => 16,
            13 => 24,
            14 => 32,
            7 => 20,
            6 => 16,
            _ => 16,
        }
    };
    (iv, icv, block)
}

fn transform_name(t: &TransformSummary) -> String {
    let kl = t.key_length.map(|k| k.to_string()).unwrap_or_default();
    match t.ttype {
        1 => {
            let n = EncrId(t.id)
                .name()
                .map_or_else(|| format!("encr{}", t.id), str::to_string);
            // strongSwan writes the key length after "aes"/"camellia": aes256, aes256gcm16.
            match n.strip_prefix("aes") {
                Some(rest) if !kl.is_empty() => format!("aes{kl}{rest}"),
                _ => match n.strip_prefix("camellia") {
                    Some(rest) if !kl.is_empty() => format!("camellia{kl}{rest}"),
                    _ => n,
                },
            }
        }
        2 => PrfId(t.id)
            .name()
            .map_or_else(|| format!("prf{}", t.id), str::to_string),
        3 => IntegId(t.id)
            .name()
            .map_or_else(|| format!("integ{}", t.id), str::to_string),
        4 => KeMethod(t.id).short_name(),
        5 => {
            if t.id == 1 {
                "esn".into()
            } else {
                "noesn".into()
            }
        }
        6..=12 => format!("ke{}_{}", t.ttype - 5, KeMethod(t.id).short_name()),
        other => format!("t{other}_{}", t.id),
    }
}

/// strongSwan-style proposal string, e.g. `aes256gcm16-prfsha384-ecp384-ke1_mlkem768`.
pub fn proposal_string(p: &ProposalSummary) -> String {
    let order = |t: &TransformSummary| match t.ttype {
        1 => 0,
        3 => 1,
        2 => 2,
        4 => 3,
        n => u32::from(n) + 10,
    };
    let mut ts: Vec<&TransformSummary> = p.transforms.iter().collect();
    ts.sort_by_key(|t| order(t));
    ts.iter()
        .map(|t| transform_name(t))
        .collect::<Vec<_>>()
        .join("-")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proposal_string_follows_strongswan() {
        let p = ProposalSummary {
            number: 1,
            protocol: 1,
            spi: String::new(),
            transforms: vec![
                TransformSummary {
                    ttype: 1,
                    id: 20,
                    key_length: Some(256),
                    attributes: None,
                },
                TransformSummary {
                    ttype: 2,
                    id: 6,
                    key_length: None,
                    attributes: None,
                },
                TransformSummary {
                    ttype: 4,
                    id: 20,
                    key_length: None,
                    attributes: None,
                },
                TransformSummary {
                    ttype: 6,
                    id: 36,
                    key_length: None,
                    attributes: None,
                },
            ],
        };
        assert_eq!(
            proposal_string(&p),
            "aes256gcm16-prfsha384-ecp384-ke1_mlkem768"
        );
    }
}
