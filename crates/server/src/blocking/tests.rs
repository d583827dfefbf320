//! The blocking machinery through the real dispatcher: several clients
//! share one harness dataset, each request built as a connection builds it.

use bytes::{Bytes, BytesMut};

use super::parse_timeout_seconds;
use crate::client::ClientState;
use crate::commands::harness::Harness;
use crate::commands::{ExecContext, execute};

const ADDR: std::net::SocketAddr =
    std::net::SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 1);

fn client(id: u64) -> ClientState {
    ClientState::new(id, ADDR, ADDR, -1, true)
}

/// Runs `args` as `client` (with `deny_blocking` as given) and ends the
/// batch; returns the raw reply.
fn run_as(h: &mut Harness, client: &mut ClientState, deny: bool, args: &[&str]) -> Vec<u8> {
    let args: Vec<Bytes> = args
        .iter()
        .map(|a| Bytes::copy_from_slice(a.as_bytes()))
        .collect();
    let mut out = BytesMut::new();
    let mut ctx = ExecContext {
        store: &mut h.dataset.store,
        propagation: &mut h.dataset.propagation,
        client,
        server: &h.state,
        now_ms: crate::state::unix_time_ms(),
        call_clock_us: crate::state::unix_time_us(),
        out: &mut out,
        effects: &mut h.effects,
        blocking: &mut h.dataset.blocking,
        deny_blocking: deny,
    };
    execute(&mut ctx, &args);
    h.dataset.finish_batch(&h.state.stats);
    out.to_vec()
}

/// What a blocked client has been sent so far (`None`: still waiting).
fn sent(client: &mut ClientState) -> Option<String> {
    let wait = client.block_wait.as_mut().expect("the client blocked");
    wait.reply
        .try_recv()
        .ok()
        .map(|reply| String::from_utf8_lossy(&reply).into_owned())
}

fn blocked(h: &mut Harness, id: u64, args: &[&str]) -> ClientState {
    let mut c = client(id);
    let reply = run_as(h, &mut c, false, args);
    assert!(
        reply.is_empty(),
        "{args:?} replied {reply:?} instead of blocking"
    );
    assert!(c.blocked && c.block_wait.is_some());
    c
}

fn records(h: &Harness) -> Vec<String> {
    h.propagated().into_iter().map(|r| r.join(" ")).collect()
}

#[test]
fn clients_blocked_on_one_key_are_served_first_come_first_served() {
    let mut h = Harness::new();
    let mut a = blocked(&mut h, 10, &["BLPOP", "q", "0"]);
    let mut b = blocked(&mut h, 11, &["BRPOP", "q", "0"]);
    let mut c = blocked(&mut h, 12, &["BLPOP", "q", "0"]);
    assert_eq!(h.dataset.blocking.blocked_clients(), 3);
    assert_eq!(h.run(&["RPUSH", "q", "x", "y"]), b":2\r\n");
    assert_eq!(
        sent(&mut a).as_deref(),
        Some("*2\r\n$1\r\nq\r\n$1\r\nx\r\n")
    );
    assert_eq!(
        sent(&mut b).as_deref(),
        Some("*2\r\n$1\r\nq\r\n$1\r\ny\r\n")
    );
    assert_eq!(sent(&mut c), None);
    assert_eq!(h.dataset.blocking.blocked_clients(), 1);
    assert_eq!(h.run(&["EXISTS", "q"]), b":0\r\n");
    assert_eq!(
        records(&h),
        ["0 RPUSH q x y", "0 LPOP q", "0 RPOP q"],
        "served pops are logged as the non-blocking pops they did"
    );
}

#[test]
fn a_client_on_several_keys_is_served_from_the_first_ready_and_leaves_the_others() {
    let mut h = Harness::new();
    let mut a = blocked(&mut h, 10, &["BLPOP", "k1", "k2", "k3", "0"]);
    assert_eq!(h.dataset.blocking.blocking_keys(), 3);
    h.run(&["LPUSH", "k2", "v"]);
    assert_eq!(
        sent(&mut a).as_deref(),
        Some("*2\r\n$2\r\nk2\r\n$1\r\nv\r\n")
    );
    assert_eq!(h.dataset.blocking.blocking_keys(), 0);
    assert_eq!(h.dataset.blocking.blocked_clients(), 0);
    h.run(&["LPUSH", "k1", "w"]);
    assert_eq!(
        h.run(&["LLEN", "k1"]),
        b":1\r\n",
        "nobody waits on k1 any more"
    );
}

