//! One database's key table: an extendible hash table of bounded segments.
//!
//! # Layout
//!
//! Every key has a 64-bit hash (foldhash, seeded at random once per
//! [`Store`](crate::Store)) and, derived from it, a **position**
//! `hash.rotate_left(7)`. Positions order the keyspace: a directory of
//! `2^global_depth` slots maps the top `global_depth` bits of a position to a
//! segment, and each segment owns one aligned position range of size
//! `2^(64 - local_depth)`. A segment is a `hashbrown::HashTable` of packed
//! [`Entry`] blocks holding at most [`SEGMENT_MAX_ENTRIES`] keys.
//!
//! The rotation matters: hashbrown picks buckets with the low bits of the hash
//! and its control bytes with the top seven. Taking the directory bits from
//! the top of the *position* (hash bits 56 downwards) keeps them disjoint from
//! both, so the keys of one segment still spread over all of its buckets.
//!
//! # Growth without long pauses
//!
//! A full segment splits in two on the next insert: the keys whose next
//! position bit is set move to a new segment (at most `SEGMENT_MAX_ENTRIES`
//! moves), and the directory doubles when the splitting segment was already
//! as deep as it (a copy of `2^global_depth` small integers, 2048 for a
//! million keys). No operation ever rehashes the whole table, which is
//! what keeps the writer's worst case small and lets snapshots work per
//! segment (see [`crate::snapshot`]).
//!
//! Segments only ever split, never merge, so a position that was a segment
//! boundary once stays a boundary: SCAN cursors and the snapshot walk are both
//! positions, and neither can skip a key when segments split under them.
//!
//! # Slots
//!
//! [`Slot`] names where a key was found (segment and bucket), so callers can
//! look a key up once, inspect it, then update or remove it without hashing
//! again. A slot is valid until the next mutation of the table.

use hashbrown::HashTable;
use std::hash::BuildHasher;

use crate::entry::Entry;
use crate::snapshot::CopyOnWrite;

/// The seeded hasher shared by every table of one store.
pub(crate) type KeyHasher = foldhash::fast::RandomState;

/// Keys per segment before it splits: 7/8 of 1024 buckets, hashbrown's
/// maximum load for that size, so a full segment never needs to rehash.
/// The size bounds the longest writer step: a split moves at most half of
/// it, and a snapshot's copy-on-write copies one segment (about 50 µs for
/// 896 small entries; 3584-entry segments measured four times that). The
/// memory per key does not depend on it.
pub(crate) const SEGMENT_MAX_ENTRIES: usize = 896;

/// Deepest split allowed. Beyond this many shared position bits a segment
/// just grows (it would take colliding hashes, not a real workload); keeping
/// it at 40 leaves position bits disjoint from hashbrown's bucket bits.
const MAX_LOCAL_DEPTH: u32 = 40;

/// Directory slots allowed per segment before a split that would double
/// the directory is refused. With well-spread hashes the directory holds
/// about two slots per segment.
const MAX_DIRECTORY_SLOTS_PER_SEGMENT: usize = 64;

/// The bytes of table bookkeeping per bucket: an 8-byte entry pointer plus
/// hashbrown's one control byte.
pub(crate) const BYTES_PER_BUCKET: usize = std::mem::size_of::<Entry>() + 1;

/// The position of a hash in the ordered keyspace (see module docs).
pub(crate) fn position(hash: u64) -> u64 {
    hash.rotate_left(7)
}

/// The top `depth` bits of `pos`.
fn prefix(pos: u64, depth: u32) -> usize {
    if depth == 0 {
        0
    } else {
        (pos >> (64 - depth)) as usize
    }
}

/// One bounded hash table covering an aligned range of positions.
#[derive(Debug)]
pub(crate) struct Segment {
    pub(crate) entries: HashTable<Entry>,
    pub(crate) depth: u32,
    /// The snapshot version this segment's contents were last handed to (see
    /// [`crate::snapshot`]); 0 when no snapshot has ever seen it.
    pub(crate) version: u64,
}

/// Where a key lives in the table; valid until the next mutation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Slot {
    segment: u32,
    bucket: usize,
}

/// A database's keys. See the module docs.
#[derive(Debug)]
pub(crate) struct Table {
    hasher: KeyHasher,
    directory: Vec<u32>,
    global_depth: u32,
    pub(crate) segments: Vec<Segment>,
    len: usize,
    entry_bytes: usize,
    /// Identity that survives `SWAPDB`, so a snapshot can follow the table.
    pub(crate) id: u64,
    /// Present while a snapshot still needs this table's old contents.
    pub(crate) cow: Option<CopyOnWrite>,
    /// Id of the last snapshot that attached itself to this table (0:
    /// none), so a table is attached to each snapshot at most once.
    pub(crate) snapshot_seen: u64,
}

