//! [`BackgroundFreer`]: the thread that frees big values off the command
//! path.
//!
//! The store moves every big value that leaves the keyspace (a collection
//! with more than `LAZYFREE_THRESHOLD` elements in its big encoding, or a
//! whole table flushed by `FLUSHDB`/`FLUSHALL`), and the chunks an
//! `LTRIM`/`LREM` cuts out of a list when there are more than
//! `LAZYFREE_THRESHOLD` of them, into its garbage list
//! instead of freeing it (see `redigo_store::garbage`). The dataset drains
//! that list at the end of each batch, each active-expiry round and each
//! loading step, and hands it here; this thread drops it, which is what
//! frees. So `DEL` of a million-field hash costs the command a move of a
//! pointer, where Redis 7.0 without `lazyfree-lazy-*` blocks for hundreds
//! of milliseconds. Redis's lazyfree does the same on its `BIO_LAZY_FREE`
//! thread.
//!
//! Memory given back to the system after large frees (`malloc_trim`, see
//! [`crate::memory_release`]) waits until this thread is idle, so a trim
//! never runs before the memory it is for was freed.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc;

use redigo_store::Garbage;

/// The background freeing thread and what it reports. See the module docs.
#[derive(Debug)]
pub struct BackgroundFreer {
    sender: mpsc::Sender<Vec<Garbage>>,
    counters: Arc<FreerCounters>,
}

#[derive(Debug, Default)]
struct FreerCounters {
    /// Batches handed over and not freed yet.
    in_flight: AtomicUsize,
    /// Values (or tables) freed so far.
    freed: AtomicU64,
}

impl BackgroundFreer {
    /// Starts the thread; it ends when the freer is dropped, after freeing
    /// what it was given.
    pub fn start() -> std::io::Result<BackgroundFreer> {
        let (sender, receiver) = mpsc::channel::<Vec<Garbage>>();
        let counters = Arc::new(FreerCounters::default());
        let thread_counters = Arc::clone(&counters);
        std::thread::Builder::new()
            .name("redigo-free".into())
            .spawn(move || {
                for batch in receiver {
                    let count = batch.len() as u64;
                    drop(batch);
                    thread_counters.freed.fetch_add(count, Ordering::Relaxed);
                    thread_counters.in_flight.fetch_sub(1, Ordering::Release);
                }
            })?;
        Ok(BackgroundFreer { sender, counters })
    }

    /// Hands `garbage` to the thread (frees it here if the thread is gone).
    pub fn free(&self, garbage: Vec<Garbage>) {
        if garbage.is_empty() {
            return;
        }
        self.counters.in_flight.fetch_add(1, Ordering::Acquire);
        if let Err(mpsc::SendError(garbage)) = self.sender.send(garbage) {
            self.counters.in_flight.fetch_sub(1, Ordering::Release);
            drop(garbage);
        }
    }

    /// Whether everything handed over has been freed.
    pub fn is_idle(&self) -> bool {
        self.counters.in_flight.load(Ordering::Acquire) == 0
    }

    /// How many values (or flushed tables) the thread has freed.
    pub fn freed(&self) -> u64 {
        self.counters.freed.load(Ordering::Relaxed)
    }
}
