//! `kmodpack spec` against the real rpm toolchain: every example parses with
//! `rpmspec -P`; the redhat-kabi exporter/importer pair builds with
//! `rpmbuild` against the installed Debian kernel headers (targeting an RHEL
//! release string), and the RPMs carry the §8.1 checklist items, checked
//! with `rpm -qp` and against kbuild's and kmod's own outputs.

mod common;
mod spec_support;

use std::path::Path;
use std::process::Command;

use spec_support::{example, examples, extract, rpmq, symvers_ksyms, Topdir};

const KVERREL: &str = "5.14.0-503.11.1.el9_5.x86_64";

#[test]
fn every_example_parses_with_rpmspec_in_every_style() {
    let top = Topdir::new();
    for desc in examples() {
        let spec = top.render(&desc, &[]);
        let (code, out, err) = common::run(Command::new("rpmspec").arg("-P").arg(&spec));
        assert_eq!(code, 0, "rpmspec -P {}: {err}", spec.display());
        assert!(out.contains("%install"), "{out}");
        assert!(
            !err.contains("warning"),
            "rpmspec warns on {}: {err}",
            spec.display()
        );
        // The same description in the other styles (where it has one kernel per flavor).
        for style in ["redhat-kabi", "per-kernel", "suse-kmp"] {
            let text = std::fs::read_to_string(&desc).unwrap();
            if style == "redhat-kabi" && text.matches("- release:").count() > 1 {
                continue;
            }
            if style == "suse-kmp" && desc.ends_with("kpx-watchdog.yaml") {
                continue; // several kernels of one flavor: refused, tested in spec_render
            }
            if style == "per-kernel" && text.contains("\npackages:") {
                continue; // several packages: not per-kernel, refusal tested in spec_multipkg
            }
            let spec = top.render(&desc, &["--style", style]);
            let (code, _, err) = common::run(Command::new("rpmspec").arg("-P").arg(&spec));
            assert_eq!(code, 0, "rpmspec -P {} as {style}: {err}", desc.display());
            assert!(
                !err.contains("warning"),
                "rpmspec warns on {} as {style}: {err}",
                desc.display()
            );
        }
    }
}

