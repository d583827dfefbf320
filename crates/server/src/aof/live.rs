//! `Live`: the part of the live AOF that holds the file appended to, and
//! publishes how far it goes.
//!
//! The file is behind one lock, held by whoever writes (a connection, the
//! writer thread, the end-of-tick commit) or switches it (a rewrite). Every
//! holder publishes on release (`LiveGuard` does it on drop): the last
//! sequence the file holds, and a release count, so that a connection that
//! found the file busy is always woken to look again. A publication of
//! written data also goes to `Durability::publish_written`, which commits
//! it under the policies that need no fsync.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, TryLockError};

use redigo_aof::AofWriter;
use tokio::sync::watch;

use super::appender::lock;
use super::durability::Durability;

/// The file currently appended to.
#[derive(Debug)]
pub(crate) struct LiveFile {
    pub(crate) writer: Box<dyn AofWriter>,
    /// The [`WriteQueue::generation`](super::queue::WriteQueue::generation)
    /// this file belongs to.
    pub(crate) generation: u64,
}

impl LiveFile {
    /// The live file of `generation`.
    pub(crate) fn new(writer: Box<dyn AofWriter>, generation: u64) -> LiveFile {
        LiveFile { writer, generation }
    }
}

/// What the file holds, as waiting connections watch it.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Progress {
    /// The last sequence written to the file (in the page cache).
    pub(crate) written: u64,
    /// Bumped each time the file's lock is released, so a waiter that found
    /// the file busy looks again.
    releases: u64,
}

/// See the module docs.
#[derive(Debug)]
pub(crate) struct Live {
    file: Mutex<LiveFile>,
    progress: watch::Sender<Progress>,
    /// `aof_current_size`.
    current_size: AtomicU64,
    /// `aof_base_size`: the size after loading or after the last rewrite.
    base_size: AtomicU64,
}

impl Live {
    /// `writer`, as opened (its size is the base size).
    pub(crate) fn new(writer: Box<dyn AofWriter>) -> Live {
        let size = writer.size();
        let (progress, _) = watch::channel(Progress::default());
        Live {
            file: Mutex::new(LiveFile::new(writer, 0)),
            progress,
            current_size: AtomicU64::new(size),
            base_size: AtomicU64::new(size),
        }
    }

    /// Takes the file (blocking); `durability` hears what the holder wrote.
    pub(crate) fn lock<'a>(&'a self, durability: &'a Durability) -> LiveGuard<'a> {
        LiveGuard {
            file: Some(lock(&self.file)),
            live: self,
            durability,
            written: None,
        }
    }

    /// Takes the file if no one holds it.
    pub(crate) fn try_lock<'a>(&'a self, durability: &'a Durability) -> Option<LiveGuard<'a>> {
        let file = match self.file.try_lock() {
            Ok(file) => file,
            Err(TryLockError::Poisoned(poisoned)) => poisoned.into_inner(),
            Err(TryLockError::WouldBlock) => return None,
        };
        Some(LiveGuard {
            file: Some(file),
            live: self,
            durability,
            written: None,
        })
    }

    /// The last sequence the file holds (written, maybe not fsynced).
    pub(crate) fn written(&self) -> u64 {
        self.progress.borrow().written
    }

    /// A receiver of the publications (see the module docs).
    pub(crate) fn subscribe(&self) -> watch::Receiver<Progress> {
        self.progress.subscribe()
    }

    /// `aof_current_size`.
    pub(crate) fn current_size(&self) -> u64 {
        self.current_size.load(Ordering::Relaxed)
    }

    /// `aof_base_size`.
    pub(crate) fn base_size(&self) -> u64 {
        self.base_size.load(Ordering::Relaxed)
    }

    /// Records the size of the file after an append.
    pub(crate) fn note_size(&self, size: u64) {
        self.current_size.store(size, Ordering::Relaxed);
    }

    /// Records the size of a rewritten file: the new base.
    pub(crate) fn rebase(&self, size: u64) {
        self.current_size.store(size, Ordering::Relaxed);
        self.base_size.store(size, Ordering::Relaxed);
    }
}

/// The file's lock held; on drop it releases the file and then publishes
/// [`Progress`] (with what [`LiveGuard::wrote`] recorded), and tells
/// [`Durability::publish_written`].
pub(crate) struct LiveGuard<'a> {
    file: Option<MutexGuard<'a, LiveFile>>,
    live: &'a Live,
    durability: &'a Durability,
    written: Option<u64>,
}

impl LiveGuard<'_> {
    /// Records that the file now holds every batch up to `seq`; published
    /// when the guard is dropped.
    pub(crate) fn wrote(&mut self, seq: u64) {
        self.written = Some(self.written.map_or(seq, |w| w.max(seq)));
    }
}

impl std::ops::Deref for LiveGuard<'_> {
    type Target = LiveFile;
    fn deref(&self) -> &LiveFile {
        self.file.as_ref().expect("held until drop")
    }
}

impl std::ops::DerefMut for LiveGuard<'_> {
    fn deref_mut(&mut self) -> &mut LiveFile {
        self.file.as_mut().expect("held until drop")
    }
}

impl Drop for LiveGuard<'_> {
    fn drop(&mut self) {
        drop(self.file.take());
        let written = self.written;
        self.live.progress.send_modify(|progress| {
            if let Some(seq) = written {
                progress.written = progress.written.max(seq);
            }
            progress.releases = progress.releases.wrapping_add(1);
        });
        if let Some(seq) = written {
            self.durability.publish_written(seq);
        }
    }
}
