//! What the geo commands propagate, checked in-process (the replies are
//! compared with Redis by `tests/tests/differential_geo.rs`). The expected
//! records are what redis-server 7.0.15 wrote to its AOF for the same
//! requests.

use crate::commands::harness::Harness;

/// The instant every command runs at.
const NOW: u64 = 1_700_000_000_000;

fn run(h: &mut Harness, args: &[&str]) -> Vec<u8> {
    h.run_at(NOW, args)
}

#[test]
fn geoadd_propagates_as_the_zadd_it_becomes() {
    let mut h = Harness::new();
    let palermo = ["13.361389", "38.115556", "Palermo"];
    let catania = ["15.087269", "37.502669", "Catania"];
    let add = [&["GEOADD", "g", "CH", "NX"][..], &palermo, &catania].concat();
    assert_eq!(run(&mut h, &add), b":2\r\n");
    // Nothing changed: nothing propagated.
    assert_eq!(
        run(&mut h, &[&["GEOADD", "g"][..], &palermo].concat()),
        b":0\r\n"
    );
    // An update without CH answers 0 but is propagated.
    assert_eq!(
        run(&mut h, &["GEOADD", "g", "xx", "1", "1", "Palermo"]),
        b":0\r\n"
    );
    assert_eq!(
        run(&mut h, &["GEOADD", "g", "xx", "nx", "1", "1", "a"]),
        b"-ERR syntax error\r\n"
    );
    assert_eq!(
        h.propagated(),
        [
            vec![
                "0",
                "zadd",
                "g",
                "CH",
                "NX",
                "3479099956230698",
                "Palermo",
                "3479447370796909",
                "Catania"
            ],
            vec!["0", "zadd", "g", "xx", "3377822707026402", "Palermo"],
        ]
    );
}

#[test]
fn stores_propagate_as_sent_when_they_changed_the_destination() {
    let mut h = Harness::new();
    run(
        &mut h,
        &[
            "GEOADD",
            "g",
            "13.361389",
            "38.115556",
            "Palermo",
            "15.087269",
            "37.502669",
            "Catania",
        ],
    );
    let search = [
        "GEOSEARCHSTORE",
        "dst",
        "g",
        "fromlonlat",
        "15",
        "37",
        "byradius",
        "200",
        "km",
        "asc",
        "count",
        "1",
    ];
    assert_eq!(run(&mut h, &search), b":1\r\n");
    let radius = ["GEORADIUS", "g", "15", "37", "200", "km", "store", "dst2"];
    assert_eq!(run(&mut h, &radius), b":2\r\n");
    // An empty result deletes the destination: propagated; then there is
    // nothing left to delete: not propagated.
    let empty = [
        "GEOSEARCHSTORE",
        "dst",
        "g",
        "fromlonlat",
        "15",
        "37",
        "byradius",
        "1",
        "m",
    ];
    assert_eq!(run(&mut h, &empty), b":0\r\n");
    assert_eq!(run(&mut h, &empty), b":0\r\n");
    let missing = [
        "GEORADIUS",
        "nokey",
        "15",
        "37",
        "200",
        "km",
        "store",
        "dst2",
    ];
    assert_eq!(run(&mut h, &missing), b":0\r\n");
    assert_eq!(run(&mut h, &missing), b":0\r\n");
    let strs = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let with_db = |a: &[&str]| [vec!["0".to_string()], strs(a)].concat();
    assert_eq!(
        h.propagated()[1..],
        [
            with_db(&search),
            with_db(&radius),
            with_db(&empty),
            with_db(&missing)
        ]
    );
}
