//! The server cron: the active expiry cycle and statistics sampling.
//!
//! Like Redis's `activeExpireCycle`, every `1/hz` seconds the cycle removes
//! keys whose TTL passed, with bounded effort: rounds of at most
//! [`KEYS_PER_ROUND`] keys, each under its own short dataset lock so clients
//! interleave, repeated while rounds come back full (more keys are due) and
//! the tick's time budget ([`TIME_BUDGET_PERCENT`] of the tick) lasts. Each
//! removed key counts in `expired_keys`, is propagated as `DEL` and fires
//! an `expired` keyspace event.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use redigo_aof::Record;
use tokio::task::JoinHandle;

use crate::background_free::BackgroundFreer;
use crate::dataset::{self, SharedDataset};
use crate::pubsub::notifications::{self, EventClass};
use crate::state::{ServerState, unix_time_ms};

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
            // A trim is for memory already freed: wait until the
            // background freer has freed what it was given.
            let freer_idle = dataset::lock(&dataset)
                .freer()
                .is_none_or(BackgroundFreer::is_idle);
            if freer_idle && server.memory_release.take_due() {
                // A walk of the whole heap: off the runtime's threads, with
                // no lock held.
                let server = Arc::clone(&server);
                let _ = tokio::task::spawn_blocking(move || server.memory_release.trim()).await;
            }
        }
    })
}

/// One tick of active expiry; returns how many keys it removed.
pub(crate) fn run_cycle(server: &ServerState, dataset: &SharedDataset, budget: Duration) -> usize {
    let started = Instant::now();
    let mut removed_total = 0;
    // CLIENT PAUSE (either mode) stops expiry, as Redis's
    // `activeExpireCycle` does, so the dataset holds still.
    if server.pause.mode().is_some() {
        return 0;
    }
    loop {
        let (removed, aof) = {
            let mut data = dataset::lock(dataset);
            let expired = data.store.reap(unix_time_ms(), KEYS_PER_ROUND);
            for key in &expired {
                data.propagation.record(key.db, || Record::del(&key.key));
                // Published under the dataset lock, as every publish is
                // (see `crate::pubsub`); one atomic load while off.
                notifications::notify(
                    server,
                    None,
                    EventClass::EXPIRED,
                    "expired",
                    &key.key,
                    key.db,
                );
            }
            // WATCH and client tracking see the expired keys at once (the
            // tracking table's invalidations, a broadcast of the round's).
            if !expired.is_empty() {
                let now = unix_time_ms();
                crate::watch::apply_key_signals(server, &mut data.store, false, now, None);
                server.tracking.broadcast(server, None);
            }
            data.flush_propagation();
            data.dispose_garbage();
            (expired.len(), data.aof().map(|live| Arc::clone(&live.aof)))
        };
        // The round's notifications and invalidations go out now (see
        // `crate::delivery`).
        server.pending_writes.flush(&server.stats);
        removed_total += removed;
        server
            .stats
            .expired_keys
            .fetch_add(removed as u64, Ordering::Relaxed);
        if removed < KEYS_PER_ROUND || started.elapsed() >= budget {
            if removed_total > 0 {
                // The DELs were only queued: no client waits on them.
                if let Some(aof) = aof {
                    aof.flush_soon();
                }
            }
            return removed_total;
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use redigo_store::{Expiry, SetOptions, SetTtl};

    use super::*;
    use crate::config::Config;
    use crate::dataset::{Dataset, PropagationSink};
    use crate::propagation::PropagatedCommand;
    use crate::stats::Stats;

    /// Collects what the dataset hands over, as the AOF writer would.
    struct Collect(Arc<Mutex<Vec<PropagatedCommand>>>);

    impl PropagationSink for Collect {
        fn append(&mut self, records: std::vec::Drain<'_, PropagatedCommand>) -> u64 {
            let mut collected = self.0.lock().unwrap();
            collected.extend(records);
            collected.len() as u64
        }
    }

    fn setup(
        keys: usize,
    ) -> (
        ServerState,
        SharedDataset,
        Arc<Mutex<Vec<PropagatedCommand>>>,
    ) {
        let config = Config {
            aof_enabled: true,
            ..Config::default()
        };
        let mut dataset = Dataset::new(&config);
        let collected = Arc::new(Mutex::new(Vec::new()));
        dataset.set_sink(Box::new(Collect(Arc::clone(&collected))));
        let past = unix_time_ms() - 10_000;
        let mut db = dataset.store.db(2, past).unwrap();
        for i in 0..keys {
            let options = SetOptions {
                ttl: SetTtl::Expire(Expiry::Millis(1)),
                ..SetOptions::default()
            };
            db.set(format!("k{i}").as_bytes(), b"v", options).unwrap();
        }
        db.set(b"forever", b"v", SetOptions::default()).unwrap();
        let state = ServerState::new(config, None, None);
        (state, dataset.shared(), collected)
    }

    #[test]
    fn a_cycle_removes_due_keys_in_rounds_counts_and_propagates_them() {
        let keys = KEYS_PER_ROUND * 3 + 5;
        let (state, dataset, collected) = setup(keys);
        let removed = run_cycle(&state, &dataset, Duration::from_secs(5));
        assert_eq!(removed, keys);
        assert_eq!(Stats::get(&state.stats.expired_keys), keys as u64);
        let records = collected.lock().unwrap();
        assert_eq!(records.len(), keys);
        assert!(records.iter().all(|r| r.db == 2 && r.args[0] == "DEL"));
        let mut data = dataset::lock(&dataset);
        assert_eq!(data.store.db(2, unix_time_ms()).unwrap().dbsize(), 1);
    }

    #[test]
    fn a_cycle_stops_when_its_time_budget_is_spent() {
        let keys = KEYS_PER_ROUND * 4;
        let (state, dataset, _) = setup(keys);
        // A zero budget allows exactly one round.
        assert_eq!(run_cycle(&state, &dataset, Duration::ZERO), KEYS_PER_ROUND);
    }

    #[test]
    fn lazily_expired_keys_are_counted_and_propagated_after_a_batch() {
        let (state, dataset, collected) = setup(3);
        let mut data = dataset::lock(&dataset);
        let mut db = data.store.db(2, unix_time_ms()).unwrap();
        assert_eq!(db.get(b"k0").unwrap(), None);
        assert_eq!(db.get(b"k1").unwrap(), None);
        data.finish_batch(&state.stats);
        assert_eq!(Stats::get(&state.stats.expired_keys), 2);
        let records = collected.lock().unwrap();
        let keys: Vec<&[u8]> = records.iter().map(|r| r.args[1].as_ref()).collect();
        assert_eq!(keys, [&b"k0"[..], b"k1"]);
    }
}
