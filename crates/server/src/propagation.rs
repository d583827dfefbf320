//! The propagation log: writes recorded in deterministic form for the AOF.
//!
//! Handlers record each effective write through
//! [`ExecContext::propagate`](crate::commands::ExecContext::propagate); the
//! expiry paths record a `DEL` for every key they remove. The log lives next
//! to the store behind the keyspace lock, so records are in execution order.
//! The AOF writer drains it after each batch; while the AOF is disabled
//! nothing is recorded, so the log never grows without a consumer.

use bytes::Bytes;

/// One write to replay: the database it ran in and its arguments.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PropagatedCommand {
    /// The database index (the AOF writer emits `SELECT` when it changes).
    pub db: usize,
    /// The command and its arguments, deterministic (absolute expiry times).
    pub args: Vec<Bytes>,
}

/// Recorded writes, oldest first. See the module docs.
#[derive(Debug, Default)]
pub struct PropagationLog {
    enabled: bool,
    records: Vec<PropagatedCommand>,
}

impl PropagationLog {
    /// A log that records only when `enabled` (the AOF is on).
    pub fn new(enabled: bool) -> PropagationLog {
        PropagationLog {
            enabled,
            records: Vec::new(),
        }
    }

    /// Whether records are kept.
    pub fn is_enabled(&self) -> bool {
        self.enabled
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
