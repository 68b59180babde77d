//! `kmodpack deps` inside real rpmbuild 4.18 and real rpm dependency
//! resolution.
//!
//! Two out-of-tree modules compiled from `tests/modules/` against the
//! installed Debian headers (`kpx_export` exports plain, GPL, namespaced and
//! data symbols; `kpx_import` uses them) are packaged as kmod RPMs with
//! kmodpack hooked in through `templates/rpm/kmodpack.attr` (private
//! `_fileattrsdir` + `--load`). A kernel RPM provides `kernel(sym) = crc` for
//! every line of the headers' Module.symvers. Then, in a private rpm root,
//! rpm itself decides: all three resolve; without the exporter rpm names the
//! missing ksym(); with an exporter whose `kpx_add` changed signature (new
//! CRC) rpm refuses. Oracles: modpost's Module.symvers (exports), kmod's
//! `modprobe --dump-modversions` (imports), and rpm.

mod common;
mod deps_support;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{build_module, kernel_release, kernel_symvers, kmodpack, kpx_pair, repo, run};
use deps_support::{tv1, tv7_mod_b};

/// An rpmbuild top directory with kmodpack's attr file (binary path filled
/// in) beside symlinks to the stock attrs, as test-environment.md §3
/// recommends. rpmbuild runs on the host, or in `root` (a chroot with
/// another rpm): then the directory and a copy of kmodpack live inside it.
struct Top {
    _tmp: tempfile::TempDir,
    dir: PathBuf,
    root: Option<PathBuf>,
}

impl Top {
    fn new() -> Top {
        Top::in_root(None)
    }

    fn in_root(root: Option<&Path>) -> Top {
        let mut b = tempfile::Builder::new();
        b.prefix("kmodpack-deps-rpm");
        let tmp = match root {
            Some(r) => b.tempdir_in(r.join("tmp")),
            None => b.tempdir(),
        }
        .unwrap();
        let dir = tmp.path().to_path_buf();
        let top = Top {
            _tmp: tmp,
            dir: dir.clone(),
            root: root.map(Path::to_path_buf),
        };
        for d in ["SOURCES", "SPECS", "attrs", "RPMS", "bin"] {
            std::fs::create_dir_all(dir.join(d)).unwrap();
        }
        let stock = Path::new("/usr/lib/rpm/fileattrs");
        for e in std::fs::read_dir(top.host(stock)).unwrap().flatten() {
            std::os::unix::fs::symlink(
                stock.join(e.file_name()),
                dir.join("attrs").join(e.file_name()),
            )
            .unwrap();
        }
        let bin = match root {
            Some(_) => top.install_kmodpack(),
            None => PathBuf::from(env!("CARGO_BIN_EXE_kmodpack")),
        };
        for f in ["kmodpack.attr", "macros.kmodpack"] {
            let t = std::fs::read_to_string(repo().join("templates/rpm").join(f)).unwrap();
            let t = t.replace("@KMODPACK@", &bin.display().to_string());
            std::fs::write(dir.join("attrs").join(f), t).unwrap();
        }
        top
    }

    /// Copies the portable (static) kmodpack into the chroot, where it runs
    /// with no library of the host's; returns its path inside.
    fn install_kmodpack(&self) -> PathBuf {
        let bin = self.dir.join("bin/kmodpack");
        std::fs::copy(common::portable_kmodpack(), &bin).unwrap();
        self.inner(&bin)
    }

    /// A host path as rpmbuild sees it.
    fn inner(&self, host: &Path) -> PathBuf {
        match &self.root {
            Some(r) => Path::new("/").join(host.strip_prefix(r).unwrap()),
            None => host.to_path_buf(),
        }
    }

    /// A path rpmbuild printed, on the host.
    fn host(&self, inner: &Path) -> PathBuf {
        match &self.root {
            Some(r) => r.join(inner.strip_prefix("/").unwrap()),
            None => inner.to_path_buf(),
        }
    }

    /// Writes a kmod spec installing `files` (source file, install path).
    fn kmod_spec(&self, name: &str, version: &str, files: &[(&Path, &str)]) -> PathBuf {
        let mut install = String::new();
        let mut list = String::new();
        for (i, (src, dest)) in files.iter().enumerate() {
            let sname = format!("{name}-{i}-{}", src.file_name().unwrap().to_string_lossy());
            std::fs::copy(src, self.dir.join("SOURCES").join(&sname)).unwrap();
            install +=
                &format!("install -D -m 0644 %{{_sourcedir}}/{sname} %{{buildroot}}{dest}\n");
            list += &format!("{dest}\n");
        }
        let spec = format!(
            "Name: {name}\nVersion: {version}\nRelease: 1\nSummary: kmodpack deps test package\nLicense: GPL-2.0-only\n\
             %description\nkmodpack deps test package.\n%prep\n%build\n%install\n{install}%files\n{list}"
        );
        let p = self
            .dir
            .join("SPECS")
            .join(format!("{name}-{version}.spec"));
        std::fs::write(&p, spec).unwrap();
        p
    }

    /// rpmbuild -bb with kmodpack hooked in (unless `hooked` is false).
    fn build(&self, spec: &Path, hooked: bool, defines: &[&str]) -> (i32, String, PathBuf) {
        let mut cmd = match &self.root {
            Some(r) => {
                let mut c = Command::new("chroot");
                c.arg(r).arg("rpmbuild");
                c
            }
            None => Command::new("rpmbuild"),
        };
        cmd.arg("-bb")
            .arg("--define")
            .arg(format!("_topdir {}", self.inner(&self.dir).display()))
            .arg("--define")
            .arg("__os_install_post %{nil}")
            .arg("--define")
            .arg("_build_id_links none");
        if hooked {
            cmd.arg("--define")
                .arg(format!(
                    "_fileattrsdir {}",
                    self.inner(&self.dir.join("attrs")).display()
                ))
                .arg("--load")
                .arg(self.inner(&self.dir.join("attrs/kmodpack.attr")));
        }
        for d in defines {
            cmd.arg("--define").arg(d);
        }
        cmd.arg(self.inner(spec)).env_remove("KMODPACK_SYMVERS");
        let (code, out, err) = run(&mut cmd);
        let log = format!("{out}\n{err}");
        let wrote = log
            .lines()
            .filter_map(|l| l.strip_prefix("Wrote: "))
            .map(|p| self.host(Path::new(p)))
            .next_back()
            .unwrap_or_default();
        (code, log, wrote)
    }

    /// A kmod RPM of `modules` (file, module name), each installed as
    /// /lib/modules/<running kernel>/extra/<name>/<name>.ko.
    fn kmod(
        &self,
        name: &str,
        version: &str,
        modules: &[(&Path, &str)],
        hooked: bool,
        defines: &[&str],
    ) -> PathBuf {
        let kver = kernel_release();
        let installs: Vec<(&Path, String)> = modules
            .iter()
            .map(|(ko, m)| (*ko, extra(&kver, m)))
            .collect();
        let files: Vec<(&Path, &str)> = installs.iter().map(|(k, d)| (*k, d.as_str())).collect();
        self.build_ok(&self.kmod_spec(name, version, &files), hooked, defines)
    }

    fn build_ok(&self, spec: &Path, hooked: bool, defines: &[&str]) -> PathBuf {
        let (code, log, rpm) = self.build(spec, hooked, defines);
        assert_eq!(code, 0, "rpmbuild {} failed:\n{log}", spec.display());
        rpm
    }
}

/// `rpm -qp --provides|--requires`, rpmlib() entries removed.
fn query(rpm: &Path, what: &str) -> BTreeSet<String> {
    common::rpm_qp(rpm, &[what])
        .into_iter()
        .filter(|l| !l.starts_with("rpmlib("))
        .collect()
}

