//! Numbers read the way redis-cli's C code reads them.
//!
//! redis-cli parses ports, database numbers and repeat counts with C's
//! `atoi` and `strtol`, which are lenient in specific ways (`atoi("3x")` is
//! 3, `atoi("x")` is 0). Mirroring them keeps edge cases identical, e.g.
//! `SELECT 2abc` still moves the prompt to `[2]` exactly when redis-cli's
//! does.

/// C's `isspace` in the "C" locale.
fn is_c_space(byte: u8) -> bool {
    matches!(byte, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// Splits leading whitespace and an optional sign off `text`.
fn sign_and_digits(text: &[u8]) -> (bool, &[u8]) {
    let start = text
        .iter()
        .position(|&b| !is_c_space(b))
        .unwrap_or(text.len());
    match &text[start..] {
        [b'-', rest @ ..] => (true, rest),
        [b'+', rest @ ..] => (false, rest),
        rest => (false, rest),
    }
}

/// Accumulates decimal `digits`, reporting overflow.
fn accumulate(negative: bool, digits: &[u8]) -> (i64, bool) {
    let mut value: i64 = 0;
    let mut overflowed = false;
    for &digit in digits {
        let digit = i64::from(digit - b'0');
        let next = value.checked_mul(10).and_then(|v| {
            if negative {
                v.checked_sub(digit)
            } else {
                v.checked_add(digit)
            }
        });
        match next {
            Some(next) => value = next,
            None => {
                overflowed = true;
                value = if negative { i64::MIN } else { i64::MAX };
                break;
            }
        }
    }
    (value, overflowed)
}

/// C's `atoi`: leading whitespace, optional sign, then as many digits as
/// there are; no digits gives 0 and overflow saturates.
///
/// ```
/// use redigo_cli::c_number::atoi;
/// assert_eq!((atoi(b"12abc"), atoi(b"abc"), atoi(b" -3")), (12, 0, -3));
/// ```
pub fn atoi(text: &[u8]) -> i64 {
    let (negative, rest) = sign_and_digits(text);
    let end = rest
        .iter()
        .position(|b| !b.is_ascii_digit())
        .unwrap_or(rest.len());
    accumulate(negative, &rest[..end]).0
}

/// C's `strtol(text, &end, 10)` when the caller then requires `*end ==
/// '\0'`: `Some((value, overflowed))` when all of `text` was consumed,
/// `None` otherwise. As in C, an empty `text` counts as consumed, with
/// value 0 (no conversion leaves `end` at the start).
///
/// ```
/// use redigo_cli::c_number::strtol_whole;
/// assert_eq!(strtol_whole(b" +3"), Some((3, false)));
/// assert_eq!(strtol_whole(b"3x"), None);
/// assert_eq!(strtol_whole(b""), Some((0, false)));
/// ```
pub fn strtol_whole(text: &[u8]) -> Option<(i64, bool)> {
    if text.is_empty() {
        return Some((0, false));
    }
    let (negative, digits) = sign_and_digits(text);
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(accumulate(negative, digits))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atoi_edges() {
        assert_eq!(atoi(b""), 0);
        assert_eq!(atoi(b"+7"), 7);
        assert_eq!(atoi(b"99999999999999999999"), i64::MAX);
        assert_eq!(atoi(b"-99999999999999999999"), i64::MIN);
    }

    #[test]
    fn strtol_edges() {
        assert_eq!(strtol_whole(b"-12"), Some((-12, false)));
        assert_eq!(strtol_whole(b"+"), None);
        assert_eq!(strtol_whole(b"  "), None);
        assert_eq!(
            strtol_whole(b"99999999999999999999"),
            Some((i64::MAX, true))
        );
    }
}