/// The bundled demo pair: kmod-kpx-zfs (exporter, xz, -devel) then
/// kmod-kpx-lustre (importer, built with the exporter's Module.symvers taken
/// from the kmod-kpx-zfs-devel RPM, as a build system would install it).
#[test]
fn redhat_kabi_pair_builds_with_rpmbuild_and_has_the_checklist() {
    let top = Topdir::new();
    let spec = top.render(&example("kpx-zfs"), &[]);
    let (code, log) = top.rpmbuild(&spec, &[]);
    assert_eq!(code, 0, "rpmbuild kpx-zfs:\n{log}");
    let zfs = top.rpm("kmod-kpx-zfs-2.2.6");
    let devel = top.rpm("kmod-kpx-zfs-devel-2.2.6");
    assert!(top
        .path()
        .join("SRPMS/kmod-kpx-zfs-2.2.6-1.el9_5.src.rpm")
        .is_file());

    // Payload: modules under extra/<name>/, xz with CRC32 (the kernel's requirement),
    // the depmod.d override, the greylist, and the -devel Module.symvers.
    let files = rpmq(&zfs, &["-l"]);
    let ko = format!("/lib/modules/{KVERREL}/extra/kpx-zfs/kpx_zfs.ko.xz");
    for f in [
        ko.as_str(),
        "/etc/depmod.d/kmod-kpx-zfs.conf",
        "/usr/share/doc/kmod-kpx-zfs-2.2.6/greylist.txt",
    ] {
        assert!(files.iter().any(|l| l == f), "{f} not in {files:?}");
    }
    assert!(
        !files
            .iter()
            .any(|l| l == &format!("/lib/modules/{KVERREL}/kernel")),
        "must not own kernel/"
    );
    let root = top.path().join("root");
    extract(&zfs, &root);
    extract(&devel, &root);
    let (_, robot, _) = common::run(
        Command::new("xz")
            .arg("--robot")
            .arg("--list")
            .arg(root.join(&ko[1..])),
    );
    assert!(
        robot
            .lines()
            .any(|l| l.starts_with("file\t") && l.split('\t').nth(6) == Some("CRC32")),
        "{robot}"
    );
    assert_eq!(
        std::fs::read_to_string(root.join("etc/depmod.d/kmod-kpx-zfs.conf")).unwrap(),
        "override kpx_zfs * weak-updates/kpx-zfs\n"
    );
    let devel_symvers = root.join(format!("usr/src/kmodpack/kpx-zfs/{KVERREL}/Module.symvers"));
    assert!(
        devel_symvers.is_file(),
        "kmod-kpx-zfs-devel lacks Module.symvers"
    );

    // Provides: the DUD selector, the package identities, and one ksym() per export,
    // with exactly the CRCs kbuild's modpost wrote (an oracle independent of kmodpack).
    let provides = rpmq(&zfs, &["--provides"]);
    for p in [
        format!("kernel-modules >= {KVERREL}"),
        "kmod-kpx-zfs = 2.2.6-1.el9_5".to_string(),
        "kpx-zfs-kmod = 2.2.6-1.el9_5".to_string(),
        "kmod(kpx_zfs.ko)".to_string(),
    ] {
        assert!(provides.contains(&p), "{p} not in {provides:?}");
    }
    let exports = symvers_ksyms(&devel_symvers);
    assert_eq!(exports.len(), 3, "{exports:?}");
    let mut ksyms: Vec<String> = provides
        .iter()
        .filter(|p| p.starts_with("ksym("))
        .cloned()
        .collect();
    ksyms.sort();
    assert_eq!(ksyms, exports);

    // Requires: the kernel floor, kernel() deps of the kernel symbols, the scriptlet tools.
    let requires = rpmq(&zfs, &["--requires"]);
    for r in [
        "kernel >= 5.14.0-503.11.1.el9_5".to_string(),
        format!("kernel-core-uname-r >= {KVERREL}"),
        "/usr/sbin/depmod".to_string(),
        "/usr/sbin/weak-modules".to_string(),
        "kernel(kfree) = 0x037a0cba".to_string(),
    ] {
        assert!(requires.contains(&r), "{r} not in {requires:?}");
    }
    // Scriptlets: weak-modules add/remove, depmod, one initramfs rebuild per kernel.
    let scripts = rpmq(&zfs, &["--scripts"]).join("\n");
    for s in [
        "postinstall scriptlet",
        "weak-modules --add-modules --no-initramfs",
        "weak-modules --remove-modules",
        "depmod -aeF",
        "posttrans scriptlet",
        "dracut -f",
        &format!("/lib/modules/{KVERREL}/extra/kpx-zfs/kpx_zfs.ko.xz"),
    ] {
        assert!(scripts.contains(s), "{s:?} not in scripts:\n{scripts}");
    }
    assert!(
        !scripts.contains("%{"),
        "unexpanded macro in scripts:\n{scripts}"
    );

    // The importer, built against the exporter's Module.symvers.
    let dep = format!("kpx-zfs={}", devel_symvers.display());
    let spec = top.render(&example("kpx-lustre"), &["--dependency-symvers", &dep]);
    let (code, log) = top.rpmbuild(&spec, &[]);
    assert_eq!(code, 0, "rpmbuild kpx-lustre:\n{log}");
    assert!(
        log.contains(&format!("KBUILD_EXTRA_SYMBOLS={}", devel_symvers.display())),
        "{log}"
    );
    let lustre = top.rpm("kmod-kpx-lustre-2.15.5");
    let requires = rpmq(&lustre, &["--requires"]);
    assert!(
        requires.contains(&"kmod-kpx-zfs >= 2.2.6".to_string()),
        "{requires:?}"
    );
    // Each kpx_zfs symbol kpx_osd imports, with the CRC kmod's own tool reads from it.
    extract(&lustre, &root);
    let osd = root.join(format!("lib/modules/{KVERREL}/extra/kpx-lustre/kpx_osd.ko"));
    let (code, dump, err) =
        common::run(Command::new("modprobe").arg("--dump-modversions").arg(&osd));
    assert_eq!(code, 0, "{err}");
    let mut imported: Vec<String> = dump
        .lines()
        .filter_map(|l| {
            let (crc, sym) = l.split_once('\t')?;
            sym.starts_with("kpx_zfs_").then(|| {
                format!(
                    "ksym({sym}) = 0x{:08x}",
                    u32::from_str_radix(crc.trim_start_matches("0x"), 16).unwrap()
                )
            })
        })
        .collect();
    imported.sort();
    assert_eq!(imported.len(), 3, "{dump}");
    let mut wanted: Vec<String> = requires
        .iter()
        .filter(|r| r.starts_with("ksym(kpx_zfs_"))
        .cloned()
        .collect();
    wanted.sort();
    assert_eq!(wanted, imported);
    // ... which are exactly what kmod-kpx-zfs provides.
    assert_eq!(wanted, exports);
    // kpx_osd's use of kpx_lnet is satisfied inside the package.
    assert!(
        !requires
            .iter()
            .any(|r| r.starts_with("ksym(kpx_lnet_send)")),
        "{requires:?}"
    );
    assert!(rpmq(&lustre, &["--provides"])
        .iter()
        .any(|p| p.starts_with("ksym(kpx_lnet_send) = 0x")));
    assert!(rpmq(&lustre, &["--conflicts"]).contains(&"kmod-kpx-lustre-vendor".to_string()));
    // The PCI id table made it into the packaged module.
    let (_, aliases, _) = common::run(Command::new("modinfo").arg("-F").arg("alias").arg(
        root.join(format!(
            "lib/modules/{KVERREL}/extra/kpx-lustre/kpx_lnet.ko"
        )),
    ));
    assert!(
        aliases.contains("pci:v000015B3d0000101Bsv*sd*bc*sc*i*"),
        "{aliases}"
    );
}

