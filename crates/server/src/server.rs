//! [`Server`]: binding, serving, and graceful shutdown.

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::mpsc;

use crate::active_expiry;
use crate::aof::{self, AofOptions};
use crate::config::Config;
use crate::dataset::{self, Dataset, SharedDataset};
use crate::network::{listener, socket};
use crate::state::{LogLevelHook, REDIS_VERSION, ServerState, ShutdownMode};

/// How long shutdown waits for connections to finish the requests in hand
/// before giving up on them (a peer that stopped reading cannot hold the
/// server hostage).
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// Why the server could not start or stopped abnormally.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// A bind address does not parse or cannot be listened on.
    #[error("could not listen on {address}: {source}")]
    Bind {
        /// The address.
        address: String,
        /// Why.
        source: std::io::Error,
    },
    /// The open-file limit leaves no room for clients.
    #[error(transparent)]
    FdLimit(#[from] crate::fd_limit::FdLimitError),
    /// The AOF could not be loaded or opened.
    #[error("could not start persistence: {0}")]
    Persistence(#[from] aof::StartError),
    /// A background thread could not be started.
    #[error("could not start the {name} thread: {source}")]
    Thread {
        /// The thread's name.
        name: &'static str,
        /// Why.
        source: std::io::Error,
    },
}

/// Options beyond the [`Config`] for embedding the server.
#[derive(Default)]
pub struct ServerOptions {
    /// The file the configuration came from (`INFO server` shows it).
    pub config_file: Option<PathBuf>,
    /// Applies `CONFIG SET loglevel` to the process's logger.
    pub log_level_hook: Option<LogLevelHook>,
    /// How the AOF is opened and rewritten (production defaults).
    pub aof: AofOptions,
    /// The runtime's idle polling, which `idle-poll-max-us` drives (None:
    /// the runtime has none).
    pub idle_poll: Option<Arc<crate::idle_poll::IdlePoll>>,
    /// How long shutdown waits for connections (None: 5 seconds). Tests
    /// set it long to observe that no connection makes shutdown wait.
    pub shutdown_grace: Option<Duration>,
}

impl std::fmt::Debug for ServerOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerOptions")
            .field("config_file", &self.config_file)
            .field("log_level_hook", &self.log_level_hook.is_some())
            .field("aof", &self.aof)
            .field("idle_poll", &self.idle_poll)
            .field("shutdown_grace", &self.shutdown_grace)
            .finish()
    }
}

/// A bound, not yet serving, server.
#[derive(Debug)]
pub struct Server {
    state: Arc<ServerState>,
    dataset: SharedDataset,
    listeners: Vec<TcpListener>,
    shutdown_grace: Duration,
}

impl Server {
    /// Binds every `bind` address on `port` (port 0: a free port, the same
    /// for every address when possible), then, with `aof-enabled`, loads the
    /// AOF and opens it for appending.
    pub async fn bind(mut config: Config, options: ServerOptions) -> Result<Server, ServerError> {
        crate::fd_limit::adjust_open_files_limit(&mut config)?;
        let mut listeners = Vec::new();
        let mut port = config.port;
        for address in config.bind_addresses() {
            let target = address.with_port(port);
            let listener = match listen_on(&target, config.tcp_backlog).await {
                Ok(listener) => listener,
                Err(err) if address.optional => {
                    tracing::warn!(%err, "skipping optional bind address {target}");
                    continue;
                }
                Err(source) => {
                    return Err(ServerError::Bind {
                        address: target,
                        source,
                    });
                }
            };
            if port == 0 {
                port = listener.local_addr().map(|a| a.port()).unwrap_or(0);
            }
            listeners.push(listener);
        }
        if listeners.is_empty() {
            return Err(ServerError::Bind {
                address: config.bind.clone(),
                source: std::io::Error::new(
                    std::io::ErrorKind::AddrNotAvailable,
                    "no bind address could be listened on",
                ),
            });
        }
        let mut dataset = Dataset::new(&config);
        dataset
            .start_background_free()
            .map_err(|source| ServerError::Thread {
                name: "redigo-free",
                source,
            })?;
        let dataset = dataset.shared();
        let state = Arc::new(ServerState::new(
            config,
            options.config_file,
            options.log_level_hook,
        ));
        state.set_port(port);
        if let Some(idle_poll) = options.idle_poll {
            idle_poll.set_max_us(state.config().idle_poll_max_us);
            state.set_idle_poll(idle_poll);
        }
        // Replays the AOF into the dataset before any client is accepted
        // (blocking, like Redis's loading phase) and installs the AOF sink.
        aof::start(&state, &dataset, options.aof)?;
        Ok(Server {
            state,
            dataset,
            listeners,
            shutdown_grace: options.shutdown_grace.unwrap_or(SHUTDOWN_GRACE),
        })
    }

    /// The addresses listened on.
    pub fn local_addrs(&self) -> Vec<SocketAddr> {
        self.listeners
            .iter()
            .filter_map(|l| l.local_addr().ok())
            .collect()
    }

