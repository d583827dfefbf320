//! Client-side caching: `CLIENT TRACKING` and its invalidation messages, as
//! Redis 7.0's tracking.c.
//!
//! # What Redis does, and so Redigo
//!
//! * A client with tracking on (not in `BCAST` mode) has the keys of every
//!   read-only command it runs remembered in one server-wide table, key →
//!   client ids (`trackingRememberKeys`; in `OPTIN` mode only after
//!   `CLIENT CACHING yes`, in `OPTOUT` mode not after `CLIENT CACHING no`).
//!   Keys are not per database: the table is global, as in Redis.
//! * When a remembered key changes (any write, expiry, lazy or active,
//!   `MOVE`, `RENAME`...), its entry is dropped and each client in it that
//!   still tracks (not in `BCAST` mode, not the writer under `NOLOOP`) is
//!   sent one invalidation (`trackingInvalidateKey`).
//! * `BCAST` clients register prefixes (the empty prefix without `PREFIX`);
//!   a changed key matching a prefix is collected with its last writer, and
//!   once per batch (Redis: once per event-loop turn, `beforeSleep`) each
//!   prefix's keys go, sorted, as one array to its clients, a `NOLOOP`
//!   client's own keys left out (`trackingBroadcastInvalidationMessages`).
//! * `FLUSHDB`/`FLUSHALL` send every tracking client a null invalidation
//!   and empty the table (`trackingInvalidateKeysOnFlush`); `SWAPDB` sends
//!   nothing (Redis 7.0 does not call it there).
//! * `tracking-table-max-keys`: before each command, while clients track,
//!   a table over the limit loses keys (Redis picks them by a random walk;
//!   here the hash map's randomly seeded order), each invalidated as if
//!   modified, with Redis's growing effort (`trackingLimitUsedSlots`).
//! * A client leaving, `CLIENT TRACKING off` and `RESET` end its tracking;
//!   its ids stay in the table until the keys change (Redis's lazy
//!   clean-up, which `tracking_total_items` shows).
//!
//! # RESP2 delivery
//!
//! Redigo speaks RESP2 only, where Redis sends an invalidation only through
//! a redirection to a client in pub/sub mode (subscribed to anything): a
//! `message` on `__redis__:invalidate` whose payload is an array of keys, or
//! a null for a flush. Without `REDIRECT`, or to a client not subscribed,
//! nothing is sent (`sendTrackingMessage`). A redirection to a client that
//! has gone marks the tracking client's redirection broken (flag `R` in
//! `CLIENT LIST`, `broken_redirect` in `CLIENT TRACKINGINFO`); RESP2 gets no
//! `tracking-redir-broken` push. Messages go through the subscriber's
//! pub/sub outbox, so they keep their place among its other messages and
//! count against its output limit (see [`crate::pubsub`]).
//!
//! # Cost when unused
//!
//! The store signals every changed key only while the table or the prefix
//! map is non-empty ([`Store::set_signal_every_key`]), through the same
//! "key modified" signals `WATCH` uses ([`crate::watch`]); the dispatcher
//! takes them once per command and feeds both. With no tracking, the write
//! path does exactly what it did before, and reads check one flag of the
//! client.
//!
//! # Locks
//!
//! The table's mutex is taken under the dataset lock, possibly while the
//! running client's own state is locked; other clients' states are locked
//! inside it as leaves, to queue messages. The running client itself is
//! passed along (`me`) and never locked again.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use bytes::{Bytes, BytesMut};
use redigo_resp::encode;
use redigo_store::{SignalCause, Store, WatchSignal};

use crate::client::ClientState;
use crate::config::ClientClass;
use crate::state::ServerState;

/// The channel RESP2 invalidations are published on.
pub const INVALIDATE_CHANNEL: &[u8] = b"__redis__:invalidate";

/// Default of `tracking-table-max-keys` (Redis's).
pub const DEFAULT_TABLE_MAX_KEYS: u64 = 1_000_000;

/// Keys one over-the-limit check may evict, times the number of checks in
/// a row that found the table still over (Redis's `effort`).
const EVICTION_EFFORT_STEP: usize = 100;

/// The RESP2 null a flush invalidation carries.
const NULL_PAYLOAD: &[u8] = b"$-1\r\n";

