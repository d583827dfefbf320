//! Bytes per element of hashes, sets and lists, measured as the growth of the
//! process's resident set size (RSS) while they are loaded: the four cases
//! of issue 15, one per run so that each starts from a clean heap.
//!
//! ```sh
//! cargo run --release -p redigo-store --example collections_memory -- a   # or b .. f
//! # The same data for redis-server, as RESP commands for `redis-cli --pipe`:
//! cargo run --release -p redigo-store --example collections_memory -- a --resp | redis-cli -p PORT --pipe
//! ```
//!
//! * `a`: 100,000 hashes `hash:000000`.. of 10 fields `f0`..`f9`, each
//!   value 8 digits (`00000000`..: strings, not integers, for Redis too);
//! * `b`: one hash of 1,000,000 fields `field:N` with values `value:N`;
//! * `c`: 100,000 sets `set:000000`.. of 10 small integers (`0`..`9`);
//! * `d`: one set of 1,000,000 8-byte strings (`00000000`..);
//! * `e`: 100,000 lists `list:000000`.. of 10 short elements (`e0`..`e9`);
//! * `f`: one list of 1,000,000 8-byte elements (`e0000000`..: not
//!   integers, which Redis would pack smaller).
//!
//! Linux only (reads `/proc/self/statm`).

mod common;

use common::resident_bytes;
use std::io::Write;

use redigo_store::ops::lists::End;
use redigo_store::{Store, StoreConfig};

const SMALL_KEYS: usize = 100_000;
const SMALL_FIELDS: usize = 10;
const BIG: usize = 1_000_000;
/// Elements per generated command for the big cases.
const BATCH: usize = 100;

/// The commands of a case, as argument vectors, handed to `run`.
fn commands(case: &str, run: &mut dyn FnMut(&[Vec<u8>])) -> usize {
    match case {
        "a" => {
            for i in 0..SMALL_KEYS {
                let mut args = vec![b"HSET".to_vec(), format!("hash:{i:06}").into_bytes()];
                for j in 0..SMALL_FIELDS {
                    args.push(format!("f{j}").into_bytes());
                    args.push(format!("{:08}", i * SMALL_FIELDS + j).into_bytes());
                }
                run(&args);
            }
            SMALL_KEYS * SMALL_FIELDS
        }
        "b" => {
            for start in (0..BIG).step_by(BATCH) {
                let mut args = vec![b"HSET".to_vec(), b"bighash".to_vec()];
                for i in start..start + BATCH {
                    args.push(format!("field:{i}").into_bytes());
                    args.push(format!("value:{i}").into_bytes());
                }
                run(&args);
            }
            BIG
        }
        "c" => {
            for i in 0..SMALL_KEYS {
                let mut args = vec![b"SADD".to_vec(), format!("set:{i:06}").into_bytes()];
                args.extend((0..SMALL_FIELDS).map(|j| j.to_string().into_bytes()));
                run(&args);
            }
            SMALL_KEYS * SMALL_FIELDS
        }
        "d" => {
            for start in (0..BIG).step_by(BATCH) {
                let mut args = vec![b"SADD".to_vec(), b"bigset".to_vec()];
                args.extend((start..start + BATCH).map(|i| format!("{i:08}").into_bytes()));
                run(&args);
            }
            BIG
        }
        "e" => {
            for i in 0..SMALL_KEYS {
                let mut args = vec![b"RPUSH".to_vec(), format!("list:{i:06}").into_bytes()];
                args.extend((0..SMALL_FIELDS).map(|j| format!("e{j}").into_bytes()));
                run(&args);
            }
            SMALL_KEYS * SMALL_FIELDS
        }
        "f" => {
            for start in (0..BIG).step_by(BATCH) {
                let mut args = vec![b"RPUSH".to_vec(), b"biglist".to_vec()];
                args.extend((start..start + BATCH).map(|i| format!("e{i:07}").into_bytes()));
                run(&args);
            }
            BIG
        }
        other => panic!("unknown case {other:?}: use a, b, c, d, e or f"),
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let case = args.first().map_or("a", String::as_str).to_owned();
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
            let key = &args[1];
            if args[0] == b"HSET" {
                let pairs: Vec<(&[u8], &[u8])> = args[2..]
                    .chunks(2)
                    .map(|p| (&p[0][..], &p[1][..]))
                    .collect();
                db.hset(key, &pairs).expect("HSET");
            } else if args[0] == b"RPUSH" {
                db.list_push(key, End::Right, &args[2..], false)
                    .expect("RPUSH");
            } else {
                db.sadd(key, &args[2..]).expect("SADD");
            }
        })
    };
    let elapsed = started.elapsed();
    let grown = resident_bytes().saturating_sub(before);
    let mut db = store.db(0, 0).expect("db 0");
    let sample = match case.as_str() {
        "a" => "hash:000000",
        "b" => "bighash",
        "c" => "set:000000",
        "d" => "bigset",
        "e" => "list:000000",
        _ => "biglist",
    };
    println!(
        "case {case}: {elements} elements, {} keys, sample encoding {:?}",
        db.dbsize(),
        db.object_encoding(sample.as_bytes())
    );
    println!("load time: {:.0} ms", elapsed.as_secs_f64() * 1e3);
    println!(
        "RSS growth: {grown} bytes = {:.1} bytes/element",
        grown as f64 / elements as f64
    );
    println!(
        "used_memory() estimate: {} bytes = {:.1} bytes/element",
        store.used_memory(),
        store.used_memory() as f64 / elements as f64
    );
}
