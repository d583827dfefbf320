//! The accept loop: admitting each connection and starting its task.
//!
//! Binding the listening socket (with `tcp-backlog`) is
//! [`socket`](super::socket)'s job and the server's start-up sequence is
//! `server.rs`'s; this file only accepts. For each connection, in Redis's
//! order (`acceptCommonHandler`):
//!
//! 1. over `maxclients`: `-ERR max number of clients reached`, counted in
//!    `rejected_connections` only, and closed;
//! 2. counted in `total_connections_received`;
//! 3. refused by `protected-mode` (a non-loopback peer, no password): the
//!    `-DENIED` text, and closed;
//! 4. `tcp-keepalive` set on the socket, the client registered, and a task
//!    spawned to serve it ([`connection`](super::connection)).
//!
//! An accept error (out of file descriptors) pauses the loop for
//! [`ACCEPT_ERROR_BACKOFF`] instead of spinning, and is logged at most every
//! [`ACCEPT_ERROR_LOG_INTERVAL`]. [`shutdown_or`] races any future against
//! a shutdown request; the loop itself ends when shutdown is requested.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

use crate::client::ClientHandle;
use crate::dataset::SharedDataset;
use crate::state::ServerState;

/// Redis's reply to a connection beyond `maxclients`.
const MAX_CLIENTS_REPLY: &[u8] = b"-ERR max number of clients reached\r\n";
/// Pause after an accept error (e.g. out of file descriptors) before trying
/// again, so the loop does not spin.
const ACCEPT_ERROR_BACKOFF: Duration = Duration::from_millis(100);
/// While accepting keeps failing, the failure is logged at most this often
/// (with how many times it happened), not on every retry.
const ACCEPT_ERROR_LOG_INTERVAL: Duration = Duration::from_secs(10);

/// Rate-limits the log of accept errors (see [`ACCEPT_ERROR_LOG_INTERVAL`]).
#[derive(Debug, Default)]
struct AcceptErrorLog {
    last_logged: Option<std::time::Instant>,
    suppressed: u64,
}

impl AcceptErrorLog {
    fn failed(&mut self, err: &std::io::Error) {
        let due = self
            .last_logged
            .is_none_or(|at| at.elapsed() >= ACCEPT_ERROR_LOG_INTERVAL);
        if !due {
            self.suppressed += 1;
            return;
        }
        if self.suppressed > 0 {
            tracing::warn!(
                %err,
                "Accepting client connection failed ({} more failures since the last report)",
                self.suppressed
            );
        } else {
            tracing::warn!(%err, "Accepting client connection failed");
        }
        self.last_logged = Some(std::time::Instant::now());
        self.suppressed = 0;
    }
}

/// Accepts connections on `listener` until shutdown. Each connection task
/// holds a clone of `alive`; the server waits for all of them to drop it.
pub(crate) async fn accept_loop(
    listener: TcpListener,
    server: Arc<ServerState>,
    dataset: SharedDataset,
    alive: mpsc::Sender<()>,
) {
    let mut shutdown = server.shutdown_receiver();
    let mut errors = AcceptErrorLog::default();
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = shutdown.changed() => return,
        };
        let (socket, peer) = match accepted {
            Ok(pair) => pair,
            Err(err) => {
                errors.failed(&err);
                tokio::time::sleep(ACCEPT_ERROR_BACKOFF).await;
                continue;
            }
        };
        admit(socket, peer, &server, &dataset, &alive).await;
    }
}

async fn admit(
    mut socket: TcpStream,
    peer: SocketAddr,
    server: &Arc<ServerState>,
    dataset: &SharedDataset,
    alive: &mpsc::Sender<()>,
) {
    let maxclients = server.config().maxclients as usize;
    if server.clients.len() >= maxclients {
        server
            .stats
            .rejected_connections
            .fetch_add(1, Ordering::Relaxed);
        tracing::debug!(%peer, "refusing connection: max number of clients reached");
        // Best effort, as Redis: the reply may not arrive if the peer is gone.
        let _ = socket.write_all(MAX_CLIENTS_REPLY).await;
        return;
    }
    let (keepalive, denied) = {
        let config = server.config();
        (
            config.tcp_keepalive,
            super::socket::protected_mode_denies(&config, peer.ip()),
        )
    };
    // As Redis's `stat_numconnections`: counted once the client is admitted,
    // so a refused connection counts only in `rejected_connections`.
    server
        .stats
        .total_connections_received
        .fetch_add(1, Ordering::Relaxed);
    if denied {
        // Redis counts the connection, then explains and closes it.
        tracing::debug!(%peer, "refusing connection: protected mode");
        let _ = socket.write_all(super::socket::PROTECTED_MODE_REPLY).await;
        return;
    }
    if let Err(err) = super::socket::configure_accepted(&socket, keepalive) {
        tracing::debug!(%peer, %err, "cannot set the socket options of a client");
    }
    let state = match super::connection::new_client(server, &socket) {
        Ok(state) => state,
        Err(err) => {
            tracing::debug!(%peer, %err, "connection lost while accepting");
            return;
        }
    };
    let id = state.id;
    let handle = ClientHandle {
        state: Arc::new(std::sync::Mutex::new(state)),
        kill: Arc::default(),
        messages: Arc::default(),
    };
    server.clients.register(handle.clone(), id);
    tracing::debug!(%peer, client = id, "accepted connection");
    let server = Arc::clone(server);
    let dataset = Arc::clone(dataset);
    let alive = alive.clone();
    tokio::spawn(async move {
        super::connection::serve(socket, server, dataset, handle).await;
        drop(alive);
    });
}

/// Resolves when `future` does or a shutdown is requested.
pub(crate) async fn shutdown_or(server: &ServerState, future: impl Future<Output = ()>) {
    let mut shutdown = server.shutdown_receiver();
    if shutdown.borrow().is_some() {
        return;
    }
    tokio::select! {
        _ = future => {}
        _ = shutdown.changed() => {}
    }
}
