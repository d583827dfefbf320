//! [`ServerState`]: what every connection and background task shares, apart
//! from the dataset (which has its own lock, see [`crate::dataset`]).

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU16, Ordering};
use std::sync::{Arc, OnceLock, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use tokio::sync::watch;

use crate::aof::{AofRuntime, OfflineRewrite};
use crate::client::ClientRegistry;
use crate::commands::{CommandStats, CommandTable};
use crate::config::{Config, LogLevel};
use crate::memory_release::MemoryRelease;
use crate::pubsub::PubSub;
use crate::stats::Stats;
use crate::watch::WatchRegistry;

/// The version of Redis whose behaviour Redigo follows (`redis_version` in
/// `INFO`, `version` in `HELLO`).
pub const REDIS_VERSION: &str = "7.0.15";

/// How `SHUTDOWN` was asked to stop the server.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ShutdownMode {
    /// `NOSAVE`: skip the final persistence step.
    pub nosave: bool,
    /// `SAVE`: persist even if not configured to.
    pub save: bool,
    /// `NOW`: do not wait for lagging replicas (there are none).
    pub now: bool,
    /// `FORCE`: exit even if persisting fails.
    pub force: bool,
    /// Whether a signal (not a command) asked for it.
    pub from_signal: bool,
}

/// A hook that applies a new log level at run time (`CONFIG SET loglevel`).
pub type LogLevelHook = Box<dyn Fn(LogLevel) + Send + Sync>;

/// State shared by the whole server.
pub struct ServerState {
    config: RwLock<Config>,
    /// The file the configuration came from.
    pub config_file: Option<PathBuf>,
    /// The command table.
    pub commands: CommandTable,
    /// `INFO stats` counters.
    pub stats: Stats,
    /// Large frees waiting to be returned to the system.
    pub memory_release: MemoryRelease,
    /// `INFO commandstats` counters.
    pub command_stats: CommandStats,
    /// Connected clients.
    pub clients: ClientRegistry,
    /// Pub/sub subscriptions and keyspace notification flags.
    pub pubsub: PubSub,
    /// Who `WATCH`es which keys (used under the dataset lock).
    pub watches: WatchRegistry,
    /// `CLIENT TRACKING`: who may cache which keys (used under the dataset
    /// lock; see [`crate::tracking`]).
    pub tracking: crate::tracking::Tracking,
    /// `CLIENT PAUSE` in force, if any.
    pub pause: crate::client_pause::ClientPause,
    /// Clients in `MONITOR` mode.
    pub monitors: crate::monitor::Monitors,
    /// Clients with output queued by others, to write at the end of a
    /// batch (see [`crate::delivery`]).
    pub pending_writes: crate::delivery::PendingWrites,
    /// The AOF is being replayed (`loading` in `INFO persistence`).
    loading: AtomicBool,
    /// What turning the AOF on at run time needs (set once at start-up).
    aof_runtime: OnceLock<AofRuntime>,
    offline_rewrite: Arc<OfflineRewrite>,
    /// When the server started.
    pub started: Instant,
    /// 40 hex characters identifying this run (`run_id`).
    pub run_id: String,
    port: AtomicU16,
    shutdown: watch::Sender<Option<ShutdownMode>>,
    log_level_hook: Option<LogLevelHook>,
    /// The runtime's idle polling, if it has one (set once at start-up).
    idle_poll: OnceLock<Arc<crate::idle_poll::IdlePoll>>,
}

impl std::fmt::Debug for ServerState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerState")
            .field("config", &self.config)
            .field("config_file", &self.config_file)
            .field("run_id", &self.run_id)
            .finish_non_exhaustive()
    }
}

impl ServerState {
    /// Shared state for a server about to start with `config`.
    pub fn new(
        config: Config,
        config_file: Option<PathBuf>,
        log_level_hook: Option<LogLevelHook>,
    ) -> ServerState {
        let (shutdown, _) = watch::channel(None);
        let commands = CommandTable::standard();
        let pubsub = PubSub::default();
        pubsub.set_notify_flags(config.notify_keyspace_events);
        ServerState {
            port: AtomicU16::new(config.port),
            config: RwLock::new(config),
            config_file,
            command_stats: CommandStats::new(&commands),
            commands,
            stats: Stats::default(),
            memory_release: MemoryRelease::default(),
            clients: ClientRegistry::default(),
            pubsub,
            watches: WatchRegistry::default(),
            tracking: Default::default(),
            pause: Default::default(),
            monitors: Default::default(),
            pending_writes: Default::default(),
            loading: AtomicBool::new(false),
            aof_runtime: OnceLock::new(),
            offline_rewrite: Arc::default(),
            started: Instant::now(),
            run_id: new_run_id(),
            shutdown,
            log_level_hook,
            idle_poll: OnceLock::new(),
        }
    }

