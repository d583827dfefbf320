//! Differential tests of `numeric` against redis-server 7.0.
//!
//! The key one: for pairs `(a, b)`, `SET k a` + `INCRBYFLOAT k b` on the
//! oracle must give exactly what `LongDouble::parse`, `add` and
//! `format_human` predict, errors included. Integer parsing is checked
//! through `INCRBY`, cursor parsing through `SCAN`.

use std::cell::RefCell;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use redigo_store::numeric::{LongDouble, MAX_LONG_DOUBLE_CHARS, parse_i64, parse_scan_cursor};
use redigo_tests::RawConn;

const NOT_A_FLOAT: &[u8] = b"-ERR value is not a valid float\r\n";
const NOT_FINITE: &[u8] = b"-ERR increment would produce NaN or Infinity\r\n";
const NOT_AN_INTEGER: &[u8] = b"-ERR value is not an integer or out of range\r\n";

fn bulk(text: &[u8]) -> Vec<u8> {
    let mut reply = format!("${}\r\n", text.len()).into_bytes();
    reply.extend_from_slice(text);
    reply.extend_from_slice(b"\r\n");
    reply
}

/// The reply Redis's `incrbyfloatCommand` gives for stored `a` plus `b`.
fn predicted_incrbyfloat(a: &[u8], b: &[u8]) -> Vec<u8> {
    let (Some(value), Some(increment)) = (LongDouble::parse(a), LongDouble::parse(b)) else {
        return NOT_A_FLOAT.to_vec();
    };
    match value.checked_add(increment) {
        Some(sum) => bulk(sum.format_human().as_bytes()),
        None => NOT_FINITE.to_vec(),
    }
}

fn check_incrbyfloat(conn: &mut RawConn, a: &[u8], b: &[u8]) -> Result<(), String> {
    assert_eq!(conn.command(&[b"SET", b"k", a]), b"+OK\r\n");
    let actual = conn.command(&[b"INCRBYFLOAT", b"k", b]);
    let predicted = predicted_incrbyfloat(a, b);
    if actual == predicted {
        Ok(())
    } else {
        Err(format!(
            "SET k {:?}; INCRBYFLOAT k {:?}: redis {:?}, predicted {:?}",
            a.escape_ascii().to_string(),
            b.escape_ascii().to_string(),
            actual.escape_ascii().to_string(),
            predicted.escape_ascii().to_string()
        ))
    }
}

/// Hand-picked (stored value, increment) pairs.
const PAIRS: &[(&str, &str)] = &[
    ("10.5", "0.1"),
    ("5.0e3", "2.0e2"),
    ("3.0e3", "0"),
    ("0.1", "0.2"),
    ("1", "-1.5"),
    ("-0", "0"),
    ("0", "-0"),
    ("-0", "-0"),
    ("1e308", "9e308"),
    ("1e4000", "1"),
    ("1e4000", "-1e4000"),
    ("1e-4000", "0"),
    ("1e-4000", "1"),
    ("1e-4940", "0"),
    ("1e-4960", "0"),
    ("1e4932", "0"),
    ("1.18e4932", "1e4931"),
    ("1.2e4932", "0"),
    ("-1.18e4932", "-1e4931"),
    ("0x1p3", "0X.8P1"),
    ("0x1.fffffffffffffffep16383", "0"),
    ("0x1p-16445", "0"),
    ("0x1p-16446", "0"),
    ("0x1.8p-16446", "0"),
    ("0x", "0"),
    ("0x1p", "0"),
    ("0xg", "0"),
    ("1", "inf"),
    ("inf", "0"),
    ("-inf", "1"),
    ("1", "-Infinity"),
    ("inf", "-inf"),
    ("1", "nan"),
    ("1", "infin"),
    ("1", " 1"),
    ("1", "1 "),
    ("1", "\t1"),
    ("1", ""),
    ("", "1"),
    ("1", "abc"),
    ("1", "1e"),
    ("1", "1e+"),
    ("1", ".5"),
    ("1", "5."),
    ("1", "."),
    ("1", "+5"),
    ("1", "-"),
    ("1", "1\0"),
    ("1", "\0"),
    ("1", "--1"),
    ("0", "12345678901234567"),
    ("0", "0.12345678901234567"),
    ("0", "0.123456789012345678"),
    ("0", "1.00000000000000005"),
    ("0", "1.000000000000000051"),
    ("0", "0.000003814697265625"),
    ("0", "0.000003814697265635"),
    ("0", "0.00000000000000001"),
    ("0", "0.000000000000000005"),
    ("0", "0.0000000000000000051"),
    ("0", "-0.000000000000000005"),
    ("0", "-1e-20"),
    ("9223372036854775807", "1"),
    ("-9223372036854775808", "-1"),
    ("18446744073709551615", "1"),
    ("123456789012345678901234567890", "0.5"),
    ("007", "0.000"),
    ("1e99999999999999999999", "0"),
    ("1e-99999999999999999999", "0"),
    ("0e99999999999999999999", "0"),
    ("0.1", "-0.1"),
    ("1.1", "-1"),
    ("3", "-3.00000000000000000001"),
];

