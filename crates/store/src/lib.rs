//! The in-memory keyspace of Redigo, usable on its own: numbered databases of
//! binary-safe keys holding strings, hashes, sets and sorted sets, Redis 7.0 command
//! semantics (replies and error texts),
//! TTLs with lazy and active expiry, `SCAN` with Redis's guarantee, and
//! point-in-time snapshots taken while writers carry on.
//!
//! The crate is pure and synchronous: no threads, no I/O, no clock of its own.
//! The caller passes the current time (ms since the Unix epoch) into every
//! command, so tests control time exactly ([`ManualClock`]), and a server
//! wraps the [`Store`] in whatever lock or task it likes. Command-argument
//! parsing stays with the caller; the store owns what the commands mean and
//! the exact error texts ([`StoreError`]'s `Display`).
//!
//! ```
//! use redigo_store::{Expiry, SetOptions, SetTtl, Store, StoreConfig};
//!
//! let mut store = Store::new(StoreConfig::default());
//! let now = 1_700_000_000_000; // ms since the Unix epoch
//! let mut db = store.db(0, now).unwrap();
//! db.set(b"greeting", b"hello", SetOptions { ttl: SetTtl::Expire(Expiry::Seconds(10)), ..Default::default() })
//!     .unwrap();
//! assert_eq!(db.get(b"greeting").unwrap(), Some(&b"hello"[..]));
//! assert_eq!(db.ttl(b"greeting"), 10);
//! assert_eq!(db.incr_by(b"greeting", 1).unwrap_err().to_string(), "ERR value is not an integer or out of range");
//!
//! // Eleven seconds later the key is gone, and the server learns about it.
//! let mut db = store.db(0, now + 11_000).unwrap();
//! assert_eq!(db.get(b"greeting").unwrap(), None);
//! let expired = store.drain_expired();
//! assert_eq!(expired[0].key, &b"greeting"[..]);
//! ```
//!
//! # How it is built
//!
//! * `entry` (private): each key, its value and its metadata live in **one**
//!   allocation (a header with kind, flags, a 24-bit access clock for
//!   `OBJECT IDLETIME` and varint lengths, the optional deadline, key and value),
//!   referenced from the table by a thin 8-byte pointer.
//! * `table` (private): each database is an extendible hash table of bounded
//!   segments, so growth never rehashes everything at once.
//! * [`db`] and [`store`]: a database keeps its table, expiry heap and TTL
//!   counters in step; the store holds the numbered databases.
//! * [`expiry_heap`]: a min-heap of `(deadline, key hash)` for active
//!   expiry (16 bytes per TTL, no copy of the key), with stale entries
//!   skipped and compacted in bounded steps.
//! * [`snapshot`]: Dragonfly-style fork-less snapshots, copy-on-write per
//!   segment.
//! * [`scan`]: `SCAN` cursors are positions in the hash space.
//! * [`ops`]: the commands, as methods of [`DbHandle`].
//! * [`kinds`]: one home per value kind (`TYPE` name, `OBJECT ENCODING`,
//!   memory, deep copy, free, snapshot image, rewrite commands), reached
//!   through exhaustive matches on [`ValueKind`] and [`Value`]. Small hashes
//!   and sets are packed inline in their entry (`listpack`, `intset`); big
//!   ones live out of line in a chunked, copy-on-write table of packed
//!   arenas (`kinds::chunked`), so a snapshot freezes O(chunks) handles and a
//!   writer copies one chunk. A big sorted set is an order-statistic B-tree
//!   of `Arc`-shared nodes beside such a table ([`kinds::zset`]): a snapshot
//!   clones its root, a writer copies one root-to-leaf path.
//! * [`garbage`]: big values leaving the keyspace are handed to the caller
//!   to free on another thread, never freed on the command path.
//!
//! # Figures
//!
//! Measured on the development machine with `--release` (details, method and
//! the oracle's side in `docs/store.md`):
//!
//! * one million keys of 13 bytes with 16-byte values: **71.9 bytes per key**
//!   of RSS growth (`examples/memory.rs`), against **109.7** for
//!   redis-server 7.0.15 loading the same keys;
//! * a snapshot of those million keys while a writer overwrites random keys:
//!   `begin_snapshot` takes about 2 µs; a write that is the first touch of a
//!   segment pays its copy, about 35 µs at the median and under 200 µs at
//!   p99; other writes are unaffected (about 1 µs median); a `snapshot_next`
//!   batch of 1000 entries takes about 25 µs; the extra memory peaks at
//!   44-63% of `used_memory` when 2-20% of the keys, spread uniformly, are
//!   rewritten during the walk, and at 0.2% when writes are rare
//!   (`examples/snapshot_pause.rs`);
//! * bytes per element (RSS), beside redis-server 7.0.15 loading the same
//!   data: 100,000 hashes of 10 short fields **16.2** (Redis 21.9-23.7), one
//!   hash of 1,000,000 fields **47.7** (81.5), 100,000 sets of 10 small
//!   integers **6.6** (9.7-10.1), one set of 1,000,000 8-byte strings
//!   **25.9** (61.2) (`examples/collections_memory.rs`); 100,000 lists of
//!   10 short elements **9.8** (22.6), one list of 1,000,000 8-byte
//!   elements **10.1** (10.7) (`examples/collections_memory.rs`), one list
//!   of 1,000,000 `user:event:N` elements with `list-compress-depth` 1
//!   **5.9** (6.5) (server RSS; interior chunks LZF-compressed, [`lzf`]); 100,000
//!   sorted sets of 10 members **9.8** (16.0), one of 1,000,000 members
//!   **76.9** (112.7) (`examples/zset_memory.rs`);
//! * `HSET` on a 1,000,000-field hash while a snapshot walks it: p99 under
//!   30 µs, p99.9 under about 100 µs, against 0.5-1 µs without a snapshot;
//!   `DEL` of it with background freeing: about 4 µs on the command path
//!   (`examples/collection_snapshot_pause.rs`).

pub mod clock;
pub mod db;
mod db_set;
mod entry;
pub mod error;
pub mod expiry_heap;
pub mod garbage;
pub mod glob;
pub mod kinds;
pub mod lzf;
pub mod numeric;
pub mod ops;
pub mod scan;
pub mod snapshot;
pub mod store;
mod table;
pub mod value;
mod varint;
pub mod watch;

pub use clock::{Clock, ManualClock, SystemClock};
pub use db::ExpiredKey;
pub use error::StoreError;
pub use expiry_heap::ExpiryHeap;
pub use garbage::Garbage;
pub use kinds::{LAZYFREE_THRESHOLD, REWRITE_ITEMS_PER_COMMAND};
pub use ops::expire::{ExpireCondition, ExpireOutcome, Expiry};
pub use ops::strings::{GetExEffect, GetExTtl, SetCondition, SetOptions, SetOutcome, SetTtl};
pub use scan::{DEFAULT_SCAN_COUNT, ScanOptions, ScanPage};
pub use snapshot::{SnapshotEntry, SnapshotHandle};
pub use store::{
    DEFAULT_DATABASES, DEFAULT_MAX_STRING_LEN, DbHandle, DbOverhead, EncodingLimits, KeyspaceInfo,
    SET_MAX_INTSET_ENTRIES_CAP, SNAPSHOT_STEP_MAX_TABLES, Store, StoreConfig,
};
pub use value::{HashValue, ListValue, SetValue, Value, ValueKind, ZsetValue};
pub use watch::{KeyPresence, SignalCause, WatchSignal};
