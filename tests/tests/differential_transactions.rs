//! `MULTI`/`EXEC`/`DISCARD`/`WATCH`/`UNWATCH` compared with Redis 7.0:
//! byte-identical replies for queued errors, runtime errors, nesting, the
//! reply shapes of `EXEC`, and `WATCH` raced from a second connection
//! (writes, no-op writes, expiry, `FLUSHALL`/`FLUSHDB`/`SWAPDB`/`RENAME`/
//! `MOVE`), plus the `flags=`/`multi=` fields of `CLIENT LIST`.

mod differential_support;

use differential_support::{Pair, show};
use redigo_tests::RawConn;

/// A pair of servers with two connections to each: `p` (the first client)
/// and `redis2`/`redigo2` (the second).
struct Two {
    p: Pair,
    redis2: RawConn,
    redigo2: RawConn,
}

impl Two {
    fn start() -> Option<Two> {
        let p = Pair::start()?;
        let (redis2, redigo2) = p.connect_again();
        Some(Two { p, redis2, redigo2 })
    }

    /// Runs `command` as the second client on both servers, asserting the
    /// same reply.
    fn other(&mut self, command: &str) {
        let words: Vec<&[u8]> = command.split(' ').map(str::as_bytes).collect();
        let expected = self.redis2.command(&words);
        let actual = self.redigo2.command(&words);
        assert_eq!(
            show(&actual),
            show(&expected),
            "second client: reply to {command:?} differs (left: Redigo, right: Redis)"
        );
    }

    fn script(&mut self, script: &[&str]) {
        self.p.script(script);
    }
}

#[test]
fn errors_while_queuing_abort_the_transaction() {
    let Some(mut p) = Pair::start() else { return };
    p.script(&[
        "MULTI",
        "SET a 1",
        "NOSUCHCOMMAND x",
        "SET b 2",
        "EXEC",
        "EXISTS a b",
        // Wrong arity, unknown subcommand, a no_multi command.
        "MULTI",
        "SET k",
        "SET c 3",
        "EXEC",
        "MULTI",
        "CONFIG NOSUCH",
        "EXEC",
        "MULTI",
        "SHUTDOWN",
        "EXEC",
        "EXISTS c",
        // The state is cleared after the abort.
        "PING",
        "EXEC",
    ]);
}

#[test]
fn runtime_errors_do_not_stop_the_other_commands() {
    let Some(mut p) = Pair::start() else { return };
    p.script(&[
        "SET s text",
        "MULTI",
        "INCR s",
        "SET t 1",
        "HSET s f v",
        "SADD t x",
        "INCRBY t 5",
        "EXEC",
        "GET t",
        "GET s",
    ]);
}

#[test]
fn nesting_and_misplaced_commands() {
    let Some(mut p) = Pair::start() else { return };
    p.script(&[
        "EXEC",
        "DISCARD",
        "MULTI",
        "MULTI",
        "SET x 1",
        "EXEC",
        "GET x",
        "MULTI",
        "WATCH x",
        "SET y 1",
        "EXEC",
        "GET y",
        "MULTI",
        "SET z 1",
        "DISCARD",
        "EXISTS z",
        "DISCARD",
        // UNWATCH inside MULTI is queued.
        "MULTI",
        "UNWATCH",
        "EXEC",
        "WATCH",
        "MULTI extra",
        // EXEC refused by a check answers EXECABORT, in MULTI or not.
        "EXEC extra",
        "MULTI",
        "SET q 1",
        "EXEC extra",
        "EXEC",
        "EXISTS q",
        // RESET leaves the transaction.
        "MULTI",
        "SET r 1",
        "RESET",
        "EXEC",
        "EXISTS r",
    ]);
}

#[test]
fn exec_reply_shapes() {
    let Some(mut p) = Pair::start() else { return };
    p.script(&[
        "MULTI",
        "EXEC",
        "MULTI",
        "PING",
        "ECHO hello",
        "SET k v",
        "GET k",
        "GET missing",
        "SADD s a b",
        "SCARD s",
        "HSET h f v",
        "HGETALL h",
        "EXISTS k s h",
        "EXEC",
        // SELECT inside a transaction moves the client for good.
        "MULTI",
        "SELECT 3",
        "SET in3 x",
        "EXEC",
        "GET in3",
        "SELECT 0",
        "GET in3",
        // An inner transaction command is refused, not run.
        "MULTI",
        "PING",
        "EXEC",
    ]);
}

