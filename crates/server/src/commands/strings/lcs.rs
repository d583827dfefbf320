//! `LCS key1 key2 [LEN] [IDX] [MINMATCHLEN len] [WITHMATCHLEN]`: the longest
//! common subsequence of two strings, as Redis 7.0's `lcsCommand` computes
//! it.
//!
//! The classic dynamic-programming table of `(|a|+1) * (|b|+1)` `u32`
//! lengths is built, then walked back from the end; ties go the way Redis
//! goes (towards a shorter `b` prefix), so the subsequence and the match
//! ranges are the ones Redis reports, not merely a longest one. The table
//! is refused when it would exceed `proto-max-bulk-len` bytes, with
//! Redis's error, which keeps the transient memory bounded.

/// What the walk found: the subsequence (when asked for) and the matching
/// ranges, last match first, as Redis emits them.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct LcsResult {
    /// The length of the longest common subsequence.
    pub len: u32,
    /// The subsequence itself (empty when only the length was wanted).
    pub sequence: Vec<u8>,
    /// Contiguous matches as `((a_start, a_end), (b_start, b_end))`,
    /// inclusive, from the end of the strings backwards.
    pub ranges: Vec<((u32, u32), (u32, u32))>,
}

/// Why the table cannot be built.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum LcsError {
    /// A string of `u32::MAX - 1` bytes or more.
    TooLong,
    /// The table would exceed the transient-memory limit.
    TableTooLarge,
}

impl LcsError {
    /// Redis's error text.
    pub(super) fn message(&self) -> &'static str {
        match self {
            LcsError::TooLong => "ERR String too long for LCS",
            LcsError::TableTooLarge => {
                "ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len"
            }
        }
    }
}

/// Bytes per table cell (Redis's `uint32_t`).
const CELL_BYTES: u64 = 4;

/// Computes the LCS of `a` and `b`. `walk` asks for the subsequence and the
/// ranges (not needed for `LEN`); `table_limit` is `proto-max-bulk-len`.
pub(super) fn lcs(a: &[u8], b: &[u8], walk: bool, table_limit: u64) -> Result<LcsResult, LcsError> {
    let too_long = |s: &[u8]| u32::try_from(s.len()).map_or(true, |n| n >= u32::MAX - 1);
    if too_long(a) || too_long(b) {
        return Err(LcsError::TooLong);
    }
    let (alen, blen) = (a.len(), b.len());
    let cells = (alen as u64 + 1) * (blen as u64 + 1);
    if cells.saturating_mul(CELL_BYTES) > table_limit {
        return Err(LcsError::TableTooLarge);
    }
    let width = blen + 1;
    let cells = usize::try_from(cells).map_err(|_| LcsError::TableTooLarge)?;
    let mut table = vec![0u32; cells];
    for i in 1..=alen {
        for j in 1..=blen {
            table[i * width + j] = if a[i - 1] == b[j - 1] {
                table[(i - 1) * width + j - 1] + 1
            } else {
                table[(i - 1) * width + j].max(table[i * width + j - 1])
            };
        }
    }
    let len = table[alen * width + blen];
    let mut result = LcsResult {
        len,
        ..LcsResult::default()
    };
    if !walk {
        return Ok(result);
    }
    result.sequence = vec![0; len as usize];
    // Positions are below u32::MAX - 1, checked above.
    let unset = alen as u32;
    let (mut a_start, mut a_end, mut b_start, mut b_end) = (unset, 0u32, 0u32, 0u32);
    let (mut i, mut j, mut idx) = (alen, blen, len as usize);
    while i > 0 && j > 0 {
        let mut emit = false;
        let (ci, cj) = (i as u32, j as u32);
        if a[i - 1] == b[j - 1] {
            result.sequence[idx - 1] = a[i - 1];
            if a_start == unset {
                (a_start, a_end, b_start, b_end) = (ci - 1, ci - 1, cj - 1, cj - 1);
            } else if a_start == ci && b_start == cj {
                // Contiguous with the current range: extend it backwards.
                a_start -= 1;
                b_start -= 1;
            } else {
                emit = true;
            }
            if a_start == 0 || b_start == 0 {
                emit = true;
            }
            idx -= 1;
            i -= 1;
            j -= 1;
        } else {
            if table[(i - 1) * width + j] > table[i * width + j - 1] {
                i -= 1;
            } else {
                j -= 1;
            }
            if a_start != unset {
                emit = true;
            }
        }
        if emit {
            result.ranges.push(((a_start, a_end), (b_start, b_end)));
            a_start = unset;
        }
    }
    Ok(result)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NO_LIMIT: u64 = u64::MAX;

    #[test]
    fn finds_the_subsequence_and_ranges_redis_documents() {
        let found = lcs(b"ohmytext", b"mynewtext", true, NO_LIMIT).unwrap();
        assert_eq!(found.sequence, b"mytext");
        assert_eq!(found.len, 6);
        assert_eq!(found.ranges, [((4, 7), (5, 8)), ((2, 3), (0, 1))]);
    }

    #[test]
    fn empty_inputs_and_the_table_limit() {
        assert_eq!(lcs(b"", b"abc", true, NO_LIMIT).unwrap().len, 0);
        assert_eq!(
            lcs(b"abc", b"abc", false, 64),
            Ok(LcsResult {
                len: 3,
                ..Default::default()
            })
        );
        assert_eq!(lcs(b"abc", b"abc", false, 63), Err(LcsError::TableTooLarge));
    }
}
