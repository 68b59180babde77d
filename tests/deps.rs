//! `kmodpack deps provides|requires` against the test vectors of
//! `rpm-ksym-generators.md` §10 (TV1–TV12) and the shared fixtures.
//!
//! Synthetic modules are assembled here with GNU `as` (x86-64, i386) and
//! `llvm-mc` (s390x, big-endian) from the layouts the TVs describe, then run
//! through the real binary with paths on stdin as rpm passes them. Expected
//! lines are the ones the document records for the original scripts (or
//! its "kmodpack expected" where the originals are wrong); fixture
//! expectations come from kmod's `modprobe --dump-modversions`, `nm` and the
//! kernel's own Module.symvers.

mod common;
mod deps_support;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use common::{fixtures, kmodpack};
use deps_support::{tv1, tv7_mod_b, Crc, Synth, Target};

/// A kernel symvers exporting nothing the test modules import (an empty one
/// is an error), so every import becomes `ksym()`.
const UNRELATED: &str = "0x00000001\tkmodpack_unrelated\tvmlinux\tEXPORT_SYMBOL\t\n";

/// The fake kernel Module.symvers of §10.
const FAKE_SYMVERS: &str = "0x1111aaaa\tprintk\tvmlinux\tEXPORT_SYMBOL\t\n0x00002222\tkmalloc\tvmlinux\tEXPORT_SYMBOL\t\n0x12121212\tsame_name_diff_crc\tdrivers/foo/foo\tEXPORT_SYMBOL_GPL\t\n0x55556666\tns_sym\tvmlinux\tEXPORT_SYMBOL_GPL\tSOME_NS\n";

/// A buildroot with a sysroot beside it that holds the fake kernel's
/// Module.symvers for the TV kernel releases (at the kernel-devel path).
struct Env {
    _tmp: tempfile::TempDir,
    br: PathBuf,
    sysroot: PathBuf,
}

fn env() -> Env {
    let tmp = tempfile::Builder::new()
        .prefix("kmodpack deps+[br]")
        .tempdir()
        .unwrap();
    let br = tmp.path().join("BUILDROOT/kmod-prov+x-1.0-1.x86_64");
    let sysroot = tmp.path().join("sysroot");
    for kver in [
        "5.14.0-1.el9.x86_64",
        "6.4.0-1.fc39.x86_64",
        "6.14.0-1.fc42.x86_64",
    ] {
        let d = sysroot.join("usr/src/kernels").join(kver);
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join("Module.symvers"), FAKE_SYMVERS).unwrap();
    }
    std::fs::create_dir_all(&br).unwrap();
    Env {
        _tmp: tmp,
        br,
        sysroot,
    }
}

/// Runs `kmodpack deps <what> ARGS` with `paths` on stdin, RPM_BUILD_ROOT set.
fn gen(e: &Env, what: &str, args: &[&str], paths: &[&Path]) -> (i32, String, String) {
    let mut cmd = kmodpack();
    cmd.arg("deps")
        .arg(what)
        .arg("--sysroot")
        .arg(&e.sysroot)
        .args(args);
    cmd.env("RPM_BUILD_ROOT", &e.br)
        .env_remove("KMODPACK_SYMVERS");
    pipe(cmd, paths)
}

fn pipe(mut cmd: Command, paths: &[&Path]) -> (i32, String, String) {
    let input: String = paths.iter().map(|p| format!("{}\n", p.display())).collect();
    common::run_stdin(&mut cmd, &input)
}