impl Table {
    pub(crate) fn new(hasher: KeyHasher, id: u64) -> Table {
        Table {
            hasher,
            directory: vec![0],
            global_depth: 0,
            segments: vec![Segment {
                entries: HashTable::new(),
                depth: 0,
                version: 0,
            }],
            len: 0,
            entry_bytes: 0,
            id,
            cow: None,
            snapshot_seen: 0,
        }
    }

    pub(crate) fn hash(&self, key: &[u8]) -> u64 {
        self.hasher.hash_one(key)
    }

    /// Number of keys.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Estimated heap bytes: entry blocks, bucket arrays, directory.
    pub(crate) fn memory_bytes(&self) -> usize {
        let buckets: usize = self.segments.iter().map(|s| s.entries.num_buckets()).sum();
        self.entry_bytes
            + buckets * BYTES_PER_BUCKET
            + self.segments.capacity() * std::mem::size_of::<Segment>()
            + self.directory.capacity() * std::mem::size_of::<u32>()
    }

    /// Bytes of table bookkeeping alone: [`Table::memory_bytes`] without
    /// the entry blocks (what Redis's `MEMORY STATS` calls a database's
    /// `overhead.hashtable.main`).
    pub(crate) fn overhead_bytes(&self) -> usize {
        self.memory_bytes() - self.entry_bytes
    }

    pub(crate) fn segment_index_for(&self, pos: u64) -> usize {
        self.directory[prefix(pos, self.global_depth)] as usize
    }

    /// The half-open position range `[start, end)` of a segment; `None` as
    /// the end means "to the end of the position space".
    pub(crate) fn segment_range(&self, index: usize, any_pos_inside: u64) -> (u64, Option<u64>) {
        let depth = self.segments[index].depth;
        if depth == 0 {
            return (0, None);
        }
        let start = (prefix(any_pos_inside, depth) as u64) << (64 - depth);
        (start, start.checked_add(1u64 << (64 - depth)))
    }

    /// Finds a key.
    pub(crate) fn locate(&self, key: &[u8]) -> Option<Slot> {
        let hash = self.hash(key);
        let segment = self.segment_index_for(position(hash));
        let bucket = self.segments[segment]
            .entries
            .find_bucket_index(hash, |e| e.key() == key)?;
        Some(Slot {
            segment: segment as u32,
            bucket,
        })
    }

    /// Finds the key whose hash is `hash` and whose deadline is `deadline`
    /// (what the expiry heap records). Should two keys share the full
    /// 64-bit hash and the deadline, either may be returned.
    pub(crate) fn locate_deadline(&self, hash: u64, deadline: u64) -> Option<Slot> {
        let segment = self.segment_index_for(position(hash));
        let bucket = self.segments[segment]
            .entries
            .find_bucket_index(hash, |e| {
                e.expire_at() == Some(deadline) && self.hash(e.key()) == hash
            })?;
        Some(Slot {
            segment: segment as u32,
            bucket,
        })
    }

    /// The entry at a slot returned by [`Table::locate`].
    pub(crate) fn entry_at(&self, slot: Slot) -> &Entry {
        self.segments[slot.segment as usize]
            .entries
            .get_bucket(slot.bucket)
            .expect("slot used before any mutation of the table")
    }

    /// Stamps the access clock of the entry at `slot`, in place and
    /// without the snapshot's copy-on-write hook: the caller makes sure no
    /// snapshot is in progress (Redis likewise skips the update while a
    /// child process holds a point-in-time view, or every read would copy
    /// pages; here it would copy a whole segment). The clock is metadata
    /// the snapshot does not need, so nothing is lost.
    pub(crate) fn stamp_lru(&mut self, slot: Slot, clock: u32) {
        self.segments[slot.segment as usize]
            .entries
            .get_bucket_mut(slot.bucket)
            .expect("slot used before any mutation of the table")
            .set_lru(clock);
    }

    /// Looks a key up without going through a slot.
    pub(crate) fn get(&self, key: &[u8]) -> Option<&Entry> {
        self.locate(key).map(|slot| self.entry_at(slot))
    }

    /// Changes the entry at `slot` in place (value or deadline); the key must
    /// stay the same.
    pub(crate) fn update_at<R>(&mut self, slot: Slot, change: impl FnOnce(&mut Entry) -> R) -> R {
        self.prepare_write(slot.segment as usize);
        let entry = self.segments[slot.segment as usize]
            .entries
            .get_bucket_mut(slot.bucket)
            .expect("slot used before any mutation of the table");
        let before = entry.allocated_bytes();
        let result = change(entry);
        let after = entry.allocated_bytes();
        self.entry_bytes = self.entry_bytes + after - before;
        result
    }

