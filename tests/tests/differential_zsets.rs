//! The sorted set commands, compared byte for byte with Redis 7.0: the same
//! requests go to the oracle and to Redigo and the raw replies must match,
//! errors and their order of precedence included. Scores are drawn to hit
//! ties (members then order lexically), infinities, `-0` (which a
//! `listpack` stores as `0` and a `skiplist` keeps), very close doubles and
//! the `%.17g` printing of each. Every script runs twice: with the default
//! thresholds (`listpack`) and with `zset-max-listpack-entries 1`, so the
//! big encoding answers the same questions. `ZRANDMEMBER` is random:
//! compared by shape and membership.

mod differential_support;

use std::collections::HashSet;

use differential_support::{Pair, bulk_array, show};

/// Runs `script` with both encodings.
fn both_encodings(script: &[&str]) {
    for entries in ["128", "1"] {
        let Some(mut p) = Pair::start() else { return };
        p.same(&format!("CONFIG SET zset-max-listpack-entries {entries}"));
        p.script(script);
    }
}

#[test]
fn zadd_options_scores_and_their_errors() {
    both_encodings(&[
        "ZADD z 1 a 0.1 b -0 c 1e300 d inf e 3.0000000000000004 f 1e-310 g",
        "ZRANGE z 0 -1 WITHSCORES",
        "ZSCORE z c",
        "ZSCORE z g",
        "ZADD z 3.0000000000000003 f2 3 f3 +1 x .5 y 5. w 0x10 h Infinity j -INF k",
        "ZRANGE z 0 -1 WITHSCORES",
        "ZADD z 1e400 i",
        "ZADD z 1e-400 i",
        "ZADD z nan i",
        "ZADD z  i",
        "ZADD z 1x i",
        "ZADD z 1",
        "ZADD z",
        "ZADD z 1 a 2",
        "ZADD z NX XX 1 a",
        "ZADD z GT LT 1 a",
        "ZADD z NX GT 1 a",
        "ZADD z NX LT 1 a",
        "ZADD z INCR 1 a 2 b",
        "ZADD z NX XX 1 a 2",
        "ZADD z XX CH 5 a 6 zz",
        "ZADD z CH 5 a 6 zz 7 yy",
        "ZADD z GT CH 1 a 9 zz",
        "ZADD z LT CH 1 a 9 yy",
        "ZADD z XX GT 100 a",
        "ZADD z NX 100 a 100 new",
        "ZADD z INCR 0.1 b",
        "ZADD z INCR NX 1 b",
        "ZADD z INCR XX 1 nope",
        "ZADD z INCR GT -1 b",
        "ZADD z INCR -inf e",
        "ZINCRBY z -inf e",
        "ZINCRBY z 1e308 d",
        "ZINCRBY z 1e308 d",
        "ZINCRBY z abc d",
        "ZINCRBY z 1 newmember",
        "ZADD nokey XX 1 a",
        "EXISTS nokey",
        "ZADD nokey XX INCR 1 a",
        "ZRANGE z 0 -1 WITHSCORES",
        "ZCARD z",
        "SET str v",
        "ZADD str 1 a",
        "ZADD str x a",
        "ZINCRBY str 1 a",
        "ZSCORE str a",
        "ZCARD str",
    ]);
}

