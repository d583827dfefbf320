//! Transactions in-process, at fixed instants: what `EXEC` propagates and
//! how `WATCH` reacts to each kind of change, with a second client swapped
//! in (the replies are compared with Redis by `tests/tests/
//! differential_transactions.rs`).

use crate::client::ClientState;
use crate::commands::harness::Harness;

/// The instant commands run at.
const NOW: u64 = 1_700_000_000_000;

fn run(h: &mut Harness, args: &[&str]) -> Vec<u8> {
    h.run_at(NOW, args)
}

/// Runs `args` as `other` (swapped in as the harness's client).
fn run_as(h: &mut Harness, other: &mut ClientState, now: u64, args: &[&str]) -> Vec<u8> {
    std::mem::swap(&mut h.client, other);
    let reply = h.run_at(now, args);
    std::mem::swap(&mut h.client, other);
    reply
}

fn second_client(h: &Harness) -> ClientState {
    let addr = h.client.addr;
    ClientState::new(h.state.clients.next_id(), addr, addr, -1, true)
}

fn exec_of(h: &mut Harness, commands: &[&[&str]]) -> Vec<u8> {
    assert_eq!(run(h, &["MULTI"]), b"+OK\r\n");
    for command in commands {
        assert_eq!(run(h, command), b"+QUEUED\r\n", "{command:?}");
    }
    run(h, &["EXEC"])
}

#[test]
fn exec_wraps_several_writes_once_and_leaves_one_write_or_reads_bare() {
    let mut h = Harness::new();
    exec_of(&mut h, &[&["GET", "a"], &["EXISTS", "a"]]);
    assert!(h.propagated().is_empty(), "reads log nothing");
    exec_of(&mut h, &[&["SET", "a", "1"], &["GET", "a"]]);
    assert_eq!(h.propagated(), [vec!["0", "SET", "a", "1"]]);
    let reply = exec_of(
        &mut h,
        &[
            &["INCR", "a"],
            &["SELECT", "2"],
            &["SET", "b", "2"],
            &["DEL", "zz"],
        ],
    );
    assert_eq!(reply, b"*4\r\n:2\r\n+OK\r\n+OK\r\n:0\r\n");
    assert_eq!(
        h.propagated()[1..],
        [
            vec!["0", "MULTI"],
            vec!["0", "INCR", "a"],
            vec!["2", "SET", "b", "2"],
            vec!["2", "EXEC"],
        ]
    );
}

#[test]
fn lazy_expiry_inside_exec_is_wrapped_with_the_transaction_not_on_its_own() {
    let mut h = Harness::new();
    run(
        &mut h,
        &["SET", "gone", "x", "PXAT", &(NOW + 10).to_string()],
    );
    run(&mut h, &["SET", "k", "1"]);
    let later = NOW + 1_000;
    assert_eq!(h.run_at(later, &["MULTI"]), b"+OK\r\n");
    h.run_at(later, &["GET", "gone"]);
    h.run_at(later, &["SET", "gone", "new"]);
    h.run_at(later, &["INCR", "k"]);
    assert_eq!(h.run_at(later, &["EXEC"]), b"*3\r\n$-1\r\n+OK\r\n:2\r\n");
    let after_sets = h.propagated()[2..].to_vec();
    assert_eq!(
        after_sets,
        [
            vec!["0", "MULTI"],
            vec!["0", "DEL", "gone"],
            vec!["0", "SET", "gone", "new"],
            vec!["0", "INCR", "k"],
            vec!["0", "EXEC"],
        ]
    );
}

#[test]
fn a_single_expired_key_read_in_exec_propagates_its_del_alone() {
    let mut h = Harness::new();
    run(
        &mut h,
        &["SET", "gone", "x", "PXAT", &(NOW + 10).to_string()],
    );
    let later = NOW + 1_000;
    h.run_at(later, &["MULTI"]);
    h.run_at(later, &["GET", "gone"]);
    h.run_at(later, &["GET", "other"]);
    h.run_at(later, &["EXEC"]);
    assert_eq!(h.propagated()[1..], [vec!["0", "DEL", "gone"]]);
}

#[test]
fn a_runtime_error_does_not_stop_the_other_commands() {
    let mut h = Harness::new();
    run(&mut h, &["SET", "s", "text"]);
    let reply = exec_of(&mut h, &[&["INCR", "s"], &["SET", "t", "1"]]);
    assert_eq!(
        reply,
        b"*2\r\n-ERR value is not an integer or out of range\r\n+OK\r\n"
    );
    assert_eq!(run(&mut h, &["GET", "t"]), b"$1\r\n1\r\n");
}

