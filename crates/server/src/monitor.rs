//! `MONITOR`: every executed command streamed to the monitoring clients, in
//! Redis 7.0's line format (`replicationFeedMonitors`):
//!
//! ```text
//! +1700000000.123456 [0 127.0.0.1:5555] "set" "k" "v"
//! ```
//!
//! the wall-clock time in seconds and microseconds, the database the
//! client has selected after the command, the client's address, and the
//! arguments as received, each quoted as Redis's `sdscatrepr`. `AUTH`'s
//! arguments and `HELLO`'s `AUTH` credentials read `"(redacted)"`.
//!
//! The dispatcher feeds a command after it ran (Redis's `call`), so a
//! command inside `EXEC` is shown before the `EXEC` itself, and commands
//! rejected before running, queued in `MULTI`, flagged `admin` or
//! `skip_monitor` are not shown. A line reaches a monitor through its
//! outbox ([`crate::pubsub::ClientPubSub::queued`]), the same path as a
//! pub/sub message: so it follows the replies already given to that
//! client, and its connection is woken to send it. Monitors fall in the
//! `normal` class of `client-output-buffer-limit`, as in Redis.
//!
//! A client leaves monitor mode only by `RESET` or by closing. While it is a
//! monitor, it may not run commands that touch the keyspace (Redis treats
//! it as a replica: `Replica can't interact with the keyspace`), and
//! `CLIENT PAUSE` does not hold it.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use bytes::{Bytes, BytesMut};

use crate::client::{ClientHandle, ClientState};
use crate::state::ServerState;

/// What a redacted argument reads (Redis's `shared.redacted`).
const REDACTED: &str = "(redacted)";

/// The clients in monitor mode, in the order they entered it.
#[derive(Debug, Default)]
pub struct Monitors {
    /// How many: one atomic load per command while nobody monitors.
    count: AtomicUsize,
    list: Mutex<Vec<(u64, ClientHandle)>>,
}

impl Monitors {
    fn lock(&self) -> MutexGuard<'_, Vec<(u64, ClientHandle)>> {
        self.list.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Adds a client (by id, with its handle).
    pub fn add(&self, id: u64, handle: ClientHandle) {
        let mut list = self.lock();
        list.push((id, handle));
        self.count.store(list.len(), Ordering::Release);
    }

    /// Removes a client, if it monitors.
    pub fn remove(&self, id: u64) {
        let mut list = self.lock();
        list.retain(|(monitor, _)| *monitor != id);
        self.count.store(list.len(), Ordering::Release);
    }

    /// Whether any client monitors.
    pub fn any(&self) -> bool {
        self.count.load(Ordering::Acquire) > 0
    }
}

/// Streams one executed command of `me` (already locked by its batch) to
/// every monitor. Call only when [`Monitors::any`].
pub fn feed(server: &ServerState, me: &mut ClientState, args: &[Bytes]) {
    let line = format_line(SystemTime::now(), me, args);
    let monitors: Vec<(u64, ClientHandle)> = server.monitors.lock().clone();
    let limit = server.config().client_output_buffer_limit;
    for (id, handle) in monitors {
        if id == me.id {
            // A monitor's own command (CLIENT INFO...): its state is
            // already locked, and its batch drains the outbox.
            me.pubsub.queued.extend_from_slice(&line);
            continue;
        }
        let mut state = handle.lock();
        if state.kill_requested || state.reply.off {
            // Redis adds nothing for a client being closed or with
            // replies off.
            continue;
        }
        state.pubsub.queued.extend_from_slice(&line);
        let class_limit = limit.get(state.limit_class());
        if (state.output_list_bytes() > 0 || state.soft_limit_since.is_some())
            && state.output_limit_reached(&class_limit, false, Instant::now())
        {
            handle.close_for_output_limit(&mut state, &server.stats);
            continue;
        }
        // Written at the end of the batch (see `crate::delivery`).
        server.pending_writes.push(&handle, &mut state);
    }
}