#[test]
fn reads_ranks_and_counts() {
    both_encodings(&[
        "ZADD z 1 b 1 a 1 c 2 d -0 e 0 f -1.5 g inf h -inf i",
        "ZRANGE z 0 -1 WITHSCORES",
        "ZRANK z a",
        "ZRANK z e",
        "ZRANK z nope",
        "ZREVRANK z a",
        "ZRANK nokey a",
        "ZMSCORE z a nope e h i",
        "ZMSCORE nokey a b",
        "ZCARD nokey",
        "ZCOUNT z -inf +inf",
        "ZCOUNT z ( (",
        "ZCOUNT z  ",
        "ZCOUNT z (0 1",
        "ZCOUNT z 0 0",
        "ZCOUNT z (1 2",
        "ZCOUNT z 1 (2",
        "ZCOUNT z 2 1",
        "ZCOUNT z x 1",
        "ZCOUNT z 1 [2",
        "ZCOUNT z 0x0 1",
        "ZCOUNT z 1e400 inf",
        "ZCOUNT z nan 1",
        "ZCOUNT z (-inf (inf",
        "ZCOUNT nokey 0 1",
        "ZADD lex 0 a 0 b 0 c 0 d 0 e 0 aa 0 ",
        "ZLEXCOUNT lex - +",
        "ZLEXCOUNT lex [a (c",
        "ZLEXCOUNT lex (a [c",
        "ZLEXCOUNT lex [ +",
        "ZLEXCOUNT lex ( +",
        "ZLEXCOUNT lex + -",
        "ZLEXCOUNT lex a c",
        "ZLEXCOUNT lex -a +",
        "ZLEXCOUNT lex - ++",
        "ZLEXCOUNT nokey - +",
    ]);
}

#[test]
fn the_zrange_family() {
    both_encodings(&[
        "ZADD z 1 a 2 b 3 c 4 d 5 e 5 f 5 g 0.5 h",
        "ZRANGE z 0 -1",
        "ZRANGE z 0 -1 WITHSCORES",
        "ZRANGE z 2 3 REV WITHSCORES",
        "ZRANGE z -3 -1",
        "ZRANGE z -100 100",
        "ZRANGE z 5 2",
        "ZRANGE z 100 200",
        "ZRANGE z x 1",
        "ZRANGE z 0 -1 LIMIT 0 1",
        "ZRANGE z 0 -1 LIMIT 0 -1",
        "ZRANGE z 0 -1 LIMIT 0",
        "ZRANGE z (1 +inf BYSCORE WITHSCORES",
        "ZRANGE z +inf (1 BYSCORE REV WITHSCORES LIMIT 1 2",
        "ZRANGE z 1 5 BYSCORE LIMIT 2 3",
        "ZRANGE z 1 5 BYSCORE LIMIT -1 3",
        "ZRANGE z 1 5 BYSCORE LIMIT 2 -3",
        "ZRANGE z 1 5 BYSCORE LIMIT 100 3",
        "ZRANGE z 1 5 BYSCORE LIMIT 0 0",
        "ZRANGE z 1 5 BYSCORE LIMIT x 0",
        "ZRANGE z 0 1 BYSCORE BYLEX",
        "ZRANGE z 0 1 BYLEX WITHSCORES",
        "ZRANGE z 0 1 REV REV",
        "ZRANGE z 0 1 WITHSCORES WITHSCORES",
        "ZRANGE z x y BYSCORE",
        "ZRANGE z x y BYLEX",
        "ZRANGE nokey 0 -1",
        "ZRANGE nokey x y BYLEX",
        "ZRANGEBYSCORE z -inf inf WITHSCORES LIMIT 2 -5",
        "ZRANGEBYSCORE z -inf inf LIMIT -1 2",
        "ZRANGEBYSCORE z 5 5",
        "ZRANGEBYSCORE z (5 5",
        "ZRANGEBYSCORE z 0 1 REV",
        "ZRANGEBYSCORE z 0 1 BYSCORE",
        "ZREVRANGEBYSCORE z inf -inf WITHSCORES",
        "ZREVRANGEBYSCORE z 5 (1 LIMIT 1 2 WITHSCORES",
        "ZREVRANGEBYSCORE z 1 5",
        "ZREVRANGE z 0 -1",
        "ZREVRANGE z -100 100 WITHSCORES",
        "ZREVRANGE z 0 1 LIMIT 0 1",
        "ZADD lex 0 a 0 b 0 c 0 d 0 e 0 aa",
        "ZRANGE lex - + BYLEX",
        "ZRANGE lex [b (e BYLEX LIMIT 1 5",
        "ZRANGE lex + - BYLEX REV LIMIT 0 2",
        "ZRANGEBYLEX lex (a [c",
        "ZRANGEBYLEX lex a c",
        "ZRANGEBYLEX lex - + WITHSCORES",
        "ZREVRANGEBYLEX lex + (a LIMIT 0 1",
        "ZREVRANGEBYLEX lex (c -",
        "SET str v",
        "ZRANGE str 0 -1",
        "ZRANGEBYSCORE str 0 1",
        "ZRANGEBYLEX str - +",
    ]);
}

