//! Driver update disks for anaconda (RHEL, Rocky, Alma, Fedora) and SUSE
//! linuxrc, refusing disks the installer would silently ignore.
//!
//! The installer gives no diagnostics, so every rule it applies is checked
//! here before anything is written; each rule is a [`rule::Rule`]
//! (`kmodpack dud explain CODE`, docs/checklist.md):
//!
//! * package facts: [`package`] (reading an input RPM once: header,
//!   modules, role);
//! * pure decisions: [`rpmvercmp`](crate::rpmvercmp) (rpm's comparison), [`ddlist`]
//!   (anaconda's `kernel-modules` Provides test), [`target`] (installer
//!   kernel + anaconda version gates), [`rule`] (the checklist codes
//!   findings carry), [`preflight`] (all findings),
//!   [`layout`]/[`suse`] (what goes where), [`cpio`], [`repodata`],
//!   [`bzimage`], [`iso::facts`], [`checks`] (kABI and PCI ids through
//!   the `kabi`/`alias` libraries);
//! * the pipeline: [`pipeline`] (request + listener in, outcome out: what
//!   `dud build` and `build --dud` run);
//! * effects: [`stage`] (staging tree + createrepo_c), [`iso`] (xorriso),
//!   [`build`] (reading inputs, temp-then-rename output), [`installer`]
//!   (reading an install ISO), [`readback`] (reading any disk back into
//!   [`disk::DiskFacts`], never outside the image);
//! * rules over a disk read back: [`verify`] (pure functions over
//!   [`disk::DiskFacts`]);
//! * the text sections both `dud build` and `dud verify` print (targets,
//!   verdicts, findings): [`report`], one renderer per section.
//!
//! Dependencies run one way: `package` and `rule` know nothing of disks;
//! `preflight` and `suse` decide from package facts; `readback` reads a
//! disk into [`disk`] facts and `verify` applies those decisions to them; `build` writes a disk and re-reads it with
//! `readback`. Nothing below imports `build`, and `verify` never imports
//! `build` or `readback`. A new check goes into the section's code in `preflight` (or
//! `verify` for facts only a written disk has, read by `readback`) with a new [`rule::Rule`].

pub mod build;
pub mod bzimage;
pub mod checks;
pub mod cpio;
pub mod ddlist;
pub mod disk;
pub mod handoff;
pub mod installer;
pub mod iso;
pub mod layout;
pub mod outcome;
pub mod package;
pub mod pipeline;
pub mod preflight;
pub mod repodata;
/// rpm's version comparison lives at the top level (the spec import uses it
/// too); re-exported here, where the disk rules use it.
pub use crate::rpmvercmp;
pub mod readback;
pub mod report;
pub mod rule;
pub mod stage;
pub mod suse;
pub mod target;
pub mod tool;
pub mod verify;

use std::path::{Path, PathBuf};

/// Why a disk could not be built or read.
#[derive(Debug, thiserror::Error)]
pub enum DudError {
    /// An input RPM is unreadable.
    #[error(transparent)]
    Rpm(#[from] crate::rpmpkg::RpmError),
    /// A file-system operation failed.
    #[error("{path}: {what}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What was being done.
        what: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// createrepo_c / xorriso failed or is missing.
    #[error("{tool}: {message}")]
    Tool {
        /// The program.
        tool: String,
        /// What went wrong.
        message: String,
    },
    /// The output exists and `--force` was not given.
    #[error("{0}: already exists (use --force to replace it)")]
    OutputExists(PathBuf),
    /// The output's directory is missing.
    #[error("{0}: output directory does not exist")]
    NoOutputDir(PathBuf),
    /// Preflight errors.
    #[error("refusing to write {path}: {errors} preflight error(s) listed above (--force writes it anyway)")]
    Refused {
        /// The output that was not written.
        path: PathBuf,
        /// How many errors.
        errors: usize,
    },
    /// A bad installer kernel release.
    #[error(transparent)]
    Target(#[from] target::TargetError),
    /// Inconsistent arguments.
    #[error("{0}")]
    Usage(String),
    /// Input RPMs could not be listed.
    #[error(transparent)]
    Scan(#[from] crate::module::ModuleError),
    /// The installer kernel's symbols (`--target-symvers`, or the kernel
    /// RPM of an install ISO) are unreadable.
    #[error(transparent)]
    KernelSymbols(#[from] crate::kabi::TargetError),
    /// An existing disk or install ISO is unreadable or malformed.
    #[error("{path}: {message}")]
    Image {
        /// The image.
        path: PathBuf,
        /// The problem.
        message: String,
    },
}

/// A private scratch directory in `parent` (the system temporary directory
/// when `None`), removed when dropped and on SIGINT/SIGTERM: for unpacking
/// a disk or an install ISO that is read, never kept, and for staging a
/// disk beside its output.
pub(crate) fn scratch_dir(parent: Option<&Path>) -> Result<crate::cleanup::ScratchDir, DudError> {
    let parent = parent.map_or_else(std::env::temp_dir, Path::to_path_buf);
    crate::cleanup::ScratchDir::new_in(&parent, ".kmodpack-dud-").map_err(|source| DudError::Io {
        path: parent,
        what: "cannot create a temporary directory in".into(),
        source,
    })
}
