//! [`TickCommit`]: under `appendfsync always`, one write and one fsync at
//! the end of each runtime tick, covering every connection that ran in it:
//! Redis's `beforeSleep`.
//!
//! Redis runs all clients on one thread. Each turn of its event loop reads
//! and runs the commands of every client with input, and only then, before
//! sleeping in `epoll_wait`, writes the AOF buffer, fsyncs it once and
//! sends the replies. Every client served in that turn shares the fsync,
//! and no thread hands work to another.
//!
//! With one I/O thread (the default) Redigo's runtime is a single thread
//! too (see [`runtime`](crate::runtime)), and this is the same loop: a
//! connection whose replies must wait (its batch queued records, or read
//! a value whose record is not durable yet) files a request
//! (`TickCommit::request`) and waits. When the runtime has no task left
//! to run, its park hook ([`TickCommit::on_park`]) wakes the committer task
//! ([`TickCommit::committer`]), which lets the runtime poll the sockets
//! [`GATHER_POLLS`] more times without sleeping (requests that arrived
//! while the tick ran join this commit instead of waiting a whole fsync
//! for the next), then writes the queue, fsyncs and wakes the waiters;
//! their replies go out in the next tick.
//!
//! Measured with `redis-benchmark -t set -c 50` on a 2-core machine
//! (ratios to redis-server in the same run): the fsync thread doing group
//! commit 0.79-0.84x (its fsyncs overlapped the connections, so clients
//! split into two groups taking turns, and every fsync cost two thread
//! wake-ups on cores `redis-benchmark` also needs); committing at the end
//! of the tick 1.04x; with one gathering poll 1.14x (about 33 requests per
//! fsync instead of 24).
//!
//! Two things keep this from holding replies or the thread too long:
//! * a runtime that never runs out of tasks (clients pipelining without
//!   pause) never parks; connections call [`TickCommit::run_if_overdue`]
//!   after each batch, which commits once a request is older than
//!   [`MAX_TICK_COMMIT_DELAY`];
//! * the fsync blocks the runtime thread, readers included, as Redis's
//!   does; after one slower than
//!   [`MAX_INLINE_FSYNC`](super::inline_fsync::MAX_INLINE_FSYNC) the commit
//!   only writes and leaves the fsync to the fsync thread (see
//!   [`inline_fsync`](super::inline_fsync)).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use redigo_aof::FsyncPolicy;
use tokio::sync::Notify;

use super::appender::{Aof, Attempt, lock};
use super::inline_fsync::micros;

/// How many times the committer lets the runtime poll its sockets (without
/// sleeping) before it commits. One raised `redis-benchmark -c 50`
/// throughput by about a tenth; more gathered no more requests.
pub const GATHER_POLLS: usize = 1;

/// The longest a request waits for the runtime to run out of tasks before
/// the next connection to finish a batch commits it instead.
pub const MAX_TICK_COMMIT_DELAY: Duration = Duration::from_millis(1);

/// No request is outstanding.
const NOT_REQUESTED: u64 = 0;

/// See the module docs. Shared by the runtime's park hook and the AOFs of
/// the server running on it.
#[derive(Debug)]
pub struct TickCommit {
    epoch: Instant,
    /// When the oldest outstanding request was filed: µs since `epoch`,
    /// plus one so that a request at the epoch is not [`NOT_REQUESTED`].
    requested_at: AtomicU64,
    /// The AOFs attached (a run-time `CONFIG SET appendonly yes` opens a
    /// new one); dead ones are dropped as new ones come.
    aofs: Mutex<Vec<Weak<Aof>>>,
    /// Wakes the committer task.
    wake_committer: Notify,
}

impl TickCommit {
    /// A commit with no AOF attached yet.
    pub fn new() -> Arc<TickCommit> {
        Arc::new(TickCommit {
            epoch: Instant::now(),
            requested_at: AtomicU64::new(NOT_REQUESTED),
            aofs: Mutex::new(Vec::new()),
            wake_committer: Notify::new(),
        })
    }

    /// Makes `aof` commit at the end of each tick under `always`.
    pub fn attach(self: &Arc<Self>, aof: &Arc<Aof>) {
        let mut aofs = lock(&self.aofs);
        aofs.retain(|attached| attached.strong_count() > 0);
        aofs.push(Arc::downgrade(aof));
        drop(aofs);
        aof.set_tick_commit(Arc::clone(self));
    }

    /// Asks for a commit at the end of this tick.
    pub(crate) fn request(&self) {
        let now = micros(self.epoch.elapsed()) + 1;
        // Keeps the oldest request's time: that is the one that waits.
        let _ = self.requested_at.compare_exchange(
            NOT_REQUESTED,
            now,
            Ordering::AcqRel,
            Ordering::Relaxed,
        );
    }

    /// Whether a request is outstanding.
    pub fn requested(&self) -> bool {
        self.requested_at.load(Ordering::Acquire) != NOT_REQUESTED
    }

