//! Capture file writers: classic pcap (microsecond timestamps) and pcapng with several
//! interfaces. Written by hand: the pcap crate writes only through a live libpcap handle, and
//! the generator must run without one and produce byte-identical files.

use std::io::{self, Write};

/// Classic pcap writer.
pub struct PcapWriter<W: Write> {
    out: W,
}

impl<W: Write> PcapWriter<W> {
    pub fn new(mut out: W, linktype: u32, snaplen: u32) -> io::Result<Self> {
        out.write_all(&0xa1b2_c3d4u32.to_le_bytes())?;
        out.write_all(&2u16.to_le_bytes())?;
        out.write_all(&4u16.to_le_bytes())?;
        out.write_all(&[0; 8])?;
        out.write_all(&snaplen.to_le_bytes())?;
        out.write_all(&linktype.to_le_bytes())?;
        Ok(PcapWriter { out })
    }

    /// Writes a packet; `orig_len` > `data.len()` marks it as cut by the snaplen.
    pub fn packet(&mut self, ts_us: u64, data: &[u8], orig_len: usize) -> io::Result<()> {
        let mut rec = [0u8; 16];
        rec[0..4].copy_from_slice(&((ts_us / 1_000_000) as u32).to_le_bytes());
        rec[4..8].copy_from_slice(&((ts_us % 1_000_000) as u32).to_le_bytes());
        rec[8..12].copy_from_slice(&(data.len() as u32).to_le_bytes());
        rec[12..16].copy_from_slice(&(orig_len as u32).to_le_bytes());
        self.out.write_all(&rec)?;
        self.out.write_all(data)
    }

    pub fn into_inner(self) -> W {
        self.out
    }
}

/// pcapng writer: one Section Header Block, one Interface Description Block per link type
/// given, Enhanced Packet Blocks (microsecond resolution, the default).
pub struct PcapngWriter<W: Write> {
    out: W,
}

fn block(kind: u32, body: &[u8]) -> Vec<u8> {
    let pad = (4 - body.len() % 4) % 4;
    let total = (12 + body.len() + pad) as u32;
    let mut b = Vec::with_capacity(total as usize);
    b.extend_from_slice(&kind.to_le_bytes());
    b.extend_from_slice(&total.to_le_bytes());
    b.extend_from_slice(body);
    b.extend_from_slice(&[0; 3][..pad]);
    b.extend_from_slice(&total.to_le_bytes());
    b
}

impl<W: Write> PcapngWriter<W> {
    pub fn new(mut out: W, linktypes: &[u32]) -> io::Result<Self> {
        let mut shb = 0x1a2b_3c4du32.to_le_bytes().to_vec();
        shb.extend_from_slice(&1u16.to_le_bytes());
        shb.extend_from_slice(&0u16.to_le_bytes());
        shb.extend_from_slice(&(-1i64).to_le_bytes());
        out.write_all(&block(0x0a0d_0d0a, &shb))?;
        for lt in linktypes {
            let mut idb = (*lt as u16).to_le_bytes().to_vec();
            idb.extend_from_slice(&[0, 0]);
            idb.extend_from_slice(&262_144u32.to_le_bytes());
            out.write_all(&block(1, &idb))?;
        }
        Ok(PcapngWriter { out })
    }

    pub fn packet(&mut self, interface: u32, ts_us: u64, data: &[u8]) -> io::Result<()> {
        let mut epb = interface.to_le_bytes().to_vec();
        epb.extend_from_slice(&((ts_us >> 32) as u32).to_le_bytes());
        epb.extend_from_slice(&(ts_us as u32).to_le_bytes());
        epb.extend_from_slice(&(data.len() as u32).to_le_bytes());
        epb.extend_from_slice(&(data.len() as u32).to_le_bytes());
        epb.extend_from_slice(data);
        self.out.write_all(&block(6, &epb))
    }

    pub fn into_inner(self) -> W {
        self.out
    }
}
