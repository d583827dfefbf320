//! Start-up: rebuilding the dataset by replaying the AOF.
//!
//! Every command is executed through the normal dispatcher
//! ([`commands::execute`]) on behalf of a fake client, so replay applies
//! exactly the semantics of the live commands. `SELECT` is applied by the
//! loader itself (it only moves the fake client). Replies are discarded and
//! nothing is propagated (the records are already in the file).
//!
//! # Time
//!
//! While loading, no key expires (the store is marked loading, see
//! `Store::set_loading`), as Redis expires nothing while `server.loading`.
//! Each record ran while its keys were live; judged by today's clock, a key
//! whose deadline has since passed would be missing for the records after
//! it: a later `PERSIST` would be lost and a later `INCR` or `APPEND` would
//! start again from nothing. Keys whose deadline passed before the restart
//! are expired after the load by the normal paths (active expiry, lookups),
//! which propagate their `DEL`s.
//!
//! # Damaged files
//!
//! * A cut-short last record (a crash during a write) is
//!   [`ReplayError::Truncated`]. With `aof-load-truncated yes` (the
//!   default) the good prefix is loaded and the file is cut back to it, with
//!   a warning naming the bytes dropped; with `no` start-up stops.
//! * Anything else is damage in the middle: start-up stops with the offset
//!   and the advice to run `redigo check-aof --fix <file>`.
//! * Like Redis, a `MULTI` is applied only at its `EXEC`; a transaction left
//!   open at the end of the file (a crash while it was written) is dropped
//!   whole, with Redis's "Revert incomplete MULTI/EXEC transaction" warning,
//!   and the file is cut before its `MULTI` (with `aof-load-truncated yes`;
//!   start-up stops with `no`). A `MULTI` inside an open transaction (one
//!   whose `EXEC` never came, followed by more) or an `EXEC` without
//!   `MULTI` is damage in the middle: start-up stops, as `check-aof`
//!   reports "Unexpected MULTI" / "Unexpected EXEC".
//!
//! Progress (bytes and commands per second) is logged every
//! [`PROGRESS_INTERVAL`].

use std::fs::File;
use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use redigo_aof::{AofEntry, AofError, Replay, ReplayError, truncate_to};

use crate::client::ClientState;
use crate::commands::{self, Effects, ExecContext, Lookup};
use crate::dataset::{self, SharedDataset};
use crate::shared::{ServerState, unix_time_ms, unix_time_us};

/// How often loading logs its progress.
pub const PROGRESS_INTERVAL: Duration = Duration::from_secs(1);

/// Commands executed per dataset lock while loading (nothing else runs yet,
/// the lock is only re-taken to keep the code path the normal one).
const COMMANDS_PER_LOCK: usize = 4096;

/// At most this many failed commands are logged one by one.
const MAX_LOGGED_COMMAND_ERRORS: u64 = 10;

/// What loading did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LoadReport {
    /// Commands applied (`SELECT` included).
    pub commands: u64,
    /// Bytes of the file that were loaded (after any truncation).
    pub loaded_bytes: u64,
    /// Bytes dropped from a cut-short end (0 when the file was complete).
    pub truncated_bytes: u64,
    /// Commands that replied with an error (logged, not fatal, as in Redis).
    pub command_errors: u64,
}

