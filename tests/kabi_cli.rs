//! `kmodpack kabi check|diff` as a user runs it: exit status, text and JSON,
//! every kind of TARGET (symvers, headers dir, /lib/modules/<kver>, kernel
//! RPMs built here with the real rpmbuild), modules from kmod RPMs
//! (compressed inside the payload), --installed, --stablelist, diff.

mod common;

use std::collections::BTreeSet;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;
use kmodpack::symvers::Symvers;

fn deb(name: &str) -> PathBuf {
    fixtures().join("debian12-6.1.0-56-amd64").join(name)
}

fn symvers_gz() -> PathBuf {
    deb("Module.symvers.gz")
}

fn symvers_text() -> String {
    let gz = std::fs::read(symvers_gz()).unwrap();
    let mut s = String::new();
    flate2::read::GzDecoder::new(&gz[..])
        .read_to_string(&mut s)
        .unwrap();
    s
}

fn tampered() -> PathBuf {
    fixtures().join("derived/uas-crc-tampered.ko")
}

#[test]
fn exit_status_and_text() {
    let (code, out, err) = run(kmodpack()
        .args(["kabi", "check", "--kernel"])
        .arg(symvers_gz())
        .arg(deb("uas.ko")));
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.ends_with(": compatible\n"), "{out}");

    let (code, out, _) = run(kmodpack()
        .args(["kabi", "check", "--kernel"])
        .arg(symvers_gz())
        .arg(deb("uas.ko"))
        .arg(tampered()));
    assert_eq!(code, 1);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 3, "{out}");
    assert!(lines[1].ends_with(": INCOMPATIBLE"));
    assert_eq!(
        lines[2],
        "  uas: disagrees about version of symbol usb_stor_adjust_quirks (module 0xf4e9fa3c, drivers/usb/storage/usb-storage 0xf4e9fa3d)"
    );
}

#[test]
fn usage_and_bad_input_exit_2_with_one_line() {
    let (code, _, err) = run(kmodpack().args(["kabi", "check"]).arg(deb("uas.ko")));
    assert_eq!(code, 2);
    assert!(err.contains("--kernel"), "{err}");

    let tmp = tempfile::tempdir().unwrap();
    let trunc = tmp.path().join("trunc.ko");
    std::fs::write(&trunc, &std::fs::read(deb("uas.ko")).unwrap()[..100]).unwrap();
    let (code, out, err) = run(kmodpack()
        .args(["kabi", "check", "--kernel"])
        .arg(symvers_gz())
        .arg(&trunc));
    assert_eq!(code, 2);
    assert!(out.is_empty());
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("kmodpack: error: ") && err.contains("trunc.ko"),
        "{err}"
    );

    let bad_sv = tmp.path().join("Module.symvers");
    std::fs::write(&bad_sv, "0xzz\tfoo\n").unwrap();
    let (code, _, err) = run(kmodpack()
        .args(["kabi", "check", "--kernel"])
        .arg(&bad_sv)
        .arg(deb("uas.ko")));
    assert_eq!(code, 2);
    assert!(
        err.contains("Module.symvers") && err.lines().count() == 1,
        "{err}"
    );

    let (code, _, err) = run(kmodpack()
        .args(["kabi", "check", "--kernel", "/nonexistent/kernel"])
        .arg(deb("uas.ko")));
    assert_eq!(code, 2);
    assert!(err.contains("/nonexistent/kernel"), "{err}");
}

#[test]
fn json_and_compressed_modules() {
    let c = fixtures().join("compressed");
    let (code, out, err) = run(kmodpack()
        .args(["kabi", "check", "--json", "--kernel"])
        .arg(symvers_gz())
        .arg(c.join("libcrc32c.ko.xz"))
        .arg(c.join("libcrc32c.ko.gz"))
        .arg(c.join("libcrc32c.ko.zst"))
        .arg(tampered()));
    assert_eq!(code, 1, "{err}");
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(doc["compatible"], false);
    let v = doc["verdicts"].as_array().unwrap();
    assert_eq!(v.len(), 4);
    assert!(v[..3]
        .iter()
        .all(|x| x["compatible"] == true && x["name"] == "libcrc32c"));
    assert_eq!(v[3]["problems"][0]["reason"], "disagrees_about_version");
    assert_eq!(v[3]["problems"][0]["symbol"], "usb_stor_adjust_quirks");
    assert_eq!(v[3]["problems"][0]["module_crc"], 0xf4e9fa3cu32);
    assert_eq!(doc["kernels"][0]["symbols"], 24683);
}

