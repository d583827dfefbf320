//! The oracle harness itself: redis-server starts and answers byte-exact replies.

#[test]
fn oracle_answers_ping_and_protocol_errors() {
    let Some(redis) = redigo_tests::oracle() else {
        return;
    };
    let mut conn = redis.connect();
    assert_eq!(conn.roundtrip(b"PING\r\n"), b"+PONG\r\n");
    assert_eq!(conn.command(&[b"SET", b"k", b"v"]), b"+OK\r\n");
    assert_eq!(conn.command(&[b"GET", b"k"]), b"$1\r\nv\r\n");
    assert_eq!(conn.command(&[b"GET", b"missing"]), b"$-1\r\n");
    assert_eq!(
        conn.roundtrip(b"*1\r\n$x\r\n"),
        b"-ERR Protocol error: invalid bulk length\r\n"
    );
    assert!(
        conn.is_closed(),
        "redis closes the connection after a protocol error"
    );
}

#[test]
fn oracle_with_a_password_starts_and_requires_auth() {
    let Some(redis) = redigo_tests::oracle_with_args(&["--requirepass", "pw"]) else {
        return;
    };
    let mut conn = redis.connect();
    assert_eq!(
        conn.command(&[b"GET", b"k"]),
        b"-NOAUTH Authentication required.\r\n"
    );
    assert_eq!(conn.command(&[b"AUTH", b"pw"]), b"+OK\r\n");
    assert_eq!(conn.command(&[b"GET", b"k"]), b"$-1\r\n");
}
