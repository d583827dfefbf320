//! Parsing and formatting of configuration values, with the rules and the
//! error texts of Redis 7.0's `config.c` (so that `CONFIG SET` errors match).

/// A `CONFIG SET`-style validation error: the text after
/// `ERR CONFIG SET failed (possibly related to argument 'x') - `.
pub type ValueError = String;

/// An integer within `min..=max`, as Redis's numeric configs parse it:
/// strictly, with `string2ll` (no `+`, no spaces, no leading zeros, no `-0`).
pub fn parse_integer(value: &str, min: i64, max: i64) -> Result<i64, ValueError> {
    let n = parse_strict(value)?;
    check_range(n, min, max)
}

/// `string2ll`, with Redis's `CONFIG SET` error text.
pub fn parse_strict(value: &str) -> Result<i64, ValueError> {
    redigo_store::numeric::parse_i64(value.as_bytes())
        .ok_or_else(|| "argument couldn't be parsed into an integer".to_string())
}

/// `argument must be between min and max inclusive`.
pub fn check_range(n: i64, min: i64, max: i64) -> Result<i64, ValueError> {
    if n < min || n > max {
        return Err(format!(
            "argument must be between {min} and {max} inclusive"
        ));
    }
    Ok(n)
}

/// The multiplier of a Redis memory unit (`memtoull`): `k`/`m`/`g` are powers
/// of 1000, `kb`/`mb`/`gb` powers of 1024; `b` or nothing is bytes.
fn unit_multiplier(unit: &str) -> Option<u64> {
    const KIB: u64 = 1024;
    const KB: u64 = 1000;
    Some(match unit.to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" => KB,
        "kb" => KIB,
        "m" => KB * KB,
        "mb" => KIB * KIB,
        "g" => KB * KB * KB,
        "gb" => KIB * KIB * KIB,
        _ => return None,
    })
}

/// A memory size such as `64mb`, `1gb`, `1000` within `min..=max` bytes.
pub fn parse_memory(value: &str, min: u64, max: u64) -> Result<u64, ValueError> {
    const NOT_MEMORY: &str = "argument must be a memory value";
    let digits_end = value
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(value.len());
    let (digits, unit) = value.split_at(digits_end);
    let multiplier = unit_multiplier(unit).ok_or(NOT_MEMORY)?;
    let n: u64 = digits.parse().map_err(|_| NOT_MEMORY)?;
    let bytes = n.checked_mul(multiplier).ok_or(NOT_MEMORY)?;
    if bytes < min || bytes > max {
        return Err(format!(
            "argument must be between {min} and {max} inclusive"
        ));
    }
    Ok(bytes)
}

/// `yes`/`no` (any case), as Redis's boolean configs; `true`/`false` are also
/// accepted because TOML and command-line users write them.
pub fn parse_bool(value: &str) -> Result<bool, ValueError> {
    match value.to_ascii_lowercase().as_str() {
        "yes" | "true" => Ok(true),
        "no" | "false" => Ok(false),
        _ => Err("argument must be 'yes' or 'no'".to_string()),
    }
}

/// How Redis prints a boolean config.
pub fn format_bool(value: bool) -> String {
    if value { "yes" } else { "no" }.to_string()
}

/// One of `choices` (any case); `choices` are `(name, value)` pairs, and the
/// error lists the names that `listed` says to show, like Redis's enum configs.
pub fn parse_enum<T: Copy>(
    value: &str,
    choices: &[(&str, T)],
    listed: &[&str],
) -> Result<T, ValueError> {
    choices
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(value))
        .map(|&(_, v)| v)
        .ok_or_else(|| {
            format!(
                "argument(s) must be one of the following: {}",
                listed.join(", ")
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_units_follow_memtoull() {
        assert_eq!(parse_memory("64mb", 0, u64::MAX), Ok(64 * 1024 * 1024));
        assert_eq!(parse_memory("1GB", 0, u64::MAX), Ok(1 << 30));
        assert_eq!(parse_memory("2m", 0, u64::MAX), Ok(2_000_000));
        assert_eq!(parse_memory("1k", 0, u64::MAX), Ok(1000));
        assert_eq!(parse_memory("7", 0, u64::MAX), Ok(7));
        assert!(parse_memory("-5", 0, u64::MAX).is_err());
        assert!(parse_memory("10x", 0, u64::MAX).is_err());
        assert!(parse_memory("mb", 0, u64::MAX).is_err());
        assert!(parse_memory("99999999999gb", 0, u64::MAX).is_err());
        assert_eq!(
            parse_memory("10", 1_048_576, 9_223_372_036_854_775_807),
            Err("argument must be between 1048576 and 9223372036854775807 inclusive".into())
        );
    }

    #[test]
    fn integers_and_booleans_use_redis_texts() {
        assert_eq!(parse_integer("12", 0, 20), Ok(12));
        for not_string2ll in ["+5", "05", "-0", " 5", "5 ", ""] {
            assert_eq!(
                parse_integer(not_string2ll, -20, 20),
                Err("argument couldn't be parsed into an integer".into()),
                "{not_string2ll:?}"
            );
        }
        assert_eq!(
            parse_integer("1.5", 0, 20),
            Err("argument couldn't be parsed into an integer".into())
        );
        assert_eq!(
            parse_integer("70000", 0, 65535),
            Err("argument must be between 0 and 65535 inclusive".into())
        );
        assert_eq!(parse_bool("YES"), Ok(true));
        assert_eq!(parse_bool("false"), Ok(false));
        assert_eq!(
            parse_bool("maybe"),
            Err("argument must be 'yes' or 'no'".into())
        );
    }
}