#[test]
fn kernel_targets_headers_dir_module_tree_and_release() {
    let kver = kernel_release();
    let (exp, imp) = kpx_pair();
    for target in [
        headers_dir().display().to_string(),
        format!("/lib/modules/{kver}"),
        kver.clone(),
    ] {
        let (code, out, err) = run(kmodpack()
            .args(["kabi", "check", "--json", "--kernel", &target, "--with"])
            .arg(&exp.ko)
            .arg(&imp.ko));
        assert_eq!(code, 0, "{target}: {out}{err}");
        let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(doc["kernels"][0]["release"], kver.as_str(), "{target}");
        // vermagic read from the kernel's own modules: equal to what the headers build.
        let built = kmodpack::module::read(&imp.ko).unwrap();
        assert_eq!(
            doc["kernels"][0]["vermagic"].as_str(),
            built.vermagic(),
            "{target}"
        );
        assert!(doc["verdicts"][0]["notes"].as_array().unwrap().is_empty());
    }
    // Without the provider, kpx_* are unknown symbols.
    let (code, out, _) = run(kmodpack()
        .args(["kabi", "check", "--kernel", &kver])
        .arg(&imp.ko));
    assert_eq!(code, 1);
    for s in ["kpx_add", "kpx_default_ops", "kpx_gpl_mul", "kpx_ns_sub"] {
        assert!(
            out.contains(&format!("  kpx_import: unknown symbol {s}\n")),
            "{out}"
        );
    }
    // A provider whose kpx_add changed prototype: CRC mismatch on exactly kpx_add.
    let exp2 = build_module("kpx_export", &["KPX_VARIANT=1"], &[]);
    let (code, out, _) = run(kmodpack()
        .args(["kabi", "check", "--kernel", &kver, "--with"])
        .arg(&exp2.ko)
        .arg(&imp.ko));
    assert_eq!(code, 1);
    assert_eq!(
        out.lines().filter(|l| l.starts_with("  ")).count(),
        1,
        "{out}"
    );
    assert!(
        out.contains("disagrees about version of symbol kpx_add"),
        "{out}"
    );
    // Several kernels: one verdict per module per kernel.
    let (code, out, _) = run(kmodpack()
        .args(["kabi", "check", "--kernel", &kver, "--kernel"])
        .arg(symvers_gz())
        .arg("--with")
        .arg(&exp.ko)
        .arg(&imp.ko));
    assert_eq!(code, 0, "{out}");
    assert_eq!(out.lines().count(), 2, "{out}");
}

#[test]
fn installed_lists_kernels_that_reuse_the_module() {
    let kver = kernel_release();
    let (exp, imp) = kpx_pair();
    let (code, out, err) = run(kmodpack()
        .args(["kabi", "check", "--installed", "--with"])
        .arg(&exp.ko)
        .arg(&imp.ko));
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains(&format!("{}: would be reused by: ", imp.ko.display())),
        "{out}"
    );
    let reused = out.lines().last().unwrap().rsplit(": ").next().unwrap();
    assert!(reused.split(' ').any(|k| k == kver), "{out}");
    // The tampered Debian module is not reusable anywhere here.
    let (code, out, _) = run(kmodpack()
        .args(["kabi", "check", "--installed"])
        .arg(tampered()));
    assert_eq!(code, 1);
    assert!(out.ends_with("would be reused by: none\n"), "{out}");
}

