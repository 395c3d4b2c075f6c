//! FIPS 203 checks of ML-KEM key shares seen on the wire, with the `ml-kem` crate's own
//! decoding: an encapsulation key must have the exact length and every 12-bit coefficient must
//! be below q = 3329 (the §7.2 modulus check). A share that fails is a broken or fake PQ
//! implementation.

use ml_kem::{array::Array, EncapsulationKey, MlKem1024, MlKem512, MlKem768};

/// Encapsulation key sizes of ML-KEM-512/768/1024 (IKE methods 35/36/37).
pub fn encapsulation_key_len(method: u16) -> Option<usize> {
    match method {
        35 => Some(800),
        36 => Some(1184),
        37 => Some(1568),
        _ => None,
    }
}

/// `Some(valid)` when `data` claims to be an ML-KEM encapsulation key (method 35-37 with the
/// encapsulation-key length); `None` for anything else (other methods, ciphertext lengths).
pub fn check_encapsulation_key(method: u16, data: &[u8]) -> Option<bool> {
    if encapsulation_key_len(method)? != data.len() {
        return None;
    }
    Some(match method {
        35 => Array::try_from(data)
            .ok()
            .is_some_and(|k| EncapsulationKey::<MlKem512>::new(&k).is_ok()),
        36 => Array::try_from(data)
            .ok()
            .is_some_and(|k| EncapsulationKey::<MlKem768>::new(&k).is_ok()),
        _ => Array::try_from(data)
            .ok()
            .is_some_and(|k| EncapsulationKey::<MlKem1024>::new(&k).is_ok()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_ones_key_fails_the_modulus_check() {
        // 0xFFF > 3328: every coefficient out of range.
        assert_eq!(check_encapsulation_key(36, &[0xff; 1184]), Some(false));
        assert_eq!(check_encapsulation_key(36, &[0x00; 1184]), Some(true));
        assert_eq!(check_encapsulation_key(36, &[0x00; 1088]), None);
        assert_eq!(check_encapsulation_key(20, &[0x00; 96]), None);
    }
}
