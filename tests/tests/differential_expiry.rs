//! The TTL commands compared with Redis 7.0: byte-identical replies except
//! where the reply is a time, which is bounded instead.

mod differential_support;

use std::time::{SystemTime, UNIX_EPOCH};

use differential_support::Pair;

fn now_ms() -> i64 {
    let since = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970");
    i64::try_from(since.as_millis()).expect("ms fit i64")
}

#[test]
fn expire_flags_and_their_conflicts() {
    let Some(mut p) = Pair::start() else { return };
    p.script(&[
        "EXPIRE missing 100",
        "SET k v",
        "EXPIRE k 100 XX",
        "EXPIRE k 100 GT",
        "EXPIRE k 100 NX",
        "EXPIRE k 200 NX",
        "EXPIRE k 50 GT",
        "EXPIRE k 500 GT",
        "EXPIRE k 600 LT",
        "EXPIRE k 300 LT",
        "EXPIRE k 400 XX GT",
        "EXPIRE k 350 XX LT",
        "EXPIRE k 100 NX XX",
        "EXPIRE k 100 NX GT",
        "EXPIRE k 100 NX LT",
        "EXPIRE k 100 GT LT",
        "EXPIRE k 100 nx nx",
        "EXPIRE k 100 FOO",
        "EXPIRE k 100 xx FOO",
        "EXPIRE k abc FOO",
        "EXPIRE k abc",
        "EXPIRE k 1.5",
        "EXPIRE k 9223372036854775807",
        "EXPIRE k -9223372036854775808",
        "EXPIRE k 9223372036854776",
        "PEXPIRE k 9223372036854775807",
        "EXPIREAT k 9223372036854775807",
        "PERSIST k",
        "PERSIST k",
        "EXPIRE k 100 LT",
        "PERSIST k",
        "EXPIRE k 100 XX LT",
        "EXPIRE k 100 GT",
        "TTL k",
        "EXPIRE",
        "EXPIRE k",
        "PERSIST",
    ]);
}

#[test]
fn past_deadlines_delete_the_key() {
    let Some(mut p) = Pair::start() else { return };
    p.script(&[
        "SET a 1",
        "EXPIRE a 0",
        "EXISTS a",
        "SET b 1",
        "PEXPIRE b -100",
        "EXISTS b",
        "SET c 1",
        "EXPIREAT c 1",
        "GET c",
        "SET d 1",
        "PEXPIREAT d 1000",
        "TTL d",
        "SET e 1",
        "EXPIRE e -1 NX",
        "EXISTS e",
        "SET f 1 EX 100",
        "EXPIRE f -1 GT",
        "EXISTS f",
        "EXPIRE f -1 LT",
        "EXISTS f",
    ]);
}

#[test]
fn ttl_family_values_agree_within_bounds() {
    let Some(mut p) = Pair::start() else { return };
    p.script(&[
        "TTL missing",
        "PTTL missing",
        "EXPIRETIME missing",
        "PEXPIRETIME missing",
        "SET k v",
        "TTL k",
        "PTTL k",
        "EXPIRETIME k",
        "PEXPIRETIME k",
        "EXPIRE k 100",
    ]);
    let (redis, redigo) = p.both_int("TTL k");
    assert!((99..=100).contains(&redis), "{redis}");
    assert!((99..=100).contains(&redigo), "{redigo}");
    let (redis, redigo) = p.both_int("PTTL k");
    assert!((99_000..=100_000).contains(&redis), "{redis}");
    assert!((99_000..=100_000).contains(&redigo), "{redigo}");
    let before = now_ms();
    let (redis, redigo) = p.both_int("PEXPIRETIME k");
    for deadline in [redis, redigo] {
        assert!(
            (before + 98_000..=now_ms() + 100_000).contains(&deadline),
            "{deadline} not ~100 s after {before}"
        );
    }
    p.same("PEXPIREAT k 99999999999000");
    assert_eq!(p.both_int("EXPIRETIME k"), (99_999_999_999, 99_999_999_999));
    assert_eq!(
        p.both_int("PEXPIRETIME k"),
        (99_999_999_999_000, 99_999_999_999_000)
    );
    p.same("EXPIREAT k 99999999999");
    assert_eq!(
        p.both_int("PEXPIRETIME k"),
        (99_999_999_999_000, 99_999_999_999_000)
    );
    p.same("PEXPIRE k 1500");
    let (redis, redigo) = p.both_int("TTL k");
    assert!(
        (1..=2).contains(&redis) && (1..=2).contains(&redigo),
        "TTL rounds"
    );
    p.script(&["TTL", "PTTL a b", "EXPIRETIME", "PEXPIRETIME"]);
}

#[test]
fn keys_expire_for_reads_and_writes() {
    let Some(mut p) = Pair::start() else { return };
    p.script(&[
        "SET a 1 PX 30",
        "SET b 1 PX 30",
        "SET c 1 PX 30",
        "SET d 1 PX 30",
    ]);
    std::thread::sleep(std::time::Duration::from_millis(60));
    p.script(&["GET a", "INCR b", "EXISTS c", "TTL d", "KEYS *", "DBSIZE"]);
}

#[test]
fn enumerations_skip_expired_keys() {
    let Some(mut p) = Pair::start() else { return };
    p.script(&["SET a 1 PX 30", "SET b 1 PX 30", "SET c 1 PX 30"]);
    std::thread::sleep(std::time::Duration::from_millis(60));
    p.script(&["SCAN 0 COUNT 100", "RANDOMKEY", "TYPE a", "DBSIZE"]);
    p.script(&["SET live 1", "SET d 1 PX 30"]);
    std::thread::sleep(std::time::Duration::from_millis(60));
    p.script(&["SCAN 0 COUNT 100", "RANDOMKEY", "KEYS *", "DBSIZE"]);
}

#[test]
fn expiring_writes_leave_the_same_ttls() {
    let Some(mut p) = Pair::start() else { return };
    p.script(&[
        "SET ex v EX 100",
        "SET px v PX 100000",
        "SETEX setex 100 v",
        "PSETEX psetex 100000 v",
        "SET g v",
        "GETEX g PX 100000",
        "SET kept v EX 100",
        "SET kept w KEEPTTL",
        "INCRBY counter 1",
        "EXPIRE counter 100",
        "INCRBY counter 1",
        "APPEND counter 0",
        "SETRANGE counter 0 9",
    ]);
    for key in ["ex", "px", "setex", "psetex", "g", "kept", "counter"] {
        let (redis, redigo) = p.both_int(&format!("PTTL {key}"));
        assert!((98_000..=100_000).contains(&redis), "{key}: {redis}");
        assert!((98_000..=100_000).contains(&redigo), "{key}: {redigo}");
    }
    p.script(&["SET at v EXAT 99999999999", "SET pat v PXAT 99999999999123"]);
    assert_eq!(
        p.both_int("PEXPIRETIME at"),
        (99_999_999_999_000, 99_999_999_999_000)
    );
    assert_eq!(
        p.both_int("PEXPIRETIME pat"),
        (99_999_999_999_123, 99_999_999_999_123)
    );
    assert_eq!(
        p.both_int("EXPIRETIME pat"),
        (99_999_999_999, 99_999_999_999)
    );
}
