//! `kmodpack dud build`: the user stories of issue 7 with real RPMs from
//! rpmbuild, real ISOs from xorriso, read back with isoinfo/xorriso/bsdtar.

mod common;
mod dud_common;

use dud_common::{build_disk, build_rpm, dud, extract_iso, ls, s, scratch, KmodSpec, INSTALLER_95};

#[test]
fn ge_provides_is_accepted_and_the_disk_reads_back() {
    let rpm = build_rpm(&KmodSpec::el9(">="));
    let t = scratch();
    let iso = t.path().join("dd.iso");
    let (code, out, err) = build_disk(&iso, &[s(&rpm)]);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(
        out.contains(&format!(
            "ACCEPTED  kmod-kpx-1.0-1.el9_5.x86_64.rpm  on {INSTALLER_95}"
        )),
        "{out}"
    );
    assert!(out.contains("inst.dd=hd:LABEL=OEMDRV"), "{out}");
    // Only the image is left in the output directory.
    assert_eq!(ls(t.path()), vec!["dd.iso"]);

    // Independent reader 1: isoinfo (label, Rock Ridge, Joliet).
    let (c, info, e) =
        common::run(std::process::Command::new("isoinfo").args(["-d", "-i", s(&iso)]));
    assert_eq!(c, 0, "{e}");
    assert!(info.contains("Volume id: OEMDRV"), "{info}");
    assert!(info.contains("Rock Ridge signatures"), "{info}");
    assert!(info.contains("Joliet"), "{info}");
    let (_, files, _) =
        common::run(std::process::Command::new("isoinfo").args(["-R", "-f", "-i", s(&iso)]));
    let files: Vec<&str> = files.lines().collect();
    assert!(files.contains(&"/rhdd3"), "{files:?}");
    assert!(
        files.contains(&"/rpms/x86_64/kmod-kpx-1.0-1.el9_5.x86_64.rpm"),
        "{files:?}"
    );
    assert!(
        files.contains(&"/rpms/x86_64/repodata/repomd.xml"),
        "{files:?}"
    );
    assert!(
        files
            .iter()
            .any(|f| f.starts_with("/rpms/x86_64/repodata/") && f.ends_with("-primary.xml.gz")),
        "{files:?}"
    );
    assert!(
        !files
            .iter()
            .any(|f| f.contains("ks-modules") || f.ends_with(".ko")),
        "{files:?}"
    );

    // Independent reader 2: bsdtar extracts it; the RPM is byte-identical
    // and rpm itself reads the Provides anaconda will see.
    let x = t.path().join("x");
    extract_iso(&iso, &x);
    let on_disk = x.join("rpms/x86_64/kmod-kpx-1.0-1.el9_5.x86_64.rpm");
    assert_eq!(
        std::fs::read(&on_disk).unwrap(),
        std::fs::read(&rpm).unwrap()
    );
    let (_, prov, _) =
        common::run(std::process::Command::new("rpm").args(["-qp", "--provides", s(&on_disk)]));
    assert!(
        prov.contains("kernel-modules >= 5.14.0-503.11.1.el9_5.x86_64"),
        "{prov}"
    );
    // The repodata lists the RPM with its real sha256 and size (zcat + sha256sum as oracles).
    let primary = std::fs::read_dir(x.join("rpms/x86_64/repodata"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_string_lossy().ends_with("-primary.xml.gz"))
        .unwrap();
    let (_, xml, _) = common::run(std::process::Command::new("zcat").arg(&primary));
    let (_, sum, _) = common::run(std::process::Command::new("sha256sum").arg(&on_disk));
    let sum = sum.split_whitespace().next().unwrap();
    assert!(xml.contains(sum), "primary.xml lacks {sum}");
    assert!(
        xml.contains("href=\"kmod-kpx-1.0-1.el9_5.x86_64.rpm\""),
        "{xml}"
    );
    assert!(
        xml.contains(&format!(
            "package=\"{}\"",
            std::fs::metadata(&on_disk).unwrap().len()
        )),
        "{xml}"
    );
}

#[test]
fn exact_provides_for_another_zstream_is_refused_and_nothing_is_written() {
    let rpm = build_rpm(&KmodSpec::el9("="));
    let t = scratch();
    let iso = t.path().join("dd.iso");
    let (code, out, err) = build_disk(&iso, &[s(&rpm)]);
    assert_eq!(code, 2, "{out}\n{err}");
    assert!(
        out.contains("IGNORED   kmod-kpx-1.0-1.el9_5.x86_64.rpm"),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "installer kernel {INSTALLER_95} is newer than 5.14.0-503.11.1.el9_5.x86_64"
        )),
        "{out}"
    );
    assert!(err.contains("kmodpack: error: refusing to write"), "{err}");
    assert!(ls(t.path()).is_empty(), "{:?}", ls(t.path()));
}

