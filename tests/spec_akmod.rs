//! akmod (issue #13): a per-kernel description with `akmod: true` also
//! builds `akmod-<name>`, which carries the package's own SRPM in the layout
//! RPM Fusion's akmods reads, and that SRPM rebuilds on the target for the
//! kernel akmods names.
//!
//! The oracle is RPM Fusion's own code, read from its repositories (facts,
//! not text): kmodtool's akmod template (`%akmod_install`: `rpmbuild -bs`
//! into `/usr/src/akmods/`, then `ln -s <srpm> <name>-kmod.latest`;
//! `%package -n akmod-<name>` with `Requires: akmods` and `Provides:
//! <name>-kmod = %{?epoch:%{epoch}:}%{version}-%{release}`; `%files`
//! `%{_usrsrc}/akmods/*`), its `--for-kernels` mode (only
//! `kmod-<name>-<uname -r>`, compiled against `/usr/src/kernels/<k>` or else
//! `/lib/modules/<k>/build`, the latter without kernel relations), the
//! `%posttrans` of current kmodtool (`nohup /usr/sbin/akmods
//! --from-akmod-posttrans --akmod <name> &`) and akmodsbuild's rebuild
//! command (`rpmbuild --define "_topdir …" --define "kernels <uname -r>"
//! --target <uname -m> --rebuild <srpm>`). akmods itself cannot run here (no
//! Fedora, no akmods package in Debian): the test runs the rebuild as
//! akmodsbuild does, with real rpmbuild against the installed Debian kernel
//! headers; `--nodeps` is the one difference (Debian's rpm database has
//! none of the BuildRequires).
//!
//! Deliberate differences from kmodtool, documented in the README: no
//! `Requires: <name>-kmod-common` (kmodpack has no such package; akmod is
//! refused with kernel-independent files instead of moving them there) and
//! no `Requires: kmodtool` (the spec needs kmodpack's generator instead).

mod common;
mod spec_support;

use std::path::{Path, PathBuf};
use std::process::Command;

use spec_support::{extract, rpmq, rpmspec_p, symvers_ksyms, Topdir};

const DESC: &str = "\
name: kpx-watchdog
version: \"0.9\"
release: 3
summary: Software watchdog kernel module (akmod test)
license: GPL-2.0-only
style: per-kernel
akmod: true
source:
  dir: src
modules:
  - name: kpx_wdt
    install_dir: kpx-watchdog
kernels:
  - release: 6.12.5-200.fc41
    arches: [x86_64]
scriptlets:
  initramfs: never
";

/// A description directory with `text` as kpx-watchdog.yaml and the
/// example's module sources.
fn description(text: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::Builder::new()
        .prefix("kmodpack-akmod-")
        .tempdir()
        .unwrap();
    let src = dir.path().join("src");
    std::fs::create_dir_all(&src).unwrap();
    for f in ["Kbuild", "kpx_wdt.c"] {
        std::fs::copy(
            common::repo().join("specs/kpx-watchdog/src").join(f),
            src.join(f),
        )
        .unwrap();
    }
    let yaml = dir.path().join("kpx-watchdog.yaml");
    std::fs::write(&yaml, text).unwrap();
    (dir, yaml)
}

/// The RPM files (names) under `dir`, sorted.
fn rpms_under(dir: &Path) -> Vec<PathBuf> {
    let mut v = Vec::new();
    for arch in std::fs::read_dir(dir).unwrap().flatten() {
        for f in std::fs::read_dir(arch.path()).unwrap().flatten() {
            v.push(f.path());
        }
    }
    v.sort();
    v
}

