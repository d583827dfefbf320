//! Streaming replay of an AOF: each command in order, with its byte offset.
//!
//! # Why a dedicated reader rather than the RESP codec
//!
//! Loading an AOF needs what a network codec does not offer: every record's exact
//! start offset (to truncate a damaged file to its good prefix), the difference
//! between *cut short* (a crash during a write: the last record is a valid
//! prefix that stops at end of file) and *damaged* (a byte no valid file could
//! hold there), the offset of the offending byte, and blocking `std::io::Read`
//! input. So this module parses the small AOF grammar itself:
//!
//! ```text
//! file       = *( record / annotation )
//! record     = "*" count CRLF 1*( "$" length CRLF <length bytes> CRLF )
//! annotation = "#" <up to 1024 bytes> CRLF   ; Redis 7 "#TS:..." lines, skipped
//! ```
//!
//! # Crash semantics
//!
//! * The input ends exactly after a record: replay ends cleanly.
//! * The input ends inside a record and everything present is a valid prefix
//!   of a record: [`ReplayError::Truncated`], with the offset of that record's
//!   start (`valid_len`). This is what a crash in the middle of an append
//!   leaves; Redis loads the good prefix when `aof-load-truncated yes` (its
//!   default) and truncates the file there.
//! * Anything else (a wrong byte, a length out of range, a missing CRLF) is
//!   [`ReplayError::Corrupt`], with the offending byte's offset: the file was
//!   damaged and must be checked (`redigo check-aof`), not silently cut.
//!
//! # Transactions
//!
//! Replay yields `MULTI`, the queued commands and `EXEC` as they are in the
//! file. Like Redis, the loader should queue the commands after `MULTI` and
//! apply them at `EXEC`; if replay then ends with `Truncated`, the open
//! transaction is dropped and the file is cut at the `MULTI`'s
//! [`offset`](AofEntry::offset) ("Revert incomplete MULTI/EXEC transaction").
//!
//! # Bounded memory
//!
//! Input is read through a fixed [`READ_BUFFER_LEN`] buffer. Declared lengths
//! are trusted only as far as bytes actually arrive: a bulk announcing
//! 512 MiB in a 100-byte file allocates about 100 bytes, and an argument count
//! of two billion preallocates at most [`ARGS_PREALLOC_CAP`] slots. Only the
//! record being read is held in memory.

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

use bytes::Bytes;

use crate::error::ReplayError;

/// The largest bulk accepted by default: Redis's `proto-max-bulk-len` (512 MiB).
pub const MAX_BULK_LEN: u64 = redigo_resp::PROTO_MAX_BULK_LEN;

/// The largest argument count: Redis keeps `argc` in a C `int`.
pub const MAX_ARGS: u64 = redigo_resp::PROTO_MAX_MULTIBULK_LEN;

/// The longest annotation line (Redis's `AOF_ANNOTATION_LINE_MAX_LEN`).
pub const MAX_ANNOTATION_LEN: u64 = 1024;

/// Size of the read buffer.
pub const READ_BUFFER_LEN: usize = 64 * 1024;

/// At most this many argument slots are reserved before arguments arrive.
pub const ARGS_PREALLOC_CAP: usize = 64;

/// At most this many bytes are reserved for a bulk before its bytes arrive.
pub const BULK_PREALLOC_CAP: usize = 64 * 1024;

/// How an RDB file (and so an RDB-preamble AOF) starts.
pub const RDB_MAGIC: &[u8] = b"REDIS";

/// One command read from the AOF.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AofEntry {
    /// Offset of the record's first byte (its `*`).
    pub offset: u64,
    /// Offset just past the record: a file truncated here keeps this entry.
    pub end: u64,
    /// The command name followed by its arguments.
    pub args: Vec<Bytes>,
}

impl AofEntry {
    /// The command name, as written (Redis keeps the client's spelling).
    pub fn name(&self) -> &[u8] {
        // The parser never yields a record without arguments.
        self.args.first().map_or(&[][..], |name| &name[..])
    }
}

