//! Agreement with `depmod -naeE` (what RHEL weak-modules runs) on fixture
//! module trees. depmod only knows two failures — "needs unknown symbol" and
//! "disagrees about version of symbol" — and takes only the `vmlinux` lines
//! of the symvers (module exports come from the .ko files in the tree), so
//! kmodpack is given the same inputs and its unknown-symbol / CRC findings
//! must be exactly depmod's.
//!
//! One deliberate difference is excluded: depmod treats every `__versions`
//! name as a dependency, so it reports `module_layout` as unknown when the
//! kernel does not export it; the loader (and kmodpack) only checks
//! `module_layout` against a kernel that has it.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;
use kmodpack::kabi::{self, CheckOptions, KernelSymbols, Reason, Subject};
use kmodpack::symvers::Symvers;

const KVER: &str = "9.9.9-kmodpack-depmod";

type Finding = (String, &'static str, String); // (file stem, kind, symbol)

fn depmod_findings(modules: &[PathBuf], symvers_text: &[u8]) -> BTreeSet<Finding> {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("lib/modules").join(KVER).join("kernel");
    std::fs::create_dir_all(&dir).unwrap();
    for m in modules {
        std::fs::copy(m, dir.join(m.file_name().unwrap())).unwrap();
    }
    let sv = root.path().join("symvers");
    std::fs::write(&sv, symvers_text).unwrap();
    let (code, _, err) = run(Command::new("depmod")
        .arg("-b")
        .arg(root.path())
        .arg("-naeE")
        .arg(&sv)
        .arg(KVER));
    assert_eq!(code, 0, "depmod: {err}");
    let mut out = BTreeSet::new();
    for line in err.lines() {
        let Some(rest) = line.strip_prefix("depmod: WARNING: ") else {
            continue;
        };
        let (path, kind, sym) = if let Some((p, s)) = rest.split_once(" needs unknown symbol ") {
            (p, "unknown", s)
        } else if let Some((p, s)) = rest.split_once(" disagrees about version of symbol ") {
            (p, "disagrees", s)
        } else {
            continue;
        };
        if sym == "module_layout" {
            continue;
        }
        let stem = Path::new(path)
            .file_name()
            .unwrap()
            .to_str()
            .unwrap()
            .trim_end_matches(".ko")
            .to_string();
        out.insert((stem, kind, sym.to_string()));
    }
    out
}

fn kmodpack_findings(modules: &[PathBuf], symvers_text: &[u8]) -> BTreeSet<Finding> {
    // No symvers at all (the 4.0.3 playground has none) is an empty table
    // here; Symvers::parse refuses an empty file on purpose.
    let all = if symvers_text.is_empty() {
        Symvers::from_entries(Vec::new())
    } else {
        Symvers::parse(symvers_text).unwrap()
    };
    let vmlinux =
        Symvers::from_entries(all.entries.into_iter().filter(|e| e.is_vmlinux()).collect());
    let kernel = KernelSymbols::from_symvers("symvers", vmlinux);
    let loaded: Vec<_> = modules
        .iter()
        .map(|p| (p.display().to_string(), kmodpack::module::read(p).unwrap()))
        .collect();
    let subjects: Vec<Subject<'_>> = loaded
        .iter()
        .map(|(l, m)| Subject {
            label: l,
            module: m,
        })
        .collect();
    let mut out = BTreeSet::new();
    for v in kabi::check(&subjects, &kernel, &CheckOptions::default()) {
        let stem = Path::new(&v.module)
            .file_name()
            .unwrap()
            .to_str()
            .unwrap()
            .trim_end_matches(".ko")
            .to_string();
        for p in v.problems {
            let kind = match p.reason {
                Reason::UnknownSymbol => "unknown",
                Reason::DisagreesAboutVersion { .. } | Reason::NoSymbolVersion { .. } => {
                    "disagrees"
                }
                _ => continue,
            };
            let sym = p.symbol.unwrap();
            if sym != "module_layout" {
                out.insert((stem.clone(), kind, sym));
            }
        }
    }
    out
}

fn debian_symvers() -> Vec<u8> {
    let gz = std::fs::read(fixtures().join("debian12-6.1.0-56-amd64/Module.symvers.gz")).unwrap();
    let mut text = Vec::new();
    use std::io::Read;
    flate2::read::GzDecoder::new(&gz[..])
        .read_to_end(&mut text)
        .unwrap();
    text
}

#[test]
fn debian_fixtures_with_tampered_uas() {
    let f = fixtures().join("debian12-6.1.0-56-amd64");
    let tmp = tempfile::tempdir().unwrap();
    // Same file name as the real module, as weak-modules would see it.
    let uas = tmp.path().join("uas.ko");
    std::fs::copy(fixtures().join("derived/uas-crc-tampered.ko"), &uas).unwrap();
    let mods = vec![
        uas,
        f.join("usb-storage.ko"),
        f.join("libcrc32c.ko"),
        f.join("xhci-pci.ko"),
        f.join("virtio_mmio.ko"),
    ];
    let sv = debian_symvers();
    let want = depmod_findings(&mods, &sv);
    let got = kmodpack_findings(&mods, &sv);
    assert_eq!(got, want);
    // The oracle is not vacuous: the tampered CRC and the usbcore/scsi symbols
    // that live in modules absent from the tree.
    assert!(want.contains(&("uas".into(), "disagrees", "usb_stor_adjust_quirks".into())));
    assert_eq!(want.iter().filter(|f| f.1 == "disagrees").count(), 1);
    assert!(want.len() > 50, "{}", want.len());
}

#[test]
fn debian_fixtures_untampered() {
    let f = fixtures().join("debian12-6.1.0-56-amd64");
    let mods = vec![
        f.join("uas.ko"),
        f.join("usb-storage.ko"),
        f.join("libcrc32c.ko"),
    ];
    let sv = debian_symvers();
    let want = depmod_findings(&mods, &sv);
    assert_eq!(kmodpack_findings(&mods, &sv), want);
    assert!(want.iter().all(|f| f.1 == "unknown"));
}

#[test]
fn playground_4_0_3_cross_module_crcs() {
    // mod-foo imports print_foo{A,B,C} from mod-foo-{a,b,c}: CRCs agree;
    // no vmlinux symvers for 4.0.3, so every kernel symbol is unknown to both.
    let dir = fixtures().join("kmod-playground-4.0.3");
    let mut mods: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "ko"))
        .collect();
    mods.sort();
    let want = depmod_findings(&mods, b"");
    assert_eq!(kmodpack_findings(&mods, b""), want);
    assert!(want.contains(&("mod-foo-a".into(), "unknown", "printk".into())));
    assert!(!want.iter().any(|f| f.2.starts_with("print_foo")));
}