#[test]
fn a_blmove_push_serves_the_clients_blocked_on_its_destination() {
    let mut h = Harness::new();
    let mut mover = blocked(&mut h, 10, &["BLMOVE", "src", "mid", "RIGHT", "LEFT", "0"]);
    let mut second = blocked(&mut h, 11, &["BRPOPLPUSH", "mid", "dst", "0"]);
    let mut popper = blocked(&mut h, 12, &["BLPOP", "dst", "0"]);
    h.run(&["RPUSH", "src", "job"]);
    assert_eq!(sent(&mut mover).as_deref(), Some("$3\r\njob\r\n"));
    assert_eq!(sent(&mut second).as_deref(), Some("$3\r\njob\r\n"));
    assert_eq!(
        sent(&mut popper).as_deref(),
        Some("*2\r\n$3\r\ndst\r\n$3\r\njob\r\n")
    );
    assert_eq!(
        records(&h),
        [
            "0 RPUSH src job",
            "0 LMOVE src mid right left",
            "0 RPOPLPUSH mid dst",
            "0 LPOP dst"
        ]
    );
    for key in ["src", "mid", "dst"] {
        assert_eq!(h.run(&["EXISTS", key]), b":0\r\n", "{key}");
    }
}

#[test]
fn a_key_of_another_kind_serves_nobody_and_rename_onto_the_key_does() {
    let mut h = Harness::new();
    let mut a = blocked(&mut h, 10, &["BLPOP", "k", "0"]);
    h.run(&["SET", "k", "string"]);
    assert_eq!(sent(&mut a), None, "a string does not serve a list client");
    h.run(&["DEL", "k"]);
    h.run(&["RPUSH", "tmp", "1", "2"]);
    assert_eq!(sent(&mut a), None);
    assert_eq!(h.run(&["RENAME", "tmp", "k"]), b"+OK\r\n");
    assert_eq!(
        sent(&mut a).as_deref(),
        Some("*2\r\n$1\r\nk\r\n$1\r\n1\r\n")
    );
    assert_eq!(h.run(&["LRANGE", "k", "0", "-1"]), b"*1\r\n$1\r\n2\r\n");
}

#[test]
fn blmove_onto_a_key_of_another_kind_gets_the_error_and_moves_nothing() {
    let mut h = Harness::new();
    let mut a = blocked(&mut h, 10, &["BLMOVE", "src", "dst", "LEFT", "LEFT", "0"]);
    h.run(&["SET", "dst", "x"]);
    h.run(&["RPUSH", "src", "v"]);
    assert_eq!(
        sent(&mut a).as_deref(),
        Some("-WRONGTYPE Operation against a key holding the wrong kind of value\r\n")
    );
    assert_eq!(h.run(&["LLEN", "src"]), b":1\r\n");
    assert_eq!(h.dataset.blocking.blocked_clients(), 0);
}

#[test]
fn swapdb_and_move_serve_clients_blocked_in_the_database_that_gets_the_list() {
    let mut h = Harness::new();
    let mut in_db1 = client(10);
    in_db1.db = 1;
    assert!(run_as(&mut h, &mut in_db1, false, &["BLPOP", "k", "0"]).is_empty());
    h.run(&["RPUSH", "k", "a", "b"]);
    assert_eq!(sent(&mut in_db1), None, "db 0's key is not db 1's");
    h.run(&["MOVE", "k", "1"]);
    assert_eq!(
        sent(&mut in_db1).as_deref(),
        Some("*2\r\n$1\r\nk\r\n$1\r\na\r\n")
    );

    let mut in_db0 = blocked(&mut h, 11, &["BRPOP", "k", "0"]);
    assert_eq!(h.run(&["SWAPDB", "0", "1"]), b"+OK\r\n");
    assert_eq!(
        sent(&mut in_db0).as_deref(),
        Some("*2\r\n$1\r\nk\r\n$1\r\nb\r\n")
    );
    assert!(records(&h).contains(&"1 LPOP k".to_string()));
    assert!(records(&h).contains(&"0 RPOP k".to_string()));
}

