//! Pub/sub fan-out: messages delivered per second and delivery latency, for
//! Redigo and redis-server in one run, measured by the same client code.
//!
//! ```text
//! cargo build --release -p redigo-server --bin redigo --example pubsub_fanout
//! target/release/examples/pubsub_fanout [--redigo target/release/redigo]
//!     [--redis-server redis-server] [--messages N] [--rounds R]
//! ```
//!
//! Starts each server on a free loopback port (pub/sub output limits off,
//! so a momentarily slow subscriber is not closed mid-run) and runs two
//! scenarios against each, the servers one after the other. With `--rounds
//! R` it does so R times, the server that goes first alternating from round
//! to round (the machine is shared and noisy: the two runs of a pair are
//! seconds apart), and ends with each scenario's ratios Redigo / Redis per
//! round, sorted, and their medians. The scenarios:
//!
//! * `fanout`: 1,000 subscribers of one channel, one publisher;
//! * `channels`: 100 channels with 10 subscribers each, one publisher per
//!   channel, all publishing at once.
//!
//! Also reported, where `/proc` exists (Linux): the server's CPU time (user
//! plus system, all threads) per delivery over the scenario, a figure that
//! moves far less with the machine's load than the rates do.
//!
//! Each publisher keeps [`WINDOW`] `PUBLISH`es in flight. A message carries
//! its send time (nanoseconds since the run's start); each subscriber
//! records, for every message, the time from send to the moment it parsed
//! it. Reported: deliveries per second (messages received by all
//! subscribers over the time from the first send to the last receipt) and
//! the p50/p99 of the delivery latencies, as a Markdown table.

use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

/// `PUBLISH`es a publisher keeps in flight.
const WINDOW: usize = 32;
/// Payload size: the send time, padded.
const PAYLOAD: usize = 32;
/// Clock ticks per second in `/proc/PID/stat` (`getconf CLK_TCK`: 100 on
/// Linux's every common configuration).
const CLOCK_TICKS_PER_SEC: u64 = 100;
/// Longest a scenario may take before the run is declared stuck.
const SCENARIO_TIMEOUT: Duration = Duration::from_secs(300);

struct Scenario {
    name: &'static str,
    channels: usize,
    subscribers_per_channel: usize,
    /// Messages each channel's publisher sends.
    messages: usize,
}

struct Outcome {
    deliveries_per_sec: f64,
    p50_us: f64,
    p99_us: f64,
    deliveries: usize,
}

