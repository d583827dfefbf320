//! The list kind: a sequence of elements, packed in chunks as Redis's
//! quicklist of listpacks.
//!
//! # Encodings
//!
//! Every element is stored as `[varint length][bytes][reversed varint
//! length]`: the length in front lets a walk go forwards, the same length
//! written backwards after the bytes (its LEB128 bytes in reverse order, the
//! low seven bits last) lets it go backwards from the end, as a listpack's
//! `backlen` does. A short element costs its bytes plus two.
//!
//! * **Packed** (small lists): the elements back to back are the value bytes
//!   of the entry's block, inline: one allocation for the key and the whole
//!   list. A list stays packed while it fits [`INLINE_MAX_BYTES`] and one
//!   chunk of the configured size; every write rebuilds the block (at most a
//!   kilobyte copied).
//! * **Big** ([`BigList`]): a deque of chunks, each behind an `Arc`, each a
//!   run of packed elements of at most `list-max-listpack-size` (default
//!   -2: 8 KiB; a positive value caps the element count, with Redis's 8 KiB
//!   safety limit on bytes). Pushes and pops touch the end chunk only
//!   (O(1) amortised: a push into a full chunk starts a new one, a pop that
//!   empties one drops it); `LINDEX`/`LSET` walk chunk counts from the
//!   nearer end and then one chunk; an insert that overflows a chunk splits
//!   it in two; removals merge neighbours that fit together again.
//!
//! `OBJECT ENCODING` answers `quicklist` for every list, packed or not,
//! because Redis 7.0 does (its `listpack` list encoding came in 7.2). A big
//! list that shrinks to half the inline limit becomes packed again (memory
//! only: nothing observable changes).
//!
//! # Snapshots and copies
//!
//! [`BigList::freeze`] clones the chunk handles (O(chunks): about one per
//! 8 KiB of elements) into a [`FrozenList`]; a later write to a chunk still
//! shared copies that chunk alone (`Arc::make_mut`, at most one chunk's
//! bytes). `COPY` shares chunks the same way.
//!
//! # Compression (`list-compress-depth`)
//!
//! As Redis's quicklist: with depth `d` > 0, the `d` chunks at each end
//! stay raw and every chunk further in is LZF-compressed ([`crate::lzf`])
//! when it is written or passes the boundary, if its run is at least
//! [`MIN_COMPRESS_BYTES`] and compression saves at least
//! [`MIN_COMPRESS_IMPROVE`] bytes (otherwise it is marked and not tried
//! again until it changes: Redis retries on every push). A write to a
//! compressed chunk decompresses it, changes it and compresses it again
//! ([`BigList::settle`]); a read (`LINDEX`, `LRANGE`, `LPOS`, a snapshot)
//! decompresses a copy and leaves the chunk as it is, so a chunk shared
//! with a frozen view is never changed in place: compressing or
//! decompressing swaps in a new `Arc` and the view keeps the old one.
//! Pushes and pops only touch the raw end chunks, plus one chunk
//! compressed or decompressed when a chunk is added or emptied.
//!
//! The depth is taken from the configuration when the list is created
//! (when a packed list first becomes big here; at its first push in Redis
//! 7.0, whose lists are always quicklists), as Redis's
//! `quicklistSetOptions` at creation: `CONFIG SET list-compress-depth`
//! changes lists created after it, not existing ones. Nothing of this is
//! visible to clients: `OBJECT ENCODING` stays `quicklist` (Redis's
//! `DEBUG OBJECT` reports `ql_compressed`; Redigo has no `DEBUG OBJECT`).

use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::VecDeque;
use std::sync::Arc;

use bytes::Bytes;

use super::{Big, rewrite_elements};
use crate::entry::Payload;
use crate::lzf;
use crate::varint::{push_varint, read_varint, varint_len};

/// `TYPE` name.
pub(crate) const TYPE_NAME: &str = "list";

/// `OBJECT ENCODING` of every list in Redis 7.0.
const QUICKLIST: &str = "quicklist";

/// Largest packed (inline) list, in bytes of encoded elements. Above it a
/// list lives out of line in chunks, so that a write never copies more than
/// this much of a small list's block.
pub const INLINE_MAX_BYTES: usize = 1024;

/// Redis's `SIZE_SAFETY_LIMIT`: a chunk limited by count (a positive
/// `list-max-listpack-size`) still holds at most this many bytes.
const SIZE_SAFETY_LIMIT: usize = 8192;

/// Chunk byte limits of `list-max-listpack-size` -1 to -5 (Redis's
/// `optimization_level`); a value below -5 counts as -5.
const FILL_BYTES: [usize; 5] = [4096, 8192, 16384, 32768, 65536];

/// `list-max-listpack-size` default (8 KiB chunks).
pub const DEFAULT_LIST_MAX_LISTPACK_SIZE: i64 = -2;

/// Whether a chunk may hold `count` elements in `bytes` encoded bytes under
/// `list-max-listpack-size` = `fill` (Redis's `_quicklistNodeAllowInsert`).
/// A lone element is always allowed, however large.
pub(crate) fn chunk_fits(fill: i64, count: usize, bytes: usize) -> bool {
    if count <= 1 {
        return true;
    }
    if fill < 0 {
        let level = usize::try_from(fill.unsigned_abs().min(5)).unwrap_or(5) - 1;
        bytes <= FILL_BYTES[level]
    } else {
        bytes <= SIZE_SAFETY_LIMIT && count as u64 <= fill.max(1) as u64
    }
}

/// Whether a list of `count` elements in `bytes` stays packed inline.
fn inline_fits(fill: i64, count: usize, bytes: usize) -> bool {
    bytes <= INLINE_MAX_BYTES && chunk_fits(fill, count, bytes)
}

/// Encoded size of an element of `len` bytes.
pub(crate) fn encoded_len(len: usize) -> usize {
    2 * varint_len(len) + len
}

/// Appends one encoded element.
fn push_element(out: &mut Vec<u8>, element: &[u8]) {
    push_varint(out, element.len());
    out.extend_from_slice(element);
    let start = out.len();
    push_varint(out, element.len());
    out[start..].reverse();
}

/// Writes one encoded element into `out`, exactly
/// [`encoded_len`]`(element.len())` bytes long.
fn write_element(out: &mut [u8], element: &[u8]) {
    let mut len = element.len();
    let width = varint_len(len);
    for i in 0..width {
        let byte = (len as u8 & 0x7f) | if i + 1 < width { 0x80 } else { 0 };
        out[i] = byte;
        // The same bytes in reverse order after the element.
        out[width + element.len() + width - 1 - i] = byte;
        len >>= 7;
    }
    out[width..width + element.len()].copy_from_slice(element);
}

