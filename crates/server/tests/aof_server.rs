//! The AOF inside a running server: MISCONF replies while the disk fails
//! and recovery, group commit across connections, `BGREWRITEAOF` replies,
//! `INFO persistence`, `CONFIG SET appendfsync`.

mod aof_support;

use std::time::Duration;

use aof_support::{
    InProcessServer, faulty_factory, info_field, replay_model, slow_disk_factory, string,
    wait_until,
};
use redigo_aof::faulty_writer::INJECTED_WRITE_ERROR;
use redigo_server::aof::AofOptions;
use redigo_tests::RawConn;

const PATIENCE: Duration = Duration::from_secs(10);

fn aof_overrides(dir: &std::path::Path, appendfsync: &'static str) -> Vec<(&'static str, String)> {
    vec![
        ("aof-enabled", "yes".to_string()),
        ("appendfsync", appendfsync.to_string()),
        (
            "aof-path",
            dir.join("sub").join("appendonly.aof").display().to_string(),
        ),
    ]
}

fn start(dir: &std::path::Path, appendfsync: &'static str, options: AofOptions) -> InProcessServer {
    let overrides = aof_overrides(dir, appendfsync);
    let pairs: Vec<(&str, &str)> = overrides.iter().map(|(k, v)| (*k, v.as_str())).collect();
    InProcessServer::start(&pairs, options)
}

fn info(conn: &mut RawConn) -> Vec<u8> {
    conn.command(&[b"INFO", b"persistence"])
}

#[test]
fn misconf_while_writes_fail_replies_wait_for_the_file_and_the_server_recovers() {
    let dir = tempfile::tempdir().unwrap();
    let (factory, injector) = faulty_factory();
    let options = AofOptions {
        open_writer: factory,
        ..AofOptions::default()
    };
    let server = start(dir.path(), "everysec", options);
    let faults = injector.lock().unwrap().clone().unwrap();
    let mut conn = RawConn::connect(server.port);
    assert_eq!(conn.command(&[b"SET", b"k", b"v"]), b"+OK\r\n");
    let aof = server.aof();
    assert!(
        wait_until(PATIENCE, || aof.current_size() > 0 && aof.buffer_len() == 0),
        "the first write reached the file before the disk fails"
    );

    faults.fail_next_writes(u32::MAX);
    // Accepted (the failure is only known once the writer tries), but
    // acknowledged only once its record is in the file: after recovery.
    let mut pending = RawConn::connect(server.port);
    pending.send(b"*3\r\n$3\r\nSET\r\n$7\r\npending\r\n$1\r\n1\r\n");
    assert!(
        wait_until(PATIENCE, || aof.write_error().is_some()),
        "the write failed"
    );
    let misconf = format!("-MISCONF Errors writing to the AOF file: {INJECTED_WRITE_ERROR}\r\n");
    assert_eq!(
        conn.command(&[b"SET", b"x", b"y"]),
        misconf.as_bytes(),
        "writes are refused with MISCONF"
    );
    assert_eq!(conn.command(&[b"PING"]), misconf.as_bytes(), "as in Redis");
    assert_eq!(
        info_field(&info(&mut conn), "aof_last_write_status").as_deref(),
        Some("err")
    );
    // A read could show `pending`, which a crash would lose: it waits too
    // (see `aof_reply_hold.rs`), on its own connection.
    let mut reader = RawConn::connect(server.port);
    reader.send(b"*2\r\n$3\r\nGET\r\n$7\r\npending\r\n");

    assert!(
        faults.fired().writes_failed >= 1,
        "the injected failure fired"
    );
    faults.clear();
    assert_eq!(pending.read_reply(), b"+OK\r\n", "released by the retry");
    assert_eq!(reader.read_reply(), b"$1\r\n1\r\n", "reads work again");
    assert!(
        wait_until(PATIENCE, || conn.command(&[b"SET", b"after", b"2"])
            == b"+OK\r\n"),
        "the server recovers by itself"
    );
    assert_eq!(
        info_field(&info(&mut conn), "aof_last_write_status").as_deref(),
        Some("ok")
    );
    drop(conn);
    let path = dir.path().join("sub").join("appendonly.aof");
    drop(server);
    let model = replay_model(&path);
    let keys: Vec<_> = model
        .keys()
        .map(|(_, k)| String::from_utf8_lossy(k).into_owned())
        .collect();
    assert_eq!(
        keys,
        ["after", "k", "pending"],
        "nothing acknowledged is lost"
    );
}

