//! kmodpack's lines and nothing else on a distro build host (issue #14).
//!
//! Red Hat's kernel-rpm-macros and SUSE's rpm-config cannot be installed on
//! this Debian machine, and the host's /usr/lib/rpm must not be touched. So
//! each "host" is a private rpm configuration directory used by real
//! rpmbuild 4.18 through `--macros` (rpm's own load order: macros,
//! macros.d, platform, fileattrs) and `_rpmconfigdir`: links to every file
//! of the real /usr/lib/rpm, plus TEST DOUBLES of the distro files with
//! their real names, classes and macro names — EL8 (`kmod.attr` running
//! `kmod.prov`, `kabi.attr`, `macros.kmp` setting `%__find_provides` /
//! `%__find_requires` to `redhat/find-provides` / `redhat/find-requires`),
//! EL9 and EL10 (kernel-srpm-macros: `provided_ksyms.attr`,
//! `required_ksyms.attr` with its `exclude_path`, `kabi.attr`, the
//! parametric Lua `kmod.attr`, `modalias.attr`), SUSE (`kmp.attr` with
//! `find-{provides,requires,supplements}.ksyms %name`, `modulesload.attr`).
//! The doubles' generators print recognisable marker lines and the kABI
//! warning banner instead of Red Hat's or SUSE's real output.
//!
//! Oracle: the same package built on the bare host; `rpm -qp --provides /
//! --requires` must be identical, no marker anywhere.

