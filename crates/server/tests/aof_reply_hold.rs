//! No client sees a write the AOF could still lose (issue 13, point 3).
//!
//! A reply that shows data waits until every write it could show is
//! committed as the policy promises: written under `everysec` and `no`,
//! fsynced under `always`. That covers the writer's own reply and the
//! replies of other clients that read the value meanwhile; replies that
//! show no data (`PING`, `INFO`, writes refused with `MISCONF`) and reads
//! with nothing pending are not held. Checked under one I/O thread (the
//! end-of-tick commit) and two (the fsync thread).
//!
//! "Not replied yet" is asserted after the server has run the command (its
//! `total_commands_processed` moved) and answered a later round trip on
//! another connection; a reply that is not held is sent in the same poll
//! that ran the command, so the old code fails these tests.

mod aof_support;

use std::io::{Read, Write};
use std::net::{Ipv4Addr, TcpStream};
use std::sync::atomic::Ordering;
use std::time::Duration;

use aof_support::{InProcessServer, faulty_factory, info_field, replay_model, string, wait_until};
use redigo_aof::FaultInjector;
use redigo_aof::faulty_writer::INJECTED_WRITE_ERROR;
use redigo_server::aof::AofOptions;
use redigo_server::aof::inline_fsync::MAX_INLINE_FSYNC;
use redigo_tests::RawConn;

const PATIENCE: Duration = Duration::from_secs(10);

/// A connection whose replies may be held: requests are sent without
/// reading, and whether a reply arrived is checked without blocking.
struct HeldClient(TcpStream);

impl HeldClient {
    fn connect(port: u16) -> HeldClient {
        let stream = TcpStream::connect((Ipv4Addr::LOCALHOST, port)).expect("connect");
        stream.set_nodelay(true).unwrap();
        stream.set_read_timeout(Some(PATIENCE)).unwrap();
        HeldClient(stream)
    }

    fn send(&mut self, args: &[&[u8]]) {
        let mut request = format!("*{}\r\n", args.len()).into_bytes();
        for arg in args {
            request.extend_from_slice(format!("${}\r\n", arg.len()).as_bytes());
            request.extend_from_slice(arg);
            request.extend_from_slice(b"\r\n");
        }
        self.0.write_all(&request).unwrap();
    }

    /// Whether any reply byte has arrived (without waiting).
    fn replied(&self) -> bool {
        self.0.set_nonblocking(true).unwrap();
        let peeked = self.0.peek(&mut [0u8; 1]);
        self.0.set_nonblocking(false).unwrap();
        match peeked {
            Ok(n) => n > 0,
            Err(err) if err.kind() == std::io::ErrorKind::WouldBlock => false,
            Err(err) => panic!("{err}"),
        }
    }

    /// Reads the next reply, which must be `expected`.
    fn expect(&mut self, expected: &[u8]) {
        let mut reply = vec![0u8; expected.len()];
        self.0.read_exact(&mut reply).expect("the reply arrives");
        assert_eq!(
            String::from_utf8_lossy(&reply),
            String::from_utf8_lossy(expected)
        );
    }
}

/// A server with a fault-injecting AOF writer in its own directory. Fields
/// drop in order: held fsyncs are released before the server shuts down.
struct Faulty {
    _release: ReleaseOnDrop,
    server: InProcessServer,
    faults: FaultInjector,
    _dir: tempfile::TempDir,
}

fn start(appendfsync: &str, io_threads: &str) -> Faulty {
    let dir = tempfile::tempdir().unwrap();
    let (factory, injector) = faulty_factory();
    let path = dir.path().join("appendonly.aof").display().to_string();
    let overrides = [
        ("aof-enabled", "yes"),
        ("appendfsync", appendfsync),
        ("aof-path", path.as_str()),
        ("io-threads", io_threads),
    ];
    let options = AofOptions {
        open_writer: factory,
        ..AofOptions::default()
    };
    let server = InProcessServer::start(&overrides, options);
    let faults = injector.lock().unwrap().clone().unwrap();
    Faulty {
        _release: ReleaseOnDrop(faults.clone()),
        server,
        faults,
        _dir: dir,
    }
}

/// Lets held fsyncs through when dropped, so a failing test does not hang
/// in the server's shutdown.
struct ReleaseOnDrop(FaultInjector);

impl Drop for ReleaseOnDrop {
    fn drop(&mut self) {
        self.0.clear();
    }
}

