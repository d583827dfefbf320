//! [`Chunked`]: the big ("hashtable") encoding shared by hashes and sets: a
//! hash table split into bounded chunks, each behind an `Arc`, grown one
//! chunk at a time (linear hashing), each chunk a packed arena of elements
//! with an open-addressing index.
//!
//! # Why chunks
//!
//! * **Snapshots.** A point-in-time snapshot must not make a writer copy a
//!   whole million-element collection. [`Chunked::freeze`] clones the chunk
//!   handles (O(chunks) reference-count increments, about one per
//!   [`CHUNK_TARGET`] elements) into a [`Frozen`] view; a later write to a
//!   chunk still shared with a frozen view copies that chunk alone
//!   (`Arc::make_mut`): two `memcpy`s of at most a few tens of KiB, since a
//!   chunk is two flat buffers. `COPY` shares chunks the same way.
//! * **Growth.** A single hash table doubles by rehashing everything; here
//!   the table grows by splitting one chunk (linear hashing), so no write
//!   moves more than one chunk's elements.
//! * **Freeing.** A million elements are a few thousand allocations, not a
//!   million.
//!
//! # A chunk
//!
//! Elements are stored back to back in an arena, each `[varint length][bytes]`
//! (a hash's element is `[varint field length][field][value]`, a set's is the
//! member). The index is an open-addressing table of `u64` slots, linear
//! probing, of any capacity (not a power of two: the home slot is the
//! multiply-high of the hash and the capacity), kept between 40% and 90%
//! full; a slot holds the element's arena offset and 16 bits of its hash,
//! so a probe reads the arena only on a likely match. A removal leaves a
//! tombstone and dead bytes in the arena; when tombstones or dead bytes pile
//! up, or the index fills, the chunk is rebuilt (compacted) in one bounded
//! pass. An element costs its bytes, its length prefix and about 10 bytes
//! of index: no allocation, no pointer, no allocator rounding per element.
//!
//! # Addressing
//!
//! An element's *position* is its hash rotated left by 7 (as the keyspace's
//! tables do). Linear hashing addresses chunks with the low bits of the
//! *bit-reversed* position, which are the position's top bits: with `level`
//! L and split pointer `s`, address `a = rev & (2^L - 1)`, and chunks below
//! `s` have already split, so they use `L + 1` bits. A chunk at depth `d`
//! therefore holds exactly the positions whose top `d` bits are the reverse
//! of its address: one contiguous range of positions, which is what
//! `HSCAN`/`SSCAN` cursors walk (see [`Chunked::scan`]), with `SCAN`'s
//! guarantee, since splitting only cuts a range in two. The index inside a
//! chunk uses other hash bits (the low 32 for the home slot, 32..48 for the
//! tag).

use std::hash::BuildHasher;
use std::marker::PhantomData;
use std::sync::Arc;

use crate::varint::{push_varint, read_varint, varint_len};

/// Average elements per chunk before another chunk splits. The longest a
/// writer can be held up by a snapshot is one chunk copy; chunks not split
/// yet in the current round hold about twice this.
pub(crate) const CHUNK_TARGET: usize = 512;

/// What a [`Chunked`] table holds: elements whose lookup key is part of
/// them.
pub(crate) trait KeyOf {
    /// The lookup key of an element (a hash's field, a set's member).
    fn key(element: &[u8]) -> &[u8];
}

/// Seeded per table (HashDoS).
type Hasher = foldhash::fast::RandomState;

fn position(hash: u64) -> u64 {
    hash.rotate_left(7)
}

/// An element with its hash.
type Hashed<'a> = (u64, &'a [u8]);

const EMPTY: u64 = 0;
const TOMBSTONE: u64 = u64::MAX;
/// Index load (live + tombstones) above which a chunk is rebuilt, in
/// tenths.
const MAX_LOAD_TENTHS: usize = 9;
/// Index load a rebuilt chunk starts with, in tenths.
const REBUILT_LOAD_TENTHS: usize = 7;
/// Smallest index.
const MIN_SLOTS: usize = 8;
/// Random slots tried before counting (random picks).
const SAMPLE_PROBES: usize = 16;

