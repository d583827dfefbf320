//! The [`AofWriter`] trait: what the server needs from an append-only log.
//!
//! # Contract
//!
//! * [`append`](AofWriter::append) takes a *batch*: the encoded records of
//!   every write command of one event-loop turn, concatenated (Redis's
//!   `aof_buf`). Writing them with one call is what lets one fsync cover
//!   the whole batch.
//! * The [`FsyncPolicy`] a writer is opened with (or given by
//!   [`set_policy`](AofWriter::set_policy)) is what the writer does *on
//!   its own*, and nothing more: under [`FsyncPolicy::Always`] `append`
//!   fsyncs before it returns (one fsync per call); under
//!   [`FsyncPolicy::EverySec`] it never fsyncs, and only reports through
//!   [`sync_due`](AofWriter::sync_due) / [`SyncHandle::is_due`] when a
//!   second has passed with unsynced bytes; under [`FsyncPolicy::Never`] it
//!   never fsyncs. Running the fsyncs is the caller's job under
//!   `everysec`, and so is group commit across callers: the Redigo server
//!   opens its writer with `Never` when `appendfsync always` is configured
//!   and fsyncs through [`sync`](AofWriter::sync) / [`SyncHandle`] itself,
//!   once for many clients' batches (see the crate docs for which crate
//!   implements what under each policy).
//! * A failed append leaves no torn record behind when it can help it: the
//!   writer truncates the file back to its size before the batch (Redis does
//!   the same with `ftruncate`). [`AofError::Write::written`](crate::AofError)
//!   says how many bytes of the batch stayed in the file anyway (0 unless even
//!   that truncation failed); the caller keeps the rest and retries it.
//! * [`status`](AofWriter::status) is Redis's `aof_last_write_status`: the
//!   server refuses write commands with `-MISCONF Errors writing to the AOF
//!   file: <text>` while it is [`WriteStatus::Failed`], and a later successful
//!   append sets it back to [`WriteStatus::Ok`].
//! * Under `everysec` the command path never waits for fsync: the caller
//!   asks [`sync_due`](AofWriter::sync_due) (or [`SyncHandle::is_due`]) on
//!   its timer and runs [`SyncHandle::sync`] on a thread that may block.

use std::fmt;
use std::time::Instant;

use crate::error::AofError;
use crate::policy::FsyncPolicy;
use crate::sync::SyncHandle;

/// The outcome of the last append, as `INFO persistence` reports it in
/// `aof_last_write_status`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum WriteStatus {
    /// The last append succeeded (or none was attempted yet).
    #[default]
    Ok,
    /// The last append failed; the text is the operating system's message
    /// (e.g. `No space left on device`), ready for `-MISCONF ...`.
    Failed(String),
}

impl WriteStatus {
    /// Whether writes are currently succeeding.
    pub fn is_ok(&self) -> bool {
        matches!(self, WriteStatus::Ok)
    }

    /// The error text, when the last append failed.
    pub fn error(&self) -> Option<&str> {
        match self {
            WriteStatus::Ok => None,
            WriteStatus::Failed(text) => Some(text),
        }
    }

    /// `ok` or `err`, as in `INFO persistence`.
    pub fn as_info_str(&self) -> &'static str {
        if self.is_ok() { "ok" } else { "err" }
    }
}

/// Counters for `INFO persistence`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AofStats {
    /// Completed fsyncs (foreground and background).
    pub fsyncs: u64,
    /// Background fsyncs that were due while the previous one was still
    /// running (Redis's `aof_delayed_fsync`: the disk is not keeping up).
    pub delayed_fsyncs: u64,
    /// Appends that failed.
    pub write_errors: u64,
    /// Bytes appended through this writer.
    pub bytes_written: u64,
}

/// An append-only log the server writes its commands to.
pub trait AofWriter: Send + fmt::Debug {
    /// Appends a batch of encoded records (see the module docs for the
    /// failure contract). Under [`FsyncPolicy::Always`] the batch is also
    /// fsynced before this returns; a failing fsync is [`AofError::Sync`].
    /// Under the other policies this never fsyncs (see the module docs for
    /// who does).
    fn append(&mut self, batch: &[u8]) -> Result<(), AofError>;

    /// fsyncs everything appended so far, now, on the calling thread (for
    /// shutdown and `BGREWRITEAOF` hand-over).
    fn sync(&mut self) -> Result<(), AofError>;

    /// Current size of the log in bytes (`aof_current_size`).
    fn size(&self) -> u64;

    /// Outcome of the last append.
    fn status(&self) -> &WriteStatus;

    /// The fsync policy in force.
    fn policy(&self) -> FsyncPolicy;

    /// Changes the fsync policy (`CONFIG SET appendfsync`).
    fn set_policy(&mut self, policy: FsyncPolicy);

    /// Counters for `INFO persistence`.
    fn stats(&self) -> AofStats;

    /// Under `everysec`: whether a background fsync should run now (there are
    /// unsynced bytes and the last one started at least a second before
    /// `now`). Always false under the other policies.
    fn sync_due(&self, now: Instant) -> bool;

    /// A handle that fsyncs the log from another thread without blocking
    /// appends.
    fn sync_handle(&self) -> SyncHandle;
}