#[test]
fn watched_key_written_by_another_client_fails_exec_and_unwatches() {
    let mut h = Harness::new();
    let mut other = second_client(&h);
    run(&mut h, &["WATCH", "k", "j"]);
    run_as(&mut h, &mut other, NOW, &["SET", "k", "1"]);
    assert!(h.client.multi.dirty_cas());
    assert_eq!(
        h.state.watches.watched_by(h.client.id),
        0,
        "a dirty client's keys are dropped at once"
    );
    assert_eq!(exec_of(&mut h, &[&["SET", "x", "1"]]), b"*-1\r\n");
    assert_eq!(run(&mut h, &["EXISTS", "x"]), b":0\r\n");
    // The flag went with the failed EXEC.
    assert_eq!(exec_of(&mut h, &[&["PING"]]), b"*1\r\n+PONG\r\n");
}

#[test]
fn no_op_writes_and_reads_do_not_touch_watched_keys() {
    let mut h = Harness::new();
    let mut other = second_client(&h);
    run(&mut h, &["SADD", "s", "a"]);
    run(&mut h, &["WATCH", "s", "missing"]);
    run_as(&mut h, &mut other, NOW, &["SREM", "s", "zz"]);
    run_as(&mut h, &mut other, NOW, &["SADD", "s", "a"]);
    run_as(&mut h, &mut other, NOW, &["DEL", "missing"]);
    run_as(&mut h, &mut other, NOW, &["SMEMBERS", "s"]);
    assert!(!h.client.multi.dirty_cas());
    assert_eq!(exec_of(&mut h, &[&["PING"]]), b"*1\r\n+PONG\r\n");
}

#[test]
fn watch_remembers_the_database_and_flushes_touch_only_present_keys() {
    let mut h = Harness::new();
    let mut other = second_client(&h);
    run(&mut h, &["SET", "k", "1"]);
    run(&mut h, &["WATCH", "k", "absent"]);
    run_as(&mut h, &mut other, NOW, &["SELECT", "1"]);
    run_as(&mut h, &mut other, NOW, &["SET", "k", "2"]);
    run_as(&mut h, &mut other, NOW, &["FLUSHDB"]);
    assert!(!h.client.multi.dirty_cas(), "other database");
    run_as(&mut h, &mut other, NOW, &["SELECT", "0"]);
    run_as(&mut h, &mut other, NOW, &["FLUSHALL"]);
    assert!(h.client.multi.dirty_cas());
}

#[test]
fn swapdb_touches_a_watched_key_that_appears() {
    let mut h = Harness::new();
    let mut other = second_client(&h);
    run_as(&mut h, &mut other, NOW, &["SELECT", "1"]);
    run_as(&mut h, &mut other, NOW, &["SET", "x", "30"]);
    run(&mut h, &["WATCH", "x"]);
    run_as(&mut h, &mut other, NOW, &["SWAPDB", "0", "1"]);
    assert!(h.client.multi.dirty_cas());
}

#[test]
fn a_key_expiring_after_watch_fails_exec_but_one_expired_before_does_not() {
    let mut h = Harness::new();
    run(
        &mut h,
        &["SET", "soon", "x", "PXAT", &(NOW + 10).to_string()],
    );
    run(
        &mut h,
        &["SET", "stale", "x", "PXAT", &(NOW - 10).to_string()],
    );
    run(&mut h, &["WATCH", "stale"]);
    let later = NOW + 1_000;
    assert_eq!(h.run_at(later, &["MULTI"]), b"+OK\r\n");
    assert_eq!(h.run_at(later, &["EXEC"]), b"*0\r\n", "stale when watched");
    run(&mut h, &["WATCH", "soon"]);
    h.run_at(later, &["MULTI"]);
    assert_eq!(
        h.run_at(later, &["EXEC"]),
        b"*-1\r\n",
        "expired since WATCH"
    );
}

