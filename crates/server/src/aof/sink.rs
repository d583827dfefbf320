//! [`AofSink`]: the dataset's propagation sink that feeds the AOF.

use std::sync::Arc;

use super::appender::Aof;
use crate::dataset::PropagationSink;
use crate::propagation::PropagatedCommand;

/// Hands each batch's records to the [`Aof`]'s write queue. Runs under the
/// dataset lock and only encodes into memory (see [`Aof::append_batch`]).
#[derive(Debug)]
pub struct AofSink {
    aof: Arc<Aof>,
}

impl AofSink {
    /// A sink feeding `aof`.
    pub fn new(aof: Arc<Aof>) -> AofSink {
        AofSink { aof }
    }
}

impl PropagationSink for AofSink {
    fn append(&mut self, records: std::vec::Drain<'_, PropagatedCommand>) {
        self.aof.append_batch(records);
    }

    fn shutdown(&mut self) {
        self.aof.shutdown();
    }
}
