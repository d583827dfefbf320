//! Clients blocked on keys (`BLPOP`, `BRPOP`, `BLMOVE`, `BRPOPLPUSH`,
//! `BLMPOP`) and on sorted sets (`BZPOPMIN`, `BZPOPMAX`, `BZMPOP`), as Redis
//! 7.0's `blocked.c`.
//!
//! # The wait
//!
//! A blocking command that finds nothing to take registers its client here
//! ([`BlockingRegistry::block`]) with a [`BlockedOp`] (what to do once a key
//! has data) and writes no reply. The registry keeps, per `(db, key)`, the
//! clients waiting on it in the order they blocked (FIFO), and per client
//! its keys and the sending half of a one-shot channel. The client's
//! connection task takes the receiving half ([`BlockWait`]) after the
//! command, stops running its pipeline, and sleeps on that channel, its
//! deadline (a tokio timer), its socket (to see the peer go), `CLIENT KILL`
//! and shutdown. A blocked client therefore costs no CPU (no polling: one
//! tokio wake-up when it is served or times out) and, besides its
//! connection, one registry entry plus one queue slot per key.
//!
//! # Serving
//!
//! Everything here lives in the [`Dataset`](crate::dataset::Dataset), under
//! the keyspace lock, so it changes in step with the store. After every
//! write command the dispatcher calls [`BlockingRegistry::signal_keys`] with
//! the command's keys (found through its key specs, as Redis's `dbAdd`
//! signals the key it adds): a key some client waits on, in any database
//! (`MOVE` and `COPY ... DB` add the key elsewhere), is queued as *ready*.
//! Commands whose effect on keys the key specs cannot show (`SWAPDB`,
//! `SORT ... STORE`) signal explicitly. Once the command has finished
//! ([`serve_ready`], Redis's `handleClientsBlockedOnKeys`; after `EXEC` or a
//! script as a whole, since their inner commands run with
//! [`ExecContext::deny_blocking`](crate::commands::ExecContext::deny_blocking)),
//! each ready key is served: its waiters, oldest first, get their
//! [`BlockedOp::serve`] tried while the key exists; a client served from
//! one key is removed from all of its keys. A serve that pushes (`BLMOVE`)
//! signals its destination, and the loop runs until no key is ready, so a
//! chain of `BLMOVE`s is served within the same command. What a serve did is
//! propagated as the non-blocking command it performed (`LPOP`, `LMOVE`...),
//! in the blocked client's database. With the AOF off, the served client's
//! reply goes to its outbox and the serving connection writes it at the end
//! of its batch, before its own replies, straight to the served client's
//! socket when that connection is idle (see [`crate::delivery`]), as Redis
//! writes the clients it served ahead of the one that served them. With the
//! AOF on, it goes through the client's channel (its connection holds it
//! until the serve's write is committed). Either way the serving connection
//! then yields to the runtime before writing its own replies
//! (`Effects::served_blocked`), so the served clients' connections run
//! first: with the AOF on they write their replies, with it off they go on
//! with their pipelines.
//!
//! # Memory
//!
//! A wait on one key (the usual `BLPOP queue 0`) keeps its key and queue
//! place inline in its entry, and a key with one waiter keeps it inline in
//! the map; the key is copied once out of the request (an `Arc<[u8]>`
//! shared by the entry, the queue and the ready list) and looked up as
//! `(db, &[u8])` without building one (`KeyRef`). Ops without data are
//! shared statics ([`WaitOp::Shared`]). Figures: `docs/blocking.md`.
//!
//! A key of the wrong kind (a string where a list is awaited) serves nobody
//! and its clients stay blocked; `DEL` and `FLUSHALL` change nothing for
//! them either, as in Redis.
//!
//! # Kinds
//!
//! Each blocking command family implements [`BlockedOp`] in
//! `commands::blocking`: `ListWait` for the list pops and moves, `ZsetWait`
//! for the sorted set pops, whose `serve` pops from a sorted set and
//! returns `None` for any other kind. A key is signalled by whatever writes
//! it (`ZADD`, `ZINCRBY`, the `*STORE` commands, `RENAME` onto it...), and
//! each waiter's op decides whether the kind found there serves it.
//!
//! # Timeouts and unblocking
//!
//! The connection owns its deadline. When it fires, the connection takes
//! the keyspace lock and removes itself ([`BlockingRegistry::unblock`]): if
//! it was still registered it replies with the op's timeout reply,
//! otherwise it was served just before and the reply is in its channel.
//! `CLIENT UNBLOCK` and a disconnect go through the same removal, so a
//! client leaves no trace.

