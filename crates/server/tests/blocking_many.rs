//! 10,000 clients blocked at once, on 10,000 different keys and then all on
//! one key, are all served: every element pushed reaches exactly one client
//! and nothing is left blocked. The server runs as its own process (the
//! `redigo` binary), so the clients' and the server's sockets do not share
//! one open-file limit. Raw sockets; bounded by read timeouts.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Clients blocked at once.
const CLIENTS: usize = 10_000;
/// How long any one step may take before the test fails.
const PATIENCE: Duration = Duration::from_secs(60);

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn encode(args: &[&str]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for arg in args {
        out.extend_from_slice(format!("${}\r\n{arg}\r\n", arg.len()).as_bytes());
    }
    out
}

/// Reads one `*2 key value` reply (or any reply as its lines) as text.
fn read_pair(reader: &mut BufReader<TcpStream>) -> (String, String) {
    let mut line = String::new();
    reader.read_line(&mut line).expect("reply header");
    assert_eq!(line, "*2\r\n", "a blocked client's reply");
    let mut bulk = || {
        let mut header = String::new();
        reader.read_line(&mut header).expect("bulk header");
        let len: usize = header[1..].trim().parse().expect("bulk length");
        let mut data = vec![0; len + 2];
        reader.read_exact(&mut data).expect("bulk");
        String::from_utf8_lossy(&data[..len]).into_owned()
    };
    (bulk(), bulk())
}

fn info_field(control: &mut BufReader<TcpStream>, field: &str) -> usize {
    control
        .get_mut()
        .write_all(&encode(&["INFO", "clients"]))
        .expect("INFO");
    let mut header = String::new();
    control.read_line(&mut header).expect("INFO header");
    let len: usize = header[1..].trim().parse().expect("INFO length");
    let mut data = vec![0; len + 2];
    control.read_exact(&mut data).expect("INFO body");
    let text = String::from_utf8_lossy(&data).into_owned();
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{field}:")))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no {field} in {text}"))
}

fn until_blocked(control: &mut BufReader<TcpStream>, n: usize) {
    let deadline = Instant::now() + PATIENCE;
    while info_field(control, "blocked_clients") != n {
        assert!(Instant::now() < deadline, "never {n} blocked clients");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn ten_thousand_blocked_clients_on_different_keys_and_on_one_key_are_all_served() {
    // The test process holds the clients' sockets: raise its own limit as
    // the server does for itself.
    let mut wanted = redigo_server::config::Config {
        maxclients: CLIENTS as u32 + 64,
        ..Default::default()
    };
    #[cfg(unix)]
    redigo_server::fd_limit::adjust_open_files_limit(&mut wanted).expect("open-file limit");
    assert!(
        wanted.maxclients as usize >= CLIENTS,
        "this test needs an open-file limit of at least {} (ulimit -n)",
        CLIENTS + 64
    );

    let port = redigo_tests::free_port();
    let _server = Server(
        Command::new(env!("CARGO_BIN_EXE_redigo"))
            .args(["--bind", "127.0.0.1", "--port", &port.to_string()])
            .args(["--maxclients", &(CLIENTS + 100).to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start redigo"),
    );
    assert!(
        redigo_tests::wait_for_port(port, PATIENCE),
        "redigo did not start"
    );
    let connect = || {
        let stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
        stream.set_read_timeout(Some(PATIENCE)).expect("timeout");
        BufReader::new(stream)
    };
    let mut control = connect();
    let mut clients: Vec<BufReader<TcpStream>> = (0..CLIENTS).map(|_| connect()).collect();

    // Each on its own key.
    for (i, client) in clients.iter_mut().enumerate() {
        let key = format!("key:{i}");
        client
            .get_mut()
            .write_all(&encode(&["BLPOP", &key, "0"]))
            .expect("BLPOP");
    }
    until_blocked(&mut control, CLIENTS);
    let mut pushes = Vec::new();
    for i in 0..CLIENTS {
        pushes.extend(encode(&["RPUSH", &format!("key:{i}"), &format!("v{i}")]));
    }
    control.get_mut().write_all(&pushes).expect("pushes");
    for (i, client) in clients.iter_mut().enumerate() {
        assert_eq!(read_pair(client), (format!("key:{i}"), format!("v{i}")));
    }
    for _ in 0..CLIENTS {
        let mut line = String::new();
        control.read_line(&mut line).expect("RPUSH reply");
        assert_eq!(line, ":1\r\n");
    }
    assert_eq!(info_field(&mut control, "blocked_clients"), 0);

    // All on one key: each element reaches exactly one client.
    for client in &mut clients {
        client
            .get_mut()
            .write_all(&encode(&["BRPOP", "queue", "0"]))
            .expect("BRPOP");
    }
    until_blocked(&mut control, CLIENTS);
    let mut pushes = Vec::new();
    for i in 0..CLIENTS {
        pushes.extend(encode(&["LPUSH", "queue", &i.to_string()]));
    }
    control.get_mut().write_all(&pushes).expect("pushes");
    let mut received = BTreeSet::new();
    for client in &mut clients {
        let (key, value) = read_pair(client);
        assert_eq!(key, "queue");
        assert!(received.insert(value.parse::<usize>().expect("a number")));
    }
    assert_eq!(received, (0..CLIENTS).collect::<BTreeSet<_>>());
    for _ in 0..CLIENTS {
        // Each push is served before the next runs: the list never grows.
        let mut line = String::new();
        control.read_line(&mut line).expect("LPUSH reply");
        assert_eq!(line, ":1\r\n");
    }
    assert_eq!(info_field(&mut control, "blocked_clients"), 0);
}
