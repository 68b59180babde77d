//! The module reader against independent oracles: kmod 30's
//! `modprobe --dump-modversions` / `--show-exports` / `modinfo`, binutils
//! `nm`, and the kernel's own Module.symvers (fixtures' `expected/`), plus
//! the full installed Debian kernel tree.

mod common;

use std::path::{Path, PathBuf};

use common::{fixtures, kmodpack, run};
use kmodpack::module::{self, KernelModule, ModversionsSource};
use kmodpack::symvers;

/// (fixture module path, oracle file) for every oracle of `kind`.
fn oracles(kind: &str) -> Vec<(PathBuf, PathBuf)> {
    let dir = fixtures().join("expected");
    let mut out = Vec::new();
    for e in std::fs::read_dir(&dir).unwrap().flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let Some(stem) = name.strip_suffix(&format!(".{kind}.txt")) else {
            continue;
        };
        let (fixture_dir, module) = stem.split_once('_').unwrap();
        let ko = fixtures().join(fixture_dir).join(format!("{module}.ko"));
        assert!(ko.is_file(), "oracle {name} has no module {}", ko.display());
        out.push((ko, e.path()));
    }
    out.sort();
    assert!(!out.is_empty(), "no {kind} oracles found");
    out
}

fn read(p: &Path) -> KernelModule {
    module::read(p).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn modversions_match_kmod_dump_modversions_byte_for_byte() {
    let cases = oracles("dump-modversions");
    assert!(cases.len() >= 19);
    for (ko, oracle) in cases {
        let (code, out, err) = run(kmodpack().arg("inspect").arg("--modversions").arg(&ko));
        assert_eq!(code, 0, "{}: {err}", ko.display());
        assert_eq!(
            out,
            std::fs::read_to_string(&oracle).unwrap(),
            "{}",
            ko.display()
        );
    }
}

#[test]
fn exports_match_kmod_show_exports() {
    for (ko, oracle) in oracles("show-exports") {
        let m = read(&ko);
        let mut ours: Vec<String> = m
            .exports
            .iter()
            .map(|e| format!("0x{:08x}\t{}", e.crc.unwrap_or(0), e.name))
            .collect();
        let mut theirs: Vec<String> = std::fs::read_to_string(&oracle)
            .unwrap()
            .lines()
            .map(str::to_string)
            .collect();
        ours.sort();
        theirs.sort();
        assert_eq!(ours, theirs, "{}", ko.display());
    }
}

#[test]
fn export_crcs_match_nm() {
    for (ko, oracle) in oracles("nm-crc") {
        let m = read(&ko);
        let text = std::fs::read_to_string(&oracle).unwrap();
        let mut names = Vec::new();
        for line in text.lines() {
            let f: Vec<&str> = line.split_whitespace().collect();
            let sym = f[2].strip_prefix("__crc_").unwrap();
            names.push(sym.to_string());
            let export = m
                .exports
                .iter()
                .find(|e| e.name == sym)
                .unwrap_or_else(|| panic!("{sym} missing"));
            if f[1] == "A" {
                // Absolute symbol: nm's value is the CRC itself.
                assert_eq!(
                    export.crc,
                    Some(u32::from_str_radix(f[0], 16).unwrap()),
                    "{sym}"
                );
            }
        }
        let mut ours: Vec<String> = m
            .exports
            .iter()
            .filter(|e| e.crc.is_some())
            .map(|e| e.name.clone())
            .collect();
        ours.sort();
        names.sort();
        assert_eq!(ours, names, "{}", ko.display());
    }
}

#[test]
fn exports_reproduce_the_kernels_module_symvers_lines() {
    for (ko, oracle) in oracles("Module.symvers-lines") {
        let m = read(&ko);
        let text = std::fs::read_to_string(&oracle).unwrap();
        let module_col = text
            .lines()
            .next()
            .unwrap()
            .split('\t')
            .nth(2)
            .unwrap()
            .to_string();
        let mut ours: Vec<String> = symvers::module_entries(&m, &module_col)
            .iter()
            .map(|e| e.to_line())
            .collect();
        let mut theirs: Vec<String> = text.lines().map(|l| format!("{l}\n")).collect();
        ours.sort();
        theirs.sort();
        assert_eq!(ours, theirs, "{}", ko.display());
    }
}

#[test]
fn modinfo_entries_match_in_order() {
    for (ko, oracle) in oracles("modinfo-raw") {
        let m = read(&ko);
        let ours: Vec<String> = m
            .modinfo
            .entries
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        let theirs: Vec<String> = std::fs::read_to_string(&oracle)
            .unwrap()
            .lines()
            .map(str::to_string)
            .collect();
        assert_eq!(ours, theirs, "{}", ko.display());
    }
}

/// `modinfo`'s signature fields (from its own PKCS#7 / X.509 parsing).
#[test]
fn signature_fields_match_kmod_modinfo() {
    let mut signed = 0;
    for (ko, oracle) in oracles("modinfo") {
        let m = read(&ko);
        let text = std::fs::read_to_string(&oracle).unwrap();
        let field = |key: &str| {
            text.lines().find_map(|l| {
                l.strip_prefix(&format!("{key}:"))
                    .map(|v| v.trim().to_string())
            })
        };
        match field("sig_id") {
            None => assert!(
                m.signature.is_none(),
                "{}: unexpected signature",
                ko.display()
            ),
            Some(id) => {
                signed += 1;
                let sig = m
                    .signature
                    .as_ref()
                    .unwrap_or_else(|| panic!("{}: signature missed", ko.display()));
                assert_eq!(sig.id_type.as_str(), id);
                assert_eq!(sig.signer, field("signer"), "{}", ko.display());
                assert_eq!(sig.key_id, field("sig_key"), "{}", ko.display());
                assert_eq!(sig.hash_algo, field("sig_hashalgo"), "{}", ko.display());
            }
        }
    }
    assert!(
        signed >= 5,
        "expected several signed fixtures, saw {signed}"
    );
}

#[test]
fn signature_trailer_lengths() {
    let m = read(&fixtures().join("kmod-signed-3.7/ext4-x86_64-sha256.ko"));
    assert_eq!(m.elf_len, 728847);
    assert_eq!(m.signature.as_ref().unwrap().sig_len, 514);
    let m = read(&fixtures().join("debian12-6.1.0-56-amd64/libcrc32c.ko"));
    assert_eq!(m.elf_len, 7704);
    assert_eq!(m.signature.as_ref().unwrap().sig_len, 681);
}

#[test]
fn compressed_copies_decode_identically() {
    let plain = read(&fixtures().join("debian12-6.1.0-56-amd64/libcrc32c.ko"));
    for (ext, kind) in [
        ("gz", module::Compression::Gzip),
        ("xz", module::Compression::Xz),
        ("zst", module::Compression::Zstd),
    ] {
        let mut m = read(&fixtures().join(format!("compressed/libcrc32c.ko.{ext}")));
        assert_eq!(m.compression, kind);
        m.compression = module::Compression::None;
        assert_eq!(m, plain, "{ext}");
    }
    // Detection is by content, not by name.
    let tmp = tempfile::tempdir().unwrap();
    let renamed = tmp.path().join("libcrc32c.ko");
    std::fs::copy(fixtures().join("compressed/libcrc32c.ko.xz"), &renamed).unwrap();
    assert_eq!(read(&renamed).exports, plain.exports);
}

#[test]
fn era_and_layout_facts() {
    let f = fixtures();
    // ELF32 LE
    let m = read(&f.join("kmod-rhel6-ext4/ext4-i686.ko"));
    assert_eq!(
        (m.elf.bits, m.elf.big_endian, m.imports.len()),
        (32, false, 383)
    );
    assert_eq!(
        (m.imports[0].name.as_str(), m.imports[0].crc),
        ("module_layout", 0x0041086e)
    );
    // ELF64 BE ppc64: leading '.' stripped.
    let m = read(&f.join("kmod-rhel6-ext4/ext4-ppc64.ko"));
    assert_eq!(
        (m.elf.bits, m.elf.big_endian, m.elf.arch()),
        (64, true, "ppc64")
    );
    assert_eq!(m.import_crc("get_seconds"), Some(0x405c1144));
    assert!(m.imports.iter().all(|i| !i.name.starts_with('.')));
    // Empty __versions on sparc64 is zero entries, not an error.
    let m = read(&f.join("kmod-playground-3.19/mod-simple-sparc64.ko"));
    assert_eq!(
        (m.modversions, m.imports.len(), m.elf.arch()),
        (ModversionsSource::Basic, 0, "sparc64")
    );
    // No modversions at all: valid, exports unversioned.
    let m = read(&f.join("kmod-nomodversions/mod-loop-f.ko"));
    assert_eq!(m.modversions, ModversionsSource::None);
    assert_eq!(
        m.exports
            .iter()
            .map(|e| (e.name.as_str(), e.crc))
            .collect::<Vec<_>>(),
        vec![("printF", None)]
    );
    // Absolute __crc_ (4.0.3): cross-module agreement.
    let a = read(&f.join("kmod-playground-4.0.3/mod-foo-a.ko"));
    let foo = read(&f.join("kmod-playground-4.0.3/mod-foo.ko"));
    assert_eq!(a.exports[0].crc, foo.import_crc("print_fooA"));
    assert_eq!(foo.import_crc("print_fooA"), Some(0x4e3214a3));
    // Namespaces and import_ns (6.1).
    let us = read(&f.join("debian12-6.1.0-56-amd64/usb-storage.ko"));
    assert_eq!(us.exports.len(), 25);
    assert!(us
        .exports
        .iter()
        .all(|e| e.namespace.as_deref() == Some("USB_STORAGE") && e.kind.is_gpl_only()));
    let uas = read(&f.join("debian12-6.1.0-56-amd64/uas.ko"));
    assert_eq!(
        uas.modinfo.get_all("import_ns").collect::<Vec<_>>(),
        vec!["USB_STORAGE"]
    );
    assert_eq!(
        uas.modinfo.depends(),
        vec!["usbcore", "scsi_mod", "scsi_common", "usb-storage"]
    );
}

#[test]
fn extended_modversions_carry_the_long_name() {
    let long = "_RNvNtNtCs1a2b3c4d5e6_6kernel4sync14very_long_rust_symbol_name_over_56";
    assert_eq!(long.len(), 70);
    let expected =
        format!("0x9abcdef0\tshort_sym\n0x0badcafe\t{long}\n0x12345678\tmodule_layout\n");
    for name in ["synth-basic+ext.ko", "synth-ext-only.ko"] {
        let ko = fixtures().join("synthetic").join(name);
        let (code, out, err) = run(kmodpack().args(["inspect", "--modversions"]).arg(&ko));
        assert_eq!(code, 0, "{name}: {err}");
        assert_eq!(out, expected, "{name}");
        assert_eq!(read(&ko).modversions, ModversionsSource::Extended);
    }
}

#[test]
fn inspect_json_and_report() {
    let ko = fixtures().join("debian12-6.1.0-56-amd64/usb-storage.ko");
    let (code, out, _) = run(kmodpack().args(["inspect", "--json"]).arg(&ko));
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v[0]["exports"].as_array().unwrap().len(), 25);
    assert_eq!(v[0]["signature"]["hash_algo"], "sha256");
    let (code, out, _) = run(kmodpack().arg("inspect").arg(&ko));
    assert_eq!(code, 0);
    assert!(
        out.contains(
            "0xf4e9fa3d  usb_stor_adjust_quirks  EXPORT_SYMBOL_GPL  namespace USB_STORAGE"
        ),
        "{out}"
    );
}

/// The full installed kernel: every module row of the headers'
/// Module.symvers, and nothing else.
#[test]
fn symvers_reproduces_the_installed_kernels_module_rows() {
    let kver = common::kernel_release();
    let tree = PathBuf::from(format!("/lib/modules/{kver}/kernel"));
    let (code, out, err) = run(kmodpack()
        .arg("symvers")
        .arg("--root")
        .arg(&tree)
        .arg(&tree));
    assert_eq!(code, 0, "{err}");
    let mut ours: Vec<&str> = out.lines().collect();
    let theirs_text = std::fs::read_to_string(common::kernel_symvers()).unwrap();
    let mut theirs: Vec<&str> = theirs_text
        .lines()
        .filter(|l| l.split('\t').nth(2) != Some("vmlinux"))
        .collect();
    ours.sort_unstable();
    theirs.sort_unstable();
    assert!(
        theirs.len() > 10_000,
        "suspiciously few module exports: {}",
        theirs.len()
    );
    assert_eq!(ours.len(), theirs.len());
    assert!(
        ours == theirs,
        "symvers output differs from {}",
        common::kernel_symvers().display()
    );
}