fn tag(hash: u64) -> u64 {
    (hash >> 32) & 0xFFFF
}

fn slot_value(offset: usize, hash: u64) -> u64 {
    ((offset as u64 + 1) << 16) | tag(hash)
}

fn slot_offset(slot: u64) -> usize {
    ((slot >> 16) - 1) as usize
}

/// One chunk: an arena of elements and its index. See the module docs.
#[derive(Clone, Default)]
struct Chunk {
    arena: Vec<u8>,
    slots: Vec<u64>,
    live: usize,
    tombstones: usize,
    dead_bytes: usize,
}

/// The element at `offset` of `arena`, and the offset after it.
fn element_at(arena: &[u8], offset: usize) -> (&[u8], usize) {
    let mut at = offset;
    let len = read_varint(arena, &mut at);
    (&arena[at..at + len], at + len)
}

impl Chunk {
    fn heap_bytes(&self) -> usize {
        self.arena.capacity() + self.slots.capacity() * std::mem::size_of::<u64>()
    }

    fn home(&self, hash: u64) -> usize {
        ((u128::from(hash.rotate_left(32)) * self.slots.len() as u128) >> 64) as usize
    }

    /// The slot index holding `key`.
    fn find<K: KeyOf>(&self, key: &[u8], hash: u64) -> Option<usize> {
        if self.slots.is_empty() {
            return None;
        }
        let mut index = self.home(hash);
        let want = tag(hash);
        loop {
            let slot = self.slots[index];
            if slot == EMPTY {
                return None;
            }
            if slot != TOMBSTONE
                && slot & 0xFFFF == want
                && K::key(element_at(&self.arena, slot_offset(slot)).0) == key
            {
                return Some(index);
            }
            index += 1;
            if index == self.slots.len() {
                index = 0;
            }
        }
    }

    fn element(&self, index: usize) -> &[u8] {
        element_at(&self.arena, slot_offset(self.slots[index])).0
    }

    fn iter(&self) -> impl Iterator<Item = &[u8]> {
        self.slots
            .iter()
            .filter(|&&s| s != EMPTY && s != TOMBSTONE)
            .map(|&s| element_at(&self.arena, slot_offset(s)).0)
    }

    /// Appends an element to the arena, growing it by at least a quarter
    /// (amortised, without doubling's slack); returns its offset.
    fn append(&mut self, element: &[u8]) -> usize {
        let needed = varint_len(element.len()) + element.len();
        if self.arena.len() + needed > self.arena.capacity() {
            self.arena.reserve_exact(needed.max(self.arena.len() / 4));
        }
        let offset = self.arena.len();
        push_varint(&mut self.arena, element.len());
        self.arena.extend_from_slice(element);
        offset
    }

    /// Puts the element with `hash` whose arena offset is `offset` in the
    /// first free slot of its probe sequence (the key is known absent).
    fn place(&mut self, offset: usize, hash: u64) {
        let mut index = self.home(hash);
        loop {
            match self.slots[index] {
                EMPTY => break,
                TOMBSTONE => {
                    self.tombstones -= 1;
                    break;
                }
                _ => {}
            }
            index += 1;
            if index == self.slots.len() {
                index = 0;
            }
        }
        self.slots[index] = slot_value(offset, hash);
    }

    /// A compact chunk of `elements` (distinct keys, with their hashes),
    /// with index room for `room` more at 70% load.
    fn build_with_room(elements: &[(u64, &[u8])], room: usize) -> Chunk {
        let bytes: usize = elements
            .iter()
            .map(|(_, e)| varint_len(e.len()) + e.len())
            .sum();
        let capacity = ((elements.len() + room) * 10 / REBUILT_LOAD_TENTHS).max(MIN_SLOTS);
        let mut chunk = Chunk {
            arena: Vec::with_capacity(bytes + bytes / 8),
            slots: vec![EMPTY; capacity],
            live: elements.len(),
            tombstones: 0,
            dead_bytes: 0,
        };
        for &(hash, element) in elements {
            let offset = chunk.append(element);
            chunk.place(offset, hash);
        }
        chunk
    }

