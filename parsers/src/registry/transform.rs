use super::registry;

registry! {
    /// Transform type (RFC 7296 §3.3.2; RFC 9370 adds ADDKE1..7 = 6..12).
    TransformType(u8) {
        ENCR = 1 => "ENCR",
        PRF = 2 => "PRF",
        INTEG = 3 => "INTEG",
        KE = 4 => "KE",
        SN = 5 => "SN",
        ADDKE1 = 6 => "ADDKE1",
        ADDKE2 = 7 => "ADDKE2",
        ADDKE3 = 8 => "ADDKE3",
        ADDKE4 = 9 => "ADDKE4",
        ADDKE5 = 10 => "ADDKE5",
        ADDKE6 = 11 => "ADDKE6",
        ADDKE7 = 12 => "ADDKE7",
        KWA = 13 => "KWA",
        GCAUTH = 14 => "GCAUTH",
    }
}

impl TransformType {
    /// 1-based additional key exchange slot for ADDKE1..7, `None` for other types.
    pub fn addke_slot(self) -> Option<u8> {
        (6..=12).contains(&self.0).then(|| self.0 - 5)
    }

    /// True for the types whose IDs come from the key exchange method registry (4 and 6-12).
    pub fn is_key_exchange(self) -> bool {
        self.0 == 4 || self.addke_slot().is_some()
    }
}

registry! {
    /// Security protocol identifier (proposals, notify, delete).
    ProtocolId(u8) {
        NONE = 0 => "NONE",
        IKE = 1 => "IKE",
        AH = 2 => "AH",
        ESP = 3 => "ESP",
        FC_ESP_HEADER = 4 => "FC_ESP_HEADER",
        FC_CT_AUTHENTICATION = 5 => "FC_CT_AUTHENTICATION",
    }
}

registry! {
    /// Encryption algorithm transform IDs (type 1), strongSwan keyword style.
    EncrId(u16) {
        DES_IV64 = 1 => "des_iv64",
        DES = 2 => "des",
        TRIPLE_DES = 3 => "3des",
        RC5 = 4 => "rc5",
        IDEA = 5 => "idea",
        CAST = 6 => "cast",
        BLOWFISH = 7 => "blowfish",
        THREE_IDEA = 8 => "3idea",
        DES_IV32 = 9 => "des_iv32",
        NULL = 11 => "null",
        AES_CBC = 12 => "aes",
        AES_CTR = 13 => "aesctr",
        AES_CCM_8 = 14 => "aesccm8",
        AES_CCM_12 = 15 => "aesccm12",
        AES_CCM_16 = 16 => "aesccm16",
        AES_GCM_8 = 18 => "aesgcm8",
        AES_GCM_12 = 19 => "aesgcm12",
        AES_GCM_16 = 20 => "aesgcm16",
        NULL_AUTH_AES_GMAC = 21 => "aesgmac",
        CAMELLIA_CBC = 23 => "camellia",
        CAMELLIA_CTR = 24 => "camelliactr",
        CAMELLIA_CCM_8 = 25 => "camelliaccm8",
        CAMELLIA_CCM_12 = 26 => "camelliaccm12",
        CAMELLIA_CCM_16 = 27 => "camelliaccm16",
        CHACHA20_POLY1305 = 28 => "chacha20poly1305",
        AES_CCM_8_IIV = 29 => "aesccm8iiv",
        AES_GCM_16_IIV = 30 => "aesgcm16iiv",
        CHACHA20_POLY1305_IIV = 31 => "chacha20poly1305iiv",
        KUZNYECHIK_MGM_KTREE = 32 => "kuznyechik_mgm_ktree",
        MAGMA_MGM_KTREE = 33 => "magma_mgm_ktree",
        KUZNYECHIK_MGM_MAC_KTREE = 34 => "kuznyechik_mgm_mac_ktree",
        MAGMA_MGM_MAC_KTREE = 35 => "magma_mgm_mac_ktree",
    }
}

impl EncrId {
    /// Authenticated-encryption ciphers carry their own integrity (no INTEG transform needed).
    pub fn is_aead(self) -> bool {
        matches!(self.0, 14..=16 | 18..=20 | 25..=35)
    }
}

registry! {
    /// Pseudorandom function transform IDs (type 2).
    PrfId(u16) {
        HMAC_MD5 = 1 => "prfmd5",
        HMAC_SHA1 = 2 => "prfsha1",
        HMAC_TIGER = 3 => "prftiger",
        AES128_XCBC = 4 => "prfaesxcbc",
        HMAC_SHA2_256 = 5 => "prfsha256",
        HMAC_SHA2_384 = 6 => "prfsha384",
        HMAC_SHA2_512 = 7 => "prfsha512",
        AES128_CMAC = 8 => "prfaescmac",
        HMAC_STREEBOG_512 = 9 => "prfstreebog512",
    }
}

registry! {
    /// Integrity algorithm transform IDs (type 3).
    IntegId(u16) {
        NONE = 0 => "none",
        HMAC_MD5_96 = 1 => "md5",
        HMAC_SHA1_96 = 2 => "sha1",
        DES_MAC = 3 => "desmac",
        KPDK_MD5 = 4 => "kpdkmd5",
        AES_XCBC_96 = 5 => "aesxcbc",
        HMAC_MD5_128 = 6 => "md5_128",
        HMAC_SHA1_160 = 7 => "sha1_160",
        AES_CMAC_96 = 8 => "aescmac",
        AES_128_GMAC = 9 => "aes128gmac",
        AES_192_GMAC = 10 => "aes192gmac",
        AES_256_GMAC = 11 => "aes256gmac",
        HMAC_SHA2_256_128 = 12 => "sha256",
        HMAC_SHA2_384_192 = 13 => "sha384",
        HMAC_SHA2_512_256 = 14 => "sha512",
    }
}
