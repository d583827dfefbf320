//! [`Chunked`]: the big ("hashtable") encoding shared by hashes and sets: a
//! hash table split into bounded chunks, each behind an `Arc`, grown one
//! chunk at a time (linear hashing).
//!
//! # Why chunks
//!
//! * **Snapshots.** A point-in-time snapshot must not make a writer copy a
//!   whole million-element collection. [`Chunked::freeze`] clones the chunk
//!   handles (O(chunks) reference-count increments, about one per
//!   [`CHUNK_TARGET`] elements) into a [`Frozen`] view; a later write to a
//!   chunk still shared with a frozen view copies that chunk alone
//!   (`Arc::make_mut`: at most a couple of thousand elements, tens of µs).
//!   `COPY` shares chunks the same way.
//! * **Growth.** A single hash table doubles by rehashing everything; here
//!   the table grows by splitting one chunk (linear hashing), so no write
//!   moves more than one chunk's elements.
//!
//! # Addressing
//!
//! An element's *position* is its hash rotated left by 7 (as the keyspace's
//! tables do, keeping these bits disjoint from the bits hashbrown uses
//! inside a chunk). Linear hashing addresses chunks with the low bits of
//! the *bit-reversed* position, which are the position's top bits: with
//! `level` L and split pointer `s`, address `a = rev & (2^L - 1)`, and
//! chunks below `s` have already split, so they use `L + 1` bits. A chunk
//! at depth `d` therefore holds exactly the positions whose top `d` bits are
//! the reverse of its address: one contiguous range of positions, which is
//! what `HSCAN`/`SSCAN` cursors walk (see [`Chunked::scan`]), with the same
//! guarantee as `SCAN`: splitting only cuts a range in two.
//!
//! # Elements
//!
//! Each element is one [`ThinBytes`] block behind an 8-byte pointer (a
//! hash's field and value together, a set's member), so a bucket is 9 bytes
//! with hashbrown's control byte.

use std::hash::BuildHasher;
use std::sync::Arc;

use hashbrown::HashTable;

use crate::thin::ThinBytes;

/// Average elements per chunk before another chunk splits. The longest a
/// writer can be held up by a snapshot is one chunk copy; chunks not split
/// yet in the current round hold about twice this.
pub(crate) const CHUNK_TARGET: usize = 512;

/// Bytes of bucket per element slot: the thin pointer plus hashbrown's
/// control byte.
const BYTES_PER_BUCKET: usize = std::mem::size_of::<ThinBytes>() + 1;

/// What a [`Chunked`] table holds: a thin block whose lookup key is a
/// prefix of it.
pub(crate) trait Element: Clone {
    /// The lookup key (a hash's field, a set's member).
    fn key(&self) -> &[u8];
    /// The thin block itself.
    fn thin(&self) -> &ThinBytes;
}

/// Seeded per table (HashDoS).
type Hasher = foldhash::fast::RandomState;

fn position(hash: u64) -> u64 {
    hash.rotate_left(7)
}

/// A chunk-granular copy-on-write hash table. See the module docs.
#[derive(Clone)]
pub(crate) struct Chunked<T: Element> {
    hasher: Hasher,
    chunks: Vec<Arc<HashTable<T>>>,
    level: u32,
    split: usize,
    len: usize,
    /// Bytes of the element blocks.
    element_bytes: usize,
    /// Buckets of all chunks, kept up to date so memory accounting is O(1).
    buckets: usize,
}

impl<T: Element> std::fmt::Debug for Chunked<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Chunked")
            .field("len", &self.len)
            .field("chunks", &self.chunks.len())
            .finish()
    }
}

impl<T: Element> Default for Chunked<T> {
    fn default() -> Self {
        Chunked::new()
    }
}