#[test]
fn stablelist_greylist_warnings() {
    let kver = kernel_release();
    let (exp, imp) = kpx_pair();
    let list_path = fixtures().join("rhel-kabi/Module.kabi_x86_64.el9-5.14.0-362.24.1");
    let (code, out, err) = run(kmodpack()
        .args(["kabi", "check", "--json", "--kernel", &kver, "--stablelist"])
        .arg(&list_path)
        .arg("--with")
        .arg(&exp.ko)
        .arg(&imp.ko));
    assert_eq!(code, 0, "greylisted symbols are warnings only: {err}");
    // Expected independently: kpx_import's undefined symbols exported by
    // vmlinux in the headers' Module.symvers and absent from the el9 list.
    let list: BTreeSet<String> = std::fs::read_to_string(&list_path)
        .unwrap()
        .lines()
        .filter_map(|l| l.split('\t').nth(1).map(str::to_string))
        .collect();
    let sv = Symvers::read(&kernel_symvers()).unwrap();
    let m = kmodpack::module::read(&imp.ko).unwrap();
    let want: BTreeSet<String> = m
        .undefined
        .iter()
        .map(|u| u.name.clone())
        .filter(|n| sv.get(n).is_some_and(|e| e.is_vmlinux()) && !list.contains(n))
        .collect();
    assert!(!want.is_empty());
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    let got: BTreeSet<String> = doc["verdicts"][0]["greylisted"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    assert_eq!(got, want);
    assert!(err.contains("outside the kABI stablelist"), "{err}");
    for s in &want {
        assert!(err.contains(s.as_str()), "{err}");
    }
}

/// rpmbuild a package with the given Provides and files (`(install path, source)`).
fn rpmbuild(dir: &Path, name: &str, provides: &[String], files: &[(String, PathBuf)]) -> PathBuf {
    let mut spec = format!(
        "Name: {name}\nVersion: 5.14.0\nRelease: 503.11.1.el9_5\nSummary: test\nLicense: GPL\nBuildArch: x86_64\n\
         AutoReqProv: no\n"
    );
    for p in provides {
        spec.push_str(&format!("Provides: {p}\n"));
    }
    spec.push_str("%description\ntest\n%install\n");
    for (dest, src) in files {
        spec.push_str(&format!(
            "mkdir -p %{{buildroot}}$(dirname {dest})\ncp {} %{{buildroot}}{dest}\n",
            src.display()
        ));
    }
    spec.push_str("%files\n");
    for (dest, _) in files {
        spec.push_str(&format!("{dest}\n"));
    }
    let spec_path = dir.join(format!("{name}.spec"));
    std::fs::write(&spec_path, spec).unwrap();
    let (code, out, err) = run(Command::new("rpmbuild")
        .arg("-bb")
        .arg("--define")
        .arg(format!("_topdir {}", dir.join("rpmbuild").display()))
        .arg("--define")
        .arg("__os_install_post %{nil}")
        .arg("--define")
        .arg("_build_id_links none")
        .arg(&spec_path));
    assert_eq!(code, 0, "rpmbuild {name}: {out}{err}");
    let rpm = dir
        .join("rpmbuild/RPMS/x86_64")
        .join(format!("{name}-5.14.0-503.11.1.el9_5.x86_64.rpm"));
    assert!(rpm.is_file());
    rpm
}

#[test]
fn kernel_rpms_and_kmod_rpms() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    // Modules compressed inside a kmod RPM.
    let xz = d.join("uas.ko.xz");
    let (code, _, err) = run(Command::new("sh").arg("-c").arg(format!(
        "xz -c --check=crc32 {} > {}",
        tampered().display(),
        xz.display()
    )));
    assert_eq!(code, 0, "{err}");
    let kver = "5.14.0-503.11.1.el9_5.x86_64";
    let kmod = rpmbuild(
        d,
        "kmod-uas",
        &[],
        &[
            (
                format!("/lib/modules/{kver}/extra/uas/uas.ko.xz"),
                xz.clone(),
            ),
            (
                format!("/lib/modules/{kver}/extra/uas/libcrc32c.ko"),
                deb("libcrc32c.ko"),
            ),
        ],
    );
    // Kernel RPM 1: kernel(sym) = crc Provides only (every symvers line).
    let provides: Vec<String> = symvers_text()
        .lines()
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            format!("kernel({}) = {}", f[1], f[0])
        })
        .chain([format!("kernel-uname-r = {kver}")])
        .collect();
    let kprov = rpmbuild(d, "kernel-provides", &provides, &[]);
    // Kernel RPM 2: a symvers file and a module (for the vermagic) in the payload.
    let kpay = rpmbuild(
        d,
        "kernel-core",
        &[format!("kernel-uname-r = {kver}")],
        &[
            (format!("/boot/symvers-{kver}.gz"), symvers_gz()),
            (
                format!("/lib/modules/{kver}/kernel/lib/libcrc32c.ko"),
                deb("libcrc32c.ko"),
            ),
        ],
    );

    for k in [&kprov, &kpay] {
        let (code, out, err) = run(kmodpack()
            .args(["kabi", "check", "--json", "--kernel"])
            .arg(k)
            .arg(&kmod));
        assert_eq!(code, 1, "{}: {out}{err}", k.display());
        let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(doc["kernels"][0]["release"], kver);
        let vermagic = if k == &kpay {
            Some("6.1.0-56-amd64 SMP preempt mod_unload modversions ")
        } else {
            None
        };
        assert_eq!(
            doc["kernels"][0]["vermagic"].as_str(),
            vermagic,
            "{}: {}",
            k.display(),
            doc["kernels"]
        );
        let v = doc["verdicts"].as_array().unwrap();
        assert_eq!(v.len(), 2);
        assert_eq!(
            v[0]["module"],
            format!(
                "{}:/lib/modules/{kver}/extra/uas/libcrc32c.ko",
                kmod.display()
            )
        );
        assert_eq!(v[0]["compatible"], true, "{}", v[0]);
        assert_eq!(
            v[1]["module"],
            format!("{}:/lib/modules/{kver}/extra/uas/uas.ko.xz", kmod.display())
        );
        let p = v[1]["problems"].as_array().unwrap();
        assert_eq!(p.len(), 1, "{}: {p:?}", k.display());
        assert_eq!(p[0]["symbol"], "usb_stor_adjust_quirks");
        assert_eq!(p[0]["kernel_crc"], 0xf4e9fa3du32);
    }
    // A corrupt RPM is bad input.
    let bad = d.join("bad.rpm");
    let mut bytes = std::fs::read(&kmod).unwrap();
    bytes.truncate(bytes.len() / 2);
    std::fs::write(&bad, bytes).unwrap();
    let (code, _, err) = run(kmodpack()
        .args(["kabi", "check", "--kernel"])
        .arg(&kpay)
        .arg(&bad));
    assert_eq!(code, 2);
    assert!(err.contains("bad.rpm") && err.lines().count() == 1, "{err}");
}

