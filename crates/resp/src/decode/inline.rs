//! Inline commands: Redis's `processInlineBuffer`.
//!
//! A line ends at `\n` (an optional `\r` before it is dropped) and is split
//! with [`crate::split_args`]. More than [`crate::Limits::max_inline_len`]
//! bytes buffered without a newline is `too big inline request`, a blank line
//! is ignored, and bad quoting is `unbalanced quotes in request`.

use bytes::{Buf, BytesMut};

use super::DecodeStats;
use super::line_scan::LineScanner;
use super::request::Progress;
use crate::{Limits, ProtocolError, Request, split_args};

pub(super) fn decode_line(
    src: &mut BytesMut,
    scanner: &mut LineScanner,
    limits: &Limits,
    stats: &mut DecodeStats,
) -> Result<Progress, ProtocolError> {
    let Some(newline) = scanner.find_in_c_string(src, b'\n', stats) else {
        if src.len() > limits.max_inline_len {
            return Err(ProtocolError::TooBigInlineRequest);
        }
        return Ok(Progress::NeedMore);
    };
    let end = if newline > 0 && src[newline - 1] == b'\r' {
        newline - 1
    } else {
        newline
    };
    let args = split_args(&src[..end])?;
    src.advance(newline + 1);
    scanner.reset();
    Ok(if args.is_empty() {
        Progress::Empty
    } else {
        Progress::Request(Request::new(args))
    })
}
