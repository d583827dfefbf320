//! Append-only-file persistence in the server: start-up replay, the write
//! path with its fsync policies, `BGREWRITEAOF`, and `redigo check-aof`.
//!
//! The file format, the writer and the replay parser live in
//! [`redigo_aof`]; this module wires them into the server:
//!
//! * [`loader`]: before clients are accepted, the AOF is replayed through the
//!   normal command dispatcher ([`load`]).
//! * [`Persistence`] ([`sink`]): the live AOF as the server owns it. The
//!   dataset's propagation log holds the one `Persistence` while the AOF
//!   is on, as its propagation sink; every other user reaches the AOF there,
//!   under the dataset lock.
//! * [`Aof`] ([`appender`]): the live file, made of four owned parts: the
//!   write queue ([`queue`]), the live file ([`live`]), durability
//!   ([`durability`]) and rewrites ([`rewrite`]). The sink encodes each
//!   batch's writes into the queue under the dataset lock and returns the
//!   batch's sequence number; after the lock, the connection writes the
//!   queue to the file itself (its batch and any other client's queued
//!   meanwhile) and sends its replies only once every batch they could
//!   show is committed: written, and under `appendfsync always` fsynced
//!   (at the end of the runtime tick, or by the fsync thread, one fsync
//!   serving many clients: group commit). That covers readers: a read of a
//!   value whose write is not committed yet waits for it, a read with
//!   nothing pending waits for nothing. `docs/aof.md` states what each
//!   policy promises to writers and readers, on a full disk too.
//!   Write errors refuse write commands with `MISCONF` and are retried
//!   until the disk recovers; replies that could show the failed records
//!   wait for the retry under every policy.
//! * [`rewrite`]: `BGREWRITEAOF` and the automatic rewrite, from the store's
//!   point-in-time snapshot, with concurrent writes kept in a
//!   [`RewriteTail`] and an atomic rename at the end.
//! * [`check_command`]: `redigo check-aof [--fix] [--yes] FILE`.
//!
//! # Where each `appendfsync` policy is implemented
//!
//! Group commit is implemented here, in the server, not in redigo-aof
//! (whose writer contract says what a writer does on its own):
//!
//! * `always`: the writer is opened with `Never`
//!   (`durability::writer_policy`) and the server fsyncs: at the end of
//!   the runtime tick ([`tick_commit`]), inline for a lone writer
//!   ([`lone_writer`], guarded by [`inline_fsync`]) or on the fsync thread
//!   ([`fsync_thread`]); replies wait for the commit
//!   ([`Aof::hold_reply`]).
//! * `everysec`: redigo-aof's `SyncHandle` decides when an fsync is due and
//!   runs it on its own descriptor; the fsync thread ([`fsync_thread`]) is
//!   the timer that asks. Replies wait only for the write.
//! * `no`: nothing fsyncs the live file; replies wait only for the write.
//!
//! See [`durability`] for the details.
//!
//! [`start`] does the whole start-up sequence; [`enable`] and [`disable`]
//! turn the AOF on and off at run time (`CONFIG SET appendonly`).

pub mod appender;
pub mod check_command;
pub mod durability;
pub mod fsync_thread;
pub mod inline_fsync;
pub mod live;
pub mod loader;
pub mod lone_writer;
pub mod offline_rewrite;
pub mod queue;
pub mod rewrite;
pub mod sequence_waiters;
pub mod sink;
pub mod tick_commit;

use std::sync::{Arc, Weak};
use std::time::Duration;

use redigo_aof::{AofError, FsyncPolicy};

pub use appender::{Aof, WRITE_RETRY_INTERVAL, WriterFactory, file_writer_factory};
pub use fsync_thread::{FSYNC_TICK, RECOVERY_REWRITE_BACKOFF};
pub use loader::{LoadError, LoadReport, load};
pub use offline_rewrite::OfflineRewrite;
pub use queue::{RewriteTail, WriteQueue};
pub use rewrite::{RewriteHooks, RewriteStartError, RewriteStep, temp_path};
pub use sink::Persistence;
pub use tick_commit::TickCommit;

