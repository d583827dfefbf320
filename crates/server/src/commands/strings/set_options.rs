//! The option grammar of `SET key value [NX|XX] [GET] [EX s|PX ms|EXAT s|PXAT
//! ms|KEEPTTL]` and `GETEX key [EX s|PX ms|EXAT s|PXAT ms|PERSIST]`: Redis
//! 7.0's `parseExtendedStringArgumentsOrReply`.
//!
//! Redis reads the options left to right and rejects an option that
//! conflicts with one already seen (`NX` after `XX`, `KEEPTTL` after `EX`,
//! `EX` as the last argument, ...) with `ERR syntax error`. Repeating the
//! same option is allowed, the last expire time winning. The expire time is
//! only kept as raw bytes here: Redis reads it as an integer later, after
//! other checks (for `GETEX`, after the key lookup), so the caller decides
//! when to parse it.

use redigo_store::{Expiry, SetCondition};

use crate::commands::arguments::is_keyword;

/// Which command's grammar to apply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Grammar {
    /// `SET`: options start at argument 3.
    Set,
    /// `GETEX`: options start at argument 2.
    GetEx,
}

/// The unit of an expire option.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum ExpireUnit {
    /// `EX seconds`.
    Seconds,
    /// `PX milliseconds`.
    Millis,
    /// `EXAT unix-seconds`.
    UnixSeconds,
    /// `PXAT unix-milliseconds`.
    UnixMillis,
}

impl ExpireUnit {
    /// The expiry for an already parsed amount.
    pub(super) fn expiry(self, amount: i64) -> Expiry {
        match self {
            ExpireUnit::Seconds => Expiry::Seconds(amount),
            ExpireUnit::Millis => Expiry::Millis(amount),
            ExpireUnit::UnixSeconds => Expiry::UnixSeconds(amount),
            ExpireUnit::UnixMillis => Expiry::UnixMillis(amount),
        }
    }
}

/// The options as read, before the expire time is parsed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub(super) struct StringOptions<'a> {
    /// `NX` / `XX` (SET only).
    pub condition: SetCondition,
    /// `GET` (SET only).
    pub get: bool,
    /// `KEEPTTL` (SET only).
    pub keep_ttl: bool,
    /// `PERSIST` (GETEX only).
    pub persist: bool,
    /// The last expire option and its unparsed amount.
    pub expire: Option<(ExpireUnit, &'a [u8])>,
}

/// Reads the options; `None` means `ERR syntax error`.
pub(super) fn parse<'a>(args: &'a [bytes::Bytes], grammar: Grammar) -> Option<StringOptions<'a>> {
    let first = match grammar {
        Grammar::Set => 3,
        Grammar::GetEx => 2,
    };
    let set = grammar == Grammar::Set;
    let mut options = StringOptions::default();
    let mut j = first;
    while j < args.len() {
        let opt = &args[j][..];
        let next = args.get(j + 1).map(|a| &a[..]);
        let has_expire = options.expire.is_some();
        let expire_unit = [
            ("EX", ExpireUnit::Seconds),
            ("PX", ExpireUnit::Millis),
            ("EXAT", ExpireUnit::UnixSeconds),
            ("PXAT", ExpireUnit::UnixMillis),
        ]
        .into_iter()
        .find(|(word, _)| is_keyword(opt, word))
        .map(|(_, unit)| unit);
        if set && is_keyword(opt, "NX") && options.condition != SetCondition::IfPresent {
            options.condition = SetCondition::IfAbsent;
        } else if set && is_keyword(opt, "XX") && options.condition != SetCondition::IfAbsent {
            options.condition = SetCondition::IfPresent;
        } else if set && is_keyword(opt, "GET") {
            options.get = true;
        } else if set && is_keyword(opt, "KEEPTTL") && !has_expire {
            options.keep_ttl = true;
        } else if !set && is_keyword(opt, "PERSIST") && !has_expire {
            options.persist = true;
        } else if let Some(unit) = expire_unit {
            // A different expire option already given conflicts; the same
            // one may repeat.
            let conflicting = options.keep_ttl
                || options.persist
                || options.expire.is_some_and(|(seen, _)| seen != unit);
            let amount = next.filter(|_| !conflicting)?;
            options.expire = Some((unit, amount));
            j += 1;
        } else {
            return None;
        }
        j += 1;
    }
    Some(options)
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    fn args(words: &[&str]) -> Vec<Bytes> {
        words
            .iter()
            .map(|w| Bytes::copy_from_slice(w.as_bytes()))
            .collect()
    }

    #[test]
    fn set_conflicts_are_syntax_errors() {
        for bad in [
            &["SET", "k", "v", "NX", "XX"][..],
            &["SET", "k", "v", "EX", "1", "PX", "1"],
            &["SET", "k", "v", "KEEPTTL", "EX", "1"],
            &["SET", "k", "v", "EX"],
            &["SET", "k", "v", "PERSIST"],
        ] {
            assert_eq!(parse(&args(bad), Grammar::Set), None, "{bad:?}");
        }
    }

    #[test]
    fn repeated_options_are_accepted_and_the_last_time_wins() {
        let a = args(&["SET", "k", "v", "ex", "1", "EX", "2", "nx", "NX", "get"]);
        let parsed = parse(&a, Grammar::Set).unwrap();
        assert_eq!(parsed.expire, Some((ExpireUnit::Seconds, &b"2"[..])));
        assert_eq!(parsed.condition, SetCondition::IfAbsent);
        assert!(parsed.get);
    }

    #[test]
    fn getex_accepts_only_its_options() {
        assert!(parse(&args(&["GETEX", "k", "PERSIST"]), Grammar::GetEx).is_some());
        assert_eq!(parse(&args(&["GETEX", "k", "NX"]), Grammar::GetEx), None);
        assert_eq!(
            parse(&args(&["GETEX", "k", "PERSIST", "EX", "1"]), Grammar::GetEx),
            None
        );
    }
}
