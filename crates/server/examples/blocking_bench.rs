//! Blocked clients beside redis-server: memory per connection and per
//! blocked client, and a job queue's throughput and delivery latency.
//!
//! ```text
//! cargo build --release -p redigo-server --bin redigo --example blocking_bench
//! target/release/examples/blocking_bench [--port 7640] [--rounds 3] \
//!     [--redigo target/release/redigo] [--redis redis-server | --no-redis] \
//!     [--clients 10000] [--jobs 200000] [--paced-jobs 50000] [--paced-rate 5000] \
//!     [--skip-memory] [--skip-queue] [--compare NAME=PATH]
//! ```
//!
//! `--compare NAME=PATH` measures another Redigo build (PATH) in place of
//! redis-server, for an A/B run of a change.
//!
//! The bench starts every server itself, as a child process it knows the
//! PID of, on `--port` (Redigo) and the port after it (redis-server), with
//! an empty dataset, no AOF and no snapshots, `maxclients` above the
//! clients it opens (a server's default 10,000 refuses the 10,000th client
//! beside the control connection), and a fresh process for every figure:
//! a server that served a run before keeps its freed memory resident (the
//! allocator reuses it), so an RSS difference read on it says nothing (an
//! earlier version, handed the PIDs and a reused or wrong process, printed
//! `0 B`). It needs the open-file limit (`ulimit -n`) above `--clients`
//! plus a few hundred; it stops with a message if a server lowered
//! `maxclients` under what it needs. Linux only (RSS is read from
//! `/proc/PID/status`, and a failed read stops the bench).
//!
//! * **memory**, on a fresh server each: `--clients` connections are
//!   opened and each sends `PING`, then the RSS is read; then each sends
//!   `BLPOP key:<i> 0` (distinct keys) and, once `INFO clients` shows them
//!   all blocked, the RSS is read again. The same again on another fresh
//!   server with every client on one key (`BLPOP queue 0`). Printed: RSS
//!   per connection and the extra RSS per blocked client (the wait itself:
//!   registry entry, queue slot, key).
//! * **queue**, `--rounds` rounds alternating the servers, a fresh server
//!   each: [`PRODUCERS`] threads `LPUSH queue <send-time>` `--jobs` jobs in
//!   all, one at a time, while [`CONSUMERS`] threads loop on
//!   `BRPOP queue 0`; each consumer records now minus the job's send time.
//!   Printed per round: jobs per second (all jobs delivered / wall time)
//!   and the delivery latency's median and p99; then per server the median
//!   of the rounds and Redigo's ratios to redis-server.
//!
//! The load average is printed before and after: on a shared machine the
//! queue figures move with it.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Queue producers.
const PRODUCERS: usize = 50;
/// Queue consumers.
const CONSUMERS: usize = 50;
/// Connections beyond `--clients` a server must accept (the control
/// connection, and spare).
const SPARE_CLIENTS: usize = 64;
/// How long a server may take to answer its first `PING`.
const START_TIMEOUT: Duration = Duration::from_secs(20);
/// Pause before an RSS reading, for the allocator and kernel to settle.
const SETTLE: Duration = Duration::from_millis(500);

fn encode(args: &[&str]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for arg in args {
        out.extend_from_slice(format!("${}\r\n{arg}\r\n", arg.len()).as_bytes());
    }
    out
}

struct Conn {
    reader: BufReader<TcpStream>,
}

impl Conn {
    fn try_connect(port: u16) -> std::io::Result<Conn> {
        let stream = TcpStream::connect(("127.0.0.1", port))?;
        stream.set_nodelay(true)?;
        Ok(Conn {
            reader: BufReader::new(stream),
        })
    }

    fn connect(port: u16) -> Conn {
        Conn::try_connect(port).unwrap_or_else(|err| panic!("connect to port {port}: {err}"))
    }

    fn send(&mut self, args: &[&str]) {
        self.reader
            .get_mut()
            .write_all(&encode(args))
            .expect("send");
    }

