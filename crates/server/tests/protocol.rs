//! Wire-level behaviour against a real server: pipelining, protocol errors,
//! inline commands, and error texts byte-identical to redis-server's.

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;

use redigo_server::testing::TestServer;
use redigo_tests::RawConn;
use support::{Pair, multibulk};

#[test]
fn a_pipeline_of_1000_commands_in_one_write_gets_1000_replies_in_order() {
    let server = TestServer::start(&[]);
    let mut conn = RawConn::connect(server.port());
    let mut pipeline = Vec::new();
    for i in 0..1000 {
        pipeline.extend_from_slice(&multibulk(&[b"ECHO", i.to_string().as_bytes()]));
    }
    conn.send(&pipeline);
    for i in 0..1000 {
        let expected = format!("${}\r\n{i}\r\n", i.to_string().len());
        assert_eq!(conn.read_reply(), expected.as_bytes(), "reply {i}");
    }
    assert_eq!(conn.roundtrip(b"PING\r\n"), b"+PONG\r\n");
}

#[test]
fn a_protocol_error_closes_the_connection_after_earlier_replies() {
    let pair = Pair::start();
    let request = b"PING\r\n*1\r\n$3\r\nfoo\r\n*1\r\n$x\r\nPING\r\n";
    let mut conn = RawConn::connect(pair.redigo.port());
    conn.send(request);
    assert_eq!(conn.read_reply(), b"+PONG\r\n");
    assert_eq!(
        conn.read_reply(),
        b"-ERR unknown command 'foo', with args beginning with: \r\n"
    );
    assert_eq!(
        conn.read_reply(),
        b"-ERR Protocol error: invalid bulk length\r\n"
    );
    assert!(conn.is_closed());
    if let Some(oracle) = &pair.oracle {
        let mut theirs = oracle.connect();
        theirs.send(request);
        assert_eq!(theirs.read_reply(), b"+PONG\r\n");
        theirs.read_reply();
        assert_eq!(
            theirs.read_reply(),
            b"-ERR Protocol error: invalid bulk length\r\n"
        );
        assert!(theirs.is_closed());
    }
}

#[test]
fn inline_commands_work_with_quotes() {
    let pair = Pair::start();
    assert_eq!(
        pair.same_reply(b"ECHO \"hello world\"\r\n"),
        b"$11\r\nhello world\r\n"
    );
    assert_eq!(pair.same_reply(b"ping\n"), b"+PONG\r\n");
    pair.same_reply(b"ECHO \"unbalanced\r\n");
}

#[test]
fn unknown_command_and_arity_errors_match_redis_byte_for_byte() {
    let pair = Pair::start();
    let long = vec![b'x'; 200];
    let many: Vec<&[u8]> = std::iter::once(&b"nosuch"[..])
        .chain(std::iter::repeat_n(&b"aaaa"[..], 60))
        .collect();
    let cases: Vec<Vec<&[u8]>> = vec![
        vec![b"foo", b"a", b"b"],
        vec![b"foo"],
        vec![b"foo", b"a\0b", b"c\nd"],
        vec![b"foo", &long, b"y"],
        many,
        vec![&long],
        vec![b"ECHO"],
        vec![b"ping", b"a", b"b"],
        vec![b"config"],
        vec![b"config", b"nosuch"],
        vec![b"CONFIG", b"GET"],
        vec![b"client", b"x"],
        vec![b"command", b"getkeys"],
        vec![b"select", b"16"],
        vec![b"select", b"x"],
        vec![b"select", b"-1"],
        vec![b"hello", b"4"],
        vec![b"hello", b"x"],
        vec![b"hello", b"2", b"foo"],
        vec![b"auth", b"x"],
        vec![b"auth", b"x", b"y"],
        vec![b"auth", b"a", b"b", b"c"],
        vec![b"swapdb", b"a", b"1"],
        vec![b"swapdb", b"1", b"a"],
        vec![b"swapdb", b"1", b"99"],
        vec![b"move", b"k", b"99"],
        vec![b"move", b"k", b"0"],
        vec![b"move", b"k", b"x"],
        vec![b"flushdb", b"x"],
        vec![b"flushall", b"async", b"x"],
        vec![b"shutdown", b"foo"],
        vec![b"shutdown", b"abort"],
        vec![b"shutdown", b"nosave", b"save"],
        vec![b"bgrewriteaof"],
        vec![b"dbsize"],
        vec![b"client", b"setname", b"a b"],
        vec![b"client", b"getname"],
        vec![b"client", b"kill", b"1.2.3.4:5"],
        vec![b"client", b"kill", b"id", b"999"],
        vec![b"client", b"kill", b"id", b"x"],
        vec![b"client", b"kill", b"type", b"foo"],
        vec![b"client", b"kill", b"skipme", b"maybe"],
        vec![b"client", b"kill", b"foo", b"bar"],
        vec![b"client", b"list", b"type", b"foo"],
        vec![b"command", b"getkeys", b"foo", b"a"],
        vec![b"command", b"getkeys", b"move", b"a"],
        vec![b"command", b"getkeys", b"move", b"a", b"1"],
        vec![b"command", b"getkeys", b"ping", b"x"],
        vec![b"command", b"list", b"x"],
        vec![b"command", b"list", b"filterby", b"foo", b"x"],
        vec![b"command", b"count", b"x"],
        vec![b"info", b"nosuchsection"],
        vec![b"reset"],
        vec![b"quit", b"extra"],
    ];
    for case in &cases {
        pair.same_command(case);
    }
}