#[test]
fn concurrent_clients_share_fsyncs_under_always() {
    const CLIENTS: usize = 8;
    const WRITES: usize = 40;
    // One I/O thread commits at the end of each runtime tick, more leave it
    // to the fsync thread: both must group.
    for io_threads in ["1", "2"] {
        let dir = tempfile::tempdir().unwrap();
        let mut overrides = aof_overrides(dir.path(), "always");
        overrides.push(("io-threads", io_threads.to_string()));
        let pairs: Vec<(&str, &str)> = overrides.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let options = AofOptions {
            open_writer: slow_disk_factory(),
            ..AofOptions::default()
        };
        let server = InProcessServer::start(&pairs, options);
        let port = server.port;
        let clients: Vec<_> = (0..CLIENTS)
            .map(|c| {
                std::thread::spawn(move || {
                    let mut conn = RawConn::connect(port);
                    for n in 0..WRITES {
                        let key = format!("c{c}:{n}");
                        assert_eq!(conn.command(&[b"SET", key.as_bytes(), b"v"]), b"+OK\r\n");
                    }
                })
            })
            .collect();
        for client in clients {
            client.join().unwrap();
        }
        let mut conn = RawConn::connect(port);
        let info = info(&mut conn);
        let fsyncs: u64 = info_field(&info, "aof_fsyncs").unwrap().parse().unwrap();
        let writes = (CLIENTS * WRITES) as u64;
        println!("io-threads {io_threads}: {writes} acknowledged writes, {fsyncs} fsyncs");
        assert!(
            fsyncs >= 1 && fsyncs * 2 <= writes,
            "io-threads {io_threads}: {fsyncs} fsyncs for {writes} writes"
        );
        assert_eq!(info_field(&info, "aof_enabled").as_deref(), Some("1"));
        assert_eq!(info_field(&info, "aof_buffer_length").as_deref(), Some("0"));
        let size: u64 = info_field(&info, "aof_current_size")
            .unwrap()
            .parse()
            .unwrap();
        assert!(size > 0);
        let path = dir.path().join("sub").join("appendonly.aof");
        assert_eq!(replay_model(&path).len(), CLIENTS * WRITES);
    }
}

#[test]
fn bgrewriteaof_replies_as_redis_and_info_follows_the_rewrite() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), "everysec", AofOptions::default());
    let mut conn = RawConn::connect(server.port);
    for n in 0..200 {
        let key = format!("k{}", n % 20);
        assert_eq!(conn.command(&[b"SET", key.as_bytes(), b"v"]), b"+OK\r\n");
    }
    let first = conn.command(&[b"BGREWRITEAOF"]);
    assert_eq!(first, b"+Background append only file rewriting started\r\n");
    // A second request while it runs is refused, or starts a new one if the
    // first already finished.
    let second = conn.command(&[b"BGREWRITEAOF"]);
    assert!(
        second == b"-ERR Background append only file rewriting already in progress\r\n"
            || second == first,
        "{}",
        String::from_utf8_lossy(&second)
    );
    assert!(wait_until(PATIENCE, || {
        let info = info(&mut conn);
        info_field(&info, "aof_rewrite_in_progress").as_deref() == Some("0")
            && info_field(&info, "aof_rewrites").is_some_and(|n| n != "0")
    }));
    let info = info(&mut conn);
    assert_eq!(
        info_field(&info, "aof_last_bgrewrite_status").as_deref(),
        Some("ok")
    );
    assert_eq!(
        info_field(&info, "aof_current_size"),
        info_field(&info, "aof_base_size")
    );

    assert_eq!(
        conn.command(&[b"CONFIG", b"SET", b"appendfsync", b"always"]),
        b"+OK\r\n"
    );
    assert_eq!(server.aof().policy(), redigo_aof::FsyncPolicy::Always);
    assert_eq!(conn.command(&[b"SET", b"last", b"v"]), b"+OK\r\n");
    let path = dir.path().join("sub").join("appendonly.aof");
    drop(conn);
    drop(server);
    assert_eq!(replay_model(&path).len(), 21);
}

