//! The Lustre-on-ZFS story on real ZFS (issues 12 and 13), in one test that
//! builds OpenZFS once (163 s on 2 idle cores, 16-25 min under load) and checks everything on it:
//!
//! - `kmod-zfs` + `kmod-zfs-devel` built by `kmodpack build` from the real
//!   OpenZFS tree of Debian's zfs-dkms (contrib; fetched by
//!   tests/support/dkms-corpus.sh, never vendored; its version is read from
//!   the tree's dkms.conf, never hard-coded), imported with
//!   `kmodpack spec --from-dkms` and given a -devel tree in OpenZFS's layout
//!   (`/usr/src/zfs-<version>/` with zfs_config.h and include/, and
//!   `<kver>/Module.symvers`);
//! - kmod-zfs provides ksym() for the nine exports Lustre's osd-zfs is known
//!   to import;
//! - a Lustre-like importer (tests/modules/kpx_osd_zfs, calling those nine),
//!   described with `depends: [zfs]`, built in the same `kmodpack build`
//!   against kmod-zfs-devel alone: the matrix unpacks the -devel RPM into the
//!   importer cell's private work directory and hands the tree over as
//!   `KMODPACK_DEVEL_ZFS` (no host path given by hand);
//! - in a private rpm root (`rpm --root --force-debian`), a kernel package
//!   double, kmod-zfs and the importer install; without kmod-zfs rpm names
//!   the missing `ksym(dmu_tx_commit) = 0x...`; `kmodpack deps check`
//!   explains both situations.
//!
//! The kernel package is a test double (there is no RHEL kernel here): a
//! noarch package named `kernel` providing `kernel(sym) = crc` for every line
//! of the installed Debian headers' Module.symvers (what a RHEL kernel
//! provides), plus the names a Red Hat kmod requires of its kernel and base
//! system (`kernel-core-uname-r`, `/usr/sbin/depmod`, `/usr/sbin/weak-modules`,
//! `/bin/sh`). The packages are installed with `--noscripts` (the root has
//! no shell or depmod to run them).

mod build_util;
mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use build_util::TARGET;

/// The exports of OpenZFS that Lustre's osd-zfs imports (the list).
const NINE: [&str; 9] = [
    "dmu_tx_commit",
    "dmu_request_arcbuf",
    "dmu_objset_space",
    "dmu_object_set_blocksize",
    "sa_handle_get_from_db",
    "txg_wait_synced",
    "dmu_tx_hold_zap_by_dnode",
    "dmu_tx_hold_zap",
    "sa_replace_all_by_template",
];

/// OpenZFS's dkms.conf in the DKMS corpus cache and its PACKAGE_VERSION.
///
/// The tree is the one dkms-corpus.sh unpacked (`/usr/src/zfs-<version>/`),
/// so whichever zfs-dkms the archive serves is the one tested.
fn zfs_dkms_conf() -> (PathBuf, String) {
    let cache = std::env::var_os("KMODPACK_DKMS_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/var/cache/kmodpack-tests/dkms-corpus"));
    let list = cache.join("corpus.tsv");
    let text = std::fs::read_to_string(&list).unwrap_or_else(|e| {
        panic!(
            "{}: {e}: run `bash tests/support/dkms-corpus.sh` (make test does) to fetch zfs-dkms",
            list.display()
        )
    });
    let tree = text
        .lines()
        .map(|l| l.split('\t').collect::<Vec<_>>())
        .find(|f| f[0] == "zfs-dkms")
        .map(|f| PathBuf::from(f[3]))
        .unwrap_or_else(|| panic!("zfs-dkms is not in {}", list.display()));
    let src = tree.join("usr/src");
    let mut confs: Vec<PathBuf> = std::fs::read_dir(&src)
        .unwrap_or_else(|e| panic!("{}: {e}", src.display()))
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("zfs-"))
        .map(|e| e.path().join("dkms.conf"))
        .filter(|c| c.is_file())
        .collect();
    assert_eq!(
        confs.len(),
        1,
        "one zfs-<version>/dkms.conf in {}: {confs:?}",
        src.display()
    );
    let conf = confs.pop().unwrap();
    let text = std::fs::read_to_string(&conf).unwrap();
    // DKMS's own first line: PACKAGE_VERSION="<version>" (quoted or not).
    let version = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("PACKAGE_VERSION="))
        .map(|v| v.trim().trim_matches(|c| c == '"' || c == '\'').to_string())
        .unwrap_or_else(|| panic!("{}: no PACKAGE_VERSION", conf.display()));
    let dir = conf
        .parent()
        .unwrap()
        .file_name()
        .unwrap()
        .to_string_lossy();
    assert_eq!(dir, format!("zfs-{version}"), "{}", conf.display());
    (conf, version)
}

