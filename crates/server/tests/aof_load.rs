//! Start-up replay: a file cut at any byte loads every complete record
//! (and is cut back), or is refused with `aof-load-truncated no`; damage in
//! the middle always stops start-up with the offset.

mod aof_support;

use std::path::Path;
use std::sync::Arc;

use aof_support::now_ms;
use redigo_aof::Record;
use redigo_server::ServerState;
use redigo_server::aof::{LoadError, load};
use redigo_server::config::Config;
use redigo_server::dataset::{self, Dataset, SharedDataset};

fn fresh() -> (ServerState, SharedDataset) {
    let mut config = Config::default();
    config.set("databases", "4").unwrap();
    let dataset = Dataset::new(&config).shared();
    (ServerState::new(config, None, None), dataset)
}

/// A key a record leaves behind: database, key, value.
type Written = (usize, &'static str, &'static str);

/// The records of the test file and the key each one leaves behind.
fn records() -> Vec<(Vec<u8>, Option<Written>)> {
    vec![
        (Record::select(0).to_bytes().to_vec(), None),
        (
            Record::set("a", "1").to_bytes().to_vec(),
            Some((0, "a", "1")),
        ),
        (
            Record::set_with_deadline("b", "two\r\nlines", 4_000_000_000_000)
                .to_bytes()
                .to_vec(),
            Some((0, "b", "two\r\nlines")),
        ),
        (Record::select(2).to_bytes().to_vec(), None),
        (
            Record::set("c", "3").to_bytes().to_vec(),
            Some((2, "c", "3")),
        ),
        (
            Record::set("d", "4").to_bytes().to_vec(),
            Some((2, "d", "4")),
        ),
    ]
}

fn get(data: &SharedDataset, db: usize, key: &str) -> Option<Vec<u8>> {
    let mut guard = dataset::lock(data);
    let mut handle = guard.store.db(db, now_ms()).unwrap();
    handle.get(key.as_bytes()).unwrap().map(<[u8]>::to_vec)
}

fn key_count(data: &SharedDataset) -> usize {
    let guard = dataset::lock(data);
    guard
        .store
        .keyspace_info(now_ms())
        .iter()
        .map(|info| info.keys)
        .sum()
}

fn write(path: &Path, bytes: &[u8]) {
    std::fs::write(path, bytes).unwrap();
}

#[test]
fn every_cut_of_the_file_loads_the_complete_records() {
    let records = records();
    let whole: Vec<u8> = records.iter().flat_map(|(r, _)| r.clone()).collect();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("appendonly.aof");
    for cut in 0..=whole.len() {
        // The records wholly before the cut, and where they end.
        let mut complete = 0;
        let mut end = 0;
        for (record, _) in &records {
            if end + record.len() > cut {
                break;
            }
            end += record.len();
            complete += 1;
        }
        let expected: Vec<_> = records[..complete].iter().filter_map(|(_, k)| *k).collect();

        write(&path, &whole[..cut]);
        let (state, data) = fresh();
        let report = load(&path, &state, &data, true).unwrap_or_else(|e| panic!("cut {cut}: {e}"));
        assert_eq!(report.truncated_bytes, (cut - end) as u64, "cut {cut}");
        assert_eq!(report.loaded_bytes, end as u64, "cut {cut}");
        assert_eq!(
            std::fs::metadata(&path).unwrap().len(),
            end as u64,
            "cut {cut}: the torn record is cut off"
        );
        assert_eq!(key_count(&data), expected.len(), "cut {cut}");
        for (db, key, value) in &expected {
            assert_eq!(
                get(&data, *db, key).as_deref(),
                Some(value.as_bytes()),
                "cut {cut}"
            );
        }

        write(&path, &whole[..cut]);
        let (state, data) = fresh();
        match load(&path, &state, &data, false) {
            Ok(_) => assert_eq!(cut, end, "only a cut between records loads with 'no'"),
            Err(LoadError::Truncated {
                valid_len,
                ignored_bytes,
                ..
            }) => {
                assert_ne!(cut, end);
                assert_eq!((valid_len, ignored_bytes), (end as u64, (cut - end) as u64));
                assert_eq!(
                    std::fs::metadata(&path).unwrap().len(),
                    cut as u64,
                    "the file is left alone"
                );
            }
            Err(other) => panic!("cut {cut}: {other}"),
        }
    }
}

#[test]
fn damage_in_the_middle_stops_with_the_offset_and_the_fix_hint() {
    let records = records();
    let mut bytes: Vec<u8> = records.iter().flat_map(|(r, _)| r.clone()).collect();
    let second = records[0].0.len() + records[1].0.len();
    bytes[second] = b'?';
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("appendonly.aof");
    write(&path, &bytes);
    let (state, data) = fresh();
    let err = load(&path, &state, &data, true).unwrap_err();
    match &err {
        LoadError::Corrupt { offset, .. } => assert_eq!(*offset, second as u64),
        other => panic!("expected corruption, got {other}"),
    }
    let text = err.to_string();
    assert!(text.contains(&format!("at offset {second}")), "{text}");
    assert!(
        text.contains(&format!("redigo check-aof --fix {}", path.display())),
        "{text}"
    );
    assert_eq!(
        std::fs::read(&path).unwrap(),
        bytes,
        "a damaged file is never cut"
    );
}

