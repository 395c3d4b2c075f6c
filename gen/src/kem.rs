//! Genuine ML-KEM key shares from the `ml-kem` crate, derived deterministically from the seed.

use crate::rng::Rng;
use ml_kem::{array::Array, DecapsulationKey, KeyExport, MlKem1024, MlKem512, MlKem768};

/// One ML-KEM exchange for a concrete parameter set (the crate's parameter trait is private,
/// so a macro stands in for a generic function).
macro_rules! exchange {
    ($kem:ty, $rng:expr) => {{
        let seed: [u8; 64] = $rng.array();
        let dk = DecapsulationKey::<$kem>::from_seed(Array::from(seed));
        let ek = dk.encapsulation_key();
        let m: [u8; 32] = $rng.array();
        let (ct, _shared) = ek.encapsulate_deterministic(&Array::from(m));
        (ek.to_bytes().to_vec(), ct.to_vec())
    }};
}

/// Encapsulation key (initiator's KE data) and ciphertext (responder's KE data) for an IKE
/// key exchange method ID 35/36/37.
pub fn mlkem_exchange(method: u16, rng: &mut Rng) -> Option<(Vec<u8>, Vec<u8>)> {
    match method {
        35 => Some(exchange!(MlKem512, rng)),
        36 => Some(exchange!(MlKem768, rng)),
        37 => Some(exchange!(MlKem1024, rng)),
        _ => None,
    }
}

/// Classical key exchange data of the right size (random bytes: the analyzer checks sizes,
/// not curve membership).
pub fn classical_share(method: u16, rng: &mut Rng) -> Vec<u8> {
    let n = match method {
        1 => 96,
        2 | 22 | 30 => 128,
        5 => 192,
        14 | 23 | 24 => 256,
        15 => 384,
        16 => 512,
        19 | 28 => 64,
        20 | 29 => 96,
        21 => 132,
        31 => 32,
        32 => 56,
        _ => 64,
    };
    rng.bytes(n)
}

/// Key exchange data for either side of any method.
pub fn share(method: u16, rng: &mut Rng) -> (Vec<u8>, Vec<u8>) {
    mlkem_exchange(method, rng)
        .unwrap_or_else(|| (classical_share(method, rng), classical_share(method, rng)))
}
