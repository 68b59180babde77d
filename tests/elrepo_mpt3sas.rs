//! ELRepo's el9 `kmod-mpt3sas` reproduced (issue #13): the description
//! tests/data/spec/elrepo-mpt3sas/kmod-mpt3sas.yaml, built with the real
//! rpmbuild against the installed Debian kernel headers from a stand-in
//! module of the same name (tests/modules/mpt3sas_like, not the driver),
//! must give the RPM the same Provides, Requires, files and scriptlet
//! effects as ELRepo's spec.
//!
//! The oracle is ELRepo's spec: github.com/elrepo/packages,
//! `mpt3sas-kmod/el9/kmod-mpt3sas.spec` at commit 186a584e
//! (43.100.00.00-2, "Rebuilt for RHEL 9.3", kmod_kernel_version
//! 5.14.0-362.8.1.el9_3). What it gives, as facts (its text is not copied):
//! - Name kmod-mpt3sas, Version 43.100.00.00, Release 2%{?dist}, License
//!   GPLv2, ExclusiveArch x86_64; `kmod_kernel_version` overridable with
//!   `rpmbuild --define`.
//! - Provides `kernel-modules >= <kver>.<arch>` and `kmod-mpt3sas = E:V-R`
//!   (plus rpm's own self-provides and `config(kmod-mpt3sas)`).
//! - Requires `kernel >= <kver>`, `kernel-core-uname-r >= <kver>`,
//!   Requires(post/postun) `/usr/sbin/depmod` and `/usr/sbin/weak-modules`,
//!   and (find-requires.ksyms) one `kernel(sym) = crc` per imported kernel
//!   symbol.
//! - Files: `/lib/modules/<kver>.<arch>/` and all below it
//!   (`extra/mpt3sas/mpt3sas.ko`, stripped), `%config
//!   /etc/depmod.d/kmod-mpt3sas.conf` containing `override mpt3sas *
//!   weak-updates/mpt3sas`, and as %doc the kABI greylist (`greylist.txt`)
//!   and the licence (GPL-v2.0.txt).
//! - Scriptlets: %post feeds the package's .ko paths under
//!   `/lib/modules/<kver>.<arch>/extra/mpt3sas` to `weak-modules
//!   --add-modules --no-initramfs`; %posttrans rebuilds the initramfs images
//!   with dracut after the transaction (once per kernel); %postun feeds the
//!   removed .ko paths to `weak-modules --remove-modules` (letting it
//!   rebuild the initramfs on erase).
//!
//! Deliberate differences (also in the README), each asserted below:
//! - `kernel-core-uname-r >= <kver>.<arch>`: kernel-core-uname-r provides
//!   the uname -r, with its arch, so kmodpack compares like with like.
//! - kmodpack adds `mpt3sas-kmod = E:V-R` (RPM Fusion's name) and
//!   `kmod(mpt3sas.ko)` (its own generator, what kernel-rpm-macros' kmod.attr
//!   gives) and no BuildRequires on kernel-rpm-macros/redhat-rpm-config.
//! - `%config(noreplace)` for the depmod.d file (ELRepo: `%config`): a local
//!   edit is kept on upgrade.
//! - The licence is `%license` (`/usr/share/licenses/…`), not `%doc`; the
//!   greylist's %doc directory follows the build host's `_docdir_fmt`
//!   (ELRepo installs an explicit `/usr/share/doc/kmod-mpt3sas-<version>/`).
//! - The module list is fixed in the spec: no state file from %preun; %post
//!   also runs depmod for the package's kernel; %posttrans rebuilds the
//!   images of the kernels that have the module (in extra/ or, linked by
//!   weak-modules, in weak-updates/) instead of every installed kernel of
//!   the same base version.
//!
//! The scriptlets run for real in a private tree: their absolute paths are
//! rewritten into it, and weak-modules, depmod and dracut are test doubles
//! with those names that log their arguments and input (Red Hat's
//! weak-modules and dracut cannot run on Debian).

mod build_util;
mod common;
mod spec_support;

use std::path::{Path, PathBuf};
use std::process::Command;