fn main() {
    let mut redigo = "target/release/redigo".to_string();
    let mut redis = "redis-server".to_string();
    let mut messages = 2000usize;
    let mut rounds = 1usize;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let value = args.next().unwrap_or_else(|| panic!("{arg} needs a value"));
        match arg.as_str() {
            "--redigo" => redigo = value,
            "--redis-server" => redis = value,
            "--messages" => messages = value.parse().expect("--messages N"),
            "--rounds" => rounds = value.parse().expect("--rounds R"),
            _ => panic!("unknown argument {arg}"),
        }
    }
    let scenarios = [
        Scenario {
            name: "fanout: 1 publisher, 1 channel, 1,000 subscribers",
            channels: 1,
            subscribers_per_channel: 1000,
            messages,
        },
        Scenario {
            name: "channels: 100 publishers, 100 channels x 10 subscribers",
            channels: 100,
            subscribers_per_channel: 10,
            messages: (messages / 10).max(1),
        },
    ];
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    println!(
        "| scenario | server | deliveries/s | p50 delivery | p99 delivery | deliveries | server CPU per delivery |"
    );
    println!("|---|---|---:|---:|---:|---:|---:|");
    // Per scenario: the ratios Redigo / Redis of each round (deliveries/s,
    // p50, p99, server CPU per delivery).
    let mut ratios: Vec<Vec<[f64; 4]>> = vec![Vec::new(); scenarios.len()];
    for round in 0..rounds {
        for (index, scenario) in scenarios.iter().enumerate() {
            let mut servers = [("redis-server 7.0", &redis), ("Redigo", &redigo)];
            if round % 2 == 1 {
                servers.reverse();
            }
            let mut outcomes = Vec::new();
            for (label, binary) in servers {
                let server = ServerProcess::start(binary);
                let cpu_before = server.cpu_time();
                let outcome = runtime.block_on(async {
                    tokio::time::timeout(SCENARIO_TIMEOUT, run(server.port, scenario))
                        .await
                        .expect("scenario timed out")
                });
                let cpu_ns = cpu_before.zip(server.cpu_time()).map(|(before, after)| {
                    (after - before).as_nanos() as f64 / outcome.deliveries as f64
                });
                println!(
                    "| {} | {label} | {:.0} | {:.0} µs | {:.0} µs | {} | {} |",
                    scenario.name,
                    outcome.deliveries_per_sec,
                    outcome.p50_us,
                    outcome.p99_us,
                    outcome.deliveries,
                    cpu_ns.map_or("-".to_string(), |ns| format!("{ns:.0} ns")),
                );
                outcomes.push((outcome, cpu_ns));
            }
            if round % 2 == 1 {
                outcomes.reverse();
            }
            let [(redis_run, redis_cpu), (redigo_run, redigo_cpu)] = &outcomes[..] else {
                unreachable!("two servers a round");
            };
            let cpu = match (redis_cpu, redigo_cpu) {
                (Some(redis_cpu), Some(redigo_cpu)) => redigo_cpu / redis_cpu,
                _ => f64::NAN,
            };
            ratios[index].push([
                redigo_run.deliveries_per_sec / redis_run.deliveries_per_sec,
                redigo_run.p50_us / redis_run.p50_us,
                redigo_run.p99_us / redis_run.p99_us,
                cpu,
            ]);
        }
    }
    if rounds > 1 {
        println!();
        println!("| scenario | ratio Redigo / Redis | rounds, sorted | median |");
        println!("|---|---|---|---:|");
        for (scenario, ratios) in scenarios.iter().zip(&ratios) {
            for (column, what) in [
                "deliveries/s",
                "p50 delivery",
                "p99 delivery",
                "server CPU per delivery",
            ]
            .iter()
            .enumerate()
            {
                let mut values: Vec<f64> = ratios.iter().map(|r| r[column]).collect();
                values.sort_by(f64::total_cmp);
                let listed: Vec<String> = values.iter().map(|v| format!("{v:.2}")).collect();
                println!(
                    "| {} | {what} | {} | {:.2} |",
                    scenario.name,
                    listed.join(" "),
                    values[(values.len() - 1) / 2]
                );
            }
        }
    }
}