use crate::config::{Appendfsync, Config};
use crate::dataset::{self, SharedDataset};
use crate::persistence::PersistenceReport;
use crate::shared::{ServerState, unix_time_ms};

/// How often the automatic rewrite rule is checked (Redis checks it in its
/// `serverCron`).
pub const AUTO_REWRITE_CHECK_INTERVAL: Duration = Duration::from_millis(100);

/// How the server opens and rewrites its AOF; the defaults are production's.
#[derive(Clone)]
pub struct AofOptions {
    /// Opens the writer of a file.
    pub open_writer: WriterFactory,
    /// Failure and crash injection in rewrites.
    pub rewrite_hooks: RewriteHooks,
    /// The end-of-tick commit of the runtime the server runs on, if its
    /// park hook runs one (see [`crate::runtime`]); without it the fsync
    /// thread does all group commits.
    pub tick_commit: Option<Arc<TickCommit>>,
    /// The slowest an fsync may be for the next to run on a runtime
    /// thread: [`MAX_INLINE_FSYNC`](inline_fsync::MAX_INLINE_FSYNC).
    /// Tests that count inline fsyncs raise it, so that a test thread
    /// descheduled on a loaded machine does not pass for a slow disk.
    pub max_inline_fsync: Duration,
}

impl Default for AofOptions {
    fn default() -> AofOptions {
        AofOptions {
            open_writer: file_writer_factory(),
            rewrite_hooks: RewriteHooks::from_env(),
            tick_commit: None,
            max_inline_fsync: inline_fsync::MAX_INLINE_FSYNC,
        }
    }
}

impl std::fmt::Debug for AofOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AofOptions")
            .field("rewrite_hooks", &self.rewrite_hooks)
            .field("tick_commit", &self.tick_commit.is_some())
            .field("max_inline_fsync", &self.max_inline_fsync)
            .finish_non_exhaustive()
    }
}

