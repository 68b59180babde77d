//! `kmodpack symvers`: Module.symvers lines for the exports of modules.
//!
//! This is what a dependent kmod's build needs as KBUILD_EXTRA_SYMBOLS, and,
//! run over a kernel's module tree with `--root`, it reproduces the module
//! rows of that kernel's Module.symvers.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use kmodpack::{module, scan, symvers};

use super::{CliResult, Context};

/// Arguments of `kmodpack symvers`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Write the module column relative to this directory, without the
    /// `.ko[.gz|.xz|.zst]` suffix (e.g. `--root /lib/modules/KVER/kernel`
    /// gives `drivers/usb/storage/usb-storage`). Without it the column is
    /// the module's file name without suffix.
    #[arg(long, value_name = "DIR")]
    pub root: Option<PathBuf>,

    /// Reader threads (default: number of CPUs, at most 8).
    #[arg(short = 'j', long, value_name = "N")]
    pub jobs: Option<usize>,

    /// Module files or directories to scan for `*.ko[.gz|.xz|.zst]`.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
}

fn module_column(path: &Path, root: Option<&Path>) -> String {
    if let Some(rel) = root.and_then(|r| path.strip_prefix(r).ok()) {
        return module::strip_module_suffix(&rel.to_string_lossy()).to_string();
    }
    module::file_stem(path)
}

/// Runs `kmodpack symvers`.
pub fn run(args: Args, _ctx: &Context) -> CliResult {
    let files = scan::find_modules(&args.paths)?;
    let modules = scan::read_all(&files, args.jobs.unwrap_or_else(scan::default_jobs));
    let mut entries = Vec::new();
    for (path, m) in files.iter().zip(modules) {
        let m = m?;
        entries.extend(symvers::module_entries(
            &m,
            &module_column(path, args.root.as_deref()),
        ));
    }
    entries.sort_by(|a, b| (&a.module, &a.name).cmp(&(&b.module, &b.name)));
    let mut out = String::with_capacity(entries.len() * 64);
    for e in &entries {
        out.push_str(&e.to_line());
    }
    super::print(&out)?;
    Ok(ExitCode::SUCCESS)
}
