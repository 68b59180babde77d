//! Several kmod packages from one source and one build (issue #13), on the
//! Lustre-shaped example `specs/kpx-lfs`: kmod-kpx-lfs (core), -osd-zfs,
//! -osd-ldiskfs and -tests. The spec is rendered, parsed by `rpmspec -P` of
//! rpm 4.18 (host), 4.16 and 4.20 (chroots), built by the host's rpmbuild
//! against the installed Debian kernel headers, and each RPM's
//! dependencies are read back with `rpm -qp` and compared with what kbuild's
//! modpost wrote into Module.symvers (an oracle independent of kmodpack).

mod common;
mod spec_support;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use spec_support::{example, extract, rpmq, rpmspec_parse, symvers_ksyms, Topdir};

/// Version-release of the redhat-kabi packages (Release qualified by the
/// kernel's dist tag by default) and of the per-kernel ones (`%{?dist}`).
const VR: &str = "2.15.5-1.el9_5";
const PER_KERNEL_VR: &str = "2.15.5-1";

/// Asserts that `rpm -qp Q` of `rpm` lists `line`.
fn has(rpm: &Path, q: &str, line: &str) {
    let got = rpmq(rpm, &[q]);
    assert!(
        got.iter().any(|l| l == line),
        "{} {q}: no `{line}` in {got:?}",
        rpm.display()
    );
}

#[test]
fn four_packages_parse_with_rpmspec_of_three_rpm_versions() {
    let top = Topdir::new();
    let spec = top.render(&example("kpx-lfs"), &[]);
    for root in spec_support::rpm_roots() {
        let out = rpmspec_parse(root.as_deref(), &spec);
        for pkg in ["osd-zfs", "osd-ldiskfs", "tests"] {
            assert!(
                out.contains(&format!("%package -n kmod-kpx-lfs-{pkg}\n")),
                "{root:?}: no kmod-kpx-lfs-{pkg}"
            );
            assert!(
                out.contains(&format!("%files -n kmod-kpx-lfs-{pkg}\n")),
                "{root:?}: no %files of kmod-kpx-lfs-{pkg}"
            );
        }
        // %{version} in a relation is expanded by rpm itself.
        assert!(
            out.contains("Obsoletes:      kmod-kpx-lfs-test < 2.15.5\n"),
            "{root:?}: {out}"
        );
        assert!(
            out.contains("Requires:       kmod-kpx-lfs = 2.15.5-1.el9_5"),
            "{root:?}"
        );
    }
}

/// `ksym(...)` lines of a dependency list.
fn ksyms(lines: &[String]) -> BTreeSet<String> {
    lines
        .iter()
        .filter(|l| l.starts_with("ksym("))
        .cloned()
        .collect()
}

/// `ksym(sym) = crc` lines of `symvers` for the symbols `module` exports.
fn exports_of(symvers: &Path, module: &str) -> BTreeSet<String> {
    let text = std::fs::read_to_string(symvers).unwrap();
    let syms: BTreeSet<String> = text
        .lines()
        .filter(|l| l.split('\t').nth(2).is_some_and(|m| m.ends_with(module)))
        .filter_map(|l| l.split('\t').nth(1).map(|s| format!("ksym({s}) ")))
        .collect();
    symvers_ksyms(symvers)
        .into_iter()
        .filter(|k| syms.iter().any(|s| k.starts_with(s.as_str())))
        .collect()
}