    fn build(elements: &[(u64, &[u8])]) -> Chunk {
        Chunk::build_with_room(elements, 0)
    }

    /// Rebuilds the chunk from its live elements (compacted arena, fresh
    /// index sized for `room` more elements at 70% load).
    fn rebuild<K: KeyOf>(&mut self, hasher: &Hasher, room: usize) {
        let elements: Vec<(u64, &[u8])> = self
            .iter()
            .map(|e| (hasher.hash_one(K::key(e)), e))
            .collect();
        let rebuilt = Chunk::build_with_room(&elements, room);
        *self = rebuilt;
    }

    /// Inserts or replaces; true when an element with that key was there.
    fn insert<K: KeyOf>(&mut self, hasher: &Hasher, element: &[u8], hash: u64) -> bool {
        let key = K::key(element);
        if let Some(index) = self.find::<K>(key, hash) {
            let old_len = self.element(index).len();
            self.dead_bytes += varint_len(old_len) + old_len;
            let offset = self.append(element);
            self.slots[index] = slot_value(offset, hash);
            if self.dead_bytes > self.arena.len() / 2 {
                self.rebuild::<K>(hasher, 0);
            }
            return true;
        }
        if (self.live + self.tombstones + 1) * 10 > self.slots.len() * MAX_LOAD_TENTHS {
            self.rebuild::<K>(hasher, 1);
        }
        let offset = self.append(element);
        self.place(offset, hash);
        self.live += 1;
        false
    }

    /// Removes the element in slot `index` (from [`Chunk::find`]).
    fn remove_at<K: KeyOf>(&mut self, hasher: &Hasher, index: usize) {
        let len = self.element(index).len();
        self.dead_bytes += varint_len(len) + len;
        self.slots[index] = TOMBSTONE;
        self.live -= 1;
        self.tombstones += 1;
        // Keep the index at least 40% live and the arena at least half
        // live, so memory and probe lengths follow the element count down.
        if self.tombstones * 10 > self.slots.len() * 5 || self.dead_bytes > self.arena.len() / 2 {
            self.rebuild::<K>(hasher, 0);
        }
    }
}

/// A chunk-granular copy-on-write hash table. See the module docs.
pub(crate) struct Chunked<K: KeyOf> {
    hasher: Hasher,
    chunks: Vec<Arc<Chunk>>,
    level: u32,
    split: usize,
    len: usize,
    /// Heap bytes of all chunks, kept up to date so accounting is O(1).
    bytes: usize,
    key: PhantomData<fn() -> K>,
}

impl<K: KeyOf> Clone for Chunked<K> {
    fn clone(&self) -> Self {
        Chunked {
            hasher: self.hasher.clone(),
            chunks: self.chunks.clone(),
            level: self.level,
            split: self.split,
            len: self.len,
            bytes: self.bytes,
            key: PhantomData,
        }
    }
}

impl<K: KeyOf> std::fmt::Debug for Chunked<K> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Chunked")
            .field("len", &self.len)
            .field("chunks", &self.chunks.len())
            .finish()
    }
}