#[test]
fn watch_fails_exec_when_another_client_writes() {
    let Some(mut t) = Two::start() else { return };
    t.script(&["SET k 1", "WATCH k other"]);
    t.other("SET k 2");
    t.script(&["MULTI", "SET k mine", "EXEC", "GET k"]);
    // Keys are unwatched after EXEC, whatever its outcome.
    t.other("SET k 3");
    t.script(&["MULTI", "GET k", "EXEC"]);
    // A write to another key leaves the watch alone.
    t.script(&["WATCH k"]);
    t.other("SET unrelated 1");
    t.script(&["MULTI", "INCR k", "EXEC"]);
}

#[test]
fn watch_ignores_writes_that_change_nothing() {
    let Some(mut t) = Two::start() else { return };
    t.script(&["SADD s a", "SET str v", "WATCH s str missing"]);
    t.other("SADD s a");
    t.other("SREM s zz");
    t.other("DEL missing");
    t.other("SET str other NX");
    t.other("GET str");
    t.other("SMEMBERS s");
    t.script(&["MULTI", "PING", "EXEC"]);
}

#[test]
fn watch_sees_every_kind_of_write() {
    let Some(mut t) = Two::start() else { return };
    for write in [
        "DEL k",
        "EXPIRE k 100",
        "RENAME k k2",
        "MOVE k 5",
        "APPEND k x",
        "INCR k",
        "PERSIST k",
        "GETDEL k",
        "SET k other",
    ] {
        t.script(&["FLUSHALL", "SET k 1", "WATCH k"]);
        if write == "PERSIST k" {
            t.script(&["EXPIRE k 100", "WATCH k"]);
        }
        t.other(write);
        t.script(&["MULTI", "PING", "EXEC"]);
    }
    // The target of a RENAME is touched too.
    t.script(&["FLUSHALL", "SET src 1", "WATCH dst"]);
    t.other("RENAME src dst");
    t.script(&["MULTI", "PING", "EXEC"]);
    // A write by the watching client itself counts as well.
    t.script(&["WATCH k", "SET k mine", "MULTI", "PING", "EXEC"]);
}

#[test]
fn watch_and_database_wide_commands() {
    let Some(mut t) = Two::start() else { return };
    // FLUSHALL touches watched keys that exist, only those.
    t.script(&["FLUSHALL", "SET x 30", "WATCH x"]);
    t.other("FLUSHALL");
    t.script(&["MULTI", "PING", "EXEC"]);
    t.script(&["FLUSHALL", "WATCH x"]);
    t.other("FLUSHALL");
    t.script(&["MULTI", "PING", "EXEC"]);
    // FLUSHDB, of the watched database or another one.
    t.script(&["SET x 30", "WATCH x"]);
    t.other("SELECT 1");
    t.other("FLUSHDB");
    t.script(&["MULTI", "PING", "EXEC"]);
    t.other("SELECT 0");
    t.other("FLUSHDB");
    t.script(&["MULTI", "PING", "EXEC"]);
    // SWAPDB: a watched key that disappears, one that appears.
    t.script(&["FLUSHALL", "SET x 30", "WATCH x"]);
    t.other("SWAPDB 0 1");
    t.script(&["MULTI", "PING", "EXEC"]);
    t.script(&["FLUSHALL", "SELECT 1", "SET x 30", "SELECT 0", "WATCH x"]);
    t.other("SWAPDB 0 1");
    t.script(&["MULTI", "PING", "EXEC"]);
    t.script(&["FLUSHALL", "WATCH nothing"]);
    t.other("SWAPDB 0 1");
    t.script(&["MULTI", "PING", "EXEC"]);
    // WATCH remembers the database a key was watched in.
    t.script(&[
        "SELECT 5", "SET x 30", "WATCH x", "SELECT 1", "SET x 10", "SELECT 5",
    ]);
    t.script(&["MULTI", "PING", "EXEC", "SELECT 0"]);
}

