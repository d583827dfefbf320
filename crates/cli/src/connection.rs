//! A blocking connection to the server: send a command, read one reply.
//!
//! The client is synchronous (one command in flight at a time, except for
//! `--pipe`, which takes the socket apart), so this is a plain
//! [`Transport`] (TCP or Unix socket) plus a read buffer that [`FrameCodec`] decodes from. Errors
//! are worded as hiredis words them (`Connection refused`, `Server closed
//! the connection`), because redis-cli prints those texts and scripts match
//! on them.

use std::io::{self, Read, Write};

use bytes::BytesMut;
use redigo_resp::{Frame, FrameCodec, ProtocolError, encode};
use thiserror::Error;
use tokio_util::codec::Decoder;

use crate::transport::{Endpoint, Transport};

/// How much the read buffer grows by before each `read`.
const READ_CHUNK: usize = 16 * 1024;

/// Why a connection could not be opened: redis-cli's wording, e.g.
/// `Could not connect to Redis at 127.0.0.1:6390: Connection refused`.
#[derive(Debug, Error)]
#[error("Could not connect to Redis at {address}: {reason}")]
pub struct ConnectError {
    /// `host:port` as given.
    pub address: String,
    /// What the system said, without Rust's `(os error N)` suffix.
    pub reason: String,
}

/// Why a command could not be completed on an open connection. The
/// `Display` texts are hiredis's `errstr`, which redis-cli prints as
/// `Error: <errstr>`.
#[derive(Debug, Error)]
pub enum ConnectionError {
    /// The server closed the connection (end of stream).
    #[error("Server closed the connection")]
    Closed,
    /// A socket error.
    #[error("{}", describe_io_error(.0))]
    Io(#[from] io::Error),
    /// The server sent bytes that are not RESP2.
    #[error("Protocol error: {0}")]
    Protocol(#[from] ProtocolError),
}

/// An open connection.
#[derive(Debug)]
pub struct Connection {
    stream: Transport,
    buffer: BytesMut,
    codec: FrameCodec,
}

impl Connection {
    /// Connects to `endpoint`.
    pub fn open(endpoint: &Endpoint) -> Result<Connection, ConnectError> {
        let stream = Transport::connect(endpoint).map_err(|error| ConnectError {
            address: endpoint.to_string(),
            reason: describe_io_error(&error),
        })?;
        Ok(Connection {
            stream,
            buffer: BytesMut::with_capacity(READ_CHUNK),
            codec: FrameCodec::new(),
        })
    }

    /// Sends one command as an array of bulk strings.
    pub fn send<A: AsRef<[u8]>>(&mut self, args: &[A]) -> Result<(), ConnectionError> {
        let mut request = BytesMut::new();
        encode::command(&mut request, args);
        self.stream.write_all(&request)?;
        Ok(())
    }

    /// Reads the next reply, waiting for as many bytes as it takes.
    pub fn read_reply(&mut self) -> Result<Frame, ConnectionError> {
        loop {
            if let Some(frame) = self.codec.decode(&mut self.buffer)? {
                return Ok(frame);
            }
            self.buffer.reserve(READ_CHUNK);
            let start = self.buffer.len();
            self.buffer.resize(start + READ_CHUNK, 0);
            let read = self.stream.read(&mut self.buffer[start..]);
            let read = match read {
                Ok(n) => n,
                Err(error) => {
                    self.buffer.truncate(start);
                    if error.kind() == io::ErrorKind::Interrupted {
                        continue;
                    }
                    return Err(error.into());
                }
            };
            self.buffer.truncate(start + read);
            if read == 0 {
                return Err(ConnectionError::Closed);
            }
        }
    }

    /// Sends a command and reads its reply.
    pub fn command<A: AsRef<[u8]>>(&mut self, args: &[A]) -> Result<Frame, ConnectionError> {
        self.send(args)?;
        self.read_reply()
    }

    /// The socket and any bytes already read but not decoded, for `--pipe`.
    pub fn into_parts(self) -> (Transport, BytesMut) {
        (self.stream, self.buffer)
    }
}

/// The C library's text for an I/O error, as hiredis reports it: Rust adds
/// ` (os error N)` to OS errors and a prefix to name-resolution failures.
pub fn describe_io_error(error: &io::Error) -> String {
    let text = error.to_string();
    let text = text
        .strip_prefix("failed to lookup address information: ")
        .unwrap_or(&text);
    match text.rfind(" (os error ") {
        Some(suffix) if text.ends_with(')') => text[..suffix].to_owned(),
        _ => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    #[test]
    fn refused_connections_read_like_redis_cli() {
        // A port that was just free: nothing listens there any more.
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("bind");
        let endpoint = Endpoint::Tcp {
            host: "127.0.0.1".to_owned(),
            port,
        };
        let error = Connection::open(&endpoint).expect_err("nothing listens");
        assert_eq!(
            error.to_string(),
            format!("Could not connect to Redis at 127.0.0.1:{port}: Connection refused")
        );
    }

    #[test]
    fn replies_split_across_reads_and_eof() {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let server = std::thread::spawn(move || {
            let (mut socket, _) = listener.accept().expect("accept");
            let mut request = [0u8; 14];
            socket.read_exact(&mut request).expect("request");
            assert_eq!(&request, b"*1\r\n$4\r\nPING\r\n");
            socket.write_all(b"*2\r\n$3\r\nab").expect("write");
            socket.flush().expect("flush");
            std::thread::sleep(std::time::Duration::from_millis(20));
            socket.write_all(b"c\r\n:5\r\n").expect("write");
        });
        let endpoint = Endpoint::Tcp {
            host: "127.0.0.1".to_owned(),
            port,
        };
        let mut connection = Connection::open(&endpoint).expect("connect");
        let reply = connection.command(&["PING"]).expect("reply");
        assert_eq!(
            reply,
            Frame::Array(vec![Frame::Bulk("abc".into()), Frame::Integer(5)])
        );
        server.join().expect("server thread");
        assert!(matches!(
            connection.read_reply(),
            Err(ConnectionError::Closed)
        ));
    }

    #[test]
    fn os_error_suffix_is_dropped() {
        let error = io::Error::from_raw_os_error(111);
        assert!(!describe_io_error(&error).contains("os error"));
    }
}
