//! Redis's number parsing and formatting, reproduced bit for bit.
//!
//! Clients see Redis's conversions directly (`INCR` accepts `"10"` but not
//! `"+10"`, `SCAN` accepts a cursor of `"-1"`, `INCRBYFLOAT` prints `10.6`),
//! so these are ports of the exact C semantics, not Rust's `str::parse`:
//!
//! * [`parse_i64`] / [`format_i64`]: `string2ll` / `ll2string`.
//! * [`parse_scan_cursor`]: the `strtoul`-based SCAN cursor parser.
//! * [`LongDouble`]: the x87 80-bit `long double` that `INCRBYFLOAT` and
//!   `HINCRBYFLOAT` compute in, with `string2ld` ([`LongDouble::parse`]),
//!   addition and `ld2string(LD_STR_HUMAN)` ([`LongDouble::format_human`]).
//!   Emulated in software (exact big-integer conversions) because Rust has
//!   no `f80`, and `f64` gives different replies: `10.5 + 0.1` would print
//!   `10.59999999999999964` instead of Redis's `10.6`.
//!
//! ```
//! use redigo_store::numeric::{LongDouble, parse_i64};
//! assert_eq!(parse_i64(b"-17"), Some(-17));
//! let a = LongDouble::parse(b"0.1").unwrap();
//! let b = LongDouble::parse(b"0.2").unwrap();
//! assert_eq!(a.checked_add(b).unwrap().format_human(), "0.3");
//! ```

mod big_uint;
mod integer;
mod long_double;
mod long_double_format;
mod long_double_parse;
mod score;

pub use integer::{FormattedI64, MAX_I64_CHARS, format_i64, parse_i64, parse_scan_cursor};
pub use long_double::{LongDouble, MANTISSA_BITS};
pub use long_double_format::HUMAN_DECIMALS;
pub use long_double_parse::MAX_LONG_DOUBLE_CHARS;
pub use score::{ScoreText, format_score, parse_range_bound, parse_score, score_text};
