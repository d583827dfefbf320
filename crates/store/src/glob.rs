//! Redis glob patterns, as used by `KEYS`, `SCAN ... MATCH` and friends.
//!
//! [`matches`] reproduces Redis 7.0's `stringmatchlen` (`src/util.c`) byte for
//! byte, including its quirks, because clients can observe every one of them
//! through `KEYS`:
//!
//! * `*` matches any run of bytes, `?` any single byte, `\x` the byte `x`
//!   (a trailing lone `\` matches a literal backslash).
//! * `[abc]`, `[^abc]` and ranges `[a-z]`; a reversed range `[z-a]` is the
//!   same as `[a-z]`. Inside brackets `\x` matches `x` exactly, even when
//!   matching case-insensitively.
//! * Range bounds compare as C `char`, which is **signed** on the platforms
//!   Redis ships for: bytes `0x80..=0xFF` sort *below* ASCII, so `[a-\xff]`
//!   covers `0x00..=a` plus `\xff`.
//! * An unterminated `[` class simply ends with the pattern: `[ab` behaves
//!   like `[ab]`, and `[^` matches any single byte.
//! * Case folding (`nocase`) is the C locale's `tolower`: ASCII only.
//! * A run of `*` is one `*`, and `*` never matches the *empty* subject:
//!   `stringmatchlen("*", "")` is false. `KEYS *` still lists an empty key
//!   because Redis short-circuits the pattern `*` before matching; callers
//!   mirror that with [`is_match_all`].
//!
//! Like Redis since 7.0.9, matching is protected against abusive patterns:
//! once the text after some `*` failed to match at every later offset, no
//! earlier `*` can succeed by consuming more (that would only start the same
//! suffix later), so the whole match fails at once. That keeps matching
//! polynomial (at most `pattern.len() * subject.len()` steps per `*`
//! level) instead of exponential for patterns like `a*a*a*a*b`. Recursion
//! deeper than [`MAX_STAR_NESTING`] `*`s fails the match, as in Redis.
//!
//! The C code reads one byte past the end of its pattern (the NUL terminator
//! every Redis string carries); [`Cursor::at`] returns that `0` explicitly.

/// How many `*` wildcards deep the matcher may recurse before it gives up
/// and reports "no match" (Redis's `nesting > 1000` guard).
pub const MAX_STAR_NESTING: usize = 1000;

/// Whether `subject` matches the glob `pattern`, exactly as Redis 7.0's
/// `stringmatchlen(pattern, subject, nocase)` decides.
///
/// ```
/// use redigo_store::glob::matches;
/// assert!(matches(b"h?llo*", b"hello world", false));
/// assert!(matches(b"[a-c]x", b"Bx", true));
/// assert!(!matches(b"[a-c]x", b"Bx", false));
/// ```
pub fn matches(pattern: &[u8], subject: &[u8], nocase: bool) -> bool {
    let mut matcher = Matcher {
        pattern,
        subject,
        nocase,
        skip_longer_matches: false,
    };
    matcher.match_at(0, 0, 0)
}

/// Whether `pattern` is the bare `*` that `KEYS` and `SCAN` treat as "every
/// key" without calling the matcher (so the empty key is included, which
/// [`matches`] alone would reject).
pub fn is_match_all(pattern: &[u8]) -> bool {
    pattern == b"*"
}

/// The C locale's `tolower` on a C `char` value: ASCII letters only.
fn to_lower_c(c: i32) -> i32 {
    if (i32::from(b'A')..=i32::from(b'Z')).contains(&c) {
        c + i32::from(b'a' - b'A')
    } else {
        c
    }
}

/// A byte interpreted as a (signed) C `char`, as Redis's range test sees it.
fn as_c_char(byte: u8) -> i32 {
    i32::from(byte as i8)
}

/// A pattern position with the C string's NUL terminator after the end.
struct Cursor<'a> {
    bytes: &'a [u8],
}