/// Iterator over the commands of an AOF read from any [`Read`].
///
/// Yields `Ok(entry)` per command, in file order; after the last complete
/// record it ends (`None`) or, if the input stops inside a record, yields one
/// `Err(ReplayError::Truncated)`. Any error ends the iteration.
///
/// ```
/// use redigo_aof::{Replay, ReplayError};
///
/// let aof = b"*2\r\n$3\r\nDEL\r\n$1\r\nk\r\n*3\r\n$3\r\nSET\r\n$1";
/// let mut replay = Replay::new(&aof[..]);
/// assert_eq!(replay.next().unwrap().unwrap().args, ["DEL", "k"]);
/// match replay.next() {
///     Some(Err(ReplayError::Truncated { valid_len, ignored_bytes })) => {
///         assert_eq!((valid_len, ignored_bytes), (20, 15));
///     }
///     other => panic!("expected truncation, got {other:?}"),
/// }
/// assert!(replay.next().is_none());
/// ```
#[derive(Debug)]
pub struct Replay<R> {
    input: ByteInput<R>,
    max_bulk_len: u64,
    valid_len: u64,
    commands: u64,
    crlfs: u64,
    started: bool,
    finished: bool,
}

impl Replay<File> {
    /// Opens `path` for replay.
    pub fn open(path: impl AsRef<Path>) -> io::Result<Replay<File>> {
        Ok(Replay::new(File::open(path)?))
    }
}

impl<R: Read> Replay<R> {
    /// Replays `reader` from its current position (counted as offset 0).
    pub fn new(reader: R) -> Replay<R> {
        Replay {
            input: ByteInput::new(reader),
            max_bulk_len: MAX_BULK_LEN,
            valid_len: 0,
            commands: 0,
            crlfs: 0,
            started: false,
            finished: false,
        }
    }

    /// Sets the largest accepted bulk (the server's `proto-max-bulk-len`).
    pub fn with_max_bulk_len(mut self, max_bulk_len: u64) -> Replay<R> {
        self.max_bulk_len = max_bulk_len;
        self
    }

    /// Bytes read so far, for progress reports.
    pub fn bytes_consumed(&self) -> u64 {
        self.input.offset
    }

    /// Where the complete records read so far end.
    pub fn valid_len(&self) -> u64 {
        self.valid_len
    }

    /// How many commands were yielded.
    pub fn commands(&self) -> u64 {
        self.commands
    }

    /// CRLF line ends consumed so far (the checker reports lines the way
    /// `redis-check-aof` counts them).
    pub(crate) fn crlfs(&self) -> u64 {
        self.crlfs
    }

    fn read_entry(&mut self) -> Result<Option<AofEntry>, ReplayError> {
        if !self.started {
            self.started = true;
            if self.input.starts_with(RDB_MAGIC).map_err(|e| self.io(e))? {
                return Err(ReplayError::RdbPreamble);
            }
        }
        loop {
            let start = self.input.offset;
            match self.input.peek().map_err(|e| self.io(e))? {
                None => return Ok(None),
                Some(b'#') => {
                    self.skip_annotation(start)?;
                    self.valid_len = self.input.offset;
                }
                Some(b'*') => {
                    self.input.bump();
                    return self.read_record(start).map(Some);
                }
                Some(other) => {
                    return Err(corrupt(start, start, "'*'", describe_byte(other)));
                }
            }
        }
    }

    fn read_record(&mut self, start: u64) -> Result<AofEntry, ReplayError> {
        let argc = self.read_length(start, "multibulk length", 1, MAX_ARGS)?;
        // Trust the declared count only as far as arguments arrive.
        let mut args = Vec::with_capacity(
            usize::try_from(argc).map_or(ARGS_PREALLOC_CAP, |n| n.min(ARGS_PREALLOC_CAP)),
        );
        for _ in 0..argc {
            let at = self.input.offset;
            match self.input.peek().map_err(|e| self.io(e))? {
                None => return Err(self.truncated(start)),
                Some(b'$') => self.input.bump(),
                Some(other) => return Err(corrupt(at, start, "'$'", describe_byte(other))),
            }
            let len = self.read_length(start, "bulk length", 0, self.max_bulk_len)?;
            let mut data = Vec::with_capacity(
                usize::try_from(len).map_or(BULK_PREALLOC_CAP, |n| n.min(BULK_PREALLOC_CAP)),
            );
            let got = self
                .input
                .take_into(&mut data, len)
                .map_err(|e| self.io(e))?;
            if got < len {
                return Err(self.truncated(start));
            }
            self.expect_crlf(start)?;
            args.push(Bytes::from(data));
        }
        self.valid_len = self.input.offset;
        self.commands += 1;
        Ok(AofEntry {
            offset: start,
            end: self.input.offset,
            args,
        })
    }

