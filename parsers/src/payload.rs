//! The generic payload header (RFC 7296 §3.2) and the chain of payloads it links.

use crate::error::{take, Layer, NomErr, ParseError};
use crate::registry::PayloadType;
use nom::number::complete::{be_u16, be_u8};
use nom::Parser;

const GENERIC_HEADER_LEN: usize = 4;

/// One payload in the chain: its type, critical bit and body (after the 4-octet header).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Payload<'a> {
    /// This payload's type (announced by the previous next-payload field).
    pub ptype: u8,
    /// The next-payload field of this payload's header.
    pub next: u8,
    /// IKEv2 critical bit (RFC 7296 §2.5); always false for IKEv1 (reserved octet).
    pub critical: bool,
    pub body: &'a [u8],
    /// Offset of this payload's generic header from the start of the message.
    pub offset: usize,
}

impl<'a> Payload<'a> {
    /// Offset of the body from the start of the message.
    pub fn body_offset(&self) -> usize {
        self.offset + GENERIC_HEADER_LEN
    }

    /// Total payload length on the wire (generic header included).
    pub fn wire_len(&self) -> usize {
        self.body.len() + GENERIC_HEADER_LEN
    }
}

/// Iterator over a payload chain. Yields an error at most once, then stops.
#[derive(Clone, Debug)]
pub struct PayloadIter<'a> {
    msg: &'a [u8],
    pos: usize,
    next: u8,
    v2: bool,
}

impl<'a> PayloadIter<'a> {
    pub(crate) fn new(msg: &'a [u8], pos: usize, first: u8, v2: bool) -> Self {
        PayloadIter {
            msg,
            pos,
            next: first,
            v2,
        }
    }

    fn parse_one(&mut self) -> Result<Payload<'a>, ParseError> {
        let ptype = self.next;
        let layer = Layer::Payload(ptype);
        let rest = self.msg.get(self.pos..).unwrap_or_default();
        let (_, hdr) = take(rest, GENERIC_HEADER_LEN, layer, self.pos)?;
        let (_, (next, flags, len)) =
            (be_u8, be_u8, be_u16).parse(hdr).map_err(|_: NomErr<'_>| {
                ParseError::truncated(layer, self.pos, GENERIC_HEADER_LEN, hdr.len())
            })?;
        let len = usize::from(len);
        if len < GENERIC_HEADER_LEN {
            return Err(ParseError::bad_length(
                layer,
                self.pos + 2,
                "payload length",
                len,
            ));
        }
        let (_, whole) = take(rest, len, layer, self.pos)?;
        let payload = Payload {
            ptype,
            next,
            critical: self.v2 && flags & 0x80 != 0,
            body: &whole[GENERIC_HEADER_LEN..],
            offset: self.pos,
        };
        self.pos += len;
        // SK and SKF are the last top-level payload: their next-payload field names the first
        // payload *inside* the ciphertext (RFC 7296 §3.14, RFC 7383 §2.5).
        let terminal = self.v2 && (ptype == PayloadType::SK.0 || ptype == PayloadType::SKF.0);
        self.next = if terminal { 0 } else { next };
        Ok(payload)
    }
}

impl<'a> Iterator for PayloadIter<'a> {
    type Item = Result<Payload<'a>, ParseError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.next == 0 {
            return None;
        }
        let item = self.parse_one();
        if item.is_err() {
            self.next = 0;
        }
        Some(item)
    }
}
