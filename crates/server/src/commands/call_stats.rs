//! Per-command counters for `INFO commandstats`: calls, time spent, and
//! calls rejected before running or failed while running.
//!
//! The map is built once from the command table and never changes shape, so
//! lookups need no lock; the counters are relaxed atomics.
//!
//! Every command runs through [`CommandStats::of`], so it finds a spec's
//! counters by the spec's address (every spec the server runs is one of the
//! table's `'static` specs) with one multiplication as the hash, rather than
//! hashing the name's bytes.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};

use super::CommandTable;
use super::spec::CommandSpec;

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

/// Hashes a spec's address (the only key [`CommandStats::by_spec`] holds):
/// a multiplication by an odd constant spreads the aligned addresses over
/// the table's buckets (hashbrown takes the top bits).
#[derive(Default)]
struct AddressHasher(u64);

impl Hasher for AddressHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // Not used for `usize` keys; folded in for completeness.
        for &byte in bytes {
            self.0 = (self.0 ^ u64::from(byte)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }

    fn write_usize(&mut self, address: usize) {
        self.0 = (address as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

/// Counters for every command, by full name (`get`, `config|get`) and by
/// spec.
#[derive(Debug)]
pub struct CommandStats {
    /// Every command's counters, in no particular order.
    counters: Vec<(&'static str, CommandCounters)>,
    /// Index into `counters` by full name.
    by_name: HashMap<&'static str, usize, foldhash::fast::RandomState>,
    /// Index into `counters` by the spec's address.
    by_spec: HashMap<usize, usize, BuildHasherDefault<AddressHasher>>,
}

impl CommandStats {
    /// Zeroed counters for every command of `table`.
    pub fn new(table: &CommandTable) -> CommandStats {
        let mut stats = CommandStats {
            counters: Vec::new(),
            by_name: HashMap::default(),
            by_spec: HashMap::default(),
        };
        for spec in table.iter() {
            stats.add(spec);
            for sub in spec.subcommands {
                stats.add(sub);
            }
        }
        stats
    }

    fn add(&mut self, spec: &'static CommandSpec) {
        let index = self.counters.len();
        self.counters.push((spec.name, CommandCounters::default()));
        self.by_name.insert(spec.name, index);
        self.by_spec
            .insert(std::ptr::from_ref(spec) as usize, index);
    }

    /// The counters of `name` (a spec's full name).
    pub fn get(&self, name: &str) -> Option<&CommandCounters> {
        self.by_name.get(name).map(|&index| &self.counters[index].1)
    }

    /// The counters of `spec`, one of the command table's specs (any other
    /// spec, such as a copy, is found by its name).
    pub fn of(&self, spec: &'static CommandSpec) -> Option<&CommandCounters> {
        match self.by_spec.get(&(std::ptr::from_ref(spec) as usize)) {
            Some(&index) => Some(&self.counters[index].1),
            None => self.get(spec.name),
        }
    }

    /// Zeroes every counter (`CONFIG RESETSTAT`).
    pub fn reset(&self) {
        for (_, counters) in &self.counters {
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
            .counters
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