/// A dependency's Module.symvers that is missing stops the build with a message
/// that says what to install, instead of a kmod with unresolved symbols.
#[test]
fn missing_dependency_symvers_fails_the_build() {
    let top = Topdir::new();
    let spec = top.render(
        &example("kpx-lustre"),
        &[
            "--dependency-symvers",
            "kpx-zfs=/nonexistent/Module.symvers",
        ],
    );
    let (code, log) = top.rpmbuild(&spec, &[]);
    assert_ne!(code, 0);
    assert!(log.contains("kmodpack: /nonexistent/Module.symvers (Module.symvers of kmod-kpx-zfs) not found; install kmod-kpx-zfs-devel"), "{log}");
}

/// Kernel headers that are not there stop the build with the trees this
/// machine does have (the installed Debian headers), never a guess such as
/// `$(uname -r)`; in every style (issue #19).
#[test]
fn missing_kernel_headers_name_the_installed_trees() {
    let installed = common::headers_dir().display().to_string();
    for (example_name, wanted) in [
        (
            "kpx-zfs",
            "kmodpack: kernel build tree /nonexistent/kernel not found; install \
             kernel-devel-5.14.0-503.11.1.el9_5 or define kmodpack_kernel_build_dir (installed kernel build trees: ",
        ),
        (
            "kpx-watchdog",
            "kmodpack: kernel build tree /nonexistent/kernel not found; install \
             kernel-devel-uname-r = 6.11.4-301.fc41.x86_64 or define kmodpack_kernel_build_dir (installed kernel build trees: ",
        ),
    ] {
        let top = Topdir::new();
        let spec = top.render(&example(example_name), &[]);
        let (code, log) =
            top.rpmbuild(&spec, &[("kmodpack_kernel_build_dir", "/nonexistent/kernel")]);
        assert_ne!(code, 0, "{log}");
        let line = log
            .lines()
            .find(|l| l.starts_with("kmodpack: kernel build tree"))
            .unwrap_or_else(|| panic!("{example_name}: no headers line in:\n{log}"));
        assert!(line.starts_with(wanted), "{example_name}: {line}");
        let trees = line
            .strip_prefix(wanted)
            .and_then(|r| r.strip_suffix(')'))
            .unwrap();
        assert!(
            trees.split(", ").any(|t| t == installed),
            "{example_name}: {installed} not among {trees:?}"
        );
    }
}