/// Why persistence could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The AOF's directory could not be created.
    #[error("can't create the directory of the append only file {}: {source}", path.display())]
    Directory {
        /// The directory.
        path: std::path::PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Replaying the AOF failed.
    #[error(transparent)]
    Load(#[from] LoadError),
    /// The AOF could not be opened for appending.
    #[error(transparent)]
    Open(#[from] AofError),
}

/// Suffix of the file a run-time [`enable`] appends to until its first
/// rewrite puts the AOF in place.
pub const ENABLING_SUFFIX: &str = ".enabling";

/// The file [`enable`] appends to before the first rewrite of `path`.
pub fn enabling_path(path: &std::path::Path) -> std::path::PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(ENABLING_SUFFIX);
    std::path::PathBuf::from(name)
}

/// What turning the AOF on at run time needs, recorded at start-up.
#[derive(Clone, Debug)]
pub struct AofRuntime {
    /// The server (for the automatic rewrite checker).
    pub server: Weak<ServerState>,
    /// The dataset the rewrite snapshots.
    pub dataset: Weak<std::sync::Mutex<dataset::Dataset>>,
    /// How files are opened and rewrites hooked.
    pub options: AofOptions,
}

/// Why the AOF could not be turned on at run time.
#[derive(Debug, thiserror::Error)]
pub enum EnableError {
    /// The server did not record what it needs (not started by [`crate::Server`]).
    #[error("the server cannot turn the AOF on at run time")]
    Unsupported,
    /// The directory could not be created or the file opened.
    #[error(transparent)]
    Start(#[from] StartError),
    /// The first rewrite could not start.
    #[error(transparent)]
    Rewrite(#[from] RewriteStartError),
}

/// `CONFIG SET appendonly yes` (call under the dataset lock: `store` and
/// `propagation` are the dataset's). As Redis does, the AOF is written by a
/// rewrite of the current dataset: until that rewrite is done, writes are
/// appended to a side file ([`enabling_path`]) and kept in the rewrite's
/// tail, and the file at the AOF path, possibly stale, is left alone. Under
/// `appendfsync always` replies wait for that first rewrite. If it fails,
/// it is retried (see [`Aof::recovery_rewrite_due`]).
pub fn enable(
    server: &ServerState,
    store: &mut redigo_store::Store,
    propagation: &mut crate::propagation::PropagationLog,
) -> Result<(), EnableError> {
    if propagation.aof().is_some() {
        return Ok(());
    }
    let runtime = server
        .aof_runtime()
        .ok_or(EnableError::Unsupported)?
        .clone();
    if server.offline_rewrite().stop(store) {
        tracing::warn!(
            "AOF was enabled but there is already an AOF rewrite running: it was stopped to start a new one"
        );
    }
    let config = server.config().clone();
    let path = config.aof_path.clone();
    create_parent_dir(&path)?;
    let side = enabling_path(&path);
    let _ = std::fs::remove_file(&side);
    let aof = Aof::open_appending_to(
        &path,
        &side,
        fsync_policy(config.appendfsync),
        runtime.options.open_writer.clone(),
    )
    .map_err(StartError::Open)?;
    attach_to_runtime(&aof, &runtime.options);
    aof.set_dataset(runtime.dataset.clone());
    aof.require_rewrite();
    server.offline_rewrite().hand_over(&aof);
    let hooks = runtime.options.rewrite_hooks;
    propagation.set_enabled(true);
    propagation.set_sink(Box::new(Persistence {
        aof: Arc::clone(&aof),
        hooks,
    }));
    if let Err(err) = aof.start_rewrite(store, propagation, unix_time_ms(), hooks) {
        drop(propagation.take_sink());
        propagation.set_enabled(false);
        aof.shutdown();
        let _ = std::fs::remove_file(&side);
        return Err(err.into());
    }
    spawn_auto_rewrite(runtime.server.clone(), aof, hooks);
    tracing::info!(
        "AOF turned on: rewriting {} from the dataset",
        path.display()
    );
    Ok(())
}

/// `CONFIG SET appendonly no` (under the dataset lock): hands over the
/// last records, flushes and fsyncs the AOF, stops its threads and any
/// rewrite, and stops recording writes.
pub fn disable(server: &ServerState, propagation: &mut crate::propagation::PropagationLog) {
    let Some(persistence) = propagation.aof().cloned() else {
        return;
    };
    propagation.flush();
    drop(propagation.take_sink());
    propagation.set_enabled(false);
    persistence.aof.shutdown();
    persistence.aof.release_waiters();
    server.offline_rewrite().continue_from(&persistence.aof);
    tracing::info!("AOF turned off");
}

fn create_parent_dir(path: &std::path::Path) -> Result<(), StartError> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|source| StartError::Directory {
            path: dir.to_owned(),
            source,
        })?;
    }
    Ok(())
}

/// The fsync policy of a configuration value.
pub fn fsync_policy(value: Appendfsync) -> FsyncPolicy {
    match value {
        Appendfsync::Always => FsyncPolicy::Always,
        Appendfsync::Everysec => FsyncPolicy::EverySec,
        Appendfsync::No => FsyncPolicy::Never,
    }
}