impl<K: KeyOf> Chunked<K> {
    pub(crate) fn new() -> Chunked<K> {
        Chunked {
            hasher: Hasher::default(),
            chunks: vec![Arc::new(Chunk::default())],
            level: 0,
            split: 0,
            len: 0,
            bytes: 0,
            key: PhantomData,
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    fn hash(&self, key: &[u8]) -> u64 {
        self.hasher.hash_one(key)
    }

    /// The chunk holding position `pos`, and its depth.
    fn address(&self, pos: u64) -> (usize, u32) {
        let reversed = pos.reverse_bits();
        let low = reversed & ((1u64 << self.level) - 1);
        if (low as usize) < self.split {
            let deeper = self.level + 1;
            ((reversed & ((1u64 << deeper) - 1)) as usize, deeper)
        } else {
            (low as usize, self.level)
        }
    }

    /// Estimated heap bytes: arenas, indexes, chunk handles.
    pub(crate) fn memory_bytes(&self) -> usize {
        self.bytes + self.chunks.capacity() * std::mem::size_of::<Arc<Chunk>>()
    }

    /// `MEMORY USAGE`'s estimate of [`Chunked::memory_bytes`] from the
    /// first `samples` elements, in the spirit of Redis's
    /// `objectComputeSize`: the structure (indexes, spare arena room, dead
    /// bytes, chunk handles) is counted exactly, and the live elements'
    /// arena bytes as the sampled elements' average times the element
    /// count. Sampling every element gives `memory_bytes` exactly. Costs
    /// O(chunks + samples).
    pub(crate) fn sampled_memory_bytes(&self, samples: usize) -> usize {
        if samples >= self.len {
            return self.memory_bytes();
        }
        let live: usize = self
            .chunks
            .iter()
            .map(|chunk| chunk.arena.len() - chunk.dead_bytes)
            .sum();
        let structure = self.memory_bytes() - live;
        let (sampled, bytes) = self
            .iter()
            .take(samples)
            .fold((0usize, 0usize), |(n, total), element| {
                (n + 1, total + varint_len(element.len()) + element.len())
            });
        if sampled == 0 {
            return structure;
        }
        let estimate = bytes as f64 / sampled as f64 * self.len as f64;
        structure + estimate as usize
    }

    /// The element with `key`.
    pub(crate) fn get(&self, key: &[u8]) -> Option<&[u8]> {
        let hash = self.hash(key);
        let chunk = &self.chunks[self.address(position(hash)).0];
        chunk.find::<K>(key, hash).map(|index| chunk.element(index))
    }

    /// Runs `change` on chunk `index` (copied first if a frozen view shares
    /// it), keeping the byte count in step.
    fn change_chunk<R>(
        &mut self,
        index: usize,
        change: impl FnOnce(&mut Chunk, &Hasher) -> R,
    ) -> R {
        let chunk = Arc::make_mut(&mut self.chunks[index]);
        let before = chunk.heap_bytes();
        let result = change(chunk, &self.hasher);
        self.bytes = self.bytes + chunk.heap_bytes() - before;
        result
    }

    /// Inserts `element`, replacing the one with its key; true when one was
    /// replaced.
    pub(crate) fn insert(&mut self, element: &[u8]) -> bool {
        let hash = self.hash(K::key(element));
        let (index, _) = self.address(position(hash));
        let replaced = self.change_chunk(index, |chunk, hasher| {
            chunk.insert::<K>(hasher, element, hash)
        });
        if !replaced {
            self.len += 1;
            if self.len > self.chunks.len() * CHUNK_TARGET {
                self.split_one();
            }
        }
        replaced
    }

    /// Removes the element with `key`; true when it was there.
    pub(crate) fn remove(&mut self, key: &[u8]) -> bool {
        self.remove_with(key, |_| ()).is_some()
    }

    /// Removes the element with `key`, handing it to `read` first (a
    /// sorted set reads the score it drops); `None` when it was not there.
    /// One hash and one probe: the slot found in the shared chunk is the
    /// same in the copy a snapshot may force.
    pub(crate) fn remove_with<R>(
        &mut self,
        key: &[u8],
        read: impl FnOnce(&[u8]) -> R,
    ) -> Option<R> {
        let hash = self.hash(key);
        let (index, _) = self.address(position(hash));
        // Look first: a miss must not copy a chunk shared with a snapshot.
        let chunk = &self.chunks[index];
        let slot = chunk.find::<K>(key, hash)?;
        let result = read(chunk.element(slot));
        self.change_chunk(index, |chunk, hasher| chunk.remove_at::<K>(hasher, slot));
        self.len -= 1;
        Some(result)
    }

    /// Splits the next chunk of the round: its elements whose next address
    /// bit is set move to a new chunk at the end; both are built compact.
    fn split_one(&mut self) {
        let upper_bit = 1u64 << self.level;
        let old = Arc::clone(&self.chunks[self.split]);
        let before = old.heap_bytes();
        let mut lower: Vec<Hashed<'_>> = Vec::new();
        let mut upper: Vec<Hashed<'_>> = Vec::new();
        for element in old.iter() {
            let hash = self.hash(K::key(element));
            if position(hash).reverse_bits() & upper_bit != 0 {
                upper.push((hash, element));
            } else {
                lower.push((hash, element));
            }
        }
        let lower = Chunk::build(&lower);
        let upper = Chunk::build(&upper);
        self.bytes = self.bytes + lower.heap_bytes() + upper.heap_bytes() - before;
        self.chunks[self.split] = Arc::new(lower);
        self.chunks.push(Arc::new(upper));
        self.split += 1;
        if self.split == 1usize << self.level {
            self.level += 1;
            self.split = 0;
        }
    }

    /// Every element, in no particular order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &[u8]> {
        self.chunks.iter().flat_map(|c| c.iter())
    }

    /// The element at `index` in iteration order (`index < len`): O(chunks)
    /// to find the chunk, then at most one chunk's slots.
    pub(crate) fn nth(&self, mut index: usize) -> Option<&[u8]> {
        for chunk in &self.chunks {
            if index < chunk.live {
                return chunk.iter().nth(index);
            }
            index -= chunk.live;
        }
        None
    }

    /// Draws uniformly random elements in O(log chunks) each.
    pub(crate) fn sampler(&self) -> Sampler<'_, K> {
        let mut ends = Vec::with_capacity(self.chunks.len());
        let mut total = 0;
        for chunk in &self.chunks {
            total += chunk.live;
            ends.push(total);
        }
        Sampler { table: self, ends }
    }

