//! Fault injection for tests: an AOF whose writes fail or tear on demand.
//!
//! [`FaultyAofWriter`] is a real [`FileAofWriter`] over a [`FaultyStorage`],
//! so a test exercises the production rollback and status logic, not a mock
//! of it. Faults are armed through a [`FaultInjector`], which is cloneable and
//! can be kept by the test while the server owns the writer:
//!
//! * [`fail_next_writes(n)`](FaultInjector::fail_next_writes): the next `n`
//!   writes fail with "No space left on device" and store nothing;
//! * [`tear_next_write(k)`](FaultInjector::tear_next_write): the next write
//!   stores only its first `k` bytes, then the write after fails (what a full
//!   disk does to `write(2)`);
//! * [`fail_next_truncates(n)`](FaultInjector::fail_next_truncates): the
//!   rollback of a torn write fails too, so the torn bytes stay;
//! * [`fail_next_syncs(n)`](FaultInjector::fail_next_syncs): fsync fails with
//!   an I/O error;
//! * [`stall_next_syncs(n, d)`](FaultInjector::stall_next_syncs): fsync takes
//!   `d` longer, as on a disk that stalls;
//! * [`hold_syncs`](FaultInjector::hold_syncs): every fsync blocks until
//!   [`release_syncs`](FaultInjector::release_syncs), a disk that stalls for
//!   as long as the test needs, with no timing involved.
//!
//! The injector also reports which faults fired
//! ([`fired`](FaultInjector::fired), by kind), so a test can assert that
//! the fault it armed was hit.
//!
//! This module is public so the server's integration tests can use it; it is
//! not meant for production configurations.

use std::fs::File;
use std::io;
use std::path::Path;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use crate::error::AofError;
use crate::file_writer::{AofStorage, FileAofWriter, open_for_append};
use crate::policy::FsyncPolicy;
use crate::sync::{SyncHandle, SyncTarget};
use crate::writer::{AofStats, AofWriter, WriteStatus};

/// The message of an injected write failure (Linux's `strerror(ENOSPC)`).
pub const INJECTED_WRITE_ERROR: &str = "No space left on device";

/// The message of an injected fsync or truncate failure (`strerror(EIO)`).
pub const INJECTED_IO_ERROR: &str = "Input/output error";

/// Faults waiting to happen; shared by the injector, the storage and the
/// storage's sync handle.
#[derive(Debug, Default)]
struct FaultPlan {
    failing_writes: u32,
    tear_after: Option<usize>,
    failing_truncates: u32,
    failing_syncs: u32,
    stalling_syncs: u32,
    stall: Duration,
    /// fsyncs block at the gate while set.
    holding_syncs: bool,
    /// fsyncs succeed without reaching the disk.
    skipping_real_syncs: bool,
    /// fsyncs blocked at the gate now.
    syncs_at_gate: u32,
    /// What fired so far.
    fired: FaultsFired,
}

/// How many injected faults of each kind fired (were applied to an
/// operation), so a test can assert that the fault it armed happened.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FaultsFired {
    /// Writes that failed without storing anything.
    pub writes_failed: u64,
    /// Writes that stored only part of their bytes.
    pub writes_torn: u64,
    /// Truncations (rollbacks) that failed.
    pub truncates_failed: u64,
    /// fsyncs that failed.
    pub syncs_failed: u64,
    /// fsyncs that were stalled.
    pub syncs_stalled: u64,
    /// fsyncs that were held at the gate.
    pub syncs_held: u64,
}

/// Arms faults in a [`FaultyStorage`]. Clones share the same plan.
#[derive(Clone, Debug, Default)]
pub struct FaultInjector {
    plan: Arc<Mutex<FaultPlan>>,
    /// Wakes fsyncs held at the gate.
    gate: Arc<Condvar>,
}

impl FaultInjector {
    fn plan(&self) -> MutexGuard<'_, FaultPlan> {
        self.plan.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The next `n` writes fail without storing anything.
    pub fn fail_next_writes(&self, n: u32) {
        self.plan().failing_writes = n;
    }

    /// The next write stores only its first `keep` bytes; the one after fails.
    pub fn tear_next_write(&self, keep: usize) {
        self.plan().tear_after = Some(keep);
    }

