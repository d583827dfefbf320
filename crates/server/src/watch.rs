//! The `WATCH` registry: which clients watch which keys, and marking them
//! dirty (Redis's `CLIENT_DIRTY_CAS`) when a watched key changes.
//!
//! # Design
//!
//! Redis keeps, per database, a dict from watched key to the list of its
//! watchers, and calls `touchWatchedKey` from `signalModifiedKey` on every
//! write. Redigo splits that in two:
//!
//! * the store counts, per database, the keys somebody watches and records
//!   a [`WatchSignal`] when one of them is written, expired, flushed or
//!   swapped (`redigo_store::watch`): the one "key modified" hook every
//!   write path already passes through, free for keys nobody watches;
//! * this registry maps each watched (database, key) to its watchers, in
//!   the order they watched (Redis's list order, which its rules depend
//!   on), and each client to what it watches. The dispatcher hands it the
//!   store's signals after every command through [`apply_key_signals`],
//!   which feeds client tracking ([`crate::tracking`]) the same signals.
//!
//! A watcher's dirty flag is an `Arc<AtomicBool>` shared with its
//! [`ClientState`](crate::client::ClientState) (`EXEC` and the `d` flag of
//! `CLIENT LIST` read it), so marking another client needs no client lock.
//!
//! The registry is only used under the dataset lock (it changes with the
//! store's counts); its own mutex is never contended.
//!
//! # Redis 7.0's rules, reproduced
//!
//! * A key already expired (still in the table, deadline passed) when it
//!   was watched is remembered as such: its lazy deletion is no change
//!   (`touchWatchedKey` clears the mark), and `EXEC` fails if a watched key
//!   that was live has expired since (`isWatchedKeyExpired`).
//! * A written key marks its watchers dirty and unwatches those clients
//!   (nothing they watch matters any more); 7.0 stops at the first watcher
//!   that watched the key expired while it still exists (its `break`).
//! * `FLUSHDB`, `FLUSHALL` and `SWAPDB` mark the watchers of keys present
//!   in the emptied database or in the one swapped in, except where an
//!   expired key is replaced by nothing or by another expired key
//!   (`touchAllWatchedKeysInDb`).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use bytes::Bytes;
use redigo_store::{KeyPresence, SignalCause, Store, WatchSignal};

use crate::client::ClientState;
use crate::state::ServerState;

/// The one "key modified" hook (Redis's `signalModifiedKey`): takes the
/// keys the store signalled since the last call and feeds them to `WATCH`
/// ([`WatchRegistry::apply`]) and to client tracking
/// ([`crate::tracking::Tracking::invalidate_signals`]). The dispatcher
/// calls it after every command (and after serving blocked clients), the
/// active expiry cycle after every round, `WATCH` and `EXEC` before they
/// look at the watched keys. `me` is the client whose command ran, if any.
/// Nothing to do (one check) while no key is watched and tracking is idle.
pub fn apply_key_signals(
    server: &ServerState,
    store: &mut Store,
    wrote: bool,
    now_ms: u64,
    me: Option<&mut ClientState>,
) {
    let signals = store.take_watch_signals();
    if signals.is_empty() {
        return;
    }
    server.watches.apply(store, &signals, wrote, now_ms);
    server
        .tracking
        .invalidate_signals(server, store, &signals, wrote, me);
}

/// One client watching one key.
#[derive(Debug)]
struct Watcher {
    client: u64,
    dirty: Arc<AtomicBool>,
    /// The key was expired (still in the table) when watched.
    expired: bool,
}

#[derive(Debug, Default)]
struct Registry {
    /// Watchers of each (database, key), in the order they watched.
    keys: HashMap<(usize, Bytes), Vec<Watcher>>,
    /// What each client watches, in the order it watched.
    clients: HashMap<u64, Vec<(usize, Bytes)>>,
}

/// Every client's watched keys. See the module docs.
#[derive(Debug, Default)]
pub struct WatchRegistry {
    inner: Mutex<Registry>,
}

impl WatchRegistry {
    fn lock(&self) -> MutexGuard<'_, Registry> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// `WATCH key` for `client` in database `db` at `now_ms` (Redis's
    /// `watchForKey`): a key the client already watches there is skipped.
    pub fn watch(
        &self,
        store: &mut Store,
        client: u64,
        dirty: &Arc<AtomicBool>,
        db: usize,
        key: &Bytes,
        now_ms: u64,
    ) {
        let mut registry = self.lock();
        let mine = registry.clients.entry(client).or_default();
        if mine.iter().any(|(d, k)| *d == db && k == key) {
            return;
        }
        mine.push((db, key.clone()));
        let expired = store.key_presence(db, key, now_ms) == KeyPresence::Expired;
        registry
            .keys
            .entry((db, key.clone()))
            .or_default()
            .push(Watcher {
                client,
                dirty: Arc::clone(dirty),
                expired,
            });
        store.watch_key(db, key);
    }

