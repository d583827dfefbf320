//! The errors a store operation can answer with, worded exactly as Redis 7.0
//! words them.
//!
//! `Display` yields the text after the RESP `-` sign, error code included, so
//! the server replies with `-{err}\r\n` and nothing else. Errors that embed the
//! command name (`invalid expire time in 'set' command`) carry it, because the
//! store owns the semantics but the same rule serves several commands.

/// Every error the keyspace operations return.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// The key holds a value of another kind than the command works on.
    #[error("WRONGTYPE Operation against a key holding the wrong kind of value")]
    WrongType,
    /// The stored value (or an argument) is not a 64-bit signed integer.
    #[error("ERR value is not an integer or out of range")]
    NotAnInteger,
    /// `INCR`, `INCRBY`, `DECR`, `DECRBY` would leave the i64 range.
    #[error("ERR increment or decrement would overflow")]
    IncrementOverflow,
    /// `DECRBY` with `i64::MIN`, which cannot be negated.
    #[error("ERR decrement would overflow")]
    DecrementOverflow,
    /// The stored value (or the increment) is not a valid long double.
    #[error("ERR value is not a valid float")]
    NotAFloat,
    /// `INCRBYFLOAT` would produce NaN or an infinity.
    #[error("ERR increment would produce NaN or Infinity")]
    FloatOverflow,
    /// The resulting string would exceed the configured maximum size.
    #[error("ERR string exceeds maximum allowed size (proto-max-bulk-len)")]
    StringTooLong,
    /// `SETRANGE` with a negative offset.
    #[error("ERR offset is out of range")]
    OffsetOutOfRange,
    /// An expire time that is not positive or overflows, for the named command.
    #[error("ERR invalid expire time in '{command}' command")]
    InvalidExpireTime {
        /// The lower-case command name Redis puts in the message.
        command: &'static str,
    },
    /// `LSET` at an index outside the list.
    #[error("ERR index out of range")]
    IndexOutOfRange,
    /// `RENAME`/`RENAMENX` of a missing key.
    #[error("ERR no such key")]
    NoSuchKey,
    /// `MOVE` into the current database, or `COPY` of a key onto itself.
    #[error("ERR source and destination objects are the same")]
    SameObject,
    /// A database index outside `0..databases`.
    #[error("ERR DB index is out of range")]
    DbIndexOutOfRange,
    /// `HINCRBY` on a field whose value is not an integer.
    #[error("ERR hash value is not an integer")]
    HashValueNotAnInteger,
    /// `HINCRBYFLOAT` on a field whose value is not a float.
    #[error("ERR hash value is not a float")]
    HashValueNotAFloat,
    /// `HINCRBYFLOAT` with a NaN or infinite increment.
    #[error("ERR value is NaN or Infinity")]
    NanOrInfinity,
    /// A sorted-set score computation gave NaN (`ZINCRBY` of `-inf` to
    /// `inf`).
    #[error("ERR resulting score is not a number (NaN)")]
    ScoreNan,
    /// A snapshot was requested while another one is still being iterated.
    #[error("ERR a snapshot is already in progress")]
    SnapshotInProgress,
}
