//! Requires: what a package's kernel modules need from the kernel and from
//! other packages.
//!
//! For each versioned import (name, CRC) of an out-of-tree module:
//! 1. dropped if a module of the same package exports that exact pair
//!    (rpm itself never drops self-satisfied requires), **also when the
//!    kernel exports it too**: the package's module is what the loader binds
//!    (depmod searches `updates/` and `extra/` before the kernel's own
//!    modules; a symbol vmlinux exports cannot be exported again at all), so
//!    a `kernel()` requires would only tie the package to a kernel symbol it
//!    does not use. RHEL 8's scripts did the same over the whole package.
//!    The rule is the same whether a generator call sees one file or the
//!    whole package ([`lookups`] says what a one-file call must ask);
//! 2. `kernel(sym) = crc` if the target kernel (vmlinux and its in-tree
//!    modules, from its symvers) exports that exact pair;
//! 3. otherwise `ksym(sym) = crc` with the module's own CRC — the kernel's
//!    CRC is never printed for a module built against another one.
//!
//! Symbol namespaces do not enter dependencies (rpm has nothing to match
//! them against). In-tree modules of kernel packages get no requires: the
//! kernel package satisfies them itself (Red Hat excludes them by path,
//! SUSE by package name `kernel-*`; both rules are applied).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use rustc_hash::{FxHashMap, FxHashSet};

use super::format::{Dialect, FileDeps};
use super::kernel_symvers::KernelExports;
use super::paths::is_in_tree;
use super::provides::flavor_for;
use super::{module_release, per_file, DepsError, PackagedFile};
use crate::stablelist::Stablelist;

/// (symbol, CRC) pairs exported by the package's own modules.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OwnExports(FxHashMap<String, Vec<u32>>);

impl OwnExports {
    /// True when the package exports `name` with `crc`.
    pub fn contains(&self, name: &str, crc: u32) -> bool {
        self.0.get(name).is_some_and(|v| v.contains(&crc))
    }

    /// Records that the package exports `name` with `crc`.
    pub fn insert(&mut self, name: &str, crc: u32) {
        let v = self.0.entry(name.to_string()).or_default();
        if !v.contains(&crc) {
            v.push(crc);
        }
    }

    /// Adds the CRC-carrying exports of a module.
    pub fn add_module(&mut self, m: &crate::module::KernelModule) {
        for e in &m.exports {
            if let Some(c) = e.crc {
                self.insert(&e.name, c);
            }
        }
    }
}

/// How to compute Requires.
#[derive(Debug, Clone, Default)]
pub struct RequiresOptions {
    /// Red Hat or SUSE spelling.
    pub dialect: Dialect,
    /// SUSE flavor; `None` = from each module's vermagic.
    pub flavor: Option<String>,
    /// The (sub)package name, if known: SUSE skips `kernel-*` packages.
    pub package: Option<String>,
}

impl RequiresOptions {
    /// True when this package needs no requires at all.
    fn skip_package(&self) -> bool {
        self.dialect == Dialect::Suse
            && self
                .package
                .as_deref()
                .is_some_and(|p| p.starts_with("kernel-") && !p.starts_with("kernel-module-"))
    }

    /// True when kernel symvers matter (Red Hat's kernel()/ksym() split).
    pub fn needs_kernel_symvers(&self) -> bool {
        self.dialect == Dialect::Redhat && !self.skip_package()
    }
}

/// Exports of the given files' modules, as (name, CRC) pairs.
pub fn own_exports<'a>(files: impl IntoIterator<Item = &'a PackagedFile>) -> OwnExports {
    let mut own = OwnExports::default();
    for m in files.into_iter().filter_map(PackagedFile::module) {
        own.add_module(m);
    }
    own
}

/// Files whose imports are looked up in a kernel symvers: out-of-tree
/// modules with at least one versioned import.
pub fn wants_kernel(file: &PackagedFile) -> bool {
    file.module().is_some_and(|m| !m.imports.is_empty()) && !is_in_tree(&file.path)
}

/// Above this many imports a symvers is indexed whole: hashing every
/// import to filter the file costs more than indexing all of its lines.
const SELECTIVE_MAX: usize = 4096;

