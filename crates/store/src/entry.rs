//! One keyspace entry packed into a single heap allocation.
//!
//! Every key of the keyspace costs exactly one allocation: a `Box<[u8]>` that
//! holds a small header, the optional expiry deadline, the key and the value.
//! The table stores the box itself (a 16-byte fat pointer), so a lookup touches
//! the table's bucket and then this one block, and nothing else.
//!
//! ```text
//! byte 0       flags: bits 0..=2 value kind, bit 3 HAS_EXPIRY, bit 4 HAS_SPARE
//! bytes 1..4   access clock (24 bits), reserved for LRU/LFU eviction
//! bytes 4..8   key length, u32 little-endian
//! [4 bytes]    value length, u32 LE          (only with HAS_SPARE)
//! [8 bytes]    expiry deadline, ms, u64 LE   (only with HAS_EXPIRY)
//! key bytes, value bytes, [spare capacity]   (spare only with HAS_SPARE)
//! ```
//!
//! Without `HAS_SPARE` the value runs to the end of the block, so the common
//! case (a string written once by `SET`) pays an 8-byte header and no padding:
//! a 13-byte key with a 16-byte value is a 37-byte block. Strings that grow in
//! place (`APPEND`, `SETRANGE`) switch to the spare-capacity layout and grow
//! greedily like Redis's sds (double until 1 MiB, then 1 MiB at a time), so a
//! loop of appends stays amortised O(1) per byte instead of copying the whole
//! value every time.
//!
//! Only strings exist today; the kind bits leave room for the aggregate types,
//! which will store their out-of-line structure behind the same header.

use crate::value::ValueKind;

const FLAGS_OFFSET: usize = 0;
const KEY_LEN_OFFSET: usize = 4;
const FIXED_HEADER_LEN: usize = 8;
const VALUE_LEN_FIELD: usize = 4;
const DEADLINE_FIELD: usize = 8;

const KIND_MASK: u8 = 0b0000_0111;
const HAS_EXPIRY: u8 = 0b0000_1000;
const HAS_SPARE: u8 = 0b0001_0000;

const KIND_STRING: u8 = 0;

/// Above this size a growing string gains 1 MiB of spare room at a time
/// instead of doubling (Redis's `SDS_MAX_PREALLOC`).
const GREEDY_GROWTH_LIMIT: usize = 1024 * 1024;

/// A key, its value and its metadata in one block. See the module docs.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Entry {
    block: Box<[u8]>,
}

impl std::fmt::Debug for Entry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Entry")
            .field("key", &String::from_utf8_lossy(self.key()))
            .field("kind", &self.kind())
            .field("value_len", &self.value().len())
            .field("expire_at_ms", &self.expire_at())
            .finish()
    }
}

struct Layout {
    flags: u8,
    key_len: usize,
    value_len: usize,
    /// Bytes of the block (header + key + value + spare).
    total: usize,
}

impl Layout {
    fn header_len(flags: u8) -> usize {
        FIXED_HEADER_LEN
            + if flags & HAS_SPARE != 0 {
                VALUE_LEN_FIELD
            } else {
                0
            }
            + if flags & HAS_EXPIRY != 0 {
                DEADLINE_FIELD
            } else {
                0
            }
    }

    fn deadline_offset(flags: u8) -> usize {
        FIXED_HEADER_LEN
            + if flags & HAS_SPARE != 0 {
                VALUE_LEN_FIELD
            } else {
                0
            }
    }
}

fn read_u32(block: &[u8], at: usize) -> usize {
    let mut raw = [0u8; 4];
    raw.copy_from_slice(&block[at..at + 4]);
    u32::from_le_bytes(raw) as usize
}

fn write_u32(block: &mut [u8], at: usize, value: usize) {
    let narrowed = u32::try_from(value).expect("lengths are bounded by the 512 MB string limit");
    block[at..at + 4].copy_from_slice(&narrowed.to_le_bytes());
}

fn layout_of(block: &[u8]) -> Layout {
    let flags = block[FLAGS_OFFSET];
    let key_len = read_u32(block, KEY_LEN_OFFSET);
    let header = Layout::header_len(flags);
    let value_len = if flags & HAS_SPARE != 0 {
        read_u32(block, FIXED_HEADER_LEN)
    } else {
        block.len() - header - key_len
    };
    Layout {
        flags,
        key_len,
        value_len,
        total: block.len(),
    }
}

fn kind_of(block: &[u8]) -> ValueKind {
    match block[FLAGS_OFFSET] & KIND_MASK {
        KIND_STRING => ValueKind::String,
        other => unreachable!("entry kind tag {other} is never written"),
    }
}

