//! The preflight's module checks that come from the kabi/alias library
//! (kABI against the installer kernel's symbols, PCI ids claimed), and the
//! kmod's Requires against the installer kernel.

mod common;
mod dud_common;

use dud_common::{build_disk, build_rpm, dud, ls, s, scratch, KmodSpec, INSTALLER_95};

#[test]
fn kabi_mismatch_between_modules_on_the_disk_is_refused() {
    let (exporter, importer) = common::kpx_pair();
    // The exporter rebuilt with a changed kpx_add prototype: new CRC.
    let variant = common::build_module("kpx_export", &["KPX_VARIANT=1"], &[]);
    let imp = build_rpm(&KmodSpec::el9_module("kmod-kpx-import", &importer.ko));
    let exp_ok = build_rpm(&KmodSpec::el9_module("kmod-kpx-export", &exporter.ko));
    let exp_var = build_rpm(&KmodSpec {
        release: "2.el9_5".into(),
        ..KmodSpec::el9_module("kmod-kpx-export", &variant.ko)
    });
    let symvers = common::kernel_symvers();
    let t = scratch();
    let iso = t.path().join("dd.iso");
    let base = [
        "build",
        "-o",
        s(&iso),
        "--installer-kernel",
        INSTALLER_95,
        "--target-symvers",
        s(&symvers),
    ];

    let (code, out, err) = dud(&[&base[..], &[s(&imp), s(&exp_var)]].concat());
    assert_eq!(code, 2, "{out}{err}");
    assert!(
        out.contains("error[C2]") && out.contains("disagrees about version of symbol kpx_add"),
        "{out}"
    );
    assert!(ls(t.path()).is_empty());

    let (code, out, err) = dud(&[&base[..], &[s(&imp), s(&exp_ok)]].concat());
    assert_eq!(code, 0, "{out}{err}");
    assert!(!out.contains("[C2]"), "{out}");

    // Without the exporter on the disk, the importer's symbols are unknown to the kernel.
    std::fs::remove_file(&iso).unwrap();
    let (code, out, _) = dud(&[&base[..], &[s(&imp)]].concat());
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("unknown symbol kpx_add"), "{out}");
}

#[test]
fn pci_ids_are_checked_against_the_module_aliases() {
    let (exp, imp) = dud_common::kpx_pair_rpms();
    let t = scratch();
    let iso = t.path().join("dd.iso");
    let (code, out, err) = build_disk(
        &iso,
        &[
            "--pci-id",
            "1af4:10f1",
            "--pci-id",
            "1000:0072",
            s(&imp),
            s(&exp),
        ],
    );
    // `--pci-id` says a module "must claim" the device: one that none claims refuses the disk.
    assert_eq!(code, 2, "{out}{err}");
    assert!(!iso.exists(), "nothing written on a refused disk");
    assert!(
        out.contains("note[C4]: disk: PCI device 1af4:10f1 is claimed by kpx_import"),
        "{out}"
    );
    assert!(
        out.contains("error[C4]: disk: no module on the disk claims PCI device 1000:0072"),
        "{out}"
    );
    assert!(err.contains("refusing to write"), "{err}");
    let (code, out, err) = build_disk(&iso, &["--pci-id", "1af4:10f1", s(&imp), s(&exp)]);
    assert_eq!(code, 0, "{out}{err}");
    // Two unsigned kmods: the Secure Boot warning is about the disk, said once.
    assert_eq!(out.matches("[C3]").count(), 1, "{out}");
    assert!(
        out.contains("warning[C3]: disk: 2 unsigned module(s) (kmod-kpx-export-"),
        "{out}"
    );
    let (code, _, err) = build_disk(&t.path().join("x.iso"), &["--pci-id", "zz", s(&imp)]);
    assert_eq!(code, 2);
    assert!(err.contains("--pci-id zz"), "{err}");
}

