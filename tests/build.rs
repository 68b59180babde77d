//! `kmodpack build` with the real rpmbuild backend against the installed
//! Debian kernel headers. Oracles: rpm itself (`rpm -qp`, offline dependency
//! resolution), modpost's Module.symvers, openssl's view of the signing
//! certificate, sha256 of the produced files.

mod build_util;
mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use build_util::{
    build, kernel_arg, kernel_arg_for, rpm_query, stage_spec, stage_text, throwaway_key, unpack,
    TARGET,
};

fn specs(name: &str) -> String {
    common::repo()
        .join("specs")
        .join(name)
        .join(format!("{name}.yaml"))
        .display()
        .to_string()
}

/// The release part of TARGET, as the descriptions list it.
fn desc_kernel_arg() -> String {
    format!(
        "--kernel=5.14.0-503.11.1.el9_5={}",
        common::headers_dir().display()
    )
}

/// `(crc, symbol)` pairs of a Module.symvers.
fn symvers_pairs(path: &Path) -> Vec<(String, String)> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut v: Vec<(String, String)> = text
        .lines()
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            (
                format!(
                    "0x{:08x}",
                    u32::from_str_radix(f[0].trim_start_matches("0x"), 16).unwrap()
                ),
                f[1].to_string(),
            )
        })
        .collect();
    v.sort();
    v
}

