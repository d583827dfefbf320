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
//! in the blocked client's database.
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

use std::collections::{HashMap, HashSet, VecDeque};
use std::fmt;

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

/// What a client waits on: a key of one database.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct WaitKey {
    /// The database index.
    pub db: usize,
    /// The key.
    pub key: Bytes,
}

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
    fn serve(&self, ctx: &mut ServeContext<'_>, key: &Bytes) -> Option<Bytes>;

    /// The reply when the wait ends by timeout or `CLIENT UNBLOCK TIMEOUT`.
    fn timeout_reply(&self) -> &'static [u8] {
        NULL_ARRAY_REPLY
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

/// One blocked client, as the registry keeps it.
#[derive(Debug)]
struct Blocked {
    db: usize,
    /// Its keys, each with its place (sequence number) in the key's queue.
    keys: Vec<(Bytes, u64)>,
    op: Box<dyn BlockedOp>,
    wake: oneshot::Sender<Bytes>,
    has_timeout: bool,
}

/// The clients blocked on keys, and the keys ready to serve them. See the
/// module docs.
#[derive(Debug, Default)]
pub struct BlockingRegistry {
    /// Per key, its waiters as `(sequence number, client id)` in the order
    /// they blocked (sequence numbers only grow, so the queue stays sorted):
    /// O(1) to add, O(log n) to find a place, a short move to remove from
    /// the middle. A key with one waiter costs one 16-byte slot, where an
    /// ordered map would allocate a whole node.
    waiters: HashMap<WaitKey, VecDeque<(u64, u64)>>,
    /// The blocked clients, by id.
    clients: HashMap<u64, Blocked>,
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
        op: Box<dyn BlockedOp>,
    ) -> BlockWait {
        let (wake, reply) = oneshot::channel();
        let timeout_reply = op.timeout_reply();
        if self.clients.contains_key(&id) {
            let _ = wake.send(Bytes::from_static(timeout_reply));
            return BlockWait {
                reply,
                deadline,
                timeout_reply,
            };
        }
        let mut own: Vec<(Bytes, u64)> = Vec::with_capacity(keys.len());
        for key in keys {
            if own.iter().any(|(k, _)| k == key) {
                continue;
            }
            // A copy: the argument may share the connection's read buffer,
            // which a long wait must not pin.
            let key = &Bytes::copy_from_slice(key);
            let seq = self.next_seq;
            self.next_seq += 1;
            self.waiters
                .entry(WaitKey {
                    db,
                    key: key.clone(),
                })
                .or_default()
                .push_back((seq, id));
            own.push((key.clone(), seq));
        }
        let has_timeout = deadline.is_some();
        self.with_timeout += usize::from(has_timeout);
        self.clients.insert(
            id,
            Blocked {
                db,
                keys: own,
                op,
                wake,
                has_timeout,
            },
        );
        BlockWait {
            reply,
            deadline,
            timeout_reply,
        }
    }

    /// Removes client `id` from every queue. Returns its entry when it was
    /// blocked (then nothing was sent to it yet).
    fn remove(&mut self, id: u64) -> Option<Blocked> {
        let blocked = self.clients.remove(&id)?;
        self.with_timeout -= usize::from(blocked.has_timeout);
        for (key, seq) in &blocked.keys {
            let wait_key = WaitKey {
                db: blocked.db,
                key: key.clone(),
            };
            if let Some(queue) = self.waiters.get_mut(&wait_key) {
                if let Ok(at) = queue.binary_search_by_key(seq, |&(s, _)| s) {
                    queue.remove(at);
                }
                if queue.is_empty() {
                    self.waiters.remove(&wait_key);
                }
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
            None => Bytes::from_static(blocked.op.timeout_reply()),
        };
        // The receiver is gone only if the connection is closing.
        let _ = blocked.wake.send(reply);
        true
    }

    /// Queues `key` of database `db` as ready if a client waits on it.
    pub fn signal(&mut self, db: usize, key: &Bytes) {
        if self.clients.is_empty() {
            return;
        }
        let wait_key = WaitKey {
            db,
            key: key.clone(),
        };
        if self.waiters.contains_key(&wait_key) && self.ready_set.insert(wait_key.clone()) {
            self.ready.push_back(wait_key);
        }
    }

    /// Queues each of `keys` as ready in every one of `databases` where a
    /// client waits on it: a write may have added the key to another
    /// database than the client's (`MOVE`, `COPY ... DB`), and serving
    /// checks what is really there.
    pub fn signal_keys<'k>(&mut self, databases: usize, keys: impl IntoIterator<Item = &'k Bytes>) {
        if self.clients.is_empty() {
            return;
        }
        for key in keys {
            for db in 0..databases {
                self.signal(db, key);
            }
        }
    }

    /// Queues every key database `db` has waiters on (`SWAPDB`, Redis's
    /// `scanDatabaseForReadyKeys`; serving checks which exist).
    pub fn signal_database(&mut self, db: usize) {
        let keys: Vec<Bytes> = self
            .waiters
            .keys()
            .filter(|k| k.db == db)
            .map(|k| k.key.clone())
            .collect();
        for key in &keys {
            self.signal(db, key);
        }
    }

    /// The first waiter of `key` after sequence number `after`.
    fn next_waiter(&self, key: &WaitKey, after: Option<u64>) -> Option<(u64, u64)> {
        let queue = self.waiters.get(key)?;
        let at = after.map_or(0, |after| queue.partition_point(|&(s, _)| s <= after));
        queue.get(at).copied()
    }
}

/// Serves the clients waiting on ready keys, until no key is ready (Redis's
/// `handleClientsBlockedOnKeys`, see the module docs). Call it after a
/// command (or a transaction) has finished, under the keyspace lock.
/// Returns how many clients were served.
pub fn serve_ready(
    registry: &mut BlockingRegistry,
    store: &mut Store,
    propagation: &mut PropagationLog,
    now_ms: u64,
    server: &ServerState,
) -> usize {
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
            let Some(reply) = blocked.op.serve(&mut ctx, &ready.key) else {
                continue;
            };
            let wrote = std::mem::take(&mut ctx.wrote);
            if let Some(blocked) = registry.remove(id) {
                let _ = blocked.wake.send(reply);
            }
            served += 1;
            for key in &wrote {
                registry.signal(ready.db, key);
            }
        }
    }
    served
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
