//! Blocking list and sorted set commands against Redis 7.0: the same
//! multi-connection
//! scripts drive the oracle and an in-process Redigo, and every reply,
//! the blocked clients' included, must be byte-identical. A script waits
//! for a client to be blocked (`INFO clients` on both servers) before the
//! next step, so nothing depends on timing. The AOF records of each case
//! are asserted in-process in `crates/server/src/blocking/tests.rs`.

use std::time::{Duration, Instant};

use redigo_server::testing::TestServer;
use redigo_tests::{Oracle, RawConn};

/// How long a test waits for a client to show as blocked.
const PATIENCE: Duration = Duration::from_secs(10);

/// One server's connections.
struct Side {
    control: RawConn,
    conns: Vec<RawConn>,
}

/// The oracle and Redigo, each with `n` client connections and a control
/// connection.
struct Both {
    sides: [Side; 2],
    _oracle: Oracle,
    _server: TestServer,
}

fn encode(command: &str) -> Vec<u8> {
    let args: Vec<&str> = command.split(' ').collect();
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for arg in args {
        out.extend_from_slice(format!("${}\r\n{arg}\r\n", arg.len()).as_bytes());
    }
    out
}

fn show(reply: &[u8]) -> String {
    String::from_utf8_lossy(reply).into_owned()
}

fn blocked_clients(conn: &mut RawConn) -> usize {
    let info = show(&conn.roundtrip(&encode("INFO clients")));
    info.lines()
        .find_map(|l| l.strip_prefix("blocked_clients:"))
        .and_then(|v| v.trim().parse().ok())
        .expect("INFO clients has blocked_clients")
}

impl Both {
    fn start(n: usize) -> Option<Both> {
        let oracle = redigo_tests::oracle()?;
        let server = TestServer::start(&[]);
        let side = |port: u16| Side {
            control: RawConn::connect(port),
            conns: (0..n).map(|_| RawConn::connect(port)).collect(),
        };
        Some(Both {
            sides: [side(oracle.port()), side(server.port())],
            _oracle: oracle,
            _server: server,
        })
    }

    /// Sends `command` on client `i` of both servers without reading.
    fn send(&mut self, i: usize, command: &str) {
        for side in &mut self.sides {
            side.conns[i].send(&encode(command));
        }
    }

    /// Reads one reply of client `i` on both servers; they must match.
    fn read(&mut self, i: usize) -> String {
        let redis = self.sides[0].conns[i].read_reply();
        let redigo = self.sides[1].conns[i].read_reply();
        assert_eq!(show(&redigo), show(&redis), "client {i} (left: Redigo)");
        show(&redis)
    }

    /// Runs `command` on client `i` of both; the replies must match.
    fn same(&mut self, i: usize, command: &str) -> String {
        self.send(i, command);
        self.read(i)
    }

    /// Waits until both servers report `n` blocked clients.
    fn until_blocked(&mut self, n: usize) {
        let deadline = Instant::now() + PATIENCE;
        for (index, side) in self.sides.iter_mut().enumerate() {
            while blocked_clients(&mut side.control) != n {
                assert!(
                    Instant::now() < deadline,
                    "server {index} never had {n} blocked clients"
                );
                std::thread::sleep(Duration::from_millis(5));
            }
        }
    }

    /// Sends a blocking command on client `i` and waits until it blocked
    /// (`n` clients blocked in all).
    fn block(&mut self, i: usize, command: &str, n: usize) {
        self.send(i, command);
        self.until_blocked(n);
    }

    /// Each server's id for client `i`.
    fn ids(&mut self, i: usize) -> [String; 2] {
        self.sides.each_mut().map(|side| {
            let reply = show(&side.conns[i].roundtrip(&encode("CLIENT ID")));
            reply.trim_start_matches(':').trim().to_string()
        })
    }
}

#[test]
fn waiters_on_one_key_are_served_in_order_and_a_client_on_several_keys_once() {
    let Some(mut b) = Both::start(4) else { return };
    b.block(0, "BLPOP q q2 0", 1);
    b.block(1, "BRPOP q 0", 2);
    b.block(2, "BLMOVE q2 q LEFT RIGHT 0", 3);
    b.same(3, "RPUSH q2 x");
    assert_eq!(b.read(0), "*2\r\n$2\r\nq2\r\n$1\r\nx\r\n");
    b.until_blocked(2);
    b.same(3, "RPUSH q 1 2 3");
    b.read(1);
    b.same(3, "RPUSH q2 y");
    b.read(2);
    b.until_blocked(0);
    b.same(3, "LRANGE q 0 -1");
    b.same(3, "EXISTS q2");
}