    /// A `HSCAN`/`SSCAN` step: the elements of the chunk covering `cursor`
    /// whose position is at least `cursor`, in position order, continuing
    /// over following chunks until about `count` were collected. Returns the
    /// next cursor (0 when the whole position space was covered).
    pub(crate) fn scan<'a>(&'a self, cursor: u64, count: usize, out: &mut Vec<&'a [u8]>) -> u64 {
        let want = count.max(1);
        let mut from = cursor;
        loop {
            let (index, depth) = self.address(from);
            let end = if depth == 0 {
                None
            } else {
                let span = 1u64 << (64 - depth);
                (from & !(span - 1)).checked_add(span)
            };
            let mut tail: Vec<(u64, &[u8])> = self.chunks[index]
                .iter()
                .map(|e| (position(self.hash(K::key(e))), e))
                .filter(|(pos, _)| *pos >= from)
                .collect();
            tail.sort_unstable_by_key(|(pos, _)| *pos);
            let mut taken = 0;
            while taken < tail.len() {
                if out.len() >= want {
                    return tail[taken].0;
                }
                // Elements of equal position (a full hash collision) go
                // together, so the cursor never lands between them.
                let pos = tail[taken].0;
                while taken < tail.len() && tail[taken].0 == pos {
                    out.push(tail[taken].1);
                    taken += 1;
                }
            }
            match end {
                None => return 0,
                Some(end) if out.len() >= want => return end,
                Some(end) => from = end,
            }
        }
    }

    /// A read-only view of the current contents that later writes do not
    /// change (they copy the chunks they touch instead). O(chunks).
    pub(crate) fn freeze(&self) -> Frozen {
        Frozen {
            chunks: self.chunks.clone(),
            len: self.len,
            bytes: self.bytes,
        }
    }
}

/// Uniform random picks from a [`Chunked`] table (see [`Chunked::sampler`]).
pub(crate) struct Sampler<'a, K: KeyOf> {
    table: &'a Chunked<K>,
    /// Cumulative element counts per chunk.
    ends: Vec<usize>,
}

