//! Background fsync for `appendfsync everysec`.
//!
//! fsync can take hundreds of milliseconds on a busy disk, so under `everysec`
//! it must not run on the command path. A [`SyncHandle`] holds its own handle
//! to the AOF (a duplicated descriptor), so a blocking thread can fsync while
//! the writer keeps appending; the bytes synced are those written before the
//! fsync began. The writer and every clone of the handle share the counters.
//!
//! Redis runs the same fsync in a background thread and, when the previous one
//! is still running after two seconds, counts an `aof_delayed_fsync`. Redigo
//! never makes appends wait, so it counts a delayed fsync when one falls due
//! while the previous is still running (the new one is skipped: the running
//! fsync, or the next one, covers the data).

use std::fmt;
use std::io;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use crate::error::AofError;
use crate::policy::EVERYSEC_INTERVAL;

/// Something that can be fsynced from any thread: the duplicated file handle.
pub trait SyncTarget: Send + Sync + fmt::Debug {
    /// Flushes written data to stable storage (`fdatasync`).
    fn sync_data(&self) -> io::Result<()>;
}

impl SyncTarget for std::fs::File {
    fn sync_data(&self) -> io::Result<()> {
        std::fs::File::sync_data(self)
    }
}

/// What [`SyncHandle::sync`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SyncOutcome {
    /// The file was fsynced.
    Synced,
    /// Nothing was written since the last fsync.
    Clean,
    /// Another fsync was still running; counted as a delayed fsync.
    StillRunning,
}

/// A cloneable, thread-safe handle that fsyncs the AOF.
///
/// The server's once-a-second timer asks [`AofWriter::sync_due`](crate::AofWriter::sync_due)
/// and hands the fsync to a thread that may block:
///
/// ```
/// use redigo_aof::{AofWriter, FileAofWriter, FsyncPolicy, Record, SyncOutcome, EVERYSEC_INTERVAL};
/// use std::time::Instant;
///
/// let dir = tempfile::tempdir()?;
/// let mut aof = FileAofWriter::open(dir.path().join("a.aof"), FsyncPolicy::EverySec)?;
/// aof.append(&Record::del("k").to_bytes())?; // returns without fsync
///
/// let tick = Instant::now() + EVERYSEC_INTERVAL; // the timer fires a second later
/// if aof.sync_due(tick) {
///     let handle = aof.sync_handle();
///     let outcome = std::thread::spawn(move || handle.sync()).join().unwrap()?;
///     assert_eq!(outcome, SyncOutcome::Synced);
/// }
/// assert_eq!(aof.stats().fsyncs, 1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
pub struct SyncHandle {
    shared: Arc<SyncState>,
}

#[derive(Debug)]
struct SyncState {
    target: Box<dyn SyncTarget>,
    in_progress: AtomicBool,
    /// Log size after the last successful append.
    written_len: AtomicU64,
    /// Log size covered by the last successful fsync.
    synced_len: AtomicU64,
    fsyncs: AtomicU64,
    delayed_fsyncs: AtomicU64,
    last_sync_start: Mutex<Instant>,
}

impl SyncHandle {
    pub(crate) fn new(target: Box<dyn SyncTarget>, len: u64) -> SyncHandle {
        SyncHandle {
            shared: Arc::new(SyncState {
                target,
                in_progress: AtomicBool::new(false),
                written_len: AtomicU64::new(len),
                synced_len: AtomicU64::new(len),
                fsyncs: AtomicU64::new(0),
                delayed_fsyncs: AtomicU64::new(0),
                last_sync_start: Mutex::new(Instant::now()),
            }),
        }
    }

