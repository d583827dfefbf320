//! Server statistics reported by `INFO stats` and reset by `CONFIG RESETSTAT`.
//!
//! Counters are relaxed atomics: they are bumped from every connection task
//! and only ever read for reporting, so no ordering with other memory is
//! needed.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

/// How many samples `instantaneous_ops_per_sec` averages (Redis's
/// `STATS_METRIC_SAMPLES`).
const OPS_SAMPLES: usize = 16;

/// The counters of `INFO stats`.
#[derive(Debug)]
pub struct Stats {
    /// Connections accepted.
    pub total_connections_received: AtomicU64,
    /// Commands executed.
    pub total_commands_processed: AtomicU64,
    /// Keys removed because they expired (lazily or actively).
    pub expired_keys: AtomicU64,
    /// Reads that found their key.
    pub keyspace_hits: AtomicU64,
    /// Reads that did not.
    pub keyspace_misses: AtomicU64,
    /// Connections refused because of `maxclients`.
    pub rejected_connections: AtomicU64,
    /// Error replies sent.
    pub total_error_replies: AtomicU64,
    /// Bytes read from clients.
    pub total_net_input_bytes: AtomicU64,
    /// Bytes written to clients.
    pub total_net_output_bytes: AtomicU64,
    /// Highest `used_memory` seen (`used_memory_peak`).
    pub used_memory_peak: AtomicU64,
    /// Clients closed for `client-output-buffer-limit`.
    pub client_output_buffer_limit_disconnections: AtomicU64,
    ops: Mutex<OpsSampler>,
    /// Error replies by error code (`INFO errorstats`).
    errors_by_code: Mutex<BTreeMap<String, u64>>,
}

/// Most distinct error codes tracked; Redis caps its table at 128 too
/// (`ERRORSTATS_LIMIT`), so a client cannot grow it without bound.
const ERROR_CODES_LIMIT: usize = 128;

#[derive(Debug)]
struct OpsSampler {
    samples: [u64; OPS_SAMPLES],
    next: usize,
    last_time: Instant,
    last_count: u64,
}

impl Default for Stats {
    fn default() -> Stats {
        Stats {
            total_connections_received: AtomicU64::new(0),
            total_commands_processed: AtomicU64::new(0),
            expired_keys: AtomicU64::new(0),
            keyspace_hits: AtomicU64::new(0),
            keyspace_misses: AtomicU64::new(0),
            rejected_connections: AtomicU64::new(0),
            total_error_replies: AtomicU64::new(0),
            total_net_input_bytes: AtomicU64::new(0),
            total_net_output_bytes: AtomicU64::new(0),
            used_memory_peak: AtomicU64::new(0),
            client_output_buffer_limit_disconnections: AtomicU64::new(0),
            ops: Mutex::new(OpsSampler {
                samples: [0; OPS_SAMPLES],
                next: 0,
                last_time: Instant::now(),
                last_count: 0,
            }),
            errors_by_code: Mutex::new(BTreeMap::new()),
        }
    }
}

impl Stats {
    /// Zeroes every counter (`CONFIG RESETSTAT`).
    pub fn reset(&self) {
        for counter in [
            &self.total_connections_received,
            &self.total_commands_processed,
            &self.expired_keys,
            &self.keyspace_hits,
            &self.keyspace_misses,
            &self.rejected_connections,
            &self.total_error_replies,
            &self.total_net_input_bytes,
            &self.total_net_output_bytes,
            &self.client_output_buffer_limit_disconnections,
        ] {
            counter.store(0, Ordering::Relaxed);
        }
        self.errors_by_code
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
        let mut ops = self.ops.lock().unwrap_or_else(|e| e.into_inner());
        ops.samples = [0; OPS_SAMPLES];
        ops.last_count = 0;
        ops.last_time = Instant::now();
    }

    /// Takes one sample of the command rate, like Redis's
    /// `trackInstantaneousMetric` (called about every 100 ms by the cron).
    pub fn sample_ops(&self, now: Instant) {
        let count = self.total_commands_processed.load(Ordering::Relaxed);
        let mut ops = self.ops.lock().unwrap_or_else(|e| e.into_inner());
        let elapsed_ms = now.duration_since(ops.last_time).as_millis() as u64;
        if elapsed_ms == 0 {
            return;
        }
        let delta = count.saturating_sub(ops.last_count);
        let slot = ops.next;
        ops.samples[slot] = delta * 1000 / elapsed_ms;
        ops.next = (slot + 1) % OPS_SAMPLES;
        ops.last_time = now;
        ops.last_count = count;
    }

    /// The average of the recent samples.
    pub fn instantaneous_ops_per_sec(&self) -> u64 {
        let ops = self.ops.lock().unwrap_or_else(|e| e.into_inner());
        ops.samples.iter().sum::<u64>() / OPS_SAMPLES as u64
    }

    /// Counts an error reply; `message` is its full text (`ERR ...`).
    pub fn count_error(&self, message: &str) {
        self.total_error_replies.fetch_add(1, Ordering::Relaxed);
        let code = message.split(' ').next().unwrap_or_default();
        let mut by_code = self
            .errors_by_code
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if let Some(count) = by_code.get_mut(code) {
            *count += 1;
        } else if by_code.len() < ERROR_CODES_LIMIT {
            by_code.insert(code.to_string(), 1);
        }
    }

    /// `(code, count)` of every error code replied so far.
    pub fn error_counts(&self) -> Vec<(String, u64)> {
        self.errors_by_code
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .map(|(code, &count)| (code.clone(), count))
            .collect()
    }

    /// Records a `used_memory` reading for the peak.
    pub fn note_memory(&self, used: u64) {
        self.used_memory_peak.fetch_max(used, Ordering::Relaxed);
    }

    /// Reads a counter.
    pub fn get(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn instantaneous_ops_average_the_recent_samples() {
        let stats = Stats::default();
        let start = Instant::now();
        // Two 100 ms windows at 1000 and 3000 commands per second.
        stats.total_commands_processed.store(100, Ordering::Relaxed);
        stats.sample_ops(start + Duration::from_millis(100));
        stats.total_commands_processed.store(400, Ordering::Relaxed);
        stats.sample_ops(start + Duration::from_millis(200));
        let expected = (1000 + 3000) / OPS_SAMPLES as u64;
        assert!(
            (expected - 2..=expected + 2).contains(&stats.instantaneous_ops_per_sec()),
            "{}",
            stats.instantaneous_ops_per_sec()
        );
        stats.reset();
        assert_eq!(stats.instantaneous_ops_per_sec(), 0);
    }

    #[test]
    fn error_codes_are_counted_by_their_first_word_and_capped() {
        let stats = Stats::default();
        stats.count_error("ERR syntax error");
        stats.count_error("ERR value is not an integer or out of range");
        stats.count_error("WRONGTYPE Operation against a key holding the wrong kind of value");
        assert_eq!(
            stats.error_counts(),
            [("ERR".to_string(), 2), ("WRONGTYPE".to_string(), 1)]
        );
        for i in 0..ERROR_CODES_LIMIT * 2 {
            stats.count_error(&format!("CODE{i} message"));
        }
        assert_eq!(stats.error_counts().len(), ERROR_CODES_LIMIT);
        assert_eq!(
            Stats::get(&stats.total_error_replies),
            3 + 2 * ERROR_CODES_LIMIT as u64
        );
    }
}
