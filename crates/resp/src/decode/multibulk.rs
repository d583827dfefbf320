//! Multibulk requests: Redis's `processMultibulkBuffer`.
//!
//! Faithful to Redis 7.0 in its leniencies as well as its errors:
//!
//! * A length line ends at the first `\r`, and Redis only requires that *some*
//!   byte follows it (it never checks that it is `\n`); the two are skipped.
//! * The two bytes after a bulk payload are skipped unchecked as well.
//! * Counts and lengths are parsed by `string2ll` rules ([`parse_decimal`]).
//! * A count `<= 0` is an empty request, ignored; a count above the limit is
//!   `invalid multibulk length`; a length that is negative or above
//!   `proto-max-bulk-len` is `invalid bulk length`.
//! * Each `$` line is validated as soon as its line end arrives, before its
//!   payload.

use bytes::{Buf, Bytes, BytesMut};

use super::line_scan::LineScanner;
use super::request::{Policy, Progress};
use super::{DecodeStats, MAX_PREALLOCATED_ELEMENTS, reserve_for_pending};
use crate::decimal::parse_decimal;
use crate::limits::{UNAUTHENTICATED_MAX_BULK_LEN, UNAUTHENTICATED_MAX_MULTIBULK_LEN};
use crate::{ProtocolError, Request};

/// Bytes after a bulk payload (`\r\n`, not verified, as in Redis).
const PAYLOAD_TRAILER_LEN: usize = 2;

/// A multibulk request whose count line has been consumed.
#[derive(Debug)]
pub(super) struct PartialMultibulk {
    /// Arguments still to come.
    remaining: u64,
    /// Arguments received so far.
    args: Vec<Bytes>,
    /// The announced length of the argument whose payload is awaited.
    bulk_len: Option<usize>,
}

impl PartialMultibulk {
    /// Bytes of the arguments received so far.
    pub(super) fn args_len(&self) -> usize {
        self.args.iter().map(|arg| arg.len()).sum()
    }
}

/// Finds the `\r` that ends a length line, and checks that the byte after it
/// has arrived too. `Ok(None)` means wait; too much data without a `\r` is
/// `too_big`.
fn length_line_end(
    src: &BytesMut,
    scanner: &mut LineScanner,
    policy: &Policy,
    stats: &mut DecodeStats,
    too_big: ProtocolError,
) -> Result<Option<usize>, ProtocolError> {
    match scanner.find_in_c_string(src, b'\r', stats) {
        None if src.len() > policy.limits.max_inline_len => Err(too_big),
        Some(cr) if cr + 1 < src.len() => Ok(Some(cr)),
        _ => Ok(None),
    }
}

/// Consumes the `*<count>` line.
pub(super) fn decode_count(
    src: &mut BytesMut,
    scanner: &mut LineScanner,
    policy: &Policy,
    stats: &mut DecodeStats,
) -> Result<Progress, ProtocolError> {
    let Some(cr) = length_line_end(
        src,
        scanner,
        policy,
        stats,
        ProtocolError::TooBigMultibulkCount,
    )?
    else {
        return Ok(Progress::NeedMore);
    };
    let count = parse_decimal(&src[1..cr]).ok_or(ProtocolError::InvalidMultibulkLength)?;
    if count > 0 && count.unsigned_abs() > policy.limits.max_multibulk_len {
        return Err(ProtocolError::InvalidMultibulkLength);
    }
    if policy.auth_required && count > 0 && count.unsigned_abs() > UNAUTHENTICATED_MAX_MULTIBULK_LEN
    {
        return Err(ProtocolError::UnauthenticatedMultibulkLength);
    }
    src.advance(cr + 2);
    scanner.reset();
    if count <= 0 {
        return Ok(Progress::Empty);
    }
    let count = count.unsigned_abs();
    let preallocate = usize::try_from(count).map_or(MAX_PREALLOCATED_ELEMENTS, |count| {
        count.min(MAX_PREALLOCATED_ELEMENTS)
    });
    Ok(Progress::Started(PartialMultibulk {
        remaining: count,
        args: Vec::with_capacity(preallocate),
        bulk_len: None,
    }))
}

/// Consumes as many `$<len>` + payload pairs as are complete.
pub(super) fn decode_args(
    partial: &mut PartialMultibulk,
    src: &mut BytesMut,
    scanner: &mut LineScanner,
    policy: &Policy,
    stats: &mut DecodeStats,
) -> Result<Progress, ProtocolError> {
    loop {
        let len = match partial.bulk_len {
            Some(len) => len,
            None => {
                let Some(len) = decode_bulk_len(src, scanner, policy, stats)? else {
                    return Ok(Progress::NeedMore);
                };
                partial.bulk_len = Some(len);
                len
            }
        };
        let needed = len.saturating_add(PAYLOAD_TRAILER_LEN);
        if src.len() < needed {
            reserve_for_pending(src, needed - src.len());
            return Ok(Progress::NeedMore);
        }
        let arg = src.split_to(len).freeze();
        src.advance(PAYLOAD_TRAILER_LEN);
        partial.args.push(arg);
        partial.bulk_len = None;
        partial.remaining -= 1;
        if partial.remaining == 0 {
            return Ok(Progress::Request(Request::new(std::mem::take(
                &mut partial.args,
            ))));
        }
    }
}

/// Consumes a `$<len>` line and returns the length, validated.
fn decode_bulk_len(
    src: &mut BytesMut,
    scanner: &mut LineScanner,
    policy: &Policy,
    stats: &mut DecodeStats,
) -> Result<Option<usize>, ProtocolError> {
    let Some(cr) = length_line_end(src, scanner, policy, stats, ProtocolError::TooBigBulkCount)?
    else {
        return Ok(None);
    };
    if src[0] != b'$' {
        return Err(ProtocolError::ExpectedBulk { got: src[0] });
    }
    let len = parse_decimal(&src[1..cr])
        .and_then(|len| u64::try_from(len).ok())
        .filter(|&len| len <= policy.limits.max_bulk_len)
        .ok_or(ProtocolError::InvalidBulkLength)?;
    if policy.auth_required && len > UNAUTHENTICATED_MAX_BULK_LEN {
        return Err(ProtocolError::UnauthenticatedBulkLength);
    }
    // Only reachable on targets where usize is narrower than the limit.
    let len = usize::try_from(len).map_err(|_| ProtocolError::InvalidBulkLength)?;
    src.advance(cr + 2);
    scanner.reset();
    Ok(Some(len))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn huge_count_preallocates_little() {
        let mut src = BytesMut::from(&b"*2147483647\r\n"[..]);
        let progress = decode_count(
            &mut src,
            &mut LineScanner::default(),
            &Policy::default(),
            &mut DecodeStats::default(),
        )
        .unwrap();
        let Progress::Started(partial) = progress else {
            panic!("count line not accepted");
        };
        assert_eq!(partial.remaining, 2_147_483_647);
        assert!(partial.args.capacity() <= MAX_PREALLOCATED_ELEMENTS);
    }
}
