//! Client control compared with Redis 7.0, driven with the same
//! multi-connection scripts on both servers: `CLIENT REPLY ON|OFF|SKIP`
//! (which replies are dropped), `CLIENT PAUSE`/`UNPAUSE` (writes wait,
//! reads go on, the postponed client shows flag `b`), `CLIENT NO-EVICT`,
//! `MONITOR` (the streamed lines, timestamp and port masked), the
//! `CLIENT LIST` fields and flags, and what `RESET` clears.

mod differential_support;

use std::time::{Duration, Instant};

use differential_support::{Pair, request, show};
use redigo_tests::RawConn;

/// Generous bound for a condition another connection brings about (a
/// request reaching the server); never hit unless something is broken.
const PATIENCE: Duration = Duration::from_secs(10);

/// Sends `commands` as one pipeline followed by `ECHO end`, and returns
/// every reply up to and including the sentinel's.
fn pipeline_replies(conn: &mut RawConn, commands: &[&str]) -> Vec<String> {
    let mut bytes = Vec::new();
    for command in commands {
        bytes.extend(request(command));
    }
    bytes.extend(request("ECHO end"));
    conn.send(&bytes);
    let mut replies = Vec::new();
    loop {
        let reply = show(&conn.read_reply());
        let done = reply == "$3\r\nend\r\n";
        replies.push(reply);
        if done {
            return replies;
        }
    }
}

fn same_pipeline(redis: &mut RawConn, redigo: &mut RawConn, commands: &[&str]) {
    let expected = pipeline_replies(redis, commands);
    let actual = pipeline_replies(redigo, commands);
    assert_eq!(
        actual, expected,
        "replies to the pipeline {commands:?} differ (left: Redigo, right: Redis)"
    );
}

fn command(conn: &mut RawConn, command: &str) -> String {
    show(&conn.roundtrip(&request(command)))
}

/// The `name=value` fields of a `CLIENT INFO`/`CLIENT LIST` line.
fn fields(reply: &str) -> Vec<(String, String)> {
    let line = reply
        .lines()
        .find(|l| l.starts_with("id="))
        .unwrap_or_else(|| panic!("no client line in {reply:?}"));
    line.split(' ')
        .map(|f| {
            let (name, value) = f.split_once('=').unwrap_or((f, ""));
            (name.to_string(), value.to_string())
        })
        .collect()
}

fn field(reply: &str, name: &str) -> String {
    fields(reply)
        .into_iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v)
        .unwrap_or_else(|| panic!("no {name}= in {reply:?}"))
}

/// A monitor line with its timestamp and client port masked.
fn masked(line: &str) -> String {
    let Some((_, rest)) = line.split_once(" [") else {
        return line.to_string();
    };
    let (inside, args) = rest.split_once(']').expect("monitor line has ]");
    let (db_addr, _port) = inside.rsplit_once(':').expect("address has a port");
    format!("+TS [{db_addr}:PORT]{args}")
}

/// Reads monitor lines up to the one of `ECHO end` (included).
fn monitor_lines(monitor: &mut RawConn) -> Vec<String> {
    let mut lines = Vec::new();
    loop {
        let line = masked(&show(&monitor.read_reply()));
        let done = line.ends_with("\"ECHO\" \"end\"\r\n");
        lines.push(line);
        if done {
            return lines;
        }
    }
}