/// Signing: strip, then sign-file, then xz. The packaged module decompresses
/// to an ELF without debug sections followed by the appended signature, and
/// a missing key fails the build rather than shipping unsigned modules.
#[test]
fn signing_order_strip_sign_compress() {
    let top = Topdir::new();
    let keys = top.path().join("keys");
    std::fs::create_dir_all(&keys).unwrap();
    let (code, _, err) = common::run(
        Command::new("openssl")
            .args([
                "req",
                "-new",
                "-nodes",
                "-utf8",
                "-sha256",
                "-days",
                "36500",
                "-batch",
                "-x509",
                "-subj",
                "/CN=kmodpack spec test key/",
                "-outform",
                "PEM",
            ])
            .arg("-out")
            .arg(keys.join("cert.pem"))
            .arg("-keyout")
            .arg(keys.join("key.pem")),
    );
    assert_eq!(code, 0, "{err}");
    let src = common::repo().join("specs/kpx-zfs/src");
    let yaml = std::fs::read_to_string(example("kpx-zfs"))
        .unwrap()
        .replace("  dir: src", &format!("  dir: {}", src.display()))
        .replace(
            "devel: true",
            &format!(
                "devel: true\nsigning:\n  key: {}\n  cert: {}\n  hash: sha256",
                keys.join("key.pem").display(),
                keys.join("cert.pem").display()
            ),
        );
    let desc = top.path().join("kpx-zfs.yaml");
    std::fs::write(&desc, yaml).unwrap();
    let spec = top.render(&desc, &[]);
    let text = std::fs::read_to_string(&spec).unwrap();
    let install = &text[text.find("\n%install\n").unwrap()..];
    let (strip, sign, xz) = (
        install.find("--strip-debug").unwrap(),
        install.find("'%{kmodpack_sign_file}' '%{kmodpack_sign_hash}' '%{kmodpack_sign_key}' '%{kmodpack_sign_cert}' \"$ko\"").unwrap(),
        install.find("xz --check=crc32").unwrap(),
    );
    assert!(
        strip < sign && sign < xz,
        "order strip < sign < xz violated in spec"
    );

    // Without the key the build fails.
    let (code, log) = top.rpmbuild(&spec, &[("kmodpack_sign_key", "/nonexistent/key.pem")]);
    assert_ne!(code, 0, "{log}");
    assert!(
        log.contains("kmodpack: module signing: key /nonexistent/key.pem is not readable"),
        "{log}"
    );

    let (code, log) = top.rpmbuild(&spec, &[]);
    assert_eq!(code, 0, "{log}");
    let root = top.path().join("root");
    extract(&top.rpm("kmod-kpx-zfs-2.2.6"), &root);
    let xzfile = root.join(format!("lib/modules/{KVERREL}/extra/kpx-zfs/kpx_zfs.ko.xz"));
    let out = Command::new("xz").arg("-dc").arg(&xzfile).output().unwrap();
    assert!(out.status.success());
    let ko = root.join("kpx_zfs.ko");
    std::fs::write(&ko, &out.stdout).unwrap();
    assert!(
        out.stdout.ends_with(b"~Module signature appended~\n"),
        "no appended signature"
    );
    let (_, sections, _) = common::run(Command::new("readelf").arg("-S").arg("-W").arg(&ko));
    assert!(
        sections.contains(".modinfo") && !sections.contains(".debug_info"),
        "not stripped before signing:\n{sections}"
    );
    let (code, info, err) = common::run(common::kmodpack().arg("inspect").arg(&xzfile));
    assert_eq!(code, 0, "{err}");
    assert!(
        info.contains("kmodpack spec test key") && info.contains("sha256"),
        "{info}"
    );
    assert_signature_verifies(&ko, &keys.join("cert.pem"), top.path());
}

/// Verifies the appended PKCS#7 signature with openssl against the module
/// bytes it covers: proof that nothing touched the module after signing.
fn assert_signature_verifies(ko: &Path, cert: &Path, tmp: &Path) {
    let data = std::fs::read(ko).unwrap();
    let marker = b"~Module signature appended~\n";
    let body = &data[..data.len() - marker.len()];
    // struct module_signature: 12 bytes, sig_len big-endian in the last 4.
    let info = &body[body.len() - 12..];
    let sig_len = u32::from_be_bytes([info[8], info[9], info[10], info[11]]) as usize;
    let sig_start = body.len() - 12 - sig_len;
    std::fs::write(tmp.join("content.bin"), &body[..sig_start]).unwrap();
    std::fs::write(tmp.join("sig.der"), &body[sig_start..body.len() - 12]).unwrap();
    let (code, out, err) = common::run(
        Command::new("openssl")
            .args(["cms", "-verify", "-binary", "-inform", "DER", "-noverify"])
            .arg("-in")
            .arg(tmp.join("sig.der"))
            .arg("-content")
            .arg(tmp.join("content.bin"))
            .arg("-certfile")
            .arg(cert)
            .arg("-nointern")
            .arg("-out")
            .arg("/dev/null"),
    );
    assert_eq!(code, 0, "signature does not verify: {out}{err}");
}

