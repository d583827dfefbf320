//! Issue 17's structure comparison: Redis's skiplist (a port of `t_zset.c`'s
//! `zskiplist` with its member-to-score `dict`) beside the order-statistic
//! B-tree of `kinds::zset` (driven through the store's API), on the same
//! operations: `ZADD` of 1,000,000 members with random scores, `ZRANK` of
//! random members, and a range of 10 at a random rank. Prints ns/op and the
//! heap bytes per member (live bytes counted by a global allocator wrapper,
//! requested sizes: malloc's own per-allocation overhead comes on top, and
//! the skiplist makes two allocations per member where the B-tree makes
//! about one per 90).
//!
//! ```sh
//! cargo run --release -p redigo-store --example zset_structures [members]
//! ```
//!
//! The port is faithful where it matters for cost: a node is one
//! allocation of score, member handle, backward pointer and `level`
//! `(forward, span)` pairs inline; levels are drawn with `ZSKIPLIST_P` 0.25
//! up to `ZSKIPLIST_MAXLEVEL` 32; insertion, rank and rank lookup are
//! `zslInsert`, `zslGetRank` and `zslGetElementByRank`. Two differences,
//! both stated: the member is a `Box<[u8]>` (16 bytes in the node, where an
//! `sds` pointer is 8 and its allocation has a 3-byte header and a NUL),
//! and the map is a `std` `HashMap` from the node's member (shared, not
//! copied, as Redis's dict shares the `sds`) to the score, where Redis's
//! dict has 24-byte chained entries and a bucket array. The B-tree side
//! also pays the store's key lookup and entry bookkeeping on every call.

// The port keeps t_zset.c's indexed loops over `update`/`rank`.
#![allow(clippy::needless_range_loop)]

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::ptr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use common::Lcg;
use redigo_store::ops::zsets::{RangeQuery, RangeSpec, ZaddFlags};
use redigo_store::{Store, StoreConfig};

// ---------------------------------------------------------------------------
// Counting allocator.

struct Counting;