#[test]
fn specs_examples_build_importer_after_exporter() {
    // Importer first on the command line: the order comes from `depends`.
    let (_t, run) = build(
        &[
            &specs("kpx-lustre"),
            &specs("kpx-zfs"),
            &desc_kernel_arg(),
            "-j",
            "2",
        ],
        |_| {},
    );
    assert_eq!(run.code, 0, "{}", run.explain());
    let cells = run.report["cells"].as_array().unwrap();
    assert_eq!(cells.len(), 2);
    assert_eq!(cells[0]["package"], "kpx-zfs", "exporter is planned first");
    for c in cells {
        assert_eq!(c["status"], "built");
        assert_eq!(c["kernel"], "5.14.0-503.11.1.el9_5");
        assert_eq!(c["arch"], "x86_64");
        assert!(c["duration_seconds"].as_f64().unwrap() > 0.0);
        assert!(Path::new(c["log"].as_str().unwrap()).is_file());
        assert!(c["srpm"]["nevra"].as_str().unwrap().ends_with(".src"));
    }
    assert!(
        run.stdout
            .contains("2 cell(s): 2 built, 0 failed, 0 skipped"),
        "{}",
        run.stdout
    );
    // Debian's rpmdb is not the package database: --nodeps is added, and said so.
    assert!(run.stderr.contains("passing --nodeps"), "{}", run.stderr);

    let zfs = run.rpm("kpx-zfs", "kmod-kpx-zfs");
    let zfs_devel = run.rpm("kpx-zfs", "kmod-kpx-zfs-devel");
    let lustre = run.rpm("kpx-lustre", "kmod-kpx-lustre");

    // kmodpack's Module.symvers for the importer (read from the packaged,
    // compressed modules) equals modpost's, shipped in the -devel package.
    let (_devel, modpost) = build_util::devel_symvers(&zfs_devel);
    let zfs_dir = PathBuf::from(run.cell("kpx-zfs")["result_dir"].as_str().unwrap());
    let ours = symvers_pairs(&zfs_dir.join("Module.symvers"));
    assert!(!ours.is_empty());
    assert_eq!(ours, symvers_pairs(&modpost));

    // The importer was compiled against exactly that file.
    let lustre_log =
        std::fs::read_to_string(run.cell("kpx-lustre")["log"].as_str().unwrap()).unwrap();
    assert!(
        lustre_log.contains(&format!(
            "kmodpack_symvers_kpx_zfs {}",
            zfs_dir.join("Module.symvers").display()
        )),
        "{lustre_log}"
    );

    // rpm's own view: every ksym() the importer requires is provided by the exporter, same CRC.
    let provides = rpm_query("--provides", &zfs);
    let requires = rpm_query("--requires", &lustre);
    let ksym_req: Vec<&String> = requires.iter().filter(|r| r.starts_with("ksym(")).collect();
    assert!(!ksym_req.is_empty(), "{requires:?}");
    for r in &ksym_req {
        assert!(
            provides.contains(r),
            "{r} not provided by kmod-kpx-zfs: {provides:?}"
        );
    }
    assert!(
        requires.iter().any(|r| r.starts_with("kmod-kpx-zfs")),
        "{requires:?}"
    );
    assert_eq!(
        run.cell("kpx-lustre")["unresolved_ksyms"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
    // The report's counts agree with rpm.
    let zfs_report = &run.cell("kpx-zfs")["rpms"].as_array().unwrap()[0];
    assert_eq!(
        zfs_report["provides_ksym"].as_u64().unwrap() as usize,
        provides.iter().filter(|p| p.starts_with("ksym(")).count()
    );
    let lustre_report = &run.cell("kpx-lustre")["rpms"].as_array().unwrap()[0];
    assert_eq!(
        lustre_report["requires_ksym"].as_u64().unwrap() as usize,
        ksym_req.len()
    );

    // Offline resolution with rpm: installing both leaves no ksym() unresolved.
    let root = common::RpmRoot::new();
    let (_, _, err) = root.install(&["--test"], &[&zfs, &lustre]);
    assert!(!err.contains("ksym("), "{err}");
    let (_, _, err) = root.install(&["--test"], &[&lustre]);
    assert!(
        err.contains("ksym(kpx_zfs"),
        "without the exporter rpm must miss its ksyms: {err}"
    );
}

#[test]
fn two_builds_are_byte_identical() {
    let home1 = tempfile::tempdir().unwrap();
    let home2 = tempfile::tempdir().unwrap();
    let (_t1, a) = build(&[&specs("kpx-zfs"), &desc_kernel_arg()], |c| {
        c.env("HOME", home1.path());
    });
    assert_eq!(a.code, 0, "{}", a.explain());
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let (_t2, b) = build(&[&specs("kpx-zfs"), &desc_kernel_arg()], |c| {
        c.env("HOME", home2.path());
    });
    assert_eq!(b.code, 0, "{}", b.explain());
    let da = build_util::rpm_digests(&a.resultdir);
    assert_eq!(da.len(), 3, "{da:?}");
    assert_eq!(da, build_util::rpm_digests(&b.resultdir));
    assert_eq!(a.report["source_date_epoch_from"], "changelog");
    // The buildtime is the description's newest changelog date (`Sat Nov
    // 21 2026`, 00:00 UTC as `date` reads it), not now.
    let (code, midnight, err) =
        common::run(Command::new("date").args(["-u", "-d", "2026-11-21 00:00:00", "+%s"]));
    assert_eq!(code, 0, "{err}");
    assert_eq!(a.report["source_date_epoch"].to_string(), midnight.trim());
    let bt = rpm_query(
        "--qf=%{BUILDTIME} %{BUILDHOST}",
        &a.rpm("kpx-zfs", "kmod-kpx-zfs"),
    );
    assert_eq!(bt, vec![format!("{} kmodpack", midnight.trim())]);
}

#[test]
fn signing_with_a_throwaway_key_is_verified_by_inspect() {
    let keys = tempfile::tempdir().unwrap();
    let (key, cert, cn, serial) = throwaway_key(keys.path());
    let (_t, run) = build(
        &[
            &specs("kpx-zfs"),
            &desc_kernel_arg(),
            "--sign-key",
            key.to_str().unwrap(),
            "--sign-cert",
            cert.to_str().unwrap(),
        ],
        |_| {},
    );
    assert_eq!(run.code, 0, "{}", run.explain());
    let sig = &run.cell("kpx-zfs")["signature"];
    assert_eq!(sig["requested"], true);
    assert_eq!(sig["status"], "verified", "{sig}");
    assert_eq!(sig["expected"]["signer"], cn.as_str());
    assert_eq!(sig["expected"]["key_id"], serial.as_str());
    // The build used the headers' sign-file.
    let log = std::fs::read_to_string(run.cell("kpx-zfs")["log"].as_str().unwrap()).unwrap();
    let sign_file = std::fs::canonicalize(common::headers_dir())
        .unwrap()
        .join("scripts/sign-file");
    assert!(log.contains(&sign_file.display().to_string()), "{log}");

    // Independent check: unpack and read the module with `kmodpack inspect`.
    let root = tempfile::tempdir().unwrap();
    unpack(&run.rpm("kpx-zfs", "kmod-kpx-zfs"), root.path());
    let kos: Vec<PathBuf> = walkdir::WalkDir::new(root.path())
        .into_iter()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().contains(".ko"))
        .map(|e| e.into_path())
        .collect();
    assert_eq!(kos.len(), 1, "{kos:?}");
    let (code, out, err) = common::run(common::kmodpack().arg("inspect").arg("--json").args(&kos));
    assert_eq!(code, 0, "{err}");
    let j: serde_json::Value = serde_json::from_str(&out).unwrap();
    let s = &j[0]["signature"];
    assert_eq!(s["signer"], cn.as_str(), "{s}");
    assert_eq!(s["key_id"], serial.as_str(), "{s}");
    assert_eq!(s["hash_algo"], "sha256", "{s}");
    assert_eq!(s["id_type"], "PKCS#7", "{s}");
}

#[test]
fn one_spelling_of_a_kernel_release_everywhere() {
    // A description may give the release as `uname -r` (with `.x86_64`):
    // the same spec as without it.
    let tmp = tempfile::tempdir().unwrap();
    let plain = std::fs::read_to_string(specs("kpx-zfs")).unwrap();
    assert!(plain.contains("  - release: 5.14.0-503.11.1.el9_5\n"));
    let suffixed = tmp.path().join("kpx-zfs.yaml");
    std::fs::write(
        &suffixed,
        plain.replace(
            "  - release: 5.14.0-503.11.1.el9_5\n",
            "  - release: 5.14.0-503.11.1.el9_5.x86_64\n",
        ),
    )
    .unwrap();
    let render = |desc: &str| {
        let (code, out, err) = common::run(common::kmodpack().args(["spec", desc]));
        assert_eq!(code, 0, "{err}");
        out
    };
    assert_eq!(
        render(suffixed.to_str().unwrap()),
        render(&specs("kpx-zfs"))
    );

    // A spec input: --kernel with or without the arch installs into the
    // `uname -r` directory, /lib/modules/<release>.x86_64/.
    for kernel in ["5.14.0-503.11.1.el9_5", TARGET] {
        let (_a, spec) = stage_spec("kpx-export.spec", "kpx_export");
        let (_t, run) = build(&[spec.to_str().unwrap(), &kernel_arg_for(kernel)], |_| {});
        assert_eq!(run.code, 0, "{}", run.explain());
        let files = rpm_query("-l", &run.rpm("kmod-kpx-export", "kmod-kpx-export"));
        assert!(
            files
                .iter()
                .any(|f| f.starts_with(&format!("/lib/modules/{TARGET}/extra/"))),
            "--kernel {kernel}: {files:?}"
        );
    }
}

#[test]
fn build_kernel_adds_a_kernel_the_description_does_not_list() {
    // Fedora's cadence: a new kernel without editing the description.
    let added = "5.14.0-570.12.1.el9_6";
    let (_t, run) = build(
        &[
            &specs("kpx-zfs"),
            &kernel_arg_for(&format!("{added}.x86_64")),
        ],
        |_| {},
    );
    assert_eq!(run.code, 0, "{}", run.explain());
    let cells = run.report["cells"].as_array().unwrap();
    assert_eq!(cells.len(), 1, "only the asked-for kernel is built");
    assert_eq!(cells[0]["kernel"], added, "{}", cells[0]);
    let files = rpm_query("-l", &run.rpm("kpx-zfs", "kmod-kpx-zfs"));
    assert!(
        files
            .iter()
            .any(|f| f.starts_with(&format!("/lib/modules/{added}.x86_64/"))),
        "{files:?}"
    );
    // A release rpm cannot spell is refused, naming the description.
    let (_t, run) = build(
        &[&specs("kpx-zfs"), &kernel_arg_for("6.1.0-57-amd64")],
        |_| {},
    );
    assert_eq!(run.code, 2, "{}", run.explain());
    assert!(
        run.stderr.contains(
            "--kernel 6.1.0-57-amd64: not listed in the description, and cannot be added"
        ),
        "{}",
        run.stderr
    );
}

#[test]
fn importer_of_an_exporter_without_devel_is_refused_up_front() {
    let tmp = tempfile::tempdir().unwrap();
    let zfs = tmp.path().join("kpx-zfs.yaml");
    let text = std::fs::read_to_string(specs("kpx-zfs")).unwrap();
    assert!(text.contains("\ndevel: true\n"));
    std::fs::write(&zfs, text.replace("\ndevel: true\n", "\ndevel: false\n")).unwrap();
    // The sources sit beside the description.
    let src = common::repo().join("specs/kpx-zfs/src");
    std::fs::create_dir_all(tmp.path().join("src")).unwrap();
    for e in std::fs::read_dir(&src).unwrap().flatten() {
        std::fs::copy(e.path(), tmp.path().join("src").join(e.file_name())).unwrap();
    }
    let (_t, run) = build(
        &[
            &specs("kpx-lustre"),
            zfs.to_str().unwrap(),
            &desc_kernel_arg(),
        ],
        |_| {},
    );
    assert_eq!(run.code, 2, "{}", run.explain());
    assert_eq!(
        run.stderr.lines().last().unwrap_or_default(),
        format!(
            "kmodpack: error: {}: kpx-lustre imports from kpx-zfs, but {} makes no -devel package (devel: false), \
             so its BuildRequires on kpx-zfs's -devel package can never resolve; set devel: true there",
            specs("kpx-lustre"),
            zfs.display()
        )
    );
    assert!(!run.resultdir.exists(), "nothing written");
    // Alone, the exporter without -devel builds as before (nothing imports it).
    let (_t, run) = build(&[zfs.to_str().unwrap(), "--srpm-only"], |_| {});
    assert_eq!(run.code, 0, "{}", run.explain());
}

#[test]
fn relative_signing_paths_resolve_as_documented() {
    // signing.* in a description: relative to the description file, whatever
    // the current directory; --sign-key/--sign-cert: relative to the current
    // directory. Both end up verified on the built module.
    let tmp = tempfile::tempdir().unwrap();
    let desc_dir = tmp.path().join("pkg");
    let src = common::repo().join("specs/kpx-zfs");
    for e in walkdir::WalkDir::new(&src).into_iter().flatten() {
        let dest = desc_dir.join(e.path().strip_prefix(&src).unwrap());
        if e.file_type().is_dir() {
            std::fs::create_dir_all(&dest).unwrap();
        } else {
            std::fs::copy(e.path(), &dest).unwrap();
        }
    }
    std::fs::create_dir_all(desc_dir.join("keys")).unwrap();
    let (_, _, cn, _) = throwaway_key(&desc_dir.join("keys"));
    let yaml = desc_dir.join("kpx-zfs.yaml");
    let mut text = std::fs::read_to_string(&yaml).unwrap();
    text.push_str("signing:\n  key: keys/signing_key.pem\n  cert: keys/signing_cert.pem\n");
    std::fs::write(&yaml, text).unwrap();
    let elsewhere = tmp.path().join("elsewhere");
    std::fs::create_dir_all(&elsewhere).unwrap();
    let (_t, run) = build(&["../pkg/kpx-zfs.yaml", &desc_kernel_arg()], |c| {
        c.current_dir(&elsewhere);
    });
    assert_eq!(run.code, 0, "{}", run.explain());
    let sig = &run.cell("kpx-zfs")["signature"];
    assert_eq!(sig["status"], "verified", "{sig}");
    assert_eq!(sig["expected"]["signer"], cn.as_str());

    // The command line: paths relative to the current directory.
    let other = tmp.path().join("other-keys");
    std::fs::create_dir_all(&other).unwrap();
    let (_, _, cn2, _) = throwaway_key(&other);
    let (_t, run) = build(
        &[
            &specs("kpx-zfs"),
            &desc_kernel_arg(),
            "--sign-key",
            "signing_key.pem",
            "--sign-cert",
            "signing_cert.pem",
        ],
        |c| {
            c.current_dir(&other);
        },
    );
    assert_eq!(run.code, 0, "{}", run.explain());
    let sig = &run.cell("kpx-zfs")["signature"];
    assert_eq!(sig["status"], "verified", "{sig}");
    assert_eq!(sig["expected"]["signer"], cn2.as_str());
}

#[test]
fn signing_requested_but_not_done_fails_the_cell() {
    let keys = tempfile::tempdir().unwrap();
    let (key, cert, _, _) = throwaway_key(keys.path());
    // The export spec with its signing block disabled: a spec that silently skips signing.
    let text = std::fs::read_to_string(common::repo().join("tests/data/build/kpx-export.spec"))
        .unwrap()
        .replace("%if 0%{?kmodpack_sign_key:1}", "%if 0");
    let (_d, spec) = stage_text("kpx-export.spec", &text, Some("kpx_export"));
    let (_t, run) = build(
        &[
            spec.to_str().unwrap(),
            &kernel_arg(),
            "--sign-key",
            key.to_str().unwrap(),
            "--sign-cert",
            cert.to_str().unwrap(),
        ],
        |_| {},
    );
    assert_eq!(run.code, 1, "{}", run.explain());
    let c = run.cell("kmod-kpx-export");
    assert_eq!(c["status"], "failed");
    let reason = c["reason"].as_str().unwrap();
    assert!(
        reason.contains("signing was requested") && reason.contains("kpx_export.ko unsigned"),
        "{reason}"
    );
    assert_eq!(c["signature"]["status"], "failed");
}

const BROKEN_SPEC: &str =
    "Name: kmod-broken\nVersion: 1\nRelease: 1\nSummary: fails\nLicense: MIT\n\
%package devel\nSummary: d\n%description devel\nd\n%description\nfails in build\n%prep\n%build\n\
echo 'deliberate failure' >&2\nexit 1\n%files\n%files devel\n";

const NEEDS_BROKEN_SPEC: &str =
    "Name: kmod-needs-broken\nVersion: 1\nRelease: 1\nSummary: needs broken\nLicense: MIT\n\
BuildRequires: kmod-broken-devel\nBuildArch: noarch\n%description\nx\n%prep\n%build\n%install\n\
mkdir -p %{buildroot}/usr/share/nb\ntouch %{buildroot}/usr/share/nb/x\n%files\n/usr/share/nb/x\n";

/// Fails in %install the way a wrong module name does.
const MISSING_MODULE_SPEC: &str =
    "Name: kmod-acme\nVersion: 1\nRelease: 1\nSummary: fails\nLicense: MIT\n\
%description\nfails in install\n%prep\n%build\necho 'make: nothing to be done'\n%install\n\
install -D -m 0644 acme_kore.ko %{buildroot}/lib/modules/%{kmodpack_kver}/extra/acme_kore.ko\n\
%files\n/lib/modules/%{kmodpack_kver}/extra/acme_kore.ko\n";

#[test]
fn a_failed_cell_says_which_lines_failed_and_what_to_do() {
    let (_b, broken) = stage_text("acme.spec", MISSING_MODULE_SPEC, None);
    let (_t, run) = build(&[broken.to_str().unwrap(), &kernel_arg()], |_| {});
    assert_eq!(run.code, 1, "{}", run.explain());
    let reason = run.cell("kmod-acme")["reason"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        reason.starts_with(
            "rpmbuild --rebuild failed (exit status 1) in %install: install: cannot stat 'acme_kore.ko': No such file or directory (hint: a module the package lists was not built"
        ),
        "{reason}"
    );
    // The summary line shows it, not only the log.
    assert!(
        run.stdout.lines().any(
            |l| l.starts_with("FAILED  kmod-acme/") && l.contains("cannot stat 'acme_kore.ko'")
        ),
        "{}",
        run.stdout
    );
}

#[test]
fn a_failed_cell_keeps_the_others_and_sets_the_exit_status() {
    let (_a, good) = stage_spec("kpx-export.spec", "kpx_export");
    let (_b, broken) = stage_text("broken.spec", BROKEN_SPEC, None);
    let (_c, needs) = stage_text("needs-broken.spec", NEEDS_BROKEN_SPEC, None);
    let (_t, run) = build(
        &[
            needs.to_str().unwrap(),
            broken.to_str().unwrap(),
            good.to_str().unwrap(),
            &kernel_arg(),
            "-j",
            "2",
        ],
        |_| {},
    );
    assert_eq!(run.code, 1, "{}", run.explain());
    assert_eq!(run.report["summary"]["built"], 1);
    assert_eq!(run.report["summary"]["failed"], 1);
    assert_eq!(run.report["summary"]["skipped"], 1);
    let ok = run.cell("kmod-kpx-export");
    assert_eq!(ok["status"], "built");
    for r in run.rpms("kmod-kpx-export") {
        assert!(r.is_file(), "{}", r.display());
    }
    let bad = run.cell("kmod-broken");
    assert_eq!(bad["status"], "failed");
    assert!(
        bad["reason"]
            .as_str()
            .unwrap()
            .contains("rpmbuild --rebuild failed (exit status 1) in %build: deliberate failure"),
        "{bad}"
    );
    let log = std::fs::read_to_string(bad["log"].as_str().unwrap()).unwrap();
    assert!(
        log.contains("deliberate failure") && log.contains("Bad exit status"),
        "{log}"
    );
    let skipped = run.cell("kmod-needs-broken");
    assert_eq!(skipped["status"], "skipped");
    assert_eq!(
        skipped["reason"],
        format!("prerequisite kmod-broken/{TARGET}/x86_64 did not build")
    );
    // Plain progress lines (stderr is not a terminal here) and the summary.
    assert!(
        run.stderr.contains("start   kmod-kpx-export/"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("FAILED  kmod-broken/"),
        "{}",
        run.stderr
    );
    assert!(
        run.stdout
            .contains(&format!("FAILED  kmod-broken/{TARGET}/x86_64")),
        "{}",
        run.stdout
    );
}

#[test]
fn srpm_only_gives_self_contained_srpms() {
    let (t, run) = build(
        &[&specs("kpx-zfs"), &specs("kpx-lustre"), "--srpm-only"],
        |_| {},
    );
    assert_eq!(run.code, 0, "{}", run.explain());
    let files: Vec<String> = build_util::rpm_digests(&run.resultdir)
        .into_iter()
        .map(|(p, _)| p)
        .collect();
    assert_eq!(files.len(), 2, "{files:?}");
    assert!(files.iter().all(|f| f.ends_with(".src.rpm")), "{files:?}");
    let zfs_srpm = run
        .resultdir
        .join(files.iter().find(|f| f.contains("kpx-zfs")).unwrap());
    // The spec stored in the SRPM names no path of this machine.
    let spec = rpm_query("--qf=%{SPEC}", &zfs_srpm).join("\n");
    let host_paths = [
        common::headers_dir().display().to_string(),
        common::kernel_release(),
        t.path().display().to_string(),
        common::repo().display().to_string(),
        std::env::var("HOME").unwrap_or_else(|_| "/root".into()),
    ];
    for p in &host_paths {
        assert!(
            !spec.contains(p.as_str()),
            "SRPM spec contains host path {p}:\n{spec}"
        );
    }
    assert_eq!(
        rpm_query("--list", &zfs_srpm),
        vec!["kmod-kpx-zfs.spec", "kpx-zfs-2.2.6.tar.gz"]
    );

    // What a build farm does with it: rebuild with nothing but the SRPM
    // (here pointing the kernel-devel path at the Debian headers).
    let top = tempfile::tempdir().unwrap();
    let kmodpack = env!("CARGO_BIN_EXE_kmodpack");
    let (code, out, err) = common::run(
        Command::new("rpmbuild")
            .args(["--rebuild", "--nodeps"])
            .arg("--define")
            .arg(format!("_topdir {}", top.path().display()))
            .arg("--define")
            .arg(format!(
                "kmodpack_kernel_build_dir {}",
                common::headers_dir().display()
            ))
            .arg("--define")
            .arg(format!("_kmodpack_bin {kmodpack}"))
            .arg(&zfs_srpm)
            .env("HOME", top.path()),
    );
    assert_eq!(
        code, 0,
        "plain rpmbuild --rebuild of the SRPM failed:\n{out}\n{err}"
    );
}

#[test]
fn personal_rpmmacros_do_not_leak_unless_asked() {
    let home = tempfile::tempdir().unwrap();
    std::fs::write(
        home.path().join(".rpmmacros"),
        "%dist .leaked\n%packager Leaky <l@example.org>\n",
    )
    .unwrap();
    let probe = "Name: leak-probe\nVersion: 1\nRelease: 1%{?dist}\nSummary: p\nLicense: MIT\nBuildArch: noarch\n\
%description\np\n%prep\n%build\n%install\nmkdir -p %{buildroot}/usr/share/lp\ntouch %{buildroot}/usr/share/lp/x\n\
%files\n/usr/share/lp/x\n";
    let (_d, spec) = stage_text("leak-probe.spec", probe, None);
    let (_t, run) = build(&[spec.to_str().unwrap(), &kernel_arg()], |c| {
        c.env("HOME", home.path());
    });
    assert_eq!(run.code, 0, "{}", run.explain());
    let rpm = run.rpm("leak-probe", "leak-probe");
    assert_eq!(
        rpm_query("--qf=%{RELEASE} %{BUILDHOST}", &rpm),
        vec!["1 kmodpack"]
    );
    assert_eq!(rpm_query("--qf=%{PACKAGER}", &rpm), vec!["(none)"]);

    let (_t2, run2) = build(
        &[spec.to_str().unwrap(), &kernel_arg(), "--user-macros"],
        |c| {
            c.env("HOME", home.path());
        },
    );
    assert_eq!(run2.code, 0, "{}", run2.explain());
    assert_eq!(
        rpm_query("--qf=%{RELEASE}", &run2.rpm("leak-probe", "leak-probe")),
        vec!["1.leaked"]
    );
}

#[test]
fn usage_errors_are_one_line_and_leave_nothing_behind() {
    let (_a, spec) = stage_spec("kpx-export.spec", "kpx_export");
    let spec = spec.to_str().unwrap();
    // A spec needs a kernel.
    let (_t, run) = build(&[spec], |_| {});
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.starts_with("kmodpack: error: ")
            && run.stderr.contains("needs at least one --kernel"),
        "{}",
        run.stderr
    );
    assert!(!run.resultdir.exists());
    // Unknown kernel release without headers.
    let (_t, run) = build(&[spec, "--kernel", "9.9.9-1.el9.x86_64"], |_| {});
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains("kernel 9.9.9-1.el9.x86_64: no headers found"),
        "{}",
        run.stderr
    );
    // ... naming the header trees that are installed (here Debian's).
    assert!(
        run.stderr.trim_end().ends_with(&format!(
            "installed header trees: {}",
            common::headers_dir().display()
        )) || run
            .stderr
            .contains(&format!("{},", common::headers_dir().display())),
        "{}",
        run.stderr
    );
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
    // The same for a description whose kernel has no headers here.
    let (_t, run) = build(
        &[&common::repo()
            .join("specs/kpx-zfs/kpx-zfs.yaml")
            .display()
            .to_string()],
        |_| {},
    );
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("no kernel headers for")
            && run
                .stderr
                .contains(&common::headers_dir().display().to_string())
            && !run.stderr.contains("uname"),
        "{}",
        run.stderr
    );
    // A switch the description does not have is its own mistake, whatever
    // this machine has: reported before the missing headers are looked for.
    let (_t, run) = build(&[&specs("kpx-zfs"), "--with", "nosuch"], |_| {});
    assert_eq!(run.code, 2, "{}", run.explain());
    assert!(
        run.stderr
            .contains("--with nosuch: the description has no switch `nosuch`"),
        "{}",
        run.stderr
    );
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
    assert!(!run.resultdir.exists());
    // Existing results are never mixed with new ones.
    let out = tempfile::tempdir().unwrap();
    std::fs::write(out.path().join("old.rpm"), b"x").unwrap();
    let (code, _, err) = common::run(
        common::kmodpack()
            .args(["build", spec, &kernel_arg(), "--resultdir"])
            .arg(out.path()),
    );
    assert_eq!(code, 2);
    let errors: Vec<&str> = err
        .lines()
        .filter(|l| !l.starts_with("kmodpack: note:"))
        .collect();
    assert_eq!(errors.len(), 1, "{err}");
    assert!(
        errors[0].starts_with("kmodpack: error: ")
            && errors[0].contains("result directory is not empty"),
        "{err}"
    );
    assert_eq!(
        std::fs::read_dir(out.path()).unwrap().count(),
        1,
        "nothing added to the existing directory"
    );
}

