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

use std::sync::Arc;
use std::time::{Duration, Instant};

use redigo_aof::FsyncPolicy;

use super::appender::Aof;

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

impl Aof {
    /// Under `always`, makes sure the fsync thread runs (it stays busy
    /// while written data is not yet durable; this wakes it when idle).
    pub(crate) fn request_sync(&self) {
        self.durability.request_sync();
    }

    /// The fsync thread: under `always` it fsyncs back to back while
    /// written data is not yet durable, each fsync covering everything
    /// written before it began, and publishes what is durable; under
    /// `everysec` it fsyncs about once a second. It also wakes the writer
    /// thread if records stay queued.
    pub(crate) fn fsync_loop(self: Arc<Self>) {
        let mut next_tick = Instant::now() + FSYNC_TICK;
        // What a runtime thread's end-of-tick commit is about to fsync is
        // left to it; when it hands the fsync over, it asks (`request_sync`).
        let pending = || self.sync_pending() && !self.durability.tick_commit_in_progress();
        while !self.stopping() {
            if pending() && self.sync_written() {
                continue;
            }
            let now = Instant::now();
            if now < next_tick {
                self.durability
                    .sleep_until_sync_wanted(next_tick - now, pending);
                continue;
            }
            next_tick = now + FSYNC_TICK;
            if self.buffer_len() > 0 && !self.queue_left_to_tick_commit(FSYNC_TICK) {
                // Queued by a path that did not write it, left by a failed
                // write, or waiting on a runtime stalled for a whole tick of
                // this thread: the writer thread takes care of it.
                self.flush_soon();
            }
            if self.policy() != FsyncPolicy::EverySec || self.needs_recovery_rewrite() {
                continue;
            }
            let handle = self.durability.sync_handle();
            if !handle.is_due(Instant::now()) {
                continue;
            }
            let result = handle.sync();
            self.durability
                .note_sync_result(result.map(drop), &self.path);
        }
    }

    /// Whether an fsync of the live file failed, so that only a rewrite can
    /// make its content durable again (see the module docs).
    pub fn needs_recovery_rewrite(&self) -> bool {
        self.durability.needs_recovery_rewrite()
    }

    /// Called by a rewrite's switch: the new file is fsynced, the failed
    /// fsyncs of the old one no longer matter.
    pub(crate) fn recovered_by_rewrite(&self) {
        self.durability.recovered_by_rewrite(&self.path);
    }

    /// Releases every connection still waiting for an fsync (the AOF was
    /// turned off: there is nothing left to wait for).
    pub(crate) fn release_waiters(&self) {
        self.durability.commit(u64::MAX);
    }

    /// Marks the live file as not (yet) the AOF: only a rewrite makes what
    /// it holds durable (used when the AOF is turned on at run time).
    pub(crate) fn require_rewrite(&self) {
        self.durability.require_rewrite();
    }

    /// Under `always`: whether written data waits for an fsync this thread
    /// can do.
    pub(crate) fn sync_pending(&self) -> bool {
        self.policy() == FsyncPolicy::Always
            && !self.needs_recovery_rewrite()
            && self.live.written() > self.durability.committed()
    }

    /// Under `always`: fsyncs if something written is not durable yet and
    /// publishes it; false when there was nothing to do. After a failed
    /// fsync the replies wait for the recovery rewrite.
    pub(crate) fn sync_written(&self) -> bool {
        let written = self.live.written();
        if written <= self.durability.committed() {
            return false;
        }
        let Some(took) = self.fsync_written(written, false) else {
            return false;
        };
        if self.live.written() > written {
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
        if !self.durability.inline_sync_possible() {
            return false;
        }
        let written = self.live.written();
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
        self.durability.fsync_through(written, inline, &self.path)
    }
}