/// One client's tracking mode (part of its [`ClientState`]): Redis's
/// `CLIENT_TRACKING*` flags, redirection and prefixes.
#[derive(Debug, Default)]
pub struct ClientTracking {
    /// `CLIENT TRACKING on` (flag `t`).
    pub on: bool,
    /// The client invalidations go to (0: none).
    pub redirect: u64,
    /// `BCAST` (flag `B`).
    pub bcast: bool,
    /// `OPTIN`.
    pub optin: bool,
    /// `OPTOUT`.
    pub optout: bool,
    /// `NOLOOP`.
    pub noloop: bool,
    /// `CLIENT CACHING yes|no` given for the next command (or transaction).
    pub caching: bool,
    /// The redirection's client has gone (flag `R`); set by whoever tried
    /// to send, so shared with the tracking table.
    pub broken: Arc<AtomicBool>,
    /// `BCAST` prefixes, in byte order.
    pub prefixes: BTreeSet<Bytes>,
}

impl ClientTracking {
    /// Whether the redirection is broken.
    pub fn broken_redirect(&self) -> bool {
        self.broken.load(Ordering::Relaxed)
    }

    /// `redir=` of `CLIENT LIST`, `CLIENT GETREDIR`: -1 when off.
    pub fn redirect_field(&self) -> i64 {
        if self.on { self.redirect as i64 } else { -1 }
    }
}

/// `CLIENT TRACKING on` options.
#[derive(Debug, Default, Clone)]
pub struct TrackingOptions {
    /// `REDIRECT id` (0: none).
    pub redirect: u64,
    /// `BCAST`.
    pub bcast: bool,
    /// `OPTIN`.
    pub optin: bool,
    /// `OPTOUT`.
    pub optout: bool,
    /// `NOLOOP`.
    pub noloop: bool,
    /// `PREFIX`es, in the order given.
    pub prefixes: Vec<Bytes>,
}

/// What the table knows of a tracking client.
#[derive(Debug)]
struct Tracked {
    redirect: u64,
    bcast: bool,
    noloop: bool,
    broken: Arc<AtomicBool>,
}

/// A `BCAST` prefix: keys changed since the last broadcast (with their
/// last writer, for `NOLOOP`) and its clients.
#[derive(Debug, Default)]
struct Prefix {
    keys: BTreeMap<Bytes, Option<u64>>,
    clients: BTreeSet<u64>,
}

#[derive(Debug, Default)]
struct Table {
    /// Key → ids of the clients that may cache it. Ids are kept in the
    /// order Redis's radix tree of raw `uint64_t`s walks them (their
    /// little-endian bytes), stored byte-swapped so `u64` order is that.
    keys: HashMap<Bytes, BTreeSet<u64>>,
    /// Ids across all keys (`tracking_total_items`).
    total_items: u64,
    /// `BCAST` prefixes, in byte order.
    prefixes: BTreeMap<Bytes, Prefix>,
    /// Clients with tracking on, by id.
    clients: BTreeMap<u64, Tracked>,
    /// Limit checks in a row that ended over the limit.
    over_limit_rounds: usize,
}

/// The server-wide tracking state. See the module docs.
#[derive(Debug, Default)]
pub struct Tracking {
    table: Mutex<Table>,
    /// Clients with tracking on (`tracking_clients`).
    clients: AtomicUsize,
    /// The table or the prefix map is non-empty: the store signals every
    /// key (mirrors [`Store::set_signal_every_key`]).
    active: AtomicBool,
}

/// Where a message may go: the running client (already locked), if any.
type Me<'a, 'b> = &'a mut Option<&'b mut ClientState>;

impl Tracking {
    fn lock(&self) -> MutexGuard<'_, Table> {
        self.table.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// `tracking_clients` of `INFO clients`.
    pub fn client_count(&self) -> usize {
        self.clients.load(Ordering::Relaxed)
    }

    /// `tracking_total_keys`, `tracking_total_items`,
    /// `tracking_total_prefixes` of `INFO stats`.
    pub fn totals(&self) -> (usize, u64, usize) {
        let table = self.lock();
        (table.keys.len(), table.total_items, table.prefixes.len())
    }

    fn sync(&self, table: &Table, store: &mut Store) {
        let active = !table.keys.is_empty() || !table.prefixes.is_empty();
        self.active.store(active, Ordering::Relaxed);
        store.set_signal_every_key(active);
    }

