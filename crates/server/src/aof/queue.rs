//! [`WriteQueue`]: encoded records waiting to be written.
//!
//! The propagation sink runs under the dataset lock, so it only encodes the
//! batch's records into the queue's buffer (Redis's `aof_buf`) and gives the
//! batch a sequence number; whoever writes next (a connection after its
//! batch, or the fallback writer thread) takes the whole buffer at once,
//! which is what makes one `write` + `fsync` cover the batches of many
//! clients (group commit).
//!
//! The queue also tracks the database of the last record it encoded, so a
//! `SELECT` precedes exactly the records whose database differs, and, while
//! a rewrite runs, copies every batch into a [`RewriteTail`] that the rewrite
//! appends to the new file after the snapshot.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Condvar, Mutex, PoisonError};

use bytes::{Bytes, BytesMut};
use redigo_aof::{Record, encode_command};

use super::appender::lock;
use crate::propagation::PropagatedCommand;

/// Records appended while a rewrite runs, to be written after the snapshot in
/// the new file. It tracks its own selected database: the new file's
/// context at its start is unknown, so its first record always gets a
/// `SELECT`.
#[derive(Debug, Default)]
pub struct RewriteTail {
    buf: BytesMut,
    last_db: Option<usize>,
}

impl RewriteTail {
    /// An empty tail.
    pub fn new() -> RewriteTail {
        RewriteTail::default()
    }

    fn push(&mut self, record: &PropagatedCommand) {
        encode_selecting(&mut self.buf, &mut self.last_db, record);
    }

    /// Takes what was appended so far.
    pub fn take(&mut self) -> Bytes {
        self.buf.split().freeze()
    }

    /// Bytes waiting.
    pub fn len(&self) -> usize {
        self.buf.len()
    }

    /// Whether nothing waits.
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }
}

/// Encodes `record`, preceded by `SELECT` when its database is not
/// `*last_db`.
fn encode_selecting(buf: &mut BytesMut, last_db: &mut Option<usize>, record: &PropagatedCommand) {
    if record.args.is_empty() {
        return;
    }
    if *last_db != Some(record.db) {
        Record::select(u32::try_from(record.db).unwrap_or(u32::MAX)).encode(buf);
        *last_db = Some(record.db);
    }
    encode_command(buf, &record.args);
}

/// What a rewrite's switch took from the queue: see
/// [`WriteQueue::capture_for_switch`].
#[derive(Debug)]
pub struct SwitchCapture {
    /// The rest of the tail, for the new file.
    pub rest: Bytes,
    /// How many queued bytes the rest also holds (the front of the queue).
    pub covered: usize,
    /// The last sequence the rest holds.
    pub seq: u64,
}

/// A chunk taken for writing: the bytes and the last sequence they
/// cover.
#[derive(Debug)]
pub struct Chunk {
    /// The encoded records.
    pub bytes: Bytes,
    /// The sequence number of the last batch in `bytes`.
    pub end_seq: u64,
    /// The file generation the chunk was queued for (see [`WriteQueue::generation`]).
    pub generation: u64,
}

/// The buffer between the sink and the file. See the module docs.
#[derive(Debug, Default)]
pub struct WriteQueue {
    pending: BytesMut,
    /// Sequence of the last batch queued (0: none yet).
    assigned: u64,
    /// Database of the last record encoded into the live file's stream.
    last_db: Option<usize>,
    /// Incremented when a rewrite swaps the file: chunks taken for an older
    /// generation are already in the new file and must not be written again.
    generation: u64,
    /// The tail of a running rewrite.
    tail: Option<RewriteTail>,
    /// The writer thread was asked to write (see [`WriteQueue::set_writer_wanted`]).
    writer_wanted: bool,
}

