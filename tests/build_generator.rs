//! kmodpack's dependency generator always runs under `kmodpack build`, and a
//! generated spec refuses to build when it cannot (issue #19, findings 1
//! and 2). Real rpmbuild 4.18 against the installed Debian headers; oracles:
//! modpost's Module.symvers (shipped in the -devel package) and `rpm -qp`.

mod build_util;
mod common;

use std::process::Command;

use build_util::{build, kernel_arg, rpm_query, stage_spec};

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
    let (_root, modpost) = build_util::devel_symvers(&devel);
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

#[test]
fn an_rpm_without_the_generators_lines_is_refused_by_build_deps_check_and_dud() {
    // The invariant (issue #19): a kmod RPM whose generator ran but printed
    // nothing (here: a spec that points kmodpack's class at /bin/true)
    // must not pass as built, checked, or put on a driver disk.
    let text = std::fs::read_to_string(common::repo().join("tests/data/build/kpx-export.spec"))
        .unwrap()
        .replace(
            "%description\n",
            "Provides:       kernel-modules >= 5.14.0-503.11.1.el9_5.x86_64\n\
             # A broken generator: registered, runs, prints nothing.\n\
             %global __kmodpack_provides /bin/true\n\
             %global __kmodpack_requires /bin/true\n\n%description\n",
        );
    let (_d, spec) = build_util::stage_text("kpx-export.spec", &text, Some("kpx_export"));
    let (_t, run) = build(&[spec.to_str().unwrap(), &kernel_arg()], |_| {});
    assert_eq!(run.code, 1, "{}", run.explain());
    let cell = run.cell("kmod-kpx-export");
    assert_eq!(cell["status"], "failed", "{cell}");
    let reason = cell["reason"].as_str().unwrap_or_else(|| panic!("{cell}"));
    for want in [
        "/lib/modules/5.14.0-503.11.1.el9_5.x86_64/extra/kpx/kpx_export.ko: no Provides kmod(kpx_export.ko); \
         no ksym() Provides of kpx_add, kpx_default_ops, kpx_gpl_mul, kpx_ns_sub; \
         no kernel()/ksym() Requires of ",
        "built without kmodpack's generator — or with one that did not run",
    ] {
        assert!(reason.contains(want), "{want}: {reason}");
    }
    let rpm = walkdir::WalkDir::new(&run.resultdir)
        .into_iter()
        .flatten()
        .find(|e| {
            let n = e.file_name().to_string_lossy();
            n.starts_with("kmod-kpx-export-1.0") && n.ends_with(".x86_64.rpm")
        })
        .expect("the broken RPM is kept in the result directory for inspection")
        .into_path();
    assert!(
        !rpm_query("--provides", &rpm)
            .iter()
            .any(|p| p.starts_with("ksym(")),
        "the generator really was broken"
    );

    let (code, out, err) = common::run(common::kmodpack().args(["deps", "check"]).arg(&rpm));
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        out.contains("kmod-kpx-export-1.0-1.x86_64: /lib/modules/5.14.0-503.11.1.el9_5.x86_64/extra/kpx/kpx_export.ko: no Provides kmod(kpx_export.ko); no ksym() Provides of kpx_add,"),
        "{out}"
    );
    assert!(
        out.contains("(built without kmodpack's generator — or with one that did not run)"),
        "{out}"
    );

    let disk = tempfile::tempdir().unwrap();
    let iso = disk.path().join("dd.iso");
    let (code, out, err) = common::run(
        common::kmodpack()
            .args(["dud", "build", "-o"])
            .arg(&iso)
            .args(["--installer-kernel", "5.14.0-503.11.1.el9_5.x86_64"])
            .arg(&rpm),
    );
    assert_ne!(code, 0, "{out}{err}");
    let all = format!("{out}{err}");
    assert!(all.contains("C7"), "{all}");
    assert!(
        all.contains("built without kmodpack's generator — or with one that did not run"),
        "{all}"
    );
    assert!(!iso.exists(), "no disk is written");
}

#[test]
fn make_install_tells_generated_specs_where_the_generator_is() {
    // Finding 2's other half: `make install` defaults to PREFIX=/usr/local
    // while generated specs default to %{_bindir}/kmodpack. The installed
    // macros.kmodpack sets %_kmodpack_bin (the one name, also in
    // kmodpack.attr) to the installed binary, and the spec takes it.
    let dest = tempfile::tempdir().unwrap();
    let (code, out, err) = common::run(
        Command::new("make")
            .arg("-s")
            .arg("-C")
            .arg(common::repo())
            .arg("install-rpm-integration")
            .arg(format!("DESTDIR={}", dest.path().display()))
            .arg("PREFIX=/opt/kmodpack-test")
            .arg("RPMFILEATTRSDIR=/rpm/fileattrs")
            .arg("RPMMACROSDIR=/rpm/macros.d"),
    );
    assert_eq!(code, 0, "{out}{err}");
    let macros = dest.path().join("rpm/macros.d/macros.kmodpack");
    let attr = dest.path().join("rpm/fileattrs/kmodpack.attr");
    let attr_text = std::fs::read_to_string(&attr).unwrap();
    assert!(
        attr_text.contains(
            "%{?_kmodpack_bin}%{!?_kmodpack_bin:/opt/kmodpack-test/bin/kmodpack} deps provides"
        ),
        "{attr_text}"
    );
    let (code, spec, err) = common::run(
        common::kmodpack()
            .arg("spec")
            .arg(common::repo().join("specs/kpx-zfs/kpx-zfs.yaml")),
    );
    assert_eq!(code, 0, "{err}");
    let spec_path = dest.path().join("kpx-zfs.spec");
    std::fs::write(&spec_path, spec).unwrap();
    let parsed = |macro_files: &str| {
        let (code, out, err) = common::run(
            Command::new("rpmspec")
                .arg("--macros")
                .arg(macro_files)
                .arg("-P")
                .arg(&spec_path),
        );
        assert_eq!(code, 0, "{err}");
        out
    };
    let installed = parsed(&format!(
        "/usr/lib/rpm/macros:{}:{}",
        macros.display(),
        attr.display()
    ));
    assert!(
        installed.contains("if ! '/opt/kmodpack-test/bin/kmodpack' --version"),
        "{installed}"
    );
    // Without the installed macros, the spec's own default.
    let bare = parsed("/usr/lib/rpm/macros");
    assert!(
        bare.contains("if ! '/usr/bin/kmodpack' --version"),
        "{bare}"
    );
}
