//! Errors of the AOF crate.
//!
//! Two families, because they are acted on differently:
//!
//! * [`ReplayError`]: reading an AOF back. [`ReplayError::Truncated`] is the
//!   benign crash case (the last record was cut short; Redis loads the prefix
//!   when `aof-load-truncated yes`), every other variant stops the load.
//! * [`AofError`]: opening, appending to, fsyncing or fixing a file. Each
//!   variant carries the path or the byte counts needed to decide what to do
//!   next (retry the unwritten tail, refuse writes, exit).

use std::io;
use std::path::PathBuf;

/// Why replaying an AOF stopped before its end.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    /// The input ended in the middle of a record, as after a crash during a
    /// write. Everything before `valid_len` was yielded; the `ignored_bytes`
    /// after it form an incomplete record.
    #[error(
        "unexpected end of file: the last {ignored_bytes} bytes of the AOF (from offset {valid_len}) are an incomplete record"
    )]
    Truncated {
        /// Where the good prefix ends (the start of the incomplete record).
        valid_len: u64,
        /// How many bytes follow the good prefix.
        ignored_bytes: u64,
    },
    /// A byte that no valid AOF can contain at that place, before the end of
    /// the input: the file is damaged, not merely cut short.
    #[error(
        "bad AOF format at offset {offset} (in the record starting at offset {record_start}): expected {expected}, found {found}"
    )]
    Corrupt {
        /// Offset of the offending byte.
        offset: u64,
        /// Offset of the record containing it: where the good prefix ends.
        record_start: u64,
        /// What the format requires there (e.g. `'*'`, `CRLF`).
        expected: String,
        /// What the file has instead.
        found: String,
    },
    /// The file starts with an RDB preamble (`REDIS...`), written by Redis when
    /// `aof-use-rdb-preamble yes`. Redigo only reads pure-RESP AOFs.
    #[error(
        "the AOF starts with an RDB preamble (\"REDIS\"), which Redigo cannot load: rewrite it with aof-use-rdb-preamble no"
    )]
    RdbPreamble,
    /// Reading failed.
    #[error("I/O error reading the AOF at offset {offset}: {source}")]
    Io {
        /// How many bytes had been consumed when the read failed.
        offset: u64,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
}

impl ReplayError {
    /// Whether this is the benign "last record cut short" case.
    pub fn is_truncated(&self) -> bool {
        matches!(self, ReplayError::Truncated { .. })
    }
}

/// Errors opening, appending to, syncing or fixing an AOF.
#[derive(Debug, thiserror::Error)]
pub enum AofError {
    /// The file (or its directory) could not be opened, created or inspected.
    #[error("can't open the append only file {}: {source}", path.display())]
    Open {
        /// The file concerned.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// An append failed. `written` bytes of the batch remain in the file: 0
    /// when the writer rolled the torn write back (the normal case), more when
    /// even the rollback failed. The caller retries `batch[written..]`.
    #[error("Error writing to the AOF file: {}", os_error_text(source))]
    Write {
        /// How many bytes of the batch are in the file after the failure.
        written: usize,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// fsync failed: the data is written but may not be durable. Under
    /// `appendfsync always` Redis treats this as fatal and exits.
    #[error("Can't persist AOF for fsync error: {}", os_error_text(source))]
    Sync {
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// Cutting the file to its good prefix failed.
    #[error("Failed to truncate AOF {} to {len} bytes: {}", path.display(), os_error_text(source))]
    Truncate {
        /// The file concerned.
        path: PathBuf,
        /// The length it should have been cut to.
        len: u64,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// The AOF could not be read back (check and fix).
    #[error("{}: {source}", path.display())]
    Replay {
        /// The file concerned.
        path: PathBuf,
        /// What went wrong.
        #[source]
        source: ReplayError,
    },
    /// `fix` cannot repair this file by truncating it.
    #[error("can't fix the append only file {}: {reason}", path.display())]
    Unfixable {
        /// The file concerned.
        path: PathBuf,
        /// Why truncation would not help.
        reason: String,
    },
}

/// The operating system's message for `err` without Rust's ` (os error N)`
/// suffix: Redis reports plain `strerror` text (e.g. in
/// `-MISCONF Errors writing to the AOF file: No space left on device`).
pub fn os_error_text(err: &io::Error) -> String {
    let text = err.to_string();
    match text.rfind(" (os error ") {
        Some(cut) if text.ends_with(')') => text[..cut].to_owned(),
        _ => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn os_error_text_strips_the_rust_suffix() {
        let custom = io::Error::new(io::ErrorKind::StorageFull, "No space left on device");
        assert_eq!(os_error_text(&custom), "No space left on device");
        #[cfg(target_os = "linux")]
        {
            let raw = io::Error::from_raw_os_error(28);
            assert_eq!(os_error_text(&raw), "No space left on device");
        }
    }

    #[test]
    fn write_error_text_matches_the_redis_log_line() {
        let err = AofError::Write {
            written: 0,
            source: io::Error::new(io::ErrorKind::StorageFull, "No space left on device"),
        };
        assert_eq!(
            err.to_string(),
            "Error writing to the AOF file: No space left on device"
        );
    }
}