impl WriteQueue {
    /// Encodes one batch of records; returns its sequence number (unchanged
    /// when the batch was empty).
    pub fn push_batch(&mut self, records: impl IntoIterator<Item = PropagatedCommand>) -> u64 {
        let before = self.pending.len();
        for record in records {
            encode_selecting(&mut self.pending, &mut self.last_db, &record);
            if let Some(tail) = self.tail.as_mut() {
                tail.push(&record);
            }
        }
        if self.pending.len() != before {
            self.assigned += 1;
        }
        self.assigned
    }

    /// Asks the writer thread to write what is queued.
    pub fn set_writer_wanted(&mut self) {
        self.writer_wanted = true;
    }

    /// Whether the writer thread was asked to write (and clears the request).
    pub fn take_writer_wanted(&mut self) -> bool {
        std::mem::take(&mut self.writer_wanted)
    }

    /// Sequence of the last batch queued.
    pub fn assigned(&self) -> u64 {
        self.assigned
    }

    /// Bytes waiting for the writer (`aof_buffer_length`).
    pub fn pending_len(&self) -> usize {
        self.pending.len()
    }

    /// The current file generation.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// Takes everything waiting, if anything.
    pub fn take(&mut self) -> Option<Chunk> {
        if self.pending.is_empty() {
            return None;
        }
        Some(Chunk {
            bytes: self.pending.split().freeze(),
            end_seq: self.assigned,
            generation: self.generation,
        })
    }

    /// Puts back the unwritten part of a chunk whose write failed, in front
    /// of what was queued since. Dropped if the file was swapped meanwhile
    /// (the new file already holds it).
    pub fn put_back(&mut self, generation: u64, unwritten: &[u8]) {
        if generation != self.generation || unwritten.is_empty() {
            return;
        }
        let mut merged = BytesMut::with_capacity(unwritten.len() + self.pending.len());
        merged.extend_from_slice(unwritten);
        merged.extend_from_slice(&self.pending);
        self.pending = merged;
    }

    /// Starts copying batches into a rewrite tail.
    pub fn start_tail(&mut self) {
        self.tail = Some(RewriteTail::new());
    }

    /// The running rewrite's tail.
    pub fn tail_mut(&mut self) -> Option<&mut RewriteTail> {
        self.tail.as_mut()
    }

    /// Stops copying into the tail and returns what it still holds.
    pub fn end_tail(&mut self) -> Option<Bytes> {
        self.tail.take().map(|mut tail| tail.take())
    }

    /// First half of a rewrite's switch (with the live file held, so
    /// nothing is taken from the queue until [`WriteQueue::switch_to`]):
    /// ends the tail and returns its rest, which the new file gets, and
    /// remembers how much of the queue that rest also covers. Later
    /// batches are queued after it, with a `SELECT` first: they go to
    /// whichever file is live when they are written, and the new file's
    /// selected database after the tail is not this stream's.
    pub fn capture_for_switch(&mut self) -> SwitchCapture {
        let rest = self.end_tail().unwrap_or_default();
        self.last_db = None;
        SwitchCapture {
            rest,
            covered: self.pending.len(),
            seq: self.assigned,
        }
    }

    /// Second half of the switch, once the rewritten file replaced the old
    /// one: the part of the queue the new file already holds is dropped,
    /// chunks of the old file still in flight are invalidated. Returns the
    /// new generation. If the switch fails before this, the queue simply
    /// stays as it is and keeps feeding the old file.
    pub fn switch_to(&mut self, capture: &SwitchCapture) -> u64 {
        let covered = capture.covered.min(self.pending.len());
        bytes::Buf::advance(&mut self.pending, covered);
        self.generation += 1;
        self.generation
    }
}

/// The write queue as the live AOF owns it: the [`WriteQueue`] behind its
/// lock (taken only for a moment, by the sink under the dataset lock and by
/// whoever writes), the fallback writer thread's wake-up, and the sequence
/// of the last batch queued, readable without the lock.
#[derive(Debug, Default)]
pub(crate) struct Queue {
    queue: Mutex<WriteQueue>,
    wake: Condvar,
    /// [`WriteQueue::assigned`], readable without the lock (see
    /// [`Aof::reply_must_wait`](super::Aof::reply_must_wait)).
    assigned: AtomicU64,
}

