//! `kmodpack spec --from-dkms`: a DKMS module (tests/data/dkms/kpx-legacy,
//! a vendor-style tree with dkms.conf, two modules in src/, a patch and make
//! variables) becomes a package description whose %build runs the DKMS
//! recipe (dkms.conf sourced by bash with DKMS's variables), and builds with
//! the real rpmbuild into a kmod RPM. Its C sources only compile when the
//! patch and the MAKE variables were applied as DKMS applies them.

mod common;
mod spec_support;

use std::path::{Path, PathBuf};

use kmodpack::spec::Description;
use spec_support::{rpmq, Topdir};

fn sample() -> PathBuf {
    common::repo().join("tests/data/dkms/kpx-legacy/dkms.conf")
}

fn import(conf: &Path, extra: &[&str], out: &Path) -> (i32, String) {
    let (code, stdout, stderr) = common::run(
        common::kmodpack()
            .arg("spec")
            .arg("--from-dkms")
            .arg(conf)
            .arg("-o")
            .arg(out)
            .arg("--kernel-build-dir")
            .arg(common::headers_dir())
            .args(extra),
    );
    assert!(stdout.is_empty());
    (code, stderr)
}

#[test]
fn dkms_conf_becomes_a_description_that_builds() {
    let top = Topdir::new();
    let yaml = top.path().join("kpx-legacy.yaml");
    let (code, notes) = import(&sample(), &["--kernel", "5.14.0-503.11.1.el9_5"], &yaml);
    assert_eq!(code, 0, "{notes}");
    // What could not be carried over is said, with the dkms.conf line.
    for n in [
        "PACKAGE_VERSION `3.1-7` contains `-`",
        "DEST_MODULE_LOCATION[0] `/kernel/drivers/scsi`: kmods install to extra/<name>/",
        "POST_INSTALL `post-install.sh` is not run",
        "REMAKE_INITRD is deprecated and ignored by DKMS 3 too",
        "CLEAN `make -C src clean` is not run",
        "AUTOINSTALL: a kmod package is not rebuilt",
        "dkms.conf has no licence",
    ] {
        assert!(
            notes
                .lines()
                .any(|l| l.starts_with("kmodpack: warning: ") && l.contains(n)),
            "{n:?} not in:\n{notes}"
        );
    }
    let d = Description::load(&yaml).unwrap();
    assert_eq!(d.name, "kpx-legacy");
    assert_eq!(d.version, "3.1_7");
    assert_eq!(
        d.modules
            .iter()
            .map(|m| m.name.as_str())
            .collect::<Vec<_>>(),
        ["kpx_legacy", "kpx_legacy_aux"]
    );
    // The recipe runs in %build: DKMS's own module/version, dkms.conf in the tree.
    let dkms = d.build.dkms.as_ref().expect("build.dkms");
    assert_eq!(
        (
            dkms.conf.as_str(),
            dkms.module.as_str(),
            dkms.version.as_str()
        ),
        ("dkms.conf", "kpx-legacy", "3.1-7")
    );
    assert!(d.build.make_args.is_empty() && d.source.patches.is_empty());
    assert!(d.scriptlets.weak_modules);
    assert_eq!(d.kernels[0].release, "5.14.0-503.11.1.el9_5");

    // Render and build it for real.
    let spec = top.render(&yaml, &[]);
    let (code, log) = top.rpmbuild(&spec, &[]);
    assert_eq!(code, 0, "rpmbuild of the imported DKMS module:\n{log}");
    // DKMS's variables describe the compiled tree, not the rpm target kernel.
    let kver = common::kernel_release();
    assert!(
        log.contains(&format!("KERNELRELEASE={kver} -C "))
            && log.contains(&format!("KPX_LEGACY_QUIRKS=1 KVER={kver} modules"))
            && log.contains("kmodpack: applying patch 0001-kpx_legacy-define-the-fixed-flag.patch"),
        "{log}"
    );
    let rpm = top.rpm("kmod-kpx-legacy-3.1_7");
    let files = rpmq(&rpm, &["-l"]);
    for m in ["kpx_legacy", "kpx_legacy_aux"] {
        let f = format!("/lib/modules/5.14.0-503.11.1.el9_5.x86_64/extra/kpx-legacy/{m}.ko");
        assert!(files.contains(&f), "{f} not in {files:?}");
    }
    let provides = rpmq(&rpm, &["--provides"]);
    assert!(
        provides
            .iter()
            .any(|p| p.starts_with("ksym(kpx_legacy_quirks) = 0x")),
        "{provides:?}"
    );
    assert!(provides.contains(&"kernel-modules >= 5.14.0-503.11.1.el9_5.x86_64".to_string()));
}

