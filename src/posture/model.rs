//! The vocabulary of spec §2-3: posture, evidence, findings.

use serde::Serialize;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Posture {
    Classical,
    Hybrid,
    PqOnly,
    Ppk,
    #[serde(rename = "hybrid+ppk")]
    HybridPpk,
    LegacyIkev1,
    Failed,
    Unknown,
}

impl Posture {
    pub fn as_str(self) -> &'static str {
        match self {
            Posture::Classical => "classical",
            Posture::Hybrid => "hybrid",
            Posture::PqOnly => "pq-only",
            Posture::Ppk => "ppk",
            Posture::HybridPpk => "hybrid+ppk",
            Posture::LegacyIkev1 => "legacy-ikev1",
            Posture::Failed => "failed",
            Posture::Unknown => "unknown",
        }
    }

    pub fn parse(s: &str) -> Option<Posture> {
        Some(match s {
            "classical" => Posture::Classical,
            "hybrid" => Posture::Hybrid,
            "pq-only" => Posture::PqOnly,
            "ppk" => Posture::Ppk,
            "hybrid+ppk" => Posture::HybridPpk,
            "legacy-ikev1" => Posture::LegacyIkev1,
            "failed" => Posture::Failed,
            "unknown" => Posture::Unknown,
            _ => return None,
        })
    }

    /// Strength order of established postures (None: not an established key exchange).
    /// PPK adds post-quantum protection of the keys, hybrid adds post-quantum forward secrecy.
    /// IKEv1 ranks with classical: falling back to it is `ikev1_fallback`, not a regression.
    pub fn rank(self) -> Option<u8> {
        match self {
            Posture::LegacyIkev1 | Posture::Classical => Some(1),
            Posture::Ppk => Some(2),
            Posture::Hybrid | Posture::PqOnly => Some(3),
            Posture::HybridPpk => Some(4),
            Posture::Failed | Posture::Unknown => None,
        }
    }

    /// Any post-quantum protection (KEM or PPK).
    pub fn is_pq(self) -> bool {
        matches!(
            self,
            Posture::Hybrid | Posture::PqOnly | Posture::Ppk | Posture::HybridPpk
        )
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Evidence {
    Offered,
    Negotiated,
    Confirmed,
    Decrypted,
}

impl Evidence {
    pub fn as_str(self) -> &'static str {
        match self {
            Evidence::Offered => "offered",
            Evidence::Negotiated => "negotiated",
            Evidence::Confirmed => "confirmed",
            Evidence::Decrypted => "decrypted",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    pub fn parse(s: &str) -> Option<Severity> {
        Some(match s {
            "info" => Severity::Info,
            "low" => Severity::Low,
            "medium" => Severity::Medium,
            "high" => Severity::High,
            "critical" => Severity::Critical,
            _ => return None,
        })
    }
}

/// One finding (spec §3). `evidence` holds packet references and values.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Finding {
    pub code: &'static str,
    pub severity: Severity,
    pub message: String,
    pub tunnel: String,
    pub spi_i: String,
    pub spi_r: String,
    pub evidence: serde_json::Value,
}

/// State of an IKE SA when it is reported.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SaState {
    /// IKE_SA_INIT request(s) only.
    Offered,
    /// IKE_SA_INIT answered, authentication not (yet) seen.
    HalfOpen,
    Established,
    Failed,
    /// Seen only after it was set up (capture started mid-SA).
    Unknown,
}