/// The monitor line of `args` run by `client` at `at`, with its CRLF.
pub fn format_line(at: SystemTime, client: &ClientState, args: &[Bytes]) -> BytesMut {
    let since_epoch = at.duration_since(UNIX_EPOCH).unwrap_or_default();
    let mut line = BytesMut::with_capacity(64 + args.iter().map(|a| a.len() + 3).sum::<usize>());
    line.extend_from_slice(
        format!(
            "+{}.{:06} [{} {}]",
            since_epoch.as_secs(),
            since_epoch.subsec_micros(),
            client.db,
            client.addr
        )
        .as_bytes(),
    );
    let redacted = redacted_positions(args);
    for (index, arg) in args.iter().enumerate() {
        line.extend_from_slice(b" ");
        if redacted.contains(&index) {
            quote_into(&mut line, REDACTED.as_bytes());
        } else {
            quote_into(&mut line, arg);
        }
    }
    line.extend_from_slice(b"\r\n");
    line
}

/// The arguments Redis redacts (`redactClientCommandArgument`): all of
/// `AUTH`'s, and the user name and password after `HELLO`'s `AUTH` token
/// (its options are read in order, `SETNAME` taking one value, until an
/// unknown one).
fn redacted_positions(args: &[Bytes]) -> Vec<usize> {
    let Some(name) = args.first() else {
        return Vec::new();
    };
    if name.eq_ignore_ascii_case(b"auth") {
        return (1..args.len()).collect();
    }
    let mut positions = Vec::new();
    if name.eq_ignore_ascii_case(b"hello") {
        let mut index = 2;
        while index < args.len() {
            let more = args.len() - index - 1;
            if args[index].eq_ignore_ascii_case(b"auth") && more >= 2 {
                positions.extend([index + 1, index + 2]);
                index += 3;
            } else if args[index].eq_ignore_ascii_case(b"setname") && more >= 1 {
                index += 2;
            } else {
                break;
            }
        }
    }
    positions
}

/// Appends `bytes` quoted as Redis's `sdscatrepr`: in double quotes, with
/// `\\ \" \n \r \t \a \b` escaped, other printable ASCII as is, and every
/// other byte as `\xhh`.
pub fn quote_into(out: &mut BytesMut, bytes: &[u8]) {
    out.extend_from_slice(b"\"");
    for &byte in bytes {
        match byte {
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'"' => out.extend_from_slice(b"\\\""),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0x07 => out.extend_from_slice(b"\\a"),
            0x08 => out.extend_from_slice(b"\\b"),
            // C's isprint: space to tilde.
            0x20..=0x7e => out.extend_from_slice(&[byte]),
            _ => out.extend_from_slice(format!("\\x{byte:02x}").as_bytes()),
        }
    }
    out.extend_from_slice(b"\"");
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn line(args: &[&[u8]]) -> String {
        let client = ClientState::new(
            1,
            "127.0.0.1:5555".parse().unwrap(),
            "127.0.0.1:6379".parse().unwrap(),
            -1,
            true,
        );
        let args: Vec<Bytes> = args.iter().map(|a| Bytes::copy_from_slice(a)).collect();
        let at = UNIX_EPOCH + Duration::from_micros(1_700_000_000_000_123);
        String::from_utf8(format_line(at, &client, &args).to_vec()).unwrap()
    }

    #[test]
    fn lines_quote_as_sdscatrepr() {
        assert_eq!(
            line(&[b"SET", b"k", b"v \x01\"\\\n\xff"]),
            "+1700000000.000123 [0 127.0.0.1:5555] \"SET\" \"k\" \"v \\x01\\\"\\\\\\n\\xff\"\r\n"
        );
    }

    #[test]
    fn credentials_are_redacted() {
        assert_eq!(
            line(&[b"auth", b"u", b"p"]),
            "+1700000000.000123 [0 127.0.0.1:5555] \"auth\" \"(redacted)\" \"(redacted)\"\r\n"
        );
        assert!(
            line(&[b"HELLO", b"2", b"SETNAME", b"n", b"AUTH", b"u", b"p"]).ends_with(
                "\"HELLO\" \"2\" \"SETNAME\" \"n\" \"AUTH\" \"(redacted)\" \"(redacted)\"\r\n"
            )
        );
    }
}