/// Sends `GET key` on `reader` and waits until the server has run it.
fn read_once_run(server: &InProcessServer, reader: &mut HeldClient, key: &[u8]) {
    let processed = || {
        server
            .state
            .stats
            .total_commands_processed
            .load(Ordering::Relaxed)
    };
    let before = processed();
    reader.send(&[b"GET", key]);
    assert!(
        wait_until(PATIENCE, || processed() > before),
        "the server ran the GET"
    );
}

#[test]
fn a_failed_write_holds_its_reply_and_every_read_of_it_until_the_retry_succeeds() {
    let misconf = format!("-MISCONF Errors writing to the AOF file: {INJECTED_WRITE_ERROR}\r\n");
    for io_threads in ["1", "2"] {
        for policy in ["always", "everysec", "no"] {
            let context = format!("{policy}, io-threads {io_threads}");
            let Faulty { server, faults, .. } = &start(policy, io_threads);
            let aof = server.aof();
            let mut other = RawConn::connect(server.port);
            assert_eq!(other.command(&[b"SET", b"k", b"old"]), b"+OK\r\n");

            // The disk is full: the record of this SET cannot be written.
            faults.fail_next_writes(u32::MAX);
            let mut writer = HeldClient::connect(server.port);
            writer.send(&[b"SET", b"k", b"new"]);
            assert!(
                wait_until(PATIENCE, || aof.write_error().is_some()),
                "{context}: the write failed"
            );
            assert!(faults.write_failures() >= 1, "{context}: the fault fired");
            // Another client reads the new value from memory.
            let mut reader = HeldClient::connect(server.port);
            read_once_run(server, &mut reader, b"k");
            // Replies that show no data are not held: new writes are
            // refused, and the failure can be diagnosed.
            assert_eq!(
                other.command(&[b"SET", b"x", b"y"]),
                misconf.as_bytes(),
                "{context}"
            );
            assert_eq!(
                info_field(
                    &other.command(&[b"INFO", b"persistence"]),
                    "aof_last_write_status"
                )
                .as_deref(),
                Some("err"),
                "{context}"
            );
            assert!(
                !writer.replied(),
                "{context}: the SET was acknowledged before its record was in the file"
            );
            assert!(
                !reader.replied(),
                "{context}: a reader saw a write that was not in the file"
            );

            // The disk recovers: the writer thread's retry releases both.
            faults.clear();
            writer.expect(b"+OK\r\n");
            reader.expect(b"$3\r\nnew\r\n");
            let model = replay_model(aof.path());
            assert_eq!(
                model.get(&(0, b"k".to_vec())).map(|(value, _)| value),
                Some(&string(b"new")),
                "{context}: what was seen is in the file"
            );
        }
    }
}

#[test]
fn under_always_a_read_waits_for_the_fsync_of_the_write_it_saw() {
    for io_threads in ["1", "2"] {
        let context = format!("io-threads {io_threads}");
        let Faulty { server, faults, .. } = &start("always", io_threads);
        let aof = server.aof();
        let mut other = RawConn::connect(server.port);
        assert_eq!(other.command(&[b"SET", b"k", b"old"]), b"+OK\r\n");
        // One slow fsync sends fsyncs to the fsync thread (see
        // `inline_fsync`), so holding one below does not hold the runtime
        // thread, and with it every reply, as Redis's fsync would.
        faults.stall_next_syncs(1, MAX_INLINE_FSYNC + Duration::from_millis(20));
        assert_eq!(other.command(&[b"SET", b"slow", b"v"]), b"+OK\r\n");

        // The fsync that would make the next write durable never ends.
        faults.hold_syncs();
        let mut writer = HeldClient::connect(server.port);
        writer.send(&[b"SET", b"k", b"new"]);
        assert!(
            wait_until(PATIENCE, || faults.syncs_held().0 == 1),
            "{context}: the fsync covering the write is held"
        );
        let mut reader = HeldClient::connect(server.port);
        read_once_run(server, &mut reader, b"k");
        assert_eq!(other.command(&[b"PING"]), b"+PONG\r\n", "{context}");
        assert!(!writer.replied(), "{context}: acknowledged before fsynced");
        assert!(
            !reader.replied(),
            "{context}: a reader saw a write that a crash could still lose"
        );

        faults.release_syncs();
        writer.expect(b"+OK\r\n");
        reader.expect(b"$3\r\nnew\r\n");
        assert!(aof.committed() >= aof.queued_seq(), "{context}");
    }
}