impl Queue {
    /// Encodes one batch; returns its sequence number.
    pub(crate) fn push_batch(&self, records: impl IntoIterator<Item = PropagatedCommand>) -> u64 {
        let mut queue = lock(&self.queue);
        let seq = queue.push_batch(records);
        self.assigned.store(seq, Ordering::Release);
        seq
    }

    /// The sequence of the last batch queued.
    pub(crate) fn assigned(&self) -> u64 {
        self.assigned.load(Ordering::Acquire)
    }

    /// Takes everything waiting, if anything.
    pub(crate) fn take(&self) -> Option<Chunk> {
        lock(&self.queue).take()
    }

    /// See [`WriteQueue::put_back`].
    pub(crate) fn put_back(&self, generation: u64, unwritten: &[u8]) {
        lock(&self.queue).put_back(generation, unwritten);
    }

    /// Bytes waiting (`aof_buffer_length`).
    pub(crate) fn pending_len(&self) -> usize {
        lock(&self.queue).pending_len()
    }

    /// Asks the writer thread to write what is queued.
    pub(crate) fn request_writer(&self) {
        lock(&self.queue).set_writer_wanted();
        self.wake.notify_one();
    }

    /// The writer thread's sleep: until asked to write, or `stopping()`.
    pub(crate) fn wait_for_writer_request(&self, stopping: impl Fn() -> bool) {
        let mut queue = lock(&self.queue);
        while !queue.take_writer_wanted() && !stopping() {
            queue = self
                .wake
                .wait(queue)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }

    /// Wakes the writer thread at shutdown (`stopping` is already set).
    pub(crate) fn wake_writer(&self) {
        // Under the queue lock, so the writer is either before its check of
        // `stopping` or waiting: the notification cannot be lost.
        let _queue = lock(&self.queue);
        self.wake.notify_all();
    }

    /// Starts copying batches into a rewrite tail.
    pub(crate) fn start_tail(&self) {
        lock(&self.queue).start_tail();
    }

    /// Takes what the rewrite tail holds if that is more than `threshold`
    /// bytes.
    pub(crate) fn take_tail_above(&self, threshold: usize) -> Option<Bytes> {
        match lock(&self.queue).tail_mut() {
            Some(tail) if tail.len() > threshold => Some(tail.take()),
            _ => None,
        }
    }

    /// Stops copying into the tail (a failed or stopped rewrite).
    pub(crate) fn end_tail(&self) {
        lock(&self.queue).end_tail();
    }

    /// See [`WriteQueue::capture_for_switch`].
    pub(crate) fn capture_for_switch(&self) -> SwitchCapture {
        lock(&self.queue).capture_for_switch()
    }

    /// See [`WriteQueue::switch_to`].
    pub(crate) fn switch_to(&self, capture: &SwitchCapture) -> u64 {
        lock(&self.queue).switch_to(capture)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmd(db: usize, args: &[&str]) -> PropagatedCommand {
        PropagatedCommand {
            db,
            args: args
                .iter()
                .map(|a| Bytes::copy_from_slice(a.as_bytes()))
                .collect(),
        }
    }

    fn decode(bytes: &[u8]) -> Vec<Vec<String>> {
        redigo_aof::Replay::new(bytes)
            .map(|e| {
                e.unwrap()
                    .args
                    .iter()
                    .map(|a| String::from_utf8_lossy(a).into_owned())
                    .collect()
            })
            .collect()
    }

    #[test]
    fn selects_only_when_the_database_changes() {
        let mut queue = WriteQueue::default();
        let seq = queue.push_batch([cmd(0, &["SET", "a", "1"]), cmd(0, &["DEL", "b"])]);
        assert_eq!(seq, 1);
        let seq = queue.push_batch([cmd(3, &["DEL", "c"])]);
        assert_eq!(seq, 2);
        assert_eq!(queue.push_batch([]), 2, "an empty batch gets no number");
        let chunk = queue.take().unwrap();
        assert_eq!(chunk.end_seq, 2);
        assert_eq!(
            decode(&chunk.bytes),
            [
                vec!["SELECT", "0"],
                vec!["SET", "a", "1"],
                vec!["DEL", "b"],
                vec!["SELECT", "3"],
                vec!["DEL", "c"]
            ]
        );
        assert!(queue.take().is_none());
    }

    #[test]
    fn a_failed_chunk_goes_back_in_front_unless_the_file_changed() {
        let mut queue = WriteQueue::default();
        queue.push_batch([cmd(0, &["DEL", "a"])]);
        let chunk = queue.take().unwrap();
        queue.push_batch([cmd(0, &["DEL", "b"])]);
        queue.put_back(chunk.generation, &chunk.bytes);
        let all = queue.take().unwrap();
        assert_eq!(
            decode(&all.bytes),
            [vec!["SELECT", "0"], vec!["DEL", "a"], vec!["DEL", "b"]]
        );

        queue.start_tail();
        queue.push_batch([cmd(0, &["DEL", "c"])]);
        let chunk = queue.take().unwrap();
        let capture = queue.capture_for_switch();
        queue.switch_to(&capture);
        queue.put_back(chunk.generation, &chunk.bytes);
        assert!(queue.take().is_none(), "the new file already has it");
        queue.push_batch([cmd(0, &["DEL", "d"])]);
        assert_eq!(
            decode(&queue.take().unwrap().bytes),
            [vec!["SELECT", "0"], vec!["DEL", "d"]],
            "the first record after a switch selects again"
        );
    }

    #[test]
    fn a_switch_drops_what_the_new_file_holds_and_keeps_later_batches() {
        let mut queue = WriteQueue::default();
        queue.push_batch([cmd(1, &["DEL", "before"])]);
        queue.start_tail();
        queue.push_batch([cmd(1, &["DEL", "in-tail"])]);
        let capture = queue.capture_for_switch();
        assert_eq!(capture.seq, 2);
        assert_eq!(
            decode(&capture.rest),
            [vec!["SELECT", "1"], vec!["DEL", "in-tail"]]
        );
        // Queued after the capture, while the new file is being finished.
        queue.push_batch([cmd(1, &["DEL", "later"])]);
        let generation = queue.switch_to(&capture);
        assert_eq!(generation, 1);
        let chunk = queue.take().unwrap();
        assert_eq!(chunk.generation, 1);
        assert_eq!(
            decode(&chunk.bytes),
            [vec!["SELECT", "1"], vec!["DEL", "later"]],
            "only the later batch is left, selecting its database"
        );
    }

    #[test]
    fn a_failed_switch_leaves_the_queue_for_the_old_file() {
        let mut queue = WriteQueue::default();
        queue.start_tail();
        queue.push_batch([cmd(0, &["DEL", "a"])]);
        let _capture = queue.capture_for_switch();
        queue.push_batch([cmd(0, &["DEL", "b"])]);
        let chunk = queue.take().unwrap();
        assert_eq!(chunk.generation, 0);
        assert_eq!(
            decode(&chunk.bytes),
            [
                vec!["SELECT", "0"],
                vec!["DEL", "a"],
                vec!["SELECT", "0"],
                vec!["DEL", "b"]
            ]
        );
    }

    #[test]
    fn the_tail_copies_batches_with_its_own_select_state() {
        let mut queue = WriteQueue::default();
        queue.push_batch([cmd(2, &["DEL", "a"])]);
        queue.start_tail();
        queue.push_batch([cmd(2, &["DEL", "b"])]);
        let tail = queue.end_tail().unwrap();
        assert_eq!(decode(&tail), [vec!["SELECT", "2"], vec!["DEL", "b"]]);
        assert_eq!(
            decode(&queue.take().unwrap().bytes),
            [vec!["SELECT", "2"], vec!["DEL", "a"], vec!["DEL", "b"]]
        );
    }
}
