//! Deterministic synthetic IKE captures for ikescope's tests and benchmarks.
//!
//! Same seed, same bytes: every capture in `pcaps/synthetic/` is regenerated and compared bit
//! for bit by the test suite. ML-KEM key shares are genuine (the `ml-kem` crate), so the
//! analyzer's FIPS 203 checks see real encapsulation keys.

pub mod coverage;
pub mod findings;
pub mod ike;
pub mod ikev1;
pub mod kem;
pub mod net;
pub mod pcap;
pub mod rng;
pub mod scenario;
pub mod trace;
pub mod workload;
