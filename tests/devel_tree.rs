//! A real -devel package (issue 13): `devel_files` (headers and generated
//! config headers of the built tree) installed under
//! `/usr/src/<name>-<version>/` with the per-kernel Module.symvers in
//! `<kver>/` (OpenZFS's layout), and an importer built by `kmodpack build`
//! alone against that tree: the matrix unpacks the exporter's -devel RPM into
//! the importer cell's private work directory and hands it over as
//! `KMODPACK_DEVEL_<NAME>`. Real rpmbuild, rpmspec, rpm and kbuild against
//! the installed Debian headers.

mod build_util;
mod common;

use std::path::Path;
use std::process::Command;

use build_util::{copy_module, kernel_arg, TARGET};

const EXPORTER: &str = "\
name: kpx-devel-exp
version: 1.0
summary: exporter with a -devel tree
license: GPL-2.0-only
source:
  dir: exp
build:
  commands:
    # A generated configuration header, as OpenZFS's configure writes zfs_config.h.
    - printf '#define KPX_CONFIG_MAGIC 42\\n' > kpx_config.h
    - make -C \"$KMODPACK_KERNEL_BUILD_DIR\" M=\"$PWD\" -j\"$KMODPACK_JOBS\" modules
modules:
  - name: kpx_export
kernels:
  - release: 5.14.0-503.11.1.el9_5
    arches: [x86_64]
devel: true
devel_files:
  - kpx_config.h
  - include/
kabi:
  greylist: false
";

const IMPORTER: &str = "\
name: kpx-devel-user
version: 1.0
summary: importer built against the exporter's -devel tree
license: GPL-2.0-only
source:
  dir: imp
modules:
  - name: kpx_devel_user
kernels:
  - release: 5.14.0-503.11.1.el9_5
    arches: [x86_64]
depends:
  - name: kpx-devel-exp
    version: '1.0'
kabi:
  greylist: false
";

/// The exporter's tree: tests/modules/kpx_export plus an installed header.
fn stage(dir: &Path) -> (String, String) {
    copy_module("kpx_export", &dir.join("exp"));
    std::fs::create_dir_all(dir.join("exp/include/kpx")).unwrap();
    std::fs::write(
        dir.join("exp/include/kpx/kpx_export.h"),
        "/* kpx_export's API */\nint kpx_add(int a, int b);\n",
    )
    .unwrap();
    copy_module("kpx_devel_user", &dir.join("imp"));
    let (e, i) = (dir.join("exp.yaml"), dir.join("imp.yaml"));
    std::fs::write(&e, EXPORTER).unwrap();
    std::fs::write(&i, IMPORTER).unwrap();
    (e.display().to_string(), i.display().to_string())
}

#[test]
fn importer_builds_against_the_exporters_devel_tree() {
    let dir = tempfile::tempdir().unwrap();
    let (exp, imp) = stage(dir.path());
    // Importer first: the order comes from `depends`.
    let (_t, run) = build_util::build(&[&imp, &exp, &kernel_arg()], |_| {});
    assert_eq!(run.code, 0, "{}\n{}", run.stderr, run.report);
    let devel = &run.rpm("kpx-devel-exp", "kmod-kpx-devel-exp-devel");
    let files = common::rpm_qp(devel, &["-l"]);
    for f in [
        "/usr/src/kpx-devel-exp-1.0/kpx_config.h".to_string(),
        "/usr/src/kpx-devel-exp-1.0/include/kpx/kpx_export.h".to_string(),
        format!("/usr/src/kpx-devel-exp-1.0/{TARGET}/Module.symvers"),
        format!("/usr/src/kmodpack/kpx-devel-exp/{TARGET}/Module.symvers"),
    ] {
        assert!(files.contains(&f), "{f} not in {files:#?}");
    }
    // The per-kernel Module.symvers of the OpenZFS layout is modpost's, with kpx_add.
    let root = tempfile::tempdir().unwrap();
    common::rpm_unpack(devel, root.path());
    let symvers = std::fs::read_to_string(
        root.path()
            .join(format!("usr/src/kpx-devel-exp-1.0/{TARGET}/Module.symvers")),
    )
    .unwrap();
    let add = symvers
        .lines()
        .find(|l| l.split('\t').nth(1) == Some("kpx_add"))
        .unwrap_or_else(|| panic!("no kpx_add in {symvers}"));
    let crc = add.split('\t').next().unwrap();
    // The importer compiled (its source has an #error without the exporter's
    // generated header) and requires the export with modpost's CRC.
    let user = &run.rpm("kpx-devel-user", "kmod-kpx-devel-user");
    let requires = common::rpm_qp(user, &["--requires"]);
    let want = format!(
        "ksym(kpx_add) = 0x{:08x}",
        u32::from_str_radix(crc.trim_start_matches("0x"), 16).unwrap()
    );
    assert!(requires.contains(&want), "{want} not in {requires:#?}");
    // The importer's SRPM build-requires the exporter's -devel package.
    let srpm = run.cell("kpx-devel-user")["srpm"]["file"]
        .as_str()
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| panic!("no srpm in {}", run.report));
    let breq = common::rpm_qp(&srpm, &["--requires"]);
    assert!(
        breq.contains(&"kmod-kpx-devel-exp-devel >= 1.0".to_string()),
        "{breq:#?}"
    );
}