/// The element starting at `offset`, and the offset after it.
fn element_at(data: &[u8], offset: usize) -> (&[u8], usize) {
    let mut at = offset;
    let len = read_varint(data, &mut at);
    let end = at + len;
    (&data[at..end], end + varint_len(len))
}

/// The element ending at `end`, and the offset it starts at.
fn element_before(data: &[u8], end: usize) -> (&[u8], usize) {
    let mut at = end;
    let mut len = 0usize;
    let mut shift = 0;
    loop {
        at -= 1;
        let b = data[at];
        len |= usize::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            break;
        }
        shift += 7;
    }
    let start = at - len;
    (&data[start..at], start - varint_len(len))
}

/// Counts the elements of a run.
fn count_elements(data: &[u8]) -> usize {
    let mut at = 0;
    let mut count = 0;
    while at < data.len() {
        at = element_at(data, at).1;
        count += 1;
    }
    count
}

/// Redis's `MIN_COMPRESS_BYTES`: a chunk whose run is shorter is never
/// compressed.
pub(crate) const MIN_COMPRESS_BYTES: usize = 48;

/// Redis's `MIN_COMPRESS_IMPROVE`: a chunk stays raw unless compression
/// saves at least this many bytes.
pub(crate) const MIN_COMPRESS_IMPROVE: usize = 8;

/// One chunk: a run of encoded elements, raw or LZF-compressed.
#[derive(Debug, Clone, Default)]
pub(crate) struct ListChunk {
    /// Raw: the run is `buf[head..]`; the bytes before `head` are room
    /// left by pops at the front and used by pushes there, so neither
    /// moves the rest of the run. Compressed: the run's LZF form (`head`
    /// is 0).
    buf: Vec<u8>,
    head: usize,
    count: usize,
    /// The run's length, when `buf` holds it compressed.
    lzf_len: Option<usize>,
    /// Compression was tried on this raw run and did not pay: not tried
    /// again until the chunk changes.
    incompressible: bool,
}

impl ListChunk {
    fn from_run(data: Vec<u8>) -> ListChunk {
        let count = count_elements(&data);
        ListChunk {
            buf: data,
            count,
            ..ListChunk::default()
        }
    }

    fn heap_bytes(&self) -> usize {
        self.buf.capacity()
    }

    fn is_compressed(&self) -> bool {
        self.lzf_len.is_some()
    }

    /// The raw run (the chunk must not be compressed).
    fn run(&self) -> &[u8] {
        debug_assert!(!self.is_compressed(), "a compressed chunk read raw");
        &self.buf[self.head..]
    }

    /// Length of the run, compressed or not.
    fn run_len(&self) -> usize {
        self.lzf_len.unwrap_or(self.buf.len() - self.head)
    }

    /// The run, decompressed when it is compressed (Redis's
    /// `quicklistDecompressNodeForUse`, without touching the chunk, which
    /// may be shared with a frozen view).
    fn raw(&self) -> Cow<'_, [u8]> {
        match self.lzf_len {
            None => Cow::Borrowed(self.run()),
            Some(len) => {
                let mut out = Vec::with_capacity(len);
                lzf::decompress(&self.buf, &mut out, len)
                    .expect("a list chunk compressed here decompresses");
                Cow::Owned(out)
            }
        }
    }

    /// The raw form of a compressed chunk (an exact-size buffer).
    fn decompressed(&self) -> ListChunk {
        ListChunk {
            buf: self.raw().into_owned(),
            count: self.count,
            ..ListChunk::default()
        }
    }

    /// The compressed form of a raw chunk, if it is big enough and
    /// compression saves at least [`MIN_COMPRESS_IMPROVE`] bytes (Redis's
    /// `__quicklistCompressNode`).
    fn compressed(&self) -> Option<ListChunk> {
        let run = self.run();
        if run.len() < MIN_COMPRESS_BYTES {
            return None;
        }
        COMPRESS_SCRATCH.with(|scratch| {
            let mut scratch = scratch.borrow_mut();
            let size = lzf::compress(run, &mut scratch, run.len())?;
            (size + MIN_COMPRESS_IMPROVE < run.len()).then(|| ListChunk {
                buf: scratch.as_slice().to_vec(),
                head: 0,
                count: self.count,
                lzf_len: Some(run.len()),
                incompressible: false,
            })
        })
    }

    /// Makes room for `needed` more bytes at the back, growing by at least
    /// half the run (amortised) without passing `cap` unless the element
    /// needs it.
    fn reserve(&mut self, needed: usize, cap: usize) {
        if self.buf.len() + needed > self.buf.capacity() {
            let len = self.run_len();
            let grow = needed.max((len / 2).min(cap.saturating_sub(len)));
            self.buf.reserve_exact(grow);
        }
    }

    fn push_back(&mut self, element: &[u8], cap: usize) {
        self.reserve(encoded_len(element.len()), cap);
        push_element(&mut self.buf, element);
        self.count += 1;
    }

    fn push_front(&mut self, element: &[u8], cap: usize) {
        let size = encoded_len(element.len());
        if self.head < size {
            // Move the run back, leaving room in front for this element
            // and about half the run more (amortised O(1) per push).
            let len = self.run_len();
            let room = size + (len / 2).min(cap.saturating_sub(len + size));
            let mut buf = Vec::with_capacity(room + len);
            buf.resize(room, 0);
            buf.extend_from_slice(self.run());
            self.buf = buf;
            self.head = room;
        }
        let start = self.head - size;
        write_element(&mut self.buf[start..self.head], element);
        self.head = start;
        self.count += 1;
    }

    fn pop_front(&mut self) -> Bytes {
        let (element, end) = element_at(self.run(), 0);
        let element = Bytes::copy_from_slice(element);
        self.head += end;
        self.count -= 1;
        self.shrink();
        element
    }

    fn pop_back(&mut self) -> Bytes {
        let (element, start) = element_before(self.run(), self.run_len());
        let element = Bytes::copy_from_slice(element);
        self.buf.truncate(self.head + start);
        self.count -= 1;
        self.shrink();
        element
    }

    /// Gives memory back once most of the buffer is unused.
    fn shrink(&mut self) {
        if self.count == 0 {
            self.buf = Vec::new();
            self.head = 0;
        } else if self.buf.capacity() > 64 && self.run_len() < self.buf.capacity() / 4 {
            let mut buf = Vec::with_capacity(self.run_len() * 2);
            buf.extend_from_slice(self.run());
            self.buf = buf;
            self.head = 0;
        }
    }

    /// Replaces bytes `range` of the run (offsets into the run).
    fn splice_run(&mut self, range: std::ops::Range<usize>, bytes: Vec<u8>) {
        let at = self.head;
        self.buf.splice(at + range.start..at + range.end, bytes);
    }

    /// Offsets (start, end) of element `index` (`index < count`) in the
    /// run, walking from the nearer end.
    fn locate(&self, index: usize) -> (usize, usize) {
        let run = self.run();
        if index < self.count / 2 {
            let mut at = 0;
            for _ in 0..index {
                at = element_at(run, at).1;
            }
            (at, element_at(run, at).1)
        } else {
            let mut end = run.len();
            for _ in 0..self.count - 1 - index {
                end = element_before(run, end).1;
            }
            (element_before(run, end).1, end)
        }
    }

    fn iter(&self) -> ChunkIter<'_> {
        run_iter(self.run())
    }
}

