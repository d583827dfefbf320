//! Request decoding behaviour that does not need the oracle: what Redis
//! accepts, ignores and how it splits requests.

use bytes::{Bytes, BytesMut};
use redigo_resp::{Limits, ProtocolError, RequestCodec};
use tokio_util::codec::Decoder;

/// Decodes everything in `input` at once; returns the requests and the error
/// that stopped decoding, if any.
fn decode_all(codec: &mut RequestCodec, input: &[u8]) -> (Vec<Vec<Bytes>>, Option<ProtocolError>) {
    let mut buf = BytesMut::from(input);
    let mut requests = Vec::new();
    loop {
        match codec.decode(&mut buf) {
            Ok(Some(request)) => requests.push(request.into_args()),
            Ok(None) => return (requests, None),
            Err(error) => return (requests, Some(error)),
        }
    }
}

fn args(list: &[&str]) -> Vec<Bytes> {
    list.iter()
        .map(|arg| Bytes::copy_from_slice(arg.as_bytes()))
        .collect()
}

#[test]
fn multibulk_and_inline_requests() {
    let (requests, error) = decode_all(
        &mut RequestCodec::new(),
        b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nhello\r\nGET k\r\nECHO \"a b\"\nPING\r\n",
    );
    assert!(error.is_none());
    assert_eq!(
        requests,
        [
            args(&["SET", "k", "hello"]),
            args(&["GET", "k"]),
            args(&["ECHO", "a b"]),
            args(&["PING"])
        ]
    );
}

#[test]
fn empty_requests_are_consumed_silently() {
    let mut codec = RequestCodec::new();
    let mut buf = BytesMut::from(&b"\r\n\n   \r\n*0\r\n*-1\r\n*-7\r\n"[..]);
    assert_eq!(codec.decode(&mut buf).unwrap(), None);
    assert!(buf.is_empty(), "left over: {buf:?}");
    let (requests, _) = decode_all(&mut codec, b"\r\n*0\r\nPING\r\n");
    assert_eq!(requests, [args(&["PING"])]);
}

#[test]
fn redis_leniencies_are_kept() {
    // The byte after '\r' in a length line and the two bytes after a payload
    // are skipped unchecked, as in Redis.
    let (requests, error) = decode_all(
        &mut RequestCodec::new(),
        b"*1\rX$4\r\nPINGab*1\r\n$1\r\nx\r\n",
    );
    assert!(error.is_none(), "{error:?}");
    assert_eq!(requests, [args(&["PING"]), args(&["x"])]);
}

#[test]
fn bulk_length_line_is_checked_before_the_payload() {
    let (_, error) = decode_all(&mut RequestCodec::new(), b"*1\r\n$x\r\n");
    assert!(matches!(error, Some(ProtocolError::InvalidBulkLength)));
    // Without its line end the length is not judged yet.
    let (_, error) = decode_all(&mut RequestCodec::new(), b"*1\r\n$x");
    assert!(error.is_none());
}

#[test]
fn limits_apply_and_can_change_at_runtime() {
    let mut codec = RequestCodec::with_limits(Limits {
        max_bulk_len: 4,
        ..Limits::default()
    });
    let (_, error) = decode_all(&mut codec, b"*1\r\n$5\r\nhello\r\n");
    assert!(matches!(error, Some(ProtocolError::InvalidBulkLength)));
    codec.set_limits(Limits::default());
    let (requests, error) = decode_all(&mut codec, b"*1\r\n$5\r\nhello\r\n");
    assert!(error.is_none());
    assert_eq!(requests, [args(&["hello"])]);
}

#[test]
fn unauthenticated_limits() {
    let mut codec = RequestCodec::new();
    codec.set_auth_required(true);
    let (_, error) = decode_all(&mut codec, b"*11\r\n");
    assert!(matches!(
        error,
        Some(ProtocolError::UnauthenticatedMultibulkLength)
    ));
    let (_, error) = decode_all(&mut codec, b"*1\r\n$16385\r\n");
    assert!(matches!(
        error,
        Some(ProtocolError::UnauthenticatedBulkLength)
    ));
    let (requests, error) = decode_all(&mut codec, b"*2\r\n$4\r\nAUTH\r\n$2\r\npw\r\n");
    assert!(error.is_none());
    assert_eq!(requests.len(), 1);
}