#[test]
fn a_pipelined_push_serves_several_waiters_and_blmove_chains() {
    let Some(mut b) = Both::start(5) else { return };
    b.block(0, "BLPOP k 0", 1);
    b.block(1, "BLPOP k 0", 2);
    b.block(2, "BRPOPLPUSH src k 0", 3);
    b.block(3, "BLMPOP 0 1 k RIGHT COUNT 2", 4);
    for side in &mut b.sides {
        let mut pipeline = encode("RPUSH k a b");
        pipeline.extend(encode("RPUSH src c d e"));
        pipeline.extend(encode("LLEN k"));
        side.conns[4].send(&pipeline);
    }
    b.read(4);
    b.read(4);
    b.read(4);
    for i in 0..4 {
        b.read(i);
    }
    b.same(4, "LRANGE k 0 -1");
    b.same(4, "LRANGE src 0 -1");
}

#[test]
fn timeouts_answer_nil_and_arguments_are_checked_as_redis() {
    let Some(mut b) = Both::start(1) else { return };
    let started = Instant::now();
    b.same(0, "BLPOP k 0.1");
    b.same(0, "BLMOVE k d LEFT LEFT 0.05");
    b.same(0, "BLMPOP 0.05 2 k j LEFT");
    assert!(started.elapsed() < Duration::from_secs(3));
    for bad in [
        "BLPOP k abc",
        "BLPOP k -1",
        "BLPOP k 1e16",
        "BLPOP k inf",
        "BLPOP k nan",
        "BRPOP k",
        "BLMOVE k d UP LEFT 1",
        "BLMOVE k d LEFT LEFT x",
        "BRPOPLPUSH k d -2",
        "BLMPOP 0 0 k LEFT",
        "BLMPOP x 1 k LEFT",
        "BLMPOP 0 1 k LEFT COUNT 0",
        "BLMPOP 0 2 k LEFT",
        "CLIENT UNBLOCK 1 later",
        "CLIENT UNBLOCK x",
        "CLIENT UNBLOCK 999999",
        "CLIENT UNBLOCK 1 TIMEOUT extra",
    ] {
        b.same(0, bad);
    }
    b.same(0, "SET s x");
    b.same(0, "BLPOP none s 0");
    b.same(0, "BLMOVE s d LEFT LEFT 0");
}

#[test]
fn a_client_that_disconnects_while_blocked_leaves_no_trace() {
    let Some(mut b) = Both::start(2) else { return };
    b.block(0, "BLPOP k 0", 1);
    for side in &mut b.sides {
        // The blocked connection closes; client 1 becomes client 0.
        drop(side.conns.swap_remove(0));
    }
    b.until_blocked(0);
    b.same(0, "RPUSH k v");
    b.same(0, "LLEN k");
}

#[test]
fn client_unblock_times_out_or_fails_the_blocked_client() {
    let Some(mut b) = Both::start(3) else { return };
    let ids = b.ids(0);
    b.block(0, "BLPOP k 0", 1);
    for (side, id) in b.sides.iter_mut().zip(&ids) {
        assert_eq!(
            show(&side.conns[2].roundtrip(&encode(&format!("CLIENT UNBLOCK {id}")))),
            ":1\r\n"
        );
    }
    assert_eq!(b.read(0), "*-1\r\n");
    let ids = b.ids(1);
    b.block(1, "BLMOVE k d LEFT LEFT 0", 1);
    for (side, id) in b.sides.iter_mut().zip(&ids) {
        assert_eq!(
            show(&side.conns[2].roundtrip(&encode(&format!("CLIENT UNBLOCK {id} ERROR")))),
            ":1\r\n"
        );
    }
    assert_eq!(
        b.read(1),
        "-UNBLOCKED client unblocked via CLIENT UNBLOCK\r\n"
    );
    for (side, id) in b.sides.iter_mut().zip(&ids) {
        assert_eq!(
            show(&side.conns[2].roundtrip(&encode(&format!("CLIENT UNBLOCK {id}")))),
            ":0\r\n"
        );
    }
    b.same(0, "PING");
}

#[test]
fn rename_serves_a_blocked_key_and_a_key_of_another_kind_does_not() {
    let Some(mut b) = Both::start(2) else { return };
    b.block(0, "BLPOP k 0", 1);
    b.same(1, "SET k str");
    b.same(1, "DEL k");
    b.same(1, "SADD k m");
    b.until_blocked(1);
    b.same(1, "DEL k");
    b.same(1, "RPUSH tmp a b");
    b.same(1, "RENAME tmp k");
    b.read(0);
    b.until_blocked(0);
    b.same(1, "LRANGE k 0 -1");
    // FLUSHALL leaves a client blocked; SWAPDB serves it from the other db.
    b.block(0, "BRPOP k2 0", 1);
    b.same(1, "FLUSHALL");
    b.until_blocked(1);
    b.same(1, "SELECT 1");
    b.same(1, "RPUSH k2 x y");
    b.same(1, "SWAPDB 0 1");
    b.read(0);
    b.until_blocked(0);
}