thread_local! {
    /// Where chunks are compressed before the result is copied out at its
    /// exact size.
    static COMPRESS_SCRATCH: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// The elements of a run, from either end.
pub(crate) struct ChunkIter<'a> {
    data: &'a [u8],
    front: usize,
    back: usize,
}

impl<'a> Iterator for ChunkIter<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        if self.front >= self.back {
            return None;
        }
        let (element, next) = element_at(self.data, self.front);
        self.front = next;
        Some(element)
    }
}

impl DoubleEndedIterator for ChunkIter<'_> {
    fn next_back(&mut self) -> Option<Self::Item> {
        if self.front >= self.back {
            return None;
        }
        let (element, start) = element_before(self.data, self.back);
        self.back = start;
        Some(element)
    }
}

/// Which end of a list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    /// The head (`LEFT`, index 0).
    Left,
    /// The tail (`RIGHT`, index -1).
    Right,
}

/// The big encoding: a deque of copy-on-write chunks. See the module docs.
#[derive(Debug, Clone, Default)]
pub(crate) struct BigList {
    chunks: VecDeque<Arc<ListChunk>>,
    len: usize,
    /// Heap bytes of all chunks, kept up to date so accounting is O(1).
    bytes: usize,
    /// `list-compress-depth` of this list: chunks more than this many
    /// from either end are compressed (0: none). Fixed when the list is
    /// created, as Redis's `quicklistSetOptions` at list creation.
    depth: usize,
}

/// The chunk byte cap under `fill` (how far a chunk's buffer may grow
/// ahead of its elements).
fn chunk_cap(fill: i64) -> usize {
    if fill < 0 {
        let level = usize::try_from(fill.unsigned_abs().min(5)).unwrap_or(5) - 1;
        FILL_BYTES[level]
    } else {
        SIZE_SAFETY_LIMIT
    }
}

/// Chunks removed from a list by `LTRIM` (or a counted pop), to be freed
/// by the caller, in the background when there are many elements.
#[derive(Debug, Default)]
pub(crate) struct DroppedChunks {
    pub(crate) chunks: Vec<Arc<ListChunk>>,
    /// Elements in them.
    pub(crate) elements: usize,
}

impl BigList {
    pub(crate) fn new(depth: usize) -> BigList {
        BigList {
            depth,
            ..BigList::default()
        }
    }

    /// A list of one chunk holding the run `data` (a packed list).
    pub(crate) fn from_run(data: &[u8], depth: usize) -> BigList {
        let mut list = BigList::new(depth);
        if !data.is_empty() {
            let chunk = ListChunk::from_run(data.to_vec());
            list.len = chunk.count;
            list.bytes = chunk.heap_bytes();
            list.chunks.push_back(Arc::new(chunk));
        }
        list
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Estimated heap bytes: chunk buffers, chunk headers, the deque.
    pub(crate) fn memory_bytes(&self) -> usize {
        self.bytes
            + self.chunks.len() * (std::mem::size_of::<ListChunk>() + 16)
            + self.chunks.capacity() * std::mem::size_of::<Arc<ListChunk>>()
    }

    /// Whether the list may be small enough to be packed again (see
    /// [`placement`]).
    pub(crate) fn may_pack(&self) -> bool {
        self.chunks.len() <= 1
            && self.chunks.front().map_or(0, |c| c.run_len()) * 2 <= INLINE_MAX_BYTES
    }

    /// The run of a list that fits one chunk, to pack it inline again.
    fn single_run(&self) -> Option<Cow<'_, [u8]>> {
        match self.chunks.len() {
            0 => Some(Cow::Borrowed(&[])),
            1 => Some(self.chunks[0].raw()),
            _ => None,
        }
    }

    /// Puts `chunk` in place of chunk `index` (a frozen view sharing the
    /// old one keeps it).
    fn replace_chunk(&mut self, index: usize, chunk: ListChunk) {
        self.bytes = self.bytes + chunk.heap_bytes() - self.chunks[index].heap_bytes();
        self.chunks[index] = Arc::new(chunk);
    }

    /// Makes chunk `index` raw if it is compressed.
    fn decompress_chunk(&mut self, index: usize) {
        if self.chunks[index].is_compressed() {
            let raw = self.chunks[index].decompressed();
            self.replace_chunk(index, raw);
        }
    }

    /// Compresses chunk `index` if it is raw and compression pays;
    /// remembers when it does not, so that it is not tried again until the
    /// chunk changes.
    fn compress_chunk(&mut self, index: usize) {
        let chunk = &self.chunks[index];
        if chunk.is_compressed() || chunk.incompressible {
            return;
        }
        match chunk.compressed() {
            Some(compressed) => self.replace_chunk(index, compressed),
            None => {
                if let Some(chunk) = Arc::get_mut(&mut self.chunks[index]) {
                    chunk.incompressible = true;
                }
            }
        }
    }

    /// Redis's `__quicklistCompress` after a write that touched chunk
    /// `touched`: the `depth` chunks at each end are raw, the first chunk
    /// past them at each end is compressed (it may just have been pushed
    /// inward), and so is the touched chunk if it is interior. Chunks not
    /// touched keep their state, so a `CONFIG SET` takes effect chunk by
    /// chunk as the list is written (for lists created after it).
    fn settle(&mut self, touched: Option<usize>) {
        let depth = self.depth;
        let n = self.chunks.len();
        if depth == 0 || n == 0 {
            return;
        }
        for i in 0..depth.min(n) {
            self.decompress_chunk(i);
            self.decompress_chunk(n - 1 - i);
        }
        if n <= 2 * depth {
            return;
        }
        self.compress_chunk(depth);
        self.compress_chunk(n - 1 - depth);
        if let Some(index) = touched.filter(|&i| i >= depth && i < n - depth) {
            self.compress_chunk(index);
        }
    }

    /// [`BigList::settle`] for every chunk (after a rebuild).
    fn settle_all(&mut self) {
        self.settle(None);
        let n = self.chunks.len();
        if self.depth > 0 && n > 2 * self.depth {
            for index in self.depth..n - self.depth {
                self.compress_chunk(index);
            }
        }
    }