#[test]
fn rhel93_installer_with_a_95_kmod_is_refused() {
    let rpm = build_rpm(&KmodSpec::el9(">="));
    let t = scratch();
    let iso = t.path().join("dd.iso");
    let (code, out, err) = dud(&[
        "build",
        "-o",
        s(&iso),
        "--installer-kernel",
        "5.14.0-362.8.1.el9_3.x86_64",
        s(&rpm),
    ]);
    assert_eq!(code, 2, "{out}\n{err}");
    assert!(out.contains("IGNORED"), "{out}");
    assert!(
        out.contains("built for a newer kernel than the installer"),
        "{out}"
    );
    assert!(ls(t.path()).is_empty());
}

#[test]
fn compressed_modules_with_anaconda_34_25_3_are_refused() {
    let rpm = build_rpm(&KmodSpec {
        xz: true,
        ..KmodSpec::el9(">=")
    });
    let t = scratch();
    let iso = t.path().join("dd.iso");
    let args = [
        "build",
        "-o",
        s(&iso),
        "--installer-kernel",
        INSTALLER_95,
        "--anaconda-version",
    ];
    let (code, out, err) = dud(&[&args[..], &["34.25.3", s(&rpm)]].concat());
    assert_eq!(code, 2, "{out}\n{err}");
    assert!(out.contains("error[B5]"), "{out}");
    assert!(
        out.contains("kpx_export.ko.xz: compressed module, but anaconda 34.25.3"),
        "{out}"
    );
    assert!(ls(t.path()).is_empty());
    // The same RPM is fine for an anaconda with the fix.
    let (code, out, err) = dud(&[&args[..], &["34.25.5.11", s(&rpm)]].concat());
    assert_eq!(code, 0, "{out}\n{err}");
}

#[test]
fn bad_inputs_give_one_line_errors_and_leave_nothing_behind() {
    let good = build_rpm(&KmodSpec::el9(">="));
    let t = scratch();
    let inputs = t.path().join("in");
    let outdir = t.path().join("out");
    std::fs::create_dir_all(&inputs).unwrap();
    std::fs::create_dir_all(&outdir).unwrap();
    let iso = outdir.join("dd.iso");
    let k = ["--installer-kernel", INSTALLER_95];

    // A non-RPM file.
    let text = inputs.join("notes.rpm");
    std::fs::write(&text, "this is not an rpm\n").unwrap();
    let (code, _, err) = dud(&[&["build", "-o", s(&iso)][..], &k, &[s(&text)]].concat());
    assert_eq!(code, 2);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("kmodpack: error: ")
            && err.contains("notes.rpm: not a readable RPM package"),
        "{err}"
    );

    // A corrupt RPM: the real one truncated in the middle of its payload.
    let bytes = std::fs::read(&good).unwrap();
    let cut = inputs.join("kmod-cut.rpm");
    std::fs::write(&cut, &bytes[..bytes.len() * 2 / 3]).unwrap();
    let (code, _, err) = dud(&[&["build", "-o", s(&iso)][..], &k, &[s(&cut)]].concat());
    assert_eq!(code, 2, "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("kmod-cut.rpm"), "{err}");

    // An RPM without modules.
    let empty = build_rpm(&KmodSpec {
        name: "kmod-empty".into(),
        no_module: true,
        ..KmodSpec::el9(">=")
    });
    let (code, out, err) = dud(&[&["build", "-o", s(&iso)][..], &k, &[s(&empty)]].concat());
    assert_eq!(code, 2, "{out}{err}");
    assert!(
        out.contains("error[B4]: kmod-empty-1.0-1.el9_5.x86_64.rpm: contains no kernel module"),
        "{out}"
    );
    assert!(err.contains("refusing to write"), "{err}");

    // A missing output directory.
    let nowhere = t.path().join("missing/dd.iso");
    let (code, _, err) = dud(&[&["build", "-o", s(&nowhere)][..], &k, &[s(&good)]].concat());
    assert_eq!(code, 2);
    assert!(
        err.contains("missing: output directory does not exist"),
        "{err}"
    );

    assert!(ls(&outdir).is_empty(), "{:?}", ls(&outdir));

    // An existing output: kept unless --force.
    std::fs::write(&iso, "precious").unwrap();
    let (code, _, err) = dud(&[&["build", "-o", s(&iso)][..], &k, &[s(&good)]].concat());
    assert_eq!(code, 2);
    assert!(
        err.contains("dd.iso: already exists (use --force to replace it)"),
        "{err}"
    );
    assert_eq!(std::fs::read_to_string(&iso).unwrap(), "precious");
    let (code, out, err) =
        dud(&[&["build", "--force", "-o", s(&iso)][..], &k, &[s(&good)]].concat());
    assert_eq!(code, 0, "{out}{err}");
    assert_ne!(std::fs::read(&iso).unwrap(), b"precious");
    assert_eq!(ls(&outdir), vec!["dd.iso"]);
}

