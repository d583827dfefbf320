//! `--pipe`: mass insertion of raw RESP read from stdin.
//!
//! The input is not parsed: it is copied to the server as fast as the
//! server takes it while the replies are read back at the same time, so
//! neither side's buffers fill up and deadlock (a server stops reading when
//! its output buffer to an idle reader grows). Copying runs on a thread of
//! its own; the calling thread reads replies.
//!
//! To know when the last reply has arrived without counting commands, the
//! writer ends the stream with `ECHO <20 random bytes>` (preceded by `\r\n`,
//! which the server skips, so a truncated last command in the input cannot
//! swallow it) and the reader stops at the reply carrying those bytes. The
//! messages are redis-cli's: `All data transferred. Waiting for the last
//! reply...`, `Last reply received from server.` and `errors: N, replies:
//! M` on stdout, each error reply's text on stderr.

use std::hash::{BuildHasher, RandomState};
use std::io::{self, Read, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant, SystemTime};

use bytes::BytesMut;
use redigo_resp::{Frame, FrameCodec, ProtocolError};
use thiserror::Error;
use tokio_util::codec::Decoder;

use crate::client::write_stdout;
use crate::connection::{Connection, describe_io_error};
use crate::transport::Transport;

/// Size of the chunks copied from stdin (redis-cli's output buffer size).
const COPY_CHUNK: usize = 16 * 1024;
/// Length of the end-of-input marker (redis-cli's).
pub const MARKER_LEN: usize = 20;
/// How often the reader wakes up to check the `--pipe-timeout`.
const TIMEOUT_CHECK_INTERVAL: Duration = Duration::from_secs(1);

/// What a completed transfer counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PipeSummary {
    /// Error replies.
    pub errors: u64,
    /// All replies except the one to the final marker `ECHO`.
    pub replies: u64,
}

/// Why a transfer stopped early; the texts are redis-cli's.
#[derive(Debug, Error)]
pub enum PipeError {
    /// Reading stdin failed.
    #[error("Error reading from stdin: {}", describe_io_error(.0))]
    Stdin(io::Error),
    /// Writing to the server failed.
    #[error("Error writing to the server: {}", describe_io_error(.0))]
    Write(io::Error),
    /// Reading from the server failed.
    #[error("Error reading replies from server: {}", describe_io_error(.0))]
    Read(io::Error),
    /// The server's replies are not RESP2.
    #[error("Error reading replies from server: {0}")]
    Protocol(#[from] ProtocolError),
    /// The server closed the connection before the last reply.
    #[error("Error reading replies from server: Server closed the connection")]
    Closed,
}

/// Copies `input` to the server over `connection` and reads all replies.
/// Prints progress as redis-cli does; `timeout` bounds the wait for replies
/// once the input has ended (`None`: forever). The summary's `errors`
/// includes a timeout.
pub fn run(
    connection: Connection,
    input: impl Read + Send + 'static,
    timeout: Option<Duration>,
) -> Result<PipeSummary, PipeError> {
    let (mut stream, mut buffer) = connection.into_parts();
    let writer_stream = stream.try_clone().map_err(PipeError::Write)?;
    let marker = random_marker();
    let input_done = Arc::new(AtomicBool::new(false));
    let writer = {
        let input_done = Arc::clone(&input_done);
        thread::spawn(move || {
            let mut socket = writer_stream;
            let copied = copy_input(input, &mut socket, marker, &input_done);
            if copied.is_err() {
                // Wake the reader up: no marker will ever come.
                let _ = socket.shutdown();
            }
            copied
        })
    };
    let result = read_replies(&mut stream, &mut buffer, &marker, &input_done, timeout);
    if !writer.is_finished() {
        // Unblock a writer stuck on a full socket; it has nothing left to do.
        // One blocked reading stdin is left behind: the process is ending.
        let _ = stream.shutdown();
        return result;
    }
    let written = writer.join().unwrap_or(Ok(()));
    match (result, written) {
        // A write failure explains a closed connection better than the read side.
        (Err(_), Err(write_error)) => Err(write_error),
        (result, _) => result,
    }
}

/// The writer thread: stdin to socket, then the marker `ECHO`.
fn copy_input(
    mut input: impl Read,
    socket: &mut Transport,
    marker: [u8; MARKER_LEN],
    input_done: &AtomicBool,
) -> Result<(), PipeError> {
    let mut chunk = vec![0u8; COPY_CHUNK];
    loop {
        let read = match input.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => n,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
            Err(error) => return Err(PipeError::Stdin(error)),
        };
        socket.write_all(&chunk[..read]).map_err(PipeError::Write)?;
    }
    input_done.store(true, Ordering::SeqCst);
    write_stdout(b"All data transferred. Waiting for the last reply...\n");
    let mut echo = b"\r\n*2\r\n$4\r\nECHO\r\n$20\r\n".to_vec();
    echo.extend_from_slice(&marker);
    echo.extend_from_slice(b"\r\n");
    socket.write_all(&echo).map_err(PipeError::Write)
}