#[test]
fn config_set_errors_match_redis() {
    let pair = Pair::start();
    let cases: &[&[&[u8]]] = &[
        &[b"config", b"set", b"maxclients", b"abc"],
        &[b"config", b"set", b"databases", b"5"],
        &[b"config", b"set", b"nosuch", b"1"],
        &[b"config", b"set", b"hz", b"10", b"hz", b"11"],
        &[b"config", b"set", b"hz", b"10", b"timeout"],
        &[b"config", b"set", b"timeout", b"-1"],
        &[b"config", b"set", b"timeout", b"1.5"],
        &[b"config", b"set", b"appendfsync", b"sometimes"],
        &[b"config", b"set", b"loglevel", b"x"],
        // Errors quote the canonical name, not the client's spelling.
        &[b"config", b"set", b"LogLevel", b"x"],
        &[b"config", b"set", b"APPENDFSYNC", b"sometimes"],
        &[b"config", b"set", b"appendonly", b"maybe"],
        &[b"config", b"set", b"Hz", b"10", b"hz", b"11"],
        &[b"config", b"set", b"proto-max-bulk-len", b"10"],
        &[b"config", b"set", b"proto-max-bulk-len", b"10x"],
        &[b"config", b"set", b"maxclients", b"0"],
        &[b"config", b"set", b"aof-load-truncated", b"maybe"],
        &[b"config", b"set", b"auto-aof-rewrite-percentage", b"-1"],
        &[b"config", b"set", b"hz", b"1000"],
        &[b"config", b"get", b"hz"],
        &[b"config", b"set", b"hz", b"0"],
        &[b"config", b"get", b"hz"],
        &[b"config", b"set", b"proto-max-bulk-len", b"2m"],
        &[b"config", b"get", b"proto-max-bulk-len"],
        &[b"config", b"set", b"auto-aof-rewrite-min-size", b"1gb"],
        &[b"config", b"get", b"auto-aof-rewrite-min-size"],
        &[b"config", b"get", b"timeout", b"nosuch"],
        &[b"config", b"resetstat"],
        // The limit also bounds strings built by SETRANGE/APPEND.
        &[b"config", b"set", b"proto-max-bulk-len", b"1mb"],
        &[b"setrange", b"k", b"1048576", b"x"],
        &[b"setrange", b"k", b"1048575", b"x"],
        &[b"append", b"k", b"y"],
        &[b"config", b"set", b"proto-max-bulk-len", b"512mb"],
        &[b"append", b"k", b"y"],
    ];
    pair.same_session(cases);
}

#[test]
fn hello_replies_like_redis_and_refuses_resp3() {
    let server = TestServer::start(&[]);
    let mut conn = RawConn::connect(server.port());
    let id = String::from_utf8(conn.roundtrip(b"CLIENT ID\r\n")).unwrap();
    let id = id.trim_start_matches(':').trim_end();
    let expected = format!(
        "*14\r\n$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nversion\r\n$6\r\n7.0.15\r\n$5\r\nproto\r\n:2\r\n\
         $2\r\nid\r\n:{id}\r\n$4\r\nmode\r\n$10\r\nstandalone\r\n$4\r\nrole\r\n$6\r\nmaster\r\n\
         $7\r\nmodules\r\n*0\r\n"
    );
    assert_eq!(
        String::from_utf8(conn.roundtrip(b"HELLO 2\r\n")).unwrap(),
        expected
    );
    assert_eq!(
        conn.roundtrip(b"HELLO 3\r\n"),
        b"-NOPROTO unsupported protocol version\r\n"
    );
    assert_eq!(conn.roundtrip(b"HELLO 2 SETNAME conn1\r\n")[..4], *b"*14\r");
    assert_eq!(conn.roundtrip(b"CLIENT GETNAME\r\n"), b"$5\r\nconn1\r\n");
}

