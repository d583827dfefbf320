//! Keyspace notifications compared with Redis 7.0: for each command family,
//! a subscriber to `__key*__:*` on each server, the same commands run on
//! both, and the streams of events received compared message by message
//! (channel, event names, keys and their order). Also the
//! `notify-keyspace-events` setting itself.

mod differential_support;

use differential_support::{Pair, show};
use redigo_server::testing::TestServer;
use redigo_tests::RawConn;

/// The channel that marks the end of a stream: published after the
/// commands, it arrives after every event they fired.
const END: &str = "end-of-events";

fn cmd(conn: &mut RawConn, command: &str) -> Vec<u8> {
    let args: Vec<&[u8]> = command.split(' ').map(str::as_bytes).collect();
    conn.command(&args)
}

/// A subscriber to every keyspace and keyevent channel, and to [`END`].
fn subscriber(port: u16) -> RawConn {
    let mut sub = RawConn::connect(port);
    cmd(&mut sub, "PSUBSCRIBE __key*__:*");
    cmd(&mut sub, &format!("SUBSCRIBE {END}"));
    sub
}

/// Reads messages up to the [`END`] marker.
fn events_until_end(sub: &mut RawConn) -> Vec<String> {
    let mut events = Vec::new();
    loop {
        let message = show(&sub.read_reply());
        if message.contains(END) {
            return events;
        }
        events.push(message);
    }
}

/// Runs `setup` without notifications, then `script` with
/// `notify-keyspace-events` set to `flags` on both servers, and asserts
/// the same events arrived, in the same order; returns them.
fn same_events(flags: &str, setup: &[&str], script: &[&str]) -> Vec<String> {
    let Some(oracle) = redigo_tests::oracle() else {
        return Vec::new();
    };
    let server = TestServer::start(&[]);
    let mut streams = Vec::new();
    for port in [oracle.port(), server.port()] {
        let mut sub = subscriber(port);
        let mut c = RawConn::connect(port);
        for command in setup {
            cmd(&mut c, command);
        }
        c.command(&[
            b"CONFIG",
            b"SET",
            b"notify-keyspace-events",
            flags.as_bytes(),
        ]);
        let mut replies = Vec::new();
        for command in script {
            replies.push(show(&cmd(&mut c, command)));
        }
        cmd(&mut c, &format!("PUBLISH {END} x"));
        streams.push((events_until_end(&mut sub), replies));
    }
    let redigo = streams.pop().unwrap();
    let redis = streams.pop().unwrap();
    assert_eq!(
        redigo.1, redis.1,
        "replies differ (left: Redigo, right: Redis)"
    );
    assert_eq!(
        redigo.0, redis.0,
        "events differ (left: Redigo, right: Redis)"
    );
    redis.0
}

#[test]
fn string_commands_fire_redis_s_events() {
    let events = same_events(
        "KEA",
        &[],
        &[
            "SET s 1",
            "SET s 2 EX 100",
            "SET s 3 KEEPTTL",
            "SET s 4 XX GET",
            "SET s 5 NX",
            "SETNX s x",
            "SETNX s2 y",
            "SETEX s3 100 v",
            "PSETEX s4 100000 v",
            "GETSET s 6",
            "GETDEL s2",
            "GETDEL s2",
            "GETEX s3 PERSIST",
            "GETEX s3 PERSIST",
            "GETEX s4 EX 50",
            "GETEX s4 PXAT 1",
            "GETEX s",
            "MSET m1 a m2 b m1 c",
            "MSETNX m1 a n1 b",
            "MSETNX n2 a n3 b",
            "INCR i",
            "DECR i",
            "INCRBY i 5",
            "DECRBY i 2",
            "INCRBY s 1",
            "INCRBYFLOAT f 1.5",
            "APPEND ap x",
            "APPEND ap y",
            "SETRANGE sr 2 ab",
            "SETRANGE sr 0 ",
            "SETRANGE nosuch 0 ",
            "GET nosuch",
            "STRLEN s",
        ],
    );
    // Not vacuous: the oracle fired events (or is absent outside CI).
    assert!(events.len() > 40 || redigo_tests::oracle().is_none());
}

#[test]
fn new_key_events_fire_where_redis_fires_them() {
    same_events(
        "KEAn",
        &["SET exists v", "SADD set a", "SELECT 0"],
        &[
            "SET a 1",
            "SET a 2",
            "SETNX b 1",
            "MSET c 1 c 2 exists 3 d 4",
            "INCR e",
            "INCRBYFLOAT f 1",
            "APPEND g x",
            "SETRANGE h 1 x",
            "HSET hh a 1",
            "HSET hh b 1",
            "HINCRBY hi a 1",
            "HINCRBYFLOAT hf a 1",
            "HSETNX hn a 1",
            "SADD s a",
            "SADD s b",
            "SMOVE set s2 a",
            "SUNIONSTORE u s s2",
            "RENAME a ren",
            "COPY ren cp",
            "COPY ren cp2 DB 1",
            "MOVE b 2",
        ],
    );
}

