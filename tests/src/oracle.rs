//! Starting Debian's `redis-server` as a reference implementation.

use std::collections::BTreeSet;
use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::net::{Ipv4Addr, SocketAddrV4, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::RawConn;

/// How long a freshly spawned server gets to start listening.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(10);

/// How long the start-up probe waits for `INFO server`.
const PROBE_TIMEOUT: Duration = Duration::from_secs(5);

/// True when tests must not skip for a missing tool: CI sets `CI`.
pub fn oracle_required() -> bool {
    std::env::var_os("CI").is_some_and(|v| !v.is_empty() && v != "0" && v != "false")
}

/// Whether `tool` (e.g. `redis-server`, `redis-cli`) can be run. Under CI a
/// missing tool panics; elsewhere it prints why the caller skips and returns false.
pub fn tool_available(tool: &str) -> bool {
    // Search PATH rather than running `tool --version`: redis-check-aof has no
    // such flag and would look missing.
    let found = std::env::var_os("PATH").is_some_and(|paths| {
        std::env::split_paths(&paths).any(|dir| {
            let candidate = dir.join(tool);
            candidate.is_file() || candidate.with_extension("exe").is_file()
        })
    });
    if !found {
        if oracle_required() {
            panic!(
                "{tool} is required under CI but is not installed (apt-get install redis-server redis-tools)"
            );
        }
        eprintln!("skipping: {tool} is not installed (apt-get install redis-server redis-tools)");
    }
    found
}

/// Where [`free_port`] looks: below the ephemeral ranges of Linux
/// (32768-60999), macOS and Windows (49152-65535), so that no client
/// socket's source port can take a port between the check and the server's
/// bind.
const TEST_PORTS: std::ops::Range<u16> = 20000..32000;

/// Ports this process handed out: never twice, so two servers started by
/// tests running in parallel cannot race for one port (the loser would exit,
/// and its test would talk to the other test's server).
static HANDED_OUT: Mutex<BTreeSet<u16>> = Mutex::new(BTreeSet::new());

/// A port on 127.0.0.1 that was free a moment ago and that no other caller
/// in this process got.
pub fn free_port() -> u16 {
    let mut handed_out = HANDED_OUT.lock().unwrap_or_else(|e| e.into_inner());
    let len = TEST_PORTS.end - TEST_PORTS.start;
    // Start somewhere different in each process, so consecutive test
    // binaries do not reuse the ports of the one before.
    let offset = (RandomState::new().build_hasher().finish() % u64::from(len)) as u16;
    for step in 0..len {
        let port = TEST_PORTS.start + (offset + step) % len;
        if handed_out.contains(&port) {
            continue;
        }
        if TcpListener::bind(SocketAddrV4::new(Ipv4Addr::LOCALHOST, port)).is_ok() {
            handed_out.insert(port);
            return port;
        }
    }
    panic!("no free port in {TEST_PORTS:?}");
}

/// Waits until something accepts connections on `127.0.0.1:port`.
pub fn wait_for_port(port: u16, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if let Ok(stream) = TcpStream::connect((Ipv4Addr::LOCALHOST, port)) {
            // Connecting to a free port in the ephemeral range can, rarely,
            // pick that same port as the source and connect to itself (TCP
            // simultaneous open): that is nobody listening.
            let own = stream.local_addr().ok();
            if own.is_some() && own == stream.peer_addr().ok() {
                drop(stream);
            } else {
                return true;
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

/// A running `redis-server`, killed and cleaned up on drop.
#[derive(Debug)]
pub struct Oracle {
    child: Child,
    port: u16,
    dir: PathBuf,
}

/// Starts a `redis-server` with persistence off on a free port, or returns
/// `None` (after printing why) when it is not installed and CI is not set.
pub fn oracle() -> Option<Oracle> {
    oracle_with_args(&[])
}

/// As [`oracle`], with extra `redis-server` arguments (e.g. `["--appendonly", "yes"]`).
pub fn oracle_with_args(extra: &[&str]) -> Option<Oracle> {
    if !tool_available("redis-server") {
        return None;
    }
    Some(Oracle::start(extra))
}

/// The command that starts a `redis-server` as the oracle runs it: on
/// 127.0.0.1:`port`, persistence off, working directory `dir`; more
/// arguments may follow (a later one overrides an earlier one).
pub fn redis_server_command(port: u16, dir: &std::path::Path) -> Command {
    let mut command = Command::new("redis-server");
    command
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
        .args(["--save", "", "--appendonly", "no"])
        .arg("--dir")
        .arg(dir);
    command
}

/// A `redis-server` loading the old-style AOF `dir/appendonly.aof` (a file
/// Redigo wrote): with no manifest, Redis 7.0 migrates the file into its AOF
/// directory and loads it as the base. `None` as for [`oracle`]; wait for
/// the load with [`wait_until_loaded`].
pub fn oracle_loading_aof(dir: &std::path::Path) -> Option<Oracle> {
    // The last --dir wins over the harness's own.
    oracle_with_args(&[
        "--appendonly",
        "yes",
        "--appendfilename",
        "appendonly.aof",
        "--dir",
        dir.to_str().expect("utf-8 dir"),
    ])
}

impl Oracle {
    fn start(extra: &[&str]) -> Oracle {
        let dir = std::env::temp_dir().join(format!(
            "redigo-oracle-{}-{}",
            std::process::id(),
            free_port()
        ));
        std::fs::create_dir_all(&dir).expect("create oracle dir");
        for _attempt in 0..5 {
            let port = free_port();
            let mut child = redis_server_command(port, &dir)
                .args(extra)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("spawn redis-server");
            // Another test may have taken the port between `free_port` and the
            // bind: only accept a listener that is our own child.
            if wait_for_port(port, STARTUP_TIMEOUT) && serves_pid(port, child.id(), password(extra))
            {
                return Oracle { child, port, dir };
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        panic!("redis-server did not start listening after 5 attempts");
    }

    /// The TCP port the server listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The server's working directory (where an AOF would be written).
    pub fn dir(&self) -> &std::path::Path {
        &self.dir
    }

    /// A fresh raw connection to the server.
    pub fn connect(&self) -> RawConn {
        RawConn::connect(self.port)
    }
}

/// How long [`wait_until_loaded`] waits for a server to finish loading.
const LOAD_TIMEOUT: Duration = Duration::from_secs(20);

/// Waits until the server behind `conn` has loaded its data: Redis 7.0
/// accepts connections while loading and answers `-LOADING` until it is done.
pub fn wait_until_loaded(conn: &mut RawConn) {
    let deadline = Instant::now() + LOAD_TIMEOUT;
    loop {
        let reply = conn.command(&[b"PING"]);
        if reply == b"+PONG\r\n" {
            return;
        }
        assert!(
            reply.starts_with(b"-LOADING") && Instant::now() < deadline,
            "server not ready: {}",
            String::from_utf8_lossy(&reply)
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The `--requirepass` value among `redis-server` arguments, if any.
fn password<'a>(args: &[&'a str]) -> Option<&'a str> {
    args.windows(2)
        .rev()
        .find(|w| w[0] == "--requirepass")
        .map(|w| w[1])
}

/// Whether the server on `port` reports `process_id:pid` in `INFO server`,
/// authenticating first when it was started with a password. Any I/O error
/// (another test's server going away under us) means "not ours".
fn serves_pid(port: u16, pid: u32, password: Option<&str>) -> bool {
    probe_pid(port, password).is_ok_and(|info| {
        String::from_utf8_lossy(&info)
            .lines()
            .any(|line| line.trim_end() == format!("process_id:{pid}"))
    })
}

/// Sends `[AUTH password] INFO server` and returns what arrived before the
/// reply to INFO was complete (or the server stopped answering).
fn probe_pid(port: u16, password: Option<&str>) -> std::io::Result<Vec<u8>> {
    use std::io::{Read, Write};
    let mut stream = TcpStream::connect((Ipv4Addr::LOCALHOST, port))?;
    stream.set_read_timeout(Some(PROBE_TIMEOUT))?;
    let mut request = Vec::new();
    if let Some(password) = password {
        request.extend_from_slice(
            format!("*2\r\n$4\r\nAUTH\r\n${}\r\n{password}\r\n", password.len()).as_bytes(),
        );
    }
    request.extend_from_slice(b"*2\r\n$4\r\nINFO\r\n$6\r\nserver\r\n");
    stream.write_all(&request)?;
    let mut reply = Vec::new();
    let mut chunk = [0u8; 4096];
    // INFO server is a few hundred bytes; stop once process_id has arrived.
    while !reply
        .windows(b"process_id:".len())
        .any(|w| w == b"process_id:")
        || !reply.ends_with(b"\r\n")
    {
        let n = stream.read(&mut chunk)?;
        if n == 0 {
            break;
        }
        reply.extend_from_slice(&chunk[..n]);
    }
    Ok(reply)
}

impl Drop for Oracle {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
