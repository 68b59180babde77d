//! `kmodpack alias` against the real kmod tools: the aliases it lists must be
//! the ones depmod writes to modules.alias, and for every device string the
//! modules it says claim the device must be exactly those
//! `modprobe --resolve-alias` resolves over the depmod-built index.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;

const KVER: &str = "9.9.9-kmodpack-alias";

/// A temporary /lib/modules/<KVER> with fixture modules and the built
/// kpx_import, indexed by the real depmod.
fn tree() -> (tempfile::TempDir, Vec<PathBuf>) {
    let f = fixtures();
    let (_, imp) = kpx_pair();
    let mods: Vec<PathBuf> = vec![
        f.join("kmod-playground-4.0.3/mod-fake-hpsa.ko"),
        f.join("kmod-playground-4.0.3/mod-fake-cciss.ko"),
        f.join("debian12-6.1.0-56-amd64/xhci-pci.ko"),
        f.join("debian12-6.1.0-56-amd64/virtio_mmio.ko"),
        f.join("debian12-6.1.0-56-amd64/uas.ko"),
        f.join("debian12-6.1.0-56-amd64/usb-storage.ko"),
        imp.ko.clone(),
    ];
    let root = tempfile::tempdir().unwrap();
    let extra = root.path().join("lib/modules").join(KVER).join("extra");
    std::fs::create_dir_all(&extra).unwrap();
    let mut placed = Vec::new();
    for m in &mods {
        let dest = extra.join(m.file_name().unwrap());
        std::fs::copy(m, &dest).unwrap();
        placed.push(dest);
    }
    let (code, _, err) = run(Command::new("depmod").arg("-b").arg(root.path()).arg(KVER));
    assert_eq!(code, 0, "depmod failed: {err}");
    (root, placed)
}

fn modprobe_resolve(root: &Path, conf: &Path, device: &str) -> BTreeSet<String> {
    let (code, out, err) = run(Command::new("modprobe")
        .arg("-d")
        .arg(root)
        .arg("-S")
        .arg(KVER)
        .arg("-C")
        .arg(conf)
        .arg("--resolve-alias")
        .arg(device));
    assert!(
        code == 0 || code == 1,
        "modprobe --resolve-alias {device}: rc {code}: {err}"
    );
    out.lines().map(str::to_string).collect()
}

fn kmodpack_claims(dir: &Path, device: &str) -> (i32, BTreeSet<String>) {
    let (code, out, err) = run(kmodpack()
        .arg("alias")
        .arg("--modalias")
        .arg(device)
        .arg(dir));
    assert!(code == 0 || code == 1, "kmodpack alias: rc {code}: {err}");
    let names = out
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            (f.len() == 3).then(|| f[1].to_string())
        })
        .collect();
    (code, names)
}

#[test]
fn listing_equals_depmod_modules_alias() {
    let (root, placed) = tree();
    let dir = placed[0].parent().unwrap();
    let depmod_alias = std::fs::read_to_string(
        root.path()
            .join("lib/modules")
            .join(KVER)
            .join("modules.alias"),
    )
    .unwrap();
    let want: BTreeSet<&str> = depmod_alias
        .lines()
        .filter(|l| l.starts_with("alias "))
        .collect();
    let (code, out, err) = run(kmodpack().arg("alias").arg(dir));
    assert_eq!(code, 0, "{err}");
    let got: BTreeSet<&str> = out.lines().collect();
    assert_eq!(got, want);
    assert!(
        want.len() > 40,
        "too few aliases to mean anything: {}",
        want.len()
    );
}

#[test]
fn claims_equal_modprobe_resolve_alias() {
    let (root, placed) = tree();
    let dir = placed[0].parent().unwrap();
    let conf = tempfile::tempdir().unwrap();
    let devices = [
        // hpsa's class alias pci:v0000103Cd*sv*sd*bc01sc04i* (fixture README)
        "pci:v0000103Cd00001234sv00001111sd00002222bc01sc04i00",
        "pci:v0000103Cd00001234sv00001111sd00002222bc01sc05i00",
        // case matters: lowercase hex is not what the kernel prints
        "pci:v0000103cd00001234sv00001111sd00002222bc01sc04i00",
        // xhci-pci: class 0c0330 and the two Renesas ids
        "pci:v00008086d0000A36Dsv00001028sd00000869bc0Csc03i30",
        "pci:v00001912d00000014sv00000000sd00000000bc0Csc03i30",
        "pci:v00001912d00000015sv00001912sd00000015bc0Csc03i20",
        "pci:v00001912d00000016sv00001912sd00000015bc0Csc03i20",
        // kpx_import: plain id, id with subsystem, class 010802
        "pci:v00001AF4d000010F1sv00001AF4sd00000001bc01sc00i00",
        "pci:v00008086d00001572sv00008086sd00000001bc02sc00i00",
        "pci:v00008086d00001572sv00008086sd00000002bc02sc00i00",
        "pci:v0000144Dd0000A808sv0000144Dsd0000A801bc01sc08i02",
        // usb-storage / uas: bcdDevice ranges become [] classes
        "usb:v054Cp0010d0100dc00dsc00dp00ic08isc06ip50in00",
        "usb:v054Cp0010d0700dc00dsc00dp00ic08isc06ip50in00",
        "usb:v0BC2p3320d0100dc00dsc00dp00ic08isc06ip62in00",
        "usb:v1234p5678d0100dc00dsc00dp00ic08isc06ip62in00",
        // virtio_mmio: of and acpi
        "of:NvirtioTmmioCvirtio,mmio",
        "of:NxT<NULL>Cvirtio,mmioCother",
        "acpi:LNRO0005:",
        "acpi:LNRO0006:",
        // nothing
        "pci:v0000FFFFd0000FFFFsv0000FFFFsd0000FFFFbcFFscFFiFF",
    ];
    let mut claimed_somewhere = 0;
    for d in devices {
        let want = modprobe_resolve(root.path(), conf.path(), d);
        let (code, got) = kmodpack_claims(dir, d);
        assert_eq!(got, want, "device {d}");
        assert_eq!(
            code,
            if want.is_empty() { 1 } else { 0 },
            "exit status for {d}"
        );
        if !want.is_empty() {
            claimed_somewhere += 1;
        }
    }
    assert!(
        claimed_somewhere >= 10,
        "only {claimed_somewhere} devices claimed: oracle too weak"
    );
}

