//! [`FileAofWriter`]: the AOF as a file on disk.
//!
//! # Crash and failure semantics
//!
//! * Appends go straight to the file with `write(2)`, no user-space buffer:
//!   once [`append`](AofWriter::append) returns, the batch is in the page
//!   cache and survives a crash of the process. Surviving a power loss needs
//!   an fsync, which the [`FsyncPolicy`] schedules.
//! * A write that fails part-way (disk full, I/O error) is rolled back by
//!   truncating the file to its size before the batch, so the log never keeps
//!   a torn record that would make it unloadable in the middle. If even that
//!   truncation fails, the error reports how many bytes stayed so the caller
//!   retries exactly the rest (as Redis does).
//! * A crash in the middle of a write can still leave a torn last record;
//!   [`Replay`](crate::Replay) reports it as
//!   [`Truncated`](crate::ReplayError::Truncated), never as corruption.
//! * Creating the file also fsyncs its directory (on Unix), so the new entry
//!   itself survives a power loss.
//!
//! The file is reached through the small [`AofStorage`] trait so tests can
//! put a fault-injecting layer ([`FaultyStorage`](crate::FaultyStorage))
//! under the real writer and exercise the rollback path.

use std::fmt;
use std::fs::{File, OpenOptions};
use std::io::{self, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::error::{AofError, os_error_text};
use crate::policy::FsyncPolicy;
use crate::sync::{SyncHandle, SyncTarget};
use crate::writer::{AofStats, AofWriter, WriteStatus};

/// The file operations the writer needs.
pub trait AofStorage: Send + fmt::Debug {
    /// Writes some bytes at the end of the file (one `write(2)`).
    fn write(&mut self, buf: &[u8]) -> io::Result<usize>;
    /// Cuts the file to `len` bytes; the next write goes at `len`.
    fn truncate(&mut self, len: u64) -> io::Result<()>;
    /// The file's current length.
    fn file_len(&mut self) -> io::Result<u64>;
    /// Flushes written data to stable storage.
    fn sync_data(&mut self) -> io::Result<()>;
    /// A handle another thread can fsync the same file through.
    fn sync_target(&self) -> io::Result<Box<dyn SyncTarget>>;
}

impl AofStorage for File {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        Write::write(self, buf)
    }

    fn truncate(&mut self, len: u64) -> io::Result<()> {
        self.set_len(len)?;
        self.seek(SeekFrom::Start(len)).map(drop)
    }

    fn file_len(&mut self) -> io::Result<u64> {
        Ok(self.metadata()?.len())
    }

    fn sync_data(&mut self) -> io::Result<()> {
        File::sync_data(self)
    }

    fn sync_target(&self) -> io::Result<Box<dyn SyncTarget>> {
        Ok(Box::new(self.try_clone()?))
    }
}

/// An AOF in a file, appended to under an [`FsyncPolicy`].
pub struct FileAofWriter<S: AofStorage = File> {
    storage: S,
    policy: FsyncPolicy,
    size: u64,
    status: WriteStatus,
    write_errors: u64,
    bytes_written: u64,
    sync: SyncHandle,
}

impl<S: AofStorage> fmt::Debug for FileAofWriter<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FileAofWriter")
            .field("storage", &self.storage)
            .field("policy", &self.policy)
            .field("size", &self.size)
            .field("status", &self.status)
            .finish_non_exhaustive()
    }
}

impl FileAofWriter<File> {
    /// Opens `path` for appending, creating it (and fsyncing its directory)
    /// if it does not exist. Existing content is kept: replay it first.
    pub fn open(path: impl AsRef<Path>, policy: FsyncPolicy) -> Result<Self, AofError> {
        let storage = open_for_append(path.as_ref())?;
        FileAofWriter::with_storage(storage, policy).map_err(|err| match err {
            AofError::Open { source, .. } => AofError::Open {
                path: path.as_ref().to_owned(),
                source,
            },
            other => other,
        })
    }
}

/// Opens (creating if needed) `path` with the position at its end.
pub(crate) fn open_for_append(path: &Path) -> Result<File, AofError> {
    let open_err = |source| AofError::Open {
        path: path.to_owned(),
        source,
    };
    let existed = path.try_exists().map_err(open_err)?;
    // Not `append(true)`: on Windows that handle could not truncate, which the
    // rollback needs. The position is moved to the end instead.
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
        .map_err(open_err)?;
    file.seek(SeekFrom::End(0)).map_err(open_err)?;
    if !existed {
        sync_parent_dir(path).map_err(open_err)?;
    }
    Ok(file)
}

impl<S: AofStorage> FileAofWriter<S> {
    /// A writer over `storage`, appending at its end.
    pub fn with_storage(mut storage: S, policy: FsyncPolicy) -> Result<Self, AofError> {
        let open_err = |source| AofError::Open {
            path: PathBuf::from("<storage>"),
            source,
        };
        let size = storage.file_len().map_err(open_err)?;
        let sync = SyncHandle::new(storage.sync_target().map_err(open_err)?, size);
        Ok(FileAofWriter {
            storage,
            policy,
            size,
            status: WriteStatus::Ok,
            write_errors: 0,
            bytes_written: 0,
            sync,
        })
    }