/// Polls `CLIENT LIST ID id` from `observer` until the client's flags
/// contain `flag`; returns the line's fields.
fn wait_for_flag(observer: &mut RawConn, id: &str, flag: char) -> Vec<(String, String)> {
    let started = Instant::now();
    loop {
        let reply = command(observer, &format!("CLIENT LIST ID {id}"));
        if field(&reply, "flags").contains(flag) {
            return fields(&reply);
        }
        assert!(
            started.elapsed() < PATIENCE,
            "client {id} never showed flag {flag}: {reply}"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn client_id(conn: &mut RawConn) -> String {
    command(conn, "CLIENT ID")
        .trim_start_matches(':')
        .trim_end()
        .to_string()
}

#[test]
fn client_reply_off_and_skip_drop_replies() {
    let Some(mut p) = Pair::start() else { return };
    same_pipeline(
        &mut p.redis,
        &mut p.redigo,
        &[
            "CLIENT REPLY SKIP",
            "PING skipped",
            "PING shown",
            // SKIP applies to the next command only, an error included.
            "CLIENT REPLY SKIP",
            "GET a b",
            "CLIENT REPLY SKIP",
            "CLIENT REPLY SKIP",
            "PING skipped-too",
            "PING after-two-skips",
            "CLIENT REPLY OFF",
            "SET k v",
            "NOSUCH",
            "PING off",
            // SKIP under OFF does nothing; ON answers OK.
            "CLIENT REPLY SKIP",
            "CLIENT REPLY ON",
            "PING on",
            "GET k",
            "CLIENT REPLY bad",
            "CLIENT REPLY SKIP extra",
            "CLIENT REPLY",
        ],
    );
}

#[test]
fn client_reply_off_keeps_pushed_subscription_replies_and_messages() {
    let Some(mut p) = Pair::start() else { return };
    let (mut redis_b, mut redigo_b) = p.connect_again();
    let mut got = Vec::new();
    for (a, b) in [(&mut p.redis, &mut redis_b), (&mut p.redigo, &mut redigo_b)] {
        a.send(&[request("CLIENT REPLY OFF"), request("SUBSCRIBE ch")].concat());
        let subscribed = show(&a.read_reply());
        assert_eq!(command(b, "PUBLISH ch m1"), ":1\r\n");
        got.push((subscribed, show(&a.read_reply())));
    }
    assert_eq!(got[1], got[0]);
}

#[test]
fn client_pause_write_holds_writes_and_lets_reads_go() {
    let Some(mut p) = Pair::start() else { return };
    let (mut redis_b, mut redigo_b) = p.connect_again();
    let (mut redis_c, mut redigo_c) = p.connect_again();
    p.script(&[
        "CLIENT PAUSE abc",
        "CLIENT PAUSE -1",
        // Redis 7.0 wraps now + timeout past i64::MAX: an end in the past.
        "CLIENT PAUSE 9223372036854775807",
        "CLIENT PAUSE 9223372036854775808",
        "PING",
        "CLIENT PAUSE 10 NOPE",
        "CLIENT PAUSE abc NOPE",
        "CLIENT PAUSE",
        "CLIENT UNPAUSE extra",
        "SET k old",
        "CLIENT PAUSE 100000 WRITE",
    ]);
    for (b, c) in [(&mut redis_b, &mut redis_c), (&mut redigo_b, &mut redigo_c)] {
        let id = client_id(b);
        // The write and the read pipelined after it wait together.
        b.send(&[request("SET k new"), request("GET k")].concat());
        let line = wait_for_flag(c, &id, 'b');
        let cmd = line
            .iter()
            .find(|(n, _)| n == "cmd")
            .map(|(_, v)| v.clone());
        assert_eq!(cmd.as_deref(), Some("set"), "cmd= of the postponed client");
        // Reads of other clients go on; the write has not happened.
        assert_eq!(command(c, "GET k"), "$3\r\nold\r\n");
        assert_eq!(command(c, "PING"), "+PONG\r\n");
    }
    p.script(&["GET k", "CLIENT UNPAUSE"]);
    for b in [&mut redis_b, &mut redigo_b] {
        assert_eq!(show(&b.read_reply()), "+OK\r\n");
        assert_eq!(show(&b.read_reply()), "$3\r\nnew\r\n");
    }
    // PUBLISH may replicate: held under WRITE too.
    p.same("CLIENT PAUSE 100000 WRITE");
    for (b, c) in [(&mut redis_b, &mut redis_c), (&mut redigo_b, &mut redigo_c)] {
        let id = client_id(b);
        b.send(&request("PUBLISH ch m"));
        wait_for_flag(c, &id, 'b');
    }
    p.same("CLIENT UNPAUSE");
    for b in [&mut redis_b, &mut redigo_b] {
        assert_eq!(show(&b.read_reply()), ":0\r\n");
        assert!(command(b, "CLIENT INFO").contains(" flags=N "));
    }
}

#[test]
fn client_pause_pauses_expiry() {
    let Some(mut p) = Pair::start() else { return };
    p.script(&["SET ek v PX 100", "SET keep v", "CLIENT PAUSE 100000 WRITE"]);
    for conn in [&mut p.redis, &mut p.redigo] {
        // Wait (generously) for the deadline to pass: the key then reads
        // as absent, on both servers.
        let started = Instant::now();
        while command(conn, "EXISTS ek") != ":0\r\n" {
            assert!(started.elapsed() < PATIENCE, "ek never expired");
            std::thread::sleep(Duration::from_millis(10));
        }
    }
    // Not removed while paused (neither by the reads nor by the active
    // cycle), then removed by the first read after the pause.
    p.script(&["GET ek", "DBSIZE", "CLIENT UNPAUSE", "GET ek", "DBSIZE"]);
}

#[test]
fn client_pause_all_holds_every_command_until_it_ends() {
    let Some(mut p) = Pair::start() else { return };
    // A short pause: the PING after it is answered once it ends.
    same_pipeline(
        &mut p.redis,
        &mut p.redigo,
        &["CLIENT PAUSE 50 ALL", "PING", "CLIENT PAUSE 0", "PING"],
    );
}

#[test]
fn client_no_evict_sets_flag_e() {
    let Some(mut p) = Pair::start() else { return };
    p.script(&[
        "CLIENT NO-EVICT maybe",
        "CLIENT NO-EVICT",
        "CLIENT NO-EVICT on",
        "CLIENT NO-EVICT OFF",
        "CLIENT NO-EVICT ON",
    ]);
    let (redis, redigo) = (
        command(&mut p.redis, "CLIENT INFO"),
        command(&mut p.redigo, "CLIENT INFO"),
    );
    assert_eq!(field(&redigo, "flags"), field(&redis, "flags"));
    assert_eq!(field(&redigo, "flags"), "e");
}

#[test]
fn monitor_streams_commands_as_redis() {
    let Some(mut p) = Pair::start() else { return };
    let (mut redis_m, mut redigo_m) = p.connect_again();
    let script: Vec<Vec<&[u8]>> = vec![
        vec![b"SET", b"k", b"v \x01\"\\\n\t\xff"],
        vec![b"MULTI"],
        vec![b"SET", b"a", b"1"],
        vec![b"INCR", b"a"],
        vec![b"EXEC"],
        vec![b"MULTI"],
        vec![b"GET", b"a"],
        vec![b"DISCARD"],
        vec![b"SELECT", b"2"],
        vec![b"SET", b"x", b"y"],
        vec![b"AUTH", b"pw"],
        vec![b"AUTH", b"user", b"pw"],
        vec![b"HELLO", b"2", b"AUTH", b"default", b"secret"],
        vec![b"HELLO", b"2", b"SETNAME", b"n", b"AUTH", b"default", b"pw"],
        // Admin commands are not shown, nor rejected ones.
        vec![b"CONFIG", b"GET", b"port"],
        vec![b"CLIENT", b"LIST"],
        vec![b"GET", b"k", b"extra"],
        vec![b"NOSUCH"],
        vec![b"CLIENT", b"ID"],
        vec![b"CLIENT", b"REPLY", b"bad"],
        vec![b"PING"],
        vec![b"ECHO", b"end"],
    ];
    let mut results = Vec::new();
    for (client, monitor) in [(&mut p.redis, &mut redis_m), (&mut p.redigo, &mut redigo_m)] {
        assert_eq!(command(monitor, "MONITOR"), "+OK\r\n");
        for args in &script {
            client.command(args);
        }
        let mut lines = monitor_lines(monitor);
        // The monitor's own commands: keyspace ones are refused, a second
        // MONITOR gets no reply, others run and are shown after their reply.
        lines.push(command(monitor, "GET k"));
        monitor.send(&request("MONITOR"));
        lines.push(command(monitor, "PING"));
        lines.push(masked(&show(&monitor.read_reply())));
        let info = command(monitor, "CLIENT INFO");
        lines.push(field(&info, "flags"));
        lines.push(field(&info, "cmd"));
        lines.push(masked(&show(&monitor.read_reply())));
        // RESET ends monitor mode.
        lines.push(command(monitor, "RESET"));
        lines.push(command(monitor, "GET k"));
        results.push(lines);
    }
    assert_eq!(
        results[1], results[0],
        "MONITOR output differs (left: Redigo, right: Redis)"
    );
}

#[test]
fn client_list_has_redis_fields_in_order_and_flags() {
    let Some(mut p) = Pair::start() else { return };
    let (mut redis_m, mut redigo_m) = p.connect_again();
    let redis = command(&mut p.redis, "CLIENT INFO");
    let redigo = command(&mut p.redigo, "CLIENT INFO");
    let names = |reply: &str| {
        fields(reply)
            .into_iter()
            .map(|(n, _)| n)
            .collect::<Vec<_>>()
    };
    assert_eq!(names(&redigo), names(&redis), "CLIENT INFO field names");
    for name in [
        "flags", "db", "sub", "psub", "ssub", "multi", "cmd", "user", "redir", "resp",
    ] {
        assert_eq!(field(&redigo, name), field(&redis, name), "{name}=");
    }
    // A monitor with no-evict: flags=Oe, seen by another client.
    let mut flags = Vec::new();
    for (client, monitor) in [(&mut p.redis, &mut redis_m), (&mut p.redigo, &mut redigo_m)] {
        command(monitor, "CLIENT NO-EVICT on");
        let id = client_id(monitor);
        command(monitor, "MONITOR");
        let line = command(client, &format!("CLIENT LIST ID {id}"));
        flags.push((field(&line, "flags"), field(&line, "cmd")));
    }
    assert_eq!(flags[1], flags[0]);
    assert_eq!(flags[0].0, "Oe");
    // Subscribed: P, with sub=1 psub=1, seen by a third client.
    let (mut redis_c, mut redigo_c) = p.connect_again();
    let mut seen = Vec::new();
    for (client, observer) in [(&mut p.redis, &mut redis_c), (&mut p.redigo, &mut redigo_c)] {
        let id = client_id(client);
        client.command(&[b"SUBSCRIBE", b"ch"]);
        client.command(&[b"PSUBSCRIBE", b"p*"]);
        let line = command(observer, &format!("CLIENT LIST ID {id}"));
        seen.push(["flags", "sub", "psub", "ssub", "cmd"].map(|name| field(&line, name)));
    }
    assert_eq!(seen[1], seen[0]);
    assert_eq!(seen[0][0], "P");
}

#[test]
fn reset_clears_client_control_state() {
    let Some(mut p) = Pair::start() else { return };
    same_pipeline(
        &mut p.redis,
        &mut p.redigo,
        &[
            "CLIENT REPLY OFF",
            "PING hidden",
            "RESET",
            "PING shown",
            "CLIENT REPLY SKIP",
            "RESET",
            "PING also-shown",
            // RESET keeps no-evict in Redis 7.0.
            "CLIENT NO-EVICT on",
            "RESET",
        ],
    );
    let redis = command(&mut p.redis, "CLIENT INFO");
    let redigo = command(&mut p.redigo, "CLIENT INFO");
    assert_eq!(field(&redigo, "flags"), field(&redis, "flags"));
    assert_eq!(field(&redigo, "flags"), "e");
}

/// `TYPE pubsub` selects the subscribed clients, `TYPE normal` the others
/// (Redis's `getClientType`), in `CLIENT LIST` and `CLIENT KILL`.
#[test]
fn client_type_pubsub_selects_subscribers() {
    let Some(mut p) = Pair::start() else { return };
    let (mut redis_sub, mut redigo_sub) = p.connect_again();
    for sub in [&mut redis_sub, &mut redigo_sub] {
        command(sub, "SUBSCRIBE news");
    }
    let lines = |conn: &mut RawConn, kind: &str| {
        command(conn, &format!("CLIENT LIST TYPE {kind}"))
            .lines()
            .filter(|l| l.contains("id="))
            .map(|l| field(l, "sub"))
            .collect::<Vec<_>>()
    };
    for kind in ["pubsub", "normal", "master", "replica"] {
        let (redis, redigo) = (lines(&mut p.redis, kind), lines(&mut p.redigo, kind));
        assert_eq!(redigo, redis, "CLIENT LIST TYPE {kind} (left: Redigo)");
    }
    assert_eq!(lines(&mut p.redigo, "pubsub"), ["1"]);
    p.script(&[
        "CLIENT KILL TYPE normal",
        "CLIENT KILL TYPE master",
        "CLIENT KILL TYPE pubsub",
        "CLIENT KILL TYPE pubsub",
    ]);
}
