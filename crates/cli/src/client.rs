//! The client session: connecting (with `AUTH` and `SELECT`), sending
//! commands, printing replies, and tracking the state redis-cli tracks.
//!
//! This mirrors redis-cli's `cliConnect`, `issueCommandRepeat`,
//! `cliSendCommand` and `cliReadReply`:
//!
//! * The connection is lazy and self-healing: a command sent while
//!   disconnected first reconnects (printing `Could not connect to Redis at
//!   ...` on failure), and a connection lost mid-command prints
//!   `Error: Server closed the connection` and is dropped, so the prompt turns
//!   into `not connected> ` until the next command reconnects.
//! * Successful `SELECT`, `MULTI`/`EXEC`/`DISCARD` and `RESET` update the
//!   database number and transaction flag that the prompt shows, and a
//!   reconnect re-selects the database the user chose.
//! * Replies are printed with [`crate::format`], the verbatim commands
//!   (`INFO`, ...) raw.

use std::io::{self, Write};
use std::time::Duration;

use redigo_resp::Frame;

use crate::c_number;
use crate::connection::{Connection, ConnectionError};
use crate::format::{self, OutputMode};
use crate::help;
use crate::settings::Settings;

/// Commands after which the server keeps pushing messages: the client
/// prints replies until the connection ends.
const STREAMING_COMMANDS: [&str; 4] = ["monitor", "subscribe", "psubscribe", "ssubscribe"];
/// The subset that enters Pub/Sub mode, which redis-cli announces (except
/// in raw output) with [`PUBSUB_BANNER`].
const PUBSUB_COMMANDS: [&str; 3] = ["subscribe", "psubscribe", "ssubscribe"];
/// redis-cli's announcement of Pub/Sub mode.
const PUBSUB_BANNER: &[u8] = b"Reading messages... (press Ctrl-C to quit)\n";

/// Whether [`Client::connect`] replaces an open connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reconnect {
    /// Keep an open connection; connect only when there is none.
    IfDisconnected,
    /// Always open a new connection (redis-cli's `CC_FORCE`).
    Always,
}

/// Whether [`Client::connect`] reports a connection that cannot be made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectErrors {
    /// Print `Could not connect to Redis at ...` to stderr.
    Print,
    /// Say nothing (redis-cli's `CC_QUIET`): the caller retries and reports.
    Silent,
}

/// Where commands come from, which decides what an error reply does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interaction {
    /// The command line (and `--pipe`): under `-e` an error reply ends the
    /// run with status 1.
    OneShot,
    /// The prompt or scripted stdin (redis-cli's `config.interactive`):
    /// error replies are printed and the session goes on.
    Interactive,
}

/// A command failed and the failure was already reported to the user
/// (connection error, or an error reply under `-e`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Failed;

/// The client state.
#[derive(Debug)]
pub struct Client {
    settings: Settings,
    connection: Option<Connection>,
    /// The database the connection is on (redis-cli's `dbnum`).
    db: i64,
    /// The database the user asked for (`-n`, or the last `SELECT`).
    wanted_db: i64,
    in_multi: bool,
    db_before_multi: i64,
    interaction: Interaction,
}

impl Client {
    /// A disconnected client.
    pub fn new(settings: Settings, interaction: Interaction) -> Client {
        let wanted_db = settings.db;
        Client {
            settings,
            connection: None,
            db: 0,
            wanted_db,
            in_multi: false,
            db_before_multi: 0,
            interaction,
        }
    }

    /// The resolved settings.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Hands the open connection over (to `--pipe`), leaving the client
    /// disconnected.
    pub fn take_connection(&mut self) -> Option<Connection> {
        self.connection.take()
    }

    /// Whether a connection is open.
    pub fn is_connected(&self) -> bool {
        self.connection.is_some()
    }

    /// redis-cli's prompt: `127.0.0.1:6379[2](TX)> `, or `redis
    /// /path/to.sock> ` over a Unix socket.
    pub fn prompt(&self) -> String {
        let mut prompt = match &self.settings.socket {
            Some(path) => format!("redis {}", path.display()),
            None => self.settings.address(),
        };
        if self.db != 0 {
            prompt.push_str(&format!("[{}]", self.db));
        }
        if self.in_multi {
            prompt.push_str("(TX)");
        }
        prompt.push_str("> ");
        prompt
    }