/// The whole installed kernel tree (4000 real modules) against its own
/// symvers with some vmlinux CRCs altered and some exports removed: depmod
/// and kmodpack must report the same thousands of findings.
#[test]
fn installed_tree_with_altered_symvers() {
    let kver = kernel_release();
    let tree = PathBuf::from("/lib/modules").join(&kver);
    let text = std::fs::read_to_string(kernel_symvers()).unwrap();
    let mut altered = String::new();
    let mut vmlinux_seen = 0;
    for line in text.lines() {
        let f: Vec<&str> = line.split('\t').collect();
        if f.get(2) == Some(&"vmlinux") {
            vmlinux_seen += 1;
            if vmlinux_seen % 97 == 0 {
                continue; // removed
            }
            if vmlinux_seen % 41 == 0 {
                let crc = u32::from_str_radix(f[0].trim_start_matches("0x"), 16).unwrap() ^ 0x1;
                altered.push_str(&format!("0x{crc:08x}\t{}\n", f[1..].join("\t")));
                continue;
            }
        }
        altered.push_str(line);
        altered.push('\n');
    }
    let tmp = tempfile::tempdir().unwrap();
    let sv = tmp.path().join("symvers");
    std::fs::write(&sv, &altered).unwrap();

    let (code, _, err) = run(Command::new("depmod").arg("-naeE").arg(&sv).arg(&kver));
    assert_eq!(code, 0, "{err}");
    let mut want = BTreeSet::new();
    for line in err.lines() {
        let Some(rest) = line.strip_prefix("depmod: WARNING: ") else {
            continue;
        };
        let (path, kind, sym) = if let Some((p, s)) = rest.split_once(" needs unknown symbol ") {
            (p, "unknown", s)
        } else if let Some((p, s)) = rest.split_once(" disagrees about version of symbol ") {
            (p, "disagrees", s)
        } else {
            continue;
        };
        if sym != "module_layout" {
            want.insert((path.to_string(), kind, sym.to_string()));
        }
    }

    let modules = kabi::load(&[tree.join("kernel")]).unwrap();
    let all = Symvers::parse(altered.as_bytes()).unwrap();
    let vmlinux =
        Symvers::from_entries(all.entries.into_iter().filter(|e| e.is_vmlinux()).collect());
    let kernel = KernelSymbols::from_symvers("altered", vmlinux);
    let subjects: Vec<Subject<'_>> = modules
        .iter()
        .map(|m| Subject {
            label: &m.label,
            module: &m.module,
        })
        .collect();
    let mut got = BTreeSet::new();
    for v in kabi::check(&subjects, &kernel, &CheckOptions::default()) {
        for p in v.problems {
            let kind = match p.reason {
                Reason::UnknownSymbol => "unknown",
                Reason::DisagreesAboutVersion { .. } | Reason::NoSymbolVersion { .. } => {
                    "disagrees"
                }
                _ => continue,
            };
            let sym = p.symbol.unwrap();
            if sym != "module_layout" {
                got.insert((v.module.clone(), kind, sym));
            }
        }
    }
    eprintln!("depmod findings: {} (kmodpack: {})", want.len(), got.len());
    let only_depmod: Vec<_> = want.difference(&got).take(5).collect();
    let only_kmodpack: Vec<_> = got.difference(&want).take(5).collect();
    assert!(
        only_depmod.is_empty() && only_kmodpack.is_empty(),
        "depmod only: {only_depmod:?}\nkmodpack only: {only_kmodpack:?}"
    );
    assert!(
        want.iter().filter(|f| f.1 == "disagrees").count() > 500,
        "{}",
        want.len()
    );
    assert!(
        want.iter().filter(|f| f.1 == "unknown").count() > 100,
        "{}",
        want.len()
    );
}
