//! `redigo-cli`: a command-line client for Redigo (and any Redis server)
//! that behaves like `redis-cli` 7.0, down to the bytes it prints.
//!
//! Five modes, chosen as redis-cli chooses them:
//!
//! * **one-shot**: `redigo-cli set k v` sends the command (`-r`/`-i` repeat
//!   it, `-x` takes the last argument from stdin) and prints the reply;
//! * **interactive** ([`repl`]): no command and stdin is a terminal;
//! * **scripted** ([`script`]): no command and stdin is not a terminal, so
//!   each stdin line is a command;
//! * **mass insertion** ([`pipe`]): `--pipe` streams raw RESP from stdin;
//! * **key listing** ([`scan`]): `--scan [--pattern <glob>]`.
//!
//! Replies are printed by [`mod@format`] in redis-cli's terminal form, its raw
//! form (the default when stdout is not a terminal) or CSV, so scripts
//! written against redis-cli's output keep working. The server is reached
//! over TCP or a Unix socket ([`transport`]).
//!
//! ```
//! use bytes::Bytes;
//! use redigo_cli::format::{format_reply, OutputMode, RawDelimiters};
//! use redigo_resp::Frame;
//!
//! let reply = Frame::Array(vec![
//!     Frame::Bulk(Bytes::from_static(b"hello\x00")),
//!     Frame::Integer(42),
//!     Frame::Null,
//! ]);
//! let delimiters = RawDelimiters::default();
//! assert_eq!(
//!     format_reply(&reply, OutputMode::Standard, &delimiters, false),
//!     b"1) \"hello\\x00\"\n2) (integer) 42\n3) (nil)\n"
//! );
//! assert_eq!(
//!     format_reply(&reply, OutputMode::Raw, &delimiters, false),
//!     b"hello\x00\n42\n\n"
//! );
//! ```
//!
//! The binary's `main` only parses [`Options`] and calls [`run`].

pub mod c_number;
pub mod client;
pub mod connection;
pub mod format;
pub mod help;
pub mod hints;
pub mod line;
pub mod options;
pub mod pipe;
pub mod repl;
pub mod scan;
pub mod script;
pub mod settings;
pub mod transport;
pub mod uri;

use std::io::{self, IsTerminal, Read};

pub use client::{Client, ConnectErrors, Interaction, Reconnect};
pub use options::Options;
pub use settings::Settings;

/// Exit status for success.
const EXIT_OK: u8 = 0;
/// Exit status for every failure (redis-cli uses 1 throughout).
const EXIT_FAILURE: u8 = 1;

/// Runs the client as the command line asks and returns the exit status.
pub fn run(options: Options) -> u8 {
    let settings = match Settings::resolve(
        options,
        |name| std::env::var_os(name),
        io::stdout().is_terminal(),
    ) {
        Ok(settings) => settings,
        Err(error) => {
            eprintln!("{error}");
            return EXIT_FAILURE;
        }
    };
    if settings.warn_about_password {
        eprintln!("{}", settings::PASSWORD_WARNING);
    }
    if settings.pipe {
        run_pipe(settings)
    } else if settings.scan {
        run_scan(settings)
    } else if settings.command.is_empty() {
        run_interactive(settings)
    } else {
        run_one_shot(settings)
    }
}

/// `--pipe`: connect (authenticated, database selected) and stream stdin.
fn run_pipe(settings: Settings) -> u8 {
    let timeout = settings.pipe_timeout;
    let mut client = Client::new(settings, Interaction::OneShot);
    if client
        .connect(Reconnect::IfDisconnected, ConnectErrors::Print)
        .is_err()
    {
        return EXIT_FAILURE;
    }
    let Some(connection) = client.take_connection() else {
        return EXIT_FAILURE;
    };
    match pipe::run(connection, io::stdin(), timeout) {
        Ok(summary) if summary.errors == 0 => EXIT_OK,
        Ok(_) => EXIT_FAILURE,
        Err(error) => {
            eprintln!("{error}");
            EXIT_FAILURE
        }
    }
}

/// `--scan`: connect (authenticated, database selected) and list keys.
fn run_scan(settings: Settings) -> u8 {
    let (pattern, output, interval) =
        (settings.pattern.clone(), settings.output, settings.interval);
    let mut client = Client::new(settings, Interaction::OneShot);
    if client
        .connect(Reconnect::IfDisconnected, ConnectErrors::Print)
        .is_err()
    {
        return EXIT_FAILURE;
    }
    let Some(mut connection) = client.take_connection() else {
        return EXIT_FAILURE;
    };
    match scan::run(&mut connection, pattern.as_deref(), output, interval) {
        Ok(()) => EXIT_OK,
        Err(error) => {
            eprintln!("{error}");
            EXIT_FAILURE
        }
    }
}

/// No command: the prompt on a terminal, one command per line otherwise.
/// A server that cannot be reached is reported, and every command retries.
fn run_interactive(settings: Settings) -> u8 {
    let mut client = Client::new(settings, Interaction::Interactive);
    let _ = client.connect(Reconnect::IfDisconnected, ConnectErrors::Print);
    if io::stdin().is_terminal() {
        if let Err(error) = repl::run(&mut client) {
            eprintln!("redigo-cli: cannot use the terminal: {error}");
            return EXIT_FAILURE;
        }
    } else if let Err(error) = script::run(&mut client, io::stdin().lock()) {
        eprintln!(
            "Error reading from stdin: {}",
            connection::describe_io_error(&error)
        );
        return EXIT_FAILURE;
    }
    EXIT_OK
}

/// A command on the command line: exit status 1 when it could not be sent
/// (or, with `-e`, when the server answered with an error).
fn run_one_shot(settings: Settings) -> u8 {
    let mut args = settings.command.clone();
    let repeat = settings.repeat;
    if settings.last_arg_from_stdin {
        let mut last = Vec::new();
        if let Err(error) = io::stdin().lock().read_to_end(&mut last) {
            eprintln!(
                "Error reading from stdin: {}",
                connection::describe_io_error(&error)
            );
            return EXIT_FAILURE;
        }
        args.push(last);
    }
    let mut client = Client::new(settings, Interaction::OneShot);
    // Quiet: a refused connection is reported once, by the retry in `issue`.
    let _ = client.connect(Reconnect::IfDisconnected, ConnectErrors::Silent);
    match client.issue(&args, repeat) {
        Ok(()) => EXIT_OK,
        Err(client::Failed) => EXIT_FAILURE,
    }
}
