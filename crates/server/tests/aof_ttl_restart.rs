//! TTLs that pass between a write and its replay: random command sequences
//! (strings, hashes and sets) over a few keys, with deadlines that pass before, during and after a
//! restart, run against the real `redigo` binary with `appendfsync always`.
//! The state the server showed at the end (value and `PEXPIRETIME` of every
//! key) must be what it shows after a restart on the same file, after a clean
//! `SHUTDOWN` and after `SIGKILL`, and what `redis-server` 7.0 shows when it
//! loads that same file.
//!
//! Why this class of test: the older crash and rewrite-equivalence tests
//! replay a file right after writing it, so no deadline passes between a
//! write and its replay. Here deadlines pass while the server runs (a later
//! command finds the key expired: the lazy-expiry `DEL` must be logged before
//! that command's write, or replay deletes the new value) and while it is
//! down (replay must not expire anything until the load ends, or a later
//! `PERSIST`, `INCR` or `APPEND` in the file is applied to a missing key).
//! Either bug makes the restarted state differ from the live one for some
//! seed; `redis-server` loading the same file is the second opinion that the
//! file itself, not only our replay of it, holds the acknowledged state.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use redigo_tests::{RawConn, free_port, wait_for_port};

const BINARY: &str = env!("CARGO_BIN_EXE_redigo");
const STARTUP: Duration = Duration::from_secs(20);
const EXIT_WAIT: Duration = Duration::from_secs(10);
/// Keys the sequences use (small, so commands collide on them).
const KEYS: usize = 5;
/// Databases the sequences use (`MOVE` and `COPY ... DB` cross them).
const DATABASES: usize = 2;
/// Commands per sequence (string, hash and set commands mixed).
const STEPS: usize = 100;
/// Seeds per way of stopping.
const SEEDS: u64 = 4;
/// How long the server stays down: deadlines shorter than this, set near
/// the end of a sequence, pass during the restart.
const DOWNTIME: Duration = Duration::from_millis(400);
/// Ports tried before a start-up counts as failed.
const START_ATTEMPTS: usize = 3;

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_millis() as i64
}

/// xorshift64*: deterministic sequences per seed without a dependency.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) % n
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }
}

/// One step of a sequence.
enum Step {
    Command(Vec<String>),
    Sleep(Duration),
}

/// A deadline in ms from now: one that passes within the sequence, one that
/// passes while the server is down, or one that outlives the test.
fn ttl_ms(rng: &mut Rng) -> u64 {
    match rng.below(3) {
        0 => 10 + rng.below(60),
        1 => 150 + rng.below(400),
        _ => 600_000,
    }
}

