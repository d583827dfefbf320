//! `OBJECT IDLETIME` against Redis 7.0: which commands count as an access
//! of a key (Redis's `lookupKey` without `LOOKUP_NOTOUCH`) and which do not.
//!
//! The idle time is in whole seconds of a clock shared with the real world,
//! so the test sleeps once (past two clock ticks) and then only classifies
//! each key: idle at least 2 s ("kept": the command did not touch it) or at
//! most 1 s ("reset"). Both bounds hold whatever the scheduling delays.

mod differential_support;

use std::time::Duration;

use differential_support::{Pair, integer_reply};

/// How long the keys are left alone: a little over two ticks of the 1 s
/// clock, so an untouched key reads at least 2 on both servers (Redis's
/// cached clock may lag its stamp by up to one `hz` period, 100 ms).
const IDLE_PAUSE: Duration = Duration::from_millis(2300);

/// One key per command: the key's set-up, and the command run on it after
/// the pause.
const CASES: &[(&str, &str)] = &[
    ("SET get v", "GET get"),
    ("SET strlen v", "STRLEN strlen"),
    ("SET getrange hello", "GETRANGE getrange 0 1"),
    ("SET mget v", "MGET mget nokey"),
    ("SET touch v", "TOUCH touch nokey"),
    ("SET append v", "APPEND append w"),
    ("SET incr 1", "INCR incr"),
    ("SET expire v", "EXPIRE expire 100"),
    ("SET persist v", "PERSIST persist"),
    ("SET copysrc v", "COPY copysrc copydst"),
    ("SET exists v", "EXISTS exists"),
    ("SET type v", "TYPE type"),
    ("SET ttl v", "TTL ttl"),
    ("SET pttl v", "PTTL pttl"),
    ("SET expiretime v", "EXPIRETIME expiretime"),
    ("SET pexpiretime v", "PEXPIRETIME pexpiretime"),
    ("SET encoding v", "OBJECT ENCODING encoding"),
    ("SET refcount 5", "OBJECT REFCOUNT refcount"),
    ("SET idletime v", "OBJECT IDLETIME idletime"),
    ("SET memory v", "MEMORY USAGE memory"),
    ("HSET hget f v", "HGET hget f"),
    ("HSET hgetall f v", "HGETALL hgetall"),
    ("HSET hexists f v", "HEXISTS hexists nofield"),
    ("HSET hset f v", "HSET hset g w"),
    ("HSET hscan f v", "HSCAN hscan 0"),
    ("SADD sismember m", "SISMEMBER sismember m"),
    ("SADD smembers m", "SMEMBERS smembers"),
    ("SADD sadd m", "SADD sadd m"),
    ("SADD scard m n", "SCARD scard"),
    ("SADD sinter m", "SINTER sinter nokey"),
    // Redis holds small integers as shared objects with one clock: reading
    // `sharedb` restarts `shareda`'s idle time too.
    ("SET shareda 7", "TYPE shareda"),
    ("SET sharedb 7", "GET sharedb"),
    ("SET unshared 70000", "TYPE unshared"),
];

/// What the key's idle time says about the command: `"kept"` when it did
/// not count as an access, `"reset"` when it did.
fn classify(idle: i64) -> &'static str {
    match idle {
        2.. => "kept",
        0 | 1 => "reset",
        _ => "negative",
    }
}

fn words(command: &str) -> Vec<&[u8]> {
    command.split(' ').map(str::as_bytes).collect()
}

#[test]
fn idle_time_restarts_on_the_accesses_redis_counts() {
    let Some(mut p) = Pair::start() else { return };
    for (setup, _) in CASES {
        p.same(setup);
    }
    p.same("SET untouched v");
    std::thread::sleep(IDLE_PAUSE);
    // Commands over the whole keyspace, none of which is an access.
    p.same_set("KEYS *");
    p.both_args(&words("SCAN 0 TYPE string COUNT 1000"));
    p.both_args(&words("RANDOMKEY"));
    p.same("DBSIZE");
    for (_, command) in CASES {
        p.both_args(&words(command));
    }
    let mut keys: Vec<&str> = CASES
        .iter()
        .map(|(setup, _)| setup.split(' ').nth(1).expect("a key"))
        .collect();
    keys.extend(["copydst", "untouched"]);
    let mut differences = Vec::new();
    let mut classes = Vec::new();
    for key in keys {
        let (redis, redigo) = p.both_args(&words(&format!("OBJECT IDLETIME {key}")));
        let (redis, redigo) = (
            classify(integer_reply(&redis)),
            classify(integer_reply(&redigo)),
        );
        if redis != redigo {
            differences.push(format!("{key}: Redis {redis}, Redigo {redigo}"));
        }
        classes.push(redis);
    }
    assert!(differences.is_empty(), "idle times differ: {differences:?}");
    // The sample covers both kinds of command.
    assert!(classes.contains(&"kept") && classes.contains(&"reset"));
}

