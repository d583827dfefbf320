//! Values the store does not free on the command path.
//!
//! Freeing a million-field hash takes a million `free` calls, tens of
//! milliseconds during which every client would wait (Redis 7.0 blocks
//! 400-480 ms on `DEL` of such a hash unless `lazyfree-lazy-*` is set). The
//! store is pure and has no threads, so it cannot free in the background
//! itself; instead, once the server enables it with
//! [`Store::set_background_free`](crate::Store::set_background_free), every
//! big value that leaves the keyspace (`DEL`, `UNLINK`, overwrite, `RENAME`
//! onto it, expiry, an emptied `SPOP` rewrite, the tables dropped by
//! `FLUSHDB`/`FLUSHALL`) is moved, not freed, into the store's garbage list.
//! The server takes it with [`Store::drain_garbage`](crate::Store::drain_garbage)
//! (after each command, outside or inside its lock: the drain is a move of a
//! `Vec`) and drops the [`Garbage`] on a background thread: dropping is
//! what frees.
//!
//! "Big" is Redis's rule: a collection in its big encoding with more than
//! [`LAZYFREE_THRESHOLD`] elements; a table being flushed always counts.
//! Everything else is freed where it is removed, as before: a small value
//! is cheaper to free than to queue.
//!
//! Part of a list goes the same way: the whole chunks an `LTRIM` cuts off
//! a big list (or an `LREM` rebuilds) are queued when there are more than
//! [`LAZYFREE_THRESHOLD`] of them, the "effort" Redis's lazy free counts
//! for a quicklist (its nodes). Redis itself frees those inline. Without background freeing (the
//! default, so a server that never drains cannot leak) everything is freed
//! inline.

use crate::entry::Entry;
use crate::kinds::LAZYFREE_THRESHOLD;
use crate::kinds::list::DroppedChunks;
use crate::table::Table;

/// A value (or a whole flushed table) waiting to be freed. Dropping it
/// frees it; `Send`, so it can be dropped on another thread.
pub struct Garbage(Inner);

enum Inner {
    Entry(Entry),
    Table(Table),
    ListChunks(DroppedChunks),
}

impl std::fmt::Debug for Garbage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.0 {
            Inner::Entry(entry) => f.debug_tuple("Garbage").field(entry).finish(),
            Inner::Table(table) => write!(f, "Garbage(table of {} keys)", table.len()),
            Inner::ListChunks(dropped) => write!(
                f,
                "Garbage({} list chunks, {} elements)",
                dropped.chunks.len(),
                dropped.elements
            ),
        }
    }
}

impl Garbage {
    /// Elements that dropping this frees: a collection's elements, or a
    /// table's keys.
    pub fn elements(&self) -> usize {
        match &self.0 {
            Inner::Entry(entry) => entry.collection_len(),
            Inner::Table(table) => table.len(),
            Inner::ListChunks(dropped) => dropped.elements,
        }
    }
}

/// Where removed entries go: freed now, or queued as garbage.
#[derive(Debug, Default)]
pub(crate) struct Disposal {
    /// Queue big values instead of freeing them.
    pub(crate) background: bool,
    pub(crate) garbage: Vec<Garbage>,
}

impl Disposal {
    /// Frees `entry` now, or queues it when it is big.
    pub(crate) fn entry(&mut self, entry: Entry) {
        if self.background && entry.is_big() && entry.collection_len() > LAZYFREE_THRESHOLD {
            self.garbage.push(Garbage(Inner::Entry(entry)));
        }
    }

    /// Frees a removed entry, if there is one.
    pub(crate) fn maybe(&mut self, entry: Option<Entry>) {
        if let Some(entry) = entry {
            self.entry(entry);
        }
    }

    /// Frees chunks cut off a list now, or queues them when there are more
    /// than [`LAZYFREE_THRESHOLD`].
    pub(crate) fn list_chunks(&mut self, dropped: DroppedChunks) {
        if self.background && dropped.chunks.len() > LAZYFREE_THRESHOLD {
            self.garbage.push(Garbage(Inner::ListChunks(dropped)));
        }
    }

    /// Frees a flushed table now, or queues it.
    pub(crate) fn table(&mut self, table: Table) {
        if self.background && table.len() > 0 {
            self.garbage.push(Garbage(Inner::Table(table)));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_and_values_can_go_to_another_thread() {
        fn assert_send<T: Send + 'static>() {}
        assert_send::<Garbage>();
        assert_send::<crate::Value>();
    }
}
