//! What the hash and set commands share: the outcome types the server
//! turns into replies and propagation, `HSCAN`/`SSCAN` pages, and uniform
//! random selection.

use bytes::Bytes;

use crate::entry::Entry;
use crate::store::DbHandle;
use crate::table::Slot;

/// What a removing command (`HDEL`, `SREM`) did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Removed {
    /// Elements removed (the reply).
    pub removed: usize,
    /// Whether the key was deleted because it became empty (Redis then
    /// also fires a `del` event; the command itself is what propagates).
    pub key_deleted: bool,
}

/// One `HSCAN`/`SSCAN` reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CollectionScanPage {
    /// The cursor for the next call; 0 when the iteration is over (always
    /// 0 for a compact encoding, returned whole in one call as Redis does).
    pub cursor: u64,
    /// `HSCAN`: field, value, field, value...; `SSCAN`: members.
    pub items: Vec<Bytes>,
}

impl CollectionScanPage {
    /// The page of a missing key, and where a page starts: no items, and
    /// cursor 0.
    pub fn empty() -> CollectionScanPage {
        CollectionScanPage {
            cursor: 0,
            items: Vec::new(),
        }
    }
}

/// Receives the elements of `HRANDFIELD`/`SRANDMEMBER` with a count one by
/// one, so that a huge negative count never collects its reply in memory.
pub trait PickSink {
    /// Called once, before any element, with how many elements follow.
    fn begin(&mut self, count: usize);
    /// One element (a field with its value under `WITHVALUES`, a member);
    /// false stops the command (the client is going away).
    fn element(&mut self, element: &[u8], value: Option<&[u8]>) -> bool;
}

/// Collects the picks, for tests and small replies.
impl PickSink for Vec<(Bytes, Option<Bytes>)> {
    fn begin(&mut self, count: usize) {
        self.reserve(count);
    }

    fn element(&mut self, element: &[u8], value: Option<&[u8]>) -> bool {
        self.push((
            Bytes::copy_from_slice(element),
            value.map(Bytes::copy_from_slice),
        ));
        true
    }
}

/// Ratio above which drawing distinct random elements switches from
/// rejection sampling to a partial shuffle of all of them (Redis's
/// `SRANDMEMBER_SUB_STRATEGY_MUL`, `HRANDFIELD_SUB_STRATEGY_MUL`).
pub(crate) const SUB_STRATEGY_MUL: usize = 3;

/// `SPOP` with a count rebuilds the set from the members that stay when
/// they are few compared to those popped (Redis's `SPOP_MOVE_STRATEGY_MUL`).
pub(crate) const SPOP_MOVE_STRATEGY_MUL: usize = 5;

/// Picks `count` distinct indexes below `len` uniformly (`count < len`),
/// with `random` a source of random 64-bit numbers.
pub(crate) fn distinct_indexes(
    len: usize,
    count: usize,
    random: &mut dyn FnMut() -> u64,
) -> Vec<usize> {
    debug_assert!(count < len);
    if count * SUB_STRATEGY_MUL > len {
        // Partial Fisher-Yates over every index.
        let mut all: Vec<usize> = (0..len).collect();
        for i in 0..count {
            let j = i + (random() % (len - i) as u64) as usize;
            all.swap(i, j);
        }
        all.truncate(count);
        all
    } else {
        let mut seen = std::collections::HashSet::with_capacity(count);
        let mut picked = Vec::with_capacity(count);
        while picked.len() < count {
            let index = (random() % len as u64) as usize;
            if seen.insert(index) {
                picked.push(index);
            }
        }
        picked
    }
}

impl DbHandle<'_> {
    /// Removes `items` from the collection at `slot` with `remove` (true
    /// when it removed one), deleting the key once it is empty (`HDEL`,
    /// `SREM`). Redis stops at the element that empties the collection,
    /// since the key is deleted there.
    pub(crate) fn remove_from_collection<T: AsRef<[u8]>>(
        &mut self,
        slot: Slot,
        items: &[T],
        remove: fn(&mut Entry, &[u8]) -> bool,
    ) -> Removed {
        let (removed, empty) = self.db_mut().update_value(slot, |entry| {
            let mut removed = 0;
            for item in items {
                if remove(entry, item.as_ref()) {
                    removed += 1;
                    if entry.collection_is_empty() {
                        break;
                    }
                }
            }
            (removed, entry.collection_is_empty())
        });
        if empty {
            let entry = self.db_mut().remove_at(slot);
            self.dispose(entry);
        }
        Removed {
            removed,
            key_deleted: empty,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distinct_indexes_are_distinct_in_range_and_cover_everything() {
        let mut state = 7u64;
        let mut random = || {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1);
            state >> 11
        };
        let mut hits = [0usize; 10];
        for count in [1, 3, 4, 9] {
            for _ in 0..300 {
                let picked = distinct_indexes(10, count, &mut random);
                let set: std::collections::HashSet<_> = picked.iter().collect();
                assert_eq!((picked.len(), set.len()), (count, count));
                for i in picked {
                    hits[i] += 1;
                }
            }
        }
        assert!(hits.iter().all(|&h| h > 0));
    }
}
