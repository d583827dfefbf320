//! The AOF write path: group commit under `appendfsync always`, MISCONF on
//! write and fsync errors, and recovery without losing a record.

mod aof_support;

use std::sync::Arc;
use std::time::Duration;

use aof_support::{
    COUNTED_INLINE_FSYNC_LIMIT, faulty_factory, live_model, replay_model, set, slow_disk_factory,
    start, wait_until,
};
use redigo_aof::FsyncPolicy;
use redigo_aof::faulty_writer::{INJECTED_IO_ERROR, INJECTED_WRITE_ERROR};
use redigo_server::aof::{Aof, AofOptions};
use redigo_server::propagation::PropagatedCommand;

const PATIENCE: Duration = Duration::from_secs(10);

/// [`start`] with a fault-injecting writer, and its injector.
fn start_faulty(
    dir: &std::path::Path,
    appendfsync: &str,
) -> (
    Arc<redigo_server::ServerState>,
    redigo_server::dataset::SharedDataset,
    redigo_server::aof::Persistence,
    redigo_aof::FaultInjector,
) {
    let (factory, injector) = faulty_factory();
    let options = AofOptions {
        open_writer: factory,
        max_inline_fsync: COUNTED_INLINE_FSYNC_LIMIT,
        ..AofOptions::default()
    };
    let (state, data, persistence) = start(dir, appendfsync, options);
    let faults = injector.lock().unwrap().clone().unwrap();
    (state, data, persistence, faults)
}

fn record(client: usize, n: usize) -> PropagatedCommand {
    PropagatedCommand {
        db: client % 2,
        args: vec![
            "SET".into(),
            format!("c{client}:{n}").into(),
            n.to_string().into(),
        ],
    }
}

#[test]
fn always_shares_one_fsync_between_many_clients_batches() {
    const CLIENTS: usize = 8;
    const WRITES: usize = 60;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("appendonly.aof");
    let aof = Aof::open(&path, FsyncPolicy::Always, slow_disk_factory()).unwrap();
    let clients: Vec<_> = (0..CLIENTS)
        .map(|client| {
            let aof = Arc::clone(&aof);
            std::thread::spawn(move || {
                for n in 0..WRITES {
                    let seq = aof.append_batch([record(client, n)]);
                    // The reply may only go out once the write is durable.
                    assert!(aof.persist_blocking(seq, PATIENCE));
                    assert!(aof.committed() >= seq);
                }
            })
        })
        .collect();
    for client in clients {
        client.join().unwrap();
    }
    let batches = (CLIENTS * WRITES) as u64;
    let fsyncs = aof.fsyncs();
    println!("{batches} acknowledged batches, {fsyncs} fsyncs");
    assert!(fsyncs >= 1);
    assert!(
        fsyncs * 2 <= batches,
        "group commit: {fsyncs} fsyncs for {batches} batches"
    );
    aof.shutdown();
    let model = replay_model(&path);
    assert_eq!(
        model.len(),
        CLIENTS * WRITES,
        "every acknowledged write is in the file"
    );
}

#[test]
fn write_errors_refuse_writes_then_recover_without_losing_records() {
    let dir = tempfile::tempdir().unwrap();
    let (state, data, persistence, faults) = start_faulty(dir.path(), "everysec");
    let aof = &persistence.aof;

    set(&state, &data, 0, b"before", b"1", None);
    assert!(wait_until(PATIENCE, || aof.current_size() > 0));
    assert_eq!(aof.write_error(), None);

    faults.fail_next_writes(3);
    set(&state, &data, 0, b"during", b"2", None);
    assert!(
        wait_until(PATIENCE, || aof.write_error().is_some()),
        "the failed write is reported"
    );
    let error = aof.write_error().unwrap_or_default();
    if error.is_empty() {
        // Already recovered between the two reads: also fine.
    } else {
        assert_eq!(error, INJECTED_WRITE_ERROR);
        assert!(!aof.report().last_write_ok);
    }
    set(
        &state,
        &data,
        1,
        b"queued",
        b"3",
        Some(aof_support::FAR_DEADLINE),
    );
    assert!(
        wait_until(PATIENCE, || aof.write_error().is_none()
            && aof.buffer_len() == 0),
        "the writer retries and recovers by itself"
    );
    assert!(aof.report().last_write_ok);
    set(&state, &data, 1, b"after", b"4", None);

    aof.shutdown();
    assert_eq!(replay_model(aof.path()), live_model(&data));
    assert_eq!(replay_model(aof.path()).len(), 4);
    assert_eq!(faults.fired().writes_failed, 3);
}