impl Cursor<'_> {
    fn at(&self, index: usize) -> u8 {
        self.bytes.get(index).copied().unwrap_or(0)
    }

    /// Bytes left from `index` (the C code's `patternLen`).
    fn left(&self, index: usize) -> usize {
        self.bytes.len().saturating_sub(index)
    }
}

/// Shared state of one match: the inputs and Redis's `skipLongerMatches`.
struct Matcher<'a> {
    pattern: &'a [u8],
    subject: &'a [u8],
    nocase: bool,
    /// Set once the pattern after some `*` matched nowhere in the rest of the
    /// subject; every enclosing `*` then stops trying longer matches.
    skip_longer_matches: bool,
}

impl Matcher<'_> {
    fn bytes_equal(&self, a: u8, b: u8) -> bool {
        if self.nocase {
            to_lower_c(as_c_char(a)) == to_lower_c(as_c_char(b))
        } else {
            a == b
        }
    }

    /// Matches `pattern[p..]` against `subject[s..]`; `nesting` counts the
    /// `*` wildcards this call is nested under.
    fn match_at(&mut self, mut p: usize, mut s: usize, nesting: usize) -> bool {
        if nesting > MAX_STAR_NESTING {
            return false;
        }
        let pat = Cursor {
            bytes: self.pattern,
        };
        let subject = self.subject;

        while p < pat.bytes.len() && s < subject.len() {
            match pat.at(p) {
                b'*' => {
                    while pat.at(p + 1) == b'*' {
                        p += 1;
                    }
                    if pat.left(p) == 1 {
                        return true;
                    }
                    while s < subject.len() {
                        if self.match_at(p + 1, s, nesting + 1) {
                            return true;
                        }
                        if self.skip_longer_matches {
                            return false;
                        }
                        s += 1;
                    }
                    self.skip_longer_matches = true;
                    return false;
                }
                b'?' => s += 1,
                b'[' => {
                    let (end, matched) = self.match_class(&pat, p + 1, subject[s]);
                    if !matched {
                        return false;
                    }
                    p = end;
                    s += 1;
                }
                other => {
                    let literal = if other == b'\\' && pat.left(p) >= 2 {
                        p += 1;
                        pat.at(p)
                    } else {
                        other
                    };
                    if !self.bytes_equal(literal, subject[s]) {
                        return false;
                    }
                    s += 1;
                }
            }
            p += 1;
            if s == subject.len() {
                while pat.at(p) == b'*' {
                    p += 1;
                }
                break;
            }
        }
        p == pat.bytes.len() && s == subject.len()
    }

    /// Evaluates the class starting at `pattern[p]` (just after `[`) for the
    /// subject byte `c`. Returns the index of the class's last byte (its `]`,
    /// or the pattern's last byte when unterminated) and whether `c` matched.
    fn match_class(&self, pat: &Cursor<'_>, mut p: usize, c: u8) -> (usize, bool) {
        let negate = pat.at(p) == b'^';
        if negate {
            p += 1;
        }
        let mut matched = false;
        loop {
            if pat.at(p) == b'\\' && pat.left(p) >= 2 {
                p += 1;
                if pat.at(p) == c {
                    matched = true;
                }
            } else if pat.at(p) == b']' {
                break;
            } else if pat.left(p) == 0 {
                // Unterminated: step back so the caller's advance lands on the end.
                p -= 1;
                break;
            } else if pat.left(p) >= 3 && pat.at(p + 1) == b'-' {
                let (mut start, mut end) = (as_c_char(pat.at(p)), as_c_char(pat.at(p + 2)));
                let mut value = as_c_char(c);
                if start > end {
                    std::mem::swap(&mut start, &mut end);
                }
                if self.nocase {
                    start = to_lower_c(start);
                    end = to_lower_c(end);
                    value = to_lower_c(value);
                }
                p += 2;
                if (start..=end).contains(&value) {
                    matched = true;
                }
            } else if self.bytes_equal(pat.at(p), c) {
                matched = true;
            }
            p += 1;
        }
        (p, matched != negate)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (pattern, subject, nocase, expected)
    const CASES: &[(&[u8], &[u8], bool, bool)] = &[
        (b"", b"", false, true),
        (b"", b"a", false, false),
        (b"*", b"", false, false),
        (b"**", b"", false, false),
        (b"*", b"anything", false, true),
        (b"a*", b"a", false, true),
        (b"a**", b"a", false, true),
        (b"*a", b"a", false, true),
        (b"*a", b"ba", false, true),
        (b"*a", b"ab", false, false),
        (b"h?llo", b"hello", false, true),
        (b"h?llo", b"hllo", false, false),
        (b"?", b"", false, false),
        (b"h[ae]llo", b"hallo", false, true),
        (b"h[ae]llo", b"hillo", false, false),
        (b"h[^e]llo", b"hallo", false, true),
        (b"h[^e]llo", b"hello", false, false),
        (b"h[a-b]llo", b"hbllo", false, true),
        (b"h[b-a]llo", b"hallo", false, true),
        (b"[a-c]", b"B", true, true),
        (b"[A-C]", b"b", true, true),
        (b"[a-c]", b"B", false, false),
        (b"HELLO", b"hello", true, true),
        (b"HELLO", b"hello", false, false),
        (b"\\*", b"*", false, true),
        (b"\\*", b"a", false, false),
        (b"\\", b"\\", false, true),
        (b"a\\", b"a\\", false, true),
        (b"[\\]]", b"]", false, true),
        (b"[\\", b"\\", false, true),
        (b"[\\a]", b"A", true, false),
        (b"[", b"[", false, false),
        (b"[", b"", false, false),
        (b"[^", b"x", false, true),
        (b"[ab", b"b", false, true),
        (b"[ab", b"c", false, false),
        (b"[]", b"]", false, false),
        // `a-]` is a range ending at `]`, so the class never closes.
        (b"[a-]", b"-", false, false),
        (b"[a-]", b"]", false, true),
        (b"[-a]", b"-", false, true),
        (b"[a-\xff]", b"\x00", false, true),
        (b"[a-\xff]", b"\xff", false, true),
        (b"[a-\xff]", b"b", false, false),
        (b"[\x80-\x90]", b"\x85", false, true),
        (b"\xc3\xa9", b"\xc3\x89", true, false),
        (b"a\x00b", b"a\x00b", false, true),
        (b"a*b*c", b"axxbyyc", false, true),
        (b"a*b*c", b"axxbyy", false, false),
    ];

    #[test]
    fn table() {
        for &(pattern, subject, nocase, expected) in CASES {
            assert_eq!(
                matches(pattern, subject, nocase),
                expected,
                "pattern {:?} subject {:?} nocase {nocase}",
                pattern.escape_ascii().to_string(),
                subject.escape_ascii().to_string(),
            );
        }
    }

    #[test]
    fn abusive_patterns_finish_quickly() {
        // Exponential without the skip-longer-matches rule: 2^30+ steps.
        let pattern = b"a*"
            .repeat(30)
            .into_iter()
            .chain(*b"b")
            .collect::<Vec<_>>();
        let subject = vec![b'a'; 200];
        assert!(!matches(&pattern, &subject, false));
        let mut good = subject.clone();
        good.push(b'b');
        assert!(matches(&pattern, &good, false));
    }

    #[test]
    fn nesting_limit_fails_the_match() {
        let within = b"a*".repeat(MAX_STAR_NESTING);
        let subject = vec![b'a'; MAX_STAR_NESTING + 5];
        assert!(matches(&within, &subject, false));
        let mut beyond = b"a*".repeat(MAX_STAR_NESTING + 1);
        beyond.push(b'a');
        assert!(!matches(&beyond, &subject, false));
    }

    #[test]
    fn match_all_is_only_a_single_star() {
        assert!(is_match_all(b"*"));
        assert!(!is_match_all(b"**"));
        assert!(!is_match_all(b"\\*"));
    }
}