#[test]
fn four_packages_build_with_per_package_dependencies_and_files() {
    let top = Topdir::new();
    let spec = top.render(&example("kpx-lfs"), &[]);
    let (code, log) = top.rpmbuild_args(&spec, &[], &["--noclean"]);
    assert_eq!(code, 0, "rpmbuild kpx-lfs:\n{log}");
    let core = top.rpm(&format!("kmod-kpx-lfs-{VR}"));
    let zfs = top.rpm("kmod-kpx-lfs-osd-zfs-");
    let ldiskfs = top.rpm("kmod-kpx-lfs-osd-ldiskfs-");
    let tests = top.rpm("kmod-kpx-lfs-tests-");

    // The oracle: kbuild's Module.symvers of the one build.
    let symvers = walk(&top.path().join("BUILD"))
        .into_iter()
        .find(|p| p.ends_with("kpx-lfs-2.15.5/Module.symvers"))
        .unwrap_or_else(|| {
            panic!(
                "no Module.symvers under BUILD/: {:?}",
                walk(&top.path().join("BUILD"))
            )
        });
    let lnet = exports_of(&symvers, "kpx_lnet");
    let lustre = exports_of(&symvers, "kpx_lustre");
    let ldisk = exports_of(&symvers, "kpx_ldiskfs");
    assert_eq!(lnet.len(), 1, "{lnet:?}");
    assert_eq!(lustre.len(), 2, "{lustre:?}");
    assert_eq!(ldisk.len(), 1, "{ldisk:?}");

    // Provides: each package exactly the exports of its own modules.
    let prov = |rpm: &Path| ksyms(&rpmq(rpm, &["--provides"]));
    assert_eq!(prov(&core), lnet.union(&lustre).cloned().collect());
    assert_eq!(prov(&zfs), BTreeSet::new());
    assert_eq!(prov(&ldiskfs), ldisk);
    assert_eq!(prov(&tests), BTreeSet::new());

    // Requires: what a package imports from a sibling package, never its own.
    let req = |rpm: &Path| ksyms(&rpmq(rpm, &["--requires"]));
    assert_eq!(
        req(&core),
        BTreeSet::new(),
        "kpx_lustre's import of kpx_lnet_send is the core package's own"
    );
    assert_eq!(req(&zfs), lustre, "osd-zfs requires the core's ksym()");
    assert_eq!(
        req(&ldiskfs),
        lustre,
        "osd-ldiskfs requires the core's ksym(), not its own kpx_ldiskfs export"
    );
    assert_eq!(req(&tests), lnet);

    // The generator's other path (one forked run per file, the package's
    // modules found through its ledger) splits the packages the same way as
    // the in-process batches used by default on this rpm.
    let forked = Topdir::new();
    let spec2 = forked.render(&example("kpx-lfs"), &[]);
    let (code, log) = forked.rpmbuild(&spec2, &[("_kmodpack_forked", "1")]);
    assert_eq!(code, 0, "rpmbuild kpx-lfs forked:\n{log}");
    for (rpm, name) in [
        (&core, format!("kmod-kpx-lfs-{VR}")),
        (&zfs, "kmod-kpx-lfs-osd-zfs-".to_string()),
        (&ldiskfs, "kmod-kpx-lfs-osd-ldiskfs-".to_string()),
        (&tests, "kmod-kpx-lfs-tests-".to_string()),
    ] {
        let other = forked.rpm(&name);
        assert_eq!(req(&other), req(rpm), "{name}");
        assert_eq!(prov(&other), prov(rpm), "{name}");
    }

    // Relations of each package, %{version}/%{release} expanded by rpm.
    has(&core, "--provides", "kmod-kpx-lfs-client = 2.15.5-1.el9_5");
    has(&core, "--obsoletes", "kmod-kpx-lfs-client < 2.15.5");
    has(&core, "--provides", "kmod(kpx_lnet.ko)");
    has(&zfs, "--requires", "kmod-kpx-lfs = 2.15.5-1.el9_5");
    has(&zfs, "--provides", "kmod(kpx_osd_zfs.ko)");
    has(&zfs, "--provides", "kpx-lfs-osd-zfs-kmod = 2.15.5-1.el9_5");
    has(&ldiskfs, "--requires", "kmod-kpx-lfs = 2.15.5-1.el9_5");
    has(&tests, "--provides", "kmod-kpx-lfs-test = 2.15.5-1.el9_5");
    has(&tests, "--obsoletes", "kmod-kpx-lfs-test < 2.15.5");
    for rpm in [&zfs, &ldiskfs, &tests] {
        has(
            rpm,
            "--provides",
            "kernel-modules >= 5.14.0-503.11.1.el9_5.x86_64",
        );
        let obs = rpmq(rpm, &["--obsoletes"]);
        assert!(
            !obs.iter().any(|l| l.contains("client")),
            "{}: the core's Obsoletes leaked: {obs:?}",
            rpm.display()
        );
    }
    assert!(
        !rpmq(&tests, &["--requires"])
            .iter()
            .any(|l| l.starts_with("kmod-kpx-lfs ")),
        "the tests package has no such requires in the description"
    );

    // Files: each module in exactly one package; extra files with their modes.
    let kver = "5.14.0-503.11.1.el9_5.x86_64";
    for (rpm, want) in [&core, &zfs, &ldiskfs, &tests]
        .into_iter()
        .zip(lfs_modules(kver))
    {
        assert_eq!(module_files(rpm), want);
    }
    // rpm -qp --dump: path size mtime digest mode owner group isconfig isdoc ...
    let dump = |rpm: &Path| -> Vec<Vec<String>> {
        rpmq(rpm, &["--dump"])
            .iter()
            .map(|l| l.split(' ').map(str::to_string).collect())
            .collect()
    };
    let entry = |d: &[Vec<String>], path: &str| -> (String, bool) {
        let e = d
            .iter()
            .find(|e| e[0] == path)
            .unwrap_or_else(|| panic!("{path} not in {d:?}"));
        (e[4][e[4].len() - 4..].to_string(), e[7] == "1")
    };
    let dc = dump(&core);
    assert_eq!(
        entry(&dc, "/usr/lib/udev/rules.d/99-kpx-lfs.rules"),
        ("0644".to_string(), false)
    );
    assert_eq!(
        entry(&dc, "/etc/kpx-lfs/lnet.conf"),
        ("0600".to_string(), true)
    );
    for f in [
        "/etc/modprobe.d/kmod-kpx-lfs.conf",
        "/etc/modules-load.d/kmod-kpx-lfs.conf",
        "/etc/dracut.conf.d/kmod-kpx-lfs.conf",
        "/etc/depmod.d/kmod-kpx-lfs.conf",
    ] {
        assert_eq!(entry(&dc, f), ("0644".to_string(), true), "{f}");
    }
    assert_eq!(
        entry(&dump(&tests), "/usr/libexec/kpx-lfs/run-tests.sh"),
        ("0755".to_string(), false)
    );
    assert!(!rpmq(&core, &["-l"]).iter().any(|l| l.contains("run-tests")));
    let docs = rpmq(&core, &["-d"]);
    assert!(docs.iter().any(|l| l.ends_with("/README")), "{docs:?}");
    let lic = rpmq(&core, &["-L"]);
    assert!(lic.iter().any(|l| l.ends_with("/COPYING")), "{lic:?}");

    // The generated configuration, read back from the payload; modprobe and
    // depmod themselves parse it (`modprobe -c -C`, `depmod -C`) below.
    let root = top.path().join("root");
    for rpm in [&core, &zfs, &ldiskfs, &tests] {
        extract(rpm, &root);
    }
    let read = |p: &str| std::fs::read_to_string(root.join(p)).unwrap();
    assert_eq!(
        read("etc/modprobe.d/kmod-kpx-lfs.conf"),
        "# kmod-kpx-lfs: generated by kmodpack from the package description\n\
         blacklist kpx_lnet_inbox\n\
         options kpx_lnet networks=tcp0(eth0) accept_port=988\n\
         softdep kpx_lustre pre: kpx_lnet\n"
    );
    assert_eq!(
        read("etc/dracut.conf.d/kmod-kpx-lfs.conf"),
        "# kmod-kpx-lfs: generated by kmodpack from the package description\n\
         add_drivers+=\" kpx_lnet \"\n"
    );
    assert_eq!(
        read("etc/modules-load.d/kmod-kpx-lfs.conf"),
        "# kmod-kpx-lfs: generated by kmodpack from the package description\n\
         kpx_lnet\n"
    );
    assert_eq!(
        read("etc/depmod.d/kmod-kpx-lfs-osd-ldiskfs.conf"),
        "override kpx_ldiskfs * weak-updates/kpx-lfs-osd-ldiskfs\n\
         override kpx_osd_ldiskfs * weak-updates/kpx-lfs-osd-ldiskfs\n"
    );
    // kmod's own reader of modprobe.d: the options and softdep are what it sees.
    let (code, out, err) = common::run(
        Command::new("modprobe")
            .arg("-c")
            .arg("-C")
            .arg(root.join("etc/modprobe.d")),
    );
    assert_eq!(code, 0, "{err}");
    for l in [
        "blacklist kpx_lnet_inbox",
        "options kpx_lnet networks=tcp0(eth0) accept_port=988",
        "softdep kpx_lustre pre: kpx_lnet",
    ] {
        assert!(
            out.lines().any(|x| x == l),
            "modprobe -c lacks `{l}`:\n{out}"
        );
    }
    // dracut reads its conf.d files as bash: the line sets add_drivers.
    let (code, out, err) = common::run(Command::new("bash").arg("-c").arg(format!(
        "add_drivers=; . '{}'; printf '%s' \"$add_drivers\"",
        root.join("etc/dracut.conf.d/kmod-kpx-lfs.conf").display()
    )));
    assert_eq!((code, out.as_str()), (0, " kpx_lnet "), "{err}");
}