#[test]
fn akmod_package_carries_the_srpm_and_akmods_rebuilds_it_for_the_installed_kernel() {
    let (_d, yaml) = description(DESC);
    let top = Topdir::new();
    let spec = top.render(&yaml, &[]);
    let (code, log) = top.rpmbuild(&spec, &[]);
    assert_eq!(code, 0, "rpmbuild -ba: {log}");

    // The normal build: the listed kernel's package, the metapackage and akmod-<name>.
    let akmod = top.rpm("akmod-kpx-watchdog-0.9-3.");
    top.rpm("kmod-kpx-watchdog-6.12.5-200.fc41.x86_64-0.9-3.");
    top.rpm("kmod-kpx-watchdog-0.9-3.");

    // kmodtool's names and relations.
    let provides = rpmq(&akmod, &["--provides"]);
    assert!(
        provides.contains(&"kpx-watchdog-kmod = 0.9-3".to_string()),
        "{provides:?}"
    );
    let requires = rpmq(&akmod, &["--requires"]);
    for want in ["akmods", "kmodpack", "gcc", "make", "elfutils-libelf-devel"] {
        assert!(requires.iter().any(|r| r == want), "{want}: {requires:?}");
    }
    assert!(
        !requires.iter().any(|r| r.starts_with("kernel")),
        "akmod-<name> is kernel-independent: {requires:?}"
    );
    // Payload: the SRPM and the .latest symlink akmods opens, nothing else.
    let files = rpmq(&akmod, &["-l"]);
    assert_eq!(
        files,
        [
            "/usr/src/akmods/kpx-watchdog-kmod-0.9-3.src.rpm",
            "/usr/src/akmods/kpx-watchdog-kmod.latest",
        ]
    );
    let scripts = rpmq(&akmod, &["--scripts"]).join("\n");
    assert!(
        scripts.contains("nohup /usr/sbin/akmods --from-akmod-posttrans --akmod kpx-watchdog "),
        "{scripts}"
    );
    let root = top.path().join("akmod-root");
    extract(&akmod, &root);
    let latest = root.join("usr/src/akmods/kpx-watchdog-kmod.latest");
    assert_eq!(
        std::fs::read_link(&latest).unwrap(),
        Path::new("kpx-watchdog-kmod-0.9-3.src.rpm"),
        "a relative link, valid wherever the tree is"
    );
    // The embedded SRPM is this package's source: same Name/Version/Release,
    // same spec text, same tarball.
    assert_eq!(
        rpmq(&latest, &["--qf", "%{NAME} %{VERSION} %{RELEASE}\\n"]),
        ["kpx-watchdog-kmod 0.9 3"]
    );
    let inner = top.path().join("inner-srpm");
    extract(&latest, &inner);
    assert_eq!(
        std::fs::read(inner.join("kpx-watchdog-kmod.spec")).unwrap(),
        std::fs::read(&spec).unwrap()
    );
    assert_eq!(
        std::fs::read(inner.join("kpx-watchdog-0.9.tar.gz")).unwrap(),
        std::fs::read(top.path().join("SOURCES/kpx-watchdog-0.9.tar.gz")).unwrap()
    );

    // What akmods does on the target: akmodsbuild's rpmbuild --rebuild of the
    // .latest SRPM for one kernel, here the installed Debian kernel headers.
    let kver = common::kernel_release();
    let ak = tempfile::Builder::new()
        .prefix("kmodpack-akmods-")
        .tempdir()
        .unwrap();
    let mut cmd = Command::new("rpmbuild");
    for (k, v) in [
        ("_topdir", ak.path().display().to_string()),
        ("_specdir", ak.path().join("SPECS").display().to_string()),
        (
            "_sourcedir",
            ak.path().join("SOURCES").display().to_string(),
        ),
        ("_srcrpmdir", ak.path().join("SRPMS").display().to_string()),
        ("_rpmdir", ak.path().join("RPMS").display().to_string()),
        ("kernels", kver.clone()),
    ] {
        cmd.arg("--define").arg(format!("{k} {v}"));
    }
    cmd.args(["--target", "x86_64", "--nodeps", "--rebuild"])
        .arg(&latest);
    let (code, out, err) = common::run(&mut cmd);
    assert_eq!(code, 0, "akmods-style rebuild: {out}{err}");
    // Only the kernel's package: no metapackage, no akmod (kmodtool --for-kernels).
    let built = rpms_under(&ak.path().join("RPMS"));
    let names: Vec<String> = built
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        names,
        [format!("kmod-kpx-watchdog-{kver}-0.9-3.x86_64.rpm")],
        "{out}"
    );
    let kmod = &built[0];
    assert_eq!(
        rpmq(kmod, &["-l"]),
        [
            format!("/lib/modules/{kver}"),
            format!("/lib/modules/{kver}/extra"),
            format!("/lib/modules/{kver}/extra/kpx-watchdog"),
            format!("/lib/modules/{kver}/extra/kpx-watchdog/kpx_wdt.ko"),
        ]
    );
    let provides = rpmq(kmod, &["--provides"]);
    for want in [
        "kpx-watchdog-kmod = 0.9-3".to_string(),
        "kmod(kpx_wdt.ko)".to_string(),
        "installonlypkg(kernel-module)".to_string(),
        // rpm versions take one `-`: Debian's uname -r has two.
        format!(
            "kernel-modules-for-kernel = {}",
            kver.replacen('-', "\u{0}", 1)
                .replace('-', "_")
                .replace('\u{0}', "-")
        ),
    ] {
        assert!(provides.contains(&want), "{want}: {provides:?}");
    }
    // Compiled against the installed headers: the vermagic is that kernel's
    // and every kernel() requirement carries the CRC the headers' own
    // Module.symvers gives (modpost's output, independent of kmodpack).
    let m = tempfile::Builder::new()
        .prefix("kmodpack-akmods-ko-")
        .tempdir()
        .unwrap();
    extract(kmod, m.path());
    let ko = m
        .path()
        .join(format!("lib/modules/{kver}/extra/kpx-watchdog/kpx_wdt.ko"));
    let (code, vermagic, err) =
        common::run(Command::new("modinfo").args(["-F", "vermagic"]).arg(&ko));
    assert_eq!(code, 0, "{err}");
    assert!(vermagic.starts_with(&format!("{kver} ")), "{vermagic}");
    let kernel_ksyms: Vec<String> = symvers_ksyms(&common::kernel_symvers())
        .into_iter()
        .map(|l| l.replacen("ksym(", "kernel(", 1))
        .collect();
    let requires = rpmq(kmod, &["--requires"]);
    let kernel_reqs: Vec<&String> = requires
        .iter()
        .filter(|r| r.starts_with("kernel("))
        .collect();
    assert!(kernel_reqs.len() >= 3, "{requires:?}");
    for r in &kernel_reqs {
        assert!(
            kernel_ksyms.contains(r),
            "{r} is not in the headers' Module.symvers"
        );
    }
    // A kernel no package provides (kmodtool's custom-kernel branch): no
    // kernel-uname-r relation that nothing could satisfy.
    assert!(
        !requires.iter().any(|r| r.starts_with("kernel-uname-r")),
        "{requires:?}"
    );
}

