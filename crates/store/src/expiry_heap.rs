//! A min-heap of `(deadline, key hash)` that tells which key expires next.
//!
//! Entries are two integers, 16 bytes, with no copy of the key: the owner
//! finds the key again through its hash (the table is indexed by it), so
//! giving a key a TTL allocates nothing. If two keys ever share the full
//! 64-bit hash *and* the deadline, popping that entry may expire either one
//! first; both are due at that instant, so that is still correct.
//!
//! The heap is never updated in place: changing or removing a key's TTL just
//! leaves its old entry behind. Such *stale* entries are recognised when they
//! reach the top (the caller finds no key with that hash and deadline)
//! and dropped in O(log n). So that they cannot pile up while never reaching
//! the top (keys given long TTLs, then deleted), the owner reports how many
//! deadlines are live and the heap compacts itself once stale entries
//! outnumber live ones (and there are at least [`COMPACT_MIN_LEN`]). A
//! compaction is linear in the heap, but it only happens after at least as
//! many stale entries accumulated, so it is amortised O(1) per TTL change.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// Below this many entries a heap is never compacted: the scan would cost
/// more than the few stale entries it frees.
pub const COMPACT_MIN_LEN: usize = 64;

/// Min-heap of expiry deadlines. See the module docs.
#[derive(Debug, Default, Clone)]
pub struct ExpiryHeap {
    heap: BinaryHeap<Reverse<(u64, u64)>>,
}

impl ExpiryHeap {
    /// An empty heap.
    pub fn new() -> Self {
        ExpiryHeap::default()
    }

    /// Records that the key with hash `key_hash` expires at `deadline` (ms
    /// since the epoch).
    pub fn push(&mut self, deadline: u64, key_hash: u64) {
        self.heap.push(Reverse((deadline, key_hash)));
    }

    /// The earliest deadline in the heap, live or stale.
    pub fn peek_deadline(&self) -> Option<u64> {
        self.heap.peek().map(|Reverse((deadline, _))| *deadline)
    }

    /// Pops the earliest entry if its deadline has passed at `now` (Redis
    /// expires a key once `now > deadline`).
    /// Returns `(deadline, key_hash)`.
    pub fn pop_due(&mut self, now: u64) -> Option<(u64, u64)> {
        if self.peek_deadline()? < now {
            self.heap.pop().map(|Reverse(item)| item)
        } else {
            None
        }
    }

    /// Entries in the heap, stale ones included.
    pub fn len(&self) -> usize {
        self.heap.len()
    }

    /// Whether the heap holds no entry at all.
    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }

    /// Estimated heap bytes.
    pub fn memory_bytes(&self) -> usize {
        self.heap.capacity() * std::mem::size_of::<(u64, u64)>()
    }

    /// Compacts when stale entries outnumber the `live` ones: keeps only the
    /// entries for which `is_live(deadline, key_hash)` holds, once each.
    /// Returns whether a compaction ran.
    pub fn compact_if_stale(&mut self, live: usize, is_live: impl Fn(u64, u64) -> bool) -> bool {
        let len = self.heap.len();
        if len < COMPACT_MIN_LEN || len - live.min(len) <= live {
            return false;
        }
        let mut entries = std::mem::take(&mut self.heap).into_vec();
        entries.retain(|Reverse((deadline, key_hash))| is_live(*deadline, *key_hash));
        // The same (deadline, key hash) can be pushed twice (TTL set A, B, then A
        // again); keeping both would let repeats defeat compaction.
        entries.sort_unstable();
        entries.dedup();
        entries.shrink_to_fit();
        self.heap = BinaryHeap::from(entries);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn pops_in_deadline_order_only_when_due() {
        let mut heap = ExpiryHeap::new();
        heap.push(30, 0xC);
        heap.push(10, 0xA);
        heap.push(20, 0xB);
        assert_eq!(
            heap.pop_due(10),
            None,
            "a deadline equal to now is not due yet"
        );
        assert_eq!(heap.pop_due(11), Some((10, 0xA)));
        assert_eq!(heap.pop_due(25).map(|(d, _)| d), Some(20));
        assert_eq!(heap.pop_due(25), None);
        assert_eq!(heap.peek_deadline(), Some(30));
    }

    #[test]
    fn compacts_once_stale_entries_outnumber_live_ones() {
        let mut heap = ExpiryHeap::new();
        let mut live: HashMap<u64, u64> = HashMap::new();
        // One key whose TTL changes many times leaves a trail of stale entries.
        let hot = 0xF00D;
        for deadline in 0..COMPACT_MIN_LEN as u64 * 4 {
            heap.push(1_000 + deadline, hot);
            live.insert(hot, 1_000 + deadline);
        }
        for i in 0..10u64 {
            heap.push(5_000 + i, i);
            live.insert(i, 5_000 + i);
        }
        let check = |deadline: u64, key_hash: u64| live.get(&key_hash) == Some(&deadline);
        assert!(heap.compact_if_stale(live.len(), check));
        assert_eq!(heap.len(), live.len());
        assert!(
            !heap.compact_if_stale(live.len(), check),
            "nothing stale left"
        );
        assert_eq!(heap.pop_due(u64::MAX), Some((1_255, hot)));
    }

    #[test]
    fn small_heaps_are_left_alone() {
        let mut heap = ExpiryHeap::new();
        for i in 0..10 {
            heap.push(i, 1);
        }
        assert!(!heap.compact_if_stale(0, |_, _| false));
        assert_eq!(heap.len(), 10);
    }

    #[test]
    fn repeated_identical_entries_are_deduplicated() {
        let mut heap = ExpiryHeap::new();
        for _ in 0..COMPACT_MIN_LEN * 2 {
            heap.push(7, 42);
        }
        assert!(heap.compact_if_stale(1, |d, k| d == 7 && k == 42));
        assert_eq!(heap.len(), 1);
    }
}
