//! `kmodpack symvers` (not implemented yet).

use super::{CliResult, Context};

/// Arguments of `kmodpack symvers`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Arguments.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    rest: Vec<String>,
}

/// Runs `kmodpack symvers`.
pub fn run(_args: Args, _ctx: &Context) -> CliResult {
    Err("kmodpack symvers is not implemented yet".into())
}
