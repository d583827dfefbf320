//! Server commands through a real client library (the `redis` crate):
//! INFO, CONFIG, CLIENT, AUTH, SELECT and friends, limits and timeouts.

mod support;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use redigo_server::testing::TestServer;
use redigo_tests::RawConn;
use support::Pair;

fn client(server: &TestServer) -> redis::Connection {
    redis::Client::open(format!("redis://127.0.0.1:{}/", server.port()))
        .expect("client")
        .get_connection()
        .expect("connect")
}

fn info(conn: &mut redis::Connection, section: &str) -> String {
    redis::cmd("INFO").arg(section).query(conn).expect("INFO")
}

fn info_field(report: &str, name: &str) -> Option<String> {
    report
        .split("\r\n")
        .find_map(|line| line.strip_prefix(&format!("{name}:")))
        .map(str::to_string)
}

/// Asserts that `text` contains `part`.
fn assert_contains(text: &str, part: &str) {
    assert!(text.contains(part), "missing {part:?} in {text}");
}

#[test]
fn info_reports_redis_sections_and_fields() {
    let server = TestServer::start(&[]);
    let mut conn = client(&server);
    let report = info(&mut conn, "everything");
    for header in [
        "# Server",
        "# Clients",
        "# Memory",
        "# Persistence",
        "# Stats",
        "# Replication",
        "# CPU",
        "# Keyspace",
    ] {
        assert_contains(&report, &format!("{header}\r\n"));
    }
    for field in [
        "redis_version",
        "redigo_version",
        "redis_mode",
        "os",
        "arch_bits",
        "process_id",
        "run_id",
        "tcp_port",
        "uptime_in_seconds",
        "uptime_in_days",
        "hz",
        "executable",
        "config_file",
        "connected_clients",
        "maxclients",
        "blocked_clients",
        "used_memory",
        "used_memory_human",
        "used_memory_rss",
        "maxmemory",
        "loading",
        "aof_enabled",
        "aof_rewrite_in_progress",
        "aof_rewrite_scheduled",
        "aof_last_rewrite_time_sec",
        "aof_current_rewrite_time_sec",
        "aof_last_bgrewrite_status",
        "aof_last_write_status",
        "total_connections_received",
        "total_commands_processed",
        "instantaneous_ops_per_sec",
        "expired_keys",
        "keyspace_hits",
        "keyspace_misses",
        "rejected_connections",
        "role",
        "used_cpu_sys",
        "used_cpu_user",
    ] {
        assert!(
            info_field(&report, field).is_some(),
            "missing field {field}"
        );
    }
    assert_eq!(
        info_field(&report, "redis_version").as_deref(),
        Some("7.0.15")
    );
    assert_eq!(info_field(&report, "role").as_deref(), Some("master"));
    assert_eq!(
        info_field(&report, "tcp_port"),
        Some(server.port().to_string())
    );
    assert!(!report.contains("\n\n"), "lines end with CRLF");
    assert!(report.ends_with("\r\n"));

    let only = info(&mut conn, "clients");
    assert!(only.starts_with("# Clients\r\n") && !only.contains("# Server"));
    let two: String = redis::cmd("INFO")
        .arg("keyspace")
        .arg("server")
        .query(&mut conn)
        .unwrap();
    assert!(two.starts_with("# Server\r\n") && two.contains("\r\n\r\n# Keyspace\r\n"));
}

#[test]
fn info_layout_matches_redis_for_static_sections() {
    let pair = Pair::start();
    pair.same_command(&[b"INFO", b"cluster"]);
    pair.same_command(&[b"INFO", b"keyspace"]);
    pair.same_command(&[b"INFO", b"nosuch"]);
    pair.same_session(&[
        &[b"nosuch"],
        &[b"ECHO"],
        &[b"AUTH", b"a", b"b"],
        &[b"INFO", b"errorstats"],
        &[b"CONFIG", b"RESETSTAT"],
        &[b"INFO", b"errorstats"],
    ]);
}

#[test]
fn info_counts_commands_and_connections() {
    let server = TestServer::start(&[]);
    let mut conn = client(&server);
    for _ in 0..5 {
        let _: String = redis::cmd("PING").query(&mut conn).unwrap();
    }
    let stats = info(&mut conn, "stats");
    let processed: u64 = info_field(&stats, "total_commands_processed")
        .unwrap()
        .parse()
        .unwrap();
    assert!(processed >= 5, "{processed}");
    let received: u64 = info_field(&stats, "total_connections_received")
        .unwrap()
        .parse()
        .unwrap();
    assert!(received >= 1);
    let _: () = redis::cmd("CONFIG")
        .arg("RESETSTAT")
        .query(&mut conn)
        .unwrap();
    let stats = info(&mut conn, "stats");
    // As in Redis, RESETSTAT itself is counted after the reset.
    assert_eq!(
        info_field(&stats, "total_commands_processed").as_deref(),
        Some("1")
    );
}

