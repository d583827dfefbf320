//! `BGREWRITEAOF` in process: the rewritten file replays to the live state
//! with writes (strings, hashes and sets, small and big) before, during and
//! after the rewrite; a failed rewrite keeps
//! the old file in use; automatic rewrites follow the growth rule.

mod aof_support;

use std::time::Duration;

use aof_support::{
    FAR_DEADLINE, del, del_locked, live_model, now_ms, record_count, replay_model, run_locked, set,
    set_locked, start, wait_until,
};
use proptest::prelude::*;
use redigo_server::aof::{
    Aof, AofOptions, RewriteHooks, RewriteStartError, RewriteStep, temp_path,
};
use redigo_server::dataset;

const PATIENCE: Duration = Duration::from_secs(20);

/// One write of the generated workload.
#[derive(Clone, Debug)]
enum Op {
    Set {
        db: usize,
        key: u8,
        value: Vec<u8>,
        ttl: Option<u32>,
    },
    Del {
        db: usize,
        key: u8,
    },
    /// Pushes `elements` at one end of a list, then pops `pop` from the
    /// other (a key holding a string answers WRONGTYPE and stays).
    List {
        db: usize,
        key: u8,
        left: bool,
        elements: Vec<Vec<u8>>,
        pop: u8,
    },
    /// A hash or set command (or an expiry on any key), whatever it
    /// replies: keys collide across kinds, so some answer WRONGTYPE.
    Command {
        db: usize,
        args: Vec<Vec<u8>>,
    },
}

/// Keys the collection commands use: the first few string keys too.
const COLLECTION_KEYS: u8 = 8;

/// Elements a bulk `HSET`/`SADD` adds: past the 512-element thresholds, so
/// the rewrite walks big (chunked) collections too.
const BULK_ELEMENTS: usize = 600;

fn collection_key() -> impl Strategy<Value = Vec<u8>> {
    (0..COLLECTION_KEYS).prop_map(key)
}

fn field() -> impl Strategy<Value = Vec<u8>> {
    (0..10u8).prop_map(|f| format!("f{f}").into_bytes())
}

/// Small integers (an intset) or words (a listpack-sized set of strings).
fn member() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        (0..20u8).prop_map(|m| m.to_string().into_bytes()),
        (0..10u8).prop_map(|m| format!("m{m}").into_bytes()),
    ]
}

fn words(command: &str, rest: Vec<Vec<u8>>) -> Vec<Vec<u8>> {
    let mut args = vec![command.as_bytes().to_vec()];
    args.extend(rest);
    args
}

fn collection_command() -> impl Strategy<Value = Vec<Vec<u8>>> {
    prop_oneof![
        // Values up to 80 bytes: past hash-max-listpack-value 64 at times.
        3 => (collection_key(), prop::collection::vec((field(), prop::collection::vec(any::<u8>(), 0..80)), 1..4))
            .prop_map(|(k, pairs)| words("HSET", std::iter::once(k).chain(pairs.into_iter().flat_map(|(f, v)| [f, v])).collect())),
        1 => (collection_key(), field()).prop_map(|(k, f)| words("HDEL", vec![k, f])),
        1 => (collection_key(), field(), -100..100i64).prop_map(|(k, f, d)| words("HINCRBY", vec![k, f, d.to_string().into_bytes()])),
        1 => (collection_key(), field(), prop_oneof![Just("1.5"), Just("-0.25"), Just("3")])
            .prop_map(|(k, f, d)| words("HINCRBYFLOAT", vec![k, f, d.as_bytes().to_vec()])),
        3 => (collection_key(), prop::collection::vec(member(), 1..5))
            .prop_map(|(k, ms)| words("SADD", std::iter::once(k).chain(ms).collect())),
        1 => (collection_key(), member()).prop_map(|(k, m)| words("SREM", vec![k, m])),
        1 => (collection_key(), prop::option::of(0..5u8)).prop_map(|(k, count)| {
            words("SPOP", std::iter::once(k).chain(count.map(|c| c.to_string().into_bytes())).collect())
        }),
        1 => (prop_oneof![Just("SINTERSTORE"), Just("SUNIONSTORE"), Just("SDIFFSTORE")], collection_key(), collection_key(), collection_key())
            .prop_map(|(c, d, a, b)| words(c, vec![d, a, b])),
        1 => (collection_key(), collection_key(), member()).prop_map(|(a, b, m)| words("SMOVE", vec![a, b, m])),
        1 => (collection_key(), 1..1_000_000u32)
            .prop_map(|(k, t)| words("PEXPIREAT", vec![k, (FAR_DEADLINE + u64::from(t)).to_string().into_bytes()])),
        1 => (collection_key(), any::<bool>()).prop_map(|(k, hash)| {
            let elements = (0..BULK_ELEMENTS).flat_map(|i| {
                let element = format!("bulk{i}").into_bytes();
                if hash { vec![element.clone(), element] } else { vec![element] }
            });
            words(if hash { "HSET" } else { "SADD" }, std::iter::once(k).chain(elements).collect())
        }),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (0..4usize, any::<u8>(), prop::collection::vec(any::<u8>(), 0..12), prop::option::of(1..1_000_000u32))
            .prop_map(|(db, key, value, ttl)| Op::Set { db, key, value, ttl }),
        1 => (0..4usize, any::<u8>()).prop_map(|(db, key)| Op::Del { db, key }),
        1 => (0..4usize, any::<u8>(), any::<bool>(), prop::collection::vec(prop::collection::vec(any::<u8>(), 0..6), 1..40), 0..30u8)
            .prop_map(|(db, key, left, elements, pop)| Op::List { db, key, left, elements, pop }),
        3 => (0..4usize, collection_command()).prop_map(|(db, args)| Op::Command { db, args }),
    ]
}

