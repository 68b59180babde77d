//! Issue #19's first hour, walked as a new user would: their own exporter
//! (tests/modules/acme_kore) and PCI-driver importer (tests/modules/acme_nic),
//! a hand-written `.spec` and YAML descriptions, `kmodpack build` for an
//! RHEL-style and a SUSE target against the installed Debian kernel headers
//! (the release is never hard-coded: common::headers_dir()), then RH and
//! SUSE driver update disks with `dud build` and `dud verify`, and the
//! commands a user points at the results. Every step is a real component:
//! rpmbuild, rpm, createrepo_c, xorriso, kbuild, openssl.
//!
//! One test, because each step takes the previous one's output (as the user
//! does); each assertion is named after its bullet of #19 ("The first
//! hour") or its finding, so a failure says which promise broke.

mod build_util;
mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use build_util::{build, copy_module, rpm_query, throwaway_key, Run};

/// RHEL 9.5, the `uname -r` way (with the arch).
const RH_KERNEL: &str = "5.14.0-503.11.1.el9_5.x86_64";
/// A newer RHEL 9.5 installer.
const RH_INSTALLER: &str = "5.14.0-503.14.1.el9_5.x86_64";
/// SLES 15 SP5, its release as rpm spells it and its `uname -r`.
const SUSE_RELEASE: &str = "5.14.21-150500.55.83";
const SUSE_UNAME: &str = "5.14.21-150500.55.83-default";
/// The device acme_nic claims, and one nobody claims.
const NIC_PCI: &str = "1de5:acc1";
const NOBODY_PCI: &str = "1de5:0bad";

/// The exporter as a user's own hand-written spec (kmodpack's cell macros).
const KORE_SPEC: &str = r#"Name:           kmod-acme-kore
Version:        1.0
Release:        1
Summary:        acme core module
License:        GPL-2.0-only
Source0:        acme_kore.c
Source1:        Kbuild
BuildRequires:  kernel-devel-uname-r = %{kmodpack_kver}
%global kdir %{?kmodpack_kdir}%{!?kmodpack_kdir:/usr/src/kernels/%{kmodpack_kver}}
%global debug_package %{nil}
%global __os_install_post %{nil}

%description
acme core module.

%prep
%setup -q -c -T
cp %{SOURCE0} %{SOURCE1} .

%build
make -C %{kdir} M=$PWD modules

%install
install -D -m 0644 acme_kore.ko %{buildroot}/lib/modules/%{kmodpack_kver}/extra/acme/acme_kore.ko
%if 0%{?kmodpack_sign_key:1}
strip --strip-debug %{buildroot}/lib/modules/%{kmodpack_kver}/extra/acme/acme_kore.ko
%{kmodpack_sign_file} %{kmodpack_sign_hash} %{kmodpack_sign_key} %{kmodpack_sign_cert} %{buildroot}/lib/modules/%{kmodpack_kver}/extra/acme/acme_kore.ko
%endif

%files
/lib/modules/%{kmodpack_kver}/extra/acme/acme_kore.ko

%changelog
* Sat Nov 21 2026 acme <dev@acme.invalid> - 1.0-1
- first
"#;

/// A spec whose %install names a module that was never built.
const BROKEN_SPEC: &str = r#"Name:           kmod-acme-broken
Version:        1.0
Release:        1
Summary:        acme broken module
License:        GPL-2.0-only
%global debug_package %{nil}

%description
Never builds acme_kore.ko.

%prep
%build
%install
install -D -m 0644 acme_kore.ko %{buildroot}/lib/modules/%{kmodpack_kver}/extra/acme_kore.ko

%files
/lib/modules/%{kmodpack_kver}/extra/acme_kore.ko
"#;