/// The sorted entry names of a directory.
fn entries(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

fn lines(v: &[&str]) -> String {
    v.iter().map(|l| format!("{l}\n")).collect()
}

const EL9: &str = "/lib/modules/5.14.0-1.el9.x86_64";

#[test]
fn tv1_provides_out_of_tree_and_in_tree() {
    let e = env();
    let ko = tv1().build(&e.br, &format!("{EL9}/extra/provA.ko"));
    let (c, out, err) = gen(&e, "provides", &[], &[&ko]);
    assert_eq!(c, 0, "{err}");
    assert_eq!(
        out,
        lines(&[
            "kmod(provA.ko)",
            "ksym(prov_sym_a) = 0x0000abcd",
            "ksym(prov_sym_b) = 0x89abcdef"
        ])
    );
    let intree = tv1().build(&e.br, &format!("{EL9}/kernel/drivers/provA_intree.ko"));
    let (_, out, _) = gen(&e, "provides", &[], &[&intree]);
    assert_eq!(
        out,
        lines(&[
            "kernel(prov_sym_a) = 0x0000abcd",
            "kernel(prov_sym_b) = 0x89abcdef",
            "kmod(provA_intree.ko)"
        ])
    );
    // In-tree modules of kernel packages get no requires (the kernel satisfies them).
    let (c, out, _) = gen(&e, "requires", &[], &[&intree]);
    assert_eq!((c, out.as_str()), (0, ""));
}

#[test]
fn tv1_requires_exact_pairs_and_self_filter() {
    let e = env();
    let ko = tv1().build(&e.br, &format!("{EL9}/extra/provA.ko"));
    let (c, out, err) = gen(&e, "requires", &[], &[&ko]);
    assert_eq!(c, 0, "{err}");
    // RHEL 7.6+/8 set: same_name_diff_crc keeps the module's CRC as ksym(),
    // prov_sym_b (provided by the module itself) is dropped.
    assert_eq!(
        out,
        lines(&[
            "kernel(kmalloc) = 0x00002222",
            "kernel(ns_sym) = 0x55556666",
            "kernel(printk) = 0x1111aaaa",
            "ksym(same_name_diff_crc) = 0xdeadbeef",
            "ksym(zfs_sym) = 0x33334444",
        ])
    );
}

#[test]
fn tv2_section_crcs_local_le() {
    let e = env();
    let mut s = Synth::new("6.4.0-1.fc39.x86_64 SMP preempt mod_unload modversions ");
    s.crcs = vec![
        Crc::InSection("__kcrctab", "a", "r_plain_a", 0xc1235438, false),
        Crc::InSection("__kcrctab", "a", "r_plain_b", 0x00000001, false),
        Crc::InSection("__kcrctab_gpl", "a", "r_gpl_c", 0x12345678, false),
    ];
    let ko = s.build(&e.br, "/lib/modules/6.4.0-1.fc39.x86_64/extra/provR.ko");
    let bytes = std::fs::read(&ko).unwrap();
    assert!(
        bytes.windows(4).any(|w| w == [0x38, 0x54, 0x23, 0xc1]),
        "LE CRC bytes as in TV2"
    );
    let (c, out, err) = gen(&e, "provides", &[], &[&ko]);
    assert_eq!(c, 0, "{err}");
    assert_eq!(
        out,
        lines(&[
            "kmod(provR.ko)",
            "ksym(r_gpl_c) = 0x12345678",
            "ksym(r_plain_a) = 0xc1235438",
            "ksym(r_plain_b) = 0x00000001"
        ])
    );
    let (_, out, _) = gen(
        &e,
        "provides",
        &["--dialect", "suse", "--flavor", "default"],
        &[&ko],
    );
    assert_eq!(
        out,
        lines(&[
            "kmod(provR)",
            "ksym(default:r_gpl_c) = 12345678",
            "ksym(default:r_plain_a) = c1235438",
            "ksym(default:r_plain_b) = 1"
        ])
    );
}

#[test]
fn tv3_big_endian_s390x() {
    let e = env();
    let mut s = Synth::new("5.14.0-1.el9.s390x SMP mod_unload modversions ");
    s.target = Target::S390x;
    s.crcs = vec![Crc::InSection(".rodata", "a", "be_sym", 0xed6620a8, true)];
    s.versions = vec![("printk", 0x1111aaaa), ("be_needs", 0x0badcafe)];
    let ko = s.build(&e.br, "/lib/modules/5.14.0-1.el9.s390x/extra/provBE.ko");
    let bytes = std::fs::read(&ko).unwrap();
    assert_eq!(&bytes[..6], b"\x7fELF\x02\x02", "ELF64 MSB");
    assert!(bytes.windows(4).any(|w| w == [0xed, 0x66, 0x20, 0xa8]));
    let (_, out, err) = gen(&e, "provides", &[], &[&ko]);
    assert_eq!(
        out,
        lines(&["kmod(provBE.ko)", "ksym(be_sym) = 0xed6620a8"]),
        "{err}"
    );
    let (_, out, _) = gen(
        &e,
        "provides",
        &["--dialect", "suse", "--flavor", "default"],
        &[&ko],
    );
    assert_eq!(
        out,
        lines(&["kmod(provBE)", "ksym(default:be_sym) = ed6620a8"])
    );
    let symvers = e
        .sysroot
        .join("usr/src/kernels/5.14.0-1.el9.x86_64/Module.symvers");
    let (c, out, err) = gen(
        &e,
        "requires",
        &["--symvers", symvers.to_str().unwrap()],
        &[&ko],
    );
    assert_eq!(c, 0, "{err}");
    assert_eq!(
        out,
        lines(&["kernel(printk) = 0x1111aaaa", "ksym(be_needs) = 0x0badcafe"])
    );
}

#[test]
fn tv4_writable_rodata_global() {
    let e = env();
    let mut s = Synth::new("5.14.0-1.el9.x86_64 SMP mod_unload modversions ");
    s.crcs = vec![
        Crc::InSection(".rodata", "aw", "pad_sym", 0, true),
        Crc::InSection(".rodata", "aw", "d_sym", 0xed6560a8, true),
    ];
    let ko = s.build(&e.br, &format!("{EL9}/extra/provD.ko"));
    let (_, out, err) = gen(&e, "provides", &[], &[&ko]);
    assert_eq!(
        out,
        lines(&[
            "kmod(provD.ko)",
            "ksym(d_sym) = 0xed6560a8",
            "ksym(pad_sym) = 0x00000000"
        ]),
        "{err}"
    );
}

fn compress(ko: &Path, tool: &[&str], suffix: &str) -> PathBuf {
    let out = PathBuf::from(format!("{}{suffix}", ko.display()));
    let o = Command::new(tool[0])
        .args(&tool[1..])
        .arg(ko)
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "{tool:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    std::fs::write(&out, &o.stdout).unwrap();
    out
}

#[test]
fn tv5_compressed_and_kmod_names() {
    let e = env();
    let ko = tv1().build(&e.br, &format!("{EL9}/extra/c/foo-bar.ko"));
    let gz = compress(&ko, &["gzip", "-n", "-c"], ".gz");
    let xz = compress(&ko, &["xz", "--check=crc32", "-c"], ".xz");
    let zst = compress(&ko, &["zstd", "-q", "-c"], ".zst");
    std::fs::remove_file(&ko).unwrap();
    for f in [&gz, &xz, &zst] {
        let (c, out, err) = gen(&e, "provides", &[], &[f]);
        assert_eq!(c, 0, "{err}");
        assert_eq!(
            out,
            lines(&[
                "kmod(foo-bar.ko)",
                "ksym(prov_sym_a) = 0x0000abcd",
                "ksym(prov_sym_b) = 0x89abcdef"
            ]),
            "{}",
            f.display()
        );
        let (_, out, _) = gen(&e, "requires", &[], &[f]);
        assert!(
            out.contains("ksym(zfs_sym) = 0x33334444\n")
                && out.contains("kernel(printk) = 0x1111aaaa\n"),
            "{out}"
        );
        let (_, out, _) = gen(
            &e,
            "provides",
            &["--dialect", "suse", "--flavor", "default"],
            &[f],
        );
        assert!(out.starts_with("kmod(foo_bar)\n"), "{out}");
    }
    // modules.builtin of a kernel package.
    let builtin =
        e.br.join(format!("{}/modules.builtin", EL9.trim_start_matches('/')));
    std::fs::write(
        &builtin,
        "kernel/fs/ext4/ext4.ko\nkernel/drivers/net/foo-bar.ko\n",
    )
    .unwrap();
    let (_, out, _) = gen(&e, "provides", &[], &[&builtin]);
    assert_eq!(out, lines(&["kmod(ext4.ko)", "kmod(foo-bar.ko)"]));
}

#[test]
fn tv6_extended_modversions_long_rust_names() {
    let e = env();
    let long = "_RNvNtNtCsabcdefghijk_6kernel4sync4lock13very_long_rust_symbol_name_xyz";
    let mut s = Synth::new("6.14.0-1.fc42.x86_64 SMP preempt mod_unload modversions ");
    s.versions = vec![("printk", 0x1111aaaa)];
    s.ext = vec![("printk", 0x1111aaaa), (long, 0x499602d2)];
    let ko = s.build(&e.br, "/lib/modules/6.14.0-1.fc42.x86_64/extra/provX.ko");
    let (c, out, err) = gen(&e, "requires", &[], &[&ko]);
    assert_eq!(c, 0, "{err}");
    assert_eq!(
        out,
        lines(&[
            "kernel(printk) = 0x1111aaaa",
            &format!("ksym({long}) = 0x499602d2")
        ])
    );
}

#[test]
fn tv7_cross_module_filter_together_and_one_per_call() {
    let e = env();
    let a = tv1().build(&e.br, &format!("{EL9}/extra/test/provA.ko"));
    let b = tv7_mod_b().build(&e.br, &format!("{EL9}/extra/test/modB.ko"));
    let expect_both = lines(&[
        "kernel(kmalloc) = 0x00002222",
        "kernel(ns_sym) = 0x55556666",
        "kernel(printk) = 0x1111aaaa",
        "ksym(same_name_diff_crc) = 0xdeadbeef",
        "ksym(zfs_sym) = 0x33334444",
    ]);
    // Both paths in one call (multifile rpm, batch): prov_sym_a is satisfied in-package.
    let (_, out, _) = gen(&e, "requires", &["--siblings", "input"], &[&a, &b]);
    assert_eq!(out, expect_both);
    // One path per call (rpm 4.18): provA is found in the buildroot.
    let (_, out, err) = gen(&e, "requires", &[], &[&b]);
    assert_eq!(out, lines(&["kernel(printk) = 0x1111aaaa"]), "{err}");
    // ... unless the sibling search is off.
    let (_, out, _) = gen(&e, "requires", &["--siblings", "input"], &[&b]);
    assert_eq!(
        out,
        lines(&[
            "kernel(printk) = 0x1111aaaa",
            "ksym(prov_sym_a) = 0x0000abcd"
        ])
    );
    // A module of another kernel release in the same buildroot is not a sibling.
    let other = tv7_mod_b().build(&e.br, "/lib/modules/6.4.0-1.fc39.x86_64/extra/modB.ko");
    let (_, out, _) = gen(&e, "requires", &[], &[&other]);
    assert_eq!(
        out,
        lines(&[
            "kernel(printk) = 0x1111aaaa",
            "ksym(prov_sym_a) = 0x0000abcd"
        ])
    );
    // Multifile output: markers in input order.
    let (_, out, _) = gen(&e, "requires", &["--multifile"], &[&b, &a]);
    assert_eq!(
        out,
        format!(
            ";{}\nkernel(printk) = 0x1111aaaa\n;{}\n{}",
            b.display(),
            a.display(),
            expect_both
        )
    );
}

/// Issue #14: a package module that re-exports a symbol the kernel also
/// exports with the same CRC (an updated in-tree driver shipped in
/// `extra/`). The package's module is what the importer binds, so the
/// importer's `kernel(printk)` goes — in one batch call over the package
/// and equally in one call per file (ledger, or buildroot scan without
/// one): the answer must not depend on how rpm calls the generator.
#[test]
fn re_exported_kernel_symbol_is_dropped_per_file_as_in_the_batch() {
    let e = env();
    let mut r = Synth::new("5.14.0-1.el9.x86_64 SMP mod_unload modversions ");
    // printk with the kernel's CRC; kmalloc with another CRC than the kernel's.
    r.crcs = vec![Crc::Abs("printk", 0x1111aaaa), Crc::Abs("kmalloc", 0x9999)];
    r.versions = vec![("zfs_sym", 0x33334444)];
    let reexp = r.build(&e.br, &format!("{EL9}/extra/fix/reexp.ko"));
    let mut i = Synth::new("5.14.0-1.el9.x86_64 SMP mod_unload modversions ");
    // Every import exported by the kernel: nothing unresolved is left to
    // make a per-file call look for the package's other modules.
    i.versions = vec![("printk", 0x1111aaaa), ("kmalloc", 0x2222)];
    let imp = i.build(&e.br, &format!("{EL9}/extra/fix/imp.ko"));
    let want_imp = lines(&["kernel(kmalloc) = 0x00002222"]);
    let want_reexp = lines(&["ksym(zfs_sym) = 0x33334444"]);
    let (c, batch, err) = gen(
        &e,
        "requires",
        &[
            "--siblings",
            "input",
            "--multifile",
            "--package",
            "kmod-fix",
        ],
        &[&reexp, &imp],
    );
    assert_eq!(c, 0, "{err}");
    assert_eq!(
        batch,
        format!(
            ";{}\n{want_reexp};{}\n{want_imp}",
            reexp.display(),
            imp.display()
        )
    );
    // rpm <= 4.19 order: provides on every file, then requires on every file.
    let pkg = ["--package", "kmod-fix"];
    for f in [&reexp, &imp] {
        assert_eq!(gen(&e, "provides", &pkg, &[f]).0, 0);
    }
    assert_eq!(gen(&e, "requires", &pkg, &[&reexp]).1, want_reexp);
    let (c, out, err) = gen(&e, "requires", &pkg, &[&imp]);
    assert_eq!((c, out.as_str()), (0, want_imp.as_str()), "{err}");
    // No ledger (provides made by something else): the buildroot scan.
    std::fs::remove_dir_all(format!("{}.kmodpack-ledger", e.br.display())).unwrap();
    assert_eq!(gen(&e, "requires", &pkg, &[&imp]).1, want_imp);
    // A ledger of another package is not this package's: scan again.
    let other = ["--package", "kmod-other"];
    gen(&e, "provides", &other, &[&reexp]);
    let lone = tv7_mod_b().build(&e.br, "/lib/modules/6.4.0-1.fc39.x86_64/extra/lone.ko");
    assert_eq!(
        gen(&e, "requires", &pkg, &[&lone]).1,
        lines(&[
            "kernel(printk) = 0x1111aaaa",
            "ksym(prov_sym_a) = 0x0000abcd"
        ])
    );
}

/// Issue #14: under rpm's one call per file, the kernel symvers is checked
/// whole by the package's first requires call only; later calls parse just
/// the lines they need, with the same output. A symvers changed since is
/// checked again.
#[test]
fn the_kernel_symvers_is_read_once_per_package_build() {
    // rpm <= 4.19: one requires call per file. The first parses the kernel
    // symvers whole and leaves an index of it in the package's ledger; the
    // next ones look their imports up there and answer the same.
    use std::os::unix::fs::MetadataExt;
    let e = env();
    let ko = tv1().build(&e.br, &format!("{EL9}/extra/provA.ko"));
    let pkg = ["--package", "kmod-prov"];
    assert_eq!(gen(&e, "provides", &pkg, &[&ko]).0, 0);
    let (c, first, err) = gen(&e, "requires", &pkg, &[&ko]);
    assert_eq!(c, 0, "{err}");
    assert!(first.contains("kernel(printk) = 0x1111aaaa"), "{first}");
    let ledger = PathBuf::from(format!("{}.kmodpack-ledger", e.br.display()));
    let index: Vec<String> = entries(&ledger)
        .into_iter()
        .filter(|n| n.starts_with('k'))
        .collect();
    assert_eq!(index.len(), 1, "{:?}", entries(&ledger));
    let index = ledger.join(&index[0]);
    let inode = std::fs::metadata(&index).unwrap().ino();
    assert_eq!(gen(&e, "requires", &pkg, &[&ko]).1, first);
    // Answered from the index: not written again.
    assert_eq!(std::fs::metadata(&index).unwrap().ino(), inode);
    // An index that is not one is ignored and written anew.
    std::fs::write(&index, "garbage\n").unwrap();
    assert_eq!(gen(&e, "requires", &pkg, &[&ko]).1, first);
    assert!(std::fs::read_to_string(&index)
        .unwrap()
        .contains("printk\t1111aaaa\n"));
    // A line nobody imports turns bad: the changed file is checked again.
    let symvers = e
        .sysroot
        .join("usr/src/kernels/5.14.0-1.el9.x86_64/Module.symvers");
    std::fs::write(&symvers, format!("{FAKE_SYMVERS}zz\tunused_sym\tvmlinux\n")).unwrap();
    let (c, out, err) = gen(&e, "requires", &pkg, &[&ko]);
    assert_eq!(c, 2, "{out}");
    assert!(err.contains("bad CRC"), "{err}");
}

#[test]
fn ledger_tells_packages_apart_in_the_same_release_tree() {
    // rpm 4.18 order for two subpackages installing into the same tree:
    // P(provA) R(provA) P(modB) R(modB). The ledger written by the provides
    // calls says modB's package does not contain provA, so modB keeps its
    // ksym(prov_sym_a) require (the buildroot scan alone would drop it).
    let e = env();
    let a = tv1().build(&e.br, &format!("{EL9}/extra/test/provA.ko"));
    let b = tv7_mod_b().build(&e.br, &format!("{EL9}/extra/test/modB.ko"));
    let ledger = PathBuf::from(format!("{}.kmodpack-ledger", e.br.display()));
    assert_eq!(gen(&e, "provides", &[], &[&a]).0, 0);
    assert_eq!(
        entries(&ledger),
        ["package", "x0000abcd.prov_sym_a", "x89abcdef.prov_sym_b"]
    );
    assert_eq!(gen(&e, "requires", &[], &[&a]).0, 0);
    assert_eq!(gen(&e, "provides", &[], &[&b]).0, 0);
    let (_, out, _) = gen(&e, "requires", &[], &[&b]);
    assert_eq!(
        out,
        lines(&[
            "kernel(printk) = 0x1111aaaa",
            "ksym(prov_sym_a) = 0x0000abcd"
        ])
    );
    // One package holding both: P(provA) P(modB) R(modB) R(provA).
    for f in [&a, &b] {
        gen(&e, "provides", &[], &[f]);
    }
    let (_, out, _) = gen(&e, "requires", &[], &[&b]);
    assert_eq!(out, lines(&["kernel(printk) = 0x1111aaaa"]));
    let (_, out, _) = gen(&e, "requires", &[], &[&a]);
    assert!(!out.contains("prov_sym"), "{out}");
    // --siblings buildroot ignores the ledger and scans.
    gen(&e, "provides", &[], &[&b]);
    let (_, out, _) = gen(&e, "requires", &["--siblings", "buildroot"], &[&b]);
    assert_eq!(out, lines(&["kernel(printk) = 0x1111aaaa"]));
}

#[test]
fn tv8_missing_symvers_is_an_error_and_poisons_rpm_output() {
    let e = env();
    let mut s = tv1();
    s.vermagic = "5.14.0-999.el9.x86_64 SMP mod_unload modversions ";
    let ko = s.build(&e.br, "/lib/modules/5.14.0-999.el9.x86_64/extra/provA.ko");
    let (c, out, err) = gen(&e, "requires", &[], &[&ko]);
    assert_eq!(c, 2);
    assert!(
        err.starts_with("kmodpack: error: no symvers for kernel 5.14.0-999.el9.x86_64 (tried "),
        "{err}"
    );
    assert!(
        err.contains("/usr/src/kernels/5.14.0-999.el9.x86_64/Module.symvers"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1);
    // Under rpm (RPM_BUILD_ROOT set) stdout carries a line rpm refuses, never ksym() guesses.
    assert!(
        out.starts_with("!kmodpack-error: no symvers for kernel 5.14.0-999.el9.x86_64"),
        "{out}"
    );
    assert!(!out.contains("ksym("));
    // The explicit override fixes it; {kver} expands per module; env var works too.
    let tmpl = e
        .sysroot
        .join("usr/src/kernels/5.14.0-1.el9.x86_64/Module.symvers");
    let (c, out, _) = gen(
        &e,
        "requires",
        &["--symvers", tmpl.to_str().unwrap()],
        &[&ko],
    );
    assert_eq!(c, 0);
    assert!(out.contains("kernel(printk) = 0x1111aaaa"));
    std::fs::create_dir_all(e.sysroot.join("k/5.14.0-999.el9.x86_64")).unwrap();
    std::fs::copy(
        &tmpl,
        e.sysroot.join("k/5.14.0-999.el9.x86_64/Module.symvers"),
    )
    .unwrap();
    let mut cmd = kmodpack();
    cmd.args(["deps", "requires"]).env(
        "KMODPACK_SYMVERS",
        format!("{}/k/{{kver}}/Module.symvers", e.sysroot.display()),
    );
    let (c, out, err) = pipe(cmd, &[&ko]);
    assert_eq!(c, 0, "{err}");
    assert!(out.contains("kernel(printk) = 0x1111aaaa"));
    // Outside rpm, an error prints nothing on stdout.
    let mut cmd = kmodpack();
    cmd.args(["deps", "requires", "--sysroot"])
        .arg(&e.sysroot)
        .env_remove("RPM_BUILD_ROOT")
        .env_remove("KMODPACK_SYMVERS");
    let (c, out, _) = pipe(cmd, &[&ko]);
    assert_eq!((c, out.as_str()), (2, ""));
    // A missing override file is an error too.
    let (c, _, err) = gen(
        &e,
        "requires",
        &["--symvers", "/nonexistent/Module.symvers"],
        &[&ko],
    );
    assert_eq!(c, 2);
    assert!(err.contains("/nonexistent/Module.symvers"), "{err}");
}

#[test]
fn tv10_suse_dialect() {
    let e = env();
    let mut old = Synth::new("4.4.180-94-default SMP mod_unload modversions ");
    old.crcs = vec![Crc::Abs("s_sym_a", 0xabcd), Crc::Abs("s_sym_b", 0x89abcdef)];
    old.versions = vec![
        ("printk", 0x1111aaaa),
        ("kmalloc", 0x2222),
        ("s_sym_b", 0x89abcdef),
    ];
    let ko = old.build(
        &e.br,
        "/lib/modules/4.4.180-94-default/updates/provS_old.ko",
    );
    let (c, out, err) = gen(&e, "provides", &["--dialect", "suse"], &[&ko]);
    assert_eq!(c, 0, "{err}");
    assert_eq!(
        out,
        lines(&[
            "kmod(provS_old)",
            "ksym(default:s_sym_a) = abcd",
            "ksym(default:s_sym_b) = 89abcdef"
        ])
    );
    // SUSE needs no kernel symvers (its kernels provide ksym(flavor:...) too).
    let (c, out, err) = gen(&e, "requires", &["--dialect", "suse"], &[&ko]);
    assert_eq!(c, 0, "{err}");
    assert_eq!(
        out,
        lines(&[
            "ksym(default:kmalloc) = 2222",
            "ksym(default:printk) = 1111aaaa"
        ])
    );
    let (_, out, _) = gen(
        &e,
        "requires",
        &["--dialect", "suse", "--package", "kernel-default"],
        &[&ko],
    );
    assert_eq!(out, "");
}

#[test]
fn thirty_two_bit_module() {
    let e = env();
    let mut s = tv1();
    s.target = Target::I386;
    s.vermagic = "5.14.0-1.el9.x86_64 SMP mod_unload modversions ";
    let ko = s.build(&e.br, &format!("{EL9}/extra/prov32.ko"));
    assert_eq!(std::fs::read(&ko).unwrap()[4], 1, "ELFCLASS32");
    let (_, p, _) = gen(&e, "provides", &[], &[&ko]);
    assert_eq!(
        p,
        lines(&[
            "kmod(prov32.ko)",
            "ksym(prov_sym_a) = 0x0000abcd",
            "ksym(prov_sym_b) = 0x89abcdef"
        ])
    );
    let (_, r, err) = gen(&e, "requires", &[], &[&ko]);
    assert!(
        r.contains("ksym(same_name_diff_crc) = 0xdeadbeef\n")
            && r.contains("kernel(kmalloc) = 0x00002222\n"),
        "{r}{err}"
    );
}

#[test]
fn non_modules_symlinks_and_no_modversions_are_quiet() {
    let e = env();
    let doc = e.br.join("usr/share/doc/x/README");
    std::fs::create_dir_all(doc.parent().unwrap()).unwrap();
    std::fs::write(&doc, "hi").unwrap();
    let ko = tv1().build(&e.br, &format!("{EL9}/extra/provA.ko"));
    let link =
        e.br.join("lib/modules/5.14.0-2.el9.x86_64/weak-updates/provA.ko");
    std::fs::create_dir_all(link.parent().unwrap()).unwrap();
    std::os::unix::fs::symlink("/lib/modules/5.14.0-1.el9.x86_64/extra/provA.ko", &link).unwrap();
    let (c, out, err) = gen(&e, "provides", &[], &[&doc, &link]);
    assert_eq!((c, out.as_str(), err.as_str()), (0, "", ""));
    let nomv = fixtures().join("kmod-nomodversions/mod-loop-f.ko");
    let (c, out, err) = gen(&e, "requires", &[], &[&nomv, &doc]);
    assert_eq!((c, out.as_str()), (0, ""), "{err}");
    let _ = ko;
}

#[test]
fn hostile_module_is_a_one_line_error_naming_the_file() {
    let e = env();
    let bad = e.br.join("lib/modules/5.14.0-1.el9.x86_64/extra/bad.ko");
    std::fs::create_dir_all(bad.parent().unwrap()).unwrap();
    std::fs::write(&bad, b"\x7fELF\x02\x01\x01garbage").unwrap();
    let (c, out, err) = gen(&e, "provides", &[], &[&bad]);
    assert_eq!(c, 2);
    assert_eq!(err.lines().count(), 1);
    assert!(err.contains(&bad.display().to_string()), "{err}");
    assert!(out.starts_with("!kmodpack-error: "), "{out}");
}

// ---- fixtures (oracles: kmod, nm, the kernel's Module.symvers) ----

/// `modprobe --dump-modversions` lines → (name, crc).
fn dump(oracle: &str) -> Vec<(String, u32)> {
    std::fs::read_to_string(fixtures().join("expected").join(oracle))
        .unwrap()
        .lines()
        .map(|l| {
            let (c, n) = l.split_once('\t').unwrap();
            (
                n.to_string(),
                u32::from_str_radix(c.trim_start_matches("0x"), 16).unwrap(),
            )
        })
        .collect()
}

#[test]
fn fixture_requires_all_layouts_match_kmod() {
    // A kernel symvers without any of the imports: every import becomes ksym(name) = crc, so the
    // output is exactly kmod's view of __versions (dot-stripped, both byte
    // orders, 32- and 64-bit).
    let e = env();
    let empty = e.sysroot.join("empty.symvers");
    std::fs::write(&empty, UNRELATED).unwrap();
    for (dir, m) in [
        ("kmod-rhel6-ext4", "ext4-i686"),
        ("kmod-rhel6-ext4", "ext4-ppc64"),
        ("kmod-rhel6-ext4", "ext4-s390x"),
        ("kmod-rhel6-ext4", "ext4-x86_64"),
        ("kmod-playground-4.0.3", "mod-foo"),
    ] {
        let ko = fixtures().join(dir).join(format!("{m}.ko"));
        let mut want: Vec<String> = dump(&format!("{dir}_{m}.dump-modversions.txt"))
            .iter()
            .map(|(n, c)| format!("ksym({n}) = 0x{c:08x}\n"))
            .collect();
        want.sort();
        want.dedup();
        let (c, out, err) = gen(
            &e,
            "requires",
            &["--symvers", empty.to_str().unwrap(), "--siblings", "input"],
            &[&ko],
        );
        assert_eq!(c, 0, "{m}: {err}");
        assert_eq!(out, want.concat(), "{m}");
    }
}

#[test]
fn fixture_debian_requires_are_all_kernel_and_provides_match_symvers() {
    let e = env();
    let symvers = fixtures().join("debian12-6.1.0-56-amd64/Module.symvers.gz");
    for m in ["usb-storage", "uas", "libcrc32c", "xhci-pci", "virtio_mmio"] {
        let ko = fixtures()
            .join("debian12-6.1.0-56-amd64")
            .join(format!("{m}.ko"));
        let mut want: Vec<String> =
            dump(&format!("debian12-6.1.0-56-amd64_{m}.dump-modversions.txt"))
                .iter()
                .map(|(n, c)| format!("kernel({n}) = 0x{c:08x}\n"))
                .collect();
        want.sort();
        want.dedup();
        let (c, out, err) = gen(
            &e,
            "requires",
            &["--symvers", symvers.to_str().unwrap()],
            &[&ko],
        );
        assert_eq!(c, 0, "{m}: {err}");
        assert_eq!(out, want.concat(), "{m}");
    }
    for m in ["usb-storage", "libcrc32c"] {
        let ko = fixtures()
            .join("debian12-6.1.0-56-amd64")
            .join(format!("{m}.ko"));
        let oracle = std::fs::read_to_string(fixtures().join(format!(
            "expected/debian12-6.1.0-56-amd64_{m}.Module.symvers-lines.txt"
        )))
        .unwrap();
        let mut want: Vec<String> = oracle
            .lines()
            .map(|l| {
                let f: Vec<&str> = l.split('\t').collect();
                format!("ksym({}) = {}\n", f[1], f[0])
            })
            .collect();
        want.push(format!("kmod({m}.ko)\n"));
        want.sort();
        let (c, out, err) = gen(&e, "provides", &[], &[&ko]);
        assert_eq!(c, 0, "{err}");
        assert_eq!(out, want.concat(), "{m}");
    }
}

#[test]
fn fixture_absolute_crcs_match_nm() {
    let e = env();
    for m in ["mod-foo-a", "mod-foo-b", "mod-foo-c"] {
        let ko = fixtures()
            .join("kmod-playground-4.0.3")
            .join(format!("{m}.ko"));
        let nm = std::fs::read_to_string(
            fixtures().join(format!("expected/kmod-playground-4.0.3_{m}.nm-crc.txt")),
        )
        .unwrap();
        let mut want: Vec<String> = nm
            .lines()
            .map(|l| {
                let f: Vec<&str> = l.split_whitespace().collect();
                let crc = u64::from_str_radix(f[0], 16).unwrap() as u32;
                format!(
                    "ksym({}) = 0x{crc:08x}\n",
                    f[2].trim_start_matches("__crc_")
                )
            })
            .collect();
        want.push(format!("kmod({m}.ko)\n"));
        want.sort();
        let (_, out, err) = gen(&e, "provides", &[], &[&ko]);
        assert_eq!(out, want.concat(), "{m}: {err}");
    }
    // mod-foo imports print_fooA/B/C from mod-foo-a/b/c with the same CRCs:
    // given together, those requires disappear.
    let dir = fixtures().join("kmod-playground-4.0.3");
    let empty = e.sysroot.join("empty.symvers");
    std::fs::write(&empty, UNRELATED).unwrap();
    let paths: Vec<PathBuf> = ["mod-foo", "mod-foo-a", "mod-foo-b", "mod-foo-c"]
        .iter()
        .map(|m| dir.join(format!("{m}.ko")))
        .collect();
    let refs: Vec<&Path> = paths.iter().map(PathBuf::as_path).collect();
    let (_, out, _) = gen(
        &e,
        "requires",
        &["--symvers", empty.to_str().unwrap()],
        &refs,
    );
    assert!(!out.contains("print_foo"), "{out}");
    let (_, alone, _) = gen(
        &e,
        "requires",
        &["--symvers", empty.to_str().unwrap(), "--siblings", "input"],
        &refs[..1],
    );
    assert!(alone.contains("ksym(print_fooA) = 0x4e3214a3\n"), "{alone}");
}

#[test]
fn stablelist_warnings_leave_output_unchanged() {
    // stablelist: kernel() outside the list is a warning, output unchanged.
    let e = env();
    let ko = tv1().build(&e.br, &format!("{EL9}/extra/provA.ko"));
    let sl = e.sysroot.join("kabi_stablelist_x86_64");
    std::fs::write(&sl, "[rhel9_x86_64_stablelist]\n\tprintk\n\tkmalloc\n").unwrap();
    let (c, out, err) = gen(
        &e,
        "requires",
        &["--stablelist", sl.to_str().unwrap()],
        &[&ko],
    );
    assert_eq!(c, 0);
    assert!(out.contains("kernel(ns_sym) = 0x55556666"));
    assert_eq!(
        err.trim_end(),
        format!(
            "kmodpack: warning: kernel(ns_sym) is not on the kABI stablelist {}",
            sl.display()
        )
    );
    let kabi = e.sysroot.join("lib/modules/kabi-current");
    std::fs::create_dir_all(&kabi).unwrap();
    std::fs::copy(&sl, kabi.join("kabi_stablelist_x86_64")).unwrap();
    let (_, _, err2) = gen(&e, "requires", &["--stablelist", "auto"], &[&ko]);
    assert!(
        err2.contains("kernel(ns_sym) is not on the kABI stablelist"),
        "{err2}"
    );
}

#[test]
fn tv12_real_world_crc_values() {
    let e = env();
    // mlx5_core 5.14 x86_64: `0000000092f175ca A __crc_mlx5_access_reg`.
    let mut abs = Synth::new("5.14.0-1.el9.x86_64 SMP mod_unload modversions ");
    abs.crcs = vec![Crc::Abs("mlx5_access_reg", 0x92f175ca)];
    let ko = abs.build(&e.br, &format!("{EL9}/extra/mlx5_core.ko"));
    let (_, out, err) = gen(&e, "provides", &[], &[&ko]);
    assert_eq!(
        out,
        lines(&["kmod(mlx5_core.ko)", "ksym(mlx5_access_reg) = 0x92f175ca"]),
        "{err}"
    );
    // 6.4 x86_64: `readelf -R __kcrctab_gpl` word 38b0d3c3 (LE bytes) => 0xc3d3b038.
    let mut sec = Synth::new("6.4.0-1.fc39.x86_64 SMP preempt mod_unload modversions ");
    sec.crcs = vec![Crc::InSection(
        "__kcrctab_gpl",
        "a",
        "first_gpl",
        0xc3d3b038,
        false,
    )];
    let ko = sec.build(&e.br, "/lib/modules/6.4.0-1.fc39.x86_64/extra/k64.ko");
    assert!(std::fs::read(&ko)
        .unwrap()
        .windows(4)
        .any(|w| w == [0x38, 0xb0, 0xd3, 0xc3]));
    let (_, out, _) = gen(&e, "provides", &[], &[&ko]);
    assert_eq!(
        out,
        lines(&["kmod(k64.ko)", "ksym(first_gpl) = 0xc3d3b038"])
    );
    // 5.14 s390x: .rodata word ed6560a8 at the symbol => 0xed6560a8 (BE, no swap).
    let mut be = Synth::new("5.14.0-1.el9.s390x SMP mod_unload modversions ");
    be.target = Target::S390x;
    be.crcs = vec![
        Crc::InSection(".rodata", "a", "loc_node_pad", 0x6c6f635f, true),
        Crc::InSection(".rodata", "a", "mlx5_s390", 0xed6560a8, true),
    ];
    let ko = be.build(&e.br, "/lib/modules/5.14.0-1.el9.s390x/extra/mlx5_s390.ko");
    let (_, out, _) = gen(&e, "provides", &[], &[&ko]);
    assert_eq!(
        out,
        lines(&[
            "kmod(mlx5_s390.ko)",
            "ksym(loc_node_pad) = 0x6c6f635f",
            "ksym(mlx5_s390) = 0xed6560a8"
        ])
    );
}

#[test]
fn tv9_kernel_symvers_as_provides_for_check() {
    // `deps check --symvers` counts a kernel's symvers as RHEL 8 kabi.sh did:
    // one kernel() provide per line (BZ#1004930: 10 lines => 10 provides).
    let e = env();
    let mut text = String::from(FAKE_SYMVERS);
    for i in 0..6 {
        text += &format!("0x0000000{i}\textra_{i}\tvmlinux\tEXPORT_SYMBOL\t\n");
    }
    let sv = e.sysroot.join("symvers-10");
    std::fs::write(&sv, &text).unwrap();
    let symvers = kmodpack::symvers::Symvers::read(&sv).unwrap();
    let prov: Vec<String> = kmodpack::deps::check::kernel_provides(&symvers)
        .iter()
        .map(|d| d.to_string())
        .collect();
    assert_eq!(prov.len(), 10);
    assert_eq!(
        &prov[..4],
        [
            "kernel(printk) = 0x1111aaaa",
            "kernel(kmalloc) = 0x00002222",
            "kernel(same_name_diff_crc) = 0x12121212",
            "kernel(ns_sym) = 0x55556666"
        ]
    );
}

/// Issue #16 item 5: an empty kernel symvers (given with --symvers, or found
/// by the search list) used to give all-ksym() Requires and exit 0.
#[test]
fn an_empty_kernel_symvers_is_an_error_not_all_ksym() {
    let e = env();
    let ko = tv1().build(&e.br, &format!("{EL9}/extra/provA.ko"));
    let empty = e.sysroot.join("empty.symvers");
    std::fs::write(&empty, "").unwrap();
    let comments = e.sysroot.join("comments.symvers");
    std::fs::write(&comments, "# nothing\n\n").unwrap();
    for f in [&empty, &comments] {
        let (c, out, err) = gen(&e, "requires", &["--symvers", f.to_str().unwrap()], &[&ko]);
        assert_eq!(c, 2, "{err}");
        assert!(
            err.contains(&f.display().to_string()) && err.contains("no symbols"),
            "{err}"
        );
        assert!(
            out.starts_with("!kmodpack-error: "),
            "rpm must reject the output: {out}"
        );
        assert!(!out.lines().any(|l| l.starts_with("ksym(")), "{out}");
    }
    // Found by the search list (an empty build/Module.symvers).
    let found = e
        .sysroot
        .join("usr/src/kernels/5.14.0-1.el9.x86_64/Module.symvers");
    std::fs::write(&found, "").unwrap();
    let (c, out, err) = gen(&e, "requires", &[], &[&ko]);
    assert_eq!(c, 2, "{err}");
    assert!(
        err.contains("no symbols") && out.starts_with("!kmodpack-error: "),
        "{err}{out}"
    );
}

/// Issue #16 item 6: `deps` and `kabi` read symvers with one parser and one
/// strictness; a CRC wider than 32 bits is an error, not truncated; a symbol
/// listed twice with different CRCs is warned about.
#[test]
fn deps_and_kabi_agree_on_hostile_symvers() {
    let e = env();
    let ko = tv1().build(&e.br, &format!("{EL9}/extra/provA.ko"));
    let good = FAKE_SYMVERS;
    let cases: &[(&str, String)] = &[
        ("2 columns", format!("{good}0x00000001\tfoo\n")),
        (
            "6 columns",
            format!("{good}0x00000001\tfoo\tvmlinux\tEXPORT_SYMBOL\tNS\textra\n"),
        ),
        (
            "CRC zzzz",
            format!("{good}0xzzzz\tfoo\tvmlinux\tEXPORT_SYMBOL\t\n"),
        ),
        (
            "export kind",
            format!("{good}0x00000001\tfoo\tvmlinux\tEXPORT_WHATEVER\t\n"),
        ),
        ("BOM", format!("\u{feff}{good}")),
        ("lone tab", format!("{good}\t\n")),
        (
            "64-bit CRC",
            format!("{good}0x1ffffffff\tfoo\tvmlinux\tEXPORT_SYMBOL\t\n"),
        ),
    ];
    for (what, text) in cases {
        let f = e.sysroot.join("hostile.symvers");
        std::fs::write(&f, text).unwrap();
        let (c, out, err) = gen(&e, "requires", &["--symvers", f.to_str().unwrap()], &[&ko]);
        assert_eq!(c, 2, "deps accepted {what}: {out}");
        assert!(out.starts_with("!kmodpack-error: "), "{what}: {out}");
        assert!(
            err.contains("hostile.symvers") && err.contains("line "),
            "{what}: {err}"
        );
        let (kc, _, kerr) = common::run(
            kmodpack()
                .args(["kabi", "check"])
                .arg(&ko)
                .arg("--kernel")
                .arg(&f),
        );
        assert_eq!(kc, 2, "kabi accepted {what}: {kerr}");
        assert!(
            kerr.contains("hostile.symvers") && kerr.contains("line "),
            "{what}: {kerr}"
        );
    }
    // Conflicting duplicates: a warning naming both CRCs, in both commands.
    let f = e.sysroot.join("dup.symvers");
    std::fs::write(
        &f,
        format!("{good}0x99999999\tprintk\tvmlinux\tEXPORT_SYMBOL\t\n"),
    )
    .unwrap();
    let (c, out, err) = gen(&e, "requires", &["--symvers", f.to_str().unwrap()], &[&ko]);
    assert_eq!(c, 0, "{err}");
    assert!(
        out.contains("ksym(printk) = 0x1111aaaa"),
        "the later CRC wins: {out}"
    );
    assert!(
        err.contains("printk is listed twice with different CRCs (0x1111aaaa, then 0x99999999)"),
        "{err}"
    );
    let (_, _, kerr) = common::run(
        kmodpack()
            .args(["kabi", "check"])
            .arg(&ko)
            .arg("--kernel")
            .arg(&f),
    );
    assert!(
        kerr.contains("printk is listed twice with different CRCs"),
        "{kerr}"
    );
}

/// Issue #16 item 14: the ledger is locked (8 concurrent provides calls, the
/// previous package done, used to lose `P` lines), a symlinked ledger is
/// never followed or truncated, and a buildroot of `/` is refused.
#[test]
fn the_ledger_is_locked_never_followed_and_never_at_the_root() {
    let e = env();
    let kos: Vec<PathBuf> = (0..8)
        .map(|i| tv1().build(&e.br, &format!("{EL9}/extra/c/prov{i}.ko")))
        .collect();
    let ledger = PathBuf::from(format!("{}.kmodpack-ledger", e.br.display()));
    for trial in 0..15 {
        // The previous package is done: its export and marker must go.
        std::fs::create_dir_all(&ledger).unwrap();
        std::fs::write(ledger.join("x00000001.old_sym"), "").unwrap();
        std::fs::write(ledger.join("requiring"), "").unwrap();
        let children: Vec<_> = kos
            .iter()
            .map(|ko| {
                let mut c = kmodpack();
                c.args(["deps", "provides"])
                    .env("RPM_BUILD_ROOT", &e.br)
                    .stdin(Stdio::piped())
                    .stdout(Stdio::null())
                    .stderr(Stdio::piped());
                let mut child = c.spawn().unwrap();
                child
                    .stdin
                    .take()
                    .unwrap()
                    .write_all(format!("{}\n", ko.display()).as_bytes())
                    .unwrap();
                child
            })
            .collect();
        for c in children {
            let o = c.wait_with_output().unwrap();
            assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        }
        assert_eq!(
            entries(&ledger),
            ["package", "x0000abcd.prov_sym_a", "x89abcdef.prov_sym_b"],
            "trial {trial}: exports lost or kept from the previous package"
        );
    }
    // A symlink planted as the ledger: not followed, its target untouched.
    let victim = e.sysroot.join("victim");
    std::fs::write(&victim, "precious\n").unwrap();
    std::fs::remove_dir_all(&ledger).unwrap();
    std::os::unix::fs::symlink(&victim, &ledger).unwrap();
    let (c, out, err) = gen(&e, "provides", &[], &[&kos[0]]);
    assert_eq!(c, 0, "{err}");
    assert!(out.contains("kmod(prov0.ko)"), "{out}");
    assert!(err.contains("symbolic link"), "{err}");
    let (c, _, err) = gen(&e, "requires", &[], &[&kos[0]]);
    assert_eq!(c, 0, "{err}");
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious\n");
    // RPM_BUILD_ROOT=/ would write /.kmodpack-ledger.
    let mut cmd = kmodpack();
    cmd.args(["deps", "provides"]).env("RPM_BUILD_ROOT", "/");
    let (c, out, err) = pipe(cmd, &[&kos[0]]);
    assert_eq!(c, 2, "{err}");
    assert!(err.contains("buildroot") && err.contains("`/`"), "{err}");
    assert!(out.starts_with("!kmodpack-error: "), "{out}");
    assert!(!Path::new("/.kmodpack-ledger").exists());
}

/// Issue #16 item 8: a module file name with a space gave `kmod(sp ace.ko)`,
/// which rpm splits into two dependencies; a CR passed into the output.
#[test]
fn module_file_names_rpm_cannot_carry_are_refused() {
    let e = env();
    for name in ["sp ace.ko", "cr\rx.ko"] {
        let ko = tv1().build(&e.br, &format!("{EL9}/extra/{name}"));
        let (c, out, err) = gen(&e, "provides", &[], &[&ko]);
        assert_eq!(c, 2, "{name:?}: {out}");
        assert!(
            err.contains("module file name") && err.contains("rename"),
            "{err}"
        );
        assert!(out.starts_with("!kmodpack-error: "), "{out}");
        assert!(!out.lines().any(|l| l.starts_with("kmod(")), "{out}");
        assert_eq!(err.lines().count(), 1, "{err:?}");
    }
}
