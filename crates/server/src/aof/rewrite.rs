//! `BGREWRITEAOF`: a compact AOF from a point-in-time snapshot, swapped in
//! atomically while clients keep writing.
//!
//! # Steps
//!
//! 1. Under the dataset lock (the command's, or the cron's): the records of
//!    the current batch are queued, the store starts a snapshot
//!    ([`Store::begin_snapshot`]) and the write queue starts copying every
//!    later batch into a [`RewriteTail`](super::queue::RewriteTail). The
//!    snapshot and the tail therefore meet exactly: every write is either in
//!    the snapshot or in the tail, never both.
//! 2. A background thread walks the snapshot in bounded steps
//!    ([`SNAPSHOT_BATCH`] keys per dataset lock) and writes `<aof>.rewrite.tmp`:
//!    `SELECT` per database, one `SET key value` (with `PXAT <deadline>`
//!    when the key expires) per live key. The file is fsynced
//!    ([`RewriteStep::SnapshotWritten`]).
//! 3. The tail is appended in chunks without blocking writers until it is
//!    shorter than [`TAIL_FINAL_MAX`], and fsynced there, outside every lock,
//!    so that step 4 only has that short remainder to flush.
//! 4. The switch holds the live file (so the old one gets no appends;
//!    connections waiting to write wait without holding a lock, reads and
//!    the execution of writes go on) and locks the queue only twice, for a
//!    moment: to take the last of the tail, and to drop from the queue what
//!    that last part already holds. In between, the rest is appended
//!    ([`RewriteStep::TailWritten`]), the file renamed over the AOF
//!    ([`RewriteStep::Renamed`]) and the live writer switched to it. Under
//!    `appendfsync always` the file and then the directory are fsynced
//!    before the rename and before the switch ([`RewriteStep::DirSynced`]),
//!    because the tail is acknowledged data; under `everysec`/`no` both
//!    fsyncs come right after the switch, outside every lock.
//!
//! A crash at any point leaves a complete AOF: before the rename the old
//! file is intact and still appended to; after it the new file holds
//! everything the old one did. A failure before the rename removes the
//! temporary file, keeps the old AOF in use and reports
//! `aof_last_bgrewrite_status:err`.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use bytes::BytesMut;
use redigo_aof::{AofError, AofWriter, FsyncPolicy, Record, encode_command, sync_parent_dir};
use redigo_store::{SnapshotEntry, SnapshotHandle, Store};

use super::appender::{Aof, lock};
use super::durability::writer_policy;
use super::live::LiveFile;
use crate::dataset;
use crate::persistence::PersistenceReport;
use crate::propagation::PropagationLog;

/// Keys taken from the snapshot per dataset lock.
pub const SNAPSHOT_BATCH: usize = 256;

/// The tail is appended outside the final critical section until it is
/// shorter than this; the rest is written while writers wait.
pub const TAIL_FINAL_MAX: usize = 256 * 1024;

/// How long the automatic rewrite rule rests after a failed rewrite (Redis
/// also backs off after failures instead of retrying every cron tick).
pub const AUTO_REWRITE_FAILURE_BACKOFF: Duration = Duration::from_secs(60);

/// Buffer of the temporary file's writer.
pub(crate) const REWRITE_BUFFER_LEN: usize = 1 << 20;

/// Suffix of the temporary file, next to the AOF.
pub const TEMP_SUFFIX: &str = ".rewrite.tmp";

/// The points of a rewrite where a test can inject a failure or a crash.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RewriteStep {
    /// The temporary file holds the snapshot and is fsynced.
    SnapshotWritten,
    /// The temporary file also holds the whole tail and is fsynced; the
    /// rename comes next.
    TailWritten,
    /// The temporary file was renamed over the AOF; the directory is not
    /// fsynced yet.
    Renamed,
    /// The directory was fsynced; the live writer is not switched yet.
    DirSynced,
}

impl RewriteStep {
    /// Every step, in order.
    pub const ALL: [RewriteStep; 4] = [
        RewriteStep::SnapshotWritten,
        RewriteStep::TailWritten,
        RewriteStep::Renamed,
        RewriteStep::DirSynced,
    ];

