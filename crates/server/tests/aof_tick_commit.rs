//! The end-of-tick commit under `appendfsync always` (one I/O thread): one
//! write and fsync for every connection that ran in a tick, a fallback for a
//! runtime that never idles, a slow disk sending fsyncs back to the fsync
//! thread, and write/fsync failures still holding replies until durable.

mod aof_support;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use aof_support::{
    COUNTED_INLINE_FSYNC_LIMIT, faulty_factory, live_model, replay_model, set, start, wait_until,
};
use redigo_aof::FsyncPolicy;
use redigo_server::ServerState;
use redigo_server::aof::{AofOptions, Persistence};
use redigo_server::dataset::SharedDataset;
use redigo_server::runtime::ServerRuntime;

const PATIENCE: Duration = Duration::from_secs(10);

struct Ticking {
    _dir: tempfile::TempDir,
    runtime: ServerRuntime,
    state: Arc<ServerState>,
    data: SharedDataset,
    persistence: Persistence,
    faults: redigo_aof::FaultInjector,
}

/// An AOF under `appendfsync always` in a temporary directory, with a
/// fault-injecting writer, attached to the end-of-tick commit of a
/// one-thread server runtime.
fn start_ticking() -> Arc<Ticking> {
    let dir = tempfile::tempdir().unwrap();
    let runtime = ServerRuntime::new(1).unwrap();
    assert!(
        runtime.tick_commit().is_some(),
        "one I/O thread commits at tick end"
    );
    let (factory, injector) = faulty_factory();
    let options = AofOptions {
        open_writer: factory,
        tick_commit: runtime.tick_commit(),
        max_inline_fsync: COUNTED_INLINE_FSYNC_LIMIT,
        ..AofOptions::default()
    };
    let (state, data, persistence) = start(dir.path(), "always", options);
    let faults = injector.lock().unwrap().clone().unwrap();
    // These tests count where fsyncs run, which depends on how long each
    // takes: only the stalls a test injects may be slow, never this
    // machine's disk (a real fsync over the inline limit under load would
    // send the next ones to the fsync thread), nor its scheduler (hence the
    // raised limit above).
    faults.skip_real_syncs();
    Arc::new(Ticking {
        _dir: dir,
        runtime,
        state,
        data,
        persistence,
        faults,
    })
}

impl Ticking {
    /// Sets `key` in db 0 as connection `client` would, and waits for the
    /// reply to be allowed out; checks it was not allowed early.
    async fn write(&self, client: u64, key: &str) {
        set(&self.state, &self.data, 0, key.as_bytes(), b"v", None);
        let aof = &self.persistence.aof;
        let seq = aof.queued_seq();
        aof.persist(seq, client).await;
        assert!(aof.committed() >= seq, "replied before durable");
    }

