//! The geospatial commands, compared byte for byte with Redis 7.0: scores,
//! geohashes, distances and coordinates must come out identical (Redigo's
//! geohash arithmetic is a port of Redis's, down to the libm calls), and so
//! must the order of search results (ties included), every error text and
//! which error wins when several apply.
//!
//! Points are placed where the arithmetic is delicate: on and just inside
//! the Web Mercator latitude limits, at and across the antimeridian, on
//! the equator and the prime meridian, at equal distances from a centre
//! (ties), and exactly on a radius. A seeded pseudo-random part adds a
//! bounded number of points and queries.

mod differential_support;

use differential_support::{Pair, bulk_array};

/// Places that stress the encoding: limits, antimeridian, origin, poles.
const EDGE_POINTS: &[&str] = &[
    "GEOADD edge -180 -85.05112878 sw 180 85.05112878 ne 180 -85.05112878 se -180 85.05112878 nw",
    "GEOADD edge 179.9999 0.5 am_e -179.9999 0.5 am_w 180 0 am_180 -180 0 am_m180",
    "GEOADD edge 0 0 origin -0.0001 -0.0001 neg 0.0001 0.0001 pos",
    "GEOADD edge 13.361389 38.115556 Palermo 15.087269 37.502669 Catania",
    "GEOADD edge 12.758489 38.788135 edge1 17.241510 38.788135 edge2",
    "GEOADD edge 0 85 north85 0 -85 south85 90 85.05 n90 -90 -85.05 s90",
    "GEOADD edge 179.99 84.9 cornerA -179.99 -84.9 cornerB 1e-300 -1e-300 tiny",
];

#[test]
fn geoadd_and_its_errors() {
    let Some(mut p) = Pair::start() else { return };
    p.script(EDGE_POINTS);
    p.script(&[
        "GEOADD g 200 100 a",
        "GEOADD g 180.000001 0 a",
        "GEOADD g 0 85.05112879 a",
        "GEOADD g 0 -85.05112879 a",
        "GEOADD g 1 1 a 2 200 b",
        "GEOADD g x 1 a",
        "GEOADD g 1 y a",
        "GEOADD g 1 nan a",
        "GEOADD g inf 1 a",
        "GEOADD g -inf 1 a",
        "GEOADD g 1e400 1 a",
        "GEOADD g 1 1 a 2",
        "GEOADD g 1 1",
        "GEOADD g nx xx 1 1 a",
        "GEOADD g xx nx 1 1 a",
        "GEOADD g gt 1 1 a",
        "GEOADD g lt 1 1 a",
        "GEOADD g incr 1 1 a",
        "GEOADD g nx ch xx",
        "GEOADD g ch ch nx",
        "EXISTS g",
        "GEOADD g xx 1 1 a",
        "EXISTS g",
        "GEOADD g nx 1 1 a 2 2 b",
        "GEOADD g nx 3 3 a 4 4 c",
        "GEOPOS g a b c",
        "GEOADD g xx 5 5 a 6 6 d",
        "GEOADD g xx ch 7 7 a 6 6 d",
        "GEOADD g CH NX ch 8 8 a 9 9 e",
        "GEOADD g ch 1 1 a 1 1 a 2 2 a",
        "GEOPOS g a b c d e",
        "GEOADD g 0x10 1 a",
        "GEOADD g ' 1' 1 a",
        "SET str x",
        "GEOADD str 1 1 a",
        "GEOADD str 200 1 a",
        "GEOADD str xx nx 1 1 a",
        "HSET h f v",
        "GEOADD h 1 1 a",
    ]);
}