#[test]
fn client_list_shows_the_blocked_client() {
    let Some(mut b) = Both::start(2) else { return };
    b.block(0, "BLPOP k 0", 1);
    for side in &mut b.sides {
        let list = show(&side.conns[1].roundtrip(&encode("CLIENT LIST")));
        let line = list
            .lines()
            .find(|l| l.contains("cmd=blpop"))
            .unwrap_or_else(|| panic!("no blocked client in {list}"));
        assert!(line.contains(" flags=b "), "{line}");
    }
    b.same(1, "RPUSH k v");
    b.read(0);
}

#[test]
fn client_help_lists_unblock_as_redis_words_it() {
    let Some(mut b) = Both::start(1) else { return };
    for side in &mut b.sides {
        let help = show(&side.conns[0].roundtrip(&encode("CLIENT HELP")));
        assert!(
            help.contains(
                "+UNBLOCK <clientid> [TIMEOUT|ERROR]\r\n+    Unblock the specified blocked client.\r\n"
            ),
            "{help}"
        );
    }
}

#[test]
fn inside_a_transaction_blocking_commands_do_not_block_and_exec_serves_waiters() {
    let Some(mut b) = Both::start(2) else { return };
    b.same(0, "MULTI");
    b.same(0, "BLPOP k 0");
    b.same(0, "BLMOVE k d LEFT LEFT 0");
    b.same(0, "BRPOPLPUSH k d 0");
    b.same(0, "BLMPOP 0 1 k LEFT");
    b.same(0, "EXEC");
    b.block(1, "BLPOP k 0", 1);
    b.same(0, "MULTI");
    b.same(0, "RPUSH k a b");
    b.same(0, "LLEN k");
    b.same(0, "EXEC");
    b.read(1);
    b.until_blocked(0);
    b.same(0, "LRANGE k 0 -1");
}

#[test]
fn sorted_set_waiters_are_served_in_order_from_several_keys() {
    let Some(mut b) = Both::start(4) else { return };
    b.block(0, "BZPOPMIN q q2 0", 1);
    b.block(1, "BZPOPMAX q 0", 2);
    b.block(2, "BZMPOP 0 2 q2 q MIN COUNT 2", 3);
    b.same(3, "ZADD q2 1.5 x 2 y");
    assert_eq!(b.read(0), "*3\r\n$2\r\nq2\r\n$1\r\nx\r\n$3\r\n1.5\r\n");
    // Client 2 waits on q2 too, and y is still there.
    b.read(2);
    b.until_blocked(1);
    b.same(3, "ZADD q -inf a 1e300 b 3 c");
    assert_eq!(
        b.read(1),
        "*3\r\n$1\r\nq\r\n$1\r\nb\r\n$23\r\n1.0000000000000001e+300\r\n"
    );
    b.until_blocked(0);
    b.same(3, "ZRANGE q 0 -1 WITHSCORES");
    b.same(3, "EXISTS q2");
    // A pipelined ZADD serves waiters one after the other, FIFO, each with
    // its own count.
    b.block(0, "BZMPOP 0 1 p MAX COUNT 2", 1);
    b.block(1, "BZPOPMIN p 0", 2);
    b.block(2, "BZMPOP 0 1 p MIN", 3);
    for side in &mut b.sides {
        let mut pipeline = encode("ZADD p 1 a 2 b 3 c 4 d 5 e");
        pipeline.extend(encode("ZCARD p"));
        side.conns[3].send(&pipeline);
    }
    b.read(3);
    b.read(3);
    for i in 0..3 {
        b.read(i);
    }
    b.same(3, "ZRANGE p 0 -1 WITHSCORES");
}

