//! SUSE KMPs (issue #13): a KMP that depends on another one build-requires
//! the exporter's `<name>-kmp-<flavor>-devel` and finds its per-kernel
//! Module.symvers where that -devel installs it; the target decides the
//! module tree (`/lib/modules` on SLE 15, usrmerged `/usr/lib/modules` on
//! SLE 16 and Tumbleweed), the scriptlets and the compression (`.ko.zst`);
//! each flavor gets its own preamble (`Requires: kernel-<flavor>`, the
//! relations of `suse.flavors.<flavor>`); modpost is handed a
//! `Module.supported`.
//!
//! Real components: rpmspec of rpm 4.18 (host), 4.16 and 4.20 (chroots),
//! rpmbuild compiling the example sources against the installed Debian
//! kernel headers, zstd, rpm -qp, rpm2cpio, and kmodpack's own generator run
//! by rpmbuild. SUSE's kernel, its modpost (which reads `Module.supported`)
//! and suse-kernel-rpm-scriptlets cannot exist here: the tests check the
//! file modpost reads and the scriptlet command lines, not their effect.

mod common;
mod spec_support;

use std::path::{Path, PathBuf};
use std::process::Command;

use spec_support::{extract, rpmq, rpmspec_parse, symvers_ksyms, Topdir};

/// An SLE 16 kernel release (`6.12.0-160000.5.1-default` as `uname -r`).
const SLE16: &str = "6.12.0-160000.5.1";

/// A suse-kmp description of the example sources `specs/<example>/src`
/// (absolute `source.dir`) with `extra` appended, written into `dir`.
fn description(dir: &Path, name: &str, example: &str, extra: &str) -> PathBuf {
    let src = common::repo().join("specs").join(example).join("src");
    let text = format!(
        "name: {name}\nversion: 2.2.6\nrelease: 1\nsummary: {name} test KMP\n\
         license: GPL-2.0-only\nstyle: suse-kmp\nsource:\n  dir: {}\n{extra}",
        src.display()
    );
    let p = dir.join(format!("{name}.yaml"));
    std::fs::write(&p, text).unwrap();
    p
}

const EXPORTER: &str = "modules:\n  - name: kpx_zfs\n\
kernels:\n  - release: 6.12.0-160000.5.1\n    flavor: default\n\
devel: true\ndevel_files: [Kbuild]\nsuse:\n  target: sle16\n";

const IMPORTER: &str = "build:\n  make_args: [KPX_LNET_MTU=8192]\n\
modules:\n  - name: kpx_lnet\n  - name: kpx_osd\n\
kernels:\n  - release: 6.12.0-160000.5.1\n    flavor: default\n\
depends:\n  - name: kpx-zfs\n    version: 2.2.6\nsuse:\n  target: sle16\n";

/// The lines of `spec` between `%package -n <pkg>` and the next section.
fn preamble<'a>(spec: &'a str, pkg: &str) -> Vec<&'a str> {
    let head = format!("%package -n {pkg}\n");
    let start = spec
        .find(&head)
        .unwrap_or_else(|| panic!("no {head} in\n{spec}"));
    spec[start + head.len()..]
        .lines()
        .take_while(|l| !l.starts_with('%'))
        .collect()
}