/// (crc, name) pairs of a Module.symvers, read independently of kmodpack.
fn symvers_pairs(p: &Path) -> Vec<(u32, String)> {
    std::fs::read_to_string(p)
        .unwrap()
        .lines()
        .filter(|l| !l.is_empty())
        .map(|l| {
            let mut f = l.split('\t');
            let crc = u32::from_str_radix(f.next().unwrap().trim_start_matches("0x"), 16).unwrap();
            (crc, f.next().unwrap().to_string())
        })
        .collect()
}

/// A kernel package whose Provides are `kernel(sym) = crc` for every line of
/// the headers' Module.symvers (what a RHEL kernel carries via kabi.sh and
/// the in-tree modules' kernel() provides).
fn kernel_rpm(top: &Top) -> PathBuf {
    let p = top.dir.join("SPECS/kernel-kpxtest.spec");
    std::fs::write(&p, common::kernel_exports_spec("kernel-kpxtest")).unwrap();
    top.build_ok(&p, false, &[])
}

/// `rpm --root R -ivh --test` of `rpms` in a fresh private root.
fn install_test(rpms: &[&Path]) -> (i32, String) {
    let (code, out, err) =
        common::RpmRoot::new().install(&["-vh", "--test", "--nodigest", "--nosignature"], rpms);
    (code, format!("{out}{err}"))
}

fn extra(kver: &str, name: &str) -> String {
    format!("/lib/modules/{kver}/extra/{name}/{name}.ko")
}

#[test]
fn kmod_rpms_resolve_with_rpm_itself() {
    let (exp, imp) = kpx_pair();
    let exp2 = build_module("kpx_export", &["KPX_VARIANT=1"], &[]);
    let top = Top::new();
    let kernel = kernel_rpm(&top);
    let exp_rpm = top.kmod(
        "kmod-kpx-export",
        "1.0",
        &[(exp.ko.as_path(), "kpx_export")],
        true,
        &[],
    );
    let exp2_rpm = top.kmod(
        "kmod-kpx-export",
        "2.0",
        &[(exp2.ko.as_path(), "kpx_export")],
        true,
        &[],
    );
    let imp_rpm = top.kmod(
        "kmod-kpx-import",
        "1.0",
        &[(imp.ko.as_path(), "kpx_import")],
        true,
        &[],
    );

    // Provides == modpost's Module.symvers of the exporter, as ksym().
    let exports = symvers_pairs(&exp.symvers);
    assert_eq!(exports.len(), 4);
    let mut want: BTreeSet<String> = exports
        .iter()
        .map(|(c, n)| format!("ksym({n}) = 0x{c:08x}"))
        .collect();
    want.insert("kmod(kpx_export.ko)".into());
    want.insert("kmod-kpx-export = 1.0-1".into());
    want.insert("kmod-kpx-export(x86-64) = 1.0-1".into());
    assert_eq!(query(&exp_rpm, "--provides"), want);

    // Requires == kmod's view of __versions, kernel() iff the exact pair is in
    // the kernel's Module.symvers, else ksym() with the module's CRC.
    let kernel_pairs: BTreeSet<(u32, String)> =
        symvers_pairs(&kernel_symvers()).into_iter().collect();
    let (code, dump, err) = run(Command::new("modprobe")
        .arg("--dump-modversions")
        .arg(&imp.ko));
    assert_eq!(code, 0, "{err}");
    let want: BTreeSet<String> = dump
        .lines()
        .map(|l| {
            let (c, n) = l.split_once('\t').unwrap();
            let crc = u32::from_str_radix(c.trim_start_matches("0x"), 16).unwrap();
            let pfx = if kernel_pairs.contains(&(crc, n.to_string())) {
                "kernel"
            } else {
                "ksym"
            };
            format!("{pfx}({n}) = 0x{crc:08x}")
        })
        .collect();
    let got = query(&imp_rpm, "--requires");
    assert_eq!(got, want);
    for (c, n) in &exports {
        assert!(
            got.contains(&format!("ksym({n}) = 0x{c:08x}")),
            "{n} missing in {got:?}"
        );
    }
    assert!(got.contains(&format!(
        "kernel(module_layout) = 0x{:08x}",
        kernel_pairs
            .iter()
            .find(|(_, n)| n == "module_layout")
            .unwrap()
            .0
    )));

    // rpm: all three resolve.
    let (code, out) = install_test(&[&kernel, &exp_rpm, &imp_rpm]);
    assert_eq!(code, 0, "{out}");
    // Without the exporter rpm names the missing ksym()s (and only those).
    let (code, out) = install_test(&[&kernel, &imp_rpm]);
    assert_ne!(code, 0);
    let missing: Vec<&str> = out
        .lines()
        .filter(|l| l.contains(" is needed by "))
        .map(str::trim)
        .collect();
    let want_missing: BTreeSet<String> = exports
        .iter()
        .map(|(c, n)| format!("ksym({n}) = 0x{c:08x} is needed by kmod-kpx-import-1.0-1.x86_64"))
        .collect();
    assert_eq!(
        missing
            .iter()
            .map(|s| s.to_string())
            .collect::<BTreeSet<_>>(),
        want_missing,
        "{out}"
    );
    // Exporter with a changed kpx_add signature: only kpx_add fails.
    let exports2 = symvers_pairs(&exp2.symvers);
    let add = |v: &[(u32, String)]| v.iter().find(|(_, n)| n == "kpx_add").unwrap().0;
    assert_ne!(
        add(&exports),
        add(&exports2),
        "KPX_VARIANT=1 must change kpx_add's CRC"
    );
    let (code, out) = install_test(&[&kernel, &exp2_rpm, &imp_rpm]);
    assert_ne!(code, 0);
    let missing: Vec<&str> = out
        .lines()
        .filter(|l| l.contains(" is needed by "))
        .map(str::trim)
        .collect();
    assert_eq!(
        missing,
        [format!(
            "ksym(kpx_add) = 0x{:08x} is needed by kmod-kpx-import-1.0-1.x86_64",
            add(&exports)
        )],
        "{out}"
    );

    // deps check gives the same verdicts, with the diagnosis.
    let check = |rpms: &[&Path]| {
        let mut c = kmodpack();
        c.args(["deps", "check"]).args(rpms);
        run(&mut c)
    };
    let (code, out, err) = check(&[&kernel, &exp_rpm, &imp_rpm]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.ends_with(", 0 unresolved\n"), "{out}");
    let (code, out, _) = check(&[&kernel, &exp2_rpm, &imp_rpm]);
    assert_eq!(code, 1);
    assert!(out.starts_with(&format!(
        "kmod-kpx-import-1.0-1.x86_64: requires ksym(kpx_add) = 0x{:08x}: CRC mismatch: kmod-kpx-export-2.0-1.x86_64 provides ksym(kpx_add) = 0x{:08x}",
        add(&exports),
        add(&exports2)
    )), "{out}");
    assert!(out.ends_with(", 1 unresolved\n"), "{out}");
    // Kernel given as symvers instead of an RPM.
    let mut c = kmodpack();
    c.args(["deps", "check", "--symvers"])
        .arg(kernel_symvers())
        .arg(&exp_rpm)
        .arg(&imp_rpm);
    let (code, out, _) = run(&mut c);
    assert_eq!(code, 0, "{out}");
    // No kernel at all: one note naming the modules' kernel, not a
    // "no provider" line per kernel symbol; the ksym() between the two
    // packages is still checked.
    let (code, out, err) = check(&[&exp_rpm, &imp_rpm]);
    assert_eq!(code, 0, "{out}{err}");
    let requires: Vec<String> = [&imp_rpm, &exp_rpm]
        .iter()
        .flat_map(|r| query(r, "--requires"))
        .collect();
    let kernel_requires = requires.iter().filter(|r| r.starts_with("kernel(")).count();
    let ksym_requires = requires.iter().filter(|r| r.starts_with("ksym(")).count();
    assert!(kernel_requires > 1);
    let kver = kernel_release();
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines,
        [
            format!(
                "note: {kernel_requires} kernel() requirement(s) not checked: no kernel given (pass --symvers \
                 /usr/src/kernels/{kver}/Module.symvers or /lib/modules/{kver}/build/Module.symvers, or the kernel's RPM)"
            )
            .as_str(),
            &format!("{ksym_requires} ksym()/kernel() requirement(s) checked, 0 unresolved")
        ],
        "{out}"
    );

    // The Lustre-on-ZFS case: an exporter packaged without the generator has no
    // ksym() Provides; rpm fails, and deps check says why.
    let nogen = top.kmod(
        "kmod-kpx-export",
        "0.9",
        &[(exp.ko.as_path(), "kpx_export")],
        false,
        &[],
    );
    assert!(!query(&nogen, "--provides")
        .iter()
        .any(|p| p.starts_with("ksym(")));
    let (code, _) = install_test(&[&kernel, &nogen, &imp_rpm]);
    assert_ne!(code, 0);
    let (code, out, _) = check(&[&kernel, &nogen, &imp_rpm]);
    assert_eq!(code, 1);
    assert!(
        out.starts_with(&format!(
            "kmod-kpx-export-0.9-1.x86_64: {}: no Provides kmod(kpx_export.ko); no ksym() Provides of kpx_add, ",
            extra(&kver, "kpx_export")
        )),
        "the invariant names the package built without the generator: {out}"
    );
    assert!(
        out.ends_with("1 module(s) lack the dependency lines of kmodpack's generator\n"),
        "{out}"
    );
    assert!(out.contains(&format!(
        "requires ksym(kpx_add) = 0x{:08x}: no provider: no package provides ksym(kpx_add), but kmod-kpx-export-0.9-1.x86_64 contains {} exporting it (CRC 0x{:08x}): that package was built without ksym() Provides",
        add(&exports),
        extra(&kver, "kpx_export"),
        add(&exports)
    )), "{out}");
}

