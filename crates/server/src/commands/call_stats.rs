//! Per-command counters for `INFO commandstats`: calls, time spent, and
//! calls rejected before running or failed while running.
//!
//! The map is built once from the command table and never changes shape, so
//! lookups need no lock; the counters are relaxed atomics.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};

use super::CommandTable;

/// The counters of one command (or subcommand).
#[derive(Debug, Default)]
pub struct CommandCounters {
    /// Times the handler ran.
    pub calls: AtomicU64,
    /// Microseconds spent in the handler.
    pub usec: AtomicU64,
    /// Calls refused before running (arity, authentication).
    pub rejected_calls: AtomicU64,
    /// Calls that ran and replied with an error.
    pub failed_calls: AtomicU64,
}

/// Counters for every command, by full name (`get`, `config|get`).
#[derive(Debug)]
pub struct CommandStats {
    by_name: HashMap<&'static str, CommandCounters, foldhash::fast::RandomState>,
}

impl CommandStats {
    /// Zeroed counters for every command of `table`.
    pub fn new(table: &CommandTable) -> CommandStats {
        let mut by_name = HashMap::default();
        for spec in table.iter() {
            by_name.insert(spec.name, CommandCounters::default());
            for sub in spec.subcommands {
                by_name.insert(sub.name, CommandCounters::default());
            }
        }
        CommandStats { by_name }
    }

    /// The counters of `name` (a spec's full name).
    pub fn get(&self, name: &str) -> Option<&CommandCounters> {
        self.by_name.get(name)
    }

    /// Zeroes every counter (`CONFIG RESETSTAT`).
    pub fn reset(&self) {
        for counters in self.by_name.values() {
            for counter in [
                &counters.calls,
                &counters.usec,
                &counters.rejected_calls,
                &counters.failed_calls,
            ] {
                counter.store(0, Ordering::Relaxed);
            }
        }
    }

    /// `cmdstat_<name>:calls=..,usec=..,usec_per_call=..,rejected_calls=..,failed_calls=..`
    /// lines for the commands that were used, sorted by name.
    pub fn report_lines(&self) -> Vec<String> {
        let mut lines: Vec<(&str, String)> = self
            .by_name
            .iter()
            .filter_map(|(name, c)| {
                let calls = c.calls.load(Ordering::Relaxed);
                let usec = c.usec.load(Ordering::Relaxed);
                let rejected = c.rejected_calls.load(Ordering::Relaxed);
                let failed = c.failed_calls.load(Ordering::Relaxed);
                if calls == 0 && rejected == 0 && failed == 0 {
                    return None;
                }
                let per_call = if calls == 0 { 0.0 } else { usec as f64 / calls as f64 };
                Some((
                    *name,
                    format!(
                        "cmdstat_{name}:calls={calls},usec={usec},usec_per_call={per_call:.2},rejected_calls={rejected},failed_calls={failed}"
                    ),
                ))
            })
            .collect();
        lines.sort_unstable_by_key(|(name, _)| *name);
        lines.into_iter().map(|(_, line)| line).collect()
    }
}