    /// Reads one reply; returns its lines' payloads flattened (bulk data,
    /// integers, statuses), enough for the replies used here.
    fn read(&mut self) -> Vec<String> {
        let mut line = String::new();
        self.reader.read_line(&mut line).expect("reply");
        assert!(!line.is_empty(), "the server closed the connection");
        let body = line[1..].trim_end().to_string();
        match line.as_bytes()[0] {
            b'*' => {
                let n: i64 = body.parse().expect("array length");
                (0..n.max(0)).flat_map(|_| self.read()).collect()
            }
            b'$' => {
                let len: i64 = body.parse().expect("bulk length");
                if len < 0 {
                    return Vec::new();
                }
                let mut data = vec![0; len as usize + 2];
                self.reader.read_exact(&mut data).expect("bulk");
                vec![String::from_utf8_lossy(&data[..len as usize]).into_owned()]
            }
            b'-' => panic!("error reply: {body}"),
            _ => vec![body],
        }
    }

    fn command(&mut self, args: &[&str]) -> Vec<String> {
        self.send(args);
        self.read()
    }

    /// A field of `INFO section`.
    fn info_field(&mut self, section: &str, field: &str) -> String {
        let info = self.command(&["INFO", section]).concat();
        let prefix = format!("{field}:");
        info.lines()
            .find_map(|l| l.strip_prefix(prefix.as_str()))
            .unwrap_or_else(|| panic!("INFO {section} has no {field}"))
            .trim()
            .to_string()
    }
}

/// Which server a run measures.
#[derive(Clone, Debug)]
struct ServerKind {
    name: String,
    binary: String,
    port: u16,
}

/// A server started for one figure; killed when dropped.
struct Running {
    child: Child,
    port: u16,
    dir: std::path::PathBuf,
}

impl Running {
    fn start(kind: &ServerKind, max_clients: usize) -> Running {
        let dir = std::env::temp_dir().join(format!(
            "blocking_bench-{}-{}",
            std::process::id(),
            kind.port
        ));
        std::fs::create_dir_all(&dir).expect("temporary directory");
        let port = kind.port.to_string();
        let max_clients = max_clients.to_string();
        let mut command = Command::new(&kind.binary);
        if kind.binary.ends_with("redis-server") {
            command.args([
                "--port",
                &port,
                "--save",
                "",
                "--appendonly",
                "no",
                "--maxclients",
                &max_clients,
                "--daemonize",
                "no",
                "--logfile",
                "",
            ]);
        } else {
            command.args([
                "--port",
                &port,
                "--aof-enabled=no",
                "--maxclients",
                &max_clients,
            ]);
        }
        let child = command
            .current_dir(&dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|err| panic!("starting {}: {err}", kind.binary));
        let mut running = Running {
            child,
            port: kind.port,
            dir,
        };
        running.wait_ready(kind);
        running
    }

