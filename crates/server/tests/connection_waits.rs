//! The waits of a connection (`network::connection`): every way a waiting
//! connection is woken still wakes it, however many waits came before.
//!
//! The connection keeps its wake-up futures (`CLIENT KILL`, queued
//! messages, shutdown) and its timers (idle `timeout`, buffer release)
//! across waits, and moves a timer's deadline later lazily. These tests
//! would catch a lost wake-up in that: a request arriving in pieces, a
//! pipeline larger than one read, a peer that closes, a kill or a message
//! after many requests, a kill while a blocking command waits, an idle
//! timeout whose deadline moved many times.

mod support;

use std::io::Read;
use std::net::TcpStream;
use std::time::{Duration, Instant};

use redigo_server::testing::TestServer;
use redigo_tests::RawConn;
use support::{EVENTUALLY, eventually, multibulk};

fn client_id(conn: &mut RawConn) -> u64 {
    String::from_utf8_lossy(&conn.command(&[b"CLIENT", b"ID"]))
        .trim_start_matches(':')
        .trim_end()
        .parse()
        .expect("client id")
}

fn connected_clients(admin: &mut RawConn) -> usize {
    let reply = admin.command(&[b"CLIENT", b"LIST"]);
    String::from_utf8_lossy(&reply)
        .lines()
        .filter(|line| line.contains("id="))
        .count()
}

/// Runs `n` round trips, so the connection has gone through `n` waits.
fn warm_up(conn: &mut RawConn, n: usize) {
    for i in 0..n {
        let value = i.to_string();
        let reply = conn.command(&[b"ECHO", value.as_bytes()]);
        assert_eq!(reply, format!("${}\r\n{value}\r\n", value.len()).as_bytes());
    }
}

#[test]
fn a_request_sent_in_two_halves_with_a_pause_is_answered() {
    let server = TestServer::start(&[]);
    let mut conn = RawConn::connect(server.port());
    warm_up(&mut conn, 10);
    let request = multibulk(&[b"SET", b"key", b"value"]);
    for split in [1, 5, request.len() / 2, request.len() - 1] {
        conn.send(&request[..split]);
        // The first half is read (a short read) and the connection waits
        // again; the second half must wake it.
        std::thread::sleep(Duration::from_millis(50));
        conn.send(&request[split..]);
        assert_eq!(conn.read_reply(), b"+OK\r\n", "split at {split}");
    }
}

#[test]
fn a_pipeline_larger_than_the_read_buffer_completes() {
    let server = TestServer::start(&[]);
    let mut conn = RawConn::connect(server.port());
    // 1 MiB of requests in one write (the read buffer starts at 16 KiB):
    // reads that fill the buffer leave the socket readable and the
    // connection must keep reading without a new readiness event.
    let value = vec![b'v'; 1000];
    let mut pipeline = Vec::new();
    for i in 0..1000 {
        let key = format!("key:{i}");
        pipeline.extend_from_slice(&multibulk(&[b"SET", key.as_bytes(), &value]));
    }
    conn.send(&pipeline);
    for i in 0..1000 {
        assert_eq!(conn.read_reply(), b"+OK\r\n", "reply {i}");
    }
    // And one request larger than the buffer.
    let big = vec![b'b'; 300 * 1024];
    assert_eq!(conn.command(&[b"SET", b"big", &big]), b"+OK\r\n");
    assert_eq!(conn.command(&[b"STRLEN", b"big"]), b":307200\r\n");
    assert_eq!(conn.command(&[b"DBSIZE"]), b":1001\r\n");
}

#[test]
fn a_peer_that_closes_is_noticed() {
    let server = TestServer::start(&[]);
    let mut admin = RawConn::connect(server.port());
    {
        let mut conn = RawConn::connect(server.port());
        warm_up(&mut conn, 20);
        assert_eq!(connected_clients(&mut admin), 2);
    }
    // The end of file wakes the closed connection's wait.
    eventually("the closed connection to be unregistered", || {
        (connected_clients(&mut admin) == 1).then_some(())
    });
}

#[test]
fn client_kill_wakes_a_connection_after_many_waits() {
    let (_server, mut admin, mut conn, id) = admin_and_client(200);
    kill_and_expect_closed(&mut admin, &mut conn, &id);
}

#[test]
fn client_kill_wakes_a_connection_blocked_in_blpop() {
    let (_server, mut admin, mut conn, id) = admin_and_client(50);
    conn.send(&multibulk(&[b"BLPOP", b"nothing", b"0"]));
    eventually("the client to block", || {
        let reply = admin.command(&[b"CLIENT", b"LIST"]);
        String::from_utf8_lossy(&reply)
            .lines()
            .any(|line| line.starts_with(&format!("id={id} ")) && line.contains("flags=b"))
            .then_some(())
    });
    kill_and_expect_closed(&mut admin, &mut conn, &id);
}

