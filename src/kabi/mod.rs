//! Will it load? kABI compatibility of kernel modules with target kernels.
//!
//! The question is answered the way the kernel loader answers it at
//! `insmod` time (`kernel-module-format.md` §6), not the way `depmod -E`
//! approximates it: every undefined symbol must resolve (kernel image,
//! other modules being checked, provider modules), the CRC the module was
//! built against must equal the exporter's for every versioned import
//! (including `module_layout`), namespaces must be imported, GPL-only
//! exports are invisible to non-GPL modules, and vermagic must agree.
//!
//! The library is split so that other commands (the driver-update-disk
//! preflight) can call the decision without any I/O:
//! - [`KernelSymbols`]: what a target kernel exports (values only);
//! - [`check::check`]: modules + kernel symbols in, [`check::ModuleVerdict`]s out (pure);
//! - [`diff::diff`]: exports removed / added / changed between two kernels (pure);
//! - [`target`]: the edge that turns a `--kernel` argument (symvers file,
//!   headers dir, `/lib/modules/<kver>`, kernel RPM) into [`KernelSymbols`];
//! - [`inputs`]: the edge that reads modules from files, trees and kmod RPMs.

pub mod check;
pub mod diff;
pub mod inputs;
pub mod target;

use crate::symvers::Symvers;

pub use check::{check, CheckOptions, ModuleVerdict, Problem, Reason, Subject};
pub use diff::{diff, Change, SymbolChange};
pub use inputs::{is_rpm_file, load, load_noted, InputError, LoadedModule};
pub use target::{installed_kernels, resolve, TargetError};

/// Everything the loader of one target kernel knows about symbols: the
/// exports of the kernel image and of its in-tree modules (a symvers), plus
/// the vermagic its modules carry when that could be found.
#[derive(Debug, Clone)]
pub struct KernelSymbols {
    /// Name shown in reports: the kernel release when known, else the path given.
    pub label: String,
    /// Kernel release (`uname -r`), when known.
    pub release: Option<String>,
    /// Full vermagic string of the kernel's own modules, when known. Without
    /// it the vermagic check is skipped (and said so in the verdict's notes).
    pub vermagic: Option<String>,
    /// Exports, `module` column `vmlinux` for the kernel image.
    pub symbols: Symvers,
    /// Where the table was read from (for messages).
    pub source: String,
    /// Names (`-` → `_`) of the kernel's own modules, sorted, when the target
    /// lists them (a module tree or a kernel RPM); empty when unknown.
    pub modules: Vec<String>,
}

impl KernelSymbols {
    /// A target from a symvers alone (no vermagic known).
    pub fn from_symvers(label: impl Into<String>, symbols: Symvers) -> KernelSymbols {
        let label = label.into();
        KernelSymbols {
            source: label.clone(),
            label,
            release: None,
            vermagic: None,
            symbols,
            modules: Vec::new(),
        }
    }

    /// True when the kernel was built with CONFIG_MODVERSIONS (some export
    /// carries a non-zero CRC). A kernel without it checks no CRCs.
    pub fn is_versioned(&self) -> bool {
        self.symbols.entries.iter().any(|e| e.crc != 0)
    }
}