fn hand_picked(conn: &mut RawConn) {
    for (a, b) in PAIRS {
        check_incrbyfloat(conn, a.as_bytes(), b.as_bytes()).unwrap();
    }
    // Redis's 5 KiB buffer: 5119 bytes parse, 5120 do not.
    let fits = format!("0.{}", "3".repeat(MAX_LONG_DOUBLE_CHARS - 3));
    let too_long = format!("0.{}", "3".repeat(MAX_LONG_DOUBLE_CHARS - 2));
    check_incrbyfloat(conn, fits.as_bytes(), b"1").unwrap();
    check_incrbyfloat(conn, b"1", too_long.as_bytes()).unwrap();
    // Long digit strings that must round correctly at the 64th bit.
    let long_half = format!("1.{}5{}", "0".repeat(18), "0".repeat(2000));
    let long_above = format!("{long_half}1");
    check_incrbyfloat(conn, long_half.as_bytes(), b"0").unwrap();
    check_incrbyfloat(conn, long_above.as_bytes(), b"0").unwrap();
}

/// `n / 2^m` written out exactly in decimal: values whose 18th decimal can be
/// a 5 with nothing after it, i.e. exact ties for `%.17Lf`.
fn exact_binary_fraction(n: u64, m: u32, negative: bool) -> String {
    let scaled = u128::from(n) * 5u128.pow(m); // n / 2^m = n * 5^m / 10^m
    let digits = format!("{scaled:0>width$}", width = m as usize + 1);
    let (integer, fraction) = digits.split_at(digits.len() - m as usize);
    let sign = if negative { "-" } else { "" };
    format!("{sign}{integer}.{fraction}")
}

fn float_text() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "[-+]?[0-9]{0,22}(\\.[0-9]{0,22})?([eE][-+]?[0-9]{1,4})?",
        1 => "[-+]?0[xX][0-9a-fA-F]{0,18}(\\.[0-9a-fA-F]{0,6})?([pP][-+]?[0-9]{1,5})?",
        2 => (0u64..1 << 40, 1u32..=30, any::<bool>())
            .prop_map(|(n, m, negative)| exact_binary_fraction(n, m, negative)),
        1 => "[-+]?(0|[1-9][0-9]{0,3})\\.[0-9]{1,3}",
    ]
}

fn generated(conn: RawConn) {
    let conn = RefCell::new(conn);
    let mut runner = TestRunner::new(Config {
        cases: 256,
        failure_persistence: None,
        ..Config::default()
    });
    runner
        .run(&(float_text(), float_text()), |(a, b)| {
            check_incrbyfloat(&mut conn.borrow_mut(), a.as_bytes(), b.as_bytes())
                .map_err(TestCaseError::fail)
        })
        .unwrap();
}

fn integers(conn: &mut RawConn) {
    let texts: &[&[u8]] = &[
        b"0",
        b"-0",
        b"00",
        b"01",
        b"+1",
        b" 1",
        b"1 ",
        b"-",
        b"",
        b"12",
        b"-12",
        b"1\0",
        b"9223372036854775807",
        b"9223372036854775808",
        b"-9223372036854775808",
        b"-9223372036854775809",
        b"18446744073709551616",
        b"1e3",
    ];
    for text in texts {
        assert_eq!(conn.command(&[b"SET", b"n", b"0"]), b"+OK\r\n");
        let expected = match parse_i64(text) {
            Some(value) => format!(":{value}\r\n").into_bytes(),
            None => NOT_AN_INTEGER.to_vec(),
        };
        assert_eq!(
            conn.command(&[b"INCRBY", b"n", text]),
            expected,
            "INCRBY n {:?}",
            text.escape_ascii().to_string()
        );
    }
}

fn scan_cursors(conn: &mut RawConn) {
    assert_eq!(conn.command(&[b"FLUSHALL"]), b"+OK\r\n");
    let texts: &[&[u8]] = &[
        b"",
        b"0",
        b"007",
        b"+5",
        b"-1",
        b"-0",
        b"-",
        b"+",
        b" 5",
        b"\x0b5",
        b"5 ",
        b"0x10",
        b"abc",
        b"5\0x",
        b"\0",
        b"18446744073709551615",
        b"18446744073709551616",
        b"-18446744073709551615",
        b"-18446744073709551616",
        b"99999999999999999999999",
    ];
    for text in texts {
        let reply = conn.command(&[b"SCAN", text, b"COUNT", b"1"]);
        let accepted = reply.starts_with(b"*2\r\n");
        assert!(accepted || reply == b"-ERR invalid cursor\r\n");
        assert_eq!(
            parse_scan_cursor(text).is_some(),
            accepted,
            "SCAN {:?}",
            text.escape_ascii().to_string()
        );
    }
}

/// One oracle for all checks: every extra server is another chance of a
/// port race with concurrently running test binaries.
#[test]
fn numeric_conversions_agree_with_redis() {
    let Some(redis) = redigo_tests::oracle() else {
        return;
    };
    let mut conn = redis.connect();
    integers(&mut conn);
    scan_cursors(&mut conn);
    hand_picked(&mut conn);
    generated(conn);
}
