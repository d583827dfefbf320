//! `SORT` and `SORT_RO` compared byte for byte with Redis 7.0 over lists,
//! sets and sorted sets (score order under `BY nosort`, both encodings):
//! numeric and `ALPHA` order, `DESC`, `LIMIT` at and beyond the
//! edges, `BY` string keys, hash fields and `nosort`, `GET` (`#`, missing
//! keys, hash fields), `STORE` (a set stored is sorted; an empty result
//! deletes the destination) and the errors.

mod differential_support;

use differential_support::Pair;

#[test]
fn sort_and_sort_ro_match_redis() {
    let Some(mut p) = Pair::start() else { return };
    p.script(&[
        "RPUSH l 3 1 2 10 -5 1.5",
        "SADD s b a c 10 2",
        "SADD si 5 3 9 1",
        "RPUSH w x y z",
        "MSET w_x 3 w_y 1 w_z 2",
        "HSET h_x f 9",
        "HSET h_y f 8",
        "HSET h_z f 7",
        "SET str v",
        "RPUSH bad a 1",
        "SORT l",
        "SORT l DESC",
        "SORT l LIMIT 1 2",
        "SORT l LIMIT -1 2",
        "SORT l LIMIT 10 2",
        "SORT l LIMIT 0 -1",
        "SORT l LIMIT 2 0",
        "SORT l limit 0 100 desc",
        "SORT si",
        "SORT si DESC LIMIT 1 2",
        "SORT s ALPHA",
        "SORT s ALPHA DESC LIMIT 1 3",
        "SORT bad",
        "SORT bad ALPHA",
        "SORT str",
        "SORT missing",
        "SORT w BY w_*",
        "SORT w BY h_*->f",
        "SORT w BY h_*->",
        "SORT w BY nosort",
        "SORT w BY nosort DESC",
        "SORT w BY nosort LIMIT 1 1",
        "SORT w BY nosort DESC LIMIT 1 5",
        "SORT w BY w_* GET # GET h_*->f GET nokey GET w_*",
        "SORT w BY w_* ALPHA",
        "SORT w BY h_*->f ALPHA DESC",
        "SORT l BY nosort GET # LIMIT 0 2",
        "SORT_RO w ALPHA DESC",
        "SORT w GET w_* ALPHA STORE dst",
        "LRANGE dst 0 -1",
        "SORT s BY nosort STORE dst2",
        "LRANGE dst2 0 -1",
        "SORT w BY w_* GET nokey STORE dst3",
        "LRANGE dst3 0 -1",
        "SET dst4 x",
        "EXPIRE dst4 100",
        "SORT l STORE dst4",
        "TYPE dst4",
        "TTL dst4",
        "SORT missing STORE dst2",
        "EXISTS dst2",
        "SORT_RO l STORE x",
        "SORT l LIMIT a 1",
        "SORT l LIMIT 1",
        "SORT l foo",
        "SORT l STORE",
        "SORT l BY",
        "SORT l GET",
        "SET num 1e400",
        "SORT w BY num",
        "SORT w BY str",
        "RPUSH n2 inf -inf 0x10 +3",
        "SORT n2",
        "RPUSH n3 nan",
        "SORT n3",
        "SORT",
        "SORT_RO",
        // Last: Redis tests `errno == ERANGE` without clearing errno first,
        // so after an underflow its next weights may fail spuriously.
        "RPUSH n \t1 2\t 1e-400",
        "SORT n",
    ]);
}

/// A sorted set sorts by member value like any other collection; under `BY
/// nosort` it keeps its score order (ties by member), reversed by `DESC`,
/// with `LIMIT` cutting that order, in both encodings (Redis reads the
/// range by rank there).
#[test]
fn sort_over_sorted_sets_matches_redis() {
    let Some(mut p) = Pair::start() else { return };
    p.script(&[
        "ZADD z 5 a 3 b 10 c 1 d 3 e 2.5 10 -1 2 -inf m +inf n",
        "MSET w_a 3 w_b 1 w_c 2 w_d 9 w_e 0 w_10 5 w_2 6 w_m 7 w_n 8",
        "ZADD zn 3 1.5 1 20 2 -4 2 7",
        "SORT z",
        "SORT z ALPHA",
        "SORT z ALPHA DESC LIMIT 2 3",
        "SORT zn",
        "SORT zn DESC",
        "SORT zn LIMIT 1 2",
        "SORT z BY nosort",
        "SORT z BY nosort DESC",
        "SORT z BY nosort LIMIT 1 3",
        "SORT z BY nosort DESC LIMIT 2 2",
        "SORT z BY nosort LIMIT 5 100",
        "SORT z BY nosort LIMIT 9 1",
        "SORT z BY nosort LIMIT 10 3",
        "SORT z BY nosort DESC LIMIT 10 3",
        "SORT z BY nosort LIMIT -5 2",
        "SORT z BY nosort LIMIT 0 0",
        "SORT z BY nosort LIMIT 3 -1",
        "SORT z BY w_*",
        "SORT z BY w_* DESC LIMIT 1 4",
        "SORT z BY nosort GET w_* GET #",
        "SORT z BY nosort DESC GET # GET w_* LIMIT 1 2",
        "SORT_RO z BY nosort DESC LIMIT 0 3",
        "SORT_RO z BY nosort",
        "SORT z BY nosort STORE dst",
        "LRANGE dst 0 -1",
        "SORT z BY nosort DESC LIMIT 1 2 STORE dst",
        "LRANGE dst 0 -1",
        "SORT z BY nosort LIMIT 20 2 STORE dst",
        "EXISTS dst",
        "SORT z ALPHA STORE dst",
        "LRANGE dst 0 -1",
    ]);
    // A sorted set past zset-max-listpack-entries (128): the skiplist
    // encoding, ranges read from the middle.
    let mut zadd = String::from("ZADD big");
    for i in 0..300 {
        // Scores repeat so that ties are broken by member.
        zadd.push_str(&format!(" {} m{:03}", (i * 7) % 50, i));
    }
    p.same(&zadd);
    p.script(&[
        "OBJECT ENCODING big",
        "SORT big BY nosort LIMIT 0 10",
        "SORT big BY nosort LIMIT 150 20",
        "SORT big BY nosort DESC LIMIT 150 20",
        "SORT big BY nosort DESC LIMIT 295 20",
        "SORT big BY nosort DESC",
        "SORT big ALPHA LIMIT 100 5",
        "SORT big BY nosort LIMIT 299 1",
    ]);
}