#[test]
fn usr_lib_modules_and_missing_provides_are_refused() {
    let t = scratch();
    let iso = t.path().join("dd.iso");
    let usr = build_rpm(&KmodSpec {
        name: "kmod-usr".into(),
        moddir: "/usr/lib/modules".into(),
        ..KmodSpec::el9(">=")
    });
    let (code, out, _) = build_disk(&iso, &[s(&usr)]);
    assert_eq!(code, 2);
    assert!(
        out.contains("error[B4]") && out.contains("under /usr/lib/modules"),
        "{out}"
    );
    let noprov = build_rpm(&KmodSpec {
        name: "kmod-noprov".into(),
        provides: vec![],
        ..KmodSpec::el9(">=")
    });
    let (code, out, _) = build_disk(&iso, &[s(&noprov)]);
    assert_eq!(code, 2);
    assert!(
        out.contains("error[B1]") && out.contains("no `Provides: kernel-modules"),
        "{out}"
    );
    let unversioned = build_rpm(&KmodSpec {
        name: "kmod-unv".into(),
        provides: vec!["kernel-modules".into()],
        ..KmodSpec::el9(">=")
    });
    let (code, out, _) = build_disk(&iso, &[s(&unversioned)]);
    assert_eq!(code, 2);
    assert!(out.contains("has no version"), "{out}");
    assert!(ls(t.path()).is_empty());
}

#[test]
fn iso_is_reproducible_with_source_date_epoch() {
    let rpm = build_rpm(&KmodSpec::el9(">="));
    let t = scratch();
    let mut sums = Vec::new();
    for n in ["a.iso", "b.iso"] {
        let iso = t.path().join(n);
        let (code, out, err) = common::run(
            common::kmodpack()
                .env("SOURCE_DATE_EPOCH", "1700000000")
                .args([
                    "dud",
                    "build",
                    "-o",
                    s(&iso),
                    "--installer-kernel",
                    INSTALLER_95,
                    s(&rpm),
                ]),
        );
        assert_eq!(code, 0, "{out}{err}");
        let (_, sum, _) = common::run(std::process::Command::new("sha256sum").arg(&iso));
        sums.push(sum.split_whitespace().next().unwrap().to_string());
        std::thread::sleep(std::time::Duration::from_millis(1100));
    }
    assert_eq!(sums[0], sums[1]);
    // The dates inside really are the epoch (2023-11-14 22:13:20 UTC):
    // the volume dates (xorriso) and every file's date and owner (isoinfo).
    let a = t.path().join("a.iso");
    let (_, pvd, _) =
        common::run(std::process::Command::new("xorriso").args(["-indev", s(&a), "-pvd_info"]));
    assert!(pvd.contains("Creation Time: 2023111422132000"), "{pvd}");
    let (_, listing, _) =
        common::run(std::process::Command::new("isoinfo").args(["-R", "-l", "-i", s(&a)]));
    for line in listing
        .lines()
        .filter(|l| l.starts_with('-') || l.starts_with('d'))
    {
        assert!(
            line.contains("   0    0 ") && line.contains("Nov 14 2023"),
            "{line}"
        );
        assert!(
            line.starts_with("-r--r--r--") || line.starts_with("dr-xr-xr-x"),
            "{line}"
        );
    }
}

