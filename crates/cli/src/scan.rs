//! `--scan [--pattern <glob>]`: list every key with `SCAN`, one per line.
//!
//! As redis-cli's `scanMode`: the cursor is followed until it returns to
//! 0, each key is printed raw (up to a NUL, as C's `%s` prints it) when
//! stdout is not a terminal and quoted with `sdscatrepr` when it is, `-i`
//! pauses between batches, and any unexpected reply ends the run with
//! status 1 and redis-cli's message.

use std::time::Duration;

use redigo_resp::Frame;
use thiserror::Error;

use crate::client::write_stdout;
use crate::connection::{Connection, ConnectionError};
use crate::format::{OutputMode, push_repr};

/// Why a scan stopped; the texts are redis-cli's.
#[derive(Debug, Error)]
pub enum ScanError {
    /// The connection failed.
    #[error("\nI/O error")]
    Io(#[from] ConnectionError),
    /// The server answered with an error.
    #[error("SCAN error: {0}")]
    Server(String),
    /// The reply is not an array.
    #[error("Non ARRAY response from SCAN!")]
    NotArray,
    /// The reply is an array of the wrong shape.
    #[error("Invalid element count from SCAN!")]
    BadShape,
}

/// Lists the keys matching `pattern` (all keys without one).
pub fn run(
    connection: &mut Connection,
    pattern: Option<&[u8]>,
    output: OutputMode,
    interval: Duration,
) -> Result<(), ScanError> {
    let mut cursor = b"0".to_vec();
    loop {
        let mut command: Vec<&[u8]> = vec![b"SCAN", &cursor];
        if let Some(pattern) = pattern {
            command.extend_from_slice(&[b"MATCH", pattern]);
        }
        let (next, keys) = match connection.command(&command)? {
            Frame::Error(message) => {
                return Err(ScanError::Server(
                    String::from_utf8_lossy(&message).into_owned(),
                ));
            }
            Frame::Array(mut items) if items.len() == 2 => {
                let keys = items.pop();
                match (items.pop(), keys) {
                    (Some(Frame::Bulk(next)), Some(Frame::Array(keys))) => (next, keys),
                    _ => return Err(ScanError::BadShape),
                }
            }
            Frame::Array(_) => return Err(ScanError::BadShape),
            _ => return Err(ScanError::NotArray),
        };
        let mut out = Vec::new();
        for key in keys {
            if let Frame::Bulk(key) | Frame::Simple(key) = key {
                match output {
                    OutputMode::Standard => push_repr(&mut out, &key),
                    OutputMode::Raw | OutputMode::Csv => {
                        let end = key.iter().position(|&b| b == 0).unwrap_or(key.len());
                        out.extend_from_slice(&key[..end]);
                    }
                }
                out.push(b'\n');
            }
        }
        write_stdout(&out);
        if !interval.is_zero() {
            std::thread::sleep(interval);
        }
        if next.as_ref() == b"0" {
            return Ok(());
        }
        cursor = next.to_vec();
    }
}