/// A machine without rpmbuild is told so first, before any input is read:
/// every input here would stop the build later (a description whose kernel
/// has no headers here, a spec without --kernel, a description that is not
/// YAML), yet the one line is about rpmbuild, and nothing is written.
#[test]
fn missing_rpmbuild_is_reported_before_any_input_work() {
    let (_a, spec) = stage_spec("kpx-export.spec", "kpx_export");
    let (_b, broken) = stage_text("broken.yaml", "name: [unclosed\n", None);
    let empty_path = tempfile::tempdir().unwrap();
    let (_t, run) = build(
        &[
            &specs("kpx-zfs"),
            spec.to_str().unwrap(),
            broken.to_str().unwrap(),
        ],
        |c| {
            c.env("PATH", empty_path.path());
        },
    );
    assert_eq!(run.code, 2, "{}", run.explain());
    assert_eq!(
        run.stderr,
        "kmodpack: error: rpmbuild not found on PATH: install rpm-build (Fedora/EL) or rpm (Debian/Ubuntu)\n",
        "{}",
        run.explain()
    );
    assert!(!run.resultdir.exists(), "nothing written");
    // With rpmbuild on PATH the same inputs are refused for the first of
    // them: the order above is the check's, not the inputs'.
    let (_t, run) = build(
        &[
            &specs("kpx-zfs"),
            spec.to_str().unwrap(),
            broken.to_str().unwrap(),
        ],
        |_| {},
    );
    assert_eq!(run.code, 2, "{}", run.explain());
    assert!(
        run.stderr.contains("no kernel headers for"),
        "{}",
        run.explain()
    );
    assert!(!run.resultdir.exists(), "nothing written");
}

