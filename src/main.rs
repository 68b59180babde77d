//! The `kmodpack` command: parses arguments, runs one subcommand, and renders
//! any error once, as a single line on standard error.

// No panics on what comes from outside (issue #15; see Cargo.toml [lints]).
#![deny(clippy::unwrap_used, clippy::expect_used)]

use std::process::ExitCode;

mod cli;

fn main() -> ExitCode {
    let args = cli::Cli::parse_args();
    // A dependency generator call (rpm <= 4.19 makes two per packaged file)
    // starts no process and leaves no scratch behind: the default action of
    // SIGINT/SIGTERM is right for it, and the watcher thread would cost it a
    // thread start each time.
    if !args.is_dependency_generator() {
        kmodpack::cleanup::install();
    }
    let result = cli::run(args);
    kmodpack::cleanup::wait_if_interrupted();
    match result {
        Ok(code) => code,
        Err(err) => {
            if cli::is_broken_pipe(err.as_ref()) {
                return ExitCode::SUCCESS;
            }
            eprintln!("kmodpack: error: {}", cli::render_error(err.as_ref()));
            ExitCode::from(2)
        }
    }
}