#[test]
fn diff_reports_removed_added_changed() {
    let tmp = tempfile::tempdir().unwrap();
    let old = tmp.path().join("old.symvers");
    let new = tmp.path().join("new.symvers");
    let text = symvers_text();
    std::fs::write(&old, &text).unwrap();
    // NEW: usb_stor_adjust_quirks CRC changed, usb_stor_probe2 removed,
    // kmodpack_new_sym added, _printk became namespaced.
    let mut lines: Vec<String> = Vec::new();
    for l in text.lines() {
        let f: Vec<&str> = l.split('\t').collect();
        match f[1] {
            "usb_stor_adjust_quirks" => lines.push(format!(
                "0x11111111\t{}\t{}\t{}\t{}",
                f[1], f[2], f[3], f[4]
            )),
            "usb_stor_probe2" => {}
            "_printk" => lines.push(format!("{}\t{}\t{}\t{}\tPRINTK_NS", f[0], f[1], f[2], f[3])),
            _ => lines.push(l.to_string()),
        }
    }
    lines.push("0x22222222\tkmodpack_new_sym\tvmlinux\tEXPORT_SYMBOL\t".into());
    std::fs::write(&new, lines.join("\n") + "\n").unwrap();

    let (code, out, err) = run(kmodpack().args(["kabi", "diff"]).arg(&old).arg(&new));
    assert_eq!(code, 1, "{err}");
    assert_eq!(
        out,
        "~ _printk\tnamespace (none) -> PRINTK_NS\n\
         + kmodpack_new_sym\t0x22222222\tvmlinux\n\
         ~ usb_stor_adjust_quirks\tcrc 0xf4e9fa3d -> 0x11111111\n\
         - usb_stor_probe2\t0xa91fa68c\tdrivers/usb/storage/usb-storage\n"
    );
    // Restricted to what uas uses: the namespace change and the CRC change,
    // not the symbols uas does not import.
    let (code, out, _) = run(kmodpack()
        .args(["kabi", "diff"])
        .arg(&old)
        .arg(&new)
        .arg("--used-by")
        .arg(deb("uas.ko")));
    assert_eq!(code, 1);
    let m = kmodpack::module::read(&deb("uas.ko")).unwrap();
    let uses_probe2 = m.undefined.iter().any(|u| u.name == "usb_stor_probe2");
    assert!(
        out.contains("~ usb_stor_adjust_quirks\tcrc 0xf4e9fa3d -> 0x11111111\t(used by uas)\n"),
        "{out}"
    );
    assert_eq!(out.contains("usb_stor_probe2"), uses_probe2, "{out}");
    assert!(!out.contains("kmodpack_new_sym"));
    // Identical kernels: nothing, exit 0.
    let (code, out, _) = run(kmodpack()
        .args(["kabi", "diff"])
        .arg(&old)
        .arg(symvers_gz()));
    assert_eq!((code, out.as_str()), (0, ""));
    // Only additions: exit 0.
    let (code, out, _) = run(kmodpack()
        .args(["kabi", "diff", "--json"])
        .arg(&old)
        .arg(&new)
        .arg("--used-by")
        .arg(deb("libcrc32c.ko")));
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(doc["breaking"], code == 1);
}