#[test]
fn stores_removals_and_pops() {
    both_encodings(&[
        "ZADD z 1 a 2 b 3 c 4 d 5 e -0 f",
        "ZRANGESTORE dst z 0 -1",
        "ZRANGE dst 0 -1 WITHSCORES",
        "ZRANGESTORE dst z 0 -1 WITHSCORES",
        "ZRANGESTORE dst z (1 4 BYSCORE LIMIT 1 1",
        "ZRANGE dst 0 -1 WITHSCORES",
        "ZRANGESTORE dst z [a [c BYLEX REV",
        "ZRANGESTORE dst nokey 0 -1",
        "EXISTS dst",
        "SET str v",
        "ZRANGESTORE str z 0 0",
        "TYPE str",
        "ZRANGESTORE dst str 0 0",
        "ZREMRANGEBYRANK z 0 0",
        "ZREMRANGEBYRANK z x 0",
        "ZREMRANGEBYSCORE z (2 3",
        "ZREMRANGEBYSCORE z x 3",
        "ZREMRANGEBYLEX z - +",
        "ZREMRANGEBYLEX z x +",
        "EXISTS z",
        "ZADD z 1 a 2 b 3 c 4 d 5 e",
        "ZPOPMIN z",
        "ZPOPMAX z 2",
        "ZPOPMIN z -1",
        "ZPOPMIN z x",
        "ZPOPMIN z 0",
        "ZPOPMIN z 1 2",
        "ZPOPMIN nokey",
        "ZPOPMAX z 100",
        "EXISTS z",
        "ZADD z 1 a 2 b 3 c",
        "ZMPOP 1 z MIN COUNT 2",
        "ZMPOP 2 nokey z MAX",
        "ZMPOP 2 nokey z MAX",
        "ZMPOP 0 z MIN",
        "ZMPOP -1 z MIN",
        "ZMPOP 1 z",
        "ZMPOP 1 z MID",
        "ZMPOP 1 z MIN COUNT 0",
        "ZMPOP 1 z MIN COUNT 1 COUNT 1",
        "ZMPOP 1 z MIN COUNT",
        "ZMPOP 5 z MIN",
        "ZMPOP 2 str z MIN",
        "ZPOPMIN str",
    ]);
}