#[test]
fn a_read_with_nothing_pending_is_answered_while_fsyncs_hang() {
    for io_threads in ["1", "2"] {
        let context = format!("io-threads {io_threads}");
        let Faulty { server, faults, .. } = &start("always", io_threads);
        let aof = server.aof();
        let mut conn = RawConn::connect(server.port);
        assert_eq!(conn.command(&[b"SET", b"k", b"v"]), b"+OK\r\n");
        assert!(aof.committed() >= aof.queued_seq(), "{context}");

        // Any fsync from now on hangs: a read that waited for one, or for
        // anything the AOF does, would never be answered.
        faults.hold_syncs();
        let fsyncs = aof.fsyncs();
        let mut reader = RawConn::connect(server.port);
        for _ in 0..10 {
            assert_eq!(reader.command(&[b"GET", b"k"]), b"$1\r\nv\r\n", "{context}");
            assert_eq!(reader.command(&[b"EXISTS", b"k", b"nope"]), b":1\r\n");
        }
        assert_eq!(
            faults.syncs_held(),
            (0, 0),
            "{context}: no fsync was attempted"
        );
        assert_eq!(aof.fsyncs(), fsyncs, "{context}");
    }
}

/// A client whose reply a failing disk holds can still be closed with
/// `CLIENT KILL`: the write path's every wait is cancellable, the hold too.
#[test]
fn client_kill_closes_a_client_held_by_a_failing_disk() {
    let Faulty { server, faults, .. } = &start("everysec", "1");
    let mut admin = RawConn::connect(server.port);
    let mut held = HeldClient::connect(server.port);
    held.send(&[b"CLIENT", b"ID"]);
    let mut id = String::new();
    let mut byte = [0u8; 1];
    while !id.ends_with("\r\n") {
        held.0.read_exact(&mut byte).unwrap();
        id.push(byte[0] as char);
    }
    let id = id.trim_start_matches(':').trim_end().to_string();

    faults.fail_next_writes(u32::MAX);
    held.send(&[b"SET", b"k", b"v"]);
    assert!(
        wait_until(PATIENCE, || faults.fired().writes_failed >= 1),
        "the write failed"
    );
    assert!(!held.replied(), "the reply is held");
    assert_eq!(
        admin.command(&[b"CLIENT", b"KILL", b"ID", id.as_bytes()]),
        b":1\r\n"
    );
    let mut rest = Vec::new();
    held.0
        .read_to_end(&mut rest)
        .expect("closed, not timed out");
    assert!(rest.is_empty(), "nothing was sent: {rest:?}");
    assert!(
        wait_until(PATIENCE, || {
            let list = admin.command(&[b"CLIENT", b"LIST"]);
            !String::from_utf8_lossy(&list).contains(&format!("id={id} "))
        }),
        "the client is gone from CLIENT LIST"
    );
}

/// A blocked client served by a push shows the pop the serve wrote: its
/// reply waits for the fsync of that write as the pusher's does (served
/// replies only skip their connection's wake-up with the AOF off; see
/// `crates/server/src/delivery.rs`).
#[test]
fn under_always_a_served_pop_waits_for_the_fsync_of_its_write() {
    for io_threads in ["1", "2"] {
        let context = format!("io-threads {io_threads}");
        let Faulty { server, faults, .. } = &start("always", io_threads);
        let mut other = RawConn::connect(server.port);
        // As above: fsyncs go to the fsync thread, so a held one holds
        // only the replies that wait for it.
        faults.stall_next_syncs(1, MAX_INLINE_FSYNC + Duration::from_millis(20));
        assert_eq!(other.command(&[b"SET", b"slow", b"v"]), b"+OK\r\n");

        let mut consumer = HeldClient::connect(server.port);
        consumer.send(&[b"BLPOP", b"q", b"0"]);
        assert!(
            wait_until(PATIENCE, || {
                info_field(&other.command(&[b"INFO", b"clients"]), "blocked_clients").as_deref()
                    == Some("1")
            }),
            "{context}: the consumer blocked"
        );
        faults.hold_syncs();
        let mut pusher = HeldClient::connect(server.port);
        pusher.send(&[b"RPUSH", b"q", b"job"]);
        assert!(
            wait_until(PATIENCE, || faults.syncs_held().0 == 1),
            "{context}: the fsync covering the push and the pop is held"
        );
        assert_eq!(other.command(&[b"PING"]), b"+PONG\r\n", "{context}");
        assert!(
            !pusher.replied(),
            "{context}: push acknowledged before fsynced"
        );
        assert!(
            !consumer.replied(),
            "{context}: the served pop was sent before it was fsynced"
        );

        faults.release_syncs();
        pusher.expect(b":1\r\n");
        consumer.expect(b"*2\r\n$1\r\nq\r\n$3\r\njob\r\n");
    }
}
