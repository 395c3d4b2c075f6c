//! Capture inputs: pcap / pcapng files, directories of them, stdin (`-`), read through libpcap
//! with the built-in IKE BPF prefilter so non-IKE traffic is dropped before Rust sees it.

use crate::decode::LinkType;
use std::fmt;
use std::path::{Path, PathBuf};

/// The traffic ikescope needs: IKE on UDP 500/4500, IKE over TCP 4500 (RFC 9329), every IP
/// fragment (non-first fragments carry no ports), IPv6 packets whose first header is an
/// extension header (UDP may follow it), and ICMP errors (they quote IKE packets).
const IKE_FILTER: &str = "udp port 500 or udp port 4500 or tcp port 4500 \
    or (ip and ip[6:2] & 0x3fff != 0) \
    or (ip6 and (ip6[6] == 0 or ip6[6] == 43 or ip6[6] == 44 or ip6[6] == 60)) \
    or (icmp and (icmp[0] == 3)) or (icmp6 and (icmp6[0] == 1 or icmp6[0] == 2))";

/// The capture filter for a link type: the IKE filter, repeated under one and two VLAN tags on
/// Ethernet, combined with the user's `-f` filter. libpcap's `vlan` shifts the offsets of every
/// later primitive, even across `or`, so the tagged variants must nest, not follow each other.
pub fn bpf_filter(link: LinkType, user: Option<&str>) -> String {
    let base = if link.has_vlan() {
        format!("({IKE_FILTER}) or (vlan and (({IKE_FILTER}) or (vlan and ({IKE_FILTER}))))")
    } else {
        format!("({IKE_FILTER})")
    };
    match user {
        Some(u) if !u.trim().is_empty() => format!("({base}) and ({u})"),
        _ => base,
    }
}

/// One thing to read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Input {
    Stdin,
    File(PathBuf),
}

impl fmt::Display for Input {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Input::Stdin => f.write_str("-"),
            Input::File(p) => write!(f, "{}", p.display()),
        }
    }
}

impl Input {
    /// The `pcap_filename` field: the path as given.
    pub fn name(&self) -> String {
        self.to_string()
    }
}

fn is_capture_name(p: &Path) -> bool {
    let name = p.file_name().and_then(|n| n.to_str()).unwrap_or_default();
    [".pcap", ".pcapng", ".cap", ".pcap.gz"]
        .iter()
        .any(|ext| name.ends_with(ext))
}

/// Expands the command-line arguments: directories are walked recursively (capture files only,
/// sorted by path for a stable order); files and `-` are kept as given. Unreadable
/// directories are returned as errors so that the rest still runs.
pub fn expand(args: &[PathBuf]) -> (Vec<Input>, Vec<(String, String)>) {
    let mut inputs = Vec::new();
    let mut errors = Vec::new();
    for a in args {
        if a.as_os_str() == "-" {
            inputs.push(Input::Stdin);
        } else if a.is_dir() {
            let mut found = Vec::new();
            if let Err(e) = walk(a, &mut found) {
                errors.push((a.display().to_string(), e.to_string()));
            }
            found.sort();
            inputs.extend(found.into_iter().map(Input::File));
        } else {
            inputs.push(Input::File(a.clone()));
        }
    }
    (inputs, errors)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            walk(&path, out)?;
        } else if is_capture_name(&path) {
            out.push(path);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vlan_filter_only_on_ethernet() {
        assert!(bpf_filter(LinkType::Ethernet, None).contains("or (vlan and ("));
        assert!(!bpf_filter(LinkType::LinuxSll2, None).contains("vlan"));
        assert!(bpf_filter(LinkType::Raw, Some("host 192.0.2.1")).ends_with("and (host 192.0.2.1)"));
    }
}
