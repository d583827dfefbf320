//! [`Aof`]: the live append-only file, its writer thread and its fsync timer.
//!
//! # Threads and locks
//!
//! * The propagation sink, under the dataset lock, only takes the short
//!   `queue` lock to encode a batch ([`WriteQueue`]) and wakes the writer.
//! * The **writer thread** takes everything queued, releases the queue and
//!   appends it to the file through the [`AofWriter`] (under the `live`
//!   lock, which only it, the fsync timer and a rewrite's final switch
//!   take). Under `appendfsync always` the append includes the fsync, so one
//!   fsync covers every batch queued meanwhile: group commit. It then
//!   publishes the last sequence number the file holds (durably, under
//!   `always`) on a `watch` channel.
//! * A connection, after its batch and with no lock held, waits on that
//!   channel for its batch's sequence before sending the replies, under
//!   `always` only ([`Aof::commit_target`], [`Aof::wait_committed`]).
//! * Under `everysec` the **fsync timer** thread fsyncs through the writer's
//!   [`SyncHandle`] about once a second; appends never
//!   wait for it.
//!
//! # Write errors
//!
//! A failed append (disk full, I/O error) leaves the unwritten bytes at the
//! front of the queue, records the error (write commands are then refused
//! with `-MISCONF Errors writing to the AOF file: <reason>`, see
//! [`Aof::write_error`]) and retries every [`WRITE_RETRY_INTERVAL`]; the
//! first successful append clears the error. Nothing acknowledged is lost:
//! under `always` a client's reply waits until its records are durable.
//!
//! Redis exits when a write or fsync fails under `always`, because it
//! cannot keep its promise. Redigo instead keeps the promise by holding the
//! replies of the affected batches until the retry succeeds, and refuses new
//! writes meanwhile, so the server recovers by itself once the disk does.
//! A failed fsync is retried the same way (the data stays in the page cache
//! and a later successful fsync makes it durable).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use redigo_aof::{AofError, AofWriter, FileAofWriter, FsyncPolicy, SyncHandle, os_error_text};
use tokio::sync::watch;

use super::queue::{Chunk, WriteQueue};
use super::rewrite::RewriteState;
use crate::propagation::PropagatedCommand;

/// How long the writer waits before retrying a failed write or fsync.
pub const WRITE_RETRY_INTERVAL: Duration = Duration::from_millis(100);

/// How often the fsync timer checks whether an `everysec` fsync is due.
pub const FSYNC_TICK: Duration = Duration::from_millis(50);

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

/// The file currently appended to.
#[derive(Debug)]
pub(crate) struct LiveFile {
    pub(crate) writer: Box<dyn AofWriter>,
    /// The [`WriteQueue::generation`] this file belongs to.
    pub(crate) generation: u64,
}

/// Why writes are refused.
#[derive(Debug, Default)]
struct Health {
    write_error: Option<String>,
    fsync_error: Option<String>,
}

/// The live AOF. See the module docs.
pub struct Aof {
    pub(crate) path: PathBuf,
    pub(crate) queue: Mutex<WriteQueue>,
    wake: Condvar,
    pub(crate) live: Mutex<LiveFile>,
    committed: watch::Sender<u64>,
    policy: AtomicU8,
    health: Mutex<Health>,
    failing: AtomicBool,
    stopping: AtomicBool,
    pub(crate) current_size: AtomicU64,
    pub(crate) base_size: AtomicU64,
    pub(crate) rewrite: Mutex<RewriteState>,
    pub(crate) open_writer: WriterFactory,
    /// The live writer's fsync handle: background fsyncs and counters
    /// without waiting for an append in progress.
    pub(crate) sync_handle: Mutex<SyncHandle>,
    threads: Mutex<Vec<JoinHandle<()>>>,
    shutdown_started: Mutex<Option<Instant>>,
    /// Set at shutdown: a running rewrite stops at its next step.
    pub(crate) rewrite_abort: AtomicBool,
    pub(crate) dataset: std::sync::OnceLock<std::sync::Weak<Mutex<crate::dataset::Dataset>>>,
}