#[test]
fn unknown_commands_and_bad_selects_stop_loading() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("appendonly.aof");
    write(&path, &Record::new("NOSUCHCMD").arg("x").to_bytes());
    let (state, data) = fresh();
    let err = load(&path, &state, &data, true).unwrap_err();
    assert!(
        matches!(err, LoadError::UnknownCommand { offset: 0, .. }),
        "{err}"
    );

    write(&path, &Record::select(9).to_bytes());
    let err = load(&path, &state, &data, true).unwrap_err();
    assert!(
        matches!(err, LoadError::BadDatabase { databases: 4, .. }),
        "{err}"
    );
}

#[test]
fn a_transaction_cut_before_exec_is_dropped_whole() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("appendonly.aof");
    let before = [
        Record::select(0).to_bytes(),
        Record::set("kept", "1").to_bytes(),
    ]
    .concat();
    let multi = [
        Record::new("MULTI").to_bytes(),
        Record::set("x", "1").to_bytes(),
        Record::set("y", "2").to_bytes(),
    ]
    .concat();
    write(&path, &[&before[..], &multi[..]].concat());
    let (state, data) = fresh();
    let report = load(&path, &state, &data, true).unwrap();
    assert_eq!(report.loaded_bytes, before.len() as u64);
    assert_eq!(key_count(&data), 1);
    assert_eq!(std::fs::metadata(&path).unwrap().len(), before.len() as u64);

    // With its EXEC the transaction applies.
    write(
        &path,
        &[&before[..], &multi[..], &Record::new("EXEC").to_bytes()[..]].concat(),
    );
    let (state, data) = fresh();
    load(&path, &state, &data, true).unwrap();
    assert_eq!(get(&data, 0, "y").as_deref(), Some(&b"2"[..]));
}

#[test]
fn a_missing_or_empty_file_loads_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (state, data) = fresh();
    let state = Arc::new(state);
    let report = load(&dir.path().join("none.aof"), &state, &data, false).unwrap();
    assert_eq!(report.commands, 0);
    write(&dir.path().join("empty.aof"), b"");
    let report = load(&dir.path().join("empty.aof"), &state, &data, false).unwrap();
    assert_eq!(report.loaded_bytes, 0);
}

/// Inside `MULTI`/`EXEC` a `SELECT` takes effect in its place, at `EXEC`,
/// as Redis's fake client runs it: the lazy-expiry `DEL`s of one database
/// ahead of a write in another are logged this way.
#[test]
fn a_select_inside_a_transaction_applies_in_order() {
    let (server, data) = fresh();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("appendonly.aof");
    let file: Vec<u8> = [
        Record::select(0),
        Record::new("MULTI"),
        Record::set("a", "in0"),
        Record::select(2),
        Record::set("b", "in2"),
        Record::new("EXEC"),
        Record::set("c", "after"),
    ]
    .iter()
    .flat_map(|r| r.to_bytes().to_vec())
    .collect();
    write(&path, &file);
    load(&path, &server, &data, true).unwrap();
    assert_eq!(get(&data, 0, "a").as_deref(), Some(&b"in0"[..]));
    assert_eq!(get(&data, 2, "a"), None);
    assert_eq!(get(&data, 2, "b").as_deref(), Some(&b"in2"[..]));
    assert_eq!(get(&data, 2, "c").as_deref(), Some(&b"after"[..]));
}

/// Replay expires nothing: a key whose deadline passed long ago is still
/// there for the records after it, and is expired once the load is over.
#[test]
fn replay_keeps_keys_whose_deadline_passed_until_the_load_ends() {
    let (server, data) = fresh();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("appendonly.aof");
    let long_ago = 1_000;
    let file: Vec<u8> = [
        Record::set_with_deadline("kept", "v", long_ago),
        Record::new("PERSIST").arg("kept"),
        Record::set_with_deadline("counter", "5", long_ago),
        Record::new("INCR").arg("counter"),
        Record::set_with_deadline("gone", "a", long_ago),
        Record::new("APPEND").arg("gone").arg("b"),
    ]
    .iter()
    .flat_map(|r| r.to_bytes().to_vec())
    .collect();
    write(&path, &file);
    let report = load(&path, &server, &data, true).unwrap();
    assert_eq!(report.command_errors, 0);
    assert_eq!(get(&data, 0, "kept").as_deref(), Some(&b"v"[..]));
    // INCR and APPEND ran on the kept values and kept their deadline, which
    // has passed: the first lookup after the load expires them.
    assert_eq!(get(&data, 0, "counter"), None);
    assert_eq!(get(&data, 0, "gone"), None);
    assert!(!dataset::lock(&data).store.is_loading());
}