    /// The next `n` truncations (rollbacks) fail.
    pub fn fail_next_truncates(&self, n: u32) {
        self.plan().failing_truncates = n;
    }

    /// The next `n` fsyncs fail.
    pub fn fail_next_syncs(&self, n: u32) {
        self.plan().failing_syncs = n;
    }

    /// The next `n` fsyncs take `stall` longer (a disk that stalls).
    pub fn stall_next_syncs(&self, n: u32, stall: Duration) {
        let mut plan = self.plan();
        plan.stalling_syncs = n;
        plan.stall = stall;
    }

    /// From now on every fsync blocks until [`FaultInjector::release_syncs`].
    pub fn hold_syncs(&self) {
        self.plan().holding_syncs = true;
    }

    /// From now on fsyncs succeed at once without reaching the disk (after
    /// any fault armed for them), so a test that counts where fsyncs ran
    /// never depends on how fast this machine's disk is: only on the stalls
    /// it injects.
    pub fn skip_real_syncs(&self) {
        self.plan().skipping_real_syncs = true;
    }

    /// Lets the fsyncs held at the gate (and later ones) through.
    pub fn release_syncs(&self) {
        self.plan().holding_syncs = false;
        self.gate.notify_all();
    }

    /// How many fsyncs are blocked at the gate now, and how many ever were.
    pub fn syncs_held(&self) -> (u32, u64) {
        let plan = self.plan();
        (plan.syncs_at_gate, plan.fired.syncs_held)
    }

    /// How many writes failed by injection so far.
    pub fn write_failures(&self) -> u64 {
        self.plan().fired.writes_failed
    }

    /// Every fault that fired so far, by kind.
    pub fn fired(&self) -> FaultsFired {
        self.plan().fired
    }

    /// Disarms every pending fault and releases held fsyncs (the counts of
    /// faults fired, and [`FaultInjector::skip_real_syncs`], are kept).
    pub fn clear(&self) {
        let mut plan = self.plan();
        *plan = FaultPlan {
            syncs_at_gate: plan.syncs_at_gate,
            skipping_real_syncs: plan.skipping_real_syncs,
            fired: plan.fired,
            ..FaultPlan::default()
        };
        drop(plan);
        self.gate.notify_all();
    }

    fn take(counter: &mut u32) -> bool {
        let armed = *counter > 0;
        *counter = counter.saturating_sub(1);
        armed
    }

    /// Applies the sync faults armed, then what the fsync does: fail, skip
    /// the disk, or reach it.
    fn sync_outcome(&self) -> SyncFault {
        if self.sync_fails() {
            SyncFault::Fail
        } else if self.plan().skipping_real_syncs {
            SyncFault::Skip
        } else {
            SyncFault::None
        }
    }

    /// Applies the sync faults armed: sleeps for a stall, then whether the
    /// sync fails.
    fn sync_fails(&self) -> bool {
        let (stall, fails) = {
            let mut plan = self.plan();
            let stall = Self::take(&mut plan.stalling_syncs).then_some(plan.stall);
            let fails = Self::take(&mut plan.failing_syncs);
            plan.fired.syncs_stalled += u64::from(stall.is_some());
            plan.fired.syncs_failed += u64::from(fails);
            (stall, fails)
        };
        if let Some(stall) = stall {
            std::thread::sleep(stall);
        }
        let mut plan = self.plan();
        if plan.holding_syncs {
            plan.syncs_at_gate += 1;
            plan.fired.syncs_held += 1;
            while plan.holding_syncs {
                plan = self.gate.wait(plan).unwrap_or_else(PoisonError::into_inner);
            }
            plan.syncs_at_gate -= 1;
        }
        fails
    }
}

/// What an fsync does under the faults armed.
enum SyncFault {
    Fail,
    Skip,
    None,
}

impl SyncFault {
    /// Runs `real` unless the fault says otherwise.
    fn apply(self, real: impl FnOnce() -> io::Result<()>) -> io::Result<()> {
        match self {
            SyncFault::Fail => Err(injected(io::ErrorKind::Other, INJECTED_IO_ERROR)),
            SyncFault::Skip => Ok(()),
            SyncFault::None => real(),
        }
    }
}

fn injected(kind: io::ErrorKind, text: &str) -> io::Error {
    io::Error::new(kind, text)
}