    /// Forgets every key `client` watches (Redis's `unwatchAllKeys`); the
    /// dirty flag is the caller's to clear.
    pub fn unwatch_all(&self, store: &mut Store, client: u64) {
        self.lock().unwatch_all(store, client);
    }

    /// How many keys `client` watches.
    pub fn watched_by(&self, client: u64) -> usize {
        self.lock().clients.get(&client).map_or(0, Vec::len)
    }

    /// Whether a key `client` watches, live when watched, has expired since
    /// (Redis's `isWatchedKeyExpired`, checked by `EXEC`).
    pub fn watched_key_expired(&self, store: &Store, client: u64, now_ms: u64) -> bool {
        let registry = self.lock();
        let Some(mine) = registry.clients.get(&client) else {
            return false;
        };
        mine.iter().any(|(db, key)| {
            let was_expired = registry
                .keys
                .get(&(*db, key.clone()))
                .is_some_and(|ws| ws.iter().any(|w| w.client == client && w.expired));
            !was_expired && store.key_presence(*db, key, now_ms) == KeyPresence::Expired
        })
    }

    /// Marks the watchers of the keys in `signals` (the store's since the
    /// last call; see [`apply_key_signals`]). `wrote` tells whether the
    /// command that ran propagated a write: without one its in-place
    /// signals were no-ops (`SREM` of a missing member), which Redis does
    /// not signal; expiry and database-wide signals count whatever the
    /// command did.
    pub fn apply(&self, store: &mut Store, signals: &[WatchSignal], wrote: bool, now_ms: u64) {
        if signals.is_empty() {
            return;
        }
        let mut registry = self.lock();
        for WatchSignal { db, key, cause } in signals.iter().cloned() {
            match cause {
                SignalCause::Written { present } if wrote => {
                    registry.touch(store, db, key, present);
                }
                SignalCause::Written { .. } => {}
                SignalCause::Expired => registry.touch(store, db, key, false),
                SignalCause::DbReplaced { existed } => {
                    // The database now holds what replaced the emptied one.
                    let replacement = store.key_presence(db, &key, now_ms);
                    registry.touch_replaced(db, key, existed, replacement);
                }
            }
        }
    }
}

impl Registry {
    fn unwatch_all(&mut self, store: &mut Store, client: u64) {
        let Some(mine) = self.clients.remove(&client) else {
            return;
        };
        for (db, key) in mine {
            let id = (db, key);
            if let Some(watchers) = self.keys.get_mut(&id) {
                watchers.retain(|w| w.client != client);
                if watchers.is_empty() {
                    self.keys.remove(&id);
                }
            }
            store.unwatch_key(id.0, &id.1);
        }
    }

    /// Redis 7.0's `touchWatchedKey`; `present`: the key is in the table
    /// right after the change.
    fn touch(&mut self, store: &mut Store, db: usize, key: Bytes, present: bool) {
        let Some(watchers) = self.keys.get_mut(&(db, key)) else {
            return;
        };
        let mut dirtied = Vec::new();
        for watcher in watchers.iter_mut() {
            if watcher.expired {
                if !present {
                    // The expired key is deleted: logically no change.
                    watcher.expired = false;
                    continue;
                }
                // Redis 7.0 leaves the loop here (`break`).
                break;
            }
            watcher.dirty.store(true, Ordering::Relaxed);
            dirtied.push(watcher.client);
        }
        // A dirty client's other keys no longer matter.
        for client in dirtied {
            self.unwatch_all(store, client);
        }
    }

    /// Redis 7.0's `touchAllWatchedKeysInDb` for one key that was in the
    /// emptied database (`existed`) or is in its replacement.
    fn touch_replaced(&mut self, db: usize, key: Bytes, existed: bool, replacement: KeyPresence) {
        let Some(watchers) = self.keys.get_mut(&(db, key)) else {
            return;
        };
        for watcher in watchers.iter_mut() {
            if watcher.expired {
                match replacement {
                    KeyPresence::Absent => {
                        // The expired key is gone: no logical change.
                        watcher.expired = false;
                        continue;
                    }
                    KeyPresence::Expired => continue,
                    KeyPresence::Live => {}
                }
            } else if !existed && replacement == KeyPresence::Expired {
                // Nothing replaced by an expired key.
                watcher.expired = true;
                continue;
            }
            watcher.dirty.store(true, Ordering::Relaxed);
        }
    }
}