#[test]
fn depends_build_requires_the_kmp_devel_and_flavors_get_their_preamble_in_three_rpms() {
    let t = tempfile::tempdir().unwrap();
    let top = Topdir::new();
    let imp = top.render(
        &description(t.path(), "kpx-lustre", "kpx-lustre", IMPORTER),
        &[],
    );
    // Three flavors, one with a preamble of its own.
    let multi = description(
        t.path(),
        "kpx-flav",
        "kpx-ssd",
        concat!(
            "modules:\n  - name: kpx_ssd\nkernels:\n",
            "  - release: 6.4.0-150600.23.25\n    flavor: default\n",
            "  - release: 6.4.0-150600.10.17\n    flavor: rt\n",
            "  - release: 6.4.0-150600.23.25\n    flavor: azure\n",
            "suse:\n  flavors:\n    rt:\n",
            "      requires: [kpx-rt-tuning >= 2]\n      conflicts: [kpx-ssd-kmp-preempt]\n",
        ),
    );
    let flav = top.render(&multi, &[]);
    for root in spec_support::rpm_roots() {
        let out = rpmspec_parse(root.as_deref(), &imp);
        // rpmspec -P keeps every %ifarch block: the x86_64 cell's BuildRequires.
        assert!(
            out.contains("BuildRequires:  kpx-zfs-kmp-default-devel >= 2.2.6\n"),
            "{root:?}:\n{out}"
        );
        let pre = preamble(&out, "kpx-lustre-kmp-default");
        for want in [
            "Requires:       kernel-default",
            "Enhances:       kernel-default",
            "Requires:       kpx-zfs-kmp-default >= 2.2.6",
            "Provides:       kpx-lustre-kmp = 2.2.6_k6.12.0_160000.5.1",
            "Provides:       kpx-lustre-kmp-default-k6.12.0_160000.5.1",
            "Conflicts:      kpx-lustre-kmp-default-k6.12.0_160000.5.1",
            "Requires(post):   suse-kernel-rpm-scriptlets",
        ] {
            assert!(pre.contains(&want), "{root:?}: no `{want}` in {pre:#?}");
        }
        // %build finds the exporter's Module.symvers where its -devel puts it.
        assert!(
            out.contains(&format!(
                "/usr/src/kmodpack/kpx-zfs/{SLE16}-default/Module.symvers"
            )),
            "{out}"
        );

        let out = rpmspec_parse(root.as_deref(), &flav);
        for (flavor, kernel) in [
            ("default", "kernel-default"),
            ("rt", "kernel-rt"),
            ("azure", "kernel-azure"),
        ] {
            let pre = preamble(&out, &format!("kpx-flav-kmp-{flavor}"));
            assert!(
                pre.contains(&format!("Requires:       {kernel}").as_str())
                    && pre.contains(&format!("Enhances:       {kernel}").as_str()),
                "{root:?} {flavor}: {pre:#?}"
            );
            let own = pre.contains(&"Requires:       kpx-rt-tuning >= 2")
                && pre.contains(&"Conflicts:      kpx-ssd-kmp-preempt");
            assert_eq!(own, flavor == "rt", "{root:?} {flavor}: {pre:#?}");
        }
        // SLE 15 (the default target): /lib/modules, weak-modules2, plain .ko.
        assert!(
            out.contains("/lib/modules/6.4.0-150600.10.17-rt/updates/kpx-flav/\n")
                && !out.contains("/usr/lib/modules")
                && out.contains(
                    "weak-modules2 --add-kmp 'kpx-flav-kmp-rt-2.2.6_k6.4.0_150600.10.17-1'"
                ),
            "{root:?}:\n{out}"
        );
    }
}