impl<T: Element> Chunked<T> {
    pub(crate) fn new() -> Chunked<T> {
        Chunked {
            hasher: Hasher::default(),
            chunks: vec![Arc::new(HashTable::new())],
            level: 0,
            split: 0,
            len: 0,
            element_bytes: 0,
            buckets: 0,
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

    /// Estimated heap bytes: element blocks, buckets, chunk handles.
    pub(crate) fn memory_bytes(&self) -> usize {
        self.element_bytes
            + self.buckets * BYTES_PER_BUCKET
            + self.chunks.capacity() * std::mem::size_of::<Arc<HashTable<T>>>()
    }

    pub(crate) fn get(&self, key: &[u8]) -> Option<&T> {
        let hash = self.hash(key);
        let (chunk, _) = self.address(position(hash));
        self.chunks[chunk].find(hash, |e| e.key() == key)
    }

    /// Inserts `element`, replacing (and returning) the one with its key.
    pub(crate) fn insert(&mut self, element: T) -> Option<T> {
        let hash = self.hash(element.key());
        let (index, _) = self.address(position(hash));
        let hasher = &self.hasher;
        let added = element.thin().allocated_bytes();
        let chunk = Arc::make_mut(&mut self.chunks[index]);
        let buckets_before = chunk.num_buckets();
        let replaced = match chunk.find_mut(hash, |e| e.key() == element.key()) {
            Some(slot) => Some(std::mem::replace(slot, element)),
            None => {
                chunk.insert_unique(hash, element, |e| hasher.hash_one(e.key()));
                None
            }
        };
        self.buckets = self.buckets + chunk.num_buckets() - buckets_before;
        self.element_bytes += added;
        match &replaced {
            Some(old) => self.element_bytes -= old.thin().allocated_bytes(),
            None => {
                self.len += 1;
                if self.len > self.chunks.len() * CHUNK_TARGET {
                    self.split_one();
                }
            }
        }
        replaced
    }

    /// Removes the element with `key`.
    pub(crate) fn remove(&mut self, key: &[u8]) -> Option<T> {
        let hash = self.hash(key);
        let (index, _) = self.address(position(hash));
        // Look first: a miss must not copy a chunk shared with a snapshot.
        self.chunks[index].find(hash, |e| e.key() == key)?;
        let chunk = Arc::make_mut(&mut self.chunks[index]);
        let (removed, _) = chunk.find_entry(hash, |e| e.key() == key).ok()?.remove();
        self.len -= 1;
        self.element_bytes -= removed.thin().allocated_bytes();
        Some(removed)
    }

    /// Splits the next chunk of the round: its elements whose next address
    /// bit is set move to a new chunk at the end.
    fn split_one(&mut self) {
        let upper_bit = 1u64 << self.level;
        let hasher = &self.hasher;
        let chunk = Arc::make_mut(&mut self.chunks[self.split]);
        let buckets_before = chunk.num_buckets();
        let moved: Vec<T> = chunk
            .extract_if(|e| position(hasher.hash_one(e.key())).reverse_bits() & upper_bit != 0)
            .collect();
        chunk.shrink_to_fit(|e| hasher.hash_one(e.key()));
        let mut upper = HashTable::with_capacity(moved.len());
        for element in moved {
            upper.insert_unique(hasher.hash_one(element.key()), element, |e| {
                hasher.hash_one(e.key())
            });
        }
        self.buckets = self.buckets + chunk.num_buckets() + upper.num_buckets() - buckets_before;
        self.chunks.push(Arc::new(upper));
        self.split += 1;
        if self.split == 1usize << self.level {
            self.level += 1;
            self.split = 0;
        }
    }

    /// Every element, in no particular order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &T> {
        self.chunks.iter().flat_map(|c| c.iter())
    }

    /// The element at `index` in iteration order (`index < len`): O(chunks)
    /// to find the chunk, then at most one chunk's elements.
    pub(crate) fn nth(&self, mut index: usize) -> Option<&T> {
        for chunk in &self.chunks {
            if index < chunk.len() {
                return chunk.iter().nth(index);
            }
            index -= chunk.len();
        }
        None
    }

    /// Draws uniformly random elements in O(log chunks) each.
    pub(crate) fn sampler(&self) -> Sampler<'_, T> {
        let mut ends = Vec::with_capacity(self.chunks.len());
        let mut total = 0;
        for chunk in &self.chunks {
            total += chunk.len();
            ends.push(total);
        }
        Sampler { table: self, ends }
    }

    /// A `HSCAN`/`SSCAN` step: the elements of the chunk covering `cursor`
    /// whose position is at least `cursor`, in position order, continuing
    /// over following chunks until about `count` were collected. Returns the
    /// next cursor (0 when the whole position space was covered).
    pub(crate) fn scan<'a>(&'a self, cursor: u64, count: usize, out: &mut Vec<&'a T>) -> u64 {
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
            let mut tail: Vec<(u64, &T)> = self.chunks[index]
                .iter()
                .map(|e| (position(self.hash(e.key())), e))
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
    pub(crate) fn freeze(&self) -> Frozen<T> {
        Frozen {
            chunks: self.chunks.clone(),
            len: self.len,
            bytes: self.element_bytes,
        }
    }
}

/// Uniform random picks from a [`Chunked`] table (see [`Chunked::sampler`]).
pub(crate) struct Sampler<'a, T: Element> {
    table: &'a Chunked<T>,
    /// Cumulative element counts per chunk.
    ends: Vec<usize>,
}

/// Random buckets tried in a chunk before falling back to counting.
const SAMPLE_PROBES: usize = 16;

