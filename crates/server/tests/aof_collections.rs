//! Hashes and sets in the AOF: every write logged in a form that replays to
//! the live state (HINCRBYFLOAT as HSET, SPOP as SREM/DEL, the *STORE
//! commands), and `BGREWRITEAOF` writing each collection in commands of at
//! most 64 elements that `redis-check-aof` accepts and redis-server 7.0
//! loads to the same data.

mod aof_support;

use std::collections::BTreeSet;
use std::time::Duration;

use aof_support::{
    FAR_DEADLINE, live_model, records_as_strings, redis_loading_checked_aof, replay_model,
    rewrite_now, run_all, run_locked, start,
};
use redigo_server::aof::AofOptions;
use redigo_server::dataset::{self, SharedDataset};
use redigo_tests::RawConn;

const PATIENCE: Duration = Duration::from_secs(20);

/// Redis's `AOF_REWRITE_ITEMS_PER_CMD`.
const ITEMS_PER_COMMAND: usize = 64;

/// A hash of `n` fields and a set of `n` members, built in chunks.
fn big_collections(data: &SharedDataset, n: usize) {
    for start in (0..n).step_by(50) {
        let end = (start + 50).min(n);
        let mut hset = vec!["HSET".to_string(), "bighash".to_string()];
        let mut sadd = vec!["SADD".to_string(), "bigset".to_string()];
        for i in start..end {
            hset.push(format!("field:{i}"));
            hset.push(format!("value:{i}"));
            sadd.push(format!("member:{i}"));
        }
        for command in [hset, sadd] {
            let args: Vec<&[u8]> = command.iter().map(String::as_bytes).collect();
            let mut guard = dataset::lock(data);
            run_locked(&mut guard, 0, &args);
            guard.propagation.flush();
        }
    }
}

#[test]
fn collection_writes_replay_to_the_live_state() {
    let dir = tempfile::tempdir().unwrap();
    let (_state, data, persistence) = start(dir.path(), "always", AofOptions::default());
    let deadline = FAR_DEADLINE.to_string();
    run_all(
        &data,
        &[
            &["HSET", "h", "a", "1", "b", "2", "c", "x"],
            &["HINCRBYFLOAT", "h", "a", "0.1"],
            &["HINCRBYFLOAT", "h", "new", "1e3"],
            &["HINCRBY", "h", "b", "40"],
            &["HDEL", "h", "c"],
            &["HSETNX", "h", "c", "again"],
            &["HMSET", "h2", "f", "v"],
            &["HDEL", "h2", "f"],
            &[
                "SADD", "ints", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10",
            ],
            &["SPOP", "ints"],
            &["SPOP", "ints", "3"],
            &["SADD", "strs", "a", "b", "c", "d"],
            &["SPOP", "strs", "3"],
            &["SADD", "gone", "1", "2"],
            &["SPOP", "gone", "5"],
            &["SADD", "x", "1", "2", "3"],
            &["SADD", "y", "2", "3", "4"],
            &["SINTERSTORE", "inter", "x", "y"],
            &["SUNIONSTORE", "union", "x", "y"],
            &["SDIFFSTORE", "diff", "x", "y"],
            &["SDIFFSTORE", "x2", "x", "x"],
            &["SMOVE", "x", "y", "1"],
            &["SREM", "y", "4"],
            &["PEXPIREAT", "union", &deadline],
            &["SET", "s", "v"],
            &["SUNIONSTORE", "s", "union"],
        ],
    );
    let live = live_model(&data);
    assert_eq!(live.len(), 9, "{live:?}");
    persistence.aof.shutdown();
    assert_eq!(replay_model(persistence.aof.path()), live);
}