#[test]
fn bgrewriteaof_with_the_aof_off_writes_the_dataset_to_the_aof_path() {
    // Redis 7.0 also rewrites with `appendonly no` (a base file that a later
    // start with the AOF on loads); Redigo writes its single file.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sub").join("appendonly.aof");
    let path_text = path.display().to_string();
    let server = InProcessServer::start(&[("aof-path", path_text.as_str())], AofOptions::default());
    let mut conn = RawConn::connect(server.port);
    assert_eq!(conn.command(&[b"SET", b"k", b"v"]), b"+OK\r\n");
    assert_eq!(
        conn.command(&[b"SET", b"ttl", b"v", b"EX", b"1000"]),
        b"+OK\r\n"
    );
    assert_eq!(conn.command(&[b"SELECT", b"3"]), b"+OK\r\n");
    assert_eq!(conn.command(&[b"SET", b"in3", b"x"]), b"+OK\r\n");
    let mine = conn.command(&[b"BGREWRITEAOF"]);
    assert_eq!(mine, b"+Background append only file rewriting started\r\n");
    if let Some(oracle) = redigo_tests::oracle() {
        assert_eq!(oracle.connect().command(&[b"BGREWRITEAOF"]), mine);
    }
    assert!(wait_until(PATIENCE, || {
        info_field(&info(&mut conn), "aof_rewrite_in_progress").as_deref() == Some("0")
    }));
    let report = info(&mut conn);
    assert_eq!(info_field(&report, "aof_enabled").as_deref(), Some("0"));
    assert_eq!(info_field(&report, "aof_rewrites").as_deref(), Some("1"));
    assert_eq!(
        info_field(&report, "aof_last_bgrewrite_status").as_deref(),
        Some("ok")
    );
    assert_eq!(
        info_field(&report, "aof_current_size"),
        None,
        "listed only with the AOF on"
    );
    let model = replay_model(&path);
    assert_eq!(model.len(), 3, "{model:?}");
    assert_eq!(model[&(0, b"k".to_vec())], (string(b"v"), None));
    assert!(
        model[&(0, b"ttl".to_vec())].1.is_some(),
        "absolute deadline"
    );
    assert_eq!(model[&(3, b"in3".to_vec())], (string(b"x"), None));

    // The rewrite count runs on when the AOF is turned on and off, as
    // Redis's does (turning it on is a rewrite too).
    assert_eq!(
        conn.command(&[b"CONFIG", b"SET", b"appendonly", b"yes"]),
        b"+OK\r\n"
    );
    assert!(wait_until(PATIENCE, || {
        let info = info(&mut conn);
        info_field(&info, "aof_rewrite_in_progress").as_deref() == Some("0")
            && info_field(&info, "aof_rewrites").as_deref() == Some("2")
    }));
    assert_eq!(
        conn.command(&[b"CONFIG", b"SET", b"appendonly", b"no"]),
        b"+OK\r\n"
    );
    assert_eq!(
        info_field(&info(&mut conn), "aof_rewrites").as_deref(),
        Some("2")
    );
    drop(conn);
    drop(server);

    // A later start with the AOF on loads it.
    let server = InProcessServer::start(
        &[("aof-path", path_text.as_str()), ("aof-enabled", "yes")],
        AofOptions::default(),
    );
    let mut conn = RawConn::connect(server.port);
    assert_eq!(conn.command(&[b"GET", b"k"]), b"$1\r\nv\r\n");
    assert_eq!(conn.command(&[b"SELECT", b"3"]), b"+OK\r\n");
    assert_eq!(conn.command(&[b"GET", b"in3"]), b"$1\r\nx\r\n");
}

#[test]
fn turning_the_aof_on_stops_a_rewrite_started_while_it_was_off() {
    // The offline rewrite must never rename over the file the live AOF
    // appends to: a write acknowledged after `appendonly yes` survives.
    for round in 0..5 {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("appendonly.aof");
        let path_text = path.display().to_string();
        let server =
            InProcessServer::start(&[("aof-path", path_text.as_str())], AofOptions::default());
        let mut conn = RawConn::connect(server.port);
        for chunk in 0..20 {
            let mut args: Vec<Vec<u8>> = vec![b"MSET".to_vec()];
            for n in 0..1000 {
                args.push(format!("k{chunk}:{n}").into_bytes());
                args.push(b"v".to_vec());
            }
            let args: Vec<&[u8]> = args.iter().map(Vec::as_slice).collect();
            assert_eq!(conn.command(&args), b"+OK\r\n");
        }
        assert_eq!(
            conn.command(&[b"BGREWRITEAOF"]),
            b"+Background append only file rewriting started\r\n"
        );
        if round % 2 == 1 {
            std::thread::sleep(Duration::from_millis(2));
        }
        assert_eq!(
            conn.command(&[b"CONFIG", b"SET", b"appendonly", b"yes"]),
            b"+OK\r\n"
        );
        assert!(wait_until(PATIENCE, || {
            info_field(&info(&mut conn), "aof_rewrite_in_progress").as_deref() == Some("0")
                && !server.state.offline_rewrite().in_progress()
        }));
        assert_eq!(conn.command(&[b"SET", b"after", b"1"]), b"+OK\r\n");
        drop(conn);
        drop(server);
        let model = replay_model(&path);
        assert_eq!(model.len(), 20_001, "round {round}");
        assert_eq!(model[&(0, b"after".to_vec())], (string(b"1"), None));
        assert!(
            !redigo_server::aof::offline_rewrite::offline_temp_path(&path).exists(),
            "the stopped rewrite removed its file"
        );
    }
}

