//! `kmodpack dud verify` on our disks and on hand-made ones (the mistakes
//! people make: no Rock Ridge, stale repodata, the ks-modules layout), and
//! `--installer-iso` reading the installer kernel from an ISO.

mod common;
mod dud_common;

use std::process::Command;

use dud_common::{build_disk, build_rpm, dud, install_iso, s, scratch, KmodSpec, INSTALLER_95};

fn createrepo(dir: &std::path::Path) {
    let (c, o, e) = common::run(
        Command::new("createrepo_c")
            .args(["--quiet", "--general-compress-type=gz"])
            .arg(dir),
    );
    assert_eq!(c, 0, "{o}{e}");
}

/// An OEMDRV image of `tree` with `extra` mkisofs options (no Rock Ridge
/// unless asked for: the hand-made disks' mistakes).
fn mkiso(tree: &std::path::Path, iso: &std::path::Path, extra: &[&str]) {
    dud_common::mkisofs(tree, iso, &[&["-V", "OEMDRV"], extra].concat());
}

#[test]
fn our_disk_verifies_and_says_what_loads_where() {
    let rpm = build_rpm(&KmodSpec::el9(">="));
    let t = scratch();
    let iso = t.path().join("dd.iso");
    let (code, out, err) = build_disk(&iso, &[s(&rpm)]);
    assert_eq!(code, 0, "{out}{err}");
    let (code, out, err) = dud(&["verify", s(&iso), "--installer-kernel", INSTALLER_95]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("disk: ISO 9660, label OEMDRV, Rock Ridge yes, Joliet yes"),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "would load on {INSTALLER_95}: kpx_export.ko (kmod-kpx-1.0-1.el9_5.x86_64.rpm)"
        )),
        "{out}"
    );
    assert!(out.contains("result: OK"), "{out}");
    // The same answer as JSON.
    let (code, j, err) = dud(&[
        "verify",
        s(&iso),
        "--installer-kernel",
        INSTALLER_95,
        "--json",
    ]);
    assert_eq!(code, 0, "{j}{err}");
    let j: serde_json::Value = serde_json::from_str(&j).expect("stdout is JSON");
    assert_eq!(j["ok"], true, "{j}");
    assert_eq!(j["disk"]["label"], "OEMDRV");
    assert_eq!(j["verdicts"][0]["accepted"], true, "{j}");
    assert_eq!(j["loads"][0]["target"], INSTALLER_95, "{j}");
    // Without an installer kernel nothing says what would load: not OK.
    let (code, out, err) = dud(&["verify", s(&iso)]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(!out.contains("result: OK"), "{out}");
    assert!(
        out.contains("not checked: which RPMs anaconda's dd_list accepts and what would load"),
        "{out}"
    );
    assert!(out.contains("result: NOT CHECKED"), "{out}");
    let (code, j, _) = dud(&["verify", s(&iso), "--json"]);
    assert_eq!(code, 1);
    let j: serde_json::Value = serde_json::from_str(&j).unwrap();
    assert_eq!(j["ok"], false);
    assert_eq!(j["unchecked"].as_array().unwrap().len(), 1, "{j}");
    // The same disk on a RHEL 9.3 installer: nothing loads, exit 1.
    let (code, out, _) = dud(&[
        "verify",
        s(&iso),
        "--installer-kernel",
        "5.14.0-362.8.1.el9_3.x86_64",
    ]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("would load on 5.14.0-362.8.1.el9_3.x86_64: NOTHING"),
        "{out}"
    );
    // An aarch64 installer finds no rpms/aarch64.
    let (code, out, _) = dud(&[
        "verify",
        s(&iso),
        "--installer-kernel",
        "5.14.0-503.14.1.el9_5.aarch64",
    ]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("no rpms/aarch64/"), "{out}");
}

