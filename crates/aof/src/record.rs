//! Encoding commands as AOF records, byte for byte as Redis writes them.
//!
//! An AOF record is the command as a RESP array of bulk strings:
//! `*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n`. Bulks are length-prefixed, so
//! values may contain `\r\n` or `\0`.
//!
//! # Deterministic records
//!
//! Replaying the log must rebuild the same data set at any later time, so the
//! server logs the *effect* of a command, not its wording, exactly as Redis 7.0
//! propagates it (checked against `redis-server` 7.0.15's own AOF):
//!
//! * relative expirations become absolute Unix-millisecond deadlines:
//!   `SET k v EX 10` / `SETEX` / `PSETEX` are logged as `SET k v PXAT <ms>`
//!   ([`Record::set_with_deadline`]), `EXPIRE`/`PEXPIRE`/`EXPIREAT`/`GETEX` as
//!   `PEXPIREAT k <ms>` ([`Record::pexpireat`]);
//! * a key found expired (lazily or by the active cycle) is logged as
//!   `DEL k` ([`Record::del`]), so replay never depends on the clock;
//! * `INCRBYFLOAT k x` is logged as `SET k <result> KEEPTTL`
//!   ([`Record::set_keep_ttl`]), so float formatting cannot drift;
//! * a `SELECT <db>` precedes the first record of a different database
//!   ([`Record::select`]).
//!
//! Deadlines are written as Redis's `long long`: a deadline beyond
//! `i64::MAX` (which no store produces) is written as `i64::MAX`.
//!
//! The rewriting itself is the server's job; this module offers the
//! builders and the encoding. The builders are the one way the server
//! makes a record: its command handlers build every record they propagate
//! through them (`ExecContext::propagate`), and so do its expiry paths
//! (`DEL`, and `MULTI`/`EXEC` around a command's several records). Each
//! record form the server writes has its builder here; commands logged as
//! the client sent them use [`Record::from_args`].

use bytes::{Bytes, BytesMut};

/// Appends `args` to `buf` as one RESP array of bulk strings.
///
/// `args` must hold at least the command name: an empty array is not a valid
/// AOF record (Redis refuses `*0` when loading), so nothing is written for an
/// empty slice.
pub fn encode_command<A: AsRef<[u8]>>(buf: &mut BytesMut, args: &[A]) {
    debug_assert!(!args.is_empty(), "an AOF record needs a command name");
    if args.is_empty() {
        return;
    }
    buf.reserve(encoded_len(args));
    // A record is exactly a client request on the wire.
    redigo_resp::encode::command(buf, args);
}

/// The exact number of bytes [`encode_command`] appends for `args`.
pub fn encoded_len<A: AsRef<[u8]>>(args: &[A]) -> usize {
    if args.is_empty() {
        return 0;
    }
    let headers = header_len(args.len());
    args.iter().fold(headers, |total, arg| {
        let len = arg.as_ref().len();
        total + header_len(len) + len + 2
    })
}

/// Length of `<kind><n>\r\n`.
fn header_len(n: usize) -> usize {
    1 + decimal_digits(n) + 2
}

fn decimal_digits(mut n: usize) -> usize {
    let mut digits = 1;
    while n >= 10 {
        n /= 10;
        digits += 1;
    }
    digits
}

/// One command to log, built argument by argument.
///
/// A record always has a command name (see [`encode_command`]). Arguments
/// are copied in (`impl AsRef<[u8]>`: a `&[u8]`, `Bytes`, `&str`, `String`
/// or `Vec<u8>`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    args: Vec<Bytes>,
}

/// Room reserved for a record's arguments: the longest fixed form,
/// `SET key value PXAT deadline`, so building one never reallocates.
const USUAL_MAX_ARGS: usize = 5;

/// A deadline as Redis writes it: a `long long`.
fn deadline_arg(deadline_ms: u64) -> Bytes {
    Bytes::from(i64::try_from(deadline_ms).unwrap_or(i64::MAX).to_string())
}

