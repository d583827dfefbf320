//! [`Aof`]: the live append-only file, its writer thread and its fsync timer.
//!
//! # Threads and locks
//!
//! * The propagation sink, under the dataset lock, only takes the short
//!   queue lock to encode a batch into the [`WriteQueue`](super::WriteQueue).
//! * The connection that ran the batch then, with no dataset lock held,
//!   writes the queue itself ([`Aof::persist`]): if no one else is writing,
//!   it takes the live file, takes *everything* queued (its own batch and
//!   whatever other clients queued meanwhile), appends it with one
//!   `write(2)` and publishes the last sequence number the file holds. If
//!   someone else is writing, it waits for that writer to publish and looks
//!   again. This is Redis's "write the AOF buffer before replying" with no
//!   thread hand-off: waking a writer thread per batch cost two context
//!   switches a request and about 30% of the throughput under `everysec`.
//! * Under `appendfsync always` with one I/O thread (the default), the
//!   runtime writes and fsyncs once per tick for every connection that ran
//!   in it ([`tick_commit`](super::tick_commit)), as Redis's event loop
//!   does; the connection does not write its batch itself then. With more
//!   I/O threads the **fsync thread** ([`fsync_thread`](super::fsync_thread)) fsyncs back to back
//!   while written data is not yet durable, each fsync covering everything
//!   written before it began (group commit), and publishes what is durable.
//!   Connections wait for the publication without blocking a runtime
//!   thread. The exception is a connection that writes alone: it fsyncs
//!   itself, as Redis does, saving two thread wake-ups a request
//!   ([`lone_writer`](super::lone_writer)). Under `everysec` the same thread fsyncs about once a
//!   second through the writer's [`SyncHandle`](redigo_aof::SyncHandle); appends never wait for it.
//! * Replies go out only once [`Aof::hold_reply`] returns: under
//!   `everysec` and `no` the batch is then in the page cache (a process
//!   crash loses nothing acknowledged), under `always` it is also fsynced.
//!   This holds for readers too: a connection whose batch read keys while
//!   records queued before it were not yet committed waits for the last of
//!   them (see [`Aof::reply_must_wait`] and the connection module), so
//!   nothing a client saw can be lost. The committed sequence ([`Aof::committed`]) is
//!   advanced on write under `everysec` and `no`, on fsync under `always`;
//!   waiters are filed by sequence and woken exactly when it is reached.
//! * The **writer thread** is the fallback: it retries failed writes every
//!   [`WRITE_RETRY_INTERVAL`], writes what other paths queued without
//!   writing (the expiry cycle wakes it with [`Aof::flush_soon`]), and
//!   every [`FSYNC_TICK`](super::fsync_thread::FSYNC_TICK) the fsync thread wakes it if something is still
//!   queued, so no record waits in memory longer than that.
//! * Every holder of the live file's lock publishes on release (a
//!   `LiveGuard` does it on drop), so a waiter
//!   that found the file busy is always woken.
//!
//! # Parts
//!
//! [`Aof`] composes four parts, each owning its state behind a narrow
//! interface, and orchestrates them:
//!
//! * the write queue (`Queue`): encoded records
//!   waiting, their sequence numbers, the rewrite tail;
//! * the live file (`Live`): the writer, its lock,
//!   what it holds, its sizes;
//! * durability (`Durability`): the
//!   policy, what is committed and who waits for it, fsyncs, write and
//!   fsync errors (its module docs say where each `appendfsync` policy is
//!   implemented);
//! * rewrites (`Rewrites`): the rewrite
//!   history and the running rewrite.
//!
//! # Write errors
//!
//! A failed append (disk full, I/O error) leaves the unwritten bytes at the
//! front of the queue, records the error (write commands are then refused
//! with `-MISCONF Errors writing to the AOF file: <reason>`, see
//! [`Aof::write_error`]) and retries every [`WRITE_RETRY_INTERVAL`]; the
//! first successful append clears the error. Nothing acknowledged or seen
//! is lost: under every policy the replies of the affected batches, and of
//! every batch that read keys meanwhile, wait until the retry has written
//! the records (and fsynced them under `always`). Redis answers such
//! writes under `everysec` and `no`, although their records are not in
//! the file.
//!
//! Redis exits when a write or fsync fails under `always`, because it
//! cannot keep its promise. Redigo instead keeps the promise by holding the
//! replies that could show the data until it is durable, and refuses new
//! writes meanwhile (refusals show no data and go out at once), so the
//! server recovers by itself once the disk does.
//!
//! A failed fsync is not retried on the same file: after one, the kernel may
//! already have dropped the dirty pages it could not write (Linux marks them
//! clean), and a later fsync would then succeed without them. The file is
//! marked untrusted ([`Aof::needs_recovery_rewrite`]): fsyncs stop, and the
//! automatic-rewrite checker rewrites the AOF from the dataset, retrying
//! every [`RECOVERY_REWRITE_BACKOFF`](super::fsync_thread::RECOVERY_REWRITE_BACKOFF). The rewrite writes and fsyncs a new
//! file, so its switch is what releases the held replies and clears the
//! error.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError, Weak};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use redigo_aof::{AofError, AofWriter, FileAofWriter, FsyncPolicy, os_error_text};

