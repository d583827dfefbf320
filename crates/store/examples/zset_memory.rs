//! Bytes per member of sorted sets, measured as the growth of the process's
//! resident set size (RSS) while they are loaded, beside the same data
//! loaded into redis-server (issue 17's two cases, one per run):
//!
//! ```sh
//! cargo run --release -p redigo-store --example zset_memory -- small   # or big
//! # The same data for redis-server, as RESP commands for `redis-cli --pipe`:
//! cargo run --release -p redigo-store --example zset_memory -- small --resp | redis-cli -p PORT --pipe
//! ```
//!
//! * `small`: 100,000 sorted sets `zset:000000`.. of 10 members `m0`..`m9`
//!   with integer scores (`listpack` in both servers);
//! * `big`: one sorted set of 1,000,000 members `member:N` with scores
//!   drawn as doubles with a fraction (so every score takes its 8 bytes),
//!   a few ties among them (`skiplist`).
//!
//! Linux only (reads `/proc/self/statm`).

mod common;

use common::{Lcg, resident_bytes};
use std::io::Write;

use redigo_store::ops::zsets::ZaddFlags;
use redigo_store::{Store, StoreConfig};

const SMALL_KEYS: usize = 100_000;
const SMALL_MEMBERS: usize = 10;
const BIG: usize = 1_000_000;
/// Members per generated command for the big case.
const BATCH: usize = 100;

/// The score of the big set's member `i`.
fn big_score(rng: &mut Lcg) -> String {
    format!("{}.{:03}", rng.next(500_000), rng.next(1000))
}

/// The `ZADD` commands of a case, as argument vectors, handed to `run`.
fn commands(case: &str, run: &mut dyn FnMut(&[Vec<u8>])) -> usize {
    match case {
        "small" => {
            for i in 0..SMALL_KEYS {
                let mut args = vec![b"ZADD".to_vec(), format!("zset:{i:06}").into_bytes()];
                for j in 0..SMALL_MEMBERS {
                    args.push((i % 1000 + j).to_string().into_bytes());
                    args.push(format!("m{j}").into_bytes());
                }
                run(&args);
            }
            SMALL_KEYS * SMALL_MEMBERS
        }
        "big" => {
            let mut rng = Lcg(11);
            for start in (0..BIG).step_by(BATCH) {
                let mut args = vec![b"ZADD".to_vec(), b"bigzset".to_vec()];
                for i in start..start + BATCH {
                    args.push(big_score(&mut rng).into_bytes());
                    args.push(format!("member:{i}").into_bytes());
                }
                run(&args);
            }
            BIG
        }
        other => panic!("unknown case {other:?}: use small or big"),
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let case = args.first().map_or("small", String::as_str).to_owned();
    if args.iter().any(|a| a == "--resp") {
        let stdout = std::io::stdout();
        let mut out = std::io::BufWriter::new(stdout.lock());
        commands(&case, &mut |args| {
            let mut buf = format!("*{}\r\n", args.len()).into_bytes();
            for arg in args {
                buf.extend_from_slice(format!("${}\r\n", arg.len()).as_bytes());
                buf.extend_from_slice(arg);
                buf.extend_from_slice(b"\r\n");
            }
            out.write_all(&buf).expect("write stdout");
        });
        return;
    }
    let mut store = Store::new(StoreConfig::default());
    let before = resident_bytes();
    let started = std::time::Instant::now();
    let elements = {
        let mut db = store.db(0, 0).expect("db 0");
        commands(&case, &mut |args| {
            let pairs: Vec<(f64, &[u8])> = args[2..]
                .chunks(2)
                .map(|p| {
                    let score = redigo_store::numeric::parse_score(&p[0]).expect("score");
                    (score, &p[1][..])
                })
                .collect();
            db.zadd(&args[1], ZaddFlags::default(), &pairs)
                .expect("ZADD");
        })
    };
    let elapsed = started.elapsed();
    let grown = resident_bytes().saturating_sub(before);
    let mut db = store.db(0, 0).expect("db 0");
    let sample = if case == "small" {
        "zset:000000"
    } else {
        "bigzset"
    };
    println!(
        "case {case}: {elements} members, {} keys, sample encoding {:?}",
        db.dbsize(),
        db.object_encoding(sample.as_bytes())
    );
    println!("load time: {:.0} ms", elapsed.as_secs_f64() * 1e3);
    println!(
        "RSS growth: {grown} bytes = {:.1} bytes/member",
        grown as f64 / elements as f64
    );
    println!(
        "used_memory() estimate: {} bytes = {:.1} bytes/member",
        store.used_memory(),
        store.used_memory() as f64 / elements as f64
    );
}