/// Every file below `dir` (no symlinks followed).
/// The .ko files of kpx-lfs's four packages (core, osd-zfs, osd-ldiskfs,
/// tests) for kernel `kver`, in that order.
fn lfs_modules(kver: &str) -> [Vec<String>; 4] {
    let ko = |dir: &str, m: &str| format!("/lib/modules/{kver}/extra/{dir}/{m}.ko");
    [
        vec![ko("kpx-lfs", "kpx_lnet"), ko("kpx-lfs", "kpx_lustre")],
        vec![ko("kpx-lfs-osd-zfs", "kpx_osd_zfs")],
        vec![
            ko("kpx-lfs-osd-ldiskfs", "kpx_ldiskfs"),
            ko("kpx-lfs-osd-ldiskfs", "kpx_osd_ldiskfs"),
        ],
        vec![ko("kpx-lfs-tests", "kpx_lustre_tests")],
    ]
}

/// The .ko files an RPM ships.
fn module_files(rpm: &Path) -> Vec<String> {
    rpmq(rpm, &["-l"])
        .into_iter()
        .filter(|l| l.ends_with(".ko"))
        .collect()
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let t = e.file_type().unwrap();
            if t.is_dir() {
                stack.push(e.path());
            } else if t.is_file() {
                out.push(e.path());
            }
        }
    }
    out
}