mod common;
mod spec_support;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A distro layout: (path below the config dir, content). Scripts are the
/// entries whose content starts with `#!`.
type Layout = Vec<(&'static str, String)>;

/// A generator double: reads all of stdin (rpm requires it) and prints
/// `marker` when it was given a file of the kind the real one handles.
fn script(marker: &str) -> String {
    format!(
        "#!/bin/sh\nin=$(cat)\nprintf '%s\\n' \"$in\" | grep -qE '\\.ko(\\.[a-z0-9]+)?$|symvers|vmlinux' && echo '{marker}'\nexit 0\n"
    )
}

const RH_PROVIDES: &str = "ksym(rh_find_provides_ksyms_marker) = 0x00000001";
const RH_REQUIRES: &str = "ksym(rh_find_requires_ksyms_marker) = 0x00000002";
const BANNER: &str = "*** KERNEL ABI COMPATIBILITY WARNING ***";

/// Red Hat's scripts as every RH layout has them.
fn redhat_scripts() -> Layout {
    vec![
        ("redhat/find-provides.ksyms", script(RH_PROVIDES)),
        (
            "redhat/find-requires.ksyms",
            script(RH_REQUIRES).replace("&& echo", &format!("&& echo '{BANNER}' >&2 && echo")),
        ),
        (
            "redhat/find-provides.d/modalias.prov",
            script("modalias(rh_modalias_marker)"),
        ),
        ("kabi.sh", script("kernel(rh_kabi_marker) = 0x00000003")),
        ("kmod.prov", script("kmod(rh8_kmod_marker.ko)")),
        (
            "redhat/find-provides",
            script("ksym(rh_external_provides_marker) = 0x00000004"),
        ),
        (
            "redhat/find-requires",
            script("ksym(rh_external_requires_marker) = 0x00000005"),
        ),
    ]
}

/// RHEL 8: redhat-rpm-config 131.el8 / kernel-rpm-macros.
fn el8() -> Layout {
    let mut l = redhat_scripts();
    l.extend([
        (
            "fileattrs/kmod.attr",
            "%__kmod_provides %{_rpmconfigdir}/kmod.prov\n%__kmod_path ^/lib/modules/.*$\n".into(),
        ),
        (
            "fileattrs/kabi.attr",
            "%__kabi_provides %{_rpmconfigdir}/kabi.sh\n%__kabi_path ^(/boot/symvers-.*|/lib/modules/[1-9].*/symvers)\\.gz$\n".into(),
        ),
        (
            "macros.d/macros.kmp",
            "%__find_provides %{_rpmconfigdir}/redhat/find-provides\n%__find_requires %{_rpmconfigdir}/redhat/find-requires\n".into(),
        ),
    ]);
    l
}

/// RHEL 9 (kernel-srpm-macros 1.0-13.el9) and, with its kabi.attr, RHEL 10.
fn el9(kabi_path: &str) -> Layout {
    let ko = ".*\\.(ko|ko\\.gz|ko\\.bz2|ko\\.xz|ko\\.zst)$";
    let mut l = redhat_scripts();
    l.extend([
        (
            "fileattrs/provided_ksyms.attr",
            format!("%__provided_ksyms_provides %{{_rpmconfigdir}}/redhat/find-provides.ksyms\n%__provided_ksyms_path {ko}\n"),
        ),
        (
            "fileattrs/required_ksyms.attr",
            format!("%__required_ksyms_requires %{{_rpmconfigdir}}/redhat/find-requires.ksyms\n%__required_ksyms_path {ko}\n%__required_ksyms_exclude_path ^/lib/modules/[1-9][^/]*/kernel/.*\n"),
        ),
        (
            "fileattrs/kabi.attr",
            format!("%__kabi_provides %{{_rpmconfigdir}}/kabi.sh\n%__kabi_path {kabi_path}\n"),
        ),
        (
            "fileattrs/kmod.attr",
            "%__kmod_path ^/lib/modules/.*/(modules.builtin|.*\\.ko|.*\\.ko\\.gz|.*\\.ko\\.bz2|.*\\.ko\\.xz|.*\\.ko\\.zst)$\n\
             %__kmod_provides() %{lua: print(\"kmod(rh_kmod_marker.ko) \")}\n"
                .into(),
        ),
        (
            "fileattrs/modalias.attr",
            "%__modalias_provides %{_rpmconfigdir}/redhat/find-provides.d/modalias.prov\n\
             %__modalias_path ^/lib/modules/.*\\.ko(\\.gz|\\.bz2|\\.xz|\\.zst)?$\n"
                .into(),
        ),
    ]);
    l
}

/// SUSE: rpm-config-SUSE's kmp.attr and modulesload.attr.
fn suse() -> Layout {
    vec![
        (
            "fileattrs/kmp.attr",
            "%__kmp_provides %{_rpmconfigdir}/find-provides.ksyms %name\n\
             %__kmp_requires %{_rpmconfigdir}/find-requires.ksyms %name\n\
             %__kmp_supplements %{_rpmconfigdir}/find-supplements.ksyms %name\n\
             %__kmp_path ^((/usr)?/lib/modules/[^/]*/(.*\\.ko|vmlinux)(\\.gz|\\.xz|\\.zst)?|/boot/vmlinux.*)$\n"
                .into(),
        ),
        (
            "fileattrs/modulesload.attr",
            "%__modulesload_requires %{_rpmconfigdir}/find-requires.ksyms %name\n\
             %__modulesload_path ^/usr/lib/modules-load\\.d/.*\\.conf$\n"
                .into(),
        ),
        ("find-provides.ksyms", script("ksym(default:suse_provides_marker) = 1")),
        ("find-requires.ksyms", script("ksym(default:suse_requires_marker) = 2")),
        ("find-supplements.ksyms", script("modalias(suse_supplements_marker)")),
    ]
}

/// Every marker a double can print.
const MARKERS: [&str; 3] = ["marker", "rh8_kmod", "KERNEL ABI"];

/// A private rpm configuration directory standing for one build host.
struct Host {
    _tmp: tempfile::TempDir,
    cfg: PathBuf,
}

impl Host {
    /// The real /usr/lib/rpm plus `layout`, and kmodpack's attr/macros files
    /// (make install's result) when `kmodpack_installed`.
    fn new(layout: &Layout, kmodpack_installed: bool) -> Host {
        let tmp = tempfile::Builder::new()
            .prefix("kmodpack-host-")
            .tempdir()
            .unwrap();
        let cfg = tmp.path().join("rpm");
        let real = Path::new("/usr/lib/rpm");
        std::fs::create_dir_all(&cfg).unwrap();
        for e in std::fs::read_dir(real).unwrap().flatten() {
            let name = e.file_name();
            if name == "fileattrs" || name == "macros.d" {
                std::fs::create_dir(cfg.join(&name)).unwrap();
                for f in std::fs::read_dir(e.path()).unwrap().flatten() {
                    std::os::unix::fs::symlink(f.path(), cfg.join(&name).join(f.file_name()))
                        .unwrap();
                }
            } else {
                std::os::unix::fs::symlink(e.path(), cfg.join(&name)).unwrap();
            }
        }
        let mut files = layout.clone();
        if kmodpack_installed {
            let exe = env!("CARGO_BIN_EXE_kmodpack");
            for (dest, src) in [
                ("fileattrs/kmodpack.attr", "kmodpack.attr"),
                ("macros.d/macros.kmodpack", "macros.kmodpack"),
            ] {
                let t = std::fs::read_to_string(common::repo().join("templates/rpm").join(src))
                    .unwrap();
                files.push((dest, t.replace("@KMODPACK@", exe)));
            }
        }
        for (rel, content) in files {
            let p = cfg.join(rel);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(&p, &content).unwrap();
            if content.starts_with("#!") {
                std::fs::set_permissions(&p, std::os::unix::fs::PermissionsExt::from_mode(0o755))
                    .unwrap();
            }
        }
        Host { _tmp: tmp, cfg }
    }

    /// rpmbuild with this host's configuration.
    fn rpmbuild(&self) -> Command {
        let c = self.cfg.display();
        let mut cmd = Command::new("rpmbuild");
        cmd.arg("--macros")
            .arg(format!(
                "{c}/macros:{c}/macros.d/macros.*:{c}/platform/%{{_target}}/macros:{c}/fileattrs/*.attr:{c}/debian/macros"
            ))
            .arg("--define")
            .arg(format!("_rpmconfigdir {c}"))
            .env_remove("KMODPACK_SYMVERS");
        cmd
    }
}

/// Builds with `cmd` (+ `-bb --nodeps`, `_topdir`, spec); returns the
/// binary RPMs' Provides and Requires (sorted, per package file name) and
/// the log.
fn build(mut cmd: Command, top: &Path, spec: &Path) -> (Vec<(String, Deps)>, String) {
    let _ = std::fs::remove_dir_all(top.join("RPMS"));
    let (code, out, err) = common::run(
        cmd.arg("-bb")
            .arg("--nodeps")
            .arg("--define")
            .arg(format!("_topdir {}", top.display()))
            .arg(spec),
    );
    let log = format!("{out}{err}");
    assert_eq!(code, 0, "{}: {log}", spec.display());
    let mut rpms: Vec<PathBuf> = walkdir::WalkDir::new(top.join("RPMS"))
        .into_iter()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().ends_with(".rpm"))
        .map(|e| e.into_path())
        .collect();
    rpms.sort();
    assert!(!rpms.is_empty(), "{log}");
    let deps = rpms
        .iter()
        .map(|r| {
            let q = |what: &str| -> BTreeSet<String> {
                common::rpm_qp(r, &[what])
                    .into_iter()
                    .filter(|l| !l.starts_with("rpmlib("))
                    .collect()
            };
            (
                r.file_name().unwrap().to_string_lossy().into_owned(),
                Deps {
                    provides: q("--provides"),
                    requires: q("--requires"),
                    supplements: q("--supplements"),
                },
            )
        })
        .collect();
    (deps, log)
}

