//! Blocked clients: memory per blocked client and a job queue, measured the
//! same way against each server given (Redigo and redis-server, one run).
//!
//! ```text
//! cargo run --release -p redigo-server --example blocking_bench -- \
//!     redigo=PORT:PID redis=PORT:PID
//! ```
//!
//! For each server (started by the caller with an empty dataset, no AOF):
//!
//! * **memory**: [`CLIENTS`] connections are opened and each sends `PING`;
//!   the server's RSS is read (`/proc/PID/status`, Linux); then each sends
//!   `BLPOP key:<i> 0` and, once `INFO clients` shows them all blocked, RSS
//!   is read again. Printed: RSS per connection, and the extra RSS per
//!   blocked client (the wait itself: registry entry, queue slot, timer
//!   state).
//! * **queue**: [`PRODUCERS`] threads `LPUSH queue <send-time>` [`JOBS`]
//!   jobs in all, one at a time, while [`CONSUMERS`] threads loop on
//!   `BRPOP queue 0`; each consumer records now minus the job's send time.
//!   Printed: jobs per second (all jobs delivered / wall time) and the
//!   delivery latency's median and p99.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Clients blocked at once for the memory figure.
const CLIENTS: usize = 10_000;
/// Queue producers.
const PRODUCERS: usize = 50;
/// Queue consumers.
const CONSUMERS: usize = 50;
/// Jobs pushed in all (a multiple of [`PRODUCERS`]).
const JOBS: usize = 200_000;
const _: () = assert!(JOBS % PRODUCERS == 0);

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
    fn connect(port: u16) -> Conn {
        let stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
        stream.set_nodelay(true).expect("nodelay");
        Conn {
            reader: BufReader::new(stream),
        }
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
            _ => vec![body],
        }
    }
}

fn rss_kb(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn blocked_clients(control: &mut Conn) -> usize {
    control.send(&["INFO", "clients"]);
    let info = control.read().concat();
    info.lines()
        .find_map(|l| l.strip_prefix("blocked_clients:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0)
}

fn memory(name: &str, port: u16, pid: u32) {
    let mut control = Conn::connect(port);
    let before = rss_kb(pid);
    let mut clients: Vec<Conn> = (0..CLIENTS).map(|_| Conn::connect(port)).collect();
    for client in &mut clients {
        client.send(&["PING"]);
    }
    for client in &mut clients {
        client.read();
    }
    std::thread::sleep(Duration::from_millis(500));
    let connected = rss_kb(pid);
    for (i, client) in clients.iter_mut().enumerate() {
        client.send(&["BLPOP", &format!("key:{i}"), "0"]);
    }
    while blocked_clients(&mut control) < CLIENTS {
        std::thread::sleep(Duration::from_millis(10));
    }
    std::thread::sleep(Duration::from_millis(500));
    let blocked = rss_kb(pid);
    println!(
        "{name}: {CLIENTS} connections: {:.0} B RSS each; blocked on distinct keys: {:.0} B more each",
        (connected.saturating_sub(before) * 1024) as f64 / CLIENTS as f64,
        (blocked.saturating_sub(connected) * 1024) as f64 / CLIENTS as f64,
    );
    drop(clients);
    while blocked_clients(&mut control) > 0 {
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn queue(name: &str, port: u16) {
    let epoch = Instant::now();
    let delivered = Arc::new(AtomicUsize::new(0));
    let latencies = Arc::new(Mutex::new(Vec::with_capacity(JOBS)));
    let consumers: Vec<_> = (0..CONSUMERS)
        .map(|_| {
            let (delivered, latencies) = (Arc::clone(&delivered), Arc::clone(&latencies));
            let mut conn = Conn::connect(port);
            std::thread::spawn(move || {
                let mut own = Vec::new();
                loop {
                    conn.send(&["BRPOP", "queue", "0"]);
                    let reply = conn.read();
                    let now = epoch.elapsed().as_nanos() as u64;
                    let sent: u64 = reply[1].parse().unwrap_or(u64::MAX);
                    if sent == u64::MAX {
                        break; // the stop job
                    }
                    own.push(now.saturating_sub(sent));
                    delivered.fetch_add(1, Ordering::Relaxed);
                }
                latencies.lock().unwrap().extend(own);
            })
        })
        .collect();
    let started = Instant::now();
    let producers: Vec<_> = (0..PRODUCERS)
        .map(|_| {
            let mut conn = Conn::connect(port);
            let jobs = JOBS / PRODUCERS;
            std::thread::spawn(move || {
                for _ in 0..jobs {
                    let now = epoch.elapsed().as_nanos().to_string();
                    conn.send(&["LPUSH", "queue", &now]);
                    conn.read();
                }
            })
        })
        .collect();
    for producer in producers {
        producer.join().unwrap();
    }
    while delivered.load(Ordering::Relaxed) < JOBS {
        std::thread::sleep(Duration::from_millis(1));
    }
    let elapsed = started.elapsed();
    let mut stopper = Conn::connect(port);
    for _ in 0..CONSUMERS {
        stopper.send(&["LPUSH", "queue", "stop"]);
        stopper.read();
    }
    for consumer in consumers {
        consumer.join().unwrap();
    }
    let mut latencies = std::mem::take(&mut *latencies.lock().unwrap());
    latencies.sort_unstable();
    let at = |q: f64| latencies[((latencies.len() - 1) as f64 * q) as usize] as f64 / 1000.0;
    println!(
        "{name}: queue {PRODUCERS} producers / {CONSUMERS} consumers, {JOBS} jobs: {:.0} jobs/s, \
         delivery latency p50 {:.0} us, p99 {:.0} us",
        JOBS as f64 / elapsed.as_secs_f64(),
        at(0.50),
        at(0.99),
    );
}

fn main() {
    let servers: Vec<(String, u16, u32)> = std::env::args()
        .skip(1)
        .map(|arg| {
            let (name, rest) = arg.split_once('=').expect("NAME=PORT:PID");
            let (port, pid) = rest.split_once(':').expect("NAME=PORT:PID");
            (
                name.to_string(),
                port.parse().expect("port"),
                pid.parse().expect("pid"),
            )
        })
        .collect();
    for (name, port, pid) in &servers {
        memory(name, *port, *pid);
    }
    for (name, port, _) in &servers {
        queue(name, *port);
    }
}