/// `packages` in the per-kernel style: every package is made once per
/// target kernel (`kmod-<name>-<suffix>-<uname -r>`, requiring that kernel,
/// each with its own modules, generated ksym() Provides/Requires,
/// relations and scriptlets) plus its metapackage `kmod-<name>-<suffix>`
/// (with the package's extra files). Built with rpmbuild; dependencies
/// checked against kbuild's Module.symvers of the kernel's build.
#[test]
fn per_kernel_packages_are_made_per_kernel_with_their_own_dependencies() {
    let top = Topdir::new();
    let spec = top.render(&example("kpx-lfs"), &["--style", "per-kernel"]);
    for root in spec_support::rpm_roots() {
        let out = spec_support::rpmspec_parse(root.as_deref(), &spec);
        for p in ["", "-osd-zfs", "-osd-ldiskfs", "-tests"] {
            let want = format!("%package -n kmod-kpx-lfs{p}-5.14.0-503.11.1.el9_5.x86_64\n");
            assert!(out.contains(&want), "{want} ({root:?}): {out}");
        }
    }
    // `--without zfs` drops the osd-zfs packages, per kernel and metapackage.
    let without =
        spec_support::rpmspec_parse_with(None, &spec, &[("_without_zfs", "--without-zfs")]);
    assert!(!without.contains("kmod-kpx-lfs-osd-zfs"), "{without}");
    assert!(
        without.contains("%package -n kmod-kpx-lfs-osd-ldiskfs-5.14.0-503.11.1.el9_5.x86_64\n"),
        "{without}"
    );
    let (code, log) = top.rpmbuild_args(&spec, &[], &["--noclean"]);
    assert_eq!(code, 0, "rpmbuild kpx-lfs per-kernel:\n{log}");
    let kver = "5.14.0-503.11.1.el9_5.x86_64";
    let per = |suffix: &str| top.rpm(&format!("kmod-kpx-lfs{suffix}-{kver}-{PER_KERNEL_VR}"));
    let (core, zfs, ldiskfs, tests) =
        (per(""), per("-osd-zfs"), per("-osd-ldiskfs"), per("-tests"));
    let symvers = walk(&top.path().join("BUILD"))
        .into_iter()
        .find(|p| {
            p.ends_with("Module.symvers")
                && p.parent()
                    .and_then(|d| d.file_name())
                    .is_some_and(|d| d.to_string_lossy().starts_with("kpx-lfs-2.15.5-"))
        })
        .unwrap_or_else(|| panic!("no per-kernel Module.symvers under BUILD/"));
    let lnet = exports_of(&symvers, "kpx_lnet");
    let lustre = exports_of(&symvers, "kpx_lustre");
    let ldisk = exports_of(&symvers, "kpx_ldiskfs");
    assert_eq!((lnet.len(), lustre.len(), ldisk.len()), (1, 2, 1));
    let prov = |rpm: &Path| ksyms(&rpmq(rpm, &["--provides"]));
    let req = |rpm: &Path| ksyms(&rpmq(rpm, &["--requires"]));
    assert_eq!(prov(&core), lnet.union(&lustre).cloned().collect());
    assert_eq!(prov(&zfs), BTreeSet::new());
    assert_eq!(prov(&ldiskfs), ldisk);
    assert_eq!(req(&core), BTreeSet::new());
    assert_eq!(req(&zfs), lustre);
    assert_eq!(req(&ldiskfs), lustre);
    assert_eq!(req(&tests), lnet);
    for (rpm, suffix) in [
        (&zfs, "-osd-zfs"),
        (&ldiskfs, "-osd-ldiskfs"),
        (&tests, "-tests"),
    ] {
        has(rpm, "--requires", &format!("kernel-uname-r = {kver}"));
        has(
            rpm,
            "--provides",
            &format!("kpx-lfs{suffix}-kmod = 2.15.5-1"),
        );
        has(rpm, "--provides", "installonlypkg(kernel-module)");
        let meta = top.rpm(&format!("kmod-kpx-lfs{suffix}-{PER_KERNEL_VR}"));
        has(
            &meta,
            "--requires",
            &format!("kmod-kpx-lfs{suffix}-{kver} = 2.15.5-1"),
        );
    }
    has(&zfs, "--requires", "kmod-kpx-lfs = 2.15.5-1");
    has(&tests, "--provides", "kmod-kpx-lfs-test = 2.15.5-1");
    has(&tests, "--obsoletes", "kmod-kpx-lfs-test < 2.15.5");
    for (rpm, want) in [&core, &zfs, &ldiskfs, &tests]
        .into_iter()
        .zip(lfs_modules(kver))
    {
        assert_eq!(module_files(rpm), want);
    }
    // The tests package's extra file is in its metapackage; its scriptlets
    // follow its own policy (initramfs: never), the others rebuild it.
    assert_eq!(
        rpmq(
            &top.rpm(&format!("kmod-kpx-lfs-tests-{PER_KERNEL_VR}")),
            &["-l"]
        ),
        ["/usr/libexec/kpx-lfs/run-tests.sh"]
    );
    let scripts = |rpm: &Path| rpmq(rpm, &["--scripts"]).join("\n");
    assert!(!scripts(&tests).contains("dracut"), "{}", scripts(&tests));
    assert!(scripts(&tests).contains(&format!("depmod -a '{kver}'")));
    assert!(scripts(&zfs).contains(&format!("dracut -f '/boot/initramfs-{kver}.img'")));
}

