//! In-process command execution for unit tests of the command families:
//! runs requests through the real dispatcher against a fresh dataset (AOF
//! enabled, so propagation is recorded) without any networking.
//!
//! ```text
//! let mut h = Harness::new();
//! assert_eq!(h.run(&["SWAPDB", "0", "1"]), b"+OK\r\n");
//! assert_eq!(h.propagated(), [vec!["SWAPDB", "0", "1"]]);
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

/// Collects what the dataset hands to its sink.
struct Collect(Arc<Mutex<Vec<PropagatedCommand>>>);

impl PropagationSink for Collect {
    fn append(&mut self, records: std::vec::Drain<'_, PropagatedCommand>) {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend(records);
    }
}

/// A server without a network: one client, one dataset.
pub(crate) struct Harness {
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
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, 50_000));
        let laddr = SocketAddr::from((Ipv4Addr::LOCALHOST, 6379));
        let client = ClientState::new(state.clients.next_id(), addr, laddr, -1, authenticated);
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
        let args: Vec<Bytes> = args
            .iter()
            .map(|a| Bytes::copy_from_slice(a.as_bytes()))
            .collect();
        let mut out = BytesMut::new();
        let mut ctx = ExecContext {
            store: &mut self.dataset.store,
            propagation: &mut self.dataset.propagation,
            client: &mut self.client,
            server: &self.state,
            now_ms,
            out: &mut out,
            effects: &mut self.effects,
        };
        execute(&mut ctx, &args);
        self.dataset.finish_batch(&self.state.stats);
        out.to_vec()
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