use std::borrow::Borrow;
use std::collections::{HashMap, HashSet, VecDeque};
use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use redigo_store::Store;
use tokio::sync::oneshot;

use crate::propagation::PropagationLog;
use crate::pubsub::notifications::{self, EventClass};
use crate::state::ServerState;

/// Redis's timeout reply of a client blocked on a list or sorted set, in
/// RESP2 (`replyToBlockedClientTimedOut`: a null array for every kind,
/// `BLMOVE` included).
pub const NULL_ARRAY_REPLY: &[u8] = b"*-1\r\n";

/// The reply `CLIENT UNBLOCK <id> ERROR` gives the unblocked client.
pub const UNBLOCKED_ERROR: &str = "UNBLOCKED client unblocked via CLIENT UNBLOCK";

/// What a client waits on: a key of one database. The name is one shared
/// allocation (the client's entry and the key's queue hold the same one),
/// and a key is looked up by `(db, &[u8])` without building one (see
/// [`KeyRef`]).
#[derive(Clone, Debug)]
pub struct WaitKey {
    /// The database index.
    pub db: usize,
    /// The key.
    pub key: Arc<[u8]>,
}

/// A key of one database as the registry's maps look it up: a [`WaitKey`]
/// or a borrowed `(db, name)`, hashed and compared alike.
trait KeyRef {
    fn db(&self) -> usize;
    fn name(&self) -> &[u8];
}

impl KeyRef for WaitKey {
    fn db(&self) -> usize {
        self.db
    }
    fn name(&self) -> &[u8] {
        &self.key
    }
}

impl KeyRef for (usize, &[u8]) {
    fn db(&self) -> usize {
        self.0
    }
    fn name(&self) -> &[u8] {
        self.1
    }
}

impl<'a> Borrow<dyn KeyRef + 'a> for WaitKey {
    fn borrow(&self) -> &(dyn KeyRef + 'a) {
        self
    }
}

impl Hash for dyn KeyRef + '_ {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.db().hash(state);
        self.name().hash(state);
    }
}

impl PartialEq for dyn KeyRef + '_ {
    fn eq(&self, other: &Self) -> bool {
        self.db() == other.db() && self.name() == other.name()
    }
}

impl Eq for dyn KeyRef + '_ {}

impl Hash for WaitKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        (self as &dyn KeyRef).hash(state);
    }
}

impl PartialEq for WaitKey {
    fn eq(&self, other: &Self) -> bool {
        (self as &dyn KeyRef) == (other as &dyn KeyRef)
    }
}

impl Eq for WaitKey {}

/// What serving a blocked client may touch: the keyspace, the propagation
/// log, and the keys it wrote (so that they are served in turn).
#[derive(Debug)]
pub struct ServeContext<'a> {
    /// The keyspace.
    pub store: &'a mut Store,
    /// Where the serve records what it did, as the non-blocking command.
    pub propagation: &'a mut PropagationLog,
    /// The blocked client's database.
    pub db: usize,
    /// The instant of the serving command (for expiry decisions).
    pub now_ms: u64,
    /// Keys of `db` the serve wrote to (`BLMOVE`'s destination): signalled
    /// as ready once the serve is done.
    pub wrote: Vec<Bytes>,
    /// Where the serve's keyspace events are published.
    pub server: &'a ServerState,
}

impl ServeContext<'_> {
    /// Publishes a keyspace event of the serve on `key` of `db`, as the
    /// served command would (Redis fires them from
    /// `serveClientBlockedOnList`, after the command that made the key
    /// ready has fired its own).
    pub fn notify(&self, class: EventClass, event: &str, key: &[u8]) {
        notifications::notify(self.server, None, class, event, key, self.db);
    }
}

