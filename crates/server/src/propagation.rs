//! The propagation log: writes recorded in deterministic form for the AOF.
//!
//! Handlers record each effective write through
//! [`ExecContext::propagate`](crate::commands::ExecContext::propagate); the
//! expiry paths record a `DEL` for every key they remove. The log lives next
//! to the store behind the keyspace lock, so records are in execution order.
//! After each batch the log hands its records to its sink (the AOF); while
//! the AOF is disabled nothing is recorded, so the log never grows without
//! a consumer. The sink lives here, beside the records, so a command that
//! turns the AOF on or off (`CONFIG SET appendonly`) can install or remove
//! it under the same lock.

use bytes::Bytes;
use redigo_store::ExpiredKey;

use crate::dataset::PropagationSink;

/// The records that open and close a transaction in the file.
const MULTI: &[u8] = b"MULTI";
const EXEC: &[u8] = b"EXEC";

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
}

impl std::fmt::Debug for PropagationLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PropagationLog")
            .field("enabled", &self.enabled)
            .field("records", &self.records.len())
            .field("sink", &self.sink.is_some())
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
    }

    /// Removes the consumer, returning it.
    pub fn take_sink(&mut self) -> Option<Box<dyn PropagationSink>> {
        self.sink.take()
    }

    /// Hands the records so far to the sink (or drops them without one).
    pub fn flush(&mut self) {
        if self.records.is_empty() {
            return;
        }
        let records = self.records.drain(..);
        if let Some(sink) = self.sink.as_mut() {
            sink.append(records);
        }
    }

    /// Final step at shutdown: hands over the last records and lets the
    /// sink flush and fsync.
    pub fn shutdown_sink(&mut self) {
        self.flush();
        if let Some(sink) = self.sink.as_mut() {
            sink.shutdown();
        }
    }

    /// Records `args` as run in database `db`.
    pub fn record(&mut self, db: usize, args: &[&[u8]]) {
        if self.enabled {
            self.push(db, args);
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
        if !self.enabled || expired.is_empty() {
            return;
        }
        let mark = mark.min(self.records.len());
        let own = self.records.split_off(mark);
        let wrap = expired.len() + own.len() > 1;
        if wrap {
            self.push(expired[0].db, &[MULTI]);
        }
        for key in expired {
            self.push(key.db, &[b"DEL", &key.key]);
        }
        self.records.extend(own);
        if wrap {
            let last_db = self.records.last().map_or(0, |record| record.db);
            self.push(last_db, &[EXEC]);
        }
    }

    fn push(&mut self, db: usize, args: &[&[u8]]) {
        self.records.push(PropagatedCommand {
            db,
            args: args.iter().map(|a| Bytes::copy_from_slice(a)).collect(),
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
        off.record(0, &[b"DEL", b"k"]);
        assert!(off.is_empty());

        let mut log = PropagationLog::new(true);
        log.record(0, &[b"SET", b"a", b"1"]);
        log.record(3, &[b"DEL", b"b"]);
        let drained: Vec<_> = log.drain().collect();
        assert_eq!(drained.len(), 2);
        assert_eq!(drained[1].db, 3);
        assert_eq!(drained[0].args[1], Bytes::from_static(b"a"));
        assert!(log.is_empty());
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
        log.record(0, &[b"SET", b"a", b"1"]);
        let mark = log.mark();
        log.record(2, &[b"SET", b"k", b"new"]);
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
        log.record(0, &[b"SET", b"x", b"1"]);
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
