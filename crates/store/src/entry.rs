//! One keyspace entry packed into a single heap allocation, referenced by a
//! thin (8-byte) pointer.
//!
//! Every key of the keyspace costs exactly one allocation, a block that
//! holds a small header, the optional expiry deadline, the key and the value.
//! The table stores only the pointer to it, so a bucket is 8 bytes plus
//! hashbrown's control byte, and a lookup touches the bucket and this one
//! block, nothing else.
//!
//! ```text
//! byte 0       flags: bits 0..=2 value kind, bit 3 HAS_EXPIRY, bit 4 HAS_SPARE,
//!              bit 5 OUT_OF_LINE, bit 6 AS_TEXT (strings: never `int`)
//! bytes 1..4   access clock (24 bits, LE): Redis's LRU clock, see below
//! varint       key length (LEB128, 1 byte below 128)
//! varint       value length                      (without HAS_SPARE)
//! 2 x u32 LE   value length, spare capacity      (with HAS_SPARE)
//! [8 bytes]    expiry deadline, ms, u64 LE       (only with HAS_EXPIRY)
//! key bytes, value bytes, [spare capacity]
//! ```
//!
//! The header alone says how long the block is, which is what lets the table
//! keep a thin pointer: the length a `Box<[u8]>` would carry in its fat
//! pointer is recomputed from the header when the block is read or freed.
//! The common case, a string written once by `SET`, pays a 6-byte header: a
//! 13-byte key with a 16-byte value is a 35-byte block (a 48-byte malloc
//! chunk). Strings that grow in place (`APPEND`, `SETRANGE`) switch to the
//! spare-capacity layout and grow greedily like Redis's sds (double until
//! 1 MiB, then 1 MiB at a time), so a loop of appends stays amortised O(1)
//! per byte instead of copying the whole value every time; their lengths are
//! fixed-width so that growing into the spare room rewrites them in place.
//!
//! # The access clock
//!
//! Bytes 1..4 hold Redis's `robj.lru` for this key: the LRU clock
//! ([`lru_clock`], seconds since the epoch modulo 2^24, Redis's
//! `LRU_CLOCK_RESOLUTION` of 1 s) when the key was created or last looked
//! up. `OBJECT IDLETIME` is the clock's distance to it ([`idle_seconds`]).
//! Who stamps it mirrors Redis's `lookupKey` and `createObject`: the
//! database stamps every entry it inserts (a new object), a lookup that
//! touches (not `LOOKUP_NOTOUCH`) stamps the entry it finds, and rebuilding
//! a block in place (growing, a new deadline, a new encoding) keeps it.
//!
//! # Safety
//!
//! The only `unsafe` code of the crate is here, around one invariant: an
//! [`Entry`]'s pointer always comes from `Box::<[u8]>::into_raw` of a block
//! built by [`Entry::from_parts`], whose header describes exactly the
//! block's length, and the `Entry` owns that allocation alone. Reading the
//! header byte by byte stays inside the block (the header is its prefix);
//! rebuilding the slice (to read, write or free it) uses the length the
//! header gives, which is the length the box was allocated with.
//!
//! A second invariant covers collections in their big encoding: a block
//! whose flags have `OUT_OF_LINE` holds, as its `POINTER_FIELD` value bytes,
//! a pointer obtained from `Box::<Big>::into_raw`, written there with
//! `write_unaligned` by [`Entry::new_big`] and owned by the entry alone. It is
//! read back only with `read_unaligned` (shared or exclusive according to
//! the borrow of the entry), and only `detach_big` gives that ownership
//! away, clearing the flag in the same step.
//!
//! # Collections: packed inline, or out of line
//!
//! A small collection keeps its compact encoding (a hash's listpack-like
//! run, a set's intset) as the value bytes, inline in the block: one
//! allocation for the key and all its elements, and a snapshot image is a
//! plain copy of the block. A big one (`hashtable`) lives out of line in a
//! [`Big`] box; the block then holds the box's pointer as its 8 value bytes
//! and the `OUT_OF_LINE` flag. That pointer is written and read only as a
//! typed pointer (`write_unaligned`/`read_unaligned`, so it keeps its
//! provenance), never copied as bytes: repacking the block (a new deadline,
//! a new key for `RENAME`) detaches the box and re-attaches it to the new
//! block, [`Entry::write_image`] writes zeros in its place and hands out a
//! frozen view instead, `Drop` frees the box, and `Clone`/[`Entry::copy_with_key`]
//! clone it (chunks are shared copy-on-write, see `kinds::chunked`).
//!
//! Every operation that depends on where a value lives matches on the kind
//! exhaustively and defers to the kind's home in `kinds`.

use std::ptr::NonNull;

use crate::kinds::{Big, FrozenBig, hash, list, set, string, zset};
use crate::value::{Value, ValueKind};

/// Bytes of the out-of-line pointer stored as the value of a big
/// collection.
const POINTER_FIELD: usize = std::mem::size_of::<*mut Big>();

const FLAGS_OFFSET: usize = 0;
/// Offset of the 24-bit access clock.
const CLOCK_OFFSET: usize = 1;
/// Bytes of the access clock (Redis's `LRU_BITS` is 24).
const CLOCK_FIELD: usize = 3;
/// Flags byte plus the 24-bit access clock.
const FIXED_HEADER_LEN: usize = 4;
const DEADLINE_FIELD: usize = 8;
/// Width of the value length and spare fields of the spare layout.
const LENGTH_FIELD: usize = 4;