#[test]
fn positions_hashes_and_distances() {
    let Some(mut p) = Pair::start() else { return };
    p.script(EDGE_POINTS);
    let members = "sw ne se nw am_e am_w am_180 am_m180 origin neg pos Palermo Catania edge1 \
                   edge2 north85 south85 n90 s90 cornerA cornerB tiny missing";
    p.same(&format!("GEOPOS edge {members}"));
    p.same(&format!("GEOHASH edge {members}"));
    // Antipodal points: the haversine may round past 1 (asin of it is NaN).
    p.script(&[
        "GEOADD anti 0 0 a 180 0 b 90 45 c -90 -45 d 45 30 e -135 -30 f 10.5 20.25 g -169.5 -20.25 h",
        "GEODIST anti a b",
        "GEODIST anti c d",
        "GEODIST anti e f km",
        "GEODIST anti g h mi",
        "GEOSEARCH anti FROMMEMBER e BYRADIUS 20037 km WITHDIST ASC",
        "GEOSEARCH anti FROMMEMBER g BYRADIUS 30000 km WITHDIST DESC",
        "GEOSEARCH anti FROMMEMBER g BYBOX 60000 60000 km WITHDIST COUNT 3",
    ]);
    p.script(&[
        "GEOPOS edge",
        "GEOHASH edge",
        "GEOPOS nokey a b",
        "GEOHASH nokey a b",
        "GEODIST edge Palermo Catania",
        "GEODIST edge Palermo Catania m",
        "GEODIST edge Palermo Catania KM",
        "GEODIST edge Palermo Catania ft",
        "GEODIST edge Palermo Catania Mi",
        "GEODIST edge Palermo Catania yd",
        "GEODIST edge Palermo Catania km extra",
        "GEODIST edge Palermo missing",
        "GEODIST edge missing Palermo km",
        "GEODIST nokey a b",
        "GEODIST nokey a b parsec",
        "GEODIST edge sw ne",
        "GEODIST edge sw ne mi",
        "GEODIST edge am_e am_w",
        "GEODIST edge am_180 am_m180",
        "GEODIST edge origin neg ft",
        "GEODIST edge origin origin",
        "GEODIST edge north85 south85 km",
        "GEODIST edge se sw",
        "GEODIST edge n90 s90",
        "GEODIST edge tiny origin",
        "SET str x",
        "GEOPOS str a",
        "GEOHASH str a",
        "GEODIST str a b",
        "GEODIST str a b parsec",
    ]);
}

#[test]
fn searches_around_the_edges() {
    let Some(mut p) = Pair::start() else { return };
    p.script(EDGE_POINTS);
    let shapes = [
        "BYRADIUS 200 km",
        "BYRADIUS 0 m",
        "BYRADIUS 1 m",
        "BYRADIUS 5000 km",
        "BYRADIUS 20000 km",
        "BYRADIUS 100 mi",
        "BYRADIUS 300000 ft",
        "BYBOX 400 400 km",
        "BYBOX 1 1000 km",
        "BYBOX 1000 1 km",
        "BYBOX 0 0 m",
        "BYBOX 40000 40000 km",
        "BYBOX 200 50 mi",
        "BYRADIUS inf km",
        "BYRADIUS 1e308 km",
        "BYRADIUS -0 m",
        "BYBOX inf 1 m",
        "BYBOX 1 inf m",
        "BYBOX 1e-300 1e-300 mi",
        "BYRADIUS 20037.5 km",
    ];
    let centres = [
        "FROMLONLAT 15 37",
        "FROMLONLAT 180 0",
        "FROMLONLAT -180 0",
        "FROMLONLAT 179.995 0",
        "FROMLONLAT 0 0",
        "FROMLONLAT 0 85.05112878",
        "FROMLONLAT 0 -85.05112878",
        "FROMLONLAT -179.9 84.95",
        "FROMMEMBER Palermo",
        "FROMMEMBER am_w",
        "FROMMEMBER ne",
        "FROMMEMBER south85",
    ];
    for centre in centres {
        for shape in shapes {
            for options in [
                "",
                " ASC WITHDIST",
                " DESC WITHCOORD WITHHASH WITHDIST",
                " COUNT 3",
            ] {
                p.same(&format!("GEOSEARCH edge {centre} {shape}{options}"));
            }
        }
    }
}

