//! `idle-poll-max-us` on a running server (see `redigo_server::idle_poll`):
//! connections report their batches to the runtime's idle polling, and
//! `CONFIG SET` reaches it.

use redigo_server::testing::TestServer;
use redigo_tests::RawConn;

#[test]
fn connections_report_their_batches_and_config_set_reaches_the_poller() {
    let server = TestServer::start(&[]);
    let idle_poll = server
        .state()
        .idle_poll()
        .expect("the default runtime (one I/O thread) polls");
    assert_eq!(idle_poll.max_us(), 200, "the default reaches the runtime");
    let mut conn = RawConn::connect(server.port());
    assert_eq!(
        conn.command(&[b"CONFIG", b"GET", b"idle-poll-max-us"]),
        b"*2\r\n$16\r\nidle-poll-max-us\r\n$3\r\n200\r\n"
    );
    let before = idle_poll.stats().batches;
    for _ in 0..100 {
        assert_eq!(conn.command(&[b"PING"]), b"+PONG\r\n");
    }
    let batches = idle_poll.stats().batches - before;
    assert!(
        (100..=101).contains(&batches),
        "one batch per request (plus the CONFIG GET's): {batches}"
    );

    assert_eq!(
        conn.command(&[b"CONFIG", b"SET", b"idle-poll-max-us", b"0"]),
        b"+OK\r\n"
    );
    assert_eq!((idle_poll.max_us(), idle_poll.window_us()), (0, 0));
    // A round under way when CONFIG SET ran ends at its next poll, which
    // comes once the server has nothing left to run: after this reply and
    // a moment of idleness at the latest.
    assert_eq!(conn.command(&[b"PING"]), b"+PONG\r\n");
    std::thread::sleep(std::time::Duration::from_millis(50));
    let off = idle_poll.stats();
    for _ in 0..100 {
        assert_eq!(conn.command(&[b"PING"]), b"+PONG\r\n");
    }
    let after = idle_poll.stats();
    assert_eq!(
        (after.rounds, after.polls),
        (off.rounds, off.polls),
        "turned off, it never polls: {off:?} {after:?}"
    );
    assert_eq!(
        conn.command(&[b"CONFIG", b"SET", b"idle-poll-max-us", b"10001"]),
        &b"-ERR CONFIG SET failed (possibly related to argument 'idle-poll-max-us') - argument must be between 0 and 10000 inclusive\r\n"[..]
    );
    assert_eq!(
        conn.command(&[b"CONFIG", b"SET", b"idle-poll-max-us", b"50"]),
        b"+OK\r\n"
    );
    assert_eq!(idle_poll.max_us(), 50);
}

#[test]
fn more_than_one_io_thread_has_no_idle_polling() {
    let server = TestServer::start(&[("io-threads", "2")]);
    assert!(server.state().idle_poll().is_none());
    let mut conn = RawConn::connect(server.port());
    assert_eq!(
        conn.command(&[b"CONFIG", b"GET", b"idle-poll-max-us"]),
        b"*2\r\n$16\r\nidle-poll-max-us\r\n$3\r\n200\r\n"
    );
}
