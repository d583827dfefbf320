//! The Redigo server: a Redis 7.0-compatible key/value server over RESP2.
//!
//! This crate is the server's library; the `redigo` binary only parses the
//! command line and calls [`Server`]. It brings together:
//!
//! * [`config`]: the typed [`Config`] (TOML file, command-line overrides,
//!   `CONFIG GET/SET`), with Redis's names, defaults and error texts;
//! * [`commands`]: the command table, where each command family is a file
//!   exporting its specs and handlers, and the dispatcher that checks
//!   arity and authentication exactly as Redis does;
//! * the network layer: a tokio TCP server with one task per connection;
//! * the active expiry cycle and the propagation of writes ([`propagation`])
//!   to the append-only file ([`aof`]: replay at start-up, group-committed
//!   appends, background rewrites).
//!
//! # Concurrency model
//!
//! The dataset (the [`redigo_store::Store`] and the
//! [`propagation::PropagationLog`]) sits behind one mutex ([`dataset`]).
//! A connection reads what its socket has, decodes every complete request,
//! takes the lock **once** for the whole pipelined batch, executes the
//! requests in order, drains lazily expired keys, releases the lock and
//! writes all the replies with one write. No lock is ever held across I/O
//! or `.await`, so a slow client never stalls others, and reads never wait
//! for the disk: the AOF sink only buffers under the lock. Commands
//! therefore run one at a time, atomically, as in Redis's single thread.
//! With `io-threads 1` (the default) every connection runs on one thread,
//! as in Redis, whose idle moments commit the AOF under `appendfsync
//! always` ([`runtime`], [`aof::tick_commit`]); with more, socket I/O and
//! protocol decoding run in parallel on tokio's workers. The active expiry
//! cycle takes the same lock in short rounds.
//! Shared non-keyspace state (config, stats, clients) lives in
//! [`ServerState`] behind its own fine-grained locks and atomics.
//!
//! # Example
//!
//! ```
//! use std::io::{Read, Write};
//!
//! use redigo_server::{Config, Server, ServerOptions};
//!
//! let runtime = tokio::runtime::Runtime::new().unwrap();
//! runtime.block_on(async {
//!     let config = Config { port: 0, ..Config::default() };
//!     let server = Server::bind(config, ServerOptions::default()).await.unwrap();
//!     let port = server.port();
//!     let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
//!     let serving = tokio::spawn(server.run(async { let _ = stop_rx.await; }));
//!
//!     let reply = tokio::task::spawn_blocking(move || {
//!         let mut conn = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
//!         conn.write_all(b"ECHO hello\r\n").unwrap();
//!         let mut reply = [0u8; 11];
//!         conn.read_exact(&mut reply).unwrap();
//!         reply
//!     })
//!     .await
//!     .unwrap();
//!     assert_eq!(&reply, b"$5\r\nhello\r\n");
//!
//!     stop_tx.send(()).unwrap();
//!     serving.await.unwrap().unwrap();
//! });
//! ```

mod active_expiry;
pub mod aof;
pub mod background_free;
pub mod blocking;
pub mod client;
pub mod client_pause;
pub mod commands;
pub mod config;
pub mod dataset;
pub mod delivery;
pub mod fd_limit;
pub mod idle_poll;
pub mod logging;
pub mod memory_release;
pub mod monitor;
mod network;
pub mod persistence;
pub mod process_stats;
pub mod propagation;
pub mod pubsub;
pub mod runtime;
mod server;
pub mod state;
pub mod stats;
#[cfg(feature = "testing")]
pub mod testing;
pub mod tracking;
pub mod watch;

pub use config::Config;
pub use server::{Server, ServerError, ServerOptions, run, shutdown_signal};
/// The old name of [`state`], still used by `aof` and `network::connection`
/// (left for the branches that are changing them to switch over).
pub(crate) use state as shared;
pub use state::{REDIS_VERSION, ServerState, ShutdownMode};