#[test]
fn lazy_deletion_of_a_key_expired_when_watched_is_no_change() {
    let mut h = Harness::new();
    let mut other = second_client(&h);
    run(
        &mut h,
        &["SET", "stale", "x", "PXAT", &(NOW - 10).to_string()],
    );
    run(&mut h, &["WATCH", "stale"]);
    assert_eq!(
        run_as(&mut h, &mut other, NOW, &["EXISTS", "stale"]),
        b":0\r\n"
    );
    assert!(!h.client.multi.dirty_cas());
    // Now deleted and no longer marked expired: a write counts.
    run_as(&mut h, &mut other, NOW, &["SET", "stale", "y"]);
    assert!(h.client.multi.dirty_cas());
}

#[test]
fn client_list_shows_the_queue_and_the_flags() {
    let mut h = Harness::new();
    let mut other = second_client(&h);
    let line = |h: &Harness| h.client.describe(std::time::Instant::now());
    assert!(line(&h).contains(" flags=N "), "{}", line(&h));
    assert!(line(&h).contains(" multi=-1 "));
    run(&mut h, &["WATCH", "k"]);
    run_as(&mut h, &mut other, NOW, &["SET", "k", "1"]);
    run(&mut h, &["MULTI"]);
    run(&mut h, &["GET", "k"]);
    run(&mut h, &["GET", "k"]);
    assert!(line(&h).contains(" flags=xd "), "{}", line(&h));
    // A doomed transaction keeps nothing more, as in Redis.
    assert!(line(&h).contains(" multi=0 "), "{}", line(&h));
    run(&mut h, &["DISCARD"]);
    run(&mut h, &["MULTI"]);
    run(&mut h, &["GET", "k"]);
    assert!(line(&h).contains(" flags=x "), "{}", line(&h));
    assert!(line(&h).contains(" multi=1 "), "{}", line(&h));
}

#[test]
fn exec_of_writes_is_refused_as_a_write_and_deny_blocking_is_set_inside_exec() {
    let mut h = Harness::new();
    assert!(!h.client.multi.in_exec());
    exec_of(&mut h, &[&["PING"]]);
    assert!(!h.client.multi.in_exec(), "cleared after EXEC");
    assert!(!h.client.multi.exec_writes());
    run(&mut h, &["MULTI"]);
    run(&mut h, &["SET", "a", "1"]);
    assert!(h.client.multi.exec_writes());
    run(&mut h, &["DISCARD"]);
}

#[test]
fn a_queue_past_its_byte_limit_is_freed_and_the_transaction_doomed() {
    let mut h = Harness::new();
    run(&mut h, &["MULTI"]);
    run(&mut h, &["SET", "a", "1"]);
    // As if nearly a gigabyte had been queued already.
    h.client.multi.queued_bytes = super::MAX_QUEUED_BYTES - 10;
    let reply = run(&mut h, &["SET", "big", "0123456789"]);
    assert!(
        reply.starts_with(b"-ERR MULTI queue limit exceeded"),
        "{reply:?}"
    );
    assert_eq!(h.client.multi.queued_count(), 0, "the queue was freed");
    assert_eq!(run(&mut h, &["SET", "b", "2"]), b"+QUEUED\r\n");
    assert_eq!(
        run(&mut h, &["EXEC"]),
        format!("-{}\r\n", super::EXECABORT).as_bytes()
    );
    assert_eq!(run(&mut h, &["EXISTS", "a", "b", "big"]), b":0\r\n");
}

#[test]
fn keys_expired_by_scan_or_randomkey_are_wrapped_only_inside_exec() {
    let mut h = Harness::new();
    for key in ["a", "b", "c"] {
        run(&mut h, &["SET", key, "x", "PXAT", &(NOW + 10).to_string()]);
    }
    let later = NOW + 1_000;
    // Run directly: each DEL bare, as Redis 7.0 (CMD_TOUCHES_ARBITRARY_KEYS).
    h.run_at(later, &["SCAN", "0", "COUNT", "100"]);
    let dels = &h.propagated()[3..];
    assert_eq!(dels.len(), 3, "{dels:?}");
    assert!(dels.iter().all(|r| r[1] == "DEL"), "{dels:?}");
    for key in ["a", "b"] {
        run(&mut h, &["SET", key, "x", "PXAT", &(NOW + 10).to_string()]);
    }
    h.run_at(later, &["MULTI"]);
    h.run_at(later, &["SCAN", "0", "COUNT", "100"]);
    h.run_at(later, &["EXEC"]);
    let propagated = h.propagated();
    let logged: Vec<&str> = propagated[8..].iter().map(|r| r[1].as_str()).collect();
    assert_eq!(logged, ["MULTI", "DEL", "DEL", "EXEC"]);
}
