//! The rpmbuild backend: a private `_topdir` per cell, SRPM first, then the
//! binary RPMs rebuilt from that SRPM in a second, empty `_topdir`.
//!
//! Rebuilding from the SRPM (instead of `-ba` on the working tree) proves on
//! every local build that the SRPM is self-contained, which is what Copr,
//! Koji and OBS will do with it. `HOME` points at an empty private directory
//! so the user's `~/.rpmmacros` cannot change the result unless asked for.

use std::path::{Path, PathBuf};

use super::input::{PreparedSpec, SourceFile};
use super::process::Invocation;
use super::repro::Reproducibility;

/// How rpmbuild is run (same for every cell).
#[derive(Debug, Clone)]
pub struct RpmbuildSettings {
    /// The program (`rpmbuild`).
    pub program: String,
    /// Pass `--nodeps` to the binary build (BuildRequires not checked).
    pub nodeps: bool,
    /// Let `~/.rpmmacros` (the real HOME) take part.
    pub user_macros: bool,
    /// User `--define`s, applied to every rpmbuild call.
    pub defines: Vec<(String, String)>,
    /// Timestamp and host pinning.
    pub repro: Reproducibility,
    /// kmodpack's dependency generator.
    pub generator: Option<GeneratorHook>,
}

/// How kmodpack's own ksym()/kernel()/kmod() generator is hooked into rpmbuild.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeneratorHook {
    /// The kmodpack binary the generator runs (the one running now).
    pub kmodpack: PathBuf,
    /// A private fileattrs directory (stock attrs + kmodpack's), if prepared.
    pub fileattrs_dir: Option<PathBuf>,
}

/// The directories of one private rpm tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Topdir {
    /// `_topdir`.
    pub root: PathBuf,
}

impl Topdir {
    /// Creates `root` with SPECS, SOURCES and the private HOME and tmp dirs.
    pub fn create(root: &Path) -> std::io::Result<Topdir> {
        for d in [
            "SPECS",
            "SOURCES",
            "SRPMS",
            "RPMS",
            "BUILD",
            "BUILDROOT",
            "tmp",
            "home",
        ] {
            std::fs::create_dir_all(root.join(d))?;
        }
        Ok(Topdir {
            root: root.to_path_buf(),
        })
    }

    /// Writes the spec and its sources; returns the spec path.
    pub fn stage(&self, spec: &PreparedSpec) -> std::io::Result<PathBuf> {
        let path = self.root.join("SPECS").join(&spec.file_name);
        std::fs::write(&path, &spec.text)?;
        for s in &spec.sources {
            let dest = self.root.join("SOURCES").join(s.name());
            match s {
                SourceFile::Copy { from, .. } => {
                    std::fs::copy(from, &dest).map_err(|e| {
                        std::io::Error::new(e.kind(), format!("{}: {e}", from.display()))
                    })?;
                }
                SourceFile::Bytes { data, .. } => std::fs::write(&dest, data)?,
            }
        }
        Ok(path)
    }

    /// Files with `suffix` below `sub` (recursively), sorted.
    pub fn outputs(&self, sub: &str, suffix: &str) -> Vec<PathBuf> {
        let mut v: Vec<PathBuf> = walkdir::WalkDir::new(self.root.join(sub))
            .into_iter()
            .flatten()
            .filter(|e| {
                e.file_type().is_file() && e.file_name().to_string_lossy().ends_with(suffix)
            })
            .map(|e| e.into_path())
            .collect();
        v.sort();
        v
    }
}

impl RpmbuildSettings {
    fn common(&self, top: &Topdir, inv: &mut Invocation) {
        inv.define("_topdir", &top.root.display().to_string());
        inv.define("_tmppath", &top.root.join("tmp").display().to_string());
        for (k, v) in self.repro.rpm_defines() {
            inv.define(&k, &v);
        }
        for (k, v) in &self.defines {
            inv.define(k, v);
        }
        inv.env = self.repro.env();
        if !self.user_macros {
            inv.env
                .push(("HOME".into(), top.root.join("home").display().to_string()));
            inv.env_remove.push("XDG_CONFIG_HOME".into());
        }
    }