    /// Redis's `enableTracking` (options already checked).
    pub fn enable(&self, store: &mut Store, client: &mut ClientState, options: TrackingOptions) {
        let mut table = self.lock();
        let mode = &mut client.tracking;
        if !mode.on {
            self.clients.fetch_add(1, Ordering::Relaxed);
        }
        mode.on = true;
        mode.broken.store(false, Ordering::Relaxed);
        mode.redirect = options.redirect;
        mode.bcast = options.bcast;
        mode.optin = options.optin;
        mode.optout = options.optout;
        mode.noloop = options.noloop;
        if options.bcast {
            let empty = [Bytes::new()];
            let prefixes = if options.prefixes.is_empty() {
                &empty[..]
            } else {
                &options.prefixes[..]
            };
            for prefix in prefixes {
                let entry = table.prefixes.entry(prefix.clone()).or_default();
                if entry.clients.insert(client.id) {
                    mode.prefixes.insert(prefix.clone());
                }
            }
        }
        table.clients.insert(
            client.id,
            Tracked {
                redirect: mode.redirect,
                bcast: mode.bcast,
                noloop: mode.noloop,
                broken: Arc::clone(&mode.broken),
            },
        );
        self.sync(&table, store);
    }

    /// Redis's `disableTracking`: `CLIENT TRACKING off`, `RESET`, a client
    /// leaving. The client's ids stay in the table (lazy clean-up).
    pub fn disable(&self, store: &mut Store, client: &mut ClientState) {
        let mode = &mut client.tracking;
        if !mode.on && mode.prefixes.is_empty() {
            return;
        }
        let mut table = self.lock();
        for prefix in std::mem::take(&mut mode.prefixes) {
            if let Some(state) = table.prefixes.get_mut(&prefix) {
                state.clients.remove(&client.id);
                if state.clients.is_empty() {
                    table.prefixes.remove(&prefix);
                }
            }
        }
        if mode.on {
            self.clients.fetch_sub(1, Ordering::Relaxed);
            table.clients.remove(&client.id);
            let broken = Arc::clone(&mode.broken);
            broken.store(false, Ordering::Relaxed);
            *mode = ClientTracking {
                broken,
                ..ClientTracking::default()
            };
        }
        self.sync(&table, store);
    }

