//! Protocol errors, worded exactly as Redis words them.
//!
//! The server-side variants' [`Display`](std::fmt::Display) is the text Redis
//! 7.0 sends after the `-` of the error reply (src/networking.c), so a server
//! can answer `-{error}\r\n` and close the connection, as Redis does. Use
//! [`ProtocolError::encode_reply`] to write that reply: it is byte-exact even
//! for `expected '$', got '<byte>'` with a non-ASCII byte, which a Rust
//! `String` cannot carry verbatim.
//!
//! The reply-side variants (decoding what a server sent, in
//! [`crate::FrameCodec`]) have no Redis counterpart; they use the same
//! `ERR Protocol error: ...` shape so that callers can treat both alike.

use std::io;

use bytes::{BufMut, BytesMut};

/// Why a byte stream is not valid RESP2. After any of these the stream is out
/// of sync: reply with the error (servers) and close the connection.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProtocolError {
    /// `*<count>` is not a strict decimal, or exceeds the multibulk limit.
    #[error("ERR Protocol error: invalid multibulk length")]
    InvalidMultibulkLength,
    /// `$<len>` is not a strict decimal, is negative in a request, or exceeds
    /// `proto-max-bulk-len`.
    #[error("ERR Protocol error: invalid bulk length")]
    InvalidBulkLength,
    /// A multibulk request element does not start with `$`. Redis prints the
    /// offending byte with `%c` and then maps CR and LF to spaces.
    #[error("ERR Protocol error: expected '$', got '{}'", char::from(printable_byte(*got)))]
    ExpectedBulk {
        /// The byte found where `$` was expected.
        got: u8,
    },
    /// More than the inline limit buffered without a newline.
    #[error("ERR Protocol error: too big inline request")]
    TooBigInlineRequest,
    /// More than the inline limit buffered without ending the `*` line.
    #[error("ERR Protocol error: too big mbulk count string")]
    TooBigMultibulkCount,
    /// More than the inline limit buffered without ending a `$` line.
    #[error("ERR Protocol error: too big bulk count string")]
    TooBigBulkCount,
    /// An inline command has an unterminated quote, or a closing quote not
    /// followed by a space.
    #[error("ERR Protocol error: unbalanced quotes in request")]
    UnbalancedQuotes,
    /// A multibulk count above 10 from a client that has not authenticated.
    #[error("ERR Protocol error: unauthenticated multibulk length")]
    UnauthenticatedMultibulkLength,
    /// A bulk length above 16 KiB from a client that has not authenticated.
    #[error("ERR Protocol error: unauthenticated bulk length")]
    UnauthenticatedBulkLength,
    /// Reply decoding: a frame starts with a byte that is no RESP2 type.
    #[error("ERR Protocol error: got '{}' as reply type byte", char::from(printable_byte(*got)))]
    InvalidTypeByte {
        /// The byte found where a type byte was expected.
        got: u8,
    },
    /// Reply decoding: an `:<integer>` line is not a strict decimal.
    #[error("ERR Protocol error: invalid integer reply")]
    InvalidInteger,
    /// Reply decoding: a line or bulk payload is not terminated by CRLF.
    #[error("ERR Protocol error: expected CRLF")]
    MissingCrlf,
    /// Reply decoding: a status, error or integer line exceeds the inline limit.
    #[error("ERR Protocol error: too big reply line")]
    TooBigLine,
    /// Reply decoding: arrays nest deeper than the configured limit.
    #[error("ERR Protocol error: reply nesting deeper than {limit} levels")]
    TooDeep {
        /// The configured [`crate::Limits::max_depth`].
        limit: usize,
    },
    /// The stream ended in the middle of a frame.
    #[error("ERR Protocol error: connection closed in the middle of a frame")]
    Incomplete,
    /// Reading or writing the underlying stream failed.
    #[error("I/O error: {0}")]
    Io(#[from] io::Error),
}

/// Redis's `addReplyErrorFormat` replaces CR and LF with spaces so the reply
/// stays one line; other bytes are emitted as they are.
fn printable_byte(byte: u8) -> u8 {
    match byte {
        b'\r' | b'\n' => b' ',
        other => other,
    }
}

impl ProtocolError {
    /// Whether Redis itself sends this error (as opposed to reply-decoding and
    /// I/O errors, which only a client sees).
    pub fn is_request_error(&self) -> bool {
        matches!(
            self,
            ProtocolError::InvalidMultibulkLength
                | ProtocolError::InvalidBulkLength
                | ProtocolError::ExpectedBulk { .. }
                | ProtocolError::TooBigInlineRequest
                | ProtocolError::TooBigMultibulkCount
                | ProtocolError::TooBigBulkCount
                | ProtocolError::UnbalancedQuotes
                | ProtocolError::UnauthenticatedMultibulkLength
                | ProtocolError::UnauthenticatedBulkLength
        )
    }

    /// Appends the complete error reply (`-ERR Protocol error: ...\r\n`) as
    /// Redis sends it, byte for byte.
    pub fn encode_reply(&self, buf: &mut BytesMut) {
        match self {
            // The only messages carrying a raw byte: write it unconverted, as
            // Redis's `%c` does (a `char` would re-encode bytes >= 0x80).
            ProtocolError::ExpectedBulk { got } => {
                buf.put_slice(b"-ERR Protocol error: expected '$', got '");
                buf.put_u8(printable_byte(*got));
                buf.put_slice(b"'\r\n");
            }
            ProtocolError::InvalidTypeByte { got } => {
                buf.put_slice(b"-ERR Protocol error: got '");
                buf.put_u8(printable_byte(*got));
                buf.put_slice(b"' as reply type byte\r\n");
            }
            other => crate::encode::error(buf, other.to_string().as_bytes()),
        }
    }
}

/// `split_args` found an unterminated quote, or a closing quote followed by
/// something other than whitespace.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unbalanced quotes")]
pub struct UnbalancedQuotes;

impl From<UnbalancedQuotes> for ProtocolError {
    fn from(_: UnbalancedQuotes) -> Self {
        ProtocolError::UnbalancedQuotes
    }
}
