//! ikescope: passive IKE analysis for post-quantum posture.
//!
//! Data flows one way: [`capture`] (pcap files, stdin) → [`decode`] (link, IP + defrag, UDP /
//! TCP / ICMP framing) → IKE parse (`ikescope-parsers`) → [`event`] sinks. Parsing never knows
//! about state; sinks never parse wire bytes themselves.
#![forbid(unsafe_code)]

pub mod analysis;
pub mod analyze;
pub mod capture;
pub mod decode;
pub mod event;
pub mod ike;
pub mod live;
pub mod metrics;
pub mod mlkem;
pub mod policy;
pub mod posture;
pub mod report;
pub mod sink;
pub mod stats;
pub mod track;

pub use ikescope_parsers as parsers;
