//! The `redigo` binary: command line, config errors, shutdown by command and
//! by signal, and Redis's own tools (redis-cli, redis-benchmark) against it.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use redigo_tests::{RawConn, free_port, tool_available, wait_for_port};

const BINARY: &str = env!("CARGO_BIN_EXE_redigo");
const STARTUP: Duration = Duration::from_secs(10);
const EXIT_WAIT: Duration = Duration::from_secs(10);

/// A `redigo` process on a free port, killed on drop if still running.
struct Running {
    child: Option<Child>,
    port: u16,
}

impl Running {
    fn start(extra: &[&str]) -> Running {
        let port = free_port();
        let child = Command::new(BINARY)
            .args(["--port", &port.to_string()])
            .args(extra)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn redigo");
        assert!(
            wait_for_port(port, STARTUP),
            "redigo did not start listening"
        );
        Running {
            child: Some(child),
            port,
        }
    }

    #[cfg(unix)]
    fn pid(&self) -> u32 {
        self.child.as_ref().expect("running").id()
    }

    /// Waits for the process to exit; returns its output.
    fn wait_exit(mut self) -> Output {
        let mut child = self.child.take().expect("running");
        let deadline = Instant::now() + EXIT_WAIT;
        while Instant::now() < deadline {
            if child.try_wait().expect("try_wait").is_some() {
                return child.wait_with_output().expect("collect output");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = child.kill();
        let _ = child.wait();
        panic!("redigo did not exit within {EXIT_WAIT:?}");
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn run(args: &[&str]) -> Output {
    Command::new(BINARY)
        .args(args)
        .output()
        .expect("run redigo")
}

fn temp_config(name: &str, text: &str) -> PathBuf {
    let path = std::env::temp_dir().join(format!("redigo-test-{}-{name}.toml", std::process::id()));
    std::fs::File::create(&path)
        .and_then(|mut f| f.write_all(text.as_bytes()))
        .expect("write temp config");
    path
}

#[test]
fn help_lists_every_option() {
    let out = run(&["--help"]);
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    for param in redigo_server::config::params::PARAMS {
        assert!(
            help.contains(&format!("--{}", param.name)),
            "--help lacks {}",
            param.name
        );
    }
    assert!(help.contains("--config"));
}

#[test]
fn config_errors_refuse_to_start_naming_key_value_and_file() {
    let bad_value = temp_config("bad-value", "port = 70000\n");
    let out = run(&["--config", bad_value.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("port") && stderr.contains("70000"),
        "{stderr}"
    );
    assert!(stderr.contains(bad_value.to_str().unwrap()), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");

    let unknown = temp_config("unknown-key", "hz = 10\nsave-every = 5\n");
    let out = run(&["--config", unknown.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("save-every"), "{stderr}");

    let wrong_type = temp_config("wrong-type", "maxclients = \"many\"\n");
    let out = run(&["--config", wrong_type.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("maxclients") && stderr.contains("many"),
        "{stderr}"
    );

    let out = run(&["--hz", "9000"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("hz") && stderr.contains("9000"), "{stderr}");

    let out = run(&["--config", "/nonexistent/redigo.toml"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/redigo.toml"));

    for path in [bad_value, unknown, wrong_type] {
        let _ = std::fs::remove_file(path);
    }
}

#[test]
fn a_port_in_use_is_reported_without_panicking() {
    let first = Running::start(&[]);
    let out = run(&["--port", &first.port.to_string()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("could not listen on 127.0.0.1:"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn the_shipped_config_file_starts_a_server() {
    let shipped = concat!(env!("CARGO_MANIFEST_DIR"), "/../../redigo.toml");
    let server = Running::start(&["--config", shipped]);
    let mut conn = RawConn::connect(server.port);
    let reply = String::from_utf8(conn.roundtrip(b"INFO server\r\n")).unwrap();
    assert!(
        reply.contains("config_file:") && reply.contains("redigo.toml"),
        "{reply}"
    );
}

#[test]
fn shutdown_command_exits_zero() {
    let server = Running::start(&[]);
    let mut conn = RawConn::connect(server.port);
    assert_eq!(conn.roundtrip(b"PING\r\n"), b"+PONG\r\n");
    conn.send(b"SHUTDOWN NOSAVE\r\n");
    assert!(
        conn.is_closed(),
        "SHUTDOWN closes the connection without a reply"
    );
    let out = server.wait_exit();
    assert!(out.status.success(), "{:?}", out.status);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("bye bye"), "{stderr}");
}

#[cfg(unix)]
#[test]
fn sigterm_exits_zero_after_serving() {
    let server = Running::start(&[]);
    let mut conn = RawConn::connect(server.port);
    assert_eq!(conn.roundtrip(b"PING\r\n"), b"+PONG\r\n");
    let status = Command::new("kill")
        .args(["-TERM", &server.pid().to_string()])
        .status()
        .expect("run kill");
    assert!(status.success());
    let out = server.wait_exit();
    assert!(out.status.success(), "{:?}", out.status);
}

/// Redis ignores SIGHUP; by default it would kill the process at once with
/// no final flush.
#[cfg(unix)]
#[test]
fn sighup_is_ignored_and_logged() {
    let server = Running::start(&[]);
    let mut conn = RawConn::connect(server.port);
    assert_eq!(conn.roundtrip(b"PING\r\n"), b"+PONG\r\n");
    for _ in 0..2 {
        let status = Command::new("kill")
            .args(["-HUP", &server.pid().to_string()])
            .status()
            .expect("run kill");
        assert!(status.success());
    }
    // Still serving, on the old connection and on a new one.
    assert_eq!(conn.roundtrip(b"SET k v\r\n"), b"+OK\r\n");
    let mut fresh = RawConn::connect(server.port);
    assert_eq!(fresh.roundtrip(b"GET k\r\n"), b"$1\r\nv\r\n");
    fresh.send(b"SHUTDOWN\r\n");
    assert!(fresh.is_closed());
    let out = server.wait_exit();
    assert!(out.status.success(), "{:?}", out.status);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("Received SIGHUP, ignoring it"), "{stderr}");
}

#[test]
fn redis_cli_one_shot_and_piped_commands_work() {
    if !tool_available("redis-cli") {
        return;
    }
    let server = Running::start(&[]);
    let port = server.port.to_string();
    let out = Command::new("redis-cli")
        .args(["-p", &port, "ping"])
        .output()
        .expect("run redis-cli");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "PONG\n");

    let mut child = Command::new("redis-cli")
        .args(["-p", &port])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn redis-cli");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"PING\nECHO hello\nCLIENT SETNAME cli\nCLIENT GETNAME\nDBSIZE\nNOSUCH\n")
        .unwrap();
    let out = child.wait_with_output().expect("redis-cli output");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        stdout,
        "PONG\nhello\nOK\ncli\n0\nERR unknown command 'NOSUCH', with args beginning with: \n\n"
    );
}

/// `redis-benchmark` tests and the commands each needs; tests whose
/// commands Redigo does not have yet are left out.
const BENCHMARK_TESTS: &[(&str, &[&str])] = &[
    ("ping", &["ping"]),
    ("set", &["set"]),
    ("get", &["get"]),
    ("incr", &["incr"]),
    ("mset", &["mset"]),
];

#[test]
fn redis_benchmark_completes_without_errors() {
    if !tool_available("redis-benchmark") {
        return;
    }
    let table = redigo_server::commands::CommandTable::standard();
    let tests: Vec<&str> = BENCHMARK_TESTS
        .iter()
        .filter(|(_, needs)| needs.iter().all(|n| table.get(n.as_bytes()).is_some()))
        .map(|(test, _)| *test)
        .collect();
    let server = Running::start(&[]);
    let out = Command::new("redis-benchmark")
        .args(["-p", &server.port.to_string(), "-n", "20000", "-q"])
        .args(["-t", &tests.join(",")])
        .output()
        .expect("run redis-benchmark");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    for text in [&stdout, &stderr] {
        assert!(!text.contains("WARNING"), "{text}");
        assert!(!text.contains("ERR"), "{text}");
    }
    // PING runs twice (inline and multibulk); every other test once.
    let finished = stdout.matches("requests per second").count();
    assert_eq!(finished, tests.len() + 1, "{stdout}");
}

/// Polls `INFO persistence` until no AOF rewrite runs.
fn wait_rewrite_done(conn: &mut RawConn) {
    let deadline = Instant::now() + EXIT_WAIT;
    loop {
        let info = String::from_utf8(conn.roundtrip(b"INFO persistence\r\n")).unwrap();
        if info.contains("aof_rewrite_in_progress:0\r\n") && info.contains("aof_rewrites:1\r\n") {
            return;
        }
        assert!(Instant::now() < deadline, "rewrite did not finish: {info}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn the_aof_keeps_data_across_restarts_and_rewrites() {
    let dir = std::env::temp_dir().join(format!("redigo-aof-restart-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let aof = dir.join("appendonly.aof");
    let aof_arg = aof.to_str().unwrap().to_string();
    let args = [
        "--aof-enabled",
        "--aof-path",
        &aof_arg,
        "--appendfsync",
        "always",
    ];

    let server = Running::start(&args);
    let mut conn = RawConn::connect(server.port);
    assert_eq!(conn.roundtrip(b"SET k v\r\n"), b"+OK\r\n");
    assert_eq!(conn.roundtrip(b"INCR n\r\n"), b":1\r\n");
    assert_eq!(conn.roundtrip(b"SELECT 2\r\n"), b"+OK\r\n");
    assert_eq!(conn.roundtrip(b"SET other 1 EX 1000\r\n"), b"+OK\r\n");
    assert_eq!(
        conn.roundtrip(b"BGREWRITEAOF\r\n"),
        b"+Background append only file rewriting started\r\n"
    );
    wait_rewrite_done(&mut conn);
    assert_eq!(conn.roundtrip(b"SET after rewrite\r\n"), b"+OK\r\n");
    conn.send(b"SHUTDOWN\r\n");
    assert!(conn.is_closed());
    assert!(server.wait_exit().status.success());

    let server = Running::start(&args);
    let mut conn = RawConn::connect(server.port);
    assert_eq!(conn.roundtrip(b"GET k\r\n"), b"$1\r\nv\r\n");
    assert_eq!(conn.roundtrip(b"GET n\r\n"), b"$1\r\n1\r\n");
    assert_eq!(conn.roundtrip(b"SELECT 2\r\n"), b"+OK\r\n");
    assert_eq!(conn.roundtrip(b"GET other\r\n"), b"$1\r\n1\r\n");
    let ttl = String::from_utf8(conn.roundtrip(b"TTL other\r\n")).unwrap();
    assert!(ttl.starts_with(":99") || ttl.starts_with(":100"), "{ttl}");
    assert_eq!(conn.roundtrip(b"GET after\r\n"), b"$7\r\nrewrite\r\n");
    let info = String::from_utf8(conn.roundtrip(b"INFO persistence\r\n")).unwrap();
    assert!(info.contains("aof_enabled:1\r\n"), "{info}");
    assert!(info.contains("aof_current_size:"), "{info}");
    drop(server);

    let check = run(&["check-aof", &aof_arg]);
    let stdout = String::from_utf8_lossy(&check.stdout);
    assert!(check.status.success(), "{stdout}");
    assert!(stdout.contains("is valid"), "{stdout}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn io_threads_sets_the_connection_threads_and_is_immutable_as_in_redis() {
    let server = Running::start(&["--io-threads", "3"]);
    let mut conn = RawConn::connect(server.port);
    assert_eq!(
        conn.command(&[b"CONFIG", b"GET", b"io-threads"]),
        b"*2\r\n$10\r\nio-threads\r\n$1\r\n3\r\n".as_slice()
    );
    assert_eq!(
        conn.command(&[b"CONFIG", b"SET", b"io-threads", b"2"]),
        b"-ERR CONFIG SET failed (possibly related to argument 'io-threads') - can't set immutable config\r\n"
            .as_slice()
    );
    #[cfg(target_os = "linux")]
    {
        let tasks = std::fs::read_dir(format!("/proc/{}/task", server.pid())).unwrap();
        let io_threads = tasks
            .filter_map(|task| std::fs::read_to_string(task.ok()?.path().join("comm")).ok())
            .filter(|name| name.trim() == "redigo-io")
            .count();
        assert_eq!(io_threads, 3, "one runtime worker per io-thread");
    }
    let out = run(&["--io-threads", "0"]);
    assert!(!out.status.success(), "0 io-threads is out of range");
}

/// With `ulimit -n` below what `maxclients` needs and no right to raise it,
/// `maxclients` is lowered to the limit minus 32 reserved descriptors with
/// Redis's warnings, and the client past it gets Redis's error instead of
/// hanging in the accept queue.
#[cfg(unix)]
#[test]
fn a_low_open_file_limit_lowers_maxclients_and_refuses_with_an_error() {
    const ULIMIT: u64 = 64;
    let port = free_port();
    let script = format!("ulimit -n {ULIMIT} && exec \"$0\" --port {port} --maxclients 1000");
    let child = Command::new("sh")
        .args(["-c", &script, BINARY])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn redigo under sh");
    assert!(wait_for_port(port, STARTUP), "redigo did not start");
    let server = Running {
        child: Some(child),
        port,
    };
    let maxclients = ULIMIT - 32;
    let mut first = RawConn::connect(port);
    assert_eq!(
        first.roundtrip(b"CONFIG GET maxclients\r\n"),
        format!(
            "*2\r\n$10\r\nmaxclients\r\n${}\r\n{maxclients}\r\n",
            maxclients.to_string().len()
        )
        .into_bytes()
    );
    let mut clients = vec![first];
    while (clients.len() as u64) < maxclients {
        let mut conn = RawConn::connect(port);
        assert_eq!(conn.roundtrip(b"PING\r\n"), b"+PONG\r\n");
        clients.push(conn);
    }
    let mut refused = RawConn::connect(port);
    assert_eq!(
        refused.read_reply(),
        b"-ERR max number of clients reached\r\n"
    );
    assert!(refused.is_closed());
    let mut first = clients.swap_remove(0);
    first.send(b"SHUTDOWN\r\n");
    assert!(first.is_closed());
    drop(clients);
    let out = server.wait_exit();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("You requested maxclients of 1000 requiring at least 1032 max file descriptors.")
            && stderr.contains(&format!(
                "Current maximum open files is {ULIMIT}. maxclients has been reduced to {maxclients} to compensate for low ulimit."
            )),
        "{stderr}"
    );
}
