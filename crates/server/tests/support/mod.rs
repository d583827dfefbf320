//! Helpers shared by the integration tests: raw requests and side-by-side
//! comparison with the redis-server oracle.

#![allow(dead_code)] // each test binary uses a different subset

use std::time::{Duration, Instant};

use redigo_server::testing::TestServer;
use redigo_tests::{Oracle, RawConn};

/// How long [`eventually`] waits for a condition another connection or
/// task brings about: generous, never reached unless something is broken.
pub const EVENTUALLY: Duration = Duration::from_secs(30);

/// Polls `check` until it returns `Some`, failing after [`EVENTUALLY`].
pub fn eventually<T>(what: &str, mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + EVENTUALLY;
    loop {
        if let Some(value) = check() {
            return value;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Encodes a request as a multibulk array.
pub fn multibulk(args: &[&[u8]]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for arg in args {
        out.extend_from_slice(format!("${}\r\n", arg.len()).as_bytes());
        out.extend_from_slice(arg);
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// A Redigo server and, when available, the oracle, for byte comparisons.
pub struct Pair {
    pub redigo: TestServer,
    pub oracle: Option<Oracle>,
}

impl Pair {
    pub fn start() -> Pair {
        Pair {
            redigo: TestServer::start(&[]),
            oracle: redigo_tests::oracle(),
        }
    }

    /// Sends `request` on fresh connections to both servers and asserts the
    /// replies are byte-identical. Returns Redigo's reply.
    pub fn same_reply(&self, request: &[u8]) -> Vec<u8> {
        let mine = RawConn::connect(self.redigo.port()).roundtrip(request);
        if let Some(oracle) = &self.oracle {
            let theirs = oracle.connect().roundtrip(request);
            assert_eq!(
                String::from_utf8_lossy(&mine),
                String::from_utf8_lossy(&theirs),
                "reply to {:?} differs from redis-server",
                String::from_utf8_lossy(request)
            );
        }
        mine
    }

    /// As [`Pair::same_reply`] for a multibulk command.
    pub fn same_command(&self, args: &[&[u8]]) -> Vec<u8> {
        self.same_reply(&multibulk(args))
    }

    /// Runs `requests` in order on one connection to each server and
    /// compares every reply.
    pub fn same_session(&self, requests: &[&[&[u8]]]) {
        let mut mine = RawConn::connect(self.redigo.port());
        let mut theirs = self.oracle.as_ref().map(|o| o.connect());
        for args in requests {
            let request = multibulk(args);
            let a = mine.roundtrip(&request);
            if let Some(conn) = theirs.as_mut() {
                let b = conn.roundtrip(&request);
                assert_eq!(
                    String::from_utf8_lossy(&a),
                    String::from_utf8_lossy(&b),
                    "reply to {:?} differs from redis-server",
                    String::from_utf8_lossy(&request)
                );
            }
        }
    }
}
