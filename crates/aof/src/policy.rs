//! The `appendfsync` policy: when appended bytes are forced to stable storage.
//!
//! Redis spells the three values `always`, `everysec` and `no` (case-insensitive,
//! like every Redis enum option). Redigo's guide calls the last one `never`, so
//! both spellings parse; the value always *displays* as Redis spells it, because
//! `CONFIG GET appendfsync` must answer exactly what Redis answers (`no`).

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

/// How often the `everysec` policy fsyncs the file.
pub const EVERYSEC_INTERVAL: Duration = Duration::from_secs(1);

/// When the AOF is fsynced (`appendfsync` in redis.conf).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum FsyncPolicy {
    /// fsync after every batch, before clients get their replies: a crash loses
    /// nothing that was acknowledged, at the price of one fsync per batch.
    Always,
    /// fsync at most once per [`EVERYSEC_INTERVAL`], off the command path: a
    /// crash loses about a second of writes. Redis's default.
    #[default]
    EverySec,
    /// Never fsync explicitly; the operating system flushes when it likes.
    Never,
}

impl FsyncPolicy {
    /// The spelling Redis uses in redis.conf and `CONFIG GET`.
    pub fn as_config_str(self) -> &'static str {
        match self {
            FsyncPolicy::Always => "always",
            FsyncPolicy::EverySec => "everysec",
            FsyncPolicy::Never => "no",
        }
    }
}

impl fmt::Display for FsyncPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_config_str())
    }
}

/// An `appendfsync` value that is none of the accepted spellings.
///
/// Its message is the one Redis prints (after its own prefix) for a bad enum
/// value, so the server can wrap it into `CONFIG SET failed ... - <message>`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("argument(s) must be one of the following: everysec, always, no")]
pub struct ParsePolicyError {
    /// The rejected value, for the caller's own context.
    pub given: String,
}

impl FromStr for FsyncPolicy {
    type Err = ParsePolicyError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        // Redis compares enum config values case-insensitively.
        if s.eq_ignore_ascii_case("always") {
            Ok(FsyncPolicy::Always)
        } else if s.eq_ignore_ascii_case("everysec") {
            Ok(FsyncPolicy::EverySec)
        } else if s.eq_ignore_ascii_case("no") || s.eq_ignore_ascii_case("never") {
            Ok(FsyncPolicy::Never)
        } else {
            Err(ParsePolicyError {
                given: s.to_owned(),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_redis_spellings_case_insensitively() {
        assert_eq!("always".parse(), Ok(FsyncPolicy::Always));
        assert_eq!("EverySec".parse(), Ok(FsyncPolicy::EverySec));
        assert_eq!("NO".parse(), Ok(FsyncPolicy::Never));
        assert_eq!("never".parse(), Ok(FsyncPolicy::Never));
    }

    #[test]
    fn displays_as_redis_config_get_does() {
        assert_eq!(FsyncPolicy::Always.to_string(), "always");
        assert_eq!(FsyncPolicy::EverySec.to_string(), "everysec");
        assert_eq!("never".parse::<FsyncPolicy>().unwrap().to_string(), "no");
        assert_eq!(FsyncPolicy::default(), FsyncPolicy::EverySec);
    }

    #[test]
    fn rejects_other_values_with_the_redis_message() {
        let err = "sometimes".parse::<FsyncPolicy>().unwrap_err();
        assert_eq!(err.given, "sometimes");
        assert_eq!(
            err.to_string(),
            "argument(s) must be one of the following: everysec, always, no"
        );
        assert!("".parse::<FsyncPolicy>().is_err());
    }
}