#[test]
fn a_torn_write_is_rolled_back_and_retried_whole() {
    let dir = tempfile::tempdir().unwrap();
    let (state, data, persistence, faults) = start_faulty(dir.path(), "always");
    let aof = &persistence.aof;
    set(&state, &data, 0, b"a", b"1", None);
    assert!(aof.wait_committed_blocking(aof.committed().max(1), PATIENCE));

    faults.tear_next_write(7);
    set(&state, &data, 2, b"b", b"2", None);
    let seq = aof.queued_seq();
    assert!(aof.persist_blocking(seq, PATIENCE));
    assert_eq!(aof.write_error(), None);
    aof.shutdown();
    assert_eq!(replay_model(aof.path()), live_model(&data));
    assert_eq!(replay_model(aof.path()).len(), 2);
    assert_eq!(faults.fired().writes_torn, 1, "the write was torn");
}

#[test]
fn a_failed_fsync_under_always_holds_the_reply_until_a_rewrite_makes_it_durable() {
    let dir = tempfile::tempdir().unwrap();
    let (state, data, persistence, faults) = start_faulty(dir.path(), "always");
    let aof = &persistence.aof;

    // Every later fsync of this file would "succeed": after a failed one,
    // Linux may have dropped the pages it could not write, so only a
    // rewrite into a new file may release the reply.
    faults.fail_next_syncs(1);
    set(&state, &data, 0, b"k", b"v", None);
    let seq = aof.queued_seq();
    assert_eq!(seq, 1, "the batch was queued");
    assert!(
        wait_until(PATIENCE, || aof.write_error().is_some()
            || aof.committed() >= seq),
        "the fsync error is reported"
    );
    if aof.committed() < seq {
        assert_eq!(aof.write_error().as_deref(), Some(INJECTED_IO_ERROR));
    }
    assert!(
        aof.wait_committed_blocking(seq, PATIENCE),
        "committed after the recovery rewrite"
    );
    assert!(
        aof.report().rewrites >= 1,
        "the reply was released by a rewrite, not by fsyncing the same file again"
    );
    assert!(wait_until(PATIENCE, || aof.write_error().is_none()));
    assert!(!aof.needs_recovery_rewrite());
    // Writes are accepted and made durable again.
    set(&state, &data, 1, b"after", b"v", None);
    assert!(aof.persist_blocking(aof.queued_seq(), PATIENCE));
    aof.shutdown();
    assert_eq!(replay_model(aof.path()), live_model(&data));
    assert_eq!(replay_model(aof.path()).len(), 2);
    assert_eq!(faults.fired().syncs_failed, 1);
}

/// Runs `future` to completion on a current-thread runtime.
fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(future)
}

/// Writes and persists as connection `writer` until `period` has passed.
async fn write_for(
    state: &redigo_server::ServerState,
    data: &redigo_server::dataset::SharedDataset,
    aof: &Aof,
    writer: u64,
    period: Duration,
) {
    let until = std::time::Instant::now() + period;
    let mut n = 0;
    while std::time::Instant::now() < until {
        set(
            state,
            data,
            0,
            format!("w{writer}:{n}").as_bytes(),
            b"v",
            None,
        );
        let seq = aof.queued_seq();
        aof.persist(seq, writer).await;
        assert!(aof.committed() >= seq, "replied before durable");
        n += 1;
    }
}

#[test]
fn a_lone_writer_fsyncs_inline_and_a_failed_inline_fsync_still_holds_the_reply() {
    use redigo_server::aof::lone_writer::LONE_WRITER_QUIET;
    let dir = tempfile::tempdir().unwrap();
    let (state, data, persistence, faults) = start_faulty(dir.path(), "always");
    // Inline fsyncs are only allowed while fsyncs are fast; on a loaded
    // machine a real one can take over the limit and would turn them off.
    // This test is about who fsyncs, not how long the disk takes (nor how
    // long the scheduler leaves a thread out: see `start_faulty`).
    faults.skip_real_syncs();
    let aof = &persistence.aof;
    block_on(async {
        // Two connections taking turns: group commit through the thread.
        let quiet = LONE_WRITER_QUIET + Duration::from_millis(50);
        let until = std::time::Instant::now() + quiet;
        let mut n = 0;
        while std::time::Instant::now() < until {
            for writer in [1, 2] {
                set(
                    &state,
                    &data,
                    0,
                    format!("t{writer}:{n}").as_bytes(),
                    b"v",
                    None,
                );
                aof.persist(aof.queued_seq(), writer).await;
            }
            n += 1;
        }
        assert_eq!(aof.inline_fsyncs(), 0, "two writers never fsync inline");

        // One connection alone past the quiet period fsyncs itself.
        write_for(&state, &data, aof, 1, quiet).await;
        let inline = aof.inline_fsyncs();
        assert!(inline > 0, "a lone writer fsyncs inline");
        write_for(&state, &data, aof, 1, Duration::from_millis(20)).await;
        assert!(aof.inline_fsyncs() > inline);

        // A failed inline fsync: the reply waits for the recovery rewrite.
        let inline = aof.inline_fsyncs();
        faults.fail_next_syncs(1);
        set(&state, &data, 1, b"k", b"v", None);
        let seq = aof.queued_seq();
        aof.persist(seq, 1).await;
        assert!(aof.committed() >= seq);
        assert_eq!(
            aof.inline_fsyncs(),
            inline + 1,
            "the failed fsync was inline"
        );
    });
    assert!(
        aof.report().rewrites >= 1,
        "released by a rewrite, not by fsyncing the same file again"
    );
    assert!(wait_until(PATIENCE, || aof.write_error().is_none()));
    aof.shutdown();
    assert_eq!(faults.fired().syncs_failed, 1, "the inline fsync failed");
    assert_eq!(replay_model(aof.path()), live_model(&data));
}

