use super::registry;

registry! {
    /// Exchange type (IKE header octet 18). IKEv1 (ISAKMP) and IKEv2 values share the octet;
    /// the major version decides which half applies (IKEv1: 1-6, 32, 33; IKEv2: 34-44).
    ExchangeType(u8) {
        V1_BASE = 1 => "Base",
        V1_MAIN = 2 => "Main Mode",
        V1_AUTH_ONLY = 3 => "Authentication Only",
        V1_AGGRESSIVE = 4 => "Aggressive Mode",
        V1_INFORMATIONAL = 5 => "Informational",
        V1_TRANSACTION = 6 => "Transaction (Mode Config)",
        V1_QUICK = 32 => "Quick Mode",
        V1_NEW_GROUP = 33 => "New Group Mode",
        IKE_SA_INIT = 34 => "IKE_SA_INIT",
        IKE_AUTH = 35 => "IKE_AUTH",
        CREATE_CHILD_SA = 36 => "CREATE_CHILD_SA",
        INFORMATIONAL = 37 => "INFORMATIONAL",
        IKE_SESSION_RESUME = 38 => "IKE_SESSION_RESUME",
        GSA_AUTH = 39 => "GSA_AUTH",
        GSA_REGISTRATION = 40 => "GSA_REGISTRATION",
        GSA_REKEY = 41 => "GSA_REKEY",
        GSA_INBAND_REKEY = 42 => "GSA_INBAND_REKEY",
        IKE_INTERMEDIATE = 43 => "IKE_INTERMEDIATE",
        IKE_FOLLOWUP_KE = 44 => "IKE_FOLLOWUP_KE",
    }
}

impl ExchangeType {
    /// Name for a message of the given major version (values 1-33 only mean something in IKEv1,
    /// 34+ only in IKEv2).
    pub fn name_for(self, major: u8) -> Option<&'static str> {
        match (major, self.0) {
            (1, 0..=33) | (2, 34..=44) => self.name(),
            _ => None,
        }
    }
}
