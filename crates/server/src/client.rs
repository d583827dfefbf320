//! Per-connection state and the registry of connected clients.
//!
//! Each connection's [`ClientState`] sits in an `Arc<Mutex<_>>` shared with
//! the [`ClientRegistry`], so `CLIENT LIST` and `CLIENT KILL` can see other
//! clients. Lock order (deadlock freedom): a connection locks its own state
//! only while it holds the keyspace lock, and code that holds no keyspace
//! lock only ever takes a client lock as a leaf (nothing else is locked
//! while holding it). `CLIENT LIST` runs under the keyspace lock, so every
//! other client's state is either unlocked or about to be released by a
//! leaf section.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use tokio::sync::Notify;

/// The state of one connection.
#[derive(Debug)]
pub struct ClientState {
    /// Unique, increasing id (`CLIENT ID`).
    pub id: u64,
    /// The peer's address.
    pub addr: SocketAddr,
    /// Our local address of the connection.
    pub laddr: SocketAddr,
    /// The socket's file descriptor where there is one (-1 elsewhere).
    pub fd: i64,
    /// `CLIENT SETNAME` name, empty when unset.
    pub name: String,
    /// The selected database.
    pub db: usize,
    /// Whether the client may run commands that need authentication.
    pub authenticated: bool,
    /// The protocol version (always 2: RESP3 is refused by `HELLO`).
    pub resp: u8,
    /// When the connection was accepted.
    pub created: Instant,
    /// When the client last sent a command.
    pub last_interaction: Instant,
    /// Full name of the last command run (`cmd=` in `CLIENT LIST`).
    pub last_command: &'static str,
    /// Bytes waiting in the query buffer (`qbuf=`).
    pub query_buffer_len: usize,
    /// Free capacity of the query buffer (`qbuf-free=`).
    pub query_buffer_free: usize,
    /// Set by `CLIENT KILL`: the connection closes after the current batch.
    pub kill_requested: bool,
}

impl ClientState {
    /// A fresh client.
    pub fn new(id: u64, addr: SocketAddr, laddr: SocketAddr, fd: i64, authenticated: bool) -> Self {
        let now = Instant::now();
        ClientState {
            id,
            addr,
            laddr,
            fd,
            name: String::new(),
            db: 0,
            authenticated,
            resp: 2,
            created: now,
            last_interaction: now,
            last_command: "NULL",
            query_buffer_len: 0,
            query_buffer_free: 0,
            kill_requested: false,
        }
    }

    /// One `CLIENT LIST` / `CLIENT INFO` line (without the trailing newline),
    /// with Redis 7.0's fields in Redis 7.0's order.
    pub fn describe(&self, now: Instant) -> String {
        let age = now.duration_since(self.created).as_secs();
        let idle = now.duration_since(self.last_interaction).as_secs();
        format!(
            "id={id} addr={addr} laddr={laddr} fd={fd} name={name} age={age} idle={idle} \
             flags=N db={db} sub=0 psub=0 ssub=0 multi=-1 qbuf={qbuf} qbuf-free={qfree} \
             argv-mem=0 multi-mem=0 rbs={rbs} rbp={rbp} obl=0 oll=0 omem=0 tot-mem={tot} \
             events=r cmd={cmd} user=default redir=-1 resp={resp}",
            id = self.id,
            addr = self.addr,
            laddr = self.laddr,
            fd = self.fd,
            name = self.name,
            db = self.db,
            qbuf = self.query_buffer_len,
            qfree = self.query_buffer_free,
            rbs = self.query_buffer_len + self.query_buffer_free,
            rbp = self.query_buffer_len,
            tot = self.query_buffer_len + self.query_buffer_free,
            cmd = self.last_command,
            resp = self.resp,
        )
    }
}

/// A registered client: its state and the signal that wakes its task when
/// it is killed.
#[derive(Clone, Debug)]
pub struct ClientHandle {
    /// The shared state.
    pub state: Arc<Mutex<ClientState>>,
    /// Notified by `CLIENT KILL`.
    pub kill: Arc<Notify>,
}

impl ClientHandle {
    /// Locks the state, ignoring poisoning (a panicked task leaves plain data).
    pub fn lock(&self) -> MutexGuard<'_, ClientState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Asks the client's connection to close after its current batch.
    pub fn request_kill(&self, state: &mut ClientState) {
        state.kill_requested = true;
        self.kill.notify_one();
    }
}

/// Every connected client, by id.
#[derive(Debug, Default)]
pub struct ClientRegistry {
    clients: Mutex<BTreeMap<u64, ClientHandle>>,
    next_id: AtomicU64,
}

impl ClientRegistry {
    /// A fresh client id: ids start at 1 and only increase, as in Redis.
    pub fn next_id(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::Relaxed) + 1
    }

    /// Adds a client.
    pub fn register(&self, handle: ClientHandle, id: u64) {
        self.lock().insert(id, handle);
    }

    /// Removes a client.
    pub fn unregister(&self, id: u64) {
        self.lock().remove(&id);
    }

    /// How many clients are connected.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether no client is connected.
    pub fn is_empty(&self) -> bool {
        self.lock().is_empty()
    }

    /// The connected clients, by increasing id.
    pub fn snapshot(&self) -> Vec<(u64, ClientHandle)> {
        self.lock().iter().map(|(&id, h)| (id, h.clone())).collect()
    }

    fn lock(&self) -> MutexGuard<'_, BTreeMap<u64, ClientHandle>> {
        self.clients.lock().unwrap_or_else(|e| e.into_inner())
    }
}
