//! The fsync thread: durability under `always` and `everysec`, and the
//! recovery from a failed fsync.
//!
//! Under `always` with more than one I/O thread, the thread fsyncs back to
//! back while written data is not yet durable, each fsync covering
//! everything written before it began (group commit), and publishes what is
//! durable through the
//! [`SequenceWaiters`](super::sequence_waiters::SequenceWaiters) the
//! connections wait on; no runtime thread blocks on fsync. With one I/O
//! thread the runtime commits at the end of each tick instead
//! ([`tick_commit`](super::tick_commit)), leaving this thread the fsyncs of
//! a stalling disk and of write retries. Under
//! `everysec` it fsyncs about once a second. Every [`FSYNC_TICK`] it also
//! wakes the writer thread if records stay queued.
//!
//! A failed fsync marks the live file untrusted (see the [`appender`]
//! module docs): fsyncs of it stop until a rewrite replaced it.
//!
//! [`appender`]: super::appender

use std::sync::atomic::Ordering;
use std::sync::{Arc, PoisonError};
use std::time::{Duration, Instant};

use redigo_aof::{AofError, FsyncPolicy, os_error_text};

use super::appender::{Aof, lock};

/// How often the fsync timer checks whether an `everysec` fsync is due.
pub const FSYNC_TICK: Duration = Duration::from_millis(50);

/// Under `always`, when writes arrive during an fsync, the next one waits
/// this fraction of the last fsync's duration for more writes to join it.
/// On the 2-core test machine, 0.3-0.6 raised throughput with 50 clients
/// by about a sixth (0.70x -> 0.80x redis-server); 1.0 gave less.
pub const GROUP_COMMIT_WAIT_FRACTION: f64 = 0.4;

/// The longest that wait can be, so a slow disk does not add its slowness
/// twice.
pub const MAX_GROUP_COMMIT_WAIT: Duration = Duration::from_micros(500);

/// After a failed fsync, how long the recovery rewrite waits before trying
/// again when it fails too.
pub const RECOVERY_REWRITE_BACKOFF: Duration = Duration::from_secs(1);

/// The policy the [`AofWriter`] itself applies for a server `policy`: under
/// `always` the fsync thread fsyncs (see [`Aof::persist`]), so appends never
/// block on the disk; `everysec` and `no` are the writer's own.
pub(crate) fn writer_policy(policy: FsyncPolicy) -> FsyncPolicy {
    match policy {
        FsyncPolicy::Always => FsyncPolicy::Never,
        other => other,
    }
}

impl Aof {
    /// Under `always`, makes sure the fsync thread runs (it stays busy
    /// while written data is not yet durable; this wakes it when idle).
    pub(crate) fn request_sync(&self) {
        let mut idle = lock(&self.sync_idle);
        if *idle {
            *idle = false;
            self.sync_wake.notify_one();
        }
    }

    /// The fsync thread: under `always` it fsyncs back to back while
    /// written data is not yet durable, each fsync covering everything
    /// written before it began, and publishes what is durable; under
    /// `everysec` it fsyncs about once a second. It also wakes the writer
    /// thread if records stay queued.
    pub(crate) fn fsync_loop(self: Arc<Self>) {
        let mut next_tick = Instant::now() + FSYNC_TICK;
        while !self.stopping() {
            if self.sync_pending() && self.sync_written() {
                continue;
            }
            let now = Instant::now();
            if now < next_tick {
                self.sleep_until_sync_wanted(next_tick - now);
                continue;
            }
            next_tick = now + FSYNC_TICK;
            if self.buffer_len() > 0 {
                // Queued by a path that did not write it, or left by a
                // failed write: the writer thread takes care of it.
                self.flush_soon();
            }
            if self.policy() != FsyncPolicy::EverySec || self.needs_recovery_rewrite() {
                continue;
            }
            let handle = lock(&self.sync_handle).clone();
            if !handle.is_due(Instant::now()) {
                continue;
            }
            let result = handle.sync();
            self.note_sync_result(result.map(drop));
        }
    }

    /// Whether an fsync of the live file failed, so that only a rewrite can
    /// make its content durable again (see the module docs).
    pub fn needs_recovery_rewrite(&self) -> bool {
        self.untrusted.load(Ordering::Acquire)
    }

