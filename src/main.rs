//! The `kmodpack` command: parses arguments, runs one subcommand, and renders
//! any error once, as a single line on standard error.

// No panics on what comes from outside (issue #15; see Cargo.toml [lints]).
#![deny(clippy::unwrap_used, clippy::expect_used)]

use std::process::ExitCode;

use clap::Parser;

mod cli;

fn main() -> ExitCode {
    kmodpack::cleanup::install();
    let args = cli::Cli::parse();
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