/// Every pair of `HGETALL key` or member of `SMEMBERS key` on `conn`.
fn contents(conn: &mut RawConn, command: &[u8], key: &[u8]) -> BTreeSet<Vec<u8>> {
    let reply = conn.command(&[command, key]);
    let mut items = BTreeSet::new();
    let mut rest = &reply[..];
    // Skip the array header, then read `$len\r\ndata\r\n` items.
    let header_end = rest.iter().position(|&b| b == b'\n').unwrap() + 1;
    rest = &rest[header_end..];
    let mut pending: Option<Vec<u8>> = None;
    while !rest.is_empty() {
        let line_end = rest.iter().position(|&b| b == b'\n').unwrap();
        let len: usize = std::str::from_utf8(&rest[1..line_end - 1])
            .unwrap()
            .parse()
            .unwrap();
        let item = rest[line_end + 1..line_end + 1 + len].to_vec();
        rest = &rest[line_end + 1 + len + 2..];
        if command == b"HGETALL" {
            match pending.take() {
                None => pending = Some(item),
                Some(mut field) => {
                    field.push(b'=');
                    field.extend(item);
                    items.insert(field);
                }
            }
        } else {
            items.insert(item);
        }
    }
    items
}

#[test]
fn bgrewriteaof_writes_collections_in_batches_of_64_that_redis_loads() {
    let dir = tempfile::tempdir().unwrap();
    let (_state, data, persistence) = start(dir.path(), "always", AofOptions::default());
    let aof = &persistence.aof;
    const ELEMENTS: usize = 150;
    big_collections(&data, ELEMENTS);
    let deadline = FAR_DEADLINE.to_string();
    run_all(
        &data,
        &[
            &["HSET", "small", "f", "v"],
            &["SADD", "ints", "1", "2", "3"],
            &["PEXPIREAT", "bighash", &deadline],
        ],
    );
    rewrite_now(aof, &data, PATIENCE);
    let live = live_model(&data);
    aof.shutdown();
    let path = aof.path().to_path_buf();
    assert_eq!(replay_model(&path), live);

    // Batches of at most 64 elements, as Redis's rewrite writes them.
    let records = records_as_strings(&path);
    let of = |name: &str, key: &str| -> Vec<usize> {
        records
            .iter()
            .filter(|r| r[0] == name && r[1] == key)
            .map(|r| r.len() - 2)
            .collect()
    };
    let hset_items: Vec<usize> = of("HSET", "bighash").iter().map(|n| n / 2).collect();
    assert!(
        hset_items.iter().all(|&n| n <= ITEMS_PER_COMMAND),
        "{hset_items:?}"
    );
    assert_eq!(hset_items.iter().sum::<usize>(), ELEMENTS);
    assert_eq!(hset_items.len(), ELEMENTS.div_ceil(ITEMS_PER_COMMAND));
    let sadd_items = of("SADD", "bigset");
    assert!(
        sadd_items.iter().all(|&n| n <= ITEMS_PER_COMMAND),
        "{sadd_items:?}"
    );
    assert_eq!(sadd_items.iter().sum::<usize>(), ELEMENTS);
    assert_eq!(of("HSET", "small"), [2]);
    assert_eq!(of("SADD", "ints"), [3]);
    assert_eq!(of("PEXPIREAT", "bighash"), [1]);
    // The deadline comes after the collection's commands.
    let position =
        |name: &str, key: &str| records.iter().rposition(|r| r[0] == name && r[1] == key);
    assert!(position("PEXPIREAT", "bighash") > position("HSET", "bighash"));

    // redis-check-aof accepts the file and redis-server 7.0 loads it.
    let Some(redis) = redis_loading_checked_aof(&path, dir.path()) else {
        return;
    };
    let mut conn = redis.connect();
    redigo_tests::wait_until_loaded(&mut conn);
    let expected_hash: BTreeSet<Vec<u8>> = (0..ELEMENTS)
        .map(|i| format!("field:{i}=value:{i}").into_bytes())
        .collect();
    let expected_set: BTreeSet<Vec<u8>> = (0..ELEMENTS)
        .map(|i| format!("member:{i}").into_bytes())
        .collect();
    assert_eq!(contents(&mut conn, b"HGETALL", b"bighash"), expected_hash);
    assert_eq!(contents(&mut conn, b"SMEMBERS", b"bigset"), expected_set);
    assert_eq!(contents(&mut conn, b"SMEMBERS", b"ints").len(), 3);
    assert_eq!(conn.command(&[b"HGET", b"small", b"f"]), b"$1\r\nv\r\n");
    assert_eq!(
        conn.command(&[b"PEXPIRETIME", b"bighash"]),
        format!(":{FAR_DEADLINE}\r\n").into_bytes()
    );
}
