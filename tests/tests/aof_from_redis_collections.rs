//! Redigo loads the AOF redis-server 7.0 writes for hashes and sets.
//!
//! A redis-server with `appendonly yes` and `aof-use-rdb-preamble no` runs
//! writes on hashes, sets and strings in several databases (HINCRBYFLOAT,
//! SPOP with and without a count, the *STORE commands, SMOVE, expiry), then
//! `BGREWRITEAOF`, then more writes. Its multi-part AOF (the rewritten base,
//! then the incr file) is concatenated in the manifest's order into the
//! single file Redigo loads, and the two servers' states are compared key
//! by key: type, contents (as sets), and the absolute deadline.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use redigo_server::testing::TestServer;
use redigo_tests::RawConn;

/// How long Redis may take to finish `BGREWRITEAOF` on this tiny dataset.
const REWRITE_PATIENCE: Duration = Duration::from_secs(20);

/// Databases the writes use (and the comparison visits).
const DATABASES: [&str; 3] = ["0", "2", "9"];

fn words(command: &str) -> Vec<&[u8]> {
    command.split(' ').map(str::as_bytes).collect()
}

fn run(conn: &mut RawConn, commands: &[&str]) {
    for command in commands {
        let reply = conn.command(&words(command));
        assert!(
            !reply.starts_with(b"-"),
            "{command}: {}",
            String::from_utf8_lossy(&reply)
        );
    }
}

/// Writes before the rewrite: a mix the rewrite turns into HSET/SADD
/// batches and PEXPIREAT.
const BEFORE_REWRITE: &[&str] = &[
    "HSET user:1 name ann age 30 score 1.5",
    "HINCRBYFLOAT user:1 score 2.25",
    "HINCRBY user:1 age 1",
    "HSETNX user:1 city paris",
    "HDEL user:1 nosuch",
    "SADD tags a b c d e f g h",
    "SADD ints 1 2 3 4 5 6 7 8 9 10",
    "SPOP ints",
    "SPOP tags 3",
    "SREM tags a",
    "SADD other c d e x y",
    "SINTERSTORE both tags other",
    "SUNIONSTORE all tags other ints",
    "SDIFFSTORE diff other tags",
    "SMOVE other tags x",
    "EXPIRE all 100000",
    "SET plain v",
    "SELECT 2",
    "HSET h2 f1 v1 f2 v2",
    "SADD s2 m1 m2 m3",
    "PEXPIRE s2 200000",
    "SELECT 0",
];

/// Writes after the rewrite, logged to the incr file.
const AFTER_REWRITE: &[&str] = &[
    "HINCRBYFLOAT user:1 score -0.75",
    "HINCRBYFLOAT newhash f 10.5",
    "HDEL user:1 city",
    "SPOP ints 2",
    "SADD ints 100 200",
    "SINTERSTORE empty tags nosuchset",
    "SINTERSTORE both tags other",
    "SPOP diff 100",
    "PERSIST all",
    "EXPIRE both 300000",
    "SELECT 9",
    "HSET h9 a 1",
    "HINCRBY h9 a 41",
    "SADD s9 only",
    "SMOVE s9 s9dst only",
    "SELECT 2",
    "HDEL h2 f1",
    "SREM s2 m2",
    "SELECT 0",
];

fn info_field(info: &[u8], name: &str) -> Option<String> {
    String::from_utf8_lossy(info)
        .lines()
        .find_map(|line| line.strip_prefix(&format!("{name}:")).map(str::to_string))
}