/// A server child process on a free port, killed on drop.
struct ServerProcess {
    child: Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl ServerProcess {
    fn start(binary: &str) -> ServerProcess {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        let dir = tempfile::tempdir().expect("temp dir");
        let port_arg = port.to_string();
        // The server runs in its own directory: resolve a relative path
        // (`target/release/redigo`) first; a bare name is looked up in PATH.
        let binary = match std::fs::canonicalize(binary) {
            Ok(path) if binary.contains('/') => path.display().to_string(),
            _ => binary.to_string(),
        };
        let binary = binary.as_str();
        let mut command = Command::new(binary);
        command
            .args(["--port", &port_arg, "--bind", "127.0.0.1"])
            .current_dir(dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        if binary.contains("redis-server") {
            command.args(["--save", "", "--appendonly", "no"]);
        }
        let child = command
            .spawn()
            .unwrap_or_else(|e| panic!("start {binary}: {e}"));
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "{binary} did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
        ServerProcess {
            child,
            port,
            _dir: dir,
        }
    }
}

impl ServerProcess {
    /// The CPU time (user + system, all threads) the server has used so far,
    /// from `/proc/PID/stat`; `None` where there is no `/proc`.
    fn cpu_time(&self) -> Option<Duration> {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.child.id())).ok()?;
        // Fields after the command name, which is in parentheses: utime and
        // stime are the 12th and 13th of them, in clock ticks.
        let rest = &stat[stat.rfind(')')? + 2..];
        let mut fields = rest.split(' ').skip(11);
        let utime: u64 = fields.next()?.parse().ok()?;
        let stime: u64 = fields.next()?.parse().ok()?;
        Some(Duration::from_millis(
            (utime + stime) * 1000 / CLOCK_TICKS_PER_SEC,
        ))
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn request(args: &[&[u8]]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for arg in args {
        out.extend_from_slice(format!("${}\r\n", arg.len()).as_bytes());
        out.extend_from_slice(arg);
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// Reads one RESP2 line (without its CRLF).
async fn read_line<R: AsyncRead + Unpin>(reader: &mut BufReader<R>, line: &mut Vec<u8>) {
    line.clear();
    loop {
        let byte = reader.read_u8().await.expect("connection closed");
        if byte == b'\n' && line.last() == Some(&b'\r') {
            line.pop();
            return;
        }
        line.push(byte);
    }
}

/// Reads one bulk string's payload.
async fn read_bulk<R: AsyncRead + Unpin>(reader: &mut BufReader<R>, line: &mut Vec<u8>) -> Vec<u8> {
    read_line(reader, line).await;
    assert_eq!(
        line.first(),
        Some(&b'$'),
        "{}",
        String::from_utf8_lossy(line)
    );
    let len: usize = std::str::from_utf8(&line[1..]).unwrap().parse().unwrap();
    let mut payload = vec![0u8; len + 2];
    reader.read_exact(&mut payload).await.expect("bulk");
    payload.truncate(len);
    payload
}

async fn run(port: u16, scenario: &Scenario) -> Outcome {
    let mut admin = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    admin
        .write_all(&request(&[
            b"CONFIG",
            b"SET",
            b"client-output-buffer-limit",
            b"pubsub 0 0 0",
        ]))
        .await
        .unwrap();
    let mut ok = [0u8; 5];
    admin.read_exact(&mut ok).await.unwrap();
    assert_eq!(&ok, b"+OK\r\n");

    let start = Instant::now();
    let expected = scenario.messages;
    // Subscribe everyone before anything is published.
    let mut subscribers = Vec::new();
    for channel in 0..scenario.channels {
        for _ in 0..scenario.subscribers_per_channel {
            let stream = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
            stream.set_nodelay(true).unwrap();
            let mut reader = BufReader::with_capacity(64 * 1024, stream);
            let name = format!("ch:{channel}");
            reader
                .get_mut()
                .write_all(&request(&[b"SUBSCRIBE", name.as_bytes()]))
                .await
                .unwrap();
            let mut line = Vec::new();
            read_line(&mut reader, &mut line).await;
            for _ in 0..3 {
                read_line(&mut reader, &mut line).await;
                if line.first() == Some(&b'$') {
                    read_line(&mut reader, &mut line).await;
                }
            }
            subscribers.push(tokio::spawn(async move {
                let mut line = Vec::new();
                let mut latencies = Vec::with_capacity(expected);
                for _ in 0..expected {
                    read_line(&mut reader, &mut line).await;
                    let _kind = read_bulk(&mut reader, &mut line).await;
                    let _channel = read_bulk(&mut reader, &mut line).await;
                    let payload = read_bulk(&mut reader, &mut line).await;
                    let sent: u64 = std::str::from_utf8(&payload)
                        .unwrap()
                        .trim()
                        .parse()
                        .unwrap();
                    let now = start.elapsed().as_nanos() as u64;
                    latencies.push(now.saturating_sub(sent));
                }
                (latencies, start.elapsed())
            }));
        }
    }
    let subscribers_total = scenario.channels * scenario.subscribers_per_channel;
    let sent_from = start.elapsed();
    let publishers: Vec<_> = (0..scenario.channels)
        .map(|channel| {
            tokio::spawn(async move {
                let stream = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
                stream.set_nodelay(true).unwrap();
                let (read, mut write) = stream.into_split();
                let mut reader = BufReader::new(read);
                let name = format!("ch:{channel}");
                let window = Arc::new(tokio::sync::Semaphore::new(WINDOW));
                let returned = Arc::clone(&window);
                let replies = tokio::spawn(async move {
                    let mut line = Vec::new();
                    for _ in 0..expected {
                        read_line(&mut reader, &mut line).await;
                        returned.add_permits(1);
                    }
                });
                for _ in 0..expected {
                    window.acquire().await.expect("window").forget();
                    let sent = start.elapsed().as_nanos() as u64;
                    let payload = format!("{sent:<PAYLOAD$}");
                    write
                        .write_all(&request(&[b"PUBLISH", name.as_bytes(), payload.as_bytes()]))
                        .await
                        .unwrap();
                }
                replies.await.unwrap();
            })
        })
        .collect();
    for publisher in publishers {
        publisher.await.unwrap();
    }
    let mut all = Vec::with_capacity(subscribers_total * expected);
    let mut last = Duration::ZERO;
    for subscriber in subscribers {
        let (latencies, done) = subscriber.await.unwrap();
        all.extend(latencies);
        last = last.max(done);
    }
    all.sort_unstable();
    let percentile =
        |p: f64| all[((all.len() as f64 * p) as usize).min(all.len() - 1)] as f64 / 1000.0;
    Outcome {
        deliveries_per_sec: all.len() as f64 / (last - sent_from).as_secs_f64(),
        p50_us: percentile(0.50),
        p99_us: percentile(0.99),
        deliveries: all.len(),
    }
}
