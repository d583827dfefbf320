//! The server cron: the active expiry cycle and statistics sampling.
//!
//! Like Redis's `activeExpireCycle`, every `1/hz` seconds the cycle removes
//! keys whose TTL passed, with bounded effort: rounds of at most
//! [`KEYS_PER_ROUND`] keys, each under its own short dataset lock so clients
//! interleave, repeated while rounds come back full (more keys are due) and
//! the tick's time budget ([`TIME_BUDGET_PERCENT`] of the tick) lasts. Each
//! removed key counts in `expired_keys` and is propagated as `DEL`.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use tokio::task::JoinHandle;

use crate::dataset::{self, SharedDataset};
use crate::shared::{ServerState, unix_time_ms};

/// Keys one round may remove (one lock acquisition).
pub const KEYS_PER_ROUND: usize = 64;
/// Share of each tick the cycle may spend (Redis's
/// `ACTIVE_EXPIRE_CYCLE_SLOW_TIME_PERC`).
pub const TIME_BUDGET_PERCENT: u32 = 25;
/// How often `instantaneous_ops_per_sec` is sampled (Redis samples in its
/// 100 ms `serverCron` runs).
const OPS_SAMPLE_PERIOD: Duration = Duration::from_millis(100);

/// Starts the cron; abort the handle to stop it.
pub(crate) fn spawn(server: Arc<ServerState>, dataset: SharedDataset) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut next_sample = Instant::now() + OPS_SAMPLE_PERIOD;
        loop {
            let hz = server.config().hz.max(1);
            let tick = Duration::from_secs(1) / hz;
            tokio::time::sleep(tick).await;
            run_cycle(&server, &dataset, tick * TIME_BUDGET_PERCENT / 100);
            let now = Instant::now();
            if now >= next_sample {
                server.stats.sample_ops(now);
                next_sample = now + OPS_SAMPLE_PERIOD;
            }
        }
    })
}

/// One tick of active expiry; returns how many keys it removed.
pub(crate) fn run_cycle(server: &ServerState, dataset: &SharedDataset, budget: Duration) -> usize {
    let started = Instant::now();
    let mut removed_total = 0;
    loop {
        let removed = {
            let mut data = dataset::lock(dataset);
            let expired = data.store.reap(unix_time_ms(), KEYS_PER_ROUND);
            for key in &expired {
                data.propagation.record(key.db, &[b"DEL", &key.key]);
            }
            data.flush_propagation();
            expired.len()
        };
        removed_total += removed;
        server
            .stats
            .expired_keys
            .fetch_add(removed as u64, Ordering::Relaxed);
        if removed < KEYS_PER_ROUND || started.elapsed() >= budget {
            return removed_total;
        }
    }
}