    /// The step's name, as the test hook's environment variable spells it.
    pub fn name(self) -> &'static str {
        match self {
            RewriteStep::SnapshotWritten => "snapshot-written",
            RewriteStep::TailWritten => "tail-written",
            RewriteStep::Renamed => "renamed",
            RewriteStep::DirSynced => "dir-synced",
        }
    }

    /// Whether the old AOF is still in place at this step.
    pub fn before_rename(self) -> bool {
        matches!(
            self,
            RewriteStep::SnapshotWritten | RewriteStep::TailWritten
        )
    }

    /// The step named `name`.
    pub fn from_name(name: &str) -> Option<RewriteStep> {
        RewriteStep::ALL.into_iter().find(|s| s.name() == name)
    }
}

/// Fault injection for tests: fail (return an error, as a full disk would)
/// or crash (abort the process) when the rewrite reaches a step.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RewriteHooks {
    /// Make the rewrite fail at this step. Only the steps before the rename
    /// can fail: afterwards the new file is the AOF.
    pub fail_at: Option<RewriteStep>,
    /// Abort the process at this step (for crash tests of the binary).
    pub crash_at: Option<RewriteStep>,
}

/// Environment variable the binary reads its [`RewriteHooks::crash_at`]
/// from: a test-only hook, named after the step (`renamed`, ...).
pub const CRASH_HOOK_ENV: &str = "REDIGO_TEST_CRASH_DURING_REWRITE";

impl RewriteHooks {
    /// Hooks from [`CRASH_HOOK_ENV`] (none when unset).
    pub fn from_env() -> RewriteHooks {
        RewriteHooks {
            fail_at: None,
            crash_at: std::env::var(CRASH_HOOK_ENV)
                .ok()
                .and_then(|name| RewriteStep::from_name(&name)),
        }
    }

    fn at(&self, step: RewriteStep) -> Result<(), RewriteFailure> {
        if self.crash_at == Some(step) {
            tracing::warn!(
                "test hook: crashing during the AOF rewrite at {}",
                step.name()
            );
            std::process::abort();
        }
        // After the rename the new file is the AOF: a failure there would
        // leave the live writer on the replaced file, so only crashes apply.
        if self.fail_at == Some(step) && step.before_rename() {
            return Err(RewriteFailure::Injected(step));
        }
        Ok(())
    }
}

/// Progress and outcome of rewrites, for `INFO persistence`.
#[derive(Debug)]
pub struct RewriteState {
    /// A rewrite runs.
    pub in_progress: bool,
    /// A rewrite was asked for while another ran (Redis runs it next).
    pub scheduled: bool,
    /// When the running rewrite started.
    pub started: Option<Instant>,
    /// Duration of the last rewrite, seconds (-1: none yet).
    pub last_duration_secs: i64,
    /// Whether the last rewrite succeeded.
    pub last_ok: bool,
    /// Rewrites started (Redis counts them when the child forks, so a
    /// failed one counts too).
    pub rewrites: u64,
    /// Rewrites failed in a row since the last success
    /// (`aof_rewrites_consecutive_failures`).
    pub consecutive_failures: u64,
    /// When the last rewrite failed, if the last one did.
    pub last_failure: Option<Instant>,
}

impl Default for RewriteState {
    fn default() -> RewriteState {
        RewriteState {
            in_progress: false,
            scheduled: false,
            started: None,
            last_duration_secs: -1,
            last_ok: true,
            rewrites: 0,
            consecutive_failures: 0,
            last_failure: None,
        }
    }
}

/// The rewrite part of the live AOF: its history and the running rewrite
/// (see [`Aof::start_rewrite`]), and the flag that stops it.
#[derive(Debug, Default)]
pub(crate) struct Rewrites {
    state: Mutex<RewriteState>,
    /// Set at shutdown: a running rewrite stops at its next step.
    abort: AtomicBool,
}

impl Rewrites {
    /// Whether a rewrite runs.
    pub(crate) fn in_progress(&self) -> bool {
        lock(&self.state).in_progress
    }

