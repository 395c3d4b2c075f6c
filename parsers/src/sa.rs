//! SA payload substructures: proposals, transforms and attributes (RFC 7296 §3.3, RFC 2408
//! §3.5-3.6). The proposal header is the same in IKEv1 and IKEv2; transforms differ.

use crate::error::{take, Layer, NomErr, ParseError};
use crate::registry::{KeMethod, ProtocolId, TransformType};
use nom::number::complete::{be_u16, be_u8};
use nom::Parser;

const PROPOSAL_HEADER_LEN: usize = 8;
const TRANSFORM_HEADER_LEN: usize = 8;
/// IKEv2 Key Length attribute (RFC 7296 §3.3.5); IKEv1 uses the same number for phase 1.
pub const ATTR_KEY_LENGTH: u16 = 14;

/// Reads a substructure header's last/length prefix and bounds it to `input`.
fn substructure(
    input: &[u8],
    min: usize,
    layer: Layer,
    offset: usize,
) -> Result<(u8, &[u8], &[u8]), ParseError> {
    let (_, fixed) = take(input, min, layer, offset)?;
    let (_, (last, _reserved, len)) = (be_u8, be_u8, be_u16)
        .parse(fixed)
        .map_err(|_: NomErr<'_>| ParseError::truncated(layer, offset, 4, fixed.len()))?;
    let len = usize::from(len);
    if len < min {
        return Err(ParseError::bad_length(
            layer,
            offset + 2,
            "substructure length",
            len,
        ));
    }
    let (rest, whole) = take(input, len, layer, offset)?;
    Ok((last, whole, rest))
}

/// One proposal substructure.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Proposal<'a> {
    /// Last-substructure / next-payload octet (0 = last; 2 = more follow).
    pub last: u8,
    pub number: u8,
    pub protocol: ProtocolId,
    pub spi: &'a [u8],
    /// Transform count announced by the header (may disagree with what follows).
    pub num_transforms: u8,
    transforms: &'a [u8],
    transforms_offset: usize,
    v2: bool,
}

impl<'a> Proposal<'a> {
    pub fn transforms(&self) -> TransformIter<'a> {
        TransformIter {
            data: self.transforms,
            offset: self.transforms_offset,
            v2: self.v2,
            done: false,
        }
    }
}

/// Iterator over the proposals of an SA payload (IKEv2) or of an IKEv1 SA after its DOI and
/// situation. Stops after the proposal marked last, or at the end of the data.
#[derive(Clone, Debug)]
pub struct ProposalIter<'a> {
    data: &'a [u8],
    offset: usize,
    v2: bool,
    done: bool,
}

impl<'a> ProposalIter<'a> {
    pub(crate) fn new(data: &'a [u8], offset: usize, v2: bool) -> Self {
        ProposalIter {
            data,
            offset,
            v2,
            done: data.is_empty(),
        }
    }

    fn parse_one(&mut self) -> Result<Proposal<'a>, ParseError> {
        let off = self.offset;
        let (last, whole, rest) =
            substructure(self.data, PROPOSAL_HEADER_LEN, Layer::Proposal, off)?;
        let (spi_and_transforms, (number, protocol, spi_size, num_transforms)) =
            (be_u8, be_u8, be_u8, be_u8)
                .parse(&whole[4..])
                .map_err(|_: NomErr<'_>| {
                    ParseError::truncated(Layer::Proposal, off, 8, whole.len())
                })?;
        let (transforms, spi) = take(
            spi_and_transforms,
            spi_size.into(),
            Layer::Proposal,
            off + 8,
        )?;
        self.data = rest;
        self.offset += whole.len();
        self.done = last == 0 || rest.is_empty();
        Ok(Proposal {
            last,
            number,
            protocol: ProtocolId(protocol),
            spi,
            num_transforms,
            transforms,
            transforms_offset: off + 8 + spi.len(),
            v2: self.v2,
        })
    }
}

impl<'a> Iterator for ProposalIter<'a> {
    type Item = Result<Proposal<'a>, ParseError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let item = self.parse_one();
        if item.is_err() {
            self.done = true;
        }
        Some(item)
    }
}

/// One transform substructure. IKEv2: type + 16-bit ID. IKEv1: transform number + 8-bit ID
/// (the algorithms live in the attributes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Transform<'a> {
    pub last: u8,
    /// IKEv2 transform type; for IKEv1 the transform number.
    pub ttype: TransformType,
    /// IKEv2 transform ID; for IKEv1 the transform ID (e.g. 1 = KEY_IKE).
    pub id: u16,
    attributes: &'a [u8],
    attributes_offset: usize,
}

