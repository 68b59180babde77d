//! Supplements: hardware-driven installation of SUSE kernel module packages.
//!
//! SUSE's `find-supplements.ksyms` gives every KMP one
//! `Supplements: modalias(kernel-<flavor>:<alias>)` per device alias of its
//! modules, so zypper (and the installer's repo method, which installs only
//! what is required, selected or supplemented) installs the KMP on machines
//! that have the device. Red Hat has no such convention: that dialect gets
//! none. In-tree modules of kernel packages get none either.

use std::collections::BTreeSet;

use super::format::Dialect;
use super::paths::is_in_tree;
use super::provides::{flavor_for, ProvidesOptions};
use super::{module_release, per_file, DepsError, FileDeps, PackagedFile};

/// Supplements of each file, in input order.
pub fn supplements(
    files: &[PackagedFile],
    opts: &ProvidesOptions,
) -> Result<Vec<FileDeps>, DepsError> {
    per_file(files, |f| {
        let mut deps = BTreeSet::new();
        if let (Dialect::Suse, Some(m)) = (opts.dialect, f.module()) {
            // Aliases with whitespace cannot be one rpm dependency token.
            let mut aliases = m
                .modinfo
                .get_all("alias")
                .filter(|a| !a.is_empty() && !a.contains(char::is_whitespace))
                .peekable();
            if !is_in_tree(&f.path) && aliases.peek().is_some() {
                let flavor = flavor_for(
                    opts.flavor.as_deref(),
                    module_release(m, &f.path),
                    opts.dialect,
                    &f.path,
                )?;
                for a in aliases {
                    deps.insert(format!("modalias(kernel-{flavor}:{a})").into());
                }
            }
        }
        Ok(deps)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::deps::FileContent;
    use crate::module::KernelModule;

    fn file(path: &str, modinfo: &[(&str, &str)]) -> PackagedFile {
        let mut m: KernelModule = crate::module::KernelModule::parse(
            &std::fs::read("../shared/kabi-fixtures/debian12-6.1.0-56-amd64/libcrc32c.ko").unwrap(),
        )
        .unwrap();
        m.modinfo.entries = modinfo
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        PackagedFile {
            input: format!("/br{path}"),
            path: path.into(),
            content: FileContent::Module(Box::new(m)),
        }
    }

    #[test]
    fn suse_modalias_per_alias_with_flavor() {
        let f = file(
            "/lib/modules/6.4.0-150600.23.7-default/updates/kpx.ko",
            &[
                (
                    "vermagic",
                    "6.4.0-150600.23.7-default SMP mod_unload modversions ",
                ),
                ("alias", "pci:v000015B3d0000101Bsv*sd*bc*sc*i*"),
                ("alias", "of:N*T*Cbad alias"),
                ("alias", "kpx-legacy"),
            ],
        );
        let suse = ProvidesOptions {
            dialect: Dialect::Suse,
            flavor: None,
        };
        let got = supplements(std::slice::from_ref(&f), &suse).unwrap();
        let got: Vec<&str> = got[0].deps.iter().map(|d| &**d).collect();
        assert_eq!(
            got,
            [
                "modalias(kernel-default:kpx-legacy)",
                "modalias(kernel-default:pci:v000015B3d0000101Bsv*sd*bc*sc*i*)",
            ]
        );
        let redhat = ProvidesOptions::default();
        assert!(supplements(std::slice::from_ref(&f), &redhat).unwrap()[0]
            .deps
            .is_empty());
        // In-tree modules of a kernel package supplement nothing.
        let intree = file(
            "/lib/modules/6.4.0-150600.23.7-default/kernel/drivers/kpx.ko",
            &[("alias", "pci:v000015B3d0000101Bsv*sd*bc*sc*i*")],
        );
        assert!(supplements(&[intree], &suse).unwrap()[0].deps.is_empty());
    }
}