/// Issue #16 item 2: the work directory is private. A symlink another user
/// planted where kmodpack works is refused (its target neither chmodded nor
/// written), and a live PID written into a lock file no longer blocks builds.
#[test]
fn the_work_directory_is_private_and_locks_cannot_be_faked() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    // SAFETY: geteuid cannot fail.
    let base = tmp
        .path()
        .join(format!("kmodpack-build-{}", unsafe { libc::geteuid() }));
    let victim = tmp.path().join("victim");
    std::fs::create_dir(&victim).unwrap();
    std::fs::set_permissions(&victim, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::os::unix::fs::symlink(&victim, &base).unwrap();
    let (_t, run) = build(&[&specs("kpx-zfs"), "--srpm-only"], |c| {
        c.env("TMPDIR", tmp.path());
    });
    assert_ne!(run.code, 0, "{}", run.explain());
    let all = format!("{}{}", run.explain(), run.report);
    assert!(all.contains("is a symbolic link"), "{all}");
    let mode = std::fs::metadata(&victim).unwrap().permissions().mode() & 0o7777;
    assert_eq!(mode, 0o755, "the planted symlink's target was chmodded");
    assert!(
        std::fs::read_dir(&victim).unwrap().next().is_none(),
        "built inside the target"
    );

    std::fs::remove_file(&base).unwrap();
    let (_t, run) = build(&[&specs("kpx-zfs"), "--srpm-only"], |c| {
        c.env("TMPDIR", tmp.path());
    });
    assert_eq!(run.code, 0, "{}", run.explain());
    let mode = std::fs::metadata(&base).unwrap().permissions().mode() & 0o7777;
    assert_eq!(mode, 0o700, "work base not private");
    // The old scheme waited forever on a live PID in `<slug>.lock`.
    let mut locks = 0;
    for e in std::fs::read_dir(&base).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "lock") {
            std::fs::write(&p, format!("{}\n", std::process::id())).unwrap();
            locks += 1;
        }
    }
    assert!(locks > 0, "no lock files in {}", base.display());
    let out = tempfile::tempdir().unwrap();
    let (code, _, err) = common::run(
        Command::new("timeout")
            .arg("300")
            .arg(env!("CARGO_BIN_EXE_kmodpack"))
            .args(["build", &specs("kpx-zfs"), "--srpm-only", "--resultdir"])
            .arg(out.path())
            .env("TMPDIR", tmp.path()),
    );
    assert_eq!(
        code, 0,
        "a PID in a lock file blocked or broke the build: {err}"
    );
}