#[test]
fn object_freq_without_an_lfu_policy_and_idletime_of_a_new_key() {
    let Some(mut p) = Pair::start() else { return };
    p.script(&[
        "SET k v",
        "OBJECT IDLETIME k",
        "OBJECT FREQ k",
        "OBJECT FREQ nokey",
        "OBJECT IDLETIME nokey",
        "HSET h f v",
        "OBJECT FREQ h",
    ]);
}

#[test]
fn incrbyfloat_results_are_text_through_every_change_that_keeps_the_object() {
    let Some(mut p) = Pair::start() else { return };
    p.script(&[
        "SET k 1.5",
        "INCRBYFLOAT k 1.5",
        "OBJECT ENCODING k",
        "OBJECT REFCOUNT k",
        // COPY duplicates the encoding; RENAME, RENAMENX, EXPIRE, PERSIST,
        // GETEX and MOVE keep the object.
        "COPY k c",
        "OBJECT ENCODING c",
        "RENAME c r",
        "OBJECT ENCODING r",
        "RENAMENX r r2",
        "OBJECT ENCODING r2",
        "EXPIRE r2 100",
        "OBJECT ENCODING r2",
        "PERSIST r2",
        "GETEX r2 PX 100000",
        "OBJECT ENCODING r2",
        "MOVE r2 1",
        "SELECT 1",
        "OBJECT ENCODING r2",
        "SELECT 0",
        // Changes in place make it raw; a new value is encoded afresh.
        "SET a 2",
        "INCRBYFLOAT a 1",
        "SETRANGE a 0 4",
        "OBJECT ENCODING a",
        "SET b 2",
        "INCRBYFLOAT b 1",
        "APPEND b x",
        "OBJECT ENCODING b",
        "SET d 2",
        "INCRBYFLOAT d 1",
        "INCR d",
        "OBJECT ENCODING d",
        "SET g 1",
        "INCRBYFLOAT g 1",
        "GETSET g 5",
        "OBJECT ENCODING g",
        "SET e 5",
        "INCRBYFLOAT e 0",
        "OBJECT ENCODING e",
        "INCRBYFLOAT new 7",
        "OBJECT ENCODING new",
        "INCRBYFLOAT f 100000000000000000000",
        "OBJECT ENCODING f",
        // SET of the same text is an integer again.
        "SET k 3",
        "OBJECT ENCODING k",
        "OBJECT REFCOUNT k",
    ]);
}

/// The elements of a RESP2 array reply, one level deep: each nested array
/// is kept whole (its raw bytes), each scalar as its raw bytes.
fn array_elements(reply: &[u8]) -> Vec<Vec<u8>> {
    fn line_end(bytes: &[u8], from: usize) -> usize {
        from + bytes[from..]
            .windows(2)
            .position(|w| w == b"\r\n")
            .expect("a CRLF")
    }
    fn element_end(bytes: &[u8], at: usize) -> usize {
        let end = line_end(bytes, at);
        let header = std::str::from_utf8(&bytes[at + 1..end]).expect("ascii");
        match bytes[at] {
            b'$' => match header.parse::<i64>().expect("a length") {
                -1 => end + 2,
                len => end + 2 + len as usize + 2,
            },
            b'*' => {
                let mut next = end + 2;
                for _ in 0..header.parse::<usize>().expect("a count") {
                    next = element_end(bytes, next);
                }
                next
            }
            _ => end + 2,
        }
    }
    assert_eq!(
        reply[0],
        b'*',
        "an array: {}",
        String::from_utf8_lossy(reply)
    );
    let end = line_end(reply, 0);
    let count: usize = std::str::from_utf8(&reply[1..end])
        .expect("ascii")
        .parse()
        .expect("a count");
    let mut at = end + 2;
    (0..count)
        .map(|_| {
            let next = element_end(reply, at);
            let element = reply[at..next].to_vec();
            at = next;
            element
        })
        .collect()
}

