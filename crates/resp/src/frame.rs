//! The RESP2 value model.

use bytes::Bytes;

/// One RESP2 value, as sent by a server (replies) or a client (requests are
/// arrays of bulk strings).
///
/// Payloads are [`Bytes`], so a decoded bulk string is a slice of the read
/// buffer rather than a copy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Frame {
    /// `+OK\r\n`: a status line; never contains `\r` or `\n`.
    Simple(Bytes),
    /// `-ERR message\r\n`: an error line; never contains `\r` or `\n`.
    Error(Bytes),
    /// `:42\r\n`
    Integer(i64),
    /// `$5\r\nhello\r\n`: binary-safe.
    Bulk(Bytes),
    /// `$-1\r\n`: the null bulk string.
    Null,
    /// `*2\r\n...`: nested frames.
    Array(Vec<Frame>),
    /// `*-1\r\n`: the null array.
    NullArray,
}
