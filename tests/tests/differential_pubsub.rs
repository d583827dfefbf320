//! Pub/sub compared with Redis 7.0: subscription reply shapes and counts,
//! message order across channels and patterns, shard channels, `PUBSUB`
//! introspection and the RESP2 rule for subscribed clients. Every scenario
//! runs with several connections on each server and the raw replies each
//! connection receives are compared byte for byte.
//!
//! Redis iterates its channel and pattern tables in hash order, so a
//! scenario never depends on that order: a client subscribes to at most one
//! pattern that matches a given channel, and replies listing channels are
//! compared as sets.

mod differential_support;

use std::collections::BTreeSet;

use differential_support::{bulk_array, integer_reply, show};
use redigo_server::testing::TestServer;
use redigo_tests::RawConn;

/// Starts both servers; `None` when redis-server is missing outside CI.
fn servers() -> Option<(redigo_tests::Oracle, TestServer)> {
    let oracle = redigo_tests::oracle()?;
    Some((oracle, TestServer::start(&[])))
}

fn cmd(conn: &mut RawConn, command: &str) -> Vec<u8> {
    let args: Vec<&[u8]> = command.split(' ').map(str::as_bytes).collect();
    conn.command(&args)
}

/// Sends `command` and reads `replies` replies (a multi-channel SUBSCRIBE
/// answers once per channel).
fn cmd_n(conn: &mut RawConn, command: &str, replies: usize) -> Vec<Vec<u8>> {
    let mut all = vec![cmd(conn, command)];
    for _ in 1..replies {
        all.push(conn.read_reply());
    }
    all
}

/// Runs `scenario` against each port and asserts the transcripts match.
fn same_transcript(scenario: impl Fn(u16) -> Vec<Vec<u8>>) {
    let Some((oracle, server)) = servers() else {
        return;
    };
    let redis = scenario(oracle.port());
    let redigo = scenario(server.port());
    let redis: Vec<String> = redis.iter().map(|r| show(r)).collect();
    let redigo: Vec<String> = redigo.iter().map(|r| show(r)).collect();
    assert_eq!(redigo, redis, "left: Redigo, right: Redis");
}

#[test]
fn subscription_replies_counts_and_the_resp2_context_rule_are_redis_s() {
    same_transcript(|port| {
        let mut c = RawConn::connect(port);
        let mut t = Vec::new();
        // Not subscribed: unsubscribing from nothing answers with a null
        // channel and a zero count, once.
        t.extend(cmd_n(&mut c, "UNSUBSCRIBE", 1));
        t.extend(cmd_n(&mut c, "PUNSUBSCRIBE", 1));
        t.extend(cmd_n(&mut c, "SUNSUBSCRIBE", 1));
        t.extend(cmd_n(&mut c, "UNSUBSCRIBE nosuch", 1));
        // Counts: channels and patterns together, shard channels apart;
        // a repeated channel is answered again with an unchanged count.
        t.extend(cmd_n(&mut c, "SUBSCRIBE a b a", 3));
        t.extend(cmd_n(&mut c, "PSUBSCRIBE a* a*", 2));
        t.extend(cmd_n(&mut c, "SSUBSCRIBE s1 s2", 2));
        // The context rule: PING in the shape of a message, other
        // commands refused with their full names.
        t.extend(cmd_n(&mut c, "PING", 1));
        t.extend(cmd_n(&mut c, "PING hello", 1));
        t.extend(cmd_n(&mut c, "GET k", 1));
        t.extend(cmd_n(&mut c, "CLIENT LIST", 1));
        t.extend(cmd_n(&mut c, "PUBLISH a x", 1));
        t.extend(cmd_n(&mut c, "NOSUCHCOMMAND", 1));
        t.extend(cmd_n(&mut c, "GET", 1));
        // Unsubscribing one by one, then everything left (one of each, so
        // Redis's table order does not matter).
        t.extend(cmd_n(&mut c, "UNSUBSCRIBE b nosuch", 2));
        t.extend(cmd_n(&mut c, "SUNSUBSCRIBE s2", 1));
        t.extend(cmd_n(&mut c, "UNSUBSCRIBE", 1));
        t.extend(cmd_n(&mut c, "SUNSUBSCRIBE", 1));
        // Still subscribed to a pattern: still restricted.
        t.extend(cmd_n(&mut c, "GET k", 1));
        t.extend(cmd_n(&mut c, "PUNSUBSCRIBE", 1));
        t.extend(cmd_n(&mut c, "PUNSUBSCRIBE", 1));
        // Free again.
        t.extend(cmd_n(&mut c, "GET k", 1));
        t.extend(cmd_n(&mut c, "PING", 1));
        // RESET drops every subscription without replies.
        t.extend(cmd_n(&mut c, "SUBSCRIBE a", 1));
        t.extend(cmd_n(&mut c, "PSUBSCRIBE p*", 1));
        t.extend(cmd_n(&mut c, "RESET", 1));
        t.extend(cmd_n(&mut c, "GET k", 1));
        t.extend(cmd_n(&mut c, "PUBSUB NUMPAT", 1));
        // QUIT is allowed while subscribed.
        t.extend(cmd_n(&mut c, "SUBSCRIBE a", 1));
        t.extend(cmd_n(&mut c, "QUIT", 1));
        t
    });
}