    /// Runs `change` on chunk `index`, raw (decompressed first, copied
    /// first if a frozen view shares it), keeping the byte count in step.
    fn change_chunk<R>(&mut self, index: usize, change: impl FnOnce(&mut ListChunk) -> R) -> R {
        self.decompress_chunk(index);
        // Measured before `make_mut`: the copy of a shared chunk has its
        // own capacity.
        let before = self.chunks[index].heap_bytes();
        let chunk = Arc::make_mut(&mut self.chunks[index]);
        chunk.incompressible = false;
        let result = change(chunk);
        self.bytes = self.bytes + chunk.heap_bytes() - before;
        result
    }

    fn remove_chunk(&mut self, index: usize) -> Option<Arc<ListChunk>> {
        let chunk = self.chunks.remove(index)?;
        self.bytes -= chunk.heap_bytes();
        Some(chunk)
    }

    fn insert_chunk(&mut self, index: usize, chunk: ListChunk) {
        self.bytes += chunk.heap_bytes();
        self.chunks.insert(index, Arc::new(chunk));
    }

    /// Pushes one element at `end`.
    pub(crate) fn push(&mut self, end: End, element: &[u8], fill: i64) {
        let cap = chunk_cap(fill);
        let size = encoded_len(element.len());
        let index = match end {
            End::Left => 0,
            End::Right => self.chunks.len().wrapping_sub(1),
        };
        let fits = self
            .chunks
            .get(index)
            .is_some_and(|c| chunk_fits(fill, c.count + 1, c.run_len() + size));
        if fits {
            self.change_chunk(index, |chunk| match end {
                End::Left => chunk.push_front(element, cap),
                End::Right => chunk.push_back(element, cap),
            });
        } else {
            let mut chunk = ListChunk::default();
            chunk.push_back(element, cap);
            let at = match end {
                End::Left => 0,
                End::Right => self.chunks.len(),
            };
            self.insert_chunk(at, chunk);
            self.settle(None);
        }
        self.len += 1;
    }

    /// Pops one element from `end`.
    pub(crate) fn pop(&mut self, end: End) -> Option<Bytes> {
        if self.len == 0 {
            return None;
        }
        let index = match end {
            End::Left => 0,
            End::Right => self.chunks.len() - 1,
        };
        let (element, empty) = self.change_chunk(index, |chunk| {
            let element = match end {
                End::Left => chunk.pop_front(),
                End::Right => chunk.pop_back(),
            };
            (element, chunk.count == 0)
        });
        if empty {
            self.remove_chunk(index);
            self.settle(None);
        }
        self.len -= 1;
        Some(element)
    }

    /// Removes `front` elements from the head and `back` from the tail
    /// (`LTRIM`, counted pops): whole chunks are taken out and returned
    /// for the caller to free (see [`DroppedChunks`]), at most one chunk
    /// per end is edited, so the work here is O(chunks), not O(elements).
    pub(crate) fn drop_ends(&mut self, front: usize, back: usize) -> DroppedChunks {
        let mut dropped = DroppedChunks::default();
        for (end, mut left) in [(End::Left, front), (End::Right, back)] {
            while left > 0 && self.len > 0 {
                let index = match end {
                    End::Left => 0,
                    End::Right => self.chunks.len() - 1,
                };
                let count = self.chunks[index].count;
                if count <= left {
                    let chunk = self.remove_chunk(index).expect("index in range");
                    self.len -= count;
                    left -= count;
                    dropped.elements += count;
                    dropped.chunks.push(chunk);
                } else {
                    self.pop(end);
                    left -= 1;
                }
            }
        }
        self.settle(None);
        dropped
    }

    /// The chunk holding element `index` (`index < len`) and the index
    /// inside it, walking chunk counts from the nearer end.
    fn find(&self, index: usize) -> (usize, usize) {
        if index < self.len / 2 {
            let mut rest = index;
            for (i, chunk) in self.chunks.iter().enumerate() {
                if rest < chunk.count {
                    return (i, rest);
                }
                rest -= chunk.count;
            }
        } else {
            let mut from_end = self.len - 1 - index;
            for (i, chunk) in self.chunks.iter().enumerate().rev() {
                if from_end < chunk.count {
                    return (i, chunk.count - 1 - from_end);
                }
                from_end -= chunk.count;
            }
        }
        unreachable!("index {index} below len {}", self.len)
    }