/// The exporter and importer as YAML descriptions for RHEL; they list an
/// RHEL 9.4 kernel in its `uname -r` spelling.
fn rh_description(name: &str) -> String {
    let (module, extra) = match name {
        "acme-kore" => ("acme_kore", "devel: true\n".to_string()),
        _ => (
            "acme_nic",
            "build:\n  make_args:\n    - 'ACME_CFLAGS=-DACME_NIC_VERSION=\\\"1.2\\\"'\n\
             depends:\n  - name: acme-kore\n    version: '1.0'\n"
                .to_string(),
        ),
    };
    format!(
        "name: {name}\nversion: '1.0'\nrelease: 1\nsummary: {name} kernel module\nlicense: GPL-2.0-only\n\
         style: redhat-kabi\nsource:\n  dir: src\nmodules:\n  - name: {module}\n\
         kernels:\n  - release: 5.14.0-427.13.1.el9_4.x86_64\n    arches: [x86_64]\n{extra}\
         changelog:\n  - date: Sat Nov 21 2026\n    author: acme <dev@acme.invalid>\n    version: 1.0-1\n    changes:\n      - first\n"
    )
}

/// Both modules in one SUSE KMP, signed with a key named relative to the
/// description file.
const SUSE_DESCRIPTION: &str = r#"name: acme
version: '1.0'
release: 1
summary: acme core and NIC driver
license: GPL-2.0-only
style: suse-kmp
source:
  dir: src
build:
  make_args:
    - 'ACME_CFLAGS=-DACME_NIC_VERSION=\"1.2\"'
modules:
  - name: acme_kore
  - name: acme_nic
kernels:
  - release: 5.14.21-150500.55.83
    arches: [x86_64]
    flavor: default
signing:
  key: keys/signing_key.pem
  cert: keys/signing_cert.pem
changelog:
  - date: Sat Nov 21 2026
    author: acme <dev@acme.invalid>
    version: 1.0-1
    changes:
      - first
"#;

fn write(path: &Path, text: &str) -> PathBuf {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
    path.to_path_buf()
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn headers() -> String {
    common::headers_dir().display().to_string()
}

/// `kmodpack ARGS` in `dir`: (code, stdout, stderr).
fn kmodpack_in(dir: &Path, args: &[&str]) -> (i32, String, String) {
    common::run(common::kmodpack().args(args).current_dir(dir))
}

/// `modinfo -F FIELD` of the module inside an RPM (unpacked with rpm2cpio).
fn modinfo_in_rpm(rpm: &Path, module: &str, field: &str) -> String {
    let root = tempfile::tempdir().unwrap();
    common::rpm_unpack(rpm, root.path());
    let ko = walkdir::WalkDir::new(root.path())
        .into_iter()
        .flatten()
        .find(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with(&format!("{module}.ko"))
        })
        .unwrap_or_else(|| panic!("no {module}.ko in {}", rpm.display()))
        .into_path();
    let (code, out, err) = common::run(Command::new("modinfo").args(["-F", field]).arg(&ko));
    assert_eq!(code, 0, "modinfo {}: {err}", ko.display());
    out.trim().to_string()
}