    /// Fills the rewrite fields of `report`.
    pub(crate) fn report_into(&self, report: &mut PersistenceReport) {
        lock(&self.state).report_into(report);
    }

    /// `CONFIG RESETSTAT`: zeroes the counters Redis resets.
    pub(crate) fn reset_stats(&self) {
        let mut state = lock(&self.state);
        state.rewrites = 0;
        state.consecutive_failures = 0;
    }

    /// Takes over the history of `earlier` (see [`RewriteState::continue_from`]).
    pub(crate) fn continue_from(&self, earlier: &RewriteState) {
        lock(&self.state).continue_from(earlier);
    }

    /// Hands the history over to `later`.
    pub(crate) fn hand_over_to(&self, later: &mut RewriteState) {
        later.continue_from(&lock(&self.state));
    }

    /// Stops a running rewrite at its next step (shutdown).
    pub(crate) fn abort(&self) {
        self.abort.store(true, Ordering::Release);
    }

    fn aborting(&self) -> Result<(), RewriteFailure> {
        if self.abort.load(Ordering::Acquire) {
            Err(RewriteFailure::Aborted)
        } else {
            Ok(())
        }
    }
}

/// How a rewrite ended, for [`RewriteState::end`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RewriteOutcome {
    Succeeded,
    Failed,
    /// Stopped because the AOF was turned on or off or the server shuts
    /// down: not a failure of the rewrite (Redis kills its child then
    /// without counting it).
    Stopped,
}

impl RewriteState {
    /// Fills the rewrite fields of `report`.
    pub(crate) fn report_into(&self, report: &mut PersistenceReport) {
        report.rewrite_in_progress = self.in_progress;
        report.rewrite_scheduled = self.scheduled;
        report.last_rewrite_time_sec = self.last_duration_secs;
        report.current_rewrite_time_sec = self.started.map_or(-1, |s| {
            i64::try_from(s.elapsed().as_secs()).unwrap_or(i64::MAX)
        });
        report.last_bgrewrite_ok = self.last_ok;
        report.rewrites = self.rewrites;
        report.rewrites_consecutive_failures = self.consecutive_failures;
    }

    /// Records that a rewrite started (Redis counts `aof_rewrites` here).
    pub(crate) fn begin(&mut self) {
        self.in_progress = true;
        self.rewrites += 1;
        self.started = Some(Instant::now());
    }

    /// Takes over the history of `earlier` (the counters and the last
    /// outcome, which Redis keeps across turning the AOF off and on).
    pub(crate) fn continue_from(&mut self, earlier: &RewriteState) {
        self.rewrites = earlier.rewrites;
        self.consecutive_failures = earlier.consecutive_failures;
        self.last_ok = earlier.last_ok;
        self.last_duration_secs = earlier.last_duration_secs;
    }

    /// Records that the running rewrite ended after `elapsed`.
    pub(crate) fn end(&mut self, elapsed: Duration, outcome: RewriteOutcome) {
        self.in_progress = false;
        self.started = None;
        self.last_duration_secs = i64::try_from(elapsed.as_secs()).unwrap_or(i64::MAX);
        match outcome {
            RewriteOutcome::Succeeded => {
                self.last_ok = true;
                self.last_failure = None;
                self.consecutive_failures = 0;
            }
            RewriteOutcome::Failed => {
                self.last_ok = false;
                self.last_failure = Some(Instant::now());
                self.consecutive_failures += 1;
            }
            RewriteOutcome::Stopped => {}
        }
    }
}

/// Why a rewrite could not start.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RewriteStartError {
    /// Another rewrite runs.
    #[error("ERR Background append only file rewriting already in progress")]
    AlreadyInProgress,
    /// The server is shutting down or the dataset is gone.
    #[error("ERR Can't rewrite append only file in background: the server is shutting down")]
    ShuttingDown,
    /// The rewrite thread could not be started.
    #[error("ERR Can't rewrite append only file in background: {0}")]
    Thread(String),
    /// The store refused the snapshot.
    #[error("ERR Can't rewrite append only file in background: {0}")]
    Snapshot(String),
}

