//! Finding the other modules of the same package under one-path-per-call rpm.
//!
//! rpm ≤ 4.19 runs a fileattrs generator once per file with one path on
//! stdin, and tells it nothing about the rest of the package. To drop
//! requires that the package satisfies itself (`modB` importing `modA_add`
//! from `modA` in the same kmod), the generator has to look for the other
//! modules itself. What it can see is the buildroot (`RPM_BUILD_ROOT`), which
//! holds the files of *every* subpackage of the spec.
//!
//! Chosen scope: the module files below the same `(/usr)/lib/modules/<release>/`
//! directory of the buildroot as the module asked about (or its own directory
//! when it lies outside a modules tree). That separates kmodtool-style
//! per-kernel/per-flavor subpackages (each has its own release directory),
//! which is the common multi-package layout. It cannot separate two
//! subpackages that install into the same release directory: there an import
//! satisfied by the *other* subpackage is dropped too. Such specs should pass
//! `--siblings input` (e.g. `%global _kmodpack_siblings input`) and state the
//! inter-package dependency explicitly. Under rpm ≥ 4.20's multifile protocol
//! (and in batch use) the whole package arrives on stdin and no search is made.
//!
//! The search runs only when some import is satisfied neither by the kernel
//! nor by the modules on stdin, so the common case (a package whose modules
//! only use kernel symbols) costs nothing.

use std::path::{Path, PathBuf};

use super::paths::modules_tree;
use crate::module::is_module_path;

/// The directory of the buildroot searched for siblings of the module
/// installed at `package_path`.
pub fn scope(buildroot: &Path, package_path: &str) -> PathBuf {
    let inner = match modules_tree(package_path) {
        Some(t) => t.tree,
        None => package_path.rsplit_once('/').map(|(d, _)| d).unwrap_or(""),
    };
    buildroot.join(inner.trim_start_matches('/'))
}

/// Module files below the scopes of `package_paths`, sorted, without
/// duplicates and without the files in `exclude` (absolute paths as given).
/// Directories that cannot be read are skipped: the search can only remove
/// requires, never add wrong ones.
pub fn find(buildroot: &Path, package_paths: &[&str], exclude: &[&str]) -> Vec<PathBuf> {
    let mut scopes: Vec<PathBuf> = package_paths.iter().map(|p| scope(buildroot, p)).collect();
    scopes.sort();
    scopes.dedup();
    let mut out: Vec<PathBuf> = Vec::new();
    for s in scopes {
        let outside_tree = !package_paths.iter().any(|p| modules_tree(p).is_some() && scope(buildroot, p) == s);
        let walk = walkdir::WalkDir::new(&s).follow_links(false).max_depth(if outside_tree { 1 } else { usize::MAX });
        for e in walk.into_iter().flatten() {
            if e.file_type().is_file() && is_module_path(e.path()) {
                out.push(e.into_path());
            }
        }
    }
    out.sort();
    out.dedup();
    out.retain(|p| !exclude.iter().any(|x| Path::new(x) == p));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scope_is_release_tree() {
        let br = Path::new("/br");
        assert_eq!(scope(br, "/lib/modules/6.1.0-56-amd64/extra/zfs/zfs.ko"), Path::new("/br/lib/modules/6.1.0-56-amd64"));
        assert_eq!(scope(br, "/opt/mods/a.ko"), Path::new("/br/opt/mods"));
    }

    #[test]
    fn finds_modules_of_same_release_only() {
        let d = tempfile::tempdir().unwrap();
        let br = d.path();
        for f in ["lib/modules/k1/extra/a/a.ko", "lib/modules/k1/extra/b/b.ko.xz", "lib/modules/k1/extra/b/README", "lib/modules/k2/extra/c.ko"] {
            let p = br.join(f);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, b"x").unwrap();
        }
        let a = br.join("lib/modules/k1/extra/a/a.ko").display().to_string();
        let got = find(br, &["/lib/modules/k1/extra/a/a.ko"], &[&a]);
        assert_eq!(got, [br.join("lib/modules/k1/extra/b/b.ko.xz")]);
    }
}