#[test]
fn config_get_with_patterns_and_set_at_run_time() {
    let server = TestServer::start(&[("timeout", "7")]);
    let mut conn = client(&server);
    let pairs: HashMap<String, String> = redis::cmd("CONFIG")
        .arg("GET")
        .arg("time*")
        .arg("HZ")
        .query(&mut conn)
        .unwrap();
    assert_eq!(
        pairs,
        HashMap::from([("timeout".into(), "7".into()), ("hz".into(), "10".into())])
    );
    let _: () = redis::cmd("CONFIG")
        .arg("SET")
        .arg("maxclients")
        .arg("50")
        .arg("appendfsync")
        .arg("never")
        .query(&mut conn)
        .unwrap();
    let pairs: HashMap<String, String> = redis::cmd("CONFIG")
        .arg("GET")
        .arg("maxclients")
        .arg("appendfsync")
        .query(&mut conn)
        .unwrap();
    assert_eq!(pairs["maxclients"], "50");
    assert_eq!(pairs["appendfsync"], "no");
    // All or nothing: one bad value leaves the other unchanged.
    let err = redis::cmd("CONFIG")
        .arg("SET")
        .arg("maxclients")
        .arg("60")
        .arg("hz")
        .arg("abc")
        .query::<()>(&mut conn)
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("possibly related to argument 'hz'"),
        "{err}"
    );
    let pairs: Vec<String> = redis::cmd("CONFIG")
        .arg("GET")
        .arg("maxclients")
        .query(&mut conn)
        .unwrap();
    assert_eq!(pairs, ["maxclients", "50"]);
    let all: Vec<String> = redis::cmd("CONFIG")
        .arg("GET")
        .arg("*")
        .query(&mut conn)
        .unwrap();
    // Every parameter, every alias (listed under its own name, as Redis
    // 7.0 lists hash-max-ziplist-entries), and the compatibility ones.
    let expected = redigo_server::config::params::PARAMS.len()
        + redigo_server::config::params::ALIASES.len()
        + redigo_server::config::params::REDIS_COMPAT_PARAMS.len();
    assert_eq!(all.len(), expected * 2);
}

#[test]
fn client_setname_list_and_kill() {
    let server = TestServer::start(&[]);
    let mut me = client(&server);
    let mut victim = RawConn::connect(server.port());
    assert_eq!(victim.roundtrip(b"CLIENT SETNAME victim\r\n"), b"+OK\r\n");
    let victim_id = String::from_utf8(victim.roundtrip(b"CLIENT ID\r\n")).unwrap();
    let victim_id = victim_id.trim_start_matches(':').trim_end().to_string();

    let _: () = redis::cmd("CLIENT")
        .arg("SETNAME")
        .arg("boss")
        .query(&mut me)
        .unwrap();
    let name: String = redis::cmd("CLIENT").arg("GETNAME").query(&mut me).unwrap();
    assert_eq!(name, "boss");
    let list: String = redis::cmd("CLIENT").arg("LIST").query(&mut me).unwrap();
    let lines: Vec<&str> = list.lines().collect();
    assert_eq!(lines.len(), 2, "{list}");
    let victim_line = lines
        .iter()
        .find(|l| l.contains("name=victim"))
        .expect("victim listed");
    assert!(
        victim_line.starts_with(&format!("id={victim_id} addr=127.0.0.1:")),
        "{victim_line}"
    );
    for field in [
        " laddr=",
        " fd=",
        " age=",
        " idle=",
        " flags=N ",
        " db=0 ",
        " sub=0 ",
        " psub=0 ",
        " ssub=0 ",
        " multi=-1 ",
        " qbuf=",
        " qbuf-free=",
        " argv-mem=",
        " multi-mem=",
        " rbs=",
        " rbp=",
        " obl=",
        " oll=",
        " omem=",
        " tot-mem=",
        " events=r ",
        " cmd=client|id ",
        " user=default ",
        " redir=-1 ",
        " resp=2",
    ] {
        assert_contains(victim_line, field);
    }
    let mine: String = redis::cmd("CLIENT").arg("INFO").query(&mut me).unwrap();
    assert!(
        mine.contains("name=boss") && mine.contains("cmd=client|info"),
        "{mine}"
    );

    let mut kill_victim = || -> i64 {
        redis::cmd("CLIENT")
            .arg("KILL")
            .arg("ID")
            .arg(&victim_id)
            .query(&mut me)
            .unwrap()
    };
    assert_eq!(kill_victim(), 1);
    assert!(victim.is_closed());
    assert_eq!(kill_victim(), 0, "a killed client is not killed twice");

    // Old form by address; SKIPME defaults to yes in the new form only.
    let mut other = RawConn::connect(server.port());
    let line = String::from_utf8(other.roundtrip(b"CLIENT INFO\r\n")).unwrap();
    let addr = line
        .split(' ')
        .find_map(|f| f.strip_prefix("addr="))
        .unwrap()
        .to_string();
    let _: () = redis::cmd("CLIENT")
        .arg("KILL")
        .arg(&addr)
        .query(&mut me)
        .unwrap();
    assert!(other.is_closed());
    let killed: i64 = redis::cmd("CLIENT")
        .arg("KILL")
        .arg("TYPE")
        .arg("normal")
        .query(&mut me)
        .unwrap();
    assert_eq!(killed, 0, "only the caller is left and SKIPME is yes");
}