fn expire_at_of(block: &[u8]) -> Option<u64> {
    let flags = block[FLAGS_OFFSET];
    if flags & HAS_EXPIRY == 0 {
        return None;
    }
    let at = Layout::deadline_offset(flags);
    let mut raw = [0u8; 8];
    raw.copy_from_slice(&block[at..at + DEADLINE_FIELD]);
    Some(u64::from_le_bytes(raw))
}

/// Where the parts of a packed block (a copy of [`Entry::block`]) are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BlockParts {
    pub(crate) kind: ValueKind,
    pub(crate) key: std::ops::Range<usize>,
    pub(crate) value: std::ops::Range<usize>,
    pub(crate) expire_at: Option<u64>,
}

impl BlockParts {
    pub(crate) fn parse(block: &[u8]) -> BlockParts {
        let layout = layout_of(block);
        let key_start = Layout::header_len(layout.flags);
        let value_start = key_start + layout.key_len;
        BlockParts {
            kind: kind_of(block),
            key: key_start..value_start,
            value: value_start..value_start + layout.value_len,
            expire_at: expire_at_of(block),
        }
    }
}

impl Entry {
    /// Packs a string entry with no spare capacity.
    pub(crate) fn new_string(key: &[u8], value: &[u8], expire_at: Option<u64>) -> Entry {
        Self::build(key, value, expire_at, 0)
    }

    fn build(key: &[u8], value: &[u8], expire_at: Option<u64>, spare: usize) -> Entry {
        let mut flags = KIND_STRING;
        if expire_at.is_some() {
            flags |= HAS_EXPIRY;
        }
        if spare > 0 {
            flags |= HAS_SPARE;
        }
        let header = Layout::header_len(flags);
        let total = header + key.len() + value.len() + spare;
        let mut block = vec![0u8; total].into_boxed_slice();
        block[FLAGS_OFFSET] = flags;
        write_u32(&mut block, KEY_LEN_OFFSET, key.len());
        if spare > 0 {
            write_u32(&mut block, FIXED_HEADER_LEN, value.len());
        }
        if let Some(deadline) = expire_at {
            let at = Layout::deadline_offset(flags);
            block[at..at + DEADLINE_FIELD].copy_from_slice(&deadline.to_le_bytes());
        }
        block[header..header + key.len()].copy_from_slice(key);
        block[header + key.len()..header + key.len() + value.len()].copy_from_slice(value);
        Entry { block }
    }

    fn layout(&self) -> Layout {
        layout_of(&self.block)
    }

    fn value_start(&self) -> usize {
        let layout = self.layout();
        Layout::header_len(layout.flags) + layout.key_len
    }

    /// The key bytes.
    pub(crate) fn key(&self) -> &[u8] {
        let layout = self.layout();
        let start = Layout::header_len(layout.flags);
        &self.block[start..start + layout.key_len]
    }

    /// The value bytes (for strings, the string itself).
    pub(crate) fn value(&self) -> &[u8] {
        let layout = self.layout();
        let start = Layout::header_len(layout.flags) + layout.key_len;
        &self.block[start..start + layout.value_len]
    }

    /// What kind of value this entry holds.
    pub(crate) fn kind(&self) -> ValueKind {
        kind_of(&self.block)
    }

    /// The absolute expiry deadline in ms since the Unix epoch, if any.
    pub(crate) fn expire_at(&self) -> Option<u64> {
        expire_at_of(&self.block)
    }

    /// The packed block itself, for copying whole (snapshot images); read it
    /// back with [`BlockParts::parse`].
    pub(crate) fn block(&self) -> &[u8] {
        &self.block
    }

    /// Whether the entry's deadline has passed at `now` (Redis: `when <= now`
    /// is not yet expired; a key expires once `now > when`).
    pub(crate) fn is_expired(&self, now: u64) -> bool {
        self.expire_at().is_some_and(|deadline| deadline < now)
    }

    /// Sets or clears the deadline. Overwrites in place when a deadline is
    /// already stored; otherwise the block is repacked (one allocation).
    pub(crate) fn set_expire_at(&mut self, expire_at: Option<u64>) {
        let flags = self.block[FLAGS_OFFSET];
        match (flags & HAS_EXPIRY != 0, expire_at) {
            (true, Some(deadline)) => {
                let at = Layout::deadline_offset(flags);
                self.block[at..at + DEADLINE_FIELD].copy_from_slice(&deadline.to_le_bytes());
            }
            (false, None) => {}
            _ => {
                let spare = self.spare();
                *self = Self::build(self.key(), self.value(), expire_at, spare);
            }
        }
    }

    fn spare(&self) -> usize {
        let layout = self.layout();
        if layout.flags & HAS_SPARE == 0 {
            return 0;
        }
        layout.total - Layout::header_len(layout.flags) - layout.key_len - layout.value_len
    }

    /// Bytes of the block, the entry's share of `used_memory`.
    pub(crate) fn allocated_bytes(&self) -> usize {
        self.block.len()
    }