impl Record {
    /// A record for `command` with no arguments yet.
    pub fn new(command: impl AsRef<[u8]>) -> Record {
        let mut args = Vec::with_capacity(USUAL_MAX_ARGS);
        args.push(Bytes::copy_from_slice(command.as_ref()));
        Record { args }
    }

    /// The command exactly as a client sent it: the name (in the client's
    /// spelling) first, then the arguments. For writes that are already
    /// deterministic (`MSET`, `INCR`, `DEL k1 k2`, `RENAME`, ...). `args`
    /// must not be empty.
    pub fn from_args<A: AsRef<[u8]>>(args: impl IntoIterator<Item = A>) -> Record {
        Record {
            args: args
                .into_iter()
                .map(|arg| Bytes::copy_from_slice(arg.as_ref()))
                .collect(),
        }
    }

    /// Adds one argument.
    pub fn arg(mut self, arg: impl AsRef<[u8]>) -> Record {
        self.args.push(Bytes::copy_from_slice(arg.as_ref()));
        self
    }

    /// Adds a deadline argument (see the module docs).
    fn deadline(mut self, deadline_ms: u64) -> Record {
        self.args.push(deadline_arg(deadline_ms));
        self
    }

    /// `SELECT <db>`: the following records apply to database `db`.
    pub fn select(db: u32) -> Record {
        Record::new("SELECT").arg(db.to_string())
    }

    /// `SET key value`.
    pub fn set(key: impl AsRef<[u8]>, value: impl AsRef<[u8]>) -> Record {
        Record::new("SET").arg(key).arg(value)
    }

    /// `SET key value PXAT <deadline_ms>`: a write with an expiration, as an
    /// absolute Unix time in milliseconds.
    pub fn set_with_deadline(
        key: impl AsRef<[u8]>,
        value: impl AsRef<[u8]>,
        deadline_ms: u64,
    ) -> Record {
        Record::set(key, value).arg("PXAT").deadline(deadline_ms)
    }

    /// `SET key value KEEPTTL`: how `INCRBYFLOAT` is logged.
    pub fn set_keep_ttl(key: impl AsRef<[u8]>, value: impl AsRef<[u8]>) -> Record {
        Record::set(key, value).arg("KEEPTTL")
    }

    /// `SETNX key value`, when it set the key.
    pub fn setnx(key: impl AsRef<[u8]>, value: impl AsRef<[u8]>) -> Record {
        Record::new("SETNX").arg(key).arg(value)
    }

    /// `APPEND key value`.
    pub fn append(key: impl AsRef<[u8]>, value: impl AsRef<[u8]>) -> Record {
        Record::new("APPEND").arg(key).arg(value)
    }

    /// `SETRANGE key offset value` (`offset` as the client sent it).
    pub fn setrange(
        key: impl AsRef<[u8]>,
        offset: impl AsRef<[u8]>,
        value: impl AsRef<[u8]>,
    ) -> Record {
        Record::new("SETRANGE").arg(key).arg(offset).arg(value)
    }

    /// `PEXPIREAT key <deadline_ms>`: any change of a key's expiration.
    pub fn pexpireat(key: impl AsRef<[u8]>, deadline_ms: u64) -> Record {
        Record::new("PEXPIREAT").arg(key).deadline(deadline_ms)
    }

    /// `PERSIST key`, when it removed a TTL.
    pub fn persist(key: impl AsRef<[u8]>) -> Record {
        Record::new("PERSIST").arg(key)
    }

    /// `DEL key`: a deletion, including a key removed because it expired.
    pub fn del(key: impl AsRef<[u8]>) -> Record {
        Record::new("DEL").arg(key)
    }

    /// `MOVE key db` (`db` as the client sent it).
    pub fn move_key(key: impl AsRef<[u8]>, db: impl AsRef<[u8]>) -> Record {
        Record::new("MOVE").arg(key).arg(db)
    }

