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
//! `list-compress-depth` is accepted but chunks are never compressed.

use std::collections::VecDeque;
use std::sync::Arc;

use bytes::Bytes;

use super::{Big, rewrite_elements};
use crate::entry::Payload;
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

/// One chunk: a run of encoded elements.
#[derive(Debug, Clone, Default)]
pub(crate) struct ListChunk {
    data: Vec<u8>,
    count: usize,
}

impl ListChunk {
    fn from_run(data: Vec<u8>) -> ListChunk {
        let count = count_elements(&data);
        ListChunk { data, count }
    }

    fn heap_bytes(&self) -> usize {
        self.data.capacity()
    }

    /// Makes room for `needed` more bytes, growing by at least half the run
    /// (amortised) without passing `cap` unless the element needs it.
    fn reserve(&mut self, needed: usize, cap: usize) {
        if self.data.len() + needed > self.data.capacity() {
            let grow = needed.max((self.data.len() / 2).min(cap.saturating_sub(self.data.len())));
            self.data.reserve_exact(grow);
        }
    }

    fn push_back(&mut self, element: &[u8], cap: usize) {
        self.reserve(encoded_len(element.len()), cap);
        push_element(&mut self.data, element);
        self.count += 1;
    }

    fn push_front(&mut self, element: &[u8], cap: usize) {
        let mut encoded = Vec::with_capacity(encoded_len(element.len()));
        push_element(&mut encoded, element);
        self.reserve(encoded.len(), cap);
        self.data.splice(0..0, encoded);
        self.count += 1;
    }

    fn pop_front(&mut self) -> Bytes {
        let (element, end) = element_at(&self.data, 0);
        let element = Bytes::copy_from_slice(element);
        self.data.drain(..end);
        self.count -= 1;
        self.shrink();
        element
    }

    fn pop_back(&mut self) -> Bytes {
        let (element, start) = element_before(&self.data, self.data.len());
        let element = Bytes::copy_from_slice(element);
        self.data.truncate(start);
        self.count -= 1;
        self.shrink();
        element
    }

    /// Gives memory back once most of the run is gone.
    fn shrink(&mut self) {
        if self.data.capacity() > 64 && self.data.len() < self.data.capacity() / 4 {
            self.data.shrink_to(self.data.len() * 2);
        }
    }

    /// Offsets (start, end) of element `index` (`index < count`), walking
    /// from the nearer end.
    fn locate(&self, index: usize) -> (usize, usize) {
        if index < self.count / 2 {
            let mut at = 0;
            for _ in 0..index {
                at = element_at(&self.data, at).1;
            }
            (at, element_at(&self.data, at).1)
        } else {
            let mut end = self.data.len();
            for _ in 0..self.count - 1 - index {
                end = element_before(&self.data, end).1;
            }
            (element_before(&self.data, end).1, end)
        }
    }

    fn get(&self, index: usize) -> &[u8] {
        let (start, _) = self.locate(index);
        element_at(&self.data, start).0
    }

    fn iter(&self) -> ChunkIter<'_> {
        ChunkIter {
            data: &self.data,
            front: 0,
            back: self.data.len(),
        }
    }
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

impl BigList {
    pub(crate) fn new() -> BigList {
        BigList::default()
    }

    /// A list of one chunk holding the run `data` (a packed list).
    pub(crate) fn from_run(data: &[u8]) -> BigList {
        let mut list = BigList::new();
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
            && self.chunks.front().map_or(0, |c| c.data.len()) * 2 <= INLINE_MAX_BYTES
    }

    /// The run of a list that fits one chunk, to pack it inline again.
    fn single_run(&self) -> Option<&[u8]> {
        match self.chunks.len() {
            0 => Some(&[]),
            1 => Some(&self.chunks[0].data),
            _ => None,
        }
    }

    /// Runs `change` on chunk `index` (copied first if a frozen view shares
    /// it), keeping the byte count in step.
    fn change_chunk<R>(&mut self, index: usize, change: impl FnOnce(&mut ListChunk) -> R) -> R {
        let chunk = Arc::make_mut(&mut self.chunks[index]);
        let before = chunk.heap_bytes();
        let result = change(chunk);
        self.bytes = self.bytes + chunk.heap_bytes() - before;
        result
    }

