//! IANA code-point registries as open newtype enums.
//!
//! Every code point is kept as its number: an unknown value is never rejected, it is printed as
//! a number (the rusticata `ipsec-parser` shape). Names follow strongSwan's vocabulary where one
//! exists (`mlkem768`, `ecp384`, `x25519`, `modp2048`), IANA's otherwise.

mod exchange;
mod ke;
mod notify;
mod payload;
mod transform;
mod vendor;

pub use exchange::ExchangeType;
pub use ke::{KeClass, KeMethod};
pub use notify::NotifyType;
pub use payload::{PayloadType, PayloadTypeV1};
pub use transform::{EncrId, IntegId, PrfId, ProtocolId, TransformType};
pub use vendor::{vendor_name, Vendor};

/// Declares an open newtype over an integer with associated constants and a name table.
macro_rules! registry {
    (
        $(#[$meta:meta])*
        $name:ident($repr:ty) {
            $($(#[$cmeta:meta])* $konst:ident = $val:literal => $label:literal,)*
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
        pub struct $name(pub $repr);

        impl $name {
            $($(#[$cmeta])* pub const $konst: $name = $name($val);)*

            /// The registry name, or `None` for a value this table does not know.
            pub fn name(self) -> Option<&'static str> {
                match self.0 {
                    $($val => Some($label),)*
                    _ => None,
                }
            }
        }

        impl core::fmt::Display for $name {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                match self.name() {
                    Some(n) => f.write_str(n),
                    None => write!(f, "{}", self.0),
                }
            }
        }
    };
}
pub(crate) use registry;
