//! The mock backend: `mock -r CFG --rebuild SRPM --resultdir DIR`.
//!
//! The SRPM is made on the host (rpmbuild -bs, no build dependencies
//! needed), then rebuilt in a clean chroot. An importer kmod sees its
//! exporter's RPMs through `--addrepo` of the exporter cell's result
//! directory (indexed with createrepo_c first), so its `BuildRequires:
//! kmod-<exporter>-devel` resolves inside the chroot. Each cell gets its own
//! chroot (`--uniqueext`) so `-j` cells do not fight over one root lock.
//! mock does not pass the host environment into the chroot, so the
//! reproducibility settings travel as rpm macros
//! (`source_date_epoch_from_changelog`).
//! kmodpack itself (every generated spec's `BuildRequires: kmodpack`) is
//! offered the same way: a local repository holding the running binary
//! packaged as an RPM ([`super::selfpkg`]), or one the user names.

use std::path::{Path, PathBuf};

use super::process::Invocation;
use super::repro::Reproducibility;
use super::BuildError;

/// How mock is run (same for every cell).
#[derive(Debug, Clone)]
pub struct MockSettings {
    /// The program (`mock`).
    pub program: String,
    /// `-r` config name or file; `{arch}` is replaced by the cell's arch
    /// (`rhel-9-{arch}` → `rhel-9-aarch64`).
    pub config: String,
    /// User `--define`s.
    pub defines: Vec<(String, String)>,
    /// Build host and timestamp pinning: the same macros as rpmbuild's
    /// ([`Reproducibility::rpm_defines`]); the epoch itself comes from the
    /// changelog inside the chroot.
    pub repro: Reproducibility,
    /// Extra arguments passed verbatim (`--mock-arg`).
    pub extra_args: Vec<String>,
    /// Where the chroot gets kmodpack (`BuildRequires: kmodpack`).
    pub kmodpack: KmodpackSource,
}

/// Where a mock chroot gets the kmodpack package every generated spec
/// build-requires (`--kmodpack-repo`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KmodpackSource {
    /// The running binary (the path given, the one rpmbuild's dependency
    /// generator runs too), packaged by [`super::selfpkg`] into a local
    /// repository in the result directory (the default).
    SelfPackage(PathBuf),
    /// A repository directory (createrepo_c'd, e.g. `make rpm`'s RPMs).
    Repo(PathBuf),
    /// Nothing offered: the mock config's own repositories have kmodpack.
    Config,
}

impl MockSettings {
    /// The `-r` value for `arch`.
    pub fn config_for(&self, arch: &str) -> String {
        self.config.replace("{arch}", arch)
    }

    /// The rebuild command of one cell.
    pub fn rebuild(
        &self,
        srpm: &Path,
        resultdir: &Path,
        arch: &str,
        uniqueext: &str,
        addrepos: &[PathBuf],
        local: &[(String, String)],
    ) -> Invocation {
        let mut inv = Invocation::new(&self.program);
        inv.arg("-r").arg(self.config_for(arch));
        inv.arg("--rebuild").arg(srpm.display().to_string());
        inv.arg("--resultdir").arg(resultdir.display().to_string());
        inv.arg("--uniqueext").arg(uniqueext);
        inv.arg("--target").arg(arch);
        let own = match &self.kmodpack {
            KmodpackSource::Repo(r) => Some(r),
            KmodpackSource::SelfPackage(_) | KmodpackSource::Config => None,
        };
        for r in own.into_iter().chain(addrepos) {
            inv.arg("--addrepo").arg(format!("file://{}", r.display()));
        }
        inv.define("source_date_epoch_from_changelog", "1");
        for (k, v) in self.repro.rpm_defines() {
            inv.define(&k, &v);
        }
        for (k, v) in self.defines.iter().chain(local) {
            inv.define(k, v);
        }
        inv.args.extend(self.extra_args.iter().cloned());
        inv
    }
}

/// The error when mock is not installed, with what to do instead.
pub fn missing() -> BuildError {
    BuildError::ToolMissing {
        program: "mock".into(),
        hint: "the mock backend needs mock(1) (Fedora/EL: `dnf install mock`, user in the `mock` group); \
               Debian and Ubuntu do not ship it. Use --backend rpmbuild here, or --srpm-only and rebuild \
               the SRPMs in Copr, Koji or OBS"
            .into(),
    }
}

/// What a mock result directory holds after a rebuild.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MockResult {
    /// The SRPM mock rebuilt (mock copies it to the result dir).
    pub srpm: Option<PathBuf>,
    /// Binary RPMs, sorted.
    pub rpms: Vec<PathBuf>,
    /// Log files (`build.log`, `root.log`, `state.log`, ...), sorted.
    pub logs: Vec<PathBuf>,
}

impl MockResult {
    /// The log a human reads first: `build.log` (rpmbuild's output).
    pub fn build_log(&self) -> Option<&Path> {
        self.logs
            .iter()
            .find(|l| l.file_name().is_some_and(|f| f == "build.log"))
            .map(PathBuf::as_path)
    }
}