    fn remove_chunk(&mut self, index: usize) {
        if let Some(chunk) = self.chunks.remove(index) {
            self.bytes -= chunk.heap_bytes();
        }
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
            .is_some_and(|c| chunk_fits(fill, c.count + 1, c.data.len() + size));
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
        }
        self.len -= 1;
        Some(element)
    }

    /// Removes `front` elements from the head and `back` from the tail
    /// (`LTRIM`): whole chunks are dropped, at most one chunk per end is
    /// edited, so the work is O(chunks), not O(elements).
    pub(crate) fn drop_ends(&mut self, front: usize, back: usize) {
        for (end, mut left) in [(End::Left, front), (End::Right, back)] {
            while left > 0 && self.len > 0 {
                let index = match end {
                    End::Left => 0,
                    End::Right => self.chunks.len() - 1,
                };
                let count = self.chunks[index].count;
                if count <= left {
                    self.remove_chunk(index);
                    self.len -= count;
                    left -= count;
                } else {
                    self.pop(end);
                    left -= 1;
                }
            }
        }
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

    /// Element `index` (`index < len`).
    pub(crate) fn get(&self, index: usize) -> &[u8] {
        let (chunk, inner) = self.find(index);
        self.chunks[chunk].get(inner)
    }

    /// Replaces element `index` (`index < len`), splitting its chunk when
    /// it outgrows the limit.
    pub(crate) fn set(&mut self, index: usize, element: &[u8], fill: i64) {
        let (chunk, inner) = self.find(index);
        let mut encoded = Vec::with_capacity(encoded_len(element.len()));
        push_element(&mut encoded, element);
        self.change_chunk(chunk, |c| {
            let (start, end) = c.locate(inner);
            c.data.splice(start..end, encoded);
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
            c.data.splice(start..start, encoded);
            c.count += 1;
        });
        self.len += 1;
        self.split_if_needed(chunk, fill);
    }

    /// Splits chunk `index` in halves (repeatedly) while it is over the
    /// limit.
    fn split_if_needed(&mut self, index: usize, fill: i64) {
        let chunk = &self.chunks[index];
        if chunk_fits(fill, chunk.count, chunk.data.len()) {
            return;
        }
        let elements: Vec<&[u8]> = chunk.iter().collect();
        let mut pieces = Vec::new();
        let mut current = ListChunk::default();
        for element in elements {
            let size = encoded_len(element.len());
            if current.count > 0 && !chunk_fits(fill, current.count + 1, current.data.len() + size)
            {
                pieces.push(std::mem::take(&mut current));
            }
            push_element(&mut current.data, element);
            current.count += 1;
        }
        pieces.push(current);
        self.remove_chunk(index);
        for (offset, mut piece) in pieces.into_iter().enumerate() {
            piece.data.shrink_to_fit();
            self.insert_chunk(index + offset, piece);
        }
    }

    /// Every element, front to back.
    pub(crate) fn iter(&self) -> impl DoubleEndedIterator<Item = &[u8]> {
        self.chunks.iter().flat_map(|c| c.iter())
    }

    /// Rebuilds the list from `keep` (which elements stay, by index): used
    /// by `LREM` and `LTRIM`. Chunks with nothing removed stay shared;
    /// neighbours that fit together are merged.
    pub(crate) fn retain(&mut self, mut keep: impl FnMut(usize, &[u8]) -> bool, fill: i64) {
        let old = std::mem::take(&mut self.chunks);
        self.bytes = 0;
        self.len = 0;
        let mut index = 0;
        let mut pending: Option<ListChunk> = None;
        for chunk in old {
            let flags: Vec<bool> = chunk
                .iter()
                .enumerate()
                .map(|(i, e)| keep(index + i, e))
                .collect();
            index += chunk.count;
            if flags.iter().all(|&k| k) && pending.is_none() {
                self.len += chunk.count;
                self.bytes += chunk.heap_bytes();
                self.chunks.push_back(chunk);
                continue;
            }
            let mut built = pending.take().unwrap_or_default();
            for (element, _) in chunk.iter().zip(&flags).filter(|(_, k)| **k) {
                push_element(&mut built.data, element);
                built.count += 1;
            }
            // Keep merging while the next chunk might fit; flush a chunk
            // past half the limit.
            if built.count > 0 && !chunk_fits(fill, built.count * 2, built.data.len() * 2) {
                self.flush_built(built, fill);
            } else {
                pending = Some(built);
            }
        }
        if let Some(built) = pending {
            self.flush_built(built, fill);
        }
    }

    fn flush_built(&mut self, mut built: ListChunk, fill: i64) {
        if built.count == 0 {
            return;
        }
        built.data.shrink_to_fit();
        self.len += built.count;
        let at = self.chunks.len();
        self.insert_chunk(at, built);
        self.split_if_needed(at, fill);
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

    /// Element `index` (`index < len`).
    pub(crate) fn get(self, index: usize) -> &'a [u8] {
        match self {
            ListRef::Packed(run, count) => ListChunk::get_in(run, count, index),
            ListRef::Big(list) => list.get(index),
        }
    }

    /// Elements `start..=stop` (in range), front to back, to `visit`.
    pub(crate) fn range(self, start: usize, stop: usize, mut visit: impl FnMut(&'a [u8])) {
        let take = stop + 1 - start;
        match self {
            ListRef::Packed(run, _) => run_iter(run).skip(start).take(take).for_each(visit),
            ListRef::Big(list) => {
                let (mut chunk, inner) = list.find(start);
                let mut left = take;
                let mut skip = inner;
                while left > 0 {
                    for element in list.chunks[chunk].iter().skip(skip).take(left) {
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
    pub(crate) fn walk(self, forward: bool, mut visit: impl FnMut(usize, &'a [u8]) -> bool) {
        let len = self.len();
        let mut go = |iter: &mut dyn Iterator<Item = &'a [u8]>| {
            for (i, element) in iter.enumerate() {
                let index = if forward { i } else { len - 1 - i };
                if !visit(index, element) {
                    return;
                }
            }
        };
        match (self, forward) {
            (ListRef::Packed(run, _), true) => go(&mut run_iter(run)),
            (ListRef::Packed(run, _), false) => go(&mut run_iter(run).rev()),
            (ListRef::Big(list), true) => go(&mut list.iter()),
            (ListRef::Big(list), false) => go(&mut list.iter().rev()),
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
            Repr::Frozen(frozen) => frozen.chunks.iter().flat_map(|c| c.iter()).for_each(visit),
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

    fn contents(list: &BigList) -> Vec<Vec<u8>> {
        list.iter().map(<[u8]>::to_vec).collect()
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
        let mut list = BigList::new();
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
        assert!(list.chunks.iter().all(|c| c.data.len() <= 8192));
        for index in [0, 1, 777, 10_000, 19_999] {
            assert_eq!(list.get(index), &model[index][..]);
        }
        for _ in 0..5_000 {
            assert_eq!(list.pop(End::Left).unwrap(), model.pop_front().unwrap());
            assert_eq!(list.pop(End::Right).unwrap(), model.pop_back().unwrap());
        }
        assert_eq!(contents(&list), Vec::from(model));
    }

    #[test]
    fn positive_fill_caps_the_count_per_chunk() {
        let mut list = BigList::new();
        for i in 0..100 {
            list.push(End::Right, &item(i), 4);
        }
        assert_eq!(list.chunks.len(), 25);
        list.insert_at(50, b"mid", 4);
        assert!(list.chunks.iter().all(|c| c.count <= 4));
        assert_eq!(list.get(50), b"mid");
        assert_eq!(list.get(51), b"e50");
    }

    #[test]
    fn set_and_insert_split_overflowing_chunks() {
        let mut list = BigList::new();
        for i in 0..2000 {
            list.push(End::Right, &item(i), -1);
        }
        let big = vec![b'z'; 3000];
        list.set(1000, &big, -1);
        list.insert_at(500, &big, -1);
        assert!(
            list.chunks
                .iter()
                .all(|c| c.count == 1 || c.data.len() <= 4096)
        );
        assert_eq!(list.get(1001), &big[..]);
        assert_eq!(list.get(500), &big[..]);
        assert_eq!(list.len(), 2001);
    }

    #[test]
    fn drop_ends_removes_whole_chunks_and_keeps_the_middle() {
        let mut list = BigList::new();
        for i in 0..10_000 {
            list.push(End::Right, &item(i), -2);
        }
        list.drop_ends(3_001, 2_999);
        assert_eq!(list.len(), 4_000);
        let expected: Vec<Vec<u8>> = (3_001..7_001).map(item).collect();
        assert_eq!(contents(&list), expected);
        assert_eq!(list.get(0), b"e3001");
        list.drop_ends(4_000, 0);
        assert_eq!((list.len(), list.chunks.len(), list.bytes), (0, 0, 0));
    }

    #[test]
    fn retain_keeps_order_merges_and_shares_untouched_chunks() {
        let mut list = BigList::new();
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
        let mut list = BigList::new();
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