fn sequence(seed: u64) -> Vec<Step> {
    let mut rng = Rng::new(seed);
    let mut steps = Vec::new();
    for _ in 0..STEPS {
        if rng.below(4) == 0 {
            steps.push(Step::Sleep(Duration::from_millis(rng.below(60))));
        }
        let key = format!("k{}", rng.below(KEYS as u64));
        let other = format!("k{}", rng.below(KEYS as u64));
        let value = rng.pick(&["1", "7", "x", "2.5", "abc"]).to_string();
        let ttl = ttl_ms(&mut rng).to_string();
        let field = rng.pick(&["f1", "f2", "f3"]).to_string();
        let member = rng.pick(&["1", "7", "x", "y", "abc"]).to_string();
        let words: Vec<String> = match rng.below(36) {
            0 => vec!["SELECT".into(), rng.below(DATABASES as u64).to_string()],
            1 | 2 => vec!["SET".into(), key, value, "PX".into(), ttl],
            3 => vec!["SET".into(), key, value],
            4 => vec!["SET".into(), key, value, "KEEPTTL".into()],
            5 => vec!["SET".into(), key, value, "NX".into(), "PX".into(), ttl],
            6 => vec!["SETNX".into(), key, value],
            7 => vec!["GETSET".into(), key, value],
            8 => vec!["INCR".into(), key],
            9 => vec!["INCRBYFLOAT".into(), key, "1.5".into()],
            10 => vec!["APPEND".into(), key, value],
            11 => vec!["SETRANGE".into(), key, "2".into(), value],
            12 => vec!["PSETEX".into(), key, ttl, value],
            13 => vec!["MSET".into(), key, value.clone(), other, value],
            14 => vec!["MSETNX".into(), key, value.clone(), other, value],
            15 | 16 => vec!["PERSIST".into(), key],
            17 => vec!["PEXPIRE".into(), key, ttl],
            18 => vec!["GETEX".into(), key, "PERSIST".into()],
            19 => vec!["RENAME".into(), key, other],
            20 => vec!["COPY".into(), key, other, "REPLACE".into()],
            21 => vec!["MOVE".into(), key, "1".into()],
            22 => vec!["DEL".into(), key],
            // Hashes and sets on the same keys: kinds change, collide with
            // the string commands (WRONGTYPE), expire and move.
            23 | 24 => vec!["HSET".into(), key, field, value],
            25 => vec!["HDEL".into(), key, field],
            26 => vec!["HINCRBY".into(), key, field, "3".into()],
            27 => vec!["HINCRBYFLOAT".into(), key, field, "1.5".into()],
            28 | 29 => vec!["SADD".into(), key, member, value],
            30 => vec!["SREM".into(), key, member],
            31 => vec!["SPOP".into(), key, rng.below(3).to_string()],
            32 => vec!["SPOP".into(), key],
            33 => vec![
                rng.pick(&["SINTERSTORE", "SUNIONSTORE", "SDIFFSTORE"])
                    .into(),
                key,
                other,
                format!("k{}", rng.below(KEYS as u64)),
            ],
            34 => vec!["SMOVE".into(), key, other, member],
            _ => vec!["GET".into(), key],
        };
        steps.push(Step::Command(words));
    }
    steps
}

/// What a key holds as a client sees it: its value (a string's bytes, or
/// a collection's type and sorted elements) and `PEXPIRETIME` (-1 when
/// persistent); `None` when missing.
type KeyState = Option<(Vec<u8>, i64)>;

/// The value of `key` as comparable bytes, whatever its kind: a string's
/// bytes; `hash:` and the sorted `field=value` pairs; `set:` and the sorted
/// members. `None` when missing.
fn value_of(conn: &mut RawConn, key: &[u8]) -> Option<Vec<u8>> {
    let canonical = |kind: &[u8], mut elements: Vec<Vec<u8>>| {
        elements.sort();
        Some([kind, &elements.join(&b","[..])].concat())
    };
    match &conn.command(&[b"TYPE", key])[..] {
        b"+none\r\n" => None,
        b"+hash\r\n" => {
            let flat = bulks(&conn.command(&[b"HGETALL", key]));
            let pairs = flat
                .chunks(2)
                .map(|p| [&p[0][..], b"=", &p[1][..]].concat());
            canonical(b"hash:", pairs.collect())
        }
        b"+set\r\n" => canonical(b"set:", bulks(&conn.command(&[b"SMEMBERS", key]))),
        _ => bulk(&conn.command(&[b"GET", key])),
    }
}

/// The bulk strings of a flat RESP2 array reply.
fn bulks(reply: &[u8]) -> Vec<Vec<u8>> {
    let mut lines = reply.split(|&b| b == b'\n').skip(1);
    let mut items = Vec::new();
    while let Some(header) = lines.next() {
        if header.is_empty() {
            break;
        }
        let len: usize = std::str::from_utf8(&header[1..header.len() - 1])
            .expect("utf-8 header")
            .parse()
            .expect("a bulk length");
        // Elements may hold `\n`: take `len` bytes across lines.
        let mut item = Vec::new();
        while item.len() < len {
            if !item.is_empty() {
                item.push(b'\n');
            }
            item.extend_from_slice(lines.next().expect("bulk data"));
        }
        item.truncate(len);
        items.push(item);
    }
    items
}