use spec_support::{extract, rpmq, rpmspec_p, Topdir};

const KVER: &str = "5.14.0-362.8.1.el9_3";
const KVERREL: &str = "5.14.0-362.8.1.el9_3.x86_64";
/// ELRepo releases its el9 kmods per minor (`2.el9_3.elrepo`); kmodpack
/// qualifies Release with the target kernel's dist tag by default, which gives
/// the same Release wherever it builds (ELRepo's `.elrepo` suffix aside).
const VR: &str = "43.100.00.00-2.el9_3";

/// The description beside a copy of the stand-in module as `src/`.
fn description() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::Builder::new()
        .prefix("kmodpack-elrepo-")
        .tempdir()
        .unwrap();
    let yaml = dir.path().join("kmod-mpt3sas.yaml");
    std::fs::copy(
        common::repo().join("tests/data/spec/elrepo-mpt3sas/kmod-mpt3sas.yaml"),
        &yaml,
    )
    .unwrap();
    build_util::copy_module("mpt3sas_like", &dir.path().join("src"));
    (dir, yaml)
}

/// `modprobe --dump-modversions`: the `kernel(sym) = crc` lines the module's
/// own __versions table gives (kmod's reading, independent of kmodpack).
fn modversions(ko: &Path) -> Vec<String> {
    let (code, out, err) = common::run(Command::new("modprobe").arg("--dump-modversions").arg(ko));
    assert_eq!(code, 0, "modprobe --dump-modversions: {err}");
    let mut v: Vec<String> = out
        .lines()
        .filter_map(|l| {
            let (crc, sym) = l.split_once('\t')?;
            let crc = u32::from_str_radix(crc.trim_start_matches("0x"), 16).ok()?;
            Some(format!("kernel({sym}) = 0x{crc:08x}"))
        })
        .collect();
    v.sort();
    v
}