/// Points at equal distances from the centre, in both sort algorithms
/// (all results: glibc's merge sort; COUNT below the total: pqsort).
#[test]
fn ties_in_distance_keep_redis_order() {
    let Some(mut p) = Pair::start() else { return };
    // Mirror images around the meridian and the equator are at exactly
    // the same distance from the origin.
    let mut add = String::from("GEOADD ties");
    for i in 1..=30 {
        let d = f64::from(i) * 0.01;
        for (sx, sy, tag) in [
            (1.0, 1.0, "a"),
            (-1.0, 1.0, "b"),
            (1.0, -1.0, "c"),
            (-1.0, -1.0, "d"),
        ] {
            add.push_str(&format!(" {} {} {tag}{i}", sx * d, sy * d));
        }
        add.push_str(&format!(" {d} 0 e{i} -{d} 0 f{i} 0 {d} g{i} 0 -{d} h{i}"));
    }
    p.same(&add);
    for count in [
        "",
        " COUNT 1",
        " COUNT 2",
        " COUNT 5",
        " COUNT 7",
        " COUNT 8",
        " COUNT 41",
        " COUNT 100",
        " COUNT 239",
        " COUNT 240",
        " COUNT 1000",
    ] {
        for order in ["", " ASC", " DESC"] {
            p.same(&format!(
                "GEOSEARCH ties FROMLONLAT 0 0 BYRADIUS 100 km WITHDIST{order}{count}"
            ));
            p.same(&format!(
                "GEOSEARCH ties FROMLONLAT 0 0 BYBOX 50 50 km{order}{count}"
            ));
            p.same(&format!("GEORADIUS ties 0 0 30 km{order}{count}"));
        }
        p.same(
            &format!("GEOSEARCH ties FROMLONLAT 0 0 BYRADIUS 100 km{count} ANY")
                .replace("  ANY", " ANY"),
        );
    }
    for any in [
        "COUNT 1 ANY",
        "COUNT 10 ANY",
        "ANY COUNT 50 DESC",
        "COUNT 300 ANY ASC",
    ] {
        p.same(&format!(
            "GEOSEARCH ties FROMLONLAT 0 0 BYRADIUS 100 km {any} WITHDIST"
        ));
    }
}

#[test]
fn georadius_forms_and_their_options() {
    let Some(mut p) = Pair::start() else { return };
    p.script(EDGE_POINTS);
    p.script(&[
        "GEORADIUS edge 15 37 200 km",
        "GEORADIUS edge 15 37 200 km WITHDIST WITHCOORD WITHHASH ASC",
        "GEORADIUS edge 15 37 200 km withhash desc count 1",
        "GEORADIUS_RO edge 15 37 200 km WITHDIST",
        "GEORADIUSBYMEMBER edge Palermo 200 km WITHDIST",
        "GEORADIUSBYMEMBER_RO edge Palermo 200 km WITHCOORD COUNT 1",
        "GEORADIUSBYMEMBER edge missing 200 km",
        "GEORADIUSBYMEMBER nokey missing 200 km",
        "GEORADIUSBYMEMBER nokey missing abc parsec",
        "GEORADIUSBYMEMBER nokey missing 200 km bogus",
        "GEORADIUSBYMEMBER nokey missing 200 km STORE dst",
        "GEORADIUSBYMEMBER edge Palermo abc km",
        "GEORADIUSBYMEMBER edge Palermo -1 km",
        "GEORADIUSBYMEMBER edge Palermo 1 parsec",
        "GEORADIUS edge 200 37 1 km",
        "GEORADIUS edge x 37 1 km",
        "GEORADIUS edge 15 37 x km",
        "GEORADIUS edge 15 37 -5 km",
        "GEORADIUS edge 15 37 5 yd",
        "GEORADIUS nokey 15 37 5 km",
        "GEORADIUS nokey 15 37 5 km WITHDIST",
        "GEORADIUS nokey 200 37 5 km",
        "GEORADIUS edge 15 37 200 km COUNT",
        "GEORADIUS edge 15 37 200 km COUNT 0",
        "GEORADIUS edge 15 37 200 km COUNT -1",
        "GEORADIUS edge 15 37 200 km COUNT x",
        "GEORADIUS edge 15 37 200 km ANY",
        "GEORADIUS edge 15 37 200 km COUNT 1 ANY",
        "GEORADIUS edge 15 37 200 km STORE",
        "GEORADIUS edge 15 37 200 km STORE dst WITHDIST",
        "GEORADIUS edge 15 37 200 km WITHHASH STOREDIST dst",
        "GEORADIUS_RO edge 15 37 200 km STORE dst",
        "GEORADIUSBYMEMBER_RO edge Palermo 200 km STOREDIST dst",
        "GEORADIUS edge 15 37 200 km FROMLONLAT 1 1",
        "GEORADIUS edge 15 37 200 km BYRADIUS 1 km",
        "GEORADIUS edge 15 37 200 km STOREDIST",
        "SET str x",
        "GEORADIUS str 15 37 200 km",
        "GEORADIUS str 200 37 200 km",
        "GEORADIUSBYMEMBER str a 200 km",
        "GEOSEARCH str FROMLONLAT 1 1 BYRADIUS 1 km",
        "GEOSEARCHSTORE dst str FROMLONLAT 1 1 BYRADIUS 1 km",
    ]);
}

