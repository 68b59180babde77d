//! `build.commands` (ordered shell steps instead of kbuild's `make M=`) and
//! the DKMS recipe's BUILD_EXCLUSIVE skip, built with the real rpmbuild
//! against the installed Debian headers (tests/data/dkms/kpx-legacy's
//! sources: they only compile when the patch was applied and
//! KPX_LEGACY_QUIRKS is set, so the steps demonstrably ran, in order).

mod build_util;
mod common;
mod spec_support;

use std::path::{Path, PathBuf};

use build_util::build;
use spec_support::{rpmq, Topdir};

fn legacy() -> PathBuf {
    common::repo().join("tests/data/dkms/kpx-legacy")
}

fn write_desc(dir: &Path, name: &str, build: &str, modules: &str) -> PathBuf {
    let p = dir.join(format!("{name}.yaml"));
    std::fs::write(
        &p,
        format!(
            "name: {name}\nversion: '1.0'\nsummary: build steps test\nlicense: GPL-2.0-only\n\
             source:\n  dir: {}\nbuild:\n{build}modules:\n{modules}kernels:\n- release: 5.14.0-503.11.1.el9_5\n  build_dir: {}\ndevel: true\n",
            legacy().display(),
            common::headers_dir().display()
        ),
    )
    .unwrap();
    p
}

const STEPS: &str = r#"  commands:
  - patch -p1 < patches/0001-kpx_legacy-define-the-fixed-flag.patch
  - printf '%s %s %s\n' "$KMODPACK_KERNEL_RELEASE" "$KMODPACK_ARCH" "$(basename "$KMODPACK_SOURCE_DIR")" > built-for.txt
  - make -C "$KMODPACK_KERNEL_BUILD_DIR" M="$PWD/src" -j"$KMODPACK_JOBS" KPX_LEGACY_QUIRKS=1 modules
  - cat built-for.txt
"#;

#[test]
fn build_commands_run_in_order_and_modules_come_from_their_paths() {
    let top = Topdir::new();
    let desc = write_desc(
        top.path(),
        "kpx-steps",
        STEPS,
        "- name: kpx_legacy\n  path: src\n- name: kpx_legacy_aux\n  path: src\n",
    );
    let spec = top.render(&desc, &[]);
    let text = std::fs::read_to_string(&spec).unwrap();
    assert!(text.contains("Source1:        kmodpack-build.sh"), "{text}");
    let (code, log) = top.rpmbuild(&spec, &[]);
    assert_eq!(code, 0, "{log}");
    // `%s` reached the shell verbatim; the variables name the compiled tree.
    let kver = common::kernel_release();
    assert!(
        log.lines()
            .any(|l| l == format!("{kver} x86_64 kpx-steps-1.0")),
        "{log}"
    );
    let rpm = top.rpm("kmod-kpx-steps-1.0");
    let files = rpmq(&rpm, &["-l"]);
    for m in ["kpx_legacy", "kpx_legacy_aux"] {
        let f = format!("/lib/modules/5.14.0-503.11.1.el9_5.x86_64/extra/kpx-steps/{m}.ko");
        assert!(files.contains(&f), "{f} not in {files:?}");
    }
    assert!(rpmq(&rpm, &["--provides"])
        .iter()
        .any(|p| p.starts_with("ksym(kpx_legacy_quirks) = 0x")));
    // The -devel package has the build's Module.symvers.
    let devel = top.rpm("kmod-kpx-steps-devel");
    let dir = tempfile::tempdir().unwrap();
    common::rpm_unpack(&devel, dir.path());
    let symvers = walkdir::WalkDir::new(dir.path())
        .into_iter()
        .flatten()
        .find(|e| e.file_name() == "Module.symvers")
        .expect("Module.symvers in -devel");
    let text = std::fs::read_to_string(symvers.path()).unwrap();
    assert!(text.contains("\tkpx_legacy_quirks\t"), "{text}");
}

#[test]
fn a_failing_step_or_a_missing_module_fails_naming_it() {
    let top = Topdir::new();
    let desc = write_desc(
        top.path(),
        "kpx-ghost",
        STEPS,
        "- name: kpx_legacy\n  path: src\n- name: kpx_ghost\n  path: src\n",
    );
    let (code, log) = top.rpmbuild(&top.render(&desc, &[]), &[]);
    assert_ne!(code, 0);
    assert!(
        log.contains(
            "kmodpack: module kpx_ghost (modules[1]) was not built: src/kpx_ghost.ko is missing"
        ),
        "{log}"
    );
    // Without the patch step the compile step fails, and is named.
    let steps = STEPS.replace(
        "  - patch -p1 < patches/0001-kpx_legacy-define-the-fixed-flag.patch\n",
        "",
    );
    let desc = write_desc(
        top.path(),
        "kpx-unpatched",
        &steps,
        "- name: kpx_legacy\n  path: src\n",
    );
    let (code, log) = top.rpmbuild(&top.render(&desc, &[]), &[]);
    assert_ne!(code, 0);
    assert!(
        log.contains("kmodpack: build.commands[1] failed (exit status 2)"),
        "{log}"
    );
}

#[test]
fn a_kernel_the_dkms_conf_excludes_is_a_skipped_cell_with_dkms_reason() {
    let dir = tempfile::tempdir().unwrap();
    let tree = dir.path().join("tree");
    std::fs::create_dir_all(&tree).unwrap();
    std::fs::write(
        tree.join("dkms.conf"),
        "PACKAGE_NAME=kpx-old\nPACKAGE_VERSION=1.0\nBUILT_MODULE_NAME[0]=kpx_old\n\
         DEST_MODULE_LOCATION[0]=/extra\nBUILD_EXCLUSIVE_KERNEL=\"^2\\.6\\.\"\n",
    )
    .unwrap();
    std::fs::write(tree.join("Kbuild"), "obj-m := kpx_old.o\n").unwrap();
    std::fs::write(tree.join("kpx_old.c"), "#error never compiled\n").unwrap();
    let desc = dir.path().join("kpx-old.yaml");
    std::fs::write(
        &desc,
        format!(
            "name: kpx-old\nversion: '1.0'\nsummary: excluded\nlicense: GPL-2.0-only\n\
             source:\n  dir: {}\nbuild:\n  dkms:\n    module: kpx-old\n    version: '1.0'\n\
             modules:\n- name: kpx_old\nkernels:\n- release: 5.14.0-503.11.1.el9_5\n",
            tree.display()
        ),
    )
    .unwrap();
    let (_t, run) = build(&[desc.to_str().unwrap(), &build_util::kernel_arg()], |_| {});
    let cell = run.cell("kpx-old");
    assert_eq!(cell["status"], "skipped", "{}", run.explain());
    let kver = common::kernel_release();
    assert_eq!(
        cell["reason"],
        format!("BUILD_EXCLUSIVE_KERNEL=\"^2\\.6\\.\" does not match kernel {kver} (DKMS does not build this module for this kernel)"),
        "{}",
        run.explain()
    );
    assert_eq!(run.report["summary"]["skipped"], 1);
}
