//! Command-line interface: argument definitions (flags are documented where
//! they are defined) and the formatting of results. Each subcommand lives in
//! its own file and exposes `Args` and `run`.

use std::error::Error as StdError;
use std::ffi::OsString;
use std::io::Write;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use kmodpack::diag::StderrListener;

pub mod alias;
pub mod build;
pub mod deps;
pub mod dud;
pub mod generate;
pub mod inspect;
pub mod kabi;
pub mod manpages;
mod progress;
pub mod spec;
pub mod symvers;

/// Result of a subcommand: an exit code, or an error rendered once by `main`.
pub type CliResult = Result<ExitCode, Box<dyn StdError + Send + Sync>>;

/// Package out-of-tree Linux kernel modules as RPMs and ship them to installers.
///
/// kmodpack reads kernel modules of any era, generates rpm's ksym()/kernel()/kmod()
/// dependencies, renders kmod specs from a YAML description, drives rpmbuild or mock,
/// checks kABI compatibility and device aliases, and writes driver update disks that
/// the installer will actually load.
#[derive(Debug, Parser)]
#[command(
    name = "kmodpack",
    version,
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,

    #[command(subcommand)]
    pub command: Command,
}

/// The options of every subcommand.
#[derive(Debug, clap::Args)]
pub struct GlobalArgs {
    /// Print informational messages to standard error.
    #[arg(short, long, global = true)]
    pub verbose: bool,
}

impl Cli {
    /// Parses the process's arguments (exits on errors and for `--help` or
    /// `--version`, as clap does). A generator call (`kmodpack deps
    /// provides|requires|supplements ...`) is parsed with the definition of
    /// that generator alone ([`deps::parse_generator`]); whatever that does
    /// not accept as a run (an error, `--help`, `--version`) is parsed again
    /// with the whole tree, so that help and error messages are those of any
    /// subcommand.
    pub fn parse_args() -> Cli {
        let args: Vec<OsString> = std::env::args_os().collect();
        match deps::parse_generator(&args) {
            Some((global, deps)) => Cli {
                global,
                command: Command::Deps(deps),
            },
            None => Cli::parse_from(args),
        }
    }

    /// True for `deps provides|requires|supplements`, which rpm runs once
    /// per file.
    pub fn is_dependency_generator(&self) -> bool {
        matches!(&self.command, Command::Deps(a) if a.is_generator())
    }
}

/// The subcommands, in the order a release engineer uses them.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Show what a kernel module contains: modinfo, imports, exports, signature.
    Inspect(inspect::Args),
    /// Print Module.symvers lines for the exports of modules or module trees.
    Symvers(symvers::Args),
    /// rpm dependency generator: ksym()/kernel()/kmod() Provides and Requires.
    Deps(deps::Args),
    /// Render a kmod spec from a package description (or import a dkms.conf).
    Spec(spec::Args),
    /// Build binary and source RPMs over a kernel x arch x flavor matrix.
    Build(Box<build::Args>),
    /// Will these modules load on that kernel? (check, diff)
    Kabi(kabi::Args),
    /// List device aliases, or say which modules claim a device.
    Alias(alias::Args),
    /// Build or verify driver update disks for anaconda and SUSE installers.
    Dud(dud::Args),
    /// Generate the man page or shell completions (used by `make install`).
    #[command(hide = true)]
    Generate(generate::Args),
}

/// What every subcommand receives besides its own arguments.
pub struct Context {
    /// Where warnings go.
    pub listener: StderrListener,
}

/// Dispatches to the subcommand.
pub fn run(cli: Cli) -> CliResult {
    let ctx = Context {
        listener: StderrListener {
            verbose: cli.global.verbose,
        },
    };
    match cli.command {
        Command::Inspect(a) => inspect::run(a, &ctx),
        Command::Symvers(a) => symvers::run(a, &ctx),
        Command::Deps(a) => deps::run(a, &ctx),
        Command::Spec(a) => spec::run(a, &ctx),
        Command::Build(a) => build::run(*a, &ctx),
        Command::Kabi(a) => kabi::run(a, &ctx),
        Command::Alias(a) => alias::run(a, &ctx),
        Command::Dud(a) => dud::run(a, &ctx),
        Command::Generate(a) => generate::run(a, &ctx),
    }
}

/// Writes `text` to standard output in one go. A closed pipe (`| head`) is
/// reported as an error that `main` turns into a quiet exit.
pub fn print(text: &str) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()
}

/// Reads the modules named on the command line (files, directories, RPMs)
/// and says on standard error which RPMs were skipped for shipping no
/// modules (SRPMs, -devel, debuginfo), so a glob of a result directory works.
pub fn load_modules(
    paths: &[std::path::PathBuf],
) -> Result<Vec<kmodpack::kabi::LoadedModule>, kmodpack::kabi::InputError> {
    let (mods, note) = kmodpack::kabi::load_noted(paths)?;
    if let Some(n) = note {
        eprintln!("kmodpack: note: {n}");
    }
    Ok(mods)
}

/// One line: the error's message followed by those of its sources that add
/// something new.
pub fn render_error(err: &(dyn StdError + 'static)) -> String {
    let mut msg = err.to_string();
    let mut source = err.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !msg.contains(&text) {
            msg.push_str(": ");
            msg.push_str(&text);
        }
        source = s.source();
    }
    msg.replace('\n', " ")
}

/// True if the error (or one of its sources) is a broken pipe on output.
pub fn is_broken_pipe(err: &(dyn StdError + 'static)) -> bool {
    let mut cur: Option<&(dyn StdError + 'static)> = Some(err);
    while let Some(e) = cur {
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            if io.kind() == std::io::ErrorKind::BrokenPipe {
                return true;
            }
        }
        cur = e.source();
    }
    false
}