#[test]
fn noarch_rpms_go_into_every_arch_directory_and_debuginfo_stays_off() {
    let kmod = build_rpm(&KmodSpec::el9(">="));
    let fw = build_rpm(&KmodSpec {
        name: "kpx-firmware".into(),
        arch: "noarch".into(),
        firmware: true,
        ..KmodSpec::el9(">=")
    });
    let dbg = build_rpm(&KmodSpec {
        name: "kmod-kpx-debuginfo".into(),
        ..KmodSpec::el9(">=")
    });
    let t = scratch();
    let iso = t.path().join("dd.iso");
    let (code, out, err) = build_disk(
        &iso,
        &[
            "--installer-kernel",
            "5.14.0-503.14.1.el9_5.aarch64",
            s(&kmod),
            s(&fw),
            s(&dbg),
            "--force",
        ],
    );
    // The x86_64 kmod has no aarch64 build: that is an error (forced here).
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains(
            "no package on the disk is accepted by installer kernel 5.14.0-503.14.1.el9_5.aarch64"
        ),
        "{out}"
    );
    assert!(out.contains("note[B7]: kmod-kpx-debuginfo"), "{out}");
    let (_, files, _) =
        common::run(std::process::Command::new("isoinfo").args(["-R", "-f", "-i", s(&iso)]));
    assert!(
        files.contains("/rpms/x86_64/kpx-firmware-1.0-1.el9_5.noarch.rpm"),
        "{files}"
    );
    assert!(
        files.contains("/rpms/aarch64/kpx-firmware-1.0-1.el9_5.noarch.rpm"),
        "{files}"
    );
    assert!(!files.contains("debuginfo"), "{files}");
    assert!(!files.contains("/rpms/noarch"), "{files}");
}

#[test]
fn loose_modules_and_odd_packaging_are_caught() {
    let t = scratch();
    let iso = t.path().join("dd.iso");
    // The ks-modules habit: a bare .ko as input is refused with the reason.
    let ko = common::build_module("kpx_export", &[], &[]).ko;
    let (code, _, err) = build_disk(&iso, &[s(&ko)]);
    assert_eq!(code, 2);
    assert!(
        err.contains("kpx_export.ko: a loose kernel module is never loaded from a driver disk"),
        "{err}"
    );
    // A %description line `---` and an xz module with a CRC64 check: warnings.
    let odd = build_rpm(&KmodSpec {
        name: "kmod-kpx-odd".into(),
        xz: true,
        xz_check: "--check=crc64".into(),
        description: "first part\n---\nsecond part".into(),
        ..KmodSpec::el9(">=")
    });
    let (code, out, err) = build_disk(&iso, &["--anaconda-version", "34.25.7.19", s(&odd)]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("warning[B9]"), "{out}");
    assert!(
        out.contains("kpx_export.ko.xz: xz with a CRC64 integrity check"),
        "{out}"
    );
    // Two builds of one module accepted by the same installer.
    let a = build_rpm(&KmodSpec::el9(">="));
    let b = build_rpm(&KmodSpec {
        release: "2.el9_5".into(),
        ..KmodSpec::el9(">=")
    });
    std::fs::remove_file(&iso).unwrap();
    let (code, out, _) = build_disk(&iso, &[s(&a), s(&b)]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("warning[B3]: disk: module kpx_export comes from 2 packages"),
        "{out}"
    );
    // Labels: exact and at most 32 characters.
    let (code, _, err) = dud(&[
        "build",
        "-o",
        s(&t.path().join("l.iso")),
        "--label",
        &"X".repeat(33),
        "--installer-kernel",
        INSTALLER_95,
        s(&a),
    ]);
    assert_eq!(code, 2);
    assert!(
        err.contains("is 33 characters; ISO 9660 allows 32"),
        "{err}"
    );
    // SRPMs go to src/ only when asked; the layout has no other place for them.
    let (code, out, _) = dud(&[
        "build",
        "--force",
        "-o",
        s(&iso),
        "--installer-kernel",
        INSTALLER_95,
        "--label",
        "KPX_DD",
        s(&a),
    ]);
    assert_eq!(code, 0, "{out}");
    let (_, info, _) =
        common::run(std::process::Command::new("isoinfo").args(["-d", "-i", s(&iso)]));
    assert!(info.contains("Volume id: KPX_DD"), "{info}");
    assert!(
        out.contains("boot option:  inst.dd=hd:LABEL=KPX_DD"),
        "{out}"
    );
    assert!(
        !out.contains("attach it (USB stick, virtual CD) with label OEMDRV"),
        "{out}"
    );
}

