//! `kmodpack inspect` (not implemented yet).

use super::{CliResult, Context};

/// Arguments of `kmodpack inspect`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Arguments.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    rest: Vec<String>,
}

/// Runs `kmodpack inspect`.
pub fn run(_args: Args, _ctx: &Context) -> CliResult {
    Err("kmodpack inspect is not implemented yet".into())
}