/// The reader: counts replies until the marker comes back.
fn read_replies(
    stream: &mut Transport,
    buffer: &mut BytesMut,
    marker: &[u8; MARKER_LEN],
    input_done: &AtomicBool,
    timeout: Option<Duration>,
) -> Result<PipeSummary, PipeError> {
    stream
        .set_read_timeout(Some(TIMEOUT_CHECK_INTERVAL))
        .map_err(PipeError::Read)?;
    let mut codec = FrameCodec::new();
    let mut summary = PipeSummary {
        errors: 0,
        replies: 0,
    };
    let mut last_reply = Instant::now();
    let mut chunk = vec![0u8; COPY_CHUNK];
    loop {
        while let Some(reply) = codec.decode(buffer)? {
            last_reply = Instant::now();
            match &reply {
                Frame::Error(message) => {
                    let mut stderr = io::stderr().lock();
                    let _ = stderr.write_all(message);
                    let _ = stderr.write_all(b"\n");
                    summary.errors += 1;
                }
                Frame::Bulk(payload)
                    if input_done.load(Ordering::SeqCst) && payload.as_ref() == marker =>
                {
                    write_stdout(b"Last reply received from server.\n");
                    return Ok(finish(summary));
                }
                _ => {}
            }
            summary.replies += 1;
        }
        match stream.read(&mut chunk) {
            Ok(0) => return Err(PipeError::Closed),
            Ok(n) => buffer.extend_from_slice(&chunk[..n]),
            Err(error)
                if matches!(
                    error.kind(),
                    io::ErrorKind::WouldBlock
                        | io::ErrorKind::TimedOut
                        | io::ErrorKind::Interrupted
                ) => {}
            Err(error) => return Err(PipeError::Read(error)),
        }
        if let Some(timeout) = timeout {
            if input_done.load(Ordering::SeqCst) && last_reply.elapsed() > timeout {
                eprintln!("No replies for {} seconds: exiting.", timeout.as_secs());
                summary.errors += 1;
                return Ok(finish(summary));
            }
        }
    }
}

/// Prints the closing line.
fn finish(summary: PipeSummary) -> PipeSummary {
    write_stdout(format!("errors: {}, replies: {}\n", summary.errors, summary.replies).as_bytes());
    summary
}

/// 20 unpredictable bytes: std's randomly keyed hasher over the time.
fn random_marker() -> [u8; MARKER_LEN] {
    let state = RandomState::new();
    let now = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    let mut marker = [0u8; MARKER_LEN];
    for (index, piece) in marker.chunks_mut(8).enumerate() {
        let word = state.hash_one((now, index)).to_le_bytes();
        piece.copy_from_slice(&word[..piece.len()]);
    }
    marker
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_differ() {
        assert_ne!(random_marker(), random_marker());
    }
}