#[test]
fn blmpop_is_served_with_up_to_count_elements_and_logged_with_the_number_popped() {
    let mut h = Harness::new();
    let mut a = blocked(
        &mut h,
        10,
        &["BLMPOP", "0", "2", "x", "y", "RIGHT", "COUNT", "5"],
    );
    h.run(&["RPUSH", "y", "1", "2", "3"]);
    assert_eq!(
        sent(&mut a).as_deref(),
        Some("*2\r\n$1\r\ny\r\n*3\r\n$1\r\n3\r\n$1\r\n2\r\n$1\r\n1\r\n")
    );
    assert_eq!(records(&h), ["0 RPUSH y 1 2 3", "0 RPOP y 3"]);
}

#[test]
fn with_blocking_denied_the_commands_answer_as_a_timeout_and_serving_waits() {
    let mut h = Harness::new();
    let mut c = client(10);
    assert_eq!(
        run_as(&mut h, &mut c, true, &["BLPOP", "k", "0"]),
        b"*-1\r\n"
    );
    assert_eq!(
        run_as(&mut h, &mut c, true, &["BLMPOP", "0", "1", "k", "LEFT"]),
        b"*-1\r\n"
    );
    assert_eq!(
        run_as(
            &mut h,
            &mut c,
            true,
            &["BLMOVE", "k", "d", "LEFT", "LEFT", "0"]
        ),
        b"$-1\r\n"
    );
    assert_eq!(
        run_as(&mut h, &mut c, true, &["BRPOPLPUSH", "k", "d", "0"]),
        b"$-1\r\n"
    );
    assert!(!c.blocked && c.block_wait.is_none());
    assert_eq!(h.dataset.blocking.blocked_clients(), 0);

    // Inside a unit (EXEC, a script) a push only queues the key: the
    // waiter is served when the unit's own command finishes.
    let mut waiter = blocked(&mut h, 11, &["BLPOP", "k", "0"]);
    assert_eq!(
        run_as(&mut h, &mut c, true, &["RPUSH", "k", "v"]),
        b":1\r\n"
    );
    assert_eq!(sent(&mut waiter), None);
    assert!(h.dataset.blocking.has_ready());
    run_as(&mut h, &mut c, false, &["PING"]);
    assert_eq!(
        sent(&mut waiter).as_deref(),
        Some("*2\r\n$1\r\nk\r\n$1\r\nv\r\n")
    );
}

#[test]
fn an_immediate_pop_is_logged_as_the_plain_command() {
    let mut h = Harness::new();
    h.run(&["RPUSH", "a", "1", "2", "3"]);
    assert_eq!(
        h.run(&["BLPOP", "none", "a", "0"]),
        b"*2\r\n$1\r\na\r\n$1\r\n1\r\n"
    );
    assert_eq!(h.run(&["BRPOPLPUSH", "a", "b", "0"]), b"$1\r\n3\r\n");
    assert_eq!(
        h.run(&["BLMOVE", "a", "b", "left", "RIGHT", "0"]),
        b"$1\r\n2\r\n"
    );
    assert_eq!(h.run(&["SET", "s", "x"]), b"+OK\r\n");
    assert_eq!(
        h.run(&["BLPOP", "s", "0"]),
        b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"
    );
    assert_eq!(
        records(&h)[1..],
        [
            "0 LPOP a",
            "0 RPOPLPUSH a b",
            "0 LMOVE a b left RIGHT",
            "0 SET s x"
        ]
    );
}