/// The field names of a `MEMORY STATS` reply (even positions), with the
/// field names of each nested `db.N` map after its name.
fn stats_names(reply: &[u8]) -> Vec<String> {
    let elements = array_elements(reply);
    let mut names = Vec::new();
    for pair in elements.chunks(2) {
        let name = String::from_utf8_lossy(&pair[0]).into_owned();
        names.push(name);
        if pair[1].starts_with(b"*") {
            names.extend(
                stats_names(&pair[1])
                    .into_iter()
                    .map(|nested| format!("  {nested}")),
            );
        }
    }
    names
}

#[test]
fn memory_subcommands_answer_as_redis() {
    let Some(mut p) = Pair::start() else { return };
    // The container's subcommands come in the order of Redis's dict, whose
    // hash seed is random per process: compare them as a set.
    let (redis, redigo) = p.both_args(&words("COMMAND INFO memory"));
    let subcommands = |reply: &[u8]| {
        let command = array_elements(&array_elements(reply)[0]);
        let mut subcommands = array_elements(&command[9]);
        subcommands.sort();
        (command[..9].to_vec(), subcommands)
    };
    assert_eq!(subcommands(&redigo), subcommands(&redis));
    for command in [
        "memory|usage",
        "memory|stats",
        "memory|doctor",
        "memory|malloc-stats",
        "memory|purge",
        "memory|help",
    ] {
        p.same(&format!("COMMAND INFO {command}"));
        p.same(&format!("COMMAND DOCS {command}"));
    }
    p.script(
        &[
            "MEMORY HELP",
            "MEMORY PURGE",
            "MEMORY DOCTOR extra",
            "MEMORY STATS extra",
            "MEMORY PURGE extra",
            "MEMORY MALLOC-STATS extra",
            // Both servers hold far less than the doctor's 5 MB: the same text.
            "MEMORY DOCTOR",
            "SET a 1",
            "HSET h f v",
            "SELECT 3",
            "SET b 2",
            "PEXPIRE b 100000",
            "SELECT 0",
            "MEMORY USAGE h SAMPLES 0",
        ]
        .iter()
        .filter(|c| !c.starts_with("MEMORY USAGE"))
        .copied()
        .collect::<Vec<_>>(),
    );
    // Every field of Redis's STATS, in its order, with the same databases.
    let (redis, redigo) = p.both_args(&words("MEMORY STATS"));
    assert_eq!(stats_names(&redigo), stats_names(&redis));
    let names = stats_names(&redis);
    assert!(names.iter().any(|name| name.contains("db.3")), "{names:?}");
    assert_eq!(
        names.len(),
        27 + 2 * (1 + 3),
        "27 fields, two databases of 3"
    );
    // Redis built with jemalloc prints its report; Redigo answers as a
    // build without it. Both are one bulk string.
    let (redis, redigo) = p.both_args(&words("MEMORY MALLOC-STATS"));
    assert!(redis.starts_with(b"$") && redigo.starts_with(b"$"));
    assert!(redigo.ends_with(b"Stats not supported for the current allocator\r\n"));
}

#[test]
fn memory_usage_samples_every_element_with_zero() {
    let Some(mut p) = Pair::start() else { return };
    let mut args: Vec<String> = vec!["HSET".into(), "h".into()];
    for i in 0..1000 {
        args.push(format!("field:{i}"));
        args.push(if i == 0 {
            "x".repeat(10_000)
        } else {
            "v".into()
        });
    }
    let refs: Vec<&[u8]> = args.iter().map(String::as_bytes).collect();
    p.same_args(&refs);
    p.same("OBJECT ENCODING h");
    for server in [&mut p.redis, &mut p.redigo] {
        let all = integer_reply(&server.command(&words("MEMORY USAGE h SAMPLES 0")));
        let all_again = integer_reply(&server.command(&words("MEMORY USAGE h SAMPLES 1000")));
        assert_eq!(all, all_again, "sampling every element is exact");
        // Sampling every element counts the one long value exactly once.
        assert!(all > 10_000 && all < 10_000 + 1000 * 200, "{all}");
        assert!(integer_reply(&server.command(&words("MEMORY USAGE h"))) > 0);
    }
}
