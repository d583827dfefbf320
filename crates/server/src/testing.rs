//! Test harnesses (the `testing` feature, off in release builds): a real
//! server in a background thread ([`TestServer`]), and in-process command
//! execution through the dispatcher ([`Harness`], [`Session`], see
//! [`crate::commands::harness`]).
//!
//! ```
//! let server = redigo_server::testing::TestServer::start(&[("databases", "4")]);
//! let mut conn = std::net::TcpStream::connect(("127.0.0.1", server.port())).unwrap();
//! # use std::io::{Read, Write};
//! conn.write_all(b"PING\r\n").unwrap();
//! let mut reply = [0u8; 7];
//! conn.read_exact(&mut reply).unwrap();
//! assert_eq!(&reply, b"+PONG\r\n");
//! ```

pub use crate::commands::harness::{Harness, Session};

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::thread::JoinHandle;

use crate::config::Config;
use crate::dataset::SharedDataset;
use crate::runtime::ServerRuntime;
use crate::server::{Server, ServerOptions};
use crate::state::{ServerState, ShutdownMode};

/// A server running in a background thread on a runtime built as the
/// binary builds it (from `io-threads`, see [`crate::runtime`]), listening
/// on a free loopback port; it shuts down when dropped.
#[derive(Debug)]
pub struct TestServer {
    port: u16,
    state: Arc<ServerState>,
    dataset: SharedDataset,
    thread: Option<JoinHandle<()>>,
    /// The server's own directory for its AOF path (removed on drop), so a
    /// `BGREWRITEAOF` with the AOF off writes nowhere near the source tree.
    dir: PathBuf,
}

/// Test servers started by this process, to name their directories.
static STARTED: AtomicUsize = AtomicUsize::new(0);

impl TestServer {
    /// Starts a server with the defaults, `port` 0 and the given overrides
    /// (`(name, value)` as for `CONFIG SET`).
    ///
    /// # Panics
    /// If an override is refused or the server cannot start: a test setup
    /// error.
    pub fn start(overrides: &[(&str, &str)]) -> TestServer {
        TestServer::start_with_options(overrides, |_| {})
    }

    /// As [`TestServer::start`], letting `configure` adjust the
    /// [`ServerOptions`] (e.g. the shutdown grace).
    pub fn start_with_options(
        overrides: &[(&str, &str)],
        configure: impl FnOnce(&mut ServerOptions) + Send + 'static,
    ) -> TestServer {
        let dir = std::env::temp_dir().join(format!(
            "redigo-test-server-{}-{}",
            std::process::id(),
            STARTED.fetch_add(1, Ordering::Relaxed)
        ));
        let mut config = Config {
            port: 0,
            aof_path: dir.join("appendonly.aof"),
            ..Config::default()
        };
        for (key, value) in overrides {
            config
                .set(key, value)
                .unwrap_or_else(|e| panic!("test server override: {e}"));
        }
        let (ready_tx, ready_rx) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("redigo-test-server".to_string())
            .spawn(move || {
                let runtime = ServerRuntime::new(config.io_threads).expect("test server runtime");
                let mut options = ServerOptions {
                    aof: runtime.aof_options(),
                    idle_poll: runtime.idle_poll(),
                    ..ServerOptions::default()
                };
                configure(&mut options);
                runtime.block_on(async move {
                    let server = Server::bind(config, options)
                        .await
                        .expect("test server binds");
                    let _ = ready_tx.send((
                        server.port(),
                        Arc::clone(server.state()),
                        Arc::clone(server.dataset()),
                    ));
                    server
                        .run(std::future::pending())
                        .await
                        .expect("test server runs");
                });
            })
            .expect("spawn test server thread");
        let (port, state, dataset) = ready_rx.recv().expect("test server started");
        TestServer {
            port,
            state,
            dataset,
            thread: Some(thread),
            dir,
        }
    }

    /// The port it listens on (127.0.0.1).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Whether the server has stopped serving and returned (after
    /// `SHUTDOWN`, say).
    pub fn has_stopped(&self) -> bool {
        self.thread.as_ref().is_none_or(|t| t.is_finished())
    }

    /// The server's shared state (stats, config, clients).
    pub fn state(&self) -> &Arc<ServerState> {
        &self.state
    }

    /// The server's dataset (lock it with [`crate::dataset::lock`]).
    pub fn dataset(&self) -> &SharedDataset {
        &self.dataset
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.state.request_shutdown(ShutdownMode::default());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
