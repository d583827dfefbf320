//! The propagation log: writes recorded in deterministic form for the AOF.
//!
//! Handlers record each effective write through
//! [`ExecContext::propagate`](crate::commands::ExecContext::propagate); the
//! expiry paths record a `DEL` for every key they remove. Every record is
//! built by a [`Record`] builder of redigo-aof, the one set of builders,
//! and only when the AOF is on: callers pass the builder as a closure. The log lives next
//! to the store behind the keyspace lock, so records are in execution order.
//! After each batch the log hands its records to its sink (the AOF), which
//! returns the batch's sequence number; while the AOF is disabled nothing
//! is recorded, so the log never grows without a consumer. The sink lives
//! here, beside the records, and is the one owner of the live AOF
//! ([`crate::aof::Persistence`]): a command that turns the AOF on or off
//! (`CONFIG SET appendonly`) installs or removes it under the same lock,
//! and everything else that needs the AOF (the connection after its batch,
//! `INFO`, `CONFIG SET appendfsync`, `BGREWRITEAOF`, the `MISCONF` check)
//! reaches it here, under the dataset lock it already holds.

use bytes::Bytes;
use redigo_aof::Record;
use redigo_store::ExpiredKey;

use crate::aof::Persistence;
use crate::dataset::PropagationSink;

/// One write to replay: the database it ran in and its arguments.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PropagatedCommand {
    /// The database index (the AOF writer emits `SELECT` when it changes).
    pub db: usize,
    /// The command and its arguments, deterministic (absolute expiry times).
    pub args: Vec<Bytes>,
}

/// Recorded writes, oldest first, and where they go. See the module docs.
#[derive(Default)]
pub struct PropagationLog {
    enabled: bool,
    records: Vec<PropagatedCommand>,
    sink: Option<Box<dyn PropagationSink>>,
    /// The sequence number the sink gave the last records handed over
    /// since [`PropagationLog::take_appended`].
    appended: Option<u64>,
    /// Calls of [`PropagationLog::record`], counted even while nothing is
    /// kept: whether a command wrote (see [`PropagationLog::writes`]).
    writes: u64,
}

impl std::fmt::Debug for PropagationLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PropagationLog")
            .field("enabled", &self.enabled)
            .field("records", &self.records.len())
            .field("sink", &self.sink.is_some())
            .field("appended", &self.appended)
            .finish()
    }
}

impl PropagationLog {
    /// A log that records only when `enabled` (the AOF is on).
    pub fn new(enabled: bool) -> PropagationLog {
        PropagationLog {
            enabled,
            records: Vec::new(),
            sink: None,
            appended: None,
            writes: 0,
        }
    }

    /// Whether records are kept.
    pub fn is_enabled(&self) -> bool {
        self.enabled
    }

    /// Starts or stops recording (records not yet handed over are dropped
    /// when it stops).
    pub fn set_enabled(&mut self, enabled: bool) {
        self.enabled = enabled;
        if !enabled {
            self.records.clear();
        }
    }

    /// Installs the consumer of the records (the AOF writer).
    pub fn set_sink(&mut self, sink: Box<dyn PropagationSink>) {
        self.sink = Some(sink);
        // A sequence number of the previous sink means nothing to this one.
        self.appended = None;
    }

    /// Removes the consumer, returning it.
    pub fn take_sink(&mut self) -> Option<Box<dyn PropagationSink>> {
        self.appended = None;
        self.sink.take()
    }

    /// The live AOF, when the sink is it.
    pub fn aof(&self) -> Option<&Persistence> {
        self.sink.as_ref()?.live_aof()
    }

    /// Hands the records so far to the sink (or drops them without one).
    /// The sequence number the sink gives them is kept for
    /// [`PropagationLog::take_appended`].
    pub fn flush(&mut self) {
        if self.records.is_empty() {
            return;
        }
        let records = self.records.drain(..);
        if let Some(sink) = self.sink.as_mut() {
            self.appended = Some(sink.append(records));
        }
    }

    /// The sequence number the sink gave the last records handed over since
    /// the previous call (a batch's records, at its end), if any were.
    pub fn take_appended(&mut self) -> Option<u64> {
        self.appended.take()
    }