    /// The background fsync: fsyncs if anything was written since the last
    /// one and no other background fsync is running. Blocking: call it from a
    /// thread that may wait (e.g. `tokio::task::spawn_blocking`).
    pub fn sync(&self) -> Result<SyncOutcome, AofError> {
        let state = &self.shared;
        if state.written_len.load(Ordering::Acquire) == state.synced_len.load(Ordering::Acquire) {
            return Ok(SyncOutcome::Clean);
        }
        if state
            .in_progress
            .compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire)
            .is_err()
        {
            state.delayed_fsyncs.fetch_add(1, Ordering::Relaxed);
            return Ok(SyncOutcome::StillRunning);
        }
        let result = self.sync_now();
        state.in_progress.store(false, Ordering::Release);
        result.map(|()| SyncOutcome::Synced)
    }

    /// fsyncs unconditionally on the calling thread.
    pub(crate) fn sync_now(&self) -> Result<(), AofError> {
        let state = &self.shared;
        let covered = state.written_len.load(Ordering::Acquire);
        *state
            .last_sync_start
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Instant::now();
        state
            .target
            .sync_data()
            .map_err(|source| AofError::Sync { source })?;
        state.fsyncs.fetch_add(1, Ordering::Relaxed);
        state.synced_len.fetch_max(covered, Ordering::AcqRel);
        Ok(())
    }

    /// Whether an `everysec` fsync is due at `now`.
    pub fn is_due(&self, now: Instant) -> bool {
        let state = &self.shared;
        let dirty =
            state.written_len.load(Ordering::Acquire) != state.synced_len.load(Ordering::Acquire);
        let last = *state
            .last_sync_start
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        dirty && now.saturating_duration_since(last) >= EVERYSEC_INTERVAL
    }

    /// Completed fsyncs.
    pub fn fsyncs(&self) -> u64 {
        self.shared.fsyncs.load(Ordering::Relaxed)
    }

    /// fsyncs that fell due while another was running.
    pub fn delayed_fsyncs(&self) -> u64 {
        self.shared.delayed_fsyncs.load(Ordering::Relaxed)
    }

    /// Zeroes [`SyncHandle::fsyncs`] and [`SyncHandle::delayed_fsyncs`]
    /// (`CONFIG RESETSTAT`).
    pub fn reset_counters(&self) {
        self.shared.fsyncs.store(0, Ordering::Relaxed);
        self.shared.delayed_fsyncs.store(0, Ordering::Relaxed);
    }

    /// Records the log size after a successful append.
    pub(crate) fn note_written(&self, len: u64) {
        self.shared.written_len.store(len, Ordering::Release);
        // After a rollback the log can shrink below what was synced.
        self.shared.synced_len.fetch_min(len, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;
    use std::time::Duration;

    /// A sync target whose fsync waits until the test releases it.
    #[derive(Debug)]
    struct GatedTarget {
        started: Mutex<mpsc::Sender<()>>,
        release: Mutex<mpsc::Receiver<()>>,
    }

    impl SyncTarget for GatedTarget {
        fn sync_data(&self) -> io::Result<()> {
            let _ = self.started.lock().unwrap().send(());
            let _ = self.release.lock().unwrap().recv();
            Ok(())
        }
    }

    #[test]
    fn a_sync_due_while_another_runs_is_counted_as_delayed() {
        let (started_tx, started_rx) = mpsc::channel();
        let (release_tx, release_rx) = mpsc::channel();
        let handle = SyncHandle::new(
            Box::new(GatedTarget {
                started: Mutex::new(started_tx),
                release: Mutex::new(release_rx),
            }),
            0,
        );
        assert_eq!(handle.sync().unwrap(), SyncOutcome::Clean);
        handle.note_written(10);

        let background = handle.clone();
        let running = std::thread::spawn(move || background.sync());
        started_rx.recv().unwrap();
        // Another second passes and more is written: the next fsync is due,
        // but the first is still running.
        handle.note_written(20);
        assert!(handle.is_due(Instant::now() + EVERYSEC_INTERVAL));
        assert_eq!(handle.sync().unwrap(), SyncOutcome::StillRunning);
        assert_eq!(handle.delayed_fsyncs(), 1);

        release_tx.send(()).unwrap();
        assert_eq!(running.join().unwrap().unwrap(), SyncOutcome::Synced);
        assert_eq!(handle.fsyncs(), 1);
        // The first fsync covered only the first 10 bytes.
        assert!(handle.is_due(Instant::now() + EVERYSEC_INTERVAL + Duration::from_millis(1)));
        release_tx.send(()).unwrap();
        assert_eq!(handle.sync().unwrap(), SyncOutcome::Synced);
        assert!(!handle.is_due(Instant::now() + EVERYSEC_INTERVAL * 2));
    }
}