    /// Redis's `trackingRememberKeys`, after a read-only command of a
    /// tracking client not in `BCAST` mode: `keys` may now be cached by it.
    pub fn remember<'k>(
        &self,
        store: &mut Store,
        client: &ClientState,
        keys: impl Iterator<Item = &'k Bytes>,
    ) {
        let mode = &client.tracking;
        if (mode.optin && !mode.caching) || (mode.optout && mode.caching) {
            return;
        }
        let mut keys = keys.peekable();
        if keys.peek().is_none() {
            return;
        }
        let mut table = self.lock();
        let id = client.id.swap_bytes();
        for key in keys {
            let ids = match table.keys.get_mut(&key[..]) {
                Some(ids) => ids,
                None => table.keys.entry(key.clone()).or_default(),
            };
            if ids.insert(id) {
                table.total_items += 1;
            }
        }
        if !self.active.load(Ordering::Relaxed) {
            self.sync(&table, store);
        }
    }

    /// Invalidates the keys the store signalled (Redis calls
    /// `trackingInvalidateKey` from `signalModifiedKey`): writes count only
    /// when the command propagated one (`wrote`, as for `WATCH`), expiry
    /// always; database-wide signals are the flush's business. `current`
    /// is the client running the command (`NOLOOP` and the writer of
    /// broadcast keys), `me` its locked state.
    pub fn invalidate_signals(
        &self,
        server: &ServerState,
        store: &mut Store,
        signals: &[WatchSignal],
        wrote: bool,
        mut me: Option<&mut ClientState>,
    ) {
        if signals.is_empty() || !self.active.load(Ordering::Relaxed) {
            return;
        }
        let current = me.as_deref().map(|c| c.id);
        let mut table = self.lock();
        for signal in signals {
            let writer = match signal.cause {
                SignalCause::Written { .. } if wrote => current,
                SignalCause::Written { .. } | SignalCause::DbReplaced { .. } => continue,
                // Redis expires with no client (`signalModifiedKey(NULL..)`).
                SignalCause::Expired => None,
            };
            invalidate_key(
                &mut table,
                server,
                &mut me,
                &signal.key,
                writer,
                current,
                true,
            );
        }
        self.sync(&table, store);
    }

    /// Redis's `trackingInvalidateKeysOnFlush`: a null invalidation to
    /// every tracking client, and the table emptied.
    pub fn flush(&self, server: &ServerState, store: &mut Store, me: Option<&mut ClientState>) {
        if self.client_count() == 0 && !self.active.load(Ordering::Relaxed) {
            return;
        }
        let mut me = me;
        let mut table = self.lock();
        for tracked in table.clients.values() {
            send(server, &mut me, tracked, NULL_PAYLOAD);
        }
        table.keys = HashMap::new();
        table.total_items = 0;
        self.sync(&table, store);
    }

    /// Redis's `trackingBroadcastInvalidationMessages`: sends each prefix's
    /// changed keys to its clients (end of a batch, of an expiry round).
    pub fn broadcast(&self, server: &ServerState, me: Option<&mut ClientState>) {
        if self.client_count() == 0 || !self.active.load(Ordering::Relaxed) {
            return;
        }
        let mut me = me;
        let mut table = self.lock();
        let table = &mut *table;
        for prefix in table.prefixes.values_mut() {
            if prefix.keys.is_empty() {
                continue;
            }
            let keys = std::mem::take(&mut prefix.keys);
            let all = keys_payload(&keys, None);
            for id in &prefix.clients {
                let Some(tracked) = table.clients.get(id) else {
                    continue;
                };
                if tracked.noloop {
                    if let Some(own) = keys_payload(&keys, Some(*id)) {
                        send(server, &mut me, tracked, &own);
                    }
                } else if let Some(all) = &all {
                    send(server, &mut me, tracked, all);
                }
            }
        }
    }

    /// Redis's `trackingLimitUsedSlots`, before each command while clients
    /// track: evicts keys over `max_keys` (0: no limit), each invalidated
    /// as if modified (not broadcast).
    pub fn limit(
        &self,
        server: &ServerState,
        store: &mut Store,
        max_keys: u64,
        me: Option<&mut ClientState>,
    ) {
        if max_keys == 0 || !self.active.load(Ordering::Relaxed) {
            return;
        }
        let max_keys = usize::try_from(max_keys).unwrap_or(usize::MAX);
        let mut table = self.lock();
        if table.keys.len() <= max_keys {
            table.over_limit_rounds = 0;
            return;
        }
        let effort = EVICTION_EFFORT_STEP * (table.over_limit_rounds + 1);
        let victims: Vec<Bytes> = table.keys.keys().take(effort).cloned().collect();
        let mut me = me;
        let current = me.as_deref().map(|c| c.id);
        let mut under = false;
        for key in victims {
            invalidate_key(&mut table, server, &mut me, &key, None, current, false);
            if table.keys.len() <= max_keys {
                under = true;
                break;
            }
        }
        if under {
            table.over_limit_rounds = 0;
        } else {
            table.over_limit_rounds += 1;
        }
        self.sync(&table, store);
    }
}

/// Redis's `trackingInvalidateKey` for one key.
fn invalidate_key(
    table: &mut Table,
    server: &ServerState,
    me: Me<'_, '_>,
    key: &Bytes,
    writer: Option<u64>,
    current: Option<u64>,
    bcast: bool,
) {
    if bcast && !table.prefixes.is_empty() {
        for (prefix, state) in table.prefixes.iter_mut() {
            if key.starts_with(prefix) {
                state.keys.insert(key.clone(), writer);
            }
        }
    }
    let Some(ids) = table.keys.remove(&key[..]) else {
        return;
    };
    table.total_items -= ids.len() as u64;
    let mut payload = BytesMut::new();
    encode::array_header(&mut payload, 1);
    encode::bulk(&mut payload, key);
    for swapped in ids {
        let id = swapped.swap_bytes();
        let Some(tracked) = table.clients.get(&id) else {
            continue;
        };
        if tracked.bcast || (tracked.noloop && current == Some(id)) {
            continue;
        }
        send(server, me, tracked, &payload);
    }
}

/// Redis's `trackingBuildBroadcastReply`: the keys as a RESP array, those
/// last written by `excluded` left out; `None` when that leaves none.
fn keys_payload(keys: &BTreeMap<Bytes, Option<u64>>, excluded: Option<u64>) -> Option<Vec<u8>> {
    let selected: Vec<&Bytes> = keys
        .iter()
        .filter(|(_, writer)| excluded.is_none() || **writer != excluded)
        .map(|(key, _)| key)
        .collect();
    if selected.is_empty() {
        return None;
    }
    let mut out = BytesMut::new();
    encode::array_header(&mut out, selected.len());
    for key in selected {
        encode::bulk(&mut out, key);
    }
    Some(out.to_vec())
}