#[test]
fn messages_arrive_in_redis_s_order_across_channels_and_patterns() {
    same_transcript(|port| {
        let mut publisher = RawConn::connect(port);
        let mut channels = RawConn::connect(port);
        let mut pattern = RawConn::connect(port);
        let mut both = RawConn::connect(port);
        let mut shard = RawConn::connect(port);
        let mut t = Vec::new();
        t.extend(cmd_n(&mut channels, "SUBSCRIBE news.a news.b", 2));
        t.extend(cmd_n(&mut pattern, "PSUBSCRIBE news.*", 1));
        // A channel and a pattern matching it on one client: the message,
        // then the pattern message.
        t.extend(cmd_n(&mut both, "SUBSCRIBE news.a", 1));
        t.extend(cmd_n(&mut both, "PSUBSCRIBE n?ws.[ab]", 1));
        t.extend(cmd_n(&mut shard, "SSUBSCRIBE news.a", 1));
        let mut expected = [0usize; 4];
        for (command, to) in [
            ("PUBLISH news.a m1", [1, 1, 2, 0]),
            ("PUBLISH news.b m2", [1, 1, 1, 0]),
            ("PUBLISH other m3", [0, 0, 0, 0]),
            ("PUBLISH news.c m4", [0, 1, 0, 0]),
            ("SPUBLISH news.a s1", [0, 0, 0, 1]),
            ("PUBLISH news.a m5", [1, 1, 2, 0]),
            ("SPUBLISH nobody s2", [0, 0, 0, 0]),
        ] {
            t.push(cmd(&mut publisher, command));
            for (total, n) in expected.iter_mut().zip(to) {
                *total += n;
            }
        }
        for (conn, n) in [&mut channels, &mut pattern, &mut both, &mut shard]
            .into_iter()
            .zip(expected)
        {
            for _ in 0..n {
                t.push(conn.read_reply());
            }
            // Nothing else was queued: the next reply is the PING's.
            t.push(cmd(conn, "PING"));
        }
        // Binary-safe channels and messages.
        t.push(channels.command(&[b"SUBSCRIBE", b"bin\x00\xff"]));
        t.push(publisher.command(&[b"PUBLISH", b"bin\x00\xff", b"\r\n\x00"]));
        t.push(channels.read_reply());
        t
    });
}

