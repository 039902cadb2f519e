//! Little-endian byte cursors shared by every hand-written binary format
//! (WAL payloads, snapshots). No serde: each format spells out its layout.

/// A read ran past the end of the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("input ends at byte {at}, {wanted} more bytes were needed")]
pub struct ShortRead {
    pub at: usize,
    pub wanted: usize,
}

/// Sequential writer into a buffer the caller sized beforehand; writing past
/// its end is a bug in that sizing and panics.
pub struct Writer<'a> {
    out: &'a mut [u8],
    at: usize,
}

impl<'a> Writer<'a> {
    pub fn new(out: &'a mut [u8]) -> Writer<'a> {
        Writer { out, at: 0 }
    }

    pub fn position(&self) -> usize {
        self.at
    }

    pub fn bytes(&mut self, bytes: &[u8]) {
        self.out[self.at..self.at + bytes.len()].copy_from_slice(bytes);
        self.at += bytes.len();
    }

    pub fn u8(&mut self, value: u8) {
        self.bytes(&[value]);
    }

    pub fn u16(&mut self, value: u16) {
        self.bytes(&value.to_le_bytes());
    }

    pub fn u32(&mut self, value: u32) {
        self.bytes(&value.to_le_bytes());
    }

    pub fn u64(&mut self, value: u64) {
        self.bytes(&value.to_le_bytes());
    }

    pub fn u128(&mut self, value: u128) {
        self.bytes(&value.to_le_bytes());
    }
}

/// Sequential reader; a short input is a typed error, never a panic.
pub struct Reader<'a> {
    input: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    pub fn new(input: &'a [u8]) -> Reader<'a> {
        Reader { input, at: 0 }
    }

    pub fn position(&self) -> usize {
        self.at
    }

    pub fn remaining(&self) -> usize {
        self.input.len() - self.at
    }

    pub fn array<const N: usize>(&mut self) -> Result<[u8; N], ShortRead> {
        let Some((head, _)) = self.input[self.at..].split_first_chunk::<N>() else {
            return Err(ShortRead {
                at: self.input.len(),
                wanted: N - self.remaining(),
            });
        };
        self.at += N;
        Ok(*head)
    }

    pub fn u8(&mut self) -> Result<u8, ShortRead> {
        self.array::<1>().map(|[b]| b)
    }

    pub fn u16(&mut self) -> Result<u16, ShortRead> {
        self.array().map(u16::from_le_bytes)
    }

    pub fn u32(&mut self) -> Result<u32, ShortRead> {
        self.array().map(u32::from_le_bytes)
    }

    pub fn u64(&mut self) -> Result<u64, ShortRead> {
        self.array().map(u64::from_le_bytes)
    }

    pub fn u128(&mut self) -> Result<u128, ShortRead> {
        self.array().map(u128::from_le_bytes)
    }
}
