//! `BGREWRITEAOF` with the AOF off.
//!
//! Redis 7.0 runs a rewrite then too: it writes a fresh base file that a
//! later start with `appendonly yes` loads. Redigo does the same with its
//! single file: a background thread walks a point-in-time snapshot of the
//! store (as the rewrite of a live AOF does, [`SNAPSHOT_BATCH`] keys per
//! dataset lock) into `<aof>.offline.tmp`, fsyncs it, renames it over the
//! AOF path and fsyncs the directory, so the path holds either the old file
//! or the complete new one. There is no tail: nothing is appended to an AOF
//! that is off.
//!
//! `CONFIG SET appendonly yes` stops a running one first ([`OfflineRewrite::stop`]),
//! as Redis kills its rewrite child then: the rewrite that turns the AOF on
//! must be the last to rename over the path, and it needs the store's one
//! snapshot. The check that the rewrite was not stopped and the rename
//! happen under one lock, so a stopped rewrite never renames.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, Weak};
use std::time::Instant;

use redigo_aof::sync_parent_dir;
use redigo_store::{SnapshotHandle, Store};

use super::appender::{Aof, lock};
use super::rewrite::{
    REWRITE_BUFFER_LEN, RewriteOutcome, RewriteStartError, RewriteState, SNAPSHOT_BATCH,
    SnapshotEncoder,
};
use crate::dataset::{self, Dataset};
use crate::persistence::PersistenceReport;

/// Suffix of the temporary file of an offline rewrite (not the live
/// rewrite's: a stopped offline rewrite may still be removing its file
/// while the rewrite that turns the AOF on writes its own).
pub const OFFLINE_TEMP_SUFFIX: &str = ".offline.tmp";

/// The temporary file of an offline rewrite of `path`.
pub fn offline_temp_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(OFFLINE_TEMP_SUFFIX);
    PathBuf::from(name)
}

/// Why an offline rewrite failed.
#[derive(Debug, thiserror::Error)]
enum OfflineFailure {
    #[error("I/O error on {}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("stopped: the AOF was turned on or the server is shutting down")]
    Stopped,
}

/// Rewrites of the AOF path while the AOF is off. See the module docs.
#[derive(Debug, Default)]
pub struct OfflineRewrite {
    state: Mutex<RewriteState>,
    /// The snapshot between batches. The thread takes it out only under the
    /// dataset lock, so [`OfflineRewrite::stop`], called under that lock,
    /// finds it unless the walk is over.
    snapshot: Mutex<Option<SnapshotHandle>>,
    /// Set by [`OfflineRewrite::stop`]; read under this lock right before
    /// the rename.
    stopped: Mutex<bool>,
}

impl OfflineRewrite {
    /// Starts a rewrite of `path` from `store` (call under the dataset lock:
    /// `store` is `dataset`'s).
    pub fn start(
        self: &Arc<Self>,
        store: &mut Store,
        dataset: Weak<Mutex<Dataset>>,
        path: PathBuf,
        now_ms: u64,
    ) -> Result<(), RewriteStartError> {
        let mut state = lock(&self.state);
        if state.in_progress {
            return Err(RewriteStartError::AlreadyInProgress);
        }
        let handle = store
            .begin_snapshot(now_ms)
            .map_err(|e| RewriteStartError::Snapshot(e.to_string()))?;
        *lock(&self.snapshot) = Some(handle);
        *lock(&self.stopped) = false;
        let this = Arc::clone(self);
        let spawned = std::thread::Builder::new()
            .name("aof-offline-rewrite".into())
            .spawn(move || {
                let started = Instant::now();
                let result = this.run(&dataset, &path);
                this.finish(&dataset, &path, started, result);
            });
        if let Err(err) = spawned {
            if let Some(handle) = lock(&self.snapshot).take() {
                store.abort_snapshot(handle);
            }
            return Err(RewriteStartError::Thread(err.to_string()));
        }
        state.begin();
        tracing::info!("Background append only file rewriting started (the AOF is off)");
        Ok(())
    }

    /// Stops a running rewrite before it renames (call under the dataset
    /// lock: `store` is the dataset's). Returns whether one was running.
    pub fn stop(&self, store: &mut Store) -> bool {
        *lock(&self.stopped) = true;
        if let Some(handle) = lock(&self.snapshot).take() {
            store.abort_snapshot(handle);
        }
        lock(&self.state).in_progress
    }

    /// Whether a rewrite runs.
    pub fn in_progress(&self) -> bool {
        lock(&self.state).in_progress
    }

    /// The report of `INFO persistence` while the AOF is off (see
    /// [`crate::persistence`]; `loading` is the server's).
    pub fn report(&self) -> PersistenceReport {
        let mut report = PersistenceReport::default();
        lock(&self.state).report_into(&mut report);
        report
    }

    /// Continues the rewrite history of the AOF being turned off.
    pub(crate) fn continue_from(&self, live: &Aof) {
        live.rewrites.hand_over_to(&mut lock(&self.state));
    }

    /// Hands the rewrite history to the AOF being turned on.
    pub(crate) fn hand_over(&self, live: &Aof) {
        live.rewrites.continue_from(&lock(&self.state));
    }