/// Why the AOF could not be loaded: start-up stops.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The file ends inside a record and `aof-load-truncated` is `no`.
    #[error(
        "Unexpected end of file reading the append only file {}: the last {ignored_bytes} bytes (from offset {valid_len}) are an incomplete command. You can: 1) make a backup of the file, then run `redigo check-aof --fix {}`; 2) or set aof-load-truncated yes and restart the server",
        path.display(), path.display()
    )]
    Truncated {
        /// The AOF.
        path: PathBuf,
        /// Where the complete records end.
        valid_len: u64,
        /// Bytes after them.
        ignored_bytes: u64,
    },
    /// The file is damaged before its end.
    #[error(
        "Bad file format reading the append only file {} at offset {offset}: {detail}. Make a backup of the file, then run `redigo check-aof --fix {}`",
        path.display(), path.display()
    )]
    Corrupt {
        /// The AOF.
        path: PathBuf,
        /// Offset of the first bad byte.
        offset: u64,
        /// What is wrong there.
        detail: String,
    },
    /// A record names a command this server does not know.
    #[error(
        "Unknown command '{name}' reading the append only file {} at offset {offset}",
        path.display()
    )]
    UnknownCommand {
        /// The AOF.
        path: PathBuf,
        /// Offset of the record.
        offset: u64,
        /// The command as written.
        name: String,
    },
    /// A `SELECT` names a database this server does not have.
    #[error(
        "Bad SELECT '{db}' reading the append only file {} at offset {offset}: the server has {databases} databases",
        path.display()
    )]
    BadDatabase {
        /// The AOF.
        path: PathBuf,
        /// Offset of the record.
        offset: u64,
        /// The argument as written.
        db: String,
        /// The configured number of databases.
        databases: usize,
    },
    /// The file could not be read or cut.
    #[error("can't load the append only file {}: {source}", path.display())]
    Io {
        /// The AOF.
        path: PathBuf,
        /// The underlying error.
        source: io::Error,
    },
    /// Cutting the truncated tail failed.
    #[error(transparent)]
    Truncate(#[from] AofError),
}

/// Loads the AOF at `path` into `dataset`. A missing file is an empty one.
pub fn load(
    path: &Path,
    server: &ServerState,
    dataset: &SharedDataset,
    load_truncated: bool,
) -> Result<LoadReport, LoadError> {
    let io_err = |source| LoadError::Io {
        path: path.to_owned(),
        source,
    };
    let file = match File::open(path) {
        Ok(file) => file,
        Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(LoadReport::default()),
        Err(err) => return Err(io_err(err)),
    };
    let total = file.metadata().map_err(io_err)?.len();
    if total == 0 {
        return Ok(LoadReport::default());
    }
    tracing::info!(
        "Reading the append only file {} ({total} bytes)",
        path.display()
    );
    let started = Instant::now();
    let _loading = LoadingGuard::start(dataset);
    let mut loader = Loader::new(path, server, dataset, total);
    let mut replay =
        Replay::new(io::BufReader::new(file)).with_max_bulk_len(server.config().proto_max_bulk_len);
    let mut batch: Vec<AofEntry> = Vec::with_capacity(COMMANDS_PER_LOCK);
    let outcome = loop {
        match replay.next() {
            Some(Ok(entry)) => {
                batch.push(entry);
                if batch.len() == COMMANDS_PER_LOCK {
                    loader.apply(&mut batch)?;
                    loader.progress(replay.bytes_consumed());
                }
            }
            Some(Err(err)) => break Some(err),
            None => break None,
        }
    };
    loader.apply(&mut batch)?;
    let mut report = LoadReport {
        commands: loader.commands,
        loaded_bytes: total,
        truncated_bytes: 0,
        command_errors: loader.command_errors,
    };
    // A transaction still open at the end never reached its EXEC.
    let open_multi = loader.multi.take().map(|(offset, _)| offset);
    let cut = match outcome {
        None => open_multi.map(|offset| (offset, total - offset)),
        Some(ReplayError::Truncated {
            valid_len,
            ignored_bytes,
        }) => {
            if !load_truncated {
                return Err(LoadError::Truncated {
                    path: path.to_owned(),
                    valid_len,
                    ignored_bytes,
                });
            }
            let at = open_multi.unwrap_or(valid_len).min(valid_len);
            Some((at, total - at))
        }
        Some(ReplayError::Corrupt {
            offset,
            expected,
            found,
            ..
        }) => {
            return Err(LoadError::Corrupt {
                path: path.to_owned(),
                offset,
                detail: format!("expected {expected}, found {found}"),
            });
        }
        Some(ReplayError::RdbPreamble) => {
            return Err(LoadError::Corrupt {
                path: path.to_owned(),
                offset: 0,
                detail: ReplayError::RdbPreamble.to_string(),
            });
        }
        Some(ReplayError::Io { source, .. }) => return Err(io_err(source)),
    };
    if let Some((at, dropped)) = cut {
        if open_multi.is_some() && load_truncated {
            tracing::warn!(
                "Revert incomplete MULTI/EXEC transaction in AOF file {}",
                path.display()
            );
        } else if open_multi.is_some() {
            return Err(LoadError::Truncated {
                path: path.to_owned(),
                valid_len: at,
                ignored_bytes: dropped,
            });
        }
        tracing::warn!(
            "!!! Warning: short read while loading the AOF file {}!!!",
            path.display()
        );
        tracing::warn!(
            "!!! Truncating the AOF {} at offset {at}, dropping the last {dropped} bytes !!!",
            path.display()
        );
        truncate_to(path, at)?;
        tracing::warn!(
            "AOF {} loaded anyway because aof-load-truncated is enabled",
            path.display()
        );
        report.loaded_bytes = at;
        report.truncated_bytes = dropped;
    }
    tracing::info!(
        "DB loaded from append only file: {:.3} seconds ({} commands, {} bytes)",
        started.elapsed().as_secs_f64(),
        report.commands,
        report.loaded_bytes
    );
    Ok(report)
}