/// `kmodpack spec --from-dkms` of OpenZFS, with the -devel tree declared:
/// the generated zfs_config.h and zfs.release, and include/ (where
/// zfs_gitrev.h is generated), as OpenZFS's own zfs-kmod-devel ships them.
fn zfs_description(dir: &Path, conf: &Path) -> PathBuf {
    let yaml = dir.join("zfs.yaml");
    let (code, _, err) = common::run(
        common::kmodpack()
            .arg("spec")
            .arg("--from-dkms")
            .arg(conf)
            .args([
                "--kernel",
                TARGET.trim_end_matches(".x86_64"),
                "--license",
                "CDDL-1.0",
                "-o",
            ])
            .arg(&yaml),
    );
    assert_eq!(code, 0, "{err}");
    let text = std::fs::read_to_string(&yaml).unwrap();
    assert!(text.contains("\ndevel: false\n"), "{text}");
    let text = text.replace(
        "\ndevel: false\n",
        "\ndevel: true\ndevel_files:\n- zfs_config.h\n- zfs.release\n- include\n",
    );
    std::fs::write(&yaml, text).unwrap();
    yaml
}

/// The Lustre-like importer: `depends: [zfs]`, plain kbuild, its Kbuild
/// reading the headers from `$(KMODPACK_DEVEL_ZFS)`.
fn importer_description(dir: &Path, zfs_version: &str) -> PathBuf {
    build_util::copy_module("kpx_osd_zfs", &dir.join("osd"));
    let yaml = dir.join("kpx-osd-zfs.yaml");
    std::fs::write(
        &yaml,
        format!(
            "name: kpx-osd-zfs\nversion: 2.15.5\nsummary: Lustre osd-zfs-like object storage on OpenZFS (test importer)\n\
             license: GPL-2.0-only\nsource:\n  dir: osd\nmodules:\n  - name: kpx_osd_zfs\n\
             kernels:\n  - release: {}\n    arches: [x86_64]\n\
             depends:\n  - name: zfs\n    version: {zfs_version}\nkabi:\n  greylist: false\n",
            TARGET.trim_end_matches(".x86_64")
        ),
    )
    .unwrap();
    yaml
}

/// `sym -> crc` of `ksym(sym) = crc` lines.
fn ksyms(lines: &[String]) -> BTreeMap<String, String> {
    lines
        .iter()
        .filter_map(|l| l.strip_prefix("ksym("))
        .filter_map(|l| l.split_once(") = "))
        .map(|(s, c)| (s.to_string(), c.to_string()))
        .collect()
}

/// The kernel package double (see the module comment), built with rpmbuild.
fn kernel_double(dir: &Path) -> PathBuf {
    let top = dir.join("kernel-double");
    let spec = top.join("kernel.spec");
    std::fs::create_dir_all(&top).unwrap();
    let (ver, rel) = TARGET.trim_end_matches(".x86_64").split_once('-').unwrap();
    let uname = format!("kernel-core-uname-r = {TARGET}");
    std::fs::write(
        &spec,
        common::kernel_double_spec(
            "kernel",
            ver,
            rel,
            &[
                &uname,
                "/usr/sbin/depmod",
                "/usr/sbin/weak-modules",
                "/bin/sh",
            ],
        ),
    )
    .unwrap();
    let (code, _, err) = common::run(
        Command::new("rpmbuild")
            .arg("-bb")
            .arg("--define")
            .arg(format!("_topdir {}", top.display()))
            .arg(&spec),
    );
    assert_eq!(code, 0, "rpmbuild of the kernel double: {err}");
    walkdir::WalkDir::new(top.join("RPMS"))
        .into_iter()
        .flatten()
        .map(|e| e.into_path())
        .find(|p| p.extension().is_some_and(|e| e == "rpm"))
        .expect("the kernel double RPM")
}

/// `rpm --root <fresh> -i [--test] ...`: (status, output).
fn rpm_install(rpms: &[&Path], test: bool) -> (i32, String, common::RpmRoot) {
    let root = common::RpmRoot::new();
    let mut flags = vec!["--nodigest", "--nosignature", "--noscripts"];
    if test {
        flags.push("--test");
    }
    let (code, out, err) = root.install(&flags, rpms);
    (code, format!("{out}{err}"), root)
}

