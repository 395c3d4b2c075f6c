//! Zero-copy parsers for IKE on the wire: IKEv2 (RFC 7296 and extensions: RFC 7383 SKF,
//! RFC 9242 IKE_INTERMEDIATE, RFC 9370 ADDKE), IKEv1/ISAKMP (RFC 2408/2409), and their UDP and
//! TCP (RFC 9329) framing.
//!
//! Wire formats only: no I/O, no state, no allocation while parsing, no panics on any input.
//! Every structure borrows from the input slice; iterators decode lazily and yield a typed
//! [`ParseError`] (layer, offset, what was expected) at most once before stopping.
#![forbid(unsafe_code)]

pub mod error;
pub mod header;
pub mod payload;
pub mod registry;
pub mod sa;
pub mod transport;
pub mod v1;
pub mod v2;

pub use error::{ErrorKind, Layer, ParseError};
pub use header::{IkeHeader, IkeMessage};
pub use payload::{Payload, PayloadIter};
pub use sa::{Attribute, AttributeValue, Proposal, Transform};
pub use v1::{decode_v1, V1Body};
pub use v2::{decode_v2, V2Body};