use super::durability::{Durability, writer_policy};
use super::live::{Live, LiveGuard};
use super::queue::{Chunk, Queue};
use super::rewrite::Rewrites;
use super::tick_commit::TickCommit;
use crate::dataset::Dataset;
use crate::propagation::PropagatedCommand;

/// How long the writer waits before retrying a failed write or fsync.
pub const WRITE_RETRY_INTERVAL: Duration = Duration::from_millis(100);

/// At shutdown, how long the final flush keeps retrying a failing disk before
/// giving up (with an error in the log).
pub const SHUTDOWN_FLUSH_TIMEOUT: Duration = Duration::from_secs(5);

/// Opens the writer of an AOF file. Production uses [`FileAofWriter::open`];
/// tests inject a [`FaultyAofWriter`](redigo_aof::FaultyAofWriter).
pub type WriterFactory =
    Arc<dyn Fn(&Path, FsyncPolicy) -> Result<Box<dyn AofWriter>, AofError> + Send + Sync>;

/// The production [`WriterFactory`].
pub fn file_writer_factory() -> WriterFactory {
    Arc::new(|path: &Path, policy: FsyncPolicy| {
        FileAofWriter::open(path, policy).map(|w| Box::new(w) as Box<dyn AofWriter>)
    })
}

pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// What one attempt to write the queue did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Attempt {
    /// A chunk was written.
    Wrote,
    /// Nothing was queued.
    Empty,
    /// Someone else holds the file; they publish when they release it.
    Busy,
    /// The write failed; the data is queued again for the retry.
    Failed,
}

/// The live AOF. See the module docs.
pub struct Aof {
    pub(crate) path: PathBuf,
    pub(crate) open_writer: WriterFactory,
    pub(crate) queue: Queue,
    pub(crate) live: Live,
    pub(crate) durability: Durability,
    pub(crate) rewrites: Rewrites,
    stopping: AtomicBool,
    threads: Mutex<Vec<JoinHandle<()>>>,
    shutdown_started: Mutex<Option<Instant>>,
    /// The dataset the rewrites snapshot (set once, right after opening).
    dataset: OnceLock<Weak<Mutex<Dataset>>>,
}

impl std::fmt::Debug for Aof {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Aof")
            .field("path", &self.path)
            .field("policy", &self.policy())
            .field("failing", &self.durability.failing())
            .finish_non_exhaustive()
    }
}

impl Aof {
    /// Opens `path` for appending (after it was loaded) and starts the writer
    /// thread and the fsync timer.
    pub fn open(
        path: &Path,
        policy: FsyncPolicy,
        open_writer: WriterFactory,
    ) -> Result<Arc<Aof>, AofError> {
        Aof::open_appending_to(path, path, policy, open_writer)
    }

