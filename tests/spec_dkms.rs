//! `kmodpack spec --from-dkms`: a DKMS module (tests/data/dkms/kpx-legacy,
//! a vendor-style tree with dkms.conf, two modules in src/, a patch and make
//! variables) becomes a package description, which renders and builds with
//! the real rpmbuild into a kmod RPM. Its C sources only compile when the
//! patch and the MAKE variables were carried over.

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
        "line 4: PACKAGE_VERSION `3.1-7` contains `-`",
        "line 7: DEST_MODULE_LOCATION[0] `/kernel/drivers/scsi` is not used",
        "line 11: MAKE argument `KVER=${kernelver}` depends on the build host",
        "line 17: POST_INSTALL `post-install.sh` is not imported",
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
    assert_eq!(d.build.subdir.as_deref(), Some("src"));
    assert_eq!(d.build.make_args, ["KPX_LEGACY_QUIRKS=1"]);
    assert_eq!(d.source.patches.len(), 1);
    assert!(d.scriptlets.weak_modules);
    assert_eq!(d.kernels[0].release, "5.14.0-503.11.1.el9_5");

    // Render and build it for real.
    let spec = top.render(&yaml, &[]);
    let (code, log) = top.rpmbuild(&spec, &[]);
    assert_eq!(code, 0, "rpmbuild of the imported DKMS module:\n{log}");
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
    assert!(err.contains("dkms.conf:16: BUILD_EXCLUSIVE_ARCH `x86_64|aarch64` excludes every requested arch (s390x)"), "{err}");
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

#[test]
fn malformed_and_hostile_dkms_conf() {
    let dir = tempfile::tempdir().unwrap();
    let cases: &[(&str, &str)] = &[
        (
            "PACKAGE_VERSION=1.0\nBUILT_MODULE_NAME[0]=x\n",
            "dkms.conf: PACKAGE_NAME is missing",
        ),
        (
            "PACKAGE_NAME=x\nPACKAGE_VERSION=\n",
            "dkms.conf:2: PACKAGE_VERSION is missing or empty",
        ),
        (
            "PACKAGE_NAME=\"x\nPACKAGE_VERSION=1\n",
            "dkms.conf:1: unterminated \" quote",
        ),
        (
            "PACKAGE_NAME=x\nPACKAGE_VERSION=1\nrm -rf /\n",
            "dkms.conf:3: expected `KEY=value`",
        ),
        (
            "PACKAGE_NAME=x\nPACKAGE_VERSION=1\n$(reboot)=1\n",
            "dkms.conf:3: `$(reboot)` is not a variable",
        ),
        (
            "PACKAGE_NAME=\"$(reboot)\"\nPACKAGE_VERSION=1\n",
            "`name`: `$(reboot)` contains `$`",
        ),
        (
            "PACKAGE_NAME=x\nPACKAGE_VERSION=\"1%{?dist}\"\n",
            "`version`: contains `%`",
        ),
        (
            "PACKAGE_NAME=x\nPACKAGE_VERSION=1\nBUILT_MODULE_NAME[0]=a\nBUILT_MODULE_NAME[1]=a\n",
            "dkms.conf:4: module `a` is listed twice",
        ),
        (
            "PACKAGE_NAME=x\nPACKAGE_VERSION=1\nBUILT_MODULE_NAME[0]=\"a b\"\n",
            "`modules[0].name`",
        ),
    ];
    for (text, want) in cases {
        let conf = dir.path().join("dkms.conf");
        std::fs::write(&conf, text).unwrap();
        let out = dir.path().join("out.yaml");
        let (code, err) = import(&conf, &["--kernel", "5.14.0-503.11.1.el9_5"], &out);
        assert_eq!(code, 2, "accepted {text:?}: {err}");
        assert!(!out.exists());
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.contains(want), "{text:?}: expected {want:?} in {err}");
    }
    // CRLF files, comments, export and defaulted module name are fine.
    let conf = dir.path().join("dkms.conf");
    std::fs::write(&conf, "# vendor\r\nexport PACKAGE_NAME='kpx_crlf'\r\nPACKAGE_VERSION=2.0 # trailing\r\nAUTOINSTALL=yes\r\n").unwrap();
    let out = dir.path().join("crlf.yaml");
    let (code, err) = import(
        &conf,
        &["--kernel", "5.14.0-503.11.1.el9_5", "--license", "MIT"],
        &out,
    );
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("BUILT_MODULE_NAME[0] not set: using PACKAGE_NAME `kpx_crlf`"),
        "{err}"
    );
    let d = Description::load(&out).unwrap();
    assert_eq!(
        (d.name.as_str(), d.version.as_str(), d.license.as_str()),
        ("kpx_crlf", "2.0", "MIT")
    );
    assert_eq!(d.modules[0].name, "kpx_crlf");
}