    /// Removes the entry at `slot`.
    pub(crate) fn remove_at(&mut self, slot: Slot) -> Entry {
        self.prepare_write(slot.segment as usize);
        let (entry, _) = self.segments[slot.segment as usize]
            .entries
            .get_bucket_entry(slot.bucket)
            .expect("slot used before any mutation of the table")
            .remove();
        self.len -= 1;
        self.entry_bytes -= entry.allocated_bytes();
        entry
    }

    /// Removes a key.
    #[cfg(test)]
    pub(crate) fn remove(&mut self, key: &[u8]) -> Option<Entry> {
        let slot = self.locate(key)?;
        Some(self.remove_at(slot))
    }

    /// Inserts an entry, replacing (and returning) any entry with its key.
    pub(crate) fn insert(&mut self, entry: Entry) -> Option<Entry> {
        if let Some(slot) = self.locate(entry.key()) {
            self.prepare_write(slot.segment as usize);
            let old = self.update_at(slot, |current| std::mem::replace(current, entry));
            return Some(old);
        }
        self.insert_absent(entry);
        None
    }

    /// Inserts an entry whose key the caller just failed to
    /// [`locate`](Table::locate), saving the second probe.
    pub(crate) fn insert_absent(&mut self, entry: Entry) {
        let hash = self.hash(entry.key());
        let pos = position(hash);
        let mut segment = self.segment_index_for(pos);
        self.prepare_write(segment);
        if self.segments[segment].entries.len() >= SEGMENT_MAX_ENTRIES && self.can_split(segment) {
            self.split(segment, pos);
            segment = self.segment_index_for(pos);
        }
        self.len += 1;
        self.entry_bytes += entry.allocated_bytes();
        let hasher = &self.hasher;
        self.segments[segment]
            .entries
            .insert_unique(hash, entry, |e| hasher.hash_one(e.key()));
    }

    /// Whether a full segment may split. A segment as deep as the directory
    /// needs the directory to double, which is refused when the directory
    /// would outgrow the segments by more than
    /// [`MAX_DIRECTORY_SLOTS_PER_SEGMENT`]: only keys crowding one narrow
    /// range of positions (hash collisions) get there, and then the segment
    /// just grows instead of the directory exploding.
    fn can_split(&self, segment: usize) -> bool {
        let depth = self.segments[segment].depth;
        depth < MAX_LOCAL_DEPTH
            && (depth < self.global_depth
                || self.directory.len() < MAX_DIRECTORY_SLOTS_PER_SEGMENT * self.segments.len())
    }

    /// Splits a full segment in two (bounded work, see module docs).
    fn split(&mut self, index: usize, any_pos_inside: u64) {
        let depth = self.segments[index].depth;
        if depth == self.global_depth {
            let doubled: Vec<u32> = self.directory.iter().flat_map(|&s| [s, s]).collect();
            self.directory = doubled;
            self.global_depth += 1;
        }
        let upper_half_bit = 1u64 << (63 - depth);
        let hasher = &self.hasher;
        let moved: Vec<Entry> = self.segments[index]
            .entries
            .extract_if(|e| position(hasher.hash_one(e.key())) & upper_half_bit != 0)
            .collect();
        let mut upper = HashTable::with_capacity(moved.len());
        for entry in moved {
            upper.insert_unique(hasher.hash_one(entry.key()), entry, |e| {
                hasher.hash_one(e.key())
            });
        }
        let version = self.segments[index].version;
        self.segments[index].depth = depth + 1;
        let new_index =
            u32::try_from(self.segments.len()).expect("segment count stays far below u32::MAX");
        self.segments.push(Segment {
            entries: upper,
            depth: depth + 1,
            version,
        });
        // The old segment's directory slots form one aligned run; its upper
        // half now belongs to the new segment.
        let span = 1usize << (self.global_depth - depth);
        let first = prefix(any_pos_inside, depth) << (self.global_depth - depth);
        for slot in &mut self.directory[first + span / 2..first + span] {
            *slot = new_index;
        }
    }

    /// Runs the snapshot's copy-on-write hook before a segment changes.
    fn prepare_write(&mut self, segment: usize) {
        if let Some(cow) = &mut self.cow {
            cow.before_write(&mut self.segments[segment]);
        }
    }