#[test]
fn union_inter_diff_and_intercard() {
    both_encodings(&[
        "ZADD z 1 a 2 b 3 c",
        "ZADD s1 1 x 2 y 3 z",
        "SADD set1 y z w",
        "SADD ints 1 2 3",
        "ZUNION 2 z s1 WITHSCORES",
        "ZUNION 3 z s1 set1 WITHSCORES",
        "ZUNION 2 set1 ints",
        "ZINTER 2 s1 set1 WITHSCORES",
        "ZINTER 2 s1 set1 WEIGHTS 2 3 AGGREGATE MAX WITHSCORES",
        "ZINTER 2 s1 set1 WEIGHTS 2 3 AGGREGATE min WITHSCORES",
        "ZINTER 2 s1 s1 WEIGHTS 0.1 0.2 WITHSCORES",
        "ZINTER 2 s1 set1 WEIGHTS 2 WITHSCORES",
        "ZINTER 2 s1 set1 WEIGHTS 2 x WITHSCORES",
        "ZINTER 2 s1 set1 AGGREGATE foo",
        "ZINTER 2 s1 set1 AGGREGATE",
        "ZUNION 0 s1",
        "ZUNION -1 s1",
        "ZUNION 3 s1",
        "ZUNION x s1",
        "ZDIFF 2 s1 set1 WITHSCORES",
        "ZDIFF 2 s1 set1 WEIGHTS 1 1",
        "ZDIFF 1 nokey",
        "ZDIFF 2 nokey s1",
        "ZUNIONSTORE out 2 s1 set1 AGGREGATE MIN",
        "ZRANGE out 0 -1 WITHSCORES",
        "OBJECT ENCODING out",
        "ZINTERSTORE out 2 s1 nokey",
        "EXISTS out",
        "ZDIFFSTORE out 2 s1 set1",
        "ZRANGE out 0 -1 WITHSCORES",
        "ZUNIONSTORE out 2 s1 set1 WITHSCORES",
        "ZINTERCARD 2 s1 set1",
        "ZINTERCARD 2 s1 set1 LIMIT 1",
        "ZINTERCARD 2 s1 set1 LIMIT 0",
        "ZINTERCARD 2 s1 set1 LIMIT -1",
        "ZINTERCARD 0 s1",
        "ZINTERCARD 2 s1 set1 WITHSCORES",
        "ZINTERCARD 2 s1 nokey",
        "ZADD inf 1 a",
        "ZUNION 2 s1 s1 WEIGHTS inf -inf WITHSCORES",
        "ZUNION 2 s1 s1 WEIGHTS inf -inf AGGREGATE MIN WITHSCORES",
        "ZINTER 2 s1 s1 WEIGHTS inf -inf WITHSCORES",
        "ZUNION 2 s1 s1 WEIGHTS 0 inf WITHSCORES",
        "ZADD close 0.1 a 0.2 b",
        "ZUNION 2 close close WITHSCORES",
        "SET str v",
        "ZUNION 2 s1 str",
        "ZUNION 2 str s1 WEIGHTS x",
        "ZUNIONSTORE out 2 s1 str",
        "ZINTERCARD 2 s1 str",
    ]);
}

#[test]
fn encodings_convert_at_redis_thresholds() {
    let Some(mut p) = Pair::start() else { return };
    p.script(&[
        "CONFIG SET zset-max-listpack-entries 2",
        "CONFIG GET zset-max-ziplist-entries",
        "ZADD big 1 a 2 b",
        "OBJECT ENCODING big",
        "ZADD big 3 c",
        "OBJECT ENCODING big",
        "ZREM big a b",
        "OBJECT ENCODING big",
        "ZADD big -0 z",
        "ZSCORE big z",
        "ZADD small -0 z",
        "ZSCORE small z",
        "CONFIG SET zset-max-listpack-entries 128",
        "CONFIG SET zset-max-listpack-value 3",
        "ZADD big2 1 abcd",
        "OBJECT ENCODING big2",
        "ZADD big3 1 ab 2 abcd",
        "OBJECT ENCODING big3",
        "ZADD big6 1 ab",
        "ZINCRBY big6 1 abc",
        "OBJECT ENCODING big6",
        "ZINCRBY big6 1 abcd",
        "OBJECT ENCODING big6",
        "ZUNIONSTORE big4 1 big3",
        "OBJECT ENCODING big4",
        "ZRANGESTORE big5 big3 0 0",
        "OBJECT ENCODING big5",
        "ZRANGESTORE big5 big3 0 -1",
        "OBJECT ENCODING big5",
        "ZREM big3 abcd",
        "OBJECT ENCODING big3",
        "ZUNIONSTORE big7 1 big3",
        "OBJECT ENCODING big7",
        "COPY big3 big8",
        "OBJECT ENCODING big8",
        "CONFIG SET zset-max-ziplist-value 1kb",
        "CONFIG GET zset-max-listpack-value",
        "CONFIG SET zset-max-listpack-entries 0",
        "ZADD zero 1 a",
        "OBJECT ENCODING zero",
        "CONFIG SET zset-max-listpack-entries -1",
        "CONFIG SET zset-max-listpack-value x",
    ]);
}