#[test]
fn the_import_needs_kernels_and_checks_them() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("x.yaml");
    let (code, err) = import(&sample(), &[], &out);
    assert_eq!(code, 2);
    assert!(
        err.contains("--from-dkms needs at least one --kernel RELEASE"),
        "{err}"
    );
    let (code, err) = import(&sample(), &["--kernel", "6.1.0-56-amd64"], &out);
    assert_eq!(code, 2);
    assert!(
        err.contains("not a valid rpm version-release") && !out.exists(),
        "{err}"
    );
    // BUILD_EXCLUSIVE_ARCH="x86_64|aarch64" excludes s390x.
    let (code, err) = import(
        &sample(),
        &["--kernel", "5.14.0-503.11.1.el9_5", "--arch", "s390x"],
        &out,
    );
    assert_eq!(code, 2);
    assert!(
        err.contains("dkms.conf: BUILD_EXCLUSIVE_ARCH `x86_64|aarch64` excludes every requested arch (s390x)"),
        "{err}"
    );
    let (code, err) = import(
        &sample(),
        &[
            "--kernel",
            "5.14.0-503.11.1.el9_5",
            "--arch",
            "aarch64",
            "--arch",
            "s390x",
        ],
        &out,
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        Description::load(&out).unwrap().kernels[0].arches,
        ["aarch64"]
    );
}

/// One dkms.conf in its own tree, imported; returns (exit code, stderr, output path).
fn import_text(dir: &Path, text: &str) -> (i32, String, PathBuf) {
    let tree = tempfile::tempdir_in(dir).unwrap().keep();
    let conf = tree.join("dkms.conf");
    std::fs::write(&conf, text).unwrap();
    let out = dir.join("out.yaml");
    let _ = std::fs::remove_file(&out);
    let (code, err) = import(&conf, &["--kernel", "5.14.0-503.11.1.el9_5"], &out);
    (code, err, out)
}

#[test]
fn malformed_and_hostile_dkms_conf() {
    let dir = tempfile::tempdir().unwrap();
    let ok = "PACKAGE_NAME=x\nPACKAGE_VERSION=1\nBUILT_MODULE_NAME[0]=x\nDEST_MODULE_LOCATION[0]=/extra\n";
    let cases: Vec<(String, &str)> = vec![
        ("PACKAGE_VERSION=1.0\nBUILT_MODULE_NAME[0]=x\n".into(), "dkms.conf: no PACKAGE_NAME"),
        ("PACKAGE_NAME=x\nPACKAGE_VERSION=\n".into(), "dkms.conf: no PACKAGE_VERSION"),
        // Fails under bash.
        ("PACKAGE_NAME=\"x\nPACKAGE_VERSION=1\n".into(), "sourcing it with bash wrote to stderr"),
        (format!("{ok}if true; then\n"), "syntax error"),
        // Prints.
        (format!("{ok}echo hello\n"), "--allow-stdout accepts it): hello"),
        (format!("{ok}echo oops >&2\n"), "wrote to stderr (a dkms.conf must only set variables): oops"),
        (format!("{ok}exit 0\n"), "exited while being sourced"),
        // Loops forever: bounded by time.
        (format!("{ok}while :; do :; done\n"), "did not finish within 10 s"),
        // Variable-expansion bomb: bounded by memory.
        (format!("{ok}a=x; for i in $(seq 64); do a=$a$a; done\n"), "dkms.conf: sourcing it"),
        // A huge sparse index is one element to DKMS (which counts elements): record 0 has no name.
        ("PACKAGE_NAME=x\nPACKAGE_VERSION=1\nBUILT_MODULE_NAME[9223372036854775806]=y\n".into(), "no BUILT_MODULE_NAME for record #0"),
        ("PACKAGE_NAME=x\nPACKAGE_VERSION=1\nBUILT_MODULE_NAME[0]=y.ko\nDEST_MODULE_LOCATION[0]=/extra\n".into(), "BUILT_MODULE_NAME[0] ends in .o or .ko"),
        // safe_source re-evaluates values as DKMS does: '$x' is empty there.
        ("PACKAGE_NAME='$x'\nPACKAGE_VERSION=1\n".into(), "no BUILT_MODULE_NAME for record #0"),
        ("PACKAGE_NAME='a:b'\nPACKAGE_VERSION=1\n".into(), "`name`: `a:b` contains `:`"),
        // bash keeps the CR of CRLF lines in values (so would DKMS).
        ("PACKAGE_NAME=x\r\nPACKAGE_VERSION=1\n".into(), "`name`: contains a carriage return"),
        ("PACKAGE_NAME=x\nPACKAGE_VERSION=\"1%{?dist}\"\n".into(), "`version`: contains `%`"),
        ("PACKAGE_NAME=x\nPACKAGE_VERSION=1\nBUILT_MODULE_NAME[0]=a\nBUILT_MODULE_NAME[1]=a\nDEST_MODULE_LOCATION[0]=/extra\nDEST_MODULE_LOCATION[1]=/extra\n".into(), "module `a` is listed twice"),
        ("PACKAGE_NAME=x\nPACKAGE_VERSION=1\nBUILT_MODULE_NAME[0]=\"a b\"\nDEST_MODULE_LOCATION[0]=/extra\n".into(), "`modules[0].name`"),
        // A patch name that leaves patches/ would read a host file into the package.
        (format!("{ok}PATCH[0]=\"../../../../../etc/shadow\"\n"), "PATCH[0]=\"../../../../../etc/shadow\" is not a file under patches/"),
        (format!("{ok}PATCH[0]=/etc/hostname\n"), "PATCH[0]=\"/etc/hostname\" is not a file under patches/"),
        ("PACKAGE_NAME=x\nPACKAGE_VERSION=1\nBUILD_EXCLUSIVE_KERNEL=\"^2\\.6\\.\"\n".into(), "BUILD_EXCLUSIVE_KERNEL=\"^2\\.6\\.\" does not match kernel"),
    ];
    for (text, want) in &cases {
        let t0 = std::time::Instant::now();
        let (code, err, out) = import_text(dir.path(), text);
        assert_eq!(code, 2, "accepted {text:?}: {err}");
        assert!(!out.exists());
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.contains(want), "{text:?}: expected {want:?} in {err}");
        assert!(
            t0.elapsed().as_secs() < 30,
            "{text:?} took {:?}",
            t0.elapsed()
        );
    }
    // Real dkms.conf shapes a line reader refused: `if`, `$(...)`, multi-line values,
    // kernel-dependent values; no arrays at all (one module named after
    // the package).
    let (code, err, out) = import_text(
        dir.path(),
        "# vendor\nexport PACKAGE_NAME='kpx_crlf'\nPACKAGE_VERSION=2.0 # trailing\nAUTOINSTALL=yes\n",
    );
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("no BUILT_MODULE_NAME[0]: one module named after PACKAGE_NAME (`kpx_crlf`)"),
        "{err}"
    );
    let d = Description::load(&out).unwrap();
    assert_eq!((d.name.as_str(), d.version.as_str()), ("kpx_crlf", "2.0"));
    assert_eq!(d.modules[0].name, "kpx_crlf");
    let (code, err, out) = import_text(
        dir.path(),
        "PACKAGE_NAME=kpx-real\nPACKAGE_VERSION=\"$(echo 1.2)\"\n\
         if [[ $kernelver =~ ^[0-9] ]]; then\n  BUILT_MODULE_NAME[0]=kpx_a\nfi\n\
         BUILT_MODULE_NAME[1]=\"kpx_${arch%%_64}\"\n\
         MAKE[0]=\"make -C ${kernel_source_dir} \\\n  M=${dkms_tree}/${module}/${module_version}/build\"\n\
         DEST_MODULE_LOCATION[0]=/extra\nDEST_MODULE_LOCATION[1]=/extra\nNO_WEAK_MODULES=yes\nOBSOLETE_BY=9.0\n",
    );
    assert_eq!(code, 0, "{err}");
    let d = Description::load(&out).unwrap();
    assert_eq!(
        d.modules
            .iter()
            .map(|m| m.name.as_str())
            .collect::<Vec<_>>(),
        ["kpx_a", "kpx_x86"]
    );
    assert_eq!(d.version, "1.2");
    assert!(!d.scriptlets.weak_modules, "NO_WEAK_MODULES=yes");
    assert!(err.contains("OBSOLETE_BY `9.0`"), "{err}");
}

