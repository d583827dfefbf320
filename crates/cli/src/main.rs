//! `redigo-cli`: parses the command line and hands over to the library.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    ExitCode::from(redigo_cli::run(redigo_cli::Options::parse()))
}
