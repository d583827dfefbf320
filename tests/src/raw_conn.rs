//! A blocking connection that speaks raw bytes and reads whole RESP2 replies.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Ipv4Addr, TcpStream};
use std::time::Duration;

/// How long a test waits for a reply before declaring the server stuck.
const READ_TIMEOUT: Duration = Duration::from_secs(10);

/// How long [`RawConn::connect`] keeps trying while connections are refused.
const CONNECT_PATIENCE: Duration = Duration::from_secs(5);

/// Connects to `127.0.0.1:port`, trying again while the connection is
/// refused, for [`CONNECT_PATIENCE`]: fresh-clone CI runs saw a server that
/// `wait_for_port` had just reached refuse the next connection (cause not
/// found); a server that is really gone still fails the test after that.
fn connect_patiently(port: u16) -> TcpStream {
    let deadline = std::time::Instant::now() + CONNECT_PATIENCE;
    loop {
        match TcpStream::connect((Ipv4Addr::LOCALHOST, port)) {
            Ok(stream) => return stream,
            Err(err)
                if err.kind() == std::io::ErrorKind::ConnectionRefused
                    && std::time::Instant::now() < deadline =>
            {
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(err) => panic!("connect: {err:?}"),
        }
    }
}

/// A raw RESP2 connection for byte-exact comparisons between servers.
#[derive(Debug)]
pub struct RawConn {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
}

impl RawConn {
    /// Connects to `127.0.0.1:port`.
    pub fn connect(port: u16) -> RawConn {
        let stream = connect_patiently(port);
        stream
            .set_read_timeout(Some(READ_TIMEOUT))
            .expect("set timeout");
        stream.set_nodelay(true).expect("nodelay");
        let writer = stream.try_clone().expect("clone stream");
        RawConn {
            reader: BufReader::new(stream),
            writer,
        }
    }

    /// Sends bytes as they are.
    pub fn send(&mut self, bytes: &[u8]) {
        self.writer.write_all(bytes).expect("write");
    }

    /// Reads exactly one RESP2 reply and returns its raw bytes.
    pub fn read_reply(&mut self) -> Vec<u8> {
        let mut out = Vec::new();
        self.read_value(&mut out);
        out
    }

    /// Sends `bytes` and reads one reply.
    pub fn roundtrip(&mut self, bytes: &[u8]) -> Vec<u8> {
        self.send(bytes);
        self.read_reply()
    }

    /// Sends a command as a multibulk request and reads one reply.
    pub fn command(&mut self, args: &[&[u8]]) -> Vec<u8> {
        let mut req = format!("*{}\r\n", args.len()).into_bytes();
        for arg in args {
            req.extend_from_slice(format!("${}\r\n", arg.len()).as_bytes());
            req.extend_from_slice(arg);
            req.extend_from_slice(b"\r\n");
        }
        self.roundtrip(&req)
    }

    /// True once the server has closed the connection (reads EOF).
    pub fn is_closed(&mut self) -> bool {
        let mut byte = [0u8; 1];
        matches!(self.reader.read(&mut byte), Ok(0))
    }

    fn read_line(&mut self, out: &mut Vec<u8>) -> Vec<u8> {
        let mut line = Vec::new();
        let n = self
            .reader
            .read_until(b'\n', &mut line)
            .expect("read reply line");
        assert!(n > 0, "connection closed while a reply was expected");
        out.extend_from_slice(&line);
        line.truncate(line.len().saturating_sub(2));
        line
    }

    fn read_value(&mut self, out: &mut Vec<u8>) {
        let line = self.read_line(out);
        let (kind, rest) = line.split_first().expect("empty reply line");
        let len = || -> i64 {
            std::str::from_utf8(rest)
                .expect("utf-8 length")
                .parse()
                .expect("numeric length")
        };
        match kind {
            b'+' | b'-' | b':' => {}
            b'$' => {
                let n = len();
                if n >= 0 {
                    let mut body = vec![0u8; n as usize + 2];
                    self.reader.read_exact(&mut body).expect("read bulk body");
                    out.extend_from_slice(&body);
                }
            }
            b'*' => {
                for _ in 0..len().max(0) {
                    self.read_value(out);
                }
            }
            other => panic!("not a RESP2 reply type byte: {:?}", *other as char),
        }
    }
}