    /// Element `index` (`index < len`): borrowed from a raw chunk, copied
    /// out of a compressed one.
    pub(crate) fn get(&self, index: usize) -> Cow<'_, [u8]> {
        let (chunk, inner) = self.find(index);
        let chunk = &self.chunks[chunk];
        match chunk.raw() {
            Cow::Borrowed(run) => Cow::Borrowed(ListChunk::get_in(run, chunk.count, inner)),
            Cow::Owned(run) => Cow::Owned(ListChunk::get_in(&run, chunk.count, inner).to_vec()),
        }
    }

    /// Replaces element `index` (`index < len`), splitting its chunk when
    /// it outgrows the limit.
    pub(crate) fn set(&mut self, index: usize, element: &[u8], fill: i64) {
        let (chunk, inner) = self.find(index);
        let mut encoded = Vec::with_capacity(encoded_len(element.len()));
        push_element(&mut encoded, element);
        self.change_chunk(chunk, |c| {
            let (start, end) = c.locate(inner);
            c.splice_run(start..end, encoded);
        });
        self.split_if_needed(chunk, fill);
    }

    /// Inserts `element` so that it becomes element `index` (`index <=
    /// len`).
    pub(crate) fn insert_at(&mut self, index: usize, element: &[u8], fill: i64) {
        if index == 0 {
            return self.push(End::Left, element, fill);
        }
        if index == self.len {
            return self.push(End::Right, element, fill);
        }
        let (chunk, inner) = self.find(index);
        let mut encoded = Vec::with_capacity(encoded_len(element.len()));
        push_element(&mut encoded, element);
        self.change_chunk(chunk, |c| {
            let (start, _) = c.locate(inner);
            c.splice_run(start..start, encoded);
            c.count += 1;
        });
        self.len += 1;
        self.split_if_needed(chunk, fill);
    }

    /// Splits chunk `index` (raw, just changed) if it is over the limit,
    /// then settles compression around it or its pieces.
    fn split_if_needed(&mut self, index: usize, fill: i64) {
        let made = self.split(index, fill);
        for offset in 0..made {
            self.settle(Some(index + offset));
        }
    }

    /// Splits chunk `index` (raw) in pieces within the limit; how many
    /// chunks it is now (1 when it fitted).
    fn split(&mut self, index: usize, fill: i64) -> usize {
        let chunk = &self.chunks[index];
        if chunk_fits(fill, chunk.count, chunk.run_len()) {
            return 1;
        }
        let mut pieces = Vec::new();
        let mut current = ListChunk::default();
        for element in chunk.iter() {
            let size = encoded_len(element.len());
            if current.count > 0 && !chunk_fits(fill, current.count + 1, current.buf.len() + size) {
                pieces.push(std::mem::take(&mut current));
            }
            push_element(&mut current.buf, element);
            current.count += 1;
        }
        pieces.push(current);
        self.remove_chunk(index);
        let made = pieces.len();
        for (offset, mut piece) in pieces.into_iter().enumerate() {
            piece.buf.shrink_to_fit();
            self.insert_chunk(index + offset, piece);
        }
        made
    }

    /// The runs of the chunks, front to back, decompressed as needed.
    pub(crate) fn runs(&self) -> impl DoubleEndedIterator<Item = Cow<'_, [u8]>> {
        self.chunks.iter().map(|c| c.raw())
    }

    /// Rebuilds the list from `keep` (which elements stay, by index): used
    /// by `LREM`. Chunks with nothing removed stay shared (and compressed
    /// if they were); neighbours that fit together are merged.
    /// Returns the replaced chunks, for the caller to free.
    pub(crate) fn retain(
        &mut self,
        mut keep: impl FnMut(usize, &[u8]) -> bool,
        fill: i64,
    ) -> DroppedChunks {
        let mut dropped = DroppedChunks::default();
        let old = std::mem::take(&mut self.chunks);
        self.bytes = 0;
        self.len = 0;
        let mut index = 0;
        let mut pending: Option<ListChunk> = None;
        for chunk in old {
            let run = chunk.raw();
            let flags: Vec<bool> = run_iter(&run)
                .enumerate()
                .map(|(i, e)| keep(index + i, e))
                .collect();
            index += chunk.count;
            if flags.iter().all(|&k| k) && pending.is_none() {
                drop(run);
                self.len += chunk.count;
                self.bytes += chunk.heap_bytes();
                self.chunks.push_back(chunk);
                continue;
            }
            let mut built = pending.take().unwrap_or_default();
            for (element, _) in run_iter(&run).zip(&flags).filter(|(_, k)| **k) {
                push_element(&mut built.buf, element);
                built.count += 1;
            }
            // Keep merging while the next chunk might fit; flush a chunk
            // past half the limit.
            if built.count > 0 && !chunk_fits(fill, built.count * 2, built.buf.len() * 2) {
                self.flush_built(built, fill);
            } else {
                pending = Some(built);
            }
            drop(run);
            dropped.elements += chunk.count;
            dropped.chunks.push(chunk);
        }
        if let Some(built) = pending {
            self.flush_built(built, fill);
        }
        self.settle_all();
        dropped
    }

    fn flush_built(&mut self, mut built: ListChunk, fill: i64) {
        if built.count == 0 {
            return;
        }
        built.buf.shrink_to_fit();
        self.len += built.count;
        let at = self.chunks.len();
        self.insert_chunk(at, built);
        self.split(at, fill);
    }

    /// A frozen, copy-on-write view (O(chunks)).
    pub(crate) fn freeze(&self) -> FrozenList {
        FrozenList {
            chunks: self.chunks.iter().cloned().collect(),
            len: self.len,
            bytes: self.bytes,
        }
    }
}

/// A frozen view of a [`BigList`] (see [`BigList::freeze`]).
#[derive(Clone)]
pub(crate) struct FrozenList {
    chunks: Vec<Arc<ListChunk>>,
    len: usize,
    bytes: usize,
}

/// A read-only view of a list, whatever the encoding.
#[derive(Debug, Clone, Copy)]
pub(crate) enum ListRef<'a> {
    /// A packed run and its element count.
    Packed(&'a [u8], usize),
    Big(&'a BigList),
}

impl<'a> ListRef<'a> {
    pub(crate) fn of(payload: Payload<'a>) -> ListRef<'a> {
        match payload {
            Payload::Packed(run) => ListRef::Packed(run, count_elements(run)),
            Payload::Big(Big::List(list)) => ListRef::Big(list),
            Payload::Big(other) => unreachable!("a list entry holds {other:?}"),
        }
    }

    pub(crate) fn len(self) -> usize {
        match self {
            ListRef::Packed(_, count) => count,
            ListRef::Big(list) => list.len(),
        }
    }

    /// Element `index` (`index < len`): borrowed, or copied out of a
    /// compressed chunk.
    pub(crate) fn get(self, index: usize) -> Cow<'a, [u8]> {
        match self {
            ListRef::Packed(run, count) => Cow::Borrowed(ListChunk::get_in(run, count, index)),
            ListRef::Big(list) => list.get(index),
        }
    }

    /// Elements `start..=stop` (in range), front to back, to `visit`
    /// (compressed chunks are decompressed one at a time for it).
    pub(crate) fn range(self, start: usize, stop: usize, mut visit: impl FnMut(&[u8])) {
        let take = stop + 1 - start;
        match self {
            ListRef::Packed(run, _) => run_iter(run).skip(start).take(take).for_each(visit),
            ListRef::Big(list) => {
                let (mut chunk, inner) = list.find(start);
                let mut left = take;
                let mut skip = inner;
                while left > 0 {
                    let run = list.chunks[chunk].raw();
                    for element in run_iter(&run).skip(skip).take(left) {
                        visit(element);
                        left -= 1;
                    }
                    skip = 0;
                    chunk += 1;
                }
            }
        }
    }

    /// Every element front to back (`forward`) or back to front, with its
    /// index, until `visit` returns false.
    pub(crate) fn walk(self, forward: bool, mut visit: impl FnMut(usize, &[u8]) -> bool) {
        let len = self.len();
        let mut i = 0;
        let mut go = |run: &[u8]| {
            let mut step = |element: &[u8]| {
                let index = if forward { i } else { len - 1 - i };
                i += 1;
                visit(index, element)
            };
            if forward {
                run_iter(run).all(&mut step)
            } else {
                run_iter(run).rev().all(&mut step)
            }
        };
        match (self, forward) {
            (ListRef::Packed(run, _), _) => {
                go(run);
            }
            (ListRef::Big(list), true) => {
                let _ = list.runs().all(|run| go(&run));
            }
            (ListRef::Big(list), false) => {
                let _ = list.runs().rev().all(|run| go(&run));
            }
        }
    }
}

impl ListChunk {
    /// Element `index` of a run of `count` elements.
    fn get_in(run: &[u8], count: usize, index: usize) -> &[u8] {
        if index < count / 2 {
            run_iter(run).nth(index)
        } else {
            run_iter(run).nth_back(count - 1 - index)
        }
        .expect("index below count")
    }
}

/// The elements of a packed run.
fn run_iter(run: &[u8]) -> ChunkIter<'_> {
    ChunkIter {
        data: run,
        front: 0,
        back: run.len(),
    }
}