/// A blocked command's kind: what it does once a key it waits on is ready.
pub trait BlockedOp: Send + fmt::Debug {
    /// Tries to serve the client from `key` (one of its keys, now ready in
    /// `ctx.db`). Returns the client's full reply when it was served (an
    /// error reply counts: `BLMOVE` onto a key of the wrong type), `None`
    /// when `key` has nothing for it (missing, or of another kind), in which
    /// case nothing may have changed. A serve records its propagation.
    fn serve(&self, ctx: &mut ServeContext<'_>, key: &[u8]) -> Option<Bytes>;

    /// The reply when the wait ends by timeout or `CLIENT UNBLOCK TIMEOUT`.
    fn timeout_reply(&self) -> &'static [u8] {
        NULL_ARRAY_REPLY
    }
}

/// A blocked command's [`BlockedOp`]: a shared one for the commands whose
/// wait carries no data (`BLPOP`, `BRPOP`, `BZPOPMIN`, `BZPOPMAX`: a
/// `static`), so that their wait allocates nothing for it, or an owned one.
#[derive(Debug)]
pub enum WaitOp {
    /// A stateless op, shared.
    Shared(&'static (dyn BlockedOp + Sync)),
    /// An op with its own data (`BLMOVE`'s destination, `BLMPOP`'s count).
    Owned(Box<dyn BlockedOp>),
}

impl WaitOp {
    fn get(&self) -> &dyn BlockedOp {
        match self {
            WaitOp::Shared(op) => *op,
            WaitOp::Owned(op) => op.as_ref(),
        }
    }
}

/// The connection's side of a wait: taken from
/// [`ClientState::block_wait`](crate::client::ClientState::block_wait)
/// after the command that blocked.
#[derive(Debug)]
pub struct BlockWait {
    /// Receives the client's reply when it is served or unblocked.
    pub reply: oneshot::Receiver<Bytes>,
    /// When the wait times out, `None` for ever (`0`).
    pub deadline: Option<std::time::Instant>,
    /// The reply on timeout.
    pub timeout_reply: &'static [u8],
}

/// A blocked client's keys, each with its place (sequence number) in the
/// key's queue: one key (the usual wait) is held inline.
#[derive(Debug)]
enum Keys {
    One([(Arc<[u8]>, u64); 1]),
    Many(Box<[(Arc<[u8]>, u64)]>),
}

impl Keys {
    fn as_slice(&self) -> &[(Arc<[u8]>, u64)] {
        match self {
            Keys::One(one) => one,
            Keys::Many(keys) => keys,
        }
    }
}

/// One blocked client, as the registry keeps it.
#[derive(Debug)]
struct Blocked {
    db: usize,
    keys: Keys,
    op: WaitOp,
    wake: oneshot::Sender<Bytes>,
    has_timeout: bool,
}

/// The clients blocked on one key, as `(sequence number, client id)` in the
/// order they blocked (sequence numbers only grow, so the queue stays
/// sorted): O(1) to add, O(log n) to find a place, a short move to remove
/// from the middle. A key with one waiter (clients blocked on distinct
/// keys) holds it inline, without an allocation.
#[derive(Debug)]
enum Queue {
    One(u64, u64),
    /// Boxed on purpose, so that the map's slots stay small (24 bytes
    /// rather than 40) for the usual one waiter: the extra allocation is
    /// made only by keys with several waiters.
    #[allow(clippy::box_collection)]
    Many(Box<VecDeque<(u64, u64)>>),
}

impl Queue {
    fn push(&mut self, waiter: (u64, u64)) {
        match self {
            Queue::One(seq, id) => {
                let mut many = VecDeque::with_capacity(2);
                many.push_back((*seq, *id));
                many.push_back(waiter);
                *self = Queue::Many(Box::new(many));
            }
            Queue::Many(queue) => queue.push_back(waiter),
        }
    }

    /// Removes the waiter with sequence number `seq`; returns whether the
    /// queue is now empty.
    fn remove(&mut self, seq: u64) -> bool {
        match self {
            Queue::One(own, _) => *own == seq,
            Queue::Many(queue) => {
                if let Ok(at) = queue.binary_search_by_key(&seq, |&(s, _)| s) {
                    queue.remove(at);
                }
                queue.is_empty()
            }
        }
    }