#[test]
fn one_package_with_both_modules_drops_self_satisfied_requires() {
    // rpm 4.18 calls the generator once per file; kmodpack finds the sibling in the buildroot.
    let (exp, imp) = kpx_pair();
    let top = Top::new();
    let both = top.kmod(
        "kmod-kpx-both",
        "1.0",
        &[
            (exp.ko.as_path(), "kpx_export"),
            (imp.ko.as_path(), "kpx_import"),
        ],
        true,
        &[],
    );
    let req = query(&both, "--requires");
    assert!(!req.iter().any(|r| r.starts_with("ksym(")), "{req:?}");
    assert!(
        req.iter()
            .any(|r| r.starts_with("kernel(module_layout) = 0x")),
        "{req:?}"
    );
    let prov = query(&both, "--provides");
    assert!(
        prov.contains("kmod(kpx_import.ko)")
            && prov.iter().filter(|p| p.starts_with("ksym(kpx_")).count() == 4,
        "{prov:?}"
    );
    // ... and keeps them with --siblings input (for specs whose subpackages share a tree).
    let again = top.kmod(
        "kmod-kpx-both",
        "1.1",
        &[
            (exp.ko.as_path(), "kpx_export"),
            (imp.ko.as_path(), "kpx_import"),
        ],
        true,
        &["_kmodpack_siblings input"],
    );
    assert_eq!(
        query(&again, "--requires")
            .iter()
            .filter(|r| r.starts_with("ksym(kpx_"))
            .count(),
        4
    );
}

#[test]
fn missing_symvers_fails_the_rpm_build() {
    let kver = kernel_release();
    let (_, imp) = kpx_pair();
    let top = Top::new();
    let spec = top.kmod_spec(
        "kmod-kpx-import",
        "1.0",
        &[(&imp.ko, &extra(&kver, "kpx_import"))],
    );
    // An override that does not exist.
    let (code, log, _) = top.build(
        &spec,
        true,
        &["_kmodpack_symvers /nonexistent/{kver}/Module.symvers"],
    );
    assert_ne!(code, 0, "rpmbuild must fail:\n{log}");
    assert!(
        log.contains(&format!(
            "!kmodpack-error: /nonexistent/{kver}/Module.symvers: symvers override not found"
        )),
        "{log}"
    );
    assert!(
        log.contains(&format!(
            "kmodpack: error: /nonexistent/{kver}/Module.symvers"
        )),
        "{log}"
    );
    assert!(!log.contains("Wrote: "), "{log}");

    // TV11 payload: modules built for 5.14.0-1.el9.x86_64, whose symvers is
    // nowhere in the search list on this machine: the build fails ...
    let src = tempfile::tempdir().unwrap();
    let a = tv1().build(src.path(), "provA.ko");
    let b = tv7_mod_b().build(src.path(), "modB.ko");
    let o = Command::new("xz")
        .args(["-k", "--check=crc32"])
        .arg(&b)
        .output()
        .unwrap();
    assert!(o.status.success());
    let bxz = src.path().join("modB.ko.xz");
    let intree = tv1().build(src.path(), "intree.ko");
    let el9 = "/lib/modules/5.14.0-1.el9.x86_64";
    let files = [
        (a.as_path(), format!("{el9}/extra/test/provA.ko")),
        (bxz.as_path(), format!("{el9}/extra/test/modB.ko.xz")),
        (intree.as_path(), format!("{el9}/kernel/drivers/intree.ko")),
    ];
    let files: Vec<(&Path, &str)> = files.iter().map(|(s, d)| (*s, d.as_str())).collect();
    let spec = top.kmod_spec("kmod-tv11", "1.0", &files);
    let (code, log, _) = top.build(&spec, true, &[]);
    assert_ne!(code, 0, "{log}");
    assert!(log.contains("!kmodpack-error: no symvers for kernel 5.14.0-1.el9.x86_64 (tried /usr/src/kernels/5.14.0-1.el9.x86_64/Module.symvers"), "{log}");
    // ... and with the fake kernel symvers of §10 it gives TV11's dependencies,
    // minus the self-satisfied ksym(prov_sym_*) requires the RH scripts keep.
    let symvers = src.path().join("Module.symvers");
    std::fs::write(&symvers, "0x1111aaaa\tprintk\tvmlinux\tEXPORT_SYMBOL\t\n0x00002222\tkmalloc\tvmlinux\tEXPORT_SYMBOL\t\n0x12121212\tsame_name_diff_crc\tdrivers/foo/foo\tEXPORT_SYMBOL_GPL\t\n0x55556666\tns_sym\tvmlinux\tEXPORT_SYMBOL_GPL\tSOME_NS\n").unwrap();
    let rpm = top.build_ok(
        &spec,
        true,
        &[&format!("_kmodpack_symvers {}", symvers.display())],
    );
    let prov: Vec<String> = query(&rpm, "--provides")
        .into_iter()
        .filter(|p| !p.starts_with("kmod-tv11"))
        .collect();
    assert_eq!(
        prov,
        [
            "kernel(prov_sym_a) = 0x0000abcd",
            "kernel(prov_sym_b) = 0x89abcdef",
            "kmod(intree.ko)",
            "kmod(modB.ko)",
            "kmod(provA.ko)",
            "ksym(prov_sym_a) = 0x0000abcd",
            "ksym(prov_sym_b) = 0x89abcdef",
        ]
    );
    assert_eq!(
        query(&rpm, "--requires").into_iter().collect::<Vec<_>>(),
        [
            "kernel(kmalloc) = 0x00002222",
            "kernel(ns_sym) = 0x55556666",
            "kernel(printk) = 0x1111aaaa",
            "ksym(same_name_diff_crc) = 0xdeadbeef",
            "ksym(zfs_sym) = 0x33334444",
        ]
    );
}