#[test]
fn geosearch_option_rules() {
    let Some(mut p) = Pair::start() else { return };
    p.script(EDGE_POINTS);
    p.script(&[
        "GEOSEARCH edge FROMLONLAT 15 37 BYRADIUS 200 km",
        "GEOSEARCH edge frommember Palermo bybox 400 400 km asc",
        "GEOSEARCH edge FROMLONLAT 15 37",
        "GEOSEARCH edge BYRADIUS 200 km",
        "geosearch edge BYRADIUS 200 km ASC",
        "GeoSearch edge FROMLONLAT 15 37 ASC",
        "GEOSEARCH edge FROMLONLAT 15 37 FROMMEMBER Palermo BYRADIUS 1 km",
        "GEOSEARCH edge FROMMEMBER Palermo FROMLONLAT 15 37 BYRADIUS 1 km",
        "GEOSEARCH edge FROMLONLAT 15 37 FROMLONLAT 15 38 BYRADIUS 1 km",
        "GEOSEARCH edge FROMMEMBER Palermo FROMMEMBER Catania BYRADIUS 100 km",
        "GEOSEARCH edge FROMLONLAT 15 37 BYRADIUS 1 km BYBOX 1 1 km",
        "GEOSEARCH edge FROMLONLAT 15 37 BYBOX 1 1 km BYRADIUS 1 km",
        "GEOSEARCH edge FROMLONLAT 15 37 BYRADIUS 1 km BYRADIUS 300 km",
        "GEOSEARCH edge FROMLONLAT 15 37 BYBOX 1 km",
        "GEOSEARCH edge FROMLONLAT 15 37 BYBOX x 1 km",
        "GEOSEARCH edge FROMLONLAT 15 37 BYBOX 1 x km",
        "GEOSEARCH edge FROMLONLAT 15 37 BYBOX -1 1 km",
        "GEOSEARCH edge FROMLONLAT 15 37 BYBOX 1 -1 km",
        "GEOSEARCH edge FROMLONLAT 15 37 BYBOX 1 1 parsec",
        "GEOSEARCH edge FROMLONLAT 15 37 BYRADIUS x km",
        "GEOSEARCH edge FROMLONLAT 15 37 BYRADIUS 1",
        "GEOSEARCH edge FROMLONLAT 15",
        "GEOSEARCH edge FROMLONLAT 15 100 BYRADIUS 1 km",
        "GEOSEARCH edge FROMLONLAT x 37 BYRADIUS 1 km",
        "GEOSEARCH edge FROMMEMBER missing BYRADIUS 1 km",
        "GEOSEARCH edge FROMMEMBER",
        "GEOSEARCH edge FROMLONLAT 15 37 BYRADIUS 200 km STORE dst",
        "GEOSEARCH edge FROMLONLAT 15 37 BYRADIUS 200 km STOREDIST",
        "GEOSEARCH edge FROMLONLAT 15 37 BYRADIUS 200 km COUNT 1 ANY WITHDIST",
        "GEOSEARCH edge FROMLONLAT 15 37 BYRADIUS 200 km ANY",
        "GEOSEARCH edge FROMLONLAT 15 37 BYRADIUS 200 km COUNT 0",
        "GEOSEARCH edge FROMLONLAT 15 37 BYRADIUS 200 km COUNT 9223372036854775808",
        "GEOSEARCH edge FROMLONLAT 15 37 BYRADIUS 200 km COUNT 9223372036854775807",
        "GEOSEARCH edge FROMLONLAT 15 37 BYRADIUS 200 km bogus",
        "GEOSEARCH nokey FROMMEMBER missing BYRADIUS 1 km",
        "GEOSEARCH nokey FROMMEMBER missing",
        "GEOSEARCH nokey FROMLONLAT 200 0 BYRADIUS 1 km",
        "GEOSEARCH nokey FROMLONLAT 1 1 BYRADIUS 1 km ANY",
        "GEOSEARCH edge FROMLONLAT 15 37 BYRADIUS 1 km BYRADIUS x km",
        "GEOSEARCHSTORE dst edge FROMLONLAT 15 37 BYRADIUS 200 km WITHDIST",
        "GEOSEARCHSTORE dst edge FROMLONLAT 15 37 BYRADIUS 200 km WITHCOORD STOREDIST",
        "GEOSEARCHSTORE dst edge FROMLONLAT 15 37",
        "GEOSEARCHSTORE dst edge BYRADIUS 200 km",
        "GEOSEARCHSTORE dst edge FROMLONLAT 15 37 BYRADIUS 200 km STORE x",
        "GEOSEARCHSTORE dst edge FROMLONLAT 15 37 BYRADIUS 200 km STOREDIST x",
    ]);
}

