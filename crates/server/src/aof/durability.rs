//! `Durability`: the part of the live AOF that decides when a batch is
//! committed (may be shown in a reply), fsyncs, and refuses writes while
//! the disk fails.
//!
//! # Where each `appendfsync` policy is implemented
//!
//! The group-commit core is the server's, here and in the files it names;
//! redigo-aof provides the writer, the fsync handle and the `everysec`
//! timing, and its crate docs say the same from its side:
//!
//! * `always`: the live writer is opened with `Never` (`writer_policy`),
//!   so appends never block on the disk. A batch is committed once an
//!   fsync that began after it was written succeeded. The fsync runs at the
//!   end of the runtime tick for every connection that ran in it
//!   ([`tick_commit`](super::tick_commit)), on the calling thread for a
//!   connection writing alone ([`lone_writer`](super::lone_writer)), or on
//!   the fsync thread ([`fsync_thread`](super::fsync_thread)), which fsyncs
//!   back to back while written data is not durable; either way through
//!   `Durability::fsync_through`. Inline fsyncs stop after a slow one
//!   ([`inline_fsync`](super::inline_fsync)).
//! * `everysec`: the writer keeps its policy. redigo-aof's `SyncHandle`
//!   says when an fsync is due and runs it on its own descriptor; the fsync
//!   thread is the timer that asks. A batch is committed once written.
//! * `no`: nothing fsyncs the live file. A batch is committed once written.
//!
//! Under every policy a batch is committed only once the file holds it, so
//! replies wait for a failed write's retry (`Durability::publish_written`
//! is only called after a successful write).
//!
//! # Failures
//!
//! `Durability::write_error` is what the `MISCONF` check reads: one atomic
//! load while the disk is fine. A failed fsync marks the live file
//! untrusted (`Durability::needs_recovery_rewrite`); see the
//! [`appender`](super::appender) module docs.

