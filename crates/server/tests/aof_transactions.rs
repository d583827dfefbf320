//! Transactions and the AOF, beside redis-server 7.0.15 and
//! redis-check-aof: what `EXEC` logs (nothing for reads, one bare write, a
//! single `MULTI`/`EXEC` around several), a transaction cut short by a
//! crash (dropped whole at start-up, with Redis's warning), a `MULTI`
//! without `EXEC` in the middle (a corrupt file), `check-aof --fix`, and
//! the `EXEC` reply held until the whole transaction is fsynced under
//! `appendfsync always`.

mod aof_support;

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use aof_support::{InProcessServer, faulty_factory, wait_until};
use redigo_aof::{Record, Replay};
use redigo_server::aof::AofOptions;
use redigo_server::aof::inline_fsync::MAX_INLINE_FSYNC;
use redigo_tests::{RawConn, free_port, wait_for_port, wait_until_loaded};

const BINARY: &str = env!("CARGO_BIN_EXE_redigo");
/// How long a start-up may take before the test gives up.
const STARTUP: Duration = Duration::from_secs(20);

/// A redigo process on `aof`, logging to a file of the test's directory.
struct Redigo {
    child: Child,
    port: u16,
    log: PathBuf,
}

impl Redigo {
    fn start(aof: &Path, extra: &[&str]) -> Redigo {
        let port = free_port();
        let log = aof.with_extension("log");
        let child = Command::new(BINARY)
            .args(["--bind", "127.0.0.1", "--port", &port.to_string()])
            .args(["--aof-enabled", "--appendfsync", "always", "--aof-path"])
            .arg(aof)
            .args(extra)
            .stdout(Stdio::null())
            .stderr(File::create(&log).expect("log file"))
            .spawn()
            .expect("spawn redigo");
        Redigo { child, port, log }
    }

    /// A connection once the server serves, with its AOF loaded.
    fn connect(&mut self) -> RawConn {
        assert!(
            wait_for_port(self.port, STARTUP),
            "redigo did not start: {}",
            self.log_text()
        );
        let mut conn = RawConn::connect(self.port);
        wait_until_loaded(&mut conn);
        conn
    }