#[test]
fn a_preamble_for_a_flavor_without_a_kernel_and_suse_outside_suse_kmp_are_refused() {
    let t = tempfile::tempdir().unwrap();
    let d = description(
        t.path(),
        "kpx-x",
        "kpx-ssd",
        "modules:\n  - name: kpx_ssd\nkernels:\n  - release: 6.4.0-150600.23.25\n\
suse:\n  flavors:\n    azure:\n      requires: [foo]\n",
    );
    let (code, _, err) = common::run(common::kmodpack().arg("spec").arg(&d));
    assert_ne!(code, 0);
    assert!(
        err.contains(
            "`suse.flavors.azure`: no kernel of flavor `azure` in `kernels` (flavors: default)"
        ),
        "{err}"
    );
    let d = description(
        t.path(),
        "kpx-y",
        "kpx-ssd",
        "modules:\n  - name: kpx_ssd\nkernels:\n  - release: 6.4.0-150600.23.25\nsuse:\n  target: sle16\n",
    );
    let (code, _, err) = common::run(
        common::kmodpack()
            .arg("spec")
            .arg(&d)
            .args(["--style", "per-kernel"]),
    );
    assert_ne!(code, 0);
    assert!(err.contains("`suse`: is for style suse-kmp only"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
}

/// The exporter for SLE 16 builds with real rpmbuild: `.ko.zst` under
/// `/usr/lib/modules`, the kernel scriptlets with `--usrmerged 1`, a
/// `Module.supported` for modpost, and a -devel whose Module.symvers the
/// importer's spec looks for at exactly that path; the importer, built
/// against it, requires the exporter's `ksym()`s that modpost wrote.
#[test]
fn sle16_exporter_and_importer_build_with_rpmbuild() {
    let t = tempfile::tempdir().unwrap();
    let top = Topdir::new();
    let exp = top.render(&description(t.path(), "kpx-zfs", "kpx-zfs", EXPORTER), &[]);
    let (code, log) = top.rpmbuild_args(&exp, &[], &["--noclean"]);
    assert_eq!(code, 0, "{log}");
    let uname = format!("{SLE16}-default");
    let kmp = top.rpm("kpx-zfs-kmp-default-2.2.6");
    let ko = format!("/usr/lib/modules/{uname}/updates/kpx-zfs/kpx_zfs.ko.zst");
    let files = rpmq(&kmp, &["-l"]);
    assert!(files.contains(&ko), "{files:?}");
    assert!(!files.iter().any(|f| f.starts_with("/lib/")), "{files:?}");

    // The packaged module is a zstd frame that zstd itself decompresses to an ELF module.
    let x = t.path().join("x");
    extract(&kmp, &x);
    let zst = x.join(ko.trim_start_matches('/'));
    let bytes = std::fs::read(&zst).unwrap();
    assert_eq!(&bytes[..4], &[0x28, 0xb5, 0x2f, 0xfd], "not zstd");
    let out = Command::new("zstd").arg("-dc").arg(&zst).output().unwrap();
    assert!(out.status.success() && out.stdout.starts_with(b"\x7fELF"));

    // The exports modpost wrote are what the generator provides, read from the .ko.zst.
    let built = top.path().join(format!(
        "BUILD/kpx-zfs-2.2.6-{}_x86_64_default",
        SLE16.replace(['-', '.'], "_")
    ));
    let symvers = built.join("Module.symvers");
    let flavor = common::kernel_release()
        .rsplit('-')
        .next()
        .unwrap()
        .to_string();
    let want: Vec<String> = symvers_ksyms(&symvers)
        .into_iter()
        .map(|k| {
            // ksym(sym) = 0x%08x → SUSE's ksym(flavor:sym) = %x.
            let (sym, crc) = k.trim_start_matches("ksym(").split_once(") = 0x").unwrap();
            format!(
                "ksym({flavor}:{sym}) = {:x}",
                u32::from_str_radix(crc, 16).unwrap()
            )
        })
        .collect();
    assert!(!want.is_empty());
    let prov = rpmq(&kmp, &["--provides"]);
    for w in &want {
        assert!(prov.contains(w), "{w} not in {prov:?}");
    }
    // modpost is handed the support status of every module.
    assert_eq!(
        std::fs::read_to_string(built.join("Module.supported")).unwrap(),
        "kpx_zfs.ko external\n"
    );
    let req = rpmq(&kmp, &["--requires"]);
    assert!(req.contains(&"kernel-default".to_string()), "{req:?}");
    assert!(
        req.contains(&"suse-kernel-rpm-scriptlets".to_string()),
        "{req:?}"
    );
    let scripts = rpmq(&kmp, &["--scripts"]).join("\n");
    for phase in ["pre", "post", "preun", "postun", "posttrans"] {
        assert!(
            scripts.contains(&format!("/usr/lib/module-init-tools/kernel-scriptlets/kmp-{phase} --name 'kpx-zfs-kmp-default'")),
            "{scripts}"
        );
    }
    assert!(
        scripts.contains("--kernelrelease '6.12.0-160000.5.1'")
            && scripts.contains("--flavor 'default' --usrmerged '1'"),
        "{scripts}"
    );

    // kabi and the SUSE driver update disk read the .ko.zst under /usr/lib/modules.
    let (code, out, err) = common::run(
        common::kmodpack()
            .args(["kabi", "check", "--kernel"])
            .arg(common::headers_dir())
            .arg(&kmp),
    );
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("kpx_zfs") && out.contains("compatible"),
        "{out}"
    );
    let disk = t.path().join("sles16.cpio.gz");
    let (code, out, err) = common::run(
        common::kmodpack()
            .args(["dud", "build", "--format", "suse", "--dist", "sles16"])
            .args(["--installer-kernel", &uname, "-o"])
            .arg(&disk)
            .arg(&kmp),
    );
    assert_eq!(code, 0, "{out}{err}");
    let d = t.path().join("disk");
    std::fs::create_dir(&d).unwrap();
    let (c, _, e) = common::run(Command::new("sh").arg("-c").arg(format!(
        "cd '{}' && zcat '{}' | cpio -id --quiet",
        d.display(),
        disk.display()
    )));
    assert_eq!(c, 0, "{e}");
    let mods = d.join("linux/suse/x86_64-sles16/modules");
    assert!(
        mods.join("kpx_zfs.ko.zst").is_file(),
        "{:?}",
        std::fs::read_dir(&mods).map(|r| r.flatten().map(|e| e.file_name()).collect::<Vec<_>>())
    );
    assert_eq!(
        std::fs::read_to_string(mods.join("module.order")).unwrap(),
        "kpx_zfs\n"
    );

    // The -devel installs Module.symvers where the importer's %build looks for it.
    let devel = top.rpm("kpx-zfs-kmp-default-devel-2.2.6");
    let path = format!("/usr/src/kmodpack/kpx-zfs/{uname}/Module.symvers");
    let dfiles = rpmq(&devel, &["-l"]);
    assert!(dfiles.contains(&path));
    // devel_files and Module.symvers in OpenZFS's per-kernel layout too.
    let tree = format!("/usr/src/kpx-zfs-2.2.6/{uname}");
    for f in ["Kbuild", "Module.symvers"] {
        assert!(dfiles.contains(&format!("{tree}/{f}")), "{dfiles:?}");
    }
    let imp = top.render(
        &description(t.path(), "kpx-lustre", "kpx-lustre", IMPORTER),
        &[],
    );
    let text = std::fs::read_to_string(&imp).unwrap();
    assert!(
        text.contains(&format!("%{{!?kmodpack_symvers_kpx_zfs:{path}}}")),
        "{text}"
    );
    // As a build root with the -devel installed: its files under a private root.
    let root = t.path().join("devel-root");
    extract(&devel, &root);
    let installed = root.join(path.trim_start_matches('/'));
    let devel_tree = root.join("usr/src/kpx-zfs-2.2.6");
    let (code, log) = top.rpmbuild(
        &imp,
        &[
            ("kmodpack_symvers_kpx_zfs", installed.to_str().unwrap()),
            ("kmodpack_devel_kpx_zfs", devel_tree.to_str().unwrap()),
        ],
    );
    assert_eq!(code, 0, "{log}");
    // kbuild sees the exporter's -devel tree and this kernel's part of it.
    let kernel_part = devel_tree.join(&uname);
    assert!(kernel_part.join("Kbuild").is_file());
    assert!(
        log.contains(&format!(
            "KMODPACK_DEVEL_KPX_ZFS_KERNEL={}",
            kernel_part.display()
        )),
        "{log}"
    );
    let srpm = top.srpm("kpx-lustre-2.2.6");
    assert!(
        rpmq(&srpm, &["--requires"]).contains(&"kpx-zfs-kmp-default-devel >= 2.2.6".to_string()),
        "{:?}",
        rpmq(&srpm, &["--requires"])
    );
    let ikmp = top.rpm("kpx-lustre-kmp-default-2.2.6");
    let ireq = rpmq(&ikmp, &["--requires"]);
    assert!(
        ireq.contains(&"kpx-zfs-kmp-default >= 2.2.6".to_string()),
        "{ireq:?}"
    );
    let imported: Vec<&String> = ireq.iter().filter(|r| r.starts_with("ksym(")).collect();
    assert!(!imported.is_empty(), "{ireq:?}");
    for r in &imported {
        // What the importer needs from kpx-zfs is what the exporter provides, with its CRC.
        if r.contains(":kpx_zfs_") {
            assert!(
                want.contains(r),
                "{r} not provided by the exporter: {want:?}"
            );
        }
    }
    assert!(
        imported.iter().any(|r| r.contains(":kpx_zfs_")),
        "{imported:?}"
    );
}

/// `packages` in suse-kmp style: the Lustre-shaped example makes
/// `kpx-lfs-kmp-<flavor>` and `kpx-lfs-<suffix>-kmp-<flavor>` for each of its
/// packages, each with its modules, files and scriptlets; rpmbuild builds
/// them and the generator's `ksym()` dependencies are per package.
#[test]
fn packages_become_one_kmp_each_per_flavor() {
    let top = Topdir::new();
    let spec = top.render(&spec_support::example("kpx-lfs"), &["--style", "suse-kmp"]);
    let kmps = [
        "kpx-lfs-kmp-default",
        "kpx-lfs-osd-zfs-kmp-default",
        "kpx-lfs-osd-ldiskfs-kmp-default",
        "kpx-lfs-tests-kmp-default",
    ];
    for root in spec_support::rpm_roots() {
        let out = rpmspec_parse(root.as_deref(), &spec);
        for k in kmps {
            assert!(out.contains(&format!("%package -n {k}\n")), "{root:?}: {k}");
            assert!(out.contains(&format!("%files -n {k}\n")), "{root:?}: {k}");
        }
    }
    let (code, log) = top.rpmbuild(&spec, &[]);
    assert_eq!(code, 0, "{log}");
    let rel = "5.14.0-503.11.1.el9_5";
    let dir = format!("/lib/modules/{rel}-default/updates");
    let rpm = |k: &str| top.rpm(&format!("{k}-2.15.5_k"));
    let files = |k: &str| rpmq(&rpm(k), &["-l"]);
    assert!(files(kmps[0]).contains(&format!("{dir}/kpx-lfs/kpx_lustre.ko")));
    assert!(files(kmps[1]).contains(&format!("{dir}/kpx-lfs-osd-zfs/kpx_osd_zfs.ko")));
    assert!(files(kmps[2]).contains(&format!("{dir}/kpx-lfs-osd-ldiskfs/kpx_ldiskfs.ko")));
    let tests = files(kmps[3]);
    assert!(
        tests.contains(&format!("{dir}/kpx-lfs-tests/kpx_lustre_tests.ko"))
            && tests.contains(&"/usr/libexec/kpx-lfs/run-tests.sh".to_string()),
        "{tests:?}"
    );
    assert!(!files(kmps[0])
        .iter()
        .any(|f| f.contains("osd") || f.contains("run-tests")));
    // Dependencies per package: osd-zfs requires what the core KMP provides,
    // nothing of its own.
    let ksyms = |k: &str, q: &str| -> Vec<String> {
        rpmq(&rpm(k), &[q])
            .into_iter()
            .filter(|l| l.starts_with("ksym("))
            .collect()
    };
    let core = ksyms(kmps[0], "--provides");
    let osd_req = ksyms(kmps[1], "--requires");
    let osd_prov = ksyms(kmps[1], "--provides");
    assert!(
        osd_req.iter().any(|r| core.contains(r)),
        "{osd_req:?} vs {core:?}"
    );
    assert!(!osd_req.iter().any(|r| osd_prov.contains(r)), "{osd_req:?}");
    // The example's switches: `rpmbuild --without zfs` makes no osd-zfs KMP.
    let off = Topdir::new();
    let spec = off.render(&spec_support::example("kpx-lfs"), &["--style", "suse-kmp"]);
    let (code, log) = off.rpmbuild_args(&spec, &[], &["--without", "zfs"]);
    assert_eq!(code, 0, "{log}");
    let built: Vec<String> = std::fs::read_dir(off.path().join("RPMS/x86_64"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert!(!built.iter().any(|f| f.starts_with(kmps[1])), "{built:?}");
    for k in [kmps[0], kmps[2], kmps[3]] {
        assert!(built.iter().any(|f| f.starts_with(k)), "{k}: {built:?}");
    }
    for k in kmps {
        let scripts = rpmq(&rpm(k), &["--scripts"]).join("\n");
        assert!(
            scripts.contains(&format!("weak-modules2 --add-kmp '{k}-2.15.5_k")),
            "{k}: {scripts}"
        );
    }
}
