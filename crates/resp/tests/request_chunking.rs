//! Server-side request decoding is independent of how the bytes are chunked,
//! for streams mixing multibulk requests, inline commands and empty requests.

use bytes::{Bytes, BytesMut};
use proptest::prelude::*;
use redigo_resp::{RequestCodec, encode};
use tokio_util::codec::Decoder;

/// One request as it appears on the wire.
#[derive(Clone, Debug)]
enum WireRequest {
    Multibulk(Vec<Vec<u8>>),
    /// Written with double quotes and `\xHH` escapes, ending in `\r\n` or `\n`.
    Inline {
        args: Vec<Vec<u8>>,
        bare_newline: bool,
    },
    /// `\r\n`, `*0\r\n`, `*-1\r\n` or a blank inline line: ignored by Redis.
    Empty(&'static [u8]),
}

fn args() -> impl Strategy<Value = Vec<Vec<u8>>> {
    proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..10), 1..5)
}

fn wire_request() -> impl Strategy<Value = WireRequest> {
    prop_oneof![
        args().prop_map(WireRequest::Multibulk),
        (args(), any::<bool>())
            .prop_map(|(args, bare_newline)| WireRequest::Inline { args, bare_newline }),
        prop::sample::select(vec![
            &b"\r\n"[..],
            b"\n",
            b"*0\r\n",
            b"*-1\r\n",
            b"  \t\r\n"
        ])
        .prop_map(WireRequest::Empty),
    ]
}

/// Quotes `arg` so that `split_args` gives it back unchanged.
fn quote(arg: &[u8], out: &mut Vec<u8>) {
    out.push(b'"');
    for &byte in arg {
        if byte.is_ascii_graphic() && byte != b'"' && byte != b'\\' || byte == b' ' {
            out.push(byte);
        } else {
            out.extend_from_slice(format!("\\x{byte:02x}").as_bytes());
        }
    }
    out.push(b'"');
}

/// The wire bytes and the argument vectors a decoder must produce from them.
fn wire(requests: &[WireRequest]) -> (Vec<u8>, Vec<Vec<Bytes>>) {
    let mut buf = BytesMut::new();
    let mut expected = Vec::new();
    for request in requests {
        match request {
            WireRequest::Multibulk(args) => {
                encode::command(&mut buf, args);
                expected.push(args.iter().map(|a| Bytes::copy_from_slice(a)).collect());
            }
            WireRequest::Inline { args, bare_newline } => {
                let mut line = Vec::new();
                for (i, arg) in args.iter().enumerate() {
                    if i > 0 {
                        line.push(b' ');
                    }
                    quote(arg, &mut line);
                }
                line.extend_from_slice(if *bare_newline { b"\n" } else { b"\r\n" });
                buf.extend_from_slice(&line);
                expected.push(args.iter().map(|a| Bytes::copy_from_slice(a)).collect());
            }
            WireRequest::Empty(bytes) => buf.extend_from_slice(bytes),
        }
    }
    (buf.to_vec(), expected)
}

fn decode_chunks<'a>(chunks: impl IntoIterator<Item = &'a [u8]>) -> Vec<Vec<Bytes>> {
    let mut codec = RequestCodec::new();
    let mut buf = BytesMut::new();
    let mut requests = Vec::new();
    for chunk in chunks {
        buf.extend_from_slice(chunk);
        while let Some(request) = codec.decode(&mut buf).expect("valid stream") {
            requests.push(request.into_args());
        }
    }
    assert!(buf.is_empty(), "undecoded bytes left: {buf:?}");
    assert!(codec.is_idle());
    requests
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn whole_stream_decodes(requests in proptest::collection::vec(wire_request(), 1..8)) {
        let (wire, expected) = wire(&requests);
        prop_assert_eq!(decode_chunks([&wire[..]]), expected);
    }

    #[test]
    fn any_two_way_split_decodes_the_same(requests in proptest::collection::vec(wire_request(), 1..5)) {
        let (wire, expected) = wire(&requests);
        for split in 0..=wire.len() {
            let (head, tail) = wire.split_at(split);
            prop_assert_eq!(&decode_chunks([head, tail]), &expected, "split at {}", split);
        }
    }

    #[test]
    fn any_three_way_split_decodes_the_same(
        requests in proptest::collection::vec(wire_request(), 1..5),
        cuts in proptest::collection::vec(any::<prop::sample::Index>(), 2),
    ) {
        let (wire, expected) = wire(&requests);
        let mut at: Vec<usize> = cuts.iter().map(|cut| cut.index(wire.len() + 1)).collect();
        at.sort_unstable();
        prop_assert_eq!(decode_chunks([&wire[..at[0]], &wire[at[0]..at[1]], &wire[at[1]..]]), expected);
    }

    #[test]
    fn byte_at_a_time_decodes_the_same(requests in proptest::collection::vec(wire_request(), 1..5)) {
        let (wire, expected) = wire(&requests);
        prop_assert_eq!(decode_chunks(wire.chunks(1)), expected);
    }
}
