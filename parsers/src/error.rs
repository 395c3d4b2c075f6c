//! Typed parse errors: which layer, at which offset, what was expected.

use core::fmt;

/// The structure being decoded when an error occurred.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layer {
    /// UDP/TCP framing around an IKE message (non-ESP marker, RFC 9329 records).
    Framing,
    /// The 28-octet IKE header.
    Header,
    /// A generic payload header or a payload body, with the payload type number.
    Payload(u8),
    /// A proposal substructure inside an SA payload.
    Proposal,
    /// A transform substructure inside a proposal.
    Transform,
    /// A transform / data attribute.
    Attribute,
    /// A traffic selector inside TSi/TSr.
    TrafficSelector,
}

impl fmt::Display for Layer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Layer::Framing => f.write_str("framing"),
            Layer::Header => f.write_str("IKE header"),
            Layer::Payload(t) => write!(f, "payload type {t}"),
            Layer::Proposal => f.write_str("proposal"),
            Layer::Transform => f.write_str("transform"),
            Layer::Attribute => f.write_str("attribute"),
            Layer::TrafficSelector => f.write_str("traffic selector"),
        }
    }
}

/// What went wrong.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// Fewer octets than the structure needs.
    Truncated { needed: usize, available: usize },
    /// A length field smaller than the fixed part it must cover, or pointing past its container.
    BadLength { field: &'static str, value: usize },
    /// A field holding a value the protocol forbids.
    BadValue { field: &'static str, value: u64 },
}

/// A parse failure with its context. `offset` counts from the start of the buffer handed to the
/// top-level parser (the IKE message, or the UDP/TCP payload for framing).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ParseError {
    pub layer: Layer,
    pub offset: usize,
    pub kind: ErrorKind,
}

impl ParseError {
    pub(crate) fn truncated(layer: Layer, offset: usize, needed: usize, available: usize) -> Self {
        ParseError {
            layer,
            offset,
            kind: ErrorKind::Truncated { needed, available },
        }
    }

    pub(crate) fn bad_length(
        layer: Layer,
        offset: usize,
        field: &'static str,
        value: usize,
    ) -> Self {
        ParseError {
            layer,
            offset,
            kind: ErrorKind::BadLength { field, value },
        }
    }

    pub(crate) fn bad_value(layer: Layer, offset: usize, field: &'static str, value: u64) -> Self {
        ParseError {
            layer,
            offset,
            kind: ErrorKind::BadValue { field, value },
        }
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at offset {}: ", self.layer, self.offset)?;
        match self.kind {
            ErrorKind::Truncated { needed, available } => {
                write!(
                    f,
                    "truncated, expected {needed} octets, {available} available"
                )
            }
            ErrorKind::BadLength { field, value } => write!(f, "invalid {field} {value}"),
            ErrorKind::BadValue { field, value } => write!(f, "invalid {field} {value}"),
        }
    }
}

impl std::error::Error for ParseError {}

/// A nom error on a byte slice.
pub(crate) type NomErr<'a> = nom::Err<nom::error::Error<&'a [u8]>>;

/// Splits `len` octets off `input` (nom `take`), mapping failure to a truncation error at `offset`.
pub(crate) fn take<'a>(
    input: &'a [u8],
    len: usize,
    layer: Layer,
    offset: usize,
) -> Result<(&'a [u8], &'a [u8]), ParseError> {
    nom::bytes::complete::take(len)(input)
        .map_err(|_: NomErr<'a>| ParseError::truncated(layer, offset, len, input.len()))
}