#[test]
fn hooking_into_an_existing_class_from_the_spec() {
    // Without kmodpack.attr: a "kmod" class that only selects module paths
    // (as kernel-srpm-macros' kmod.attr does) gets kmodpack's generators
    // from the spec via macros.kmodpack.
    let kver = kernel_release();
    let (exp, imp) = kpx_pair();
    let top = Top::new();
    let attrs = top.dir.join("attrs");
    std::fs::remove_file(attrs.join("kmodpack.attr")).unwrap();
    std::fs::write(attrs.join("kmod.attr"), "%__kmod_path ^/lib/modules/.*/(modules.builtin|.*\\.ko|.*\\.ko\\.gz|.*\\.ko\\.bz2|.*\\.ko\\.xz|.*\\.ko\\.zst)$\n").unwrap();
    let spec = top.kmod_spec(
        "kmod-kpx-hook",
        "1.0",
        &[
            (&exp.ko, &extra(&kver, "kpx_export")),
            (&imp.ko, &extra(&kver, "kpx_import")),
        ],
    );
    let text = std::fs::read_to_string(&spec).unwrap();
    std::fs::write(&spec, format!("%global __kmod_provides %{{kmodpack_provides}}\n%global __kmod_requires %{{kmodpack_requires}}\n{text}")).unwrap();
    let mut cmd = Command::new("rpmbuild");
    cmd.arg("-bb")
        .arg("--define")
        .arg(format!("_topdir {}", top.dir.display()))
        .arg("--define")
        .arg("__os_install_post %{nil}")
        .arg("--define")
        .arg(format!("_fileattrsdir {}", attrs.display()))
        .arg("--load")
        .arg(attrs.join("macros.kmodpack"))
        .arg("--load")
        .arg(attrs.join("kmod.attr"))
        .arg(&spec)
        .env_remove("KMODPACK_SYMVERS");
    let (code, out, err) = run(&mut cmd);
    assert_eq!(code, 0, "{out}{err}");
    let rpm = PathBuf::from(
        out.lines()
            .filter_map(|l| l.strip_prefix("Wrote: "))
            .next_back()
            .unwrap(),
    );
    let prov = query(&rpm, "--provides");
    for (c, n) in symvers_pairs(&exp.symvers) {
        assert!(prov.contains(&format!("ksym({n}) = 0x{c:08x}")), "{prov:?}");
    }
    assert!(prov.contains("kmod(kpx_import.ko)"));
    let req = query(&rpm, "--requires");
    assert!(
        req.iter()
            .any(|r| r.starts_with("kernel(module_layout) = 0x")),
        "{req:?}"
    );
    assert!(
        !req.iter().any(|r| r.starts_with("ksym(")),
        "self-satisfied requires must be dropped: {req:?}"
    );
}

/// A spec with two subpackages (exporter, importer) installing below
/// `exp_tree` and `imp_tree`; returns (exporter rpm, importer rpm).
fn two_subpackages(top: &Top, name: &str, exp_tree: &str, imp_tree: &str) -> (PathBuf, PathBuf) {
    let (exp, imp) = kpx_pair();
    std::fs::copy(&exp.ko, top.dir.join("SOURCES/e.ko")).unwrap();
    std::fs::copy(&imp.ko, top.dir.join("SOURCES/i.ko")).unwrap();
    let spec = format!(
        "Name: {name}\nVersion: 1.0\nRelease: 1\nSummary: s\nLicense: GPL-2.0-only\n%description\ns\n\
         %package -n {name}-exp\nSummary: e\n%description -n {name}-exp\ne\n\
         %package -n {name}-imp\nSummary: i\n%description -n {name}-imp\ni\n\
         %install\ninstall -D -m 0644 %{{_sourcedir}}/e.ko %{{buildroot}}/lib/modules/{exp_tree}/extra/kpx/kpx_export.ko\n\
         install -D -m 0644 %{{_sourcedir}}/i.ko %{{buildroot}}/lib/modules/{imp_tree}/extra/kpx/kpx_import.ko\n\
         %files -n {name}-exp\n/lib/modules/{exp_tree}/extra/kpx/kpx_export.ko\n\
         %files -n {name}-imp\n/lib/modules/{imp_tree}/extra/kpx/kpx_import.ko\n"
    );
    let p = top.dir.join(format!("SPECS/{name}.spec"));
    std::fs::write(&p, spec).unwrap();
    let (code, log, _) = top.build(&p, true, &[]);
    assert_eq!(code, 0, "{log}");
    let rpm = |n: &str| top.dir.join(format!("RPMS/x86_64/{n}-1.0-1.x86_64.rpm"));
    (rpm(&format!("{name}-exp")), rpm(&format!("{name}-imp")))
}

#[test]
fn subpackages_keep_requires_on_each_other() {
    // Per-kernel subpackages (kmodtool style) and subpackages sharing one
    // release tree (Lustre style): in both, the importer's subpackage must keep
    // its ksym() requires on the exporter's subpackage. The second case is
    // decided by the ledger the provides calls write beside the buildroot.
    let kver = kernel_release();
    let top = Top::new();
    let kernel = kernel_rpm(&top);
    for (name, imp_tree) in [
        ("kmod-kpx-trees", format!("{kver}.variant")),
        ("kmod-kpx-shared", kver.clone()),
    ] {
        let (exp_rpm, imp_rpm) = two_subpackages(&top, name, &kver, &imp_tree);
        let req = query(&imp_rpm, "--requires");
        assert_eq!(
            req.iter().filter(|r| r.starts_with("ksym(kpx_")).count(),
            4,
            "{name}: {req:?}"
        );
        let prov = query(&exp_rpm, "--provides");
        assert_eq!(
            prov.iter().filter(|r| r.starts_with("ksym(kpx_")).count(),
            4,
            "{name}: {prov:?}"
        );
        let (code, out) = install_test(&[&exp_rpm, &imp_rpm, &kernel]);
        assert_eq!(code, 0, "{out}");
        let (code, out) = install_test(&[&imp_rpm, &kernel]);
        assert_ne!(code, 0, "{name}: the importer alone must not install");
        assert!(
            out.contains(&format!("is needed by {name}-imp-1.0-1.x86_64")),
            "{out}"
        );
    }
}

#[test]
fn kmodpack_attr_switches_off_red_hat_ksym_generators_without_opt_in() {
    // A stand-in for kernel-srpm-macros' provided_ksyms.attr (not on Debian)
    // whose generator prints a marker line: kmodpack.attr excludes the
    // modules from it by itself, and %{kmodpack_only} (older specs use it)
    // changes nothing. tests/coexist.rs covers the full distro layouts.
    let kver = kernel_release();
    let (exp, _) = kpx_pair();
    let top = Top::new();
    let attrs = top.dir.join("attrs");
    std::fs::write(
        attrs.join("provided_ksyms.attr"),
        "%__provided_ksyms_provides /bin/echo rh_marker(x) = 1\n%__provided_ksyms_path .*\\.ko$\n",
    )
    .unwrap();
    let build = |only: bool, version: &str| {
        let spec = top.kmod_spec(
            "kmod-kpx-only",
            version,
            &[(&exp.ko, &extra(&kver, "kpx_export"))],
        );
        if only {
            let text = std::fs::read_to_string(&spec).unwrap();
            std::fs::write(&spec, format!("%{{kmodpack_only}}\n{text}")).unwrap();
        }
        let mut cmd = Command::new("rpmbuild");
        cmd.arg("-bb")
            .arg("--define")
            .arg(format!("_topdir {}", top.dir.display()))
            .arg("--define")
            .arg("__os_install_post %{nil}")
            .arg("--define")
            .arg(format!("_fileattrsdir {}", attrs.display()))
            .args(["--load", attrs.join("macros.kmodpack").to_str().unwrap()])
            .args([
                "--load",
                attrs.join("provided_ksyms.attr").to_str().unwrap(),
            ])
            .args(["--load", attrs.join("kmodpack.attr").to_str().unwrap()])
            .arg(&spec);
        let (code, out, err) = run(&mut cmd);
        assert_eq!(code, 0, "{out}{err}");
        query(
            &PathBuf::from(
                out.lines()
                    .filter_map(|l| l.strip_prefix("Wrote: "))
                    .next_back()
                    .unwrap(),
            ),
            "--provides",
        )
    };
    let with_rh = build(false, "1.0");
    assert!(
        !with_rh.iter().any(|p| p.starts_with("rh_marker")),
        "{with_rh:?}"
    );
    assert!(
        with_rh.iter().any(|p| p.starts_with("ksym(kpx_add) = 0x")),
        "{with_rh:?}"
    );
    let only = build(true, "1.1");
    assert!(!only.iter().any(|p| p.starts_with("rh_marker")), "{only:?}");
    assert!(
        only.iter().any(|p| p.starts_with("ksym(kpx_add) = 0x")),
        "{only:?}"
    );
}

