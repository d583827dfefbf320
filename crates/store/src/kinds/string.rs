//! The string kind: binary-safe bytes stored inline in the entry's block.
//!
//! Its deep copy is a copy of the bytes, freeing it is freeing the block,
//! and its snapshot image is the block itself (see `entry` and
//! [`crate::snapshot`]): nothing lives out of line.

/// `TYPE` name.
pub(crate) const TYPE_NAME: &str = "string";

/// Longest string Redis 7.0 keeps `embstr`-encoded
/// (`OBJ_ENCODING_EMBSTR_SIZE_LIMIT`).
const EMBSTR_SIZE_LIMIT: usize = 44;

/// Longest string Redis tries to encode as an integer (`LONG_STR_SIZE`:
/// 20 characters, the length of `-9223372036854775808`).
const LONG_STR_SIZE: usize = 20;

/// The `OBJECT ENCODING` Redis 7.0 reports: `int` for a value that reads
/// back as a 64-bit integer exactly as written (`tryObjectEncoding` with
/// `string2l`), `embstr` for a short string, `raw` otherwise. A string grown
/// in place (`APPEND`, `SETRANGE`, `grown`) is `raw`, as Redis unshares it
/// into a raw sds before changing it. A string held `as_text` (an
/// `INCRBYFLOAT` result) is never `int`, as Redis never tries that encoding
/// for it.
pub(crate) fn encoding(value: &[u8], grown: bool, as_text: bool) -> &'static str {
    if grown {
        "raw"
    } else if !as_text && value.len() <= LONG_STR_SIZE && is_canonical_integer(value) {
        "int"
    } else if value.len() <= EMBSTR_SIZE_LIMIT {
        "embstr"
    } else {
        "raw"
    }
}

/// Redis's `OBJ_SHARED_INTEGERS`: Redis holds a string whose value is an
/// integer in `0..10000` (and `int`-encoded) as one of its shared integer
/// objects instead of an object of its own.
pub(crate) const OBJ_SHARED_INTEGERS: usize = 10_000;

/// The shared integer object Redis would hold for this value (see
/// [`OBJ_SHARED_INTEGERS`]), `None` when Redis would give it an object of
/// its own (`not_int`: the entry is held raw or as text, never `int`). A
/// shared object has one access clock for every key holding it,
/// which `OBJECT IDLETIME` reports (see `crate::store`).
pub(crate) fn shared_integer(value: &[u8], not_int: bool) -> Option<usize> {
    // At most four digits, no sign, no leading zero but "0" itself: cheap
    // enough for every lookup of a string.
    let canonical = !not_int
        && (1..=4).contains(&value.len())
        && value.iter().all(u8::is_ascii_digit)
        && (value[0] != b'0' || value.len() == 1);
    canonical.then(|| {
        value
            .iter()
            .fold(0, |n, digit| n * 10 + usize::from(digit - b'0'))
    })
}

/// Whether `value` is the canonical decimal form of an `i64` (Redis's
/// `string2l`: no sign but `-`, no leading zero, no spaces, in range).
fn is_canonical_integer(value: &[u8]) -> bool {
    let Ok(text) = std::str::from_utf8(value) else {
        return false;
    };
    text.parse::<i64>()
        .is_ok_and(|n| n.to_string().as_bytes() == value)
}

/// Bytes the value uses beyond its entry's header and key.
pub(crate) fn memory(value: &[u8]) -> usize {
    value.len()
}

/// `SET key value [PXAT deadline]`: one command, so the value and its
/// deadline are applied together.
pub(crate) fn rewrite(
    key: &[u8],
    value: &[u8],
    expire_at_ms: Option<u64>,
    emit: &mut dyn FnMut(&[&[u8]]),
) {
    match expire_at_ms {
        Some(deadline) => {
            let deadline = deadline.to_string();
            emit(&[b"SET", key, value, b"PXAT", deadline.as_bytes()]);
        }
        None => emit(&[b"SET", key, value]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodings_follow_redis_thresholds() {
        assert_eq!(encoding(b"123", false, false), "int");
        assert_eq!(encoding(b"-9223372036854775808", false, false), "int");
        assert_eq!(encoding(b"9223372036854775808", false, false), "embstr");
        assert_eq!(encoding(b"0123", false, false), "embstr");
        assert_eq!(encoding(b"+1", false, false), "embstr");
        assert_eq!(encoding(b"", false, false), "embstr");
        assert_eq!(encoding(&[b'x'; 44], false, false), "embstr");
        assert_eq!(encoding(&[b'x'; 45], false, false), "raw");
        assert_eq!(encoding(b"12", true, false), "raw");
        assert_eq!(encoding(b"12", false, true), "embstr");
        assert_eq!(encoding(b"12", true, true), "raw");
        assert_eq!(encoding(&[b'1'; 45], false, true), "raw");
    }

    #[test]
    fn shared_integers_are_the_canonical_ones_below_10000() {
        assert_eq!(shared_integer(b"0", false), Some(0));
        assert_eq!(shared_integer(b"9999", false), Some(9999));
        assert_eq!(shared_integer(b"10000", false), None);
        assert_eq!(shared_integer(b"-1", false), None);
        assert_eq!(shared_integer(b"07", false), None);
        assert_eq!(shared_integer(b"", false), None);
        assert_eq!(shared_integer(b"12", true), None);
    }

    #[test]
    fn rewrite_is_one_set_with_its_deadline() {
        let mut out: Vec<Vec<Vec<u8>>> = Vec::new();
        let mut emit = |args: &[&[u8]]| out.push(args.iter().map(|a| a.to_vec()).collect());
        rewrite(b"k", b"v", Some(1_700_000_000_000), &mut emit);
        rewrite(b"p", b"w", None, &mut emit);
        assert_eq!(
            out,
            vec![
                vec![
                    b"SET".to_vec(),
                    b"k".to_vec(),
                    b"v".to_vec(),
                    b"PXAT".to_vec(),
                    b"1700000000000".to_vec()
                ],
                vec![b"SET".to_vec(), b"p".to_vec(), b"w".to_vec()],
            ]
        );
    }
}