/// Why a running rewrite failed.
#[derive(Debug, thiserror::Error)]
enum RewriteFailure {
    #[error("I/O error on {}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Aof(#[from] AofError),
    #[error("failure injected at step {}", .0.name())]
    Injected(RewriteStep),
    #[error("the AOF was turned off or the server is shutting down")]
    Aborted,
}

/// Turns snapshot batches into the records of a compact AOF: `SELECT`
/// when the database changes, then one `SET` per key, with `PXAT` and its
/// absolute deadline when the key expires.
#[derive(Default)]
pub(crate) struct SnapshotEncoder {
    last_db: Option<usize>,
    encoded: BytesMut,
}

impl SnapshotEncoder {
    /// The records of `batch` (valid until the next call).
    pub(crate) fn encode(&mut self, batch: Vec<SnapshotEntry>) -> &[u8] {
        self.encoded.clear();
        for entry in batch {
            if self.last_db != Some(entry.db) {
                Record::select(u32::try_from(entry.db).unwrap_or(u32::MAX))
                    .encode(&mut self.encoded);
                self.last_db = Some(entry.db);
            }
            // The kind's home in the store says which commands rebuild it.
            let encoded = &mut self.encoded;
            entry
                .value
                .rewrite(&entry.key, entry.expire_at_ms, &mut |args| {
                    encode_command(encoded, args)
                });
        }
        &self.encoded
    }
}

/// The temporary file of a rewrite of `path`.
pub fn temp_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(TEMP_SUFFIX);
    PathBuf::from(name)
}

impl Aof {
    /// Starts a background rewrite (call under the dataset lock: `store` and
    /// `propagation` are the dataset's). See the module docs.
    pub fn start_rewrite(
        self: &Arc<Self>,
        store: &mut Store,
        propagation: &mut PropagationLog,
        now_ms: u64,
        hooks: RewriteHooks,
    ) -> Result<(), RewriteStartError> {
        let mut state = lock(&self.rewrites.state);
        if state.in_progress {
            return Err(RewriteStartError::AlreadyInProgress);
        }
        if self.is_shut_down() {
            return Err(RewriteStartError::ShuttingDown);
        }
        let Some(dataset) = self.dataset() else {
            return Err(RewriteStartError::ShuttingDown);
        };
        // The thread starts first and waits for the snapshot, so a failure
        // to spawn it leaves no snapshot open.
        let (handle_tx, handle_rx) = mpsc::channel::<SnapshotHandle>();
        let aof = Arc::clone(self);
        let thread_dataset = Arc::clone(&dataset);
        std::thread::Builder::new()
            .name("aof-rewrite".into())
            .spawn(move || {
                let Ok(mut handle) = handle_rx.recv() else {
                    return;
                };
                let started = Instant::now();
                let result = aof.run_rewrite(&thread_dataset, &mut handle, hooks);
                aof.finish_rewrite(&thread_dataset, started, result, handle);
            })
            .map_err(|e| RewriteStartError::Thread(e.to_string()))?;
        // The batch's writes so far are in the store, hence in the snapshot:
        // queue them now so they do not land in the tail as well (the
        // log's sink is this AOF: any other one is shut down, see above).
        propagation.flush();
        let handle = store
            .begin_snapshot(now_ms)
            .map_err(|e| RewriteStartError::Snapshot(e.to_string()))?;
        self.queue.start_tail();
        state.begin();
        state.scheduled = false;
        drop(state);
        tracing::info!("Background append only file rewriting started");
        if let Err(unsent) = handle_tx.send(handle) {
            // The thread is gone (it cannot be, short of a panic): undo.
            store.abort_snapshot(unsent.0);
            self.queue.end_tail();
            let mut state = lock(&self.rewrites.state);
            state.in_progress = false;
            state.last_ok = false;
        }
        drop(dataset);
        Ok(())
    }

    /// Whether a rewrite runs.
    pub fn rewrite_in_progress(&self) -> bool {
        self.rewrites.in_progress()
    }

