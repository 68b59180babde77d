//! `kmodpack build` (not implemented yet).

use super::{CliResult, Context};

/// Arguments of `kmodpack build`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Arguments (this subcommand is not implemented yet).
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    rest: Vec<String>,
}

/// Runs `kmodpack build`.
pub fn run(_args: Args, _ctx: &Context) -> CliResult {
    Err("kmodpack build is not implemented yet".into())
}