/// A server, an admin connection and a client that has made `warm_ups`
/// round trips, with the client's id.
fn admin_and_client(warm_ups: usize) -> (TestServer, RawConn, RawConn, String) {
    let server = TestServer::start(&[]);
    let admin = RawConn::connect(server.port());
    let mut conn = RawConn::connect(server.port());
    warm_up(&mut conn, warm_ups);
    let id = client_id(&mut conn).to_string();
    (server, admin, conn, id)
}

/// `CLIENT KILL ID id` kills one client, and its connection is closed.
fn kill_and_expect_closed(admin: &mut RawConn, conn: &mut RawConn, id: &str) {
    assert_eq!(
        admin.command(&[b"CLIENT", b"KILL", b"ID", id.as_bytes()]),
        b":1\r\n"
    );
    assert!(conn.is_closed());
}

#[test]
fn a_subscriber_gets_every_message_however_they_are_spaced() {
    let server = TestServer::start(&[]);
    let mut publisher = RawConn::connect(server.port());
    let mut subscriber = RawConn::connect(server.port());
    warm_up(&mut subscriber, 20);
    assert_eq!(
        subscriber.command(&[b"SUBSCRIBE", b"news"]),
        b"*3\r\n$9\r\nsubscribe\r\n$4\r\nnews\r\n:1\r\n"
    );
    for i in 0..20 {
        let payload = format!("m{i}");
        assert_eq!(
            publisher.command(&[b"PUBLISH", b"news", payload.as_bytes()]),
            b":1\r\n"
        );
        // Each message wakes the idle subscriber on its own: the wake-up
        // future is made anew after each one.
        let expected = format!(
            "*3\r\n$7\r\nmessage\r\n$4\r\nnews\r\n${}\r\n{payload}\r\n",
            payload.len()
        );
        assert_eq!(subscriber.read_reply(), expected.as_bytes(), "message {i}");
        if i % 5 == 0 {
            // The subscriber's own requests interleave with messages.
            assert_eq!(
                subscriber.command(&[b"PING"]),
                b"*2\r\n$4\r\npong\r\n$0\r\n\r\n"
            );
        }
    }
}

#[test]
fn the_idle_timeout_counts_from_the_last_request_after_many_waits() {
    let server = TestServer::start(&[]);
    let mut admin = RawConn::connect(server.port());
    assert_eq!(
        admin.command(&[b"CONFIG", b"SET", b"timeout", b"1"]),
        b"+OK\r\n"
    );
    let mut conn = RawConn::connect(server.port());
    // Busy for well past the first deadline: each request moves the
    // deadline later; the timer set for the first one must not close the
    // connection when it fires.
    let busy_until = Instant::now() + Duration::from_millis(2500);
    while Instant::now() < busy_until {
        assert_eq!(conn.command(&[b"PING"]), b"+PONG\r\n");
        std::thread::sleep(Duration::from_millis(100));
    }
    // Then idle: closed once the timeout passes.
    let mut socket: TcpStream = TcpStream::connect(("127.0.0.1", server.port())).expect("connect");
    socket
        .set_read_timeout(Some(EVENTUALLY))
        .expect("read timeout");
    let mut byte = [0u8; 1];
    // An idle socket of its own, closed by the timeout too.
    assert!(matches!(socket.read(&mut byte), Ok(0)));
    assert!(conn.is_closed());
    drop(admin);
}

#[test]
fn a_shutdown_closes_a_connection_waiting_for_input_at_once() {
    // With an hour of grace, the server stops in time only if the idle
    // connection's wait for input is woken by the request.
    let server = TestServer::start_with_options(&[], |options| {
        options.shutdown_grace = Some(Duration::from_secs(3600));
    });
    let mut idle = RawConn::connect(server.port());
    warm_up(&mut idle, 50);
    let mut admin = RawConn::connect(server.port());
    // Past the 2 seconds after which an idle connection gives back its
    // buffers: then it waits with no timer armed, so nothing but the
    // shutdown request can wake it.
    std::thread::sleep(Duration::from_millis(2500));
    admin.send(b"SHUTDOWN NOSAVE\r\n");
    assert!(admin.is_closed());
    assert!(idle.is_closed());
    eventually("the server to stop", || server.has_stopped().then_some(()));
}
