//! [`ExecContext`]: everything a handler may touch while it runs.

use std::sync::atomic::Ordering;

use bytes::{Bytes, BytesMut};
use redigo_aof::Record;
use redigo_resp::encode;
use redigo_store::{DbHandle, Store};

use crate::blocking::{BlockingRegistry, WaitOp};
use crate::client::ClientState;
use crate::propagation::PropagationLog;
use crate::pubsub::notifications::{self, EventClass};
use crate::state::{ServerState, ShutdownMode};

/// Out-of-band effects a command asks for; the connection acts on them after
/// the batch's replies are written.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Effects {
    /// Close the connection once the replies so far are sent (`QUIT`,
    /// protocol errors, `CLIENT KILL` of oneself).
    pub close_after_reply: bool,
    /// Stop the server (`SHUTDOWN`).
    pub shutdown: Option<ShutdownMode>,
    /// A command that reads or writes keys ran (flagged `readonly` or
    /// `write`, not refused): the replies may show data, so under the AOF
    /// they wait until every write they could show is committed (see
    /// `network::connection`).
    pub touched_keyspace: bool,
    /// The command was not run because of `CLIENT PAUSE`: the connection
    /// keeps it, waits for the pause to end and runs it again (see
    /// [`crate::client_pause`]).
    pub postponed: bool,
    /// The batch served clients blocked on keys: the connection lets their
    /// connections run before it writes its own replies (see
    /// `network::connection`).
    pub served_blocked: bool,
    /// How long the batch's commands ran, µs (set by the connection, for
    /// `network::reply_deferral`).
    pub batch_us: u64,
}

/// The execution context of one command.
///
/// Built by the connection for every command of a batch, while it holds the
/// keyspace lock; so `store` and `propagation` are exclusively borrowed and no
/// `.await` can happen while a handler runs.
#[derive(Debug)]
pub struct ExecContext<'a> {
    /// The keyspace. The selected database is `client.db`.
    pub store: &'a mut Store,
    /// Writes recorded for the AOF (see [`ExecContext::propagate`]).
    pub propagation: &'a mut PropagationLog,
    /// The calling connection's state.
    pub client: &'a mut ClientState,
    /// Shared server state: config, stats, client registry, persistence status.
    pub server: &'a ServerState,
    /// Wall-clock time of this command, in Unix milliseconds; use it for every
    /// expiry decision of the command so that it sees one instant.
    pub now_ms: u64,
    /// Wall-clock time in Unix microseconds at which the next
    /// [`call`](super::dispatch) starts timing its command; each call moves
    /// it to the time its command ended, which is when the next one starts
    /// (one clock read per command, see `dispatch::call`).
    pub call_clock_us: u64,
    /// Where the reply goes. Prefer the `reply_*` methods.
    pub out: &'a mut BytesMut,
    /// Out-of-band effects requested by the command.
    pub effects: &'a mut Effects,
    /// The clients blocked on keys (see [`crate::blocking`]).
    pub blocking: &'a mut BlockingRegistry,
    /// Set while the command runs as part of a larger unit (a command of
    /// `EXEC` or of a script, a command replayed from the AOF), as Redis's
    /// `CLIENT_DENY_BLOCKING`: a blocking command then answers as with a
    /// zero timeout instead of blocking, and keys made ready are served
    /// when the unit, run with this unset, finishes.
    pub deny_blocking: bool,
}

