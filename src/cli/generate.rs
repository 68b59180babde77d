//! `kmodpack generate man|completions DIR`: artefacts derived from the clap
//! definitions, so the man page and completions never drift from `--help`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::CommandFactory;

use super::{Cli, CliResult, Context};

/// Arguments of `kmodpack generate`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// What to generate.
    #[arg(value_enum)]
    pub what: What,
    /// Directory to write into (created if missing).
    pub dir: PathBuf,
}

/// Generated artefacts.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum What {
    /// `kmodpack.1`, one page per subcommand (with EXAMPLES, EXIT STATUS
    /// and FILES) and `kmodpack-description.5`.
    Man,
    /// bash, zsh and fish completions.
    Completions,
}

/// Runs `kmodpack generate`.
pub fn run(args: Args, _ctx: &Context) -> CliResult {
    std::fs::create_dir_all(&args.dir)
        .map_err(|e| format!("{}: cannot create directory: {e}", args.dir.display()))?;
    let mut cmd = Cli::command();
    match args.what {
        What::Man => {
            super::manpages::write_pages(cmd, &args.dir)
                .map_err(|e| format!("{}: cannot write man pages: {e}", args.dir.display()))?;
        }
        What::Completions => {
            use clap_complete::Shell;
            for shell in [Shell::Bash, Shell::Zsh, Shell::Fish] {
                clap_complete::generate_to(shell, &mut cmd, "kmodpack", &args.dir).map_err(
                    |e| {
                        format!(
                            "{}: cannot write {shell} completions: {e}",
                            args.dir.display()
                        )
                    },
                )?;
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
