//! [`DbSet`]: a bit set of database indexes, so that store-wide work scales
//! with the databases in use rather than with `databases`.
//!
//! A server may be configured with up to a million databases, almost all of
//! them empty. Store-wide operations (`FLUSHALL`, the snapshot walk, active
//! expiry, `INFO keyspace`, memory accounting) run under the server's
//! dataset lock, so looping over every database in one of them would freeze
//! every client for as long as the loop takes. The store instead keeps the
//! set of *touched* databases: a bit is set whenever a database is accessed
//! for a change, and cleared (lazily) once the database is found empty with
//! nothing owed to a snapshot. A clear bit therefore guarantees the database
//! is empty; a set bit only says it may not be. Finding the next set bit
//! reads one 64-bit word per 64 databases, so scanning a million untouched
//! databases reads 16 KiB.

/// Bits per word of the set.
const WORD_BITS: usize = u64::BITS as usize;

/// A fixed-capacity set of indexes below `len`. See the module docs.
#[derive(Debug, Clone)]
pub(crate) struct DbSet {
    words: Vec<u64>,
    len: usize,
}

impl DbSet {
    /// An empty set of indexes below `len`.
    pub(crate) fn new(len: usize) -> DbSet {
        DbSet {
            words: vec![0; len.div_ceil(WORD_BITS)],
            len,
        }
    }

    pub(crate) fn insert(&mut self, index: usize) {
        debug_assert!(index < self.len);
        self.words[index / WORD_BITS] |= 1 << (index % WORD_BITS);
    }

    pub(crate) fn remove(&mut self, index: usize) {
        debug_assert!(index < self.len);
        self.words[index / WORD_BITS] &= !(1 << (index % WORD_BITS));
    }

    /// The smallest member at or above `from`.
    pub(crate) fn next_from(&self, from: usize) -> Option<usize> {
        if from >= self.len {
            return None;
        }
        let mut word_index = from / WORD_BITS;
        // Drop the bits below `from` in its word.
        let mut word = self.words[word_index] & (u64::MAX << (from % WORD_BITS));
        loop {
            if word != 0 {
                let index = word_index * WORD_BITS + word.trailing_zeros() as usize;
                return (index < self.len).then_some(index);
            }
            word_index += 1;
            word = *self.words.get(word_index)?;
        }
    }

    /// The members in increasing order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = usize> + '_ {
        self.range(0, self.len)
    }

    /// The members in `from..to`, in increasing order.
    fn range(&self, from: usize, to: usize) -> impl Iterator<Item = usize> + '_ {
        let mut next = from;
        std::iter::from_fn(move || {
            let found = self.next_from(next).filter(|&i| i < to)?;
            next = found + 1;
            Some(found)
        })
    }

    /// The members at or above `from`, then those below it: a round-robin
    /// scan that starts at `from`.
    pub(crate) fn iter_from(&self, from: usize) -> impl Iterator<Item = usize> + '_ {
        let from = from.min(self.len);
        self.range(from, self.len).chain(self.range(0, from))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_members_in_order_across_words() {
        let mut set = DbSet::new(200);
        assert_eq!(set.next_from(0), None);
        for i in [0, 63, 64, 130, 199] {
            set.insert(i);
        }
        assert_eq!(set.iter().collect::<Vec<_>>(), [0, 63, 64, 130, 199]);
        assert_eq!(set.next_from(1), Some(63));
        assert_eq!(set.next_from(65), Some(130));
        assert_eq!(set.next_from(200), None);
        set.remove(63);
        assert_eq!(set.next_from(1), Some(64));
        assert_eq!(set.iter_from(100).collect::<Vec<_>>(), [130, 199, 0, 64]);
    }
}
