//! Build switches and the -debuginfo package (issue #13), on the
//! Lustre-shaped example `specs/kpx-lfs`, whose description declares the
//! switches `zfs` and `ldiskfs` (on: the osd packages) and `debug` (off:
//! `KPX_DEBUG=y` for kbuild), as Lustre's spec has `--without zfs`. The tests
//! add `signing` (a throwaway key) and `debuginfo: true` to a copy.
//!
//! Real components: the rendered spec is parsed by `rpmspec -P` of rpm 4.18
//! (host), 4.16 and 4.20 (chroots) with the switches as rpmbuild sets them;
//! the packages are built by the host's rpmbuild (directly, and through
//! `kmodpack build --without ...`) against the installed Debian kernel
//! headers, with the kernel's own scripts/sign-file and binutils' objcopy.
//! The built modules are read back with kmodpack's ELF reader, and the
//! debuglink CRC is recomputed over the shipped debug file.

mod build_util;
mod common;
mod spec_support;

use std::path::{Path, PathBuf};

use kmodpack::module::{self, KernelModule};
use spec_support::{extract, rpm_roots, rpmq, rpmspec_parse, rpmspec_parse_with, Topdir};

/// A copy of specs/kpx-lfs in a fresh directory, with `extra` appended to its
/// description (kept alive by the returned guard).
fn lfs_variant(extra: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let src = common::repo().join("specs/kpx-lfs");
    std::fs::create_dir_all(dir.path().join("src")).unwrap();
    for e in std::fs::read_dir(src.join("src")).unwrap().flatten() {
        std::fs::copy(e.path(), dir.path().join("src").join(e.file_name())).unwrap();
    }
    let text = std::fs::read_to_string(src.join("kpx-lfs.yaml")).unwrap();
    let desc = dir.path().join("kpx-lfs.yaml");
    std::fs::write(&desc, format!("{text}{extra}")).unwrap();
    (dir, desc)
}

/// [`lfs_variant`] with `extra`, signed with a throwaway key made beside
/// it, rendered into a fresh rpmbuild tree: (guard, tree, spec).
fn signed_lfs_spec(extra: &str) -> (tempfile::TempDir, Topdir, PathBuf) {
    let (dir, desc) = lfs_variant(extra);
    let (key, cert, _, _) = build_util::throwaway_key(dir.path());
    let text = std::fs::read_to_string(&desc).unwrap();
    let signing = format!(
        "signing:\n  key: {}\n  cert: {}\n",
        key.display(),
        cert.display()
    );
    std::fs::write(&desc, text + &signing).unwrap();
    let top = Topdir::new();
    let spec = top.render(&desc, &[]);
    (dir, top, spec)
}