/// Collects RPMs and logs from a mock result directory.
pub fn collect(resultdir: &Path) -> std::io::Result<MockResult> {
    let mut r = MockResult::default();
    let mut entries: Vec<PathBuf> = std::fs::read_dir(resultdir)?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .collect();
    entries.sort();
    for p in entries {
        let name = p
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_default();
        if name.ends_with(".src.rpm") {
            r.srpm = Some(p);
        } else if name.ends_with(".rpm") {
            r.rpms.push(p);
        } else if name.ends_with(".log") {
            r.logs.push(p);
        }
    }
    Ok(r)
}

/// Why a mock build failed, from its logs: the first `error:` lines of
/// build.log (rpmbuild), else package-manager errors from root.log (missing
/// BuildRequires), else the end of state.log.
pub fn failure_reason(resultdir: &Path) -> Option<String> {
    let read = |f: &str| std::fs::read_to_string(resultdir.join(f)).ok();
    let pick = |text: &str, pred: &dyn Fn(&str) -> bool| -> Option<String> {
        let lines: Vec<&str> = text
            .lines()
            .map(|l| strip_log_prefix(l).trim())
            .filter(|l| pred(l))
            .take(3)
            .collect();
        (!lines.is_empty()).then(|| lines.join("; "))
    };
    if let Some(t) = read("build.log") {
        if let Some(s) = pick(&t, &|l| {
            l.starts_with("error:")
                || l.contains(": error:")
                || l.starts_with("make") && l.contains("Error")
        }) {
            return Some(format!("build.log: {s}"));
        }
    }
    if let Some(t) = read("root.log") {
        if let Some(s) = pick(&t, &|l| {
            l.starts_with("No matching package to install")
                || l.starts_with("Error:")
                || l.starts_with("Problem")
        }) {
            return Some(format!("root.log: {s}"));
        }
    }
    let t = read("state.log")?;
    t.lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .map(|l| format!("state.log: {}", strip_log_prefix(l).trim()))
}

/// Drops mock's `DEBUG util.py:446:  ` style prefixes.
fn strip_log_prefix(line: &str) -> &str {
    for level in ["DEBUG ", "INFO ", "WARNING ", "ERROR "] {
        if let Some(rest) = line.strip_prefix(level) {
            // `util.py:446:  text`
            if let Some((_, text)) = rest.split_once(":  ") {
                return text;
            }
            return rest;
        }
    }
    // `2026-11-21 15:10:00,123 - INFO - text` (state.log)
    if let Some((_, text)) = line.rsplit_once(" - ") {
        if line.len() > 24 && line.as_bytes()[4] == b'-' {
            return text;
        }
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rebuild_command_line() {
        let m = MockSettings {
            program: "mock".into(),
            config: "rhel-9-{arch}".into(),
            defines: vec![],
            repro: Reproducibility {
                source_date_epoch: 1_700_000_000,
                buildhost: "kmodpack".into(),
            },
            extra_args: vec!["--no-cleanup-after".into()],
            kmodpack: KmodpackSource::Repo(PathBuf::from("/r/kmodpack-repo")),
        };
        let i = m.rebuild(
            Path::new("/r/a/kmod-x-1-1.src.rpm"),
            Path::new("/r/b"),
            "aarch64",
            "kmod-x-5.14-aarch64",
            &[PathBuf::from("/r/exp")],
            &[("kmodpack_sign_hash".into(), "sha256".into())],
        );
        assert_eq!(
            &i.args[..12],
            [
                "-r",
                "rhel-9-aarch64",
                "--rebuild",
                "/r/a/kmod-x-1-1.src.rpm",
                "--resultdir",
                "/r/b",
                "--uniqueext",
                "kmod-x-5.14-aarch64",
                "--target",
                "aarch64",
                "--addrepo",
                "file:///r/kmodpack-repo"
            ]
        );
        assert_eq!(i.args[12..14], ["--addrepo", "file:///r/exp"]);
        assert_eq!(i.defined("source_date_epoch_from_changelog"), Some("1"));
        assert_eq!(i.defined("use_source_date_epoch_as_buildtime"), Some("1"));
        assert_eq!(i.defined("clamp_mtime_to_source_date_epoch"), Some("1"));
        assert_eq!(i.defined("_buildhost"), Some("kmodpack"));
        assert_eq!(i.defined("kmodpack_sign_hash"), Some("sha256"));
        assert_eq!(i.args.last().unwrap(), "--no-cleanup-after");
    }

    #[test]
    fn log_prefixes() {
        assert_eq!(
            strip_log_prefix("DEBUG util.py:446:  error: Bad exit status"),
            "error: Bad exit status"
        );
        assert_eq!(
            strip_log_prefix("2026-11-21 15:10:00,123 - INFO - Finish: build phase"),
            "Finish: build phase"
        );
        assert_eq!(strip_log_prefix("plain"), "plain");
    }
}
