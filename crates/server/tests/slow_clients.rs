//! Slow and stuck clients: a client that pipelines reads of large values and
//! never reads its replies can be removed by every way a client is closed;
//! output is bounded in bytes; idle buffers shrink; output buffer limits
//! close clients as Redis does (unauthenticated ones included, as Redis
//! 7.0.15 with the CVE-2025-21605 fix); `CLIENT LIST` shows the real
//! buffers.
//!
//! No assertion depends on timing: "eventually" waits poll with generous
//! deadlines.

mod support;

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use redigo_server::testing::TestServer;
use redigo_tests::{Oracle, RawConn};
use support::{Pair, eventually, multibulk};
/// Size of the values the stuck clients read.
const VALUE_LEN: usize = 1024 * 1024;
/// GETs a stuck client pipelines: 50 MB of replies, far more than the
/// kernel's socket buffers hold, so its writes must block.
const STUCK_GETS: usize = 50;

fn bulk_text(reply: &[u8]) -> String {
    let text = String::from_utf8_lossy(reply).into_owned();
    let body = text.split_once("\r\n").map(|(_, b)| b).unwrap_or("");
    body.to_string()
}

/// The `CLIENT LIST` line of client `id`, if it is connected.
fn client_line(admin: &mut RawConn, id: u64) -> Option<String> {
    let listing = bulk_text(&admin.command(&[b"CLIENT", b"LIST"]));
    listing
        .lines()
        .find(|line| line.starts_with(&format!("id={id} ")))
        .map(str::to_string)
}

/// A numeric field of a `CLIENT LIST` line.
fn field(line: &str, name: &str) -> u64 {
    line.split(' ')
        .find_map(|f| f.strip_prefix(&format!("{name}=")))
        .unwrap_or_else(|| panic!("no {name} in {line}"))
        .parse()
        .unwrap_or_else(|_| panic!("{name} is not a number in {line}"))
}

fn text_field<'a>(line: &'a str, name: &str) -> &'a str {
    line.split(' ')
        .find_map(|f| f.strip_prefix(name).and_then(|r| r.strip_prefix('=')))
        .unwrap_or_else(|| panic!("no {name} in {line}"))
}

/// A raw socket with its client id.
struct Client {
    socket: TcpStream,
    id: u64,
}

fn connect(port: u16) -> Client {
    let mut socket = TcpStream::connect(("127.0.0.1", port)).unwrap();
    // No read in these tests may hang.
    socket
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    socket.write_all(b"CLIENT ID\r\n").unwrap();
    let mut reply = Vec::new();
    let mut byte = [0u8; 1];
    while !reply.ends_with(b"\r\n") {
        socket.read_exact(&mut byte).unwrap();
        reply.push(byte[0]);
    }
    let id = String::from_utf8_lossy(&reply[1..reply.len() - 2])
        .parse()
        .unwrap();
    Client { socket, id }
}

/// Stores `len` bytes under `key`.
fn set_value(port: u16, key: &[u8], len: usize) {
    let mut conn = RawConn::connect(port);
    assert_eq!(conn.command(&[b"SET", key, &vec![b'v'; len]]), b"+OK\r\n");
}

/// A client that pipelines [`STUCK_GETS`] GETs of a 1 MB value and never
/// reads, once the server reports its replies waiting on the socket.
fn stuck_client(port: u16, admin: &mut RawConn) -> Client {
    set_value(port, b"big", VALUE_LEN);
    let mut client = connect(port);
    let pipeline = multibulk(&[b"GET", b"big"]).repeat(STUCK_GETS);
    client.socket.write_all(&pipeline).unwrap();
    let id = client.id;
    eventually("the client's writes to block", || {
        let line = client_line(admin, id)?;
        (text_field(&line, "events") == "rw" && field(&line, "omem") > 0).then_some(())
    });
    client
}

/// Reads what the socket still delivers until the peer closes it; fails if
/// it stays open. Returns the bytes received.
fn read_until_closed(socket: &mut TcpStream) -> usize {
    socket
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut received = 0;
    let mut chunk = vec![0u8; 256 * 1024];
    loop {
        match socket.read(&mut chunk) {
            Ok(0) => return received,
            Ok(n) => received += n,
            Err(err) if matches!(err.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                panic!("the connection is still open after {received} bytes")
            }
            // Closed with unread data: the peer resets the connection.
            Err(_) => return received,
        }
    }
}