const KIND_MASK: u8 = 0b0000_0111;
const HAS_EXPIRY: u8 = 0b0000_1000;
const HAS_SPARE: u8 = 0b0001_0000;
const OUT_OF_LINE: u8 = 0b0010_0000;
/// A string Redis would hold as text whatever it reads as: the result of
/// `INCRBYFLOAT`, which Redis stores with `createStringObjectFromLongDouble`
/// and never tries to encode as an integer, so `OBJECT ENCODING` says
/// `embstr` even for `3`. Kept by every change that keeps Redis's object
/// (a new deadline, `RENAME`, `MOVE`) or copies its encoding (`COPY`'s
/// `dupStringObject`); a write of a new value (`SET`, `INCR`, replaying the
/// `SET` it was logged as) builds an entry without it.
const AS_TEXT: u8 = 0b0100_0000;

const KIND_STRING: u8 = 0;
const KIND_HASH: u8 = 1;
const KIND_SET: u8 = 2;
const KIND_LIST: u8 = 3;
const KIND_ZSET: u8 = 4;

/// Spare room given to a string changed in place without growing, only to
/// select the spare layout that marks it `raw` (see `grow_value`).
const RAW_MARK_SPARE: usize = 1;

/// Above this size a growing string gains 1 MiB of spare room at a time
/// instead of doubling (Redis's `SDS_MAX_PREALLOC`).
const GREEDY_GROWTH_LIMIT: usize = 1024 * 1024;

/// Largest value of the access clock (Redis's `LRU_CLOCK_MAX`, 2^24 - 1).
pub(crate) const LRU_CLOCK_MAX: u32 = (1 << 24) - 1;

/// Milliseconds per tick of the access clock (Redis's
/// `LRU_CLOCK_RESOLUTION`).
pub(crate) const LRU_CLOCK_RESOLUTION_MS: u64 = 1000;

/// The access clock at `now_ms` (ms since the epoch), as Redis's
/// `getLRUClock`: whole seconds, wrapping at 2^24 (about 194 days).
pub(crate) fn lru_clock(now_ms: u64) -> u32 {
    ((now_ms / LRU_CLOCK_RESOLUTION_MS) & u64::from(LRU_CLOCK_MAX)) as u32
}

/// Seconds between an entry's access clock `stamp` and the clock `now`,
/// across a wrap of the clock, as Redis's `estimateObjectIdleTime` (divided
/// back to seconds by `OBJECT IDLETIME`).
pub(crate) fn idle_seconds(now: u32, stamp: u32) -> u64 {
    if now >= stamp {
        u64::from(now - stamp)
    } else {
        u64::from(now) + u64::from(LRU_CLOCK_MAX - stamp)
    }
}

/// Where the parts of a block are, decoded from its header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Header {
    flags: u8,
    /// Offset of the fixed-width value length and spare fields (spare
    /// layout only).
    lengths_at: usize,
    /// Offset of the deadline field, when there is one.
    deadline_at: Option<usize>,
    key_start: usize,
    key_len: usize,
    value_len: usize,
    spare: usize,
}

impl Header {
    /// Decodes a header; `byte(i)` returns the block's byte `i`, and is only
    /// called for indices inside the header.
    fn decode(byte: impl Fn(usize) -> u8) -> Header {
        let flags = byte(FLAGS_OFFSET);
        let mut at = FIXED_HEADER_LEN;
        let key_len = read_varint(&byte, &mut at);
        let lengths_at = at;
        let (value_len, spare) = if flags & HAS_SPARE != 0 {
            at = lengths_at + 2 * LENGTH_FIELD;
            (
                read_u32_with(&byte, lengths_at),
                read_u32_with(&byte, lengths_at + LENGTH_FIELD),
            )
        } else {
            (read_varint(&byte, &mut at), 0)
        };
        let deadline_at = (flags & HAS_EXPIRY != 0).then_some(at);
        let key_start = at
            + if deadline_at.is_some() {
                DEADLINE_FIELD
            } else {
                0
            };
        Header {
            flags,
            lengths_at,
            deadline_at,
            key_start,
            key_len,
            value_len,
            spare,
        }
    }

    fn value_start(&self) -> usize {
        self.key_start + self.key_len
    }

    /// Length of the whole block.
    fn total(&self) -> usize {
        self.value_start() + self.value_len + self.spare
    }

    fn kind(&self) -> ValueKind {
        match self.flags & KIND_MASK {
            KIND_STRING => ValueKind::String,
            KIND_HASH => ValueKind::Hash,
            KIND_SET => ValueKind::Set,
            KIND_LIST => ValueKind::List,
            KIND_ZSET => ValueKind::Zset,
            other => unreachable!("entry kind tag {other} is never written"),
        }
    }

    fn grown(&self) -> bool {
        self.flags & HAS_SPARE != 0
    }

    fn out_of_line(&self) -> bool {
        self.flags & OUT_OF_LINE != 0
    }

    fn as_text(&self) -> bool {
        self.flags & AS_TEXT != 0
    }
}