impl<'a, T: Element> Sampler<'a, T> {
    /// A uniformly random element (`None` only for an empty table): a chunk
    /// chosen with probability proportional to its size, then a random
    /// occupied bucket of it.
    pub(crate) fn pick(&self, mut seed: u64) -> Option<&'a T> {
        let len = self.table.len;
        if len == 0 {
            return None;
        }
        let target = (seed % len as u64) as usize;
        let chunk_index = self.ends.partition_point(|&end| end <= target);
        let chunk = &self.table.chunks[chunk_index];
        let buckets = chunk.num_buckets();
        for _ in 0..SAMPLE_PROBES {
            seed = seed.rotate_left(23).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0xD1B5_4A32_D192_ED03;
            if let Some(found) = chunk.get_bucket((seed >> 16) as usize % buckets) {
                return Some(found);
            }
        }
        let start = self.ends[chunk_index] - chunk.len();
        chunk.iter().nth(target - start)
    }
}

/// A frozen view of a [`Chunked`] table (see [`Chunked::freeze`]).
#[derive(Clone)]
pub(crate) struct Frozen<T: Element> {
    chunks: Vec<Arc<HashTable<T>>>,
    len: usize,
    bytes: usize,
}

impl<T: Element> Frozen<T> {
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Bytes of the element blocks when the view was taken.
    pub(crate) fn bytes(&self) -> usize {
        self.bytes
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = &T> {
        self.chunks.iter().flat_map(|c| c.iter())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone, Debug)]
    struct Item(ThinBytes);

    impl Element for Item {
        fn key(&self) -> &[u8] {
            self.0.bytes()
        }
        fn thin(&self) -> &ThinBytes {
            &self.0
        }
    }

    fn item(i: usize) -> Item {
        Item(ThinBytes::new(&[format!("m{i}").as_bytes()]))
    }

    #[test]
    fn grows_by_splitting_one_chunk_at_a_time() {
        let mut table = Chunked::new();
        let n = CHUNK_TARGET * 20 + 7;
        for i in 0..n {
            assert!(table.insert(item(i)).is_none());
        }
        assert_eq!(table.len(), n);
        assert!(table.chunks.len() >= 20);
        assert!(table.chunks.iter().all(|c| c.len() <= 4 * CHUNK_TARGET));
        for i in 0..n {
            assert!(table.get(format!("m{i}").as_bytes()).is_some());
        }
        assert!(table.insert(item(3)).is_some());
        assert_eq!(table.len(), n);
        for i in (0..n).step_by(2) {
            assert!(table.remove(format!("m{i}").as_bytes()).is_some());
        }
        assert!(table.remove(b"m0").is_none());
        assert_eq!(table.len(), n / 2);
        assert_eq!(table.iter().count(), n / 2);
    }

    #[test]
    fn scan_returns_every_element_once_in_position_order() {
        let mut table = Chunked::new();
        for i in 0..5000 {
            table.insert(item(i));
        }
        let mut seen = std::collections::HashSet::new();
        let mut cursor = 0;
        loop {
            let mut out = Vec::new();
            cursor = table.scan(cursor, 100, &mut out);
            for e in out {
                assert!(seen.insert(e.key().to_vec()), "returned twice");
            }
            // Growth between calls must not lose anything present throughout.
            if seen.len() > 2000 && table.len() < 9000 {
                for i in 5000..9000 {
                    table.insert(item(i));
                }
            }
            if cursor == 0 {
                break;
            }
        }
        for i in 0..5000 {
            assert!(seen.contains(format!("m{i}").as_bytes()), "m{i} missed");
        }
    }

    #[test]
    fn frozen_views_do_not_see_later_writes_and_writes_copy_one_chunk() {
        let mut table = Chunked::new();
        for i in 0..4000 {
            table.insert(item(i));
        }
        let frozen = table.freeze();
        table.remove(b"m1");
        table.insert(item(99_999));
        assert_eq!(frozen.len(), 4000);
        let keys: std::collections::HashSet<Vec<u8>> =
            frozen.iter().map(|e| e.key().to_vec()).collect();
        assert!(keys.contains(&b"m1"[..]) && !keys.contains(&b"m99999"[..]));
        let shared = table
            .chunks
            .iter()
            .zip(&frozen.chunks)
            .filter(|(a, b)| Arc::ptr_eq(a, b))
            .count();
        assert!(
            shared >= table.chunks.len() - 2,
            "only the touched chunks were copied"
        );
    }

    #[test]
    fn random_picks_every_element() {
        let mut table = Chunked::new();
        for i in 0..50 {
            table.insert(item(i));
        }
        let mut seen = std::collections::HashSet::new();
        let sampler = table.sampler();
        for seed in 0..5000u64 {
            let pick = sampler
                .pick(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15))
                .unwrap();
            seen.insert(pick.key().to_vec());
        }
        assert_eq!(seen.len(), 50);
    }
}
