//! The dataset: the store and the propagation log, behind one lock.
//!
//! Every command of a batch, the active expiry cycle and the end-of-batch
//! bookkeeping take this lock; nothing holds it across I/O or `.await`.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, MutexGuard};

use redigo_aof::Record;
use redigo_store::{Store, StoreConfig};

use crate::aof::Persistence;
use crate::background_free::BackgroundFreer;
use crate::blocking::BlockingRegistry;
use crate::config::Config;
use crate::propagation::{PropagatedCommand, PropagationLog};
use crate::stats::Stats;

/// Receives the writes of each batch, in order. The live AOF
/// ([`Persistence`]) implements it, and the dataset's propagation log is
/// its one owner; tests install collectors. It runs under the dataset lock,
/// so it must only buffer (or hand records to a background writer), never
/// wait for the disk.
pub trait PropagationSink: Send {
    /// Takes the records of one batch (or one expiry round), oldest first,
    /// and returns the batch's sequence number: what a reply that may show
    /// these writes waits for (see [`crate::aof::Aof::hold_reply`]).
    fn append(&mut self, records: std::vec::Drain<'_, PropagatedCommand>) -> u64;

    /// Called once when the server shuts down, after the last records were
    /// appended: flush and fsync whatever is buffered.
    fn shutdown(&mut self) {}

    /// The live AOF, when this sink is it.
    fn live_aof(&self) -> Option<&Persistence> {
        None
    }
}

/// The store and what goes with it. See the module docs.
#[derive(Debug)]
pub struct Dataset {
    /// The keyspace.
    pub store: Store,
    /// Writes waiting for the sink, and the sink.
    pub propagation: PropagationLog,
    /// The clients blocked on keys, which change with the store.
    pub blocking: BlockingRegistry,
    /// Frees big values off the command path, once started.
    freer: Option<BackgroundFreer>,
}

/// The dataset as the server shares it.
pub type SharedDataset = Arc<Mutex<Dataset>>;

impl Dataset {
    /// An empty dataset for `config`. Propagation is recorded only when the
    /// AOF is enabled, and records are dropped until a sink is installed.
    pub fn new(config: &Config) -> Dataset {
        let store = Store::new(StoreConfig {
            databases: config.databases,
            max_string_len: usize::try_from(config.proto_max_bulk_len).unwrap_or(usize::MAX),
            encoding: config.encoding_limits(),
        });
        Dataset {
            store,
            propagation: PropagationLog::new(config.aof_enabled),
            blocking: BlockingRegistry::default(),
            freer: None,
        }
    }

    /// Frees big values on a background thread from now on (see
    /// [`crate::background_free`]); without it they are freed inline.
    pub fn start_background_free(&mut self) -> std::io::Result<()> {
        self.freer = Some(BackgroundFreer::start()?);
        self.store.set_background_free(true);
        Ok(())
    }

    /// The background freer, once started.
    pub fn freer(&self) -> Option<&BackgroundFreer> {
        self.freer.as_ref()
    }

    /// Hands the values the store set aside to the background freer.
    pub fn dispose_garbage(&mut self) {
        if !self.store.has_garbage() {
            return;
        }
        let garbage = self.store.drain_garbage();
        match &self.freer {
            Some(freer) => freer.free(garbage),
            None => drop(garbage),
        }
    }

    /// Wraps the dataset for sharing.
    pub fn shared(self) -> SharedDataset {
        Arc::new(Mutex::new(self))
    }

    /// Installs the consumer of propagated writes (the AOF writer).
    pub fn set_sink(&mut self, sink: Box<dyn PropagationSink>) {
        self.propagation.set_sink(sink);
    }

    /// The live AOF, while it is on (the propagation log owns it).
    pub fn aof(&self) -> Option<&Persistence> {
        self.propagation.aof()
    }

    /// End-of-batch bookkeeping: hands the batch's records to the sink.
    /// Returns the sequence number the sink gave the last records this
    /// batch handed over (see [`PropagationLog::take_appended`]), `None` if
    /// it handed over none.
    ///
    /// Keys expired lazily by a command are counted and propagated by the
    /// dispatcher right after that command, ahead of its own records. Any
    /// left here were expired outside a command (a caller driving the store
    /// directly) and are recorded last, which is their true place.
    pub fn finish_batch(&mut self, stats: &Stats) -> Option<u64> {
        let expired = self.store.drain_expired();
        if !expired.is_empty() {
            stats
                .expired_keys
                .fetch_add(expired.len() as u64, Ordering::Relaxed);
            for key in &expired {
                self.propagation.record(key.db, || Record::del(&key.key));
            }
        }
        self.flush_propagation();
        self.dispose_garbage();
        self.propagation.take_appended()
    }

    /// Final persistence step at shutdown: hands over the last records and
    /// lets the sink flush and fsync.
    pub fn shutdown_persistence(&mut self) {
        self.propagation.shutdown_sink();
    }

    /// Hands the recorded writes to the sink (or drops them without one).
    pub fn flush_propagation(&mut self) {
        self.propagation.flush();
    }
}

/// Locks the dataset, ignoring poisoning: a handler never panics by design,
/// and if one did the data is still structurally sound, so the server keeps
/// serving rather than failing every later command.
pub fn lock(dataset: &SharedDataset) -> MutexGuard<'_, Dataset> {
    dataset.lock().unwrap_or_else(|e| e.into_inner())
}
