//! Robustness at the edges of the network layer: clients over `maxclients`,
//! what the stats count for them, and more.

use std::io::Read;

use redigo_server::testing::TestServer;
use redigo_tests::RawConn;

fn stat(conn: &mut RawConn, section: &str, field: &str) -> String {
    let reply = String::from_utf8(conn.command(&[b"INFO", section.as_bytes()])).expect("utf8");
    reply
        .lines()
        .find_map(|line| line.strip_prefix(&format!("{field}:")).map(str::to_string))
        .unwrap_or_else(|| panic!("no {field} in INFO: {reply}"))
}

/// Redis counts a connection refused for `maxclients` in
/// `rejected_connections` only, not in `total_connections_received`.
#[test]
fn a_refused_connection_is_not_counted_as_received() {
    let server = TestServer::start(&[("maxclients", "1")]);
    let mut first = RawConn::connect(server.port());
    assert_eq!(first.command(&[b"PING"]), b"+PONG\r\n");
    let mut refused = std::net::TcpStream::connect(("127.0.0.1", server.port())).unwrap();
    let mut reply = Vec::new();
    refused.read_to_end(&mut reply).unwrap();
    assert_eq!(reply, b"-ERR max number of clients reached\r\n");
    assert_eq!(stat(&mut first, "stats", "rejected_connections"), "1");
    assert_eq!(stat(&mut first, "stats", "total_connections_received"), "1");
}
