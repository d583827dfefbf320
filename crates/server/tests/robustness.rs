//! Robustness at the edges of the network layer: clients over `maxclients`,
//! what the stats count for them, and more.

use std::io::Read;

use redigo_server::testing::TestServer;
use redigo_tests::RawConn;

fn stat(conn: &mut RawConn, section: &str, field: &str) -> String {
    let reply = String::from_utf8(conn.command(&[b"INFO", section.as_bytes()])).expect("utf8");
    reply
        .lines()
        .find_map(|line| line.strip_prefix(&format!("{field}:")).map(str::to_string))
        .unwrap_or_else(|| panic!("no {field} in INFO: {reply}"))
}

/// Redis counts a connection refused for `maxclients` in
/// `rejected_connections` only, not in `total_connections_received`.
/// How many values the server's background freer has dropped so far.
fn freed_by_background_freer(server: &TestServer) -> u64 {
    redigo_server::dataset::lock(server.dataset())
        .freer()
        .expect("the server frees in the background")
        .freed()
}

#[test]
fn a_refused_connection_is_not_counted_as_received() {
    let server = TestServer::start(&[("maxclients", "1")]);
    let mut first = RawConn::connect(server.port());
    assert_eq!(first.command(&[b"PING"]), b"+PONG\r\n");
    let mut refused = std::net::TcpStream::connect(("127.0.0.1", server.port())).unwrap();
    let mut reply = Vec::new();
    refused.read_to_end(&mut reply).unwrap();
    assert_eq!(reply, b"-ERR max number of clients reached\r\n");
    assert_eq!(stat(&mut first, "stats", "rejected_connections"), "1");
    assert_eq!(stat(&mut first, "stats", "total_connections_received"), "1");
}

/// Protected mode, end to end without leaving the loopback interface:
/// Redis 7.0 treats only `127.0.0.1` and `::1` as local (it compares the
/// address text), so a client bound to `127.0.0.2` (loopback on Linux) is
/// a remote client to it, and gets the `-DENIED` explanation and a close.
#[cfg(target_os = "linux")]
#[test]
fn protected_mode_denies_remote_clients_without_a_password() {
    use std::net::SocketAddr;

    fn connect_from_127_0_0_2(port: u16) -> std::net::TcpStream {
        let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None)
            .expect("socket");
        let source: SocketAddr = "127.0.0.2:0".parse().unwrap();
        socket.bind(&source.into()).expect("bind 127.0.0.2");
        let server: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
        socket.connect(&server.into()).expect("connect");
        socket.into()
    }

    let server = TestServer::start(&[]);
    let mut remote = connect_from_127_0_0_2(server.port());
    let mut reply = Vec::new();
    remote.read_to_end(&mut reply).unwrap();
    let reply = String::from_utf8(reply).unwrap();
    assert!(
        reply.starts_with("-DENIED Redis is running in protected mode because protected mode is enabled and no password is set for the default user.")
            && reply.ends_with("accepting connections from the outside.\r\n"),
        "{reply}"
    );

    // A local client turns it off; then the same remote client is served.
    let mut local = RawConn::connect(server.port());
    assert_eq!(
        local.command(&[b"CONFIG", b"SET", b"protected-mode", b"no"]),
        b"+OK\r\n"
    );
    let mut remote = connect_from_127_0_0_2(server.port());
    std::io::Write::write_all(&mut remote, b"PING\r\n").unwrap();
    let mut pong = [0u8; 7];
    remote.read_exact(&mut pong).unwrap();
    assert_eq!(&pong, b"+PONG\r\n");

    // With a password, protected mode lets remote clients in to AUTH.
    local.command(&[b"CONFIG", b"SET", b"protected-mode", b"yes"]);
    local.command(&[b"CONFIG", b"SET", b"requirepass", b"pw"]);
    let mut remote = connect_from_127_0_0_2(server.port());
    std::io::Write::write_all(&mut remote, b"PING\r\n").unwrap();
    let mut noauth = [0u8; 34];
    remote.read_exact(&mut noauth).unwrap();
    assert_eq!(&noauth, b"-NOAUTH Authentication required.\r\n");
}

