//! Lists in the AOF: every write logged in a form that replays to the live
//! state (`LMPOP` as `LPOP|RPOP key <n>`, the rest as sent), and
//! `BGREWRITEAOF` writing each list as `RPUSH` commands of at most 64
//! elements (then `PEXPIREAT`) that `redis-check-aof` accepts and
//! redis-server 7.0 loads to the same list, in order.

mod aof_support;

use std::time::Duration;

use aof_support::{
    FAR_DEADLINE, live_model, records_as_strings, redis_loading_checked_aof, replay_model,
    rewrite_now, run_all, run_locked, start,
};
use redigo_server::aof::AofOptions;
use redigo_server::dataset;

const PATIENCE: Duration = Duration::from_secs(20);

/// Redis's `AOF_REWRITE_ITEMS_PER_CMD`.
const ITEMS_PER_COMMAND: usize = 64;

#[test]
fn list_writes_replay_to_the_live_state() {
    let dir = tempfile::tempdir().unwrap();
    let (_state, data, persistence) = start(dir.path(), "always", AofOptions::default());
    let deadline = FAR_DEADLINE.to_string();
    run_all(
        &data,
        &[
            &["RPUSH", "l", "a", "b", "c", "d", "e", "f"],
            &["LPUSH", "l", "z"],
            &["LPUSHX", "l", "y"],
            &["RPUSHX", "nokey", "y"],
            &["LPOP", "l"],
            &["RPOP", "l", "2"],
            &["LPOP", "l", "0"],
            &["LSET", "l", "1", "B"],
            &["LINSERT", "l", "AFTER", "B", "b2"],
            &["LINSERT", "l", "BEFORE", "missing", "x"],
            &["LREM", "l", "0", "b2"],
            &["LTRIM", "l", "0", "-1"],
            &["LMOVE", "l", "m", "LEFT", "RIGHT"],
            &["RPOPLPUSH", "l", "m"],
            &["LMPOP", "2", "nokey", "l", "RIGHT", "COUNT", "1"],
            &["RPUSH", "gone", "1", "2"],
            &["LMPOP", "1", "gone", "LEFT", "COUNT", "9"],
            &["RPUSH", "t", "1", "2", "3"],
            &["LTRIM", "t", "5", "9"],
            &["PEXPIREAT", "m", &deadline],
        ],
    );
    let live = live_model(&data);
    assert_eq!(live.len(), 2, "{live:?}");
    persistence.aof.shutdown();
    let path = persistence.aof.path().to_path_buf();
    assert_eq!(replay_model(&path), live);
    let pops: Vec<Vec<String>> = records_as_strings(&path)
        .into_iter()
        .filter(|r| r[0] == "LPOP" || r[0] == "RPOP")
        .collect();
    assert_eq!(
        pops[2..],
        [
            ["RPOP", "l", "1"].map(String::from).to_vec(),
            ["LPOP", "gone", "2"].map(String::from).to_vec(),
        ],
        "LMPOP is logged as the pop it did"
    );
}

#[test]
fn bgrewriteaof_writes_lists_as_rpush_batches_of_64_that_redis_loads() {
    let dir = tempfile::tempdir().unwrap();
    let (_state, data, persistence) = start(dir.path(), "always", AofOptions::default());
    let aof = &persistence.aof;
    // 3000 elements (many chunks), pushed at both ends.
    const ELEMENTS: usize = 3000;
    for start in (0..ELEMENTS).step_by(100) {
        let push = if start % 200 == 0 { "RPUSH" } else { "LPUSH" };
        let mut command = vec![push.to_string(), "biglist".to_string()];
        command.extend((start..start + 100).map(|i| format!("element:{i}")));
        let args: Vec<&str> = command.iter().map(String::as_str).collect();
        run_all(&data, &[&args]);
    }
    let deadline = FAR_DEADLINE.to_string();
    run_all(
        &data,
        &[
            &["RPUSH", "small", "a", "b"],
            &["PEXPIREAT", "biglist", &deadline],
        ],
    );
    rewrite_now(aof, &data, PATIENCE);
    let expected: Vec<u8> = {
        let mut guard = dataset::lock(&data);
        run_locked(&mut guard, 0, &[b"LRANGE", b"biglist", b"0", b"-1"])
    };
    let live = live_model(&data);
    aof.shutdown();
    let path = aof.path().to_path_buf();
    assert_eq!(replay_model(&path), live);

    let records = records_as_strings(&path);
    let batches: Vec<usize> = records
        .iter()
        .filter(|r| r[0] == "RPUSH" && r[1] == "biglist")
        .map(|r| r.len() - 2)
        .collect();
    assert!(
        batches.iter().all(|&n| n <= ITEMS_PER_COMMAND),
        "{batches:?}"
    );
    assert_eq!(batches.iter().sum::<usize>(), ELEMENTS);
    assert_eq!(batches.len(), ELEMENTS.div_ceil(ITEMS_PER_COMMAND));
    let position =
        |name: &str, key: &str| records.iter().rposition(|r| r[0] == name && r[1] == key);
    assert!(position("PEXPIREAT", "biglist") > position("RPUSH", "biglist"));

    // redis-check-aof accepts the file and redis-server 7.0 loads it.
    let Some(redis) = redis_loading_checked_aof(&path, dir.path()) else {
        return;
    };
    let mut conn = redis.connect();
    redigo_tests::wait_until_loaded(&mut conn);
    assert_eq!(
        conn.command(&[b"LRANGE", b"biglist", b"0", b"-1"]),
        expected
    );
    assert_eq!(
        conn.command(&[b"LRANGE", b"small", b"0", b"-1"]),
        b"*2\r\n$1\r\na\r\n$1\r\nb\r\n"
    );
    assert_eq!(
        conn.command(&[b"PEXPIRETIME", b"biglist"]),
        format!(":{FAR_DEADLINE}\r\n").into_bytes()
    );
}