static LIVE_BYTES: AtomicUsize = AtomicUsize::new(0);
static LIVE_ALLOCS: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE_BYTES.fetch_add(layout.size(), Ordering::Relaxed);
        LIVE_ALLOCS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE_BYTES.fetch_sub(layout.size(), Ordering::Relaxed);
        LIVE_ALLOCS.fetch_sub(1, Ordering::Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE_BYTES.fetch_add(new_size, Ordering::Relaxed);
        LIVE_BYTES.fetch_sub(layout.size(), Ordering::Relaxed);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn live() -> (usize, usize) {
    (
        LIVE_BYTES.load(Ordering::Relaxed),
        LIVE_ALLOCS.load(Ordering::Relaxed),
    )
}

// ---------------------------------------------------------------------------
// Redis's zskiplist (t_zset.c), ported.

const ZSKIPLIST_MAXLEVEL: usize = 32;
const ZSKIPLIST_P: f64 = 0.25;

#[repr(C)]
#[derive(Clone, Copy)]
struct Level {
    forward: *mut Node,
    span: usize,
}

/// `zskiplistNode`: the levels follow the header in the same allocation.
#[repr(C)]
struct Node {
    ele: Box<[u8]>,
    score: f64,
    backward: *mut Node,
    height: usize,
    // `height` Levels follow.
}

fn node_layout(height: usize) -> Layout {
    Layout::new::<Node>()
        .extend(Layout::array::<Level>(height).expect("layout"))
        .expect("layout")
        .0
        .pad_to_align()
}

unsafe fn level<'a>(node: *mut Node, i: usize) -> &'a mut Level {
    unsafe {
        let base = (node as *mut u8).add(Layout::new::<Node>().size()) as *mut Level;
        &mut *base.add(i)
    }
}

fn create_node(height: usize, score: f64, ele: Box<[u8]>) -> *mut Node {
    unsafe {
        let node = std::alloc::alloc(node_layout(height)) as *mut Node;
        ptr::write(
            node,
            Node {
                ele,
                score,
                backward: ptr::null_mut(),
                height,
            },
        );
        for i in 0..height {
            *level(node, i) = Level {
                forward: ptr::null_mut(),
                span: 0,
            };
        }
        node
    }
}

struct SkipList {
    header: *mut Node,
    tail: *mut Node,
    length: usize,
    level: usize,
    rng: u64,
}

impl SkipList {
    fn new() -> SkipList {
        SkipList {
            header: create_node(ZSKIPLIST_MAXLEVEL, 0.0, Box::new([])),
            tail: ptr::null_mut(),
            length: 0,
            level: 1,
            rng: 0x9E37_79B9_7F4A_7C15,
        }
    }

    /// `zslRandomLevel`.
    fn random_level(&mut self) -> usize {
        let threshold = (ZSKIPLIST_P * 65535.0) as u64;
        let mut level = 1;
        loop {
            self.rng ^= self.rng << 13;
            self.rng ^= self.rng >> 7;
            self.rng ^= self.rng << 17;
            if (self.rng & 0xFFFF) < threshold && level < ZSKIPLIST_MAXLEVEL {
                level += 1;
            } else {
                return level;
            }
        }
    }

    fn less(node: *mut Node, score: f64, ele: &[u8]) -> bool {
        unsafe { (*node).score < score || ((*node).score == score && &*(*node).ele < ele) }
    }

    /// `zslInsert` (the member is absent).
    fn insert(&mut self, score: f64, ele: Box<[u8]>) -> *mut Node {
        let mut update = [ptr::null_mut::<Node>(); ZSKIPLIST_MAXLEVEL];
        let mut rank = [0usize; ZSKIPLIST_MAXLEVEL];
        unsafe {
            let mut x = self.header;
            for i in (0..self.level).rev() {
                rank[i] = if i == self.level - 1 { 0 } else { rank[i + 1] };
                while !level(x, i).forward.is_null() && Self::less(level(x, i).forward, score, &ele)
                {
                    rank[i] += level(x, i).span;
                    x = level(x, i).forward;
                }
                update[i] = x;
            }
            let height = self.random_level();
            if height > self.level {
                for i in self.level..height {
                    rank[i] = 0;
                    update[i] = self.header;
                    level(update[i], i).span = self.length;
                }
                self.level = height;
            }
            let x = create_node(height, score, ele);
            for i in 0..height {
                level(x, i).forward = level(update[i], i).forward;
                level(update[i], i).forward = x;
                level(x, i).span = level(update[i], i).span - (rank[0] - rank[i]);
                level(update[i], i).span = (rank[0] - rank[i]) + 1;
            }
            for i in height..self.level {
                level(update[i], i).span += 1;
            }
            (*x).backward = if update[0] == self.header {
                ptr::null_mut()
            } else {
                update[0]
            };
            if level(x, 0).forward.is_null() {
                self.tail = x;
            } else {
                (*level(x, 0).forward).backward = x;
            }
            self.length += 1;
            x
        }
    }

    /// `zslGetRank`: 1-based, 0 when absent.
    fn rank(&self, score: f64, ele: &[u8]) -> usize {
        let mut rank = 0;
        unsafe {
            let mut x = self.header;
            for i in (0..self.level).rev() {
                while !level(x, i).forward.is_null() && {
                    let f = level(x, i).forward;
                    (*f).score < score || ((*f).score == score && &*(*f).ele <= ele)
                } {
                    rank += level(x, i).span;
                    x = level(x, i).forward;
                }
                if x != self.header && &*(*x).ele == ele {
                    return rank;
                }
            }
        }
        0
    }

    /// `zslGetElementByRank` (1-based).
    fn by_rank(&self, rank: usize) -> *mut Node {
        let mut traversed = 0;
        unsafe {
            let mut x = self.header;
            for i in (0..self.level).rev() {
                while !level(x, i).forward.is_null() && traversed + level(x, i).span <= rank {
                    traversed += level(x, i).span;
                    x = level(x, i).forward;
                }
                if traversed == rank {
                    return x;
                }
            }
        }
        ptr::null_mut()
    }
}

impl Drop for SkipList {
    fn drop(&mut self) {
        unsafe {
            let mut x = self.header;
            while !x.is_null() {
                let next = level(x, 0).forward;
                let height = (*x).height;
                ptr::drop_in_place(x);
                std::alloc::dealloc(x as *mut u8, node_layout(height));
                x = next;
            }
        }
    }
}

/// The dict's key: the node's member, shared (not copied).
struct MemberRef(*const [u8]);

impl MemberRef {
    fn bytes(&self) -> &[u8] {
        unsafe { &*self.0 }
    }
}

impl Hash for MemberRef {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.bytes().hash(state)
    }
}

impl PartialEq for MemberRef {
    fn eq(&self, other: &MemberRef) -> bool {
        self.bytes() == other.bytes()
    }
}

impl Eq for MemberRef {}

impl std::borrow::Borrow<[u8]> for MemberRef {
    fn borrow(&self) -> &[u8] {
        self.bytes()
    }
}

/// Redis's `skiplist` encoding: `zset { dict, zsl }`.
struct RedisZset {
    dict: HashMap<MemberRef, f64>,
    zsl: SkipList,
}

impl RedisZset {
    fn new() -> RedisZset {
        RedisZset {
            dict: HashMap::new(),
            zsl: SkipList::new(),
        }
    }

    fn add(&mut self, score: f64, member: &[u8]) {
        assert!(!self.dict.contains_key(member), "new members only");
        let node = self.zsl.insert(score, member.into());
        let key = MemberRef(unsafe { &*(*node).ele as *const [u8] });
        self.dict.insert(key, score);
    }

    /// 0-based rank, as `ZRANK` replies.
    fn zrank(&self, member: &[u8]) -> Option<usize> {
        let score = *self.dict.get(member)?;
        Some(self.zsl.rank(score, member) - 1)
    }