#[test]
fn watched_keys_that_expire() {
    let Some(mut t) = Two::start() else { return };
    // Expires after WATCH: EXEC fails (found by the active cycle, a lookup
    // or EXEC's own check, whichever comes first).
    t.script(&["SET k v PX 30", "WATCH k"]);
    std::thread::sleep(std::time::Duration::from_millis(100));
    t.script(&["MULTI", "PING", "EXEC"]);
    // Already expired when watched: its deletion is no change.
    t.script(&["SET stale v PX 1"]);
    std::thread::sleep(std::time::Duration::from_millis(20));
    t.script(&["WATCH stale", "EXISTS stale", "MULTI", "PING", "EXEC"]);
    t.script(&["SET stale v PX 1"]);
    std::thread::sleep(std::time::Duration::from_millis(20));
    t.script(&["WATCH stale"]);
    t.other("FLUSHDB");
    t.script(&["MULTI", "PING", "EXEC"]);
    // ... but writing it again is a change.
    t.script(&["SET stale v PX 1"]);
    std::thread::sleep(std::time::Duration::from_millis(20));
    t.script(&["WATCH stale"]);
    t.other("SET stale again");
    t.script(&["MULTI", "PING", "EXEC"]);
}

#[test]
fn discard_and_unwatch_clear_the_watch() {
    let Some(mut t) = Two::start() else { return };
    t.script(&[
        "WATCH x", "SET x 10", "MULTI", "DISCARD", "MULTI", "INCR x", "EXEC",
    ]);
    t.script(&["WATCH x", "UNWATCH"]);
    t.other("SET x 20");
    t.script(&["MULTI", "INCR x", "EXEC", "UNWATCH"]);
    t.script(&["WATCH x", "SET x 1", "UNWATCH", "MULTI", "GET x", "EXEC"]);
}

/// The `flags=` and `multi=` fields of the line of the client whose last
/// command is not `client|list` in a `CLIENT LIST` reply.
fn watcher_fields(reply: &[u8]) -> Vec<String> {
    let text = show(reply);
    let line = text
        .lines()
        .find(|line| line.starts_with("id=") && !line.contains("cmd=client|list"))
        .unwrap_or_else(|| panic!("no other client in {text:?}"))
        .to_string();
    line.split(' ')
        .filter(|field| field.starts_with("flags=") || field.starts_with("multi="))
        .map(str::to_string)
        .collect()
}

#[test]
fn client_list_shows_multi_and_dirty_flags() {
    let Some(mut t) = Two::start() else { return };
    let compare = |t: &mut Two| {
        let redis = t.redis2.command(&[b"CLIENT", b"LIST"]);
        let redigo = t.redigo2.command(&[b"CLIENT", b"LIST"]);
        assert_eq!(watcher_fields(&redigo), watcher_fields(&redis));
        watcher_fields(&redis)
    };
    t.script(&["PING"]);
    assert_eq!(compare(&mut t), ["flags=N", "multi=-1"]);
    t.script(&["MULTI", "SET a 1", "GET a"]);
    assert_eq!(compare(&mut t), ["flags=x", "multi=2"]);
    t.script(&["DISCARD", "WATCH k"]);
    t.other("SET k 1");
    assert_eq!(compare(&mut t), ["flags=d", "multi=-1"]);
    t.script(&["MULTI", "GET k"]);
    assert_eq!(compare(&mut t), ["flags=xd", "multi=0"]);
    t.script(&["EXEC"]);
    // CLIENT INFO run by EXEC sees the transaction still open.
    let (redis, redigo) = t.p.both_args(&[b"MULTI"]);
    assert_eq!(redigo, redis);
    t.p.both_args(&[b"CLIENT", b"INFO"]);
    let (redis, redigo) = t.p.both_args(&[b"EXEC"]);
    let fields = |reply: &[u8]| -> Vec<String> {
        show(reply)
            .split(' ')
            .filter(|f| f.starts_with("flags=") || f.starts_with("multi="))
            .map(str::to_string)
            .collect()
    };
    assert_eq!(fields(&redigo), fields(&redis));
    assert_eq!(fields(&redis), ["flags=x", "multi=1"]);
}
