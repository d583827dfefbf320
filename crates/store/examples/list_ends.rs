//! Nanoseconds per push and pop at each end of one list, through the
//! store's API, as redis-benchmark's list tests use it: 200,000 `LPUSH`,
//! 200,000 `RPUSH`, then 200,000 `LPOP` (the head chunk, from the
//! `LPUSH`ed end) and 200,000 `RPOP`, one element per call. Repeated
//! `rounds` times; the best round of each is printed.
//!
//! ```sh
//! cargo run --release -p redigo-store --example list_ends [rounds] [elements] [phases]
//! ```
//!
//! `phases` (1 to 4, default 4) stops after that many of the four steps:
//! under `valgrind --tool=callgrind`, the difference in instructions
//! between runs with `phases` 2 and 3 is the cost of the `LPOP`s alone, a
//! figure the load of a shared machine does not disturb.
//!
//! Used to compare the chunk layouts (before and after the head room that
//! lets `LPOP`/`LPUSH` leave the rest of the chunk in place) without the
//! network and the noise of a shared machine that `redis-benchmark` adds.

use std::time::Instant;

use redigo_store::ops::lists::End;
use redigo_store::{Store, StoreConfig};

fn main() {
    let mut args = std::env::args().skip(1);
    let rounds: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(5);
    let n: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(200_000);
    let phases: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(4);
    // redis-benchmark's element: 3 bytes ("xxx").
    let element: &[u8] = b"xxx";
    let mut best = [f64::MAX; 4];
    for _ in 0..rounds {
        let mut store = Store::new(StoreConfig::default());
        let mut db = store.db(0, 1).expect("db 0");
        let mut time = |slot: usize, op: &mut dyn FnMut()| {
            if slot >= phases {
                return;
            }
            let start = Instant::now();
            for _ in 0..n {
                op();
            }
            let ns = start.elapsed().as_nanos() as f64 / n as f64;
            best[slot] = best[slot].min(ns);
        };
        time(0, &mut || {
            db.list_push(b"mylist", End::Left, &[element], false)
                .unwrap();
        });
        time(1, &mut || {
            db.list_push(b"mylist", End::Right, &[element], false)
                .unwrap();
        });
        time(2, &mut || {
            db.list_pop(b"mylist", End::Left, None).unwrap();
        });
        time(3, &mut || {
            db.list_pop(b"mylist", End::Right, None).unwrap();
        });
    }
    for (name, ns) in ["LPUSH", "RPUSH", "LPOP", "RPOP"]
        .iter()
        .zip(best)
        .take(phases)
    {
        println!("{name}: {ns:.1} ns per call (best of {rounds} rounds of {n})");
    }
}