/// Starts a rewrite of `aof` under the dataset lock `d`, with `hooks`.
fn start_rewrite(
    aof: &std::sync::Arc<Aof>,
    d: &mut dataset::Dataset,
    hooks: RewriteHooks,
) -> Result<(), RewriteStartError> {
    aof.start_rewrite(&mut d.store, &mut d.propagation, now_ms(), hooks)
}

fn key(k: u8) -> Vec<u8> {
    // Binary keys, CRLF included, exercise the encoding.
    vec![b'k', k, b'\r', b'\n']
}

fn apply(data: &mut dataset::Dataset, op: &Op) {
    match op {
        Op::Set {
            db,
            key: k,
            value,
            ttl,
        } => set_locked(
            data,
            *db,
            &key(*k),
            value,
            ttl.map(|t| FAR_DEADLINE + u64::from(t)),
        ),
        Op::Del { db, key: k } => del_locked(data, *db, &key(*k)),
        Op::List {
            db,
            key: k,
            left,
            elements,
            pop,
        } => {
            let key = key(*k);
            let (push, pop_end): (&[u8], &[u8]) = if *left {
                (b"LPUSH", b"RPOP")
            } else {
                (b"RPUSH", b"LPOP")
            };
            let mut args: Vec<&[u8]> = vec![push, &key];
            args.extend(elements.iter().map(Vec::as_slice));
            run_locked(data, *db, &args);
            if *pop > 0 {
                let count = pop.to_string();
                run_locked(data, *db, &[pop_end, &key, count.as_bytes()]);
            }
        }
        Op::Command { db, args } => {
            let args: Vec<&[u8]> = args.iter().map(Vec::as_slice).collect();
            let reply = run_locked(data, *db, &args);
            assert!(
                !reply.starts_with(b"-ERR unknown") && !reply.starts_with(b"-ERR wrong number"),
                "{reply:?}"
            );
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn the_rewritten_file_replays_to_the_live_state(
        before in prop::collection::vec(op(), 0..300),
        at_start in prop::collection::vec(op(), 0..40),
        during in prop::collection::vec(op(), 0..100),
        after in prop::collection::vec(op(), 0..50),
        bulk in 0..3000usize,
    ) {
        let dir = tempfile::tempdir().unwrap();
        let (state, data, persistence) = start(dir.path(), "everysec", AofOptions::default());
        let aof = &persistence.aof;
        for n in 0..bulk {
            set(&state, &data, n % 4, format!("bulk:{n}").as_bytes(), b"x", None);
        }
        for op in &before {
            let mut guard = dataset::lock(&data);
            apply(&mut guard, op);
            guard.finish_batch(&state.stats);
        }
        {
            // Writes in the same batch as the rewrite's start, before and
            // after it: the first are in the snapshot, the others in the tail.
            let mut guard = dataset::lock(&data);
            let (first, second) = at_start.split_at(at_start.len() / 2);
            for op in first {
                apply(&mut guard, op);
            }
            let d = &mut *guard;
            start_rewrite(aof, d, RewriteHooks::default()).unwrap();
            for op in second {
                apply(&mut guard, op);
            }
            guard.finish_batch(&state.stats);
        }
        for op in &during {
            let mut guard = dataset::lock(&data);
            apply(&mut guard, op);
            guard.finish_batch(&state.stats);
        }
        prop_assert!(wait_until(PATIENCE, || !aof.rewrite_in_progress()));
        prop_assert!(aof.report().last_bgrewrite_ok);
        prop_assert_eq!(aof.report().rewrites, 1);
        for op in &after {
            let mut guard = dataset::lock(&data);
            apply(&mut guard, op);
            guard.finish_batch(&state.stats);
        }
        aof.shutdown();
        prop_assert!(!temp_path(aof.path()).exists());
        prop_assert_eq!(replay_model(aof.path()), live_model(&data));
    }
}

#[test]
fn a_rewrite_is_compact_and_a_second_request_is_refused_while_it_runs() {
    let dir = tempfile::tempdir().unwrap();
    let (state, data, persistence) = start(dir.path(), "always", AofOptions::default());
    let aof = &persistence.aof;
    for round in 0..5 {
        for n in 0..2000 {
            set(
                &state,
                &data,
                n % 3,
                format!("key:{n}").as_bytes(),
                format!("{round}").as_bytes(),
                None,
            );
        }
    }
    set(&state, &data, 1, b"ttl", b"v", Some(FAR_DEADLINE));
    del(&state, &data, 0, b"key:0");
    assert!(aof.persist_blocking(aof.queued_seq(), PATIENCE));
    let size_before = aof.current_size();
    {
        let mut guard = dataset::lock(&data);
        let d = &mut *guard;
        start_rewrite(aof, d, RewriteHooks::default()).unwrap();
        assert_eq!(
            start_rewrite(aof, d, RewriteHooks::default()),
            Err(RewriteStartError::AlreadyInProgress)
        );
        assert_eq!(
            RewriteStartError::AlreadyInProgress.to_string(),
            "ERR Background append only file rewriting already in progress"
        );
    }
    assert!(aof.report().rewrite_in_progress || aof.report().rewrites == 1);
    assert!(wait_until(PATIENCE, || !aof.rewrite_in_progress()));
    let report = aof.report();
    assert!(report.last_bgrewrite_ok);
    assert!(
        report.current_size < size_before / 3,
        "{report:?} vs {size_before}"
    );
    assert_eq!(report.base_size, report.current_size);
    // One SET per key, one SELECT per database.
    assert_eq!(record_count(aof.path()), 2000 + 3);
    set(&state, &data, 2, b"later", b"v", None);
    aof.shutdown();
    assert_eq!(replay_model(aof.path()), live_model(&data));
}

#[test]
fn a_failed_rewrite_keeps_the_old_file_in_use() {
    for step in RewriteStep::ALL.into_iter().filter(|s| s.before_rename()) {
        let dir = tempfile::tempdir().unwrap();
        let (state, data, persistence) = start(dir.path(), "everysec", AofOptions::default());
        let aof = &persistence.aof;
        for n in 0..500 {
            set(&state, &data, 0, format!("k{n}").as_bytes(), b"v", None);
        }
        {
            let mut guard = dataset::lock(&data);
            let d = &mut *guard;
            let hooks = RewriteHooks {
                fail_at: Some(step),
                crash_at: None,
            };
            start_rewrite(aof, d, hooks).unwrap();
            set_locked(d, 1, b"in-tail", b"v", None);
            d.finish_batch(&state.stats);
        }
        assert!(wait_until(PATIENCE, || !aof.rewrite_in_progress()));
        let report = aof.report();
        assert!(!report.last_bgrewrite_ok, "{step:?}");
        assert_eq!(report.rewrites, 1, "counted when started, as Redis does");
        assert_eq!(report.rewrites_consecutive_failures, 1);
        assert!(
            !temp_path(aof.path()).exists(),
            "the temporary file is removed"
        );
        assert!(
            !aof.auto_rewrite_due(1, 0),
            "the automatic rule rests after a failure, though the file grew"
        );
        // The store's snapshot was released: another rewrite can run.
        set(&state, &data, 2, b"after", b"v", None);
        {
            let mut guard = dataset::lock(&data);
            let d = &mut *guard;
            start_rewrite(aof, d, RewriteHooks::default()).unwrap();
        }
        assert!(wait_until(PATIENCE, || !aof.rewrite_in_progress()));
        let report = aof.report();
        assert!(report.last_bgrewrite_ok);
        assert_eq!(report.rewrites, 2);
        assert_eq!(report.rewrites_consecutive_failures, 0);
        aof.shutdown();
        assert_eq!(replay_model(aof.path()), live_model(&data), "{step:?}");
        assert_eq!(live_model(&data).len(), 502);
    }
}

#[test]
fn growth_past_the_percentage_and_min_size_triggers_a_rewrite() {
    let dir = tempfile::tempdir().unwrap();
    let (state, data, persistence) = start(dir.path(), "no", AofOptions::default());
    let aof = &persistence.aof;
    state
        .config_mut()
        .set("auto-aof-rewrite-min-size", "4096")
        .unwrap();
    state
        .config_mut()
        .set("auto-aof-rewrite-percentage", "100")
        .unwrap();
    assert!(!aof.auto_rewrite_due(100, 4096), "empty file");
    // Overwrite a few keys many times: the file grows, the data does not.
    for n in 0..400 {
        set(
            &state,
            &data,
            0,
            format!("k{}", n % 10).as_bytes(),
            format!("{n}").as_bytes(),
            None,
        );
    }
    assert!(
        wait_until(PATIENCE, || aof.report().rewrites >= 1
            && !aof.rewrite_in_progress()),
        "{:?}",
        aof.report()
    );
    let report = aof.report();
    assert!(report.base_size < 4096, "{report:?}");
    assert!(!aof.auto_rewrite_due(100, 4096));
    assert!(
        !aof.auto_rewrite_due(0, 0),
        "percentage 0 disables the rule"
    );
    aof.shutdown();
    assert_eq!(replay_model(aof.path()), live_model(&data));
}
