//! Watched keys: the one "key modified" signal behind `WATCH`.
//!
//! Redis marks the clients watching a key dirty from `signalModifiedKey`,
//! which every write path calls. Here the equivalent point is [`crate::db`]'s
//! handful of mutation methods (insert, replace, remove, in-place update,
//! deadline change) and the store-wide operations (`FLUSHDB`, `FLUSHALL`,
//! `SWAPDB`): every command reaches the keyspace through them, so no
//! command has to signal anything itself.
//!
//! The store knows only *which* keys somebody watches (a count per key and
//! database, kept by the server through [`Store::watch_key`] and
//! [`Store::unwatch_key`]) and records a [`WatchSignal`] when one of them
//! changes; the server maps the signal to its clients (see the server's
//! `watch` module). A database nobody watches in pays one `is_empty` check
//! per mutation, and [`Store::take_watch_signals`] returns at once while
//! no key is watched anywhere.
//!
//! Client-side caching (`CLIENT TRACKING`) needs the same signal for every
//! key, watched or not: while the server says so
//! ([`Store::set_signal_every_key`], only while its tracking table or its
//! broadcast prefixes are non-empty) every mutation records a signal, and
//! the server feeds the one stream of signals to both `WATCH` and
//! tracking. Nothing changes for the write path while tracking is idle.
//!
//! [`Store::set_signal_every_key`]: crate::Store::set_signal_every_key
//! [`Store::watch_key`]: crate::Store::watch_key
//! [`Store::unwatch_key`]: crate::Store::unwatch_key
//! [`Store::take_watch_signals`]: crate::Store::take_watch_signals

use std::collections::HashMap;

use bytes::Bytes;

/// Why a watched key was signalled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SignalCause {
    /// A command wrote or deleted the key (it may have been a no-op write
    /// in place, e.g. `SREM` of a missing member: the server only honours
    /// these for commands that propagated a write).
    Written {
        /// The key is in the table after the change (false for a delete):
        /// Redis's `touchWatchedKey` looks at this at the instant of the
        /// change.
        present: bool,
    },
    /// The key was removed because its deadline passed (lazily or by the
    /// active cycle): a change whatever the command did.
    Expired,
    /// The database was emptied (`FLUSHDB`, `FLUSHALL`) or swapped
    /// (`SWAPDB`) while the key was in it (`existed`) or in the database
    /// swapped in; Redis's `touchAllWatchedKeysInDb` rules apply.
    DbReplaced {
        /// The key was (physically, maybe expired) in the database emptied.
        existed: bool,
    },
}

/// A watched key that changed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WatchSignal {
    /// The database index.
    pub db: usize,
    /// The key.
    pub key: Bytes,
    /// What happened to it.
    pub cause: SignalCause,
}

/// Whether a key is in a database, judged at an instant without removing it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyPresence {
    /// Not in the table.
    Absent,
    /// In the table and live.
    Live,
    /// In the table, its deadline passed (Redis's `keyIsExpired`).
    Expired,
}

/// The watched keys of one database and their signals not yet taken. It
/// belongs to the database *index*: `SWAPDB` and `FLUSHDB` keep it in place.
#[derive(Debug, Default)]
pub(crate) struct WatchedKeys {
    counts: HashMap<Bytes, u32>,
    pending: Vec<(Bytes, SignalCause)>,
    /// Signal every key, watched or not (client tracking is active).
    every_key: bool,
}

