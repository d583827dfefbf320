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

/// Longer than the `PX 1` time to live setups give keys meant to be
/// expired when the script runs.
const SETUP_EXPIRY_WAIT: std::time::Duration = std::time::Duration::from_millis(10);

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
        // Keys the setup gave a 1 ms time to live have expired before the
        // script reads them, on a fast server too.
        std::thread::sleep(SETUP_EXPIRY_WAIT);
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
fn list_commands_fire_redis_s_events() {
    let events = same_events(
        "KEAn",
        &["SET str v"],
        &[
            "LPUSH l a b c",
            "RPUSH l d e",
            "LPUSHX l f",
            "RPUSHX l g",
            "LPUSHX nosuch f",
            "RPUSHX nosuch g",
            "LPUSH str x",
            "LINSERT l BEFORE a x",
            "LINSERT l AFTER nosuch y",
            "LINSERT nosuch AFTER a y",
            "LSET l 0 z",
            "LSET l 100 z",
            "LSET nosuch 0 z",
            "LREM l 1 x",
            "LREM l 0 nosuch",
            "LPOP l",
            "RPOP l 2",
            "LPOP l 0",
            "LPOP nosuch",
            "LTRIM l 0 -1",
            "LTRIM l 1 -1",
            "LTRIM nosuch 0 1",
            "LMOVE l m LEFT RIGHT",
            "LMOVE l m RIGHT LEFT",
            "RPOPLPUSH l l",
            "RPOPLPUSH nosuch m",
            "LMPOP 2 nosuch m LEFT COUNT 1",
            "LMPOP 1 m RIGHT COUNT 10",
            "RPUSH one a",
            "LPOP one",
            "RPUSH two a",
            "RPOP two 5",
            "RPUSH three a b",
            "LTRIM three 5 10",
            "RPUSH four a a",
            "LREM four 0 a",
            "RPUSH five a",
            "LMOVE five six LEFT LEFT",
            "RPOPLPUSH six six",
            "BLPOP nosuch six 0",
            "RPUSH seven a b",
            "BRPOP seven 0",
            "BLMPOP 0 1 seven LEFT COUNT 3",
            "RPUSH eight a",
            "BLMOVE eight nine RIGHT LEFT 0",
            "BRPOPLPUSH nine ten 0",
            "DEL ten",
        ],
    );
    // Not vacuous: the oracle fired events (or is absent outside CI).
    assert!(events.len() > 80 || redigo_tests::oracle().is_none());
}

/// How many clients a server reports blocked.
fn blocked_clients(conn: &mut RawConn) -> usize {
    let info = show(&cmd(conn, "INFO clients"));
    info.lines()
        .find_map(|l| l.strip_prefix("blocked_clients:"))
        .and_then(|v| v.trim().parse().ok())
        .expect("INFO clients has blocked_clients")
}