    /// Whether the rewrite that recovers from a failed fsync should start
    /// now: one is needed, none runs, and the last attempt (if it failed)
    /// was at least [`RECOVERY_REWRITE_BACKOFF`](super::fsync_thread::RECOVERY_REWRITE_BACKOFF) ago.
    pub fn recovery_rewrite_due(&self) -> bool {
        if !self.needs_recovery_rewrite() {
            return false;
        }
        let state = lock(&self.rewrites.state);
        !state.in_progress
            && state
                .last_failure
                .is_none_or(|at| at.elapsed() >= super::fsync_thread::RECOVERY_REWRITE_BACKOFF)
    }

    /// Whether the automatic rewrite rule fires: the file grew by
    /// `percentage`% over its size after the last rewrite and is larger
    /// than `min_size` (Redis's `auto-aof-rewrite-*`).
    ///
    /// After a failed rewrite the rule rests for
    /// [`AUTO_REWRITE_FAILURE_BACKOFF`], so a full disk is not hammered.
    pub fn auto_rewrite_due(&self, percentage: u32, min_size: u64) -> bool {
        {
            let state = lock(&self.rewrites.state);
            let resting = state
                .last_failure
                .is_some_and(|at| at.elapsed() < AUTO_REWRITE_FAILURE_BACKOFF);
            if percentage == 0 || state.in_progress || resting {
                return false;
            }
        }
        let current = self.current_size();
        if current <= min_size {
            return false;
        }
        let base = self.base_size().max(1);
        let growth = (u128::from(current) * 100 / u128::from(base)).saturating_sub(100);
        growth >= u128::from(percentage)
    }

    fn finish_rewrite(
        &self,
        dataset: &dataset::SharedDataset,
        started: Instant,
        result: Result<(), RewriteFailure>,
        handle: SnapshotHandle,
    ) {
        let elapsed = started.elapsed();
        let outcome = match &result {
            Ok(()) => RewriteOutcome::Succeeded,
            Err(RewriteFailure::Aborted) => RewriteOutcome::Stopped,
            Err(_) => RewriteOutcome::Failed,
        };
        lock(&self.rewrites.state).end(elapsed, outcome);
        match result {
            Ok(()) => {
                tracing::info!(
                    "Background AOF rewrite finished successfully in {:.3} s ({} bytes)",
                    elapsed.as_secs_f64(),
                    self.base_size()
                );
            }
            Err(err) => {
                if matches!(err, RewriteFailure::Aborted) {
                    tracing::info!("Background AOF rewrite stopped: {err}");
                } else {
                    tracing::warn!(
                        "Background AOF rewrite failed: {err}; the old AOF stays in use"
                    );
                }
                self.queue.end_tail();
                // Release the store's snapshot if the walk did not finish.
                dataset::lock(dataset).store.abort_snapshot(handle);
                let _ = std::fs::remove_file(temp_path(&self.path));
            }
        }
    }

    fn aborting(&self) -> Result<(), RewriteFailure> {
        self.rewrites.aborting()
    }

    /// Moves the rewrite tail into `writer` while it holds more than
    /// `threshold` bytes, taking the queue lock only to take each chunk.
    fn append_tail_above(
        &self,
        writer: &mut dyn AofWriter,
        threshold: usize,
    ) -> Result<(), RewriteFailure> {
        loop {
            self.aborting()?;
            let Some(chunk) = self.queue.take_tail_above(threshold) else {
                return Ok(());
            };
            writer.append(&chunk)?;
        }
    }