    /// `ZRANGE key start start+count-1` (copies, as a reply would).
    fn zrange(&self, start: usize, count: usize) -> Vec<(Vec<u8>, f64)> {
        let mut out = Vec::with_capacity(count);
        let mut x = self.zsl.by_rank(start + 1);
        while !x.is_null() && out.len() < count {
            unsafe {
                out.push(((*x).ele.to_vec(), (*x).score));
                x = level(x, 0).forward;
            }
        }
        out
    }
}

// ---------------------------------------------------------------------------

const DEFAULT_MEMBERS: usize = 1_000_000;
const TIMED: usize = 200_000;
const RANGE: usize = 10;

/// Members and scores as `zset_memory big` makes them.
fn data(members: usize) -> Vec<(f64, Vec<u8>)> {
    let mut rng = Lcg(11);
    (0..members)
        .map(|i| {
            let score: f64 = format!("{}.{:03}", rng.next(500_000), rng.next(1000))
                .parse()
                .expect("score");
            (score, format!("member:{i}").into_bytes())
        })
        .collect()
}

fn ns_per(started: Instant, ops: usize) -> f64 {
    started.elapsed().as_nanos() as f64 / ops as f64
}

struct Row {
    name: &'static str,
    /// Sum of the ranks and range lengths seen: both structures must agree.
    check: usize,
    zadd: f64,
    zrank: f64,
    zrange: f64,
    bytes: f64,
    allocs: f64,
}

fn main() {
    let members = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(DEFAULT_MEMBERS);
    let items = data(members);
    let mut rng = Lcg(3);
    let probes: Vec<usize> = (0..TIMED).map(|_| rng.next(members)).collect();
    let starts: Vec<usize> = (0..TIMED).map(|_| rng.next(members - RANGE)).collect();
    let mut rows = Vec::new();

    // Redis's skiplist + dict.
    {
        let (bytes0, allocs0) = live();
        let mut zset = RedisZset::new();
        let started = Instant::now();
        for (score, member) in &items {
            zset.add(*score, member);
        }
        let zadd = ns_per(started, members);
        let (bytes1, allocs1) = live();
        let started = Instant::now();
        let mut check = 0;
        for &i in &probes {
            check += zset.zrank(&items[i].1).expect("member");
        }
        let zrank = ns_per(started, TIMED);
        let started = Instant::now();
        for &start in &starts {
            check += zset.zrange(start, RANGE).len();
        }
        let zrange = ns_per(started, TIMED);
        rows.push(Row {
            name: "skiplist + dict (Redis's, ported)",
            check,
            zadd,
            zrank,
            zrange,
            bytes: (bytes1 - bytes0) as f64 / members as f64,
            allocs: (allocs1 - allocs0) as f64 / members as f64,
        });
    }

    // The B-tree + chunked map, through the store.
    {
        let mut store = Store::new(StoreConfig::default());
        let mut db = store.db(0, 0).expect("db 0");
        let (bytes0, allocs0) = live();
        let started = Instant::now();
        for (score, member) in &items {
            db.zadd(b"bigzset", ZaddFlags::default(), &[(*score, &member[..])])
                .expect("ZADD");
        }
        let zadd = ns_per(started, members);
        let (bytes1, allocs1) = live();
        let started = Instant::now();
        let mut check = 0;
        for &i in &probes {
            check += db
                .zrank(b"bigzset", &items[i].1, false)
                .expect("ZRANK")
                .expect("member")
                .0;
        }
        let zrank = ns_per(started, TIMED);
        let started = Instant::now();
        for &start in &starts {
            let query = RangeQuery {
                spec: RangeSpec::Rank(start as i64, (start + RANGE - 1) as i64),
                rev: false,
                limit: None,
            };
            check += db
                .zrange(b"bigzset", &query)
                .expect("ZRANGE")
                .expect("live")
                .len();
        }
        let zrange = ns_per(started, TIMED);
        rows.push(Row {
            name: "order-statistic B-tree + chunked map (kinds::zset)",
            check,
            zadd,
            zrank,
            zrange,
            bytes: (bytes1 - bytes0) as f64 / members as f64,
            allocs: (allocs1 - allocs0) as f64 / members as f64,
        });
    }

    assert_eq!(rows[0].check, rows[1].check, "same ranks and ranges");
    println!(
        "{members} members (`member:N`, scores N.NNN); {TIMED} timed ZRANK and ZRANGE of {RANGE}"
    );
    println!(
        "| structure | ZADD (new member) ns | ZRANK ns | ZRANGE of {RANGE} at a random rank ns | heap bytes/member | allocations/member |"
    );
    println!("| --- | ---: | ---: | ---: | ---: | ---: |");
    for row in rows {
        println!(
            "| {} | {:.0} | {:.0} | {:.0} | {:.1} | {:.3} |",
            row.name, row.zadd, row.zrank, row.zrange, row.bytes, row.allocs
        );
    }
}