impl ExecContext<'_> {
    /// The client's selected database at this command's instant: the handle
    /// every keyspace command works through. Compute the result first, then
    /// reply (the handle borrows the context).
    pub fn db(&mut self) -> DbHandle<'_> {
        // The selected index is always valid: SELECT checks it and the
        // number of databases cannot change at run time. Should that ever
        // break, database 0 is used rather than panicking.
        let index = if self.client.db < self.store.databases() {
            self.client.db
        } else {
            0
        };
        match self.store.db(index, self.now_ms) {
            Ok(db) => db,
            Err(_) => unreachable_db(),
        }
    }

    /// [`ExecContext::db`] and the reply buffer at once, for a read that
    /// streams what it finds in the store straight into the reply (no copy
    /// of the elements, e.g. `HGETALL`).
    pub fn db_and_reply(&mut self) -> (DbHandle<'_>, &mut BytesMut) {
        let index = if self.client.db < self.store.databases() {
            self.client.db
        } else {
            0
        };
        match self.store.db(index, self.now_ms) {
            Ok(db) => (db, &mut *self.out),
            Err(_) => unreachable_db(),
        }
    }

    /// Records a write in deterministic form (e.g. `SET k v PXAT <abs-ms>`
    /// rather than `EX 10`), tagged with the client's database, for the AOF.
    /// `build` makes the record with a [`Record`] builder; it runs only while
    /// the AOF is on. Call it once per effective write, after the store has
    /// changed; a command that changed nothing propagates nothing.
    pub fn propagate(&mut self, build: impl FnOnce() -> Record) {
        self.propagation.record(self.client.db, build);
    }

    /// Fires a keyspace event (Redis's `notifyKeyspaceEvent`) for `key` of
    /// the client's database: call it after each change, with Redis's
    /// event name and class (see [`crate::pubsub::notifications`]). One
    /// atomic load while notifications are off.
    pub fn notify(&mut self, class: EventClass, event: &str, key: &[u8]) {
        if self.server.pubsub.notify_flags() == 0 {
            return;
        }
        self.announce_lazy_expiry();
        let db = self.client.db;
        notifications::notify(self.server, Some(self.client), class, event, key, db);
    }

    /// Whether `key` is absent, so that writing it creates it; only looked
    /// up when `new` events (`n`) are on, false otherwise. A command that
    /// may create a key asks before writing and, if so, calls
    /// [`ExecContext::notify_new`] after (Redis fires `new` in `dbAdd`).
    pub fn creates_key(&mut self, key: &[u8]) -> bool {
        self.wants_new_events() && self.db().type_of(key).is_none()
    }

    /// Whether keyspace notifications are on (for a handler that would do
    /// extra work only to name the keys its events are about).
    pub fn notifications_on(&self) -> bool {
        self.server.pubsub.notify_flags() != 0
    }

    /// Whether `new` events are published now.
    pub fn wants_new_events(&self) -> bool {
        notifications::enabled(self.server.pubsub.notify_flags(), EventClass::NEW)
    }

    /// [`ExecContext::notify`] in database `db` rather than the client's
    /// (`MOVE`'s `move_to`, `COPY ... DB`'s `copy_to`).
    pub fn notify_in_db(&mut self, class: EventClass, event: &str, key: &[u8], db: usize) {
        if self.server.pubsub.notify_flags() == 0 {
            return;
        }
        self.announce_lazy_expiry();
        notifications::notify(self.server, Some(self.client), class, event, key, db);
    }

    /// The `new` event of a key [`ExecContext::creates_key`] found absent.
    pub fn notify_new(&mut self, key: &[u8]) {
        self.notify(EventClass::NEW, "new", key);
    }

    /// Fires `expired` for the keys the store expired lazily during this
    /// command and not yet announced (the dispatcher calls it after the
    /// handler; [`ExecContext::notify`] before each event).
    pub fn announce_lazy_expiry(&mut self) {
        if self.server.pubsub.notify_flags() == 0 {
            return;
        }
        let expired = self.store.take_unannounced_expired();
        if expired.is_empty() {
            return;
        }
        for key in expired {
            notifications::notify(
                self.server,
                Some(&mut *self.client),
                EventClass::EXPIRED,
                "expired",
                &key.key,
                key.db,
            );
        }
    }

    /// Whether this command runs inside `EXEC` (see
    /// `commands::transactions`).
    pub fn in_exec(&self) -> bool {
        self.client.multi.in_exec()
    }

    /// Whether the command must not block (Redis's `CLIENT_DENY_BLOCKING`):
    /// true inside `EXEC`, or when the caller set the
    /// [`ExecContext::deny_blocking`] field (the AOF loader, scripts). A
    /// blocking command (`BLPOP`...) then answers at once as if its timeout
    /// had expired, as Redis does inside `MULTI`, and keys made ready are
    /// served once the enclosing command (`EXEC`) has finished.
    pub fn deny_blocking(&self) -> bool {
        self.deny_blocking || self.in_exec()
    }

    /// Propagates the records `build` makes as one unit (see
    /// [`PropagationLog::record_unit`](crate::propagation::PropagationLog::record_unit)).
    pub fn propagate_unit(&mut self, build: impl FnOnce() -> Vec<Record>) {
        self.propagation.record_unit(self.client.db, build);
    }

    /// Counts a keyspace hit (`keyspace_hits` in `INFO stats`): call it when a
    /// read command found its key.
    pub fn keyspace_hit(&self) {
        self.server
            .stats
            .keyspace_hits
            .fetch_add(1, Ordering::Relaxed);
    }

    /// Counts a keyspace miss of `key` (`keyspace_misses`) and fires its
    /// `keymiss` event (class `m`): Redis's `lookupKeyRead*` does both for
    /// every read lookup that finds nothing (an expired key included),
    /// write lookups neither.
    pub fn keyspace_miss(&mut self, key: &[u8]) {
        self.keyspace_miss_without_event();
        self.notify(EventClass::KEY_MISS, "keymiss", key);
    }

    /// Counts a keyspace miss without the `keymiss` event (Redis's
    /// `LOOKUP_NONOTIFY`, or a caller that fires the events itself).
    pub fn keyspace_miss_without_event(&self) {
        self.server
            .stats
            .keyspace_misses
            .fetch_add(1, Ordering::Relaxed);
    }

    /// Whether events of `class` are published now.
    pub fn wants_event(&self, class: EventClass) -> bool {
        notifications::enabled(self.server.pubsub.notify_flags(), class)
    }

    /// `+OK`.
    pub fn reply_ok(&mut self) {
        encode::simple(self.out, "OK");
    }

    /// A status reply, e.g. `+PONG`. `\r` and `\n` become spaces.
    pub fn reply_simple(&mut self, status: &str) {
        encode::simple(self.out, status);
    }

    /// A container's `HELP` reply, as Redis's `addReplyHelp`: the usage line
    /// of `container` (upper case), each line of `lines` (the subcommands),
    /// then `HELP` itself, each line a status reply.
    pub fn reply_help(&mut self, container: &str, lines: &str) {
        self.reply_array_len(lines.lines().count() + 3);
        self.reply_simple(&format!(
            "{container} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"
        ));
        for line in lines.lines() {
            self.reply_simple(line);
        }
        self.reply_simple("HELP");
        self.reply_simple("    Prints this help.");
    }

    /// An error reply. `message` is the full text with its code and without
    /// the `-`, e.g. `ERR syntax error` (see [`super::errors`]). `\r` and `\n`
    /// become spaces, as `addReplyErrorFormat` does.
    pub fn reply_error(&mut self, message: &str) {
        self.server.stats.count_error(message);
        encode::error(self.out, message);
    }

    /// An error reply from raw bytes, for the errors where Redis quotes a
    /// client's argument byte for byte (e.g. `ERR Unsupported option \xff`).
    /// Otherwise as [`ExecContext::reply_error`].
    pub fn reply_error_bytes(&mut self, message: &[u8]) {
        self.server
            .stats
            .count_error(&String::from_utf8_lossy(message));
        encode::error(self.out, message);
    }

    /// `:n`.
    pub fn reply_integer(&mut self, n: i64) {
        encode::integer(self.out, n);
    }

    /// A bulk string.
    pub fn reply_bulk(&mut self, data: &[u8]) {
        encode::bulk(self.out, data);
    }

    /// The null bulk string `$-1`.
    pub fn reply_null(&mut self) {
        encode::null_bulk(self.out);
    }

    /// An array header `*n`; the caller then writes `n` replies.
    pub fn reply_array_len(&mut self, n: usize) {
        encode::array_header(self.out, n);
    }

    /// The null array `*-1`.
    pub fn reply_null_array(&mut self) {
        encode::null_array(self.out);
    }

    /// An array of bulk strings.
    pub fn reply_bulk_array<I, T>(&mut self, items: I)
    where
        I: IntoIterator<Item = T>,
        I::IntoIter: ExactSizeIterator,
        T: AsRef<[u8]>,
    {
        let items = items.into_iter();
        self.reply_array_len(items.len());
        for item in items {
            self.reply_bulk(item.as_ref());
        }
    }

    /// Blocks the calling client on `keys` of its database until `timeout_ms`
    /// (0 = for ever), to be served by `op` (see [`crate::blocking`]). The
    /// command writes no reply: the connection stops running the client's
    /// pipeline and waits. The caller checks [`ExecContext::deny_blocking()`]
    /// first and replies instead when it is set.
    pub fn block(&mut self, keys: &[Bytes], timeout_ms: u64, op: WaitOp) {
        let deadline = crate::blocking::deadline_after(timeout_ms);
        let wait = self
            .blocking
            .block(self.client.id, self.client.db, keys, deadline, op);
        self.client.blocked = true;
        self.client.block_wait = Some(wait);
    }

    /// The argument at `index` (the command name is 0), empty if absent.
    pub fn arg(args: &[Bytes], index: usize) -> &[u8] {
        args.get(index).map(|a| a.as_ref()).unwrap_or_default()
    }
}

/// `Store` always has database 0 (`Store::new` treats 0 databases as 1), so
/// `store.db(0, _)` cannot fail; this keeps that reasoning in one place.
#[cold]
fn unreachable_db() -> ! {
    panic!("the store has no database 0")
}

#[cfg(test)]
mod tests {
    use super::ExecContext;
    use crate::commands::harness::Harness;

    #[test]
    fn raw_error_replies_keep_their_bytes_and_are_counted() {
        let mut h = Harness::new();
        let mut out = bytes::BytesMut::new();
        let mut ctx = ExecContext {
            store: &mut h.dataset.store,
            propagation: &mut h.dataset.propagation,
            client: &mut h.client,
            server: &h.state,
            now_ms: 0,
            call_clock_us: 0,
            out: &mut out,
            effects: &mut h.effects,
            blocking: &mut h.dataset.blocking,
            deny_blocking: false,
        };
        ctx.reply_error_bytes(b"ERR Unsupported option \xff\r\n");
        assert_eq!(&out[..], b"-ERR Unsupported option \xff  \r\n");
        assert_eq!(h.state.stats.error_counts(), [("ERR".to_string(), 1)]);
    }
}
