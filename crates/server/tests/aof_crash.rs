//! The `redigo` binary killed at random moments (SIGKILL, with writers of
//! strings, hashes and sets) and in the middle of a rewrite: with `appendfsync always`, every acknowledged write is
//! there after a restart. Also start-up with a cut-short file, and
//! `redigo check-aof`.

#![cfg(unix)]

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use redigo_aof::Record;
use redigo_server::aof::RewriteStep;
use redigo_server::aof::rewrite::CRASH_HOOK_ENV;
use redigo_tests::{free_port, wait_for_port};

const BINARY: &str = env!("CARGO_BIN_EXE_redigo");
const STARTUP: Duration = Duration::from_secs(20);
const EXIT_WAIT: Duration = Duration::from_secs(10);
const IO_TIMEOUT: Duration = Duration::from_secs(10);
/// Crash rounds of the SIGKILL test.
const ROUNDS: usize = 12;
/// Concurrent writers per round.
const WRITERS: usize = 4;

struct Redigo {
    child: Child,
    port: u16,
}

impl Redigo {
    fn start(aof: &Path, extra: &[&str], env: Option<(&str, &str)>) -> Redigo {
        let port = free_port();
        let mut command = Command::new(BINARY);
        command.args(["--port", &port.to_string(), "--aof-enabled"]);
        if !extra.contains(&"--appendfsync") {
            command.args(["--appendfsync", "always"]);
        }
        command
            .arg("--aof-path")
            .arg(aof)
            .args(extra)
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        if let Some((key, value)) = env {
            command.env(key, value);
        }
        let mut child = command.spawn().expect("spawn redigo");
        if !wait_for_port(port, STARTUP) {
            let _ = child.kill();
            let output = child.wait_with_output().expect("output");
            panic!(
                "redigo did not start: {}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
        Redigo { child, port }
    }

    /// A client of this server. A refused connection panics with what the
    /// server said before it died (a start-up that bound the port and then
    /// failed, e.g. on a damaged AOF, looks ready to `wait_for_port`).
    fn client(&mut self) -> Client {
        Client::connect(self.port).unwrap_or_else(|err| self.failed(&err))
    }

    /// Panics for an I/O error talking to this server, with its exit status
    /// and what it logged if it died.
    fn failed(&mut self, err: &std::io::Error) -> ! {
        let deadline = Instant::now() + EXIT_WAIT;
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                let mut stderr = String::new();
                if let Some(mut pipe) = self.child.stderr.take() {
                    let _ = pipe.read_to_string(&mut stderr);
                }
                panic!("redigo exited ({status}) instead of serving ({err}): {stderr}");
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        panic!("talking to redigo, which is still running, failed: {err}");
    }

    fn kill(mut self) {
        self.child.kill().expect("SIGKILL");
        let _ = self.child.wait();
    }

    fn wait_exit(mut self) -> Output {
        let deadline = Instant::now() + EXIT_WAIT;
        while Instant::now() < deadline {
            if self.child.try_wait().expect("try_wait").is_some() {
                return self.child.wait_with_output().expect("output");
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = self.child.kill();
        panic!("redigo did not exit");
    }
}

/// A client that reports failures instead of panicking: the server may die
/// under it at any moment.
struct Client {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
}

impl Client {
    fn connect(port: u16) -> std::io::Result<Client> {
        let stream = TcpStream::connect(("127.0.0.1", port))?;
        stream.set_read_timeout(Some(IO_TIMEOUT))?;
        let writer = stream.try_clone()?;
        Ok(Client {
            reader: BufReader::new(stream),
            writer,
        })
    }

    fn send(&mut self, args: &[&[u8]]) -> std::io::Result<()> {
        let mut record = Record::new(args[0]);
        for arg in &args[1..] {
            record = record.arg(arg);
        }
        self.writer.write_all(&record.to_bytes())
    }

    /// Reads a status, error, integer or bulk reply.
    fn read(&mut self) -> std::io::Result<Vec<u8>> {
        let mut line = Vec::new();
        if self.reader.read_until(b'\n', &mut line)? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        if line.first() == Some(&b'$') {
            let len: i64 = std::str::from_utf8(&line[1..line.len() - 2])
                .unwrap()
                .parse()
                .unwrap();
            if len >= 0 {
                let mut body = vec![0; len as usize + 2];
                self.reader.read_exact(&mut body)?;
                body.truncate(len as usize);
                return Ok(body);
            }
            return Ok(b"(nil)".to_vec());
        }
        Ok(line)
    }

    fn command(&mut self, args: &[&[u8]]) -> std::io::Result<Vec<u8>> {
        self.send(args)?;
        self.read()
    }
}

fn random_below(bound: u64) -> u64 {
    RandomState::new().build_hasher().finish() % bound
}

/// Writes `SET key value` until the connection fails; returns the
/// acknowledged keys.
fn write_until_failure(port: u16, prefix: String, acked: Arc<Mutex<Vec<String>>>) {
    let Ok(mut client) = Client::connect(port) else {
        return;
    };
    for n in 0.. {
        let key = format!("{prefix}:{n}");
        match client.command(&[b"SET", key.as_bytes(), key.as_bytes()]) {
            Ok(reply) if reply == b"+OK\r\n" => acked.lock().unwrap().push(key),
            _ => return,
        }
    }
}

/// Asserts every key of `keys` holds its own name (pipelined GETs).
fn assert_all_present(server: &mut Redigo, keys: &[String]) {
    let mut client = server.client();
    for chunk in keys.chunks(500) {
        for key in chunk {
            if let Err(err) = client.send(&[b"GET", key.as_bytes()]) {
                server.failed(&err);
            }
        }
        for key in chunk {
            let value = client.read().unwrap_or_else(|err| server.failed(&err));
            assert_eq!(
                String::from_utf8_lossy(&value),
                *key,
                "acknowledged write of {key} lost"
            );
        }
    }
}

fn aof_in(dir: &Path) -> PathBuf {
    dir.join("nested").join("appendonly.aof")
}

/// A write acknowledged by the server, of the mixed workload of
/// [`write_mixed_until_failure`].
#[derive(Clone, Debug)]
enum Acked {
    /// `SET key key`.
    String(String),
    /// `HSET hash field value`.
    Field {
        hash: String,
        field: String,
        value: String,
    },
    /// `SADD set member` (never removed).
    Member { set: String, member: String },
    /// `SREM set member` of a member added just before.
    Removed { set: String, member: String },
    /// `HINCRBY hash counter 1`, the `count`th acknowledged one.
    Increment { hash: String, count: i64 },
}

/// Writes strings, hash fields, set members, removals and increments,
/// under `prefix`, until the connection fails; records each acknowledged
/// write.
fn write_mixed_until_failure(port: u16, prefix: String, acked: Arc<Mutex<Vec<Acked>>>) {
    let Ok(mut client) = Client::connect(port) else {
        return;
    };
    let (hash, set) = (format!("{prefix}:h"), format!("{prefix}:s"));
    for n in 0i64.. {
        let key = format!("{prefix}:{n}");
        let (field, value) = (format!("f{n}"), n.to_string());
        let (keep, temporary) = (format!("keep{n}"), format!("tmp{n}"));
        let steps: [MixedStep<'_>; 5] = [
            (
                vec![b"SET", key.as_bytes(), key.as_bytes()],
                b"+OK\r\n".to_vec(),
                Acked::String(key.clone()),
            ),
            (
                vec![b"HSET", hash.as_bytes(), field.as_bytes(), value.as_bytes()],
                b":1\r\n".to_vec(),
                Acked::Field {
                    hash: hash.clone(),
                    field: field.clone(),
                    value: value.clone(),
                },
            ),
            (
                vec![
                    b"SADD",
                    set.as_bytes(),
                    keep.as_bytes(),
                    temporary.as_bytes(),
                ],
                b":2\r\n".to_vec(),
                Acked::Member {
                    set: set.clone(),
                    member: keep.clone(),
                },
            ),
            (
                vec![b"SREM", set.as_bytes(), temporary.as_bytes()],
                b":1\r\n".to_vec(),
                Acked::Removed {
                    set: set.clone(),
                    member: temporary.clone(),
                },
            ),
            (
                vec![b"HINCRBY", hash.as_bytes(), b"counter", b"1"],
                format!(":{}\r\n", n + 1).into_bytes(),
                Acked::Increment {
                    hash: hash.clone(),
                    count: n + 1,
                },
            ),
        ];
        for (args, expected, write) in steps {
            match client.command(&args) {
                Ok(reply) if reply == expected => acked.lock().unwrap().push(write),
                Ok(reply) => panic!("{args:?}: unexpected {reply:?}"),
                Err(_) => return,
            }
        }
    }
}

/// A command of the mixed workload, the reply that acknowledges it, and
/// what it acknowledges.
type MixedStep<'a> = (Vec<&'a [u8]>, Vec<u8>, Acked);

/// Asserts every acknowledged write of the mixed workload is there: keys,
/// fields with their values, members kept, members removed gone, and each
/// counter at least its acknowledged count (one increment in flight at the
/// crash may be there on top).
fn assert_mixed_present(server: &mut Redigo, writes: &[Acked]) {
    let strings: Vec<String> = writes
        .iter()
        .filter_map(|w| match w {
            Acked::String(key) => Some(key.clone()),
            _ => None,
        })
        .collect();
    assert_all_present(server, &strings);
    let mut client = server.client();
    let mut read = |args: &[&[u8]]| {
        client
            .command(args)
            .unwrap_or_else(|err| panic!("{args:?}: {err}"))
    };
    for write in writes {
        match write {
            Acked::String(_) => {}
            Acked::Field { hash, field, value } => assert_eq!(
                String::from_utf8_lossy(&read(&[b"HGET", hash.as_bytes(), field.as_bytes()])),
                *value,
                "{hash} {field} lost"
            ),
            Acked::Member { set, member } | Acked::Removed { set, member } => {
                let removed = matches!(write, Acked::Removed { .. });
                let expected: &[u8] = if removed { b":0\r\n" } else { b":1\r\n" };
                assert_eq!(
                    read(&[b"SISMEMBER", set.as_bytes(), member.as_bytes()]),
                    expected,
                    "{set} {member}: acknowledged {}",
                    if removed { "SREM" } else { "SADD" }
                );
            }
            Acked::Increment { hash, count } => {
                let counter: i64 =
                    String::from_utf8_lossy(&read(&[b"HGET", hash.as_bytes(), b"counter"]))
                        .parse()
                        .expect("a counter");
                assert!(
                    counter >= *count,
                    "{hash} counter {counter} below its acknowledged {count}"
                );
            }
        }
    }
}

#[test]
fn every_acknowledged_write_survives_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let aof = aof_in(dir.path());
    let acked = Arc::new(Mutex::new(Vec::new()));
    let mixed = Arc::new(Mutex::new(Vec::new()));
    for round in 0..ROUNDS {
        let mut server = Redigo::start(&aof, &[], None);
        assert_all_present(&mut server, &acked.lock().unwrap());
        assert_mixed_present(&mut server, &mixed.lock().unwrap());
        let writers: Vec<_> = (0..WRITERS)
            .map(|w| {
                let port = server.port;
                let prefix = format!("r{round}w{w}");
                // Half the writers write strings alone, half the mix of
                // strings, hashes and sets.
                if w % 2 == 0 {
                    let acked = Arc::clone(&acked);
                    std::thread::spawn(move || write_until_failure(port, prefix, acked))
                } else {
                    let mixed = Arc::clone(&mixed);
                    std::thread::spawn(move || write_mixed_until_failure(port, prefix, mixed))
                }
            })
            .collect();
        std::thread::sleep(Duration::from_millis(100 + random_below(400)));
        server.kill();
        for writer in writers {
            writer.join().unwrap();
        }
    }
    let keys = acked.lock().unwrap().clone();
    let writes = mixed.lock().unwrap().clone();
    println!(
        "{} acknowledged string writes and {} mixed ones over {ROUNDS} crashes",
        keys.len(),
        writes.len()
    );
    assert!(
        keys.len() > WRITERS,
        "the writers got replies: {}",
        keys.len()
    );
    assert!(
        writes.iter().any(|w| matches!(w, Acked::Removed { .. }))
            && writes.iter().any(|w| matches!(w, Acked::Increment { .. })),
        "the mixed writers got replies: {}",
        writes.len()
    );
    let mut server = Redigo::start(&aof, &[], None);
    assert_all_present(&mut server, &keys);
    assert_mixed_present(&mut server, &writes);
    server.kill();
}

#[test]
fn a_crash_at_any_step_of_a_rewrite_loses_no_acknowledged_write() {
    // `always` fsyncs before the rename; `everysec` renames first and
    // fsyncs after the switch: a process crash must lose nothing in either.
    let cases = RewriteStep::ALL
        .iter()
        .flat_map(|step| [(*step, "always"), (*step, "everysec")]);
    for (step, policy) in cases {
        let dir = tempfile::tempdir().unwrap();
        let aof = aof_in(dir.path());
        let mut server = Redigo::start(
            &aof,
            &["--appendfsync", policy],
            Some((CRASH_HOOK_ENV, step.name())),
        );
        let mut keys = Vec::new();
        let mut client = server.client();
        for n in 0..2000 {
            let key = format!("before:{n}");
            // Nothing has asked for a rewrite yet: a failure here is the
            // server's, reported with its exit status and log.
            client
                .send(&[b"SET", key.as_bytes(), key.as_bytes()])
                .unwrap_or_else(|err| server.failed(&err));
            keys.push(key);
        }
        for _ in 0..2000 {
            let reply = client.read().unwrap_or_else(|err| server.failed(&err));
            assert_eq!(reply, b"+OK\r\n");
        }
        let acked = Arc::new(Mutex::new(Vec::new()));
        let writer = {
            let acked = Arc::clone(&acked);
            let port = server.port;
            std::thread::spawn(move || write_until_failure(port, "during".into(), acked))
        };
        // The reply may or may not make it out before the crash.
        let reply = client.command(&[b"BGREWRITEAOF"]);
        if let Ok(reply) = reply {
            assert_eq!(reply, b"+Background append only file rewriting started\r\n");
        }
        let output = server.wait_exit();
        assert!(
            !output.status.success(),
            "{step:?} {policy}: the hook aborts the process"
        );
        writer.join().unwrap();
        keys.extend(acked.lock().unwrap().iter().cloned());

        let mut server = Redigo::start(&aof, &["--appendfsync", policy], None);
        assert_all_present(&mut server, &keys);
        // At most the one write in flight at the crash comes on top.
        let mut client = server.client();
        let dbsize = client.command(&[b"DBSIZE"]).unwrap();
        let dbsize: usize = std::str::from_utf8(&dbsize[1..dbsize.len() - 2])
            .unwrap()
            .parse()
            .unwrap();
        assert!(
            (keys.len()..=keys.len() + 1).contains(&dbsize),
            "{step:?} {policy}: {dbsize} keys for {} acknowledged writes",
            keys.len()
        );
        server.kill();
    }
}

#[test]
fn a_cut_short_file_is_repaired_or_refused_as_configured() {
    let dir = tempfile::tempdir().unwrap();
    let aof = dir.path().join("appendonly.aof");
    let good = [
        Record::select(0).to_bytes(),
        Record::set("k", "v").to_bytes(),
    ]
    .concat();
    let cut = Record::set("lost", "x").to_bytes();
    std::fs::write(&aof, [&good[..], &cut[..cut.len() - 3]].concat()).unwrap();

    let port = free_port();
    let output = Command::new(BINARY)
        .args([
            "--port",
            &port.to_string(),
            "--aof-enabled",
            "--aof-load-truncated=no",
        ])
        .arg("--aof-path")
        .arg(&aof)
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("Unexpected end of file"), "{stderr}");
    assert!(stderr.contains("redigo check-aof --fix"), "{stderr}");

    let mut server = Redigo::start(&aof, &[], None);
    let mut client = server.client();
    assert_eq!(client.command(&[b"GET", b"k"]).unwrap(), b"v");
    assert_eq!(client.command(&[b"GET", b"lost"]).unwrap(), b"(nil)");
    assert_eq!(
        client.command(&[b"SET", b"after", b"1"]).unwrap(),
        b"+OK\r\n"
    );
    server.kill();
    assert_eq!(
        std::fs::read(&aof).unwrap(),
        [
            &good[..],
            &Record::select(0).to_bytes()[..],
            &Record::set("after", "1").to_bytes()[..]
        ]
        .concat(),
        "cut back to the good prefix, then appended to (a new process selects again)"
    );
}

#[test]
fn check_aof_subcommand_reports_and_fixes() {
    let dir = tempfile::tempdir().unwrap();
    let aof = dir.path().join("appendonly.aof");
    let good = Record::set("k", "v").to_bytes();
    std::fs::write(&aof, [&good[..], b"*3\r\n$3\r\nSET"].concat()).unwrap();
    let output = Command::new(BINARY)
        .arg("check-aof")
        .arg(&aof)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("is not valid. Use the --fix option"),
        "{stdout}"
    );

    let mut child = Command::new(BINARY)
        .args(["check-aof", "--fix"])
        .arg(&aof)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"y\n").unwrap();
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&output.stdout).contains("Successfully truncated AOF"));
    assert_eq!(std::fs::read(&aof).unwrap(), good);
}

#[test]
fn sigterm_flushes_and_fsyncs_the_aof_before_exiting() {
    let dir = tempfile::tempdir().unwrap();
    let aof = aof_in(dir.path());
    let mut server = Redigo::start(&aof, &["--appendfsync", "everysec"], None);
    let mut client = server.client();
    for n in 0..1000 {
        let key = format!("k{n}");
        client.send(&[b"SET", key.as_bytes(), b"v"]).unwrap();
    }
    for _ in 0..1000 {
        assert_eq!(client.read().unwrap(), b"+OK\r\n");
    }
    let status = Command::new("kill")
        .args(["-TERM", &server.child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let output = server.wait_exit();
    assert!(output.status.success(), "{output:?}");
    let content = std::fs::read(&aof).unwrap();
    let mut expected = Record::select(0).to_bytes().to_vec();
    for n in 0..1000 {
        expected.extend_from_slice(&Record::set(format!("k{n}"), "v").to_bytes());
    }
    assert_eq!(content, expected);
}
