//! kmodpack's dependency generator always runs under `kmodpack build`, and a
//! generated spec refuses to build when it cannot (issue #19, findings 1
//! and 2). Real rpmbuild 4.18 against the installed Debian headers; oracles:
//! modpost's Module.symvers (shipped in the -devel package) and `rpm -qp`.

mod build_util;
mod common;

use std::process::Command;

use build_util::{build, kernel_arg, rpm_query, stage_spec, unpack};

/// `(symbol, crc)` of a Module.symvers, as `ksym(symbol) = 0x%08x`.
fn ksym_lines(symvers: &std::path::Path) -> Vec<String> {
    std::fs::read_to_string(symvers)
        .unwrap()
        .lines()
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            let crc = u32::from_str_radix(f[0].trim_start_matches("0x"), 16).unwrap();
            format!("ksym({}) = 0x{crc:08x}", f[1])
        })
        .collect()
}

#[test]
fn spec_input_rpms_carry_kmod_ksym_and_kernel_dependencies() {
    // Finding 1: `rpmbuild --rebuild --target` drops macro files given with
    // --load, so a hand-written spec used to come out without any of them.
    let (_d, spec) = stage_spec("kpx-export.spec", "kpx_export");
    let (_t, run) = build(&[spec.to_str().unwrap(), &kernel_arg()], |_| {});
    assert_eq!(run.code, 0, "{}", run.explain());
    let rpm = run.rpm("kmod-kpx-export", "kmod-kpx-export");
    let devel = run.rpm("kmod-kpx-export", "kmod-kpx-export-devel");
    let root = tempfile::tempdir().unwrap();
    unpack(&devel, root.path());
    let modpost = walkdir::WalkDir::new(root.path())
        .into_iter()
        .flatten()
        .find(|e| e.file_name() == "Module.symvers")
        .expect("Module.symvers in the -devel package")
        .into_path();
    let want = ksym_lines(&modpost);
    assert_eq!(want.len(), 4, "{want:?}");

    let provides = rpm_query("--provides", &rpm);
    assert!(
        provides.contains(&"kmod(kpx_export.ko)".to_string()),
        "{provides:?}"
    );
    for w in &want {
        assert!(provides.contains(w), "{w} missing: {provides:?}");
    }
    let requires = rpm_query("--requires", &rpm);
    assert!(
        requires
            .iter()
            .any(|r| r.starts_with("kernel(module_layout) = 0x")),
        "{requires:?}"
    );
    let report = &run.cell("kmod-kpx-export")["rpms"].as_array().unwrap()[0];
    assert_eq!(report["provides_kmod"], 1, "{report}");
    assert_eq!(report["provides_ksym"], 4, "{report}");
}

#[test]
fn generated_spec_stops_when_the_generator_cannot_run() {
    // Finding 2: the README's `kmodpack spec` + rpmbuild with kmodpack not
    // at %{_bindir}/kmodpack. rpm ignores a generator that cannot be
    // executed; the spec itself must refuse, naming the macro to set.
    let top = tempfile::tempdir().unwrap();
    let yaml = common::repo().join("specs/kpx-zfs/kpx-zfs.yaml");
    let sources = top.path().join("SOURCES");
    std::fs::create_dir_all(&sources).unwrap();
    let (code, spec, err) = common::run(
        common::kmodpack()
            .arg("spec")
            .arg(&yaml)
            .arg("--sources")
            .arg(&sources),
    );
    assert_eq!(code, 0, "{err}");
    let spec_path = top.path().join("kpx-zfs.spec");
    std::fs::write(&spec_path, spec).unwrap();
    let not_exec = top.path().join("kmodpack-not-executable");
    std::fs::write(&not_exec, "#!/bin/sh\n").unwrap();
    for bin in [
        "/nonexistent/bin/kmodpack".to_string(),
        not_exec.display().to_string(),
    ] {
        let (code, out, err) = common::run(
            Command::new("rpmbuild")
                .arg("-bb")
                .arg("--nodeps")
                .arg("--define")
                .arg(format!("_topdir {}", top.path().display()))
                .arg("--define")
                .arg(format!("_kmodpack_bin {bin}"))
                .arg("--define")
                .arg(format!(
                    "kmodpack_kernel_build_dir {}",
                    common::headers_dir().display()
                ))
                .arg(&spec_path),
        );
        assert_ne!(code, 0, "rpmbuild must fail with {bin}:\n{out}{err}");
        assert!(
            err.contains(&format!(
                "kmodpack: the dependency generator '{bin}' is missing or cannot run"
            )),
            "{err}"
        );
        assert!(
            !err.contains("make -C"),
            "the check comes before compiling: {err}"
        );
    }
}