/// Rendered with `rpmspec -P`: the importer's spec finds the -devel tree
/// where the -devel package installs it, and `{kver}` in a dependency's
/// symvers path (description or --dependency-symvers) is the target
/// kernel's uname -r.
#[test]
fn devel_tree_and_kver_expansion_in_the_rendered_spec() {
    let dir = tempfile::tempdir().unwrap();
    let (_, imp) = stage(dir.path());
    let text = std::fs::read_to_string(&imp).unwrap().replace(
        "    version: '1.0'\n",
        "    version: '1.0'\n    symvers: /usr/src/kpx-devel-exp-1.0/{kver}/Module.symvers\n",
    );
    std::fs::write(&imp, text).unwrap();
    let spec = dir.path().join("imp.spec");
    let render = |extra: &[&str]| {
        let (code, _, err) = common::run(
            common::kmodpack()
                .arg("spec")
                .arg(&imp)
                .args(extra)
                .arg("-o")
                .arg(&spec)
                .arg("--force"),
        );
        assert_eq!(code, 0, "{err}");
        let (code, out, err) = common::run(
            Command::new("rpmspec")
                .args(["-P", "--target", "x86_64"])
                .arg(&spec),
        );
        assert_eq!(code, 0, "{err}");
        out
    };
    let parsed = render(&[]);
    assert!(
        parsed.contains(&format!(
            "KBUILD_EXTRA_SYMBOLS='/usr/src/kpx-devel-exp-1.0/{TARGET}/Module.symvers'"
        )),
        "{parsed}"
    );
    // Nothing installed here: the variable is empty and the build says why.
    assert!(
        parsed.contains("KMODPACK_DEVEL_KPX_DEVEL_EXP=''"),
        "{parsed}"
    );
    assert!(
        parsed.contains("install kmod-kpx-devel-exp-devel or define kmodpack_devel_kpx_devel_exp"),
        "{parsed}"
    );
    let parsed = render(&[
        "--dependency-symvers",
        "kpx-devel-exp=/srv/exp/{kver}/Module.symvers",
    ]);
    assert!(
        parsed.contains(&format!(
            "KBUILD_EXTRA_SYMBOLS='/srv/exp/{TARGET}/Module.symvers'"
        )),
        "{parsed}"
    );
    // per-kernel: the same, with the kernel of each package.
    let parsed = render(&["--style", "per-kernel"]);
    assert!(
        parsed.contains(&format!(
            "KBUILD_EXTRA_SYMBOLS='/usr/src/kpx-devel-exp-1.0/{TARGET}/Module.symvers' KMODPACK_DEVEL_KPX_DEVEL_EXP='' KMODPACK_DEVEL_KPX_DEVEL_EXP_KERNEL='/{TARGET}' modules"
        )),
        "{parsed}"
    );
    // A -devel tree defined at rpmbuild time reaches make.
    let (code, out, err) = common::run(
        Command::new("rpmspec")
            .args(["-P", "--target", "x86_64", "--define"])
            .arg("kmodpack_devel_kpx_devel_exp /opt/exp-devel")
            .arg(&spec),
    );
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("KMODPACK_DEVEL_KPX_DEVEL_EXP='/opt/exp-devel'"),
        "{out}"
    );
}

/// A per-kernel exporter's -devel packages carry the OpenZFS layout too,
/// one `<uname -r>/Module.symvers` each.
#[test]
fn per_kernel_devel_packages_use_the_openzfs_layout() {
    let dir = tempfile::tempdir().unwrap();
    let (exp, _) = stage(dir.path());
    let text = EXPORTER
        .replace("devel_files:\n  - kpx_config.h\n  - include/\n", "")
        .replace("kabi:\n  greylist: false\n", "style: per-kernel\n");
    std::fs::write(&exp, text).unwrap();
    let (code, spec, err) = common::run(common::kmodpack().arg("spec").arg(&exp).args(["-o", "-"]));
    assert_eq!(code, 0, "{err}");
    let file = format!("/usr/src/kpx-devel-exp-1.0/{TARGET}/");
    assert!(
        spec.lines().any(|l| l == file),
        "{file} not in the -devel %files:\n{spec}"
    );
    assert!(
        spec.contains(&format!("'%{{buildroot}}{file}Module.symvers'")),
        "{spec}"
    );
}