    /// Like [`Aof::open`], but appends to `live_path` until the first rewrite
    /// puts the AOF at `path` (turning the AOF on at run time: the file at
    /// `path`, if any, is stale and must stay untouched until then).
    pub fn open_appending_to(
        path: &Path,
        live_path: &Path,
        policy: FsyncPolicy,
        open_writer: WriterFactory,
    ) -> Result<Arc<Aof>, AofError> {
        let writer = open_writer(live_path, writer_policy(policy))?;
        let sync_handle = writer.sync_handle();
        let aof = Arc::new(Aof {
            path: path.to_owned(),
            open_writer,
            queue: Queue::default(),
            live: Live::new(writer),
            durability: Durability::new(policy, sync_handle),
            rewrites: Rewrites::default(),
            stopping: AtomicBool::new(false),
            threads: Mutex::new(Vec::new()),
            shutdown_started: Mutex::new(None),
            dataset: OnceLock::new(),
        });
        let writer_thread = {
            let aof = Arc::clone(&aof);
            std::thread::Builder::new()
                .name("aof-writer".into())
                .spawn(move || aof.writer_loop())
        };
        let fsync_thread = {
            let aof = Arc::clone(&aof);
            std::thread::Builder::new()
                .name("aof-fsync".into())
                .spawn(move || aof.fsync_loop())
        };
        let open_err = |source| AofError::Open {
            path: path.to_owned(),
            source,
        };
        let mut threads = lock(&aof.threads);
        threads.push(writer_thread.map_err(open_err)?);
        threads.push(fsync_thread.map_err(open_err)?);
        drop(threads);
        Ok(aof)
    }

    /// Records the end-of-tick commit this AOF's connections use (called by
    /// [`TickCommit::attach`]).
    pub(crate) fn set_tick_commit(&self, tick: Arc<TickCommit>) {
        self.durability.set_tick_commit(tick);
    }

    /// The slowest an fsync may be for the next to run on a runtime thread
    /// (see [`AofOptions::max_inline_fsync`](super::AofOptions)).
    pub fn set_max_inline_fsync(&self, limit: Duration) {
        self.durability.set_max_inline_fsync(limit);
    }

    /// Records the dataset the rewrites snapshot (once, right after opening).
    pub(crate) fn set_dataset(&self, dataset: Weak<Mutex<Dataset>>) {
        let _ = self.dataset.set(dataset);
    }

    /// The dataset the rewrites snapshot, while it exists.
    pub(crate) fn dataset(&self) -> Option<Arc<Mutex<Dataset>>> {
        self.dataset.get().and_then(Weak::upgrade)
    }

    /// The AOF's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The fsync policy in force.
    pub fn policy(&self) -> FsyncPolicy {
        self.durability.policy()
    }

    /// Changes the fsync policy (`CONFIG SET appendfsync`).
    pub fn set_policy(&self, policy: FsyncPolicy) {
        self.durability.set_policy(policy);
        self.lock_live().writer.set_policy(writer_policy(policy));
        if policy == FsyncPolicy::Always {
            self.request_sync();
        } else {
            // Nobody waits for fsyncs any more: release those who did.
            self.durability.commit(self.live.written());
        }
    }

    /// Queues one batch of records (called by the sink under the dataset
    /// lock: never blocks on the disk). Returns the batch's sequence number.
    /// Nothing is written yet: the caller follows up with
    /// [`Aof::persist`] once the dataset lock is released (or, on paths
    /// that do not wait, [`Aof::flush_soon`]).
    pub fn append_batch(&self, records: impl IntoIterator<Item = PropagatedCommand>) -> u64 {
        self.queue.push_batch(records)
    }

    /// The sequence of the last batch queued: what a connection that only
    /// read passes to [`Aof::hold_reply`] after its batch (read under the
    /// dataset lock, it covers every write the batch could have seen).
    pub fn queued_seq(&self) -> u64 {
        self.queue.assigned()
    }