/// The example with `from` replaced by `to` (which must occur once).
fn variant(from: &str, to: &str) -> String {
    let text = std::fs::read_to_string(example("kpx-lfs")).unwrap();
    assert_eq!(text.matches(from).count(), 1, "`{from}` must occur once");
    text.replacen(from, to, 1)
}

#[test]
fn bad_packages_and_files_are_one_line_errors_naming_the_key() {
    use kmodpack::spec::Description;
    let origin = Path::new("kpx-lfs.yaml");
    for (from, to, want) in [
        (
            "modules: [kpx_osd_zfs]",
            "modules: [kpx_osd_zfz]",
            "packages[0].modules[0]: `kpx_osd_zfz` is not one of the description's `modules` (did you mean `kpx_osd_zfs`?)",
        ),
        (
            "modules: [kpx_lustre_tests]",
            "modules: [kpx_osd_zfs]",
            "packages[2].modules[0]: module `kpx_osd_zfs` is already in package `osd-zfs`",
        ),
        ("  - name: tests\n", "  - name: osd-zfs\n", "packages[2].name: package `osd-zfs` is listed twice"),
        ("  - name: tests\n", "  - name: devel\n", "packages[2].name: `devel` names the -devel package"),
        (
            "  - name: kpx_lustre_tests\n",
            "  - name: kpx_lustre_tests\n    install_dir: kpx-lfs\n",
            "modules[5].install_dir: install directory `kpx-lfs` would be shared by two packages",
        ),
        (
            "    dest: /usr/lib/udev/rules.d/99-kpx-lfs.rules",
            "    dest: /usr/lib/udev/../../../etc/shadow",
            "files[0].dest: `/usr/lib/udev/../../../etc/shadow` has an empty, `.` or `..` component",
        ),
        (
            "    dest: /usr/lib/udev/rules.d/99-kpx-lfs.rules",
            "    dest: usr/lib/udev/rules.d/99-kpx-lfs.rules",
            "files[0].dest: `usr/lib/udev/rules.d/99-kpx-lfs.rules` must be an absolute path",
        ),
        (
            "    dest: /usr/lib/udev/rules.d/99-kpx-lfs.rules",
            "    dest: /usr/lib/udev/rules.d/%{_sysconfdir}.rules",
            "files[0].dest: contains `%`",
        ),
        (
            "    dest: /usr/lib/udev/rules.d/99-kpx-lfs.rules",
            "    dest: /usr/lib/udev/rules.d/*.rules",
            "files[0].dest: `/usr/lib/udev/rules.d/*.rules` contains `*`, which rpm expands as a glob",
        ),
        (
            "    dest: /usr/lib/udev/rules.d/99-kpx-lfs.rules",
            "    dest: /lib/modules/6.1.0/extra/x.ko",
            "files[0].dest: `/lib/modules/6.1.0/extra/x.ko` is below /lib/modules",
        ),
        (
            "  - source: 99-kpx-lfs.rules",
            "  - source: ../../etc/passwd",
            "files[0].source: `../../etc/passwd` must not leave its directory with `..`",
        ),
        ("    mode: \"0600\"", "    mode: \"4755\"", "files[1].mode: mode `4755` sets set-user-ID"),
        ("    mode: \"0600\"", "    mode: \"rw-\"", "files[1].mode: mode `rw-` is not an octal file mode"),
        ("    package: tests\n", "    package: test\n", "files[2].package: `test` is not a `packages[].name`; did you mean `tests`?"),
        (
            "      options: networks=tcp0(eth0) accept_port=988",
            "      options: networks=$(id)",
            "modprobe.options[0].options: `networks=$(id)` contains `$`",
        ),
        ("  blacklist: [kpx_lnet_inbox]", "  blacklist: [kpx_lnet_inbox.ko]", "modprobe.blacklist[0]: give the module name without `.ko`"),
        ("  add_drivers: [kpx_lnet]", "  add_drivers: [\"kpx lnet\"]", "dracut.add_drivers[0]:"),
        ("license_files: [COPYING]", "license_files: [\"COPY*\"]", "license_files[0]: `COPY*` contains `*`"),
        (
            "      - kmod-kpx-lfs-test < %{version}",
            "      - kmod-kpx-lfs-test < %{lua:os.exit()}",
            "packages[2].obsoletes[0]: dependency `kmod-kpx-lfs-test < %{lua:os.exit()}`: the version may use only",
        ),
        (
            "  - kmod-kpx-lfs-client < %{version}",
            "  - kmod-%{name}-client < 1",
            "obsoletes[0]: contains `%`",
        ),
    ] {
        let text = variant(from, to);
        let err = Description::from_yaml_str(&text, origin)
            .expect_err(to)
            .to_string();
        assert!(err.starts_with("kpx-lfs.yaml:"), "{err}");
        let (key, message) = want.split_once(':').unwrap();
        let want = format!("`{key}`:{message}");
        assert!(err.contains(&want), "for `{to}`:\n  got  {err}\n  want {want}");
        assert_eq!(err.lines().count(), 1, "{err}");
    }
    // All modules in extra packages: the main package would be empty.
    let text = variant("  - name: kpx_lnet\n  - name: kpx_lustre\n", "");
    let err = Description::from_yaml_str(&text, origin)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("`packages`: every module is in a `packages` entry; leave at least one for the main package kmod-kpx-lfs"),
        "{err}"
    );
}

