//! `client-output-buffer-limit`: per client class, a hard limit and a soft
//! limit with a duration on the output a client has not read yet.
//!
//! The syntax, default, printed form and error texts are Redis 7.0's
//! (`updateClientOutputBufferLimit` in config.c), quirks included, so that
//! `CONFIG SET`/`CONFIG GET` answer byte for byte as redis-server does: the
//! value is split on single spaces (two spaces make an empty word), sizes
//! are read by `memtoull` (a huge number saturates, a huge number with a
//! unit wraps around) and seconds by `strtoll` then truncated to a C `int`.
//! Redigo only has normal clients; the `replica` (`slave`) and `pubsub`
//! limits are stored and shown for when those client kinds exist.

use super::ValueError;

/// The client classes that have limits, in Redis's order
/// (`CLIENT_TYPE_NORMAL`, `CLIENT_TYPE_SLAVE`, `CLIENT_TYPE_PUBSUB`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClientClass {
    /// Ordinary clients (and, for limits, a master link).
    Normal,
    /// Replicas (`replica` or `slave`; printed `slave`).
    Replica,
    /// Clients subscribed to Pub/Sub channels.
    Pubsub,
}

impl ClientClass {
    const ALL: [ClientClass; 3] = [
        ClientClass::Normal,
        ClientClass::Replica,
        ClientClass::Pubsub,
    ];

    /// The name `CONFIG GET` prints (Redis's `getClientTypeName`).
    fn name(self) -> &'static str {
        match self {
            ClientClass::Normal => "normal",
            ClientClass::Replica => "slave",
            ClientClass::Pubsub => "pubsub",
        }
    }

    /// Redis's `getClientTypeByName` minus `master`, which has no limits of
    /// its own (masters use the normal ones).
    fn parse(name: &str) -> Option<ClientClass> {
        match name.to_ascii_lowercase().as_str() {
            "normal" => Some(ClientClass::Normal),
            "slave" | "replica" => Some(ClientClass::Replica),
            "pubsub" => Some(ClientClass::Pubsub),
            _ => None,
        }
    }
}

/// The limits of one class; 0 disables a limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClassLimit {
    /// A client with this much unread output is closed at once.
    pub hard_bytes: u64,
    /// A client with this much unread output for longer than
    /// `soft_seconds` is closed.
    pub soft_bytes: u64,
    /// See `soft_bytes`.
    pub soft_seconds: u64,
}

/// The limits of every class (Redis's `server.client_obuf_limits`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OutputBufferLimits {
    limits: [ClassLimit; 3],
}

const MB: u64 = 1024 * 1024;

impl Default for OutputBufferLimits {
    /// Redis's `clientBufferLimitsDefaults`:
    /// `normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60`.
    fn default() -> OutputBufferLimits {
        OutputBufferLimits {
            limits: [
                ClassLimit {
                    hard_bytes: 0,
                    soft_bytes: 0,
                    soft_seconds: 0,
                },
                ClassLimit {
                    hard_bytes: 256 * MB,
                    soft_bytes: 64 * MB,
                    soft_seconds: 60,
                },
                ClassLimit {
                    hard_bytes: 32 * MB,
                    soft_bytes: 8 * MB,
                    soft_seconds: 60,
                },
            ],
        }
    }
}

const WRONG_ARITY: &str = "Wrong number of arguments in buffer limit configuration.";
const BAD_CLASS: &str = "Invalid client class specified in buffer limit configuration.";
const BAD_NUMBER: &str =
    "Error in hard, soft or soft_seconds setting in buffer limit configuration.";

impl OutputBufferLimits {
    /// The limits of `class`.
    pub fn get(&self, class: ClientClass) -> ClassLimit {
        self.limits[class as usize]
    }