/// The field names of an INFO section, in order.
fn field_names(info: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(info)
        .lines()
        .filter_map(|line| line.split_once(':').map(|(name, _)| name.to_string()))
        .collect()
}

#[test]
fn info_persistence_lists_redis_fields_in_redis_order() {
    let server = InProcessServer::start(&[], AofOptions::default());
    let mine = RawConn::connect(server.port).command(&[b"INFO", b"persistence"]);
    let names = field_names(&mine);
    for name in [
        "current_cow_peak",
        "rdb_saves",
        "aof_rewrites",
        "aof_rewrites_consecutive_failures",
        "module_fork_last_cow_size",
    ] {
        assert!(names.iter().any(|n| n == name), "{name} missing: {names:?}");
    }
    if let Some(oracle) = redigo_tests::oracle() {
        let theirs = oracle.connect().command(&[b"INFO", b"persistence"]);
        assert_eq!(names, field_names(&theirs), "AOF off on both");
    }
}

#[test]
fn aof_counters_run_on_across_a_rewrite_and_config_resetstat_zeroes_them() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), "always", AofOptions::default());
    let mut conn = RawConn::connect(server.port);
    let field = |info: &[u8], name: &str| -> u64 {
        info_field(info, name)
            .unwrap_or_else(|| panic!("no {name}"))
            .parse()
            .unwrap()
    };
    for n in 0..20 {
        let key = format!("k{n}");
        assert_eq!(conn.command(&[b"SET", key.as_bytes(), b"v"]), b"+OK\r\n");
    }
    let before = field(&info(&mut conn), "aof_fsyncs");
    assert!(before >= 1, "always fsyncs before replying");
    assert_eq!(
        conn.command(&[b"BGREWRITEAOF"]),
        b"+Background append only file rewriting started\r\n"
    );
    assert!(wait_until(PATIENCE, || {
        info_field(&info(&mut conn), "aof_rewrite_in_progress").as_deref() == Some("0")
    }));
    let after = info(&mut conn);
    assert_eq!(field(&after, "aof_rewrites"), 1);
    assert_eq!(field(&after, "aof_rewrites_consecutive_failures"), 0);
    assert!(
        field(&after, "aof_fsyncs") >= before,
        "the rewrite's new file does not restart the count"
    );

    assert_eq!(conn.command(&[b"CONFIG", b"RESETSTAT"]), b"+OK\r\n");
    let reset = info(&mut conn);
    assert_eq!(field(&reset, "aof_rewrites"), 0);
    assert_eq!(field(&reset, "aof_fsyncs"), 0);
    assert_eq!(field(&reset, "aof_delayed_fsync"), 0);
    assert_eq!(conn.command(&[b"SET", b"again", b"v"]), b"+OK\r\n");
    assert!(
        field(&info(&mut conn), "aof_fsyncs") >= 1,
        "counting resumes"
    );
}

#[test]
fn an_acknowledged_write_is_in_the_file_when_the_reply_arrives() {
    // A process crash right after a reply must not lose the write under any
    // policy: the record is written (fsynced too under `always`) before the
    // reply goes out, so reading the file right after the reply finds it.
    // One I/O thread commits at the end of each runtime tick, more leave
    // `always` to the fsync thread: both are checked.
    for io_threads in ["1", "2"] {
        for policy in ["always", "everysec", "no"] {
            let dir = tempfile::tempdir().unwrap();
            let mut overrides = aof_overrides(dir.path(), policy);
            overrides.push(("io-threads", io_threads.to_string()));
            let pairs: Vec<(&str, &str)> =
                overrides.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let server = InProcessServer::start(&pairs, AofOptions::default());
            let path = dir.path().join("sub").join("appendonly.aof");
            let mut conn = RawConn::connect(server.port);
            for n in 0..50 {
                let key = format!("k{n}");
                assert_eq!(conn.command(&[b"SET", key.as_bytes(), b"v"]), b"+OK\r\n");
                let model = replay_model(&path);
                assert!(
                    model.contains_key(&(0, key.clone().into_bytes())),
                    "{policy}, io-threads {io_threads}: {key} was acknowledged before it was in the file"
                );
            }
            let info = info(&mut conn);
            let fsyncs: u64 = info_field(&info, "aof_fsyncs").unwrap().parse().unwrap();
            if policy == "always" {
                assert!(fsyncs >= 50, "always fsyncs before each reply: {fsyncs}");
            }
        }
    }
}

