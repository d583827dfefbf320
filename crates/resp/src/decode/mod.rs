//! Incremental decoders: client requests (server side) and any frame
//! (client side, for replies).
//!
//! # Design
//!
//! Data arrives in arbitrary pieces, so a decoder is a state machine that
//! resumes where the previous call stopped instead of re-parsing the buffer
//! from the start:
//!
//! * Everything already understood is *consumed* from the buffer at once:
//!   a length line is dropped as soon as it is parsed, a bulk payload is split
//!   off as soon as it is complete (zero-copy: `split_to(..).freeze()`), and
//!   finished elements wait in the decoder (the argument vector of a request,
//!   a stack of partially filled arrays for replies).
//! * While a line is incomplete, a line scanner remembers how far it has
//!   searched for the terminator, so each byte is examined once.
//! * While a bulk payload is incomplete, the decoder only compares the buffered
//!   length with the announced one.
//!
//! Together this makes decoding linear in the input, however it is chunked;
//! [`DecodeStats::bytes_scanned`] counts the work so tests can check it.
//!
//! Announced lengths are validated against [`crate::Limits`] but never trusted
//! for allocation: `*2147483647` reserves room for at most
//! [`MAX_PREALLOCATED_ELEMENTS`] elements, and while a bulk payload is pending
//! the decoder asks for spare capacity of at most what is already buffered
//! (at least [`MIN_READ_AHEAD`]) and never more than the payload still needs,
//! so the buffer grows in step with the bytes that have actually arrived.

mod inline;
mod line_scan;
mod multibulk;
mod reply;
mod request;

pub(crate) use reply::ReplyDecoder;
pub(crate) use request::RequestDecoder;

use bytes::BytesMut;

/// Element vectors start with room for at most this many entries and grow as
/// elements actually arrive (Redis 7.0 caps its initial `argv` the same way).
pub const MAX_PREALLOCATED_ELEMENTS: usize = 1024;

/// The smallest read-ahead the decoder asks for while a bulk payload is
/// pending: Redis's `PROTO_IOBUF_LEN`, its usual read size.
pub const MIN_READ_AHEAD: usize = 16 * 1024;

/// Counters describing the work a decoder has done since it was created.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DecodeStats {
    /// Bytes examined while searching for line terminators. Stays linear in
    /// the input size no matter how the input is split across reads.
    pub bytes_scanned: u64,
}

/// Makes room for the rest of a bulk payload that is `missing` bytes short,
/// without trusting the announced length: the spare capacity requested is at
/// most what is already buffered (at least [`MIN_READ_AHEAD`]) and never more
/// than `missing`, so memory grows geometrically with the data received.
pub(crate) fn reserve_for_pending(src: &mut BytesMut, missing: usize) {
    let ahead = missing.min(src.len().max(MIN_READ_AHEAD));
    if src.capacity() - src.len() < ahead {
        src.reserve(ahead);
    }
}
