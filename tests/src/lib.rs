//! Cross-crate integration tests (in `tests/tests/`) and the harness that runs
//! Debian's `redis-server` as the oracle Redigo is compared against.
//!
//! The library half depends on nothing of ours, so any crate may list it as a
//! dev-dependency without creating a cycle. It offers:
//!
//! * [`oracle`]: start a throw-away `redis-server` on a free loopback port. When
//!   the binary is missing the test is skipped with a printed reason on a
//!   laptop, but **fails** under CI (`CI` set), as the project rules require.
//! * [`RawConn`]: a blocking TCP connection that sends raw bytes and reads back
//!   exactly one RESP2 reply, for byte-level protocol comparisons.
//! * [`free_port`] and [`wait_for_port`] for starting servers under test.
//!
//! ```no_run
//! let Some(redis) = redigo_tests::oracle() else { return };
//! let mut conn = redis.connect();
//! assert_eq!(conn.roundtrip(b"PING\r\n"), b"+PONG\r\n");
//! ```

mod oracle;
mod raw_conn;

pub use oracle::{
    Oracle, free_port, oracle, oracle_loading_aof, oracle_required, oracle_with_args,
    redis_server_command, tool_available, wait_for_port, wait_until_loaded,
};
pub use raw_conn::RawConn;
