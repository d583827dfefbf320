//! Redigo's append-only file (AOF): durable logging of write commands and
//! crash-tolerant replay, compatible with Redis 7.0's single-file AOF format.
//!
//! The server appends every write command, encoded as a RESP array of bulk
//! strings ([`record`]), to an [`AofWriter`]; on start-up it rebuilds its data
//! by replaying the file with [`Replay`]. The pieces:
//!
//! * [`FsyncPolicy`]: `appendfsync always | everysec | no`.
//! * [`AofWriter`] and its file implementation [`FileAofWriter`]: batched
//!   appends, rollback of torn writes, fsync accounting, and a
//!   [`SyncHandle`] so fsyncs run off the append path (see below for who
//!   runs them under each policy).
//! * [`Replay`]: a streaming, bounded-memory reader yielding each command with
//!   its offset, telling a cut-short last record
//!   ([`ReplayError::Truncated`]) from a damaged file
//!   ([`ReplayError::Corrupt`]).
//! * [`check()`] and [`fix()`]: the library half of `redigo check-aof [--fix]`,
//!   mirroring `redis-check-aof`.
//! * [`FaultyAofWriter`]: fault injection for tests.
//!
//! # Where each fsync policy is implemented
//!
//! This crate provides the mechanisms; the policy of *when* to fsync for
//! the clients of a server is the server's. Group commit (one fsync for
//! the batches of many clients, replies held until it is done) lives in the
//! server (`redigo-server`'s `aof` module, its `durability` part), not
//! here:
//!
//! * `always`: a writer used on its own fsyncs inside every
//!   [`AofWriter::append`]. The Redigo server does not use that: it opens
//!   its writer with [`FsyncPolicy::Never`] and fsyncs through
//!   [`SyncHandle::sync`] itself, at the end of each runtime tick, on its
//!   fsync thread or inline for a lone writer, covering every batch written
//!   before the fsync began.
//! * `everysec`: this crate decides when an fsync is due
//!   ([`SyncHandle::is_due`]: unsynced bytes and [`EVERYSEC_INTERVAL`]
//!   since the last one started), counts delayed fsyncs and runs the fsync
//!   on a duplicated descriptor ([`SyncHandle::sync`]) so appends never
//!   wait; the server's fsync thread is the timer that asks and calls it.
//! * `no`: nobody fsyncs the live file; the operating system flushes it.
//!   (Rewrites fsync the files they produce, and shutdown fsyncs the last
//!   appends, under every policy.)
//!
//! Files written here load in `redis-server` 7.0 (as an old-style AOF it
//! migrates into its `appendonlydir`), pass `redis-check-aof`, and the
//! `.aof` files Redis writes with `aof-use-rdb-preamble no` replay here.
//!
//! # Example
//!
//! ```
//! use redigo_aof::{AofWriter, FileAofWriter, FsyncPolicy, Record, Replay};
//! use bytes::BytesMut;
//!
//! let dir = tempfile::tempdir()?;
//! let path = dir.path().join("appendonly.aof");
//!
//! // One batch holding two records, fsynced before `append` returns.
//! let mut writer = FileAofWriter::open(&path, FsyncPolicy::Always)?;
//! let mut batch = BytesMut::new();
//! Record::select(0).encode(&mut batch);
//! Record::set_with_deadline("session", "a\r\nb", 1_900_000_000_000).encode(&mut batch);
//! writer.append(&batch)?;
//! assert_eq!(writer.size(), batch.len() as u64);
//! assert!(writer.status().is_ok());
//!
//! // Replay yields the commands in order, with their offsets.
//! let commands: Vec<_> = Replay::open(&path)?.collect::<Result<_, _>>()?;
//! assert_eq!(commands[0].args, ["SELECT", "0"]);
//! assert_eq!(commands[1].args, ["SET", "session", "a\r\nb", "PXAT", "1900000000000"]);
//! assert_eq!(commands[1].offset, commands[0].end);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod check;
mod error;
pub mod faulty_writer;
mod file_writer;
mod policy;
pub mod record;
mod replay;
mod sync;
mod writer;

pub use check::{
    CONTINUE_PROMPT, CheckProblem, CheckReport, FixOutcome, FixPlan, START_LINE, check, fix,
    truncate_to,
};
pub use error::{AofError, ReplayError, os_error_text};
pub use faulty_writer::{FaultInjector, FaultsFired, FaultyAofWriter, FaultyStorage};
pub use file_writer::{AofStorage, FileAofWriter, sync_parent_dir};
pub use policy::{EVERYSEC_INTERVAL, FsyncPolicy, ParsePolicyError};
pub use record::{Record, encode_command, encoded_len};
pub use replay::{AofEntry, MAX_ANNOTATION_LEN, MAX_ARGS, MAX_BULK_LEN, RDB_MAGIC, Replay};
pub use sync::{SyncHandle, SyncOutcome, SyncTarget};
pub use writer::{AofStats, AofWriter, WriteStatus};
