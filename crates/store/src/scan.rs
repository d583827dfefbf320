//! `SCAN cursor [MATCH pattern] [COUNT n] [TYPE kind]`.
//!
//! The cursor is a position in the table's ordered position space (see
//! the `table` module): a call returns keys in ascending position from the
//! cursor, and the next cursor is the position of the first key not yet
//! returned, or the end of the last segment visited; 0 when the whole space
//! has been covered. A key's position is fixed for its lifetime, and segment
//! splits only add boundaries, so every key present for the whole iteration
//! is returned, while keys added or removed meanwhile may or may not be;
//! Redis's guarantee. Keys of equal position (a full 64-bit hash collision)
//! are always returned together, so the cursor never lands between them.
//!
//! Cursors are per-process (the hash is seeded at random), like Redis's.

use bytes::Bytes;

use crate::glob;
use crate::store::DbHandle;

/// `SCAN`'s default `COUNT`.
pub const DEFAULT_SCAN_COUNT: usize = 10;

/// Segments one call may visit when they hold nothing past the cursor (after
/// mass deletes), so a call's work stays bounded.
const MAX_SEGMENTS_PER_CALL: usize = 16;

/// The options of `SCAN`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScanOptions<'a> {
    /// `MATCH pattern`.
    pub pattern: Option<&'a [u8]>,
    /// `COUNT n`: roughly how many keys to examine (at least 1 is used).
    pub count: usize,
    /// `TYPE name`: compared case-insensitively with the value kind's name;
    /// an unknown name matches nothing, as in Redis.
    pub type_name: Option<&'a [u8]>,
}

impl Default for ScanOptions<'_> {
    fn default() -> Self {
        ScanOptions {
            pattern: None,
            count: DEFAULT_SCAN_COUNT,
            type_name: None,
        }
    }
}

/// One `SCAN` reply: the next cursor (0 when done) and the keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanPage {
    /// The cursor to pass to the next call; 0 when the iteration is over.
    pub cursor: u64,
    /// The keys of this call.
    pub keys: Vec<Bytes>,
}

impl DbHandle<'_> {
    /// `SCAN`. Expired keys met on the way are removed (lazily) and skipped.
    pub fn scan(&mut self, cursor: u64, options: &ScanOptions<'_>) -> ScanPage {
        let want = options.count.max(1);
        let mut candidates: Vec<Bytes> = Vec::new();
        let mut from = cursor;
        let mut next_cursor = 0;
        for _ in 0..MAX_SEGMENTS_PER_CALL {
            let table = &self.db().table;
            let (tail, end) = table.segment_tail(from);
            let mut taken = 0;
            let mut stopped_at = None;
            while taken < tail.len() {
                if candidates.len() >= want {
                    stopped_at = Some(tail[taken].0);
                    break;
                }
                // Take every key of this position together.
                let pos = tail[taken].0;
                while taken < tail.len() && tail[taken].0 == pos {
                    candidates.push(Bytes::copy_from_slice(tail[taken].1.key()));
                    taken += 1;
                }
            }
            match (stopped_at, end) {
                (Some(pos), _) => {
                    next_cursor = pos;
                    break;
                }
                (None, None) => {
                    next_cursor = 0;
                    break;
                }
                (None, Some(end)) => {
                    next_cursor = end;
                    from = end;
                    if candidates.len() >= want {
                        break;
                    }
                }
            }
        }
        let keys = candidates
            .into_iter()
            .filter(|key| options.pattern.is_none_or(|p| glob::matches(p, key, false)))
            .filter(|key| match self.find_untouched(key) {
                None => false,
                Some(slot) => options.type_name.is_none_or(|t| {
                    t.eq_ignore_ascii_case(self.db().entry_at(slot).kind().as_str().as_bytes())
                }),
            })
            .collect();
        ScanPage {
            cursor: next_cursor,
            keys,
        }
    }
}
