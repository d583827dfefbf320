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
            self.records.push(PropagatedCommand {
                db,
                args: args.iter().map(|a| Bytes::copy_from_slice(a)).collect(),
            });
        }
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
}