    fn wait_ready(&mut self, kind: &ServerKind) {
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().expect("child status") {
                panic!(
                    "{} exited at start ({status}): is port {} free?",
                    kind.binary, self.port
                );
            }
            if let Ok(mut conn) = Conn::try_connect(self.port)
                && conn.command(&["PING"]) == ["PONG"]
            {
                // The process we started is the one answering.
                let pid: u32 = conn
                    .info_field("server", "process_id")
                    .parse()
                    .expect("process_id");
                assert_eq!(
                    pid,
                    self.child.id(),
                    "port {} is answered by another process",
                    self.port
                );
                return;
            }
            assert!(
                started.elapsed() < START_TIMEOUT,
                "{} did not answer on port {}",
                kind.binary,
                self.port
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The server's resident set size in bytes.
    fn rss(&self) -> u64 {
        let path = format!("/proc/{}/status", self.child.id());
        let status = std::fs::read_to_string(&path)
            .unwrap_or_else(|err| panic!("reading {path}: {err} (Linux only)"));
        let kb: u64 = status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or_else(|| panic!("no VmRSS in {path}"));
        kb * 1024
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

fn blocked_clients(control: &mut Conn) -> usize {
    control
        .info_field("clients", "blocked_clients")
        .parse()
        .expect("blocked_clients")
}

/// Memory figures of one server, in bytes per client.
struct Memory {
    per_connection: f64,
    per_blocked: f64,
}

/// Opens `clients` connections to a fresh `kind`, then blocks each on
/// `key(i)`; returns the RSS growth per connection and per blocked client.
fn memory(kind: &ServerKind, clients: usize, key: impl Fn(usize) -> String) -> Memory {
    let server = Running::start(kind, clients + SPARE_CLIENTS);
    let mut control = Conn::connect(server.port);
    let max: usize = control.command(&["CONFIG", "GET", "maxclients"])[1]
        .parse()
        .expect("maxclients");
    assert!(
        max > clients,
        "{}: maxclients is {max} (lowered to the open-file limit?): raise `ulimit -n` above {}",
        kind.name,
        clients + SPARE_CLIENTS
    );
    std::thread::sleep(SETTLE);
    let before = server.rss();
    let mut conns: Vec<Conn> = (0..clients).map(|_| Conn::connect(server.port)).collect();
    for conn in &mut conns {
        conn.send(&["PING"]);
    }
    for conn in &mut conns {
        assert_eq!(conn.read(), ["PONG"]);
    }
    std::thread::sleep(SETTLE);
    let connected = server.rss();
    for (i, conn) in conns.iter_mut().enumerate() {
        conn.send(&["BLPOP", &key(i), "0"]);
    }
    while blocked_clients(&mut control) < clients {
        std::thread::sleep(Duration::from_millis(10));
    }
    std::thread::sleep(SETTLE);
    let blocked = server.rss();
    let per = |grown: u64| grown as f64 / clients as f64;
    Memory {
        per_connection: per(connected.saturating_sub(before)),
        per_blocked: per(blocked.saturating_sub(connected)),
    }
}

/// One queue run's figures.
#[derive(Clone, Copy)]
struct QueueRun {
    jobs_per_second: f64,
    p50_us: f64,
    p99_us: f64,
    /// The list's mean length, sampled every [`SAMPLE_EVERY`].
    mean_backlog: f64,
    /// The mean number of consumers blocked, sampled likewise.
    mean_blocked: f64,
}

/// How often a queue run samples the list's length and the blocked
/// consumers (one `LLEN` and one `INFO clients` on its own connection).
const SAMPLE_EVERY: Duration = Duration::from_millis(5);

/// A queue scenario: how many jobs, and at what total rate the producers
/// send them (`None`: each as soon as the previous one is acknowledged).
#[derive(Clone, Copy)]
struct Scenario {
    name: &'static str,
    jobs: usize,
    rate: Option<f64>,
}

fn queue(kind: &ServerKind, scenario: Scenario) -> QueueRun {
    let jobs = scenario.jobs;
    let server = Running::start(kind, PRODUCERS + CONSUMERS + SPARE_CLIENTS);
    let port = server.port;
    let epoch = Instant::now();
    let delivered = Arc::new(AtomicUsize::new(0));
    let latencies = Arc::new(Mutex::new(Vec::with_capacity(jobs)));
    let consumers: Vec<_> = (0..CONSUMERS)
        .map(|_| {
            let (delivered, latencies) = (Arc::clone(&delivered), Arc::clone(&latencies));
            let mut conn = Conn::connect(port);
            std::thread::spawn(move || {
                let mut own = Vec::new();
                loop {
                    let reply = conn.command(&["BRPOP", "queue", "0"]);
                    let now = epoch.elapsed().as_nanos() as u64;
                    let Ok(sent) = reply[1].parse::<u64>() else {
                        break; // the stop job
                    };
                    own.push(now.saturating_sub(sent));
                    delivered.fetch_add(1, Ordering::Relaxed);
                }
                latencies.lock().unwrap().extend(own);
            })
        })
        .collect();
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let sampler = {
        let done = Arc::clone(&done);
        let mut conn = Conn::connect(port);
        std::thread::spawn(move || {
            let (mut samples, mut backlog, mut blocked) = (0u64, 0u64, 0u64);
            while !done.load(Ordering::Relaxed) {
                backlog += conn.command(&["LLEN", "queue"])[0].parse::<u64>().unwrap();
                blocked += blocked_clients(&mut conn) as u64;
                samples += 1;
                std::thread::sleep(SAMPLE_EVERY);
            }
            let samples = samples.max(1) as f64;
            (backlog as f64 / samples, blocked as f64 / samples)
        })
    };
    let started = Instant::now();
    let producers: Vec<_> = (0..PRODUCERS)
        .map(|p| {
            let mut conn = Conn::connect(port);
            let own = jobs / PRODUCERS + usize::from(p < jobs % PRODUCERS);
            // Paced: producer `p` sends its `k`th job at
            // `(k * PRODUCERS + p) / rate` seconds from the start.
            let pace = scenario.rate.map(|rate| {
                (
                    Duration::from_secs_f64(PRODUCERS as f64 / rate),
                    Duration::from_secs_f64(p as f64 / rate),
                )
            });
            std::thread::spawn(move || {
                for k in 0..own {
                    if let Some((every, offset)) = pace {
                        let due = started + offset + every * k as u32;
                        std::thread::sleep(due.saturating_duration_since(Instant::now()));
                    }
                    let now = epoch.elapsed().as_nanos().to_string();
                    conn.command(&["LPUSH", "queue", &now]);
                }
            })
        })
        .collect();
    for producer in producers {
        producer.join().unwrap();
    }
    while delivered.load(Ordering::Relaxed) < jobs {
        std::thread::sleep(Duration::from_millis(1));
    }
    let elapsed = started.elapsed();
    done.store(true, Ordering::Relaxed);
    let (mean_backlog, mean_blocked) = sampler.join().unwrap();
    let mut stopper = Conn::connect(port);
    for _ in 0..CONSUMERS {
        stopper.command(&["LPUSH", "queue", "stop"]);
    }
    for consumer in consumers {
        consumer.join().unwrap();
    }
    let mut latencies = std::mem::take(&mut *latencies.lock().unwrap());
    latencies.sort_unstable();
    let at = |q: f64| latencies[((latencies.len() - 1) as f64 * q) as usize] as f64 / 1000.0;
    QueueRun {
        jobs_per_second: jobs as f64 / elapsed.as_secs_f64(),
        p50_us: at(0.50),
        p99_us: at(0.99),
        mean_backlog,
        mean_blocked,
    }
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    }
}

struct Options {
    servers: Vec<ServerKind>,
    rounds: usize,
    clients: usize,
    jobs: usize,
    paced_jobs: usize,
    paced_rate: f64,
    memory: bool,
    queue: bool,
}

fn options() -> Options {
    let mut port: u16 = 7640;
    let default_redigo = std::env::current_exe()
        .ok()
        .and_then(|exe| Some(exe.parent()?.parent()?.join("redigo")))
        .map(|path| path.to_string_lossy().into_owned())
        .unwrap_or_else(|| "target/release/redigo".into());
    let (mut redigo, mut redis) = (default_redigo, Some("redis-server".to_string()));
    let mut compare = None;
    let mut options = Options {
        servers: Vec::new(),
        rounds: 3,
        clients: 10_000,
        jobs: 200_000,
        paced_jobs: 50_000,
        paced_rate: 5_000.0,
        memory: true,
        queue: true,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().unwrap_or_else(|| panic!("{arg} needs a value"));
        match arg.as_str() {
            "--port" => port = value().parse().expect("--port"),
            "--rounds" => options.rounds = value().parse().expect("--rounds"),
            "--clients" => options.clients = value().parse().expect("--clients"),
            "--jobs" => options.jobs = value().parse().expect("--jobs"),
            "--paced-jobs" => options.paced_jobs = value().parse().expect("--paced-jobs"),
            "--paced-rate" => options.paced_rate = value().parse().expect("--paced-rate"),
            "--redigo" => redigo = value(),
            "--redis" => redis = Some(value()),
            "--no-redis" => redis = None,
            "--compare" => {
                let pair = value();
                let (name, path) = pair.split_once('=').expect("--compare NAME=PATH");
                compare = Some((name.to_string(), path.to_string()));
            }
            "--skip-memory" => options.memory = false,
            "--skip-queue" => options.queue = false,
            other => panic!("unknown argument {other} (see the header of blocking_bench.rs)"),
        }
    }
    options.servers.push(ServerKind {
        name: "redigo".into(),
        binary: redigo,
        port,
    });
    if let Some((name, binary)) = compare {
        options.servers.push(ServerKind {
            name,
            binary,
            port: port + 1,
        });
    } else if let Some(redis) = redis {
        options.servers.push(ServerKind {
            name: "redis".into(),
            binary: redis,
            port: port + 1,
        });
    }
    options
}

fn main() {
    let options = options();
    println!(
        "load average at start: {} ({} cores)",
        load_average(),
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    if options.memory {
        let clients = options.clients;
        for kind in &options.servers {
            let distinct = memory(kind, clients, |i| format!("key:{i}"));
            let one_key = memory(kind, clients, |_| "queue".to_string());
            println!(
                "{}: {clients} connections: {:.0} B RSS each; blocked: {:.0} B more each on \
                 distinct keys, {:.0} B more each on one key ({:.0} and {:.0} B per \
                 connection in those runs)",
                kind.name,
                distinct.per_connection,
                distinct.per_blocked,
                one_key.per_blocked,
                distinct.per_connection,
                one_key.per_connection,
            );
        }
    }
    if options.queue {
        let scenarios = [
            Scenario {
                name: "saturated",
                jobs: options.jobs,
                rate: None,
            },
            Scenario {
                name: "paced",
                jobs: options.paced_jobs,
                rate: Some(options.paced_rate),
            },
        ];
        for scenario in scenarios {
            queue_scenario(&options, scenario);
        }
    }
    println!("load average at end: {}", load_average());
}

/// Runs `scenario` `options.rounds` times on each server, alternating, and
/// prints each run, the medians and the ratios.
fn queue_scenario(options: &Options, scenario: Scenario) {
    let pacing = match scenario.rate {
        Some(rate) => format!("{rate:.0} jobs/s offered"),
        None => "back to back".to_string(),
    };
    {
        let mut runs: Vec<Vec<QueueRun>> = vec![Vec::new(); options.servers.len()];
        for round in 1..=options.rounds {
            for (at, kind) in options.servers.iter().enumerate() {
                let run = queue(kind, scenario);
                println!(
                    "{}: queue {} round {round}: {PRODUCERS} producers ({pacing}) / {CONSUMERS} \
                     consumers, {} jobs: {:.0} jobs/s, delivery p50 {:.0} us, p99 {:.0} us; mean \
                     list length {:.1}, mean consumers blocked {:.1} (load {})",
                    kind.name,
                    scenario.name,
                    scenario.jobs,
                    run.jobs_per_second,
                    run.p50_us,
                    run.p99_us,
                    run.mean_backlog,
                    run.mean_blocked,
                    load_average(),
                );
                runs[at].push(run);
            }
        }
        let medians: Vec<QueueRun> = runs
            .iter()
            .map(|runs| QueueRun {
                jobs_per_second: median(runs.iter().map(|r| r.jobs_per_second).collect()),
                p50_us: median(runs.iter().map(|r| r.p50_us).collect()),
                p99_us: median(runs.iter().map(|r| r.p99_us).collect()),
                mean_backlog: median(runs.iter().map(|r| r.mean_backlog).collect()),
                mean_blocked: median(runs.iter().map(|r| r.mean_blocked).collect()),
            })
            .collect();
        for (kind, run) in options.servers.iter().zip(&medians) {
            println!(
                "{}: queue {} median of {} rounds: {:.0} jobs/s, delivery p50 {:.0} us, p99 {:.0} \
                 us, list length {:.1}, consumers blocked {:.1}",
                kind.name,
                scenario.name,
                options.rounds,
                run.jobs_per_second,
                run.p50_us,
                run.p99_us,
                run.mean_backlog,
                run.mean_blocked,
            );
        }
        if let [redigo, redis] = medians[..] {
            println!(
                "queue {}, {} / {} (medians): jobs/s {:.2}x, p50 {:.2}x, p99 {:.2}x",
                scenario.name,
                options.servers[0].name,
                options.servers[1].name,
                redigo.jobs_per_second / redis.jobs_per_second,
                redigo.p50_us / redis.p50_us,
                redigo.p99_us / redis.p99_us,
            );
        }
    }
}