    /// Every entry, in no particular order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &Entry> {
        self.segments.iter().flat_map(|s| s.entries.iter())
    }

    /// The entries of the segment covering `from` whose position is at least
    /// `from`, sorted by position, and the end of that segment's range.
    pub(crate) fn segment_tail(&self, from: u64) -> (Vec<(u64, &Entry)>, Option<u64>) {
        let index = self.segment_index_for(from);
        let (_, end) = self.segment_range(index, from);
        let mut found: Vec<(u64, &Entry)> = self.segments[index]
            .entries
            .iter()
            .map(|e| (position(self.hash(e.key())), e))
            .filter(|(pos, _)| *pos >= from)
            .collect();
        found.sort_unstable_by_key(|(pos, _)| *pos);
        (found, end)
    }

    /// A key picked at random from `seed` (a random 64-bit number): a random
    /// directory slot, then a random occupied bucket of that segment. The
    /// work is bounded by one segment's bucket count.
    pub(crate) fn random_entry(&self, seed: u64) -> Option<&Entry> {
        if self.len == 0 {
            return None;
        }
        let mut seed = seed;
        // Segments are rarely empty, but may be after mass deletes; try the
        // directory in order from a random slot so an empty one costs little.
        let start = (seed as usize) % self.directory.len();
        for step in 0..self.directory.len() {
            let segment =
                &self.segments[self.directory[(start + step) % self.directory.len()] as usize];
            if segment.entries.is_empty() {
                continue;
            }
            seed = seed.rotate_left(17) ^ 0x9E37_79B9_7F4A_7C15;
            let buckets = segment.entries.num_buckets();
            let first = (seed as usize) % buckets;
            for offset in 0..buckets {
                if let Some(entry) = segment.entries.get_bucket((first + offset) % buckets) {
                    return Some(entry);
                }
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> Table {
        Table::new(KeyHasher::default(), 1)
    }

    #[test]
    fn inserts_replace_and_remove() {
        let mut t = table();
        assert!(t.insert(Entry::new_string(b"a", b"1", None)).is_none());
        let old = t
            .insert(Entry::new_string(b"a", b"2", None))
            .expect("replaced");
        assert_eq!(old.value(), b"1");
        assert_eq!(t.get(b"a").map(Entry::value), Some(&b"2"[..]));
        assert_eq!(t.len(), 1);
        assert_eq!(
            t.remove(b"a").map(|e| e.value().to_vec()),
            Some(b"2".to_vec())
        );
        assert_eq!(t.len(), 0);
        assert!(t.memory_bytes() > 0);
        assert_eq!(t.entry_bytes, 0);
    }

    #[test]
    fn splits_keep_every_key_reachable_and_segments_bounded() {
        let mut t = table();
        let n = SEGMENT_MAX_ENTRIES * 10;
        for i in 0..n {
            t.insert(Entry::new_string(format!("key:{i}").as_bytes(), b"v", None));
        }
        assert_eq!(t.len(), n);
        assert!(
            t.segments.len() >= 10,
            "split into {} segments",
            t.segments.len()
        );
        assert!(
            t.segments
                .iter()
                .all(|s| s.entries.len() <= SEGMENT_MAX_ENTRIES)
        );
        for i in 0..n {
            assert!(
                t.get(format!("key:{i}").as_bytes()).is_some(),
                "key:{i} lost"
            );
        }
        // Every entry sits in the segment whose range covers its position.
        for (index, segment) in t.segments.iter().enumerate() {
            for entry in segment.entries.iter() {
                let pos = position(t.hash(entry.key()));
                assert_eq!(t.segment_index_for(pos), index);
            }
        }
    }

    #[test]
    fn directory_stays_proportional_to_segments() {
        let mut t = table();
        for i in 0..SEGMENT_MAX_ENTRIES * 40 {
            t.insert(Entry::new_string(format!("d{i}").as_bytes(), b"", None));
        }
        assert!(t.directory.len() <= MAX_DIRECTORY_SLOTS_PER_SEGMENT * t.segments.len());
        assert!(
            t.directory.len() <= 8 * t.segments.len(),
            "{} slots for {} segments",
            t.directory.len(),
            t.segments.len()
        );
    }

    #[test]
    fn segment_tails_walk_the_whole_position_space_in_order() {
        let mut t = table();
        for i in 0..SEGMENT_MAX_ENTRIES * 3 {
            t.insert(Entry::new_string(format!("k{i}").as_bytes(), b"", None));
        }
        let mut seen = 0;
        let mut last = None;
        let mut from = 0u64;
        loop {
            let (tail, end) = t.segment_tail(from);
            for (pos, _) in &tail {
                assert!(last.is_none_or(|l| l < *pos));
                last = Some(*pos);
            }
            seen += tail.len();
            match end {
                Some(next) => from = next,
                None => break,
            }
        }
        assert_eq!(seen, t.len());
    }

    #[test]
    fn random_entry_finds_a_key() {
        let mut t = table();
        assert!(t.random_entry(42).is_none());
        t.insert(Entry::new_string(b"only", b"", None));
        for seed in 0..20 {
            assert_eq!(t.random_entry(seed).map(Entry::key), Some(&b"only"[..]));
        }
    }
}
