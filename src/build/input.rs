//! What a cell builds from: a spec text made for that cell, plus its sources.
//!
//! Two kinds of input implement [`SpecProvider`]: a package description
//! (rendered per cell by [`crate::spec`]) and a hand-written spec file
//! ([`SpecFile`]). Either way the spec handed to rpmbuild is self-contained:
//! kernel release, arch and flavor are written into it as `%global`s, so the
//! SRPM rebuilds unchanged in mock, Copr, Koji or OBS. Host-only facts (where
//! the headers are on *this* machine, signing key paths) are never written
//! into it; they are passed as `--define`s to the local binary build only.

use std::path::{Path, PathBuf};

use super::matrix::{BuildTarget, Cell, Package};
use super::sign::SigningRequest;
use super::BuildError;

/// One file to place in `SOURCES`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceFile {
    /// Copied from a file.
    Copy {
        /// Name in SOURCES.
        name: String,
        /// Where it is.
        from: PathBuf,
    },
    /// Generated content (a tarball made from a source directory).
    Bytes {
        /// Name in SOURCES.
        name: String,
        /// Content.
        data: Vec<u8>,
    },
}

impl SourceFile {
    /// Its file name in SOURCES.
    pub fn name(&self) -> &str {
        match self {
            SourceFile::Copy { name, .. } | SourceFile::Bytes { name, .. } => name,
        }
    }
}

/// The spec for one cell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreparedSpec {
    /// File name in SPECS (`kmod-foo.spec`).
    pub file_name: String,
    /// Spec text, self-contained.
    pub text: String,
    /// Sources and patches it names.
    pub sources: Vec<SourceFile>,
}

/// Something that can produce a spec per cell.
pub trait SpecProvider: Send + Sync {
    /// Name, dependencies and targets.
    fn package(&self) -> &Package;
    /// The file the user gave (for messages).
    fn input(&self) -> &Path;
    /// The spec for `cell`. `source_date_epoch` is the build's one
    /// timestamp (for sources it generates, such as a tarball of a source
    /// directory): it is decided once all inputs are loaded, from the first
    /// one's [`SpecProvider::changelog_epoch`], so it is handed in here
    /// rather than at load time. Errors are one line (the cell fails with it).
    fn prepare(&self, cell: &Cell, source_date_epoch: u64) -> Result<PreparedSpec, String>;
    /// The date of the input's newest changelog entry (00:00 UTC), if it
    /// has one: the build's SOURCE_DATE_EPOCH when this is the first input
    /// and neither the flag nor the environment sets it.
    fn changelog_epoch(&self) -> Option<u64>;
    /// Signing the input asks for (in addition to the command line's).
    fn signing(&self) -> Option<&SigningRequest> {
        None
    }
    /// Does it make a `-devel` package (its Module.symvers) that importers
    /// build-require?
    fn ships_devel(&self) -> bool {
        true
    }
    /// rpm macros the spec reads that only make sense on this machine, for
    /// the local binary build (never written into the SRPM).
    /// `deps` are the prerequisite packages' files on this machine.
    fn local_defines(&self, _cell: &Cell, _deps: &[DepFiles]) -> Vec<(String, String)> {
        Vec::new()
    }
}

/// What a prerequisite package (an exporter built earlier in the same run)
/// left for the local build of a package that depends on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DepFiles {
    /// Its package name (description `name` / spec `Name:`).
    pub package: String,
    /// Module.symvers written from its built modules.
    pub symvers: Option<PathBuf>,
    /// Its -devel tree (`/usr/src/<name>-<version>/` of its -devel RPM),
    /// unpacked into the cell's private work directory.
    pub devel_dir: Option<PathBuf>,
}

/// Macros kmodpack defines for every cell. A hand-written spec uses them to
/// know what it builds for (`%{kmodpack_kver}`, always the `uname -r`
/// spelling: `--kernel 5.14.0-503.11.1.el9_5` and `….x86_64` are the same
/// kernel); rendered specs get them too.
pub fn cell_globals(cell: &Cell) -> Vec<(String, String)> {
    let mut g = vec![
        ("kmodpack_kver".to_string(), cell.kernel.uname(&cell.arch)),
        ("kmodpack_arch".to_string(), cell.arch.clone()),
    ];
    if let Some(f) = &cell.flavor {
        g.push(("kmodpack_flavor".to_string(), f.clone()));
    }
    g
}

