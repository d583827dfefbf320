//! How the geo commands print numbers, as Redis 7.0's `geo.c`:
//! distances with four decimals ([`distance`], `addReplyDoubleDistance`)
//! and coordinates with up to 17 ([`coordinate`], `addReplyHumanLongDouble`).

/// The decimals of a distance reply.
const DISTANCE_DECIMALS: u32 = 4;

/// A distance as `fixedpoint_d2string(d, 4)`: rounded (half to even, as
/// `llrint`) to a multiple of 0.0001 and printed with exactly four
/// decimals, `0.0000` for zero. A value `llrint` cannot convert (NaN, as
/// an antipodal distance can be) prints as `i64::MIN` does there.
pub fn distance(d: f64) -> String {
    if d == 0.0 {
        return "0.0000".to_owned();
    }
    let scale = 10u64.pow(DISTANCE_DECIMALS);
    let scaled = super::geohash::llrint(d * scale as f64);
    let sign = if scaled < 0 { "-" } else { "" };
    let magnitude = scaled.unsigned_abs();
    format!(
        "{sign}{}.{:0width$}",
        magnitude / scale,
        magnitude % scale,
        width = DISTANCE_DECIMALS as usize
    )
}

/// A coordinate as `addReplyHumanLongDouble` (RESP2): `%.17Lf` of the
/// exact value, trailing zeros and a trailing dot removed, `-0` as `0`.
pub fn coordinate(value: f64) -> String {
    if value.is_infinite() {
        return if value > 0.0 { "inf" } else { "-inf" }.to_owned();
    }
    let mut text = format!("{value:.17}");
    if text.contains('.') {
        let trimmed = text.trim_end_matches('0').trim_end_matches('.').len();
        text.truncate(trimmed);
    }
    if text == "-0" {
        text = "0".to_owned();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances_have_four_rounded_decimals() {
        assert_eq!(distance(0.0), "0.0000");
        assert_eq!(distance(166274.15156960033), "166274.1516");
        assert_eq!(distance(0.00005), "0.0000"); // 0.5 rounds to even
        assert_eq!(distance(0.00016), "0.0002");
        assert_eq!(distance(0.0007), "0.0007");
        assert_eq!(distance(12.5), "12.5000");
        assert_eq!(distance(-1.25), "-1.2500");
        assert_eq!(distance(f64::NAN), "-922337203685477.5808");
    }

    #[test]
    fn coordinates_trim_zeros() {
        assert_eq!(coordinate(180.0), "180");
        assert_eq!(coordinate(-0.0), "0");
        assert_eq!(coordinate(-1e-20), "0");
        assert_eq!(coordinate(13.361389338970184), "13.36138933897018433");
        assert_eq!(coordinate(0.5), "0.5");
        assert_eq!(coordinate(85.05112878), "85.0511287799999991");
    }
}