#[test]
fn sorted_set_waiters_are_served_by_whatever_creates_a_zset_and_not_by_other_kinds() {
    let Some(mut b) = Both::start(3) else { return };
    b.block(0, "BZPOPMIN k 0", 1);
    // Other kinds serve nobody, and a list waiter is not served by a zset.
    b.block(1, "BLPOP k 0", 2);
    b.same(2, "SET k str");
    b.same(2, "DEL k");
    b.same(2, "RPUSH k a");
    b.read(1);
    b.same(2, "SADD k m");
    b.same(2, "DEL k");
    b.until_blocked(1);
    b.same(2, "ZINCRBY k 2.5 m");
    b.read(0);
    b.block(0, "BZPOPMAX k2 0", 1);
    b.same(2, "ZADD a 1 x 2 y");
    b.same(2, "ZUNIONSTORE k2 1 a");
    b.read(0);
    b.block(0, "BZMPOP 0 1 k3 MAX COUNT 5", 1);
    b.same(2, "ZRANGESTORE k3 a 0 -1");
    b.read(0);
    b.block(0, "BZPOPMIN k4 0", 1);
    b.same(2, "ZADD tmp 7 t");
    b.same(2, "RENAME tmp k4");
    b.read(0);
    b.block(0, "BLPOP k5 0", 1);
    b.same(2, "ZADD k5 1 z");
    b.until_blocked(1);
    b.same(2, "DEL k5");
    b.same(2, "RPUSH k5 l");
    b.read(0);
    // CLIENT UNBLOCK answers a sorted set waiter as a timeout.
    let ids = b.ids(0);
    b.block(0, "BZPOPMIN k6 0", 1);
    for (side, id) in b.sides.iter_mut().zip(&ids) {
        assert_eq!(
            show(&side.conns[2].roundtrip(&encode(&format!("CLIENT UNBLOCK {id}")))),
            ":1\r\n"
        );
    }
    assert_eq!(b.read(0), "*-1\r\n");
    b.until_blocked(0);
    b.same(2, "EXISTS a k k2 k3 k4 k5 k6 tmp");
    b.same(2, "ZRANGE a 0 -1 WITHSCORES");
}

#[test]
fn sorted_set_pops_time_out_check_arguments_and_pop_at_once_as_redis() {
    let Some(mut b) = Both::start(1) else { return };
    let started = Instant::now();
    b.same(0, "BZPOPMIN k 0.1");
    b.same(0, "BZPOPMAX k j 0.05");
    b.same(0, "BZMPOP 0.05 2 k j MIN");
    assert!(started.elapsed() < Duration::from_secs(3));
    for bad in [
        "BZPOPMIN k abc",
        "BZPOPMIN k -1",
        "BZPOPMAX k inf",
        "BZPOPMIN k",
        "BZMPOP 0 0 k MIN",
        "BZMPOP x 1 k MIN",
        "BZMPOP -1 1 k MIN",
        "BZMPOP x 1 k LEFT",
        "BZMPOP 0 1 k MIN COUNT 0",
        "BZMPOP 0 1 k MIN COUNT",
        "BZMPOP 0 1 k MIN COUNT 1 COUNT 2",
        "BZMPOP 0 2 k MIN",
        "BZMPOP 0 1 k",
    ] {
        b.same(0, bad);
    }
    b.same(0, "SET s x");
    b.same(0, "BZPOPMIN none s 0");
    b.same(0, "BZMPOP 0 2 none s MAX");
    b.same(0, "ZADD z 1 a 2 b 3 c -0 d");
    b.same(0, "BZPOPMIN none z s 0");
    b.same(0, "BZPOPMAX z 0");
    b.same(0, "BZMPOP 0 3 none z s MAX COUNT 10");
    b.same(0, "EXISTS z");
}

#[test]
fn inside_a_transaction_sorted_set_pops_do_not_block_and_exec_serves_waiters() {
    let Some(mut b) = Both::start(2) else { return };
    b.same(0, "MULTI");
    b.same(0, "BZPOPMIN k 0");
    b.same(0, "BZPOPMAX k 0");
    b.same(0, "BZMPOP 0 1 k MIN");
    b.same(0, "EXEC");
    b.block(1, "BZMPOP 0 1 k MAX COUNT 2", 1);
    b.same(0, "MULTI");
    b.same(0, "ZADD k 1 a 2 b 3 c");
    b.same(0, "ZCARD k");
    b.same(0, "EXEC");
    b.read(1);
    b.until_blocked(0);
    b.same(0, "ZRANGE k 0 -1 WITHSCORES");
}

/// With the AOF off a served client's reply goes through its outbox and is
/// written by the connection that served it (see
/// `crates/server/src/delivery.rs`); the requests it pipelined after the
/// blocking command still follow that reply, in order, and it can block
/// again at once.
#[test]
fn a_served_client_runs_the_rest_of_its_pipeline_after_its_reply() {
    let Some(mut b) = Both::start(2) else { return };
    for side in &mut b.sides {
        let mut pipeline = encode("BLPOP k 0");
        pipeline.extend(encode("PING"));
        pipeline.extend(encode("LLEN k"));
        side.conns[0].send(&pipeline);
    }
    b.until_blocked(1);
    b.same(1, "RPUSH k a b");
    assert_eq!(b.read(0), "*2\r\n$1\r\nk\r\n$1\r\na\r\n");
    assert_eq!(b.read(0), "+PONG\r\n");
    assert_eq!(b.read(0), ":1\r\n");
    b.same(0, "BLPOP k 0");
    b.block(0, "BLPOP k 0", 1);
    b.same(1, "RPUSH k c");
    assert_eq!(b.read(0), "*2\r\n$1\r\nk\r\n$1\r\nc\r\n");
    b.until_blocked(0);
    b.same(0, "LLEN k");
}
