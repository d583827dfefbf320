//! File-format compatibility with Redis 7.0, checked against the real tools:
//! `redis-check-aof` accepts what Redigo writes and reports the same figures
//! as [`redigo_aof::check`], `redis-server` loads it, and Redigo replays the
//! AOF files `redis-server` writes.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

use bytes::{Bytes, BytesMut};
use redigo_aof::{AofWriter, FileAofWriter, FsyncPolicy, Record, Replay, check};

/// A binary value with everything that would break a line-based format.
const BINARY_VALUE: &[u8] = b"line1\r\nline2\0end\r";

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_millis() as u64
}

/// Runs `redis-check-aof [args] file` and returns (success, stdout).
fn redis_check_aof(args: &[&str], file: &Path) -> (bool, String) {
    let out = Command::new("redis-check-aof")
        .args(args)
        .arg(file)
        .output()
        .expect("run redis-check-aof");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

/// Writes an AOF the way the server will: several databases, deadlines as
/// PXAT/PEXPIREAT, DELs, binary values, in two batches.
fn write_redigo_aof(path: &Path, deadline_ms: u64) {
    let mut writer = FileAofWriter::open(path, FsyncPolicy::Always).expect("open aof");
    let mut batch = BytesMut::new();
    for record in [
        Record::select(0),
        Record::set("plain", "value"),
        Record::set("bin", BINARY_VALUE),
        Record::set_with_deadline("session", "s1", deadline_ms),
        Record::set("doomed", "x"),
        Record::del("doomed"),
        Record::set_with_deadline("stale", "old", 1_000),
    ] {
        record.encode(&mut batch);
    }
    writer.append(&batch).expect("first batch");
    batch.clear();
    for record in [
        Record::select(3),
        Record::set("in3", "three"),
        Record::pexpireat("in3", deadline_ms),
        Record::set_keep_ttl("float", "1.5"),
        Record::select(0),
        Record::set("last", "0"),
    ] {
        record.encode(&mut batch);
    }
    writer.append(&batch).expect("second batch");
    assert!(writer.status().is_ok());
}

fn bulk_reply(value: &[u8]) -> Vec<u8> {
    let mut out = format!("${}\r\n", value.len()).into_bytes();
    out.extend_from_slice(value);
    out.extend_from_slice(b"\r\n");
    out
}

/// Parses `:<n>\r\n`.
fn integer_reply(reply: &[u8]) -> i64 {
    let text = std::str::from_utf8(reply).expect("utf-8 reply");
    text.strip_prefix(':')
        .and_then(|t| t.strip_suffix("\r\n"))
        .and_then(|t| t.parse().ok())
        .unwrap_or_else(|| panic!("not an integer reply: {text:?}"))
}

/// A scratch directory removed on drop (the oracle removes only its own).
struct ScratchDir(PathBuf);

impl ScratchDir {
    fn new(tag: &str) -> ScratchDir {
        let dir = std::env::temp_dir().join(format!(
            "redigo-aof-{tag}-{}-{}",
            std::process::id(),
            redigo_tests::free_port()
        ));
        std::fs::create_dir_all(&dir).expect("create scratch dir");
        ScratchDir(dir)
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn redigo_aof_passes_redis_check_aof() {
    if !redigo_tests::tool_available("redis-check-aof") {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("appendonly.aof");
    write_redigo_aof(&path, now_ms() + 3_600_000);

    let (ok, out) = redis_check_aof(&[], &path);
    assert!(ok, "redis-check-aof rejected a Redigo AOF:\n{out}");
    let report = check(&path).expect("check");
    assert!(report.is_valid(), "{report:?}");
    assert_eq!(report.commands, 13);
    let name = path.to_str().expect("utf-8 path");
    assert!(
        out.contains(&report.analyzed_line(name)),
        "redigo: {}\nredis-check-aof:\n{out}",
        report.analyzed_line(name)
    );
    assert!(out.contains(&report.verdict_line(name)), "{out}");
}

#[test]
fn redis_server_loads_a_redigo_aof() {
    if !redigo_tests::tool_available("redis-server") {
        return;
    }
    let dir = ScratchDir::new("load");
    let deadline_ms = now_ms() + 3_600_000;
    write_redigo_aof(&dir.0.join("appendonly.aof"), deadline_ms);

    let Some(redis) = redigo_tests::oracle_loading_aof(&dir.0) else {
        return;
    };
    let mut conn = redis.connect();
    redigo_tests::wait_until_loaded(&mut conn);
    assert_eq!(conn.command(&[b"GET", b"plain"]), bulk_reply(b"value"));
    assert_eq!(conn.command(&[b"GET", b"bin"]), bulk_reply(BINARY_VALUE));
    assert_eq!(conn.command(&[b"GET", b"session"]), bulk_reply(b"s1"));
    assert_eq!(conn.command(&[b"EXISTS", b"doomed"]), b":0\r\n");
    assert_eq!(
        conn.command(&[b"EXISTS", b"stale"]),
        b":0\r\n",
        "deadline in 1970"
    );
    assert_eq!(conn.command(&[b"GET", b"last"]), bulk_reply(b"0"));
    assert_eq!(conn.command(&[b"PTTL", b"plain"]), b":-1\r\n");

    // The deadline survives as an absolute time.
    let expire_time = integer_reply(&conn.command(&[b"PEXPIRETIME", b"session"]));
    assert_eq!(expire_time, deadline_ms as i64);
    let pttl = integer_reply(&conn.command(&[b"PTTL", b"session"]));
    assert!((1..=3_600_000).contains(&pttl), "PTTL {pttl}");
    let expire_time = integer_reply(&conn.command(&[b"PEXPIRETIME", b"in3"]));
    assert_eq!(expire_time, -2, "in3 lives in database 3, not 0");

    assert_eq!(conn.command(&[b"SELECT", b"3"]), b"+OK\r\n");
    assert_eq!(conn.command(&[b"GET", b"in3"]), bulk_reply(b"three"));
    let expire_time = integer_reply(&conn.command(&[b"PEXPIRETIME", b"in3"]));
    assert_eq!(expire_time, deadline_ms as i64);
    assert_eq!(conn.command(&[b"GET", b"float"]), bulk_reply(b"1.5"));
    assert_eq!(conn.command(&[b"DBSIZE"]), b":2\r\n");
    assert_eq!(conn.command(&[b"SELECT", b"0"]), b"+OK\r\n");
    assert_eq!(conn.command(&[b"DBSIZE"]), b":4\r\n");

    assert!(
        dir.0.join("appendonlydir").join("appendonly.aof").exists(),
        "Redis migrated the file into its AOF directory"
    );
}

/// The files of a Redis 7.0 multi-part AOF, in load order, from its manifest.
fn manifest_files(aof_dir: &Path) -> Vec<PathBuf> {
    let manifest =
        std::fs::read_to_string(aof_dir.join("appendonly.aof.manifest")).expect("read manifest");
    let mut base = Vec::new();
    let mut incr = Vec::new();
    for line in manifest.lines() {
        // `file <name> seq <n> type <b|i|h>`
        let fields: Vec<&str> = line.split_whitespace().collect();
        let field = |key: &str| {
            fields
                .iter()
                .position(|f| *f == key)
                .and_then(|i| fields.get(i + 1))
                .copied()
        };
        let (Some(name), Some(kind)) = (field("file"), field("type")) else {
            continue;
        };
        match kind {
            "b" => base.push(aof_dir.join(name)),
            "i" => incr.push(aof_dir.join(name)),
            _ => {}
        }
    }
    base.into_iter().chain(incr).collect()
}

#[test]
fn redigo_replays_the_aof_redis_writes() {
    let Some(redis) = redigo_tests::oracle_with_args(&[
        "--appendonly",
        "yes",
        "--aof-use-rdb-preamble",
        "no",
        "--appendfsync",
        "always",
    ]) else {
        return;
    };
    let mut conn = redis.connect();
    redigo_tests::wait_until_loaded(&mut conn);
    let deadline_ms = now_ms() + 600_000;
    let deadline = deadline_ms.to_string();
    let replies = [
        conn.command(&[b"SET", b"k", b"v"]),
        conn.command(&[b"SET", b"bin", BINARY_VALUE]),
        conn.command(&[b"SET", b"e", b"v", b"EX", b"100"]),
        conn.command(&[b"PEXPIREAT", b"k", deadline.as_bytes()]),
        conn.command(&[b"INCRBYFLOAT", b"f", b"1.5"]),
        conn.command(&[b"SELECT", b"5"]),
        conn.command(&[b"RPUSH", b"list", b"a", b"b"]),
        conn.command(&[b"DEL", b"list"]),
    ];
    assert_eq!(replies[0], b"+OK\r\n");
    assert_eq!(replies[7], b":1\r\n");

    // Redis writes the AOF before it replies, so the files are complete now.
    let files = manifest_files(&redis.dir().join("appendonlydir"));
    assert!(files.len() >= 2, "a base and an incr file: {files:?}");
    let mut commands: Vec<Vec<Bytes>> = Vec::new();
    for file in &files {
        for entry in Replay::open(file).expect("open aof part") {
            let entry = entry.unwrap_or_else(|e| panic!("{}: {e}", file.display()));
            commands.push(entry.args);
        }
        assert!(check(file).expect("check").is_valid());
    }
    let expected: Vec<Vec<&[u8]>> = vec![
        vec![b"SELECT", b"0"],
        vec![b"SET", b"k", b"v"],
        vec![b"SET", b"bin", BINARY_VALUE],
        vec![b"SET", b"e", b"v", b"PXAT"],
        vec![b"PEXPIREAT", b"k", deadline.as_bytes()],
        vec![b"SET", b"f", b"1.5", b"KEEPTTL"],
        vec![b"SELECT", b"5"],
        vec![b"RPUSH", b"list", b"a", b"b"],
        vec![b"DEL", b"list"],
    ];
    assert_eq!(commands.len(), expected.len(), "{commands:?}");
    for (got, want) in commands.iter().zip(&expected) {
        // Redis keeps the client's spelling of the command name.
        assert!(got[0].eq_ignore_ascii_case(want[0]), "{got:?} vs {want:?}");
        assert_eq!(got[1..want.len()], want[1..], "{got:?}");
    }
    // SET ... EX 100 became an absolute deadline about 100 s from now.
    let pxat: u64 = std::str::from_utf8(&commands[3][4])
        .expect("utf-8")
        .parse()
        .expect("deadline");
    let now = now_ms();
    assert!(
        (now + 50_000..=now + 100_000).contains(&pxat),
        "PXAT {pxat}, now {now}"
    );
}

/// For the `redis-check-aof` comparisons: a scratch directory holding a
/// valid Redigo AOF, and its bytes (`None` without the tool, outside CI).
fn good_aof_for_check() -> Option<(tempfile::TempDir, Vec<u8>)> {
    if !redigo_tests::tool_available("redis-check-aof") {
        return None;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let good = dir.path().join("good.aof");
    write_redigo_aof(&good, 4_102_444_800_000);
    let bytes = std::fs::read(&good).expect("read aof");
    Some((dir, bytes))
}

#[test]
fn check_reports_match_redis_check_aof_for_damaged_files() {
    let Some((dir, bytes)) = good_aof_for_check() else {
        return;
    };

    let mut damaged: Vec<(String, Vec<u8>)> = Vec::new();
    // Cut short at a spread of offsets, including inside headers and bulks.
    for cut in (1..bytes.len()).step_by(7) {
        damaged.push((format!("cut{cut}.aof"), bytes[..cut].to_vec()));
    }
    // A stray byte where a record should start, and a broken CRLF.
    let second = Replay::new(&bytes[..])
        .nth(1)
        .expect("2nd")
        .expect("ok")
        .offset as usize;
    let mut stray = bytes.clone();
    stray[second] = b'X';
    damaged.push(("stray.aof".into(), stray));
    let mut crlf = bytes.clone();
    crlf[second - 1] = b'?';
    damaged.push(("crlf.aof".into(), crlf));
    // Transactions: one left open at the end, one nested.
    let multi = Record::new("MULTI").to_bytes();
    let set = Record::set("t", "1").to_bytes();
    damaged.push(("open-multi.aof".into(), [&bytes[..], &multi, &set].concat()));
    damaged.push((
        "nested-multi.aof".into(),
        [&bytes[..], &multi, &set, &multi, &set].concat(),
    ));

    for (name, content) in damaged {
        let path = dir.path().join(&name);
        std::fs::write(&path, &content).expect("write damaged aof");
        let (ok, out) = redis_check_aof(&[], &path);
        let report = check(&path).expect("check");
        let shown = path.to_str().expect("utf-8 path");
        assert_eq!(ok, report.is_valid(), "{name}: {report:?}\n{out}");
        assert!(
            out.contains(&report.analyzed_line(shown)),
            "{name}:\nredigo:          {}\nredis-check-aof: {out}",
            report.analyzed_line(shown)
        );
        // Same first, next-to-last and last lines as the real tool.
        let theirs: Vec<&str> = out.lines().collect();
        let ours = report.output_lines(shown);
        assert_eq!(
            theirs.first().copied(),
            ours.first().map(String::as_str),
            "{name}"
        );
        assert_eq!(theirs[theirs.len() - 2..], ours[ours.len() - 2..], "{name}");
    }
}

#[test]
fn fix_truncates_like_redis_check_aof_fix() {
    let Some((dir, bytes)) = good_aof_for_check() else {
        return;
    };
    let cut = bytes.len() - 5;
    let ours = dir.path().join("ours.aof");
    let theirs = dir.path().join("theirs.aof");
    std::fs::write(&ours, &bytes[..cut]).expect("write");
    std::fs::write(&theirs, &bytes[..cut]).expect("write");

    let out = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "echo y | redis-check-aof --fix '{}'",
            theirs.display()
        ))
        .output()
        .expect("run redis-check-aof --fix");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");

    let mut shown_plan = None;
    let outcome = redigo_aof::fix(&ours, |plan| {
        shown_plan = Some(*plan);
        true
    })
    .expect("fix");
    let plan = shown_plan.expect("confirmation asked");
    assert!(
        stdout.contains(&plan.shrink_line(theirs.to_str().expect("utf-8"))),
        "{stdout}\nredigo: {}",
        plan.shrink_line(theirs.to_str().expect("utf-8"))
    );
    assert!(matches!(outcome, redigo_aof::FixOutcome::Truncated { .. }));
    let result = outcome.result_line(theirs.to_str().expect("utf-8"));
    // The prompt has no newline of its own, so the answer line follows it.
    let last = stdout.lines().last().unwrap_or_default();
    assert_eq!(
        last.strip_prefix(redigo_aof::check::CONTINUE_PROMPT),
        Some(result.as_str()),
        "{stdout}"
    );
    assert_eq!(
        std::fs::read(&ours).expect("read fixed"),
        std::fs::read(&theirs).expect("read fixed by redis")
    );
    assert!(check(&ours).expect("check").is_valid());
}

#[test]
fn redis_server_truncates_a_torn_redigo_aof_where_replay_says() {
    if !redigo_tests::tool_available("redis-server") {
        return;
    }
    let mut file = BytesMut::new();
    Record::select(0).encode(&mut file);
    Record::set("kept", "yes").encode(&mut file);
    let last_start = file.len();
    Record::set("torn", "a\r\nlong enough value").encode(&mut file);
    // Cut inside the header, inside a bulk, and just before the final LF.
    for cut in [last_start + 2, last_start + 20, file.len() - 1] {
        let torn = &file[..cut];
        let valid_len = match Replay::new(torn).nth(2) {
            Some(Err(redigo_aof::ReplayError::Truncated { valid_len, .. })) => valid_len,
            other => panic!("cut at {cut}: expected Truncated, got {other:?}"),
        };
        assert_eq!(valid_len, last_start as u64);

        let dir = ScratchDir::new("torn");
        std::fs::write(dir.0.join("appendonly.aof"), torn).expect("write torn aof");
        let Some(redis) = redigo_tests::oracle_loading_aof(&dir.0) else {
            return;
        };
        let mut conn = redis.connect();
        redigo_tests::wait_until_loaded(&mut conn);
        assert_eq!(conn.command(&[b"GET", b"kept"]), bulk_reply(b"yes"));
        assert_eq!(
            conn.command(&[b"EXISTS", b"torn"]),
            b":0\r\n",
            "cut at {cut}"
        );
        // aof-load-truncated (on by default) cut the file at the same offset.
        let loaded = dir.0.join("appendonlydir").join("appendonly.aof");
        let len = std::fs::metadata(&loaded).expect("migrated aof").len();
        assert_eq!(len, valid_len, "cut at {cut}");
    }
}