#[test]
fn hand_made_disks_with_the_usual_mistakes() {
    let rpm = build_rpm(&KmodSpec::el9(">="));
    let other = build_rpm(&KmodSpec {
        release: "2.el9_5".into(),
        ..KmodSpec::el9(">=")
    });
    let t = scratch();

    // 1. Plain ISO 9660 (genisoimage without -R/-J): names become 8.3.
    let tree = t.path().join("plain");
    std::fs::create_dir_all(tree.join("rpms/x86_64")).unwrap();
    std::fs::write(tree.join("rhdd3"), "Driver Update Disk version 3").unwrap();
    std::fs::copy(
        &rpm,
        tree.join("rpms/x86_64").join(rpm.file_name().unwrap()),
    )
    .unwrap();
    createrepo(&tree.join("rpms/x86_64"));
    let plain = t.path().join("plain.iso");
    let (c, o, e) = common::run(
        Command::new("genisoimage")
            .args(["-quiet", "-V", "OEMDRV", "-o"])
            .arg(&plain)
            .arg(&tree),
    );
    assert_eq!(c, 0, "{o}{e}");
    let (code, out, _) = dud(&["verify", s(&plain), "--installer-kernel", INSTALLER_95]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("Rock Ridge NO, Joliet no"), "{out}");
    assert!(
        out.contains("error[E2]: image: no Rock Ridge and no Joliet"),
        "{out}"
    );

    // 2. Stale repodata: the RPM was rebuilt after createrepo_c ran.
    std::fs::copy(
        &other,
        tree.join("rpms/x86_64").join(rpm.file_name().unwrap()),
    )
    .unwrap();
    let stale = t.path().join("stale.iso");
    mkiso(&tree, &stale, &["-R", "-J"]);
    let (code, out, _) = dud(&["verify", s(&stale), "--installer-kernel", INSTALLER_95]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("error[D2]") && out.contains("stale metadata"),
        "{out}"
    );
    // The unpacked directory gives the same answer.
    let (code, out, _) = dud(&["verify", s(&tree), "--installer-kernel", INSTALLER_95]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("disk: directory") && out.contains("error[D2]"),
        "{out}"
    );

    // 3. The ks-modules layout from the user's report: no rhdd3, a loose .ko.
    let ks = t.path().join("ks");
    let kdir = ks.join(format!("ks-modules/x86_64/{INSTALLER_95}"));
    std::fs::create_dir_all(&kdir).unwrap();
    std::fs::copy(
        common::build_module("kpx_export", &[], &[]).ko,
        kdir.join("kpx_export.ko"),
    )
    .unwrap();
    let ksiso = t.path().join("ks.iso");
    mkiso(&ks, &ksiso, &["-R", "-J"]);
    let (code, out, _) = dud(&["verify", s(&ksiso), "--installer-kernel", INSTALLER_95]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("driver update trees: none"), "{out}");
    assert!(
        out.contains("no driver update tree: neither rhdd3"),
        "{out}"
    );

    // 4. Not a disk at all.
    let junk = t.path().join("junk.iso");
    std::fs::write(&junk, vec![0u8; 4096]).unwrap();
    let (code, _, err) = dud(&["verify", s(&junk)]);
    assert_eq!(code, 2);
    assert!(err.contains("junk.iso: not a driver disk"), "{err}");
}