/// The tag a kind is stored under in the flags byte.
const fn kind_tag(kind: ValueKind) -> u8 {
    match kind {
        ValueKind::String => KIND_STRING,
        ValueKind::Hash => KIND_HASH,
        ValueKind::Set => KIND_SET,
        ValueKind::List => KIND_LIST,
        ValueKind::Zset => KIND_ZSET,
    }
}

/// Reads a LEB128 varint at `*at`, advancing it.
fn read_varint(byte: &impl Fn(usize) -> u8, at: &mut usize) -> usize {
    let mut value = 0usize;
    let mut shift = 0;
    loop {
        let b = byte(*at);
        *at += 1;
        value |= usize::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            return value;
        }
        shift += 7;
    }
}

fn read_u32_with(byte: &impl Fn(usize) -> u8, at: usize) -> usize {
    u32::from_le_bytes([byte(at), byte(at + 1), byte(at + 2), byte(at + 3)]) as usize
}

fn u32_field(value: usize) -> [u8; LENGTH_FIELD] {
    u32::try_from(value)
        .expect("lengths are bounded by the 512 MB string limit")
        .to_le_bytes()
}

/// Bytes of the LEB128 encoding of `value`.
fn varint_len(value: usize) -> usize {
    let bits = usize::BITS - value.leading_zeros();
    (bits as usize).div_ceil(7).max(1)
}

