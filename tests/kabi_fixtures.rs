//! kabi check against the shared fixtures, with independent oracles: the
//! fixture README's documented tampering and `depmod -naeE` run over a
//! temporary module tree.

mod common;

use common::*;
use kmodpack::kabi::{self, CheckOptions, KernelSymbols, Reason, Subject};
use kmodpack::module;
use kmodpack::symvers::Symvers;

fn debian_symvers() -> KernelSymbols {
    let p = fixtures().join("debian12-6.1.0-56-amd64/Module.symvers.gz");
    KernelSymbols::from_symvers("debian12", Symvers::read(&p).unwrap())
}

#[test]
fn tampered_uas_is_incompatible_on_exactly_one_symbol() {
    let k = debian_symvers();
    let good = module::read(&fixtures().join("debian12-6.1.0-56-amd64/uas.ko")).unwrap();
    let bad = module::read(&fixtures().join("derived/uas-crc-tampered.ko")).unwrap();
    let v = kabi::check(
        &[Subject {
            label: "uas.ko",
            module: &good,
        }],
        &k,
        &CheckOptions::default(),
    );
    assert!(v[0].compatible, "{:?}", v[0].problems);
    let v = kabi::check(
        &[Subject {
            label: "uas-crc-tampered.ko",
            module: &bad,
        }],
        &k,
        &CheckOptions::default(),
    );
    assert!(!v[0].compatible);
    assert_eq!(v[0].problems.len(), 1, "{:?}", v[0].problems);
    let p = &v[0].problems[0];
    assert_eq!(p.symbol.as_deref(), Some("usb_stor_adjust_quirks"));
    assert_eq!(
        p.reason,
        Reason::DisagreesAboutVersion {
            module_crc: 0xf4e9fa3c,
            kernel_crc: 0xf4e9fa3d,
            provider: "drivers/usb/storage/usb-storage".into()
        }
    );
}

#[test]
fn namespace_needs_import() {
    // uas imports USB_STORAGE; pretend it did not by dropping import_ns.
    let k = debian_symvers();
    let mut m = module::read(&fixtures().join("debian12-6.1.0-56-amd64/uas.ko")).unwrap();
    m.modinfo.entries.retain(|(key, _)| key != "import_ns");
    let v = kabi::check(
        &[Subject {
            label: "uas.ko",
            module: &m,
        }],
        &k,
        &CheckOptions::default(),
    );
    assert!(!v[0].compatible);
    assert!(v[0]
        .problems
        .iter()
        .all(|p| matches!(&p.reason, Reason::NamespaceNotImported { namespace, .. } if namespace == "USB_STORAGE")));
    // Every usb_stor_* symbol uas uses is in the namespace (from the symvers oracle).
    let symvers_text =
        std::fs::read(fixtures().join("debian12-6.1.0-56-amd64/Module.symvers.gz")).unwrap();
    let sv = Symvers::parse(&symvers_text).unwrap();
    let want: Vec<String> = m
        .undefined
        .iter()
        .filter(|u| {
            sv.get(&u.name)
                .is_some_and(|e| e.namespace.as_deref() == Some("USB_STORAGE"))
        })
        .map(|u| u.name.clone())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let got: Vec<String> = v[0]
        .problems
        .iter()
        .filter_map(|p| p.symbol.clone())
        .collect();
    assert_eq!(got, want);
    assert!(!got.is_empty());
}

#[test]
fn gpl_only_needs_gpl_license() {
    let k = debian_symvers();
    let mut m = module::read(&fixtures().join("debian12-6.1.0-56-amd64/uas.ko")).unwrap();
    for e in m.modinfo.entries.iter_mut() {
        if e.0 == "license" {
            e.1 = "Proprietary".into();
        }
    }
    let v = kabi::check(
        &[Subject {
            label: "uas.ko",
            module: &m,
        }],
        &k,
        &CheckOptions::default(),
    );
    assert!(!v[0].compatible);
    assert!(v[0]
        .problems
        .iter()
        .any(|p| p.symbol.as_deref() == Some("usb_stor_adjust_quirks")
            && matches!(p.reason, Reason::GplOnly { .. })));
}