    /// The configuration (a read lock: keep it short).
    pub fn config(&self) -> RwLockReadGuard<'_, Config> {
        self.config.read().unwrap_or_else(|e| e.into_inner())
    }

    /// The configuration, for `CONFIG SET`.
    pub fn config_mut(&self) -> RwLockWriteGuard<'_, Config> {
        self.config.write().unwrap_or_else(|e| e.into_inner())
    }

    /// Applies a log level change through the hook the binary installed.
    pub fn apply_log_level(&self, level: LogLevel) {
        if let Some(hook) = &self.log_level_hook {
            hook(level);
        }
    }

    /// The runtime's idle polling, if it has one (see [`crate::idle_poll`]).
    #[inline]
    pub fn idle_poll(&self) -> Option<&Arc<crate::idle_poll::IdlePoll>> {
        self.idle_poll.get()
    }

    /// Records the runtime's idle polling (once, at start-up).
    pub(crate) fn set_idle_poll(&self, idle_poll: Arc<crate::idle_poll::IdlePoll>) {
        let _ = self.idle_poll.set(idle_poll);
    }

    /// Whether the AOF is being replayed (`loading` in `INFO persistence`).
    pub fn loading(&self) -> bool {
        self.loading.load(Ordering::Relaxed)
    }

    /// Marks the start and the end of the AOF's replay.
    pub(crate) fn set_loading(&self, loading: bool) {
        self.loading.store(loading, Ordering::Relaxed);
    }

    /// Records what turning the AOF on at run time needs (once, at start-up).
    pub(crate) fn set_aof_runtime(&self, runtime: AofRuntime) {
        let _ = self.aof_runtime.set(runtime);
    }

    /// The end-of-tick commit of the runtime the server runs on, if any
    /// (see [`crate::aof::tick_commit`]).
    pub fn tick_commit(&self) -> Option<&Arc<crate::aof::TickCommit>> {
        self.aof_runtime()?.options.tick_commit.as_ref()
    }

    /// What turning the AOF on at run time needs, if the server recorded it.
    pub(crate) fn aof_runtime(&self) -> Option<&AofRuntime> {
        self.aof_runtime.get()
    }

    /// `BGREWRITEAOF` while the AOF is off.
    pub fn offline_rewrite(&self) -> &Arc<OfflineRewrite> {
        &self.offline_rewrite
    }

    /// Whether clients must authenticate (`requirepass` is set).
    pub fn auth_required(&self) -> bool {
        !self.config().requirepass.is_empty()
    }

    /// The port actually listened on.
    pub fn port(&self) -> u16 {
        self.port.load(Ordering::Relaxed)
    }

    pub(crate) fn set_port(&self, port: u16) {
        self.port.store(port, Ordering::Relaxed);
    }

    /// Asks the server to shut down; every connection and the accept loop
    /// observe it through [`ServerState::shutdown_receiver`], except a
    /// connection waiting for input, which checks
    /// [`ServerState::shutdown_requested`] before it waits and is woken by
    /// its client's kill signal, raised here for every client (a client
    /// registered after this sees the request when its connection starts).
    pub fn request_shutdown(&self, mode: ShutdownMode) {
        let requested = self.shutdown.send_if_modified(|current| {
            if current.is_none() {
                *current = Some(mode);
                true
            } else {
                false
            }
        });
        if requested {
            for (_, handle) in self.clients.snapshot() {
                handle.kill.notify_one();
            }
        }
    }

    /// A receiver that changes when a shutdown is requested.
    pub fn shutdown_receiver(&self) -> watch::Receiver<Option<ShutdownMode>> {
        self.shutdown.subscribe()
    }

    /// The shutdown request, if any.
    pub fn shutdown_requested(&self) -> Option<ShutdownMode> {
        *self.shutdown.borrow()
    }
}

/// Current Unix time in milliseconds.
pub fn unix_time_ms() -> u64 {
    unix_time_us() / 1000
}

/// Current Unix time in microseconds (Redis's `ustime`).
pub fn unix_time_us() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_micros() as u64)
        .unwrap_or(0)
}

/// 40 random hex characters, from the standard library's randomly keyed
/// hasher (no extra dependency; the id only needs to differ between runs).
fn new_run_id() -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut id = String::with_capacity(40);
    let mut round = 0u64;
    while id.len() < 40 {
        let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
        hasher.write_u64(round);
        hasher.write_u128(
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or(0),
        );
        hasher.write_u32(std::process::id());
        id.push_str(&format!("{:016x}", hasher.finish()));
        round += 1;
    }
    id.truncate(40);
    id
}