#[test]
fn switches_parse_with_rpmspec_of_three_rpm_versions() {
    let (_dir, _top, spec) = signed_lfs_spec("debuginfo: true\n");
    let text = std::fs::read_to_string(&spec).unwrap();
    // The forms rpm 4.14 (RHEL 8) knows; `%bcond NAME DEFAULT` needs 4.17.1.
    for l in [
        "%bcond_without sign",
        "%bcond_without debuginfo",
        "%bcond_without zfs",
        "%bcond_without ldiskfs",
        "%bcond_with debug",
    ] {
        assert!(text.lines().any(|x| x == l), "no `{l}` in the spec");
    }
    assert!(!text.contains("%bcond "), "no 4.17.1-only bcond form");

    let sign_line = "/scripts/sign-file' 'sha256'";
    for root in rpm_roots() {
        // Defaults: every package, signed, debuginfo, no debug make argument.
        let out = rpmspec_parse(root.as_deref(), &spec);
        let packages =
            ["osd-zfs", "osd-ldiskfs", "tests"].map(|p| format!("%package -n kmod-kpx-lfs-{p}\n"));
        assert!(packages.iter().all(|p| out.contains(p)), "{root:?}: {out}");
        assert!(out.contains("%package debuginfo\n"), "{root:?}");
        assert!(out.contains("%files debuginfo\n"), "{root:?}");
        assert!(out.contains(sign_line), "{root:?}: not signed by default");
        assert!(!out.contains("KPX_DEBUG"), "{root:?}");
        assert!(
            out.contains("kpx-lfs-osd-zfs/kpx_osd_zfs.ko'"),
            "{root:?}: osd-zfs module not processed"
        );

        // What `rpmbuild --without zfs --without sign --without debuginfo
        // --with debug` defines (popt's aliases of --with/--without).
        let out = rpmspec_parse_with(
            root.as_deref(),
            &spec,
            &[
                ("_without_zfs", "--without-zfs"),
                ("_without_sign", "--without-sign"),
                ("_without_debuginfo", "--without-debuginfo"),
                ("_with_debug", "--with-debug"),
            ],
        );
        assert!(
            !out.contains("kmod-kpx-lfs-osd-zfs"),
            "{root:?}: osd-zfs package still there"
        );
        assert!(!out.contains("kpx_osd_zfs.ko"), "{root:?}");
        assert!(
            out.contains("%package -n kmod-kpx-lfs-osd-ldiskfs\n"),
            "{root:?}: ldiskfs must stay"
        );
        assert!(!out.contains(sign_line), "{root:?}: signs without sign");
        assert!(
            !out.contains("%package debuginfo"),
            "{root:?}: debuginfo stays"
        );
        assert!(
            out.contains("set -- \"$@\" 'KPX_DEBUG=y'") && out.contains("\"$@\" modules"),
            "{root:?}: no debug make argument"
        );
    }
}