#[test]
fn openzfs_and_a_lustre_like_importer_built_packaged_and_installed() {
    let dir = tempfile::tempdir().unwrap();
    let (conf, zver) = zfs_dkms_conf();
    let zfs = zfs_description(dir.path(), &conf);
    let osd = importer_description(dir.path(), &zver);

    // One `kmodpack build` of both; the importer's order comes from `depends`.
    let (_t, run) = build_util::build(
        &[
            osd.to_str().unwrap(),
            zfs.to_str().unwrap(),
            &build_util::kernel_arg(),
        ],
        |_| {},
    );
    assert_eq!(run.code, 0, "{}\n{}", run.stderr, run.report);
    let kmod_zfs = run.rpm("zfs", "kmod-zfs");
    let zfs_devel = run.rpm("zfs", "kmod-zfs-devel");
    let osd_rpm = run.rpm("kpx-osd-zfs", "kmod-kpx-osd-zfs");

    // kmod-zfs provides ksym() for the nine exports.
    let provided = ksyms(&common::rpm_qp(&kmod_zfs, &["--provides"]));
    for s in NINE {
        assert!(provided.contains_key(s), "kmod-zfs lacks ksym({s})");
    }

    // kmod-zfs-devel: headers, generated config headers and the per-kernel
    // Module.symvers under /usr/src/zfs-<version>/, whose CRCs are kmod-zfs's.
    let files = common::rpm_qp(&zfs_devel, &["-l"]);
    for f in [
        format!("/usr/src/zfs-{zver}/zfs_config.h"),
        format!("/usr/src/zfs-{zver}/zfs.release"),
        format!("/usr/src/zfs-{zver}/include/sys/dmu.h"),
        format!("/usr/src/zfs-{zver}/include/zfs_gitrev.h"),
        format!("/usr/src/zfs-{zver}/{TARGET}/Module.symvers"),
    ] {
        assert!(files.contains(&f), "kmod-zfs-devel lacks {f}");
    }
    assert!(
        !files.iter().any(|f| f.ends_with(".ko")),
        "modules in kmod-zfs-devel"
    );
    let unpacked = tempfile::tempdir().unwrap();
    common::rpm_unpack(&zfs_devel, unpacked.path());
    let symvers = std::fs::read_to_string(
        unpacked
            .path()
            .join(format!("usr/src/zfs-{zver}/{TARGET}/Module.symvers")),
    )
    .unwrap();
    for s in NINE {
        let line = symvers
            .lines()
            .find(|l| l.split('\t').nth(1) == Some(s))
            .unwrap_or_else(|| panic!("{s} not in kmod-zfs-devel's Module.symvers"));
        let crc = u32::from_str_radix(
            line.split('\t').next().unwrap().trim_start_matches("0x"),
            16,
        )
        .unwrap();
        assert_eq!(format!("0x{crc:08x}"), provided[s], "{s}");
    }

    // The importer requires exactly those ksym()s, kmod-zfs by name, and its
    // SRPM build-requires kmod-zfs-devel.
    let required = ksyms(&common::rpm_qp(&osd_rpm, &["--requires"]));
    for s in NINE {
        assert_eq!(required.get(s), Some(&provided[s]), "ksym({s})");
    }
    let requires = common::rpm_qp(&osd_rpm, &["--requires"]);
    assert!(
        requires.contains(&format!("kmod-zfs >= {zver}")),
        "{requires:#?}"
    );
    let srpm = PathBuf::from(
        run.cell("kpx-osd-zfs")["srpm"]["file"]
            .as_str()
            .expect("the importer's SRPM"),
    );
    let breq = common::rpm_qp(&srpm, &["--requires"]);
    assert!(
        breq.contains(&format!("kmod-zfs-devel >= {zver}")),
        "{breq:#?}"
    );

    // A private rpm root: kernel double + kmod-zfs + importer install.
    let kernel = kernel_double(dir.path());
    let (code, out, root) = rpm_install(&[&kernel, &kmod_zfs, &osd_rpm], false);
    assert_eq!(code, 0, "{out}");
    let installed = root.path().join(format!(
        "lib/modules/{TARGET}/extra/kpx-osd-zfs/kpx_osd_zfs.ko"
    ));
    assert!(installed.is_file(), "{}", installed.display());
    // Without kmod-zfs rpm names the missing ksym() with its CRC.
    let (code, out, _) = rpm_install(&[&kernel, &osd_rpm], true);
    assert_ne!(code, 0, "{out}");
    let missing = format!(
        "ksym(dmu_tx_commit) = {} is needed by kmod-kpx-osd-zfs",
        provided["dmu_tx_commit"]
    );
    assert!(out.contains(&missing), "{missing} not in:\n{out}");

    // `kmodpack deps check` explains both situations.
    let check = |rpms: &[&Path]| common::run(common::kmodpack().args(["deps", "check"]).args(rpms));
    let (code, out, err) = check(&[&kernel, &kmod_zfs, &osd_rpm]);
    assert_eq!(code, 0, "{out}{err}");
    let (code, out, err) = check(&[&kernel, &osd_rpm]);
    assert_eq!(code, 1, "{out}{err}");
    let text = format!("{out}{err}");
    for s in NINE {
        assert!(
            text.contains(&format!("ksym({s}) = {}", provided[s])),
            "deps check does not name ksym({s}):\n{text}"
        );
    }
}
