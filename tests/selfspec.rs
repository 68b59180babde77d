//! kmodpack packages itself: `specs/kmodpack.spec` builds with real
//! rpmbuild from a source tarball of this repository, and the RPM installs
//! into a private root with a working binary, man pages and completions.

mod common;

use std::process::Command;

use common::{repo, run};

#[test]
fn kmodpack_spec_builds_and_installs() {
    let tmp = tempfile::tempdir().unwrap();
    let top = tmp.path().join("rpmbuild");
    let sources = top.join("SOURCES");
    std::fs::create_dir_all(&sources).unwrap();

    // Source tarball of the tracked files (what a release tarball holds).
    let (code, files, err) = run(Command::new("git")
        .arg("-C")
        .arg(repo())
        .args(["ls-files", "-z"]));
    assert_eq!(code, 0, "git ls-files: {err}");
    let list = tmp.path().join("files");
    std::fs::write(&list, files).unwrap();
    let tarball = sources.join("kmodpack-0.1.0.tar.gz");
    let (code, _, err) = run(Command::new("tar")
        .arg("-C")
        .arg(repo())
        .args(["--null", "-T"])
        .arg(&list)
        .args(["--transform", "s,^,kmodpack-0.1.0/,", "-czf"])
        .arg(&tarball));
    assert_eq!(code, 0, "tar: {err}");

    // Reuse compiled dependencies between runs (a separate dir: never the
    // one the test binaries live in).
    let (code, out, err) = run(Command::new("rpmbuild")
        .arg("-ba")
        .arg("--nodeps")
        .arg("--define")
        .arg(format!("_topdir {}", top.display()))
        .env("CARGO_TARGET_DIR", repo().join("target/selfspec"))
        .arg(repo().join("specs/kmodpack.spec")));
    assert_eq!(code, 0, "rpmbuild failed:\n{out}\n{err}");

    let rpm = std::fs::read_dir(top.join("RPMS").join(std::env::consts::ARCH))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("kmodpack-0.1.0-1")
        })
        .expect("binary RPM");
    assert!(
        std::fs::read_dir(top.join("SRPMS")).unwrap().count() == 1,
        "one SRPM"
    );

    let (code, listing, err) = run(Command::new("rpm").arg("-qpl").arg(&rpm));
    assert_eq!(code, 0, "{err}");
    for want in [
        "/usr/bin/kmodpack",
        "/usr/share/man/man1/kmodpack-deps.1",
        "/usr/share/bash-completion/completions/kmodpack",
        "/usr/lib/rpm/fileattrs/kmodpack.attr",
        "/usr/lib/rpm/macros.d/macros.kmodpack",
    ] {
        assert!(
            listing.lines().any(|l| l.starts_with(want)),
            "{want} missing from:\n{listing}"
        );
    }

    // Install into a private root and run the packaged binary.
    let rpm_root = common::RpmRoot::new();
    let root = rpm_root.path();
    let (code, _, err) = rpm_root.install(
        &["--nodeps", "--nodigest", "--nosignature", "--noscripts"],
        &[&rpm],
    );
    assert_eq!(code, 0, "rpm -i: {err}");
    let (code, out, err) = run(Command::new(root.join("usr/bin/kmodpack")).arg("--version"));
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.trim(), "kmodpack 0.1.0");
    // `make build` in %build linked it statically, whatever flags rpm's
    // %build environment exported.
    assert!(common::is_static(&root.join("usr/bin/kmodpack")));
    // The installed fileattrs class runs the installed binary.
    let attr = std::fs::read_to_string(root.join("usr/lib/rpm/fileattrs/kmodpack.attr")).unwrap();
    assert!(
        attr.contains("/usr/bin/kmodpack deps provides") || attr.contains("/usr/bin/kmodpack"),
        "{attr}"
    );
    assert!(!attr.contains("@KMODPACK@"), "placeholder left in {attr}");
}