    /// Reads `<digits>\r\n` and checks `min <= value <= max`.
    fn read_length(
        &mut self,
        start: u64,
        what: &'static str,
        min: u64,
        max: u64,
    ) -> Result<u64, ReplayError> {
        let digits_at = self.input.offset;
        let mut value: u64 = 0;
        let mut digits = 0usize;
        loop {
            let at = self.input.offset;
            let Some(byte) = self.input.peek().map_err(|e| self.io(e))? else {
                return Err(self.truncated(start));
            };
            match byte {
                b'0'..=b'9' => {
                    value = value * 10 + u64::from(byte - b'0');
                    digits += 1;
                    if value > max {
                        return Err(corrupt(
                            digits_at,
                            start,
                            format!("a {what} of at most {max}"),
                            format!("{value} or more"),
                        ));
                    }
                    self.input.bump();
                }
                b'\r' if digits > 0 => {
                    if value < min {
                        return Err(corrupt(
                            digits_at,
                            start,
                            format!("a {what} of at least {min}"),
                            value.to_string(),
                        ));
                    }
                    self.expect_crlf(start)?;
                    return Ok(value);
                }
                other if digits == 0 => {
                    return Err(corrupt(
                        at,
                        start,
                        format!("a decimal {what}"),
                        describe_byte(other),
                    ));
                }
                other => return Err(corrupt(at, start, "CRLF", describe_byte(other))),
            }
        }
    }

    /// Consumes a CRLF that ends a RESP line (counted in [`crlfs`](Self::crlfs)).
    fn expect_crlf(&mut self, start: u64) -> Result<(), ReplayError> {
        self.consume_crlf(start)?;
        self.crlfs += 1;
        Ok(())
    }

    /// Consumes a CRLF without counting it: annotation lines are not counted,
    /// as in `redis-check-aof`.
    fn consume_crlf(&mut self, start: u64) -> Result<(), ReplayError> {
        for expected in [b'\r', b'\n'] {
            let at = self.input.offset;
            match self.input.peek().map_err(|e| self.io(e))? {
                None => return Err(self.truncated(start)),
                Some(byte) if byte == expected => self.input.bump(),
                Some(other) => return Err(corrupt(at, start, "CRLF", describe_byte(other))),
            }
        }
        Ok(())
    }

    /// Skips a `#...\r\n` annotation line.
    fn skip_annotation(&mut self, start: u64) -> Result<(), ReplayError> {
        loop {
            let at = self.input.offset;
            if at - start >= MAX_ANNOTATION_LEN {
                return Err(corrupt(
                    at,
                    start,
                    format!("an annotation line of at most {MAX_ANNOTATION_LEN} bytes"),
                    "a longer line",
                ));
            }
            match self.input.peek().map_err(|e| self.io(e))? {
                None => return Err(self.truncated(start)),
                Some(b'\r') => return self.consume_crlf(start),
                Some(_) => self.input.bump(),
            }
        }
    }

    fn truncated(&self, start: u64) -> ReplayError {
        // Only called at end of input, so the offset is the input's length.
        ReplayError::Truncated {
            valid_len: start,
            ignored_bytes: self.input.offset - start,
        }
    }

    fn io(&self, source: io::Error) -> ReplayError {
        ReplayError::Io {
            offset: self.input.offset,
            source,
        }
    }
}

impl<R: Read> Iterator for Replay<R> {
    type Item = Result<AofEntry, ReplayError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.finished {
            return None;
        }
        match self.read_entry() {
            Ok(Some(entry)) => Some(Ok(entry)),
            Ok(None) => {
                self.finished = true;
                None
            }
            Err(err) => {
                self.finished = true;
                Some(Err(err))
            }
        }
    }
}

