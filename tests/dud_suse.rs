//! `kmodpack dud build --format suse`: the linuxrc layout, as a cpio.gz
//! (read back with libarchive's bsdtar and GNU cpio) and as an ISO
//! (isoinfo), reproducible, and read again by `dud verify`.

mod common;
mod dud_common;

use std::process::Command;

use dud_common::{build_rpm, dud, s, scratch, KmodSpec};

const SLES_KERNEL: &str = "6.4.0-150600.21-default";

fn kmps() -> (std::path::PathBuf, std::path::PathBuf) {
    let (exporter, importer) = common::kpx_pair();
    let kmp = |name: &str, ko: &std::path::Path| {
        build_rpm(&KmodSpec {
            name: name.into(),
            release: "1.1".into(),
            provides: vec![],
            kver: SLES_KERNEL.into(),
            ko: Some(ko.to_path_buf()),
            ..KmodSpec::el9(">=")
        })
    };
    (
        kmp("kpx-export-kmp-default", &exporter.ko),
        kmp("kpx-import-kmp-default", &importer.ko),
    )
}

#[test]
fn suse_cpio_has_the_linuxrc_layout_and_reads_back_with_bsdtar_and_gnu_cpio() {
    let (exp, imp) = kmps();
    let t = scratch();
    let out_path = t.path().join("kpx.cpio.gz");
    // With a fixed SOURCE_DATE_EPOCH (a second build below must give the same bytes).
    let build = |out: &std::path::Path| {
        common::run(
            common::kmodpack()
                .env("SOURCE_DATE_EPOCH", "1700000000")
                .arg("dud")
                .args(suse_args(out))
                .arg(&imp)
                .arg(&exp),
        )
    };
    let (code, out, err) = build(&out_path);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("dud=https://HOST/PATH/kpx.cpio.gz"), "{out}");

    // libarchive (bsdtar, same reader as bsdcpio) lists it; GNU cpio extracts it.
    let x = t.path().join("x");
    std::fs::create_dir(&x).unwrap();
    let (c, list, e) = common::run(
        Command::new("sh")
            .arg("-c")
            .arg(format!("bsdtar -tf {}", s(&out_path))),
    );
    assert_eq!(c, 0, "{e}");
    let base = "linux/suse/x86_64-sles15";
    for want in [
        format!("{base}/dud.config"),
        format!("{base}/install/rpms/kpx-export-kmp-default-1.0-1.1.x86_64.rpm"),
        format!("{base}/install/rpms/kpx-import-kmp-default-1.0-1.1.x86_64.rpm"),
        format!("{base}/install/update.post"),
        format!("{base}/modules/kpx_export.ko"),
        format!("{base}/modules/kpx_import.ko"),
        format!("{base}/modules/module.order"),
    ] {
        assert!(
            list.lines().any(|l| l == want),
            "{want} missing from:\n{list}"
        );
    }
    let (c, _, e) = common::run(Command::new("sh").arg("-c").arg(format!(
        "cd {} && zcat {} | cpio -id --quiet",
        s(&x),
        s(&out_path)
    )));
    assert_eq!(c, 0, "{e}");
    let d = x.join(base);
    // Dependency order: the importer after the module it imports from.
    assert_eq!(
        std::fs::read_to_string(d.join("modules/module.order")).unwrap(),
        "kpx_export\nkpx_import\n"
    );
    // The modules are the ones from the KMP payloads, byte for byte.
    let (exporter, importer) = common::kpx_pair();
    assert_eq!(
        std::fs::read(d.join("modules/kpx_export.ko")).unwrap(),
        std::fs::read(&exporter.ko).unwrap()
    );
    assert_eq!(
        std::fs::read(d.join("modules/kpx_import.ko")).unwrap(),
        std::fs::read(&importer.ko).unwrap()
    );
    let cfg = std::fs::read_to_string(d.join("dud.config")).unwrap();
    assert!(cfg.starts_with("UpdateID:\tkmodpack-"), "{cfg}");
    assert!(
        cfg.contains("UpdateName:\tkpx-import-kmp-default-1.0-1.1.x86_64"),
        "{cfg}"
    );
    // update.post: valid sh, one rpm call per package, logging to DUD.log.
    let post = d.join("install/update.post");
    let (c, _, e) = common::run(Command::new("sh").arg("-n").arg(&post));
    assert_eq!(c, 0, "{e}");
    let text = std::fs::read_to_string(&post).unwrap();
    assert_eq!(text.matches("rpm --root").count(), 2, "{text}");
    assert!(text.contains("/var/log/DUD.log"), "{text}");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&post).unwrap().permissions().mode() & 0o777,
        0o755
    );
    // Run it against a scratch root (with the default flavor's kernel) with
    // rpm itself: both KMPs get installed, each logged.
    let (root, log) = run_update_post(&t, &post);
    assert!(
        log.contains("kmodpack: installing kpx-export-kmp-default-1.0-1.1.x86_64.rpm"),
        "{log}"
    );
    assert!(
        root.join(format!("lib/modules/{SLES_KERNEL}/extra/kpx/kpx_import.ko"))
            .is_file(),
        "{log}"
    );

    // The same inputs and SOURCE_DATE_EPOCH give the same bytes.
    let again = t.path().join("again.cpio.gz");
    let (code, out, err) = build(&again);
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(
        std::fs::read(&again).unwrap(),
        std::fs::read(&out_path).unwrap()
    );

    // verify reads the cpio and says what linuxrc loads.
    let (code, out, err) = dud(&["verify", s(&out_path)]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("disk: cpio archive"), "{out}");
    assert!(
        out.contains(&format!(
            "would load on linuxrc ({base}): kpx_export.ko, kpx_import.ko"
        )),
        "{out}"
    );
}

