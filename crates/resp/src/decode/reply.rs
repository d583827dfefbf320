//! The client-side decoder: any RESP2 frame, nested arrays included.
//!
//! Unlike request decoding this is strict (lines must end in `\r\n`, bulk
//! payloads must be followed by `\r\n`): a client talks to a server it has to
//! trust to be in sync, and a mismatch is better reported than guessed at.
//! Arrays are assembled on an explicit stack of partially filled arrays, so
//! a frame split across many reads is never re-parsed and nesting depth is
//! bounded by [`crate::Limits::max_depth`] rather than by the call stack.

use bytes::{Buf, BytesMut};

use super::line_scan::LineScanner;
use super::{DecodeStats, MAX_PREALLOCATED_ELEMENTS, reserve_for_pending};
use crate::decimal::parse_decimal;
use crate::{Frame, Limits, ProtocolError};

const CRLF: &[u8] = b"\r\n";

/// An array whose header has been read but not all of its elements.
#[derive(Debug)]
struct PartialArray {
    items: Vec<Frame>,
    remaining: usize,
}

/// Decodes complete RESP2 frames from a byte stream.
#[derive(Debug, Default)]
pub(crate) struct ReplyDecoder {
    limits: Limits,
    /// Open arrays, outermost first.
    stack: Vec<PartialArray>,
    /// Announced length of the bulk string whose payload is awaited.
    pending_bulk: Option<usize>,
    scanner: LineScanner,
    stats: DecodeStats,
}

impl ReplyDecoder {
    pub(crate) fn with_limits(limits: Limits) -> ReplyDecoder {
        ReplyDecoder {
            limits,
            ..ReplyDecoder::default()
        }
    }

    pub(crate) fn limits(&self) -> &Limits {
        &self.limits
    }

    pub(crate) fn set_limits(&mut self, limits: Limits) {
        self.limits = limits;
    }

    pub(crate) fn stats(&self) -> DecodeStats {
        self.stats
    }

    /// True when no part of a frame has been consumed and kept.
    pub(crate) fn is_idle(&self) -> bool {
        self.stack.is_empty() && self.pending_bulk.is_none()
    }

    /// Decodes the next complete frame. After an error the decoder resets, but
    /// the stream is out of sync and should be abandoned.
    pub(crate) fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Frame>, ProtocolError> {
        let result = self.decode_frame(src);
        if result.is_err() {
            self.stack.clear();
            self.pending_bulk = None;
            self.scanner.reset();
        }
        result
    }

    fn decode_frame(&mut self, src: &mut BytesMut) -> Result<Option<Frame>, ProtocolError> {
        loop {
            let value = match self.pending_bulk {
                Some(len) => {
                    let needed = len.saturating_add(CRLF.len());
                    if src.len() < needed {
                        reserve_for_pending(src, needed - src.len());
                        return Ok(None);
                    }
                    if &src[len..needed] != CRLF {
                        return Err(ProtocolError::MissingCrlf);
                    }
                    self.pending_bulk = None;
                    let payload = src.split_to(len).freeze();
                    src.advance(CRLF.len());
                    Frame::Bulk(payload)
                }
                None => {
                    let Some(cr) = self.scanner.find(src, b'\r', &mut self.stats) else {
                        if src.len() > self.limits.max_inline_len {
                            return Err(ProtocolError::TooBigLine);
                        }
                        return Ok(None);
                    };
                    if cr + 1 >= src.len() {
                        return Ok(None);
                    }
                    if src[cr + 1] != b'\n' {
                        return Err(ProtocolError::MissingCrlf);
                    }
                    let parsed = self.parse_line(src, cr);
                    self.scanner.reset();
                    match parsed? {
                        Some(value) => value,
                        // A bulk or array header: its contents come next.
                        None => continue,
                    }
                }
            };
            if let Some(frame) = self.attach(value) {
                return Ok(Some(frame));
            }
        }
    }

    /// Consumes the line `src[..cr + 2]` and returns the frame it completes,
    /// or `None` when it opens a bulk string or an array.
    fn parse_line(
        &mut self,
        src: &mut BytesMut,
        cr: usize,
    ) -> Result<Option<Frame>, ProtocolError> {
        let kind = src[0];
        let number = || parse_decimal(&src[1..cr]);
        let frame = match kind {
            b'+' | b'-' => {
                let text = src.split_to(cr).freeze().slice(1..);
                src.advance(CRLF.len());
                return Ok(Some(if kind == b'+' {
                    Frame::Simple(text)
                } else {
                    Frame::Error(text)
                }));
            }
            b':' => Some(Frame::Integer(
                number().ok_or(ProtocolError::InvalidInteger)?,
            )),
            b'$' => match number().ok_or(ProtocolError::InvalidBulkLength)? {
                -1 => Some(Frame::Null),
                len => {
                    let len = u64::try_from(len)
                        .ok()
                        .filter(|&len| len <= self.limits.max_bulk_len)
                        .and_then(|len| usize::try_from(len).ok())
                        .ok_or(ProtocolError::InvalidBulkLength)?;
                    self.pending_bulk = Some(len);
                    None
                }
            },
            b'*' => match number().ok_or(ProtocolError::InvalidMultibulkLength)? {
                -1 => Some(Frame::NullArray),
                0 => Some(Frame::Array(Vec::new())),
                count => {
                    let count = u64::try_from(count)
                        .ok()
                        .filter(|&count| count <= self.limits.max_multibulk_len)
                        .and_then(|count| usize::try_from(count).ok())
                        .ok_or(ProtocolError::InvalidMultibulkLength)?;
                    if self.stack.len() >= self.limits.max_depth {
                        return Err(ProtocolError::TooDeep {
                            limit: self.limits.max_depth,
                        });
                    }
                    self.stack.push(PartialArray {
                        items: Vec::with_capacity(count.min(MAX_PREALLOCATED_ELEMENTS)),
                        remaining: count,
                    });
                    None
                }
            },
            got => return Err(ProtocolError::InvalidTypeByte { got }),
        };
        src.advance(cr + CRLF.len());
        Ok(frame)
    }

    /// Adds a finished value to the innermost open array, closing every array
    /// it completes; returns the frame once the outermost one is complete.
    fn attach(&mut self, mut value: Frame) -> Option<Frame> {
        loop {
            let Some(top) = self.stack.last_mut() else {
                return Some(value);
            };
            top.items.push(value);
            top.remaining -= 1;
            if top.remaining > 0 {
                return None;
            }
            value = Frame::Array(std::mem::take(&mut top.items));
            self.stack.pop();
        }
    }
}
