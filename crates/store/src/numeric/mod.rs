//! Redis's number parsing and formatting, reproduced bit for bit.
//!
//! Clients see Redis's conversions directly (`INCR` accepts `"10"` but not
//! `"+10"`, `SCAN` accepts a cursor of `"-1"`, `INCRBYFLOAT` prints `10.6`),
//! so these are ports of the exact C semantics, not Rust's `str::parse`:
//!
//! * [`parse_i64`] / [`format_i64`]: `string2ll` / `ll2string`.
//! * [`parse_scan_cursor`]: the `strtoul`-based SCAN cursor parser.

mod integer;

pub use integer::{FormattedI64, MAX_I64_CHARS, format_i64, parse_i64, parse_scan_cursor};