fn corrupt(
    offset: u64,
    record_start: u64,
    expected: impl Into<String>,
    found: impl Into<String>,
) -> ReplayError {
    ReplayError::Corrupt {
        offset,
        record_start,
        expected: expected.into(),
        found: found.into(),
    }
}

/// A byte as an error message shows it: `'x'` when printable, else `0x0d`.
fn describe_byte(byte: u8) -> String {
    if byte.is_ascii_graphic() || byte == b' ' {
        format!("'{}'", byte as char)
    } else {
        format!("0x{byte:02x}")
    }
}

/// A reader with its own buffer, so bytes can be peeked one at a time and the
/// absolute offset is always known.
#[derive(Debug)]
struct ByteInput<R> {
    inner: R,
    buf: Box<[u8]>,
    pos: usize,
    end: usize,
    /// Absolute offset of `buf[pos]`.
    offset: u64,
    eof: bool,
}

impl<R: Read> ByteInput<R> {
    fn new(inner: R) -> ByteInput<R> {
        ByteInput {
            inner,
            buf: vec![0; READ_BUFFER_LEN].into_boxed_slice(),
            pos: 0,
            end: 0,
            offset: 0,
            eof: false,
        }
    }

    /// Reads more input after the buffered bytes; false at end of input.
    fn fill_more(&mut self) -> io::Result<bool> {
        if self.eof {
            return Ok(false);
        }
        if self.pos == self.end {
            self.pos = 0;
            self.end = 0;
        } else if self.end == self.buf.len() {
            self.buf.copy_within(self.pos..self.end, 0);
            self.end -= self.pos;
            self.pos = 0;
        }
        loop {
            match self.inner.read(&mut self.buf[self.end..]) {
                Ok(0) => {
                    self.eof = true;
                    return Ok(false);
                }
                Ok(n) => {
                    self.end += n;
                    return Ok(true);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }

    fn peek(&mut self) -> io::Result<Option<u8>> {
        if self.pos == self.end && !self.fill_more()? {
            return Ok(None);
        }
        Ok(Some(self.buf[self.pos]))
    }

    /// Consumes the byte [`peek`](Self::peek) returned.
    fn bump(&mut self) {
        debug_assert!(self.pos < self.end);
        self.pos += 1;
        self.offset += 1;
    }

    /// Whether the unread input starts with `magic` (consumes nothing).
    fn starts_with(&mut self, magic: &[u8]) -> io::Result<bool> {
        while self.end - self.pos < magic.len() {
            if !self.fill_more()? {
                break;
            }
        }
        Ok(self.buf[self.pos..self.end].starts_with(magic))
    }

    /// Appends up to `n` bytes to `out`; fewer only at end of input.
    fn take_into(&mut self, out: &mut Vec<u8>, n: u64) -> io::Result<u64> {
        let mut taken = 0u64;
        while taken < n {
            if self.pos == self.end && !self.fill_more()? {
                break;
            }
            let available = (self.end - self.pos) as u64;
            let chunk = available.min(n - taken) as usize;
            out.extend_from_slice(&self.buf[self.pos..self.pos + chunk]);
            self.pos += chunk;
            self.offset += chunk as u64;
            taken += chunk as u64;
        }
        Ok(taken)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(input: &[u8]) -> (Vec<Vec<Bytes>>, Option<ReplayError>) {
        let mut cmds = Vec::new();
        for item in Replay::new(input) {
            match item {
                Ok(entry) => cmds.push(entry.args),
                Err(e) => return (cmds, Some(e)),
            }
        }
        (cmds, None)
    }

    /// A reader that hands out one byte per call, to exercise refills.
    struct Trickle<'a>(&'a [u8]);
    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.0.is_empty() || buf.is_empty() {
                return Ok(0);
            }
            buf[0] = self.0[0];
            self.0 = &self.0[1..];
            Ok(1)
        }
    }

    #[test]
    fn reads_commands_with_offsets() {
        let aof = b"*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$3\r\na\r\n\r\n";
        let entries: Vec<_> = Replay::new(&aof[..]).map(Result::unwrap).collect();
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[0].offset, 0);
        assert_eq!(entries[0].end, 23);
        assert_eq!(entries[1].offset, 23);
        assert_eq!(entries[1].end, aof.len() as u64);
        assert_eq!(entries[1].args, ["SET", "k", "a\r\n"]);
        assert_eq!(entries[1].name(), b"SET");
    }