#[derive(Debug, PartialEq, Eq)]
struct Deps {
    provides: BTreeSet<String>,
    requires: BTreeSet<String>,
    supplements: BTreeSet<String>,
}

fn assert_no_marker(what: &str, deps: &[(String, Deps)], log: &str) {
    let text = format!("{deps:?}\n{log}");
    for m in MARKERS {
        assert!(!text.contains(m), "{what}: {m} in\n{text}");
    }
}

/// The layouts, by name.
fn layouts() -> Vec<(&'static str, Layout)> {
    vec![
        ("el8", el8()),
        (
            "el9",
            el9("^(/boot/symvers-.*|/lib/modules/[1-9].*/symvers)\\.(gz|xz)$"),
        ),
        (
            "el10",
            el9("^(/boot/symvers-.*|/lib/modules/[1-9].*/symvers)\\.(gz|xz|zst)$"),
        ),
        ("suse", suse()),
    ]
}

#[test]
fn generated_specs_carry_only_kmodpacks_lines_on_distro_hosts() {
    // Every style, on every layout; on EL8 also with the external generator
    // switched on from the command line (as Lustre's lbuild does): the spec
    // keeps the internal generator.
    let bare = Host::new(&vec![], false);
    for style in ["redhat-kabi", "per-kernel", "suse-kmp"] {
        let top = spec_support::Topdir::new();
        let spec = top.render(&spec_support::example("kpx-zfs"), &["--style", style]);
        let (want, log) = build(bare.rpmbuild(), top.path(), &spec);
        assert_no_marker(style, &want, &log);
        assert!(
            want.iter().any(|(_, d)| d
                .provides
                .iter()
                .any(|p| p.contains("kpx_zfs_tx_commit) = "))),
            "{style}: {want:?}"
        );
        for (name, layout) in layouts() {
            let host = Host::new(&layout, false);
            let mut variants = vec![host.rpmbuild()];
            if name == "el8" {
                let mut external = host.rpmbuild();
                external
                    .arg("--define")
                    .arg("_use_internal_dependency_generator 0");
                variants.push(external);
            }
            for cmd in variants {
                let what = format!("{style} on {name}");
                let (got, log) = build(cmd, top.path(), &spec);
                assert_no_marker(&what, &got, &log);
                assert_eq!(got, want, "{what}");
            }
        }
    }
}