/// The stored results of `STORE`/`STOREDIST`/`GEOSEARCHSTORE`, read back
/// with the geo commands (their scores decoded) and searched again.
#[test]
fn stores_write_the_same_sorted_sets() {
    let Some(mut p) = Pair::start() else { return };
    p.script(EDGE_POINTS);
    let members = "Palermo Catania edge1 edge2 origin missing";
    for store in [
        "GEOSEARCHSTORE dst edge FROMLONLAT 15 37 BYRADIUS 200 km",
        "GEOSEARCHSTORE dst edge FROMLONLAT 15 37 BYRADIUS 200 km COUNT 1 DESC",
        "GEOSEARCHSTORE dst edge FROMMEMBER Palermo BYBOX 600 600 km STOREDIST",
        "GEOSEARCHSTORE dst edge FROMLONLAT 15 37 BYRADIUS 200 mi STOREDIST ASC COUNT 2",
        "GEORADIUS edge 15 37 200 km STORE dst",
        "GEORADIUS edge 15 37 200 km STOREDIST dst",
        "GEORADIUS edge 15 37 200 ft STOREDIST dst",
        "GEORADIUSBYMEMBER edge Palermo 300 km STOREDIST dst COUNT 2",
        "GEORADIUSBYMEMBER edge Palermo 300 km STORE dst STOREDIST dst2",
        "GEOSEARCHSTORE edge edge FROMLONLAT 15 37 BYRADIUS 200 km",
    ] {
        p.same(store);
        p.same("ZRANGE dst 0 -1 WITHSCORES");
        p.same("ZRANGE dst2 0 -1 WITHSCORES");
        p.same("OBJECT ENCODING dst");
        p.same(&format!("GEOPOS dst {members}"));
        p.same(&format!("GEOHASH dst {members}"));
        p.same("GEOSEARCH dst FROMLONLAT 15 37 BYRADIUS 20000 km ASC WITHHASH");
        p.same("EXISTS dst dst2");
    }
    // An empty result deletes the destination, a missing source too.
    p.script(&[
        "GEOSEARCHSTORE dst2 edge FROMLONLAT 15 37 BYRADIUS 200 km",
        "GEOSEARCHSTORE dst2 edge FROMLONLAT 15 37 BYRADIUS 1 m",
        "EXISTS dst2",
        "GEOSEARCHSTORE dst2 edge FROMLONLAT 15 37 BYRADIUS 200 km",
        "GEOSEARCHSTORE dst2 nokey FROMLONLAT 15 37 BYRADIUS 200 km",
        "EXISTS dst2",
        "SET str x",
        "GEOSEARCHSTORE str edge FROMLONLAT 15 37 BYRADIUS 200 km",
        "TYPE str",
        "ZRANGE str 0 -1 WITHSCORES",
    ]);
    // A result over zset-max-listpack-entries is stored as a skiplist.
    let mut add = String::from("GEOADD many");
    for i in 0..200 {
        add.push_str(&format!(
            " {} {} m{i}",
            f64::from(i) * 0.001,
            f64::from(i % 7) * 0.001
        ));
    }
    p.same(&add);
    for store in [
        "GEOSEARCHSTORE big many FROMLONLAT 0 0 BYRADIUS 100 km",
        "GEOSEARCHSTORE big many FROMLONLAT 0 0 BYRADIUS 100 km STOREDIST",
        "GEOSEARCHSTORE big many FROMLONLAT 0 0 BYRADIUS 100 km COUNT 128 STOREDIST",
        "GEORADIUS many 0 0 100 km COUNT 129 DESC STORE big",
    ] {
        p.same(store);
        p.same("OBJECT ENCODING big");
        p.same("ZRANGE big 0 -1 WITHSCORES");
    }
}