/// Reads every key of every database, PEXPIRETIME first: a key whose
/// deadline passes between the two reads is seen as missing.
fn observe(conn: &mut RawConn) -> Vec<KeyState> {
    let mut states = Vec::new();
    for db in 0..DATABASES {
        assert_eq!(
            conn.command(&[b"SELECT", db.to_string().as_bytes()]),
            b"+OK\r\n"
        );
        for k in 0..KEYS {
            let key = format!("k{k}");
            let deadline = integer(&conn.command(&[b"PEXPIRETIME", key.as_bytes()]));
            let value = value_of(conn, key.as_bytes());
            states.push(match (value, deadline) {
                (None, _) | (_, -2) => None,
                (Some(value), deadline) => Some((value, deadline)),
            });
        }
    }
    states
}

fn integer(reply: &[u8]) -> i64 {
    let text = std::str::from_utf8(reply).expect("utf-8 reply");
    text.strip_prefix(':')
        .and_then(|n| n.trim_end().parse().ok())
        .unwrap_or_else(|| panic!("not an integer reply: {text:?}"))
}

fn bulk(reply: &[u8]) -> Option<Vec<u8>> {
    if reply == b"$-1\r\n" {
        return None;
    }
    let start = reply.iter().position(|&b| b == b'\n').expect("bulk header") + 1;
    Some(reply[start..reply.len() - 2].to_vec())
}

/// Checks that what a restarted server shows agrees with what the live
/// server showed: the same values and deadlines, except keys whose deadline
/// has passed since, which must be gone. `observed_between` is when the
/// restarted server was read (a deadline inside it may go either way).
fn assert_agrees(
    who: &str,
    seed: u64,
    live: &[KeyState],
    restarted: &[KeyState],
    observed_between: (i64, i64),
) {
    let (from, to) = observed_between;
    for (index, (before, after)) in live.iter().zip(restarted).enumerate() {
        let key = format!("db{} k{}", index / KEYS, index % KEYS);
        match before {
            Some((_, deadline)) if *deadline >= 0 && *deadline < from => {
                assert_eq!(
                    after, &None,
                    "{who}, seed {seed}: {key} expired at {deadline} (before {from}) but is still there"
                );
            }
            Some((_, deadline)) if *deadline >= 0 && *deadline <= to => {
                assert!(
                    after.is_none() || after == before,
                    "{who}, seed {seed}: {key} was {before:?}, is {after:?}"
                );
            }
            _ => assert_eq!(
                after, before,
                "{who}, seed {seed}: {key} differs after the restart (restarted state first, live second)"
            ),
        }
    }
}

struct Redigo {
    child: Child,
    port: u16,
}

impl Redigo {
    /// Starts the binary on `aof` and waits until it answers `PING` as
    /// itself (its `INFO server` names its pid). A server that could not
    /// bind its port (taken meanwhile by another process) is started again
    /// on another; any other early exit fails with what it logged.
    fn start(aof: &Path) -> Redigo {
        for _attempt in 0..START_ATTEMPTS {
            let port = free_port();
            let log = aof.with_extension(format!("{port}.log"));
            let mut child = Command::new(BINARY)
                .args(["--port", &port.to_string(), "--aof-enabled"])
                .args(["--appendfsync", "always", "--aof-path"])
                .arg(aof)
                .stdout(Stdio::null())
                .stderr(std::fs::File::create(&log).expect("log file"))
                .spawn()
                .expect("spawn redigo");
            let ready = wait_for_port(port, STARTUP) && serves_pid(port, child.id());
            if ready {
                return Redigo { child, port };
            }
            let _ = child.kill();
            let _ = child.wait();
            let logged = std::fs::read_to_string(&log).unwrap_or_default();
            assert!(
                logged.contains("could not listen") || logged.is_empty(),
                "redigo exited instead of serving: {logged}"
            );
        }
        panic!("redigo did not start on any of {START_ATTEMPTS} ports");
    }