    /// The port listened on.
    pub fn port(&self) -> u16 {
        self.state.port()
    }

    /// The shared state (config, stats, clients), e.g. to request shutdown.
    pub fn state(&self) -> &Arc<ServerState> {
        &self.state
    }

    /// The dataset, e.g. to load an AOF or install a propagation sink
    /// before serving.
    pub fn dataset(&self) -> &SharedDataset {
        &self.dataset
    }

    /// Serves until `shutdown_signal` resolves or a client runs `SHUTDOWN`,
    /// then stops accepting, lets connections finish the requests in hand,
    /// flushes persistence and returns.
    pub async fn run(self, shutdown_signal: impl Future<Output = ()>) -> Result<(), ServerError> {
        let Server {
            state,
            dataset,
            listeners,
            shutdown_grace,
        } = self;
        log_banner(&state);
        let (alive, mut all_closed) = mpsc::channel::<()>(1);
        for listener in listeners {
            tokio::spawn(listener::accept_loop(
                listener,
                Arc::clone(&state),
                Arc::clone(&dataset),
                alive.clone(),
            ));
        }
        let background = active_expiry::spawn(Arc::clone(&state), Arc::clone(&dataset));

        listener::shutdown_or(&state, shutdown_signal).await;
        let mode = state.shutdown_requested().unwrap_or(ShutdownMode {
            from_signal: true,
            ..ShutdownMode::default()
        });
        state.request_shutdown(mode);
        if mode.from_signal {
            tracing::warn!("received a shutdown signal, scheduling shutdown...");
        } else {
            tracing::warn!("user requested shutdown...");
        }

        drop(alive);
        if tokio::time::timeout(shutdown_grace, all_closed.recv())
            .await
            .is_err()
        {
            tracing::warn!("some connections did not finish in time; closing them");
        }
        background.abort();

        // Persistence hook: hand the last writes to the AOF sink, which
        // flushes and fsyncs them (wired by the AOF writer).
        dataset::lock(&dataset).shutdown_persistence();
        tracing::warn!("Redigo is now ready to exit, bye bye...");
        Ok(())
    }
}

/// Listens on the first address `target` resolves to that can be bound,
/// with Redis's socket options (see [`socket::listen`]).
async fn listen_on(target: &str, backlog: u32) -> std::io::Result<TcpListener> {
    let mut last_error = None;
    for address in tokio::net::lookup_host(target).await? {
        match socket::listen(address, backlog) {
            Ok(listener) => return Ok(listener),
            Err(err) => last_error = Some(err),
        }
    }
    Err(last_error.unwrap_or_else(|| {
        std::io::Error::new(
            std::io::ErrorKind::AddrNotAvailable,
            "the address resolves to nothing",
        )
    }))
}

fn log_banner(state: &ServerState) {
    let config = state.config();
    let persistence = if config.aof_enabled {
        format!(
            "AOF at {} (appendfsync {})",
            config.aof_path.display(),
            config.appendfsync.name()
        )
    } else {
        "none (in-memory only)".to_string()
    };
    tracing::info!(
        "Redigo {} (Redis {} compatible) started, pid={}, port={}, persistence: {}",
        env!("CARGO_PKG_VERSION"),
        REDIS_VERSION,
        std::process::id(),
        state.port(),
        persistence
    );
    tracing::info!("Ready to accept connections on {}", config.bind);
}

/// Binds and serves `config` until `shutdown_signal` resolves or `SHUTDOWN`.
pub async fn run(
    config: Config,
    shutdown_signal: impl Future<Output = ()>,
) -> Result<(), ServerError> {
    Server::bind(config, ServerOptions::default())
        .await?
        .run(shutdown_signal)
        .await
}

/// Resolves on SIGINT or SIGTERM (Ctrl-C elsewhere than Unix).
///
/// On Unix, SIGHUP is ignored while this runs, as Redis ignores it
/// (`signal(SIGHUP, SIG_IGN)`): by default it would kill the server at once,
/// without the final AOF flush, e.g. when the terminal that started it
/// closes. Each one is logged.
pub async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        // Listening for SIGHUP replaces its default action (terminate).
        let mut hangup = match signal(SignalKind::hangup()) {
            Ok(hangup) => Some(hangup),
            Err(err) => {
                tracing::warn!(%err, "cannot listen for SIGHUP; it will stop the server");
                None
            }
        };
        let hangups = async {
            match hangup.as_mut() {
                Some(hangup) => {
                    while hangup.recv().await.is_some() {
                        tracing::info!("Received SIGHUP, ignoring it");
                    }
                }
                None => std::future::pending().await,
            }
        };
        match signal(SignalKind::terminate()) {
            Ok(mut terminate) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = terminate.recv() => {}
                    _ = hangups => {}
                }
            }
            Err(err) => {
                tracing::warn!(%err, "cannot listen for SIGTERM; only SIGINT stops the server");
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
