//! Sorted sets in the AOF: every write logged in a form that replays to the
//! live state bit for bit (ZADD INCR and ZINCRBY as sent, ZMPOP as the
//! ZPOPMIN/ZPOPMAX it performed, the STORE commands), and `BGREWRITEAOF`
//! writing each sorted set as `ZADD key score member ...` commands of at
//! most 64 members, scores printed so they read back exactly, that
//! `redis-check-aof` accepts and redis-server 7.0 loads to the same data.

mod aof_support;

use std::time::Duration;

use aof_support::{
    FAR_DEADLINE, live_model, redis_loading_checked_aof, replay_model, rewrite_now, run_locked,
    start,
};
use redigo_aof::Replay;
use redigo_server::aof::AofOptions;
use redigo_server::dataset::{self, SharedDataset};

const PATIENCE: Duration = Duration::from_secs(20);

/// Redis's `AOF_REWRITE_ITEMS_PER_CMD`.
const ITEMS_PER_COMMAND: usize = 64;

/// Members of the big sorted set (a `skiplist`).
const ELEMENTS: usize = 300;

/// Runs each command in db 0 as its own batch (propagation included).
fn run_all(data: &SharedDataset, commands: &[Vec<String>]) {
    for command in commands {
        let args: Vec<&[u8]> = command.iter().map(String::as_bytes).collect();
        let mut guard = dataset::lock(data);
        run_locked(&mut guard, 0, &args);
        guard.propagation.flush();
    }
}

fn cmd(words: &[&str]) -> Vec<String> {
    words.iter().map(|w| (*w).to_string()).collect()
}

/// The score of member `i` of the big set: ties, fractions that print
/// with 17 digits, huge and tiny magnitudes, infinities. Not `-0`: a
/// rewritten big set is replayed through a `listpack` first (its first
/// batches), which stores `-0` as `0`, in Redis as in Redigo; the small
/// set `z` has its `-0` (a `0` already) instead.
fn score(i: usize) -> String {
    match i % 7 {
        0 => (i / 10).to_string(),
        1 => format!("{}", 0.1 * i as f64),
        2 => format!("{:e}", 1e300 / (i as f64)),
        3 => format!("{:e}", 1e-300 * (i as f64)),
        4 => "-1.5e-5".to_string(),
        5 => if i % 2 == 0 { "inf" } else { "-inf" }.to_string(),
        _ => format!("{}", 1.0 / (i as f64)),
    }
}

fn writes() -> Vec<Vec<String>> {
    let mut commands = Vec::new();
    for start in (0..ELEMENTS).step_by(50) {
        let mut zadd = cmd(&["ZADD", "big"]);
        for i in start..(start + 50).min(ELEMENTS) {
            zadd.push(score(i));
            zadd.push(format!("member:{i}"));
        }
        commands.push(zadd);
    }
    let deadline = FAR_DEADLINE.to_string();
    for words in [
        &[
            "ZADD",
            "z",
            "1",
            "a",
            "0.1",
            "b",
            "-0",
            "c",
            "3.0000000000000004",
            "d",
        ][..],
        &["ZADD", "z", "INCR", "0.2", "b"],
        &["ZINCRBY", "z", "1e-17", "a"],
        &["ZADD", "z", "GT", "CH", "2", "a", "0", "b"],
        &["ZPOPMIN", "z"],
        &["ZADD", "y", "5", "p", "6", "q", "7", "r"],
        &["ZMPOP", "2", "nokey", "y", "MAX", "COUNT", "2"],
        &["ZUNIONSTORE", "u", "2", "z", "big", "WEIGHTS", "0.5", "3"],
        &["ZINTERSTORE", "i", "2", "big", "big", "AGGREGATE", "MIN"],
        &[
            "ZRANGESTORE",
            "r",
            "big",
            "(0",
            "+inf",
            "BYSCORE",
            "LIMIT",
            "3",
            "70",
        ],
        &["ZREMRANGEBYRANK", "big", "0", "4"],
        &["ZREM", "big", "member:100"],
        &["PEXPIREAT", "big", &deadline],
    ] {
        commands.push(cmd(words));
    }
    commands
}

#[test]
fn zset_writes_replay_to_the_live_state_bit_for_bit() {
    let dir = tempfile::tempdir().unwrap();
    let (_state, data, persistence) = start(dir.path(), "always", AofOptions::default());
    run_all(&data, &writes());
    let live = live_model(&data);
    assert_eq!(live.len(), 6, "{live:?}");
    persistence.aof.shutdown();
    // `Value`'s equality compares scores by their bits (so -0 is not 0).
    assert_eq!(replay_model(persistence.aof.path()), live);
    let records: Vec<Vec<String>> = Replay::open(persistence.aof.path())
        .unwrap()
        .map(|e| {
            e.unwrap()
                .args
                .iter()
                .map(|a| String::from_utf8_lossy(a).into_owned())
                .collect()
        })
        .collect();
    assert!(
        records.iter().any(|r| r == &cmd(&["ZPOPMAX", "y", "2"])),
        "{records:?}"
    );
    assert!(!records.iter().any(|r| r[0] == "ZMPOP"));
}

#[test]
fn bgrewriteaof_writes_zsets_in_batches_of_64_that_redis_loads() {
    let dir = tempfile::tempdir().unwrap();
    let (_state, data, persistence) = start(dir.path(), "always", AofOptions::default());
    let aof = &persistence.aof;
    run_all(&data, &writes());
    rewrite_now(aof, &data, PATIENCE);
    let live = live_model(&data);
    aof.shutdown();
    let path = aof.path().to_path_buf();
    assert_eq!(replay_model(&path), live);

    let records: Vec<Vec<Vec<u8>>> = Replay::open(&path)
        .unwrap()
        .map(|e| e.unwrap().args.iter().map(|a| a.to_vec()).collect())
        .collect();
    let batches: Vec<usize> = records
        .iter()
        .filter(|r| r[0] == b"ZADD" && r[1] == b"big")
        .map(|r| (r.len() - 2) / 2)
        .collect();
    let big_len = ELEMENTS - 6;
    assert!(
        batches.iter().all(|&n| n <= ITEMS_PER_COMMAND),
        "{batches:?}"
    );
    assert_eq!(batches.iter().sum::<usize>(), big_len);
    assert_eq!(batches.len(), big_len.div_ceil(ITEMS_PER_COMMAND));
    let position =
        |name: &[u8], key: &[u8]| records.iter().rposition(|r| r[0] == name && r[1] == key);
    assert!(position(b"PEXPIREAT", b"big") > position(b"ZADD", b"big"));

    // redis-check-aof accepts the file and redis-server 7.0 loads it to the
    // same members and the same printed scores.
    let Some(redis) = redis_loading_checked_aof(&path, dir.path()) else {
        return;
    };
    let mut conn = redis.connect();
    redigo_tests::wait_until_loaded(&mut conn);
    let mut guard = dataset::lock(&data);
    let d = &mut *guard;
    for key in ["big", "z", "y", "u", "i", "r"] {
        let theirs = conn.command(&[b"ZRANGE", key.as_bytes(), b"0", b"-1", b"WITHSCORES"]);
        let ours = run_locked(
            d,
            0,
            &[b"ZRANGE", key.as_bytes(), b"0", b"-1", b"WITHSCORES"],
        );
        assert_eq!(
            String::from_utf8_lossy(&theirs),
            String::from_utf8_lossy(&ours),
            "{key}"
        );
    }
}