    /// Waits for the process to end by itself (a refused start-up).
    fn wait_failed(&mut self) -> String {
        let deadline = Instant::now() + STARTUP;
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                assert!(!status.success(), "start-up should fail");
                return self.log_text();
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        panic!("redigo still runs: {}", self.log_text());
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Redigo {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn cmd(conn: &mut RawConn, command: &str) -> Vec<u8> {
    let words: Vec<&[u8]> = command.split(' ').map(str::as_bytes).collect();
    conn.command(&words)
}

/// The records of an AOF, command names in upper case (Redis logs them as
/// the client sent them).
fn records(path: &Path) -> Vec<Vec<String>> {
    let file = File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    Replay::new(std::io::BufReader::new(file))
        .map(|entry| {
            let entry = entry.expect("a well-formed AOF");
            entry
                .args
                .iter()
                .enumerate()
                .map(|(i, arg)| {
                    let text = String::from_utf8_lossy(arg).into_owned();
                    if i == 0 { text.to_uppercase() } else { text }
                })
                .collect()
        })
        .collect()
}

fn bytes_of(records: &[Record]) -> Vec<u8> {
    records.iter().flat_map(|r| r.to_bytes().to_vec()).collect()
}

/// The transactions whose logging is compared.
const SCRIPT: &[&str] = &[
    "SET pre 1",
    // Only reads: nothing logged.
    "MULTI",
    "GET pre",
    "EXISTS pre",
    "EXEC",
    // One write: logged bare (Redis 7.0 does not wrap a single command).
    "MULTI",
    "SET one 1",
    "GET one",
    "EXEC",
    // Several writes, across databases: one MULTI/EXEC.
    "MULTI",
    "INCR pre",
    "SELECT 2",
    "SET b 2",
    "DEL missing",
    "EXEC",
    // A write that changes nothing: nothing logged.
    "MULTI",
    "DEL missing",
    "EXEC",
    "SELECT 0",
    // FLUSHALL inside a transaction (Redis's "MULTI with FLUSHALL and AOF").
    "MULTI",
    "SET foo bar",
    "FLUSHALL",
    "EXEC",
    "SET post 1",
];

#[test]
fn exec_logs_its_writes_as_redis_does() {
    let Some(oracle) =
        redigo_tests::oracle_with_args(&["--appendonly", "yes", "--appendfsync", "always"])
    else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let aof = dir.path().join("appendonly.aof");
    let mut redigo = Redigo::start(&aof, &[]);
    let mut ours = redigo.connect();
    let mut theirs = oracle.connect();
    for command in SCRIPT {
        assert_eq!(
            cmd(&mut ours, command),
            cmd(&mut theirs, command),
            "{command}"
        );
    }
    // Under `always` each reply came after its records were on disk.
    let expected = records(
        &oracle
            .dir()
            .join("appendonlydir")
            .join("appendonly.aof.1.incr.aof"),
    );
    let actual = records(&aof);
    assert_eq!(actual, expected);
    let multis = actual.iter().filter(|r| r[0] == "MULTI").count();
    assert_eq!(multis, 2, "{actual:?}");
}

/// A file whose last transaction lost its `EXEC` (and, with `partial`, the
/// end of a record inside it): the prefix that stays, and the whole file.
fn crashed_file(partial: bool) -> (Vec<u8>, Vec<u8>) {
    let kept = bytes_of(&[Record::select(0), Record::set("kept", "1")]);
    let mut cut = bytes_of(&[
        Record::new("MULTI"),
        Record::set("x", "1"),
        Record::new("INCR").arg("kept"),
    ]);
    if partial {
        cut.extend_from_slice(b"*3\r\n$3\r\nSET\r\n$1\r\ny");
    }
    let whole = [&kept[..], &cut[..]].concat();
    (kept, whole)
}

#[test]
fn a_transaction_cut_by_a_crash_is_dropped_whole_at_start_up() {
    for partial in [false, true] {
        let (kept, whole) = crashed_file(partial);
        let dir = tempfile::tempdir().unwrap();
        let aof = dir.path().join("appendonly.aof");
        std::fs::write(&aof, &whole).unwrap();
        let mut redigo = Redigo::start(&aof, &[]);
        let mut conn = redigo.connect();
        assert_eq!(
            cmd(&mut conn, "GET kept"),
            b"$1\r\n1\r\n",
            "never half-applied"
        );
        assert_eq!(cmd(&mut conn, "EXISTS x"), b":0\r\n");
        let log = redigo.log_text();
        assert!(
            log.contains("Revert incomplete MULTI/EXEC transaction in AOF file"),
            "{log}"
        );
        drop(conn);
        drop(redigo);
        assert_eq!(
            std::fs::read(&aof).unwrap(),
            kept,
            "the file is cut before the MULTI"
        );

        // Redis loads the same file to the same data.
        let oracle_dir = tempfile::tempdir().unwrap();
        std::fs::write(oracle_dir.path().join("appendonly.aof"), &whole).unwrap();
        if let Some(oracle) = redigo_tests::oracle_loading_aof(oracle_dir.path()) {
            let mut conn = oracle.connect();
            wait_until_loaded(&mut conn);
            assert_eq!(cmd(&mut conn, "GET kept"), b"$1\r\n1\r\n");
            assert_eq!(cmd(&mut conn, "EXISTS x"), b":0\r\n");
        }
    }
}

#[test]
fn with_aof_load_truncated_no_a_cut_transaction_stops_start_up() {
    let (_, whole) = crashed_file(false);
    let dir = tempfile::tempdir().unwrap();
    let aof = dir.path().join("appendonly.aof");
    std::fs::write(&aof, &whole).unwrap();
    let mut redigo = Redigo::start(&aof, &["--aof-load-truncated=no"]);
    let log = redigo.wait_failed();
    assert!(log.contains("Unexpected end of file"), "{log}");
    assert_eq!(std::fs::read(&aof).unwrap(), whole, "left as it was");
}

/// `MULTI` inside an open transaction, and `EXEC` without `MULTI`.
fn corrupt_files() -> [(&'static str, Vec<u8>); 2] {
    [
        (
            "Unexpected MULTI",
            bytes_of(&[
                Record::select(0),
                Record::new("MULTI"),
                Record::set("x", "1"),
                Record::new("MULTI"),
                Record::set("y", "2"),
                Record::new("EXEC"),
            ]),
        ),
        (
            "Unexpected EXEC",
            bytes_of(&[
                Record::select(0),
                Record::set("x", "1"),
                Record::new("EXEC"),
            ]),
        ),
    ]
}

#[test]
fn a_multi_without_exec_in_the_middle_is_a_corrupt_file() {
    for (problem, bytes) in corrupt_files() {
        let dir = tempfile::tempdir().unwrap();
        let aof = dir.path().join("appendonly.aof");
        std::fs::write(&aof, &bytes).unwrap();
        let mut redigo = Redigo::start(&aof, &[]);
        let log = redigo.wait_failed();
        assert!(log.contains(problem), "{log}");
        assert!(log.contains("redigo check-aof --fix"), "{log}");
        assert_eq!(std::fs::read(&aof).unwrap(), bytes, "never cut");

        // Both checkers name the problem.
        let ours = Command::new(BINARY)
            .arg("check-aof")
            .arg(&aof)
            .output()
            .unwrap();
        assert_eq!(ours.status.code(), Some(1));
        let text = String::from_utf8_lossy(&ours.stdout);
        assert!(text.contains(problem), "{text}");
        if redigo_tests::tool_available("redis-check-aof") {
            let theirs = Command::new("redis-check-aof").arg(&aof).output().unwrap();
            let text = String::from_utf8_lossy(&theirs.stdout);
            assert!(text.contains(problem), "{text}");
        }
    }
}

/// Runs `program args... path` answering `y` to the confirmation.
fn fix_with(program: &str, args: &[&str], path: &Path) -> std::process::Output {
    use std::io::Write;
    let mut child = Command::new(program)
        .args(args)
        .arg(path)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"y\n").unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn check_aof_fix_cuts_before_an_unclosed_multi_as_redis_check_aof() {
    let (kept, whole) = crashed_file(true);
    let dir = tempfile::tempdir().unwrap();
    let ours = dir.path().join("ours.aof");
    std::fs::write(&ours, &whole).unwrap();
    let report = Command::new(BINARY)
        .arg("check-aof")
        .arg(&ours)
        .output()
        .unwrap();
    assert_eq!(report.status.code(), Some(1));
    let output = fix_with(BINARY, &["check-aof", "--fix"], &ours);
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    assert_eq!(std::fs::read(&ours).unwrap(), kept);

    // The unclosed MULTI without a damaged record: the same cut.
    let (kept, whole) = crashed_file(false);
    std::fs::write(&ours, &whole).unwrap();
    let output = fix_with(BINARY, &["check-aof", "--fix"], &ours);
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    assert_eq!(std::fs::read(&ours).unwrap(), kept);

    if !redigo_tests::tool_available("redis-check-aof") {
        return;
    }
    let theirs = dir.path().join("theirs.aof");
    std::fs::write(&theirs, &whole).unwrap();
    let output = fix_with("redis-check-aof", &["--fix"], &theirs);
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    assert_eq!(
        std::fs::read(&theirs).unwrap(),
        kept,
        "redis-check-aof cuts there too"
    );
}

/// Under `appendfsync always` the `EXEC` reply waits for the fsync that
/// covers the whole transaction (a fault-injected fsync held at a gate).
#[test]
fn under_always_the_exec_reply_waits_for_the_fsync_of_the_transaction() {
    use std::io::{Read, Write};
    for io_threads in ["1", "2"] {
        let dir = tempfile::tempdir().unwrap();
        let (factory, injector) = faulty_factory();
        let path = dir.path().join("appendonly.aof");
        let path_text = path.display().to_string();
        let overrides = [
            ("aof-enabled", "yes"),
            ("appendfsync", "always"),
            ("aof-path", path_text.as_str()),
            ("io-threads", io_threads),
        ];
        let options = AofOptions {
            open_writer: factory,
            ..AofOptions::default()
        };
        let server = InProcessServer::start(&overrides, options);
        let faults = injector.lock().unwrap().clone().unwrap();
        let mut other = RawConn::connect(server.port);
        // One slow fsync moves fsyncs to the fsync thread (as in
        // `aof_reply_hold`), so a held one does not hold the runtime.
        faults.stall_next_syncs(1, MAX_INLINE_FSYNC + Duration::from_millis(20));
        assert_eq!(other.command(&[b"SET", b"slow", b"v"]), b"+OK\r\n");

        let mut client = std::net::TcpStream::connect(("127.0.0.1", server.port)).unwrap();
        client.set_read_timeout(Some(STARTUP)).unwrap();
        let queue = b"*1\r\n$5\r\nMULTI\r\n*3\r\n$3\r\nSET\r\n$1\r\na\r\n$1\r\n1\r\n*3\r\n$3\r\nSET\r\n$1\r\nb\r\n$1\r\n2\r\n";
        client.write_all(queue).unwrap();
        let mut queued = [0u8; 23];
        client.read_exact(&mut queued).unwrap();
        assert_eq!(
            &queued, b"+OK\r\n+QUEUED\r\n+QUEUED\r\n",
            "queuing writes nothing"
        );

        faults.hold_syncs();
        client.write_all(b"*1\r\n$4\r\nEXEC\r\n").unwrap();
        assert!(
            wait_until(STARTUP, || faults.syncs_held().0 == 1),
            "io-threads {io_threads}: the fsync covering the transaction is held"
        );
        assert_eq!(other.command(&[b"PING"]), b"+PONG\r\n");
        client.set_nonblocking(true).unwrap();
        let early = client.peek(&mut [0u8; 1]);
        client.set_nonblocking(false).unwrap();
        assert!(
            matches!(&early, Err(err) if err.kind() == std::io::ErrorKind::WouldBlock),
            "io-threads {io_threads}: EXEC answered before its fsync: {early:?}"
        );

        faults.release_syncs();
        let mut reply = [0u8; 14];
        client.read_exact(&mut reply).unwrap();
        assert_eq!(&reply, b"*2\r\n+OK\r\n+OK\r\n");
        let aof = server.aof();
        assert!(aof.committed() >= aof.queued_seq());
        let logged = records(&path);
        let tail: Vec<&str> = logged[logged.len() - 4..]
            .iter()
            .map(|r| r[0].as_str())
            .collect();
        assert_eq!(tail, ["MULTI", "SET", "SET", "EXEC"], "{logged:?}");
        faults.clear();
    }
}
