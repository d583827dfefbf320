//! In-process command execution: requests run through the real dispatcher
//! ([`execute`]) without any networking, for tests.
//!
//! * [`Harness`] owns a fresh dataset (AOF enabled, so propagation is
//!   recorded) and one client: the unit tests of the command families use
//!   it.
//! * [`Session`] is one client running requests against a dataset the
//!   caller owns, such as one with a live AOF started on it: the `aof_*`
//!   integration tests apply their writes with it instead of re-implementing
//!   handlers.
//!
//! Built for this crate's tests and, with the `testing` feature, exported as
//! `redigo_server::testing::{Harness, Session}`; never in release builds.
//!
//! ```
//! # #[cfg(feature = "testing")] {
//! use redigo_server::testing::Harness;
//!
//! let mut h = Harness::new();
//! assert_eq!(h.run(&["SELECT", "3"]), b"+OK\r\n");
//! assert_eq!(h.run(&["SWAPDB", "0", "1"]), b"+OK\r\n");
//! assert_eq!(h.propagated(), [vec!["3", "SWAPDB", "0", "1"]]);
//! # }
//! ```

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};

use bytes::{Bytes, BytesMut};

use super::{Effects, ExecContext, execute};
use crate::client::ClientState;
use crate::config::Config;
use crate::dataset::{Dataset, PropagationSink};
use crate::propagation::PropagatedCommand;
use crate::state::{ServerState, unix_time_ms};

/// The peer address every harness client reports.
const CLIENT_ADDR: SocketAddr = SocketAddr::new(std::net::IpAddr::V4(Ipv4Addr::LOCALHOST), 50_000);
/// The local address every harness client reports.
const LOCAL_ADDR: SocketAddr = SocketAddr::new(std::net::IpAddr::V4(Ipv4Addr::LOCALHOST), 6379);

/// Collects what the dataset hands to its sink.
struct Collect(Arc<Mutex<Vec<PropagatedCommand>>>);

impl PropagationSink for Collect {
    fn append(&mut self, records: std::vec::Drain<'_, PropagatedCommand>) -> u64 {
        let mut collected = self.0.lock().unwrap_or_else(|e| e.into_inner());
        collected.extend(records);
        collected.len() as u64
    }
}

/// Runs one request for `client` as a connection does between taking the
/// dataset lock and ending the batch, and returns its raw reply.
fn run_request<A: AsRef<[u8]>>(
    state: &ServerState,
    dataset: &mut Dataset,
    client: &mut ClientState,
    effects: &mut Effects,
    now_ms: u64,
    args: &[A],
) -> Vec<u8> {
    let args: Vec<Bytes> = args
        .iter()
        .map(|a| Bytes::copy_from_slice(a.as_ref()))
        .collect();
    let mut out = BytesMut::new();
    let mut ctx = ExecContext {
        store: &mut dataset.store,
        propagation: &mut dataset.propagation,
        client,
        server: state,
        now_ms,
        call_clock_us: crate::state::unix_time_us(),
        out: &mut out,
        effects,
        blocking: &mut dataset.blocking,
        deny_blocking: false,
    };
    execute(&mut ctx, &args);
    out.to_vec()
}

/// A server without a network: one client, one dataset.
#[derive(Debug)]
pub struct Harness {
    /// Shared state (config, stats, clients).
    pub state: ServerState,
    /// The dataset commands run against.
    pub dataset: Dataset,
    /// The calling client's state.
    pub client: ClientState,
    /// Effects requested so far.
    pub effects: Effects,
    collected: Arc<Mutex<Vec<PropagatedCommand>>>,
}

impl Default for Harness {
    fn default() -> Harness {
        Harness::new()
    }
}

impl Harness {
    /// A harness with the default config (AOF on, so writes propagate).
    pub fn new() -> Harness {
        Harness::with_config(Config::default())
    }

    /// A harness with `config` (the AOF is switched on regardless).
    pub fn with_config(config: Config) -> Harness {
        let config = Config {
            aof_enabled: true,
            ..config
        };
        let mut dataset = Dataset::new(&config);
        let collected = Arc::new(Mutex::new(Vec::new()));
        dataset.set_sink(Box::new(Collect(Arc::clone(&collected))));
        let authenticated = config.requirepass.is_empty();
        let state = ServerState::new(config, None, None);
        let client = ClientState::new(
            state.clients.next_id(),
            CLIENT_ADDR,
            LOCAL_ADDR,
            -1,
            authenticated,
        );
        Harness {
            state,
            dataset,
            client,
            effects: Effects::default(),
            collected,
        }
    }

    /// Runs one request at the current time and returns its raw reply.
    pub fn run(&mut self, args: &[&str]) -> Vec<u8> {
        self.run_at(unix_time_ms(), args)
    }

    /// Runs one request as if at `now_ms` and returns its raw reply.
    pub fn run_at(&mut self, now_ms: u64, args: &[&str]) -> Vec<u8> {
        let reply = run_request(
            &self.state,
            &mut self.dataset,
            &mut self.client,
            &mut self.effects,
            now_ms,
            args,
        );
        self.dataset.finish_batch(&self.state.stats);
        reply
    }

    /// Every propagated write so far as `[db, args...]` strings, oldest first.
    pub fn propagated(&self) -> Vec<Vec<String>> {
        self.collected
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .map(|record| {
                std::iter::once(record.db.to_string())
                    .chain(
                        record
                            .args
                            .iter()
                            .map(|a| String::from_utf8_lossy(a).into_owned()),
                    )
                    .collect()
            })
            .collect()
    }
}

/// One client running requests through the dispatcher against a dataset
/// the caller owns and has locked, as a connection does within one batch.
///
/// The caller ends the batch ([`Dataset::finish_batch`]), so several
/// requests can share one, or a batch can hold other work too (a rewrite
/// starting between two writes). The session has a server state of its own
/// (default config), and the live AOF, which the dataset's propagation log
/// owns, is detached while each request runs: the dispatcher's MISCONF gate,
/// which reads that AOF, never refuses its writes, so a test that injects
/// AOF faults still applies each write it means to, as one admitted just
/// before the fault would be. The records stay in the log and reach the AOF
/// when the caller ends the batch. (So commands that act on the AOF itself,
/// `BGREWRITEAOF` or `CONFIG SET appendonly`, are for a real connection.)
#[derive(Debug)]
pub struct Session {
    state: ServerState,
    client: ClientState,
    effects: Effects,
}

impl Default for Session {
    fn default() -> Session {
        Session::new()
    }
}

impl Session {
    /// A session on database 0.
    pub fn new() -> Session {
        let state = ServerState::new(Config::default(), None, None);
        let client = ClientState::new(state.clients.next_id(), CLIENT_ADDR, LOCAL_ADDR, -1, true);
        Session {
            state,
            client,
            effects: Effects::default(),
        }
    }

    /// Selects database `db` for the next requests (what `SELECT` sets,
    /// without a request: indexes are checked by the store when used).
    pub fn select(&mut self, db: usize) {
        self.client.db = db;
    }

    /// Runs one request on `dataset` at the current time and returns its
    /// raw reply.
    pub fn run<A: AsRef<[u8]>>(&mut self, dataset: &mut Dataset, args: &[A]) -> Vec<u8> {
        // Detached for the request only: see the type docs.
        let sink = dataset.propagation.take_sink();
        let reply = run_request(
            &self.state,
            dataset,
            &mut self.client,
            &mut self.effects,
            unix_time_ms(),
            args,
        );
        if let Some(sink) = sink {
            dataset.propagation.set_sink(sink);
        }
        reply
    }
}
