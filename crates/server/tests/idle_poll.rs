//! `idle-poll-max-us` on a running server (see `redigo_server::idle_poll`):
//! connections report their batches to the runtime's idle polling, and
//! `CONFIG SET` reaches it; and when a connection's replies wait for the
//! end of the turn (`network::reply_deferral`).

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

/// `n` copies of `request` in one write; reads their `n` replies, which
/// must all be `reply`.
fn pipeline(conn: &mut RawConn, request: &[u8], n: usize, reply: &[u8]) {
    conn.send(&request.repeat(n));
    for _ in 0..n {
        assert_eq!(conn.read_reply(), reply);
    }
}

#[test]
fn long_pipelines_among_other_clients_wait_for_the_end_of_the_turn() {
    let server = TestServer::start(&[]);
    let idle_poll = server.state().idle_poll().expect("one I/O thread");
    let mut a = RawConn::connect(server.port());
    let mut b = RawConn::connect(server.port());
    let ping = b"*1\r\n$4\r\nPING\r\n";
    assert_eq!(b.roundtrip(ping), b"+PONG\r\n");
    // 16 `LRANGE`s of 1000 elements run far longer than
    // `DEFER_MIN_BATCH_US` (10 µs).
    let mut push: Vec<&[u8]> = vec![b"RPUSH", b"list"];
    let elements: Vec<Vec<u8>> = (0..1000)
        .map(|i| format!("element-{i:04}").into_bytes())
        .collect();
    push.extend(elements.iter().map(Vec::as_slice));
    assert_eq!(a.command(&push), b":1000\r\n");
    let lrange = b"*4\r\n$6\r\nLRANGE\r\n$4\r\nlist\r\n$1\r\n0\r\n$2\r\n-1\r\n";
    let range = a.roundtrip(lrange);
    assert!(range.starts_with(b"*1000\r\n"));
    let deferred = || idle_poll.stats().deferred_writes;

    // A lone pipelining client: nobody else ran between its batches (`b`
    // last ran before `a`'s set-up).
    let before = deferred();
    for _ in 0..10 {
        pipeline(&mut a, lrange, 16, &range);
    }
    assert_eq!(deferred(), before, "a lone client's replies were deferred");

    // Two clients taking turns at depth 1: single replies go at once.
    for _ in 0..10 {
        pipeline(&mut a, lrange, 1, &range);
        pipeline(&mut b, lrange, 1, &range);
    }
    assert_eq!(deferred(), before, "replies at depth 1 were deferred");

    // Two clients taking turns with pipelines shorter than the threshold:
    // written at once. (The threshold is raised past any batch rather than
    // short batches sent: how long two PINGs take in a debug build on a
    // loaded machine is no measure, and CI saw them take over 10 µs.)
    assert_eq!(idle_poll.defer_min_batch_us(), 10, "the default");
    idle_poll.set_defer_min_batch_us(u64::MAX);
    for _ in 0..10 {
        pipeline(&mut a, lrange, 16, &range);
        pipeline(&mut b, lrange, 16, &range);
    }
    assert_eq!(
        deferred(),
        before,
        "pipelines below the threshold were deferred"
    );
    idle_poll.set_defer_min_batch_us(10);

    // Two clients taking turns with long pipelines: each batch follows the
    // other client's, so each write waits for the end of the turn (the
    // replies still arrive whole and in order, as `pipeline` checks). A
    // pipeline a socket read splits runs as two batches, one deferred.
    for _ in 0..10 {
        pipeline(&mut a, lrange, 16, &range);
        pipeline(&mut b, lrange, 16, &range);
    }
    let n = deferred() - before;
    assert!(n >= 19, "one deferred write per turn but the first: {n}");
}