#[test]
fn keyspace_and_expiry_commands_fire_redis_s_events() {
    same_events(
        "KEA",
        &[
            "MSET a 1 b 2 c 3 d 4 e 5 f 6 g 7",
            "SADD set x",
            "SET in2 v",
            "MOVE in2 2",
        ],
        &[
            "DEL a nosuch a",
            "UNLINK b",
            "RENAME c c2",
            "RENAME c2 c2",
            "RENAMENX c2 d",
            "RENAMENX c2 c3",
            "COPY c3 c4",
            "COPY c3 c4",
            "COPY c3 c4 REPLACE",
            "COPY c3 c5 DB 1",
            "MOVE c4 2",
            "MOVE in2 2",
            "MOVE d 3",
            "EXPIRE e 100",
            "EXPIRE e 100 NX",
            "PEXPIRE e 100000 XX",
            "EXPIREAT e 4000000000",
            "PEXPIREAT f 4000000000000",
            "PERSIST e",
            "PERSIST e",
            "EXPIRE g 0",
            "PEXPIREAT f 1",
            "EXPIRE nosuch 10",
            "TOUCH set",
            "EXISTS set",
            "TYPE set",
        ],
    );
}

#[test]
fn hash_commands_fire_redis_s_events() {
    same_events(
        "KEA",
        &[],
        &[
            "HSET h a 1 b 2",
            "HSET h a 3",
            "HMSET h c 4",
            "HSETNX h a x",
            "HSETNX h d y",
            "HINCRBY h n 5",
            "HINCRBYFLOAT h f 1.5",
            "HINCRBY h a x",
            "HDEL h nosuch",
            "HDEL h a b nosuch",
            "HDEL h c d n f",
            "HGET h a",
            "HSET t a 1",
            "HDEL t a",
        ],
    );
}

#[test]
fn set_commands_fire_redis_s_events() {
    same_events(
        "KEA",
        &[],
        &[
            "SADD s a b c d",
            "SADD s a",
            "SREM s a nosuch",
            "SREM s nosuch",
            "SPOP s 0",
            "SADD one z",
            "SPOP one",
            "SPOP nosuch",
            "SADD t 1 2 3",
            "SPOP t 10",
            "SADD u x",
            "SPOP u",
            "SADD a 1 2 3",
            "SADD b 2 3 4",
            "SMOVE a b 1",
            "SMOVE a b 2",
            "SMOVE a a 3",
            "SMOVE a c 3",
            "SMOVE nosuch c 3",
            "SINTERSTORE i b c",
            "SUNIONSTORE un b c",
            "SDIFFSTORE df b c",
            "SDIFFSTORE df b b",
            "SINTERSTORE i nosuch b",
            "SINTERSTORE i nosuch b",
            "SREM c 3",
        ],
    );
}

#[test]
fn only_the_enabled_classes_and_channels_fire() {
    let script = ["SET s 1", "HSET h a 1", "SADD x a", "EXPIRE s 100", "DEL h"];
    for flags in ["K$", "Eh", "Kgs", "E", "A", "KEg$shx", "Ex"] {
        same_events(flags, &[], &script);
    }
}

#[test]
fn lazily_expired_keys_fire_expired_before_the_command_s_own_events() {
    // A deadline already past when set: the key stays until a lookup
    // finds it expired (the expiry cycles of both servers run every
    // 100 ms; these commands follow each other within microseconds).
    same_events(
        "KEA",
        &[],
        &[
            "SET a 1 PXAT 1",
            "GET a",
            "SET b 1 PXAT 1",
            "SET b 2",
            "SET c 1 PXAT 1",
            "INCR c",
            "SET d 1 PXAT 1",
            "DEL d",
        ],
    );
}

#[test]
fn the_active_expiry_cycle_fires_expired_events() {
    let Some(oracle) = redigo_tests::oracle() else {
        return;
    };
    let server = TestServer::start(&[]);
    let mut streams = Vec::new();
    for port in [oracle.port(), server.port()] {
        let mut sub = RawConn::connect(port);
        cmd(&mut sub, "SUBSCRIBE __keyevent@3__:expired");
        let mut c = RawConn::connect(port);
        cmd(&mut c, "CONFIG SET notify-keyspace-events Ex");
        cmd(&mut c, "SELECT 3");
        cmd(&mut c, "SET gone v PX 5");
        // Nothing reads the key: only the cycle can remove it.
        streams.push(show(&sub.read_reply()));
    }
    assert_eq!(streams[1], streams[0], "left: Redigo, right: Redis");
    assert!(streams[0].contains("gone"));
}

#[test]
fn notify_keyspace_events_is_parsed_and_shown_as_redis_does() {
    let Some(mut p) = Pair::start() else { return };
    for value in [
        "KEA",
        "AKE",
        "mEn$Kg",
        "An",
        "Kx",
        "g$lshzxetdKEm",
        "",
        "KEA",
        "Q",
        "KEAX",
        " ",
        "Ag$lshzxeKEtmdn",
    ] {
        p.same_args(&[
            b"CONFIG",
            b"SET",
            b"notify-keyspace-events",
            value.as_bytes(),
        ]);
        p.same("CONFIG GET notify-keyspace-events");
    }
}