    fn wait_exit(mut self) {
        let deadline = Instant::now() + EXIT_WAIT;
        while Instant::now() < deadline {
            if self.child.try_wait().expect("try_wait").is_some() {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = self.child.kill();
        panic!("redigo did not exit after SHUTDOWN");
    }
}

impl Drop for Redigo {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// How the live server is stopped.
#[derive(Clone, Copy, Debug)]
enum Stop {
    Shutdown,
    Kill,
}

/// Runs one sequence, stops the server, and returns the live state and the
/// AOF it left behind.
fn run_and_stop(dir: &Path, seed: u64, stop: Stop) -> (Vec<KeyState>, PathBuf) {
    let aof = dir.join(format!("seed{seed}-{stop:?}.aof"));
    let server = Redigo::start(&aof);
    let mut conn = RawConn::connect(server.port);
    // Lazy expiry (a command finding its key expired) is the path under
    // test: with hz 1 active expiry rarely gets there first. Odd seeds keep
    // Redis's default hz 10 so both paths are exercised.
    if seed % 2 == 0 {
        assert_eq!(conn.command(&[b"CONFIG", b"SET", b"hz", b"1"]), b"+OK\r\n");
    }
    for step in sequence(seed) {
        match step {
            Step::Sleep(pause) => std::thread::sleep(pause),
            Step::Command(words) => {
                let args: Vec<&[u8]> = words.iter().map(|w| w.as_bytes()).collect();
                let reply = conn.command(&args);
                assert!(
                    !reply.starts_with(b"-ERR unknown") && !reply.starts_with(b"-MISCONF"),
                    "{words:?}: {}",
                    String::from_utf8_lossy(&reply)
                );
            }
        }
    }
    let live = observe(&mut conn);
    match stop {
        Stop::Shutdown => {
            conn.send(b"*1\r\n$8\r\nSHUTDOWN\r\n");
            server.wait_exit();
        }
        // Every reply above came after its fsync: a SIGKILL loses nothing.
        Stop::Kill => drop(server),
    }
    (live, aof)
}

/// Checks one seed; returns the live state, for the caller to check the
/// sequences covered every kind.
fn check_seed(dir: &Path, seed: u64, stop: Stop) -> Vec<KeyState> {
    let (live, aof) = run_and_stop(dir, seed, stop);
    let live_state = live.clone();
    std::thread::sleep(DOWNTIME);

    let server = Redigo::start(&aof);
    let mut conn = RawConn::connect(server.port);
    let from = now_ms();
    let restarted = observe(&mut conn);
    let to = now_ms();
    assert_agrees("redigo", seed, &live, &restarted, (from, to));
    drop(server);

    // redis-server 7.0 loading the very same file.
    if !redigo_tests::tool_available("redis-server") {
        return live_state;
    }
    let redis_dir = dir.join(format!("redis-{seed}-{stop:?}"));
    std::fs::create_dir_all(&redis_dir).expect("mkdir");
    std::fs::copy(&aof, redis_dir.join("appendonly.aof")).expect("copy aof");
    let redis = redigo_tests::oracle_loading_aof(&redis_dir).expect("redis-server is installed");
    let mut conn = redis.connect();
    redigo_tests::wait_until_loaded(&mut conn);
    let from = now_ms();
    let loaded = observe(&mut conn);
    let to = now_ms();
    assert_agrees("redis-server", seed, &live, &loaded, (from, to));
    live_state
}

/// Asserts the seeds' final states held strings, hashes and sets.
fn assert_every_kind(states: &[KeyState]) {
    let values: Vec<&Vec<u8>> = states.iter().flatten().map(|(value, _)| value).collect();
    for kind in [&b"hash:"[..], b"set:"] {
        assert!(
            values.iter().any(|v| v.starts_with(kind)),
            "no {} in {values:?}",
            String::from_utf8_lossy(kind)
        );
    }
    assert!(
        values
            .iter()
            .any(|v| !v.starts_with(b"hash:") && !v.starts_with(b"set:")),
        "no string"
    );
}

/// Whether the server on `port` is the process `pid` (`INFO server`); any
/// I/O error means "not (or no longer) ours".
fn serves_pid(port: u16, pid: u32) -> bool {
    use std::io::{Read, Write};
    let Ok(mut stream) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(STARTUP));
    if stream
        .write_all(b"*2\r\n$4\r\nINFO\r\n$6\r\nserver\r\n")
        .is_err()
    {
        return false;
    }
    let expected = format!("process_id:{pid}\r\n");
    let mut reply = Vec::new();
    let mut chunk = [0u8; 4096];
    while let Ok(n) = stream.read(&mut chunk) {
        if n == 0 {
            break;
        }
        reply.extend_from_slice(&chunk[..n]);
        if String::from_utf8_lossy(&reply).contains(&expected) {
            return true;
        }
    }
    false
}

#[test]
fn state_after_a_clean_restart_is_the_state_before_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let states: Vec<KeyState> = (0..SEEDS)
        .flat_map(|seed| check_seed(dir.path(), seed, Stop::Shutdown))
        .collect();
    assert_every_kind(&states);
}

#[test]
fn state_after_sigkill_under_always_is_the_state_acknowledged() {
    let dir = tempfile::tempdir().expect("tempdir");
    let states: Vec<KeyState> = (100..100 + SEEDS)
        .flat_map(|seed| check_seed(dir.path(), seed, Stop::Kill))
        .collect();
    assert_every_kind(&states);
}

/// The two repros of the issue, step by step, so a failure names the case.
#[test]
fn the_issue_repros_survive_a_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let aof = dir.path().join("repro.aof");
    let server = Redigo::start(&aof);
    let mut conn = RawConn::connect(server.port);
    let run = |conn: &mut RawConn, args: &[&str]| {
        let args: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
        conn.command(&args)
    };
    assert_eq!(run(&mut conn, &["CONFIG", "SET", "hz", "1"]), b"+OK\r\n");
    // 1: the lazy-expiry DEL must precede the write that re-created the key.
    for (key, write) in [
        ("s", vec!["SET", "s", "new"]),
        ("i", vec!["INCR", "i"]),
        ("n", vec!["SETNX", "n", "new"]),
        ("x", vec!["SET", "x", "new", "NX"]),
        ("g", vec!["GETSET", "g", "new"]),
        ("m", vec!["MSET", "m", "new", "other", "1"]),
        ("r", vec!["SETRANGE", "r", "0", "new"]),
        ("f", vec!["INCRBYFLOAT", "f", "1.5"]),
        ("e", vec!["SETEX", "e", "1000", "new"]),
    ] {
        assert_eq!(run(&mut conn, &["SET", key, "5", "PX", "50"]), b"+OK\r\n");
        std::thread::sleep(Duration::from_millis(80));
        let reply = run(&mut conn, &write);
        assert!(!reply.starts_with(b"-"), "{write:?}");
    }
    // 2: deadlines that pass while the server is down.
    assert_eq!(run(&mut conn, &["SET", "k", "v", "PX", "150"]), b"+OK\r\n");
    assert_eq!(run(&mut conn, &["PERSIST", "k"]), b":1\r\n");
    assert_eq!(run(&mut conn, &["SET", "c", "5", "PX", "150"]), b"+OK\r\n");
    assert_eq!(run(&mut conn, &["PERSIST", "c"]), b":1\r\n");
    assert_eq!(run(&mut conn, &["INCR", "c"]), b":6\r\n");
    assert_eq!(
        run(&mut conn, &["SET", "gone", "a", "PX", "150"]),
        b"+OK\r\n"
    );
    assert_eq!(run(&mut conn, &["APPEND", "gone", "b"]), b":2\r\n");
    conn.send(b"*1\r\n$8\r\nSHUTDOWN\r\n");
    server.wait_exit();
    std::thread::sleep(DOWNTIME);

    let server = Redigo::start(&aof);
    let mut conn = RawConn::connect(server.port);
    for (key, expected) in [
        ("s", &b"$3\r\nnew\r\n"[..]),
        ("i", b"$1\r\n1\r\n"),
        ("n", b"$3\r\nnew\r\n"),
        ("x", b"$3\r\nnew\r\n"),
        ("g", b"$3\r\nnew\r\n"),
        ("m", b"$3\r\nnew\r\n"),
        ("r", b"$3\r\nnew\r\n"),
        ("f", b"$3\r\n1.5\r\n"),
        ("e", b"$3\r\nnew\r\n"),
        ("k", b"$1\r\nv\r\n"),
        ("c", b"$1\r\n6\r\n"),
        ("gone", b"$-1\r\n"),
    ] {
        assert_eq!(
            conn.command(&[b"GET", key.as_bytes()]),
            expected,
            "GET {key} after the restart"
        );
    }
    assert_eq!(conn.command(&[b"PTTL", b"c"]), b":-1\r\n");
}
