//! What an RPM is for, decided from its header (not from its file name).
//!
//! A result directory of `kmodpack build` (or mock, or Koji) holds SRPMs,
//! binary kmods, `-devel` packages with `Module.symvers`, debuginfo and
//! debugsource packages and sometimes noarch firmware packages. Every
//! command that is handed such a directory (or a glob of it) — `dud build`,
//! `dud build --from-build`, `kabi check`, `alias` — sorts the packages with
//! this one function, so they agree on what a kmod is.

use std::path::Path;

use serde::Serialize;

use crate::rpmpkg::RpmPackage;

/// The role of one RPM.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RpmRole {
    /// A binary package that ships kernel modules (`*.ko[.xz|.gz|.zst]`).
    Kmod,
    /// A source package.
    Source,
    /// Build-time files for other kmods (`Module.symvers`, headers).
    Devel,
    /// Debug symbols (`/usr/lib/debug/...`).
    Debuginfo,
    /// Debug sources (`/usr/src/debug/...`).
    Debugsource,
    /// Firmware files (`/lib/firmware/...`) and no modules.
    Firmware,
    /// Anything else (tools, documentation, an empty package).
    Other,
}

impl RpmRole {
    /// Words for notes: "source package", "-devel package", ...
    pub fn describe(self) -> &'static str {
        match self {
            RpmRole::Kmod => "kernel module package",
            RpmRole::Source => "source package",
            RpmRole::Devel => "-devel package (build-time files, no modules)",
            RpmRole::Debuginfo => "debuginfo package",
            RpmRole::Debugsource => "debugsource package",
            RpmRole::Firmware => "firmware package",
            RpmRole::Other => "package without kernel modules or firmware",
        }
    }
}

fn regular_files(p: &RpmPackage) -> impl Iterator<Item = &str> {
    p.files
        .iter()
        .filter(|f| !f.ghost && f.linkto.is_none() && (f.mode & 0o170000) != 0o040000)
        .map(|f| f.path.trim_start_matches('/'))
}

fn all_under(p: &RpmPackage, prefixes: &[&str]) -> bool {
    let mut any = false;
    for f in regular_files(p) {
        if !prefixes.iter().any(|pre| f.starts_with(pre)) {
            return false;
        }
        any = true;
    }
    any
}

fn name_segment(name: &str, seg: &str) -> bool {
    name.ends_with(&format!("-{seg}")) || name.contains(&format!("-{seg}-"))
}

/// Classifies a package from its header: source flag, file list, name.
///
/// Order matters: a package that ships modules is a kmod whatever its name;
/// debug packages are recognised by name or by shipping only debug trees; a
/// package without modules is `-devel` by name (`kmod-x-devel`,
/// `kmod-x-devel-<kver>`) or because it ships `Module.symvers`/headers.
pub fn classify(p: &RpmPackage) -> RpmRole {
    let n = p.name.as_str();
    if p.is_source {
        return RpmRole::Source;
    }
    if n.ends_with("-debuginfo") || all_under(p, &["usr/lib/debug/"]) {
        return RpmRole::Debuginfo;
    }
    if n.ends_with("-debugsource") || all_under(p, &["usr/src/debug/"]) {
        return RpmRole::Debugsource;
    }
    if !p.module_paths().is_empty() {
        return RpmRole::Kmod;
    }
    let symvers = regular_files(p).any(|f| {
        Path::new(f)
            .file_name()
            .is_some_and(|b| b == "Module.symvers")
    });
    if name_segment(n, "devel") || symvers || all_under(p, &["usr/include/", "usr/src/"]) {
        return RpmRole::Devel;
    }
    if all_under(p, &["lib/firmware/", "usr/lib/firmware/"]) {
        return RpmRole::Firmware;
    }
    RpmRole::Other
}

/// A package with these regular files and nothing else, for unit tests.
#[cfg(test)]
pub(crate) fn sample(name: &str, arch: &str, files: &[&str]) -> RpmPackage {
    RpmPackage {
        path: format!("{name}.rpm").into(),
        name: name.into(),
        epoch: None,
        version: "1".into(),
        release: "1".into(),
        arch: arch.into(),
        is_source: false,
        provides: vec![],
        requires: vec![],
        conflicts: vec![],
        obsoletes: vec![],
        supplements: vec![],
        files: files
            .iter()
            .map(|f| crate::rpmpkg::RpmFileInfo {
                path: f.to_string(),
                mode: 0o100644,
                size: 1,
                linkto: None,
                ghost: false,
            })
            .collect(),
        payload_compressor: "xz".into(),
        post_install: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pkg(name: &str, arch: &str, files: &[&str]) -> RpmPackage {
        sample(name, arch, files)
    }

    #[test]
    fn header_decides_not_only_the_name() {
        let ko = "/lib/modules/5.14.0-1.el9.x86_64/extra/a/a.ko.xz";
        assert_eq!(classify(&pkg("kmod-a", "x86_64", &[ko])), RpmRole::Kmod);
        // A module package whose name happens to contain "devel" is still a kmod.
        assert_eq!(
            classify(&pkg("kmod-devel-tools", "x86_64", &[ko])),
            RpmRole::Kmod
        );
        let sv = "/usr/src/kmods/a/5.14.0-1/Module.symvers";
        assert_eq!(
            classify(&pkg("kmod-a-devel", "x86_64", &[sv])),
            RpmRole::Devel
        );
        assert_eq!(
            classify(&pkg("kmod-a-devel-5.14.0-1.el9.x86_64", "x86_64", &[sv])),
            RpmRole::Devel
        );
        // Renamed -devel: still recognised by what it ships.
        assert_eq!(classify(&pkg("a-symbols", "x86_64", &[sv])), RpmRole::Devel);
        let dbg = "/usr/lib/debug/lib/modules/5.14.0-1/extra/a/a.ko-1-1.x86_64.debug";
        assert_eq!(
            classify(&pkg("kmod-a-dbg", "x86_64", &[dbg])),
            RpmRole::Debuginfo
        );
        assert_eq!(
            classify(&pkg(
                "kmod-a-debugsource",
                "x86_64",
                &["/usr/src/debug/a/a.c"]
            )),
            RpmRole::Debugsource
        );
        assert_eq!(
            classify(&pkg("a-firmware", "noarch", &["/lib/firmware/a/fw.bin"])),
            RpmRole::Firmware
        );
        assert_eq!(
            classify(&pkg("a-tools", "x86_64", &["/usr/bin/a"])),
            RpmRole::Other
        );
        let mut src = pkg("kmod-a", "x86_64", &["a.c"]);
        src.is_source = true;
        assert_eq!(classify(&src), RpmRole::Source);
    }
}