/// Runs `update.post` against a fresh scratch root holding only the
/// default flavor's kernel; returns the root and its DUD.log.
fn run_update_post(t: &tempfile::TempDir, post: &std::path::Path) -> (std::path::PathBuf, String) {
    let root = t.path().join("root");
    std::fs::create_dir_all(root.join(format!("lib/modules/{SLES_KERNEL}"))).unwrap();
    let (c, o, e) = common::run(Command::new("sh").arg(post).env("DUD_ROOT", &root).env(
        "PATH",
        format!("{}:{}", fake_rpm_dir(t), std::env::var("PATH").unwrap()),
    ));
    assert_eq!(c, 0, "{o}{e}");
    let log = std::fs::read_to_string(root.join("var/log/DUD.log")).unwrap();
    (root, log)
}

/// rpm on Debian needs --force-debian and a dbpath; the script's plain
/// `rpm --root R -Uvh` is wrapped to add them (nothing else changes).
fn fake_rpm_dir(t: &tempfile::TempDir) -> String {
    let dir = t.path().join("bin");
    std::fs::create_dir_all(&dir).unwrap();
    let w = dir.join("rpm");
    std::fs::write(
        &w,
        "#!/bin/sh\nexec /usr/bin/rpm --dbpath /var/lib/rpm --nodeps --force-debian \"$@\"\n",
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&w, std::fs::Permissions::from_mode(0o755)).unwrap();
    dir.to_string_lossy().into_owned()
}

/// `build --format suse --dist sles15 --installer-kernel <SLES> -o OUT`
/// (the arguments after `kmodpack dud`, before the RPMs).
fn suse_args(out: &std::path::Path) -> Vec<&str> {
    vec![
        "build",
        "--format",
        "suse",
        "--dist",
        "sles15",
        "--installer-kernel",
        SLES_KERNEL,
        "-o",
        s(out),
    ]
}

/// `dud build --format suse --dist sles15` for the SLES installer kernel.
fn suse_build(out: &std::path::Path, rpms: &[&std::path::Path]) -> (i32, String, String) {
    suse_build_with(out, &[], rpms)
}

/// [`suse_build`] with extra options.
fn suse_build_with(
    out: &std::path::Path,
    extra: &[&str],
    rpms: &[&std::path::Path],
) -> (i32, String, String) {
    let mut args = suse_args(out);
    args.extend(extra);
    args.extend(rpms.iter().map(|r| s(r)));
    dud(&args)
}