/// A copy of the kpx-legacy tree with `extra` appended to its dkms.conf.
fn legacy_tree_with(dir: &Path, extra: &str) -> PathBuf {
    let src = sample().parent().unwrap().to_path_buf();
    let tree = dir.join("kpx-legacy");
    for e in walkdir::WalkDir::new(&src) {
        let e = e.unwrap();
        let to = tree.join(e.path().strip_prefix(&src).unwrap());
        if e.file_type().is_dir() {
            std::fs::create_dir_all(&to).unwrap();
        } else {
            std::fs::copy(e.path(), &to).unwrap();
        }
    }
    let conf = tree.join("dkms.conf");
    let mut text = std::fs::read_to_string(&conf).unwrap();
    text.push_str(extra);
    std::fs::write(&conf, text).unwrap();
    conf
}

#[test]
fn a_declared_module_that_is_not_built_fails_the_build_naming_it() {
    let top = Topdir::new();
    let conf = legacy_tree_with(
        top.path(),
        "BUILT_MODULE_NAME[2]=kpx_ghost\nBUILT_MODULE_LOCATION[2]=src/\nDEST_MODULE_LOCATION[2]=/extra\n",
    );
    let yaml = top.path().join("ghost.yaml");
    let (code, notes) = import(&conf, &["--kernel", "5.14.0-503.11.1.el9_5"], &yaml);
    assert_eq!(code, 0, "{notes}");
    let spec = top.render(&yaml, &[]);
    let (code, log) = top.rpmbuild(&spec, &[]);
    assert_ne!(code, 0, "{log}");
    let want = "kmodpack: module kpx_ghost (BUILT_MODULE_NAME[2] in ";
    let line = log
        .lines()
        .find(|l| l.starts_with(want))
        .unwrap_or_else(|| panic!("{want:?} not in:\n{log}"));
    assert!(
        line.ends_with("dkms.conf) was not built: src/kpx_ghost.ko is missing"),
        "{line}"
    );
    // Nothing half-built: no binary package.
    let rpms: Vec<_> = walkdir::WalkDir::new(top.path().join("RPMS"))
        .into_iter()
        .flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == "rpm"))
        .collect();
    assert!(rpms.is_empty(), "{rpms:?}");
}