    /// `rpmbuild -bs`: the SRPM. Build dependencies are never checked here
    /// (making an SRPM needs none of them).
    pub fn srpm(&self, top: &Topdir, spec: &Path) -> Invocation {
        let mut inv = Invocation::new(&self.program);
        inv.arg("-bs").arg("--nodeps");
        self.common(top, &mut inv);
        inv.arg(spec.display().to_string());
        inv
    }

    /// `rpmbuild --rebuild SRPM`: the binary RPMs, with the host-only
    /// defines of the cell (headers dir, signing key, exporters' symvers) and
    /// kmodpack's generator.
    pub fn binary(
        &self,
        top: &Topdir,
        srpm: &Path,
        arch: &str,
        local: &[(String, String)],
    ) -> Invocation {
        let mut inv = Invocation::new(&self.program);
        inv.arg("--rebuild");
        if self.nodeps {
            inv.arg("--nodeps");
        }
        inv.arg("--target").arg(arch);
        self.common(top, &mut inv);
        if let Some(g) = &self.generator {
            // Every macro as a --define: rpmbuild re-reads its configuration
            // for --target and drops files given with --load, but keeps
            // command-line defines (also through --rebuild).
            for (k, v) in attr_defines(&g.kmodpack) {
                inv.define(&k, &v);
            }
            inv.define("_kmodpack_bin", &g.kmodpack.display().to_string());
            if let Some(d) = &g.fileattrs_dir {
                inv.define("_fileattrsdir", &d.display().to_string());
            }
        }
        for (k, v) in local {
            inv.define(k, v);
        }
        inv.arg(srpm.display().to_string());
        inv
    }
}

use crate::spec::generator::KMODPACK_ATTR;

/// The macros of kmodpack.attr (binary path filled in) as (name, body)
/// pairs, in file order: what `kmodpack build` passes as `--define`s.
pub fn attr_defines(kmodpack: &Path) -> Vec<(String, String)> {
    crate::spec::generator::attr_macros(&kmodpack.display().to_string())
}

/// The distro classes that generate kmodpack's kind of lines for modules:
/// Red Hat's kernel-rpm-macros (`kabi`, `kmod`, `modalias`,
/// `provided_ksyms`, `required_ksyms`) and SUSE's (`kmp`, `modulesload`).
/// A private fileattrs directory leaves them out, so a package kmodpack
/// builds gets kmodpack's lines only (rpm would take the union); every other
/// stock class (ELF, scripts, pkgconfig…) keeps running. Generated specs
/// (templates/_common.tera) and macros.kmodpack leave out the same list.
pub const FOREIGN_CLASSES: [&str; 7] = [
    "kabi",
    "kmod",
    "kmp",
    "modalias",
    "modulesload",
    "provided_ksyms",
    "required_ksyms",
];

/// Makes a private fileattrs directory: links to the stock `*.attr` files
/// but [`FOREIGN_CLASSES`], plus kmodpack.attr pointing at `kmodpack` (the
/// running binary). rpm only
/// learns class names from `_fileattrsdir`; kmodpack's macros come from
/// [`attr_defines`], the stock ones from rpm's own macro path.
pub fn prepare_fileattrs(dir: &Path, kmodpack: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let stock = PathBuf::from("/usr/lib/rpm/fileattrs");
    if let Ok(entries) = std::fs::read_dir(&stock) {
        for e in entries.flatten() {
            let name = e.file_name();
            let n = name.to_string_lossy();
            let class = n.strip_suffix(".attr").unwrap_or(&n);
            if n.ends_with(".attr") && class != "kmodpack" && !FOREIGN_CLASSES.contains(&class) {
                let link = dir.join(&name);
                if !link.exists() {
                    std::os::unix::fs::symlink(e.path(), link)?;
                }
            }
        }
    }
    std::fs::write(
        dir.join("kmodpack.attr"),
        KMODPACK_ATTR.replace("@KMODPACK@", &kmodpack.display().to_string()),
    )
}

