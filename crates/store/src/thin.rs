//! [`ThinBytes`]: an immutable byte string in one allocation behind an
//! 8-byte pointer, the element of the big collection encodings.
//!
//! A million-member set keeps a million of these in its hash tables, so the
//! bucket size matters as much as in the keyspace: a `Box<[u8]>` is a
//! 16-byte fat pointer, this is 8 bytes. The block is
//!
//! ```text
//! varint    length of the bytes (LEB128, 1 byte below 128)
//! bytes
//! ```
//!
//! and the length a fat pointer would carry is read back from it. An
//! 8-byte member is a 9-byte block (glibc's smallest, 32-byte chunk).
//!
//! # Safety
//!
//! This module and `entry` hold the crate's `unsafe` code. The invariant is
//! the one `entry` relies on: the pointer always comes from
//! `Box::<[u8]>::into_raw` of a block built by [`ThinBytes::new`], whose
//! varint prefix describes exactly the block's length, and the value owns the
//! allocation alone (it is never mutated after construction).

use std::ptr::NonNull;

/// An immutable byte string behind a thin pointer. See the module docs.
pub(crate) struct ThinBytes {
    block: NonNull<u8>,
}

const _: () = assert!(std::mem::size_of::<ThinBytes>() == 8);

// SAFETY: the block is owned exclusively and never mutated after
// construction, like a `Box<[u8]>`.
unsafe impl Send for ThinBytes {}
// SAFETY: as above; shared references only read.
unsafe impl Sync for ThinBytes {}

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

impl ThinBytes {
    /// A block holding the concatenation of `parts`.
    pub(crate) fn new(parts: &[&[u8]]) -> ThinBytes {
        let len: usize = parts.iter().map(|p| p.len()).sum();
        let mut block = Vec::with_capacity(varint_len(len) + len);
        push_varint(&mut block, len);
        for part in parts {
            block.extend_from_slice(part);
        }
        let raw = Box::into_raw(block.into_boxed_slice()).cast::<u8>();
        ThinBytes {
            block: NonNull::new(raw).expect("Box::into_raw never returns null"),
        }
    }

    /// (length of the varint prefix, length of the bytes).
    fn lengths(&self) -> (usize, usize) {
        let mut value = 0usize;
        let mut shift = 0;
        let mut at = 0;
        loop {
            // SAFETY: the varint prefix lies inside the block (module
            // invariant) and is read up to its last byte only.
            let b = unsafe { *self.block.as_ptr().add(at) };
            at += 1;
            value |= usize::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return (at, value);
            }
            shift += 7;
        }
    }

    /// The bytes.
    pub(crate) fn bytes(&self) -> &[u8] {
        let (prefix, len) = self.lengths();
        // SAFETY: the block is `prefix + len` bytes long (module invariant)
        // and lives as long as `self`.
        unsafe { std::slice::from_raw_parts(self.block.as_ptr().add(prefix), len) }
    }

    /// Bytes of the allocation.
    pub(crate) fn allocated_bytes(&self) -> usize {
        let (prefix, len) = self.lengths();
        prefix + len
    }
}

impl Drop for ThinBytes {
    fn drop(&mut self) {
        let total = self.allocated_bytes();
        let slice = std::ptr::slice_from_raw_parts_mut(self.block.as_ptr(), total);
        // SAFETY: pointer and length of the `Box<[u8]>` this was made from
        // (module invariant), freed only here.
        drop(unsafe { Box::from_raw(slice) });
    }
}

impl Clone for ThinBytes {
    fn clone(&self) -> ThinBytes {
        ThinBytes::new(&[self.bytes()])
    }
}

impl std::fmt::Debug for ThinBytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", String::from_utf8_lossy(self.bytes()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_across_varint_widths() {
        for len in [0usize, 1, 8, 127, 128, 300, 20_000] {
            let data: Vec<u8> = (0..len).map(|i| i as u8).collect();
            let thin = ThinBytes::new(&[&data[..len / 2], &data[len / 2..]]);
            assert_eq!(thin.bytes(), &data[..]);
            assert_eq!(thin.allocated_bytes(), varint_len(len) + len);
            assert_eq!(thin.clone().bytes(), &data[..]);
        }
    }
}
