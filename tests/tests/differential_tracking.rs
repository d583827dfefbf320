//! Client-side caching (`CLIENT TRACKING`) compared with Redis 7.0, each
//! scenario run on both servers with the same connections: a subscriber to
//! `__redis__:invalidate` (the RESP2 redirection target), a tracking client
//! and a writer. The transcripts (every reply, and the invalidation
//! messages the subscriber got, collected up to a sentinel the writer
//! publishes) must be identical, the subscriber's client id masked as `R`.
//!
//! Covered: every option and its errors, `CLIENT TRACKINGINFO`,
//! `CLIENT GETREDIR`, `CLIENT CACHING` with `OPTIN`/`OPTOUT` (transactions
//! included), `NOLOOP`, `BCAST` with prefixes, flushes, `SWAPDB`, `MOVE`,
//! `RENAME`, expiry, a served blocked client's write, a redirection that
//! breaks, `CLIENT LIST` flags and `redir`, the `INFO` fields,
//! `tracking-table-max-keys`, `RESET`, `CLIENT HELP`.

mod differential_support;

use std::time::Duration;

use differential_support::{Pair, request, show};
use redigo_tests::RawConn;

/// A step of a scenario.
#[derive(Clone, Copy)]
enum Step {
    /// The tracking client (`T`) or the writer (`W`) runs a command; `{R}`
    /// stands for the subscriber's id.
    T(&'static str),
    W(&'static str),
    /// The invalidations the subscriber got so far, in order.
    Messages,
    /// How many invalidations the subscriber got so far (for eviction,
    /// whose victim is random in both servers).
    MessageCount,
    /// The subscriber disconnects.
    CloseSubscriber,
    /// `flags` and `redir` of the tracking client's `CLIENT INFO`.
    Flags,
    /// The `tracking_*` fields of `INFO` (as seen by the writer).
    Info,
    /// Wait (for a TTL to pass).
    Sleep(u64),
}

use Step::*;

/// The sentinel the writer publishes to end a [`Step::Messages`] read.
const SENTINEL: &str = "PUBLISH __redis__:invalidate end";

fn run(
    mut subscriber: Option<RawConn>,
    mut tracker: RawConn,
    mut writer: RawConn,
    steps: &[Step],
) -> Vec<String> {
    let sub = subscriber.as_mut().expect("a subscriber");
    let id = show(&sub.roundtrip(&request("CLIENT ID")));
    let id = id.trim_start_matches(':').trim_end().to_string();
    let mut transcript = vec![show(
        &sub.roundtrip(&request("SUBSCRIBE __redis__:invalidate")),
    )];
    let mask = |reply: String| reply.replace(&format!(":{id}\r\n"), ":R\r\n");
    for step in steps {
        let line = match *step {
            T(command) | W(command) => {
                let conn = if matches!(step, T(_)) {
                    &mut tracker
                } else {
                    &mut writer
                };
                conn.send(&request(&command.replace("{R}", &id)));
                let mut reply = show(&conn.read_reply());
                if command.contains("prefix a prefix b prefix bc") {
                    // Redis 7.0 answers an error and then OK (see
                    // `prefixes_ok`): read both.
                    reply.push_str(&show(&conn.read_reply()));
                }
                if command.starts_with("CLIENT") {
                    reply = mask(reply);
                }
                format!("{command} -> {reply}")
            }
            Messages | MessageCount => {
                let sub = subscriber.as_mut().expect("subscriber still connected");
                writer.send(&request(SENTINEL));
                let receivers = show(&writer.read_reply());
                let mut messages = Vec::new();
                loop {
                    let message = show(&sub.read_reply());
                    if message.ends_with("\r\n$3\r\nend\r\n") {
                        break;
                    }
                    messages.push(message);
                }
                if matches!(step, Messages) {
                    format!("messages ({receivers}): {messages:?}")
                } else {
                    format!("{} messages", messages.len())
                }
            }
            CloseSubscriber => {
                subscriber = None;
                // Let the server see the connection close.
                std::thread::sleep(Duration::from_millis(100));
                "closed".to_string()
            }
            Flags => {
                let info = show(&tracker.roundtrip(&request("CLIENT INFO")));
                let kept: Vec<String> = info
                    .trim_end()
                    .split(' ')
                    .filter(|f| f.starts_with("flags=") || f.starts_with("redir="))
                    .map(|f| f.replace(&format!("redir={id}"), "redir=R"))
                    .collect();
                kept.join(" ")
            }
            Info => {
                let info = show(&writer.roundtrip(&request("INFO everything")));
                let kept: Vec<&str> = info
                    .lines()
                    .filter(|l| l.starts_with("tracking_"))
                    .collect();
                kept.join(" ")
            }
            Sleep(ms) => {
                std::thread::sleep(Duration::from_millis(ms));
                continue;
            }
        };
        transcript.push(line);
    }
    transcript
}

/// Runs `steps` on both servers (fresh connections) and compares.
fn same(steps: &[Step]) {
    let Some(p) = Pair::start() else { return };
    let (redis_sub, redigo_sub) = p.connect_again();
    let (redis_t, redigo_t) = p.connect_again();
    let (redis_w, redigo_w) = p.connect_again();
    let expected = run(Some(redis_sub), redis_t, redis_w, steps);
    let actual = run(Some(redigo_sub), redigo_t, redigo_w, steps);
    for (i, (a, e)) in actual.iter().zip(&expected).enumerate() {
        assert_eq!(a, e, "step {i} differs (left: Redigo, right: Redis)");
    }
    assert_eq!(actual.len(), expected.len());
}

#[test]
fn options_and_their_errors() {
    same(&[
        T("CLIENT HELP"),
        T("CLIENT TRACKINGINFO"),
        T("CLIENT GETREDIR"),
        T("CLIENT TRACKING maybe"),
        T("CLIENT TRACKING on nosuch"),
        T("CLIENT TRACKING on redirect"),
        T("CLIENT TRACKING on redirect x"),
        T("CLIENT TRACKING on redirect 0"),
        T("CLIENT TRACKING on redirect 987654"),
        T("CLIENT TRACKING off redirect 987654"),
        T("CLIENT TRACKING on redirect {R} redirect {R}"),
        T("CLIENT TRACKING on prefix a"),
        T("CLIENT TRACKING on bcast optin"),
        T("CLIENT TRACKING on optin optout"),
        T("CLIENT TRACKING on bcast prefix a prefix ab"),
        T("CLIENT TRACKING on bcast prefix ab prefix a"),
        T("CLIENT TRACKING"),
        T("CLIENT CACHING yes"),
        T("CLIENT CACHING"),
        T("CLIENT GETREDIR extra"),
        T("CLIENT TRACKINGINFO extra"),
        T("CLIENT TRACKING on optin redirect {R} noloop"),
        T("CLIENT TRACKINGINFO"),
        T("CLIENT GETREDIR"),
        Flags,
        T("CLIENT CACHING no"),
        T("CLIENT CACHING maybe"),
        T("CLIENT CACHING yes"),
        T("CLIENT TRACKINGINFO"),
        T("CLIENT TRACKING on optout"),
        T("CLIENT TRACKING on bcast"),
        // ON again replaces the mode: no redirection, no NOLOOP.
        T("CLIENT TRACKING on optin"),
        T("CLIENT TRACKINGINFO"),
        T("CLIENT GETREDIR"),
        Flags,
        T("CLIENT TRACKING off"),
        T("CLIENT TRACKINGINFO"),
        Flags,
        T("CLIENT TRACKING on optout"),
        T("CLIENT CACHING yes"),
        T("CLIENT CACHING no"),
        T("CLIENT TRACKINGINFO"),
        T("CLIENT TRACKING off"),
        T("CLIENT TRACKING on bcast prefix b prefix a"),
        T("CLIENT TRACKING on bcast prefix b prefix a"),
        T("CLIENT TRACKING on bcast prefix bb"),
        T("CLIENT TRACKINGINFO"),
        T("CLIENT TRACKING off"),
        // An overlap found past the first prefix: error, then OK (7.0).
        T("CLIENT TRACKING on bcast prefix a prefix b prefix bc"),
        T("CLIENT TRACKING on bcast prefix ab"),
        T("CLIENT TRACKING on bcast prefix c"),
        T("CLIENT TRACKINGINFO"),
        Flags,
        Info,
        T("RESET"),
        T("CLIENT TRACKINGINFO"),
        Flags,
        Info,
    ]);
}

#[test]
fn read_keys_are_invalidated_once_when_written() {
    same(&[
        W("MSET a 1 b 2 c 3"),
        T("CLIENT TRACKING on redirect {R}"),
        T("GET a"),
        T("MGET b c nokey"),
        T("HGET h f"),
        T("LRANGE l 0 -1"),
        T("EXISTS e1 e2"),
        Info,
        W("SET a 10"),
        W("SET a 11"),
        Messages,
        W("MSET b 1 c 2 nokey 3"),
        W("HSET h f v"),
        W("RPUSH l x"),
        W("SET e2 v"),
        W("SET e1 v"),
        Messages,
        Info,
        // Each modification path: DEL, EXPIRE, RENAME (both names),
        // MOVE, a transaction, INCR, APPEND, a no-op SREM (not a write).
        T("MGET a b c"),
        T("SMEMBERS s"),
        W("SADD s m"),
        T("SMEMBERS s"),
        W("SREM s nosuch"),
        Messages,
        W("DEL a"),
        W("EXPIRE b 100"),
        W("RENAME c a"),
        Messages,
        T("MGET a b c"),
        W("MOVE a 1"),
        W("MULTI"),
        W("INCR b"),
        W("APPEND c x"),
        W("EXEC"),
        Messages,
        Info,
    ]);
}

#[test]
fn noloop_skips_the_clients_own_writes() {
    same(&[
        T("CLIENT TRACKING on redirect {R} noloop"),
        T("MGET a b"),
        T("SET a mine"),
        W("SET b theirs"),
        Messages,
        T("GET a"),
        T("CLIENT TRACKING on redirect {R}"),
        T("SET a mine-again"),
        Messages,
    ]);
}

#[test]
fn optin_and_optout_follow_client_caching() {
    same(&[
        T("CLIENT TRACKING on redirect {R} optin"),
        T("GET a"),
        T("CLIENT CACHING yes"),
        T("GET b"),
        T("GET c"),
        W("MSET a 1 b 1 c 1"),
        Messages,
        // CACHING covers a whole transaction, and survives other CLIENT
        // subcommands.
        T("CLIENT CACHING yes"),
        T("CLIENT GETREDIR"),
        T("MULTI"),
        T("GET d"),
        T("GET e"),
        T("EXEC"),
        T("GET f"),
        W("MSET d 1 e 1 f 1"),
        Messages,
        T("CLIENT TRACKING off"),
        T("CLIENT TRACKING on redirect {R} optout"),
        T("GET a"),
        T("CLIENT CACHING no"),
        T("GET b"),
        T("GET c"),
        W("MSET a 2 b 2 c 2"),
        Messages,
    ]);
}

#[test]
fn bcast_sends_the_keys_matching_prefixes() {
    same(&[
        T("CLIENT TRACKING on bcast redirect {R} prefix user: prefix obj"),
        T("CLIENT TRACKINGINFO"),
        Flags,
        Info,
        W("SET user:1 a"),
        W("SET other b"),
        W("SET object c"),
        Messages,
        // One transaction: one message per prefix, keys in byte order.
        W("MULTI"),
        W("SET user:9 a"),
        W("SET user:10 a"),
        W("DEL user:9"),
        W("SET obj2 a"),
        W("SET obj1 a"),
        W("EXEC"),
        Messages,
        // NOLOOP leaves out the client's own keys.
        T("CLIENT TRACKING on bcast redirect {R} noloop prefix x"),
        T("SET user:me 1"),
        W("MULTI"),
        W("SET user:you 1"),
        W("SET x1 1"),
        W("EXEC"),
        T("MSET x2 1 obj3 1"),
        Messages,
        T("CLIENT TRACKING off"),
        T("CLIENT TRACKING on bcast redirect {R}"),
        T("CLIENT TRACKINGINFO"),
        W("SET anything 1"),
        Messages,
        Info,
    ]);
}

#[test]
fn flushes_send_a_null_and_swapdb_nothing() {
    same(&[
        T("CLIENT TRACKING on redirect {R}"),
        T("MGET a b"),
        W("SET a 1"),
        W("FLUSHDB"),
        Messages,
        Info,
        T("GET a"),
        W("SWAPDB 0 1"),
        W("SWAPDB 0 1"),
        Messages,
        W("FLUSHALL"),
        W("FLUSHALL ASYNC"),
        W("FLUSHDB bad"),
        Messages,
        Info,
    ]);
}

#[test]
fn expiry_invalidates_the_key() {
    same(&[
        T("CLIENT TRACKING on redirect {R}"),
        W("SET k v PX 50"),
        T("GET k"),
        Sleep(300),
        // Expired by the active cycle or by this read: one invalidation.
        W("EXISTS k"),
        Messages,
        // Expired by the cycle or by the tracking client's own read (which
        // then tracks it again): either way two invalidations.
        W("SET k v PX 50"),
        T("GET k"),
        Sleep(100),
        T("GET k"),
        W("SET k again"),
        Messages,
    ]);
}

#[test]
fn a_redirection_that_goes_away_is_marked_broken() {
    same(&[
        T("CLIENT TRACKING on redirect {R}"),
        Flags,
        T("GET a"),
        W("SET a 1"),
        Messages,
        T("GET a"),
        CloseSubscriber,
        Flags,
        W("SET a 2"),
        Flags,
        T("CLIENT TRACKINGINFO"),
        // Enabling again clears the mark.
        T("CLIENT TRACKING on"),
        Flags,
        T("CLIENT TRACKINGINFO"),
    ]);
}

#[test]
fn the_table_is_kept_within_tracking_table_max_keys() {
    same(&[
        W("CONFIG GET tracking-table-max-keys"),
        W("CONFIG SET tracking-table-max-keys -1"),
        W("CONFIG SET tracking-table-max-keys 2"),
        T("CLIENT TRACKING on redirect {R}"),
        T("MGET k1 k2 k3 k4"),
        Info,
        // Before its next command the table loses keys down to the limit,
        // each one invalidated (which ones is random).
        T("PING"),
        MessageCount,
        Info,
        W("CONFIG SET tracking-table-max-keys 0"),
        T("MGET k5 k6 k7"),
        T("PING"),
        Info,
        W("CONFIG SET tracking-table-max-keys 1000000"),
    ]);
}

/// Polls `INFO clients` until a client is blocked.
fn wait_blocked(conn: &mut RawConn) {
    for _ in 0..1000 {
        let info = show(&conn.roundtrip(&request("INFO clients")));
        if info.contains("blocked_clients:1\r\n") {
            return;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    panic!("the blocking command never blocked");
}

#[test]
fn serving_a_blocked_client_invalidates_what_it_writes() {
    let Some(p) = Pair::start() else { return };
    let mut transcripts: Vec<Vec<String>> = vec![Vec::new(), Vec::new()];
    let (redis_sub, redigo_sub) = p.connect_again();
    let (redis_t, redigo_t) = p.connect_again();
    let (redis_w, redigo_w) = p.connect_again();
    let (redis_b, redigo_b) = p.connect_again();
    let sets = [
        (redis_sub, redis_t, redis_w, redis_b),
        (redigo_sub, redigo_t, redigo_w, redigo_b),
    ];
    for (transcript, (mut sub, mut t, mut w, mut b)) in transcripts.iter_mut().zip(sets) {
        let id = show(&sub.roundtrip(&request("CLIENT ID")));
        let id = id.trim_start_matches(':').trim_end().to_string();
        sub.roundtrip(&request("SUBSCRIBE __redis__:invalidate"));
        t.roundtrip(&request(&format!("CLIENT TRACKING on redirect {id}")));
        transcript.push(show(&t.roundtrip(&request("LRANGE dst 0 -1"))));
        b.send(&request("BLMOVE src dst LEFT LEFT 0"));
        wait_blocked(&mut w);
        transcript.push(show(&w.roundtrip(&request("LPUSH src x"))));
        transcript.push(show(&b.read_reply()));
        w.roundtrip(&request(SENTINEL));
        loop {
            let message = show(&sub.read_reply());
            if message.ends_with("\r\n$3\r\nend\r\n") {
                break;
            }
            transcript.push(message);
        }
    }
    assert_eq!(transcripts[1], transcripts[0], "left: Redis, right: Redigo");
    assert!(transcripts[0].iter().any(|m| m.contains("dst")));
}