#[test]
fn client_unblock_answers_with_the_timeout_reply_or_the_unblocked_error() {
    let mut h = Harness::new();
    let mut a = blocked(&mut h, 10, &["BLPOP", "k", "0"]);
    let mut b = blocked(&mut h, 11, &["BLMOVE", "k", "d", "LEFT", "LEFT", "5"]);
    assert_eq!(h.dataset.blocking.clients_with_timeout(), 1);
    assert_eq!(h.run(&["CLIENT", "UNBLOCK", "10"]), b":1\r\n");
    assert_eq!(sent(&mut a).as_deref(), Some("*-1\r\n"));
    assert_eq!(h.run(&["CLIENT", "UNBLOCK", "10"]), b":0\r\n");
    assert_eq!(h.run(&["CLIENT", "UNBLOCK", "11", "error"]), b":1\r\n");
    assert_eq!(
        sent(&mut b).as_deref(),
        Some("-UNBLOCKED client unblocked via CLIENT UNBLOCK\r\n")
    );
    assert_eq!(h.dataset.blocking.clients_with_timeout(), 0);
    assert_eq!(
        h.run(&["CLIENT", "UNBLOCK", "11", "later"]),
        b"-ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR\r\n"
    );
    assert_eq!(
        h.run(&["CLIENT", "UNBLOCK", "x"]),
        b"-ERR value is not an integer or out of range\r\n"
    );
    assert_eq!(h.run(&["RPUSH", "k", "v"]), b":1\r\n");
    assert_eq!(
        h.run(&["LLEN", "k"]),
        b":1\r\n",
        "nobody is blocked any more"
    );
}

#[test]
fn a_client_that_leaves_is_removed_from_every_queue() {
    let mut h = Harness::new();
    let _gone = blocked(&mut h, 10, &["BLPOP", "a", "b", "0"]);
    let mut stays = blocked(&mut h, 11, &["BLPOP", "b", "0"]);
    assert!(h.dataset.blocking.unblock(10));
    assert!(!h.dataset.blocking.unblock(10));
    assert_eq!(h.dataset.blocking.blocking_keys(), 1);
    h.run(&["RPUSH", "b", "v"]);
    assert_eq!(
        sent(&mut stays).as_deref(),
        Some("*2\r\n$1\r\nb\r\n$1\r\nv\r\n")
    );
}

#[test]
fn timeouts_are_read_as_redis_reads_them() {
    assert_eq!(parse_timeout_seconds(b"0"), Ok(0));
    assert_eq!(parse_timeout_seconds(b"0.1"), Ok(100));
    assert_eq!(parse_timeout_seconds(b"0.0001"), Ok(1), "rounded up");
    assert_eq!(parse_timeout_seconds(b"-0.0001"), Ok(0), "ceil(-0.1) is 0");
    assert_eq!(parse_timeout_seconds(b"0x0.1"), Ok(63));
    assert_eq!(
        parse_timeout_seconds(b"1e16"),
        Err("ERR timeout is negative")
    );
    assert_eq!(
        parse_timeout_seconds(b"inf"),
        Err("ERR timeout is negative")
    );
    assert_eq!(parse_timeout_seconds(b"-1"), Err("ERR timeout is negative"));
    for bad in [&b"abc"[..], b"nan", b" 1", b"", b"1s"] {
        assert_eq!(
            parse_timeout_seconds(bad),
            Err("ERR timeout is not a float or out of range"),
            "{bad:?}"
        );
    }
}

#[test]
fn blocked_clients_show_in_client_list_and_info() {
    let mut h = Harness::new();
    let a = blocked(&mut h, 10, &["BLPOP", "k", "1"]);
    assert!(a.describe(std::time::Instant::now()).contains(" flags=b "));
    assert!(
        a.describe(std::time::Instant::now())
            .contains(" cmd=blpop ")
    );
    let info = String::from_utf8(h.run(&["INFO", "clients"])).unwrap();
    assert!(info.contains("blocked_clients:1\r\n"), "{info}");
    assert!(info.contains("clients_in_timeout_table:1\r\n"), "{info}");
}

#[test]
fn sort_store_is_logged_as_sent_when_it_changed_something_and_serves_waiters() {
    let mut h = Harness::new();
    let mut waiter = blocked(&mut h, 10, &["BLPOP", "dst", "0"]);
    h.run(&["RPUSH", "l", "3", "1", "2"]);
    assert_eq!(h.run(&["SORT", "l", "STORE", "dst"]), b":3\r\n");
    assert_eq!(
        sent(&mut waiter).as_deref(),
        Some("*2\r\n$3\r\ndst\r\n$1\r\n1\r\n")
    );
    assert_eq!(h.run(&["SORT", "missing", "STORE", "dst"]), b":0\r\n");
    assert_eq!(h.run(&["EXISTS", "dst"]), b":0\r\n");
    assert_eq!(h.run(&["SORT", "missing", "STORE", "dst"]), b":0\r\n");
    assert_eq!(
        records(&h),
        [
            "0 RPUSH l 3 1 2",
            "0 SORT l STORE dst",
            "0 LPOP dst",
            "0 SORT missing STORE dst"
        ],
        "the last SORT deleted nothing and is not logged"
    );
}

