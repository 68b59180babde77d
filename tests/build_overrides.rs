//! Issue #13's small defects, with the real rpmbuild against the installed
//! Debian kernel headers: command-line signing overriding a description's
//! key (and what is said when that key is missing), retargeting a generated
//! spec at rpmbuild time. Oracles: rpm (`rpm -qp`), openssl's certificate,
//! kmodpack's own signature verification (cross-checked with `inspect` in
//! tests/build.rs).

mod build_util;
mod common;
mod spec_support;

use std::path::PathBuf;

use build_util::{build, throwaway_key};

/// The SUSE KMP example, as shipped.
fn suse_example() -> String {
    common::repo()
        .join("specs/kpx-ssd/kpx-ssd.yaml")
        .display()
        .to_string()
}

/// Its SLES 15 SP5 default-flavor kernel, compiled against the installed headers.
fn suse_kernel_arg() -> String {
    build_util::kernel_arg_for("5.14.21-150500.55.83")
}

#[test]
fn command_line_signing_overrides_the_descriptions_missing_key() {
    // The example names /etc/pki/kmodpack/…: on a build host without that
    // key, --sign-key/--sign-cert and -D 'kmodpack_sign_key …' replace it.
    let keys = tempfile::tempdir().unwrap();
    let (key, cert, cn, serial) = throwaway_key(keys.path());
    let (key, cert) = (key.display().to_string(), cert.display().to_string());
    let by_options = ["--sign-key", &key, "--sign-cert", &cert].map(String::from);
    let by_defines = [
        "-D".to_string(),
        format!("kmodpack_sign_key {key}"),
        "-D".to_string(),
        format!("kmodpack_sign_cert {cert}"),
    ];
    for how in [&by_options[..], &by_defines[..]] {
        let mut owned: Vec<String> = vec![
            suse_example(),
            suse_kernel_arg(),
            "--arch".into(),
            "x86_64".into(),
        ];
        owned.extend(how.iter().cloned());
        let args: Vec<&str> = owned.iter().map(String::as_str).collect();
        let (_t, run) = build(&args, |_| {});
        assert_eq!(run.code, 0, "{how:?}: {}", run.explain());
        let sig = &run.cell("kpx-ssd")["signature"];
        assert_eq!(sig["status"], "verified", "{how:?}: {sig}");
        assert_eq!(sig["expected"]["signer"], cn.as_str());
        assert_eq!(sig["expected"]["key_id"], serial.as_str());
        let kmp = run.rpm("kpx-ssd", "kpx-ssd-kmp-default");
        assert!(
            build_util::rpm_query("-l", &kmp)
                .iter()
                .any(|f| f.ends_with("kpx_ssd.ko") || f.ends_with("kpx_ssd.ko.xz")),
            "{}",
            kmp.display()
        );
    }
}

#[test]
fn a_missing_description_key_says_which_from_where_and_how_to_give_another() {
    // A copy of the example whose key lives beside it — and is not there.
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(suse_example()).unwrap();
    let from =
        "  key: /etc/pki/kmodpack/signing_key.pem\n  cert: /etc/pki/kmodpack/signing_key.x509\n";
    assert!(text.contains(from), "the example's signing section moved");
    let desc = dir.path().join("kpx-ssd.yaml");
    std::fs::write(
        &desc,
        text.replace(from, "  key: keys/ssd.pem\n  cert: keys/ssd.x509\n"),
    )
    .unwrap();
    let (t, run) = build(&[desc.to_str().unwrap(), &suse_kernel_arg()], |_| {});
    assert_eq!(run.code, 2, "{}", run.explain());
    assert_eq!(
        run.stderr.trim_end(),
        format!(
            "kmodpack: error: {}: signing.key {}: no such file (the signing key named by this \
             description); give another key with --sign-key KEY --sign-cert CERT (or -D \
             'kmodpack_sign_key KEY' -D 'kmodpack_sign_cert CERT'), or remove `signing:` to build \
             unsigned modules",
            desc.display(),
            dir.path().join("keys/ssd.pem").display()
        )
    );
    assert!(!t.path().join("results").exists(), "nothing half-written");
    // Half of a -D pair is a usage error, not a silent unsigned build.
    let (_t, run) = build(
        &[
            &suse_example(),
            &suse_kernel_arg(),
            "-D",
            "kmodpack_sign_key /nonexistent/key.pem",
        ],
        |_| {},
    );
    assert_eq!(run.code, 2, "{}", run.explain());
    assert!(
        run.stderr
            .contains("-D 'kmodpack_sign_key KEY' and -D 'kmodpack_sign_cert CERT' go together"),
        "{}",
        run.stderr
    );
}