    /// Final step at shutdown: hands over the last records and lets the
    /// sink flush and fsync.
    pub fn shutdown_sink(&mut self) {
        self.flush();
        if let Some(sink) = self.sink.as_mut() {
            sink.shutdown();
        }
    }

    /// Records the record `build` makes as run in database `db`; `build`
    /// runs only when records are kept (the AOF is on).
    pub fn record(&mut self, db: usize, build: impl FnOnce() -> Record) {
        self.writes = self.writes.wrapping_add(1);
        if self.enabled {
            self.push(db, build());
        }
    }

    /// Records what one command propagates as several records, `build`'s,
    /// as run in database `db` (`SPOP key count` as one `SREM` per member).
    /// They are one unit: the dispatcher's `call` wraps a top-level
    /// command's records in `MULTI`/`EXEC` when there are several (see
    /// [`PropagationLog::wrap_since`]), and inside `EXEC` the transaction's
    /// own wrapping covers them, so nothing is wrapped here (Redis does not
    /// nest a `MULTI` either).
    pub fn record_unit(&mut self, db: usize, build: impl FnOnce() -> Vec<Record>) {
        if !self.enabled {
            return;
        }
        for record in build() {
            self.push(db, record);
        }
    }

    /// Where the next record will go: pass it to
    /// [`PropagationLog::record_expired_before`] once the command that starts
    /// here has run.
    pub fn mark(&self) -> usize {
        self.records.len()
    }

    /// Records a `DEL` for each key that the command whose records start at
    /// `mark` found expired, *ahead* of that command's own records, as Redis's
    /// `deleteExpiredKeyAndPropagate` does: the lookup that expired the key
    /// ran before the command's write. When that makes the command's records
    /// more than one, they are wrapped in `MULTI`/`EXEC`, as Redis's
    /// `propagatePendingCommands` wraps them, so a replay applies all or none.
    ///
    /// Recording them after the command instead (at the end of the batch)
    /// would replay `SET k new` then `DEL k`, losing an acknowledged write.
    pub fn record_expired_before(&mut self, mark: usize, expired: &[ExpiredKey]) {
        self.insert_expired_before(mark, expired);
        self.wrap_since(mark);
    }

    /// The `DEL`s of [`PropagationLog::record_expired_before`] without the
    /// wrapping: for commands inside `EXEC`, whose records are wrapped
    /// together by [`PropagationLog::wrap_since`] once `EXEC` ends.
    pub fn insert_expired_before(&mut self, mark: usize, expired: &[ExpiredKey]) {
        if !self.enabled || expired.is_empty() {
            return;
        }
        let mark = mark.min(self.records.len());
        let own = self.records.split_off(mark);
        for key in expired {
            self.push(key.db, Record::del(&key.key));
        }
        self.records.extend(own);
    }

    /// Wraps the records from `mark` on in `MULTI`/`EXEC` when there are
    /// more than one: they are one command's (or one transaction's) and a
    /// replay must apply all or none, as Redis 7.0's
    /// `propagatePendingCommands` wraps them (one record stays bare). The
    /// `MULTI` goes in the first record's database, so the AOF's `SELECT`
    /// comes before it, as in Redis.
    pub fn wrap_since(&mut self, mark: usize) {
        if !self.enabled || self.records.len() <= mark + 1 {
            return;
        }
        let first_db = self.records[mark].db;
        let last_db = self.records.last().map_or(0, |record| record.db);
        self.records.insert(
            mark,
            PropagatedCommand {
                db: first_db,
                args: Record::multi().into_args(),
            },
        );
        self.push(last_db, Record::exec());
    }

    /// How many writes were recorded so far, kept or not (the AOF may be
    /// off): compare two readings to learn whether a command wrote.
    pub fn writes(&self) -> u64 {
        self.writes
    }

    fn push(&mut self, db: usize, record: Record) {
        self.records.push(PropagatedCommand {
            db,
            args: record.into_args(),
        });
    }

