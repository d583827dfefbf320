//! Shared set-up of the differential tests: one Redis 7.0 oracle and one
//! in-process Redigo server, the same raw requests sent to both and the raw
//! reply bytes compared.
//!
//! Commands are written as text split on spaces for readability
//! ([`Pair::same`]); binary or space-holding arguments go through
//! [`Pair::same_args`]. Replies that carry a time (TTL, PTTL, EXPIRETIME)
//! cannot be byte-identical across two servers, so [`Pair::both_int`]
//! returns the two integers for the caller to bound.

#![allow(dead_code)] // each test file uses a different part of it

use redigo_server::testing::TestServer;
use redigo_tests::{Oracle, RawConn};

/// Two servers and a connection to each.
pub struct Pair {
    pub redis: RawConn,
    pub redigo: RawConn,
    // Kept alive for the connections; dropped (stopped) with the pair.
    _oracle: Oracle,
    _server: TestServer,
}

impl Pair {
    /// Starts both servers, or `None` when redis-server is missing outside
    /// CI (the harness panics under CI).
    pub fn start() -> Option<Pair> {
        let oracle = redigo_tests::oracle()?;
        let server = TestServer::start(&[]);
        Some(Pair {
            redis: oracle.connect(),
            redigo: RawConn::connect(server.port()),
            _oracle: oracle,
            _server: server,
        })
    }

    /// Another connection to each server: (Redis, Redigo), for tests that
    /// drive two clients.
    pub fn connect_again(&self) -> (RawConn, RawConn) {
        (
            RawConn::connect(self._oracle.port()),
            RawConn::connect(self._server.port()),
        )
    }

    /// Sends `args` to both servers and returns (Redis's, Redigo's) replies.
    pub fn both_args(&mut self, args: &[&[u8]]) -> (Vec<u8>, Vec<u8>) {
        (self.redis.command(args), self.redigo.command(args))
    }

    /// Sends `args` to both and asserts byte-identical replies.
    pub fn same_args(&mut self, args: &[&[u8]]) -> Vec<u8> {
        let (expected, actual) = self.both_args(args);
        assert_eq!(
            show(&actual),
            show(&expected),
            "reply to {:?} differs (left: Redigo, right: Redis)",
            args.iter()
                .map(|a| String::from_utf8_lossy(a).into_owned())
                .collect::<Vec<_>>()
        );
        expected
    }

    /// [`Pair::same_args`] for each command in turn.
    pub fn same_all(&mut self, commands: &[&[&[u8]]]) {
        for args in commands {
            self.same_args(args);
        }
    }

    /// [`Pair::same_args`] for a command written as space-separated words.
    pub fn same(&mut self, command: &str) -> Vec<u8> {
        let words: Vec<&[u8]> = command.split(' ').map(str::as_bytes).collect();
        self.same_args(&words)
    }

    /// Runs each command of `script` with [`Pair::same`].
    pub fn script(&mut self, script: &[&str]) {
        for command in script {
            self.same(command);
        }
    }

    /// Sends a command whose reply is an integer that may differ a little
    /// between the servers (a time), and returns both values.
    pub fn both_int(&mut self, command: &str) -> (i64, i64) {
        let words: Vec<&[u8]> = command.split(' ').map(str::as_bytes).collect();
        let (redis, redigo) = self.both_args(&words);
        (integer_reply(&redis), integer_reply(&redigo))
    }

    /// Sends a command to both servers whose reply is an array of bulk
    /// strings in an unspecified order (KEYS), and asserts the same set.
    pub fn same_set(&mut self, command: &str) -> Vec<Vec<u8>> {
        let words: Vec<&[u8]> = command.split(' ').map(str::as_bytes).collect();
        let (redis, redigo) = self.both_args(&words);
        let (mut expected, mut actual) = (bulk_array(&redis), bulk_array(&redigo));
        expected.sort();
        actual.sort();
        assert_eq!(actual, expected, "{command}: the key sets differ");
        expected
    }
}

/// `Ok` when the replies to `command` were judged the same, else what
/// differs (for random sequences, which report rather than panic).
pub fn judged(same: bool, command: &[String], redis: &[u8], redigo: &[u8]) -> Result<(), String> {
    if same {
        Ok(())
    } else {
        Err(format!(
            "{}: Redis {:?}, Redigo {:?}",
            command.join(" "),
            show(redis),
            show(redigo)
        ))
    }
}

/// One RESP2 request from space-separated words.
pub fn request(command: &str) -> Vec<u8> {
    let words: Vec<&str> = command.split(' ').collect();
    let mut req = format!("*{}\r\n", words.len()).into_bytes();
    for word in words {
        req.extend_from_slice(format!("${}\r\n{word}\r\n", word.len()).as_bytes());
    }
    req
}

/// A reply as text, for readable assertion failures.
pub fn show(reply: &[u8]) -> String {
    String::from_utf8_lossy(reply).into_owned()
}

/// The value of a `:n\r\n` reply.
pub fn integer_reply(reply: &[u8]) -> i64 {
    let text = show(reply);
    text.strip_prefix(':')
        .and_then(|t| t.strip_suffix("\r\n"))
        .and_then(|t| t.parse().ok())
        .unwrap_or_else(|| panic!("not an integer reply: {text:?}"))
}

/// The elements of a flat array of bulk strings (`*n` then `$len` items).
pub fn bulk_array(reply: &[u8]) -> Vec<Vec<u8>> {
    let (count, mut rest) = header(reply, b'*');
    (0..count)
        .map(|_| {
            let (len, after) = header(rest, b'$');
            let item = after[..len].to_vec();
            rest = &after[len + 2..];
            item
        })
        .collect()
}

/// Splits `<kind><n>\r\n` off the front of `reply`.
fn header(reply: &[u8], kind: u8) -> (usize, &[u8]) {
    assert_eq!(
        reply.first(),
        Some(&kind),
        "unexpected reply {:?}",
        show(reply)
    );
    let end = reply
        .windows(2)
        .position(|w| w == b"\r\n")
        .expect("reply line ends with CRLF");
    let n = show(&reply[1..end]).parse().expect("a length");
    (n, &reply[end + 2..])
}

/// The cursor and keys of a `SCAN` reply.
pub fn scan_reply(reply: &[u8]) -> (u64, Vec<Vec<u8>>) {
    let (count, rest) = header(reply, b'*');
    assert_eq!(count, 2, "SCAN replies with two elements");
    let (len, after) = header(rest, b'$');
    let cursor = show(&after[..len]).parse().expect("a numeric cursor");
    (cursor, bulk_array(&after[len + 2..]))
}
