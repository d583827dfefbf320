//! Crash semantics of replay: a file cut at any byte of its last record
//! yields every complete record and then `Truncated`; damage in the middle is
//! `Corrupt` at the offending byte, never a silent stop.

use bytes::{Bytes, BytesMut};
use proptest::prelude::*;
use redigo_aof::{AofEntry, Record, Replay, ReplayError};

/// Records with binary payloads and multi-digit lengths.
fn sample_records() -> Vec<Record> {
    vec![
        Record::select(0),
        Record::set("k", &b"a\r\nb\0c"[..]),
        Record::set_with_deadline("session", "x".repeat(300), 1_900_000_000_000),
        Record::del("k"),
        Record::new("MSET")
            .arg("a")
            .arg("")
            .arg("b")
            .arg(&b"\r\n"[..]),
    ]
}

fn encode_all(records: &[Record]) -> BytesMut {
    let mut buf = BytesMut::new();
    for record in records {
        record.encode(&mut buf);
    }
    buf
}

fn replay(input: &[u8]) -> (Vec<AofEntry>, Option<ReplayError>) {
    let mut entries = Vec::new();
    for item in Replay::new(input) {
        match item {
            Ok(entry) => entries.push(entry),
            Err(err) => return (entries, Some(err)),
        }
    }
    (entries, None)
}

fn args_of(records: &[Record]) -> Vec<Vec<Bytes>> {
    records.iter().map(|r| r.args().to_vec()).collect()
}

#[test]
fn every_cut_inside_the_last_record_is_truncated() {
    let records = sample_records();
    let file = encode_all(&records);
    let last_start = file.len() - records.last().expect("records").to_bytes().len();
    for cut in last_start + 1..file.len() {
        let (entries, err) = replay(&file[..cut]);
        let got: Vec<_> = entries.iter().map(|e| e.args.clone()).collect();
        assert_eq!(got, args_of(&records[..records.len() - 1]), "cut at {cut}");
        match err {
            Some(ReplayError::Truncated {
                valid_len,
                ignored_bytes,
            }) => {
                assert_eq!(valid_len, last_start as u64, "cut at {cut}");
                assert_eq!(ignored_bytes, (cut - last_start) as u64, "cut at {cut}");
            }
            other => panic!("cut at {cut}: expected Truncated, got {other:?}"),
        }
    }
    // Cutting exactly at a record boundary is a clean end.
    let (entries, err) = replay(&file[..last_start]);
    assert!(err.is_none());
    assert_eq!(entries.len(), records.len() - 1);
    let (entries, err) = replay(&file);
    assert!(err.is_none());
    assert_eq!(entries.len(), records.len());
}

#[test]
fn every_cut_anywhere_keeps_exactly_the_complete_records() {
    let records = sample_records();
    let file = encode_all(&records);
    let ends: Vec<u64> = replay(&file).0.iter().map(|e| e.end).collect();
    for cut in 0..=file.len() as u64 {
        let (entries, err) = replay(&file[..cut as usize]);
        let complete = ends.iter().filter(|&&end| end <= cut).count();
        assert_eq!(entries.len(), complete, "cut at {cut}");
        let boundary = complete.checked_sub(1).map_or(0, |i| ends[i]);
        match err {
            None => assert_eq!(boundary, cut, "clean end only at a boundary"),
            Some(ReplayError::Truncated { valid_len, .. }) => assert_eq!(valid_len, boundary),
            Some(other) => panic!("cut at {cut}: {other}"),
        }
    }
}

