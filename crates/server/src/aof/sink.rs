//! [`Persistence`]: the live AOF as the server owns it, and the dataset's
//! propagation sink that feeds it.
//!
//! The dataset's propagation log holds the one `Persistence` while the AOF
//! is on ([`crate::propagation::PropagationLog::aof`]): [`super::start`] and
//! [`super::enable`] install it there, [`super::disable`] takes it out, and
//! whatever else needs the AOF reaches it there, under the dataset lock.
//! Clones are short-lived handles (a connection waiting for its reply's
//! sequence, a test), never a second registry to keep in step.

use std::sync::Arc;

use super::appender::Aof;
use super::rewrite::RewriteHooks;
use crate::dataset::PropagationSink;
use crate::propagation::PropagatedCommand;

/// The live AOF and how it is rewritten. See the module docs.
#[derive(Debug, Clone)]
pub struct Persistence {
    /// The live AOF.
    pub aof: Arc<Aof>,
    /// The rewrite hooks in force.
    pub hooks: RewriteHooks,
}

impl PropagationSink for Persistence {
    /// Queues the batch in the [`Aof`]'s write queue (under the dataset
    /// lock: only encodes into memory, see [`Aof::append_batch`]) and
    /// returns its sequence number.
    fn append(&mut self, records: std::vec::Drain<'_, PropagatedCommand>) -> u64 {
        self.aof.append_batch(records)
    }

    fn shutdown(&mut self) {
        self.aof.shutdown();
    }

    fn live_aof(&self) -> Option<&Persistence> {
        Some(self)
    }
}
