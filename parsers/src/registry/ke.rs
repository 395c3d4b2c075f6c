use super::registry;

registry! {
    /// Key exchange method (transform types 4 and 6-12, KE payload). Renamed from
    /// "Diffie-Hellman group" by RFC 9370; ML-KEM IDs from draft-ietf-ipsecme-ikev2-mlkem.
    KeMethod(u16) {
        NONE = 0 => "none",
        MODP768 = 1 => "modp768",
        MODP1024 = 2 => "modp1024",
        EC2N155 = 3 => "ec2n155",
        EC2N185 = 4 => "ec2n185",
        MODP1536 = 5 => "modp1536",
        MODP2048 = 14 => "modp2048",
        MODP3072 = 15 => "modp3072",
        MODP4096 = 16 => "modp4096",
        MODP6144 = 17 => "modp6144",
        MODP8192 = 18 => "modp8192",
        ECP256 = 19 => "ecp256",
        ECP384 = 20 => "ecp384",
        ECP521 = 21 => "ecp521",
        MODP1024S160 = 22 => "modp1024s160",
        MODP2048S224 = 23 => "modp2048s224",
        MODP2048S256 = 24 => "modp2048s256",
        ECP192 = 25 => "ecp192",
        ECP224 = 26 => "ecp224",
        ECP224BP = 27 => "ecp224bp",
        ECP256BP = 28 => "ecp256bp",
        ECP384BP = 29 => "ecp384bp",
        ECP512BP = 30 => "ecp512bp",
        X25519 = 31 => "x25519",
        X448 = 32 => "x448",
        GOST256 = 33 => "gost3410_2012_256",
        GOST512 = 34 => "gost3410_2012_512",
        MLKEM512 = 35 => "mlkem512",
        MLKEM768 = 36 => "mlkem768",
        MLKEM1024 = 37 => "mlkem1024",
    }
}

/// What kind of key exchange a method is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum KeClass {
    /// Transform ID 0: no (additional) key exchange.
    None,
    /// Finite-field or elliptic-curve Diffie-Hellman: broken by a quantum computer.
    Classical,
    /// A standardised post-quantum KEM (ML-KEM).
    PostQuantum,
    /// A private-use ID that some pre-standard build used for a post-quantum KEM
    /// (strongSwan development branches); see [`KeMethod::private_candidates`].
    PreStandardPq,
    /// Unassigned or private ID with no known meaning.
    Unknown,
}

impl KeMethod {
    pub fn class(self) -> KeClass {
        match self.0 {
            0 => KeClass::None,
            1..=5 | 14..=34 => KeClass::Classical,
            35..=37 => KeClass::PostQuantum,
            1030..=1033 | 1040 | 1050..=1094 => KeClass::PreStandardPq,
            _ => KeClass::Unknown,
        }
    }

    pub fn is_post_quantum(self) -> bool {
        matches!(self.class(), KeClass::PostQuantum | KeClass::PreStandardPq)
    }

    /// Short name for reports: the registry name, or `ke<N>` for anything unnamed.
    pub fn short_name(self) -> String {
        match self.name() {
            Some(n) => n.to_string(),
            None => format!("ke{}", self.0),
        }
    }

    /// Expected key exchange data length `(initiator, responder)` in octets, where fixed.
    /// ML-KEM is asymmetric: encapsulation key out, ciphertext back (FIPS 203).
    pub fn data_lengths(self) -> Option<(usize, usize)> {
        let n = match self.0 {
            1 => 96,
            2 | 22 | 30 | 34 => 128,
            5 => 192,
            14 | 23 | 24 => 256,
            15 => 384,
            16 => 512,
            17 => 768,
            18 => 1024,
            19 | 28 | 33 => 64,
            20 | 29 => 96,
            21 => 132,
            25 => 48,
            26 | 27 | 32 => 56,
            31 => 32,
            35 => return Some((800, 768)),
            36 => return Some((1184, 1088)),
            37 => return Some((1568, 1568)),
            _ => return None,
        };
        Some((n, n))
    }

    /// Every meaning strongSwan's pre-standard builds gave a private-use ID. The IDs were reused
    /// across development branches, so one ID can mean several algorithms; the wire does not
    /// say which build sent it.
    pub fn private_candidates(self) -> &'static [&'static str] {
        match self.0 {
            1024 => &["MODP_NULL (strongSwan test group)"],
            1030 => &["NTRU_112 (strongSwan 5.1.2-5.9.14)"],
            1031 => &["NTRU_128 (strongSwan 5.1.2-5.9.14)"],
            1032 => &["NTRU_192 (strongSwan 5.1.2-5.9.14)"],
            1033 => &["NTRU_256 (strongSwan 5.1.2-5.9.14)"],
            1040 => &["NewHope-128 (strongSwan 5.5.1-5.9.14)"],
            1050 => &[
                "BIKE1_L1 (strongSwan 2019 branch)",
                "KYBER_L1 (strongSwan 6.0dr1-beta3)",
            ],
            1051 => &[
                "BIKE1_L3 (strongSwan 2019 branch)",
                "KYBER_L3 (strongSwan 6.0dr1-beta3)",
            ],
            1052 => &[
                "BIKE1_L5 (strongSwan 2019 branch)",
                "KYBER_L5 (strongSwan 6.0dr1-beta3)",
            ],
            1053..=1064 => &["pre-standard PQ KEM (strongSwan 2019 branch or 6.0dr1-beta3)"],
            1065 => &[
                "KYBER_L1 (strongSwan 2019 branch)",
                "FRODO_AES_L5 (strongSwan 6.0dr1-beta3)",
            ],
            1066 => &[
                "KYBER_L3 (strongSwan 2019 branch)",
                "FRODO_SHAKE_L1 (strongSwan 6.0dr1-beta3)",
            ],
            1067 => &[
                "KYBER_L5 (strongSwan 2019 branch)",
                "FRODO_SHAKE_L3 (strongSwan 6.0dr1-beta3)",
            ],
            1068..=1079 => &["pre-standard PQ KEM (strongSwan 2019 branch or 6.0dr1-beta3)"],
            1080 => &[
                "SIKE_L5 (strongSwan 2019 branch)",
                "KYBER_L1 (strongSwan 6.0.0beta4-beta6)",
            ],
            1081 => &["KYBER_L3 (strongSwan 6.0.0beta4-beta6)"],
            1082 => &["KYBER_L5 (strongSwan 6.0.0beta4-beta6)"],
            1083..=1094 => {
                &["pre-standard PQ KEM (strongSwan 6.0.0beta4-beta6: FrodoKEM, BIKE, HQC)"]
            }
            _ => &[],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ml_kem_is_post_quantum_with_fips203_sizes() {
        assert_eq!(KeMethod(36).class(), KeClass::PostQuantum);
        assert_eq!(KeMethod::MLKEM768.data_lengths(), Some((1184, 1088)));
        assert_eq!(KeMethod::MLKEM1024.data_lengths(), Some((1568, 1568)));
        assert_eq!(KeMethod::MLKEM512.data_lengths(), Some((800, 768)));
    }

    #[test]
    fn unknown_ids_keep_their_number() {
        assert_eq!(KeMethod(1080).short_name(), "ke1080");
        assert_eq!(KeMethod(1080).class(), KeClass::PreStandardPq);
        assert_eq!(KeMethod(1080).private_candidates().len(), 2);
        assert_eq!(KeMethod(999).class(), KeClass::Unknown);
    }
}