#[test]
fn rpmbuild_define_kmod_kernel_version_retargets_a_generated_spec() {
    // As with ELRepo's specs: one spec, another kernel at rpmbuild time.
    let other = "5.14.0-570.12.1.el9_6";
    let top = spec_support::Topdir::new();
    let spec = top.render(&spec_support::example("kpx-zfs"), &[]);
    let (code, log) = top.rpmbuild(&spec, &[("kmod_kernel_version", other)]);
    assert_eq!(code, 0, "{log}");
    let kmod = top.rpm("kmod-kpx-zfs-2");
    let uname = format!("{other}.x86_64");
    let files = build_util::rpm_query("-l", &kmod);
    assert!(
        files
            .iter()
            .any(|f| f.starts_with(&format!("/lib/modules/{uname}/extra/"))),
        "{files:?}"
    );
    assert!(!files.iter().any(|f| f.contains("503.11.1")), "{files:?}");
    let provides = build_util::rpm_query("--provides", &kmod);
    assert!(
        provides.contains(&format!("kernel-modules >= {uname}")),
        "{provides:?}"
    );
    assert!(
        provides.contains(&"kmod(kpx_zfs.ko)".to_string()),
        "{provides:?}"
    );
    let requires = build_util::rpm_query("--requires", &kmod);
    assert!(
        requires.contains(&format!("kernel >= {other}"))
            && requires.contains(&format!("kernel-core-uname-r >= {uname}")),
        "{requires:?}"
    );
    // Without the define, the description's kernel.
    let top = spec_support::Topdir::new();
    let spec = top.render(&spec_support::example("kpx-zfs"), &[]);
    let (code, log) = top.rpmbuild(&spec, &[]);
    assert_eq!(code, 0, "{log}");
    let provides = build_util::rpm_query("--provides", &top.rpm("kmod-kpx-zfs-2"));
    assert!(
        provides.contains(&"kernel-modules >= 5.14.0-503.11.1.el9_5.x86_64".to_string()),
        "{provides:?}"
    );
}

#[test]
fn epoch_and_release_from_kernel_keep_nvras_of_several_minors_apart() {
    // kpx-zfs with `epoch: 2` (and release_from_kernel left to its default,
    // on for redhat-kabi), built for RHEL 9.4 and 9.5 (both compiled against
    // the installed headers) in one run.
    let dir = tempfile::tempdir().unwrap();
    let src = common::repo().join("specs/kpx-zfs");
    std::fs::create_dir_all(dir.path().join("src")).unwrap();
    for e in std::fs::read_dir(src.join("src")).unwrap().flatten() {
        std::fs::copy(e.path(), dir.path().join("src").join(e.file_name())).unwrap();
    }
    let text = std::fs::read_to_string(src.join("kpx-zfs.yaml")).unwrap();
    assert!(text.contains("\nrelease: 1\n"));
    let desc = dir.path().join("kpx-zfs.yaml");
    std::fs::write(
        &desc,
        text.replace("\nrelease: 1\n", "\nrelease: 1\nepoch: 2\n"),
    )
    .unwrap();
    let (_t, run) = build(
        &[
            desc.to_str().unwrap(),
            &build_util::kernel_arg_for("5.14.0-427.13.1.el9_4"),
            &build_util::kernel_arg_for("5.14.0-503.11.1.el9_5"),
            "-j",
            "1",
        ],
        |_| {},
    );
    assert_eq!(run.code, 0, "{}", run.explain());
    let mut nevras: Vec<String> = run.report["cells"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|c| c["rpms"].as_array().unwrap().clone())
        .map(|r| PathBuf::from(r["file"].as_str().unwrap()))
        .filter(|f| !f.to_string_lossy().contains("-devel-"))
        .map(|f| {
            build_util::rpm_query("--qf=%{EPOCH}:%{NAME}-%{VERSION}-%{RELEASE}.%{ARCH}", &f)
                .join("")
        })
        .collect();
    nevras.sort();
    assert_eq!(
        nevras,
        [
            "2:kmod-kpx-zfs-2.2.6-1.el9_4.x86_64",
            "2:kmod-kpx-zfs-2.2.6-1.el9_5.x86_64"
        ]
    );
    // The -devel package requires its kmod with the epoch.
    let devel = run
        .rpms("kpx-zfs")
        .into_iter()
        .find(|f| f.to_string_lossy().contains("-devel-"))
        .unwrap();
    let requires = build_util::rpm_query("--requires", &devel);
    assert!(
        requires
            .iter()
            .any(|r| r.starts_with("kmod-kpx-zfs = 2:2.2.6-1.el9_")),
        "{requires:?}"
    );
    // Other styles refuse it instead of ignoring it.
    let suse = dir.path().join("suse.yaml");
    let ssd = std::fs::read_to_string(common::repo().join("specs/kpx-ssd/kpx-ssd.yaml")).unwrap();
    std::fs::write(
        &suse,
        ssd.replace(
            "\nrelease: 1\n",
            "\nrelease: 1\nrelease_from_kernel: true\n",
        ),
    )
    .unwrap();
    let (code, _, err) = common::run(common::kmodpack().arg("spec").arg(&suse));
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("`release_from_kernel`: is supported for style redhat-kabi only"),
        "{err}"
    );
}