/// Waits until client `id` is no longer listed, then checks its socket
/// really ends.
fn assert_gone(admin: &mut RawConn, client: &mut Client) {
    let id = client.id;
    eventually("the client to disappear from CLIENT LIST", || {
        client_line(admin, id).is_none().then_some(())
    });
    read_until_closed(&mut client.socket);
}

#[test]
fn client_kill_by_id_addr_and_type_removes_a_client_that_does_not_read() {
    for io_threads in ["1", "2"] {
        client_kill_removes_a_client_that_does_not_read(io_threads);
    }
}

/// Builds `CLIENT KILL`'s filter from a client's id and address.
type KillFilter = fn(&str, &str) -> Vec<String>;

fn client_kill_removes_a_client_that_does_not_read(io_threads: &str) {
    let server = TestServer::start(&[("io-threads", io_threads)]);
    let mut admin = RawConn::connect(server.port());
    // Each form of CLIENT KILL: the request from the stuck client's id and
    // address, and the reply it must get.
    let forms: [(KillFilter, &[u8]); 4] = [
        (|id, _| vec!["ID".into(), id.into()], b":1\r\n"),
        (|_, addr| vec!["ADDR".into(), addr.into()], b":1\r\n"),
        (|_, addr| vec![addr.into()], b"+OK\r\n"),
        (|_, _| vec!["TYPE".into(), "normal".into()], b":1\r\n"),
    ];
    for (filter, expected) in forms {
        let mut stuck = stuck_client(server.port(), &mut admin);
        let line = client_line(&mut admin, stuck.id).unwrap();
        let filter = filter(&stuck.id.to_string(), text_field(&line, "addr"));
        let mut request: Vec<&[u8]> = vec![b"CLIENT", b"KILL"];
        request.extend(filter.iter().map(|word| word.as_bytes()));
        assert_eq!(admin.command(&request), expected, "CLIENT KILL {filter:?}");
        assert_gone(&mut admin, &mut stuck);
    }
    // A client being closed is not counted again.
    assert_eq!(
        admin.command(&[b"CLIENT", b"KILL", b"TYPE", b"normal"]),
        b":0\r\n"
    );
}

#[test]
fn timeout_closes_a_client_that_does_not_read() {
    let server = TestServer::start(&[]);
    let mut admin = RawConn::connect(server.port());
    let mut stuck = stuck_client(server.port(), &mut admin);
    // The admin connection polls every 50 ms, so only the stuck client
    // idles: nothing is read from it and nothing more can be written.
    assert_eq!(
        admin.command(&[b"CONFIG", b"SET", b"timeout", b"1"]),
        b"+OK\r\n"
    );
    assert_gone(&mut admin, &mut stuck);
    assert!(client_line(&mut admin, 0).is_none());
}

#[test]
fn shutdown_does_not_wait_for_a_client_that_does_not_read() {
    // With an hour of grace, the server can only stop in time if the
    // stuck client's write is abandoned at once.
    let server = TestServer::start_with_options(&[], |options| {
        options.shutdown_grace = Some(Duration::from_secs(3600));
    });
    let mut admin = RawConn::connect(server.port());
    let mut stuck = stuck_client(server.port(), &mut admin);
    admin.send(b"SHUTDOWN NOSAVE\r\n");
    assert!(admin.is_closed());
    eventually("the server to stop", || server.has_stopped().then_some(()));
    read_until_closed(&mut stuck.socket);
}