/// per-kernel with `devel_files`: each kernel's -devel package carries that
/// kernel's generated headers beside its Module.symvers
/// (`/usr/src/<name>-<version>/<uname -r>/`, OpenZFS's per-kernel layout,
/// so two kernels' packages never share a file), and a per-kernel importer
/// built in the same `kmodpack build` finds them as
/// `KMODPACK_DEVEL_<NAME>_KERNEL`.
#[test]
fn per_kernel_devel_files_are_per_kernel_and_reach_a_per_kernel_importer() {
    let dir = tempfile::tempdir().unwrap();
    let (exp, imp) = stage(dir.path());
    std::fs::write(
        &exp,
        EXPORTER.replace("kabi:\n  greylist: false\n", "style: per-kernel\n"),
    )
    .unwrap();
    std::fs::write(
        &imp,
        IMPORTER.replace("kabi:\n  greylist: false\n", "style: per-kernel\n"),
    )
    .unwrap();
    // The importer reads the kernel's part of the tree.
    std::fs::write(
        dir.path().join("imp/Kbuild"),
        "obj-m := kpx_devel_user.o\n\
         ccflags-y += -include $(KMODPACK_DEVEL_KPX_DEVEL_EXP_KERNEL)/kpx_config.h\n\
         ccflags-y += -I$(KMODPACK_DEVEL_KPX_DEVEL_EXP_KERNEL)/include\n",
    )
    .unwrap();
    let (_t, run) = build_util::build(&[&imp, &exp, &kernel_arg()], |_| {});
    assert_eq!(run.code, 0, "{}\n{}", run.stderr, run.report);
    let devel = &run.rpm(
        "kpx-devel-exp",
        &format!("kmod-kpx-devel-exp-devel-{TARGET}"),
    );
    let files = common::rpm_qp(devel, &["-l"]);
    for f in [
        format!("/usr/src/kpx-devel-exp-1.0/{TARGET}/kpx_config.h"),
        format!("/usr/src/kpx-devel-exp-1.0/{TARGET}/include/kpx/kpx_export.h"),
        format!("/usr/src/kpx-devel-exp-1.0/{TARGET}/Module.symvers"),
    ] {
        assert!(files.contains(&f), "{f} not in {files:#?}");
    }
    assert!(
        !files
            .iter()
            .any(|f| f == "/usr/src/kpx-devel-exp-1.0/kpx_config.h"),
        "nothing kernel-specific at the top: {files:#?}"
    );
    let root = tempfile::tempdir().unwrap();
    common::rpm_unpack(devel, root.path());
    assert_eq!(
        std::fs::read_to_string(
            root.path()
                .join(format!("usr/src/kpx-devel-exp-1.0/{TARGET}/kpx_config.h"))
        )
        .unwrap(),
        "#define KPX_CONFIG_MAGIC 42\n"
    );
    // The importer compiled (an #error without the generated header) and
    // requires the exporter's symbol.
    let user = &run.rpm("kpx-devel-user", &format!("kmod-kpx-devel-user-{TARGET}"));
    let requires = common::rpm_qp(user, &["--requires"]);
    assert!(
        requires.iter().any(|r| r.starts_with("ksym(kpx_add) = 0x")),
        "{requires:#?}"
    );
}

#[test]
fn devel_files_need_devel_and_stay_in_the_tree() {
    let dir = tempfile::tempdir().unwrap();
    let (exp, _) = stage(dir.path());
    for (from, to, want) in [
        (
            "devel: true\n",
            "devel: false\n",
            "`devel_files`: the files go into the -devel package: set `devel: true` too",
        ),
        (
            "  - include/\n",
            "  - ../include\n",
            "`devel_files[1]`: `../include` must not leave its directory with `..`",
        ),
        (
            "  - include/\n",
            "  - /usr/include\n",
            "`devel_files[1]`: `/usr/include` must be relative",
        ),
    ] {
        let text = EXPORTER.replace(from, to);
        std::fs::write(&exp, &text).unwrap();
        let out = dir.path().join("out.spec");
        let (code, _, err) =
            common::run(common::kmodpack().arg("spec").arg(&exp).arg("-o").arg(&out));
        assert_ne!(code, 0, "{text}");
        assert!(err.contains(want), "{err}");
        assert_eq!(err.trim().lines().count(), 1, "{err}");
        assert!(!out.exists());
    }
}