#[test]
fn pubsub_introspection_is_redis_s() {
    let Some((oracle, server)) = servers() else {
        return;
    };
    let mut views = Vec::new();
    for port in [oracle.port(), server.port()] {
        let mut a = RawConn::connect(port);
        let mut b = RawConn::connect(port);
        let mut q = RawConn::connect(port);
        cmd_n(&mut a, "SUBSCRIBE news.a news.b x", 3);
        cmd_n(&mut b, "SUBSCRIBE news.a", 1);
        cmd_n(&mut a, "PSUBSCRIBE n* m*", 2);
        cmd_n(&mut b, "PSUBSCRIBE n*", 1);
        cmd_n(&mut b, "SSUBSCRIBE s.1 s.2", 2);
        let mut view: Vec<String> = Vec::new();
        for command in [
            "PUBSUB CHANNELS",
            "PUBSUB CHANNELS news.*",
            "PUBSUB CHANNELS nomatch*",
            "PUBSUB SHARDCHANNELS",
            "PUBSUB SHARDCHANNELS s.[2]",
        ] {
            let set: BTreeSet<Vec<u8>> = bulk_array(&cmd(&mut q, command)).into_iter().collect();
            view.push(format!("{command}: {set:?}"));
        }
        for command in [
            "PUBSUB NUMSUB news.a news.b x nosuch",
            "PUBSUB NUMSUB",
            "PUBSUB NUMPAT",
            "PUBSUB SHARDNUMSUB s.1 s.3",
            "PUBSUB SHARDNUMSUB",
            "PUBSUB HELP",
            "PUBSUB",
            "PUBSUB NOSUCH",
            "PUBSUB CHANNELS a b",
            "PUBSUB shardchannels a b c",
            "PUBSUB NUMPAT x",
            "PUBLISH news.a hello",
            "PUBLISH",
            "SPUBLISH s.1",
        ] {
            view.push(format!("{command}: {}", show(&cmd(&mut q, command))));
        }
        // Subscriptions of a closed connection are gone.
        drop(a);
        let mut after = 0;
        for _ in 0..200 {
            after = integer_reply(&cmd(&mut q, "PUBSUB NUMPAT"));
            if after == 1 {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        view.push(format!("NUMPAT after close: {after}"));
        view.push(format!(
            "NUMSUB after close: {}",
            show(&cmd(&mut q, "PUBSUB NUMSUB news.a news.b"))
        ));
        views.push(view);
    }
    assert_eq!(views[1], views[0], "left: Redigo, right: Redis");
}

#[test]
fn client_list_shows_subscriptions_and_the_p_flag() {
    let server = TestServer::start(&[]);
    let mut sub = RawConn::connect(server.port());
    let mut q = RawConn::connect(server.port());
    cmd_n(&mut sub, "SUBSCRIBE a b", 2);
    cmd_n(&mut sub, "PSUBSCRIBE p*", 1);
    cmd_n(&mut sub, "SSUBSCRIBE s", 1);
    let list = String::from_utf8(cmd(&mut q, "CLIENT LIST")).unwrap();
    let line = list
        .lines()
        .find(|l| l.contains("cmd=ssubscribe"))
        .unwrap_or_else(|| panic!("no subscriber in {list}"));
    assert!(
        line.contains(" flags=P db=0 sub=2 psub=1 ssub=1 "),
        "{line}"
    );
    let info = String::from_utf8(cmd(&mut q, "INFO stats")).unwrap();
    for field in [
        "pubsub_channels:2\r\n",
        "pubsub_patterns:1\r\n",
        "pubsubshard_channels:1\r\n",
    ] {
        assert!(info.contains(field), "{field} not in {info}");
    }
}

/// Messages to an idle subscriber are written by the publishing connection
/// (see `crates/server/src/delivery.rs`): a pipelined burst arrives whole
/// and in order, and the subscriber's own replies keep their place among
/// the messages.
#[test]
fn a_burst_reaches_an_idle_subscriber_in_order_and_its_replies_keep_their_place() {
    same_transcript(|port| {
        let mut sub = RawConn::connect(port);
        let mut publisher = RawConn::connect(port);
        let mut t = cmd_n(&mut sub, "SUBSCRIBE ch", 1);
        let mut burst = Vec::new();
        for i in 0..500 {
            burst.extend_from_slice(
                format!(
                    "*3\r\n$7\r\nPUBLISH\r\n$2\r\nch\r\n${}\r\nm{i}\r\n",
                    i.to_string().len() + 1
                )
                .as_bytes(),
            );
        }
        publisher.send(&burst);
        for _ in 0..500 {
            t.push(publisher.read_reply());
        }
        for _ in 0..500 {
            t.push(sub.read_reply());
        }
        // A reply between two messages.
        t.push(cmd(&mut publisher, "PUBLISH ch before"));
        t.push(sub.read_reply());
        t.push(cmd(&mut sub, "PING"));
        t.push(cmd(&mut publisher, "PUBLISH ch after"));
        t.push(sub.read_reply());
        t
    });
}

/// A subscriber killed by `CLIENT KILL` gets nothing more, whoever writes
/// its messages, and the publishers carry on.
#[test]
fn a_killed_subscriber_gets_nothing_more_and_publishers_carry_on() {
    let server = TestServer::start(&[]);
    let mut sub = RawConn::connect(server.port());
    let mut publisher = RawConn::connect(server.port());
    let mut admin = RawConn::connect(server.port());
    let id = integer_reply(&cmd(&mut sub, "CLIENT ID"));
    cmd_n(&mut sub, "SUBSCRIBE ch", 1);
    let pong = cmd(&mut sub, "PING");
    assert_eq!(show(&pong), "*2\r\n$4\r\npong\r\n$0\r\n\r\n");
    assert_eq!(integer_reply(&cmd(&mut publisher, "PUBLISH ch one")), 1);
    assert_eq!(
        show(&sub.read_reply()),
        "*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$3\r\none\r\n"
    );
    assert_eq!(
        show(&cmd(&mut admin, &format!("CLIENT KILL ID {id}"))),
        ":1\r\n"
    );
    // The subscription goes with the connection; until then a publish may
    // still count it, but nothing reaches the killed client.
    for _ in 0..100 {
        cmd(&mut publisher, "PUBLISH ch two");
    }
    assert!(
        sub.is_closed(),
        "the killed subscriber's connection is closed"
    );
    assert_eq!(show(&cmd(&mut publisher, "PING")), "+PONG\r\n");
}