    /// Ensures the value can hold `new_len` bytes, growing greedily, and
    /// zero-fills the bytes between the old and the new length.
    fn grow_value(&mut self, new_len: usize) {
        let layout = self.layout();
        if new_len <= layout.value_len {
            return;
        }
        let room = layout.value_len + self.spare();
        if new_len <= room {
            let start = self.value_start();
            self.block[start + layout.value_len..start + new_len].fill(0);
            write_u32(&mut self.block, FIXED_HEADER_LEN, new_len);
            return;
        }
        let capacity = if new_len < GREEDY_GROWTH_LIMIT {
            new_len * 2
        } else {
            new_len + GREEDY_GROWTH_LIMIT
        };
        let mut grown = Vec::with_capacity(capacity);
        grown.extend_from_slice(self.value());
        grown.resize(new_len, 0);
        *self = Self::build(self.key(), &grown, self.expire_at(), capacity - new_len);
    }

    /// Appends to the value; returns the new length.
    pub(crate) fn append(&mut self, extra: &[u8]) -> usize {
        let old_len = self.value().len();
        let new_len = old_len + extra.len();
        self.grow_value(new_len);
        let start = self.value_start();
        self.block[start + old_len..start + new_len].copy_from_slice(extra);
        new_len
    }

    /// Overwrites the value at `offset`, zero-padding as needed; returns the
    /// new length.
    pub(crate) fn set_range(&mut self, offset: usize, bytes: &[u8]) -> usize {
        let end = offset + bytes.len();
        self.grow_value(end);
        let start = self.value_start();
        self.block[start + offset..start + end].copy_from_slice(bytes);
        self.value().len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packs_key_value_and_deadline() {
        let entry = Entry::new_string(b"key", b"value", Some(1234));
        assert_eq!(entry.key(), b"key");
        assert_eq!(entry.value(), b"value");
        assert_eq!(entry.expire_at(), Some(1234));
        assert_eq!(entry.kind(), ValueKind::String);
        assert_eq!(entry.allocated_bytes(), 8 + 8 + 3 + 5);
    }

    #[test]
    fn deadline_can_be_added_changed_and_removed() {
        let mut entry = Entry::new_string(b"k", b"v", None);
        assert_eq!(entry.allocated_bytes(), 10);
        entry.set_expire_at(Some(5));
        assert_eq!(entry.expire_at(), Some(5));
        entry.set_expire_at(Some(7));
        assert_eq!(
            (entry.key(), entry.value(), entry.expire_at()),
            (&b"k"[..], &b"v"[..], Some(7))
        );
        entry.set_expire_at(None);
        assert_eq!(
            (entry.key(), entry.value(), entry.expire_at()),
            (&b"k"[..], &b"v"[..], None)
        );
    }

    #[test]
    fn copied_blocks_parse_back() {
        let mut entry = Entry::new_string(b"key", b"val", Some(77));
        entry.append(b"ue");
        let copy = entry.block().to_vec();
        let parts = BlockParts::parse(&copy);
        assert_eq!(&copy[parts.key], b"key");
        assert_eq!(&copy[parts.value], b"value");
        assert_eq!((parts.kind, parts.expire_at), (ValueKind::String, Some(77)));
    }

    #[test]
    fn expiry_is_strictly_after_the_deadline() {
        let entry = Entry::new_string(b"k", b"v", Some(100));
        assert!(!entry.is_expired(100));
        assert!(entry.is_expired(101));
    }

    #[test]
    fn appends_grow_with_spare_room() {
        let mut entry = Entry::new_string(b"k", b"ab", Some(9));
        assert_eq!(entry.append(b"cd"), 4);
        let size_after_first_growth = entry.allocated_bytes();
        assert_eq!(entry.append(b"e"), 5);
        assert_eq!(
            entry.allocated_bytes(),
            size_after_first_growth,
            "grew in place"
        );
        assert_eq!(entry.value(), b"abcde");
        assert_eq!(entry.key(), b"k");
        assert_eq!(entry.expire_at(), Some(9));
        entry.set_expire_at(None);
        assert_eq!(entry.value(), b"abcde");
    }

    #[test]
    fn set_range_zero_pads() {
        let mut entry = Entry::new_string(b"k", b"ab", None);
        assert_eq!(entry.set_range(4, b"xy"), 6);
        assert_eq!(entry.value(), b"ab\0\0xy");
        assert_eq!(entry.set_range(0, b"Z"), 6);
        assert_eq!(entry.value(), b"Zb\0\0xy");
        // Shrinking never happens and reused spare bytes are zeroed again.
        let mut grown = Entry::new_string(b"k", b"", None);
        grown.append(b"abc");
        assert_eq!(grown.set_range(5, b"!"), 6);
        assert_eq!(grown.value(), b"abc\0\0!");
    }
}