use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, AtomicUsize, Ordering, fence};
use std::sync::{Arc, Condvar, Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use redigo_aof::{AofError, FsyncPolicy, SyncHandle, os_error_text};

use super::appender::lock;
use super::inline_fsync::InlineFsync;
use super::lone_writer::LoneWriter;
use super::sequence_waiters::SequenceWaiters;
use super::tick_commit::TickCommit;

/// The policy the [`AofWriter`](redigo_aof::AofWriter) itself applies for a
/// server `policy`: under `always` the server fsyncs (see the module docs),
/// so appends never block on the disk; `everysec` and `no` are the
/// writer's own.
pub(crate) fn writer_policy(policy: FsyncPolicy) -> FsyncPolicy {
    match policy {
        FsyncPolicy::Always => FsyncPolicy::Never,
        other => other,
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

/// Why writes are refused.
#[derive(Debug, Default)]
pub(crate) struct Health {
    pub(crate) write_error: Option<String>,
    pub(crate) fsync_error: Option<String>,
}

/// See the module docs.
#[derive(Debug)]
pub(crate) struct Durability {
    policy: AtomicU8,
    /// The last sequence the file holds as the policy promises before a
    /// reply (fsynced under `always`, written under `everysec` and `no`),
    /// with the connections whose replies wait for theirs.
    committed: SequenceWaiters,
    /// The fsync thread is idle and waits on `sync_wake` (under `always`).
    sync_idle: Mutex<bool>,
    sync_wake: Condvar,
    /// The live writer's fsync handle: fsyncs and counters without waiting
    /// for an append in progress.
    sync_handle: Mutex<SyncHandle>,
    health: Mutex<Health>,
    /// `health` holds an error: read without its lock.
    failing: AtomicBool,
    /// An fsync of the live file failed (see the module docs).
    untrusted: AtomicBool,
    /// Held across each fsync of the live file and the recording of its
    /// outcome (see `Durability::fsync_through`).
    fsync_turn: Mutex<()>,
    /// Runtime threads inside an end-of-tick commit: between writing the
    /// queue and fsyncing it, the fsync thread leaves that fsync to them.
    tick_commits_running: AtomicUsize,
    /// Whether one connection writes alone (it then fsyncs inline under
    /// `always`, see [`lone_writer`](super::lone_writer)).
    lone_writer: LoneWriter,
    /// Whether fsyncs may run on a runtime thread.
    inline_fsync: InlineFsync,
    /// The end-of-tick commit of the runtime the server runs on, if any.
    tick_commit: OnceLock<Arc<TickCommit>>,
    /// fsyncs and delayed fsyncs of the files a rewrite replaced: the
    /// counters in `INFO` run on across rewrites, as Redis's do.
    replaced_fsyncs: AtomicU64,
    replaced_delayed_fsyncs: AtomicU64,
}

impl Durability {
    /// The state of a freshly opened live file.
    pub(crate) fn new(policy: FsyncPolicy, sync_handle: SyncHandle) -> Durability {
        Durability {
            policy: AtomicU8::new(policy_code(policy)),
            committed: SequenceWaiters::default(),
            sync_idle: Mutex::new(false),
            sync_wake: Condvar::new(),
            sync_handle: Mutex::new(sync_handle),
            health: Mutex::new(Health::default()),
            failing: AtomicBool::new(false),
            untrusted: AtomicBool::new(false),
            fsync_turn: Mutex::new(()),
            tick_commits_running: AtomicUsize::new(0),
            lone_writer: LoneWriter::default(),
            inline_fsync: InlineFsync::default(),
            tick_commit: OnceLock::new(),
            replaced_fsyncs: AtomicU64::new(0),
            replaced_delayed_fsyncs: AtomicU64::new(0),
        }
    }

    /// The fsync policy in force.
    pub(crate) fn policy(&self) -> FsyncPolicy {
        policy_from_code(self.policy.load(Ordering::Relaxed))
    }

    /// Switches the policy (the caller then updates the writer and wakes
    /// or releases waiters).
    pub(crate) fn set_policy(&self, policy: FsyncPolicy) {
        self.policy.store(policy_code(policy), Ordering::Relaxed);
        // Pairs with the fence in `publish_written`: a write published
        // concurrently is either seen by the caller or sees the new policy.
        fence(Ordering::SeqCst);
    }

    /// Called once the file holds every batch up to `seq`: under
    /// `everysec` and `no` that is all a reply needs, so they are
    /// committed; under `always` the fsync that follows commits them.
    pub(crate) fn publish_written(&self, seq: u64) {
        // Pairs with the fence in `set_policy`: either this sees the new
        // policy or the switch sees this write, so a switch away from
        // `always` never leaves a written batch uncommitted.
        fence(Ordering::SeqCst);
        if self.policy() != FsyncPolicy::Always {
            self.committed.advance(seq);
        }
    }

    /// The last sequence committed.
    pub(crate) fn committed(&self) -> u64 {
        self.committed.reached()
    }

    /// Commits every batch up to `seq` and wakes their waiters.
    pub(crate) fn commit(&self, seq: u64) {
        self.committed.advance(seq);
    }

    /// Waits until `seq` is committed.
    pub(crate) async fn wait_committed(&self, seq: u64) {
        self.committed.wait(seq).await;
    }

    /// How many connections wait for a commit.
    pub(crate) fn waiting(&self) -> usize {
        self.committed.waiting()
    }

    /// Under `always`, makes sure the fsync thread runs (it stays busy
    /// while written data is not yet durable; this wakes it when idle).
    pub(crate) fn request_sync(&self) {
        let mut idle = lock(&self.sync_idle);
        if *idle {
            *idle = false;
            self.sync_wake.notify_one();
        }
    }

    /// Wakes the fsync thread whatever it waits for (shutdown).
    pub(crate) fn wake_fsync_thread(&self) {
        let _idle = lock(&self.sync_idle);
        self.sync_wake.notify_all();
    }

    /// The fsync thread's sleep: up to `timeout`, or until
    /// [`Durability::request_sync`] or shutdown; not at all if `pending`
    /// (checked under the lock `request_sync` takes, so a request made
    /// after the caller's own check is not lost).
    pub(crate) fn sleep_until_sync_wanted(&self, timeout: Duration, pending: impl Fn() -> bool) {
        let mut idle = lock(&self.sync_idle);
        if pending() {
            return;
        }
        *idle = true;
        let (mut idle, _) = self
            .sync_wake
            .wait_timeout(idle, timeout)
            .unwrap_or_else(PoisonError::into_inner);
        *idle = false;
    }

    /// An end-of-tick commit starts (see `tick_commits_running`).
    pub(crate) fn begin_tick_commit(&self) {
        self.tick_commits_running.fetch_add(1, Ordering::AcqRel);
    }

    /// An end-of-tick commit ends.
    pub(crate) fn end_tick_commit(&self) {
        self.tick_commits_running.fetch_sub(1, Ordering::AcqRel);
    }

    /// Whether an end-of-tick commit is between its write and its fsync.
    pub(crate) fn tick_commit_in_progress(&self) -> bool {
        self.tick_commits_running.load(Ordering::Acquire) > 0
    }

    /// Whether the fsync thread is idle (an inline fsync then races no one).
    fn fsync_thread_idle(&self) -> bool {
        *lock(&self.sync_idle)
    }

    /// A clone of the live writer's fsync handle.
    pub(crate) fn sync_handle(&self) -> SyncHandle {
        lock(&self.sync_handle).clone()
    }

    /// Puts the fsync handle of the file a rewrite switched to in place and
    /// returns the old one, its counters carried over.
    pub(crate) fn replace_sync_handle(&self, new: SyncHandle) -> SyncHandle {
        let old = std::mem::replace(&mut *lock(&self.sync_handle), new);
        self.replaced_fsyncs
            .fetch_add(old.fsyncs(), Ordering::Relaxed);
        self.replaced_delayed_fsyncs
            .fetch_add(old.delayed_fsyncs(), Ordering::Relaxed);
        old
    }

    /// Completed fsyncs of the AOF (across rewrites).
    pub(crate) fn fsyncs(&self) -> u64 {
        self.replaced_fsyncs.load(Ordering::Relaxed) + lock(&self.sync_handle).fsyncs()
    }

    /// `everysec` fsyncs that fell due while the previous one still ran.
    pub(crate) fn delayed_fsyncs(&self) -> u64 {
        self.replaced_delayed_fsyncs.load(Ordering::Relaxed)
            + lock(&self.sync_handle).delayed_fsyncs()
    }

    /// fsyncs done on a runtime thread.
    pub(crate) fn inline_fsyncs(&self) -> u64 {
        self.inline_fsync.inline_fsyncs()
    }

    /// `CONFIG RESETSTAT`: zeroes the fsync counters.
    pub(crate) fn reset_counters(&self) {
        self.replaced_fsyncs.store(0, Ordering::Relaxed);
        self.replaced_delayed_fsyncs.store(0, Ordering::Relaxed);
        lock(&self.sync_handle).reset_counters();
    }

    /// Records a write by connection `writer`; whether it has been the only
    /// writer long enough to fsync inline (see [`LoneWriter`]).
    pub(crate) fn note_write(&self, writer: u64) -> bool {
        self.lone_writer.note_write(writer)
    }

    /// Whether the next fsync may run on a runtime thread.
    pub(crate) fn inline_allowed(&self) -> bool {
        self.inline_fsync.allowed()
    }

    /// The slowest an fsync may be for the next to run inline.
    pub(crate) fn set_max_inline_fsync(&self, limit: Duration) {
        self.inline_fsync.set_limit(limit);
    }

    /// The end-of-tick commit, if the runtime has one.
    pub(crate) fn tick_commit(&self) -> Option<&Arc<TickCommit>> {
        self.tick_commit.get()
    }

    /// Records the end-of-tick commit (once).
    pub(crate) fn set_tick_commit(&self, tick: Arc<TickCommit>) {
        let _ = self.tick_commit.set(tick);
    }

    /// Whether an fsync of the live file failed, so that only a rewrite can
    /// make its content durable again.
    pub(crate) fn needs_recovery_rewrite(&self) -> bool {
        self.untrusted.load(Ordering::Acquire)
    }

    /// Marks the live file as not (yet) the AOF: only a rewrite makes what
    /// it holds durable.
    pub(crate) fn require_rewrite(&self) {
        self.untrusted.store(true, Ordering::Release);
    }

    /// A rewrite's switch: the new file is fsynced, the failed fsyncs of
    /// the old one no longer matter.
    pub(crate) fn recovered_by_rewrite(&self, path: &Path) {
        if self.untrusted.swap(false, Ordering::AcqRel) && self.failing.load(Ordering::Acquire) {
            self.set_health(path, |h| h.fsync_error = None);
            tracing::warn!("The rewritten AOF is fsynced: the failed fsync is recovered from");
        }
    }

    /// The reason write commands are refused, if writing or fsyncing the AOF
    /// is failing: one atomic load while it is not.
    pub(crate) fn write_error(&self) -> Option<String> {
        if !self.failing.load(Ordering::Acquire) {
            return None;
        }
        let health = lock(&self.health);
        health
            .write_error
            .clone()
            .or_else(|| health.fsync_error.clone())
    }

    /// Whether writes are refused (`write_error` is `Some`).
    pub(crate) fn failing(&self) -> bool {
        self.failing.load(Ordering::Acquire)
    }

    /// Updates why writes are refused, logging the changes (`path` names the
    /// file).
    pub(crate) fn set_health(&self, path: &Path, update: impl FnOnce(&mut Health)) {
        let mut health = lock(&self.health);
        let was_failing = health.write_error.is_some() || health.fsync_error.is_some();
        update(&mut health);
        let failing = health.write_error.is_some() || health.fsync_error.is_some();
        self.failing.store(failing, Ordering::Release);
        if failing && !was_failing {
            let reason = health.write_error.as_ref().or(health.fsync_error.as_ref());
            tracing::warn!(
                "Error writing to the AOF file {}: {}; refusing writes until it succeeds again",
                path.display(),
                reason.map_or("", String::as_str)
            );
        } else if was_failing && !failing {
            tracing::warn!("AOF write error looks solved. Redigo can write again.");
        }
    }

    /// Under `always`, for a connection writing alone: whether it may fsync
    /// on its own thread now (no earlier failure, nobody waits for the
    /// fsync thread, which is idle).
    pub(crate) fn inline_sync_possible(&self) -> bool {
        !self.needs_recovery_rewrite() && self.waiting() == 0 && self.fsync_thread_idle()
    }

    /// fsyncs the live file and commits everything up to `written` (all
    /// written before this call); `inline` when on a runtime thread rather
    /// than the fsync thread. How long the fsync took, or `None` if it
    /// failed (the file is then untrusted, see the module docs).
    pub(crate) fn fsync_through(
        &self,
        written: u64,
        inline: bool,
        path: &Path,
    ) -> Option<Duration> {
        // One fsync at a time, its outcome recorded before the next starts:
        // after a failed fsync the kernel may have dropped the pages it
        // could not write and marked them clean, so a later fsync that
        // succeeds proves nothing about them. Without this, the fsync
        // thread could start one between another thread's failure and its
        // marking the file untrusted, succeed, and commit the lost batches.
        let _one_at_a_time = lock(&self.fsync_turn);
        if self.needs_recovery_rewrite() {
            return None;
        }
        let handle = self.sync_handle();
        let started = Instant::now();
        let result = handle.sync().map(drop);
        let took = started.elapsed();
        if inline {
            self.inline_fsync.note_inline_fsync(took);
        } else {
            self.inline_fsync.note_fsync(took);
        }
        let synced = result.is_ok();
        self.note_sync_result(result, path);
        if !synced {
            return None;
        }
        self.committed.advance(written);
        Some(took)
    }

    /// Records the outcome of an fsync of the live file.
    pub(crate) fn note_sync_result(&self, result: Result<(), AofError>, path: &Path) {
        match result {
            Ok(()) => {
                if self.failing.load(Ordering::Acquire) {
                    self.set_health(path, |h| h.fsync_error = None);
                }
            }
            Err(err) => {
                let text = match &err {
                    AofError::Sync { source } => os_error_text(source),
                    other => other.to_string(),
                };
                if !self.untrusted.swap(true, Ordering::AcqRel) {
                    tracing::warn!(
                        "fsync of the AOF {} failed ({text}): rewriting the AOF to make it durable again",
                        path.display()
                    );
                }
                self.set_health(path, |h| h.fsync_error = Some(text));
            }
        }
    }
}