impl WatchedKeys {
    /// Records a signal if `key` is watched (or every key is signalled);
    /// one branch when nothing is watched and tracking is idle.
    #[inline]
    pub(crate) fn signal(&mut self, key: &[u8], cause: SignalCause) {
        if self.counts.is_empty() && !self.every_key {
            return;
        }
        if let Some((watched, _)) = self.counts.get_key_value(key) {
            self.pending.push((watched.clone(), cause));
        } else if self.every_key {
            self.pending.push((Bytes::copy_from_slice(key), cause));
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.counts.is_empty()
    }

    pub(crate) fn set_every_key(&mut self, on: bool) {
        self.every_key = on;
    }

    pub(crate) fn keys(&self) -> impl Iterator<Item = &Bytes> {
        self.counts.keys()
    }

    pub(crate) fn push(&mut self, key: Bytes, cause: SignalCause) {
        self.pending.push((key, cause));
    }

    /// One more watcher of `key`; true when it was not watched before.
    pub(crate) fn add(&mut self, key: &[u8]) -> bool {
        match self.counts.get_mut(key) {
            Some(count) => {
                *count += 1;
                false
            }
            None => {
                self.counts.insert(Bytes::copy_from_slice(key), 1);
                true
            }
        }
    }

    /// One watcher fewer; true when nobody watches `key` any more.
    pub(crate) fn remove(&mut self, key: &[u8]) -> bool {
        let Some(count) = self.counts.get_mut(key) else {
            return false;
        };
        *count -= 1;
        if *count == 0 {
            self.counts.remove(key);
            true
        } else {
            false
        }
    }

    pub(crate) fn drain_into(&mut self, db: usize, out: &mut Vec<WatchSignal>) {
        out.extend(
            self.pending
                .drain(..)
                .map(|(key, cause)| WatchSignal { db, key, cause }),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{SetOptions, Store};

    fn signals(store: &mut Store) -> Vec<(usize, &'static str, SignalCause)> {
        store
            .take_watch_signals()
            .into_iter()
            .map(|s| {
                let key: &'static str = match &s.key[..] {
                    b"k" => "k",
                    b"j" => "j",
                    _ => "?",
                };
                (s.db, key, s.cause)
            })
            .collect()
    }

    #[test]
    fn only_watched_keys_signal_and_the_watch_stays_with_the_index() {
        let mut store = Store::default();
        let mut db = store.db(0, 1_000).unwrap();
        db.set(b"k", b"v", SetOptions::default()).unwrap();
        assert!(signals(&mut store).is_empty(), "nothing watched");
        store.watch_key(0, b"k");
        store.watch_key(1, b"j");
        let mut db = store.db(0, 1_000).unwrap();
        db.set(b"other", b"v", SetOptions::default()).unwrap();
        db.set(b"k", b"w", SetOptions::default()).unwrap();
        db.append(b"k", b"x").unwrap();
        assert_eq!(
            signals(&mut store),
            [
                (0, "k", SignalCause::Written { present: true }),
                (0, "k", SignalCause::Written { present: true }),
            ]
        );
        // k moves to database 1 with the contents; the watch stays.
        store.swap_db(0, 1).unwrap();
        assert_eq!(
            signals(&mut store),
            [(0, "k", SignalCause::DbReplaced { existed: true })]
        );
        store.flush_db(1);
        assert!(signals(&mut store).is_empty(), "j was in neither");
        store.unwatch_key(1, b"j");
        let mut db = store.db(1, 1_000).unwrap();
        db.set(b"j", b"v", SetOptions::default()).unwrap();
        assert!(signals(&mut store).is_empty(), "the last watcher left");
        assert_eq!(store.key_presence(1, b"j", 1_000), KeyPresence::Live);
    }

    #[test]
    fn expiry_signals_as_such_and_presence_sees_expired_keys() {
        let mut store = Store::default();
        let mut db = store.db(0, 1_000).unwrap();
        db.set(b"k", b"v", SetOptions::default()).unwrap();
        db.expire(
            b"k",
            crate::Expiry::UnixMillis(1_500),
            crate::ExpireCondition::Always,
        )
        .unwrap();
        store.watch_key(0, b"k");
        assert_eq!(store.key_presence(0, b"k", 2_000), KeyPresence::Expired);
        let mut db = store.db(0, 2_000).unwrap();
        assert_eq!(db.get(b"k").unwrap(), None);
        assert_eq!(signals(&mut store), [(0, "k", SignalCause::Expired)]);
        assert_eq!(store.key_presence(0, b"k", 2_000), KeyPresence::Absent);
    }

    #[test]
    fn every_key_signals_while_asked_to_even_unwatched() {
        let mut store = Store::default();
        let mut db = store.db(0, 1_000).unwrap();
        db.set(b"k", b"v", SetOptions::default()).unwrap();
        assert!(signals(&mut store).is_empty(), "idle: nothing recorded");
        store.set_signal_every_key(true);
        let mut db = store.db(3, 1_000).unwrap();
        db.set(b"j", b"v", SetOptions::default()).unwrap();
        // A flush keeps the setting with the database index.
        store.flush_db(3);
        let mut db = store.db(3, 1_000).unwrap();
        db.set(b"k", b"v", SetOptions::default()).unwrap();
        assert_eq!(
            signals(&mut store),
            [
                (3, "j", SignalCause::Written { present: true }),
                (3, "k", SignalCause::Written { present: true }),
            ]
        );
        store.set_signal_every_key(false);
        let mut db = store.db(3, 1_000).unwrap();
        db.set(b"k", b"w", SetOptions::default()).unwrap();
        assert!(signals(&mut store).is_empty());
    }
}