/// A hand-written kmod spec installing the prebuilt exporter below
/// `/lib/modules/<kver>/<sub>/` (plus `extra` lines in the preamble).
fn hand_written(top: &Path, name: &str, sub: &str, preamble: &str, install: &str) -> PathBuf {
    let kver = common::kernel_release();
    let (exp, _) = common::kpx_pair();
    std::fs::create_dir_all(top.join("SOURCES")).unwrap();
    std::fs::copy(&exp.ko, top.join("SOURCES/kpx_export.ko")).unwrap();
    let spec = top.join(format!("{name}.spec"));
    std::fs::write(
        &spec,
        format!(
            "{preamble}Name: {name}\nVersion: 1\nRelease: 1\nSummary: s\nLicense: GPL-2.0-only\nSource0: kpx_export.ko\n\
             %global __os_install_post %{{nil}}\n%global debug_package %{{nil}}\n%description\ns\n%install\n\
             install -D -m 0644 %{{SOURCE0}} %{{buildroot}}/lib/modules/{kver}/{sub}/kpx_export.ko\n{install}\
             %files\n/lib/modules/{kver}/\n"
        ),
    )
    .unwrap();
    spec
}

fn with_symvers(mut cmd: Command) -> Command {
    cmd.arg("--define").arg(format!(
        "_kmodpack_symvers {}",
        common::kernel_symvers().display()
    ));
    cmd
}

#[test]
fn installed_kmodpack_attr_wins_for_hand_written_specs() {
    // `make install`'s kmodpack.attr with no opt-in in the spec: on every
    // layout the kmod gets exactly what it gets on a bare host.
    let top = tempfile::tempdir().unwrap();
    let spec = hand_written(top.path(), "kmod-kpx-hand", "extra/kpx", "", "");
    let bare = Host::new(&vec![], true);
    let (want, log) = build(with_symvers(bare.rpmbuild()), top.path(), &spec);
    assert_no_marker("bare", &want, &log);
    let p = &want[0].1.provides;
    assert!(p.contains("kmod(kpx_export.ko)"), "{p:?}");
    assert!(
        p.iter().any(|x| x.starts_with("ksym(kpx_add) = 0x")),
        "{p:?}"
    );
    for (name, layout) in layouts() {
        // Control: without kmodpack the doubles are live and add their lines.
        let distro_only = Host::new(&layout, false);
        let (theirs, _) = build(distro_only.rpmbuild(), top.path(), &spec);
        let theirs = format!("{theirs:?}");
        let expected: &[&str] = match name {
            "el8" => &["rh8_kmod_marker"],
            "suse" => &["suse_provides_marker", "suse_requires_marker"],
            _ => &[
                "rh_find_provides_ksyms_marker",
                "rh_find_requires_ksyms_marker",
                "rh_kmod_marker",
                "rh_modalias_marker",
            ],
        };
        for m in expected {
            assert!(theirs.contains(m), "{name}: {m} did not run: {theirs}");
        }
        let host = Host::new(&layout, true);
        let (got, log) = build(with_symvers(host.rpmbuild()), top.path(), &spec);
        assert_no_marker(name, &got, &log);
        assert_eq!(got, want, "{name}");
    }
}

