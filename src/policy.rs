//! Tunnel-class policy (spec §6): which posture each class of tunnel requires, and how hard a
//! fallback counts.
//!
//! ```toml
//! [default]
//! require = "any-pq"
//! fallback = "allowed-logged"
//!
//! [[class]]
//! name = "partner-critical"
//! peers = ["203.0.113.0/24"]                 # CIDR of either peer
//! pairs = [["192.0.2.1", "198.51.100.1"]]    # explicit peer pairs (either order)
//! require = "hybrid"                         # classical | hybrid | pq-only | ppk | any-pq
//! fallback = "fail-closed"                   # fail-closed: high finding; allowed-logged: medium
//! ```

use crate::posture::{Posture, Severity};
use ipnet::IpNet;
use serde::Deserialize;
use std::net::IpAddr;
use std::path::Path;
use toml::Spanned;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Require {
    Classical,
    Hybrid,
    PqOnly,
    Ppk,
    AnyPq,
}

impl Require {
    pub fn as_str(self) -> &'static str {
        match self {
            Require::Classical => "classical",
            Require::Hybrid => "hybrid",
            Require::PqOnly => "pq-only",
            Require::Ppk => "ppk",
            Require::AnyPq => "any-pq",
        }
    }

    /// Whether an established posture meets the requirement.
    pub fn met_by(self, p: Posture) -> bool {
        use Posture::*;
        match self {
            Require::Classical => matches!(p, Classical | Hybrid | PqOnly | Ppk | HybridPpk),
            Require::Hybrid => matches!(p, Hybrid | HybridPpk | PqOnly),
            Require::PqOnly => p == PqOnly,
            Require::Ppk => matches!(p, Ppk | HybridPpk),
            Require::AnyPq => p.is_pq(),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Fallback {
    FailClosed,
    #[default]
    AllowedLogged,
}

impl Fallback {
    pub fn severity(self) -> Severity {
        match self {
            Fallback::FailClosed => Severity::High,
            Fallback::AllowedLogged => Severity::Medium,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDefault {
    require: Require,
    #[serde(default)]
    fallback: Fallback,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawClass {
    name: String,
    #[serde(default)]
    peers: Vec<Spanned<String>>,
    #[serde(default)]
    pairs: Vec<Spanned<[String; 2]>>,
    require: Require,
    #[serde(default)]
    fallback: Fallback,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPolicy {
    default: Option<RawDefault>,
    #[serde(default)]
    class: Vec<RawClass>,
}

/// One tunnel class.
#[derive(Clone, Debug)]
pub struct Class {
    pub name: String,
    pub peers: Vec<IpNet>,
    pub pairs: Vec<(IpAddr, IpAddr)>,
    pub require: Require,
    pub fallback: Fallback,
}

impl Class {
    fn matches(&self, a: IpAddr, b: IpAddr) -> bool {
        self.peers.iter().any(|n| n.contains(&a) || n.contains(&b))
            || self
                .pairs
                .iter()
                .any(|(x, y)| (*x == a && *y == b) || (*x == b && *y == a))
    }
}

/// A loaded policy.
#[derive(Clone, Debug)]
pub struct Policy {
    pub classes: Vec<Class>,
    pub default: Option<Class>,
}

fn line_of(text: &str, offset: usize) -> usize {
    text.get(..offset).map_or(1, |s| {
        s.lines().count().max(1) + usize::from(s.ends_with('\n'))
    })
}

impl Policy {
    /// Loads a policy file; errors read `FILE:LINE: what`.
    pub fn load(path: &Path) -> Result<Policy, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        Policy::parse(&text).map_err(|(line, msg)| format!("{}:{line}: {msg}", path.display()))
    }

    pub fn parse(text: &str) -> Result<Policy, (usize, String)> {
        let raw: RawPolicy = toml::from_str(text).map_err(|e| {
            let line = e.span().map_or(1, |s| line_of(text, s.start));
            (line, e.message().to_string())
        })?;
        let mut classes = Vec::new();
        for c in raw.class {
            let mut peers = Vec::new();
            for p in &c.peers {
                let s = p.get_ref();
                let net = s
                    .parse::<IpNet>()
                    .or_else(|_| s.parse::<IpAddr>().map(IpNet::from));
                peers.push(net.map_err(|_| {
                    (
                        line_of(text, p.span().start),
                        format!("class {:?}: invalid CIDR or address {s:?}", c.name),
                    )
                })?);
            }
            let mut pairs = Vec::new();
            for p in &c.pairs {
                let [a, b] = p.get_ref();
                let parse = |s: &String| {
                    s.parse::<IpAddr>().map_err(|_| {
                        (
                            line_of(text, p.span().start),
                            format!("class {:?}: invalid address {s:?} in pairs", c.name),
                        )
                    })
                };
                pairs.push((parse(a)?, parse(b)?));
            }
            classes.push(Class {
                name: c.name,
                peers,
                pairs,
                require: c.require,
                fallback: c.fallback,
            });
        }
        let default = raw.default.map(|d| Class {
            name: "default".into(),
            peers: Vec::new(),
            pairs: Vec::new(),
            require: d.require,
            fallback: d.fallback,
        });
        Ok(Policy { classes, default })
    }

    /// The class of a tunnel: the first class that matches, else `[default]`.
    pub fn class_of(&self, a: IpAddr, b: IpAddr) -> Option<&Class> {
        self.classes
            .iter()
            .find(|c| c.matches(a, b))
            .or(self.default.as_ref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_match_by_cidr_or_pair_and_fall_back_to_default() {
        let p = Policy::parse("[default]\nrequire = \"classical\"\n[[class]]\nname = \"crit\"\npeers = [\"203.0.113.0/24\"]\nrequire = \"hybrid\"\nfallback = \"fail-closed\"\n").unwrap();
        let a: IpAddr = "203.0.113.9".parse().unwrap();
        let b: IpAddr = "192.0.2.1".parse().unwrap();
        assert_eq!(p.class_of(b, a).unwrap().name, "crit");
        assert_eq!(p.class_of(b, b).unwrap().name, "default");
        assert!(!Require::Hybrid.met_by(Posture::Classical));
        assert!(Require::AnyPq.met_by(Posture::Ppk));
    }

    #[test]
    fn errors_name_the_line() {
        let e = Policy::parse(
            "[[class]]\nname = \"x\"\npeers = [\"10.0.0.0/33\"]\nrequire = \"hybrid\"\n",
        )
        .unwrap_err();
        assert_eq!(e.0, 3, "{e:?}");
        let e = Policy::parse("[default]\nrequire = \"hybrid\"\ncolour = \"red\"\n").unwrap_err();
        assert_eq!(e.0, 3, "{e:?}");
        let e = Policy::parse("[default]\nrequire = \"quantum\"\n").unwrap_err();
        assert_eq!(e.0, 2, "{e:?}");
    }
}