fn push_varint(out: &mut Vec<u8>, mut value: usize) {
    while value >= 0x80 {
        out.push((value as u8 & 0x7f) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

/// Where the parts of a copied block (see [`Entry::block`]) are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BlockParts {
    pub(crate) kind: ValueKind,
    pub(crate) key: std::ops::Range<usize>,
    pub(crate) value: std::ops::Range<usize>,
    pub(crate) expire_at: Option<u64>,
    /// The value lives out of line: the image carries a frozen view beside
    /// the bytes (see [`Entry::write_image`]).
    pub(crate) out_of_line: bool,
}

impl BlockParts {
    pub(crate) fn parse(block: &[u8]) -> BlockParts {
        let header = Header::decode(|i| block[i]);
        let deadline = header.deadline_at.map(|at| read_deadline(block, at));
        BlockParts {
            kind: header.kind(),
            key: header.key_start..header.value_start(),
            value: header.value_start()..header.value_start() + header.value_len,
            expire_at: deadline,
            out_of_line: header.out_of_line(),
        }
    }
}

/// Where a collection's elements are.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Payload<'a> {
    /// The compact encoding, inline in the block.
    Packed(&'a [u8]),
    /// The big encoding, out of line.
    Big(&'a Big),
}

fn read_deadline(block: &[u8], at: usize) -> u64 {
    let mut raw = [0u8; DEADLINE_FIELD];
    raw.copy_from_slice(&block[at..at + DEADLINE_FIELD]);
    u64::from_le_bytes(raw)
}

/// A key, its value and its metadata in one block. See the module docs.
pub(crate) struct Entry {
    /// Start of a block allocated as a `Box<[u8]>` (see "Safety").
    block: NonNull<u8>,
}

// The point of the thin pointer: a table bucket holds 8 bytes, not 16.
const _: () = assert!(std::mem::size_of::<Entry>() == 8);

// SAFETY: an `Entry` owns its block exclusively, like the `Box<[u8]>` it was
// made from, and has no interior mutability.
unsafe impl Send for Entry {}
// SAFETY: as above; `&Entry` only ever reads the block.
unsafe impl Sync for Entry {}

impl Drop for Entry {
    fn drop(&mut self) {
        // A big collection's box first (every kind may have one but
        // strings, which never set the flag), then the block.
        drop(self.detach_big());
        let header = self.header();
        let len = header.total();
        let slice = std::ptr::slice_from_raw_parts_mut(self.block.as_ptr(), len);
        // SAFETY: the pointer and length are those of the `Box<[u8]>` the
        // entry was made from (module invariant), and it is freed only here.
        drop(unsafe { Box::from_raw(slice) });
    }
}

impl Clone for Entry {
    /// A deep copy: nothing is shared with `self`.
    fn clone(&self) -> Entry {
        match self.payload_of_collection() {
            // Inline, so a copy of the block is a deep copy.
            None | Some(Payload::Packed(_)) => Entry::from_block(self.block().into()),
            Some(Payload::Big(big)) => Entry::new_big(
                self.kind(),
                self.key(),
                Box::new(big.clone()),
                self.expire_at(),
            ),
        }
    }
}

impl PartialEq for Entry {
    fn eq(&self, other: &Entry) -> bool {
        if self.header().out_of_line() || other.header().out_of_line() {
            self.key() == other.key()
                && self.expire_at() == other.expire_at()
                && self.to_value() == other.to_value()
        } else {
            self.block() == other.block()
        }
    }
}

impl Eq for Entry {}

impl std::fmt::Debug for Entry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Entry")
            .field("key", &String::from_utf8_lossy(self.key()))
            .field("kind", &self.kind())
            .field("value_len", &self.header().value_len)
            .field("expire_at_ms", &self.expire_at())
            .finish()
    }
}

impl Entry {
    /// Packs a string entry with no spare capacity.
    pub(crate) fn new_string(key: &[u8], value: &[u8], expire_at: Option<u64>) -> Entry {
        Self::from_parts(ValueKind::String, key, value, expire_at, 0)
    }

    /// A string entry held as text (never `int` encoded, see `AS_TEXT`).
    pub(crate) fn new_text_string(key: &[u8], value: &[u8], expire_at: Option<u64>) -> Entry {
        let mut entry = Self::new_string(key, value, expire_at);
        entry.add_flags(AS_TEXT);
        entry
    }

    /// Sets `flags` in the flags byte.
    fn add_flags(&mut self, flags: u8) {
        // SAFETY: the flags byte is the block's first byte (module
        // invariant); `&mut self` makes the write exclusive.
        unsafe { *self.block.as_ptr().add(FLAGS_OFFSET) |= flags }
    }

    /// Gives `target`, a rebuilt or copied block of this entry, the flags
    /// that describe the value rather than the block's layout (`AS_TEXT`).
    fn carry_value_flags(&self, target: &mut Entry) {
        target.add_flags(self.header().flags & AS_TEXT);
    }

    /// A deep copy of this entry's value and deadline under another key
    /// (`COPY`, `RENAME`), of the same kind.
    pub(crate) fn copy_with_key(&self, key: &[u8]) -> Entry {
        let mut copy = self.copy_value_with_key(key);
        self.carry_value_flags(&mut copy);
        copy
    }

    fn copy_value_with_key(&self, key: &[u8]) -> Entry {
        match self.payload_of_collection() {
            None => Self::from_parts(
                self.kind(),
                key,
                self.value(),
                self.expire_at(),
                self.raw_marker(),
            ),
            Some(Payload::Packed(_)) => {
                Self::from_parts(self.kind(), key, self.value(), self.expire_at(), 0)
            }
            Some(Payload::Big(big)) => {
                Entry::new_big(self.kind(), key, Box::new(big.clone()), self.expire_at())
            }
        }
    }

    /// The same entry under another key (`RENAME`): the value moves, a big
    /// collection's box included (no copy of its elements).
    pub(crate) fn into_rekeyed(mut self, key: &[u8]) -> Entry {
        let (kind, expire_at, clock) = (self.kind(), self.expire_at(), self.lru());
        let mut moved = match self.detach_big() {
            Some(big) => Entry::new_big(kind, key, big, expire_at),
            None => Self::from_parts(kind, key, self.value(), expire_at, self.raw_marker()),
        };
        moved.set_lru(clock);
        self.carry_value_flags(&mut moved);
        moved
    }

    /// The access clock stamped in the entry (see the module docs).
    pub(crate) fn lru(&self) -> u32 {
        // SAFETY: the clock bytes are part of the fixed header, inside the
        // block (module invariant).
        let byte = |i: usize| unsafe { *self.block.as_ptr().add(CLOCK_OFFSET + i) };
        u32::from_le_bytes([byte(0), byte(1), byte(2), 0])
    }

    /// Stamps the access clock (the low 24 bits of `clock`).
    pub(crate) fn set_lru(&mut self, clock: u32) {
        let bytes = clock.to_le_bytes();
        // SAFETY: as in `lru`; `&mut self` makes the write exclusive.
        unsafe {
            std::ptr::copy_nonoverlapping(
                bytes.as_ptr(),
                self.block.as_ptr().add(CLOCK_OFFSET),
                CLOCK_FIELD,
            );
        }
    }

    /// The shared integer object Redis would hold for this value, if any
    /// (see `kinds::string::shared_integer`).
    pub(crate) fn shared_integer(&self) -> Option<usize> {
        let header = self.header();
        if header.kind() != ValueKind::String {
            return None;
        }
        let start = header.value_start();
        let value = &self.block_with(&header)[start..start + header.value_len];
        string::shared_integer(value, header.grown() || header.as_text())
    }

    /// Replaces this entry with a rebuilt block of the same key, keeping
    /// the access clock (a rebuild is not an access, nor a new object) and
    /// the value's flags.
    fn rebuild(&mut self, mut rebuilt: Entry) {
        rebuilt.set_lru(self.lru());
        self.carry_value_flags(&mut rebuilt);
        *self = rebuilt;
    }

    /// The spare room a rebuilt copy of this entry needs to keep its
    /// encoding: a raw string stays raw (Redis's `dupStringObject` and
    /// `RENAME` keep the encoding), through the marker room only.
    fn raw_marker(&self) -> usize {
        let header = self.header();
        match header.kind() {
            ValueKind::String if header.flags & HAS_SPARE != 0 => RAW_MARK_SPARE,
            ValueKind::String
            | ValueKind::Hash
            | ValueKind::Set
            | ValueKind::List
            | ValueKind::Zset => 0,
        }
    }

    /// A packed collection entry (the value bytes are the compact
    /// encoding).
    pub(crate) fn new_packed(
        kind: ValueKind,
        key: &[u8],
        payload: &[u8],
        expire_at: Option<u64>,
    ) -> Entry {
        Self::from_parts(kind, key, payload, expire_at, 0)
    }

    /// A collection entry whose elements live out of line in `big`.
    pub(crate) fn new_big(
        kind: ValueKind,
        key: &[u8],
        big: Box<Big>,
        expire_at: Option<u64>,
    ) -> Entry {
        let entry = Self::from_parts(kind, key, &[0; POINTER_FIELD], expire_at, 0);
        let header = entry.header();
        let raw = Box::into_raw(big);
        // SAFETY: the value field is POINTER_FIELD bytes inside the block
        // (just built with that length); `entry` owns the block exclusively.
        // The flag is set only once the pointer is in place.
        unsafe {
            let base = entry.block.as_ptr();
            std::ptr::write_unaligned(base.add(header.value_start()).cast::<*mut Big>(), raw);
            *base.add(FLAGS_OFFSET) |= OUT_OF_LINE;
        }
        entry
    }

    /// Takes a big collection's box out of the entry, which is left a
    /// packed entry with meaningless value bytes (only ever dropped or
    /// overwritten next).
    fn detach_big(&mut self) -> Option<Box<Big>> {
        let header = self.header();
        if !header.out_of_line() {
            return None;
        }
        // SAFETY: an OUT_OF_LINE block's value field holds the pointer of a
        // `Box<Big>` written by `new_big` and owned by this entry alone;
        // clearing the flag hands that ownership to the returned box.
        unsafe {
            let base = self.block.as_ptr();
            let raw = std::ptr::read_unaligned(base.add(header.value_start()).cast::<*mut Big>());
            *base.add(FLAGS_OFFSET) &= !OUT_OF_LINE;
            Some(Box::from_raw(raw))
        }
    }

    /// The elements of a collection (`None` for a string).
    pub(crate) fn payload_of_collection(&self) -> Option<Payload<'_>> {
        let header = self.header();
        if header.kind() == ValueKind::String {
            return None;
        }
        Some(self.payload_with(&header))
    }

    fn payload_with(&self, header: &Header) -> Payload<'_> {
        if header.out_of_line() {
            // SAFETY: the pointer is the live box's (`big_ptr`); the shared
            // borrow of `self` keeps the box alive and unmodified.
            Payload::Big(unsafe { &*self.big_ptr(header) })
        } else {
            let start = header.value_start();
            Payload::Packed(&self.block_with(header)[start..start + header.value_len])
        }
    }

    /// The elements of a collection entry.
    pub(crate) fn payload(&self) -> Payload<'_> {
        self.payload_with(&self.header())
    }

    /// The out-of-line elements, for changing them in place.
    pub(crate) fn big_mut(&mut self) -> Option<&mut Big> {
        let header = self.header();
        if !header.out_of_line() {
            return None;
        }
        // SAFETY: the pointer is the live box's (`big_ptr`); `&mut self`
        // makes the access exclusive.
        Some(unsafe { &mut *self.big_ptr(&header) })
    }

    /// The pointer to the out-of-line value of an entry whose `header` says
    /// it has one.
    fn big_ptr(&self, header: &Header) -> *mut Big {
        debug_assert!(header.out_of_line());
        // SAFETY: see `detach_big`: an out-of-line entry stores the pointer
        // of its live box, unaligned, at its value start, inside the block.
        unsafe {
            std::ptr::read_unaligned(
                self.block
                    .as_ptr()
                    .add(header.value_start())
                    .cast::<*mut Big>(),
            )
        }
    }

    /// Replaces the value with a packed encoding (same kind, key, deadline).
    pub(crate) fn set_packed(&mut self, payload: &[u8]) {
        self.rebuild(Self::from_parts(
            self.kind(),
            self.key(),
            payload,
            self.expire_at(),
            0,
        ));
    }

    /// Replaces the value with out-of-line elements (same kind, key,
    /// deadline): the conversion to the big encoding.
    pub(crate) fn set_big(&mut self, big: Box<Big>) {
        self.rebuild(Entry::new_big(
            self.kind(),
            self.key(),
            big,
            self.expire_at(),
        ));
    }

    /// Whether the value lives out of line (a collection's big encoding).
    pub(crate) fn is_big(&self) -> bool {
        self.header().out_of_line()
    }

    /// Whether a collection has no elements left, in O(1) (a packed run
    /// would need a scan to count).
    pub(crate) fn collection_is_empty(&self) -> bool {
        match (self.kind(), self.payload()) {
            (ValueKind::String, _) => false,
            (ValueKind::Hash, Payload::Packed(run)) => run.is_empty(),
            (ValueKind::Set, Payload::Packed(ints)) => ints.len() <= 1,
            (ValueKind::List, Payload::Packed(run)) => list::run_is_empty(run),
            (ValueKind::Zset, Payload::Packed(run)) => run.is_empty(),
            (_, Payload::Big(big)) => big.is_empty(),
        }
    }

    /// Number of elements of a collection (0 for a string).
    pub(crate) fn collection_len(&self) -> usize {
        match (self.kind(), self.payload()) {
            (ValueKind::String, _) => 0,
            (ValueKind::Hash, payload) => hash::len(payload),
            (ValueKind::Set, payload) => set::len(payload),
            (ValueKind::List, payload) => list::len(payload),
            (ValueKind::Zset, payload) => zset::len(payload),
        }
    }

    /// An owned copy of the value (a collection's big encoding as a frozen
    /// view: O(chunks)).
    pub(crate) fn to_value(&self) -> Value {
        match self.kind() {
            ValueKind::String => Value::String(bytes::Bytes::copy_from_slice(self.value())),
            ValueKind::Hash => Value::Hash(hash::to_value(self.payload())),
            ValueKind::Set => Value::Set(set::to_value(self.payload())),
            ValueKind::List => Value::List(list::to_value(self.payload())),
            ValueKind::Zset => Value::Zset(zset::to_value(self.payload())),
        }
    }

    /// The `OBJECT ENCODING` Redis would report for this value.
    pub(crate) fn encoding(&self) -> &'static str {
        let header = self.header();
        match header.kind() {
            ValueKind::String => string::encoding(self.value(), header.grown(), header.as_text()),
            ValueKind::Hash => hash::encoding(self.payload_with(&header)),
            ValueKind::Set => set::encoding(self.payload_with(&header)),
            ValueKind::List => list::encoding(self.payload_with(&header)),
            ValueKind::Zset => zset::encoding(self.payload_with(&header)),
        }
    }

    /// Appends this entry's snapshot record to `out`: `[u32 length][block]`,
    /// the block copied whole when its value is inline. A big collection's
    /// pointer is not copied: zeros take its place and the frozen view of
    /// its elements is returned, to be kept beside the bytes.
    pub(crate) fn write_image(&self, out: &mut Vec<u8>) -> Option<FrozenBig> {
        let header = self.header();
        let block = self.block_with(&header);
        let len = u32::try_from(block.len()).expect("entries are bounded by the string limit");
        out.extend_from_slice(&len.to_le_bytes());
        if header.out_of_line() {
            out.extend_from_slice(&block[..header.value_start()]);
            out.extend_from_slice(&[0; POINTER_FIELD]);
            match self.payload_with(&header) {
                Payload::Big(big) => Some(big.freeze()),
                Payload::Packed(_) => unreachable!("out-of-line entries have a box"),
            }
        } else {
            out.extend_from_slice(block);
            None
        }
    }

    /// Bytes [`Entry::write_image`] appends.
    pub(crate) fn image_len(&self) -> usize {
        4 + self.header().total()
    }

    /// Builds a block of kind `kind` (see the module docs) and takes
    /// ownership of it. `value` is the block's value payload: the bytes of a
    /// string.
    fn from_parts(
        kind: ValueKind,
        key: &[u8],
        value: &[u8],
        expire_at: Option<u64>,
        spare: usize,
    ) -> Entry {
        let mut flags = kind_tag(kind);
        if expire_at.is_some() {
            flags |= HAS_EXPIRY;
        }
        if spare > 0 {
            flags |= HAS_SPARE;
        }
        // Sized exactly: shrinking an over-sized buffer into the box would
        // leave it in a larger malloc chunk.
        let lengths = if spare > 0 {
            2 * LENGTH_FIELD
        } else {
            varint_len(value.len())
        };
        let deadline = if expire_at.is_some() {
            DEADLINE_FIELD
        } else {
            0
        };
        let total = FIXED_HEADER_LEN
            + varint_len(key.len())
            + lengths
            + deadline
            + key.len()
            + value.len()
            + spare;
        let mut block = Vec::with_capacity(total);
        block.extend_from_slice(&[flags, 0, 0, 0]);
        push_varint(&mut block, key.len());
        if spare > 0 {
            block.extend_from_slice(&u32_field(value.len()));
            block.extend_from_slice(&u32_field(spare));
        } else {
            push_varint(&mut block, value.len());
        }
        if let Some(deadline) = expire_at {
            block.extend_from_slice(&deadline.to_le_bytes());
        }
        block.extend_from_slice(key);
        block.extend_from_slice(value);
        block.resize(block.len() + spare, 0);
        debug_assert_eq!(block.len(), total);
        Entry::from_block(block.into_boxed_slice())
    }

    /// Takes ownership of a complete block.
    fn from_block(block: Box<[u8]>) -> Entry {
        debug_assert_eq!(Header::decode(|i| block[i]).total(), block.len());
        let raw = Box::into_raw(block).cast::<u8>();
        Entry {
            block: NonNull::new(raw).expect("Box::into_raw never returns null"),
        }
    }

    fn header(&self) -> Header {
        // SAFETY: `decode` only reads header bytes, which lie inside the
        // block (module invariant).
        Header::decode(|i| unsafe { *self.block.as_ptr().add(i) })
    }

    /// The packed block itself (a big collection's holds its pointer: use
    /// [`Entry::write_image`] to copy entries).
    fn block(&self) -> &[u8] {
        self.block_with(&self.header())
    }

    /// The block, given its already decoded header (saves decoding twice).
    fn block_with(&self, header: &Header) -> &[u8] {
        let len = header.total();
        // SAFETY: `header` was decoded from this block, so `len` is its
        // allocated length (module invariant); the borrow of `self` keeps
        // the block alive and unmodified.
        unsafe { std::slice::from_raw_parts(self.block.as_ptr(), len) }
    }

    fn block_mut(&mut self) -> &mut [u8] {
        let len = self.header().total();
        // SAFETY: as in `block`, and `&mut self` makes the access exclusive.
        unsafe { std::slice::from_raw_parts_mut(self.block.as_ptr(), len) }
    }

    /// The key bytes.
    pub(crate) fn key(&self) -> &[u8] {
        let header = self.header();
        &self.block_with(&header)[header.key_start..header.value_start()]
    }

    /// The value bytes: a string, or a packed collection's encoding.
    pub(crate) fn value(&self) -> &[u8] {
        debug_assert!(!self.header().out_of_line(), "value() of a big collection");
        let header = self.header();
        &self.block_with(&header)[header.value_start()..header.value_start() + header.value_len]
    }

    /// What kind of value this entry holds.
    pub(crate) fn kind(&self) -> ValueKind {
        self.header().kind()
    }

    /// The absolute expiry deadline in ms since the Unix epoch, if any.
    pub(crate) fn expire_at(&self) -> Option<u64> {
        let header = self.header();
        let at = header.deadline_at?;
        Some(read_deadline(self.block_with(&header), at))
    }

    /// Whether the entry's deadline has passed at `now` (Redis: `when <= now`
    /// is not yet expired; a key expires once `now > when`).
    pub(crate) fn is_expired(&self, now: u64) -> bool {
        self.expire_at().is_some_and(|deadline| deadline < now)
    }

    /// Sets or clears the deadline. Overwrites in place when a deadline is
    /// already stored; otherwise the block is repacked (one allocation).
    pub(crate) fn set_expire_at(&mut self, expire_at: Option<u64>) {
        let header = self.header();
        match (header.deadline_at, expire_at) {
            (Some(at), Some(deadline)) => {
                self.block_mut()[at..at + DEADLINE_FIELD].copy_from_slice(&deadline.to_le_bytes());
            }
            (None, None) => {}
            _ if header.out_of_line() => {
                let (kind, key) = (header.kind(), self.key().to_vec());
                let big = self.detach_big().expect("out of line");
                self.rebuild(Entry::new_big(kind, &key, big, expire_at));
            }
            _ => self.rebuild(Self::from_parts(
                header.kind(),
                self.key(),
                self.value(),
                expire_at,
                header.spare,
            )),
        }
    }

    /// Bytes of the block and of any out-of-line elements, the entry's
    /// share of `used_memory`.
    pub(crate) fn allocated_bytes(&self) -> usize {
        let header = self.header();
        let inline = header.total();
        match self.payload_with(&header) {
            Payload::Big(big) if header.out_of_line() => inline + big.memory_bytes(),
            _ => inline,
        }
    }

    /// `MEMORY USAGE`'s estimate of [`Entry::allocated_bytes`]: exact for
    /// a string and a packed collection (one block), sampled from
    /// `samples` elements for a big collection's elements (see
    /// `Chunked::sampled_memory_bytes`).
    pub(crate) fn sampled_bytes(&self, samples: usize) -> usize {
        let header = self.header();
        let inline = header.total();
        match self.payload_with(&header) {
            Payload::Big(big) if header.out_of_line() => {
                inline + std::mem::size_of::<Big>() + big.sampled_memory_bytes(samples)
            }
            _ => inline,
        }
    }

    /// Ensures the value can hold `new_len` bytes, growing greedily, and
    /// zero-fills the bytes between the old and the new length.
    fn grow_value(&mut self, new_len: usize) {
        let header = self.header();
        if new_len <= header.value_len {
            if header.flags & HAS_SPARE == 0 {
                // Changed in place without growing: Redis has made it a raw
                // sds all the same (`dbUnshareStringValue`), so `OBJECT
                // ENCODING` says `raw`. The spare layout is what marks a
                // string changed in place; the least room selects it.
                self.rebuild(Self::from_parts(
                    header.kind(),
                    self.key(),
                    self.value(),
                    self.expire_at(),
                    RAW_MARK_SPARE,
                ));
            }
            return;
        }
        if header.flags & HAS_SPARE != 0 && new_len <= header.value_len + header.spare {
            // In place: the block's total length does not change, only how
            // it is split between value and spare room.
            let start = header.value_start();
            let spare_left = header.value_len + header.spare - new_len;
            let block = self.block_mut();
            block[start + header.value_len..start + new_len].fill(0);
            let at = header.lengths_at;
            block[at..at + LENGTH_FIELD].copy_from_slice(&u32_field(new_len));
            block[at + LENGTH_FIELD..at + 2 * LENGTH_FIELD].copy_from_slice(&u32_field(spare_left));
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
        self.rebuild(Self::from_parts(
            header.kind(),
            self.key(),
            &grown,
            self.expire_at(),
            capacity - new_len,
        ));
    }

    /// Appends to the value; returns the new length.
    pub(crate) fn append(&mut self, extra: &[u8]) -> usize {
        let old_len = self.value().len();
        let new_len = old_len + extra.len();
        self.grow_value(new_len);
        let start = self.header().value_start();
        self.block_mut()[start + old_len..start + new_len].copy_from_slice(extra);
        new_len
    }

    /// Overwrites the value at `offset`, zero-padding as needed; returns the
    /// new length.
    pub(crate) fn set_range(&mut self, offset: usize, bytes: &[u8]) -> usize {
        let end = offset + bytes.len();
        self.grow_value(end);
        let start = self.header().value_start();
        self.block_mut()[start + offset..start + end].copy_from_slice(bytes);
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
        assert_eq!(entry.allocated_bytes(), 4 + 2 + 8 + 3 + 5);
    }

    #[test]
    fn deadline_can_be_added_changed_and_removed() {
        let mut entry = Entry::new_string(b"k", b"v", None);
        assert_eq!(entry.allocated_bytes(), 8);
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
    fn lengths_across_varint_widths_round_trip() {
        for key_len in [0usize, 1, 127, 128, 300, 16_383, 16_384] {
            for value_len in [0usize, 5, 127, 128, 70_000] {
                let key = vec![b'k'; key_len];
                let value: Vec<u8> = (0..value_len).map(|i| i as u8).collect();
                for deadline in [None, Some(u64::MAX)] {
                    let entry = Entry::new_string(&key, &value, deadline);
                    assert_eq!(entry.key(), &key[..]);
                    assert_eq!(entry.value(), &value[..]);
                    assert_eq!(entry.expire_at(), deadline);
                    let copy = entry.clone();
                    assert_eq!(copy, entry);
                    assert_eq!(copy.allocated_bytes(), entry.block().len());
                }
            }
        }
    }

    #[test]
    fn appends_are_amortised() {
        let mut entry = Entry::new_string(b"log", b"", None);
        let mut reallocations = 0;
        let mut size = entry.allocated_bytes();
        for i in 0..10_000u32 {
            entry.append(&i.to_le_bytes());
            if entry.allocated_bytes() != size {
                reallocations += 1;
                size = entry.allocated_bytes();
            }
        }
        assert_eq!(entry.value().len(), 40_000);
        assert!(
            reallocations < 20,
            "{reallocations} reallocations for 10000 appends"
        );
        let expected: Vec<u8> = (0..10_000u32).flat_map(u32::to_le_bytes).collect();
        assert_eq!(entry.value(), &expected[..]);
        entry.set_expire_at(Some(3));
        assert_eq!(
            (entry.key(), entry.value().len(), entry.expire_at()),
            (&b"log"[..], 40_000, Some(3))
        );
    }

    #[test]
    fn copied_blocks_parse_back() {
        let mut entry = Entry::new_string(b"key", b"val", Some(77));
        entry.append(b"ue");
        let mut image = Vec::new();
        assert!(entry.write_image(&mut image).is_none());
        let copy = image[4..].to_vec();
        let parts = BlockParts::parse(&copy);
        assert_eq!(&copy[parts.key], b"key");
        assert_eq!(&copy[parts.value], b"value");
        assert_eq!((parts.kind, parts.expire_at), (ValueKind::String, Some(77)));
    }

    #[test]
    fn copies_keep_the_kind_the_value_and_the_deadline() {
        let mut entry = Entry::new_string(b"src", b"12", Some(5));
        let copy = entry.copy_with_key(b"dst");
        assert_eq!(
            (copy.key(), copy.kind(), copy.value(), copy.expire_at()),
            (&b"dst"[..], ValueKind::String, &b"12"[..], Some(5))
        );
        assert_eq!(copy.encoding(), "int");
        entry.append(b"3");
        assert_eq!(
            entry.encoding(),
            "raw",
            "grown strings are raw, as in Redis"
        );
        entry.set_expire_at(None);
        assert_eq!(entry.kind(), ValueKind::String);
        assert_eq!(
            entry.to_value(),
            Value::String(bytes::Bytes::from_static(b"123"))
        );
    }

    #[test]
    fn big_collections_move_clone_and_repack_without_losing_their_box() {
        let mut table = crate::kinds::set::BigSet::new();
        for i in 0..1000 {
            table.insert(format!("m{i}").as_bytes());
        }
        let mut entry = Entry::new_big(ValueKind::Set, b"s", Box::new(Big::Set(table)), None);
        assert!(entry.is_big());
        assert_eq!(entry.collection_len(), 1000);
        assert_eq!(entry.encoding(), "hashtable");
        // Repacking for a deadline moves the box to the new block.
        entry.set_expire_at(Some(9));
        assert_eq!((entry.expire_at(), entry.collection_len()), (Some(9), 1000));
        entry.set_expire_at(None);
        // Clones and copies are independent.
        let mut copy = entry.copy_with_key(b"t");
        let clone = entry.clone();
        if let Some(Big::Set(table)) = copy.big_mut() {
            table.insert(b"extra");
        }
        assert_eq!(copy.collection_len(), 1001);
        assert_eq!(
            (entry.collection_len(), clone.collection_len()),
            (1000, 1000)
        );
        assert_eq!(clone, entry);
        // A rename moves the box; the old block is freed without it.
        let renamed = entry.into_rekeyed(b"u");
        assert_eq!((renamed.key(), renamed.collection_len()), (&b"u"[..], 1000));
        // Snapshot images carry zeros where the pointer is.
        let mut image = Vec::new();
        let frozen = renamed.write_image(&mut image);
        assert!(frozen.is_some());
        let parts = BlockParts::parse(&image[4..]);
        assert!(parts.out_of_line);
        assert!(image[4..][parts.value].iter().all(|&b| b == 0));
        drop(renamed);
        match frozen.map(FrozenBig::into_value) {
            Some(Value::Set(set)) => {
                assert_eq!(set.len(), 1000, "the frozen view outlives the entry")
            }
            other => panic!("{other:?}"),
        }
        // Back to packed (SPOP's rebuild path replaces the whole entry).
        copy.set_packed(&crate::kinds::set::empty_intset());
        assert!(!copy.is_big());
        assert_eq!(copy.encoding(), "intset");
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