/// The kernel releases whose symvers are needed, with the import names that
/// will be looked up, so that one generator call indexes a few dozen of a
/// symvers' 25,000 lines; `None` when there are too many to be worth it.
pub fn needed_kernels<'a>(
    files: &'a [PackagedFile],
    opts: &RequiresOptions,
) -> Result<BTreeMap<&'a str, Option<FxHashSet<&'a str>>>, DepsError> {
    let mut out: BTreeMap<&str, Option<FxHashSet<&str>>> = BTreeMap::new();
    if !opts.needs_kernel_symvers() {
        return Ok(out);
    }
    for f in files.iter().filter(|f| wants_kernel(f)) {
        let Some(m) = f.module() else {
            continue; // wants_kernel implies a module
        };
        let release = module_release(m, &f.path).ok_or_else(|| DepsError::NoRelease {
            path: f.path.clone(),
        })?;
        let names = out
            .entry(release)
            .or_insert_with(|| Some(FxHashSet::default()));
        if let Some(set) = names {
            set.extend(m.imports.iter().map(|i| i.name.as_str()));
            if set.len() > SELECTIVE_MAX {
                *names = None;
            }
        }
    }
    Ok(out)
}

/// The (name, CRC) imports of `files` that `own` does not satisfy, without
/// duplicates: what a call that sees only part of the package must look up
/// among the package's other modules ([`super::siblings`]) before
/// [`requires`] decides. Whether the kernel exports them does not matter.
pub fn lookups<'a>(files: &'a [PackagedFile], own: &OwnExports) -> Vec<(&'a str, u32)> {
    let mut seen: FxHashSet<(&str, u32)> = FxHashSet::default();
    files
        .iter()
        .filter(|f| wants_kernel(f))
        .filter_map(PackagedFile::module)
        .flat_map(|m| m.imports.iter())
        .map(|i| (i.name.as_str(), i.crc))
        .filter(|&(n, c)| !own.contains(n, c))
        .filter(|p| seen.insert(*p))
        .collect()
}

/// Requires of each file, in input order. `kernels` maps a kernel release
/// to its exports (see [`needed_kernels`]); with the Red Hat dialect every
/// needed release must be present.
pub fn requires(
    files: &[PackagedFile],
    kernels: &HashMap<String, KernelExports>,
    own: &OwnExports,
    opts: &RequiresOptions,
) -> Result<Vec<FileDeps>, DepsError> {
    let skip = opts.skip_package();
    // A kernel's modules import the same few hundred symbols thousands of
    // times: format each (kind, flavor, name, CRC) once.
    let mut spelled: FxHashMap<(bool, &str, &str, u32), Arc<str>> = FxHashMap::default();
    let mut wanted: Vec<(bool, &str, &str, u32)> = Vec::new();
    per_file(files, |f| {
        wanted.clear();
        if let (false, true, Some(m)) = (skip, wants_kernel(f), f.module()) {
            let release = module_release(m, &f.path);
            let flavor = flavor_for(opts.flavor.as_deref(), release, opts.dialect, &f.path)?;
            let kernel = match opts.dialect {
                Dialect::Redhat => {
                    let r = release.ok_or_else(|| DepsError::NoRelease {
                        path: f.path.clone(),
                    })?;
                    Some(kernels.get(r).ok_or_else(|| DepsError::SymversNotFound {
                        release: r.to_string(),
                        tried: Vec::new(),
                    })?)
                }
                Dialect::Suse => None,
            };
            for imp in &m.imports {
                if !own.contains(&imp.name, imp.crc) {
                    let in_kernel = kernel.is_some_and(|k| k.contains(&imp.name, imp.crc));
                    wanted.push((in_kernel, flavor, imp.name.as_str(), imp.crc));
                }
            }
        }
        let deps = wanted
            .iter()
            .map(|&key @ (in_kernel, flavor, name, crc)| {
                spelled
                    .entry(key)
                    .or_insert_with(|| {
                        if in_kernel {
                            opts.dialect.kernel(flavor, name, crc)
                        } else {
                            opts.dialect.ksym(flavor, name, crc)
                        }
                        .into()
                    })
                    .clone()
            })
            .collect();
        Ok(deps)
    })
}

/// `kernel()` requires whose symbol is not on the kABI stablelist: Red Hat
/// only guarantees stablelisted symbols across a major release, so these are
/// the places a future minor update may break the module. Warnings, never
/// errors. Returns the symbol names, sorted.
pub fn outside_stablelist(requires: &[FileDeps], stablelist: &Stablelist) -> Vec<String> {
    let mut out: BTreeSet<String> = BTreeSet::new();
    for dep in requires.iter().flat_map(|f| f.deps.iter()) {
        if let Some(sym) = dep
            .strip_prefix("kernel(")
            .and_then(|r| r.split_once(')'))
            .map(|(s, _)| s)
        {
            if !stablelist.contains(sym) {
                out.insert(sym.to_string());
            }
        }
    }
    out.into_iter().collect()
}
