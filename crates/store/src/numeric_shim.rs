//! Stand-in for [`crate::numeric`] until its implementation lands: the same
//! API, with `LongDouble` approximated by `f64`. To be deleted then.

/// Redis `string2ll`: exact decimal i64, no sign `+`, no leading zeros, no
/// spaces.
pub(crate) fn parse_i64(text: &[u8]) -> Option<i64> {
    let (negative, digits) = match text {
        [b'0'] => return Some(0),
        [b'-', rest @ ..] => (true, rest),
        _ => (false, text),
    };
    match digits.first() {
        Some(b'1'..=b'9') => {}
        _ => return None,
    }
    let mut magnitude: u64 = 0;
    for &digit in digits {
        if !digit.is_ascii_digit() {
            return None;
        }
        magnitude = magnitude
            .checked_mul(10)?
            .checked_add(u64::from(digit - b'0'))?;
    }
    if negative {
        if magnitude == 1u64 << 63 {
            Some(i64::MIN)
        } else {
            i64::try_from(magnitude).ok().map(|m| -m)
        }
    } else {
        i64::try_from(magnitude).ok()
    }
}

/// `f64` stand-in for the x87 long double.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LongDouble(f64);

impl LongDouble {
    pub(crate) fn parse(text: &[u8]) -> Option<LongDouble> {
        let text = std::str::from_utf8(text).ok()?;
        if text.is_empty()
            || text.starts_with(char::is_whitespace)
            || text.ends_with(char::is_whitespace)
        {
            return None;
        }
        let value: f64 = text.parse().ok()?;
        if value.is_nan() {
            None
        } else {
            Some(LongDouble(value))
        }
    }

    pub(crate) fn add(self, other: LongDouble) -> LongDouble {
        LongDouble(self.0 + other.0)
    }

    pub(crate) fn is_finite(self) -> bool {
        self.0.is_finite()
    }

    pub(crate) fn format_human(self) -> String {
        let text = format!("{}", self.0);
        if text == "-0" { "0".to_owned() } else { text }
    }
}
