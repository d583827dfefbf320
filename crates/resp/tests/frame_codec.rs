//! Client-side frame decoding: round trips and chunking independence.

use bytes::{Bytes, BytesMut};
use proptest::prelude::*;
use redigo_resp::{Frame, FrameCodec, ProtocolError};
use tokio_util::codec::{Decoder, Encoder};

/// Status and error lines never contain CR or LF (the encoder would replace them).
fn line_text() -> impl Strategy<Value = Bytes> {
    proptest::collection::vec(
        any::<u8>().prop_filter("no CR/LF", |b| *b != b'\r' && *b != b'\n'),
        0..12,
    )
    .prop_map(Bytes::from)
}

fn frame() -> impl Strategy<Value = Frame> {
    let leaf = prop_oneof![
        line_text().prop_map(Frame::Simple),
        line_text().prop_map(Frame::Error),
        any::<i64>().prop_map(Frame::Integer),
        proptest::collection::vec(any::<u8>(), 0..24).prop_map(|b| Frame::Bulk(Bytes::from(b))),
        Just(Frame::Null),
        Just(Frame::NullArray),
    ];
    leaf.prop_recursive(4, 48, 5, |inner| {
        proptest::collection::vec(inner, 0..5).prop_map(Frame::Array)
    })
}

fn encode_all(frames: &[Frame]) -> Vec<u8> {
    let mut codec = FrameCodec::new();
    let mut buf = BytesMut::new();
    for frame in frames {
        codec.encode(frame, &mut buf).expect("encoding cannot fail");
    }
    buf.to_vec()
}

/// Feeds `chunks` one after the other, decoding everything available after
/// each, as a network read loop does.
fn decode_chunks<'a>(
    chunks: impl IntoIterator<Item = &'a [u8]>,
) -> Result<Vec<Frame>, ProtocolError> {
    let mut codec = FrameCodec::new();
    let mut buf = BytesMut::new();
    let mut frames = Vec::new();
    for chunk in chunks {
        buf.extend_from_slice(chunk);
        while let Some(frame) = codec.decode(&mut buf)? {
            frames.push(frame);
        }
    }
    match codec.decode_eof(&mut buf)? {
        Some(frame) => frames.push(frame),
        None => assert!(buf.is_empty(), "undecoded bytes left: {buf:?}"),
    }
    Ok(frames)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn encode_then_decode_is_identity(frames in proptest::collection::vec(frame(), 1..6)) {
        let wire = encode_all(&frames);
        prop_assert_eq!(decode_chunks([&wire[..]]).unwrap(), frames);
    }

    #[test]
    fn any_two_way_split_decodes_the_same(frames in proptest::collection::vec(frame(), 1..4)) {
        let wire = encode_all(&frames);
        for split in 0..=wire.len() {
            let (head, tail) = wire.split_at(split);
            prop_assert_eq!(&decode_chunks([head, tail]).unwrap(), &frames, "split at {}", split);
        }
    }

    #[test]
    fn any_three_way_split_decodes_the_same(
        frames in proptest::collection::vec(frame(), 1..4),
        cuts in proptest::collection::vec(any::<prop::sample::Index>(), 2),
    ) {
        let wire = encode_all(&frames);
        let mut at: Vec<usize> = cuts.iter().map(|cut| cut.index(wire.len() + 1)).collect();
        at.sort_unstable();
        let chunks = [&wire[..at[0]], &wire[at[0]..at[1]], &wire[at[1]..]];
        prop_assert_eq!(decode_chunks(chunks).unwrap(), frames);
    }

    #[test]
    fn byte_at_a_time_decodes_the_same(frames in proptest::collection::vec(frame(), 1..4)) {
        let wire = encode_all(&frames);
        prop_assert_eq!(decode_chunks(wire.chunks(1)).unwrap(), frames);
    }
}

#[test]
fn decodes_every_kind_of_reply() {
    let wire = b"+OK\r\n-ERR bad\r\n:-12\r\n$3\r\nfoo\r\n$0\r\n\r\n$-1\r\n*-1\r\n*0\r\n*2\r\n*1\r\n:1\r\n$1\r\nx\r\n";
    assert_eq!(
        decode_chunks([&wire[..]]).unwrap(),
        [
            Frame::simple("OK"),
            Frame::error("ERR bad"),
            Frame::Integer(-12),
            Frame::bulk("foo"),
            Frame::bulk(""),
            Frame::Null,
            Frame::NullArray,
            Frame::Array(vec![]),
            Frame::Array(vec![
                Frame::Array(vec![Frame::Integer(1)]),
                Frame::bulk("x")
            ]),
        ]
    );
}

#[test]
fn malformed_replies_are_errors() {
    let cases: [(&[u8], &str); 9] = [
        (b"?\r\n", "ERR Protocol error: got '?' as reply type byte"),
        (b":12a\r\n", "ERR Protocol error: invalid integer reply"),
        (b"$-2\r\n", "ERR Protocol error: invalid bulk length"),
        (b"$3\r\nfoox\r\n", "ERR Protocol error: expected CRLF"),
        (b"+OK\rx", "ERR Protocol error: expected CRLF"),
        (b"*-2\r\n", "ERR Protocol error: invalid multibulk length"),
        (b"*1x\r\n", "ERR Protocol error: invalid multibulk length"),
        (b"\r\n", "ERR Protocol error: got ' ' as reply type byte"),
        (
            b"*2\r\n:1\r\n",
            "ERR Protocol error: connection closed in the middle of a frame",
        ),
    ];
    for (wire, message) in cases {
        let error = decode_chunks([wire]).expect_err("malformed");
        assert_eq!(
            error.to_string(),
            message,
            "{:?}",
            String::from_utf8_lossy(wire)
        );
    }
}

#[test]
fn nesting_is_bounded() {
    let depth = redigo_resp::MAX_FRAME_DEPTH + 1;
    let wire = b"*1\r\n".repeat(depth);
    let error = decode_chunks([&wire[..]]).expect_err("too deep");
    assert!(
        matches!(error, ProtocolError::TooDeep { limit } if limit == depth - 1),
        "{error}"
    );
    // One level less is fine.
    let mut wire = b"*1\r\n".repeat(depth - 1);
    wire.extend_from_slice(b":7\r\n");
    let frames = decode_chunks([&wire[..]]).unwrap();
    assert_eq!(frames.len(), 1);
}

#[test]
fn bulk_payloads_share_the_read_buffer() {
    let mut codec = FrameCodec::new();
    let mut buf = BytesMut::from(&b"$5\r\nhello\r\n"[..]);
    let start = buf.as_ptr() as usize;
    let frame = codec.decode(&mut buf).unwrap().unwrap();
    let payload = frame.as_bulk().unwrap();
    // Zero-copy: the payload points into the original allocation, 4 bytes in.
    assert_eq!(payload.as_ptr() as usize, start + 4);
}
