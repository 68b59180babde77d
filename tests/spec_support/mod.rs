//! Helpers shared by the `kmodpack spec` tests: render an example, lay out
//! an rpmbuild tree, run the real rpmbuild/rpmspec/rpm.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common;

/// `specs/<name>/<name>.yaml`.
pub fn example(name: &str) -> PathBuf {
    common::repo()
        .join("specs")
        .join(name)
        .join(format!("{name}.yaml"))
}

/// Every example description under specs/.
pub fn examples() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(common::repo().join("specs"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .map(|d| d.join(format!("{}.yaml", d.file_name().unwrap().to_string_lossy())))
        .filter(|p| p.is_file())
        .collect();
    v.sort();
    // The tests loop over these: an empty or shrunken list would let them
    // pass without testing anything.
    let names: Vec<String> = v
        .iter()
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    for want in ["kpx-lustre", "kpx-ssd", "kpx-watchdog", "kpx-zfs"] {
        assert!(
            names.iter().any(|n| n == want),
            "specs/{want}/{want}.yaml not found (have: {names:?})"
        );
    }
    v
}

/// An rpmbuild `_topdir` with SPECS and SOURCES.
pub struct Topdir {
    pub dir: tempfile::TempDir,
}

impl Topdir {
    pub fn new() -> Topdir {
        let dir = tempfile::Builder::new()
            .prefix("kmodpack-spec-")
            .tempdir()
            .unwrap();
        for d in ["SPECS", "SOURCES"] {
            std::fs::create_dir_all(dir.path().join(d)).unwrap();
        }
        Topdir { dir }
    }
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Renders `desc` into SPECS/<stem>.spec with its sources in SOURCES,
    /// compiling against the installed Debian headers and running this
    /// build's kmodpack as the dependency generator.
    pub fn render(&self, desc: &Path, extra: &[&str]) -> PathBuf {
        let stem = desc.file_stem().unwrap().to_string_lossy().into_owned();
        let spec = self.path().join("SPECS").join(format!("{stem}.spec"));
        let (code, out, err) = common::run(
            common::kmodpack()
                .arg("spec")
                .arg(desc)
                .arg("-o")
                .arg(&spec)
                .arg("--force")
                .arg("--sources")
                .arg(self.path().join("SOURCES"))
                .arg("--kernel-build-dir")
                .arg(common::headers_dir())
                .arg("--kmodpack-command")
                .arg(env!("CARGO_BIN_EXE_kmodpack"))
                .args(extra),
        );
        assert_eq!(code, 0, "kmodpack spec {}: {out}{err}", desc.display());
        spec
    }

    /// rpmbuild -ba (--nodeps: Debian has no kernel-devel in its rpmdb).
    /// Returns (exit code, log).
    pub fn rpmbuild(&self, spec: &Path, defines: &[(&str, &str)]) -> (i32, String) {
        self.rpmbuild_args(spec, defines, &[])
    }

    /// [`Topdir::rpmbuild`] with more rpmbuild options (`--noclean` keeps
    /// BUILD/ for reading kbuild's own outputs).
    pub fn rpmbuild_args(
        &self,
        spec: &Path,
        defines: &[(&str, &str)],
        args: &[&str],
    ) -> (i32, String) {
        let mut cmd = Command::new("rpmbuild");
        cmd.arg("-ba")
            .args(args)
            .arg("--nodeps")
            .arg("--define")
            .arg(format!("_topdir {}", self.path().display()));
        for (k, v) in defines {
            cmd.arg("--define").arg(format!("{k} {v}"));
        }
        cmd.arg(spec);
        let (code, out, err) = common::run(&mut cmd);
        (code, format!("{out}{err}"))
    }

    /// Path of a built binary RPM by file name prefix (`kmod-kpx-zfs-2`).
    pub fn rpm(&self, prefix: &str) -> PathBuf {
        self.find("RPMS/x86_64", prefix)
    }

    /// Path of a built source RPM by file name prefix.
    pub fn srpm(&self, prefix: &str) -> PathBuf {
        self.find("SRPMS", prefix)
    }

    /// The one file in `sub` (below the topdir) whose name starts with `prefix`.
    fn find(&self, sub: &str, prefix: &str) -> PathBuf {
        let dir = self.path().join(sub);
        let mut found: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with(prefix))
            .collect();
        assert_eq!(
            found.len(),
            1,
            "expected one {prefix}* in {}: {found:?}",
            dir.display()
        );
        found.pop().unwrap()
    }
}