    /// Points the client at another server (the REPL's `connect host port`).
    pub fn set_address(&mut self, host: String, port: u16) {
        self.settings.host = host;
        self.settings.port = port;
        self.settings.socket = None;
    }

    /// Opens a connection (see [`Reconnect`]), then authenticates and
    /// selects the database. `AUTH`/`SELECT` failures are always printed and
    /// leave the connection open, as with redis-cli: the next command then
    /// shows the server's `NOAUTH` error.
    pub fn connect(&mut self, reconnect: Reconnect, errors: ConnectErrors) -> Result<(), Failed> {
        if self.connection.is_some() && reconnect == Reconnect::IfDisconnected {
            return Ok(());
        }
        self.connection = None;
        self.db = 0;
        self.in_multi = false;
        let connection = Connection::open(&self.settings.endpoint());
        let connection = match connection {
            Ok(connection) => self.connection.insert(connection),
            Err(error) => {
                if errors == ConnectErrors::Print {
                    eprintln!("{error}");
                }
                return Err(Failed);
            }
        };
        if let Some(password) = &self.settings.password {
            let mut auth: Vec<&[u8]> = vec![b"AUTH"];
            if let Some(user) = &self.settings.user {
                auth.push(user);
            }
            auth.push(password);
            match connection.command(&auth) {
                Ok(Frame::Error(message)) => {
                    eprintln!("AUTH failed: {}", String::from_utf8_lossy(&message));
                    return Err(Failed);
                }
                Ok(_) => {}
                Err(_) => {
                    eprintln!("\nI/O error");
                    return Err(Failed);
                }
            }
        }
        self.select_wanted_db()
    }

    /// Sends `SELECT` when the connection is not on the chosen database.
    fn select_wanted_db(&mut self) -> Result<(), Failed> {
        if self.wanted_db == self.db {
            return Ok(());
        }
        let Some(connection) = self.connection.as_mut() else {
            return Err(Failed);
        };
        let db = self.wanted_db.to_string();
        match connection.command(&["SELECT", db.as_str()]) {
            Ok(Frame::Error(message)) => {
                eprintln!("SELECT {db} failed: {}", String::from_utf8_lossy(&message));
                Err(Failed)
            }
            Ok(_) => {
                self.db = self.wanted_db;
                Ok(())
            }
            Err(_) => {
                eprintln!("\nI/O error");
                Err(Failed)
            }
        }
    }

    /// Sends `args` `repeat` times (negative: forever), printing every reply
    /// (redis-cli's `issueCommandRepeat`). `help` and `?` are answered
    /// locally.
    pub fn issue(&mut self, args: &[Vec<u8>], repeat: i64) -> Result<(), Failed> {
        let Some(name) = args.first() else {
            return Ok(());
        };
        if name.eq_ignore_ascii_case(b"help") || name.as_slice() == b"?" {
            help::print(self, &args[1..]);
            return Ok(());
        }
        if self.connection.is_none() {
            self.connect(Reconnect::Always, ConnectErrors::Print)?;
        }
        match self.send_repeatedly(args, repeat) {
            Ok(result) => result,
            Err(error) => {
                eprintln!("Error: {error}");
                self.connection = None;
                Err(Failed)
            }
        }
    }

    /// Sends a command on the open connection and returns its reply,
    /// without printing; `None` when disconnected or on I/O errors (the
    /// connection is then dropped). Used for help lookups.
    pub fn query(&mut self, args: &[&str]) -> Option<Frame> {
        let connection = self.connection.as_mut()?;
        match connection.command(args) {
            Ok(frame) => Some(frame),
            Err(_) => {
                self.connection = None;
                None
            }
        }
    }