    /// Writes the whole batch; on failure returns how much was written.
    fn write_batch(&mut self, batch: &[u8]) -> Result<(), (usize, io::Error)> {
        let mut written = 0;
        while written < batch.len() {
            match self.storage.write(&batch[written..]) {
                Ok(0) => {
                    return Err((
                        written,
                        io::Error::new(io::ErrorKind::WriteZero, "short write to the AOF"),
                    ));
                }
                Ok(n) => written += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err((written, e)),
            }
        }
        Ok(())
    }

    fn fail(&mut self, source: &io::Error) {
        self.status = WriteStatus::Failed(os_error_text(source));
    }
}

impl<S: AofStorage> AofWriter for FileAofWriter<S> {
    fn append(&mut self, batch: &[u8]) -> Result<(), AofError> {
        if batch.is_empty() {
            return Ok(());
        }
        let before = self.size;
        if let Err((written, source)) = self.write_batch(batch) {
            self.write_errors += 1;
            self.fail(&source);
            // Remove the torn part so the log stays loadable; keep it only
            // if the file cannot be cut back.
            let kept = if written == 0 || self.storage.truncate(before).is_ok() {
                0
            } else {
                written
            };
            self.size = before + kept as u64;
            self.bytes_written += kept as u64;
            self.sync.note_written(self.size);
            return Err(AofError::Write {
                written: kept,
                source,
            });
        }
        self.size += batch.len() as u64;
        self.bytes_written += batch.len() as u64;
        self.sync.note_written(self.size);
        if self.policy == FsyncPolicy::Always {
            if let Err(err) = self.sync.sync_now() {
                if let AofError::Sync { source } = &err {
                    self.status = WriteStatus::Failed(os_error_text(source));
                }
                return Err(err);
            }
        }
        self.status = WriteStatus::Ok;
        Ok(())
    }

    fn sync(&mut self) -> Result<(), AofError> {
        self.sync.sync_now()
    }

    fn size(&self) -> u64 {
        self.size
    }

    fn status(&self) -> &WriteStatus {
        &self.status
    }

    fn policy(&self) -> FsyncPolicy {
        self.policy
    }

    fn set_policy(&mut self, policy: FsyncPolicy) {
        self.policy = policy;
    }

    fn stats(&self) -> AofStats {
        AofStats {
            fsyncs: self.sync.fsyncs(),
            delayed_fsyncs: self.sync.delayed_fsyncs(),
            write_errors: self.write_errors,
            bytes_written: self.bytes_written,
        }
    }

    fn sync_due(&self, now: Instant) -> bool {
        self.policy == FsyncPolicy::EverySec && self.sync.is_due(now)
    }

    fn sync_handle(&self) -> SyncHandle {
        self.sync.clone()
    }
}

/// fsyncs the directory holding `path`, so a newly created or renamed entry
/// is durable.
#[cfg(unix)]
pub fn sync_parent_dir(path: &Path) -> io::Result<()> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    File::open(dir)?.sync_all()
}

/// fsyncs the directory holding `path`: a no-op on Windows, where a directory
/// cannot be opened as a file without special flags and NTFS journals
/// directory entries itself.
#[cfg(not(unix))]
pub fn sync_parent_dir(_path: &Path) -> io::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::Record;

    #[test]
    fn appends_and_reports_size() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("appendonly.aof");
        let mut writer = FileAofWriter::open(&path, FsyncPolicy::Never).unwrap();
        let batch = Record::set("k", "v").to_bytes();
        writer.append(&batch).unwrap();
        writer.append(&batch).unwrap();
        assert_eq!(writer.size(), 2 * batch.len() as u64);
        assert_eq!(std::fs::metadata(&path).unwrap().len(), writer.size());
        assert_eq!(writer.stats().fsyncs, 0);
        drop(writer);

        // Reopening appends after the existing content.
        let mut writer = FileAofWriter::open(&path, FsyncPolicy::Always).unwrap();
        assert_eq!(writer.size(), 2 * batch.len() as u64);
        writer.append(&batch).unwrap();
        assert_eq!(writer.stats().fsyncs, 1, "always fsyncs every batch");
        assert_eq!(std::fs::read(&path).unwrap().len(), 3 * batch.len());
    }

    #[test]
    fn everysec_sync_is_due_only_when_dirty_and_a_second_passed() {
        let dir = tempfile::tempdir().unwrap();
        let mut writer =
            FileAofWriter::open(dir.path().join("a.aof"), FsyncPolicy::EverySec).unwrap();
        let later = Instant::now() + EVERYSEC_INTERVAL * 2;
        assert!(!writer.sync_due(later), "nothing written yet");
        writer.append(&Record::del("k").to_bytes()).unwrap();
        assert_eq!(writer.stats().fsyncs, 0, "everysec never fsyncs in append");
        assert!(
            !writer.sync_due(Instant::now()),
            "less than a second passed"
        );
        assert!(writer.sync_due(later));
        let handle = writer.sync_handle();
        let outcome = std::thread::spawn(move || handle.sync()).join().unwrap();
        assert_eq!(outcome.unwrap(), SyncOutcome::Synced);
        assert_eq!(writer.stats().fsyncs, 1);
        assert!(!writer.sync_due(later + EVERYSEC_INTERVAL), "clean again");
        assert_eq!(writer.sync_handle().sync().unwrap(), SyncOutcome::Clean);
        writer.set_policy(FsyncPolicy::Never);
        writer.append(&Record::del("k").to_bytes()).unwrap();
        assert!(!writer.sync_due(later + EVERYSEC_INTERVAL));
    }

    use crate::policy::EVERYSEC_INTERVAL;
    use crate::sync::SyncOutcome;
}
