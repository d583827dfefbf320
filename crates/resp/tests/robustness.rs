//! Hostile input: no panics, no up-front allocation of announced lengths, and
//! decoding work linear in the input however it is chunked.

use bytes::BytesMut;
use proptest::prelude::*;
use redigo_resp::decode::MIN_READ_AHEAD;
use redigo_resp::{FrameCodec, Limits, RequestCodec};
use tokio_util::codec::Decoder;

/// Small limits so that random input reaches every limit check.
fn small_limits() -> Limits {
    Limits {
        max_bulk_len: 1000,
        max_inline_len: 64,
        max_multibulk_len: 100,
        max_depth: 4,
    }
}

/// The most spare capacity a decode call may leave behind: room for as much
/// again as is buffered (at least one `MIN_READ_AHEAD` read), doubled for `Vec`-style
/// growth. A decoder that reserved an announced length would exceed it.
fn capacity_bound(before: usize, len: usize) -> usize {
    before.max(2 * (len.max(MIN_READ_AHEAD) + len))
}

/// Feeds `chunks` to `decoder`, checking after every call that the buffer did
/// not grow beyond [`capacity_bound`]. Stops at the first error.
fn feed<D: Decoder>(decoder: &mut D, chunks: &[&[u8]]) {
    let mut buf = BytesMut::new();
    for chunk in chunks {
        buf.extend_from_slice(chunk);
        loop {
            let before = buf.capacity();
            let result = decoder.decode(&mut buf);
            assert!(
                buf.capacity() <= capacity_bound(before, buf.len()),
                "capacity grew from {before} to {} with {} bytes buffered",
                buf.capacity(),
                buf.len()
            );
            match result {
                Ok(Some(_)) => continue,
                Ok(None) => break,
                Err(_) => return,
            }
        }
    }
}

/// Byte soup biased towards RESP syntax, so it gets past the first byte.
fn resp_ish_bytes() -> impl Strategy<Value = Vec<u8>> {
    let token = prop_oneof![
        any::<u8>().prop_map(|b| vec![b]),
        prop::sample::select(vec![
            &b"*"[..],
            b"$",
            b"+",
            b"-",
            b":",
            b"\r\n",
            b"\r",
            b"\n",
            b"\0",
            b"\"",
            b"'",
            b"\\x4",
            b"-1",
            b"0",
            b"3",
            b"99",
            b"2147483647",
            b"536870912",
            b" ",
        ])
        .prop_map(|t| t.to_vec()),
    ];
    proptest::collection::vec(token, 0..120).prop_map(|tokens| tokens.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_bytes_never_panic_or_overallocate(
        input in resp_ish_bytes(),
        cut in any::<prop::sample::Index>(),
    ) {
        let cut = cut.index(input.len() + 1);
        let chunks = [&input[..cut], &input[cut..]];
        feed(&mut RequestCodec::with_limits(small_limits()), &chunks);
        feed(&mut RequestCodec::new(), &chunks);
        feed(&mut FrameCodec::with_limits(small_limits()), &chunks);
        feed(&mut FrameCodec::new(), &chunks);
    }
}

#[test]
fn huge_announced_bulk_is_not_allocated() {
    for (wire, name) in [
        (&b"*1\r\n$536870912\r\nabc"[..], "request"),
        (&b"$536870912\r\nabc"[..], "reply"),
    ] {
        let mut buf = BytesMut::from(wire);
        let result = if name == "request" {
            RequestCodec::new().decode(&mut buf).map(|r| r.is_some())
        } else {
            FrameCodec::new().decode(&mut buf).map(|f| f.is_some())
        };
        assert!(!result.unwrap(), "{name}: incomplete bulk decoded");
        assert!(
            buf.capacity() <= 4 * MIN_READ_AHEAD,
            "{name}: reserved {} bytes for a 3-byte partial payload",
            buf.capacity()
        );
    }
}

#[test]
fn huge_announced_count_waits_without_error() {
    let mut codec = RequestCodec::new();
    let mut buf = BytesMut::from(&b"*2147483647\r\n$1\r\nx\r\n"[..]);
    assert_eq!(codec.decode(&mut buf).unwrap(), None);
    assert!(buf.is_empty(), "elements are consumed as they arrive");
    assert!(!codec.is_idle());
}

/// One MiB of payload.
const BIG: usize = 1024 * 1024;

#[test]
fn big_request_bulk_fed_byte_by_byte_is_scanned_once() {
    let mut wire = format!("*2\r\n$3\r\nSET\r\n${BIG}\r\n").into_bytes();
    let header_len = wire.len();
    wire.extend(std::iter::repeat_n(b'\r', BIG));
    wire.extend_from_slice(b"\r\n");
    let mut codec = RequestCodec::new();
    let mut buf = BytesMut::new();
    let mut decoded = None;
    for byte in &wire {
        buf.extend_from_slice(std::slice::from_ref(byte));
        if let Some(request) = codec.decode(&mut buf).unwrap() {
            decoded = Some(request);
        }
    }
    let request = decoded.expect("request decoded");
    assert_eq!(request.args()[1].len(), BIG);
    // Only the length lines are searched for line ends; the payload (all CRs
    // here) never is, and a partial line is not rescanned on every byte.
    assert!(
        codec.stats().bytes_scanned <= header_len as u64,
        "scanned {} bytes for {header_len} header bytes",
        codec.stats().bytes_scanned
    );
}

#[test]
fn big_reply_fed_byte_by_byte_is_scanned_once() {
    // A long status line and a big array of integers: every byte is part of a
    // line, so linear work means scanning each byte a bounded number of times.
    let mut wire = b"+".to_vec();
    wire.extend(std::iter::repeat_n(b'x', 60 * 1024));
    wire.extend_from_slice(b"\r\n");
    let elements = 100_000;
    wire.extend_from_slice(format!("*{elements}\r\n").as_bytes());
    for i in 0..elements {
        wire.extend_from_slice(format!(":{i}\r\n").as_bytes());
    }
    let mut codec = FrameCodec::new();
    let mut buf = BytesMut::new();
    let mut frames = Vec::new();
    for byte in &wire {
        buf.extend_from_slice(std::slice::from_ref(byte));
        while let Some(frame) = codec.decode(&mut buf).unwrap() {
            frames.push(frame);
        }
    }
    assert_eq!(frames.len(), 2);
    assert_eq!(frames[1].as_array().map(<[_]>::len), Some(elements));
    // Each arrival scans the new byte once; finding a CR whose LF is still
    // missing costs one more look at it.
    assert!(
        codec.stats().bytes_scanned <= 2 * wire.len() as u64,
        "scanned {} bytes for {} input bytes",
        codec.stats().bytes_scanned,
        wire.len()
    );
}

#[test]
fn long_inline_line_fed_byte_by_byte_is_scanned_once() {
    let mut wire = b"ECHO ".to_vec();
    wire.extend(std::iter::repeat_n(b'y', 60 * 1024));
    wire.extend_from_slice(b"\r\n");
    let mut codec = RequestCodec::new();
    let mut buf = BytesMut::new();
    let mut decoded = 0;
    for byte in &wire {
        buf.extend_from_slice(std::slice::from_ref(byte));
        while codec.decode(&mut buf).unwrap().is_some() {
            decoded += 1;
        }
    }
    assert_eq!(decoded, 1);
    assert!(codec.stats().bytes_scanned <= wire.len() as u64);
}