    /// The first waiter after sequence number `after`.
    fn after(&self, after: Option<u64>) -> Option<(u64, u64)> {
        match self {
            Queue::One(seq, id) => after
                .is_none_or(|after| *seq > after)
                .then_some((*seq, *id)),
            Queue::Many(queue) => {
                let at = after.map_or(0, |after| queue.partition_point(|&(s, _)| s <= after));
                queue.get(at).copied()
            }
        }
    }
}

/// The clients blocked on keys, and the keys ready to serve them. See the
/// module docs.
#[derive(Debug, Default)]
pub struct BlockingRegistry {
    /// Per key, its waiters in the order they blocked.
    waiters: HashMap<WaitKey, Queue>,
    /// Per database, how many of its keys have waiters: a write's keys are
    /// looked up only in the databases that have some.
    keys_per_db: Vec<usize>,
    /// The blocked clients, by id (boxed: a hash table keeps a third or
    /// more of its slots empty, and a slot holds a pointer this way).
    clients: HashMap<u64, Box<Blocked>>,
    /// The next sequence number.
    next_seq: u64,
    /// Keys signalled ready and not yet served, oldest first, and the same
    /// as a set so that a key is queued once.
    ready: VecDeque<WaitKey>,
    ready_set: HashSet<WaitKey>,
    /// Blocked clients with a deadline (`clients_in_timeout_table`).
    with_timeout: usize,
}

impl BlockingRegistry {
    /// How many clients are blocked (`blocked_clients`).
    pub fn blocked_clients(&self) -> usize {
        self.clients.len()
    }

    /// How many blocked clients have a timeout (`clients_in_timeout_table`).
    pub fn clients_with_timeout(&self) -> usize {
        self.with_timeout
    }

    /// How many keys have waiters.
    pub fn blocking_keys(&self) -> usize {
        self.waiters.len()
    }

    /// Whether client `id` is blocked.
    pub fn is_blocked(&self, id: u64) -> bool {
        self.clients.contains_key(&id)
    }

    /// Whether any client is blocked: the dispatcher's one check after a
    /// write when nobody waits.
    pub fn has_waiters(&self) -> bool {
        !self.clients.is_empty()
    }

    /// Whether keys wait to be served.
    pub fn has_ready(&self) -> bool {
        !self.ready.is_empty()
    }

    /// Blocks client `id` of database `db` on `keys` (duplicates count
    /// once) until `deadline`, to be served by `op`. Returns the
    /// connection's side of the wait. A client is blocked at most once; a
    /// second call replaces nothing and is a bug in the caller, so it is
    /// answered as an immediate timeout rather than corrupting the queues.
    pub fn block(
        &mut self,
        id: u64,
        db: usize,
        keys: &[Bytes],
        deadline: Option<std::time::Instant>,
        op: WaitOp,
    ) -> BlockWait {
        let (wake, reply) = oneshot::channel();
        let timeout_reply = op.get().timeout_reply();
        if self.clients.contains_key(&id) {
            let _ = wake.send(Bytes::from_static(timeout_reply));
            return BlockWait {
                reply,
                deadline,
                timeout_reply,
            };
        }
        let mut own: Vec<(Arc<[u8]>, u64)> = Vec::new();
        for key in keys {
            if own.iter().any(|(k, _)| **k == key[..]) {
                continue;
            }
            let seq = self.next_seq;
            self.next_seq += 1;
            let name = match self.waiters.get_key_value(&(db, &key[..]) as &dyn KeyRef) {
                // Already awaited: its queue's copy of the name is shared.
                Some((wait_key, _)) => Arc::clone(&wait_key.key),
                // A copy: the argument may share the connection's read
                // buffer, which a long wait must not pin.
                None => Arc::from(&key[..]),
            };
            match self.waiters.get_mut(&(db, &key[..]) as &dyn KeyRef) {
                Some(queue) => queue.push((seq, id)),
                None => {
                    let wait_key = WaitKey {
                        db,
                        key: Arc::clone(&name),
                    };
                    self.waiters.insert(wait_key, Queue::One(seq, id));
                    if self.keys_per_db.len() <= db {
                        self.keys_per_db.resize(db + 1, 0);
                    }
                    self.keys_per_db[db] += 1;
                }
            }
            own.push((name, seq));
        }
        let keys = if own.len() == 1 {
            let Some(one) = own.pop() else {
                unreachable!("one key")
            };
            Keys::One([one])
        } else {
            Keys::Many(own.into_boxed_slice())
        };
        let has_timeout = deadline.is_some();
        self.with_timeout += usize::from(has_timeout);
        self.clients.insert(
            id,
            Box::new(Blocked {
                db,
                keys,
                op,
                wake,
                has_timeout,
            }),
        );
        BlockWait {
            reply,
            deadline,
            timeout_reply,
        }
    }