#[test]
fn damage_in_the_middle_is_corrupt_at_the_right_offset() {
    let records = sample_records();
    let file = encode_all(&records);
    let entries = replay(&file).0;
    let third = &entries[2];

    // Overwrite the third record's '*'.
    let mut damaged = file.to_vec();
    damaged[third.offset as usize] = b'+';
    let (good, err) = replay(&damaged);
    assert_eq!(good.len(), 2);
    match err {
        Some(ReplayError::Corrupt {
            offset,
            record_start,
            expected,
            found,
        }) => {
            assert_eq!((offset, record_start), (third.offset, third.offset));
            assert_eq!((expected.as_str(), found.as_str()), ("'*'", "'+'"));
        }
        other => panic!("expected Corrupt, got {other:?}"),
    }

    // Break the CRLF after the third record's last bulk.
    let mut damaged = file.to_vec();
    let lf = third.end as usize - 1;
    damaged[lf] = b'!';
    match replay(&damaged).1 {
        Some(ReplayError::Corrupt {
            offset,
            record_start,
            expected,
            ..
        }) => {
            assert_eq!((offset, record_start), (lf as u64, third.offset));
            assert_eq!(expected, "CRLF");
        }
        other => panic!("expected Corrupt, got {other:?}"),
    }

    // A bulk length that is not a number.
    let mut damaged = file.to_vec();
    let dollar = third.offset as usize + 4; // after "*5\r\n"
    assert_eq!(damaged[dollar], b'$');
    damaged[dollar + 1] = b'z';
    match replay(&damaged).1 {
        Some(ReplayError::Corrupt {
            offset, expected, ..
        }) => {
            assert_eq!(offset, dollar as u64 + 1);
            assert_eq!(expected, "a decimal bulk length");
        }
        other => panic!("expected Corrupt, got {other:?}"),
    }
}

#[test]
fn a_reader_reports_progress() {
    let file = encode_all(&sample_records());
    let mut replay = Replay::new(&file[..]);
    let first = replay.next().expect("one").expect("ok");
    assert_eq!(replay.valid_len(), first.end);
    assert!(replay.bytes_consumed() >= first.end);
    let rest = replay.by_ref().count();
    assert_eq!(rest, 4);
    assert_eq!(replay.bytes_consumed(), file.len() as u64);
    assert_eq!(replay.commands(), 5);
}

fn arb_record() -> impl Strategy<Value = Vec<Vec<u8>>> {
    prop::collection::vec(prop::collection::vec(any::<u8>(), 0..24), 1..6)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// Encoding then replaying any records gives them back, and any cut gives
    /// a prefix of them followed by a clean end or `Truncated`.
    #[test]
    fn roundtrip_and_random_cuts(records in prop::collection::vec(arb_record(), 1..8), cut_frac in 0.0f64..1.0) {
        let mut file = BytesMut::new();
        for record in &records {
            redigo_aof::encode_command(&mut file, record);
        }
        let (entries, err) = replay(&file);
        prop_assert!(err.is_none());
        let got: Vec<Vec<Vec<u8>>> = entries
            .iter()
            .map(|e| e.args.iter().map(|a| a.to_vec()).collect())
            .collect();
        prop_assert_eq!(&got, &records);

        let cut = (file.len() as f64 * cut_frac) as usize;
        let (prefix, err) = replay(&file[..cut]);
        prop_assert!(prefix.len() <= records.len());
        for (entry, record) in prefix.iter().zip(&records) {
            prop_assert_eq!(&entry.args.iter().map(|a| a.to_vec()).collect::<Vec<_>>(), record);
        }
        let valid = prefix.last().map_or(0, |e| e.end);
        match err {
            None => prop_assert_eq!(valid, cut as u64),
            Some(ReplayError::Truncated { valid_len, ignored_bytes }) => {
                prop_assert_eq!(valid_len, valid);
                prop_assert_eq!(valid_len + ignored_bytes, cut as u64);
            }
            Some(other) => prop_assert!(false, "unexpected {}", other),
        }
    }

    /// Arbitrary bytes never panic or hang, and any error is located inside
    /// the input.
    #[test]
    fn garbage_is_rejected_gracefully(input in prop::collection::vec(any::<u8>(), 0..200)) {
        let (_, err) = replay(&input);
        match err {
            Some(ReplayError::Corrupt { offset, record_start, .. }) => {
                prop_assert!(record_start <= offset && offset < input.len() as u64);
            }
            Some(ReplayError::Truncated { valid_len, ignored_bytes }) => {
                prop_assert_eq!(valid_len + ignored_bytes, input.len() as u64);
            }
            _ => {}
        }
    }
}