#[test]
fn kernel_packages_keep_their_kernel_provides_with_kmodpack_attr_installed() {
    // A kernel-modules-style package (in-tree module below kernel/) and
    // kernel-core's symvers on EL9 with kmodpack.attr installed: the
    // in-tree exports are kernel() Provides (kmodpack's, as Red Hat's
    // scripts give them), vmlinux's still come from kabi.attr, no
    // Requires are made for in-tree modules and no symvers is needed.
    let kver = common::kernel_release();
    let top = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(top.path().join("SOURCES")).unwrap();
    let spec = hand_written(
        top.path(),
        "kernel-kpxtest",
        "kernel/drivers/kpx",
        "",
        &format!(
            "mkdir -p %{{buildroot}}/boot\necho x | gzip > %{{buildroot}}/boot/symvers-{kver}.gz\n"
        ),
    );
    let text = std::fs::read_to_string(&spec)
        .unwrap()
        .replace("%files\n", "%files\n/boot/\n");
    std::fs::write(&spec, text).unwrap();
    let host = Host::new(&layouts()[1].1, true);
    let (got, log) = build(host.rpmbuild(), top.path(), &spec);
    let d = &got[0].1;
    assert!(
        d.provides.contains("kernel(rh_kabi_marker) = 0x00000003"),
        "kabi.attr still runs for the kernel: {d:?}"
    );
    let (exp, _) = common::kpx_pair();
    for line in spec_support::symvers_ksyms(&exp.symvers) {
        let k = line.replacen("ksym(", "kernel(", 1);
        assert!(d.provides.contains(&k), "{k}: {d:?}");
    }
    assert!(d.provides.contains("kmod(kpx_export.ko)"), "{d:?}");
    assert!(
        !d.requires
            .iter()
            .any(|r| r.starts_with("kernel(") || r.starts_with("ksym(")),
        "{d:?}"
    );
    for m in [RH_PROVIDES, "rh_kmod_marker", "rh_modalias_marker", BANNER] {
        assert!(!format!("{d:?}{log}").contains(m), "{m}: {d:?}\n{log}");
    }
}

#[test]
fn kmodpack_register_works_without_any_installed_class() {
    // The README's recipe for a spec on a host without kmodpack.attr and
    // without distro kmod macros (this Debian machine): %{kmodpack_register}
    // from macros.kmodpack, also through --target (which drops --load'ed
    // files), and unchanged on a distro layout.
    let top = tempfile::tempdir().unwrap();
    let spec = hand_written(
        top.path(),
        "kmod-kpx-register",
        "extra/kpx",
        "%{kmodpack_register}\n",
        "",
    );
    let macros_only = |layout: &Layout| {
        let host = Host::new(layout, true);
        std::fs::remove_file(host.cfg.join("fileattrs/kmodpack.attr")).unwrap();
        host
    };
    let bare = macros_only(&vec![]);
    let mut cmd = with_symvers(bare.rpmbuild());
    cmd.args(["--target", "x86_64"]);
    let (want, log) = build(cmd, top.path(), &spec);
    assert_no_marker("bare", &want, &log);
    let d = &want[0].1;
    assert!(d.provides.contains("kmod(kpx_export.ko)"), "{d:?}");
    let (exp, _) = common::kpx_pair();
    for line in spec_support::symvers_ksyms(&exp.symvers) {
        assert!(d.provides.contains(&line), "{line}: {d:?}");
    }
    assert!(
        d.requires
            .iter()
            .any(|r| r.starts_with("kernel(module_layout) = 0x")),
        "{d:?}"
    );
    let el9 = macros_only(&layouts()[1].1);
    let (got, log) = build(with_symvers(el9.rpmbuild()), top.path(), &spec);
    assert_no_marker("el9", &got, &log);
    assert_eq!(got, want);
}