    /// Called by a rewrite's switch: the new file is fsynced, the failed
    /// fsyncs of the old one no longer matter.
    pub(crate) fn recovered_by_rewrite(&self) {
        if self.untrusted.swap(false, Ordering::AcqRel) && self.failing.load(Ordering::Acquire) {
            self.set_health(|h| h.fsync_error = None);
            tracing::warn!("The rewritten AOF is fsynced: the failed fsync is recovered from");
        }
    }

    /// Releases every connection still waiting for an fsync (the AOF was
    /// turned off: there is nothing left to wait for).
    pub(crate) fn release_waiters(&self) {
        self.committed.advance(u64::MAX);
    }

    /// Marks the live file as not (yet) the AOF: only a rewrite makes what
    /// it holds durable (used when the AOF is turned on at run time).
    pub(crate) fn require_rewrite(&self) {
        self.untrusted.store(true, Ordering::Release);
    }

    /// Under `always`: whether written data waits for an fsync this thread
    /// can do.
    pub(crate) fn sync_pending(&self) -> bool {
        self.policy() == FsyncPolicy::Always
            && !self.needs_recovery_rewrite()
            && self.progress.borrow().written > self.committed.reached()
    }

    /// Under `always`: fsyncs if something written is not durable yet and
    /// publishes it; false when there was nothing to do. After a failed
    /// fsync the replies wait for the recovery rewrite.
    pub(crate) fn sync_written(&self) -> bool {
        let written = self.progress.borrow().written;
        if written <= self.committed.reached() {
            return false;
        }
        let Some(took) = self.fsync_written(written, false) else {
            return false;
        };
        if self.progress.borrow().written > written {
            // Writes arrived during the fsync: others are on their way.
            // Letting them land before the next fsync makes fewer, larger
            // groups (each fsync costs the same whatever it covers). A lone
            // client never waits here: nothing arrives during its fsync.
            std::thread::sleep(
                took.mul_f64(GROUP_COMMIT_WAIT_FRACTION)
                    .min(MAX_GROUP_COMMIT_WAIT),
            );
        }
        true
    }

    /// Under `always`, for a connection writing alone (see
    /// [`lone_writer`](super::lone_writer)): fsyncs on the calling thread
    /// what is written, if the fsync thread is idle and nobody waits for
    /// it. False if it did not make `seq` durable (the caller then waits
    /// for the fsync thread, or after a failed fsync for the recovery
    /// rewrite).
    pub(crate) fn sync_inline(&self, seq: u64) -> bool {
        if self.needs_recovery_rewrite() || self.committed.waiting() > 0 || !*lock(&self.sync_idle)
        {
            return false;
        }
        let written = self.progress.borrow().written;
        if written < seq {
            return false;
        }
        self.fsync_written(written, true).is_some()
    }

    /// fsyncs the live file and publishes everything up to `written` (all
    /// written before this call) as durable; `inline` when on a runtime
    /// thread rather than the fsync thread. How long the fsync took, or
    /// `None` if it failed (the file is then untrusted, see the module
    /// docs).
    pub(crate) fn fsync_written(&self, written: u64, inline: bool) -> Option<Duration> {
        let handle = lock(&self.sync_handle).clone();
        let started = Instant::now();
        let result = handle.sync().map(drop);
        let took = started.elapsed();
        if inline {
            self.inline_fsync.note_inline_fsync(took);
        } else {
            self.inline_fsync.note_fsync(took);
        }
        let synced = result.is_ok();
        self.note_sync_result(result);
        if !synced {
            return None;
        }
        self.committed.advance(written);
        Some(took)
    }

    pub(crate) fn note_sync_result(&self, result: Result<(), AofError>) {
        match result {
            Ok(()) => {
                if self.failing.load(Ordering::Acquire) {
                    self.set_health(|h| h.fsync_error = None);
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
                        self.path.display()
                    );
                }
                self.set_health(|h| h.fsync_error = Some(text));
            }
        }
    }

    /// Sleeps up to `timeout`, or until [`Aof::request_sync`] or shutdown.
    pub(crate) fn sleep_until_sync_wanted(&self, timeout: Duration) {
        let mut idle = lock(&self.sync_idle);
        // Re-checked under the lock `request_sync` takes, so a request made
        // after the check above is not lost.
        if self.sync_pending() {
            return;
        }
        *idle = true;
        let (mut idle, _) = self
            .sync_wake
            .wait_timeout(idle, timeout)
            .unwrap_or_else(PoisonError::into_inner);
        *idle = false;
    }
}