    /// `SWAPDB index1 index2` (as the client sent them).
    pub fn swapdb(first: impl AsRef<[u8]>, second: impl AsRef<[u8]>) -> Record {
        Record::new("SWAPDB").arg(first).arg(second)
    }

    /// `FLUSHDB` (of the record's database).
    pub fn flushdb() -> Record {
        Record::new("FLUSHDB")
    }

    /// `FLUSHALL`.
    pub fn flushall() -> Record {
        Record::new("FLUSHALL")
    }

    /// `MULTI`: opens the records a replay applies all or none of.
    pub fn multi() -> Record {
        Record::new("MULTI")
    }

    /// `EXEC`: closes what [`Record::multi`] opened.
    pub fn exec() -> Record {
        Record::new("EXEC")
    }

    /// The command name followed by its arguments.
    pub fn args(&self) -> &[Bytes] {
        &self.args
    }

    /// Takes the arguments out.
    pub fn into_args(self) -> Vec<Bytes> {
        self.args
    }

    /// Appends the record's RESP encoding to `buf`.
    pub fn encode(&self, buf: &mut BytesMut) {
        encode_command(buf, &self.args);
    }

    /// The record's RESP encoding.
    pub fn to_bytes(&self) -> Bytes {
        let mut buf = BytesMut::with_capacity(encoded_len(&self.args));
        self.encode(&mut buf);
        buf.freeze()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn encodes_as_redis_writes_its_aof() {
        let mut buf = BytesMut::new();
        encode_command(&mut buf, &["SET", "k", "v"]);
        assert_eq!(&buf[..], b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n");
    }

    #[test]
    fn binary_values_are_length_prefixed() {
        let mut buf = BytesMut::new();
        encode_command(&mut buf, &[&b"SET"[..], b"k", b"a\r\n\0b"]);
        assert_eq!(
            &buf[..],
            b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\na\r\n\0b\r\n"
        );
    }

    #[test]
    fn empty_args_write_nothing_in_release() {
        // debug builds assert; only check the length function here.
        assert_eq!(encoded_len::<&[u8]>(&[]), 0);
    }

    #[test]
    fn builders_produce_the_deterministic_forms() {
        assert_eq!(
            &Record::set_with_deadline("k", "v", 1_795_516_289_918).to_bytes()[..],
            b"*5\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n$4\r\nPXAT\r\n$13\r\n1795516289918\r\n"
        );
        assert_eq!(
            &Record::pexpireat("k", 5).to_bytes()[..],
            b"*3\r\n$9\r\nPEXPIREAT\r\n$1\r\nk\r\n$1\r\n5\r\n"
        );
        assert_eq!(
            &Record::set_keep_ttl("f", "1.5").to_bytes()[..],
            b"*4\r\n$3\r\nSET\r\n$1\r\nf\r\n$3\r\n1.5\r\n$7\r\nKEEPTTL\r\n"
        );
        assert_eq!(
            &Record::select(12).to_bytes()[..],
            b"*2\r\n$6\r\nSELECT\r\n$2\r\n12\r\n"
        );
        assert_eq!(
            Record::del("k").args(),
            &[Bytes::from("DEL"), Bytes::from("k")]
        );
        assert_eq!(
            &Record::pexpireat("k", u64::MAX).to_bytes()[..],
            b"*3\r\n$9\r\nPEXPIREAT\r\n$1\r\nk\r\n$19\r\n9223372036854775807\r\n",
            "a deadline is a long long, as Redis writes it"
        );
        assert_eq!(
            Record::from_args([&b"mset"[..], b"a", b"1"]),
            Record::new("mset").arg("a").arg("1"),
            "as sent, in the client's spelling"
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]
        #[test]
        fn encoded_len_is_exact(args in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..40), 1..12)) {
            let mut buf = BytesMut::new();
            encode_command(&mut buf, &args);
            prop_assert_eq!(buf.len(), encoded_len(&args));
        }
    }
}