impl std::fmt::Debug for Aof {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Aof")
            .field("path", &self.path)
            .field("policy", &self.policy())
            .field("failing", &self.failing.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

fn policy_code(policy: FsyncPolicy) -> u8 {
    match policy {
        FsyncPolicy::Always => 0,
        FsyncPolicy::EverySec => 1,
        FsyncPolicy::Never => 2,
    }
}

fn policy_from_code(code: u8) -> FsyncPolicy {
    match code {
        0 => FsyncPolicy::Always,
        1 => FsyncPolicy::EverySec,
        _ => FsyncPolicy::Never,
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
        let writer = open_writer(path, policy)?;
        let size = writer.size();
        let sync_handle = Mutex::new(writer.sync_handle());
        let (committed, _) = watch::channel(0);
        let aof = Arc::new(Aof {
            path: path.to_owned(),
            queue: Mutex::new(WriteQueue::default()),
            wake: Condvar::new(),
            live: Mutex::new(LiveFile {
                writer,
                generation: 0,
            }),
            committed,
            policy: AtomicU8::new(policy_code(policy)),
            health: Mutex::new(Health::default()),
            failing: AtomicBool::new(false),
            stopping: AtomicBool::new(false),
            current_size: AtomicU64::new(size),
            base_size: AtomicU64::new(size),
            rewrite: Mutex::new(RewriteState::default()),
            open_writer,
            sync_handle,
            threads: Mutex::new(Vec::new()),
            shutdown_started: Mutex::new(None),
            rewrite_abort: AtomicBool::new(false),
            dataset: std::sync::OnceLock::new(),
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

    /// The AOF's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The fsync policy in force.
    pub fn policy(&self) -> FsyncPolicy {
        policy_from_code(self.policy.load(Ordering::Relaxed))
    }

    /// Changes the fsync policy (`CONFIG SET appendfsync`).
    pub fn set_policy(&self, policy: FsyncPolicy) {
        self.policy.store(policy_code(policy), Ordering::Relaxed);
        lock(&self.live).writer.set_policy(policy);
    }

    /// Queues one batch of records (called by the sink under the dataset
    /// lock: never blocks on the disk). Returns the batch's sequence number.
    pub fn append_batch(&self, records: impl IntoIterator<Item = PropagatedCommand>) -> u64 {
        let mut queue = lock(&self.queue);
        let before = queue.assigned();
        let seq = queue.push_batch(records);
        let wake = seq != before && queue.take_writer_asleep();
        drop(queue);
        if wake {
            self.wake.notify_one();
        }
        seq
    }

    /// Under `appendfsync always`, the sequence a connection must wait for
    /// before replying (call under the dataset lock, right after the batch's
    /// records were handed over); `None` when nothing needs waiting.
    pub fn commit_target(&self) -> Option<u64> {
        if self.policy() != FsyncPolicy::Always {
            return None;
        }
        let assigned = lock(&self.queue).assigned();
        (assigned > *self.committed.borrow()).then_some(assigned)
    }

    /// Waits until the file durably holds every batch up to `seq`.
    pub async fn wait_committed(&self, seq: u64) {
        let mut receiver = self.committed.subscribe();
        // The sender lives as long as `self`, so this only ends when reached.
        let _ = receiver.wait_for(|committed| *committed >= seq).await;
    }

    /// The last sequence the file holds (durably under `always`).
    pub fn committed(&self) -> u64 {
        *self.committed.borrow()
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

    fn publish_committed(&self, seq: u64) {
        self.committed.send_if_modified(|committed| {
            if seq > *committed {
                *committed = seq;
                true
            } else {
                false
            }
        });
    }

    /// Marks everything queued so far as committed (after a rewrite put it
    /// into the new, fsynced file).
    pub(crate) fn commit_all_queued(&self, queue: &WriteQueue) {
        self.publish_committed(queue.assigned());
    }

    /// The reason write commands are refused, if writing or fsyncing the AOF
    /// is failing (`-MISCONF Errors writing to the AOF file: <reason>`).
    pub fn write_error(&self) -> Option<String> {
        if !self.failing.load(Ordering::Acquire) {
            return None;
        }
        let health = lock(&self.health);
        health
            .write_error
            .clone()
            .or_else(|| health.fsync_error.clone())
    }

    fn set_health(&self, update: impl FnOnce(&mut Health)) {
        let mut health = lock(&self.health);
        let was_failing = health.write_error.is_some() || health.fsync_error.is_some();
        update(&mut health);
        let failing = health.write_error.is_some() || health.fsync_error.is_some();
        self.failing.store(failing, Ordering::Release);
        if failing && !was_failing {
            let reason = health.write_error.as_ref().or(health.fsync_error.as_ref());
            tracing::warn!(
                "Error writing to the AOF file {}: {}; refusing writes until it succeeds again",
                self.path.display(),
                reason.map_or("", String::as_str)
            );
        } else if was_failing && !failing {
            tracing::warn!("AOF write error looks solved. Redigo can write again.");
        }
    }

    /// Bytes queued and not yet written (`aof_buffer_length`).
    pub fn buffer_len(&self) -> usize {
        lock(&self.queue).pending_len()
    }

    /// `aof_current_size`.
    pub fn current_size(&self) -> u64 {
        self.current_size.load(Ordering::Relaxed)
    }

    /// `aof_base_size`: the size after loading or after the last rewrite.
    pub fn base_size(&self) -> u64 {
        self.base_size.load(Ordering::Relaxed)
    }

    /// Completed fsyncs of the live file.
    pub fn fsyncs(&self) -> u64 {
        lock(&self.sync_handle).fsyncs()
    }

    /// `everysec` fsyncs that fell due while the previous one still ran.
    pub fn delayed_fsyncs(&self) -> u64 {
        lock(&self.sync_handle).delayed_fsyncs()
    }

    fn stopping(&self) -> bool {
        self.stopping.load(Ordering::Acquire)
    }

    fn writer_loop(self: Arc<Self>) {
        loop {
            let chunk = {
                let mut queue = lock(&self.queue);
                loop {
                    if let Some(chunk) = queue.take() {
                        break Some(chunk);
                    }
                    if self.stopping() {
                        break None;
                    }
                    queue.set_writer_asleep(true);
                    queue = self
                        .wake
                        .wait(queue)
                        .unwrap_or_else(PoisonError::into_inner);
                    queue.set_writer_asleep(false);
                }
            };
            let Some(chunk) = chunk else {
                return;
            };
            if !self.write_chunk(chunk) {
                if self.stopping() && self.give_up_flushing() {
                    return;
                }
                std::thread::sleep(WRITE_RETRY_INTERVAL);
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

    /// Appends one chunk; false if it failed (the rest was queued again).
    fn write_chunk(&self, chunk: Chunk) -> bool {
        let mut live = lock(&self.live);
        if live.generation != chunk.generation {
            // A rewrite switched files; the new file holds this chunk.
            return true;
        }
        let result = live.writer.append(&chunk.bytes);
        self.current_size
            .store(live.writer.size(), Ordering::Relaxed);
        match result {
            Ok(()) => {
                drop(live);
                if self.failing.load(Ordering::Acquire) {
                    self.set_health(|h| h.write_error = None);
                }
                self.publish_committed(chunk.end_seq);
                true
            }
            Err(AofError::Write { written, source }) => {
                drop(live);
                self.set_health(|h| h.write_error = Some(os_error_text(&source)));
                let rest = &chunk.bytes[written.min(chunk.bytes.len())..];
                lock(&self.queue).put_back(chunk.generation, rest);
                false
            }
            Err(AofError::Sync { source }) => {
                // Written but not durable: retry the fsync until it works,
                // holding back the replies that wait for it.
                self.set_health(|h| h.write_error = Some(os_error_text(&source)));
                drop(live);
                loop {
                    std::thread::sleep(WRITE_RETRY_INTERVAL);
                    let mut live = lock(&self.live);
                    if live.generation != chunk.generation {
                        // The rewritten, fsynced file replaced it.
                        break;
                    }
                    match live.writer.sync() {
                        Ok(()) => break,
                        Err(err) => {
                            if self.stopping() && self.give_up_flushing() {
                                return true;
                            }
                            tracing::debug!(%err, "AOF fsync retry failed");
                        }
                    }
                }
                self.set_health(|h| h.write_error = None);
                self.publish_committed(chunk.end_seq);
                true
            }
            Err(other) => {
                drop(live);
                self.set_health(|h| h.write_error = Some(other.to_string()));
                lock(&self.queue).put_back(chunk.generation, &chunk.bytes);
                false
            }
        }
    }

    fn fsync_loop(self: Arc<Self>) {
        while !self.stopping() {
            std::thread::sleep(FSYNC_TICK);
            if self.policy() != FsyncPolicy::EverySec {
                continue;
            }
            let handle = lock(&self.sync_handle).clone();
            if !handle.is_due(Instant::now()) {
                continue;
            }
            match handle.sync() {
                Ok(_) => self.set_health(|h| h.fsync_error = None),
                Err(err) => {
                    let text = match &err {
                        AofError::Sync { source } => os_error_text(source),
                        other => other.to_string(),
                    };
                    self.set_health(|h| h.fsync_error = Some(text));
                }
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
        self.rewrite_abort.store(true, Ordering::Release);
        {
            // Take the queue lock so the writer is either before its check
            // of `stopping` or waiting: the notification cannot be lost.
            let _queue = lock(&self.queue);
            self.wake.notify_all();
        }
        let threads = std::mem::take(&mut *lock(&self.threads));
        for thread in threads {
            let _ = thread.join();
        }
        let mut live = lock(&self.live);
        if let Err(err) = live.writer.sync() {
            tracing::error!(%err, "fsync of the AOF at shutdown failed");
        }
        self.current_size
            .store(live.writer.size(), Ordering::Relaxed);
    }

    /// Whether [`Aof::shutdown`] ran.
    pub fn is_shut_down(&self) -> bool {
        self.stopping()
    }
}