/// Like [`same_events`], with blocked clients: after `setup`, each of
/// `blockers` is sent on a connection of its own (waiting until the server
/// reports it blocked), then `script` runs and serves them. The blocked
/// clients' replies are compared too.
fn same_events_with_blockers(setup: &[&str], blockers: &[&str], script: &[&str]) -> Vec<String> {
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
        cmd(&mut c, "CONFIG SET notify-keyspace-events KEAn");
        let mut waiting = Vec::new();
        for (n, command) in blockers.iter().enumerate() {
            let mut blocker = RawConn::connect(port);
            let args: Vec<&str> = command.split(' ').collect();
            let mut request = format!("*{}\r\n", args.len());
            for arg in args {
                request.push_str(&format!("${}\r\n{arg}\r\n", arg.len()));
            }
            blocker.send(request.as_bytes());
            // Polled, not timed: the server says when the client blocked.
            while blocked_clients(&mut c) != n + 1 {
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
            waiting.push(blocker);
        }
        let mut replies = Vec::new();
        for command in script {
            replies.push(show(&cmd(&mut c, command)));
        }
        for blocker in &mut waiting {
            replies.push(show(&blocker.read_reply()));
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
fn served_blocked_clients_fire_their_pop_and_push_events() {
    // BLPOP is served by the push and empties the list (`del`); BRPOP
    // takes one of two; BLMPOP pops a range; BLMOVE's push creates `dst`
    // (`new`, `lpush`), whose waiter is served in turn.
    let events = same_events_with_blockers(
        &[],
        &[
            "BLPOP a 0",
            "BRPOP b 0",
            "BLMPOP 0 1 c LEFT COUNT 5",
            "BLMOVE d dst RIGHT LEFT 0",
            "BLPOP dst 0",
            "BRPOPLPUSH e f 0",
            "BZPOPMIN za 0",
            "BZMPOP 0 1 zb MAX COUNT 5",
            "BZPOPMAX zc 0",
        ],
        &[
            "RPUSH a 1",
            "RPUSH b 1 2",
            "LPUSH c 1 2 3",
            "RPUSH d 1",
            "RPUSH e 1",
            "ZADD za 1 a",
            "ZADD zb 1 a 2 b",
            "ZADD zc 1 a 2 b",
        ],
    );
    assert!(events.len() > 40 || redigo_tests::oracle().is_none());
}

#[test]
fn sorted_set_commands_fire_redis_s_events() {
    let events = same_events(
        "KEAn",
        &["SET str v"],
        &[
            "ZADD z 1 a 2 b 3 c",
            "ZADD z 1 a",
            "ZADD z XX 5 a",
            "ZADD z NX 5 a",
            "ZADD z GT 1 a",
            "ZADD z CH 6 a 7 d",
            "ZADD z INCR 1 a",
            "ZADD nosuch XX 1 a",
            "ZADD str 1 a",
            "ZINCRBY z 2 b",
            "ZINCRBY fresh 2 b",
            "ZREM z nosuch",
            "ZREM z a",
            "ZREMRANGEBYSCORE z 100 200",
            "ZREMRANGEBYRANK z 0 0",
            "ZADD z 1 a 2 b 3 c 4 x",
            "ZADD lex 0 a 0 b 0 c",
            "ZREMRANGEBYLEX lex [b [b",
            "ZREMRANGEBYLEX lex - +",
            "ZPOPMIN z",
            "ZPOPMAX z 2",
            "ZPOPMIN z 0",
            "ZPOPMIN nosuch",
            "ZADD p 1 a 2 b",
            "ZPOPMAX p 5",
            "ZADD q 1 a 2 b 3 c",
            "ZMPOP 2 nosuch q MIN COUNT 2",
            "ZMPOP 1 q MAX COUNT 2",
            "ZMPOP 1 q MAX",
            "ZADD s1 1 a 2 b",
            "ZADD s2 2 b 3 c",
            "ZUNIONSTORE u 2 s1 s2",
            "ZINTERSTORE i 2 s1 s2",
            "ZDIFFSTORE d 2 s1 s2",
            "ZUNIONSTORE u 2 s1 s2",
            "ZINTERSTORE i 2 s1 nosuch",
            "ZINTERSTORE i 2 s1 nosuch",
            "ZDIFFSTORE d 2 s1 s1",
            "ZRANGESTORE r s1 0 -1",
            "ZRANGESTORE r s1 0 -1",
            "ZRANGESTORE r s1 5 10",
            "ZRANGESTORE r s1 5 10",
            "ZRANGESTORE r2 nosuch 0 -1",
            "ZREM s1 a b",
            "ZADD bz 1 a 2 b 3 c",
            "BZPOPMIN bz 0",
            "BZPOPMAX nosuch bz 0",
            "BZMPOP 0 1 bz MIN COUNT 5",
        ],
    );
    assert!(events.len() > 80 || redigo_tests::oracle().is_none());
}

#[test]
fn geo_commands_fire_redis_s_events() {
    let events = same_events(
        "KEAn",
        &[],
        &[
            "GEOADD g 13.361389 38.115556 Palermo 15.087269 37.502669 Catania",
            "GEOADD g 13.361389 38.115556 Palermo",
            "GEOADD g XX 13.361389 38.115556 Other",
            "GEOADD g CH 13.5 38.1 Palermo",
            "GEOADD nosuch XX 13.361389 38.115556 Palermo",
            "GEOSEARCHSTORE dst g FROMLONLAT 15 37 BYRADIUS 200 km",
            "GEOSEARCHSTORE dst g FROMLONLAT 15 37 BYRADIUS 200 km STOREDIST",
            "GEOSEARCHSTORE dst g FROMLONLAT 0 0 BYRADIUS 1 km",
            "GEOSEARCHSTORE dst g FROMLONLAT 0 0 BYRADIUS 1 km",
            "GEORADIUS g 15 37 200 km STORE r",
            "GEORADIUSBYMEMBER g Palermo 300 km STOREDIST r2",
            "GEORADIUS g 0 0 1 km STORE r",
            "GEORADIUS nosuch 0 0 1 km STORE r2",
            "GEORADIUS nosuch 0 0 1 km STORE r2",
            "GEOSEARCHSTORE dst nosuch FROMLONLAT 0 0 BYRADIUS 1 km",
            "ZREM g Palermo Catania",
        ],
    );
    assert!(events.len() >= 30 || redigo_tests::oracle().is_none());
}

#[test]
fn sort_store_fires_redis_s_events() {
    let events = same_events(
        "KEAn",
        &[
            "RPUSH l 3 1 2",
            "SADD s c a b",
            "SET w_a 1",
            "ZADD z 3 c 1 a 2 b",
        ],
        &[
            "SORT l STORE out",
            "SORT l STORE out",
            "SORT s ALPHA STORE out2",
            "SORT s ALPHA GET w_* STORE out3",
            "SORT nosuch STORE out",
            "SORT nosuch STORE out",
            "SORT l STORE l",
            "SORT z ALPHA STORE out4",
            "SORT z BY nosort STORE out5",
            "SORT l",
        ],
    );
    assert!(events.len() > 10 || redigo_tests::oracle().is_none());
}

#[test]
fn commands_inside_exec_fire_their_events() {
    let events = same_events(
        "KEAn",
        &[],
        &[
            "MULTI",
            "SET s 1",
            "LPUSH l a b",
            "ZADD z 1 a",
            "SADD x a",
            "HSET h f v",
            "LPOP l 2",
            "INCR s",
            "EXPIRE s 100",
            "DEL h",
            "EXEC",
            "MULTI",
            "SET s 2",
            "LPUSH s x",
            "RPUSH l2 x",
            "EXEC",
            "MULTI",
            "SET never 1",
            "DISCARD",
        ],
    );
    assert!(events.len() > 20 || redigo_tests::oracle().is_none());
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

/// `keymiss` (`m`, not part of `A`) fires where Redis's `lookupKeyRead*`
/// misses: reads of missing or expired keys, the source keys some writes
/// read (`*STORE`, `COPY`, `SORT ... STORE`, `SET ... GET`, `GETDEL`);
/// never for the write lookups (`RENAME`, `LMOVE`, `INCR`...), nor for
/// `OBJECT` (`LOOKUP_NONOTIFY`).
#[test]
fn keymiss_fires_where_redis_s_read_lookups_miss() {
    let events = same_events(
        "KEm",
        &[
            "SET str v",
            "HSET h f v",
            "RPUSH l a b",
            "SADD s a",
            "ZADD z 1 a",
            "SET gone v PX 1",
            "SET gone2 v PX 1",
        ],
        &[
            "GET nosuch",
            "GET str",
            "GET h",
            "MGET a str b",
            "STRLEN n1",
            "GETRANGE n2 0 1",
            "GETEX n3",
            "GETDEL n4",
            "GETSET n5 v",
            "SET n6 v GET",
            "LCS n7 str",
            "EXISTS e1 str e2 e1",
            "TOUCH t1 str",
            "TYPE ty",
            "TTL ttl1",
            "PTTL ttl2",
            "EXPIRETIME ttl3",
            "HGET nh f",
            "HGET h nofield",
            "HGETALL nh2",
            "HMGET nh3 a b",
            "HLEN nh4",
            "HEXISTS nh5 f",
            "HRANDFIELD nh6",
            "HSCAN nh7 0",
            "LRANGE nl 0 -1",
            "LLEN nl2",
            "LINDEX nl3 0",
            "LPOS nl4 a",
            "SMEMBERS ns",
            "SISMEMBER ns2 a",
            "SCARD ns3",
            "SRANDMEMBER ns4",
            "SINTER s ns5 ns6",
            "SUNION ns7 s",
            "SINTERCARD 2 ns8 s",
            "ZRANGE nz 0 -1",
            "ZSCORE nz2 a",
            "ZCARD nz3",
            "ZRANK nz4 a",
            "ZRANDMEMBER nz5",
            "ZUNION 2 z nz6",
            "GEOPOS ng a",
            "SORT nsort",
            "SORT_RO nsort2",
            "OBJECT ENCODING nobj",
            "OBJECT FREQ nobj2",
            // Writes that read their sources.
            "SINTERSTORE dst ns9 s",
            "SUNIONSTORE dst2 ns10",
            "ZUNIONSTORE dst3 2 nz7 z",
            "SORT nsort3 STORE dst4",
            "COPY nc dst5",
            // Write lookups: no event.
            "INCR wi",
            "APPEND wa x",
            "RENAME nr x",
            "LMOVE nm l2 LEFT LEFT",
            "LPUSHX nx a",
            "HINCRBY wh f 1",
            "SREM ws a",
            "ZREM wz a",
            "DEL wd",
            "EXPIRE we 10",
            // Expired keys read: expired, then keymiss.
            "GET gone",
            "EXISTS gone2",
        ],
    );
    assert!(events.len() > 40 || redigo_tests::oracle().is_none());
}