#[test]
fn installer_iso_supplies_kernel_and_anaconda_version() {
    let t = scratch();
    let inst = install_iso(t.path(), Some("34.25.3.8"));
    let kver = common::kernel_release();
    // The .ko.xz kmod: anaconda 34.25.3.8 (read from the ISO's RPM header)
    // would accept the package but extract no module.
    let xz = build_rpm(&KmodSpec {
        xz: true,
        ..KmodSpec::el9(">=")
    });
    let iso = t.path().join("dd.iso");
    let (code, out, err) = dud(&["build", "-o", s(&iso), "--installer-iso", s(&inst), s(&xz)]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(
        out.contains(&format!(
            "{kver} (x86_64, anaconda 34.25.3.8, read from {}:/images/pxeboot/vmlinuz)",
            s(&inst)
        )),
        "{out}"
    );
    assert!(
        out.contains("error[B5]") && out.contains("anaconda 34.25.3.8"),
        "{out}"
    );
    assert!(!iso.exists());
    // The release really is the bzImage's: compare with the file name Debian gives it.
    let (_, file_out, _) = common::run(Command::new("file").arg(dud_common::debian_vmlinuz()));
    assert!(file_out.contains(&format!("version {kver} ")), "{file_out}");

    // Without an anaconda RPM on the ISO the version is unknown: a warning only.
    let t2 = scratch();
    let inst2 = install_iso(t2.path(), None);
    let (code, out, err) = dud(&[
        "build",
        "-o",
        s(&t2.path().join("dd.iso")),
        "--installer-iso",
        s(&inst2),
        s(&xz),
    ]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("anaconda version unknown") && out.contains("warning[B5]"),
        "{out}"
    );

    // A non-ISO as --installer-iso is a one-line error.
    let (code, _, err) = dud(&[
        "build",
        "-o",
        s(&t2.path().join("x.iso")),
        "--installer-iso",
        s(&xz),
        s(&xz),
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("not an ISO 9660 image"), "{err}");
}

#[test]
fn rhel_install_iso_gives_release_anaconda_and_kabi_symbols() {
    let t = scratch();
    let inst = dud_common::rhel_install_iso(t.path(), INSTALLER_95, "34.25.5.11");
    let (exp, imp) = dud_common::kpx_pair_rpms();
    let iso = t.path().join("dd.iso");
    // The importer alone: the installer kernel (symbols from the ISO's
    // kernel-core RPM) does not export kpx_add.
    let (code, out, err) = dud(&["build", "-o", s(&iso), "--installer-iso", s(&inst), s(&imp)]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(
        out.contains(&format!(
            "{INSTALLER_95} (x86_64, anaconda 34.25.5.11, read from {}:/images/pxeboot/vmlinuz)",
            s(&inst)
        )),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "kABI: checked against kernel-core-{INSTALLER_95}.rpm from {}",
            s(&inst)
        )),
        "{out}"
    );
    assert!(
        out.contains("error[C2]") && out.contains("unknown symbol kpx_add"),
        "{out}"
    );
    // With its exporter on the disk every import resolves.
    let (code, out, err) = dud(&[
        "build",
        "-o",
        s(&iso),
        "--installer-iso",
        s(&inst),
        s(&imp),
        s(&exp),
    ]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(!out.contains("[C2]"), "{out}");
    assert!(
        out.contains(&format!(
            "ACCEPTED  kmod-kpx-import-1.0-1.el9_5.x86_64.rpm  on {INSTALLER_95}"
        )),
        "{out}"
    );
    // verify takes the same ISO.
    let (code, out, err) = dud(&["verify", s(&iso), "--installer-iso", s(&inst)]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("kpx_export.ko (kmod-kpx-export-1.0-1.el9_5.x86_64.rpm), kpx_import.ko"),
        "{out}"
    );
}

/// A good disk unpacked into a directory (dud verify reads directories too).
fn unpacked_disk(t: &tempfile::TempDir) -> (std::path::PathBuf, std::path::PathBuf) {
    let rpm = build_rpm(&KmodSpec::el9(">="));
    let iso = t.path().join("dd.iso");
    let (code, out, err) = build_disk(&iso, &[s(&rpm)]);
    assert_eq!(code, 0, "{out}{err}");
    let d = t.path().join("d");
    dud_common::extract_iso(&iso, &d);
    (d, rpm)
}

fn verify_dir(d: &std::path::Path) -> (i32, String, String) {
    common::run(
        Command::new("timeout")
            .args(["20", env!("CARGO_BIN_EXE_kmodpack"), "dud", "verify"])
            .arg(d)
            .args(["--installer-kernel", INSTALLER_95]),
    )
}

#[test]
fn a_hostile_disk_never_makes_verify_read_the_host() {
    let t = scratch();
    let (d, host_rpm) = unpacked_disk(&t);
    let repo = d.join("rpms/x86_64");
    let repomd_path = repo.join("repodata/repomd.xml");
    let repomd = std::fs::read_to_string(&repomd_path).unwrap();
    let primary = regex::Regex::new(r#"href="(repodata/[^"]*primary\.xml[^"]*)""#)
        .unwrap()
        .captures(&repomd)
        .unwrap()[1]
        .to_string();
    // repomd.xml pointing outside the repository: relative, absolute, a device.
    for href in [
        "../../../../../../etc/hostname",
        "/etc/hostname",
        "/dev/zero",
    ] {
        std::fs::write(&repomd_path, repomd.replace(&primary, href)).unwrap();
        let (code, out, err) = verify_dir(&d);
        assert_eq!(code, 1, "{href}: exit {code} (124 = hung)\n{out}{err}");
        assert!(
            out.contains(&format!("`{href}` points outside the repository")),
            "{href}: {out}"
        );
        assert!(
            !out.contains("bytes"),
            "{href}: a host file's size leaked: {out}"
        );
    }
    // repomd.xml itself a symlink to a device: refused, not read.
    std::fs::remove_file(&repomd_path).unwrap();
    std::os::unix::fs::symlink("/dev/zero", &repomd_path).unwrap();
    let (code, out, err) = verify_dir(&d);
    assert_eq!(code, 1, "exit {code} (124 = hung)\n{out}{err}");
    assert!(
        out.contains("repodata/repomd.xml is a symlink on the disk: not followed"),
        "{out}"
    );
    std::fs::remove_file(&repomd_path).unwrap();
    std::fs::write(&repomd_path, &repomd).unwrap();
    // The only RPM a symlink to a host file: named, never read or dumped, not OK.
    let name = "kmod-kpx-1.0-1.el9_5.x86_64.rpm";
    std::fs::remove_file(repo.join(name)).unwrap();
    std::os::unix::fs::symlink("/etc/passwd", repo.join(name)).unwrap();
    let (code, out, err) = verify_dir(&d);
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        out.contains(&format!("{name} is a symlink: not read")),
        "{out}"
    );
    assert!(!out.contains("root:"), "host bytes in the output: {out}");
    assert!(!out.contains("result: OK"), "{out}");
    // ... even when it points at the real RPM outside the disk.
    std::fs::remove_file(repo.join(name)).unwrap();
    std::os::unix::fs::symlink(&host_rpm, repo.join(name)).unwrap();
    let (code, out, err) = verify_dir(&d);
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        out.contains(&format!("would load on {INSTALLER_95}: NOTHING")),
        "{out}"
    );
    // A symlinked rpms/<arch> directory is not followed either.
    std::fs::remove_dir_all(&repo).unwrap();
    std::os::unix::fs::symlink(host_rpm.parent().unwrap(), &repo).unwrap();
    let (code, out, err) = verify_dir(&d);
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        out.contains("rpms/x86_64 is a symlink: not followed"),
        "{out}"
    );
}