/// An [`AofStorage`] that applies the faults armed in its [`FaultInjector`].
#[derive(Debug)]
pub struct FaultyStorage<S: AofStorage = File> {
    inner: S,
    faults: FaultInjector,
}

impl<S: AofStorage> FaultyStorage<S> {
    /// Wraps `inner`; arm faults through `faults`.
    pub fn new(inner: S, faults: FaultInjector) -> FaultyStorage<S> {
        FaultyStorage { inner, faults }
    }
}

impl<S: AofStorage> AofStorage for FaultyStorage<S> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let tear = {
            let mut plan = self.faults.plan();
            if FaultInjector::take(&mut plan.failing_writes) {
                plan.fired.writes_failed += 1;
                return Err(injected(io::ErrorKind::StorageFull, INJECTED_WRITE_ERROR));
            }
            let tear = plan.tear_after.take();
            if tear.is_some() {
                // The disk is full after the torn part.
                plan.failing_writes += 1;
                plan.fired.writes_torn += 1;
            }
            tear
        };
        match tear {
            Some(0) => Err(injected(io::ErrorKind::StorageFull, INJECTED_WRITE_ERROR)),
            Some(keep) => self.inner.write(&buf[..keep.min(buf.len())]),
            None => self.inner.write(buf),
        }
    }

    fn truncate(&mut self, len: u64) -> io::Result<()> {
        {
            let mut plan = self.faults.plan();
            if FaultInjector::take(&mut plan.failing_truncates) {
                plan.fired.truncates_failed += 1;
                return Err(injected(io::ErrorKind::Other, INJECTED_IO_ERROR));
            }
        }
        self.inner.truncate(len)
    }

    fn file_len(&mut self) -> io::Result<u64> {
        self.inner.file_len()
    }

    fn sync_data(&mut self) -> io::Result<()> {
        let inner = &mut self.inner;
        self.faults.sync_outcome().apply(|| inner.sync_data())
    }

    fn sync_target(&self) -> io::Result<Box<dyn SyncTarget>> {
        Ok(Box::new(FaultySyncTarget {
            inner: self.inner.sync_target()?,
            faults: self.faults.clone(),
        }))
    }
}

/// The background-fsync side of a [`FaultyStorage`].
#[derive(Debug)]
struct FaultySyncTarget {
    inner: Box<dyn SyncTarget>,
    faults: FaultInjector,
}

impl SyncTarget for FaultySyncTarget {
    fn sync_data(&self) -> io::Result<()> {
        self.faults.sync_outcome().apply(|| self.inner.sync_data())
    }
}

/// A file AOF writer with fault injection (for tests).
#[derive(Debug)]
pub struct FaultyAofWriter {
    inner: FileAofWriter<FaultyStorage<File>>,
    faults: FaultInjector,
}

impl FaultyAofWriter {
    /// Opens `path` like [`FileAofWriter::open`], with no fault armed yet.
    pub fn open(path: impl AsRef<Path>, policy: FsyncPolicy) -> Result<Self, AofError> {
        let faults = FaultInjector::default();
        let file = open_for_append(path.as_ref())?;
        let inner = FileAofWriter::with_storage(FaultyStorage::new(file, faults.clone()), policy)?;
        Ok(FaultyAofWriter { inner, faults })
    }

    /// The injector that arms this writer's faults.
    pub fn faults(&self) -> FaultInjector {
        self.faults.clone()
    }
}

impl AofWriter for FaultyAofWriter {
    fn append(&mut self, batch: &[u8]) -> Result<(), AofError> {
        self.inner.append(batch)
    }

    fn sync(&mut self) -> Result<(), AofError> {
        self.inner.sync()
    }

    fn size(&self) -> u64 {
        self.inner.size()
    }

    fn status(&self) -> &WriteStatus {
        self.inner.status()
    }

    fn policy(&self) -> FsyncPolicy {
        self.inner.policy()
    }

    fn set_policy(&mut self, policy: FsyncPolicy) {
        self.inner.set_policy(policy);
    }

    fn stats(&self) -> AofStats {
        self.inner.stats()
    }

    fn sync_due(&self, now: Instant) -> bool {
        self.inner.sync_due(now)
    }

    fn sync_handle(&self) -> SyncHandle {
        self.inner.sync_handle()
    }
}