#[test]
fn partial_usb_ids_claim_only_what_holds_for_every_device() {
    let (root, placed) = tree();
    let dir = placed[0].parent().unwrap();
    let conf = tempfile::tempdir().unwrap();
    // bcdDevice 0x0107 is inside usb-storage's d010[6-9] range for 054c:0010.
    let (code, out, _) = run(kmodpack()
        .args(["alias", "--usb", "054c:0010:0107"])
        .arg(dir));
    assert_eq!(code, 0, "{out}");
    assert_eq!(
        out,
        "usb:v054Cp0010d0107dc*dsc*dp*ic*isc*ip*in*\tusb_storage\tusb:v054Cp0010d010[6-9]dc*dsc*dp*ic*isc*ip*in*\n"
    );
    // Sound: whatever the unknown interface fields are, modprobe agrees.
    for filled in [
        "usb:v054Cp0010d0107dc00dsc00dp00ic08isc06ip50in00",
        "usb:v054Cp0010d0107dcFFdsc01dp02icFFisc00ip00in03",
    ] {
        assert!(
            modprobe_resolve(root.path(), conf.path(), filled).contains("usb_storage"),
            "{filled}"
        );
    }
    // 0x0100 is outside every range: usb-storage's class aliases need the
    // interface class, which was not given, so nothing claims it for sure.
    let (code, out, _) = run(kmodpack()
        .args(["alias", "--usb", "054c:0010:0100"])
        .arg(dir));
    assert_eq!(
        (code, out.as_str()),
        (
            1,
            "usb:v054Cp0010d0100dc*dsc*dp*ic*isc*ip*in*\tnot claimed\n"
        )
    );
}

#[test]
fn pci_and_class_options_build_the_kernel_string() {
    let (_, imp) = kpx_pair();
    // Full ids + class: same answer as the literal modalias string.
    let (code, out, _) = run(kmodpack()
        .args(["alias", "--pci", "8086:1572:8086:0001", "--class", "020000"])
        .arg(&imp.ko));
    assert_eq!(code, 0);
    assert_eq!(out, "pci:v00008086d00001572sv00008086sd00000001bc02sc00i00\tkpx_import\tpci:v00008086d00001572sv00008086sd00000001bc*sc*i*\n");
    // Without subsystem ids a subsystem-specific alias cannot be said to claim it.
    let (code, out, _) = run(kmodpack()
        .args(["alias", "--pci", "8086:1572"])
        .arg(&imp.ko));
    assert_eq!(code, 1, "{out}");
    assert_eq!(out, "pci:v00008086d00001572sv*sd*bc*sc*i*\tnot claimed\n");
    // A class alone is enough for a class alias.
    let (code, out, _) = run(kmodpack().args(["alias", "--class", "010802"]).arg(&imp.ko));
    assert_eq!(code, 0);
    assert!(
        out.contains("\tkpx_import\tpci:v*d*sv*sd*bc01sc08i02*"),
        "{out}"
    );
    // 1af4:10f1 is claimed whatever its subsystem.
    let (code, _, _) = run(kmodpack()
        .args(["alias", "--pci", "1af4:10f1"])
        .arg(&imp.ko));
    assert_eq!(code, 0);
    // JSON: one entry per device.
    let (code, out, _) = run(kmodpack()
        .args([
            "alias",
            "--json",
            "--pci",
            "1af4:10f1",
            "--modalias",
            "pci:v0000FFFFd0000FFFFsv0000FFFFsd0000FFFFbcFFscFFiFF",
        ])
        .arg(&imp.ko));
    assert_eq!(code, 1);
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(doc[0]["device"], "pci:v00001AF4d000010F1sv*sd*bc*sc*i*");
    assert_eq!(doc[0]["claimed"], true);
    assert_eq!(doc[0]["claims"][0]["name"], "kpx_import");
    assert_eq!(
        doc[0]["claims"][0]["alias"],
        "pci:v00001AF4d000010F1sv*sd*bc*sc*i*"
    );
    assert_eq!(doc[1]["claimed"], false);
    // Bad input: usage error.
    let (code, _, err) = run(kmodpack().args(["alias", "--pci", "1af4"]).arg(&imp.ko));
    assert_eq!(code, 2);
    assert!(err.starts_with("kmodpack: error: bad PCI id"), "{err}");
}
