use super::registry;

registry! {
    /// IKEv2 payload type (RFC 7296 §3.2 and later registrations).
    PayloadType(u8) {
        NONE = 0 => "NONE",
        SA = 33 => "SA",
        KE = 34 => "KE",
        IDI = 35 => "IDi",
        IDR = 36 => "IDr",
        CERT = 37 => "CERT",
        CERTREQ = 38 => "CERTREQ",
        AUTH = 39 => "AUTH",
        NONCE = 40 => "Nonce",
        NOTIFY = 41 => "Notify",
        DELETE = 42 => "Delete",
        VENDOR_ID = 43 => "Vendor ID",
        TSI = 44 => "TSi",
        TSR = 45 => "TSr",
        SK = 46 => "SK",
        CP = 47 => "CP",
        EAP = 48 => "EAP",
        GSPM = 49 => "GSPM",
        IDG = 50 => "IDg",
        GSA = 51 => "GSA",
        KD = 52 => "KD",
        SKF = 53 => "SKF",
        PS = 54 => "PS",
    }
}

registry! {
    /// IKEv1 (ISAKMP) payload type (RFC 2408 §3.1, RFC 3947).
    PayloadTypeV1(u8) {
        NONE = 0 => "NONE",
        SA = 1 => "SA",
        PROPOSAL = 2 => "Proposal",
        TRANSFORM = 3 => "Transform",
        KE = 4 => "KE",
        ID = 5 => "ID",
        CERT = 6 => "CERT",
        CR = 7 => "CR",
        HASH = 8 => "HASH",
        SIG = 9 => "SIG",
        NONCE = 10 => "Nonce",
        NOTIFY = 11 => "Notify",
        DELETE = 12 => "Delete",
        VENDOR_ID = 13 => "Vendor ID",
        ATTRIBUTE = 14 => "Attribute",
        SAK = 15 => "SAK",
        SAT = 16 => "SAT",
        KD = 17 => "KD",
        SEQ = 18 => "SEQ",
        POP = 19 => "POP",
        NAT_D = 20 => "NAT-D",
        NAT_OA = 21 => "NAT-OA",
        GAP = 22 => "GAP",
        NAT_D_DRAFT = 130 => "NAT-D (draft)",
        NAT_OA_DRAFT = 131 => "NAT-OA (draft)",
        FRAGMENT = 132 => "IKE Fragment (Cisco/Microsoft)",
    }
}