#[test]
fn killing_oneself_replies_then_closes() {
    let server = TestServer::start(&[]);
    let mut conn = RawConn::connect(server.port());
    assert_eq!(conn.roundtrip(b"CLIENT KILL SKIPME no\r\n"), b":1\r\n");
    assert!(conn.is_closed());
}

#[test]
fn requirepass_gates_commands_until_auth() {
    let server = TestServer::start(&[("requirepass", "sesame")]);
    let mut conn = RawConn::connect(server.port());
    assert_eq!(
        conn.roundtrip(b"PING\r\n"),
        b"-NOAUTH Authentication required.\r\n"
    );
    assert_eq!(
        conn.roundtrip(b"NOSUCH\r\n"),
        b"-ERR unknown command 'NOSUCH', with args beginning with: \r\n",
        "lookup comes before authentication, as in Redis"
    );
    assert_eq!(
        conn.roundtrip(b"AUTH wrong\r\n"),
        b"-WRONGPASS invalid username-password pair or user is disabled.\r\n"
    );
    assert_eq!(
        conn.roundtrip(b"HELLO 2\r\n"),
        b"-NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time\r\n"
    );
    assert_eq!(conn.roundtrip(b"AUTH sesame\r\n"), b"+OK\r\n");
    assert_eq!(conn.roundtrip(b"PING\r\n"), b"+PONG\r\n");

    let mut other = RawConn::connect(server.port());
    assert!(
        other
            .roundtrip(b"HELLO 2 AUTH default sesame\r\n")
            .starts_with(b"*14\r\n")
    );
    assert_eq!(
        other.roundtrip(b"AUTH nobody sesame\r\n")[..10],
        *b"-WRONGPASS"
    );
    assert_eq!(other.roundtrip(b"RESET\r\n"), b"+RESET\r\n");
    assert_eq!(
        other.roundtrip(b"PING\r\n"),
        b"-NOAUTH Authentication required.\r\n"
    );

    let url = format!("redis://:sesame@127.0.0.1:{}/", server.port());
    let mut authed = redis::Client::open(url).unwrap().get_connection().unwrap();
    let pong: String = redis::cmd("PING").query(&mut authed).unwrap();
    assert_eq!(pong, "PONG");
}

#[test]
fn select_swapdb_flush_and_dbsize() {
    let server = TestServer::start(&[("databases", "4")]);
    let mut conn = RawConn::connect(server.port());
    assert_eq!(conn.roundtrip(b"SELECT 3\r\n"), b"+OK\r\n");
    assert_eq!(
        conn.roundtrip(b"SELECT 4\r\n"),
        b"-ERR DB index is out of range\r\n"
    );
    assert_eq!(conn.roundtrip(b"DBSIZE\r\n"), b":0\r\n");
    assert_eq!(conn.roundtrip(b"SWAPDB 0 3\r\n"), b"+OK\r\n");
    assert_eq!(conn.roundtrip(b"FLUSHDB ASYNC\r\n"), b"+OK\r\n");
    assert_eq!(conn.roundtrip(b"FLUSHALL SYNC\r\n"), b"+OK\r\n");
    let time = String::from_utf8(conn.roundtrip(b"TIME\r\n")).unwrap();
    assert!(time.starts_with("*2\r\n$10\r\n"), "{time}");
}