/// Redis's `sendTrackingMessage` in RESP2: to the redirection, if it is in
/// pub/sub mode, as a `message` on [`INVALIDATE_CHANNEL`]; a redirection
/// whose client has gone is marked broken.
fn send(server: &ServerState, me: Me<'_, '_>, tracked: &Tracked, payload: &[u8]) {
    if tracked.redirect == 0 {
        // RESP2 cannot carry a push on the client's own connection.
        return;
    }
    let mut encoded = BytesMut::with_capacity(payload.len() + 48);
    encode::array_header(&mut encoded, 3);
    encode::bulk(&mut encoded, b"message");
    encode::bulk(&mut encoded, INVALIDATE_CHANNEL);
    encoded.extend_from_slice(payload);
    if let Some(me) = me.as_deref_mut()
        && me.id == tracked.redirect
    {
        if me.pubsub.is_subscribed() {
            me.pubsub.queued.extend_from_slice(&encoded);
        }
        return;
    }
    let Some(handle) = server.clients.get(tracked.redirect) else {
        tracked.broken.store(true, Ordering::Relaxed);
        return;
    };
    let mut state = handle.lock();
    if !state.pubsub.is_subscribed() {
        return;
    }
    let limit = server
        .config()
        .client_output_buffer_limit
        .get(ClientClass::Pubsub);
    crate::pubsub::queue_message(server, &handle, &mut state, &encoded, &limit);
}

#[cfg(test)]
mod tests {
    use crate::commands::harness::Harness;

    fn totals(h: &Harness) -> (usize, u64, usize) {
        h.state.tracking.totals()
    }

    #[test]
    fn the_store_signals_every_key_only_while_something_is_tracked() {
        let mut h = Harness::new();
        h.run(&["SET", "k", "v"]);
        assert!(!h.dataset.store.signals_every_key(), "idle by default");
        assert_eq!(h.run(&["CLIENT", "TRACKING", "on"]), b"+OK\r\n");
        assert!(
            !h.dataset.store.signals_every_key(),
            "tracking on with an empty table costs writes nothing"
        );
        h.run(&["GET", "k"]);
        assert!(h.dataset.store.signals_every_key());
        assert_eq!(totals(&h), (1, 1, 0));
        // The write invalidates the key: the table is empty again.
        h.run(&["SET", "k", "w"]);
        assert_eq!(totals(&h), (0, 0, 0));
        assert!(!h.dataset.store.signals_every_key());
        // A BCAST prefix needs every key signalled until it goes.
        h.run(&["CLIENT", "TRACKING", "off"]);
        h.run(&["CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "a"]);
        assert!(h.dataset.store.signals_every_key());
        assert_eq!(totals(&h), (0, 0, 1));
        h.run(&["RESET"]);
        assert!(!h.dataset.store.signals_every_key());
        assert_eq!(totals(&h), (0, 0, 0));
        assert_eq!(h.state.tracking.client_count(), 0);
    }

    #[test]
    fn a_client_that_stops_tracking_leaves_its_ids_until_the_keys_change() {
        let mut h = Harness::new();
        h.run(&["CLIENT", "TRACKING", "on"]);
        h.run(&["MGET", "a", "b", "a"]);
        assert_eq!(totals(&h), (2, 2, 0));
        h.run(&["CLIENT", "TRACKING", "off"]);
        // Redis's lazy clean-up: the ids stay until the keys change.
        assert_eq!(totals(&h), (2, 2, 0));
        h.run(&["SET", "a", "1"]);
        assert_eq!(totals(&h), (1, 1, 0));
        h.run(&["FLUSHALL"]);
        assert_eq!(totals(&h), (0, 0, 0));
    }

    #[test]
    fn optin_remembers_only_after_caching_yes_for_one_command() {
        let mut h = Harness::new();
        h.run(&["CLIENT", "TRACKING", "on", "OPTIN"]);
        h.run(&["GET", "a"]);
        assert_eq!(totals(&h).0, 0);
        h.run(&["CLIENT", "CACHING", "yes"]);
        h.run(&["GET", "b"]);
        h.run(&["GET", "c"]);
        assert_eq!(totals(&h).0, 1, "only b");
    }
}
