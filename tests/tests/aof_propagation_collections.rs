//! What Redigo writes to its AOF for the set and hash commands whose
//! propagation is not the command as sent, against what redis-server 7.0
//! writes to its own AOF for the same commands: `SPOP` with and without a
//! count (one `SREM` per member, in `MULTI`/`EXEC` when several; `DEL` when
//! the set empties), `SRANDMEMBER`/`HRANDFIELD` (nothing), `SMOVE`, the
//! `*STORE` commands with an empty result, `HINCRBYFLOAT` (`HSET` of the
//! result). Both files are read back and compared record by record; the
//! members `SPOP` picks at random are compared with what each server
//! replied.

use std::collections::BTreeSet;

use redigo_server::testing::TestServer;
use redigo_tests::RawConn;

/// The commands run on both servers, in order.
fn workload() -> Vec<Vec<String>> {
    let ten: Vec<String> = (1..=10).map(|i| i.to_string()).collect();
    let words: Vec<String> = (1..=10).map(|i| format!("x{i}")).collect();
    let many: Vec<String> = (1..=600).map(|i| i.to_string()).collect();
    let with = |head: &[&str], tail: &[String]| -> Vec<String> {
        head.iter()
            .map(|w| w.to_string())
            .chain(tail.iter().cloned())
            .collect()
    };
    let line = |text: &str| text.split(' ').map(str::to_string).collect::<Vec<_>>();
    vec![
        with(&["SADD", "s"], &ten),
        line("SPOP s 3"),
        line("SADD e a b c"),
        line("SPOP e 20"),
        with(&["SADD", "w"], &words),
        line("SPOP w 1"),
        line("SPOP w"),
        line("SPOP w 0"),
        line("SPOP nosuch 3"),
        line("SRANDMEMBER w 2"),
        line("SRANDMEMBER w -5"),
        line("HSET h a 1"),
        line("HRANDFIELD h 2 WITHVALUES"),
        line("HRANDFIELD h -3"),
        line("SADD m a b"),
        line("SMOVE m t a"),
        line("SMOVE m t zz"),
        line("SMOVE m m b"),
        line("SINTERSTORE dst s nosuch"),
        line("SET dst3 x"),
        line("SINTERSTORE dst3 s nosuch"),
        line("SUNIONSTORE u s w"),
        line("SDIFFSTORE d2 nosuch s"),
        line("HINCRBYFLOAT h b 1.5"),
        line("HINCRBYFLOAT h b 1e3"),
        with(&["SADD", "big"], &many),
        line("SPOP big 550"),
        line("SADD last only"),
        line("SPOP last"),
    ]
}

/// The commands of an AOF file (RESP arrays of bulk strings), in order.
fn records(file: &[u8]) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let mut at = 0;
    let line = |at: &mut usize| {
        let end = *at
            + file[*at..]
                .windows(2)
                .position(|w| w == b"\r\n")
                .expect("a CRLF");
        let text = String::from_utf8_lossy(&file[*at..end]).into_owned();
        *at = end + 2;
        text
    };
    while at < file.len() {
        let count: usize = line(&mut at)[1..].parse().expect("an argument count");
        let mut record = Vec::new();
        for _ in 0..count {
            let len: usize = line(&mut at)[1..].parse().expect("a length");
            record.push(String::from_utf8_lossy(&file[at..at + len]).into_owned());
            at += len + 2;
        }
        out.push(record);
    }
    out
}

/// The bulk strings of a reply (a bulk or a flat array of bulks).
fn reply_members(reply: &[u8]) -> BTreeSet<String> {
    let text = String::from_utf8_lossy(reply);
    let lines: Vec<&str> = text.split("\r\n").collect();
    lines
        .windows(2)
        .filter(|w| w[0].starts_with('$') && w[0] != "$-1")
        .map(|w| w[1].to_string())
        .collect()
}

