//! `kmodpack dud` (not implemented yet).

use super::{CliResult, Context};

/// Arguments of `kmodpack dud`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Arguments (this subcommand is not implemented yet).
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    rest: Vec<String>,
}

/// Runs `kmodpack dud`.
pub fn run(_args: Args, _ctx: &Context) -> CliResult {
    Err("kmodpack dud is not implemented yet".into())
}