#[test]
fn kmod_mpt3sas_has_elrepos_provides_requires_files_and_scriptlet_effects() {
    let (_d, yaml) = description();
    let top = Topdir::new();
    let spec = top.render(&yaml, &[]);
    let (code, log) = top.rpmbuild(&spec, &[]);
    assert_eq!(code, 0, "rpmbuild -ba: {log}");
    let rpm = top.rpm("kmod-mpt3sas-");
    assert_eq!(
        rpmq(
            &rpm,
            &[
                "--qf",
                "%{NAME} %{VERSION} %{RELEASE} %{LICENSE} %{ARCH}\\n"
            ]
        ),
        ["kmod-mpt3sas 43.100.00.00 2.el9_3 GPLv2 x86_64"]
    );

    // Provides: ELRepo's, plus the two deliberate additions.
    let provides = rpmq(&rpm, &["--provides"]);
    let mut want = vec![
        format!("config(kmod-mpt3sas) = {VR}"),
        format!("kernel-modules >= {KVERREL}"),
        format!("kmod-mpt3sas = {VR}"),
        format!("kmod-mpt3sas(x86-64) = {VR}"),
        // deliberate additions
        "kmod(mpt3sas.ko)".to_string(),
        format!("mpt3sas-kmod = {VR}"),
    ];
    want.sort();
    let mut got = provides.clone();
    got.sort();
    assert_eq!(got, want);

    // Requires: ELRepo's (kernel-core-uname-r with the arch: deliberate).
    let requires = rpmq(&rpm, &["--requires"]);
    for r in [
        format!("kernel >= {KVER}"),
        format!("kernel-core-uname-r >= {KVERREL}"),
        "/usr/sbin/depmod".to_string(),
        "/usr/sbin/weak-modules".to_string(),
        format!("config(kmod-mpt3sas) = {VR}"),
    ] {
        assert!(requires.contains(&r), "{r}: {requires:?}");
    }
    let reqs_post: Vec<String> = rpmq(
        &rpm,
        &["--qf", "[%{REQUIREFLAGS:deptype} %{REQUIRENAME}\\n]"],
    );
    for r in [
        "post /usr/sbin/depmod",
        "postun /usr/sbin/depmod",
        "post /usr/sbin/weak-modules",
        "postun /usr/sbin/weak-modules",
    ] {
        assert!(reqs_post.iter().any(|l| l == r), "{r}: {reqs_post:?}");
    }

    // Files, with their flags.
    let root = top.path().join("payload");
    extract(&rpm, &root);
    let ko = root.join(format!("lib/modules/{KVERREL}/extra/mpt3sas/mpt3sas.ko"));
    // kernel() requirements: exactly the module's imports with their CRCs.
    let mut kernel_reqs: Vec<String> = requires
        .iter()
        .filter(|r| r.starts_with("kernel("))
        .cloned()
        .collect();
    kernel_reqs.sort();
    assert_eq!(kernel_reqs, modversions(&ko));
    assert!(!kernel_reqs.is_empty());
    let files = rpmq(
        &rpm,
        &[
            "--qf",
            "[%{FILEFLAGS:fflags}|%{FILEMODES:perms}|%{FILENAMES}\n]",
        ],
    );
    let doc_dir = files
        .iter()
        .find_map(|l| {
            l.strip_prefix("d|-rw-r--r--|")
                .filter(|p| p.ends_with("/greylist.txt"))
        })
        .unwrap_or_else(|| panic!("no %doc greylist.txt: {files:?}"));
    assert!(
        doc_dir.starts_with("/usr/share/doc/kmod-mpt3sas"),
        "{doc_dir}"
    );
    for want in [
        "cn|-rw-r--r--|/etc/depmod.d/kmod-mpt3sas.conf".to_string(),
        format!("|drwxr-xr-x|/lib/modules/{KVERREL}"),
        format!("|drwxr-xr-x|/lib/modules/{KVERREL}/extra"),
        format!("|drwxr-xr-x|/lib/modules/{KVERREL}/extra/mpt3sas"),
        format!("|-rw-r--r--|/lib/modules/{KVERREL}/extra/mpt3sas/mpt3sas.ko"),
        "l|-rw-r--r--|/usr/share/licenses/kmod-mpt3sas-43.100.00.00/GPL-v2.0.txt".to_string(),
    ] {
        // The licence directory also follows _docdir_fmt.
        let found = files.iter().any(|l| {
            l == &want
                || (want.contains("/usr/share/licenses/")
                    && l.starts_with("l|-rw-r--r--|/usr/share/licenses/kmod-mpt3sas")
                    && l.ends_with("/GPL-v2.0.txt"))
        });
        assert!(found, "{want}: {files:?}");
    }
    assert_eq!(
        std::fs::read_to_string(root.join("etc/depmod.d/kmod-mpt3sas.conf"))
            .unwrap()
            .lines()
            .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
            .collect::<Vec<_>>(),
        ["override mpt3sas * weak-updates/mpt3sas"]
    );
    // Stripped, as ELRepo's %install does.
    let (_, sections, _) = common::run(Command::new("objdump").arg("-h").arg(&ko));
    assert!(!sections.contains(".debug_info"), "{sections}");

    scriptlet_effects(&rpm, &ko);
}