/// A `GEOADD`ed key is an ordinary sorted set to the `Z*` commands, and
/// the geo commands read any sorted set, whatever made its scores.
#[test]
fn geo_keys_are_sorted_sets() {
    let Some(mut p) = Pair::start() else { return };
    p.script(EDGE_POINTS);
    p.script(&[
        "TYPE edge",
        "OBJECT ENCODING edge",
        "ZCARD edge",
        "ZRANGE edge 0 -1 WITHSCORES",
        "ZSCORE edge Palermo",
        "ZRANK edge ne",
        "ZRANGEBYSCORE edge 3479099956230698 +inf WITHSCORES",
        "ZREM edge Palermo",
        "GEOPOS edge Palermo Catania",
        "ZADD edge 3479099956230698 Palermo",
        "GEODIST edge Palermo Catania",
        "ZINCRBY edge 1 Palermo",
        "GEOPOS edge Palermo",
        "GEOHASH edge Palermo",
        "ZPOPMIN edge",
        "GEOSEARCH edge FROMLONLAT 0 0 BYRADIUS 20000 km ASC",
    ]);
    // Scores no GEOADD makes: negative (the C cast wraps), fractional,
    // beyond 52 bits, beyond 2^63, infinite.
    p.script(&[
        "ZADD z -1 neg 1.5 frac 0 zero 4503599627370496 b52 13510798882111488 b52x3",
        "ZADD z 9.3e18 over63 1e300 huge inf pinf -inf ninf -0 negzero 4503599627370495.5 half",
        "GEOPOS z neg frac zero b52 b52x3 over63 huge pinf ninf negzero half",
        "GEOHASH z neg frac zero b52 b52x3 over63 huge pinf ninf negzero half",
        "GEODIST z neg huge",
        "GEODIST z pinf ninf km",
        "GEODIST z zero frac",
        "GEOSEARCH z FROMMEMBER zero BYRADIUS 20000 km WITHHASH WITHCOORD WITHDIST ASC",
        "GEOSEARCH z FROMMEMBER neg BYBOX 40000 40000 km WITHHASH WITHCOORD",
        "GEOSEARCH z FROMLONLAT 0 0 BYRADIUS 20000 km WITHHASH",
        "GEORADIUSBYMEMBER z pinf 100 km WITHCOORD",
    ]);
    // Past zset-max-listpack-entries the set is a skiplist; reads agree.
    let mut add = String::from("GEOADD big");
    for i in 0..150 {
        add.push_str(&format!(
            " {} {} m{i}",
            f64::from(i) * 0.37 - 27.0,
            f64::from(i) * 0.21 - 15.0
        ));
    }
    p.same(&add);
    p.script(&[
        "OBJECT ENCODING big",
        "ZRANGE big 0 9 WITHSCORES",
        "GEOPOS big m0 m75 m149",
        "GEOSEARCH big FROMMEMBER m75 BYRADIUS 500 km WITHDIST ASC",
        "GEOSEARCH big FROMMEMBER m75 BYBOX 900 300 km DESC COUNT 5",
        "GEORADIUS big 0 0 3000 km COUNT 7 ANY",
    ]);
}

/// A small deterministic generator (xorshift64*), so runs repeat.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545F4914F6CDD1D)
    }

    /// Uniform in `[lo, hi)`, rounded to 6 decimals (as people type them).
    fn coordinate(&mut self, lo: f64, hi: f64) -> f64 {
        let unit = (self.next() >> 11) as f64 / (1u64 << 53) as f64;
        ((lo + unit * (hi - lo)) * 1e6).round() / 1e6
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[(self.next() % items.len() as u64) as usize]
    }
}

