//! The IKE header (RFC 7296 §3.1, RFC 2408 §3.1) — the same 28 octets in IKEv1 and IKEv2 — and
//! the message that owns it.

use crate::error::{take, Layer, NomErr, ParseError};
use crate::payload::PayloadIter;
use crate::registry::ExchangeType;
use nom::number::complete::{be_u32, be_u64, be_u8};
use nom::Parser;

pub const IKE_HEADER_LEN: usize = 28;

/// IKEv2 flag: sent by the original initiator of the IKE SA.
pub const FLAG_INITIATOR: u8 = 0x08;
/// IKEv2 flag: the sender could speak a higher major version.
pub const FLAG_VERSION: u8 = 0x10;
/// IKEv2 flag: this message is a response.
pub const FLAG_RESPONSE: u8 = 0x20;
/// IKEv1 flag: everything after the header is encrypted.
pub const FLAG_V1_ENCRYPTED: u8 = 0x01;

/// The decoded IKE header fields.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IkeHeader {
    pub spi_i: u64,
    pub spi_r: u64,
    pub next_payload: u8,
    /// Raw version octet: major in the high nibble, minor in the low one.
    pub version: u8,
    pub exchange_type: ExchangeType,
    pub flags: u8,
    pub message_id: u32,
    /// Length of the whole message including this header.
    pub length: u32,
}

impl IkeHeader {
    pub fn major_version(&self) -> u8 {
        self.version >> 4
    }

    pub fn minor_version(&self) -> u8 {
        self.version & 0x0f
    }

    pub fn is_ikev2(&self) -> bool {
        self.major_version() == 2
    }

    /// IKEv2 R flag.
    pub fn is_response(&self) -> bool {
        self.is_ikev2() && self.flags & FLAG_RESPONSE != 0
    }

    /// IKEv2 I flag.
    pub fn is_from_initiator(&self) -> bool {
        self.is_ikev2() && self.flags & FLAG_INITIATOR != 0
    }

    /// IKEv1 E flag: payloads are ciphertext.
    pub fn is_v1_encrypted(&self) -> bool {
        self.major_version() == 1 && self.flags & FLAG_V1_ENCRYPTED != 0
    }

    /// Parses the fixed 28 octets; checks nothing but their presence.
    pub fn parse(input: &[u8]) -> Result<IkeHeader, ParseError> {
        let (_, h) = take(input, IKE_HEADER_LEN, Layer::Header, 0)?;
        let fields = (be_u64, be_u64, be_u8, be_u8, be_u8, be_u8, be_u32, be_u32).parse(h);
        let (_, (spi_i, spi_r, next_payload, version, exch, flags, message_id, length)) = fields
            .map_err(|_: NomErr<'_>| {
                ParseError::truncated(Layer::Header, 0, IKE_HEADER_LEN, h.len())
            })?;
        Ok(IkeHeader {
            spi_i,
            spi_r,
            next_payload,
            version,
            exchange_type: ExchangeType(exch),
            flags,
            message_id,
            length,
        })
    }
}

/// One IKE message: its header and the payload octets the header's length covers.
#[derive(Clone, Copy, Debug)]
pub struct IkeMessage<'a> {
    pub header: IkeHeader,
    /// The whole message (header included), exactly `header.length` octets.
    pub raw: &'a [u8],
}

impl<'a> IkeMessage<'a> {
    /// Parses and validates an IKE message at the start of `input`. Octets after `length` are
    /// ignored (they belong to the datagram, not to IKE).
    pub fn parse(input: &'a [u8]) -> Result<IkeMessage<'a>, ParseError> {
        let header = IkeHeader::parse(input)?;
        let major = header.major_version();
        if major != 1 && major != 2 {
            return Err(ParseError::bad_value(
                Layer::Header,
                17,
                "major version",
                major.into(),
            ));
        }
        let len = header.length as usize;
        if len < IKE_HEADER_LEN {
            return Err(ParseError::bad_length(
                Layer::Header,
                24,
                "message length",
                len,
            ));
        }
        if len > input.len() {
            return Err(ParseError::truncated(Layer::Header, 24, len, input.len()));
        }
        Ok(IkeMessage {
            header,
            raw: &input[..len],
        })
    }

    /// The top-level payload chain. For IKEv2 it stops after SK/SKF (their next-payload field
    /// names the first *inner* payload); for an encrypted IKEv1 message it is empty.
    pub fn payloads(&self) -> PayloadIter<'a> {
        let first = if self.header.is_v1_encrypted() {
            0
        } else {
            self.header.next_payload
        };
        PayloadIter::new(self.raw, IKE_HEADER_LEN, first, self.header.is_ikev2())
    }

    /// Octets after the header (ciphertext for an encrypted IKEv1 message).
    pub fn body(&self) -> &'a [u8] {
        self.raw.get(IKE_HEADER_LEN..).unwrap_or_default()
    }
}