#[test]
fn dnf_reads_the_disk_repository_and_checks_the_rpm_checksums() {
    // The kmod is installed into the new system from the disk's rpms/<arch>
    // as a dnf repository: real dnf must load the repodata kmodpack wrote,
    // see the Provides, and fetch the RPM with its checksum verified; the
    // same disk with a corrupted RPM is refused.
    let rpm = build_rpm(&KmodSpec::el9(">="));
    let t = scratch();
    let iso = t.path().join("dd.iso");
    let (code, out, err) = build_disk(&iso, &[s(&rpm)]);
    assert_eq!(code, 0, "{out}\n{err}");
    let x = t.path().join("x");
    extract_iso(&iso, &x);
    // The kmod's kernel() Requires resolve against a stand-in kernel.
    let kernel = dud_common::kernel_exports_repo(t.path());
    let dnf = |cache: &str, args: &[&str]| {
        common::run(
            std::process::Command::new("dnf")
                .args(["-y", "-q", "--setopt=reposdir=/nonexistent"])
                .arg(format!("--installroot={}", t.path().join("root").display()))
                .arg(format!(
                    "--setopt=cachedir={}",
                    t.path().join(cache).display()
                ))
                .arg(format!(
                    "--repofrompath=dud,file://{}",
                    x.join("rpms/x86_64").display()
                ))
                .arg(format!("--repofrompath=kernel,file://{}", kernel.display()))
                .args([
                    "--repo=dud",
                    "--repo=kernel",
                    "--setopt=dud.gpgcheck=0",
                    "--setopt=kernel.gpgcheck=0",
                    "--forcearch=x86_64",
                    "--releasever=9",
                ])
                .args(args),
        )
    };
    let (c, prov, e) = dnf("cache1", &["repoquery", "--provides", "kmod-kpx"]);
    assert_eq!(c, 0, "{e}");
    assert!(
        prov.contains("kernel-modules >= 5.14.0-503.11.1.el9_5.x86_64"),
        "{prov}"
    );
    let dl = t.path().join("dl");
    let dest = format!("--destdir={}", dl.display());
    let (c, o, e) = dnf("cache1", &["install", "--downloadonly", &dest, "kmod-kpx"]);
    assert_eq!(c, 0, "{o}{e}");
    assert_eq!(
        std::fs::read(dl.join("kmod-kpx-1.0-1.el9_5.x86_64.rpm")).unwrap(),
        std::fs::read(&rpm).unwrap()
    );
    // Corrupt the RPM after the repodata was written: dnf refuses it.
    let on_disk = x.join("rpms/x86_64/kmod-kpx-1.0-1.el9_5.x86_64.rpm");
    let mut bytes = std::fs::read(&on_disk).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0xff;
    std::fs::set_permissions(
        &on_disk,
        std::os::unix::fs::PermissionsExt::from_mode(0o644),
    )
    .unwrap();
    std::fs::write(&on_disk, bytes).unwrap();
    let (c, o, e) = dnf("cache2", &["install", "--downloadonly", &dest, "kmod-kpx"]);
    assert_ne!(c, 0, "{o}{e}");
    assert!(e.contains("incorrect checksum"), "{o}{e}");
}

#[test]
fn two_different_rpms_with_one_file_name_are_refused() {
    // Same NEVRA (so the same file name), different contents.
    let a = build_rpm(&KmodSpec::el9(">="));
    let b = build_rpm(&KmodSpec {
        description: "another build of the same NEVRA".into(),
        ..KmodSpec::el9(">=")
    });
    let t = scratch();
    let (da, db) = (t.path().join("a"), t.path().join("b"));
    std::fs::create_dir(&da).unwrap();
    std::fs::create_dir(&db).unwrap();
    let name = a.file_name().unwrap();
    assert_eq!(name, b.file_name().unwrap());
    std::fs::copy(&a, da.join(name)).unwrap();
    std::fs::copy(&b, db.join(name)).unwrap();
    let iso = t.path().join("dd.iso");
    let (code, out, err) = build_disk(&iso, &[s(&da.join(name)), s(&db.join(name))]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(
        err.contains("two different RPMs have this file name")
            && err.contains(s(&da.join(name)))
            && err.contains(s(&db.join(name))),
        "{err}"
    );
    assert!(!iso.exists());
    // The same file twice is put on the disk once, and said so.
    std::fs::copy(&a, db.join(name)).unwrap();
    let (code, out, err) = build_disk(&iso, &[s(&da.join(name)), s(&db.join(name))]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("given twice") && out.contains("put on the disk once"),
        "{out}"
    );
    assert!(out.contains("rpms/x86_64/ 1 RPM + repodata"), "{out}");
}