/// Where a changed list should live: packed inline (its run) or big.
pub(crate) enum Placement {
    Packed(Vec<u8>),
    Big(BigList),
}

/// Where `list` belongs after a write under `fill`: packed when it fits
/// inline (a big list only once it is down to half the inline limit, so a
/// list at the boundary does not convert back and forth).
pub(crate) fn placement(list: BigList, fill: i64, was_big: bool) -> Placement {
    if let Some(run) = list.single_run() {
        let limit_ok = if was_big {
            run.len() * 2 <= INLINE_MAX_BYTES
        } else {
            true
        };
        if limit_ok && inline_fits(fill, list.len, run.len()) {
            return Placement::Packed(run.to_vec());
        }
    }
    Placement::Big(list)
}

/// The `OBJECT ENCODING` name (always `quicklist`, as Redis 7.0).
pub(crate) fn encoding(_payload: Payload<'_>) -> &'static str {
    QUICKLIST
}

/// Number of elements.
pub(crate) fn len(payload: Payload<'_>) -> usize {
    ListRef::of(payload).len()
}

/// Whether a packed run holds no element.
pub(crate) fn run_is_empty(run: &[u8]) -> bool {
    run.is_empty()
}

/// The owned form of a live list.
pub(crate) fn to_value(payload: Payload<'_>) -> ListValue {
    match ListRef::of(payload) {
        ListRef::Packed(run, _) => ListValue::from_packed(run),
        ListRef::Big(list) => ListValue(Repr::Frozen(list.freeze())),
    }
}

/// An owned list value: its elements in order. Produced by snapshots and
/// [`DbHandle::value`](crate::DbHandle::value); a big list comes as a frozen
/// view of its chunks rather than a copy.
#[derive(Clone)]
pub struct ListValue(Repr);

#[derive(Clone)]
enum Repr {
    Elements(Vec<Bytes>),
    Frozen(FrozenList),
}

impl ListValue {
    /// A list of these elements, in order.
    pub fn from_elements(elements: Vec<Bytes>) -> ListValue {
        ListValue(Repr::Elements(elements))
    }

    pub(crate) fn from_packed(run: &[u8]) -> ListValue {
        ListValue(Repr::Elements(
            run_iter(run).map(Bytes::copy_from_slice).collect(),
        ))
    }

    pub(crate) fn from_frozen(frozen: FrozenList) -> ListValue {
        ListValue(Repr::Frozen(frozen))
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        match &self.0 {
            Repr::Elements(elements) => elements.len(),
            Repr::Frozen(frozen) => frozen.len,
        }
    }

    /// Whether there are no elements (never true of a stored list).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Calls `visit` with every element, front to back.
    pub fn for_each(&self, mut visit: impl FnMut(&[u8])) {
        match &self.0 {
            Repr::Elements(elements) => elements.iter().for_each(|e| visit(e)),
            Repr::Frozen(frozen) => {
                for chunk in &frozen.chunks {
                    run_iter(&chunk.raw()).for_each(&mut visit);
                }
            }
        }
    }

    /// The elements, owned, in order.
    pub fn to_vec(&self) -> Vec<Bytes> {
        let mut out = Vec::with_capacity(self.len());
        self.for_each(|e| out.push(Bytes::copy_from_slice(e)));
        out
    }

    /// Bytes of the elements.
    pub(crate) fn memory_bytes(&self) -> usize {
        match &self.0 {
            Repr::Elements(elements) => elements.iter().map(|e| encoded_len(e.len())).sum(),
            Repr::Frozen(frozen) => frozen.bytes,
        }
    }

    /// `RPUSH key element ...` in batches, then `PEXPIREAT`.
    pub(crate) fn rewrite(
        &self,
        key: &[u8],
        expire_at_ms: Option<u64>,
        emit: &mut dyn FnMut(&[&[u8]]),
    ) {
        rewrite_elements(
            b"RPUSH",
            key,
            self.len(),
            |visit| self.for_each(visit),
            expire_at_ms,
            emit,
        );
    }
}

impl PartialEq for ListValue {
    fn eq(&self, other: &ListValue) -> bool {
        self.len() == other.len() && self.to_vec() == other.to_vec()
    }
}

impl Eq for ListValue {}

impl std::fmt::Debug for ListValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.to_vec()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(i: usize) -> Vec<u8> {
        format!("e{i}").into_bytes()
    }

    /// Every element of `list`, head to tail.
    pub(super) fn contents(list: &BigList) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        ListRef::Big(list).walk(true, |_, e| {
            out.push(e.to_vec());
            true
        });
        out
    }

    #[test]
    fn elements_read_forwards_and_backwards_across_length_widths() {
        let lens = [0usize, 1, 127, 128, 300, 16_384];
        let mut run = Vec::new();
        for &len in &lens {
            push_element(&mut run, &vec![b'x'; len]);
        }
        assert_eq!(
            run.len(),
            lens.iter().map(|&l| encoded_len(l)).sum::<usize>()
        );
        let forward: Vec<usize> = run_iter(&run).map(<[u8]>::len).collect();
        let backward: Vec<usize> = run_iter(&run).rev().map(<[u8]>::len).collect();
        assert_eq!(forward, lens);
        assert_eq!(backward, lens.iter().rev().copied().collect::<Vec<_>>());
        assert_eq!(count_elements(&run), lens.len());
    }

    #[test]
    fn pushes_and_pops_at_both_ends_keep_chunks_bounded() {
        let mut list = BigList::new(0);
        let mut model = VecDeque::new();
        for i in 0..20_000 {
            if i % 3 == 0 {
                list.push(End::Left, &item(i), -2);
                model.push_front(item(i));
            } else {
                list.push(End::Right, &item(i), -2);
                model.push_back(item(i));
            }
        }
        assert_eq!(list.len(), model.len());
        assert!(list.chunks.len() > 10);
        assert!(list.chunks.iter().all(|c| c.run_len() <= 8192));
        for index in [0, 1, 777, 10_000, 19_999] {
            assert_eq!(&*list.get(index), &model[index][..]);
        }
        for _ in 0..5_000 {
            assert_eq!(list.pop(End::Left).unwrap(), model.pop_front().unwrap());
            assert_eq!(list.pop(End::Right).unwrap(), model.pop_back().unwrap());
        }
        assert_eq!(contents(&list), Vec::from(model));
    }

    #[test]
    fn positive_fill_caps_the_count_per_chunk() {
        let mut list = BigList::new(0);
        for i in 0..100 {
            list.push(End::Right, &item(i), 4);
        }
        assert_eq!(list.chunks.len(), 25);
        list.insert_at(50, b"mid", 4);
        assert!(list.chunks.iter().all(|c| c.count <= 4));
        assert_eq!(&*list.get(50), b"mid");
        assert_eq!(&*list.get(51), b"e50");
    }

    #[test]
    fn set_and_insert_split_overflowing_chunks() {
        let mut list = BigList::new(0);
        for i in 0..2000 {
            list.push(End::Right, &item(i), -1);
        }
        let big = vec![b'z'; 3000];
        list.set(1000, &big, -1);
        list.insert_at(500, &big, -1);
        assert!(
            list.chunks
                .iter()
                .all(|c| c.count == 1 || c.run_len() <= 4096)
        );
        assert_eq!(&*list.get(1001), &big[..]);
        assert_eq!(&*list.get(500), &big[..]);
        assert_eq!(list.len(), 2001);
    }

    #[test]
    fn drop_ends_removes_whole_chunks_and_keeps_the_middle() {
        let mut list = BigList::new(0);
        for i in 0..10_000 {
            list.push(End::Right, &item(i), -2);
        }
        list.drop_ends(3_001, 2_999);
        assert_eq!(list.len(), 4_000);
        let expected: Vec<Vec<u8>> = (3_001..7_001).map(item).collect();
        assert_eq!(contents(&list), expected);
        assert_eq!(&*list.get(0), b"e3001");
        list.drop_ends(4_000, 0);
        assert_eq!((list.len(), list.chunks.len(), list.bytes), (0, 0, 0));
    }

    #[test]
    fn retain_keeps_order_merges_and_shares_untouched_chunks() {
        let mut list = BigList::new(0);
        for i in 0..10_000 {
            list.push(End::Right, &item(i), -2);
        }
        let frozen = list.freeze();
        list.retain(|i, _| i >= 9000 || i % 2 == 0, -2);
        assert_eq!(list.len(), 5500);
        let expected: Vec<Vec<u8>> = (0..10_000)
            .filter(|i| *i >= 9000 || i % 2 == 0)
            .map(item)
            .collect();
        assert_eq!(contents(&list), expected);
        let shared = list
            .chunks
            .iter()
            .filter(|c| frozen.chunks.iter().any(|f| Arc::ptr_eq(c, f)))
            .count();
        assert!(shared > 0, "untouched chunks stay shared");
        assert_eq!(frozen.len, 10_000);
    }

    #[test]
    fn frozen_views_do_not_see_later_writes_and_writes_copy_one_chunk() {
        let mut list = BigList::new(0);
        for i in 0..50_000 {
            list.push(End::Right, &item(i), -2);
        }
        let frozen = list.freeze();
        list.push(End::Left, b"new", -2);
        list.set(25_000, b"changed", -2);
        list.pop(End::Right);
        let value = ListValue::from_frozen(frozen.clone());
        assert_eq!(value.len(), 50_000);
        assert_eq!(value.to_vec()[25_000], Bytes::from("e25000"));
        let shared = list
            .chunks
            .iter()
            .filter(|c| frozen.chunks.iter().any(|f| Arc::ptr_eq(c, f)))
            .count();
        // The pushed-to, the set (maybe split in two) and the popped chunk.
        assert!(shared + 4 >= list.chunks.len(), "at most four chunks new");
    }

    #[test]
    fn rewrite_batches_rpush_commands() {
        let elements: Vec<Bytes> = (0..130).map(|i| Bytes::from(item(i))).collect();
        let value = ListValue::from_elements(elements);
        let mut commands = Vec::new();
        value.rewrite(b"k", Some(5), &mut |args| {
            commands.push(args.iter().map(|a| a.to_vec()).collect::<Vec<_>>())
        });
        assert_eq!(commands.len(), 4);
        assert_eq!(commands[0].len(), 2 + 64);
        assert_eq!(commands[2].len(), 2 + 2);
        assert_eq!(commands[0][0], b"RPUSH");
        assert_eq!(commands[3][0], b"PEXPIREAT");
    }
}