/// Runs %post, %posttrans and, after the module is gone, %postun ($1 = 0,
/// an erase) in a private tree with logging doubles, and checks ELRepo's
/// effects.
fn scriptlet_effects(rpm: &Path, ko: &Path) {
    let fake = tempfile::Builder::new()
        .prefix("kmodpack-elrepo-root-")
        .tempdir()
        .unwrap();
    let f = fake.path();
    let log = f.join("calls.log");
    for (dir, tool) in [
        ("usr/sbin", "weak-modules"),
        ("usr/sbin", "depmod"),
        ("usr/bin", "dracut"),
    ] {
        std::fs::create_dir_all(f.join(dir)).unwrap();
        let p = f.join(dir).join(tool);
        let input = if tool == "weak-modules" {
            "while IFS= read -r l; do echo \"  < $l\"; done"
        } else {
            ":"
        };
        std::fs::write(
            &p,
            format!(
                "#!/bin/sh\n{{ echo \"{tool} $*\"; {input}; }} >> '{}'\n",
                log.display()
            ),
        )
        .unwrap();
        Command::new("chmod").arg("755").arg(&p).status().unwrap();
    }
    // The package's kernel, and a later RHEL 9.3 kernel weak-modules linked it into.
    let later = "5.14.0-362.13.1.el9_3.x86_64";
    let own = f.join(format!("lib/modules/{KVERREL}/extra/mpt3sas"));
    let linked = f.join(format!("lib/modules/{later}/weak-updates/mpt3sas"));
    for d in [&own, &linked] {
        std::fs::create_dir_all(d).unwrap();
        std::fs::copy(ko, d.join("mpt3sas.ko")).unwrap();
    }
    std::fs::create_dir_all(f.join("boot")).unwrap();
    for k in [KVERREL, later] {
        std::fs::write(f.join(format!("boot/initramfs-{k}.img")), "").unwrap();
    }
    let fs = f.display().to_string();
    let run = |tag: &str, arg: &str| {
        let script = rpmq(rpm, &["--qf", &format!("%{{{tag}}}")]).join("\n");
        assert!(!script.is_empty() && script != "(none)", "{tag} missing");
        let script = script
            .replace("/usr/sbin/", &format!("{fs}/usr/sbin/"))
            .replace("/lib/modules", &format!("{fs}/lib/modules"))
            .replace("/boot/", &format!("{fs}/boot/"))
            .replace("/var/lib/", &format!("{fs}/var/lib/"));
        let (code, out, err) = common::run(
            Command::new("sh")
                .arg("-c")
                .arg(&script)
                .arg(tag)
                .arg(arg)
                .env("PATH", format!("{fs}/usr/bin:{fs}/usr/sbin:/usr/bin:/bin")),
        );
        assert_eq!(code, 0, "{tag}: {out}{err}\n{script}");
        std::fs::read_to_string(&log).unwrap_or_default()
    };
    let own_ko = format!("{fs}/lib/modules/{KVERREL}/extra/mpt3sas/mpt3sas.ko");

    let after_post = run("POSTIN", "1");
    assert!(
        after_post.contains(&format!(
            "weak-modules --add-modules --no-initramfs\n  < {own_ko}\n"
        )),
        "{after_post}"
    );
    assert!(
        !after_post.contains("dracut"),
        "no initramfs work before %posttrans: {after_post}"
    );

    let after_posttrans = run("POSTTRANS", "0");
    let mut dracut: Vec<&str> = after_posttrans
        .lines()
        .filter(|l| l.starts_with("dracut "))
        .collect();
    dracut.sort();
    let mut want = [
        format!("dracut -f {fs}/boot/initramfs-{KVERREL}.img {KVERREL}"),
        format!("dracut -f {fs}/boot/initramfs-{later}.img {later}"),
    ];
    want.sort();
    assert_eq!(
        dracut, want,
        "one rebuild per kernel with the module: {after_posttrans}"
    );

    std::fs::remove_file(own.join("mpt3sas.ko")).unwrap();
    std::fs::write(&log, "").unwrap();
    let after_postun = run("POSTUN", "0");
    assert!(
        after_postun.contains(&format!("weak-modules --remove-modules\n  < {own_ko}\n")),
        "on erase weak-modules removes the module, without --no-initramfs: {after_postun}"
    );
}

#[test]
fn kmod_kernel_version_retargets_as_elrepos_spec_does() {
    let (_d, yaml) = description();
    let top = Topdir::new();
    let spec = top.render(&yaml, &[]);
    let (code, out, err) = rpmspec_p(
        None,
        &spec,
        &[("kmod_kernel_version", "5.14.0-427.13.1.el9_4")],
    );
    assert_eq!(code, 0, "{err}");
    for want in [
        "Provides:       kernel-modules >= 5.14.0-427.13.1.el9_4.x86_64",
        "Requires:       kernel >= 5.14.0-427.13.1.el9_4",
        "BuildRequires:  kernel-devel = 5.14.0-427.13.1.el9_4",
    ] {
        assert!(out.contains(want), "{want}: {out}");
    }
    assert!(!out.contains(KVER), "{out}");
}