/// The ELF reader's view of a packaged module (decompressed, signature split off).
fn read_module(path: &Path) -> KernelModule {
    KernelModule::parse(&std::fs::read(path).unwrap())
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn kmodpack_build_without_zfs_and_sign_with_debug() {
    // The description names a key that does not exist on this machine:
    // `--without sign` must not need it.
    let (dir, desc) = lfs_variant(
        "signing:\n  key: /nonexistent/kmodpack/signing_key.pem\n  cert: /nonexistent/kmodpack/signing_cert.pem\n",
    );
    let (_t, run) = build_util::build(
        &[
            desc.to_str().unwrap(),
            &build_util::kernel_arg_for("5.14.0-503.11.1.el9_5"),
            "--without",
            "zfs",
            "--without",
            "sign",
            "--with",
            "debug",
            "-j",
            "1",
        ],
        |_| {},
    );
    assert_eq!(run.code, 0, "{}", run.explain());
    let names: Vec<String> = run
        .rpms("kpx-lfs")
        .iter()
        .map(|p| rpmq(p, &["--qf=%{NAME}"]).join(""))
        .collect();
    assert!(
        !names.iter().any(|n| n.contains("osd-zfs")),
        "--without zfs still made osd-zfs: {names:?}"
    );
    for want in [
        "kmod-kpx-lfs",
        "kmod-kpx-lfs-osd-ldiskfs",
        "kmod-kpx-lfs-tests",
    ] {
        assert!(names.iter().any(|n| n == want), "no {want} in {names:?}");
    }
    let root = dir.path().join("root");
    for rpm in run.rpms("kpx-lfs") {
        extract(&rpm, &root);
    }
    let kos = common::files_below(&root, ".ko");
    assert_eq!(kos.len(), 5, "{kos:?}");
    for ko in &kos {
        let m = read_module(ko);
        assert!(m.signature.is_none(), "{}: signed", ko.display());
    }
    // --with debug reached kbuild: the module was compiled with KPX_DEBUG.
    let lnet = kos.iter().find(|p| p.ends_with("kpx_lnet.ko")).unwrap();
    assert_eq!(read_module(lnet).modinfo.get("kpx_debug"), Some("on"));

    // A switch the description does not have is an error, not ignored.
    let (_t, bad) = build_util::build(
        &[
            desc.to_str().unwrap(),
            &build_util::kernel_arg_for("5.14.0-503.11.1.el9_5"),
            "--without",
            "zsf",
        ],
        |_| {},
    );
    assert_eq!(bad.code, 2, "{}", bad.explain());
    assert!(
        bad.stderr
            .contains("--without zsf: the description has no switch `zsf`; did you mean `zfs`?"),
        "{}",
        bad.stderr
    );
    assert_eq!(bad.stderr.trim().lines().count(), 1, "{}", bad.stderr);
}

#[test]
fn debuginfo_is_split_before_strip_sign_compress() {
    let (dir, top, spec) = signed_lfs_spec("debuginfo: true\ncompress: xz\n");
    let (code, log) = top.rpmbuild(&spec, &[]);
    assert_eq!(code, 0, "rpmbuild:\n{log}");
    let debuginfo = top.rpm("kmod-kpx-lfs-debuginfo-");
    let root = dir.path().join("root");
    for prefix in [
        "kmod-kpx-lfs-2",
        "kmod-kpx-lfs-osd-zfs-",
        "kmod-kpx-lfs-osd-ldiskfs-",
        "kmod-kpx-lfs-tests-",
    ] {
        extract(&top.rpm(prefix), &root);
    }
    extract(&debuginfo, &root);
    let kver = "5.14.0-503.11.1.el9_5.x86_64";
    let shipped = common::files_below(&root.join("lib/modules").join(kver), ".ko.xz");
    assert_eq!(shipped.len(), 6, "{shipped:?}");
    for ko in &shipped {
        let bytes = std::fs::read(ko).unwrap();
        // Compressed last: the xz stream holds the signed module.
        let m = KernelModule::parse(&bytes).unwrap();
        assert_eq!(m.compression, module::compression::Compression::Xz);
        assert!(m.signature.is_some(), "{}: not signed", ko.display());
        // Stripped, with a debuglink the signature covers.
        let d = module::debug_sections(&bytes).unwrap();
        assert!(!d.debug_info, "{}: still has .debug_info", ko.display());
        let (name, crc) = d
            .debuglink
            .unwrap_or_else(|| panic!("{}: no .gnu_debuglink", ko.display()));
        let stem = ko
            .file_name()
            .unwrap()
            .to_string_lossy()
            .replace(".ko.xz", "");
        assert_eq!(name, format!("{stem}.ko.debug"));
        // The debug file, in Red Hat's kernel-debuginfo layout.
        let rel = ko
            .strip_prefix(&root)
            .unwrap()
            .with_file_name(format!("{stem}.ko.debug"));
        let dbg = root.join("usr/lib/debug").join(rel);
        let dbytes = std::fs::read(&dbg).unwrap_or_else(|e| panic!("{}: {e}", dbg.display()));
        assert!(
            module::debug_sections(&dbytes).unwrap().debug_info,
            "{}: no .debug_info",
            dbg.display()
        );
        let mut c = flate2::Crc::new();
        c.update(&dbytes);
        assert_eq!(c.sum(), crc, "{}: debuglink CRC", ko.display());
    }
    // The debuginfo package carries no module of the kernel tree and
    // nothing a kernel would load.
    let files = rpmq(&debuginfo, &["-l"]);
    assert!(
        files
            .iter()
            .filter(|f| f.ends_with(".ko.debug"))
            .all(|f| f.starts_with(&format!("/usr/lib/debug/lib/modules/{kver}/extra/"))),
        "{files:?}"
    );
    assert_eq!(files.iter().filter(|f| f.ends_with(".ko.debug")).count(), 6);
    assert!(
        !rpmq(&debuginfo, &["--provides"])
            .iter()
            .any(|p| p.starts_with("ksym(") || p.starts_with("kmod(")),
        "debug files must not provide module symbols"
    );
}

#[test]
fn bad_switches_are_one_line_errors_naming_the_key() {
    let cases: &[(&str, &str)] = &[
        (
            "switches:\n  - name: Zfs\n",
            "`switches[0].name`: `Zfs`: a switch name is a lower-case letter",
        ),
        (
            "switches:\n  - name: sign\n",
            "`switches[0].name`: `sign` is declared by kmodpack itself",
        ),
        (
            "switches:\n  - name: zfs\n  - name: zfs\n",
            "`switches[1].name`: switch `zfs` is listed twice",
        ),
        (
            "debuginfo: true\nstrip: false\n",
            "`debuginfo`: the debug info is split off when the modules are stripped",
        ),
    ];
    let base = std::fs::read_to_string(common::repo().join("specs/kpx-watchdog/kpx-watchdog.yaml"))
        .unwrap();
    for (extra, want) in cases {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("d.yaml");
        std::fs::write(&p, format!("{base}{extra}")).unwrap();
        let (code, out, err) = common::run(common::kmodpack().arg("spec").arg(&p));
        assert_eq!(code, 2, "{extra}: {out}{err}");
        assert!(err.contains(want), "{extra}: {err}");
        assert_eq!(err.trim().lines().count(), 1, "{err}");
    }
    // A package naming an unknown switch gets a suggestion.
    let lfs = std::fs::read_to_string(common::repo().join("specs/kpx-lfs/kpx-lfs.yaml")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("d.yaml");
    std::fs::write(&p, lfs.replace("    switch: zfs\n", "    switch: zsf\n")).unwrap();
    let (code, _, err) = common::run(common::kmodpack().arg("spec").arg(&p));
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains(
            "`packages[0].switch`: `zsf` is not a `switches[].name` (did you mean `zfs`?)"
        ),
        "{err}"
    );
}

/// `Name-Version-Release` of the main package in `rpmspec -P` output.
fn nvr(parsed: &str) -> String {
    let field = |f: &str| {
        parsed
            .lines()
            .find_map(|l| l.strip_prefix(f).map(|v| v.trim().to_string()))
            .unwrap_or_else(|| panic!("no {f} in {parsed}"))
    };
    format!(
        "{}-{}-{}",
        field("Name:"),
        field("Version:"),
        field("Release:")
    )
}

#[test]
fn two_minor_releases_never_share_an_nvr_by_default() {
    // kpx-zfs says nothing about release_from_kernel: redhat-kabi qualifies
    // Release with the target kernel's dist tag. On a RHEL 9 builder `dist`
    // is `.el9` for every minor release; it is defined so here.
    let top = Topdir::new();
    let spec = top.render(&spec_support::example("kpx-zfs"), &[]);
    for root in rpm_roots() {
        let mut seen = Vec::new();
        for kver in [
            "5.14.0-427.13.1.el9_4",
            "5.14.0-503.11.1.el9_5",
            "5.14.0-503.40.1.el9_5",
        ] {
            let out = rpmspec_parse_with(
                root.as_deref(),
                &spec,
                &[("dist", ".el9"), ("kmod_kernel_version", kver)],
            );
            seen.push(nvr(&out));
        }
        assert_eq!(
            seen,
            [
                "kmod-kpx-zfs-2.2.6-1.el9_4",
                "kmod-kpx-zfs-2.2.6-1.el9_5",
                "kmod-kpx-zfs-2.2.6-1.el9_5"
            ],
            "{root:?}"
        );
    }
    // Opting out gives `%{?dist}`: the same NVR for both minors.
    let (_dir, desc) = lfs_variant("release_from_kernel: false\n");
    let top = Topdir::new();
    let spec = top.render(&desc, &[]);
    for kver in ["5.14.0-427.13.1.el9_4", "5.14.0-503.11.1.el9_5"] {
        let out = rpmspec_parse_with(
            None,
            &spec,
            &[("dist", ".el9"), ("kmod_kernel_version", kver)],
        );
        assert_eq!(nvr(&out), "kmod-kpx-lfs-2.15.5-1.el9");
    }
}