    /// The runtime's park hook: wakes the committer if a request is
    /// outstanding (the runtime then runs it instead of sleeping).
    pub fn on_park(&self) {
        if self.requested() {
            self.wake_committer.notify_one();
        }
    }

    /// The committer task, spawned on the runtime whose park hook is
    /// [`TickCommit::on_park`]: see the module docs.
    pub async fn committer(self: Arc<Self>) {
        loop {
            self.wake_committer.notified().await;
            for _ in 0..GATHER_POLLS {
                // Runs again after the runtime polled its sockets once
                // and ran the connections that had input.
                tokio::task::yield_now().await;
            }
            self.run();
        }
    }

    /// Commits now if a request is outstanding.
    pub fn run(&self) {
        if self.requested_at.swap(NOT_REQUESTED, Ordering::AcqRel) == NOT_REQUESTED {
            return;
        }
        let aofs: Vec<Arc<Aof>> = lock(&self.aofs).iter().filter_map(Weak::upgrade).collect();
        for aof in aofs {
            aof.commit_tick();
        }
    }

    /// Whether a request is outstanding and was filed less than `limit`
    /// ago: the end of the tick (or the overdue check) will commit it soon.
    pub(crate) fn requested_within(&self, limit: Duration) -> bool {
        self.request_age_us().is_some_and(|age| age < micros(limit))
    }

    /// How long (µs) the oldest outstanding request has waited, if any.
    fn request_age_us(&self) -> Option<u64> {
        let requested_at = self.requested_at.load(Ordering::Acquire);
        (requested_at != NOT_REQUESTED)
            .then(|| (micros(self.epoch.elapsed()) + 1).saturating_sub(requested_at))
    }

    /// Called by a connection after each batch: commits now if a request
    /// has waited longer than [`MAX_TICK_COMMIT_DELAY`] for the runtime to
    /// run out of tasks.
    pub fn run_if_overdue(&self) {
        if self
            .request_age_us()
            .is_some_and(|waited| waited > micros(MAX_TICK_COMMIT_DELAY))
        {
            self.run();
        }
    }
}

impl Aof {
    /// Under `always`, whether a connection's records may be committed at
    /// the end of the tick rather than by the fsync thread.
    pub(crate) fn tick_commit_for_reply(&self) -> Option<&TickCommit> {
        let tick = self.durability.tick_commit()?;
        (self.policy() == FsyncPolicy::Always
            && !self.needs_recovery_rewrite()
            && self.durability.inline_allowed())
        .then_some(tick.as_ref())
    }

    /// Whether the records queued now are the end-of-tick commit's to
    /// write: a connection asked for it less than `limit` ago. The fsync
    /// thread's safety net leaves them to it instead of racing it to the
    /// file (which would only turn one inline fsync into a thread's).
    pub(crate) fn queue_left_to_tick_commit(&self, limit: Duration) -> bool {
        self.tick_commit_for_reply()
            .is_some_and(|tick| tick.requested_within(limit))
    }

    /// The end-of-tick commit (see the module docs): writes what is queued,
    /// then under `always` fsyncs and publishes it as durable.
    pub(crate) fn commit_tick(&self) {
        if self.stopping() {
            return;
        }
        let _running = TickCommitRunning::new(self);
        if let Attempt::Failed = self.write_queued(true, false) {
            // The writer thread retries; under `always` the fsync thread
            // covers what it writes, and the replies wait for that.
            self.flush_soon();
            return;
        }
        let written = self.live.written();
        if self.policy() != FsyncPolicy::Always {
            // Switched away from `always` while replies waited: being
            // written is all they need now.
            self.durability.commit(written);
            return;
        }
        if !self.sync_pending() {
            // Durable already, or after a failed fsync: the replies wait
            // for the recovery rewrite.
            return;
        }
        if !self.durability.inline_allowed() {
            // The fsync thread's: `TickCommitRunning` wakes it as this
            // commit ends (woken now, it would find the commit still
            // running and sleep again).
            return;
        }
        let _ = self.fsync_written(written, true);
    }
}

/// An end-of-tick commit in progress. From its write to its fsync the
/// fsync thread leaves that fsync alone on its periodic check (it would
/// only turn a runtime thread's fsync into its own, one wake-up later).
/// Whatever the commit leaves written but not fsynced (a slow disk hands
/// fsyncs over, a write retry lands meanwhile) is handed to the fsync
/// thread when it ends, so no handover waits for the thread's next
/// periodic check.
struct TickCommitRunning<'a> {
    aof: &'a Aof,
}

impl<'a> TickCommitRunning<'a> {
    fn new(aof: &'a Aof) -> TickCommitRunning<'a> {
        aof.durability.begin_tick_commit();
        TickCommitRunning { aof }
    }
}

impl Drop for TickCommitRunning<'_> {
    fn drop(&mut self) {
        self.aof.durability.end_tick_commit();
        if self.aof.sync_pending() {
            self.aof.request_sync();
        }
    }
}