/// `rpmspec -P` of `spec` with extra defines, by the host's rpm (4.18) or
/// inside `root` (the rpm 4.20 chroot: Fedora's rpm, where akmods runs).
fn parsed(root: Option<&Path>, spec: &Path, defines: &[(&str, &str)]) -> String {
    let (code, out, err) = rpmspec_p(root, spec, defines);
    assert_eq!(code, 0, "rpmspec -P {defines:?} in {root:?}: {err}");
    out
}

#[test]
fn rpmspec_sees_the_normal_build_or_the_akmods_rebuild() {
    let (_d, yaml) = description(DESC);
    let top = Topdir::new();
    let spec = top.render(&yaml, &[]);
    let rpm420 = common::rpm_chroot(common::RPM420);
    for root in [None, Some(rpm420.as_path())] {
        let normal = parsed(root, &spec, &[]);
        for want in [
            "%package -n kmod-kpx-watchdog\n",
            "%package -n akmod-kpx-watchdog\n",
            "%package -n kmod-kpx-watchdog-6.12.5-200.fc41.x86_64\n",
            "Source90:       kpx-watchdog-kmod.akmod.spec\n",
        ] {
            assert!(normal.contains(want), "{want} ({root:?}): {normal}");
        }
        // A Fedora kernel named by akmods: its package only, under its name,
        // requiring it only when its kernel-devel tree is installed (none here).
        let rebuild = parsed(root, &spec, &[("kernels", "6.13.2-100.fc41.x86_64")]);
        assert!(
            rebuild.contains("%package -n kmod-kpx-watchdog-6.13.2-100.fc41.x86_64\n"),
            "{root:?}: {rebuild}"
        );
        for absent in [
            "%package -n kmod-kpx-watchdog\n",
            "%package -n akmod-kpx-watchdog\n",
            "kmod-kpx-watchdog-6.12.5-200.fc41",
            "Requires:       kernel-uname-r",
        ] {
            assert!(!rebuild.contains(absent), "{absent} ({root:?}): {rebuild}");
        }
        assert!(
            rebuild.contains("/lib/modules/6.13.2-100.fc41.x86_64/build"),
            "{root:?}: {rebuild}"
        );
    }
}