#[test]
fn requires_on_a_newer_kernel_than_the_installer_are_refused() {
    let rpm = build_rpm(&KmodSpec {
        name: "kmod-kpx-req".into(),
        requires: vec![
            "kernel-core >= 5.14.0-503.20.1.el9_5".into(),
            "kernel-uname-r = 5.14.0-503.14.1.el9_5.x86_64".into(),
        ],
        ..KmodSpec::el9(">=")
    });
    let t = scratch();
    let iso = t.path().join("dd.iso");
    let (code, out, _) = build_disk(&iso, &[s(&rpm)]);
    assert_eq!(code, 2, "{out}");
    assert!(
        out.contains("error[F1]")
            && out.contains("Requires: kernel-core >= 5.14.0-503.20.1.el9_5 is not met"),
        "{out}"
    );
    assert!(
        !out.contains("kernel-uname-r = 5.14.0-503.14.1.el9_5.x86_64 is not met"),
        "{out}"
    );
    // The same kmod on the 503.20.1 installer passes F1 but not the uname-r pin.
    let (_, out, _) = dud(&[
        "build",
        "-o",
        s(&iso),
        "--installer-kernel",
        "5.14.0-503.20.1.el9_5.x86_64",
        s(&rpm),
    ]);
    assert!(
        !out.contains("kernel-core >= 5.14.0-503.20.1.el9_5 is not met"),
        "{out}"
    );
    assert!(
        out.contains("kernel-uname-r = 5.14.0-503.14.1.el9_5.x86_64 is not met"),
        "{out}"
    );
}

/// `dud build -o iso` of `rpm` for the 9.5 installer with `extra` options,
/// which must succeed; the warning lines of checklist item `id`.
fn findings(iso: &std::path::Path, extra: &[&str], rpm: &std::path::Path, id: &str) -> Vec<String> {
    let mut args = extra.to_vec();
    args.push(s(rpm));
    let (code, out, err) = build_disk(iso, &args);
    assert_eq!(code, 0, "{out}{err}");
    let tag = format!("warning[{id}]");
    out.lines()
        .filter(|l| l.contains(&tag))
        .map(str::to_string)
        .collect()
}

#[test]
fn after_reboot_needs_weak_modules_and_a_depmod_override() {
    // Checklist F2: a kABI-tracking kmod without weak-modules in %post or a
    // depmod.d override installs, but a kernel update leaves the driver behind.
    let t = scratch();
    let f2 = |spec: &KmodSpec| -> Vec<String> {
        let iso = t.path().join(format!("{}.iso", spec.release));
        findings(&iso, &[], &build_rpm(spec), "F2")
    };
    let bare = f2(&KmodSpec::el9(">="));
    assert_eq!(bare.len(), 2, "{bare:?}");
    assert!(
        bare[0].contains("%post does not run weak-modules"),
        "{bare:?}"
    );
    assert!(
        bare[1].contains("no /etc/depmod.d/*.conf override"),
        "{bare:?}"
    );

    let post_only = f2(&KmodSpec {
        release: "2.el9_5".into(),
        post: "printf '%s\\n' /lib/modules/x/extra/kpx/kpx_export.ko | /usr/sbin/weak-modules --add-modules || :".into(),
        ..KmodSpec::el9(">=")
    });
    assert_eq!(post_only.len(), 1, "{post_only:?}");
    assert!(post_only[0].contains("depmod.d"), "{post_only:?}");

    let complete = f2(&KmodSpec {
        release: "3.el9_5".into(),
        post: "/usr/sbin/weak-modules --add-modules < /dev/null || :".into(),
        depmod_override: true,
        ..KmodSpec::el9(">=")
    });
    assert!(complete.is_empty(), "{complete:?}");
}

#[test]
fn updating_an_in_box_driver_is_flagged() {
    // Checklist C6: with the installer kernel's module tree as the target,
    // a disk module with the name of one of its own modules gets a warning
    // (the in-box driver may already be bound); a new driver does not.
    let uas = common::fixtures().join("debian12-6.1.0-56-amd64/uas.ko");
    let (exporter, _) = common::kpx_pair();
    let tree = std::path::PathBuf::from("/lib/modules").join(common::kernel_release());
    let t = scratch();
    let c6 = |name: &str, ko: &std::path::Path| -> Vec<String> {
        let rpm = build_rpm(&KmodSpec::el9_module(name, ko));
        let iso = t.path().join(format!("{name}.iso"));
        findings(&iso, &["--target-symvers", s(&tree)], &rpm, "C6")
    };
    let got = c6("kmod-uas", &uas);
    assert_eq!(got.len(), 1, "{got:?}");
    assert!(
        got[0].contains("uas.ko: replaces the installer kernel's own uas module"),
        "{got:?}"
    );
    assert!(c6("kmod-kpx", &exporter.ko).is_empty());
}