#[test]
fn a_new_users_first_hour_has_no_dead_ends() {
    let home = tempfile::tempdir().unwrap();
    let work = home.path().join("work");
    std::fs::create_dir_all(&work).unwrap();
    let keys = work.join("keys");
    std::fs::create_dir_all(&keys).unwrap();
    let (_, _, user_cn, _) = throwaway_key(&keys);

    // ---- 1. The exporter from the user's own .spec, for RHEL 9.5 (release
    // without the arch), signed with keys named relative to the current directory.
    let kore_dir = work.join("kore");
    copy_module("acme_kore", &kore_dir);
    let kore_spec = write(&kore_dir.join("acme-kore.spec"), KORE_SPEC);
    let rh_release = RH_KERNEL.trim_end_matches(".x86_64");
    let (_r1, spec_run) = build(
        &[
            s(&kore_spec),
            &format!("--kernel={rh_release}={}", headers()),
            "--sign-key",
            "keys/signing_key.pem",
            "--sign-cert",
            "keys/signing_cert.pem",
        ],
        |c| {
            c.current_dir(&work);
        },
    );
    assert_eq!(spec_run.code, 0, "{}", spec_run.explain());
    let kore_rpm = spec_run.rpm("kmod-acme-kore", "kmod-acme-kore");

    // Finding 1: a .spec input's RPM carries kmod(), ksym() Provides and
    // kernel() Requires (the generator ran, whatever --target did to --load).
    let provides = rpm_query("--provides", &kore_rpm);
    let requires = rpm_query("--requires", &kore_rpm);
    let kore_exports = ["acme_kore_get", "acme_kore_put"];
    assert!(
        provides.contains(&"kmod(acme_kore.ko)".to_string())
            && kore_exports.iter().all(|e| provides
                .iter()
                .any(|p| p.starts_with(&format!("ksym({e}) = 0x")))),
        "finding 1 (spec input without kernel-module dependencies): {provides:?}"
    );
    assert!(
        requires.iter().any(|r| r.starts_with("kernel(")),
        "finding 1 (spec input without kernel() Requires): {requires:?}"
    );
    let cell = spec_run.cell("kmod-acme-kore");
    assert_eq!(
        cell["rpms"][0]["provides_kmod"], 1,
        "finding 1: report.json counts the kmod() Provides: {cell}"
    );

    // One spelling of a kernel release: the release without `.arch` installs
    // into the `uname -r` directory, with the arch.
    let files = rpm_query("-l", &kore_rpm);
    assert!(
        files
            .iter()
            .any(|f| f.starts_with(&format!("/lib/modules/{RH_KERNEL}/extra/"))),
        "one spelling of a kernel release (spec input, release without .arch): {files:?}"
    );

    // Relative paths: --sign-key/--sign-cert relative to the current directory.
    let sig = &cell["signature"];
    assert!(
        sig["status"] == "verified" && sig["expected"]["signer"] == user_cn.as_str(),
        "relative paths (--sign-key/--sign-cert from the current directory): {sig}"
    );

    // ---- 2. A failed cell prints the lines that failed, with advice for
    // kmodpack build users.
    let broken = write(&work.join("broken/acme-broken.spec"), BROKEN_SPEC);
    let (_r2, failed) = build(
        &[s(&broken), &format!("--kernel={RH_KERNEL}={}", headers())],
        |_| {},
    );
    assert_eq!(failed.code, 1, "{}", failed.explain());
    assert!(
        failed
            .stdout
            .lines()
            .any(|l| l.starts_with("FAILED  kmod-acme-broken/")
                && l.contains("install: cannot stat 'acme_kore.ko'")
                && l.contains("hint: a module the package lists was not built")),
        "a failed cell prints the lines of build.log that failed: {}",
        failed.stdout
    );
    assert!(
        !failed.stdout.contains("rpmbuild -ba") && !failed.stdout.contains("--define"),
        "advice fits kmodpack build users: {}",
        failed.stdout
    );

    // ---- 3. Exporter and PCI importer as YAML for RHEL: the descriptions
    // list 9.4 in `uname -r` spelling; `--kernel` adds 9.5 (Fedora's cadence).
    let rh = work.join("rh");
    for (name, module) in [("acme-kore", "acme_kore"), ("acme-nic", "acme_nic")] {
        write(
            &rh.join(name).join(format!("{name}.yaml")),
            &rh_description(name),
        );
        copy_module(module, &rh.join(name).join("src"));
    }
    let nic_yaml = rh.join("acme-nic/acme-nic.yaml");
    let kore_yaml = rh.join("acme-kore/acme-kore.yaml");

    // An importer whose exporter is built with devel: false is refused up front.
    let nodevel = write(
        &rh.join("nodevel/acme-kore.yaml"),
        &rh_description("acme-kore").replace("devel: true\n", "devel: false\n"),
    );
    copy_module("acme_kore", &rh.join("nodevel/src"));
    let (t, run) = build(
        &[
            s(&nic_yaml),
            s(&nodevel),
            &format!("--kernel={RH_KERNEL}={}", headers()),
        ],
        |_| {},
    );
    assert!(
        run.code == 2
            && run.stderr.contains("acme-nic imports from acme-kore")
            && run.stderr.contains("devel: false")
            && !t.path().join("results/report.json").exists(),
        "an importer of an exporter with devel: false is refused up front: {}",
        run.explain()
    );

    let (_r3, rh_run) = build(
        &[
            s(&nic_yaml),
            s(&kore_yaml),
            &format!("--kernel={RH_KERNEL}={}", headers()),
        ],
        |_| {},
    );
    assert_eq!(rh_run.code, 0, "{}", rh_run.explain());
    let cells = rh_run.report["cells"].as_array().unwrap();
    assert!(
        cells.len() == 2
            && cells.iter().all(|c| c["kernel"] == rh_release && c["status"] == "built")
            && cells[0]["package"] == "acme-kore",
        "build --kernel adds a kernel the description does not list (and .x86_64 is accepted in YAML and --kernel): {cells:?}"
    );
    let nic_rpm = rh_run.rpm("acme-nic", "kmod-acme-nic");
    let yaml_kore_rpm = rh_run.rpm("acme-kore", "kmod-acme-kore");
    assert!(
        rpm_query("-l", &nic_rpm)
            .iter()
            .any(|f| f.starts_with(&format!("/lib/modules/{RH_KERNEL}/extra/"))),
        "one spelling of a kernel release (YAML)"
    );
    // The quoted string define reached the compiler as written (#13).
    assert_eq!(modinfo_in_rpm(&nic_rpm, "acme_nic", "version"), "1.2");
    // The importer requires the exporter's ksym()s, which the exporter provides.
    let nic_requires = rpm_query("--requires", &nic_rpm);
    let kore_provides = rpm_query("--provides", &yaml_kore_rpm);
    for e in kore_exports {
        let r = nic_requires
            .iter()
            .find(|r| r.starts_with(&format!("ksym({e}) = ")))
            .unwrap_or_else(|| {
                panic!("finding 1 (YAML importer without ksym({e})): {nic_requires:?}")
            });
        assert!(kore_provides.contains(r), "{r} not in {kore_provides:?}");
    }

    // ---- 4. Globbing a result directory is a normal input.
    let results = &rh_run.resultdir;
    let all: Vec<PathBuf> = common::files_below(results, ".rpm")
        .into_iter()
        .filter(|p| !p.starts_with(results.join("kmodpack-repo")))
        .collect();
    assert!(
        all.iter().any(|p| s(p).ends_with(".src.rpm"))
            && all.iter().any(|p| s(p).contains("-devel-")),
        "{all:?}"
    );
    let all_args: Vec<&str> = all.iter().map(|p| s(p)).collect();
    let mut kabi = vec!["kabi", "check", "--kernel"];
    let symvers = common::kernel_symvers();
    kabi.push(s(&symvers));
    kabi.extend(&all_args);
    let (code, out, err) = kmodpack_in(&work, &kabi);
    assert!(
        code == 0
            && out.contains("acme_nic")
            && out.contains("compatible")
            && !err.contains("contains no kernel modules"),
        "globbing a result directory: kabi check skips SRPMs and -devel RPMs: {code}\n{out}\n{err}"
    );
    let mut alias = vec!["alias", "--pci", NIC_PCI];
    alias.extend(&all_args);
    let (code, out, err) = kmodpack_in(&work, &alias);
    assert!(
        code == 0 && out.contains("acme_nic") && !err.contains("contains no kernel modules"),
        "globbing a result directory: alias skips SRPMs and -devel RPMs: {code}\n{out}\n{err}"
    );
    let (code, out, err) = kmodpack_in(&work, &["alias", "--pci", NIC_PCI, s(results)]);
    assert!(
        code == 0 && out.contains("acme_nic"),
        "globbing a result directory: a directory of RPMs is accepted: {code}\n{out}\n{err}"
    );
    let (code, out, err) = kmodpack_in(&work, &["inspect", s(&nic_rpm)]);
    assert!(
        code == 0 && out.contains("acme_nic") && out.contains("pci:v00001DE5d0000ACC1"),
        "inspect reads the modules inside an RPM: {code}\n{out}\n{err}"
    );

    // ---- 5. deps check without --symvers: one hint, not a line per kernel symbol.
    let (code, out, err) = kmodpack_in(&work, &["deps", "check", s(&yaml_kore_rpm), s(&nic_rpm)]);
    let notes: Vec<&str> = out.lines().filter(|l| l.starts_with("note: ")).collect();
    assert!(
        code == 0
            && notes.len() == 1
            && notes[0].contains("kernel() requirement(s) not checked: no kernel given")
            && !out.contains("no provider"),
        "deps check without --symvers prints one hint about the missing kernel: {code}\n{out}\n{err}"
    );

    // ---- 6. The RH driver update disk from the result directory.
    let disks = work.join("disks");
    std::fs::create_dir_all(&disks).unwrap();
    let rh_iso = disks.join("acme-dd.iso");
    // `dud build -o ISO --installer-kernel RH_INSTALLER EXTRA… RESULTDIR`.
    let rh_dud = |iso: &Path, extra: &[&str]| {
        let mut args = vec![
            "dud",
            "build",
            "-o",
            s(iso),
            "--installer-kernel",
            RH_INSTALLER,
        ];
        args.extend(extra);
        args.push(s(results));
        kmodpack_in(&work, &args)
    };
    let (code, out, err) = rh_dud(&rh_iso, &["--pci-id", NOBODY_PCI]);
    assert!(
        code == 2 && !rh_iso.exists() && (out.contains(NOBODY_PCI) || err.contains(NOBODY_PCI)),
        "dud: a --pci-id no module claims is an error: {code}\n{out}\n{err}"
    );
    let (code, out, err) = rh_dud(&rh_iso, &["--pci-id", NIC_PCI, "--json"]);
    assert_eq!(code, 0, "{out}\n{err}");
    let j: serde_json::Value = serde_json::from_str(&out)
        .unwrap_or_else(|e| panic!("dud build --json is JSON: {e}\n{out}"));
    assert!(rh_iso.is_file(), "{j}");
    let text = j.to_string();
    assert!(
        text.contains("src.rpm") && text.contains("-devel-"),
        "globbing a result directory: dud build leaves SRPMs and -devel RPMs behind with a note: {j}"
    );
    // Both kmods are unsigned: one warning for the disk, not one per RPM.
    let (code, out, _) = rh_dud(&disks.join("again.iso"), &[]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(
        out.matches("unsigned module(s)").count(),
        1,
        "dud: the unsigned-module warning is said once per disk: {out}"
    );
    assert!(
        out.contains("acme_kore.ko") && out.contains("acme_nic.ko"),
        "{out}"
    );

    // dud verify: without installer kernels never `result: OK`.
    let (code, out, err) = kmodpack_in(&work, &["dud", "verify", s(&rh_iso)]);
    assert!(
        code == 1 && out.contains("result: NOT CHECKED") && !out.contains("result: OK"),
        "dud verify without installer kernels does not end in result: OK: {code}\n{out}\n{err}"
    );
    let (code, out, err) = kmodpack_in(
        &work,
        &[
            "dud",
            "verify",
            s(&rh_iso),
            "--installer-kernel",
            RH_INSTALLER,
            "--json",
        ],
    );
    assert_eq!(code, 0, "{out}\n{err}");
    let j: serde_json::Value = serde_json::from_str(&out)
        .unwrap_or_else(|e| panic!("dud verify --json is JSON: {e}\n{out}"));
    assert!(j.to_string().contains("kmod-acme-nic"), "{j}");

    // ---- 7. SUSE: one KMP with both modules, signed with keys relative to
    // the description file (the build runs elsewhere).
    let suse = work.join("suse");
    copy_module("acme_kore", &suse.join("src"));
    copy_module("acme_nic", &suse.join("src"));
    write(
        &suse.join("src/Kbuild"),
        "obj-m := acme_kore.o acme_nic.o\nccflags-y += $(ACME_CFLAGS)\n",
    );
    std::fs::create_dir_all(suse.join("keys")).unwrap();
    let (_, _, suse_cn, _) = throwaway_key(&suse.join("keys"));
    let suse_yaml = write(&suse.join("acme.yaml"), SUSE_DESCRIPTION);
    let elsewhere = work.join("elsewhere");
    std::fs::create_dir_all(&elsewhere).unwrap();
    let (_r4, suse_run): (_, Run) = build(
        &[
            "../suse/acme.yaml",
            &format!("--kernel={SUSE_UNAME}={}", headers()),
        ],
        |c| {
            c.current_dir(&elsewhere);
        },
    );
    assert_eq!(
        suse_run.code,
        0,
        "{} ({})",
        suse_run.explain(),
        s(&suse_yaml)
    );
    assert_eq!(
        suse_run.cell("acme")["kernel"],
        SUSE_RELEASE,
        "one spelling of a kernel release: SUSE's uname -r (with -default) names the description's kernel"
    );
    let sig = &suse_run.cell("acme")["signature"];
    assert!(
        sig["status"] == "verified" && sig["expected"]["signer"] == suse_cn.as_str(),
        "relative paths (signing.* relative to the description file): {sig}"
    );
    let kmp = suse_run.rpm("acme", "acme-kmp-default");
    assert_eq!(modinfo_in_rpm(&kmp, "acme_nic", "version"), "1.2");

    // The SUSE disk, verified with the SUSE kernel string.
    let suse_iso = disks.join("acme-suse.iso");
    // `dud build --format suse --dist sles15 -o ISO --installer-kernel SUSE_UNAME INPUTS…`.
    let suse_dud = |iso: &Path, inputs: &[&Path]| {
        let mut args = vec![
            "dud",
            "build",
            "--format",
            "suse",
            "--dist",
            "sles15",
            "-o",
            s(iso),
        ];
        args.extend(["--installer-kernel", SUSE_UNAME]);
        args.extend(inputs.iter().map(|p| s(p)));
        kmodpack_in(&work, &args)
    };
    let (code, out, err) = suse_dud(&suse_iso, &[&suse_run.resultdir]);
    assert_eq!(code, 0, "{out}\n{err}");
    let (code, out, err) = kmodpack_in(
        &work,
        &[
            "dud",
            "verify",
            s(&suse_iso),
            "--installer-kernel",
            SUSE_UNAME,
        ],
    );
    assert!(
        code == 0 && out.contains("result: OK"),
        "dud: SUSE kernel strings are accepted by dud verify as by dud build --format suse: {code}\n{out}\n{err}"
    );

    // A Red Hat kmod on a SUSE disk is flagged (linuxrc would load nothing).
    let (code, out, err) = suse_dud(&disks.join("rh-on-suse.iso"), &[&nic_rpm, &yaml_kore_rpm]);
    assert!(
        code == 2
            && out.contains("linuxrc loads nothing")
            && !disks.join("rh-on-suse.iso").exists(),
        "dud: a Red Hat kmod put on a SUSE disk is flagged: {code}\n{out}\n{err}"
    );

    // ---- 8. Finding 2: the README's `kmodpack spec` + rpmbuild, with the
    // generator not where the spec looks, stops instead of exiting 0.
    let top = work.join("rpmbuild");
    std::fs::create_dir_all(top.join("SOURCES")).unwrap();
    let spec = top.join("kmod-acme-kore.spec");
    let (code, _, err) = kmodpack_in(
        &work,
        &[
            "spec",
            s(&kore_yaml),
            "-o",
            s(&spec),
            "--sources",
            s(&top.join("SOURCES")),
            "--kernel-build-dir",
            &headers(),
        ],
    );
    assert_eq!(code, 0, "{err}");
    let rpmbuild = |extra: &[&str]| {
        common::run(
            Command::new("rpmbuild")
                .args(["-bb", "--nodeps", "--define"])
                .arg(format!("_topdir {}", top.display()))
                .args(extra)
                .arg(&spec),
        )
    };
    let (code, out, err) = rpmbuild(&["--define", "_kmodpack_bin /nonexistent/bin/kmodpack"]);
    assert!(
        code != 0
            && format!("{out}{err}").contains("kmodpack: the dependency generator '/nonexistent/bin/kmodpack' is missing or cannot run")
            && common::files_below(&top.join("RPMS"), ".rpm").is_empty(),
        "finding 2: a missing generator fails the README's rpmbuild instead of exit 0: {code}\n{err}"
    );
    let bin = format!("_kmodpack_bin {}", env!("CARGO_BIN_EXE_kmodpack"));
    // Docs: missing headers list the installed trees, in the spec and the CLI.
    let (code, out, err) = rpmbuild(&[
        "--define",
        &bin,
        "--define",
        "kmodpack_kernel_build_dir /nonexistent/kernel",
    ]);
    let log = format!("{out}{err}");
    assert!(
        code != 0
            && log.lines().any(|l| l
                .starts_with("kmodpack: kernel build tree /nonexistent/kernel not found")
                && l.contains("installed kernel build trees: ")
                && l.contains(&headers())),
        "docs: when headers are missing, the spec lists the installed /lib/modules/*/build: {log}"
    );
    let (t, run) = build(&[s(&kore_yaml)], |_| {});
    assert!(
        run.code == 2
            && run
                .stderr
                .contains("no kernel headers for 5.14.0-427.13.1.el9_4.x86_64")
            && run.stderr.contains("installed header trees: ")
            && run.stderr.contains(&headers())
            && !t.path().join("results/report.json").exists(),
        "docs: the failing kernel headers hint names the installed trees: {}",
        run.explain()
    );

    let (code, _, err) = rpmbuild(&["--define", &bin]);
    assert_eq!(code, 0, "{err}");
    let built = common::files_below(&top.join("RPMS"), ".rpm");
    let kmod = built
        .iter()
        .find(|p| !s(p).contains("-devel-"))
        .expect("kmod RPM");
    assert!(
        rpm_query("--provides", kmod).contains(&"kmod(acme_kore.ko)".to_string()),
        "finding 2: the README's way (--define _kmodpack_bin) gives the dependencies"
    );

    // ---- 9. Docs: Installation, README examples from a clone, man pages.
    let readme = std::fs::read_to_string(common::repo().join("README.md")).unwrap();
    assert!(
        readme.contains("\n## Installation\n") && readme.contains("make install"),
        "docs: an Installation section"
    );
    assert!(
        !readme.contains("../shared/")
            && !readme.lines().any(|l| l.contains("/lib/modules/")
                && l.split("/lib/modules/")
                    .nth(1)
                    .is_some_and(|r| r.starts_with(|c: char| c.is_ascii_digit()))),
        "docs: README examples work from a clone, no hard-coded kernel release of this machine"
    );
    let man = home.path().join("man");
    let (code, out, err) = kmodpack_in(&work, &["generate", "man", s(&man)]);
    assert_eq!(code, 0, "{out}{err}");
    for page in [
        "kmodpack-build.1",
        "kmodpack-dud-build.1",
        "kmodpack-description.5",
    ] {
        let text = std::fs::read_to_string(man.join(page))
            .unwrap_or_else(|e| panic!("docs: man page {page}: {e}"));
        if page.ends_with(".1") {
            for section in [".SH EXAMPLES", ".SH \"EXIT STATUS\"", ".SH FILES"] {
                assert!(
                    text.contains(section) || text.contains(&section.replace('"', "")),
                    "docs: man page {page} has {section}"
                );
            }
        }
    }
}