    fn run_rewrite(
        &self,
        dataset: &dataset::SharedDataset,
        handle: &mut SnapshotHandle,
        hooks: RewriteHooks,
    ) -> Result<(), RewriteFailure> {
        let temp = temp_path(&self.path);
        let io_err = |source| RewriteFailure::Io {
            path: temp.clone(),
            source,
        };
        // 2. The snapshot.
        let file = File::create(&temp).map_err(io_err)?;
        let mut out = BufWriter::with_capacity(REWRITE_BUFFER_LEN, file);
        let mut encoder = SnapshotEncoder::default();
        let mut longest_batch = Duration::ZERO;
        loop {
            self.aborting()?;
            let locked_at = Instant::now();
            // Bounded work per lock hold, however many databases.
            let batch = dataset::lock(dataset)
                .store
                .snapshot_step(handle, SNAPSHOT_BATCH);
            longest_batch = longest_batch.max(locked_at.elapsed());
            let Some(batch) = batch else {
                break;
            };
            out.write_all(encoder.encode(batch)).map_err(io_err)?;
        }
        let file = out.into_inner().map_err(|e| io_err(e.into_error()))?;
        file.sync_data().map_err(io_err)?;
        drop(file);
        hooks.at(RewriteStep::SnapshotWritten)?;

        // 3. Most of the tail, without blocking anyone, fsynced here so the
        // switch below only has the last few hundred KiB to flush.
        let policy = self.policy();
        let mut writer = (self.open_writer)(&temp, FsyncPolicy::Never)?;
        self.append_tail_above(writer.as_mut(), TAIL_FINAL_MAX)?;
        writer.sync()?;
        // What arrived during that fsync.
        self.append_tail_above(writer.as_mut(), TAIL_FINAL_MAX)?;

        // 4. The switch. It holds the live file, so no one appends to the old
        // one meanwhile; connections whose batches wait for the file wait
        // without holding any lock, and everything else (reads, and writes
        // that are only being queued) goes on. The queue itself is locked
        // only for two short moments: `capture_for_switch` below and
        // `switch_to` at the end.
        let switch_started = Instant::now();
        let mut live = self.lock_live();
        self.aborting()?;
        let capture = self.queue.capture_for_switch();
        // Under `always` the rest of the tail is acknowledged data: durable
        // in the new file (and the rename durable) before the file replaces
        // the old one. Under `everysec`/`no` a machine crash may lose the
        // last second anyway, so both fsyncs happen after the switch,
        // outside every lock.
        let durable_switch = policy == FsyncPolicy::Always;
        writer.append(&capture.rest)?;
        if durable_switch {
            writer.sync()?;
        }
        hooks.at(RewriteStep::TailWritten)?;
        std::fs::rename(&temp, &self.path).map_err(io_err)?;
        hooks.at(RewriteStep::Renamed)?;
        let sync_dir = || {
            if let Err(err) = sync_parent_dir(&self.path) {
                // The rename is done: the new file is the AOF now, so carry on.
                tracing::warn!(%err, "cannot fsync the AOF directory after the rewrite");
            }
        };
        if durable_switch {
            sync_dir();
            hooks.at(RewriteStep::DirSynced)?;
        }
        writer.set_policy(writer_policy(policy));
        let size = writer.size();
        let new_sync = writer.sync_handle();
        let generation = self.queue.switch_to(&capture);
        let old_sync = self.durability.replace_sync_handle(new_sync.clone());
        let old_file = std::mem::replace(&mut *live, LiveFile::new(writer, generation));
        if durable_switch {
            // Fsynced above: whatever an earlier failed fsync lost is in here.
            self.recovered_by_rewrite();
        }
        self.live.rebase(size);
        live.wrote(capture.seq);
        drop(live);
        let writers_held = switch_started.elapsed();
        // The last close of the replaced file frees its blocks, which takes
        // milliseconds for a large file: here, with no lock held (Redis
        // closes it in a background thread for the same reason).
        drop(old_file);
        drop(old_sync);
        // After a run-time enable, the side file written until now.
        let _ = std::fs::remove_file(super::enabling_path(&self.path));
        if durable_switch {
            self.mark_durable(capture.seq);
        } else {
            match new_sync.sync() {
                Ok(_) => self.recovered_by_rewrite(),
                Err(err) => {
                    tracing::warn!(%err, "fsync of the rewritten AOF failed");
                    self.durability.note_sync_result(Err(err), &self.path);
                }
            }
            sync_dir();
            hooks.at(RewriteStep::DirSynced)?;
        }
        let rest = capture.rest;
        tracing::info!(
            "Residual parent diff successfully flushed to the rewritten AOF ({:.2} MB); the switch held writers {:.3} ms, the longest snapshot step held the dataset {:.3} ms",
            rest.len() as f64 / (1024.0 * 1024.0),
            writers_held.as_secs_f64() * 1e3,
            longest_batch.as_secs_f64() * 1e3
        );
        Ok(())
    }
}