    /// Takes every record so far, oldest first.
    pub fn drain(&mut self) -> std::vec::Drain<'_, PropagatedCommand> {
        self.records.drain(..)
    }

    /// How many records wait to be drained.
    pub fn len(&self) -> usize {
        self.records.len()
    }

    /// Whether no record waits.
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_only_when_enabled_and_drains_in_order() {
        let mut off = PropagationLog::new(false);
        off.record(0, || Record::del("k"));
        assert!(off.is_empty());

        let mut log = PropagationLog::new(true);
        log.record(0, || Record::set("a", "1"));
        log.record(3, || Record::del("b"));
        let drained: Vec<_> = log.drain().collect();
        assert_eq!(drained.len(), 2);
        assert_eq!(drained[1].db, 3);
        assert_eq!(drained[0].args[1], Bytes::from_static(b"a"));
        assert!(log.is_empty());
    }

    /// Numbers each non-empty batch, as the AOF's write queue does.
    struct Numbering(u64);

    impl PropagationSink for Numbering {
        fn append(&mut self, records: std::vec::Drain<'_, PropagatedCommand>) -> u64 {
            if records.count() > 0 {
                self.0 += 1;
            }
            self.0
        }
    }

    #[test]
    fn the_sequence_the_sink_gives_a_batch_is_kept_until_taken_and_never_crosses_sinks() {
        let mut log = PropagationLog::new(true);
        log.set_sink(Box::new(Numbering(0)));
        log.flush();
        assert_eq!(log.take_appended(), None, "nothing handed over");
        log.record(0, || Record::set("a", "1"));
        log.flush();
        log.record(0, || Record::del("a"));
        log.flush();
        assert_eq!(log.take_appended(), Some(2), "the last batch's number");
        assert_eq!(log.take_appended(), None);
        log.record(0, || Record::set("b", "1"));
        log.flush();
        log.set_sink(Box::new(Numbering(10)));
        assert_eq!(
            log.take_appended(),
            None,
            "a number of the old sink means nothing to the new one"
        );
        assert!(log.aof().is_none(), "a collector is not the live AOF");
    }

    #[test]
    fn records_are_built_only_while_recording() {
        let mut off = PropagationLog::new(false);
        off.record(0, || unreachable!("the AOF is off: no record is built"));
        assert!(off.is_empty());
    }

    fn args(log: &mut PropagationLog) -> Vec<(usize, Vec<Bytes>)> {
        log.drain().map(|r| (r.db, r.args)).collect()
    }

    fn expired(db: usize, key: &'static [u8]) -> ExpiredKey {
        ExpiredKey {
            db,
            key: Bytes::from_static(key),
        }
    }

    fn rec(db: usize, args: &[&'static [u8]]) -> (usize, Vec<Bytes>) {
        (db, args.iter().map(|a| Bytes::from_static(a)).collect())
    }

    #[test]
    fn expired_keys_go_before_the_command_that_found_them_wrapped_with_it() {
        let mut log = PropagationLog::new(true);
        log.record(0, || Record::set("a", "1"));
        let mark = log.mark();
        log.record(2, || Record::set("k", "new"));
        log.record_expired_before(mark, &[expired(2, b"k"), expired(1, b"j")]);
        assert_eq!(
            args(&mut log),
            vec![
                rec(0, &[b"SET", b"a", b"1"]),
                rec(2, &[b"MULTI"]),
                rec(2, &[b"DEL", b"k"]),
                rec(1, &[b"DEL", b"j"]),
                rec(2, &[b"SET", b"k", b"new"]),
                rec(2, &[b"EXEC"]),
            ]
        );
    }

    #[test]
    fn a_single_del_stays_bare_several_are_wrapped_and_nothing_expired_changes_nothing() {
        let mut log = PropagationLog::new(true);
        let mark = log.mark();
        log.record_expired_before(mark, &[expired(0, b"k")]);
        let mark = log.mark();
        log.record(0, || Record::set("x", "1"));
        log.record_expired_before(mark, &[]);
        let mark = log.mark();
        log.record_expired_before(mark, &[expired(0, b"a"), expired(0, b"b")]);
        assert_eq!(
            args(&mut log),
            vec![
                rec(0, &[b"DEL", b"k"]),
                rec(0, &[b"SET", b"x", b"1"]),
                rec(0, &[b"MULTI"]),
                rec(0, &[b"DEL", b"a"]),
                rec(0, &[b"DEL", b"b"]),
                rec(0, &[b"EXEC"]),
            ]
        );

        let mut off = PropagationLog::new(false);
        off.record_expired_before(0, &[expired(0, b"k")]);
        assert!(off.is_empty());
    }
}