    /// Removes client `id` from every queue. Returns its entry when it was
    /// blocked (then nothing was sent to it yet).
    fn remove(&mut self, id: u64) -> Option<Box<Blocked>> {
        let blocked = self.clients.remove(&id)?;
        self.with_timeout -= usize::from(blocked.has_timeout);
        for (key, seq) in blocked.keys.as_slice() {
            let lookup = (blocked.db, &key[..]);
            if let Some(queue) = self.waiters.get_mut(&lookup as &dyn KeyRef)
                && queue.remove(*seq)
            {
                self.waiters.remove(&lookup as &dyn KeyRef);
                self.keys_per_db[blocked.db] -= 1;
            }
        }
        Some(blocked)
    }

    /// Ends client `id`'s wait without replying (its deadline passed and it
    /// replies itself, or it disconnected). Returns whether it was still
    /// blocked: if not, it was served or unblocked and its reply is in its
    /// channel.
    pub fn unblock(&mut self, id: u64) -> bool {
        self.remove(id).is_some()
    }

    /// `CLIENT UNBLOCK`: ends client `id`'s wait with its timeout reply, or
    /// with `error` (a full error text without the `-`). Returns whether it
    /// was blocked.
    pub fn unblock_with(&mut self, id: u64, error: Option<&str>) -> bool {
        let Some(blocked) = self.remove(id) else {
            return false;
        };
        let reply = match error {
            Some(message) => {
                let mut out = BytesMut::new();
                redigo_resp::encode::error(&mut out, message);
                out.freeze()
            }
            None => Bytes::from_static(blocked.op.get().timeout_reply()),
        };
        // The receiver is gone only if the connection is closing.
        let _ = blocked.wake.send(reply);
        true
    }

    /// Queues `key` of database `db` as ready if a client waits on it.
    pub fn signal(&mut self, db: usize, key: &[u8]) {
        if self.clients.is_empty() {
            return;
        }
        let lookup = (db, key);
        if let Some((wait_key, _)) = self.waiters.get_key_value(&lookup as &dyn KeyRef)
            && !self.ready_set.contains(&lookup as &dyn KeyRef)
        {
            let wait_key = wait_key.clone();
            self.ready_set.insert(wait_key.clone());
            self.ready.push_back(wait_key);
        }
    }

    /// Queues each of `keys` as ready in every database where a client
    /// waits on it: a write may have added the key to another database
    /// than the client's (`MOVE`, `COPY ... DB`), and serving checks what
    /// is really there. Only databases with waiters are looked at.
    pub fn signal_keys<'k>(&mut self, keys: impl IntoIterator<Item = &'k Bytes>) {
        if self.clients.is_empty() {
            return;
        }
        for key in keys {
            for db in 0..self.keys_per_db.len() {
                if self.keys_per_db[db] > 0 {
                    self.signal(db, key);
                }
            }
        }
    }

    /// Queues every key database `db` has waiters on (`SWAPDB`, Redis's
    /// `scanDatabaseForReadyKeys`; serving checks which exist).
    pub fn signal_database(&mut self, db: usize) {
        let keys: Vec<Arc<[u8]>> = self
            .waiters
            .keys()
            .filter(|k| k.db == db)
            .map(|k| Arc::clone(&k.key))
            .collect();
        for key in &keys {
            self.signal(db, key);
        }
    }

    /// The first waiter of `key` after sequence number `after`.
    fn next_waiter(&self, key: &WaitKey, after: Option<u64>) -> Option<(u64, u64)> {
        self.waiters.get(key)?.after(after)
    }
}