/// Issue #16 item 13: SIGTERM or SIGINT during a build stops the whole child
/// tree (rpmbuild, its shell, what it runs) and removes the work directory;
/// kmodpack exits 128 + the signal.
#[test]
fn a_signal_stops_children_and_removes_scratch_directories() {
    for (sig, code) in [(libc::SIGTERM, 143), (libc::SIGINT, 130)] {
        let tmp = tempfile::tempdir().unwrap();
        let pidfile = tmp.path().join("sleeper.pid");
        let spec = format!(
            "Name: kmod-sleepy\nVersion: 1\nRelease: 1\nSummary: s\nLicense: MIT\n%description\ns\n\
             %prep\n%build\nsleep 300 &\necho $! > {}\nwait\n%install\n%files\n",
            pidfile.display()
        );
        let (_d, spec_path) = stage_text("sleepy.spec", &spec, None);
        let out = tmp.path().join("results");
        let child = Command::new(env!("CARGO_BIN_EXE_kmodpack"))
            .args([
                "build",
                spec_path.to_str().unwrap(),
                &kernel_arg(),
                "--resultdir",
            ])
            .arg(&out)
            .env("TMPDIR", tmp.path())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
        let sleeper: i32 = loop {
            if let Some(p) = std::fs::read_to_string(&pidfile)
                .ok()
                .and_then(|s| s.trim().parse().ok())
            {
                break p;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the build never reached %build"
            );
            std::thread::sleep(std::time::Duration::from_millis(100));
        };
        // SAFETY: signalling our own child.
        unsafe {
            libc::kill(child.id() as i32, sig);
        }
        let o = child.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(code), "{err}");
        assert!(err.contains("interrupted"), "{err}");
        std::thread::sleep(std::time::Duration::from_millis(500));
        assert!(
            !Path::new(&format!("/proc/{sleeper}")).exists()
                || std::fs::read_to_string(format!("/proc/{sleeper}/stat"))
                    .is_ok_and(|s| s.contains(") Z ")),
            "the build's grandchild (sleep, pid {sleeper}) still runs"
        );
        // SAFETY: geteuid cannot fail.
        let base = tmp
            .path()
            .join(format!("kmodpack-build-{}", unsafe { libc::geteuid() }));
        let left: Vec<_> = std::fs::read_dir(&base)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| !n.ends_with(".lock"))
            .collect();
        assert!(left.is_empty(), "scratch left behind: {left:?}");
    }
}
