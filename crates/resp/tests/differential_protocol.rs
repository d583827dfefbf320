//! Every protocol error, and the quoting rules of inline commands, compared
//! byte for byte with a real redis-server (the oracle).

use bytes::{Bytes, BytesMut};
use redigo_resp::{ProtocolError, RequestCodec, split_args};
use tokio_util::codec::Decoder;

/// Redis's `PROTO_INLINE_MAX_SIZE`: one byte more than this without a line
/// end is "too big".
const INLINE_MAX: usize = redigo_resp::PROTO_INLINE_MAX_SIZE;

/// Decodes `wire` with a fresh codec until it errors; panics if it does not.
fn our_error(wire: &[u8], auth_required: bool) -> ProtocolError {
    let mut codec = RequestCodec::new();
    codec.set_auth_required(auth_required);
    let mut buf = BytesMut::from(wire);
    loop {
        match codec.decode(&mut buf) {
            Ok(Some(_)) => continue,
            Ok(None) => panic!(
                "no error for {:?}",
                String::from_utf8_lossy(&wire[..wire.len().min(40)])
            ),
            Err(error) => return error,
        }
    }
}

fn assert_same_error_as_redis(redis: &redigo_tests::Oracle, wire: &[u8], auth_required: bool) {
    let error = our_error(wire, auth_required);
    let mut ours = BytesMut::new();
    error.encode_reply(&mut ours);
    let mut conn = redis.connect();
    let theirs = conn.roundtrip(wire);
    let shown = String::from_utf8_lossy(&wire[..wire.len().min(40)]);
    assert_eq!(
        String::from_utf8_lossy(&ours),
        String::from_utf8_lossy(&theirs),
        "reply to {shown:?}"
    );
    assert_eq!(&ours[..], &theirs[..], "reply bytes to {shown:?}");
    if error.to_string().is_ascii() && wire.iter().all(u8::is_ascii) {
        assert_eq!(
            format!("-{error}\r\n").as_bytes(),
            &theirs[..],
            "Display for {shown:?}"
        );
    }
    assert!(
        conn.is_closed(),
        "redis keeps the connection after {shown:?}"
    );
}

/// `prefix` and then filler bytes until, after the `consumed` bytes of
/// complete lines at the front, one byte more than the limit is buffered.
fn too_big(prefix: &[u8], filler: u8, consumed: usize) -> Vec<u8> {
    let mut wire = prefix.to_vec();
    wire.extend(std::iter::repeat_n(
        filler,
        INLINE_MAX + 1 + consumed - prefix.len(),
    ));
    wire
}

#[test]
fn protocol_errors_match_redis() {
    let Some(redis) = redigo_tests::oracle() else {
        return;
    };
    let cases: Vec<Vec<u8>> = vec![
        // invalid multibulk length
        b"*2147483648\r\n".to_vec(),
        b"*01\r\n".to_vec(),
        b"*\r\n".to_vec(),
        b"*-0\r\n".to_vec(),
        b"*+1\r\n".to_vec(),
        b"*1 \r\n".to_vec(),
        b"*99999999999999999999999\r\n".to_vec(),
        // invalid bulk length
        b"*1\r\n$-1\r\n".to_vec(),
        b"*1\r\n$536870913\r\n".to_vec(),
        b"*1\r\n$x\r\n".to_vec(),
        b"*1\r\n$04\r\n".to_vec(),
        b"*1\r\n$\r\n".to_vec(),
        b"*2\r\n$3\r\nGET\r\n$1x\r\n".to_vec(),
        // expected '$', got ...
        b"*1\r\nfoo\r\n".to_vec(),
        b"*3\r\n$3\r\nSET\r\n$1\r\nx\r\nfooz\r\n".to_vec(),
        b"*1\r\n\r\n".to_vec(),
        b"*1\r\n\n\r\n".to_vec(),
        b"*1\r\n\x80\r\n".to_vec(),
        b"*1\r\n*1\r\n".to_vec(),
        // too big ... (no line end within PROTO_INLINE_MAX_SIZE bytes)
        too_big(b"", b'x', 0),
        too_big(b"*", b'1', 0),
        too_big(b"*1\r\n$", b'1', 4),
        // Redis searches for line ends with strchr: a NUL hides them.
        too_big(b"\0PING\r\n", b'x', 0),
        too_big(b"*1\0\r\n", b'x', 0),
        too_big(b"*1\r\n$1\0\r\nx\r\n", b'x', 4),
        // unbalanced quotes
        b"\"PING\r\n".to_vec(),
        b"ECHO \"a\"b\r\n".to_vec(),
        b"ECHO 'a\r\n".to_vec(),
        b"ECHO 'a'b\r\n".to_vec(),
        b"ECHO \"abc\\\"\r\n".to_vec(),
        b"ECHO \"x\n".to_vec(),
    ];
    for wire in &cases {
        assert_same_error_as_redis(&redis, wire, false);
    }
}