#[test]
fn zrandmember_and_zscan() {
    for entries in ["128", "1"] {
        let Some(mut p) = Pair::start() else { return };
        p.same(&format!("CONFIG SET zset-max-listpack-entries {entries}"));
        p.script(&[
            "ZADD z 1 a 2 b 3 c 4 d 5 e",
            "ZRANDMEMBER nokey",
            "ZRANDMEMBER nokey 5",
            "ZRANDMEMBER z 0",
            "ZRANDMEMBER z 3 WITHSCORE",
            "ZRANDMEMBER z 3 WITHSCORES x",
            "ZRANDMEMBER z x",
            "ZRANDMEMBER z -9223372036854775808",
            "ZRANDMEMBER z 9223372036854775807 WITHSCORES",
            "ZSCAN nokey 0",
            "ZSCAN z x",
            "SET str v",
            "ZRANDMEMBER str",
            "ZSCAN str 0",
        ]);
        let all: HashSet<Vec<u8>> = ["a", "b", "c", "d", "e"]
            .iter()
            .map(|m| m.as_bytes().to_vec())
            .collect();
        for command in ["ZRANDMEMBER z 3", "ZRANDMEMBER z -20", "ZRANDMEMBER z 10"] {
            let args: Vec<&[u8]> = command.split(' ').map(str::as_bytes).collect();
            let (redis, redigo) = p.both_args(&args);
            let (r, g) = (bulk_array(&redis), bulk_array(&redigo));
            assert_eq!(
                r.len(),
                g.len(),
                "{command}: {} vs {}",
                show(&redis),
                show(&redigo)
            );
            assert!(
                g.iter().all(|m| all.contains(m)),
                "{command}: {}",
                show(&redigo)
            );
            if !command.contains('-') {
                let distinct: HashSet<_> = g.iter().collect();
                assert_eq!(distinct.len(), g.len(), "{command}: repeats");
            }
        }
        // WITHSCORES pairs each member with its own score.
        let args: Vec<&[u8]> = "ZRANDMEMBER z -10 WITHSCORES"
            .split(' ')
            .map(str::as_bytes)
            .collect();
        let (_, redigo) = p.both_args(&args);
        let pairs = bulk_array(&redigo);
        assert_eq!(pairs.len(), 20);
        for pair in pairs.chunks(2) {
            let expected = (pair[0][0] - b'a' + 1).to_string().into_bytes();
            assert_eq!(pair[1], expected, "{}", show(&redigo));
        }
        // A whole scan gives every member once with its score.
        let (redis, redigo) = p.both_args(&[b"ZSCAN", b"z", b"0", b"COUNT", b"100"]);
        let (_, r) = differential_support::scan_reply(&redis);
        let (_, g) = differential_support::scan_reply(&redigo);
        let (mut r, mut g): (Vec<_>, Vec<_>) = (
            r.chunks(2).map(<[Vec<u8>]>::to_vec).collect(),
            g.chunks(2).map(<[Vec<u8>]>::to_vec).collect(),
        );
        r.sort();
        g.sort();
        assert_eq!(r, g);
    }
}

/// A small deterministic generator for the random scripts below.
fn lcg(state: &mut u64) -> usize {
    *state = state
        .wrapping_mul(6_364_136_223_846_793_005)
        .wrapping_add(1_442_695_040_888_963_407);
    (*state >> 33) as usize
}

/// Random sets per run of [`lexical_ranges_over_mixed_scores_walk_as_redis_listpack`].
const LEX_SETS: usize = 120;
/// Random ranges asked of each set.
const LEX_RANGES_PER_SET: usize = 8;