/// A record queued inside `MULTI`: its offset and its arguments.
type QueuedRecord = (u64, Vec<Bytes>);

/// Marks the store as loading for as long as it lives, on every way out of
/// [`load`].
struct LoadingGuard<'a>(&'a SharedDataset);

impl<'a> LoadingGuard<'a> {
    fn start(dataset: &'a SharedDataset) -> LoadingGuard<'a> {
        dataset::lock(dataset).store.set_loading(true);
        LoadingGuard(dataset)
    }
}

impl Drop for LoadingGuard<'_> {
    fn drop(&mut self) {
        dataset::lock(self.0).store.set_loading(false);
    }
}

/// Applies replayed commands to the dataset.
struct Loader<'a> {
    path: &'a Path,
    server: &'a ServerState,
    dataset: &'a SharedDataset,
    client: ClientState,
    out: BytesMut,
    /// An open transaction: the `MULTI`'s offset and the queued commands,
    /// each with its offset.
    multi: Option<(u64, Vec<QueuedRecord>)>,
    commands: u64,
    command_errors: u64,
    total: u64,
    started: Instant,
    last_report: Instant,
}

impl<'a> Loader<'a> {
    fn new(
        path: &'a Path,
        server: &'a ServerState,
        dataset: &'a SharedDataset,
        total: u64,
    ) -> Self {
        let nowhere = SocketAddr::from((Ipv4Addr::UNSPECIFIED, 0));
        Loader {
            path,
            server,
            dataset,
            client: ClientState::new(0, nowhere, nowhere, -1, true),
            out: BytesMut::new(),
            multi: None,
            commands: 0,
            command_errors: 0,
            total,
            started: Instant::now(),
            last_report: Instant::now(),
        }
    }

    fn progress(&mut self, consumed: u64) {
        if self.last_report.elapsed() < PROGRESS_INTERVAL {
            return;
        }
        self.last_report = Instant::now();
        let secs = self.started.elapsed().as_secs_f64().max(f64::EPSILON);
        tracing::info!(
            "Loading the AOF: {consumed} of {} bytes ({:.1}%), {} commands, {:.1} MB/s, {:.0} commands/s",
            self.total,
            consumed as f64 * 100.0 / self.total.max(1) as f64,
            self.commands,
            consumed as f64 / secs / 1e6,
            self.commands as f64 / secs
        );
    }