#[test]
fn unauthenticated_length_errors_match_redis() {
    let Some(redis) = redigo_tests::oracle_with_args(&["--requirepass", "secret"]) else {
        return;
    };
    for wire in [
        &b"*11\r\n"[..],
        b"*1\r\n$16385\r\n",
        b"*2\r\n$4\r\nAUTH\r\n$16385\r\n",
    ] {
        assert_same_error_as_redis(&redis, wire, true);
    }
    // The limits themselves are accepted.
    let mut conn = redis.connect();
    let mut wire = b"*10\r\n$4\r\nPING\r\n$16384\r\n".to_vec();
    wire.extend(std::iter::repeat_n(b'a', 16384));
    wire.extend_from_slice(b"\r\n");
    for _ in 0..8 {
        wire.extend_from_slice(b"$1\r\nx\r\n");
    }
    let reply = conn.roundtrip(&wire);
    assert!(
        reply.starts_with(b"-NOAUTH"),
        "{}",
        String::from_utf8_lossy(&reply)
    );
    let mut codec = RequestCodec::new();
    codec.set_auth_required(true);
    let request = codec
        .decode(&mut BytesMut::from(&wire[..]))
        .unwrap()
        .unwrap();
    assert_eq!(request.len(), 10);
}

/// Lines whose splitting is checked against Redis's inline parser.
const INLINE_LINES: &[&[u8]] = &[
    b"a b  c",
    b"\"a b\" 'c d'",
    b"\"\\n\\r\\t\\b\\a\\\\\\\"\\q\\x41\\x4a\\xZZ\\x4\"",
    b"'it\\'s' '\\n'",
    b"a\"b c\" \"\"",
    b"\"\"",
    b"''",
    b"x\x0by \x0bz",
    b"\"q\"\x0c",
    b"a\rb",
    b"\t a\t",
    b"\x80\xff \"\\xff\"",
    b"a'b c' d",
];

#[test]
fn inline_splitting_matches_redis() {
    let Some(redis) = redigo_tests::oracle() else {
        return;
    };
    let mut conn = redis.connect();
    for line in INLINE_LINES {
        // RPUSH the split arguments, then read them back in order.
        let mut wire = b"RPUSH l ".to_vec();
        wire.extend_from_slice(line);
        wire.extend_from_slice(b"\r\n");
        let pushed = conn.roundtrip(&wire);
        let ours = split_args(line).unwrap();
        assert_eq!(
            pushed,
            format!(":{}\r\n", ours.len()).into_bytes(),
            "{line:?}"
        );
        let mut expected = BytesMut::new();
        redigo_resp::encode::array_header(&mut expected, ours.len());
        for arg in &ours {
            redigo_resp::encode::bulk(&mut expected, arg);
        }
        let listed = conn.command(&[b"LRANGE", b"l", b"0", b"-1"]);
        assert_eq!(listed, &expected[..], "{line:?}");
        assert_eq!(conn.command(&[b"DEL", b"l"]), b":1\r\n");
        // And the whole inline request decodes to RPUSH l <args>.
        let request = RequestCodec::new()
            .decode(&mut BytesMut::from(&wire[..]))
            .unwrap()
            .unwrap();
        let mut args = vec![Bytes::from_static(b"RPUSH"), Bytes::from_static(b"l")];
        args.extend(ours);
        assert_eq!(request.into_args(), args);
    }
}

#[test]
fn ignored_and_lenient_requests_match_redis() {
    let Some(redis) = redigo_tests::oracle() else {
        return;
    };
    let wire: &[u8] =
        b"\r\n\n  \r\n*0\r\n*-1\r\n*-5\r\n*1\rX$4\r\nPINGab*1\r\n$4\r\nPING\r\nPING\n";
    let mut conn = redis.connect();
    conn.send(wire);
    let mut codec = RequestCodec::new();
    let mut buf = BytesMut::from(wire);
    let mut count = 0;
    while let Some(request) = codec.decode(&mut buf).unwrap() {
        assert_eq!(request.args(), [&b"PING"[..]]);
        assert_eq!(conn.read_reply(), b"+PONG\r\n");
        count += 1;
    }
    assert_eq!(count, 3);
    // Redis answered nothing else: the next reply is to this PING.
    assert_eq!(conn.roundtrip(b"ECHO done\r\n"), b"$4\r\ndone\r\n");
}