/// Prepends the cell's `%global`s to a spec text.
pub fn with_globals(cell: &Cell, text: &str) -> String {
    let mut out = format!("# kmodpack build: cell {}\n", cell.id());
    for (k, v) in cell_globals(cell) {
        out.push_str(&format!("%global {k} {v}\n"));
    }
    out.push_str(text);
    out
}

/// A hand-written spec file and the directory holding its sources.
#[derive(Debug, Clone)]
pub struct SpecFile {
    path: PathBuf,
    text: String,
    sources_dir: PathBuf,
    package: Package,
}

impl SpecFile {
    /// Reads `path`. Its `Name:` becomes the package name; `BuildRequires:`
    /// naming another package of the build (`other_names`: source names and
    /// the binary names they produce) make it depend on that package.
    pub fn read(
        path: &Path,
        sources_dir: Option<&Path>,
        targets: Vec<BuildTarget>,
    ) -> Result<SpecFile, BuildError> {
        let text = std::fs::read_to_string(path).map_err(super::io_err(path))?;
        let name = spec_tag(&text, "Name")
            .filter(|n| !n.contains('%') && !n.is_empty())
            .ok_or_else(|| {
                BuildError::Usage(format!(
                    "{}: no literal Name: tag (kmodpack needs the package name without macros)",
                    path.display()
                ))
            })?;
        let sources_dir = match sources_dir {
            Some(d) => d.to_path_buf(),
            None => path
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .unwrap_or(Path::new("."))
                .to_path_buf(),
        };
        let package = Package {
            name,
            depends_on: Vec::new(),
            targets,
        };
        Ok(SpecFile {
            path: path.to_path_buf(),
            text,
            sources_dir,
            package,
        })
    }

    /// Binary package names this spec produces (`%package -n X`, `%package
    /// sub` → `Name-sub`, and `Name` itself).
    pub fn binary_names(&self) -> Vec<String> {
        let mut names = vec![self.package.name.clone()];
        for l in self.text.lines() {
            let Some(rest) = l.trim().strip_prefix("%package") else {
                continue;
            };
            let words: Vec<&str> = rest.split_whitespace().collect();
            match words.as_slice() {
                ["-n", n, ..] => names.push(n.to_string()),
                [sub, ..] if !sub.starts_with('-') => {
                    names.push(format!("{}-{sub}", self.package.name))
                }
                _ => {}
            }
        }
        names
    }

    /// Records dependencies on other packages of the build: a
    /// `BuildRequires:` naming one of `others`' binary packages.
    pub fn resolve_dependencies(&mut self, others: &[(String, Vec<String>)]) {
        let wanted: Vec<String> = self
            .text
            .lines()
            .filter_map(|l| {
                let (tag, value) = l.split_once(':')?;
                (tag.trim().eq_ignore_ascii_case("BuildRequires")).then(|| value.to_string())
            })
            .flat_map(|v| {
                v.split([' ', ',', '\t'])
                    .map(str::to_string)
                    .collect::<Vec<_>>()
            })
            .filter(|w| !w.is_empty())
            .collect();
        for (pkg, bins) in others {
            if *pkg != self.package.name
                && bins.iter().any(|b| wanted.contains(b))
                && !self.package.depends_on.contains(pkg)
            {
                self.package.depends_on.push(pkg.clone());
            }
        }
    }

