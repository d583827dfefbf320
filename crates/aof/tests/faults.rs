//! Write failures: the faulty writer fails or tears appends as asked, the
//! file writer rolls torn writes back, reports its status as Redis's
//! `aof_last_write_status` does, and recovers when a retry succeeds.

use bytes::BytesMut;
use redigo_aof::faulty_writer::{INJECTED_IO_ERROR, INJECTED_WRITE_ERROR};
use redigo_aof::{AofError, AofWriter, FaultyAofWriter, FsyncPolicy, Record, Replay, WriteStatus};

fn batch(records: &[Record]) -> BytesMut {
    let mut buf = BytesMut::new();
    for record in records {
        record.encode(&mut buf);
    }
    buf
}

fn replayed_commands(path: &std::path::Path) -> usize {
    let entries: Vec<_> = Replay::open(path)
        .expect("open")
        .collect::<Result<_, _>>()
        .expect("the file stays loadable");
    entries.len()
}

#[test]
fn failed_writes_are_reported_and_a_retry_recovers() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("appendonly.aof");
    let mut writer = FaultyAofWriter::open(&path, FsyncPolicy::EverySec).expect("open");
    let faults = writer.faults();
    let first = batch(&[Record::select(0), Record::set("a", "1")]);
    writer.append(&first).expect("healthy append");

    faults.fail_next_writes(2);
    let second = batch(&[Record::set("b", "2")]);
    for _ in 0..2 {
        match writer.append(&second) {
            Err(AofError::Write { written: 0, source }) => {
                assert_eq!(source.kind(), std::io::ErrorKind::StorageFull);
            }
            other => panic!("expected an injected write error, got {other:?}"),
        }
        assert_eq!(
            writer.status(),
            &WriteStatus::Failed(INJECTED_WRITE_ERROR.to_owned())
        );
        assert_eq!(writer.status().as_info_str(), "err");
        assert_eq!(writer.size(), first.len() as u64);
    }
    assert_eq!(writer.stats().write_errors, 2);

    // The fault is used up: the retry succeeds and the status is ok again.
    writer.append(&second).expect("retry");
    assert!(writer.status().is_ok());
    assert_eq!(writer.size(), (first.len() + second.len()) as u64);
    assert_eq!(replayed_commands(&path), 3);
    assert_eq!(faults.fired().writes_failed, 2);
}

#[test]
fn a_torn_write_is_rolled_back() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("appendonly.aof");
    let mut writer = FaultyAofWriter::open(&path, FsyncPolicy::Never).expect("open");
    let first = batch(&[Record::set("a", "1")]);
    writer.append(&first).expect("healthy append");

    let second = batch(&[Record::set("b", "2"), Record::set("c", "3")]);
    writer.faults().tear_next_write(7);
    let err = writer.append(&second).expect_err("torn write");
    assert!(matches!(err, AofError::Write { written: 0, .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        format!("Error writing to the AOF file: {INJECTED_WRITE_ERROR}")
    );
    // No torn record stays in the file.
    assert_eq!(
        std::fs::metadata(&path).expect("stat").len(),
        first.len() as u64
    );
    assert_eq!(replayed_commands(&path), 1);

    writer.append(&second).expect("retry");
    assert!(writer.status().is_ok());
    assert_eq!(replayed_commands(&path), 3);
    assert_eq!(std::fs::metadata(&path).expect("stat").len(), writer.size());
    // The tear leaves the disk full: the writer's attempt at the rest of
    // the batch fails too, before the rollback.
    let fired = writer.faults().fired();
    assert_eq!((fired.writes_torn, fired.writes_failed), (1, 1));
}

#[test]
fn when_rollback_fails_the_error_says_what_stayed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("appendonly.aof");
    let mut writer = FaultyAofWriter::open(&path, FsyncPolicy::Never).expect("open");
    let faults = writer.faults();
    let record = batch(&[Record::set("key", "value")]);
    faults.tear_next_write(5);
    faults.fail_next_truncates(1);
    let written = match writer.append(&record) {
        Err(AofError::Write { written, .. }) => written,
        other => panic!("expected a write error, got {other:?}"),
    };
    assert_eq!(written, 5);
    assert_eq!(writer.size(), 5);
    // The file now ends in a torn record: replay sees a truncation...
    let mut replay = Replay::open(&path).expect("open");
    assert!(
        replay
            .next()
            .expect("item")
            .expect_err("torn")
            .is_truncated()
    );
    // ...and retrying the rest, as the error asks, completes it.
    writer.append(&record[written..]).expect("retry the rest");
    assert_eq!(replayed_commands(&path), 1);
    let fired = faults.fired();
    assert_eq!((fired.writes_torn, fired.truncates_failed), (1, 1));
}

#[test]
fn fsync_failures_under_always_are_reported() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("appendonly.aof");
    let mut writer = FaultyAofWriter::open(&path, FsyncPolicy::Always).expect("open");
    writer.faults().fail_next_syncs(1);
    let record = batch(&[Record::del("k")]);
    match writer.append(&record) {
        Err(AofError::Sync { source }) => assert_eq!(source.to_string(), INJECTED_IO_ERROR),
        other => panic!("expected a sync error, got {other:?}"),
    }
    assert_eq!(writer.status().error(), Some(INJECTED_IO_ERROR));
    // The data itself was written.
    assert_eq!(writer.size(), record.len() as u64);
    assert_eq!(writer.stats().fsyncs, 0);
    writer.append(&record).expect("next append");
    assert_eq!(writer.stats().fsyncs, 1);
    assert!(writer.status().is_ok());
    assert_eq!(writer.faults().fired().syncs_failed, 1);
}

#[test]
fn background_sync_failures_and_delays_are_counted() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("appendonly.aof");
    let mut writer = FaultyAofWriter::open(&path, FsyncPolicy::EverySec).expect("open");
    writer.append(&batch(&[Record::del("k")])).expect("append");
    let handle = writer.sync_handle();
    writer.faults().fail_next_syncs(1);
    assert!(matches!(handle.sync(), Err(AofError::Sync { .. })));
    assert_eq!(
        handle.sync().expect("second try"),
        redigo_aof::SyncOutcome::Synced
    );
    assert_eq!(writer.stats().fsyncs, 1);
    assert_eq!(writer.faults().fired().syncs_failed, 1);
}

#[test]
fn stalled_syncs_take_longer_and_still_succeed() {
    const STALL: std::time::Duration = std::time::Duration::from_millis(30);
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("appendonly.aof");
    let mut writer = FaultyAofWriter::open(&path, FsyncPolicy::EverySec).expect("open");
    writer.append(&batch(&[Record::del("k")])).expect("append");
    let handle = writer.sync_handle();
    writer.faults().stall_next_syncs(1, STALL);
    let started = std::time::Instant::now();
    assert_eq!(
        handle.sync().expect("a stall is not a failure"),
        redigo_aof::SyncOutcome::Synced
    );
    assert!(started.elapsed() >= STALL, "took {:?}", started.elapsed());
    assert_eq!(writer.stats().fsyncs, 1);
    assert_eq!(writer.faults().fired().syncs_stalled, 1);
}