#[test]
fn output_waiting_for_a_client_that_does_not_read_is_bounded_in_bytes() {
    let server = TestServer::start(&[]);
    let mut admin = RawConn::connect(server.port());
    let stuck = stuck_client(server.port(), &mut admin);
    // The batch stops at 4 MB of replies plus the one that crossed it; the
    // buffer's capacity may double once. Before, the batch held all 50 MB.
    const BOUND: u64 = 2 * (4 + 1) * 1024 * 1024;
    let line = client_line(&mut admin, stuck.id).unwrap();
    let omem = field(&line, "omem");
    let rbs = field(&line, "rbs");
    let tot = field(&line, "tot-mem");
    assert!(omem > 0 && omem <= rbs, "{line}");
    assert!(rbs <= BOUND && tot <= BOUND + 1024 * 1024, "{line}");
    assert!(tot >= rbs, "tot-mem counts the reply buffer: {line}");
    // The requests not run yet wait in the socket, not in the server.
    assert!(field(&line, "qbuf") < 64 * 1024, "{line}");
}

#[test]
fn an_idle_connection_gives_back_its_buffers() {
    let server = TestServer::start(&[]);
    let mut admin = RawConn::connect(server.port());
    let mut conn = RawConn::connect(server.port());
    const LEN: usize = 2 * 1024 * 1024;
    assert_eq!(
        conn.command(&[b"SET", b"big", &vec![b'x'; LEN]]),
        b"+OK\r\n"
    );
    assert_eq!(conn.command(&[b"GET", b"big"]).len(), LEN + 12);
    let id: u64 = String::from_utf8_lossy(&conn.command(&[b"CLIENT", b"ID"]))
        .trim_start_matches(':')
        .trim_end()
        .parse()
        .unwrap();
    let line = client_line(&mut admin, id).unwrap();
    assert!(
        field(&line, "rbs") >= LEN as u64,
        "the peak is held: {line}"
    );
    assert!(field(&line, "rbp") >= LEN as u64, "{line}");
    assert!(field(&line, "tot-mem") >= LEN as u64, "{line}");
    let line = eventually("the idle connection's buffers to shrink", || {
        let line = client_line(&mut admin, id)?;
        (field(&line, "rbs") <= 16 * 1024).then_some(line)
    });
    assert_eq!(field(&line, "rbp"), 0, "{line}");
    assert!(field(&line, "qbuf-free") <= 64 * 1024, "{line}");
    assert!(field(&line, "tot-mem") <= 128 * 1024, "{line}");
    // Still a working connection.
    assert_eq!(conn.command(&[b"STRLEN", b"big"]), b":2097152\r\n");
}

#[test]
fn client_list_shows_a_bulk_still_arriving_in_qbuf() {
    let server = TestServer::start(&[]);
    let mut admin = RawConn::connect(server.port());
    let mut client = connect(server.port());
    const ANNOUNCED: usize = 4 * 1024 * 1024;
    const SENT: usize = 3 * 1024 * 1024;
    let mut partial = format!("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n${ANNOUNCED}\r\n").into_bytes();
    partial.extend(std::iter::repeat_n(b'x', SENT));
    client.socket.write_all(&partial).unwrap();
    let line = eventually("qbuf to show the partial bulk", || {
        let line = client_line(&mut admin, client.id)?;
        (field(&line, "qbuf") >= SENT as u64).then_some(line)
    });
    assert_eq!(field(&line, "argv-mem"), 4, "SET and k are parsed: {line}");
    assert!(field(&line, "tot-mem") >= SENT as u64, "{line}");
    assert_eq!(text_field(&line, "events"), "r", "{line}");
    client
        .socket
        .write_all(&vec![b'x'; ANNOUNCED - SENT])
        .unwrap();
    client.socket.write_all(b"\r\n").unwrap();
    let mut reply = [0u8; 5];
    client.socket.read_exact(&mut reply).unwrap();
    assert_eq!(&reply, b"+OK\r\n");
}