#[cfg(test)]
mod compression_tests {
    use super::tests::contents;
    use super::*;
    use proptest::prelude::*;

    /// Elements that compress well once a chunk holds a few of them.
    fn event(n: u32) -> Vec<u8> {
        format!("user:event:{n}").into_bytes()
    }

    /// The `depth` chunks at each end are raw; every chunk further in is
    /// compressed unless compression does not pay for it; counts and
    /// byte totals agree with the chunks.
    fn assert_compression_state(list: &BigList) {
        let n = list.chunks.len();
        let depth = list.depth;
        for (i, chunk) in list.chunks.iter().enumerate() {
            let interior = depth > 0 && i >= depth && i + depth < n;
            if interior {
                assert!(
                    chunk.is_compressed() || chunk.compressed().is_none(),
                    "interior chunk {i} of {n} (depth {depth}) is raw but compressible"
                );
            } else {
                assert!(!chunk.is_compressed(), "end chunk {i} of {n} is compressed");
            }
            assert_eq!(count_elements(&chunk.raw()), chunk.count);
        }
        assert_eq!(list.chunks.iter().map(|c| c.count).sum::<usize>(), list.len);
        assert_eq!(
            list.chunks.iter().map(|c| c.heap_bytes()).sum::<usize>(),
            list.bytes
        );
    }