/// The extra files in the styles with per-kernel packages: per-kernel puts
/// them into the metapackage `kmod-<name>` (next to firmware), suse-kmp into
/// each `<name>-kmp-<flavor>`. Both are built with rpmbuild and read back.
#[test]
fn extra_files_in_per_kernel_and_suse_kmp_packages() {
    let dir = tempfile::Builder::new()
        .prefix("kmodpack-files-")
        .tempdir()
        .unwrap();
    let src = dir.path().join("src");
    std::fs::create_dir(&src).unwrap();
    for e in std::fs::read_dir(example("kpx-lfs").parent().unwrap().join("src")).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), src.join(e.file_name())).unwrap();
    }
    let desc = dir.path().join("kpx-lfs.yaml");
    let base = String::from(
        "name: kpx-lfs\nversion: 2.15.5\nsummary: files test\nlicense: GPL-2.0-only\n\
         source:\n  dir: src\nmodules:\n  - name: kpx_lnet\n  - name: kpx_lustre\n\
         kernels:\n  - release: 5.14.0-503.11.1.el9_5\n\
         files:\n  - source: lnet.conf\n    dest: /etc/kpx-lfs/lnet.conf\n    mode: \"0600\"\n\
         \x20 - source: run-tests.sh\n    dest: /usr/libexec/kpx-lfs/run-tests.sh\n    mode: \"0755\"\n\
         modprobe:\n  blacklist: [kpx_lnet_inbox]\n\
         dracut:\n  add_drivers: [kpx_lnet]\n\
         license_files: [COPYING]\n\
         obsoletes:\n  - kpx-lfs-kmod-common < %{version}\n",
    );
    // The metapackage's own relations (per-kernel only: suse-kmp has none).
    let meta = "metapackage:\n  provides:\n    - kmod-kpx-lfs-legacy = %{version}-%{release}\n  \
                obsoletes:\n    - kmod-kpx-lfs-legacy < %{version}\n";
    let top = Topdir::new();
    for (style, rpm, conf) in [
        ("per-kernel", "kmod-kpx-lfs-2.15.5", "kmod-kpx-lfs.conf"),
        ("suse-kmp", "kpx-lfs-kmp-default-2.15.5", "kpx-lfs.conf"),
    ] {
        let text = if style == "per-kernel" {
            format!("{base}{meta}")
        } else {
            base.clone()
        };
        std::fs::write(&desc, text).unwrap();
        let spec = top.render(&desc, &["--style", style]);
        let (code, log) = top.rpmbuild(&spec, &[]);
        assert_eq!(code, 0, "rpmbuild {style}:\n{log}");
        let rpm = top.rpm(rpm);
        let dump = rpmq(&rpm, &["--dump"]);
        let entry = |path: &str| -> (String, String) {
            let e: Vec<&str> = dump
                .iter()
                .find(|l| l.starts_with(&format!("{path} ")))
                .unwrap_or_else(|| panic!("{style}: {path} not in {dump:?}"))
                .split(' ')
                .collect();
            (e[4][e[4].len() - 4..].to_string(), e[7].to_string())
        };
        assert_eq!(entry("/etc/kpx-lfs/lnet.conf"), ("0600".into(), "1".into()));
        assert_eq!(
            entry("/usr/libexec/kpx-lfs/run-tests.sh"),
            ("0755".into(), "0".into())
        );
        assert_eq!(
            entry(&format!("/etc/modprobe.d/{conf}")),
            ("0644".into(), "1".into())
        );
        assert_eq!(
            entry(&format!("/etc/dracut.conf.d/{conf}")),
            ("0644".into(), "1".into())
        );
        let lic = rpmq(&rpm, &["-L"]);
        assert!(
            lic.iter().any(|l| l.ends_with("/COPYING")),
            "{style}: {lic:?}"
        );
        let root = top.path().join(format!("root-{style}"));
        extract(&rpm, &root);
        assert_eq!(
            std::fs::read_to_string(root.join(format!("etc/modprobe.d/{conf}"))).unwrap(),
            format!(
                "# {}: generated by kmodpack from the package description\nblacklist kpx_lnet_inbox\n",
                conf.trim_end_matches(".conf")
            )
        );
        if style == "per-kernel" {
            // Older names: the metapackage (what users install by name) and
            // the per-kernel package each carry their own.
            let obs = rpmq(&rpm, &["--obsoletes"]);
            assert_eq!(obs, ["kmod-kpx-lfs-legacy < 2.15.5"], "{obs:?}");
            assert!(
                rpmq(&rpm, &["--provides"]).contains(&"kmod-kpx-lfs-legacy = 2.15.5-1".to_string())
            );
            let per = top.rpm("kmod-kpx-lfs-5.14.0-503.11.1.el9_5.x86_64-2.15.5");
            let obs = rpmq(&per, &["--obsoletes"]);
            assert_eq!(obs, ["kpx-lfs-kmod-common < 2.15.5"], "{obs:?}");
            // suse-kmp has no metapackage: refused with one line.
            std::fs::write(&desc, format!("{base}{meta}")).unwrap();
            let (code, out, err) = common::run(
                common::kmodpack()
                    .arg("spec")
                    .arg(&desc)
                    .arg("--style")
                    .arg("suse-kmp"),
            );
            assert_ne!(code, 0, "{out}");
            assert!(
                err.contains("`metapackage`: style suse-kmp has no metapackage")
                    && err.lines().count() == 1,
                "{err}"
            );
        }
        std::fs::remove_dir_all(top.path().join("RPMS")).unwrap();
    }
}