/// Lexical ranges over members of different scores, where the members are
/// not in byte order: Redis's `listpack` answer is a linear walk
/// (`zzlFirstInLexRange`, `zzlLastInLexRange`, then each command walks on
/// while one bound holds), and every lexical command must give it, `REV`
/// and `LIMIT` included. The issue's example first.
#[test]
fn lexical_ranges_over_mixed_scores_walk_as_redis_listpack() {
    let Some(mut p) = Pair::start() else { return };
    p.script(&[
        "ZADD k 1 a 2 b 3 c 4 x 7 d",
        "ZREMRANGEBYLEX k [x [x",
        "ZRANGE k 0 -1 WITHSCORES",
        "OBJECT ENCODING k",
    ]);
    const MEMBERS: &[&str] = &["a", "b", "c", "d", "x", "aa", "ab", "b0", "y", "z", "m"];
    const BOUNDS: &[&str] = &[
        "-", "+", "[a", "(a", "[b", "(b", "[c", "[d", "(d", "[m", "(x", "[x", "[z", "(zz", "[", "(",
    ];
    const SCORE_BOUNDS: &[&str] = &["-inf", "0", "(0", "1", "(1", "2.5", "(3", "3", "+inf"];
    let mut state = 17;
    for _ in 0..LEX_SETS {
        let mut zadd = vec!["ZADD".to_string(), "k".to_string()];
        let members = 1 + lcg(&mut state) % MEMBERS.len();
        for _ in 0..members {
            zadd.push((lcg(&mut state) % 4).to_string());
            zadd.push(MEMBERS[lcg(&mut state) % MEMBERS.len()].to_string());
        }
        p.same("DEL k");
        p.same(&zadd.join(" "));
        p.same("ZRANGE k 0 -1 WITHSCORES");
        for _ in 0..LEX_RANGES_PER_SET {
            let min = BOUNDS[lcg(&mut state) % BOUNDS.len()];
            let max = BOUNDS[lcg(&mut state) % BOUNDS.len()];
            let offset = lcg(&mut state) % 4;
            let count = lcg(&mut state) % 4;
            p.same(&format!("ZLEXCOUNT k {min} {max}"));
            p.same(&format!("ZRANGEBYLEX k {min} {max}"));
            p.same(&format!("ZRANGEBYLEX k {min} {max} LIMIT {offset} {count}"));
            p.same(&format!("ZRANGEBYLEX k {min} {max} LIMIT {offset} -1"));
            p.same(&format!("ZREVRANGEBYLEX k {max} {min}"));
            p.same(&format!(
                "ZREVRANGEBYLEX k {max} {min} LIMIT {offset} {count}"
            ));
            p.same(&format!("ZRANGE k {min} {max} BYLEX"));
            p.same(&format!(
                "ZRANGE k {max} {min} BYLEX REV LIMIT {offset} {count}"
            ));
            p.same(&format!(
                "ZRANGESTORE d k {min} {max} BYLEX LIMIT {offset} -1"
            ));
            p.same("ZRANGE d 0 -1 WITHSCORES");
            p.same(&format!("ZRANGESTORE d k {max} {min} BYLEX REV"));
            p.same("ZRANGE d 0 -1 WITHSCORES");
            // Score ranges with a short LIMIT are counted by a walk from
            // their start: the same sets, by score.
            let smin = SCORE_BOUNDS[lcg(&mut state) % SCORE_BOUNDS.len()];
            let smax = SCORE_BOUNDS[lcg(&mut state) % SCORE_BOUNDS.len()];
            p.same(&format!(
                "ZRANGE k {smin} {smax} BYSCORE WITHSCORES LIMIT {offset} {count}"
            ));
            p.same(&format!(
                "ZRANGE k {smax} {smin} BYSCORE REV WITHSCORES LIMIT {offset} {count}"
            ));
            p.same(&format!("ZRANGEBYSCORE k {smin} {smax} LIMIT {offset} -1"));
            p.same("COPY k r REPLACE");
            p.same(&format!("ZREMRANGEBYLEX r {min} {max}"));
            p.same("ZRANGE r 0 -1 WITHSCORES");
        }
    }
}