#[test]
fn served_sorted_set_pops_are_logged_as_redis_7_0_15_writes_them() {
    let mut h = Harness::new();
    let mut min = blocked(&mut h, 10, &["BZPOPMIN", "z", "0"]);
    let mut max = blocked(&mut h, 11, &["BZPOPMAX", "z", "0"]);
    let mut multi = blocked(&mut h, 12, &["BZMPOP", "0", "1", "z", "MIN", "COUNT", "5"]);
    let mut one = blocked(&mut h, 13, &["BZMPOP", "0", "1", "z", "MAX"]);
    h.run(&["ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d"]);
    assert_eq!(
        sent(&mut min).as_deref(),
        Some("*3\r\n$1\r\nz\r\n$1\r\na\r\n$1\r\n1\r\n")
    );
    assert_eq!(
        sent(&mut max).as_deref(),
        Some("*3\r\n$1\r\nz\r\n$1\r\nd\r\n$1\r\n4\r\n")
    );
    assert_eq!(
        sent(&mut multi).as_deref(),
        Some("*2\r\n$1\r\nz\r\n*2\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n*2\r\n$1\r\nc\r\n$1\r\n3\r\n")
    );
    assert_eq!(sent(&mut one), None, "z is empty and gone");
    h.run(&["ZADD", "z", "9", "x", "8", "y"]);
    assert_eq!(
        sent(&mut one).as_deref(),
        Some("*2\r\n$1\r\nz\r\n*1\r\n*2\r\n$1\r\nx\r\n$1\r\n9\r\n")
    );
    assert_eq!(
        records(&h),
        [
            "0 ZADD z 1 a 2 b 3 c 4 d",
            "0 ZPOPMIN z",
            "0 ZPOPMAX z",
            "0 ZPOPMIN z 2",
            "0 ZADD z 9 x 8 y",
            "0 ZPOPMAX z 1",
        ],
        "BZPOP* as ZPOPMIN|ZPOPMAX key, BZMPOP with the number it popped"
    );
}

#[test]
fn immediate_sorted_set_pops_are_logged_and_denied_ones_and_timeouts_log_nothing() {
    let mut h = Harness::new();
    h.run(&["ZADD", "z", "1", "a", "2", "b", "3", "c"]);
    let mut c = client(10);
    assert_eq!(
        run_as(&mut h, &mut c, false, &["BZPOPMAX", "none", "z", "0"]),
        b"*3\r\n$1\r\nz\r\n$1\r\nc\r\n$1\r\n3\r\n"
    );
    assert_eq!(
        run_as(
            &mut h,
            &mut c,
            false,
            &["BZMPOP", "0", "2", "none", "z", "MIN", "COUNT", "10"]
        ),
        b"*2\r\n$1\r\nz\r\n*2\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n"
    );
    // Blocking denied (MULTI, scripts): a null array, nothing blocks.
    for args in [
        &["BZPOPMIN", "z", "0"][..],
        &["BZMPOP", "0", "1", "z", "MAX"][..],
    ] {
        assert_eq!(run_as(&mut h, &mut c, true, args), b"*-1\r\n");
        assert!(!c.blocked);
    }
    // A wrong-type key before any zset is the error, as Redis's loop.
    h.run(&["SET", "s", "x"]);
    h.run(&["ZADD", "z2", "1", "m"]);
    assert!(
        run_as(&mut h, &mut c, false, &["BZPOPMIN", "s", "z2", "0"]).starts_with(b"-WRONGTYPE")
    );
    // A waiter that times out (here: unblocked as a timeout) logs nothing.
    let mut w = blocked(&mut h, 11, &["BZPOPMIN", "later", "0"]);
    assert!(h.dataset.blocking.unblock_with(11, None));
    assert_eq!(sent(&mut w).as_deref(), Some("*-1\r\n"));
    assert_eq!(
        records(&h),
        [
            "0 ZADD z 1 a 2 b 3 c",
            "0 ZPOPMAX z",
            "0 ZPOPMIN z 2",
            "0 SET s x",
            "0 ZADD z2 1 m",
        ]
    );
}