    fn apply(&mut self, batch: &mut Vec<AofEntry>) -> Result<(), LoadError> {
        if batch.is_empty() {
            return Ok(());
        }
        let mut guard = dataset::lock(self.dataset);
        let data = &mut *guard;
        for entry in batch.drain(..) {
            let name = entry.name();
            if name.eq_ignore_ascii_case(b"MULTI") {
                if self.multi.is_some() {
                    // A transaction that never reached its EXEC, followed
                    // by more: damage in the middle, which neither half-
                    // applying nor dropping it silently would repair.
                    return Err(self.unexpected(entry.offset, "MULTI"));
                }
                self.multi = Some((entry.offset, Vec::new()));
            } else if name.eq_ignore_ascii_case(b"EXEC") {
                let Some((_, queued)) = self.multi.take() else {
                    return Err(self.unexpected(entry.offset, "EXEC"));
                };
                for (offset, args) in queued {
                    self.apply_one(data, &args, offset)?;
                }
            } else if let Some((_, queued)) = self.multi.as_mut() {
                // SELECT is queued too: inside a transaction it takes
                // effect in order, at EXEC, as Redis's fake client runs it.
                queued.push((entry.offset, entry.args));
            } else {
                self.apply_one(data, &entry.args, entry.offset)?;
            }
            self.commands += 1;
        }
        data.dispose_garbage();
        Ok(())
    }

    /// A `MULTI` inside a transaction or an `EXEC` outside one: the file is
    /// corrupt, as `redigo check-aof` (and `redis-check-aof`) report it.
    fn unexpected(&self, offset: u64, what: &str) -> LoadError {
        LoadError::Corrupt {
            path: self.path.to_owned(),
            offset,
            detail: format!("Unexpected {what}"),
        }
    }

    /// Applies one record: `SELECT` moves the fake client, anything else
    /// runs through the dispatcher.
    fn apply_one(
        &mut self,
        data: &mut dataset::Dataset,
        args: &[Bytes],
        offset: u64,
    ) -> Result<(), LoadError> {
        if args
            .first()
            .is_some_and(|name| name.eq_ignore_ascii_case(b"SELECT"))
        {
            self.select(args, offset, data.store.databases())
        } else {
            self.execute(data, args, offset)
        }
    }

    fn select(&mut self, args: &[Bytes], offset: u64, databases: usize) -> Result<(), LoadError> {
        let arg = args.get(1).map(|a| &a[..]).unwrap_or_default();
        let db = std::str::from_utf8(arg)
            .ok()
            .and_then(|s| s.parse::<usize>().ok())
            .filter(|&db| db < databases);
        match db {
            Some(db) => {
                self.client.db = db;
                Ok(())
            }
            None => Err(LoadError::BadDatabase {
                path: self.path.to_owned(),
                offset,
                db: String::from_utf8_lossy(arg).into_owned(),
                databases,
            }),
        }
    }

    fn execute(
        &mut self,
        data: &mut dataset::Dataset,
        args: &[Bytes],
        offset: u64,
    ) -> Result<(), LoadError> {
        if let Lookup::UnknownCommand = self.server.commands.lookup(args) {
            return Err(LoadError::UnknownCommand {
                path: self.path.to_owned(),
                offset,
                name: String::from_utf8_lossy(args.first().map_or(&[][..], |a| &a[..]))
                    .into_owned(),
            });
        }
        let mut effects = Effects::default();
        self.out.clear();
        let mut ctx = ExecContext {
            store: &mut data.store,
            propagation: &mut data.propagation,
            client: &mut self.client,
            server: self.server,
            now_ms: unix_time_ms(),
            call_clock_us: unix_time_us(),
            out: &mut self.out,
            effects: &mut effects,
            blocking: &mut data.blocking,
            // Redis's AOF client may not block either.
            deny_blocking: true,
        };
        commands::execute(&mut ctx, args);
        // The records are already in the file. The store is loading, so it
        // expires nothing (see `Store::set_loading`).
        data.propagation.drain();
        if self.out.first() == Some(&b'-') {
            self.command_errors += 1;
            if self.command_errors <= MAX_LOGGED_COMMAND_ERRORS {
                tracing::warn!(
                    "command at offset {offset} of the AOF failed while loading: {}",
                    String::from_utf8_lossy(self.out.trim_ascii_end())
                );
            }
        }
        Ok(())
    }
}