#[test]
fn maxclients_refuses_extra_connections_with_redis_error() {
    let server = TestServer::start(&[("maxclients", "2")]);
    let mut first = RawConn::connect(server.port());
    let mut second = RawConn::connect(server.port());
    assert_eq!(first.roundtrip(b"PING\r\n"), b"+PONG\r\n");
    assert_eq!(second.roundtrip(b"PING\r\n"), b"+PONG\r\n");
    let mut third = RawConn::connect(server.port());
    assert_eq!(
        third.read_reply(),
        b"-ERR max number of clients reached\r\n"
    );
    assert!(third.is_closed());
    let stats = redis_tests_info(&mut first);
    assert_eq!(
        info_field(&stats, "rejected_connections").as_deref(),
        Some("1")
    );
}

fn redis_tests_info(conn: &mut RawConn) -> String {
    let reply = conn.roundtrip(b"INFO stats\r\n");
    String::from_utf8(reply).unwrap()
}

#[test]
fn idle_clients_are_closed_after_timeout() {
    let server = TestServer::start(&[("timeout", "1")]);
    let mut idle = RawConn::connect(server.port());
    assert_eq!(idle.roundtrip(b"PING\r\n"), b"+PONG\r\n");
    let started = Instant::now();
    assert!(idle.is_closed(), "the idle client is closed");
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[test]
fn info_commandstats_counts_calls_rejections_and_failures() {
    let server = TestServer::start(&[]);
    let mut conn = RawConn::connect(server.port());
    conn.send(b"CONFIG RESETSTAT\r\nPING\r\nPING\r\nECHO\r\nSELECT 99\r\n");
    for _ in 0..5 {
        conn.read_reply();
    }
    let report = String::from_utf8(conn.roundtrip(b"INFO commandstats\r\n")).unwrap();
    assert!(report.contains("# Commandstats\r\n"), "{report}");
    let line = |name: &str| {
        report
            .split("\r\n")
            .find(|l| l.starts_with(&format!("cmdstat_{name}:")))
            .unwrap_or_else(|| panic!("no {name} in {report}"))
            .to_string()
    };
    assert!(
        line("ping").starts_with("cmdstat_ping:calls=2,usec="),
        "{report}"
    );
    assert!(line("ping").ends_with(",rejected_calls=0,failed_calls=0"));
    assert_eq!(
        line("echo"),
        "cmdstat_echo:calls=0,usec=0,usec_per_call=0.00,rejected_calls=1,failed_calls=0"
    );
    assert!(line("select").ends_with(",rejected_calls=0,failed_calls=1"));
    assert!(line("config|resetstat").starts_with("cmdstat_config|resetstat:calls=1,"));
    let default = String::from_utf8(conn.roundtrip(b"INFO\r\n")).unwrap();
    assert!(
        !default.contains("cmdstat_"),
        "commandstats is not a default section"
    );
    let all = String::from_utf8(conn.roundtrip(b"INFO all\r\n")).unwrap();
    assert!(all.contains("cmdstat_ping:"));
}

#[test]
fn expired_keys_are_removed_actively_and_counted() {
    let server = TestServer::start(&[("hz", "100")]);
    let mut conn = RawConn::connect(server.port());
    for i in 0..50 {
        let set = format!("SET key{i} v PX 20\r\n");
        assert_eq!(conn.roundtrip(set.as_bytes()), b"+OK\r\n");
    }
    assert_eq!(conn.roundtrip(b"SET forever v\r\n"), b"+OK\r\n");
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        // DBSIZE counts keys not yet removed, so it drops only through the
        // active expiry cycle (nothing here touches the keys).
        if conn.roundtrip(b"DBSIZE\r\n") == b":1\r\n" {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "active expiry did not remove the keys"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let stats = String::from_utf8(conn.roundtrip(b"INFO stats\r\n")).unwrap();
    assert_eq!(info_field(&stats, "expired_keys").as_deref(), Some("50"));

    // A key read after its deadline is expired lazily and counted too.
    assert_eq!(conn.roundtrip(b"CONFIG SET hz 1\r\n"), b"+OK\r\n");
    assert_eq!(conn.roundtrip(b"SET lazy v PX 1\r\n"), b"+OK\r\n");
    std::thread::sleep(Duration::from_millis(10));
    assert_eq!(conn.roundtrip(b"GET lazy\r\n"), b"$-1\r\n");
    let stats = String::from_utf8(conn.roundtrip(b"INFO stats\r\n")).unwrap();
    assert_eq!(info_field(&stats, "expired_keys").as_deref(), Some("51"));
    let keyspace = String::from_utf8(conn.roundtrip(b"INFO keyspace\r\n")).unwrap();
    assert!(
        keyspace.contains("db0:keys=1,expires=0,avg_ttl=0\r\n"),
        "{keyspace}"
    );
}
