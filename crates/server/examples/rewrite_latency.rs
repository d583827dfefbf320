//! Latency of a steady client before and during `BGREWRITEAOF`.
//!
//! ```text
//! cargo run --release -p redigo-server --example rewrite_latency -- PORT [REWRITES]
//! ```
//!
//! One client alternates `SET key:N <16 bytes>` and `GET key:N` over random
//! existing keys (`key:000000000000` .. as `bench_rewrite_latency.sh`
//! loads them), back to back, timing each round trip. A control
//! connection starts REWRITES rewrites one after another, a second apart,
//! and polls `INFO persistence` to know when each runs. Round trips that
//! started while a rewrite ran count as "during", the others as "outside".
//! Works against any RESP server with an AOF (Redigo or redis-server), so
//! the two are measured the same way.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Pause between rewrites, so "outside" samples are not all right after one.
const GAP: Duration = Duration::from_millis(1000);
/// How often the control connection polls `INFO persistence`.
const POLL: Duration = Duration::from_millis(2);

struct Conn {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
}

impl Conn {
    fn connect(port: u16) -> Conn {
        let stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
        stream.set_nodelay(true).expect("nodelay");
        Conn {
            reader: BufReader::new(stream.try_clone().expect("clone")),
            writer: stream,
        }
    }

    /// Sends one command and returns its reply's payload (simple, error,
    /// integer or bulk).
    fn command(&mut self, args: &[&[u8]]) -> Vec<u8> {
        let mut request = format!("*{}\r\n", args.len()).into_bytes();
        for arg in args {
            request.extend_from_slice(format!("${}\r\n", arg.len()).as_bytes());
            request.extend_from_slice(arg);
            request.extend_from_slice(b"\r\n");
        }
        self.writer.write_all(&request).expect("send");
        let mut line = Vec::new();
        self.reader.read_until(b'\n', &mut line).expect("reply");
        if line.first() == Some(&b'$') {
            let len: i64 = std::str::from_utf8(&line[1..line.len() - 2])
                .unwrap()
                .parse()
                .unwrap();
            if len < 0 {
                return Vec::new();
            }
            let mut body = vec![0; len as usize + 2];
            std::io::Read::read_exact(&mut self.reader, &mut body).expect("bulk");
            body.truncate(len as usize);
            return body;
        }
        line
    }
}

fn rewrite_running(control: &mut Conn) -> bool {
    let info = control.command(&[b"INFO", b"persistence"]);
    String::from_utf8_lossy(&info).contains("aof_rewrite_in_progress:1")
}

fn key_count(control: &mut Conn) -> u64 {
    let reply = control.command(&[b"DBSIZE"]);
    String::from_utf8_lossy(&reply[1..])
        .trim()
        .parse()
        .unwrap_or(0)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((sorted.len() as f64) * p).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn summary(name: &str, mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    let p99 = percentile(&samples, 0.99);
    println!(
        "{name:>8}: {:>8} requests  p50 {:>7.3} ms  p99 {:>7.3} ms  p99.9 {:>7.3} ms  max {:>7.3} ms",
        samples.len(),
        percentile(&samples, 0.50).as_secs_f64() * 1e3,
        p99.as_secs_f64() * 1e3,
        percentile(&samples, 0.999).as_secs_f64() * 1e3,
        samples.last().copied().unwrap_or_default().as_secs_f64() * 1e3,
    );
    p99
}

fn main() {
    let mut args = std::env::args().skip(1);
    let port: u16 = args
        .next()
        .and_then(|p| p.parse().ok())
        .expect("usage: rewrite_latency PORT [REWRITES]");
    let rewrites: usize = args.next().and_then(|r| r.parse().ok()).unwrap_or(5);
    let mut control = Conn::connect(port);
    let keys = key_count(&mut control).max(1);

    let stop = Arc::new(AtomicBool::new(false));
    let samples: Arc<Mutex<Vec<(Instant, Duration)>>> = Arc::default();
    let client = {
        let stop = Arc::clone(&stop);
        let samples = Arc::clone(&samples);
        std::thread::spawn(move || {
            let mut conn = Conn::connect(port);
            let mut local = Vec::new();
            // xorshift: no dependency, the same sequence for both servers.
            let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
            let value = b"vvvvvvvvvvvvvvvv";
            while !stop.load(Ordering::Relaxed) {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                let key = format!("key:{:012}", state % keys);
                let started = Instant::now();
                conn.command(&[b"SET", key.as_bytes(), value]);
                local.push((started, started.elapsed()));
                let started = Instant::now();
                conn.command(&[b"GET", key.as_bytes()]);
                local.push((started, started.elapsed()));
            }
            *samples.lock().unwrap() = local;
        })
    };

    std::thread::sleep(GAP);
    let mut windows = Vec::new();
    for _ in 0..rewrites {
        let reply = control.command(&[b"BGREWRITEAOF"]);
        let started = Instant::now();
        assert!(
            reply.starts_with(b"+Background append only file rewriting"),
            "BGREWRITEAOF: {}",
            String::from_utf8_lossy(&reply)
        );
        while rewrite_running(&mut control) {
            std::thread::sleep(POLL);
        }
        windows.push((started, Instant::now()));
        std::thread::sleep(GAP);
    }
    stop.store(true, Ordering::Relaxed);
    client.join().unwrap();
    let samples = std::mem::take(&mut *samples.lock().unwrap());

    let (during, outside): (Vec<_>, Vec<_>) = samples
        .into_iter()
        .partition(|(at, _)| windows.iter().any(|(s, e)| at >= s && at < e));
    let mean_rewrite: f64 = windows
        .iter()
        .map(|(s, e)| e.duration_since(*s).as_secs_f64())
        .sum::<f64>()
        / windows.len().max(1) as f64;
    println!("{keys} keys, {rewrites} rewrites, mean rewrite {mean_rewrite:.3} s");
    let before = summary("outside", outside.into_iter().map(|(_, d)| d).collect());
    let during = summary("during", during.into_iter().map(|(_, d)| d).collect());
    println!(
        "p99 during / outside: {:.2}x",
        during.as_secs_f64() / before.as_secs_f64().max(1e-9)
    );
}