/// The per-kernel and suse-kmp examples build too (compiled against the
/// installed headers for every x86_64 kernel cell).
#[test]
fn per_kernel_and_suse_examples_build() {
    let top = Topdir::new();
    let spec = top.render(&example("kpx-watchdog"), &[]);
    let (code, log) = top.rpmbuild(&spec, &[]);
    assert_eq!(code, 0, "{log}");
    for uname in [
        "6.11.4-301.fc41.x86_64",
        "6.12.5-200.fc41.x86_64",
        "6.12.5-200.fc41.x86_64+debug",
    ] {
        let rpm = top.rpm(&format!("kmod-kpx-watchdog-{uname}-0.9"));
        let req = rpmq(&rpm, &["--requires"]);
        let kpkg = if uname.ends_with("+debug") {
            "kernel-debug"
        } else {
            "kernel"
        };
        assert!(
            req.contains(&format!("{kpkg}-uname-r = {uname}")),
            "{req:?}"
        );
        assert!(
            rpmq(&rpm, &["--provides"]).contains(&format!("kernel-modules-for-kernel = {uname}"))
        );
        assert!(rpmq(&rpm, &["-l"]).contains(&format!(
            "/lib/modules/{uname}/extra/kpx-watchdog/kpx_wdt.ko"
        )));
    }
    let meta = rpmq(&top.rpm("kmod-kpx-watchdog-0.9"), &["--requires"]);
    assert!(
        meta.contains(&"kmod-kpx-watchdog-6.12.5-200.fc41.x86_64+debug = 0.9-3".to_string()),
        "{meta:?}"
    );
    assert!(!meta.iter().any(|r| r.contains("aarch64")), "{meta:?}");

    // suse-kmp: signing key from the command line, as a build system would pass it.
    let keys = top.path().join("keys");
    std::fs::create_dir_all(&keys).unwrap();
    let (code, _, err) = common::run(
        Command::new("openssl")
            .args([
                "req",
                "-new",
                "-nodes",
                "-batch",
                "-x509",
                "-subj",
                "/CN=kpx-ssd test/",
                "-days",
                "2",
            ])
            .arg("-out")
            .arg(keys.join("c.pem"))
            .arg("-keyout")
            .arg(keys.join("k.pem")),
    );
    assert_eq!(code, 0, "{err}");
    let spec = top.render(&example("kpx-ssd"), &[]);
    let k = keys.join("k.pem").display().to_string();
    let c = keys.join("c.pem").display().to_string();
    let (code, log) = top.rpmbuild(
        &spec,
        &[("kmodpack_sign_key", &k), ("kmodpack_sign_cert", &c)],
    );
    assert_eq!(code, 0, "{log}");
    assert!(
        log.contains("0001-kpx_ssd-raise-queue-depth.patch"),
        "patch not applied:\n{log}"
    );
    for (flavor, rel) in [
        ("default", "5.14.21-150500.55.83"),
        ("rt", "5.14.21-150500.13.67"),
    ] {
        let rpm = top.rpm(&format!(
            "kpx-ssd-kmp-{flavor}-1.4.0_k{}",
            rel.replace('-', "_")
        ));
        let files = rpmq(&rpm, &["-l"]);
        assert!(
            files.contains(&format!(
                "/lib/modules/{rel}-{flavor}/updates/kpx-ssd/kpx_ssd.ko"
            )),
            "{files:?}"
        );
        assert!(
            files.contains(&"/lib/firmware/kpx/kpx_ssd.bin".to_string()),
            "{files:?}"
        );
        let prov = rpmq(&rpm, &["--provides"]);
        assert!(
            prov.contains(&"multiversion(kernel)".to_string())
                && prov.contains(&"kpx-ssd-kmp = 1.4.0".to_string()),
            "{prov:?}"
        );
        // Hardware-driven install: one modalias() Supplements per alias,
        // flavored like the ksym() Provides: from the module's vermagic
        // (here the Debian headers it was really built against).
        let built_for = common::kernel_release();
        let vflavor = built_for.rsplit('-').next().unwrap();
        let sup = rpmq(&rpm, &["--supplements"]);
        assert!(
            sup.contains(&format!(
                "modalias(kernel-{vflavor}:pci:v0000144Dd0000A80Asv*sd*bc*sc*i*)"
            )) && sup
                .iter()
                .all(|s| s.starts_with(&format!("modalias(kernel-{vflavor}:"))),
            "{sup:?}"
        );
        let scripts = rpmq(&rpm, &["--scripts"]).join("\n");
        assert!(
            scripts.contains(&format!(
                "weak-modules2 --add-kmp 'kpx-ssd-kmp-{flavor}-1.4.0_k{}-1'",
                rel.replace('-', "_")
            )),
            "{scripts}"
        );
    }
}