/// Over one score every path, `skiplist` included, has one right answer.
#[test]
fn lexical_ranges_over_one_score_in_both_encodings() {
    both_encodings(&[
        "ZADD k 0 a 0 b 0 c 0 d 0 e 0 f 0 g 0 aa 0 ab",
        "ZLEXCOUNT k [b (f",
        "ZLEXCOUNT k (b +",
        "ZLEXCOUNT k - (a",
        "ZLEXCOUNT k [x +",
        "ZRANGEBYLEX k [aa (d LIMIT 1 2",
        "ZREVRANGEBYLEX k + [c LIMIT 1 10",
        "ZRANGE k [g - BYLEX REV LIMIT 2 3",
        "ZRANGESTORE d k (a [e BYLEX",
        "ZRANGE d 0 -1 WITHSCORES",
        "ZREMRANGEBYLEX k [b [c",
        "ZREMRANGEBYLEX k (x [y",
        "ZRANGE k 0 -1",
    ]);
}

/// `SORT` and `SORT_RO` of a `listpack` sorted set convert it to
/// `skiplist` for good, as Redis 7.0's `sortCommandGeneric` does
/// (`zsetConvert` before reading), even when the sort then fails; a syntax
/// error comes first and converts nothing; the conversion is no write
/// (`WATCH` still holds).
#[test]
fn sort_converts_a_listpack_sorted_set_to_skiplist() {
    let Some(mut p) = Pair::start() else { return };
    p.script(&[
        "ZADD z 3 a 1 b 2 c",
        "OBJECT ENCODING z",
        "SORT z LIMIT 0",
        "OBJECT ENCODING z",
        "SORT z BY nosort LIMIT 1 1",
        "OBJECT ENCODING z",
        "ZADD z 0 d",
        "ZRANGE z 0 -1 WITHSCORES",
        "OBJECT ENCODING z",
        "ZADD n 3 10 1 2 2 30",
        "SORT_RO n",
        "OBJECT ENCODING n",
        "ZADD s 1 x 2 y",
        "SORT s",
        "OBJECT ENCODING s",
        "ZADD st 1 q 2 r",
        "SORT st ALPHA DESC STORE dst",
        "OBJECT ENCODING st",
        "LRANGE dst 0 -1",
        "ZADD w 1 m",
        "WATCH w",
        "SORT w ALPHA",
        "MULTI",
        "OBJECT ENCODING w",
        "EXEC",
        "SORT nokey",
        "EXISTS nokey",
    ]);
}

/// A write that changes nothing (`ZADD` of the same score, `NX` of an
/// existing member, `XX` of a missing one, `GT` that loses, `ZREM` and
/// `ZREMRANGEBY*` of nothing, `ZPOPMIN` of a missing key) signals no
/// `WATCH`: Redis's `zaddGenericCommand` calls `signalModifiedKey` only
/// when something was added or updated.
#[test]
fn writes_that_change_nothing_leave_watch_alone() {
    both_encodings(&[
        "ZADD w 1 a 2 b",
        "WATCH w",
        "ZADD w 1 a",
        "ZADD w NX 5 a",
        "ZADD w XX 5 nope",
        "ZADD w GT 0 b",
        "ZADD w LT CH 3 b",
        "ZINCRBY w 0 a",
        "ZREM w nope",
        "ZREMRANGEBYSCORE w 10 20",
        "ZREMRANGEBYLEX w [x [y",
        "ZREMRANGEBYRANK w 5 9",
        "ZPOPMIN nokey",
        "MULTI",
        "ZRANGE w 0 -1 WITHSCORES",
        "EXEC",
        "WATCH w",
        "ZADD w 1 a 3 c",
        "MULTI",
        "PING",
        "EXEC",
    ]);
}
