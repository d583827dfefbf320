//! Writing RESP2 replies straight into a [`BytesMut`].
//!
//! A server answers most commands with one small value; building a [`Frame`]
//! for it would allocate (a `Vec` for arrays, often a `Bytes` copy) only to
//! serialize and drop it. These functions write the wire form directly, and
//! integers are formatted on the stack. [`Frame::encode_into`] is built on them.
//!
//! Status and error lines cannot contain CR or LF on the wire; like Redis's
//! `addReplyErrorFormat`, [`simple`] and [`error`] replace them with spaces
//! rather than emit a broken stream.
//!
//! ```
//! use bytes::BytesMut;
//! use redigo_resp::encode;
//!
//! let mut buf = BytesMut::new();
//! encode::array_header(&mut buf, 2);
//! encode::bulk(&mut buf, b"hello");
//! encode::integer(&mut buf, -42);
//! assert_eq!(&buf[..], b"*2\r\n$5\r\nhello\r\n:-42\r\n");
//! ```

use bytes::{BufMut, BytesMut};

use crate::Frame;

const CRLF: &[u8] = b"\r\n";

/// Room for the longest `i64` in decimal: `-9223372036854775808`.
const MAX_I64_DIGITS: usize = 20;

/// Formats `value` into a stack buffer and returns the used tail.
fn format_i64(value: i64, digits: &mut [u8; MAX_I64_DIGITS]) -> &[u8] {
    let mut magnitude = value.unsigned_abs();
    let mut start = digits.len();
    loop {
        start -= 1;
        digits[start] = b'0' + (magnitude % 10) as u8;
        magnitude /= 10;
        if magnitude == 0 {
            break;
        }
    }
    if value < 0 {
        start -= 1;
        digits[start] = b'-';
    }
    &digits[start..]
}

/// Writes `<prefix><decimal>\r\n`, the shape of integers and length headers.
fn prefixed_decimal(buf: &mut BytesMut, prefix: u8, value: i64) {
    let mut digits = [0u8; MAX_I64_DIGITS];
    let digits = format_i64(value, &mut digits);
    buf.reserve(1 + digits.len() + CRLF.len());
    buf.put_u8(prefix);
    buf.put_slice(digits);
    buf.put_slice(CRLF);
}

/// Writes a one-line reply, turning CR/LF into spaces to keep it one line.
fn line(buf: &mut BytesMut, prefix: u8, text: &[u8]) {
    buf.reserve(1 + text.len() + CRLF.len());
    buf.put_u8(prefix);
    let mut rest = text;
    while let Some(pos) = memchr::memchr2(b'\r', b'\n', rest) {
        buf.put_slice(&rest[..pos]);
        buf.put_u8(b' ');
        rest = &rest[pos + 1..];
    }
    buf.put_slice(rest);
    buf.put_slice(CRLF);
}

/// `+<text>\r\n`, e.g. `simple(buf, "OK")`.
pub fn simple(buf: &mut BytesMut, text: impl AsRef<[u8]>) {
    line(buf, b'+', text.as_ref());
}

/// `-<message>\r\n`; `message` includes the error code, e.g.
/// `error(buf, "ERR syntax error")`.
pub fn error(buf: &mut BytesMut, message: impl AsRef<[u8]>) {
    line(buf, b'-', message.as_ref());
}

/// `:<value>\r\n`
pub fn integer(buf: &mut BytesMut, value: i64) {
    prefixed_decimal(buf, b':', value);
}

/// `$<len>\r\n<payload>\r\n`
pub fn bulk(buf: &mut BytesMut, payload: impl AsRef<[u8]>) {
    let payload = payload.as_ref();
    bulk_header(buf, payload.len());
    buf.reserve(payload.len() + CRLF.len());
    buf.put_slice(payload);
    buf.put_slice(CRLF);
}

/// `$<len>\r\n` alone, for a payload the caller writes next (followed by
/// `\r\n`), e.g. when it is assembled from pieces.
pub fn bulk_header(buf: &mut BytesMut, len: usize) {
    prefixed_decimal(buf, b'$', len_to_i64(len));
}

/// `$-1\r\n`: the null bulk string (e.g. `GET` of a missing key).
pub fn null_bulk(buf: &mut BytesMut) {
    buf.put_slice(b"$-1\r\n");
}

/// `*<len>\r\n`; the caller writes `len` elements next.
pub fn array_header(buf: &mut BytesMut, len: usize) {
    prefixed_decimal(buf, b'*', len_to_i64(len));
}

/// `*-1\r\n`: the null array (e.g. `BLPOP` timing out).
pub fn null_array(buf: &mut BytesMut) {
    buf.put_slice(b"*-1\r\n");
}

/// A command as a client sends it: an array of bulk strings.
///
/// ```
/// let mut buf = bytes::BytesMut::new();
/// redigo_resp::encode::command(&mut buf, &["SET", "k", "v"]);
/// assert_eq!(&buf[..], b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n");
/// ```
pub fn command<A: AsRef<[u8]>>(buf: &mut BytesMut, args: &[A]) {
    array_header(buf, args.len());
    for arg in args {
        bulk(buf, arg);
    }
}

/// Lengths come from in-memory buffers, so they always fit in an `i64`.
fn len_to_i64(len: usize) -> i64 {
    i64::try_from(len).unwrap_or(i64::MAX)
}

/// Writes `frame` and everything nested in it.
pub fn frame(buf: &mut BytesMut, frame: &Frame) {
    match frame {
        Frame::Simple(text) => simple(buf, text),
        Frame::Error(message) => error(buf, message),
        Frame::Integer(value) => integer(buf, *value),
        Frame::Bulk(payload) => bulk(buf, payload),
        Frame::Null => null_bulk(buf),
        Frame::Array(items) => {
            array_header(buf, items.len());
            for item in items {
                self::frame(buf, item);
            }
        }
        Frame::NullArray => null_array(buf),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn written(write: impl FnOnce(&mut BytesMut)) -> Vec<u8> {
        let mut buf = BytesMut::new();
        write(&mut buf);
        buf.to_vec()
    }

    #[test]
    fn integers_match_std_formatting() {
        for value in [0, 1, -1, 9, 10, -10, 12345, i64::MAX, i64::MIN] {
            assert_eq!(
                written(|b| integer(b, value)),
                format!(":{value}\r\n").into_bytes()
            );
        }
    }

    #[test]
    fn lines_never_carry_cr_or_lf() {
        assert_eq!(written(|b| error(b, "ERR a\r\nb\nc")), b"-ERR a  b c\r\n");
        assert_eq!(written(|b| simple(b, "OK")), b"+OK\r\n");
    }

    #[test]
    fn nulls_and_headers() {
        assert_eq!(written(null_bulk), b"$-1\r\n");
        assert_eq!(written(null_array), b"*-1\r\n");
        assert_eq!(written(|b| array_header(b, 0)), b"*0\r\n");
        assert_eq!(written(|b| bulk(b, b"")), b"$0\r\n\r\n");
    }
}
