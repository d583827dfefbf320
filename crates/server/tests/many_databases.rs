//! A server configured with many databases stays responsive: an AOF rewrite
//! and `FLUSHALL` do work proportional to the databases in use, in bounded
//! steps under the dataset lock (the store counts that work structurally in
//! its own tests; here the whole server is exercised end to end).

use std::time::{Duration, Instant};

use redigo_server::testing::TestServer;
use redigo_tests::RawConn;

/// Far more databases than any test touches: the rewrite used to search
/// every table for each table (10^10 steps here) under the dataset lock.
const DATABASES: usize = 100_000;
/// Every `EVERY`th database gets a key.
const EVERY: usize = 50;
/// Liveness bound for the rewrite to finish (not a performance assertion:
/// the linear walk needs milliseconds, the quadratic one needed minutes).
const PATIENCE: Duration = Duration::from_secs(120);

fn info_field(conn: &mut RawConn, field: &str) -> String {
    let reply = String::from_utf8(conn.command(&[b"INFO", b"persistence"])).expect("utf8");
    reply
        .lines()
        .find_map(|line| line.strip_prefix(&format!("{field}:")).map(str::to_string))
        .unwrap_or_else(|| panic!("no {field} in INFO: {reply}"))
}

fn fill(conn: &mut RawConn) {
    let mut pipeline = Vec::new();
    for db in (0..DATABASES).step_by(EVERY) {
        pipeline.extend_from_slice(
            format!(
                "*2\r\n$6\r\nSELECT\r\n${}\r\n{db}\r\n*3\r\n$3\r\nSET\r\n$1\r\nk\r\n${}\r\n{db}\r\n",
                db.to_string().len(),
                db.to_string().len()
            )
            .as_bytes(),
        );
    }
    conn.send(&pipeline);
    for _ in 0..2 * DATABASES.div_ceil(EVERY) {
        let reply = conn.read_reply();
        assert_eq!(reply, b"+OK\r\n");
    }
}

#[test]
fn bgrewriteaof_with_many_databases_completes_while_clients_are_served() {
    let dir = tempfile::tempdir().unwrap();
    let aof = dir.path().join("many.aof");
    let aof_path = aof.to_str().unwrap();
    let databases = DATABASES.to_string();
    let overrides = [
        ("databases", databases.as_str()),
        ("aof-enabled", "yes"),
        ("aof-path", aof_path),
    ];
    {
        let server = TestServer::start(&overrides);
        let mut writer = RawConn::connect(server.port());
        fill(&mut writer);
        // Move a database past the others, so the rewrite labels it as now.
        assert_eq!(writer.command(&[b"SWAPDB", b"0", b"99999"]), b"+OK\r\n");
        let mut other = RawConn::connect(server.port());
        assert_eq!(
            writer.command(&[b"BGREWRITEAOF"]),
            b"+Background append only file rewriting started\r\n"
        );
        // Served at once, while the rewrite runs or just after.
        assert_eq!(other.command(&[b"PING"]), b"+PONG\r\n");
        assert_eq!(other.command(&[b"SELECT", b"50"]), b"+OK\r\n");
        assert_eq!(other.command(&[b"GET", b"k"]), b"$2\r\n50\r\n");
        let deadline = Instant::now() + PATIENCE;
        while info_field(&mut other, "aof_rewrite_in_progress") != "0" {
            assert_eq!(other.command(&[b"PING"]), b"+PONG\r\n");
            assert!(Instant::now() < deadline, "the rewrite did not finish");
            std::thread::sleep(Duration::from_millis(10));
        }
        assert_eq!(info_field(&mut other, "aof_last_bgrewrite_status"), "ok");
        // A write after the rewrite is appended to the new file.
        assert_eq!(other.command(&[b"SELECT", b"100"]), b"+OK\r\n");
        assert_eq!(other.command(&[b"SET", b"after", b"x"]), b"+OK\r\n");
    }
    // The rewritten file (plus its tail) holds every key, labelled with its
    // database as it was.
    let server = TestServer::start(&overrides);
    let mut conn = RawConn::connect(server.port());
    assert_eq!(conn.command(&[b"SELECT", b"99999"]), b"+OK\r\n");
    assert_eq!(conn.command(&[b"GET", b"k"]), b"$1\r\n0\r\n");
    assert_eq!(conn.command(&[b"SELECT", b"0"]), b"+OK\r\n");
    assert_eq!(conn.command(&[b"DBSIZE"]), b":0\r\n");
    assert_eq!(conn.command(&[b"SELECT", b"99950"]), b"+OK\r\n");
    assert_eq!(conn.command(&[b"GET", b"k"]), b"$5\r\n99950\r\n");
    assert_eq!(conn.command(&[b"SELECT", b"100"]), b"+OK\r\n");
    assert_eq!(conn.command(&[b"GET", b"after"]), b"$1\r\nx\r\n");
    let keyspace = String::from_utf8(conn.command(&[b"INFO", b"keyspace"])).unwrap();
    assert_eq!(
        keyspace.lines().filter(|l| l.starts_with("db")).count(),
        DATABASES / EVERY
    );
    assert_eq!(conn.command(&[b"FLUSHALL"]), b"+OK\r\n");
    assert_eq!(conn.command(&[b"DBSIZE"]), b":0\r\n");
}