#[test]
fn an_http_request_closes_the_connection_without_a_reply() {
    let server = TestServer::start(&[]);
    let mut stream = TcpStream::connect(("127.0.0.1", server.port())).unwrap();
    stream
        .write_all(b"POST / HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .unwrap();
    let mut rest = Vec::new();
    stream.read_to_end(&mut rest).unwrap();
    assert!(rest.is_empty(), "got {:?}", String::from_utf8_lossy(&rest));
}

#[test]
fn quit_replies_ok_and_closes_before_later_commands() {
    let server = TestServer::start(&[]);
    let mut conn = RawConn::connect(server.port());
    conn.send(b"QUIT\r\nPING\r\n");
    assert_eq!(conn.read_reply(), b"+OK\r\n");
    assert!(conn.is_closed());
}

#[test]
fn a_broken_connection_does_not_disturb_others() {
    let server = TestServer::start(&[]);
    let mut healthy = RawConn::connect(server.port());
    assert_eq!(healthy.roundtrip(b"CLIENT SETNAME healthy\r\n"), b"+OK\r\n");
    let mut broken = RawConn::connect(server.port());
    assert_eq!(
        broken.roundtrip(b"*1\r\n$-5\r\n"),
        b"-ERR Protocol error: invalid bulk length\r\n"
    );
    assert!(broken.is_closed());
    let mut vanished = TcpStream::connect(("127.0.0.1", server.port())).unwrap();
    vanished.write_all(b"*3\r\n$3\r\nSET\r\n$1\r\nk").unwrap();
    drop(vanished);
    assert_eq!(
        healthy.roundtrip(b"CLIENT GETNAME\r\n"),
        b"$7\r\nhealthy\r\n"
    );
    assert_eq!(healthy.roundtrip(b"PING\r\n"), b"+PONG\r\n");
}

#[test]
fn requests_split_across_many_writes_are_reassembled() {
    let server = TestServer::start(&[]);
    let mut stream = TcpStream::connect(("127.0.0.1", server.port())).unwrap();
    stream.set_nodelay(true).unwrap();
    let request = multibulk(&[b"ECHO", b"split into single bytes"]);
    for byte in &request {
        stream.write_all(std::slice::from_ref(byte)).unwrap();
    }
    let expected = b"$23\r\nsplit into single bytes\r\n";
    let mut reply = vec![0u8; expected.len()];
    stream.read_exact(&mut reply).unwrap();
    assert_eq!(reply, expected);
}

#[test]
fn unauthenticated_limits_lift_after_auth_in_the_same_pipeline() {
    let server = TestServer::start(&[("requirepass", "pw")]);
    let mut conn = RawConn::connect(server.port());
    // Before AUTH, more than 10 arguments is a protocol error (as in Redis);
    // after AUTH in the same write, the same request is fine.
    let big: Vec<&[u8]> = std::iter::once(&b"ECHO"[..])
        .chain(std::iter::repeat_n(&b"x"[..], 11))
        .collect();
    let mut pipeline = b"AUTH pw\r\n".to_vec();
    pipeline.extend_from_slice(&multibulk(&big));
    conn.send(&pipeline);
    assert_eq!(conn.read_reply(), b"+OK\r\n");
    assert_eq!(
        conn.read_reply(),
        b"-ERR wrong number of arguments for 'echo' command\r\n"
    );

    let mut other = RawConn::connect(server.port());
    other.send(&multibulk(&big));
    assert_eq!(
        other.read_reply(),
        b"-ERR Protocol error: unauthenticated multibulk length\r\n"
    );
    assert!(other.is_closed());

    if let Some(oracle) = redigo_tests::oracle_with_args(&["--requirepass", "pw"]) {
        let mut theirs = oracle.connect();
        theirs.send(&pipeline);
        assert_eq!(theirs.read_reply(), b"+OK\r\n");
        assert_eq!(
            theirs.read_reply(),
            b"-ERR wrong number of arguments for 'echo' command\r\n"
        );
        let mut theirs = oracle.connect();
        theirs.send(&multibulk(&big));
        assert_eq!(
            theirs.read_reply(),
            b"-ERR Protocol error: unauthenticated multibulk length\r\n"
        );
        assert!(theirs.is_closed());
    }
}

mod garbage {
    use proptest::prelude::*;

    use super::*;

    /// Protocol-looking fragments, so that random input reaches deep into
    /// the decoder and the dispatcher rather than failing at the first byte.
    fn fragment() -> impl Strategy<Value = Vec<u8>> {
        prop_oneof![
            Just(b"*".to_vec()),
            Just(b"$".to_vec()),
            Just(b"\r\n".to_vec()),
            Just(b"-1".to_vec()),
            Just(b"3".to_vec()),
            Just(b"PING".to_vec()),
            Just(b"CLIENT".to_vec()),
            Just(b"CONFIG".to_vec()),
            Just(b"COMMAND".to_vec()),
            Just(b"\"".to_vec()),
            Just(b" ".to_vec()),
            proptest::collection::vec(any::<u8>(), 0..8),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn random_input_never_takes_the_server_down(
            chunks in proptest::collection::vec(fragment(), 0..40)
        ) {
            let server = TestServer::start(&[]);
            let input: Vec<u8> = chunks.concat();
            let mut stream = TcpStream::connect(("127.0.0.1", server.port())).unwrap();
            stream
                .set_read_timeout(Some(std::time::Duration::from_millis(200)))
                .unwrap();
            let _ = stream.write_all(&input);
            let mut sink = [0u8; 4096];
            let _ = stream.read(&mut sink);
            drop(stream);
            let mut probe = RawConn::connect(server.port());
            prop_assert_eq!(probe.roundtrip(b"PING\r\n"), b"+PONG\r\n".to_vec());
        }
    }
}