impl<'a, K: KeyOf> Sampler<'a, K> {
    /// A uniformly random element (`None` only for an empty table): a chunk
    /// chosen with probability proportional to its size, then a random
    /// occupied slot of it.
    pub(crate) fn pick(&self, mut seed: u64) -> Option<&'a [u8]> {
        let len = self.table.len;
        if len == 0 {
            return None;
        }
        let target = (seed % len as u64) as usize;
        let chunk_index = self.ends.partition_point(|&end| end <= target);
        let chunk = &self.table.chunks[chunk_index];
        for _ in 0..SAMPLE_PROBES {
            seed = seed.rotate_left(23).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0xD1B5_4A32_D192_ED03;
            let index = (seed >> 16) as usize % chunk.slots.len();
            let slot = chunk.slots[index];
            if slot != EMPTY && slot != TOMBSTONE {
                return Some(chunk.element(index));
            }
        }
        let start = self.ends[chunk_index] - chunk.live;
        chunk.iter().nth(target - start)
    }
}

/// A frozen view of a [`Chunked`] table (see [`Chunked::freeze`]).
#[derive(Clone)]
pub(crate) struct Frozen {
    chunks: Vec<Arc<Chunk>>,
    len: usize,
    bytes: usize,
}

impl Frozen {
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Heap bytes of the chunks when the view was taken.
    pub(crate) fn bytes(&self) -> usize {
        self.bytes
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = &[u8]> {
        self.chunks.iter().flat_map(|c| c.iter())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Whole;

    impl KeyOf for Whole {
        fn key(element: &[u8]) -> &[u8] {
            element
        }
    }

    fn item(i: usize) -> Vec<u8> {
        format!("m{i}").into_bytes()
    }

    #[test]
    fn grows_by_splitting_one_chunk_at_a_time_and_shrinks_on_removal() {
        let mut table = Chunked::<Whole>::new();
        let n = CHUNK_TARGET * 20 + 7;
        for i in 0..n {
            assert!(!table.insert(&item(i)));
        }
        assert_eq!(table.len(), n);
        assert!(table.chunks.len() >= 20);
        assert!(table.chunks.iter().all(|c| c.live <= 4 * CHUNK_TARGET));
        for i in 0..n {
            assert_eq!(table.get(&item(i)), Some(&item(i)[..]));
        }
        assert!(table.insert(&item(3)));
        assert_eq!(table.len(), n);
        let full = table.memory_bytes();
        for i in (0..n).filter(|i| i % 8 != 0) {
            assert!(table.remove(&item(i)));
        }
        assert!(!table.remove(&item(1)));
        assert_eq!(table.len(), n.div_ceil(8));
        assert_eq!(table.iter().count(), n.div_ceil(8));
        assert!(
            table.memory_bytes() < full / 3,
            "compacted as elements went"
        );
        for i in (0..n).step_by(8) {
            assert!(table.get(&item(i)).is_some());
        }
    }

    #[test]
    fn scan_returns_every_element_once_in_position_order() {
        let mut table = Chunked::<Whole>::new();
        for i in 0..5000 {
            table.insert(&item(i));
        }
        let mut seen = std::collections::HashSet::new();
        let mut cursor = 0;
        loop {
            let mut out = Vec::new();
            cursor = table.scan(cursor, 100, &mut out);
            for e in out {
                assert!(seen.insert(e.to_vec()), "returned twice");
            }
            // Growth between calls must not lose anything present throughout.
            if seen.len() > 2000 && table.len() < 9000 {
                for i in 5000..9000 {
                    table.insert(&item(i));
                }
            }
            if cursor == 0 {
                break;
            }
        }
        for i in 0..5000 {
            assert!(seen.contains(&item(i)), "m{i} missed");
        }
    }

    /// A table of `m0` .. `m{n-1}` and a frozen view of it.
    fn frozen_table(n: usize) -> (Chunked<Whole>, Frozen) {
        let mut table = Chunked::<Whole>::new();
        for i in 0..n {
            table.insert(&item(i));
        }
        let frozen = table.freeze();
        (table, frozen)
    }

    /// How many of `table`'s chunks are no longer shared with `frozen`.
    fn chunks_copied(table: &Chunked<Whole>, frozen: &Frozen) -> usize {
        table
            .chunks
            .iter()
            .zip(&frozen.chunks)
            .filter(|(a, b)| !Arc::ptr_eq(a, b))
            .count()
    }

    #[test]
    fn frozen_views_do_not_see_later_writes_and_writes_copy_one_chunk() {
        let (mut table, frozen) = frozen_table(4000);
        table.remove(b"m1");
        table.insert(b"m99999");
        assert_eq!(frozen.len(), 4000);
        let keys: std::collections::HashSet<Vec<u8>> = frozen.iter().map(<[u8]>::to_vec).collect();
        assert!(keys.contains(&b"m1"[..]) && !keys.contains(&b"m99999"[..]));
        // A chunk a split added since the freeze counts as not shared.
        let added = table.chunks.len() - frozen.chunks.len();
        assert!(
            chunks_copied(&table, &frozen) + added <= 2,
            "only the touched chunks were copied"
        );
    }

    #[test]
    fn remove_with_hands_over_the_element_and_a_miss_copies_nothing() {
        let (mut table, frozen) = frozen_table(4000);
        assert_eq!(table.remove_with(b"m99999", <[u8]>::to_vec), None);
        assert_eq!(chunks_copied(&table, &frozen), 0, "a miss copied a chunk");
        assert_eq!(
            table.remove_with(b"m17", <[u8]>::to_vec),
            Some(b"m17".to_vec())
        );
        assert_eq!(
            chunks_copied(&table, &frozen),
            1,
            "a hit copies its chunk alone"
        );
        assert_eq!((table.len(), frozen.len()), (3999, 4000));
        assert_eq!(table.get(b"m17"), None);
        assert_eq!(table.remove_with(b"m17", |_| ()), None);
        // Removing everything this way compacts as `remove` does.
        for i in 0..4000 {
            let expected = (i != 17).then(|| item(i).len());
            assert_eq!(table.remove_with(&item(i), <[u8]>::len), expected);
        }
        assert_eq!((table.len(), table.iter().count()), (0, 0));
    }

    #[test]
    fn random_picks_every_element() {
        let mut table = Chunked::<Whole>::new();
        for i in 0..50 {
            table.insert(&item(i));
        }
        let mut seen = std::collections::HashSet::new();
        let sampler = table.sampler();
        for seed in 0..5000u64 {
            let pick = sampler
                .pick(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15))
                .unwrap();
            seen.insert(pick.to_vec());
        }
        assert_eq!(seen.len(), 50);
    }

    #[test]
    fn sampled_memory_extrapolates_the_elements_and_is_exact_with_every_sample() {
        let mut table = Chunked::<Whole>::new();
        for i in 0..5000 {
            table.insert(&item(i));
        }
        assert_eq!(table.sampled_memory_bytes(5000), table.memory_bytes());
        assert_eq!(table.sampled_memory_bytes(usize::MAX), table.memory_bytes());
        // Elements of about equal size: five samples land close.
        let estimate = table.sampled_memory_bytes(5) as f64;
        let exact = table.memory_bytes() as f64;
        assert!(
            (estimate / exact - 1.0).abs() < 0.05,
            "{estimate} vs {exact}"
        );
        // No sample: the structure alone.
        assert!(table.sampled_memory_bytes(0) < table.memory_bytes());
    }

    #[test]
    fn replacing_values_keeps_the_arena_bounded() {
        let mut table = Chunked::<Whole>::new();
        table.insert(b"x");
        for _ in 0..10_000 {
            assert!(table.insert(b"x"));
        }
        assert_eq!(table.len(), 1);
        assert!(table.memory_bytes() < 1024);
    }
}