/// `rpmbuild --version` as (major, minor).
fn rpm_version(cmd: &mut Command) -> Option<(u32, u32)> {
    let (code, out, _) = run(cmd.arg("--version"));
    let v = out.trim().strip_prefix("RPM version ")?;
    let mut it = v.split('.').map(|x| x.parse::<u32>().ok());
    (code == 0).then_some((it.next()??, it.next()??))
}

/// A chroot holding another rpm (`common::RPM416`, `RPM420`), whose
/// rpmbuild's version must pass `accept`. Fails otherwise: `make test`
/// bootstraps both.
fn chroot_rpm(chroot: (&str, &str), accept: fn((u32, u32)) -> bool) -> PathBuf {
    let root = common::rpm_chroot(chroot);
    let v = rpm_version(Command::new("chroot").arg(&root).arg("rpmbuild"));
    assert!(
        v.is_some_and(accept),
        "rpmbuild in {} is version {v:?}",
        root.display()
    );
    root
}

/// Builds one package holding exporter and importer with rpmbuild in `root`
/// (host if `None`), through a wrapper that logs each kmodpack generator
/// call as "deps <generator> <number of paths on stdin>". Returns the rpm and the log.
fn build_both_in(root: Option<&Path>, defines: &[&str]) -> (Top, PathBuf, String) {
    build_pair_in(root, defines, false)
}

/// The generator lines of a spec `kmodpack spec` renders (style per-kernel,
/// from specs/kpx-zfs): the preamble block (from `# Dependencies:` to the
/// `_use_internal_dependency_generator` line), the %build check that the
/// generator runs, and the %install block that makes the private fileattrs
/// directory. Taken from the real output, so the test builds exactly what
/// generated specs carry.
fn generated_generator_lines() -> (String, String, String) {
    let desc = repo().join("specs/kpx-zfs/kpx-zfs.yaml");
    let (code, spec, err) = run(kmodpack()
        .args(["spec", "--style", "per-kernel"])
        .arg(&desc));
    assert_eq!(code, 0, "{err}");
    let block = |from: &str, to: &str| -> String {
        let start = spec
            .find(from)
            .unwrap_or_else(|| panic!("{from:?} in\n{spec}"));
        let len = spec[start..].find(to).unwrap_or_else(|| panic!("{to:?}")) + to.len();
        format!("{}\n", &spec[start..start + len])
    };
    (
        block(
            "# Dependencies:",
            "%global _use_internal_dependency_generator 1",
        ),
        block(
            "# rpm builds the RPMs without a word when a generator cannot run",
            "\nfi",
        ),
        block(
            "# Register kmodpack's dependency generator",
            ": > '%{_fileattrsdir}/kmodpack.attr'",
        ),
    )
}

