//! A subscriber that never reads, over real sockets: the server holds at
//! most the `pubsub` hard limit of its messages (as `CLIENT LIST` shows
//! honestly while it lasts), then closes it and counts it in `INFO stats`.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use redigo_server::testing::TestServer;
use redigo_tests::RawConn;

/// The hard limit under test.
const HARD_LIMIT: usize = 1024 * 1024;
/// Size of each published message.
const MESSAGE: usize = 64 * 1024;
/// Published in all: far beyond the limit plus what the kernel's socket
/// buffers can absorb.
const TOTAL: usize = 64 * 1024 * 1024;
/// Redis's static reply buffer, which the limit does not count.
const STATIC_BUFFER: usize = 16 * 1024;

fn field(line: &str, name: &str) -> Option<usize> {
    line.split(' ')
        .find_map(|f| f.strip_prefix(&format!("{name}=")))
        .and_then(|v| v.parse().ok())
}

#[test]
fn a_subscriber_that_never_reads_is_closed_at_the_pubsub_limit() {
    let limit = format!("pubsub {HARD_LIMIT} 0 0");
    let server = TestServer::start(&[("client-output-buffer-limit", &limit)]);
    let mut slow = TcpStream::connect(("127.0.0.1", server.port())).unwrap();
    slow.write_all(b"*2\r\n$9\r\nSUBSCRIBE\r\n$4\r\nfeed\r\n")
        .unwrap();
    slow.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    // Read the subscription reply only, then never again.
    let mut reply = [0u8; 33];
    slow.read_exact(&mut reply).unwrap();
    assert_eq!(&reply[..], b"*3\r\n$9\r\nsubscribe\r\n$4\r\nfeed\r\n:1\r\n");

    let mut publisher = RawConn::connect(server.port());
    let mut admin = RawConn::connect(server.port());
    let message = vec![b'm'; MESSAGE];
    let mut most_omem = 0;
    let mut delivered = 0;
    for _ in 0..TOTAL / MESSAGE {
        let receivers = publisher.command(&[b"PUBLISH", b"feed", &message]);
        if receivers == b":0\r\n" {
            break;
        }
        delivered += 1;
        let list = String::from_utf8(admin.command(&[b"CLIENT", b"LIST"])).unwrap();
        if let Some(line) = list.lines().find(|l| l.contains("flags=P")) {
            assert!(line.contains(" sub=1 psub=0 ssub=0 "), "{line}");
            let omem = field(line, "omem").unwrap();
            // What CLIENT LIST shows is what the server holds: never more
            // than the limit plus one message past the static buffer.
            assert!(omem <= HARD_LIMIT + MESSAGE, "omem={omem}: {line}");
            if omem > 0 {
                assert_eq!(field(line, "obl"), Some(STATIC_BUFFER), "{line}");
                assert_eq!(field(line, "oll"), Some(1), "{line}");
            }
            most_omem = most_omem.max(omem);
        }
    }
    assert!(
        most_omem > 0,
        "the unsent messages never showed in omem ({delivered} delivered)"
    );

    // Closed and gone: listed no more, its subscription dropped, counted.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let numsub = publisher.command(&[b"PUBSUB", b"NUMSUB", b"feed"]);
        let list = String::from_utf8(admin.command(&[b"CLIENT", b"LIST"])).unwrap();
        if numsub == b"*2\r\n$4\r\nfeed\r\n:0\r\n" && !list.contains("flags=P") {
            break;
        }
        assert!(Instant::now() < deadline, "still subscribed: {list}");
        std::thread::sleep(Duration::from_millis(20));
    }
    let info = String::from_utf8(admin.command(&[b"INFO", b"stats"])).unwrap();
    assert!(
        info.contains("client_output_buffer_limit_disconnections:1\r\n"),
        "{info}"
    );
    // The slow client finds its connection closed once it reads what the
    // kernel had taken.
    let mut sink = vec![0u8; 1 << 20];
    let mut received = 0usize;
    loop {
        match slow.read(&mut sink) {
            Ok(0) => break,
            Ok(n) => received += n,
            Err(err) => panic!("connection not closed after {received} bytes: {err}"),
        }
    }
    assert!(
        received < TOTAL,
        "it received everything ({received} bytes)"
    );
}