    #[test]
    fn one_byte_reads_give_the_same_result() {
        let aof = b"#TS:1700000000\r\n*2\r\n$3\r\nDEL\r\n$3\r\nk\0y\r\n";
        let mut replay = Replay::new(Trickle(aof));
        let entry = replay.next().unwrap().unwrap();
        assert_eq!(entry.offset, 16);
        assert_eq!(entry.args, [&b"DEL"[..], b"k\0y"]);
        assert!(replay.next().is_none());
        assert_eq!(replay.bytes_consumed(), aof.len() as u64);
    }

    #[test]
    fn empty_input_is_a_clean_end() {
        assert!(Replay::new(&b""[..]).next().is_none());
    }

    #[test]
    fn rdb_preamble_is_reported() {
        let (_, err) = collect(b"REDIS0010\xfa\x09redis-ver");
        assert!(matches!(err, Some(ReplayError::RdbPreamble)), "{err:?}");
    }

    #[test]
    fn corrupt_bytes_are_located() {
        let cases: &[(&[u8], u64, &str)] = &[
            (b"*1\r\n$4\r\nPING\r\nX", 14, "'*'"),
            (b"*1\r\n%4\r\nPING\r\n", 4, "'$'"),
            (b"*x\r\n", 1, "a decimal multibulk length"),
            (b"*0\r\n", 1, "a multibulk length of at least 1"),
            (b"*1\r\n$-1\r\n", 5, "a decimal bulk length"),
            (b"*1\r\n$4\r\nPINGxx", 12, "CRLF"),
            (b"*1\r\n$4\n", 6, "CRLF"),
            (b"*1\r\n$4\r\nPING\r\r", 13, "CRLF"),
            (
                b"*1\r\n$536870913\r\n",
                5,
                "a bulk length of at most 536870912",
            ),
        ];
        for (input, offset, expected) in cases {
            match collect(input).1 {
                Some(ReplayError::Corrupt {
                    offset: at,
                    expected: what,
                    ..
                }) => {
                    assert_eq!((at, what.as_str()), (*offset, *expected), "{input:?}");
                }
                other => panic!("{input:?}: expected Corrupt, got {other:?}"),
            }
        }
    }

    #[test]
    fn huge_declared_lengths_do_not_allocate_up_front() {
        // 512 MiB and 2^31-1 declared, a few bytes present: must end as
        // Truncated quickly, without reserving the declared sizes.
        let (_, err) = collect(b"*2147483647\r\n$536870912\r\nabc");
        assert!(
            matches!(
                err,
                Some(ReplayError::Truncated {
                    valid_len: 0,
                    ignored_bytes: 28
                })
            ),
            "{err:?}"
        );
    }

    #[test]
    fn a_lower_bulk_limit_applies() {
        let mut replay = Replay::new(&b"*1\r\n$11\r\nhello world\r\n"[..]).with_max_bulk_len(10);
        assert!(matches!(
            replay.next(),
            Some(Err(ReplayError::Corrupt { offset: 5, .. }))
        ));
    }

    /// A reader that fails after handing out its bytes.
    struct FailsAfter<'a>(&'a [u8]);
    impl Read for FailsAfter<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.0.is_empty() {
                return Err(io::Error::other("disk on fire"));
            }
            let n = self.0.len().min(buf.len());
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    #[test]
    fn read_errors_carry_the_offset() {
        let mut replay = Replay::new(FailsAfter(b"*1\r\n$4\r\nPING\r\n*1\r\n$4"));
        assert_eq!(replay.next().unwrap().unwrap().args, ["PING"]);
        match replay.next() {
            Some(Err(ReplayError::Io { offset, source })) => {
                assert_eq!(offset, 20);
                assert_eq!(source.to_string(), "disk on fire");
            }
            other => panic!("expected an I/O error, got {other:?}"),
        }
    }

    #[test]
    fn errors_end_the_iteration() {
        let mut replay = Replay::new(&b"?"[..]);
        assert!(replay.next().unwrap().is_err());
        assert!(replay.next().is_none());
    }
}