    /// `CONFIG RESETSTAT`: zeroes the counters Redis resets.
    pub fn reset_stats(&self) {
        let mut state = lock(&self.state);
        state.rewrites = 0;
        state.consecutive_failures = 0;
    }

    fn run(&self, dataset: &Weak<Mutex<Dataset>>, path: &Path) -> Result<(), OfflineFailure> {
        self.write_snapshot(dataset, path)?;
        self.install(path)
    }

    /// Walks the snapshot into the temporary file and fsyncs it.
    fn write_snapshot(
        &self,
        dataset: &Weak<Mutex<Dataset>>,
        path: &Path,
    ) -> Result<(), OfflineFailure> {
        let temp = offline_temp_path(path);
        let io_err = |path: &Path| {
            let path = path.to_owned();
            move |source| OfflineFailure::Io { path, source }
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(io_err(dir))?;
        }
        let file = File::create(&temp).map_err(io_err(&temp))?;
        let mut out = BufWriter::with_capacity(REWRITE_BUFFER_LEN, file);
        let mut encoder = SnapshotEncoder::default();
        loop {
            let batch = {
                let dataset = dataset.upgrade().ok_or(OfflineFailure::Stopped)?;
                let mut guard = dataset::lock(&dataset);
                let mut slot = lock(&self.snapshot);
                let handle = slot.as_mut().ok_or(OfflineFailure::Stopped)?;
                // Bounded work per lock hold, however many databases.
                let batch = guard.store.snapshot_step(handle, SNAPSHOT_BATCH);
                if batch.is_none() {
                    // The walk is over: the store closed the snapshot.
                    *slot = None;
                }
                batch
            };
            let Some(batch) = batch else {
                break;
            };
            out.write_all(encoder.encode(batch))
                .map_err(io_err(&temp))?;
        }
        let file = out
            .into_inner()
            .map_err(|e| io_err(&temp)(e.into_error()))?;
        file.sync_data().map_err(io_err(&temp))?;
        Ok(())
    }

    /// Renames the temporary file over `path` unless the rewrite was
    /// stopped (checked under the lock [`OfflineRewrite::stop`] sets it
    /// under), then fsyncs the directory.
    fn install(&self, path: &Path) -> Result<(), OfflineFailure> {
        let temp = offline_temp_path(path);
        let stopped = lock(&self.stopped);
        if *stopped {
            return Err(OfflineFailure::Stopped);
        }
        std::fs::rename(&temp, path).map_err(|source| OfflineFailure::Io {
            path: path.to_owned(),
            source,
        })?;
        drop(stopped);
        if let Err(err) = sync_parent_dir(path) {
            tracing::warn!(%err, "cannot fsync the AOF directory after the rewrite");
        }
        Ok(())
    }

    fn finish(
        &self,
        dataset: &Weak<Mutex<Dataset>>,
        path: &Path,
        started: Instant,
        result: Result<(), OfflineFailure>,
    ) {
        if result.is_err() {
            // Release the store's snapshot if the walk stopped half-way
            // (the dataset lock before our own locks, as everywhere).
            if let Some(dataset) = dataset.upgrade() {
                let mut guard = dataset::lock(&dataset);
                if let Some(handle) = lock(&self.snapshot).take() {
                    guard.store.abort_snapshot(handle);
                }
            }
            let _ = std::fs::remove_file(offline_temp_path(path));
        }
        let elapsed = started.elapsed();
        let outcome = match &result {
            Ok(()) => RewriteOutcome::Succeeded,
            Err(OfflineFailure::Stopped) => RewriteOutcome::Stopped,
            Err(_) => RewriteOutcome::Failed,
        };
        lock(&self.state).end(elapsed, outcome);
        match result {
            Ok(()) => {
                tracing::info!(
                    "Background AOF rewrite finished successfully in {:.3} s: {} holds the dataset (the AOF is off)",
                    elapsed.as_secs_f64(),
                    path.display()
                );
            }
            Err(OfflineFailure::Stopped) => {
                tracing::info!("Background AOF rewrite stopped");
            }
            Err(err) => tracing::warn!("Background AOF rewrite failed: {err}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::dataset::Dataset;

    #[test]
    fn a_rewrite_stopped_after_its_walk_does_not_rename() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("appendonly.aof");
        std::fs::write(&path, b"the live AOF").unwrap();
        let dataset = Dataset::new(&Config::default()).shared();
        let rewrite = OfflineRewrite::default();
        {
            let mut guard = dataset::lock(&dataset);
            let handle = guard.store.begin_snapshot(0).unwrap();
            *lock(&rewrite.snapshot) = Some(handle);
        }
        let weak = Arc::downgrade(&dataset);
        rewrite.write_snapshot(&weak, &path).unwrap();
        assert!(offline_temp_path(&path).exists());
        // The walk is over; turning the AOF on stops the rewrite now.
        rewrite.stop(&mut dataset::lock(&dataset).store);
        assert!(matches!(
            rewrite.install(&path),
            Err(OfflineFailure::Stopped)
        ));
        assert_eq!(std::fs::read(&path).unwrap(), b"the live AOF");

        // Not stopped: the new file replaces the old one.
        *lock(&rewrite.stopped) = false;
        rewrite.install(&path).unwrap();
        assert_ne!(std::fs::read(&path).unwrap(), b"the live AOF");
    }
}
