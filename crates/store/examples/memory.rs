//! Bytes per key for one million string keys, measured as the growth of the
//! process's resident set size (RSS) while they are loaded.
//!
//! ```sh
//! cargo run --release -p redigo-store --example memory [keys] [value_len]
//! ```
//!
//! Keys are 13 bytes (`key:000000000`, ...) and values 16 bytes by default,
//! the shape `docs/store.md` compares with redis-server 7.0.15. Linux only
//! (reads `/proc/self/statm`).

mod common;

use common::resident_bytes;
use redigo_store::{SetOptions, Store, StoreConfig};

const DEFAULT_KEYS: usize = 1_000_000;
const DEFAULT_VALUE_LEN: usize = 16;

fn main() {
    let mut args = std::env::args().skip(1);
    let keys: usize = args
        .next()
        .and_then(|a| a.parse().ok())
        .unwrap_or(DEFAULT_KEYS);
    let value_len: usize = args
        .next()
        .and_then(|a| a.parse().ok())
        .unwrap_or(DEFAULT_VALUE_LEN);
    let value = vec![b'x'; value_len];

    let mut store = Store::new(StoreConfig::default());
    let before = resident_bytes();
    let started = std::time::Instant::now();
    {
        let mut db = store.db(0, 0).expect("db 0 exists");
        for i in 0..keys {
            let key = format!("key:{i:09}");
            db.set(key.as_bytes(), &value, SetOptions::default())
                .expect("plain SET cannot fail");
        }
        assert_eq!(db.dbsize(), keys);
    }
    let elapsed = started.elapsed();
    let after = resident_bytes();
    let grown = after.saturating_sub(before);
    println!("keys: {keys}, key length: 13, value length: {value_len}");
    println!(
        "load time: {:.0} ms ({:.0} ns/SET)",
        elapsed.as_secs_f64() * 1e3,
        elapsed.as_nanos() as f64 / keys as f64
    );
    println!(
        "RSS growth: {grown} bytes = {:.1} bytes/key",
        grown as f64 / keys as f64
    );
    println!(
        "used_memory() estimate: {} bytes = {:.1} bytes/key",
        store.used_memory(),
        store.used_memory() as f64 / keys as f64
    );
}