    /// `CONFIG GET` form: every class, in Redis's order.
    pub fn format(&self) -> String {
        ClientClass::ALL
            .iter()
            .map(|&class| {
                let l = self.get(class);
                format!(
                    "{} {} {} {}",
                    class.name(),
                    l.hard_bytes,
                    l.soft_bytes,
                    l.soft_seconds
                )
            })
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// Applies `<class> <hard> <soft> <seconds>` groups: all of them or, on
    /// any error, none. An empty value changes nothing, as in Redis.
    pub fn apply(&mut self, value: &str) -> Result<(), ValueError> {
        // Redis splits with `sdssplitlen(value, " ")`, which yields no word
        // at all for an empty value.
        let words: Vec<&str> = if value.is_empty() {
            Vec::new()
        } else {
            value.split(' ').collect()
        };
        if words.len() % 4 != 0 {
            return Err(WRONG_ARITY.to_string());
        }
        let mut next = *self;
        for group in words.chunks_exact(4) {
            let class = ClientClass::parse(group[0]).ok_or(BAD_CLASS)?;
            let hard = memtoull(group[1]).ok_or(BAD_NUMBER)?;
            let soft = memtoull(group[2]).ok_or(BAD_NUMBER)?;
            let seconds = strtoll_as_int(group[3])
                .and_then(|s| u64::try_from(s).ok())
                .ok_or(BAD_NUMBER)?;
            next.limits[class as usize] = ClassLimit {
                hard_bytes: hard,
                soft_bytes: soft,
                soft_seconds: seconds,
            };
        }
        *self = next;
        Ok(())
    }
}

/// Redis 7.0's `memtoull`: digits and an optional unit (`b`, `k`, `kb`,
/// `m`, `mb`, `g`, `gb`, any case). No digits reads as 0, a number beyond
/// 64 bits saturates (`strtoull`), and the multiplication wraps.
fn memtoull(text: &str) -> Option<u64> {
    /// Redis copies the digits into a 128-byte buffer and refuses more.
    const MAX_DIGITS: usize = 127;
    if text.starts_with('-') {
        return None;
    }
    let digits_end = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (digits, unit) = text.split_at(digits_end);
    let multiplier: u64 = match unit.to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" => 1000,
        "kb" => 1024,
        "m" => 1000 * 1000,
        "mb" => 1024 * 1024,
        "g" => 1000 * 1000 * 1000,
        "gb" => 1024 * 1024 * 1024,
        _ => return None,
    };
    if digits.len() > MAX_DIGITS {
        return None;
    }
    let value = digits.bytes().fold(0u64, |acc, d| {
        acc.checked_mul(10)
            .and_then(|v| v.checked_add(u64::from(d - b'0')))
            .unwrap_or(u64::MAX)
    });
    Some(value.wrapping_mul(multiplier))
}

/// `strtoll(text, &end, 10)` required to consume everything, then stored in
/// a C `int` as Redis does (keeping the low 32 bits).
fn strtoll_as_int(text: &str) -> Option<i32> {
    // strtoll skips leading white space (C's isspace).
    let trimmed = text.trim_start_matches([' ', '\t', '\n', '\x0b', '\x0c', '\r']);
    let (negative, rest) = match trimmed.as_bytes().first() {
        Some(b'-') => (true, &trimmed[1..]),
        Some(b'+') => (false, &trimmed[1..]),
        _ => (false, trimmed),
    };
    if rest.is_empty() {
        // No digits: nothing is converted and `end` is the start of the
        // text, which is accepted only when the text is empty.
        return text.is_empty().then_some(0);
    }
    if !rest.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let magnitude = rest.bytes().fold(0i128, |acc, d| {
        (acc * 10 + i128::from(d - b'0')).min(i128::from(i64::MAX) + 1)
    });
    let value = if negative { -magnitude } else { magnitude };
    let clamped = value.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64;
    Some(clamped as i32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_prints_as_redis_does() {
        assert_eq!(
            OutputBufferLimits::default().format(),
            "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60"
        );
    }

    #[test]
    fn values_follow_redis_quirks() {
        let mut limits = OutputBufferLimits::default();
        limits.apply("replica 1mb 2mb 3 PUBSUB 1k 2K 3").unwrap();
        assert_eq!(
            limits.format(),
            "normal 0 0 0 slave 1048576 2097152 3 pubsub 1000 2000 3"
        );
        limits
            .apply("normal 99999999999999999999999 mb +5")
            .unwrap();
        assert_eq!(limits.get(ClientClass::Normal).hard_bytes, u64::MAX);
        assert_eq!(limits.get(ClientClass::Normal).soft_bytes, 0);
        assert_eq!(limits.get(ClientClass::Normal).soft_seconds, 5);
        limits
            .apply("normal 18446744073709551615gb 0 4294967297")
            .unwrap();
        assert_eq!(
            limits.get(ClientClass::Normal).hard_bytes,
            18446744072635809792
        );
        assert_eq!(limits.get(ClientClass::Normal).soft_seconds, 1);
        limits.apply("normal 1 1 ").unwrap();
        assert_eq!(limits.get(ClientClass::Normal).soft_seconds, 0);
        let before = limits;
        assert_eq!(limits.apply(""), Ok(()));
        assert_eq!(limits, before);
        for (value, error) in [
            ("normal", WRONG_ARITY),
            ("normal  1 1 1", WRONG_ARITY),
            ("master 1 1 1", BAD_CLASS),
            ("normal 1 1 1 foo 2 2 2", BAD_CLASS),
            ("normal -1 0 0", BAD_NUMBER),
            ("normal +5 0 0", BAD_NUMBER),
            ("normal 10mbs 0 0", BAD_NUMBER),
            ("normal 1 1 -1", BAD_NUMBER),
            ("normal 1 1 2147483648", BAD_NUMBER),
            ("normal 1 1 1.5", BAD_NUMBER),
            ("normal 1 1 1 pubsub 1 1 x", BAD_NUMBER),
        ] {
            assert_eq!(limits.apply(value), Err(error.to_string()), "{value:?}");
            assert_eq!(limits, before, "{value:?} must change nothing");
        }
    }
}