    /// The `SourceN:`/`PatchN:` file names (URL basenames) of the spec.
    /// Macros in them are expanded from the cell globals and `Name`/`Version`
    /// only; anything else must be literal.
    fn source_names(&self, cell: &Cell) -> Result<Vec<String>, String> {
        let version = spec_tag(&self.text, "Version").unwrap_or_default();
        let mut vars = cell_globals(cell);
        vars.push(("name".into(), self.package.name.clone()));
        vars.push(("version".into(), version));
        let mut out = Vec::new();
        for l in self.text.lines() {
            let Some((tag, value)) = l.split_once(':') else {
                continue;
            };
            let tag = tag.trim().to_ascii_lowercase();
            let is_src = tag
                .strip_prefix("source")
                .or_else(|| tag.strip_prefix("patch"));
            if !is_src.is_some_and(|n| n.chars().all(|c| c.is_ascii_digit())) {
                continue;
            }
            let mut v = value.trim().to_string();
            for (k, val) in &vars {
                v = v.replace(&format!("%{{{k}}}"), val);
            }
            if v.contains('%') {
                return Err(format!(
                    "{}: {}: cannot resolve macro in {:?}",
                    self.path.display(),
                    tag,
                    value.trim()
                ));
            }
            let base = v.rsplit('/').next().unwrap_or(&v).to_string();
            out.push(base);
        }
        Ok(out)
    }
}

impl SpecProvider for SpecFile {
    fn ships_devel(&self) -> bool {
        self.binary_names().iter().any(|n| n.contains("-devel"))
    }

    fn package(&self) -> &Package {
        &self.package
    }

    fn input(&self) -> &Path {
        &self.path
    }

    fn changelog_epoch(&self) -> Option<u64> {
        super::repro::epoch_from_changelog(&self.text)
    }

    fn prepare(&self, cell: &Cell, _source_date_epoch: u64) -> Result<PreparedSpec, String> {
        let mut sources = Vec::new();
        for name in self.source_names(cell)? {
            let from = self.sources_dir.join(&name);
            if !from.is_file() {
                return Err(format!(
                    "{}: source {name} not found in {}",
                    self.path.display(),
                    self.sources_dir.display()
                ));
            }
            sources.push(SourceFile::Copy { name, from });
        }
        let file_name = format!("{}.spec", self.package.name);
        Ok(PreparedSpec {
            file_name,
            text: with_globals(cell, &self.text),
            sources,
        })
    }
}

/// The value of the first `Tag:` line of a spec preamble.
pub fn spec_tag(text: &str, tag: &str) -> Option<String> {
    text.lines().find_map(|l| {
        let (t, v) = l.split_once(':')?;
        t.trim()
            .eq_ignore_ascii_case(tag)
            .then(|| v.trim().to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::build::kernel::KernelTarget;

    fn cell() -> Cell {
        Cell {
            package: "kmod-x".into(),
            kernel: KernelTarget {
                release: "5.14.0-1.el9.x86_64".into(),
                headers: None,
            },
            arch: "x86_64".into(),
            flavor: None,
        }
    }

    #[test]
    fn spec_file_names_sources_and_dependencies() {
        let dir = tempfile::tempdir().unwrap();
        let spec = dir.path().join("x.spec");
        std::fs::write(
            &spec,
            "Name: kmod-x\nVersion: 1.2\nSource0: https://example.org/%{name}-%{version}.tar.gz\nPatch1: fix.patch\n\
             BuildRequires: kmod-exp-devel, gcc\n%package -n kmod-x-devel\nSummary: d\n",
        )
        .unwrap();
        std::fs::write(dir.path().join("kmod-x-1.2.tar.gz"), b"t").unwrap();
        let mut s = SpecFile::read(&spec, None, vec![]).unwrap();
        assert_eq!(s.binary_names(), vec!["kmod-x", "kmod-x-devel"]);
        s.resolve_dependencies(&[(
            "kmod-exp".into(),
            vec!["kmod-exp".into(), "kmod-exp-devel".into()],
        )]);
        assert_eq!(s.package().depends_on, vec!["kmod-exp"]);
        let err = s.prepare(&cell(), 0).unwrap_err();
        assert!(err.contains("source fix.patch not found"), "{err}");
        std::fs::write(dir.path().join("fix.patch"), b"p").unwrap();
        let p = s.prepare(&cell(), 0).unwrap();
        assert_eq!(
            p.sources.iter().map(|s| s.name()).collect::<Vec<_>>(),
            vec!["kmod-x-1.2.tar.gz", "fix.patch"]
        );
        assert!(p.text.starts_with("# kmodpack build: cell kmod-x/5.14.0-1.el9.x86_64/x86_64\n%global kmodpack_kver 5.14.0-1.el9.x86_64\n"));
    }
}