#[test]
fn config_set_appendonly_turns_the_aof_on_and_off_at_run_time() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sub").join("appendonly.aof");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    // A stale file from an earlier run: turning the AOF on must replace it
    // with the current dataset, not append to it.
    std::fs::write(&path, redigo_aof::Record::set("stale", "x").to_bytes()).unwrap();
    let overrides = [
        ("aof-enabled", "no"),
        ("appendfsync", "always"),
        ("aof-path", path.to_str().unwrap()),
    ];
    let server = InProcessServer::start(&overrides, AofOptions::default());
    let mut conn = RawConn::connect(server.port);
    for n in 0..100 {
        let key = format!("before:{n}");
        assert_eq!(conn.command(&[b"SET", key.as_bytes(), b"v"]), b"+OK\r\n");
    }
    assert_eq!(
        conn.command(&[b"CONFIG", b"SET", b"appendonly", b"yes"]),
        b"+OK\r\n"
    );
    // Under `always` this reply waits for the first rewrite to be durable.
    assert_eq!(conn.command(&[b"SET", b"during", b"v"]), b"+OK\r\n");
    let done = |conn: &mut RawConn| {
        info_field(&info(conn), "aof_rewrite_in_progress").as_deref() == Some("0")
    };
    assert!(wait_until(PATIENCE, || done(&mut conn)));
    let model = replay_model(&path);
    assert_eq!(model.len(), 101, "the dataset, and no stale record");
    assert!(model.contains_key(&(0, b"during".to_vec())));
    assert!(!model.contains_key(&(0, b"stale".to_vec())));
    assert_eq!(
        info_field(&info(&mut conn), "aof_enabled").as_deref(),
        Some("1")
    );
    assert!(
        !redigo_server::aof::enabling_path(&path).exists(),
        "the side file is gone after the first rewrite"
    );

    assert_eq!(
        conn.command(&[b"CONFIG", b"SET", b"appendonly", b"no"]),
        b"+OK\r\n"
    );
    assert_eq!(
        info_field(&info(&mut conn), "aof_enabled").as_deref(),
        Some("0")
    );
    let size = std::fs::metadata(&path).unwrap().len();
    assert_eq!(conn.command(&[b"SET", b"off", b"v"]), b"+OK\r\n");
    assert_eq!(
        std::fs::metadata(&path).unwrap().len(),
        size,
        "nothing appended while off"
    );

    assert_eq!(
        conn.command(&[b"CONFIG", b"SET", b"aof-enabled", b"yes"]),
        b"+OK\r\n"
    );
    assert!(wait_until(PATIENCE, || done(&mut conn)));
    assert_eq!(conn.command(&[b"SET", b"after", b"v"]), b"+OK\r\n");
    let model = replay_model(&path);
    assert_eq!(
        model.len(),
        103,
        "everything, including what was written while off"
    );
    assert!(model.contains_key(&(0, b"off".to_vec())));
    assert!(model.contains_key(&(0, b"after".to_vec())));
}

#[test]
fn config_set_appendonly_that_cannot_start_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    // The AOF's directory would have to be created inside a regular file.
    let blocker = dir.path().join("not-a-directory");
    std::fs::write(&blocker, b"").unwrap();
    let path = blocker.join("appendonly.aof");
    let overrides = [("aof-enabled", "no"), ("aof-path", path.to_str().unwrap())];
    let server = InProcessServer::start(&overrides, AofOptions::default());
    let mut conn = RawConn::connect(server.port);
    assert_eq!(
        conn.command(&[b"CONFIG", b"SET", b"appendonly", b"yes"]),
        b"-ERR CONFIG SET failed (possibly related to argument 'appendonly') - Unable to turn on AOF. Check server logs.\r\n".as_slice()
    );
    assert_eq!(
        info_field(&info(&mut conn), "aof_enabled").as_deref(),
        Some("0")
    );
    assert_eq!(
        conn.command(&[b"CONFIG", b"GET", b"appendonly"]),
        b"*2\r\n$10\r\nappendonly\r\n$2\r\nno\r\n".as_slice()
    );
    assert_eq!(conn.command(&[b"SET", b"k", b"v"]), b"+OK\r\n");
}
