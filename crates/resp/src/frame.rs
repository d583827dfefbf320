//! The RESP2 value model.
//!
//! [`Frame`] is what [`crate::FrameCodec`] decodes and what both codecs
//! encode. Servers on a hot path can skip it and write replies with
//! [`crate::encode`] directly; requests decode to [`crate::Request`] instead,
//! since they are always flat lists of strings.

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

impl Frame {
    /// A status reply, e.g. `Frame::simple("OK")`.
    pub fn simple(text: impl Into<Bytes>) -> Frame {
        Frame::Simple(text.into())
    }

    /// An error reply; the message starts with its code, e.g.
    /// `Frame::error("ERR syntax error")`.
    pub fn error(message: impl Into<Bytes>) -> Frame {
        Frame::Error(message.into())
    }

    /// A bulk string reply.
    pub fn bulk(payload: impl Into<Bytes>) -> Frame {
        Frame::Bulk(payload.into())
    }

    /// A command as a client sends it: an array of bulk strings.
    pub fn command<A: Into<Bytes>>(args: impl IntoIterator<Item = A>) -> Frame {
        Frame::Array(
            args.into_iter()
                .map(|arg| Frame::Bulk(arg.into()))
                .collect(),
        )
    }

    /// The payload of a bulk string.
    pub fn as_bulk(&self) -> Option<&Bytes> {
        match self {
            Frame::Bulk(payload) => Some(payload),
            _ => None,
        }
    }

    /// The text of a status reply.
    pub fn as_simple(&self) -> Option<&Bytes> {
        match self {
            Frame::Simple(text) => Some(text),
            _ => None,
        }
    }

    /// The message of an error reply.
    pub fn as_error(&self) -> Option<&Bytes> {
        match self {
            Frame::Error(message) => Some(message),
            _ => None,
        }
    }

    /// The value of an integer reply.
    pub fn as_integer(&self) -> Option<i64> {
        match self {
            Frame::Integer(value) => Some(*value),
            _ => None,
        }
    }

    /// The elements of a (non-null) array.
    pub fn as_array(&self) -> Option<&[Frame]> {
        match self {
            Frame::Array(items) => Some(items),
            _ => None,
        }
    }

    /// The elements of a (non-null) array, by value.
    pub fn into_array(self) -> Option<Vec<Frame>> {
        match self {
            Frame::Array(items) => Some(items),
            _ => None,
        }
    }

    /// True for the null bulk string and the null array.
    pub fn is_null(&self) -> bool {
        matches!(self, Frame::Null | Frame::NullArray)
    }

    /// True for an error reply.
    pub fn is_error(&self) -> bool {
        matches!(self, Frame::Error(_))
    }

    /// Appends the wire form of this frame to `buf`.
    ///
    /// ```
    /// use redigo_resp::Frame;
    /// let mut buf = bytes::BytesMut::new();
    /// Frame::Array(vec![Frame::simple("OK"), Frame::Integer(3), Frame::Null]).encode_into(&mut buf);
    /// assert_eq!(&buf[..], b"*3\r\n+OK\r\n:3\r\n$-1\r\n");
    /// ```
    pub fn encode_into(&self, buf: &mut bytes::BytesMut) {
        crate::encode::frame(buf, self);
    }

    /// The wire form of this frame as a new buffer.
    pub fn to_bytes(&self) -> Bytes {
        let mut buf = bytes::BytesMut::new();
        self.encode_into(&mut buf);
        buf.freeze()
    }
}
