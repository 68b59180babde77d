//! Build runners: rpmbuild and mock over a kernel × arch × flavor matrix.
//!
//! `kmodpack build` turns one or more packages (a rendered description or a
//! hand-written spec) into SRPMs and binary RPMs for every requested cell of
//! the matrix. The pieces, from pure to effectful:
//!
//! - [`matrix`]: which cells exist and in which order they may run
//!   (an importer kmod waits for its exporter on the same kernel/arch/flavor).
//! - [`kernel`]: `--kernel KVER|DIR` resolved to a release and a headers dir.
//! - [`repro`]: the environment and macros that make two builds byte-identical.
//! - [`rpmbuild`] / [`mock`]: command lines (pure, tested as values) and the
//!   code that runs them with a private `_topdir` and collects results.
//! - [`sign`]: verification of every built module's signature with kmodpack's
//!   own module reader against the certificate that was asked for.
//! - [`report`]: the JSON report (one entry per cell).
//! - [`runner`]: the bounded-parallel scheduler; a failed cell never loses
//!   the results of the others.
//! - [`pipeline`]: the request → report driver `kmodpack build` calls
//!   (inputs, epoch, signing and backend policy, then the runner).
//! - [`progress`]: the listener the runner reports cells and notes to.

pub mod description;
pub mod failure;
pub mod input;
pub mod kernel;
pub mod matrix;
pub mod mock;
pub mod pipeline;
pub mod process;
pub mod progress;
pub mod report;
pub mod repro;
pub mod rpmbuild;
pub mod runner;
pub mod selfpkg;
pub mod sign;
pub mod workdir;

use std::path::PathBuf;

pub use kernel::KernelTarget;
pub use matrix::{Cell, Package};
pub use report::{CellReport, CellStatus, Report};
pub use runner::{Backend, BuildOptions};

/// Why a build could not even start (per-cell failures are not errors: they
/// are recorded in the [`Report`] and reflected in the exit status).
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// A file or directory could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The path involved.
        path: PathBuf,
        /// What the OS said.
        source: std::io::Error,
    },
    /// `--kernel KVER` names a release without headers on this machine.
    #[error("kernel {0}: no headers found (looked for /lib/modules/{0}/build and /usr/src/kernels/{0}); pass the headers directory as --kernel DIR or {0}=DIR; {1}")]
    KernelNotFound(String, String),
    /// `--kernel DIR` is not a configured kernel headers/build tree.
    #[error("{0}: not a kernel headers directory (no include/generated/utsrelease.h or include/config/kernel.release)")]
    NotKernelHeaders(PathBuf),
    /// A program the backend needs is missing.
    #[error("{program} not found on PATH: {hint}")]
    ToolMissing {
        /// The program.
        program: String,
        /// What to do about it.
        hint: String,
    },
    /// The kmodpack package for mock chroots could not be made or found.
    #[error("kmodpack package for the mock chroot: {0}")]
    KmodpackRepo(String),
    /// The output directory already holds results.
    #[error("{0}: result directory is not empty (choose a new --resultdir; kmodpack never mixes results of different builds)")]
    ResultdirNotEmpty(PathBuf),
    /// Packages depend on each other in a cycle.
    #[error("dependency cycle between packages: {0}")]
    DependencyCycle(String),
    /// A package depends on a package that is not part of this build.
    #[error("package {package} depends on kmod {dependency}, which is not part of this build (add its description/spec to the command line)")]
    UnknownDependency {
        /// The dependent package.
        package: String,
        /// The missing dependency.
        dependency: String,
    },
    /// Two inputs produce the same package name.
    #[error("package {0} is given twice")]
    DuplicatePackage(String),
    /// The signing certificate cannot be read.
    #[error("{path}: {message}")]
    Certificate {
        /// The certificate file.
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },
    /// The options contradict each other.
    #[error("{0}")]
    Usage(String),
    /// The running binary (the dependency generator rpmbuild is given) cannot be found.
    #[error("cannot locate the running kmodpack binary: {0}")]
    SelfExe(String),
    /// The disk asked for with `--dud` is refused before anything is built.
    #[error(transparent)]
    Disk(Box<crate::dud::DudError>),
}

/// Shorthand for an I/O error on `path`.
pub(crate) fn io_err(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> BuildError {
    let path = path.into();
    move |source| BuildError::Io { path, source }
}
