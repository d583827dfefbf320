//! COMMAND INFO / DOCS / COUNT / LIST / GETKEYS for every command Redigo
//! implements are byte-identical to redis-server 7.0's, so that redis-cli's
//! hints and client libraries' command tables work.

mod support;

use redigo_server::commands::CommandTable;
use redigo_server::testing::TestServer;
use redigo_tests::RawConn;
use support::Pair;

/// Every non-container command and every subcommand, by full name.
fn leaf_names() -> Vec<&'static str> {
    let table = CommandTable::standard();
    let mut names = Vec::new();
    for spec in table.iter() {
        if spec.subcommands.is_empty() {
            names.push(spec.name);
        } else {
            names.extend(spec.subcommands.iter().map(|s| s.name));
        }
    }
    names.sort_unstable();
    names
}

#[test]
fn command_info_and_docs_match_redis_for_every_leaf_command() {
    let pair = Pair::start();
    for name in leaf_names() {
        pair.same_command(&[b"COMMAND", b"INFO", name.as_bytes()]);
        pair.same_command(&[b"COMMAND", b"DOCS", name.as_bytes()]);
    }
}

/// `COMMAND GETKEYS` cases for key-position shapes: single key, ranges with
/// steps, all-but-last, and commands with options after the keys.
const GETKEYS_CASES: &[&[&str]] = &[
    &["GET", "k"],
    &["SET", "k", "v", "EX", "10"],
    &["SET", "k", "v", "GET"],
    &["SET", "k", "v", "NX", "get", "PX", "5"],
    &["MSET", "a", "1", "b", "2", "c", "3"],
    &["MSETNX", "a", "1", "b", "2"],
    &["MGET", "a", "b", "c"],
    &["DEL", "a", "b", "c"],
    &["EXISTS", "a", "a"],
    &["RENAME", "a", "b"],
    &["COPY", "a", "b", "DB", "1", "REPLACE"],
    &["EXPIRE", "k", "10", "NX"],
    &["GETEX", "k", "PERSIST"],
    &["SETRANGE", "k", "0", "v"],
];

#[test]
fn command_getkeys_matches_redis_for_every_key_shape_implemented() {
    let pair = Pair::start();
    let table = CommandTable::standard();
    for case in GETKEYS_CASES {
        if table.get(case[0].as_bytes()).is_none() {
            continue;
        }
        let mut args: Vec<&[u8]> = vec![b"COMMAND", b"GETKEYS"];
        args.extend(case.iter().map(|a| a.as_bytes()));
        pair.same_command(&args);
        args[1] = b"GETKEYSANDFLAGS";
        pair.same_command(&args);
    }
}

#[test]
fn command_getkeys_matches_redis() {
    let pair = Pair::start();
    pair.same_command(&[b"COMMAND", b"GETKEYS", b"MOVE", b"key", b"1"]);
    pair.same_command(&[b"COMMAND", b"GETKEYS", b"nosuch", b"key"]);
    pair.same_command(&[b"COMMAND", b"GETKEYS", b"PING", b"x"]);
    pair.same_command(&[b"COMMAND", b"GETKEYSANDFLAGS", b"MOVE", b"key", b"1"]);
    pair.same_command(&[b"COMMAND", b"HELP"]);
}

#[test]
fn count_list_and_info_agree_with_the_table() {
    let server = TestServer::start(&[]);
    let table = CommandTable::standard();
    let mut conn = RawConn::connect(server.port());
    assert_eq!(
        conn.roundtrip(b"COMMAND COUNT\r\n"),
        format!(":{}\r\n", table.len()).as_bytes()
    );
    let listed = conn.roundtrip(b"COMMAND LIST FILTERBY PATTERN config*\r\n");
    let listed = String::from_utf8(listed).unwrap();
    assert!(listed.contains("$10\r\nconfig|get\r\n"), "{listed}");
    assert!(!listed.contains("ping"), "{listed}");
    let all = conn.roundtrip(b"COMMAND\r\n");
    assert!(all.starts_with(format!("*{}\r\n", table.len()).as_bytes()));
    assert_eq!(
        conn.roundtrip(b"COMMAND INFO nosuch\r\n"),
        b"*1\r\n*-1\r\n",
        "unknown names are null entries"
    );
    assert_eq!(conn.roundtrip(b"COMMAND DOCS nosuch\r\n"), b"*0\r\n");
}