#[test]
fn a_hard_output_limit_closes_a_normal_client_as_redis_does() {
    let pair = Pair::start();
    let limit: &[&[u8]] = &[
        b"CONFIG",
        b"SET",
        b"client-output-buffer-limit",
        b"normal 1mb 0 0",
    ];
    // Ten 512 KB replies in one pipeline: the third crosses 1 MB of reply
    // list, and Redis closes the client without sending it anything.
    let run = |port: u16| {
        assert_eq!(RawConn::connect(port).command(limit), b"+OK\r\n");
        set_value(port, b"half", 512 * 1024);
        let mut client = connect(port);
        let pipeline = multibulk(&[b"GET", b"half"]).repeat(10);
        client.socket.write_all(&pipeline).unwrap();
        read_until_closed(&mut client.socket)
    };
    assert_eq!(run(pair.redigo.port()), 0, "Redigo sent replies");
    if let Some(oracle) = &pair.oracle {
        assert_eq!(run(oracle.port()), 0, "redis-server sent replies");
    }
    let mut admin = RawConn::connect(pair.redigo.port());
    eventually("only the admin connection to be left", || {
        let listing = bulk_text(&admin.command(&[b"CLIENT", b"LIST"]));
        (listing.lines().filter(|l| l.starts_with("id=")).count() == 1).then_some(())
    });
    // Below the limit nothing happens.
    let mut client = connect(pair.redigo.port());
    client
        .socket
        .write_all(&multibulk(&[b"GET", b"half"]).repeat(2))
        .unwrap();
    client
        .socket
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    // Each reply is `$524288\r\n`, the value and `\r\n`.
    let mut replies = vec![0u8; 2 * (512 * 1024 + 11)];
    client.socket.read_exact(&mut replies).unwrap();
}

#[test]
fn a_soft_output_limit_closes_a_client_over_it_for_too_long() {
    let server = TestServer::start(&[("client-output-buffer-limit", "normal 0 1mb 1")]);
    let mut admin = RawConn::connect(server.port());
    // One 32 MB reply: far more than the socket buffers take, so most of
    // it stays unsent, above the soft limit, for over a second.
    set_value(server.port(), b"huge", 32 * 1024 * 1024);
    let mut client = connect(server.port());
    client
        .socket
        .write_all(&multibulk(&[b"GET", b"huge"]))
        .unwrap();
    assert_gone(&mut admin, &mut client);
}

#[test]
fn client_output_buffer_limit_config_matches_redis() {
    let pair = Pair::start();
    let get: &[&[u8]] = &[b"CONFIG", b"GET", b"client-output-buffer-limit"];
    let mut session: Vec<Vec<&[u8]>> = vec![get.to_vec()];
    for value in [
        "normal 1 2 3",
        "",
        "normal",
        "normal mb 0 0",
        "normal 10mbs 10mb 60",
        "master 1 1 1",
        "replica 1mb 2mb 3",
        "slave 5 6 7",
        "PUBSUB 1k 2K 3",
        "normal -1 0 0",
        "normal 1 1 -1",
        "normal 1 1 +5",
        "normal 1 1 -0",
        "normal 99999999999999999999999 0 0",
        "normal 18446744073709551615gb 0 0",
        "normal 1 1 4294967297",
        "normal 1 1 2147483648",
        "normal 1 1 ",
        "normal  1 1 1",
        "normal 1 1 1 pubsub 2 2 2",
        "normal 1 1 1 foo 2 2 2",
        "normal 0x10 0 0",
        "normal +5 0 0",
        "normal 5B 0 0",
        "normal 1 1 1.5",
        "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60",
    ] {
        let mut set: Vec<&[u8]> = vec![b"CONFIG", b"SET", b"client-output-buffer-limit"];
        set.push(value.as_bytes());
        session.push(set);
        session.push(get.to_vec());
    }
    session.push(vec![b"CONFIG", b"GET", b"client-output-*"]);
    let requests: Vec<&[&[u8]]> = session.iter().map(Vec::as_slice).collect();
    pair.same_session(&requests);
}

/// Sends `count` PINGs without authenticating and returns whether the
/// server closed the connection, and how many bytes it sent first.
fn unauthenticated_pings(port: u16, count: usize) -> (bool, usize) {
    let mut socket = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let pipeline = b"*1\r\n$4\r\nPING\r\n".repeat(count);
    // The server may close before it has read everything.
    let _ = socket.write_all(&pipeline);
    let expected = count * b"-NOAUTH Authentication required.\r\n".len();
    socket
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut received = 0;
    let mut chunk = vec![0u8; 64 * 1024];
    loop {
        match socket.read(&mut chunk) {
            Ok(0) => return (true, received),
            Ok(n) => {
                received += n;
                if received == expected {
                    // All replies arrived: the connection must still work.
                    socket.write_all(b"PING\r\n").unwrap();
                    let n = socket.read(&mut chunk).unwrap();
                    return (n == 0, received);
                }
            }
            Err(err) if matches!(err.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                return (false, received);
            }
            Err(_) => return (true, received),
        }
    }
}

