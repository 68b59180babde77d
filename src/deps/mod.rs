//! rpm dependency generation for kernel modules: `ksym()` / `kernel()` /
//! `kmod()` Provides and Requires — what Red Hat's `find-provides.ksyms` /
//! `find-requires.ksyms` and SUSE's equivalents do, without their failure
//! modes (see `rpm-ksym-generators.md` §8):
//!
//! - CRCs come from the ELF directly ([`crate::module`]): absolute, section
//!   (5.19+ `__kcrctab`), local or global `__crc_*`, any byte order, 32/64-bit,
//!   compressed files, extended modversions (long Rust names).
//! - A Require is `kernel(sym) = crc` only if that exact (name, CRC) pair is
//!   exported by the target kernel; otherwise `ksym(sym) = crc` with the
//!   module's own CRC, never the kernel's (BZ#1619235).
//! - The target kernel's symvers is found from each module's vermagic via a
//!   documented search list ([`kernel_symvers`]); not finding it is an error,
//!   never a silent all-`ksym()` list (the "missing kernel-devel" trap).
//! - Imports satisfied by modules of the same package (same name *and* CRC)
//!   are dropped, whether the modules arrive together on stdin or have to be
//!   found in the buildroot ([`siblings`]).
//! - Every out-of-tree module always gets `ksym()` Provides, which is what
//!   makes dependent kmods (Lustre's osd-zfs on ZFS) installable.
//!
//! Everything here is pure (modules and symvers bytes in, dependency lists
//! out) except the small, explicit readers in [`kernel_symvers`] and
//! [`siblings`] and the package's ledger ([`siblings`], through
//! [`crate::ledger`]); stdin, environment and output live in
//! `src/cli/deps.rs`.

pub mod check;
pub mod format;
pub mod invariant;
pub mod kernel_symvers;
pub mod paths;
pub mod provides;
pub mod requires;
pub mod siblings;
pub mod supplements;

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Arc;

use crate::module::{KernelModule, ModuleError};

pub use format::{Dialect, FileDeps};
pub use kernel_symvers::KernelExports;

/// One file rpm asked about, already read.
#[derive(Debug, Clone)]
pub struct PackagedFile {
    /// The path exactly as given (with the buildroot prefix).
    pub input: String,
    /// The install path inside the package (buildroot removed).
    pub path: String,
    /// What the file is.
    pub content: FileContent,
}

/// The kinds of file that yield dependencies. Anything else is ignored.
#[derive(Debug, Clone)]
pub enum FileContent {
    /// A kernel module (`.ko`, possibly compressed).
    Module(Box<KernelModule>),
    /// A kernel's `modules.builtin` list (text): `kmod()` for each entry.
    Builtin(String),
    /// Not something kmodpack generates dependencies for.
    Other,
}

impl PackagedFile {
    /// The module, if this file is one.
    pub fn module(&self) -> Option<&KernelModule> {
        match &self.content {
            FileContent::Module(m) => Some(m),
            _ => None,
        }
    }
}

/// Every generator's shape: the dependencies of each file, in input order.
fn per_file<'a>(
    files: &'a [PackagedFile],
    mut deps_of: impl FnMut(&'a PackagedFile) -> Result<BTreeSet<Arc<str>>, DepsError>,
) -> Result<Vec<FileDeps>, DepsError> {
    files
        .iter()
        .map(|f| {
            Ok(FileDeps {
                input: f.input.clone(),
                deps: deps_of(f)?,
            })
        })
        .collect()
}

/// The kernel release a module targets: the first word of its vermagic,
/// else the `<release>` directory it is installed under.
pub fn module_release<'a>(module: &'a KernelModule, path: &'a str) -> Option<&'a str> {
    module
        .kernel_release()
        .or_else(|| paths::modules_tree(path).map(|t| t.release))
}

/// Why dependencies could not be generated. Every message is one line and
/// names the file or kernel release concerned.
#[derive(Debug, thiserror::Error)]
pub enum DepsError {
    /// A module file name rpm cannot carry in `kmod(NAME)`.
    #[error("{path}: module file name {name:?} contains {what}; rpm would split or garble `kmod(...)` — rename the module file (letters, digits, `_`, `-`, `.`)")]
    BadModuleName {
        /// The file as given.
        path: String,
        /// Its file name.
        name: String,
        /// What is wrong (`a space`, `a control character`, ...).
        what: &'static str,
    },
    /// A module that cannot be read or parsed.
    #[error(transparent)]
    Module(#[from] ModuleError),
    /// No way to tell which kernel a module was built for.
    #[error("{path}: no vermagic and not installed under /lib/modules/<release>/: cannot tell which kernel's symvers to use (pass --symvers)")]
    NoRelease {
        /// The module (path inside the package).
        path: String,
    },
    /// No symvers in the search list for a kernel release.
    #[error("no symvers for kernel {release} (tried {}): install that kernel's devel package, or pass --symvers FILE / set KMODPACK_SYMVERS / %_kmodpack_symvers", tried.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", "))]
    SymversNotFound {
        /// The kernel release from the module's vermagic.
        release: String,
        /// Every path looked at, in order.
        tried: Vec<PathBuf>,
    },
    /// A symvers file that exists but cannot be read.
    #[error("{path}: {source}")]
    SymversIo {
        /// The file.
        path: PathBuf,
        /// What the OS said.
        source: std::io::Error,
    },
    /// A symvers file that is not in any known layout.
    #[error("{path}: not a symvers file: {message}")]
    SymversParse {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// SUSE dialect without a flavor.
    #[error("{path}: cannot tell the SUSE kernel flavor (vermagic release has no '-flavor' suffix): pass --flavor")]
    NoFlavor {
        /// The module.
        path: String,
    },
    /// An RPM that cannot be read (`deps check`).
    #[error(transparent)]
    Rpm(#[from] crate::rpmpkg::RpmError),
}
