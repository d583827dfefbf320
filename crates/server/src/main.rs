//! `redigo`: the server binary, a thin shell over the `redigo_server` library.
//! `redigo check-aof ...` checks or repairs an AOF instead of serving.

use std::process::ExitCode;

use redigo_server::config::{CliOutcome, parse_command_line};
use redigo_server::runtime::ServerRuntime;
use redigo_server::{Server, ServerOptions, aof, logging, shutdown_signal};

fn main() -> ExitCode {
    // `args_os`: `args` would panic on an argument that is not UTF-8.
    let args: Vec<String> = std::env::args_os()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    if args.get(1).map(String::as_str) == Some(aof::check_command::SUBCOMMAND) {
        // `redigo check-aof [--fix] [--yes] FILE`, like redis-check-aof.
        let code = aof::check_command::run(
            &args[2..],
            &mut std::io::stdin().lock(),
            &mut std::io::stdout().lock(),
        );
        return ExitCode::from(u8::try_from(code).unwrap_or(1));
    }
    let (config, config_file) = match parse_command_line(std::env::args_os()) {
        Ok(CliOutcome::Run {
            config,
            config_file,
        }) => (*config, config_file),
        Ok(CliOutcome::Exit { message, code }) => {
            if code == 0 {
                print!("{message}");
            } else {
                eprint!("{message}");
            }
            return ExitCode::from(u8::try_from(code).unwrap_or(1));
        }
        Err(err) => {
            eprintln!("redigo: {err}");
            return ExitCode::FAILURE;
        }
    };
    let log_level_hook = logging::init(config.loglevel);
    let runtime = match ServerRuntime::new(config.io_threads) {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("redigo: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    let options = ServerOptions {
        config_file,
        log_level_hook,
        aof: runtime.aof_options(),
        idle_poll: runtime.idle_poll(),
        ..ServerOptions::default()
    };
    let result = runtime.block_on(async {
        Server::bind(config, options)
            .await?
            .run(shutdown_signal())
            .await
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("redigo: {err}");
            ExitCode::FAILURE
        }
    }
}