/// True when this machine's rpm database does not even know the `rpm`
/// package (Debian/Ubuntu: rpm is installed by dpkg): BuildRequires such as
/// kernel-devel can never be satisfied, so `--nodeps` is needed.
pub fn host_rpmdb_is_foreign() -> bool {
    use crate::process::{Command, Sink};
    let out = Command::new("rpm")
        .args(["-q", "--quiet", "rpm"])
        .stdout(Sink::Null)
        .stderr(Sink::Null)
        .run();
    out.is_err()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> RpmbuildSettings {
        RpmbuildSettings {
            program: "rpmbuild".into(),
            nodeps: true,
            user_macros: false,
            defines: vec![("dist".into(), ".el9".into())],
            repro: Reproducibility {
                source_date_epoch: 1_700_000_000,
                buildhost: "kmodpack".into(),
            },
            generator: Some(GeneratorHook {
                kmodpack: "/usr/bin/kmodpack".into(),
                fileattrs_dir: None,
            }),
        }
    }

    #[test]
    fn srpm_and_binary_command_lines() {
        let s = settings();
        let top = Topdir {
            root: "/w/top".into(),
        };
        let i = s.srpm(&top, Path::new("/w/top/SPECS/x.spec"));
        assert_eq!(&i.args[..2], ["-bs", "--nodeps"]);
        assert_eq!(i.defined("_topdir"), Some("/w/top"));
        assert_eq!(i.defined("use_source_date_epoch_as_buildtime"), Some("1"));
        assert_eq!(i.defined("clamp_mtime_to_source_date_epoch"), Some("1"));
        assert_eq!(i.defined("_buildhost"), Some("kmodpack"));
        assert_eq!(i.defined("dist"), Some(".el9"));
        assert_eq!(
            i.defined("_kmodpack_bin"),
            None,
            "the SRPM step needs no generator"
        );
        assert!(i.env.contains(&("HOME".into(), "/w/top/home".into())));
        assert!(i
            .env
            .contains(&("SOURCE_DATE_EPOCH".into(), "1700000000".into())));
        assert_eq!(i.args.last().unwrap(), "/w/top/SPECS/x.spec");

        let b = s.binary(
            &top,
            Path::new("/r/x-1-1.src.rpm"),
            "aarch64",
            &[("kmodpack_kdir".into(), "/k".into())],
        );
        assert_eq!(
            &b.args[..4],
            ["--rebuild", "--nodeps", "--target", "aarch64"]
        );
        assert_eq!(b.defined("_kmodpack_bin"), Some("/usr/bin/kmodpack"));
        assert!(
            !b.args.iter().any(|a| a == "--load"),
            "--target drops --load"
        );
        assert_eq!(
            b.defined("__kmodpack_provides_cmd"),
            Some("%{?_kmodpack_bin}%{!?_kmodpack_bin:/usr/bin/kmodpack} deps provides %{__kmodpack_opts}")
        );
        assert!(b.defined("__kmodpack_path").is_some());
        // The parametric (in-process) generators, their Lua continued over
        // lines: one --define each.
        assert!(b.defined("__kmodpack_provides()").is_some());
        assert!(b.defined("__kmodpack_requires()").is_some());
        let lua = b.defined("__kmodpack_lua").unwrap();
        assert!(
            lua.starts_with("%{lua:\\\nif not kmodpack_answer then"),
            "{lua}"
        );
        assert!(lua.ends_with("end\\\n}"), "{lua}");
        assert_eq!(b.defined("kmodpack_kdir"), Some("/k"));
        assert_eq!(b.args.last().unwrap(), "/r/x-1-1.src.rpm");
    }

    #[test]
    fn one_list_of_foreign_classes() {
        let template = include_str!("../../templates/_common.tera");
        let macros = include_str!("../../templates/rpm/macros.kmodpack");
        for c in FOREIGN_CLASSES {
            assert!(template.contains(&format!("|{c}.attr")), "{c}");
            assert!(macros.contains(&format!(" {c} ")), "{c}");
        }
    }

    #[test]
    fn user_macros_keep_home() {
        let mut s = settings();
        s.user_macros = true;
        s.nodeps = false;
        let b = s.binary(
            &Topdir { root: "/t".into() },
            Path::new("/x.src.rpm"),
            "x86_64",
            &[],
        );
        assert!(!b.env.iter().any(|(k, _)| k == "HOME"));
        assert!(!b.args.contains(&"--nodeps".to_string()));
    }
}