/// Serves the clients waiting on ready keys, until no key is ready (Redis's
/// `handleClientsBlockedOnKeys`, see the module docs). Call it after a
/// command (or a transaction) has finished, under the keyspace lock.
/// Returns how many clients were served; their replies are handed over as
/// [`hand_over`] says.
pub fn serve_ready(
    registry: &mut BlockingRegistry,
    store: &mut Store,
    propagation: &mut PropagationLog,
    now_ms: u64,
    server: &ServerState,
) -> usize {
    let aof_on = propagation.aof().is_some();
    let mut served = 0;
    while let Some(ready) = registry.ready.pop_front() {
        registry.ready_set.remove(&ready);
        let mut cursor = None;
        while let Some((seq, id)) = registry.next_waiter(&ready, cursor) {
            cursor = Some(seq);
            if !key_exists(store, &ready, now_ms) {
                break;
            }
            let Some(blocked) = registry.clients.get(&id) else {
                continue;
            };
            let mut ctx = ServeContext {
                store: &mut *store,
                propagation: &mut *propagation,
                db: ready.db,
                now_ms,
                wrote: Vec::new(),
                server,
            };
            let Some(reply) = blocked.op.get().serve(&mut ctx, &ready.key) else {
                continue;
            };
            let wrote = std::mem::take(&mut ctx.wrote);
            if let Some(blocked) = registry.remove(id) {
                hand_over(server, aof_on, id, blocked.wake, reply);
            }
            served += 1;
            for key in &wrote {
                registry.signal(ready.db, key);
            }
        }
    }
    served
}

/// Gives served client `id` its `reply`. With the AOF off nothing waits, so the reply goes to
/// the client's outbox, behind anything queued for it before, and the
/// serving task writes it at the end of its batch, straight to the socket
/// when the client is idle (see [`crate::delivery`]): no wake-up of the
/// served connection stands between the push and the reply. The channel
/// then carries an empty reply, which tells the connection that its reply
/// is in its outbox. With the AOF on, the reply goes through the channel
/// and the connection holds it until the serve's write is committed.
fn hand_over(
    server: &ServerState,
    aof_on: bool,
    id: u64,
    wake: oneshot::Sender<Bytes>,
    reply: Bytes,
) {
    if !aof_on && let Some(handle) = server.clients.get(id) {
        let mut state = handle.lock();
        if !state.kill_requested {
            state.pubsub.queued.extend_from_slice(&reply);
            server.pending_writes.push(&handle, &mut state);
        }
        drop(state);
        let _ = wake.send(Bytes::new());
        return;
    }
    let _ = wake.send(reply);
}

fn key_exists(store: &mut Store, key: &WaitKey, now_ms: u64) -> bool {
    store
        .db(key.db, now_ms)
        .map(|mut db| db.type_of(&key.key).is_some())
        .unwrap_or(false)
}

/// Redis's `getTimeoutFromObjectOrReply` in seconds: the timeout argument
/// of a blocking command, as milliseconds (`0` = for ever), or the error
/// reply. Accepted as Redis's `string2ld` accepts a long double (decimal or
/// hexadecimal, no leading space, not NaN), then `ceil(seconds * 1000)`;
/// a value whose milliseconds do not fit a signed 64-bit integer (an
/// infinity included) is "negative", as C's conversion makes it there.
pub fn parse_timeout_seconds(arg: &[u8]) -> Result<u64, &'static str> {
    const NOT_A_FLOAT: &str = "ERR timeout is not a float or out of range";
    const NEGATIVE: &str = "ERR timeout is negative";
    let value = redigo_store::numeric::LongDouble::parse(arg).ok_or(NOT_A_FLOAT)?;
    if !value.is_finite() {
        return Err(NEGATIVE);
    }
    // The long double's shortest decimal form, read back as a double: exact
    // enough for milliseconds, and it reads hexadecimal input too.
    let seconds: f64 = value.format_human().parse().map_err(|_| NOT_A_FLOAT)?;
    let ms = (seconds * 1000.0).ceil();
    // 2^63: the first value a C `long long` cannot hold.
    if !(0.0..9_223_372_036_854_775_808.0).contains(&ms) {
        return Err(NEGATIVE);
    }
    Ok(ms as u64)
}

/// The deadline of a wait of `timeout_ms` milliseconds from now (`0` = for
/// ever; a deadline too far to represent is for ever too).
pub fn deadline_after(timeout_ms: u64) -> Option<std::time::Instant> {
    if timeout_ms == 0 {
        return None;
    }
    std::time::Instant::now().checked_add(std::time::Duration::from_millis(timeout_ms))
}

#[cfg(test)]
mod tests;