#[test]
fn unauthenticated_clients_may_not_pile_up_output_as_redis_7_0_15() {
    let redigo = TestServer::start(&[("requirepass", "sesame")]);
    let oracle: Option<Oracle> = redigo_tests::oracle_with_args(&["--requirepass", "sesame"]);
    let mut ports = vec![("redigo", redigo.port())];
    if let Some(oracle) = &oracle {
        ports.push(("redis-server", oracle.port()));
    }
    for (name, port) in ports {
        // 481 replies (16,354 bytes) fit Redis's 16 KB static buffer ...
        assert_eq!(
            unauthenticated_pings(port, 481),
            (false, 481 * 34),
            "{name}: 481 PINGs"
        );
        // ... 482 do not: closed, nothing sent.
        assert_eq!(unauthenticated_pings(port, 482), (true, 0), "{name}");
        // A client pipelining without end is closed too.
        let (closed, received) = unauthenticated_pings(port, 100_000);
        assert!(closed && received < 100_000 * 34, "{name}: {received}");
    }
    // Authenticated clients have no such limit.
    let mut socket = TcpStream::connect(("127.0.0.1", redigo.port())).unwrap();
    socket
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut pipeline = b"AUTH sesame\r\n".to_vec();
    pipeline.extend(b"*1\r\n$4\r\nPING\r\n".repeat(1000));
    socket.write_all(&pipeline).unwrap();
    let mut replies = vec![0u8; 5 + 1000 * 7];
    socket.read_exact(&mut replies).unwrap();
    assert!(replies.ends_with(b"+PONG\r\n"));
}

/// `timeout` spares subscribers and monitors, as Redis's
/// `clientsCronHandleTimeout` does (`CLIENT_PUBSUB`, `CLIENT_SLAVE`): both
/// stay connected through three times the timeout with nothing sent to
/// them, while an ordinary idle client beside them is closed.
#[test]
fn timeout_spares_subscribers_and_monitors() {
    let server = TestServer::start(&[]);
    let mut admin = RawConn::connect(server.port());
    let mut sub = RawConn::connect(server.port());
    let mut monitor = RawConn::connect(server.port());
    let mut idle = RawConn::connect(server.port());
    assert_eq!(
        sub.command(&[b"SUBSCRIBE", b"ch"]),
        b"*3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n"
    );
    assert_eq!(monitor.command(&[b"MONITOR"]), b"+OK\r\n");
    assert_eq!(idle.command(&[b"PING"]), b"+PONG\r\n");
    assert_eq!(
        admin.command(&[b"CONFIG", b"SET", b"timeout", b"1"]),
        b"+OK\r\n"
    );
    // The admin connection stays active; the idle client goes.
    eventually("the idle client to be closed", || {
        std::thread::sleep(Duration::from_millis(100));
        (!admin
            .command(&[b"CLIENT", b"LIST"])
            .windows(8)
            .any(|w| w == b"cmd=ping"))
        .then_some(())
    });
    // Two more timeouts; the admin connection keeps itself active with an
    // admin command, which MONITOR does not show (nothing reaches it).
    for _ in 0..10 {
        std::thread::sleep(Duration::from_millis(200));
        assert_eq!(
            admin.command(&[b"CONFIG", b"GET", b"timeout"]),
            b"*2\r\n$7\r\ntimeout\r\n$1\r\n1\r\n"
        );
    }
    let list = String::from_utf8(admin.command(&[b"CLIENT", b"LIST"])).unwrap();
    assert!(
        list.contains("cmd=monitor"),
        "the monitor is still connected: {list}"
    );
    assert_eq!(
        admin.command(&[b"PUBLISH", b"ch", b"m"]),
        b":1\r\n",
        "the subscriber is still connected"
    );
    assert_eq!(
        sub.read_reply(),
        b"*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$1\r\nm\r\n"
    );
    assert!(idle.is_closed());
}
