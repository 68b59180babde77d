//! `kmodpack spec` (not implemented yet).

use super::{CliResult, Context};

/// Arguments of `kmodpack spec`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Arguments (this subcommand is not implemented yet).
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    rest: Vec<String>,
}

/// Runs `kmodpack spec`.
pub fn run(_args: Args, _ctx: &Context) -> CliResult {
    Err("kmodpack spec is not implemented yet".into())
}