/// After FLUSHALL of a large dataset the server gives the memory back to
/// the system, as Redis (with jemalloc) does: glibc alone kept the RSS at
/// its peak. The server runs in this process, so the RSS is this process's.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[test]
fn flushall_of_a_large_dataset_returns_memory_to_the_system() {
    use std::time::{Duration, Instant};

    const KEYS: usize = 300_000;
    const CHUNK: usize = 10_000;
    let value = [b'x'; 100];
    let server = TestServer::start(&[]);
    let mut conn = RawConn::connect(server.port());
    for start in (0..KEYS).step_by(CHUNK) {
        let mut pipeline = Vec::new();
        for i in start..start + CHUNK {
            let key = format!("key:{i:08}");
            pipeline.extend_from_slice(
                format!("*3\r\n$3\r\nSET\r\n${}\r\n{key}\r\n$100\r\n", key.len()).as_bytes(),
            );
            pipeline.extend_from_slice(&value);
            pipeline.extend_from_slice(b"\r\n");
        }
        conn.send(&pipeline);
        for _ in 0..CHUNK {
            assert_eq!(conn.read_reply(), b"+OK\r\n");
        }
    }
    let rss = |conn: &mut RawConn| {
        stat(conn, "memory", "used_memory_rss")
            .parse::<u64>()
            .unwrap()
    };
    let used: u64 = stat(&mut conn, "memory", "used_memory").parse().unwrap();
    let loaded = rss(&mut conn);
    assert!(used > 30 << 20, "the dataset is large: {used} bytes");
    assert_eq!(conn.command(&[b"FLUSHALL"]), b"+OK\r\n");
    // The cron trims within a tick or two; generous bounds either way.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let now = rss(&mut conn);
        if now + used / 2 < loaded {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "RSS stayed at {now} after FLUSHALL (loaded: {loaded}, dataset: {used})"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// `FLUSHALL` does not free the old tables on the command path: they go to
/// the background freer (`crate::background_free`), which frees them.
#[test]
fn flushall_hands_the_old_tables_to_the_background_freer() {
    use std::time::{Duration, Instant};

    let server = TestServer::start(&[]);
    let mut conn = RawConn::connect(server.port());
    for i in 0..1000 {
        let key = format!("key:{i}");
        assert_eq!(conn.command(&[b"SET", key.as_bytes(), b"v"]), b"+OK\r\n");
    }
    let freed = || freed_by_background_freer(&server);
    let before = freed();
    assert_eq!(conn.command(&[b"FLUSHALL"]), b"+OK\r\n");
    assert_eq!(conn.command(&[b"DBSIZE"]), b":0\r\n");
    let deadline = Instant::now() + Duration::from_secs(10);
    while freed() == before {
        assert!(Instant::now() < deadline, "the freer freed the old table");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// An `LTRIM` that cuts most of a big list off does not free the cut
/// chunks on the command path: more than `LAZYFREE_THRESHOLD` of them go
/// to the background freer, which frees them.
#[test]
fn a_partial_ltrim_hands_the_cut_chunks_to_the_background_freer() {
    use std::time::{Duration, Instant};

    let server = TestServer::start(&[]);
    let mut conn = RawConn::connect(server.port());
    // 200,000 elements of about 16 bytes: about 400 chunks of 8 KiB.
    for batch in 0..200 {
        let elements: Vec<String> = (0..1000)
            .map(|i| format!("element:{}", batch * 1000 + i))
            .collect();
        let mut args: Vec<&[u8]> = vec![b"RPUSH", b"list"];
        args.extend(elements.iter().map(String::as_bytes));
        conn.command(&args);
    }
    assert_eq!(conn.command(&[b"LLEN", b"list"]), b":200000\r\n");
    let freed = || freed_by_background_freer(&server);
    let before = freed();
    assert_eq!(
        conn.command(&[b"LTRIM", b"list", b"150000", b"-1"]),
        b"+OK\r\n"
    );
    assert_eq!(conn.command(&[b"LLEN", b"list"]), b":50000\r\n");
    assert_eq!(
        conn.command(&[b"LINDEX", b"list", b"0"]),
        b"$14\r\nelement:150000\r\n"
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    while freed() == before {
        assert!(Instant::now() < deadline, "the freer freed the cut chunks");
        std::thread::sleep(Duration::from_millis(10));
    }
}