/// Points everywhere (denser near the poles and the antimeridian), then
/// random searches; the number of points and queries is fixed, which
/// bounds the run time.
#[test]
fn random_points_and_searches() {
    const POINTS: usize = 600;
    const QUERIES: usize = 400;
    let Some(mut p) = Pair::start() else { return };
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for chunk in 0..POINTS / 100 {
        let mut add = String::from("GEOADD r");
        for i in 0..100 {
            let (lon, lat) = match i % 4 {
                0 => (
                    rng.coordinate(-180.0, 180.0),
                    rng.coordinate(-85.05112878, 85.05112878),
                ),
                1 => (
                    rng.coordinate(-180.0, 180.0),
                    rng.coordinate(80.0, 85.05112878),
                ),
                2 => (rng.coordinate(178.0, 180.0), rng.coordinate(-10.0, 10.0)),
                _ => (rng.coordinate(-180.0, -178.0), rng.coordinate(-10.0, 10.0)),
            };
            add.push_str(&format!(" {lon} {lat} p{chunk}_{i}"));
        }
        p.same(&add);
    }
    let members = bulk_array(&p.same("GEOSEARCH r FROMLONLAT 0 0 BYRADIUS 30000 km"));
    assert_eq!(members.len(), POINTS);
    p.same("OBJECT ENCODING r");
    let units = ["m", "km", "ft", "mi"];
    for _ in 0..QUERIES {
        let centre = if rng.next() % 3 == 0 {
            let m = &members[(rng.next() % members.len() as u64) as usize];
            format!("FROMMEMBER {}", String::from_utf8_lossy(m))
        } else {
            let lat = match rng.next() % 3 {
                0 => rng.coordinate(-85.05112878, 85.05112878),
                1 => rng.coordinate(80.0, 85.05112878),
                _ => rng.coordinate(-5.0, 5.0),
            };
            let lon = if rng.next() % 2 == 0 {
                rng.coordinate(-180.0, 180.0)
            } else {
                rng.coordinate(179.0, 180.0)
            };
            format!("FROMLONLAT {lon} {lat}")
        };
        let unit = rng.pick(&units);
        let size = |rng: &mut Rng| {
            (rng.next() % 3_000_000) as f64
                / [1.0, 1000.0, 0.3048, 1609.34][units.iter().position(|u| *u == unit).unwrap()]
        };
        let shape = if rng.next() % 2 == 0 {
            format!("BYRADIUS {:.3} {unit}", size(&mut rng))
        } else {
            format!("BYBOX {:.3} {:.3} {unit}", size(&mut rng), size(&mut rng))
        };
        let options = rng.pick(&[
            "",
            " ASC",
            " DESC",
            " COUNT 5",
            " COUNT 3 ANY",
            " DESC COUNT 20",
            " WITHDIST WITHCOORD WITHHASH",
        ]);
        p.same(&format!("GEOSEARCH r {centre} {shape}{options}"));
    }
}

/// The value of `field` in an `INFO` reply.
fn info_field(reply: &[u8], field: &str) -> String {
    let text = String::from_utf8_lossy(reply);
    text.lines()
        .find_map(|line| line.strip_prefix(&format!("{field}:")))
        .unwrap_or_else(|| panic!("INFO has no {field}"))
        .to_string()
}

/// Reads count one keyspace hit or miss for their source key (a wrong
/// type is a hit); `GEOADD` and the destinations count nothing.
#[test]
fn reads_count_keyspace_hits_and_misses_as_redis_does() {
    let Some(mut p) = Pair::start() else { return };
    p.script(EDGE_POINTS);
    p.script(&[
        "SET str x",
        "GEOADD new 1 1 a",
        "GEOPOS edge Palermo missing",
        "GEOPOS nokey a",
        "GEOPOS str a",
        "GEOHASH edge missing",
        "GEOHASH nokey a",
        "GEODIST edge Palermo Catania",
        "GEODIST edge Palermo missing",
        "GEODIST nokey a b",
        "GEODIST str a b",
        "GEODIST edge a b parsec",
        "GEOSEARCH edge FROMLONLAT 15 37 BYRADIUS 200 km",
        "GEOSEARCH nokey FROMLONLAT 15 37 BYRADIUS 200 km",
        "GEOSEARCH edge FROMLONLAT 15 37",
        "GEOSEARCHSTORE dst edge FROMLONLAT 15 37 BYRADIUS 200 km",
        "GEOSEARCHSTORE dst nokey FROMLONLAT 15 37 BYRADIUS 200 km",
        "GEORADIUS edge 15 37 200 km STORE dst",
        "GEORADIUSBYMEMBER edge Palermo 200 km",
        "GEORADIUSBYMEMBER nokey Palermo 200 km",
        "GEORADIUSBYMEMBER_RO str Palermo 200 km",
    ]);
    let (redis, redigo) = p.both_args(&[b"INFO", b"stats"]);
    for field in ["keyspace_hits", "keyspace_misses"] {
        assert_eq!(
            info_field(&redigo, field),
            info_field(&redis, field),
            "{field}"
        );
    }
}

