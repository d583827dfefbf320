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
use crate::shared::{ServerState, unix_time_ms};

/// Collects what the dataset hands to its sink.
struct Collect(Arc<Mutex<Vec<PropagatedCommand>>>);

impl PropagationSink for Collect {
    fn append(&mut self, records: std::vec::Drain<'_, PropagatedCommand>) -> u64 {
        let mut collected = self.0.lock().unwrap_or_else(|e| e.into_inner());
        collected.extend(records);
        collected.len() as u64
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

#[cfg(test)]
mod tests {
    use super::Harness;

    #[test]
    fn database_commands_reply_and_propagate_in_deterministic_form() {
        let mut h = Harness::new();
        assert_eq!(h.run(&["SELECT", "3"]), b"+OK\r\n");
        assert_eq!(h.run(&["FLUSHDB"]), b"+OK\r\n");
        assert_eq!(h.run(&["SWAPDB", "0", "1"]), b"+OK\r\n");
        assert_eq!(h.run(&["MOVE", "missing", "0"]), b":0\r\n");
        assert_eq!(h.run(&["FLUSHALL", "ASYNC"]), b"+OK\r\n");
        assert_eq!(h.run(&["DBSIZE"]), b":0\r\n");
        assert_eq!(
            h.propagated(),
            [
                vec!["3", "FLUSHDB"],
                vec!["3", "SWAPDB", "0", "1"],
                vec!["3", "FLUSHALL"],
            ]
        );
    }

    #[test]
    fn move_transfers_a_key_and_propagates() {
        let mut h = Harness::new();
        let now = crate::shared::unix_time_ms();
        h.dataset
            .store
            .db(0, now)
            .unwrap()
            .set(b"k", b"v", redigo_store::SetOptions::default())
            .unwrap();
        assert_eq!(h.run(&["MOVE", "k", "5"]), b":1\r\n");
        assert_eq!(h.run(&["DBSIZE"]), b":0\r\n");
        assert_eq!(h.run(&["SELECT", "5"]), b"+OK\r\n");
        assert_eq!(h.run(&["DBSIZE"]), b":1\r\n");
        assert_eq!(h.propagated(), [vec!["0", "MOVE", "k", "5"]]);
    }

    #[test]
    fn shutdown_and_quit_request_effects_instead_of_replying() {
        let mut h = Harness::new();
        assert_eq!(h.run(&["SHUTDOWN", "NOSAVE", "NOW"]), b"");
        let mode = h.effects.shutdown.expect("shutdown requested");
        assert!(mode.nosave && mode.now && !mode.save);
        assert_eq!(h.run(&["QUIT"]), b"+OK\r\n");
        assert!(h.effects.close_after_reply);
    }

    #[test]
    fn raw_error_replies_keep_their_bytes_and_are_counted() {
        let mut h = Harness::new();
        let mut out = bytes::BytesMut::new();
        let mut ctx = super::ExecContext {
            store: &mut h.dataset.store,
            propagation: &mut h.dataset.propagation,
            client: &mut h.client,
            server: &h.state,
            now_ms: 0,
            out: &mut out,
            effects: &mut h.effects,
        };
        ctx.reply_error_bytes(b"ERR Unsupported option \xff\r\n");
        assert_eq!(&out[..], b"-ERR Unsupported option \xff  \r\n");
        assert_eq!(h.state.stats.error_counts(), [("ERR".to_string(), 1)]);
    }

    #[test]
    fn config_set_applies_all_or_nothing() {
        let mut h = Harness::new();
        assert_eq!(
            h.run(&["CONFIG", "SET", "timeout", "5", "hz", "1000"]),
            b"+OK\r\n"
        );
        assert_eq!(
            h.state.config().hz,
            500,
            "hz is clamped at run time, as Redis does"
        );
        assert_eq!(h.state.config().timeout, 5);
        assert_eq!(
            h.run(&["CONFIG", "SET", "proto-max-bulk-len", "2mb"]),
            b"+OK\r\n"
        );
        assert_eq!(h.dataset.store.config().max_string_len, 2 * 1024 * 1024);
        let reply = h.run(&["CONFIG", "SET", "timeout", "9", "loglevel", "loud"]);
        assert!(
            reply.starts_with(b"-ERR CONFIG SET failed (possibly related to argument 'loglevel')")
        );
        assert_eq!(h.state.config().timeout, 5);
    }
}