    /// The loop of `cliSendCommand`. The outer error is a lost connection;
    /// the inner one an error reply under `-e`.
    fn send_repeatedly(
        &mut self,
        args: &[Vec<u8>],
        repeat: i64,
    ) -> Result<Result<(), Failed>, ConnectionError> {
        let verbatim = format::is_verbatim_command(args);
        let is = |word: &str| args[0].eq_ignore_ascii_case(word.as_bytes());
        let shutdown = is("shutdown");
        let streaming = STREAMING_COMMANDS.iter().any(|word| is(word));
        let announce_pubsub =
            PUBSUB_COMMANDS.iter().any(|word| is(word)) && self.settings.output != OutputMode::Raw;
        let mut remaining = repeat;
        while remaining != 0 {
            if remaining > 0 {
                remaining -= 1;
            }
            let Some(connection) = self.connection.as_mut() else {
                return Err(ConnectionError::Closed);
            };
            connection.send(args)?;
            if announce_pubsub {
                write_stdout(PUBSUB_BANNER);
            }
            let reply = match connection.read_reply() {
                Err(ConnectionError::Closed) if shutdown => {
                    // The server went away as asked: nothing to print.
                    self.connection = None;
                    return Ok(Ok(()));
                }
                other => other?,
            };
            if let Frame::Error(message) = &reply {
                if self.interaction == Interaction::OneShot && self.settings.error_exit_code {
                    let mut stderr = io::stderr().lock();
                    let _ = stderr.write_all(message);
                    let _ = stderr.write_all(b"\n");
                    return Ok(Err(Failed));
                }
            }
            self.print_reply(&reply, verbatim);
            self.track_state(args, &reply);
            if streaming {
                self.print_pushed_messages()?;
            }
            if !self.settings.interval.is_zero() {
                std::thread::sleep(self.settings.interval);
            }
        }
        Ok(Ok(()))
    }

    /// After `MONITOR` or `SUBSCRIBE`, prints whatever the server sends
    /// until the connection ends.
    fn print_pushed_messages(&mut self) -> Result<(), ConnectionError> {
        loop {
            let Some(connection) = self.connection.as_mut() else {
                return Err(ConnectionError::Closed);
            };
            let reply = connection.read_reply()?;
            self.print_reply(&reply, false);
        }
    }

    /// Prints a reply in the configured output mode.
    pub fn print_reply(&self, reply: &Frame, verbatim: bool) {
        let settings = &self.settings;
        write_stdout(&format::format_reply(
            reply,
            settings.output,
            &settings.delimiters,
            verbatim,
        ));
    }

    /// Tracks what the prompt shows (`cliSendCommand` after a reply).
    fn track_state(&mut self, args: &[Vec<u8>], reply: &Frame) {
        let is = |word: &str| args[0].eq_ignore_ascii_case(word.as_bytes());
        let failed = matches!(reply, Frame::Error(_));
        let single = args.len() == 1;
        if is("select") && args.len() == 2 && !failed {
            let db = c_number::atoi(&args[1]);
            self.wanted_db = db;
            self.db = db;
        } else if is("auth") && (args.len() == 2 || args.len() == 3) {
            // A new identity may be allowed a different database.
            let _ = self.select_wanted_db();
        } else if is("multi") && single && !failed {
            self.in_multi = true;
            self.db_before_multi = self.db;
        } else if is("exec") && single && self.in_multi {
            self.in_multi = false;
            if failed || matches!(reply, Frame::NullArray | Frame::Null) {
                self.db = self.db_before_multi;
                self.wanted_db = self.db;
            }
        } else if is("discard") && single && !failed {
            self.in_multi = false;
            self.db = self.db_before_multi;
            self.wanted_db = self.db;
        } else if is("reset") && single && !failed {
            self.db = 0;
            self.wanted_db = 0;
            self.in_multi = false;
        }
    }

    /// The output mode replies are printed in.
    pub fn output_mode(&self) -> OutputMode {
        self.settings.output
    }
}

/// Writes to stdout and flushes (redis-cli flushes after every reply so its
/// output can be piped into `grep`). A closed stdout ends the process, as
/// SIGPIPE ends redis-cli: `redigo-cli -r -1 ping | head -1` must stop.
pub fn write_stdout(bytes: &[u8]) {
    let mut stdout = io::stdout().lock();
    if let Err(error) = stdout.write_all(bytes).and_then(|()| stdout.flush()) {
        if error.kind() == io::ErrorKind::BrokenPipe {
            std::process::exit(1);
        }
    }
}

/// How long a command must take before the REPL prints its duration.
pub const SLOW_COMMAND_REPORT: Duration = Duration::from_millis(500);