/// Runs `BGREWRITEAOF` and waits until Redis has finished and installed it.
fn rewrite(conn: &mut RawConn) {
    let reply = conn.command(&words("BGREWRITEAOF"));
    assert!(
        reply.starts_with(b"+"),
        "{}",
        String::from_utf8_lossy(&reply)
    );
    let deadline = Instant::now() + REWRITE_PATIENCE;
    loop {
        let info = conn.command(&words("INFO persistence"));
        let idle = info_field(&info, "aof_rewrite_in_progress").as_deref() == Some("0")
            && info_field(&info, "aof_rewrite_scheduled").as_deref() == Some("0");
        if idle && info_field(&info, "aof_last_bgrewrite_status").as_deref() == Some("ok") {
            return;
        }
        assert!(Instant::now() < deadline, "BGREWRITEAOF did not finish");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The files of a Redis 7.0 multi-part AOF, in load order, from its
/// manifest: the base, then the incr files.
fn manifest_files(aof_dir: &Path) -> Vec<PathBuf> {
    let manifest =
        std::fs::read_to_string(aof_dir.join("appendonly.aof.manifest")).expect("read manifest");
    let (mut base, mut incr) = (Vec::new(), Vec::new());
    for line in manifest.lines() {
        // `file <name> seq <n> type <b|h|i>`
        let fields: Vec<&str> = line.split_whitespace().collect();
        let field = |key: &str| {
            let at = fields.iter().position(|f| *f == key)?;
            fields.get(at + 1).copied()
        };
        match (field("file"), field("type")) {
            (Some(name), Some("b")) => base.push(aof_dir.join(name)),
            (Some(name), Some("i")) => incr.push(aof_dir.join(name)),
            _ => {}
        }
    }
    base.into_iter().chain(incr).collect()
}

/// The elements of a flat RESP2 array of bulk strings.
fn bulks(reply: &[u8]) -> Vec<Vec<u8>> {
    let mut items = Vec::new();
    let mut rest = reply;
    let line = |rest: &[u8]| {
        let end = rest.windows(2).position(|w| w == b"\r\n").expect("a CRLF");
        (rest[..end].to_vec(), end + 2)
    };
    let (header, used) = line(rest);
    assert_eq!(header[0], b'*', "{}", String::from_utf8_lossy(reply));
    rest = &rest[used..];
    while !rest.is_empty() {
        let (header, used) = line(rest);
        let len: usize = std::str::from_utf8(&header[1..])
            .expect("ascii")
            .parse()
            .expect("a length");
        items.push(rest[used..used + len].to_vec());
        rest = &rest[used + len + 2..];
    }
    items
}

/// One key as both servers are compared on it.
#[derive(Debug, PartialEq, Eq)]
struct KeyState {
    db: &'static str,
    key: Vec<u8>,
    kind: Vec<u8>,
    contents: BTreeSet<Vec<u8>>,
    pexpiretime: Vec<u8>,
}

fn state(conn: &mut RawConn) -> Vec<KeyState> {
    let mut keys = Vec::new();
    for db in DATABASES {
        conn.command(&[b"SELECT", db.as_bytes()]);
        let mut names = bulks(&conn.command(&words("KEYS *")));
        names.sort();
        for key in names {
            let kind = conn.command(&[b"TYPE", &key]);
            let contents: BTreeSet<Vec<u8>> = match &kind[..] {
                b"+hash\r\n" => bulks(&conn.command(&[b"HGETALL", &key]))
                    .chunks(2)
                    .map(|pair| [&pair[0][..], b"=", &pair[1][..]].concat())
                    .collect(),
                b"+set\r\n" => bulks(&conn.command(&[b"SMEMBERS", &key]))
                    .into_iter()
                    .collect(),
                _ => [conn.command(&[b"GET", &key])].into_iter().collect(),
            };
            let pexpiretime = conn.command(&[b"PEXPIRETIME", &key]);
            keys.push(KeyState {
                db,
                key,
                kind,
                contents,
                pexpiretime,
            });
        }
    }
    conn.command(&words("SELECT 0"));
    keys
}

#[test]
fn redigo_loads_the_aof_redis_writes_for_hashes_and_sets() {
    let Some(redis) = redigo_tests::oracle_with_args(&[
        "--appendonly",
        "yes",
        "--aof-use-rdb-preamble",
        "no",
        "--appendfsync",
        "always",
    ]) else {
        return;
    };
    let mut conn = redis.connect();
    redigo_tests::wait_until_loaded(&mut conn);
    run(&mut conn, BEFORE_REWRITE);
    rewrite(&mut conn);
    run(&mut conn, AFTER_REWRITE);
    let expected = state(&mut conn);
    assert!(
        expected.iter().any(|k| k.kind == b"+hash\r\n")
            && expected.iter().any(|k| k.kind == b"+set\r\n")
            && expected.iter().any(|k| k.pexpiretime != b":-1\r\n"),
        "{expected:?}"
    );

    // Redis writes the AOF before it replies, so the files are complete.
    let files = manifest_files(&redis.dir().join("appendonlydir"));
    assert_eq!(files.len(), 2, "one base and one incr file: {files:?}");
    let base = std::fs::read(&files[0]).expect("read base");
    assert!(
        base.windows(5).any(|w| w == b"HMSET") && base.windows(4).any(|w| w == b"SADD"),
        "the rewritten base holds the collections as commands"
    );
    // Beside Redis's own files, in its scratch directory.
    let aof = redis.dir().join("from-redis.aof");
    let joined: Vec<u8> = files
        .iter()
        .flat_map(|file| std::fs::read(file).expect("read aof part"))
        .collect();
    std::fs::write(&aof, joined).expect("write joined aof");

    let aof_path = aof.display().to_string();
    let redigo = TestServer::start(&[("aof-enabled", "yes"), ("aof-path", &aof_path)]);
    let mut loaded = RawConn::connect(redigo.port());
    redigo_tests::wait_until_loaded(&mut loaded);
    let actual = state(&mut loaded);
    assert_eq!(actual, expected);
}