/// Runs the workload; returns the members each `SPOP` replied, per key
/// in order of the commands.
fn run(conn: &mut RawConn) -> Units {
    let mut popped = Vec::new();
    for command in workload() {
        let args: Vec<&[u8]> = command.iter().map(String::as_bytes).collect();
        let reply = conn.command(&args);
        assert!(!reply.starts_with(b"-"), "{command:?}: {reply:?}");
        if command[0] == "SPOP" {
            popped.push((command[1].clone(), reply_members(&reply)));
        }
    }
    popped
}

/// Members removed by `SREM`, by key: one entry per `SPOP`.
type Units = Vec<(String, BTreeSet<String>)>;

/// The records with each `SREM` member replaced by `*`, and the members
/// of each `SREM` run (a `MULTI`/`EXEC` unit or a lone `SREM`) by key, in
/// order.
fn normalize(records: &[Vec<String>]) -> (Vec<Vec<String>>, Units) {
    let mut shapes = Vec::new();
    let mut units: Units = Vec::new();
    let mut in_unit = false;
    for record in records {
        let name = record[0].to_ascii_uppercase();
        match name.as_str() {
            "MULTI" => {
                in_unit = true;
                units.push((String::new(), BTreeSet::new()));
            }
            "EXEC" => in_unit = false,
            "SREM" => {
                if !in_unit {
                    units.push((String::new(), BTreeSet::new()));
                }
                let unit = units.last_mut().expect("a unit");
                unit.0 = record[1].clone();
                unit.1.extend(record[2..].iter().cloned());
            }
            _ => {}
        }
        let mut shape: Vec<String> = record.clone();
        shape[0] = name.clone();
        if name == "SREM" {
            for member in &mut shape[2..] {
                *member = "*".into();
            }
        }
        shapes.push(shape);
    }
    (shapes, units)
}

#[test]
fn set_and_hash_writes_reach_the_aof_as_redis_writes_them() {
    let Some(redis) = redigo_tests::oracle_with_args(&[
        "--appendonly",
        "yes",
        "--aof-use-rdb-preamble",
        "no",
        "--appendfsync",
        "always",
    ]) else {
        return;
    };
    let mut redis_conn = redis.connect();
    redigo_tests::wait_until_loaded(&mut redis_conn);
    let aof = redis.dir().join("redigo.aof");
    let aof_path = aof.display().to_string();
    let redigo = TestServer::start(&[
        ("aof-enabled", "yes"),
        ("appendfsync", "always"),
        ("aof-path", &aof_path),
    ]);
    let mut redigo_conn = RawConn::connect(redigo.port());

    let redis_popped = run(&mut redis_conn);
    let redigo_popped = run(&mut redigo_conn);

    // Both write before they reply (`always`): the files are complete.
    let redis_incr = redis
        .dir()
        .join("appendonlydir")
        .join("appendonly.aof.1.incr.aof");
    let redis_records = records(&std::fs::read(redis_incr).expect("redis's incr file"));
    let redigo_records = records(&std::fs::read(&aof).expect("redigo's aof"));
    let (redis_shapes, redis_units) = normalize(&redis_records);
    let (redigo_shapes, redigo_units) = normalize(&redigo_records);
    assert_eq!(
        redigo_shapes, redis_shapes,
        "the AOF records differ (left: Redigo, right: Redis)"
    );
    // Each SREM unit removes exactly what its SPOP replied.
    for (units, popped) in [
        (&redis_units, &redis_popped),
        (&redigo_units, &redigo_popped),
    ] {
        let replied: Vec<&(String, BTreeSet<String>)> = popped
            .iter()
            .filter(|(key, members)| !members.is_empty() && key != "e")
            .collect();
        assert_eq!(units.len(), replied.len(), "{units:?} vs {replied:?}");
        for (unit, reply) in units.iter().zip(replied) {
            assert_eq!(unit, reply);
        }
    }
}