#[test]
fn a_sorted_set_waiter_is_served_by_a_zset_only() {
    let mut h = Harness::new();
    let mut z = blocked(&mut h, 10, &["BZPOPMIN", "k", "0"]);
    let mut l = blocked(&mut h, 11, &["BLPOP", "k", "0"]);
    h.run(&["SADD", "k", "m"]);
    assert_eq!((sent(&mut z), sent(&mut l)), (None, None));
    h.run(&["DEL", "k"]);
    h.run(&["ZINCRBY", "k", "1.5", "m"]);
    assert_eq!(
        sent(&mut z).as_deref(),
        Some("*3\r\n$1\r\nk\r\n$1\r\nm\r\n$3\r\n1.5\r\n")
    );
    assert_eq!(
        sent(&mut l),
        None,
        "the list waiter is not served by a zset"
    );
    h.run(&["RPUSH", "k", "v"]);
    assert_eq!(
        sent(&mut l).as_deref(),
        Some("*2\r\n$1\r\nk\r\n$1\r\nv\r\n")
    );
}

#[test]
fn a_command_that_serves_blocked_clients_says_so_to_its_connection() {
    // The connection lets the served clients' replies go out before its
    // own when this is set (see `network::connection`).
    let mut h = Harness::new();
    h.run(&["RPUSH", "other", "v"]);
    assert!(!h.effects.served_blocked, "nobody is blocked");
    let mut waiter = blocked(&mut h, 10, &["BLPOP", "q", "0"]);
    h.run(&["RPUSH", "other", "v"]);
    assert!(!h.effects.served_blocked, "nobody waits on that key");
    h.run(&["RPUSH", "q", "x"]);
    assert!(h.effects.served_blocked);
    assert_eq!(
        sent(&mut waiter).as_deref(),
        Some("*2\r\n$1\r\nq\r\n$1\r\nx\r\n")
    );
}

#[test]
fn queues_go_from_one_waiter_to_many_and_back_in_every_database() {
    let mut h = Harness::new();
    let mut first = blocked(&mut h, 10, &["BLPOP", "k", "0"]);
    let _middle = blocked(&mut h, 11, &["BRPOP", "k", "0"]);
    let mut last = blocked(&mut h, 12, &["BLPOP", "k", "0"]);
    let mut other_db = client(13);
    other_db.db = 3;
    assert!(run_as(&mut h, &mut other_db, false, &["BLPOP", "k", "j", "0"]).is_empty());
    assert_eq!(h.dataset.blocking.blocking_keys(), 3);
    // Leaving from the middle keeps the order of the others.
    assert!(h.dataset.blocking.unblock(11));
    h.run(&["RPUSH", "k", "a", "b"]);
    assert_eq!(
        sent(&mut first).as_deref(),
        Some("*2\r\n$1\r\nk\r\n$1\r\na\r\n")
    );
    assert_eq!(
        sent(&mut last).as_deref(),
        Some("*2\r\n$1\r\nk\r\n$1\r\nb\r\n")
    );
    // Database 0 has no waiters left; database 3's client still waits on
    // both its keys, served from the one that gets an element.
    assert_eq!(h.dataset.blocking.blocking_keys(), 2);
    h.run(&["RPUSH", "j", "c"]);
    assert_eq!(h.run(&["LLEN", "j"]), b":1\r\n", "db 0's j serves nobody");
    assert_eq!(h.run(&["MOVE", "j", "3"]), b":1\r\n");
    let wait = other_db.block_wait.as_mut().expect("blocked");
    assert_eq!(
        wait.reply.try_recv().ok().as_deref(),
        Some(&b"*2\r\n$1\r\nj\r\n$1\r\nc\r\n"[..])
    );
    assert_eq!(h.dataset.blocking.blocking_keys(), 0);
    assert_eq!(h.dataset.blocking.blocked_clients(), 0);
    h.run(&["RPUSH", "k", "d"]);
    assert_eq!(h.run(&["LLEN", "k"]), b":1\r\n");
}