/// The commands of an AOF file (RESP arrays of bulk strings), `SELECT`s
/// left out (when each server emits one is its own business).
fn aof_commands(path: &std::path::Path) -> Vec<Vec<String>> {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut commands = Vec::new();
    let mut at = 0;
    let line = |at: &mut usize| {
        let end = *at
            + bytes[*at..]
                .windows(2)
                .position(|w| w == b"\r\n")
                .expect("CRLF");
        let text = String::from_utf8_lossy(&bytes[*at + 1..end]).into_owned();
        *at = end + 2;
        text
    };
    while at < bytes.len() {
        assert_eq!(bytes[at], b'*', "an array at byte {at}");
        let n: usize = line(&mut at).parse().expect("array length");
        let mut command = Vec::with_capacity(n);
        for _ in 0..n {
            let len: usize = line(&mut at).parse().expect("bulk length");
            command.push(String::from_utf8_lossy(&bytes[at..at + len]).into_owned());
            at += len + 2;
        }
        if !command[0].eq_ignore_ascii_case("select") {
            commands.push(command);
        }
    }
    commands
}

/// The AOF records of the geo writes, as redis-server 7.0.15 writes them:
/// `GEOADD` as its `zadd`, the stores as sent, no-ops not at all.
#[test]
fn aof_records_match_redis() {
    let Some(oracle) =
        redigo_tests::oracle_with_args(&["--appendonly", "yes", "--appendfsync", "always"])
    else {
        return;
    };
    let dir = std::env::temp_dir().join(format!("redigo-geo-aof-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let aof = dir.join("appendonly.aof");
    let aof_path = aof.display().to_string();
    let server = redigo_server::testing::TestServer::start(&[
        ("aof-enabled", "yes"),
        ("appendfsync", "always"),
        ("aof-path", &aof_path),
    ]);
    let mut redis = oracle.connect();
    let mut redigo = redigo_tests::RawConn::connect(server.port());
    let script = [
        "GEOADD g CH NX 13.361389 38.115556 Palermo 15.087269 37.502669 Catania",
        "GEOADD g 13.361389 38.115556 Palermo",
        "GEOADD g xx 1 1 Palermo",
        "GEOADD g XX CH ch 1 1 Palermo 2 2 nobody",
        "GEOADD g nx 13.361389 38.115556 Palermo 0 0 origin",
        "GEOADD g nx xx 1 1 a",
        "GEOADD g 200 1 a",
        "GEOSEARCHSTORE dst g FROMLONLAT 15 37 BYRADIUS 200 km ASC COUNT 1",
        "GEOSEARCHSTORE dst g FROMLONLAT 15 37 BYRADIUS 200 km STOREDIST",
        "GEORADIUS g 15 37 200 km STORE dst2",
        "GEORADIUSBYMEMBER g Catania 300 km STOREDIST dst3 DESC",
        "GEOSEARCHSTORE dst g FROMLONLAT 15 37 BYRADIUS 1 m",
        "GEOSEARCHSTORE dst g FROMLONLAT 15 37 BYRADIUS 1 m",
        "GEORADIUS nokey 15 37 200 km STORE dst2",
        "GEORADIUS nokey 15 37 200 km STORE dst2",
        "GEOSEARCH g FROMLONLAT 15 37 BYRADIUS 200 km",
        "GEORADIUS_RO g 15 37 200 km",
        "SET done 1",
    ];
    for command in script {
        let args: Vec<&[u8]> = command.split(' ').map(str::as_bytes).collect();
        assert_eq!(
            String::from_utf8_lossy(&redigo.command(&args)),
            String::from_utf8_lossy(&redis.command(&args)),
            "{command}"
        );
    }
    let redis_aof = oracle
        .dir()
        .join("appendonlydir")
        .join("appendonly.aof.1.incr.aof");
    let (ours, theirs) = (aof_commands(&aof), aof_commands(&redis_aof));
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(ours, theirs);
}