    /// Spawns `clients` connections writing once each, all in one tick.
    async fn write_all_at_once(self: &Arc<Self>, clients: u64, prefix: &str) {
        let tasks: Vec<_> = (0..clients)
            .map(|client| {
                let this = Arc::clone(self);
                let key = format!("{prefix}:{client}");
                tokio::spawn(async move { this.write(client, &key).await })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
    }

    /// Runs `future` on the runtime; fails the test if replies are still
    /// held after [`PATIENCE`] instead of hanging it.
    fn run<F: std::future::Future>(&self, future: F) -> F::Output {
        self.runtime.block_on(async {
            tokio::time::timeout(PATIENCE, future)
                .await
                .expect("every reply released in time")
        })
    }

    fn finish(&self) {
        let aof = &self.persistence.aof;
        aof.shutdown();
        assert_eq!(replay_model(aof.path()), live_model(&self.data));
    }
}

#[test]
fn one_commit_covers_every_connection_that_ran_in_the_tick() {
    const CLIENTS: u64 = 20;
    let ticking = start_ticking();
    let aof = Arc::clone(&ticking.persistence.aof);
    let (fsyncs, inline) = (aof.fsyncs(), aof.inline_fsyncs());
    let runner = Arc::clone(&ticking);
    ticking.run(async { runner.write_all_at_once(CLIENTS, "k").await });
    let fsyncs = aof.fsyncs() - fsyncs;
    let inline = aof.inline_fsyncs() - inline;
    println!("{CLIENTS} clients: {fsyncs} fsyncs, {inline} at tick end");
    assert!(inline >= 1, "committed at the end of the tick");
    // One commit; the fsync thread's periodic check may add one.
    assert!(
        fsyncs <= 2,
        "{fsyncs} fsyncs for one tick of {CLIENTS} clients"
    );
    assert_eq!(live_model(&ticking.data).len(), CLIENTS as usize);
    ticking.finish();
}

#[test]
fn a_runtime_that_never_idles_still_commits() {
    let ticking = start_ticking();
    let tick = ticking.runtime.tick_commit().unwrap();
    let aof = Arc::clone(&ticking.persistence.aof);
    let inline = aof.inline_fsyncs();
    let runner = Arc::clone(&ticking);
    ticking.run(async move {
        // Always another task to run, as with clients pipelining without
        // pause: the runtime never parks, so its park hook never runs.
        let done = Arc::new(AtomicBool::new(false));
        let busy = {
            let done = Arc::clone(&done);
            tokio::spawn(async move {
                while !done.load(Ordering::Acquire) {
                    // What a connection does after each batch.
                    tick.run_if_overdue();
                    tokio::task::yield_now().await;
                }
            })
        };
        for n in 0..5 {
            runner.write(1, &format!("busy:{n}")).await;
        }
        done.store(true, Ordering::Release);
        busy.await.unwrap();
    });
    assert!(
        aof.inline_fsyncs() >= inline + 5,
        "each write was committed by the overdue check, not left to the threads"
    );
    ticking.finish();
}

#[test]
fn leaving_always_releases_replies_waiting_for_the_tick() {
    let ticking = start_ticking();
    let aof = Arc::clone(&ticking.persistence.aof);
    let inline = aof.inline_fsyncs();
    let runner = Arc::clone(&ticking);
    ticking.run(async move {
        let writer = {
            let runner = Arc::clone(&runner);
            tokio::spawn(async move {
                set(&runner.state, &runner.data, 0, b"switch", b"v", None);
                let seq = runner.persistence.aof.queued_seq();
                runner.persistence.aof.persist(seq, 1).await;
                seq
            })
        };
        // The writer files its request and waits; the tick has not ended.
        tokio::task::yield_now().await;
        assert!(!writer.is_finished());
        runner.persistence.aof.set_policy(FsyncPolicy::EverySec);
        let seq = writer.await.unwrap();
        assert!(
            runner.persistence.aof.committed() >= seq,
            "written before the reply"
        );
    });
    assert_eq!(
        aof.inline_fsyncs(),
        inline,
        "no fsync once not under always"
    );
    ticking.finish();
}

#[test]
fn a_stalling_disk_sends_fsyncs_back_to_the_fsync_thread() {
    let ticking = start_ticking();
    let runner = Arc::clone(&ticking);
    ticking.run(async move {
        runner.write(1, "fast").await;
        // One commit's fsync stalls past the limit for inline fsyncs.
        runner
            .faults
            .stall_next_syncs(1, COUNTED_INLINE_FSYNC_LIMIT + Duration::from_millis(20));
        let inline = runner.persistence.aof.inline_fsyncs();
        runner.write(1, "stalled").await;
        assert_eq!(
            runner.persistence.aof.inline_fsyncs(),
            inline + 1,
            "the stalled fsync ran at tick end"
        );
        // The next ones leave the runtime thread alone until one is fast.
        let before = runner.persistence.aof.fsyncs();
        runner.write(2, "after").await;
        assert_eq!(
            runner.persistence.aof.inline_fsyncs(),
            inline + 1,
            "after a stall the fsync thread fsyncs"
        );
        assert!(runner.persistence.aof.fsyncs() > before);
        // That fsync was fast: the tick commits again.
        runner.write(2, "again").await;
        assert_eq!(runner.persistence.aof.inline_fsyncs(), inline + 2);
        assert_eq!(runner.faults.fired().syncs_stalled, 1, "the fsync stalled");
    });
    ticking.finish();
}

#[test]
fn a_failed_write_at_tick_end_holds_replies_until_the_retry_succeeds() {
    let ticking = start_ticking();
    let aof = Arc::clone(&ticking.persistence.aof);
    ticking.faults.fail_next_writes(2);
    let runner = Arc::clone(&ticking);
    // Each reply is checked against `committed` as it is released.
    ticking.run(async { runner.write_all_at_once(5, "retry").await });
    assert!(wait_until(PATIENCE, || aof.write_error().is_none()));
    assert_eq!(
        ticking.faults.fired().writes_failed,
        2,
        "both writes failed"
    );
    ticking.finish();
}

#[test]
fn a_failed_fsync_at_tick_end_holds_replies_until_a_rewrite_makes_them_durable() {
    let ticking = start_ticking();
    let aof = Arc::clone(&ticking.persistence.aof);
    let inline = aof.inline_fsyncs();
    ticking.faults.fail_next_syncs(1);
    let runner = Arc::clone(&ticking);
    ticking.run(async { runner.write_all_at_once(5, "fsync").await });
    assert_eq!(
        aof.inline_fsyncs(),
        inline + 1,
        "the failed fsync was at tick end"
    );
    assert!(
        aof.report().rewrites >= 1,
        "released by a rewrite, not by fsyncing the same file again"
    );
    assert!(wait_until(PATIENCE, || aof.write_error().is_none()));
    assert_eq!(ticking.faults.fired().syncs_failed, 1);
    ticking.finish();
}