/// As [`build_both_in`]; with `generated`, the package's spec carries the
/// generator lines of a generated spec instead of `--load`ing kmodpack.attr.
fn build_pair_in(root: Option<&Path>, defines: &[&str], generated: bool) -> (Top, PathBuf, String) {
    let kver = kernel_release();
    let (exp, imp) = kpx_pair();
    let top = Top::in_root(root);
    std::fs::copy(kernel_symvers(), top.dir.join("Module.symvers")).unwrap();
    let log = top.dir.join("calls.log");
    let wrapper = top.dir.join("bin/logged-kmodpack");
    std::fs::write(
        &wrapper,
        format!(
            "#!/bin/sh\n[ \"$1\" = deps ] || exec {real} \"$@\"\nin=$(cat)\necho \"$1 $2 $(printf '%s\\n' \"$in\" | grep -c .)\" >> {log}\nprintf '%s\\n' \"$in\" | exec {real} \"$@\"\n",
            log = top.inner(&log).display(),
            real = match root {
                Some(_) => top.inner(&top.dir.join("bin/kmodpack")),
                None => PathBuf::from(env!("CARGO_BIN_EXE_kmodpack")),
            }
            .display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(
        &wrapper,
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    let spec = top.kmod_spec(
        "kmod-kpx-both",
        "1.0",
        &[
            (&exp.ko, &extra(&kver, "kpx_export")),
            (&imp.ko, &extra(&kver, "kpx_import")),
        ],
    );
    if generated {
        let (preamble, check, install) = generated_generator_lines();
        let text = std::fs::read_to_string(&spec).unwrap();
        let text = text
            .replacen("%description", &format!("{preamble}%description"), 1)
            .replacen("%build\n", &format!("%build\n{check}"), 1)
            .replacen("%install\n", &format!("%install\n{install}"), 1);
        std::fs::write(&spec, text).unwrap();
    }
    let symvers = format!(
        "_kmodpack_symvers {}",
        top.inner(&top.dir.join("Module.symvers")).display()
    );
    let bin = format!("_kmodpack_bin {}", top.inner(&wrapper).display());
    let mut all = vec![bin.as_str(), symvers.as_str()];
    all.extend(defines);
    let rpm = top.build_ok(&spec, !generated, &all);
    let calls = std::fs::read_to_string(&log).unwrap();
    // A generator error must fail the build with this rpm too.
    let mut bad = vec![bin.as_str()];
    bad.extend(defines);
    bad.push("_kmodpack_symvers /nonexistent/Module.symvers");
    let (code, out, _) = top.build(&spec, !generated, &bad);
    assert_ne!(code, 0, "{out}");
    assert!(
        out.contains("!kmodpack-error: /nonexistent/Module.symvers"),
        "{out}"
    );
    (top, rpm, calls)
}

/// The two packages carry the same dependencies, also file by file
/// (FILEPROVIDE/FILEREQUIRE), and the in-package ksym() requires are gone.
fn assert_same_dependencies(got: &Path, want: &Path) {
    for what in ["--provides", "--requires"] {
        assert_eq!(query(got, what), query(want, what), "{what}");
    }
    let requires = query(got, "--requires");
    assert!(
        requires.iter().any(|r| r.starts_with("kernel(")),
        "{requires:?}"
    );
    assert!(
        !requires.iter().any(|r| r.starts_with("ksym(")),
        "in-package ksyms must be dropped: {requires:?}"
    );
    let per_file = |rpm: &Path, tag: &str| -> String {
        let qf = format!("[%{{FILENAMES}}\t%{{{tag}}}\n]");
        common::rpm_qp(rpm, &["--qf", &qf]).join("\n")
    };
    for (tag, sample) in [
        ("FILEPROVIDE", "kpx_export.ko\tksym(kpx_add) = 0x"),
        ("FILEREQUIRE", "kpx_import.ko\tkernel("),
    ] {
        let g = per_file(got, tag);
        assert!(g.contains(sample), "{g}");
        assert_eq!(g, per_file(want, tag), "{tag}");
    }
}

/// The opt-out of the in-process generator: one forked run per file.
const FORKED: &str = "_kmodpack_forked 1";

/// The wrapper's log when rpm runs the generators once per file: provides
/// on both files, then requires on both.
const ONE_PER_FILE: &str = "deps provides 1\ndeps provides 1\ndeps requires 1\ndeps requires 1\n";

/// The wrapper's log on the in-process path: one provides run over the
/// buildroot's modules, one requires run over the package's.
const IN_PROCESS: &str = "deps provides 2\ndeps requires 2\n";

#[test]
fn rpm_4_20_multifile_protocol_gives_the_same_dependencies() {
    // rpm >= 4.20 with `%__kmodpack_protocol multifile` runs each generator
    // once per package with every path on stdin and reads `;<path>` markers.
    // The package must come out exactly as from the host rpm's
    // one-call-per-file run (where kmodpack's ledger finds the package's
    // other module), file by file.
    let root = if rpm_version(&mut Command::new("rpmbuild")).is_some_and(|v| v >= (4, 20)) {
        None
    } else {
        Some(chroot_rpm(common::RPM420, |v| v >= (4, 20)))
    };
    let (_keep, single, calls) = build_both_in(None, &[FORKED]);
    assert_eq!(calls, ONE_PER_FILE);
    let (_keep_too, multi, calls) = build_both_in(root.as_deref(), &["_kmodpack_multifile 1"]);
    assert_eq!(calls, "deps provides 2\ndeps requires 2\n");
    assert_same_dependencies(&multi, &single);
    // Without the multifile protocol: the in-process path (the default),
    // per-file calls answered from one batch per package and kind.
    let (_keep_lua, lua, calls) = build_both_in(root.as_deref(), &[]);
    assert_eq!(calls, IN_PROCESS);
    assert_same_dependencies(&lua, &single);
}

#[test]
fn rpm_4_16_one_call_per_file_gives_the_same_dependencies() {
    // RHEL 9's rpm (4.16, here Debian 11's 4.16.1) runs the generators once
    // per file like 4.18: the ledger must find the package's other module
    // there too, and a generator error must fail the build.
    let root = chroot_rpm(common::RPM416, |v| v < (4, 18));
    let (_keep, host, calls) = build_both_in(None, &[FORKED]);
    assert_eq!(calls, ONE_PER_FILE);
    let (_keep_too, old, calls) = build_both_in(Some(&root), &[FORKED]);
    assert_eq!(calls, ONE_PER_FILE);
    assert_same_dependencies(&old, &host);
    // The in-process path (parametric Lua generators, rpm >= 4.16, the
    // default): one batch run per package and kind, the same dependencies
    // file by file.
    let (_keep_lua, lua, calls) = build_both_in(Some(&root), &[]);
    assert_eq!(calls, IN_PROCESS);
    assert_same_dependencies(&lua, &host);
}

#[test]
fn rpm_4_18_in_process_generator_gives_the_same_dependencies() {
    // The host's rpm (4.18): the Lua generators batch kmodpack per package,
    // with the dependencies of one forked run per file, file by file, and
    // an error still fails the build (build_both_in checks it).
    let (_keep, forked, calls) = build_both_in(None, &[FORKED]);
    assert_eq!(calls, ONE_PER_FILE);
    let (_keep_too, lua, calls) = build_both_in(None, &[]);
    assert_eq!(calls, IN_PROCESS);
    assert_same_dependencies(&lua, &forked);
}

/// Issue #14: every module of the installed kernel, copied below `extra/`
/// into one package (so they are out-of-tree kmods that re-export many of
/// the kernel's own symbols with the kernel's CRCs, and import from each
/// other), built by the host's rpmbuild once with one forked kmodpack run
/// per file (`%{kmodpack_forked}`; the ledger finds the package's exports)
/// and once in-process (the default: one batch per package and kind): the
/// same Provides and Requires, file by file. The oracle for the self-filtering is rpm's own view of the
/// package: no Requires it satisfies with its own ksym() Provides.
#[test]
fn all_kernel_modules_forked_and_in_process_agree_file_by_file() {
    let kver = kernel_release();
    let top = Top::new();
    let spec = top.dir.join("SPECS/all-modules.spec");
    std::fs::write(
        &spec,
        format!(
            "Name: kmodpack-all-modules\nVersion: 1\nRelease: 1\nSummary: every module of {kver}\nLicense: GPL-2.0-only\n\
             %global _binary_payload w0.ufdio\n%description\nall modules.\n%install\n\
             mkdir -p %{{buildroot}}/lib/modules/{kver}/extra\n\
             cp -a /lib/modules/{kver}/kernel/. %{{buildroot}}/lib/modules/{kver}/extra/\n\
             %files\n/lib/modules/{kver}/extra/\n"
        ),
    )
    .unwrap();
    // The forked build through the spec line that hands rpm the plain
    // commands (no Lua, no shell per file).
    let forked_spec = top.dir.join("SPECS/all-modules-forked.spec");
    let text = std::fs::read_to_string(&spec).unwrap();
    std::fs::write(
        &forked_spec,
        text.replace("%description\n", "%{kmodpack_forked}\n%description\n"),
    )
    .unwrap();
    let symvers = format!("_kmodpack_symvers {}", kernel_symvers().display());
    let forked = top.build_ok(&forked_spec, true, &[&symvers]);
    let forked_copy = top.dir.join("forked.rpm");
    std::fs::rename(&forked, &forked_copy).unwrap();
    let lua = top.build_ok(&spec, true, &[&symvers]);
    let per_file = |rpm: &Path, tag: &str| -> Vec<String> {
        common::rpm_qp(rpm, &["--qf", &format!("[%{{FILENAMES}}\t%{{{tag}}}\n]")])
    };
    for tag in ["FILEPROVIDE", "FILEREQUIRE"] {
        let (f, l) = (per_file(&forked_copy, tag), per_file(&lua, tag));
        let differ: Vec<_> = f.iter().zip(&l).filter(|(a, b)| a != b).take(5).collect();
        assert!(
            f.len() == l.len() && differ.is_empty(),
            "{tag}: {} vs {} lines, first differences {differ:?}",
            f.len(),
            l.len()
        );
    }
    let provides = query(&lua, "--provides");
    let requires = query(&lua, "--requires");
    let ksyms = provides.iter().filter(|p| p.starts_with("ksym(")).count();
    assert!(ksyms > 1000, "{ksyms} ksym() Provides");
    assert!(
        requires.iter().any(|r| r.starts_with("kernel(")),
        "{requires:?}"
    );
    let self_satisfied: Vec<&String> = requires
        .iter()
        .filter(|r| {
            let as_ksym = r.replacen("kernel(", "ksym(", 1);
            provides.contains(&as_ksym)
        })
        .collect();
    assert!(
        self_satisfied.is_empty(),
        "requires the package satisfies itself: {self_satisfied:?}"
    );
}

/// Issue #14: the generator lines of generated specs (kmodpack.attr's Lua
/// as `%define`s) with rpm 4.16.1 and 4.20.1 (chroots) and 4.18 (host):
/// in-process by default on all three (two kmodpack runs per package), one
/// forked run per file with `--define '_kmodpack_forked 1'` (rpm runs the
/// plain commands), the same dependencies file by file as the installed
/// class's forked path, and a generator error fails the build every way.
#[test]
fn generated_spec_generator_is_in_process_with_forked_opt_out_on_every_rpm() {
    let (_keep, want, calls) = build_both_in(None, &[FORKED]);
    assert_eq!(calls, ONE_PER_FILE);
    for root in every_rpm() {
        let (_keep_lua, lua, calls) = build_pair_in(root.as_deref(), &[], true);
        assert_eq!(calls, IN_PROCESS, "{root:?}");
        assert_same_dependencies(&lua, &want);
        let (keep_fork, forked, calls) = build_pair_in(root.as_deref(), &[FORKED], true);
        assert_eq!(calls, ONE_PER_FILE, "{root:?}");
        assert_same_dependencies(&forked, &want);
        // No generator binary: the spec's own check stops the build, either way.
        let spec = keep_fork.dir.join("SPECS/kmod-kpx-both-1.0.spec");
        for extra in [None, Some(FORKED)] {
            let mut d = vec!["_kmodpack_bin /nonexistent/kmodpack"];
            d.extend(extra);
            let (code, log, _) = keep_fork.build(&spec, false, &d);
            assert_ne!(code, 0, "{root:?} {extra:?}: {log}");
            assert!(
                log.contains("the dependency generator '/nonexistent/kmodpack' is missing"),
                "{log}"
            );
        }
    }
    // The installed class (in-process): a generator that cannot run fails
    // the build too (its Lua turns a failed run into a line rpm rejects).
    let top = Top::new();
    let (exp, _) = kpx_pair();
    let kver = kernel_release();
    let spec = top.kmod_spec(
        "kmod-kpx-gone",
        "1.0",
        &[(&exp.ko, &extra(&kver, "kpx_export"))],
    );
    let (code, log, _) = top.build(&spec, true, &["_kmodpack_bin /nonexistent/kmodpack"]);
    assert_ne!(code, 0, "{log}");
    assert!(log.contains("!kmodpack-error: "), "{log}");
}

#[test]
fn suse_kmp_supplements_its_device_aliases() {
    // SUSE dialect: Supplements: modalias(kernel-<flavor>:<alias>) for every
    // alias `modinfo -F alias` (kmod, the oracle) lists, so zypper and the
    // installer's repo method pick the KMP where the device is. The Red Hat
    // dialect gets no Supplements.
    let kver = kernel_release();
    let (_, imp) = kpx_pair();
    let top = Top::new();
    let module = [(imp.ko.as_path(), "kpx_import")];
    let symvers = format!("_kmodpack_symvers {}", kernel_symvers().display());
    let suse = top.kmod(
        "kpx-import-kmp-default",
        "1.0",
        &module,
        true,
        &["_kmodpack_dialect suse", &symvers],
    );
    let redhat = top.kmod("kmod-kpx-import", "1.0", &module, true, &[]);
    let (code, aliases, err) = run(Command::new("modinfo").args(["-F", "alias"]).arg(&imp.ko));
    assert_eq!(code, 0, "{err}");
    let flavor = kver.rsplit('-').next().unwrap();
    let want: BTreeSet<String> = aliases
        .lines()
        .map(|a| format!("modalias(kernel-{flavor}:{a})"))
        .collect();
    assert!(want.len() >= 2, "{want:?}");
    assert_eq!(query(&suse, "--supplements"), want);
    assert!(query(&redhat, "--supplements").is_empty());
}

/// The chroots of the other rpm versions the suite has (4.16, 4.20).
fn other_rpms() -> Vec<PathBuf> {
    vec![
        chroot_rpm(common::RPM416, |v| v < (4, 18)),
        chroot_rpm(common::RPM420, |v| v >= (4, 20)),
    ]
}

/// `kmodpack build --srpm-only INPUT KERNEL_ARG --resultdir RESULTS`: the SRPM.
fn srpm_only(input: &Path, kernel_arg: &str, results: &Path) -> PathBuf {
    let (code, out, err) = run(kmodpack()
        .args(["build", "--srpm-only"])
        .arg(input)
        .arg(kernel_arg)
        .arg("--resultdir")
        .arg(results));
    assert_eq!(code, 0, "{out}{err}");
    walkdir::WalkDir::new(results)
        .into_iter()
        .flatten()
        .find(|e| e.file_name().to_string_lossy().ends_with(".src.rpm"))
        .expect("an SRPM")
        .into_path()
}

/// The host's rpm (`None`) and the chroots of [`other_rpms`].
fn every_rpm() -> Vec<Option<PathBuf>> {
    std::iter::once(None)
        .chain(other_rpms().into_iter().map(Some))
        .collect()
}

/// Runs `build_and_check` once per rpm of [`every_rpm`], in a fresh
/// [`Top`] for that root, with a label for messages; it returns the binary
/// RPM it built (and checked). Asserts that every run was a different rpm.
fn with_every_rpm(mut build_and_check: impl FnMut(&Top, Option<&Path>, &str) -> PathBuf) {
    let roots = every_rpm();
    let mut versions = BTreeSet::new();
    let count = roots.len();
    for root in roots {
        let top = Top::in_root(root.as_deref());
        let rpm = build_and_check(&top, root.as_deref(), &format!("{root:?}"));
        versions.extend(common::rpm_qp(&rpm, &["--qf", "%{RPMVERSION}\\n"]));
    }
    assert_eq!(
        versions.len(),
        count,
        "one rpm version per run: {versions:?}"
    );
}

#[test]
fn kmodpack_build_rebuild_step_registers_the_generator_with_every_rpm() {
    // `kmodpack build`'s binary step is `rpmbuild --rebuild --target ARCH`
    // of the SRPM, and rpmbuild re-reads its configuration for --target,
    // dropping --load'ed macro files (issue #19). A spec-file input defines
    // none of kmodpack's macros itself, so this is where they must survive.
    // The SRPM comes from `kmodpack build --srpm-only`; the binary step is
    // the very invocation kmodpack builds (library call), run by rpm 4.18
    // on the host and by rpm 4.16 and 4.20 in their chroots.
    let (exp, _) = kpx_pair();
    with_every_rpm(|top, root, at| {
        let input = top.dir.join("input");
        std::fs::create_dir_all(&input).unwrap();
        std::fs::copy(&exp.ko, input.join("kpx_export.ko")).unwrap();
        std::fs::copy(kernel_symvers(), top.dir.join("Module.symvers")).unwrap();
        let spec = input.join("kmod-kpx-prebuilt.spec");
        std::fs::write(
            &spec,
            "Name: kmod-kpx-prebuilt\nVersion: 1.0\nRelease: 1\nSummary: prebuilt kpx exporter\n\
             License: GPL-2.0-only\nSource0: kpx_export.ko\n%global debug_package %{nil}\n\
             %global __os_install_post %{nil}\n%description\nprebuilt kpx exporter.\n%prep\n%build\n\
             %install\ninstall -D -m 0644 %{SOURCE0} %{buildroot}/lib/modules/%{kmodpack_kver}/extra/kpx/kpx_export.ko\n\
             %files\n/lib/modules/%{kmodpack_kver}/extra/kpx/kpx_export.ko\n",
        )
        .unwrap();
        let results = top.dir.join("results");
        let srpm = srpm_only(
            &spec,
            &format!(
                "--kernel=5.14.0-503.11.1.el9_5.x86_64={}",
                common::headers_dir().display()
            ),
            &results,
        );

        let symvers = top.inner(&top.dir.join("Module.symvers"));
        let rpm = rebuild_in(
            top,
            root,
            &srpm,
            &[("_kmodpack_symvers", &symvers.display().to_string())],
        );
        let prov = query(&rpm, "--provides");
        assert!(prov.contains("kmod(kpx_export.ko)"), "{at}: {prov:?}");
        for (c, n) in symvers_pairs(&exp.symvers) {
            assert!(
                prov.contains(&format!("ksym({n}) = 0x{c:08x}")),
                "{at}: {prov:?}"
            );
        }
        let req = query(&rpm, "--requires");
        assert!(
            req.iter()
                .any(|r| r.starts_with("kernel(module_layout) = 0x")),
            "{at}: {req:?}"
        );
        rpm
    });
}

/// `kmodpack build`'s binary step — `rpmbuild --rebuild --target x86_64` of
/// `srpm` as the library builds the invocation, with kmodpack's generator
/// registered by `--define` — run by the rpm in `root` (the host's if
/// `None`) with `defines`; returns the binary RPM (not -devel).
fn rebuild_in(top: &Top, root: Option<&Path>, srpm: &Path, defines: &[(&str, &str)]) -> PathBuf {
    use kmodpack::build::repro::Reproducibility;
    use kmodpack::build::rpmbuild::{prepare_fileattrs, GeneratorHook, RpmbuildSettings, Topdir};
    let bin = match root {
        Some(_) => top.inner(&top.dir.join("bin/kmodpack")),
        None => PathBuf::from(env!("CARGO_BIN_EXE_kmodpack")),
    };
    let attrs = top.dir.join("fileattrs");
    prepare_fileattrs(&attrs, &bin).unwrap();
    let settings = RpmbuildSettings {
        program: "rpmbuild".into(),
        nodeps: true,
        user_macros: false,
        defines: Vec::new(),
        repro: Reproducibility {
            source_date_epoch: 1_700_000_000,
            buildhost: "kmodpack".into(),
        },
        generator: Some(GeneratorHook {
            kmodpack: bin,
            fileattrs_dir: Some(top.inner(&attrs)),
        }),
    };
    let rb = Topdir::create(&top.dir.join("rebuild")).unwrap();
    let defines: Vec<(String, String)> = defines
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let inv = settings.binary(
        &Topdir {
            root: top.inner(&rb.root),
        },
        &top.inner(srpm),
        "x86_64",
        &defines,
    );
    let mut cmd = match root {
        Some(r) => {
            let mut c = Command::new("chroot");
            c.arg(r).arg(&inv.program);
            c
        }
        None => Command::new(&inv.program),
    };
    cmd.args(&inv.args).envs(inv.env.iter().cloned());
    for k in &inv.env_remove {
        cmd.env_remove(k);
    }
    let (code, out, err) = run(&mut cmd);
    assert_eq!(code, 0, "{root:?}: {out}{err}");
    walkdir::WalkDir::new(rb.root.join("RPMS"))
        .into_iter()
        .flatten()
        .find(|e| {
            let n = e.file_name().to_string_lossy();
            n.ends_with(".x86_64.rpm") && !n.contains("-devel-")
        })
        .expect("the binary RPM")
        .into_path()
}

#[test]
fn kmodpack_build_compiles_a_yaml_input_with_every_rpm() {
    // The same step for a description (YAML) input: its SRPM from `kmodpack
    // build --srpm-only`, then the rebuild compiles the module — on the host
    // against the installed headers, in the 4.16 and 4.20 chroots against
    // their own Debian headers (tests/support/system-deps.sh installs gcc,
    // make, xz and linux-headers there) — and the RPM must carry kmodpack's
    // kmod()/ksym()/kernel() lines (issue #19: every way kmodpack build
    // calls rpmbuild, with spec and YAML inputs, on the three rpm versions).
    with_every_rpm(|top, root, at| {
        let results = top.dir.join("results");
        let srpm = srpm_only(
            &repo().join("specs/kpx-zfs/kpx-zfs.yaml"),
            "--kernel=5.14.0-503.11.1.el9_5.x86_64",
            &results,
        );
        // Headers: the host's, or the chroot's own.
        let headers = match root {
            None => common::headers_dir(),
            Some(r) => {
                let found = std::fs::read_dir(r.join("lib/modules"))
                    .into_iter()
                    .flatten()
                    .flatten()
                    // `build` links within the chroot (Debian 11: absolute,
                    // Debian 13: relative): resolve it under the root.
                    .filter_map(|e| {
                        let l = std::fs::read_link(e.path().join("build")).ok()?;
                        match l.strip_prefix("/") {
                            Ok(abs) => Some(r.join(abs)),
                            Err(_) => std::fs::canonicalize(e.path().join(l)).ok(),
                        }
                    })
                    .find(|b| b.starts_with(r) && b.join("Makefile").is_file())
                    .unwrap_or_else(|| {
                        panic!(
                            "{}: no kernel headers in the chroot: run tests/support/system-deps.sh (make test does)",
                            r.display()
                        )
                    });
                top.inner(&found)
            }
        };
        let rpm = rebuild_in(
            top,
            root,
            &srpm,
            &[("kmodpack_kernel_build_dir", &headers.display().to_string())],
        );
        let files = query(&rpm, "-l");
        assert!(
            files
                .iter()
                .any(|f| f.ends_with("/extra/kpx-zfs/kpx_zfs.ko.xz")),
            "{at}: {files:?}"
        );
        let prov = query(&rpm, "--provides");
        assert!(prov.contains("kmod(kpx_zfs.ko)"), "{at}: {prov:?}");
        for e in [
            "kpx_zfs_spa_version",
            "kpx_zfs_tx_commit",
            "kpx_zfs_tx_create",
        ] {
            assert!(
                prov.iter()
                    .any(|p| p.starts_with(&format!("ksym({e}) = 0x"))),
                "{at}: {prov:?}"
            );
        }
        let req = query(&rpm, "--requires");
        assert!(
            req.iter()
                .any(|r| r.starts_with("kernel(") || r.starts_with("ksym(")),
            "{at}: {req:?}"
        );
        rpm
    });
}

/// Issue #14, the ledger protocol of rpm's one call per file (forked, as on
/// rpm <= 4.19): a requires call with nothing to ask the ledger (here an
/// in-tree module, which gets no requires) does not read it, but must still
/// mark the package as in its requires phase, so that the next package's
/// provides calls begin a new ledger instead of lending it the last
/// package's exports. The oracle: the importer's package keeps its four
/// `ksym(kpx_*)` requires (the exporter it would wrongly borrow them from
/// is in-tree, so it provides `kernel()`, never `ksym()`).
#[test]
fn forked_requires_that_look_nothing_up_still_end_the_package() {
    let kver = kernel_release();
    let (exp, imp) = kpx_pair();
    let top = Top::new();
    let symvers = format!("_kmodpack_symvers {}", kernel_symvers().display());
    let defines = [FORKED, symvers.as_str()];
    let in_tree = format!("/lib/modules/{kver}/kernel/kpx/kpx_export.ko");
    let importer = extra(&kver, "kpx_import");
    let kpx_requires = |rpm: &Path| {
        let req = query(rpm, "--requires");
        let n = req.iter().filter(|r| r.starts_with("ksym(kpx_")).count();
        assert_eq!(n, 4, "{}: {req:?}", rpm.display());
    };

    // 1. One rpmbuild, two subpackages: -a ships the exporter in-tree (its
    // first and only requires call asks nothing), -b the importer.
    std::fs::copy(&exp.ko, top.dir.join("SOURCES/e.ko")).unwrap();
    std::fs::copy(&imp.ko, top.dir.join("SOURCES/i.ko")).unwrap();
    let spec = top.dir.join("SPECS/kpx-ab.spec");
    std::fs::write(
        &spec,
        format!(
            "Name: kpx-ab\nVersion: 1.0\nRelease: 1\nSummary: s\nLicense: GPL-2.0-only\n%description\ns\n\
             %package -n kpx-ab-a\nSummary: a\n%description -n kpx-ab-a\na\n\
             %package -n kpx-ab-b\nSummary: b\n%description -n kpx-ab-b\nb\n\
             %install\ninstall -D -m 0644 %{{_sourcedir}}/e.ko %{{buildroot}}{in_tree}\n\
             install -D -m 0644 %{{_sourcedir}}/i.ko %{{buildroot}}{importer}\n\
             %files -n kpx-ab-a\n{in_tree}\n%files -n kpx-ab-b\n{importer}\n"
        ),
    )
    .unwrap();
    let (code, log, _) = top.build(&spec, true, &defines);
    assert_eq!(code, 0, "{log}");
    let arch = std::env::consts::ARCH;
    kpx_requires(
        &top.dir
            .join(format!("RPMS/{arch}/kpx-ab-b-1.0-1.{arch}.rpm")),
    );

    // 2. Two rpmbuilds of one package name and version (one buildroot, so
    // one ledger): the first ships only the in-tree exporter, the second
    // only the importer. The first build's requires call marked the ledger.
    let first = top.kmod_spec("kpx-again", "1.0", &[(&exp.ko, &in_tree)]);
    top.build_ok(&first, true, &defines);
    let ledgers = common::files_below(&top.dir, &format!("kpx-again-1.0-1.{arch}.kmodpack-ledger"));
    assert_eq!(ledgers.len(), 1, "{ledgers:?}");
    let marked = ledgers[0].join("requiring").exists();
    let second = top.kmod_spec("kpx-again", "1.0", &[(&imp.ko, &importer)]);
    kpx_requires(&top.build_ok(&second, true, &defines));
    assert!(
        marked,
        "the in-tree module's requires call marked the ledger"
    );
}