impl<'a> Transform<'a> {
    pub fn attributes(&self) -> AttributeIter<'a> {
        AttributeIter {
            data: self.attributes,
            offset: self.attributes_offset,
            done: false,
        }
    }

    /// Key Length attribute value in bits, if present and well-formed.
    pub fn key_length(&self) -> Option<u16> {
        self.attributes()
            .filter_map(Result::ok)
            .find(|a| a.atype == ATTR_KEY_LENGTH)
            .and_then(|a| a.value_u64())
            .and_then(|v| u16::try_from(v).ok())
    }

    /// The key exchange method for transform types 4 and 6-12.
    pub fn key_exchange(&self) -> Option<KeMethod> {
        self.ttype.is_key_exchange().then_some(KeMethod(self.id))
    }
}

/// Iterator over the transforms of a proposal.
#[derive(Clone, Debug)]
pub struct TransformIter<'a> {
    data: &'a [u8],
    offset: usize,
    v2: bool,
    done: bool,
}

impl<'a> TransformIter<'a> {
    fn parse_one(&mut self) -> Result<Transform<'a>, ParseError> {
        let off = self.offset;
        let (last, whole, rest) =
            substructure(self.data, TRANSFORM_HEADER_LEN, Layer::Transform, off)?;
        let (attributes, (a, b, c)) =
            (be_u8, be_u8, be_u16)
                .parse(&whole[4..])
                .map_err(|_: NomErr<'_>| {
                    ParseError::truncated(Layer::Transform, off, 8, whole.len())
                })?;
        // IKEv2: type(1) reserved(1) id(2). IKEv1: number(1) id(1) reserved(2).
        let (ttype, id) = if self.v2 { (a, c) } else { (a, u16::from(b)) };
        self.data = rest;
        self.offset += whole.len();
        self.done = last == 0 || rest.is_empty();
        Ok(Transform {
            last,
            ttype: TransformType(ttype),
            id,
            attributes,
            attributes_offset: off + 8,
        })
    }
}

impl<'a> Iterator for TransformIter<'a> {
    type Item = Result<Transform<'a>, ParseError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done || self.data.is_empty() {
            return None;
        }
        let item = self.parse_one();
        if item.is_err() {
            self.done = true;
        }
        Some(item)
    }
}

/// A data attribute: TV (AF bit set, 16-bit value) or TLV (length + value octets).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AttributeValue<'a> {
    Tv(u16),
    Tlv(&'a [u8]),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Attribute<'a> {
    /// Attribute type without the AF bit.
    pub atype: u16,
    pub value: AttributeValue<'a>,
}

impl Attribute<'_> {
    /// The value as an unsigned number (TLV values up to 8 octets, big-endian).
    pub fn value_u64(&self) -> Option<u64> {
        match self.value {
            AttributeValue::Tv(v) => Some(v.into()),
            AttributeValue::Tlv(b) if b.len() <= 8 => {
                Some(b.iter().fold(0u64, |acc, &x| acc << 8 | u64::from(x)))
            }
            AttributeValue::Tlv(_) => None,
        }
    }
}

/// Iterator over attributes until the data ends.
#[derive(Clone, Debug)]
pub struct AttributeIter<'a> {
    data: &'a [u8],
    offset: usize,
    done: bool,
}

impl<'a> AttributeIter<'a> {
    pub(crate) fn new(data: &'a [u8], offset: usize) -> Self {
        AttributeIter {
            data,
            offset,
            done: false,
        }
    }

    fn parse_one(&mut self) -> Result<Attribute<'a>, ParseError> {
        let off = self.offset;
        let (rest, (t, v)) = (be_u16, be_u16).parse(self.data).map_err(|_: NomErr<'_>| {
            ParseError::truncated(Layer::Attribute, off, 4, self.data.len())
        })?;
        let atype = t & 0x7fff;
        let (rest, value, used) = if t & 0x8000 != 0 {
            (rest, AttributeValue::Tv(v), 4)
        } else {
            let (rest, val) = take(rest, v.into(), Layer::Attribute, off + 4)?;
            (rest, AttributeValue::Tlv(val), 4 + val.len())
        };
        self.data = rest;
        self.offset += used;
        Ok(Attribute { atype, value })
    }
}

impl<'a> Iterator for AttributeIter<'a> {
    type Item = Result<Attribute<'a>, ParseError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done || self.data.is_empty() {
            return None;
        }
        let item = self.parse_one();
        if item.is_err() {
            self.done = true;
        }
        Some(item)
    }
}