#[test]
fn akmods_rebuild_for_several_kernels_at_once_is_refused() {
    let (_d, yaml) = description(DESC);
    let top = Topdir::new();
    let spec = top.render(&yaml, &[]);
    let (code, log) = top.rpmbuild(&spec, &[("kernels", "6.1.0-1-amd64 6.1.0-2-amd64")]);
    assert_ne!(code, 0, "{log}");
    assert!(
        log.contains("an akmods rebuild builds for one kernel at a time"),
        "{log}"
    );
}

#[test]
fn akmod_is_refused_where_akmods_cannot_rebuild_the_package() {
    for (edit, want) in [
        (
            DESC.replace("style: per-kernel\n", "style: redhat-kabi\n"),
            "`akmod`: is supported for style per-kernel only",
        ),
        (
            format!("{DESC}firmware:\n  - source: Kbuild\n    dest: kpx/fw.bin\n"),
            "`akmod`: cannot be combined with firmware, files, modprobe, modules_load or dracut",
        ),
    ] {
        let (_d, yaml) = description(&edit);
        let out = tempfile::Builder::new()
            .prefix("kmodpack-akmod-out-")
            .tempdir()
            .unwrap();
        let (code, stdout, err) = common::run(
            common::kmodpack()
                .arg("spec")
                .arg(&yaml)
                .arg("-o")
                .arg(out.path().join("x.spec")),
        );
        assert_ne!(code, 0, "{stdout}");
        assert!(err.contains(want), "{err}");
        assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
        assert!(!out.path().join("x.spec").exists());
    }
}

#[test]
fn kmodpack_build_makes_the_akmod_package_byte_identically() {
    let (_d, yaml) = description(DESC);
    let kernel = format!("6.12.5-200.fc41={}", common::headers_dir().display());
    let mut sums = Vec::new();
    for _ in 0..2 {
        let out = tempfile::Builder::new()
            .prefix("kmodpack-akmod-build-")
            .tempdir()
            .unwrap();
        let (code, stdout, err) = common::run(
            common::kmodpack()
                .arg("build")
                .arg(&yaml)
                .arg("--kernel")
                .arg(&kernel)
                .arg("--resultdir")
                .arg(out.path()),
        );
        assert_eq!(code, 0, "kmodpack build: {stdout}{err}");
        let rpm = out
            .path()
            .join("kpx-watchdog/6.12.5-200.fc41/x86_64/akmod-kpx-watchdog-0.9-3.x86_64.rpm");
        assert_eq!(
            rpmq(&rpm, &["-l"]),
            [
                "/usr/src/akmods/kpx-watchdog-kmod-0.9-3.src.rpm",
                "/usr/src/akmods/kpx-watchdog-kmod.latest",
            ]
        );
        sums.push(std::fs::read(&rpm).unwrap());
    }
    assert!(
        sums[0] == sums[1],
        "two builds of akmod-kpx-watchdog differ"
    );
}