#[test]
fn suse_iso_is_labelled_oemdrv() {
    let (exp, imp) = kmps();
    let t = scratch();
    let iso = t.path().join("kpx.iso");
    let (code, out, err) = suse_build(&iso, &[&imp, &exp]);
    assert_eq!(code, 0, "{out}{err}");
    let (_, info, _) = common::run(Command::new("isoinfo").args(["-d", "-i", s(&iso)]));
    assert!(
        info.contains("Volume id: OEMDRV") && info.contains("Rock Ridge"),
        "{info}"
    );
    let (_, files, _) = common::run(Command::new("isoinfo").args(["-R", "-f", "-i", s(&iso)]));
    assert!(
        files.contains("/linux/suse/x86_64-sles15/modules/module.order"),
        "{files}"
    );
    // --dist is required, and must be a product name.
    let (code, _, err) = dud(&[
        "build",
        "--format",
        "suse",
        "--installer-kernel",
        SLES_KERNEL,
        "-o",
        s(&t.path().join("y.iso")),
        s(&imp),
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("--format suse needs --dist"), "{err}");
}

#[test]
fn kmp_without_modalias_supplements_is_flagged_for_the_repo_method() {
    // Checklist G4: linuxrc's repo method installs only what is required,
    // selected or supplemented.
    let (_, importer) = common::kpx_pair();
    let t = scratch();
    let g4 = |release: &str, supplements: Vec<String>| -> bool {
        let rpm = build_rpm(&KmodSpec {
            name: "kpx-import-kmp-default".into(),
            release: release.into(),
            provides: vec![],
            supplements,
            kver: SLES_KERNEL.into(),
            ko: Some(importer.ko.clone()),
            ..KmodSpec::el9(">=")
        });
        let out_path = t.path().join(format!("{release}.cpio.gz"));
        let (code, out, err) = suse_build(&out_path, &[&rpm]);
        assert_eq!(code, 0, "{out}{err}");
        out.contains("warning[G4]")
    };
    assert!(g4("1.1", vec![]));
    assert!(!g4(
        "1.2",
        vec!["modalias(kernel-default:pci:v00008086d00001572sv00008086sd00000001bc*sc*i*)".into()]
    ));
}

#[test]
fn a_red_hat_kmod_on_a_suse_disk_is_flagged_and_verify_takes_suse_releases() {
    // An RHEL kmod installs into /lib/modules/5.14.0-503.11.1.el9_5.x86_64/:
    // nothing for the SLES installer's flavor, so modules/ would be empty.
    let rh = build_rpm(&KmodSpec::el9(">="));
    let t = scratch();
    let out_path = t.path().join("rh-on-suse.iso");
    let (code, out, err) = suse_build(&out_path, &[&rh]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(
        out.contains(&format!(
            "error[G2]: disk: no module is built for the installer kernel {SLES_KERNEL}"
        )) && out.contains("linuxrc loads nothing"),
        "{out}"
    );
    assert!(!out_path.exists());
    // A SUSE report never talks about anaconda.
    assert!(!out.contains("anaconda"), "{out}");
    // Forced, the disk is written; verify (which takes the SUSE release as
    // dud build does) says linuxrc loads nothing.
    let (code, out, err) = suse_build_with(&out_path, &["--force"], &[&rh]);
    assert_eq!(code, 0, "{out}{err}");
    let (code, out, err) = dud(&["verify", s(&out_path), "--installer-kernel", SLES_KERNEL]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        out.contains("error[G2]") && out.contains("no modules/"),
        "{out}"
    );
    assert!(!err.contains("no `.<arch>` suffix"), "{err}");
    // The good KMPs verify on the same SUSE release.
    let (exp, imp) = kmps();
    let good = t.path().join("good.iso");
    let (code, out, err) = suse_build(&good, &[&imp, &exp]);
    assert_eq!(code, 0, "{out}{err}");
    let (code, out, err) = dud(&["verify", s(&good), "--installer-kernel", SLES_KERNEL]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("result: OK"), "{out}");
}

#[test]
fn two_flavors_on_one_disk_install_only_the_matching_kmp() {
    // default and rt KMPs of the same driver on one disk. YaST would run one
    // `rpm -U install/*.rpm` and fail as a whole; the KMPs sit in
    // install/rpms/ and update.post installs each on its own.
    let (exporter, _) = common::kpx_pair();
    let rt_kernel = "6.4.0-150600.21-rt";
    let kmp = |name: &str, kver: &str| {
        build_rpm(&KmodSpec {
            name: name.into(),
            release: "1.1".into(),
            provides: vec![],
            kver: kver.into(),
            ko: Some(exporter.ko.clone()),
            ..KmodSpec::el9(">=")
        })
    };
    let default = kmp("kpx-export-kmp-default", SLES_KERNEL);
    let rt = kmp("kpx-export-kmp-rt", rt_kernel);
    let t = scratch();
    let out_path = t.path().join("two.cpio.gz");
    let (code, out, err) = suse_build(&out_path, &[&default, &rt]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(!out.contains("anaconda"), "a SUSE report: {out}");
    let x = t.path().join("x");
    std::fs::create_dir(&x).unwrap();
    let (c, _, e) = common::run(Command::new("sh").arg("-c").arg(format!(
        "cd {} && zcat {} | cpio -id --quiet",
        s(&x),
        s(&out_path)
    )));
    assert_eq!(c, 0, "{e}");
    let d = x.join("linux/suse/x86_64-sles15");
    let mut top: Vec<String> = std::fs::read_dir(d.join("install"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    top.sort();
    assert_eq!(top, ["rpms", "update.post"], "no RPM directly in install/");
    // The installer loads the default flavor's module only.
    assert_eq!(
        std::fs::read_to_string(d.join("modules/module.order")).unwrap(),
        "kpx_export\n"
    );
    // A scratch root where only the default flavor's kernel is installed.
    let (root, log) = run_update_post(&t, &d.join("install/update.post"));
    assert!(
        log.contains("kmodpack: installing kpx-export-kmp-default-1.0-1.1.x86_64.rpm"),
        "{log}"
    );
    assert!(
        log.contains("kmodpack: skipped kpx-export-kmp-rt-1.0-1.1.x86_64.rpm: no kernel-rt in the installed system"),
        "{log}"
    );
    assert!(!log.contains("failed"), "{log}");
    assert!(root
        .join(format!("lib/modules/{SLES_KERNEL}/extra/kpx/kpx_export.ko"))
        .is_file());
    assert!(!root.join(format!("lib/modules/{rt_kernel}")).exists());
    // rpm's own database in the scratch root agrees.
    let (_, q, _) = common::run(Command::new("rpm").args([
        "--root",
        s(&root),
        "--dbpath",
        "/var/lib/rpm",
        "-qa",
        "--qf",
        "%{NAME}\\n",
    ]));
    assert_eq!(q.trim(), "kpx-export-kmp-default", "{q}");
}