/// Start-up: when the AOF is enabled, creates its directory, replays it into
/// `dataset`, opens it for appending, installs it as the dataset's
/// propagation sink (its owner) and starts the automatic-rewrite checker.
/// Returns a handle to it, `None` when the AOF is disabled. Blocking: run
/// it before accepting clients.
pub fn start(
    server: &Arc<ServerState>,
    dataset: &SharedDataset,
    options: AofOptions,
) -> Result<Option<Persistence>, StartError> {
    let config: Config = server.config().clone();
    server.set_aof_runtime(AofRuntime {
        server: Arc::downgrade(server),
        dataset: Arc::downgrade(dataset),
        options: options.clone(),
    });
    if !config.aof_enabled {
        return Ok(None);
    }
    let path = config.aof_path.clone();
    create_parent_dir(&path)?;
    server.set_loading(true);
    let loaded = load(&path, server, dataset, config.aof_load_truncated);
    server.set_loading(false);
    loaded?;
    // A rewrite interrupted by a crash may have left its temporary file, a
    // run-time enable its side file.
    let _ = std::fs::remove_file(temp_path(&path));
    let _ = std::fs::remove_file(enabling_path(&path));
    let aof = Aof::open(
        &path,
        fsync_policy(config.appendfsync),
        options.open_writer.clone(),
    )?;
    attach_to_runtime(&aof, &options);
    aof.set_dataset(Arc::downgrade(dataset));
    spawn_auto_rewrite(
        Arc::downgrade(server),
        Arc::clone(&aof),
        options.rewrite_hooks,
    );
    let persistence = Persistence {
        aof,
        hooks: options.rewrite_hooks,
    };
    dataset::lock(dataset).set_sink(Box::new(persistence.clone()));
    Ok(Some(persistence))
}

/// Gives a newly opened AOF what `options` say about the runtime it serves:
/// its end-of-tick commit and how slow an fsync may be to run on it.
fn attach_to_runtime(aof: &Arc<Aof>, options: &AofOptions) {
    aof.set_max_inline_fsync(options.max_inline_fsync);
    if let Some(tick) = &options.tick_commit {
        tick.attach(aof);
    }
}

/// Checks the automatic rewrite rule, and whether a failed fsync calls for
/// a recovery rewrite, periodically until the AOF shuts down.
fn spawn_auto_rewrite(server: Weak<ServerState>, aof: Arc<Aof>, hooks: RewriteHooks) {
    let spawned = std::thread::Builder::new()
        .name("aof-auto-rewrite".into())
        .spawn(move || {
            while !aof.is_shut_down() {
                std::thread::sleep(AUTO_REWRITE_CHECK_INTERVAL);
                let Some(server) = server.upgrade() else {
                    return;
                };
                let (percentage, min_size) = {
                    let config = server.config();
                    (
                        config.auto_aof_rewrite_percentage,
                        config.auto_aof_rewrite_min_size,
                    )
                };
                let recovery = aof.recovery_rewrite_due();
                if !recovery && !aof.auto_rewrite_due(percentage, min_size) {
                    continue;
                }
                let Some(dataset) = aof.dataset() else {
                    return;
                };
                if recovery {
                    tracing::warn!("Rewriting the AOF after a failed fsync");
                } else {
                    tracing::info!(
                        "Starting automatic rewriting of AOF on {}% growth",
                        percentage
                    );
                }
                let mut guard = dataset::lock(&dataset);
                let data = &mut *guard;
                if let Err(err) = aof.start_rewrite(
                    &mut data.store,
                    &mut data.propagation,
                    unix_time_ms(),
                    hooks,
                ) {
                    tracing::debug!(%err, "automatic AOF rewrite not started");
                }
            }
        });
    if let Err(err) = spawned {
        tracing::warn!(%err, "cannot start the automatic AOF rewrite checker");
    }
}

impl Aof {
    /// The report of `INFO persistence` while this AOF is on (see
    /// [`crate::persistence`]; `loading` is the server's).
    pub fn report(&self) -> PersistenceReport {
        let mut report = PersistenceReport::default();
        self.rewrites.report_into(&mut report);
        report.last_write_ok = self.write_error().is_none();
        report.aof_on = true;
        report.current_size = self.current_size();
        report.base_size = self.base_size();
        report.buffer_length = self.buffer_len();
        report.delayed_fsync = self.delayed_fsyncs();
        report.fsyncs = self.fsyncs();
        report
    }
}