#[test]
fn a_failed_fsync_is_recorded_before_another_fsync_can_commit() {
    use redigo_server::aof::fsync_thread::FSYNC_TICK;
    use redigo_server::aof::lone_writer::LONE_WRITER_QUIET;
    /// Tries until the failing fsync is the lone writer's (the writer
    /// leaves it to the fsync thread if that thread is awake just then).
    const ATTEMPTS: usize = 10;
    for attempt in 0..ATTEMPTS {
        let dir = tempfile::tempdir().unwrap();
        let (state, data, persistence, faults) = start_faulty(dir.path(), "always");
        faults.skip_real_syncs();
        let aof = &persistence.aof;
        let (failed_inline, rewrites_at_commit) = block_on(async {
            write_for(
                &state,
                &data,
                aof,
                1,
                LONE_WRITER_QUIET + Duration::from_millis(50),
            )
            .await;
            let inline = aof.inline_fsyncs();
            // The failing fsync takes three of the fsync thread's periodic
            // checks. Each sees written data that is not durable; an fsync
            // of its own, succeeding, would make the batch the failed fsync
            // lost look durable.
            faults.fail_next_syncs(1);
            faults.stall_next_syncs(1, FSYNC_TICK * 3);
            set(&state, &data, 1, b"k", b"v", None);
            let seq = aof.queued_seq();
            // How many rewrites had begun when the batch was committed.
            let watcher = {
                let aof = Arc::clone(aof);
                std::thread::spawn(move || {
                    while aof.committed() < seq {
                        std::thread::sleep(Duration::from_millis(1));
                    }
                    aof.report().rewrites
                })
            };
            aof.persist(seq, 1).await;
            (aof.inline_fsyncs() == inline + 1, watcher.join().unwrap())
        });
        let fired = faults.fired();
        assert_eq!(
            (fired.syncs_stalled, fired.syncs_failed),
            (1, 1),
            "the fsync stalled and failed"
        );
        assert!(
            rewrites_at_commit >= 1,
            "committed by the recovery rewrite, not by another fsync of the same file"
        );
        assert!(wait_until(PATIENCE, || aof.write_error().is_none()));
        aof.shutdown();
        assert_eq!(replay_model(aof.path()), live_model(&data));
        if failed_inline {
            return;
        }
        eprintln!("attempt {attempt}: the fsync thread took the failing fsync; again");
    }
    panic!("in {ATTEMPTS} attempts the failing fsync was never the lone writer's");
}

#[test]
fn everysec_fsyncs_in_the_background() {
    let dir = tempfile::tempdir().unwrap();
    let (state, data, persistence) = start(dir.path(), "everysec", AofOptions::default());
    let aof = &persistence.aof;
    set(&state, &data, 0, b"k", b"v", None);
    assert!(aof.persist_blocking(aof.queued_seq(), PATIENCE));
    assert!(aof.current_size() > 0, "written before the reply");
    assert_eq!(aof.fsyncs(), 0, "everysec never fsyncs on the command path");
    assert!(
        wait_until(Duration::from_secs(5), || aof.fsyncs() >= 1),
        "an fsync about a second after the write"
    );
    aof.shutdown();
}

#[test]
fn a_failed_everysec_fsync_refuses_writes_until_a_rewrite_recovers() {
    let dir = tempfile::tempdir().unwrap();
    let (state, data, persistence, faults) = start_faulty(dir.path(), "everysec");
    let aof = &persistence.aof;
    faults.fail_next_syncs(1);
    set(&state, &data, 0, b"k", b"v", None);
    assert!(aof.persist_blocking(aof.queued_seq(), PATIENCE));
    // The background fsync (about a second later) fails; the file is not
    // trusted again until a rewrite replaced it.
    assert!(
        wait_until(PATIENCE, || aof.report().rewrites >= 1),
        "a recovery rewrite ran"
    );
    assert!(wait_until(PATIENCE, || aof.write_error().is_none()
        && !aof.needs_recovery_rewrite()));
    set(&state, &data, 2, b"after", b"v", None);
    assert!(aof.persist_blocking(aof.queued_seq(), PATIENCE));
    aof.shutdown();
    assert_eq!(replay_model(aof.path()), live_model(&data));
    assert_eq!(replay_model(aof.path()).len(), 2);
    assert_eq!(faults.fired().syncs_failed, 1);
}
