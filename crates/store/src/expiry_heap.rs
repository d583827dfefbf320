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
//! and dropped in O(log n).
//!
//! # Compaction in bounded steps
//!
//! So that stale entries cannot pile up while never reaching the top (keys
//! given long TTLs, then deleted), the owner reports how many deadlines are
//! live, and once stale entries outnumber live ones (and there are at least
//! [`COMPACT_MIN_LEN`]) a compaction starts: the current entries are set
//! aside and the heap starts afresh; every later call of
//! [`ExpiryHeap::compact_step`] re-checks a bounded number of the set-aside
//! entries and pushes back the live ones. No single call is linear in the
//! heap, and the heap stays within about twice the live deadlines. While a
//! compaction runs, set-aside entries are not visible to
//! [`ExpiryHeap::pop_due`] until re-checked (lazy expiry still applies to
//! their keys); the owner drives the compaction from active expiry too, so
//! that lasts only a few expiry cycles.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashSet};

/// Below this many entries a heap is never compacted: the scan would cost
/// more than the few stale entries it frees.
pub const COMPACT_MIN_LEN: usize = 64;

/// Min-heap of expiry deadlines. See the module docs.
#[derive(Debug, Default, Clone)]
pub struct ExpiryHeap {
    heap: BinaryHeap<Reverse<(u64, u64)>>,
    /// Entries set aside by the compaction in progress, still to re-check.
    set_aside: Vec<Reverse<(u64, u64)>>,
    /// Key hashes pushed back by the compaction in progress: a key has one
    /// live deadline, so a second live-looking entry for it is a duplicate
    /// (the same TTL set twice) and is dropped.
    kept: HashSet<u64>,
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

    /// The earliest deadline in the heap, live or stale (set-aside entries
    /// of a compaction in progress not included).
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

    /// Entries held, stale and set-aside ones included.
    pub fn len(&self) -> usize {
        self.heap.len() + self.set_aside.len()
    }

    /// Whether the heap holds no entry at all.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether a compaction is in progress.
    pub fn is_compacting(&self) -> bool {
        !self.set_aside.is_empty()
    }

    /// Estimated heap bytes.
    pub fn memory_bytes(&self) -> usize {
        (self.heap.capacity() + self.set_aside.capacity())
            * std::mem::size_of::<Reverse<(u64, u64)>>()
            + self.kept.capacity() * std::mem::size_of::<u64>()
    }

    /// Advances compaction by re-checking at most `max_checks` entries,
    /// first starting a compaction if stale entries outnumber the `live`
    /// ones. `is_live(deadline, key_hash)` tells whether a key still has that
    /// deadline. Returns the number of entries re-checked.
    pub fn compact_step(
        &mut self,
        live: usize,
        max_checks: usize,
        is_live: impl Fn(u64, u64) -> bool,
    ) -> usize {
        if self.set_aside.is_empty() {
            let len = self.heap.len();
            if len < COMPACT_MIN_LEN || len - live.min(len) <= live {
                return 0;
            }
            // O(1): the heap's buffer is taken over as is.
            self.set_aside = std::mem::take(&mut self.heap).into_vec();
            // Sized up front so that no step pays for growing it.
            self.kept = HashSet::with_capacity(live);
        }
        let mut checked = 0;
        while checked < max_checks {
            let Some(Reverse((deadline, key_hash))) = self.set_aside.pop() else {
                break;
            };
            checked += 1;
            if is_live(deadline, key_hash) && self.kept.insert(key_hash) {
                self.heap.push(Reverse((deadline, key_hash)));
            }
        }
        if self.set_aside.is_empty() {
            self.set_aside = Vec::new();
            self.kept = HashSet::new();
        }
        checked
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    /// Runs a compaction to its end in steps of 16.
    fn compact_fully(
        heap: &mut ExpiryHeap,
        live: usize,
        is_live: impl Fn(u64, u64) -> bool,
    ) -> bool {
        if heap.compact_step(live, 16, &is_live) == 0 {
            return false;
        }
        while heap.is_compacting() {
            assert!(
                heap.compact_step(live, 16, &is_live) <= 16,
                "steps are bounded"
            );
        }
        true
    }

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
        assert!(compact_fully(&mut heap, live.len(), check));
        assert_eq!(heap.len(), live.len());
        assert!(
            !compact_fully(&mut heap, live.len(), check),
            "nothing stale left"
        );
        assert_eq!(heap.pop_due(u64::MAX), Some((1_255, hot)));
    }

    #[test]
    fn entries_pushed_during_a_compaction_are_kept() {
        let mut heap = ExpiryHeap::new();
        for i in 0..200u64 {
            heap.push(i, i);
        }
        // Everything is stale: the compaction starts and sets all aside.
        assert_eq!(heap.compact_step(0, 10, |_, _| false), 10);
        assert!(heap.is_compacting());
        heap.push(7, 999);
        while heap.is_compacting() {
            heap.compact_step(1, 10, |_, hash| hash == 999);
        }
        assert_eq!(heap.len(), 1);
        assert_eq!(heap.pop_due(u64::MAX), Some((7, 999)));
    }

    #[test]
    fn small_heaps_are_left_alone() {
        let mut heap = ExpiryHeap::new();
        for i in 0..10 {
            heap.push(i, 1);
        }
        assert_eq!(heap.compact_step(0, 100, |_, _| false), 0);
        assert_eq!(heap.len(), 10);
    }

    #[test]
    fn repeated_identical_entries_are_deduplicated() {
        let mut heap = ExpiryHeap::new();
        for _ in 0..COMPACT_MIN_LEN * 2 {
            heap.push(7, 42);
        }
        assert!(compact_fully(&mut heap, 1, |d, k| d == 7 && k == 42));
        assert_eq!(heap.len(), 1);
    }
}