/// `rpmspec -P` of `spec` with `--define`s, by the host's rpm (`root`
/// `None`) or inside the chroot `root` (the spec copied into its /tmp):
/// (exit code, stdout, stderr).
pub fn rpmspec_p(
    root: Option<&Path>,
    spec: &Path,
    defines: &[(&str, &str)],
) -> (i32, String, String) {
    let mut cmd;
    let _copy;
    match root {
        None => {
            cmd = Command::new("rpmspec");
            cmd.arg("-P").arg(spec);
        }
        Some(root) => {
            let dir = tempfile::Builder::new()
                .prefix("kmodpack-rpmspec-")
                .tempdir_in(root.join("tmp"))
                .unwrap();
            let name = spec.file_name().unwrap();
            std::fs::copy(spec, dir.path().join(name)).unwrap();
            let inner = Path::new("/").join(dir.path().strip_prefix(root).unwrap());
            cmd = Command::new("chroot");
            cmd.arg(root).arg("rpmspec").arg("-P").arg(inner.join(name));
            _copy = dir;
        }
    }
    for (k, v) in defines {
        cmd.arg("--define").arg(format!("{k} {v}"));
    }
    common::run(&mut cmd)
}

/// `rpm -qp <query>` lines.
pub fn rpmq(rpm: &Path, query: &[&str]) -> Vec<String> {
    common::rpm_qp(rpm, query)
}

#[allow(unused_imports)]
pub use crate::common::rpm_unpack as extract;

/// `(sym, crc)` pairs of a Module.symvers, as `ksym(sym) = 0x%08x` lines.
pub fn symvers_ksyms(symvers: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(symvers).unwrap();
    let mut v: Vec<String> = text
        .lines()
        .filter_map(|l| {
            let mut f = l.split('\t');
            let crc = u32::from_str_radix(f.next()?.trim_start_matches("0x"), 16).ok()?;
            Some(format!("ksym({}) = 0x{crc:08x}", f.next()?))
        })
        .collect();
    v.sort();
    v
}

/// Where the spec tests run `rpmspec`: the host's rpm 4.18 (`None`), then
/// the rpm 4.16 and 4.20 chroots.
pub fn rpm_roots() -> Vec<Option<PathBuf>> {
    let mut roots: Vec<Option<PathBuf>> = vec![None];
    roots.extend(
        [common::RPM416, common::RPM420]
            .map(common::rpm_chroot)
            .into_iter()
            .map(Some),
    );
    roots
}

/// `rpmspec -P` of `spec` inside `root` (the host when `None`): the output.
/// Fails on an error or a warning.
pub fn rpmspec_parse(root: Option<&Path>, spec: &Path) -> String {
    rpmspec_parse_with(root, spec, &[])
}

/// [`rpmspec_parse`] with `--define`s (`("_without_zfs", "--without-zfs")`
/// is what `rpmbuild --without zfs` defines).
pub fn rpmspec_parse_with(root: Option<&Path>, spec: &Path, defines: &[(&str, &str)]) -> String {
    let (code, out, err) = rpmspec_p(root, spec, defines);
    assert_eq!(code, 0, "rpmspec -P {defines:?} in {root:?}: {err}");
    assert!(
        !err.contains("warning"),
        "rpmspec {defines:?} in {root:?} warns: {err}"
    );
    out
}