    /// Whether a reply that may show the effects of every batch up to
    /// `seen` must wait: some of them are not committed yet (see
    /// [`Aof::committed`]). One atomic load: the hot path of a read when
    /// nothing is pending.
    pub fn reply_must_wait(&self, seen: u64) -> bool {
        seen > self.durability.committed()
    }

    /// Takes the live file's lock (blocking).
    pub(crate) fn lock_live(&self) -> LiveGuard<'_> {
        self.live.lock(&self.durability)
    }

    /// Takes the live file's lock if no one holds it.
    fn try_lock_live(&self) -> Option<LiveGuard<'_>> {
        self.live.try_lock(&self.durability)
    }

    /// Makes the file hold every batch up to `seq` as the policy promises
    /// before a reply: written (`everysec`, `no`), or written and fsynced
    /// (`always`); `writer` is the id of the connection whose batch queued
    /// `seq`. See [`Aof::hold_reply`].
    pub async fn persist(&self, seq: u64, writer: u64) {
        self.hold_reply(seq, Some(writer)).await;
    }

    /// Returns once every batch up to `seq` is committed (see
    /// [`Aof::committed`]): what a connection awaits before sending replies
    /// that may show those batches. `writer` is the connection's id when its
    /// own batch queued records, `None` when it only read what others wrote.
    ///
    /// The calling task writes the queue itself when the file is free (see
    /// the module docs); under `always` the fsync thread then covers it. If
    /// the write fails, this waits until the writer thread's retry succeeds
    /// (and under `always` is fsynced), under every policy: a reply never
    /// shows a batch the file does not hold.
    ///
    /// Under `always`, on a runtime with an end-of-tick commit, the records
    /// are written and fsynced by that commit instead, once the runtime has
    /// run every connection ready in this tick (see
    /// [`tick_commit`](super::tick_commit)). Otherwise a connection that
    /// writes alone fsyncs on its own thread (see
    /// [`lone_writer`](super::lone_writer)); readers never count as writers
    /// there.
    pub async fn hold_reply(&self, seq: u64, writer: Option<u64>) {
        if let Some(tick) = self.tick_commit_for_reply() {
            if self.durability.committed() < seq {
                tick.request();
                self.durability.wait_committed(seq).await;
            }
            return;
        }
        let lone = self.policy() == FsyncPolicy::Always
            && writer.is_some_and(|writer| self.durability.note_write(writer))
            && self.durability.inline_allowed();
        loop {
            if self.durability.committed() >= seq {
                return;
            }
            let mut progress = self.live.subscribe();
            let written = progress.borrow_and_update().written;
            if written >= seq {
                if self.policy() != FsyncPolicy::Always {
                    // Written is all these policies promise.
                    return;
                }
                if lone && self.sync_inline(seq) {
                    return;
                }
                // Written: wait for the fsync thread to cover it.
                self.request_sync();
                self.durability.wait_committed(seq).await;
                return;
            }
            // A lone writer fsyncs itself: the fsync thread stays asleep.
            match self.write_queued(false, !lone) {
                Attempt::Wrote => {}
                // The holder of the file publishes when it lets go; a
                // publication since our look counts as a change.
                Attempt::Busy | Attempt::Empty => {
                    if progress.changed().await.is_err() {
                        return;
                    }
                }
                Attempt::Failed => {
                    // The writer thread retries; the reply waits for it
                    // under every policy (and for the fsync under `always`).
                    self.flush_soon();
                    self.durability.wait_committed(seq).await;
                    return;
                }
            }
        }
    }

    /// Blocking form of [`Aof::persist`], for threads outside the async
    /// runtime; false if `timeout` passed first.
    pub fn persist_blocking(&self, seq: u64, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        while self.committed() < seq {
            let attempt = if self.live.written() >= seq {
                self.request_sync();
                Attempt::Busy
            } else {
                self.write_queued(true, true)
            };
            match attempt {
                Attempt::Wrote => {}
                Attempt::Busy | Attempt::Empty => std::thread::sleep(Duration::from_micros(100)),
                Attempt::Failed => {
                    self.flush_soon();
                    let left = deadline.saturating_duration_since(Instant::now());
                    return self.wait_committed_blocking(seq, left);
                }
            }
            if Instant::now() >= deadline {
                return false;
            }
        }
        true
    }

    /// Wakes the writer thread to write whatever is queued (for paths that
    /// queue records without waiting for them, like the expiry cycle).
    pub fn flush_soon(&self) {
        self.queue.request_writer();
    }

    /// Writes the whole queue as one chunk, if the file is free (or, with
    /// `wait_for_file`, once it is); under `always`, with `wake_fsync`, the
    /// fsync thread is then woken to cover it.
    pub(crate) fn write_queued(&self, wait_for_file: bool, wake_fsync: bool) -> Attempt {
        let mut live = if wait_for_file {
            self.lock_live()
        } else {
            match self.try_lock_live() {
                Some(live) => live,
                None => return Attempt::Busy,
            }
        };
        let Some(chunk) = self.queue.take() else {
            return Attempt::Empty;
        };
        let wrote = self.write_chunk(&mut live, chunk);
        drop(live);
        if wake_fsync && self.policy() == FsyncPolicy::Always {
            self.request_sync();
        }
        if wrote {
            Attempt::Wrote
        } else {
            Attempt::Failed
        }
    }

    /// Waits until the file holds every batch up to `seq` as the policy
    /// requires (see [`Aof::committed`]).
    pub async fn wait_committed(&self, seq: u64) {
        self.durability.wait_committed(seq).await;
    }

    /// The last sequence the file holds as the policy requires before a
    /// reply: fsynced under `always`, written under the others. After a
    /// switch from `everysec` or `no` to `always`, what was written before
    /// the switch stays committed.
    pub fn committed(&self) -> u64 {
        self.durability.committed()
    }

    /// Blocking form of [`Aof::wait_committed`], for tests and shutdown;
    /// false if `timeout` passed first.
    pub fn wait_committed_blocking(&self, seq: u64, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        while self.committed() < seq {
            if Instant::now() >= deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        true
    }

    /// Publishes that every batch up to `seq` is durable (after a rewrite
    /// put them into the new, fsynced file).
    pub(crate) fn mark_durable(&self, seq: u64) {
        self.durability.commit(seq);
    }

    /// The reason write commands are refused, if writing or fsyncing the AOF
    /// is failing (`-MISCONF Errors writing to the AOF file: <reason>`).
    /// One atomic load while the disk is fine: what the `MISCONF` check of
    /// every write command reads.
    pub fn write_error(&self) -> Option<String> {
        self.durability.write_error()
    }

    /// Bytes queued and not yet written (`aof_buffer_length`).
    pub fn buffer_len(&self) -> usize {
        self.queue.pending_len()
    }

    /// `aof_current_size`.
    pub fn current_size(&self) -> u64 {
        self.live.current_size()
    }

    /// `aof_base_size`: the size after loading or after the last rewrite.
    pub fn base_size(&self) -> u64 {
        self.live.base_size()
    }

    /// Completed fsyncs of the AOF (across rewrites) since start or
    /// `CONFIG RESETSTAT`.
    pub fn fsyncs(&self) -> u64 {
        self.durability.fsyncs()
    }

    /// `everysec` fsyncs that fell due while the previous one still ran.
    pub fn delayed_fsyncs(&self) -> u64 {
        self.durability.delayed_fsyncs()
    }

    /// fsyncs done on a runtime thread under `always`: at the end of a
    /// tick ([`tick_commit`](super::tick_commit)) or by a connection writing
    /// alone ([`lone_writer`](super::lone_writer)).
    pub fn inline_fsyncs(&self) -> u64 {
        self.durability.inline_fsyncs()
    }

    /// `CONFIG RESETSTAT`: zeroes the counters Redis resets
    /// (`aof_rewrites`, `aof_rewrites_consecutive_failures`,
    /// `aof_delayed_fsync`) and Redigo's `aof_fsyncs`.
    pub fn reset_stats(&self) {
        self.rewrites.reset_stats();
        self.durability.reset_counters();
    }

    pub(crate) fn stopping(&self) -> bool {
        self.stopping.load(Ordering::Acquire)
    }

    /// The fallback writer (see the module docs): sleeps until woken, then
    /// writes until the queue is empty, retrying failures.
    fn writer_loop(self: Arc<Self>) {
        loop {
            self.queue.wait_for_writer_request(|| self.stopping());
            loop {
                match self.write_queued(true, true) {
                    Attempt::Wrote => {}
                    Attempt::Empty | Attempt::Busy => break,
                    Attempt::Failed => {
                        if self.stopping() && self.give_up_flushing() {
                            return;
                        }
                        std::thread::sleep(WRITE_RETRY_INTERVAL);
                    }
                }
            }
            if self.stopping() {
                return;
            }
        }
    }

    /// At shutdown, whether the retry budget of a failing disk is spent.
    fn give_up_flushing(&self) -> bool {
        let mut started = lock(&self.shutdown_started);
        let since = *started.get_or_insert_with(Instant::now);
        if since.elapsed() >= SHUTDOWN_FLUSH_TIMEOUT {
            tracing::error!(
                "could not write the last {} bytes to the AOF before exiting",
                self.buffer_len()
            );
            return true;
        }
        false
    }

    /// Appends one chunk to the file held by `live` (the writer never
    /// fsyncs in `append`: see [`writer_policy`]); false if it failed (the
    /// unwritten rest is queued again).
    fn write_chunk(&self, live: &mut LiveGuard<'_>, chunk: Chunk) -> bool {
        if live.generation != chunk.generation {
            // A rewrite switched files; the new file holds this chunk.
            return true;
        }
        let result = live.writer.append(&chunk.bytes);
        self.live.note_size(live.writer.size());
        match result {
            Ok(()) => {
                live.wrote(chunk.end_seq);
                if self.durability.failing() {
                    self.durability
                        .set_health(&self.path, |h| h.write_error = None);
                }
                true
            }
            Err(AofError::Write { written, source }) => {
                // Queued again before the file is released, so whoever
                // takes it next writes it first.
                let rest = &chunk.bytes[written.min(chunk.bytes.len())..];
                self.queue.put_back(chunk.generation, rest);
                self.durability
                    .set_health(&self.path, |h| h.write_error = Some(os_error_text(&source)));
                false
            }
            Err(other) => {
                self.queue.put_back(chunk.generation, &chunk.bytes);
                self.durability
                    .set_health(&self.path, |h| h.write_error = Some(other.to_string()));
                false
            }
        }
    }

    /// Flushes everything queued, fsyncs and stops the threads (shutdown).
    /// Blocks until done or [`SHUTDOWN_FLUSH_TIMEOUT`] passed on a failing
    /// disk.
    pub fn shutdown(&self) {
        if self.stopping.swap(true, Ordering::AcqRel) {
            return;
        }
        self.rewrites.abort();
        self.queue.wake_writer();
        self.durability.wake_fsync_thread();
        let threads = std::mem::take(&mut *lock(&self.threads));
        for thread in threads {
            let _ = thread.join();
        }
        let mut live = self.lock_live();
        match live.writer.sync() {
            // Everything written is on disk: release anyone still waiting.
            Ok(()) if !self.needs_recovery_rewrite() => {
                self.durability.commit(self.live.written());
            }
            Ok(()) => {}
            Err(err) => tracing::error!(%err, "fsync of the AOF at shutdown failed"),
        }
        self.live.note_size(live.writer.size());
    }

    /// Whether [`Aof::shutdown`] ran.
    pub fn is_shut_down(&self) -> bool {
        self.stopping()
    }
}
