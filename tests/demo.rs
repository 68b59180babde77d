//! `make demo` in the test suite: the whole job on the bundled example
//! (spec → build with signing, handing its results to the driver update disk
//! → deps check → kabi check → alias → dud verify). Its last line must name an existing ISO 9660
//! image labelled OEMDRV, as read back by isoinfo (not by kmodpack).

mod common;

use std::process::Command;

use common::{repo, run};

#[test]
fn make_demo_ends_with_an_oemdrv_iso() {
    let tmp = tempfile::tempdir().unwrap();
    let out_dir = tmp.path().join("demo");
    let (code, out, err) = run(Command::new("bash")
        .arg(repo().join("tests/support/demo.sh"))
        .env("KMODPACK", env!("CARGO_BIN_EXE_kmodpack"))
        .env("DEMO_OUT", &out_dir));
    assert_eq!(code, 0, "demo failed:\n{out}\n{err}");
    for step in [
        "kmodpack spec",
        "kmodpack build",
        "kmodpack deps check",
        "kmodpack kabi check",
        "kmodpack alias",
        "kmodpack build --dud",
        "kmodpack dud verify",
    ] {
        assert!(out.contains(step), "demo did not run {step}:\n{out}");
    }
    assert!(
        out.contains("0 unresolved"),
        "deps check found unresolved requirements:\n{out}"
    );
    let last = out.lines().last().unwrap_or_default();
    let iso = std::path::Path::new(last);
    assert!(
        iso.is_file() && last.ends_with(".iso"),
        "last line is not an ISO path: {last:?}"
    );
    assert!(iso.starts_with(&out_dir));
    let (code, info, err) = run(Command::new("isoinfo").arg("-d").arg("-i").arg(iso));
    assert_eq!(code, 0, "{err}");
    assert!(
        info.lines().any(|l| l.trim() == "Volume id: OEMDRV"),
        "{info}"
    );
    assert!(info.contains("Rock Ridge"), "{info}");
    // The disk was assembled from the build's own report (the handoff).
    assert!(out.contains("from build "), "{out}");
    assert!(out.contains("left  kmod-kpx-zfs-devel-"), "{out}");
    // The RPMs on the disk are the signed ones.
    let (code, listing, _) = run(Command::new("isoinfo").args(["-R", "-f", "-i"]).arg(iso));
    assert_eq!(code, 0);
    assert!(
        listing
            .lines()
            .any(|l| l.starts_with("/rpms/x86_64/kmod-kpx-zfs-")),
        "{listing}"
    );
    assert!(
        listing
            .lines()
            .any(|l| l.starts_with("/rpms/x86_64/kmod-kpx-lustre-")),
        "{listing}"
    );
}
