//! Provides: what a package's kernel modules offer to other packages.
//!
//! - `kmod()` for every module (and every entry of a `modules.builtin`).
//! - For every export that carries a CRC: `kernel(sym) = crc` when the module
//!   is an in-tree module of a kernel package (`/lib/modules/<release>/kernel/…`),
//!   otherwise `ksym(sym) = crc` — always, whatever the spec style, so that
//!   dependent kmods can resolve against it (the ZFS side of Lustre-on-ZFS).
//! - Exports without a CRC (kernel built without MODVERSIONS) provide
//!   nothing versioned: importers record no CRC for them either.

use std::collections::BTreeSet;

use super::format::{suse_flavor, Dialect, FileDeps};
use super::paths::{file_name, is_in_tree};
use super::{module_release, per_file, DepsError, FileContent, PackagedFile};

/// How to spell Provides.
#[derive(Debug, Clone, Default)]
pub struct ProvidesOptions {
    /// Red Hat or SUSE spelling.
    pub dialect: Dialect,
    /// SUSE flavor; `None` = from each module's vermagic.
    pub flavor: Option<String>,
}

/// The SUSE flavor for a module: the override, else from its release.
pub(crate) fn flavor_for<'a>(
    flavor: Option<&'a str>,
    release: Option<&'a str>,
    dialect: Dialect,
    path: &str,
) -> Result<&'a str, DepsError> {
    if dialect == Dialect::Redhat {
        return Ok("");
    }
    flavor
        .or_else(|| release.and_then(suse_flavor))
        .ok_or_else(|| DepsError::NoFlavor {
            path: path.to_string(),
        })
}

/// The file name of a module path, if rpm can carry it inside `kmod(...)`:
/// white space splits a dependency, control characters (a CR) garble the
/// output, parentheses and commas end or separate it.
fn checked_name(path: &str) -> Result<&str, DepsError> {
    let name = file_name(path);
    let what = if name.contains(char::is_whitespace) {
        Some("white space")
    } else if name.contains(char::is_control) {
        Some("a control character")
    } else if name.contains(['(', ')', ',']) {
        Some("a parenthesis or comma")
    } else {
        None
    };
    match what {
        Some(what) => Err(DepsError::BadModuleName {
            path: path.escape_debug().to_string(),
            name: name.to_string(),
            what,
        }),
        None => Ok(name),
    }
}

/// Provides of each file, in input order.
pub fn provides(
    files: &[PackagedFile],
    opts: &ProvidesOptions,
) -> Result<Vec<FileDeps>, DepsError> {
    per_file(files, |f| {
        let mut deps = BTreeSet::new();
        match &f.content {
            FileContent::Module(m) => {
                deps.insert(opts.dialect.kmod(checked_name(&f.path)?).into());
                let in_tree = is_in_tree(&f.path);
                let mut versioned = m
                    .exports
                    .iter()
                    .filter_map(|e| e.crc.map(|c| (e.name.as_str(), c)))
                    .peekable();
                if versioned.peek().is_some() {
                    let flavor = flavor_for(
                        opts.flavor.as_deref(),
                        module_release(m, &f.path),
                        opts.dialect,
                        &f.path,
                    )?;
                    for (name, crc) in versioned {
                        deps.insert(
                            if in_tree {
                                opts.dialect.kernel(flavor, name, crc)
                            } else {
                                opts.dialect.ksym(flavor, name, crc)
                            }
                            .into(),
                        );
                    }
                }
            }
            FileContent::Builtin(text) => {
                for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
                    deps.insert(opts.dialect.kmod(checked_name(line)?).into());
                }
            }
            FileContent::Other => {}
        }
        Ok(deps)
    })
}