    #[derive(Debug, Clone)]
    enum Op {
        Push(bool, u32, u8),
        Pop(bool, u8),
        Insert(usize, u32),
        Set(usize, u32),
        Trim(usize, usize),
        Remove(u32),
        Freeze,
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            4 => (any::<bool>(), 0u32..1000, 1u8..60).prop_map(|(l, n, k)| Op::Push(l, n, k)),
            2 => (any::<bool>(), 1u8..30).prop_map(|(l, k)| Op::Pop(l, k)),
            2 => (any::<usize>(), 0u32..1000).prop_map(|(i, n)| Op::Insert(i, n)),
            2 => (any::<usize>(), 0u32..1000).prop_map(|(i, n)| Op::Set(i, n)),
            1 => (0usize..20, 0usize..20).prop_map(|(a, b)| Op::Trim(a, b)),
            1 => (0u32..10).prop_map(Op::Remove),
            1 => Just(Op::Freeze),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Random writes at depth 1..=3 against a `VecDeque` model, with
        /// the compressed state checked after each, and frozen views
        /// checked against the model as it was when they were taken.
        #[test]
        fn compressed_lists_match_a_model(
            depth in 1usize..=3,
            fill in prop_oneof![Just(8i64), Just(16), Just(-1)],
            ops in proptest::collection::vec(op(), 1..80),
        ) {
            let mut list = BigList::new(depth);
            let mut model: VecDeque<Vec<u8>> = VecDeque::new();
            let mut frozen: Vec<(FrozenList, Vec<Vec<u8>>)> = Vec::new();
            for op in ops {
                match op {
                    Op::Push(left, n, k) => {
                        for j in 0..u32::from(k) {
                            let e = event(n + j);
                            if left {
                                list.push(End::Left, &e, fill);
                                model.push_front(e);
                            } else {
                                list.push(End::Right, &e, fill);
                                model.push_back(e);
                            }
                        }
                    }
                    Op::Pop(left, k) => {
                        for _ in 0..k {
                            let (got, want) = if left {
                                (list.pop(End::Left), model.pop_front())
                            } else {
                                (list.pop(End::Right), model.pop_back())
                            };
                            prop_assert_eq!(got.map(|b| b.to_vec()), want);
                        }
                    }
                    Op::Insert(i, n) => {
                        let at = i % (model.len() + 1);
                        list.insert_at(at, &event(n), fill);
                        model.insert(at, event(n));
                    }
                    Op::Set(i, n) if !model.is_empty() => {
                        let at = i % model.len();
                        // Sometimes much longer, to split a chunk.
                        let e = if n % 7 == 0 { event(n).repeat(20) } else { event(n) };
                        list.set(at, &e, fill);
                        model[at] = e;
                    }
                    Op::Set(..) => {}
                    Op::Trim(front, back) => {
                        let front = front.min(model.len());
                        let back = back.min(model.len() - front);
                        let dropped = list.drop_ends(front, back);
                        prop_assert!(dropped.elements <= front + back);
                        model.drain(..front);
                        model.truncate(model.len() - back);
                    }
                    Op::Remove(last_digit) => {
                        let digit = b'0' + last_digit as u8;
                        let dropped = list.retain(|_, e| e.last() != Some(&digit), fill);
                        prop_assert!(dropped.chunks.len() <= list.chunks.len() + dropped.chunks.len());
                        model.retain(|e| e.last() != Some(&digit));
                    }
                    Op::Freeze => frozen.push((list.freeze(), Vec::from(model.clone()))),
                }
                assert_compression_state(&list);
                prop_assert_eq!(list.len(), model.len());
            }
            prop_assert_eq!(contents(&list), Vec::from(model.clone()));
            for index in [0, model.len() / 3, model.len() / 2, model.len().saturating_sub(1)] {
                if index < model.len() {
                    prop_assert_eq!(&*list.get(index), &model[index][..]);
                    let mut ranged = Vec::new();
                    ListRef::Big(&list).range(index, model.len() - 1, |e| ranged.push(e.to_vec()));
                    prop_assert_eq!(&ranged[..], &Vec::from(model.clone())[index..]);
                }
            }
            for (view, then) in frozen {
                prop_assert_eq!(ListValue::from_frozen(view).to_vec(), then);
            }
        }
    }

    #[test]
    fn interior_chunks_are_compressed_and_the_ends_stay_raw() {
        let mut list = BigList::new(1);
        for n in 0..50_000 {
            list.push(End::Right, &event(n), -2);
        }
        let n = list.chunks.len();
        assert!(n > 50, "{n} chunks");
        assert!(!list.chunks[0].is_compressed() && !list.chunks[n - 1].is_compressed());
        assert!(
            list.chunks
                .iter()
                .skip(1)
                .take(n - 2)
                .all(|c| c.is_compressed())
        );
        assert_compression_state(&list);
        // Compressed chunks hold the elements at a fraction of the bytes.
        let mut plain = BigList::new(0);
        for n in 0..50_000 {
            plain.push(End::Right, &event(n), -2);
        }
        assert!(
            list.memory_bytes() * 3 < plain.memory_bytes(),
            "{} vs {}",
            list.memory_bytes(),
            plain.memory_bytes()
        );
        assert_eq!(&*list.get(25_000), b"user:event:25000");
        // Pops at both ends decompress the next chunk in as they reach it.
        for n in 0..20_000 {
            assert_eq!(list.pop(End::Left).unwrap(), event(n));
            assert_eq!(list.pop(End::Right).unwrap(), event(49_999 - n));
        }
        assert_compression_state(&list);
    }

    #[test]
    fn a_write_inside_leaves_a_frozen_view_its_chunk_and_recompresses() {
        let mut list = BigList::new(2);
        for n in 0..20_000 {
            list.push(End::Right, &event(n), -2);
        }
        let frozen = list.freeze();
        let (chunk, _) = list.find(10_000);
        let before = Arc::clone(&list.chunks[chunk]);
        assert!(before.is_compressed());
        list.set(10_000, b"changed", -2);
        assert!(
            list.chunks[chunk].is_compressed(),
            "compressed again after the write"
        );
        assert!(!Arc::ptr_eq(&before, &list.chunks[chunk]));
        assert!(
            Arc::ptr_eq(&before, &frozen.chunks[chunk]),
            "the view keeps its chunk"
        );
        assert_eq!(&*list.get(10_000), b"changed");
        assert_eq!(
            ListValue::from_frozen(frozen).to_vec()[10_000],
            Bytes::from("user:event:10000")
        );
    }

    #[test]
    fn incompressible_chunks_stay_raw_and_are_not_retried() {
        let noise = crate::lzf::noise(0x2545_f491_4f6c_dd1d, 5_000 * 16);
        let mut list = BigList::new(1);
        for e in noise.chunks(16) {
            list.push(End::Right, e, -2);
        }
        assert!(list.chunks.len() > 5);
        assert!(list.chunks.iter().all(|c| !c.is_compressed()));
        let n = list.chunks.len();
        assert!(
            list.chunks
                .iter()
                .skip(1)
                .take(n - 2)
                .all(|c| c.incompressible)
        );
        assert_compression_state(&list);
    }

    #[test]
    fn pushes_and_pops_at_the_front_do_not_move_the_run() {
        let mut chunk = ListChunk::default();
        for n in 0..200 {
            chunk.push_front(&event(n), 8192);
        }
        let run: Vec<Vec<u8>> = chunk.iter().map(<[u8]>::to_vec).collect();
        assert_eq!(run, (0..200).rev().map(event).collect::<Vec<_>>());
        // A pop at the front leaves the bytes behind it where they are.
        let tail = chunk.run()[20..].as_ptr();
        let first = chunk.pop_front();
        assert_eq!(first, event(199));
        assert_eq!(chunk.run()[20 - encoded_len(first.len())..].as_ptr(), tail);
        // And a push at the front goes into the room the pop left.
        let capacity = chunk.buf.capacity();
        chunk.push_front(b"x", 8192);
        assert_eq!(chunk.buf.capacity(), capacity);
        assert_eq!(chunk.iter().next().unwrap(), b"x");
        assert_eq!(chunk.count, 200);
    }
}
