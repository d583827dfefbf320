//! LEB128 varints, the length prefixes of the packed encodings (the
//! `listpack`-like run of a small hash, the elements of a big collection's
//! arenas): one byte below 128.

/// Bytes of the LEB128 encoding of `value`.
pub(crate) fn varint_len(value: usize) -> usize {
    let bits = usize::BITS - value.leading_zeros();
    (bits as usize).div_ceil(7).max(1)
}

/// Appends the LEB128 encoding of `value`.
pub(crate) fn push_varint(out: &mut Vec<u8>, mut value: usize) {
    while value >= 0x80 {
        out.push((value as u8 & 0x7f) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

/// Reads a LEB128 varint at `*at` of `bytes`, advancing `*at`.
pub(crate) fn read_varint(bytes: &[u8], at: &mut usize) -> usize {
    let mut value = 0usize;
    let mut shift = 0;
    loop {
        let b = bytes[*at];
        *at += 1;
        value |= usize::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            return value;
        }
        shift += 7;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_across_widths() {
        for value in [0usize, 1, 127, 128, 16_383, 16_384, usize::MAX >> 1] {
            let mut out = Vec::new();
            push_varint(&mut out, value);
            assert_eq!(out.len(), varint_len(value));
            let mut at = 0;
            assert_eq!(read_varint(&out, &mut at), value);
            assert_eq!(at, out.len());
        }
    }
}
