//! The invariant every kmod RPM must keep: a binary package that ships
//! kernel modules carries what kmodpack's generator gives them —
//!
//! - `kmod(<module>)` for each module file;
//! - a `ksym()` Provides for every versioned export of each out-of-tree
//!   module (in-tree modules of kernel packages may say `kernel()`);
//! - a `kernel()` or `ksym()` Requires for every versioned import of an
//!   out-of-tree module that the package's own modules do not satisfy.
//!
//! rpm builds such a package without complaint when the generator is not
//! registered (`--load` lost to `--target`), cannot be executed, or prints
//! nothing: rpm ignores a generator's exit status. One check, used where kmod
//! RPMs are made (`kmodpack build`) and consumed (`deps check`, the `dud`
//! preflight). Names are compared, not versions: whether a CRC is right is
//! `deps check`'s resolution, not this invariant. Both dialects' spellings
//! are accepted (`kmod(foo-bar.ko)`/`kmod(foo_bar)`, `ksym(flavor:sym)`).

use std::collections::{BTreeSet, HashSet};

use super::format::Dialect;
use super::paths::{file_name, is_in_tree};
use crate::module::KernelModule;
use crate::rpmpkg::RpmPackage;

/// One module of a package missing some of its dependency lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// The module path inside the package.
    pub module: String,
    /// The missing `kmod()` Provides, if it is missing.
    pub kmod: Option<String>,
    /// Exported symbols without a `ksym()` Provides, sorted.
    pub provides: Vec<String>,
    /// Imported symbols without a `kernel()`/`ksym()` Requires, sorted.
    pub requires: Vec<String>,
}

/// What every tool says about a package breaking the invariant.
pub const CAUSE: &str = "built without kmodpack's generator — or with one that did not run";

/// At most this many symbols are named per list (a module imports hundreds).
const SHOWN: usize = 4;

fn names(list: &[String]) -> String {
    let mut s = list
        .iter()
        .take(SHOWN)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if list.len() > SHOWN {
        s.push_str(&format!(" and {} more", list.len() - SHOWN));
    }
    s
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut parts = Vec::new();
        if let Some(k) = &self.kmod {
            parts.push(format!("Provides {k}"));
        }
        if !self.provides.is_empty() {
            parts.push(format!("ksym() Provides of {}", names(&self.provides)));
        }
        if !self.requires.is_empty() {
            parts.push(format!(
                "kernel()/ksym() Requires of {}",
                names(&self.requires)
            ));
        }
        write!(f, "{}: no {}", self.module, parts.join("; no "))
    }
}

/// The symbol of a `ksym(sym)`, `ksym(flavor:sym)` or `kernel(sym)` name.
fn symbol<'a>(name: &'a str, prefix: &str) -> Option<&'a str> {
    let inner = name.strip_prefix(prefix)?.strip_suffix(')')?;
    Some(inner.rsplit_once(':').map_or(inner, |(_, s)| s))
}

/// The modules of `pkg` (path, parsed module) that break the invariant, in
/// the order given. Empty for packages without modules.
pub fn check(pkg: &RpmPackage, modules: &[(String, KernelModule)]) -> Vec<Violation> {
    let provides: HashSet<&str> = pkg.provides.iter().map(|d| d.name.as_str()).collect();
    let provided_ksyms: HashSet<&str> = pkg
        .provides
        .iter()
        .filter_map(|d| symbol(&d.name, "ksym(").or_else(|| symbol(&d.name, "kernel(")))
        .collect();
    let required: HashSet<&str> = pkg
        .requires
        .iter()
        .filter_map(|d| symbol(&d.name, "ksym(").or_else(|| symbol(&d.name, "kernel(")))
        .collect();
    let own: HashSet<(&str, u32)> = modules
        .iter()
        .flat_map(|(_, m)| m.exports.iter())
        .filter_map(|e| Some((e.name.as_str(), e.crc?)))
        .collect();
    let mut out = Vec::new();
    for (path, m) in modules {
        let name = file_name(path);
        let kmods = [Dialect::Redhat.kmod(name), Dialect::Suse.kmod(name)];
        let kmod = (!kmods.iter().any(|k| provides.contains(k.as_str()))).then(|| kmods[0].clone());
        let mut missing_provides = BTreeSet::new();
        let mut missing_requires = BTreeSet::new();
        if !is_in_tree(path) {
            for e in m.exports.iter().filter(|e| e.crc.is_some()) {
                if !provided_ksyms.contains(e.name.as_str()) {
                    missing_provides.insert(e.name.clone());
                }
            }
            for i in &m.imports {
                if !own.contains(&(i.name.as_str(), i.crc)) && !required.contains(i.name.as_str()) {
                    missing_requires.insert(i.name.clone());
                }
            }
        }
        if kmod.is_some() || !missing_provides.is_empty() || !missing_requires.is_empty() {
            out.push(Violation {
                module: path.clone(),
                kmod,
                provides: missing_provides.into_iter().collect(),
                requires: missing_requires.into_iter().collect(),
            });
        }
    }
    out
}

/// One line per violation: `<package>: <module>: no …  (<CAUSE>)`.
pub fn describe(package: &str, violations: &[Violation]) -> Vec<String> {
    violations
        .iter()
        .map(|v| format!("{package}: {v} ({CAUSE})"))
        .collect()
}
