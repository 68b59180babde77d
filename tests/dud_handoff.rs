//! `kmodpack build` hands its results to the disk assembler (`build --dud`,
//! `dud build --from-build`), tested on a real rpmbuild matrix: two packages
//! (the exporter with a -devel), two flavors of the same kernel, the rt
//! exporter cell failing (its headers do not exist) so the rt importer is
//! skipped. Oracles: the ISO extracted by bsdtar, rpm's own view of the
//! RPMs on it, `dud verify`, and the build's report.json.

mod build_util;
mod common;
mod dud_common;

use std::path::{Path, PathBuf};
use std::process::Command;

use dud_common::{dud, extract_iso, ls, s, scratch};

const INSTALLER: &str = "5.14.0-503.14.1.el9_5.x86_64";
const ANACONDA: &str = "34.25.5.11";
const RELEASE: &str = "5.14.0-503.11.1.el9_5";

/// Copies `specs/<name>/` into `dir` and makes its single kernel two: the
/// default flavor against the installed headers, and `rt` against `rt_headers`.
fn stage(name: &str, dir: &Path, rt_headers: &Path) -> PathBuf {
    let (c, _, e) = common::run(Command::new("cp").args([
        "-r",
        s(&common::repo().join("specs").join(name)),
        s(dir),
    ]));
    assert_eq!(c, 0, "{e}");
    let yaml = dir.join(name).join(format!("{name}.yaml"));
    let text = std::fs::read_to_string(&yaml).unwrap();
    let one = format!("kernels:\n  - release: {RELEASE}\n    arches: [x86_64]\n");
    assert!(text.contains(&one), "{name}.yaml changed shape");
    let two = format!(
        "kernels:\n  - release: {RELEASE}\n    arches: [x86_64]\n    build_dir: {}\n  - release: {RELEASE}\n    arches: [x86_64]\n    flavor: rt\n    build_dir: {}\n",
        common::headers_dir().display(),
        rt_headers.display()
    );
    std::fs::write(&yaml, text.replace(&one, &two)).unwrap();
    yaml
}

fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = ls(dir)
        .into_iter()
        .filter(|n| n.ends_with(".rpm"))
        .map(|n| common::rpm_qp(&dir.join(n), &["--qf=%{NAME}"]).join(""))
        .collect();
    v.sort();
    v
}

#[test]
fn matrix_with_a_failed_cell_hands_exactly_the_built_kmods_to_the_disk() {
    let t = scratch();
    let missing = t.path().join("no-rt-headers");
    let zfs = stage("kpx-zfs", t.path(), &missing);
    let lustre = stage("kpx-lustre", t.path(), &missing);
    let results = t.path().join("results");
    let iso = t.path().join("dd.iso");
    let (code, out, err) = common::run(common::kmodpack().args([
        "build",
        s(&zfs),
        s(&lustre),
        "--resultdir",
        s(&results),
        "-j",
        "2",
        "-q",
        "--dud",
        s(&iso),
        "--installer-kernel",
        INSTALLER,
        "--anaconda-version",
        ANACONDA,
    ]));
    // One cell failed, one skipped: the build says so (exit 1), and the disk,
    // which needs neither, is still written.
    assert_eq!(code, 1, "{out}{err}");
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(results.join("report.json")).unwrap())
            .unwrap();
    let status = |id: &str| {
        report["cells"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == id)
            .unwrap_or_else(|| panic!("no cell {id}: {report}"))["status"]
            .clone()
    };
    let zfs_rt = format!("kpx-zfs/{RELEASE}/x86_64/rt");
    let lustre_rt = format!("kpx-lustre/{RELEASE}/x86_64/rt");
    assert_eq!(status(&format!("kpx-zfs/{RELEASE}/x86_64")), "built");
    assert_eq!(status(&format!("kpx-lustre/{RELEASE}/x86_64")), "built");
    assert_eq!(status(&zfs_rt), "failed");
    assert_eq!(status(&lustre_rt), "skipped");

    // The disk holds exactly the two default-flavor kmods: no SRPM, no
    // -devel, nothing of the rt cells (rpm's view of the extracted files).
    let x = t.path().join("x");
    extract_iso(&iso, &x);
    assert_eq!(ls(&x), ["rhdd3", "rpms"]);
    assert_eq!(ls(&x.join("rpms")), ["x86_64"]);
    assert_eq!(
        names(&x.join("rpms/x86_64")),
        ["kmod-kpx-lustre", "kmod-kpx-zfs"]
    );
    // The build told what it took and left, and reported the failed cell.
    assert!(
        out.contains("took  kmod-kpx-zfs-2.2.6-1.el9_5.x86_64.rpm"),
        "{out}"
    );
    assert!(
        out.contains("left  kmod-kpx-zfs-devel-2.2.6-1.el9_5.x86_64.rpm  (-devel package"),
        "{out}"
    );
    assert!(
        out.contains("left  kmod-kpx-zfs-2.2.6-1.el9_5.src.rpm"),
        "{out}"
    );
    assert!(out.contains(&format!("FAILED cell {zfs_rt}: ")), "{out}");
    assert!(
        out.contains(&format!("skipped cell {lustre_rt}: ")),
        "{out}"
    );
    // The preflight is in the report: anaconda's dd_list accepts both, no errors.
    let d = &report["dud"];
    assert_eq!(d["written"], true, "{d}");
    assert_eq!(d["errors"], 0, "{d}");
    let verdicts = d["verdicts"].as_array().unwrap();
    assert_eq!(verdicts.len(), 2, "{d}");
    assert!(verdicts.iter().all(|v| v["accepted"] == true), "{d}");
    let failed: Vec<&serde_json::Value> = d["handoff"]["cells"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["status"] == "failed")
        .collect();
    assert_eq!(failed.len(), 1, "{d}");
    assert_eq!(failed[0]["cell"], zfs_rt.as_str());

    // dud verify reads the disk as the installer would.
    let (code, vout, verr) = dud(&[
        "verify",
        s(&iso),
        "--installer-kernel",
        INSTALLER,
        "--anaconda-version",
        ANACONDA,
    ]);
    assert_eq!(code, 0, "{vout}{verr}");
    assert!(vout.contains("result: OK"), "{vout}");
    assert!(
        vout.contains(&format!("would load on {INSTALLER}: ")) && vout.contains("kpx_zfs"),
        "{vout}"
    );

    // An rt installer needs the failed cell: refused, naming it and its reason.
    let rt = t.path().join("rt.iso");
    let (code, rout, rerr) = dud(&[
        "build",
        "--from-build",
        s(&results),
        "-o",
        s(&rt),
        "--installer-kernel",
        &format!("{INSTALLER}+rt"),
    ]);
    assert_eq!(code, 2, "{rout}{rerr}");
    assert!(
        rerr.contains(&format!(
            "kpx-zfs: the cell the installer {INSTALLER}+rt needs, {zfs_rt}, failed: "
        )),
        "{rerr}"
    );
    assert!(
        rerr.contains(&format!("{lustre_rt}, was skipped")),
        "{rerr}"
    );
    assert!(!rt.exists());

    // Globbing the result directory is a normal input: kabi check, alias
    // and dud build skip the SRPMs and the -devel package with a note.
    let symvers = common::headers_dir().join("Module.symvers");
    let (code, kout, kerr) = common::run(common::kmodpack().args([
        "kabi",
        "check",
        "--kernel",
        s(&symvers),
        s(&results),
    ]));
    assert_eq!(code, 0, "{kout}{kerr}");
    assert!(
        kout.contains("kpx_zfs.ko.xz") && kout.contains("kpx_osd.ko"),
        "{kout}"
    );
    assert!(
        kerr.contains("note: skipped ")
            && kerr.contains("kmod-kpx-zfs-2.2.6-1.el9_5.src.rpm (source package)")
            && kerr.contains("kmod-kpx-zfs-devel-2.2.6-1.el9_5.x86_64.rpm (-devel package"),
        "{kerr}"
    );
    let (code, aout, aerr) =
        common::run(common::kmodpack().args(["alias", "--pci", "15b3:101b", s(&results)]));
    assert_eq!(code, 0, "{aout}{aerr}");
    assert!(aout.contains("kpx_lnet"), "{aout}");
    assert!(aerr.contains("note: skipped "), "{aerr}");
    let zfs_rpm = results
        .join(format!("kpx-zfs/{RELEASE}/x86_64"))
        .join("kmod-kpx-zfs-2.2.6-1.el9_5.x86_64.rpm");
    let (code, iout, ierr) = common::run(common::kmodpack().args(["inspect", s(&zfs_rpm)]));
    assert_eq!(code, 0, "{iout}{ierr}");
    assert!(
        iout.starts_with(&format!(
            "{}:/lib/modules/{RELEASE}.x86_64/extra/kpx-zfs/kpx_zfs.ko.xz\n",
            zfs_rpm.display()
        )) && iout.contains("name:         kpx_zfs"),
        "{iout}"
    );
    let glob = t.path().join("glob.iso");
    let (code, gout, gerr) = dud(&[
        "build",
        "-o",
        s(&glob),
        "--installer-kernel",
        INSTALLER,
        s(&results),
    ]);
    assert_eq!(code, 0, "{gout}{gerr}");
    assert!(
        gout.contains("note[B7]: kmod-kpx-zfs-devel-2.2.6-1.el9_5.x86_64.rpm: -devel package"),
        "{gout}"
    );
    let gx = t.path().join("gx");
    extract_iso(&glob, &gx);
    assert_eq!(
        names(&gx.join("rpms/x86_64")),
        ["kmod-kpx-lustre", "kmod-kpx-zfs"]
    );

    // The report file works too, limited to one package, as JSON.
    let one = t.path().join("zfs.iso");
    let (code, jout, jerr) = dud(&[
        "build",
        "--from-build",
        s(&results.join("report.json")),
        "--package",
        "kpx-zfs",
        "-o",
        s(&one),
        "--installer-kernel",
        INSTALLER,
        "--json",
    ]);
    assert_eq!(code, 0, "{jout}{jerr}");
    let j: serde_json::Value = serde_json::from_str(&jout).expect("stdout is JSON");
    let taken: Vec<&str> = j["handoff"]["taken"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["role"].as_str().unwrap())
        .collect();
    assert_eq!(taken, ["kmod"], "{j}");
    assert_eq!(j["written"], true);
    let (code, _, e) = dud(&[
        "build",
        "--from-build",
        s(&results),
        "--package",
        "kpx-nope",
        "-o",
        s(&t.path().join("n.iso")),
        "--installer-kernel",
        INSTALLER,
    ]);
    assert_eq!(code, 2);
    assert!(e.contains("--package kpx-nope: not in the build"), "{e}");
}

#[test]
fn a_report_that_is_not_a_build_report_is_one_line() {
    let t = scratch();
    let f = t.path().join("report.json");
    std::fs::write(&f, "{\"cells\": 3}").unwrap();
    let (code, out, err) = dud(&[
        "build",
        "--from-build",
        s(t.path()),
        "-o",
        s(&t.path().join("x.iso")),
        "--installer-kernel",
        INSTALLER,
    ]);
    assert_eq!(code, 2, "{out}{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("report.json: not a kmodpack build report"),
        "{err}"
    );
}

#[test]
fn one_shot_suse_build_writes_the_linuxrc_disk_from_its_own_results() {
    let t = scratch();
    let (c, _, e) = common::run(Command::new("cp").args([
        "-r",
        s(&common::repo().join("specs/kpx-ssd")),
        s(t.path()),
    ]));
    assert_eq!(c, 0, "{e}");
    // The example signs with a key under /etc/pki; this build does not sign.
    let yaml = t.path().join("kpx-ssd/kpx-ssd.yaml");
    let text = std::fs::read_to_string(&yaml).unwrap();
    std::fs::write(&yaml, &text[..text.find("signing:").unwrap()]).unwrap();
    let release = "5.14.21-150500.55.83";
    let installer = format!("{release}-default");
    let results = t.path().join("results");
    let iso = t.path().join("sles.iso");
    let (code, out, err) = common::run(common::kmodpack().args([
        "build",
        s(&yaml),
        &build_util::kernel_arg_for(release),
        "--arch",
        "x86_64",
        "--resultdir",
        s(&results),
        "-q",
        "--dud",
        s(&iso),
        "--dud-format",
        "suse",
        "--dud-dist",
        "sles15",
        "--installer-kernel",
        &installer,
    ]));
    assert_eq!(code, 0, "{out}{err}");
    let x = t.path().join("x");
    extract_iso(&iso, &x);
    let base = x.join("linux/suse/x86_64-sles15");
    assert_eq!(ls(&base), ["dud.config", "install", "modules"]);
    let kmps: Vec<String> = walk_rpms(&base.join("install"));
    assert_eq!(kmps, ["kpx-ssd-kmp-default"], "only the KMP, not the SRPM");
    assert_eq!(ls(&base.join("modules")), ["kpx_ssd.ko", "module.order"]);
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(results.join("report.json")).unwrap())
            .unwrap();
    assert_eq!(report["dud"]["format"], "suse");
    assert_eq!(report["dud"]["written"], true);
    assert_eq!(report["dud"]["targets"][0]["uname_r"], installer.as_str());
    // dud verify accepts the SUSE kernel string as dud build does.
    let (code, vout, verr) = dud(&["verify", s(&iso), "--installer-kernel", &installer]);
    assert_eq!(code, 0, "{vout}{verr}");
    assert!(
        vout.contains("would load on linuxrc (linux/suse/x86_64-sles15): kpx_ssd.ko"),
        "{vout}"
    );
    assert!(vout.contains("result: OK"), "{vout}");
    assert!(!vout.contains("anaconda"), "a SUSE disk: {vout}");
}

/// `rpm -qp --qf %{NAME}` of every RPM below `dir`, sorted.
fn walk_rpms(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = common::files_below(dir, ".rpm")
        .iter()
        .map(|p| common::rpm_qp(p, &["--qf=%{NAME}"]).join(""))
        .collect();
    v.sort();
    v
}

/// A description that builds several kmod packages (specs/kpx-lfs: core,
/// osd-zfs, osd-ldiskfs, tests): without --package all four go on the disk;
/// `--package kmod-kpx-lfs-osd-zfs` takes that backend and the core package
/// it requires (ksym() and by name), and leaves the other two with the
/// reason. Oracles: the ISO's rpms/ read back with rpm, and the notes.
#[test]
fn a_build_of_several_packages_hands_over_the_named_kmod_and_what_it_requires() {
    let t = scratch();
    let results = t.path().join("results");
    let (code, out, err) = common::run(common::kmodpack().args([
        "build",
        s(&common::repo().join("specs/kpx-lfs/kpx-lfs.yaml")),
        &build_util::kernel_arg_for(RELEASE),
        "--resultdir",
        s(&results),
        "-q",
    ]));
    assert_eq!(code, 0, "{out}{err}");
    let disk = |name: &str, extra: &[&str]| -> (Vec<String>, String) {
        let iso = t.path().join(format!("{name}.iso"));
        let mut args = vec![
            "build",
            "--from-build",
            s(&results),
            "-o",
            s(&iso),
            "--installer-kernel",
            INSTALLER,
            "-v",
        ];
        args.extend_from_slice(extra);
        let (code, out, err) = dud(&args);
        assert_eq!(code, 0, "{out}{err}");
        let root = t.path().join(name);
        extract_iso(&iso, &root);
        (names(&root.join("rpms/x86_64")), format!("{out}{err}"))
    };
    let (all, _) = disk("all", &[]);
    assert_eq!(
        all,
        [
            "kmod-kpx-lfs",
            "kmod-kpx-lfs-osd-ldiskfs",
            "kmod-kpx-lfs-osd-zfs",
            "kmod-kpx-lfs-tests"
        ]
    );
    let (one, notes) = disk("osd-zfs", &["--package", "kmod-kpx-lfs-osd-zfs"]);
    assert_eq!(one, ["kmod-kpx-lfs", "kmod-kpx-lfs-osd-zfs"], "{notes}");
    assert!(
        notes.contains("kmod-kpx-lfs-2.15.5-1.el9_5.x86_64.rpm  (kmod of cell")
            && notes.contains("required by kmod-kpx-lfs-osd-zfs)"),
        "{notes}"
    );
    for left in ["kmod-kpx-lfs-osd-ldiskfs", "kmod-kpx-lfs-tests"] {
        assert!(
            notes.contains(&format!(
                "left  {left}-2.15.5-1.el9_5.x86_64.rpm  (kmod of the same build that no --package names"
            )),
            "{notes}"
        );
    }
    // A name that is neither a description nor a binary package: one line, exit 2.
    let (code, out, err) = dud(&[
        "build",
        "--from-build",
        s(&results),
        "-o",
        s(&t.path().join("none.iso")),
        "--installer-kernel",
        INSTALLER,
        "--package",
        "kmod-kpx-lfs-osd-zfz",
    ]);
    assert_eq!(code, 2, "{out}");
    assert_eq!(
        err.trim_end(),
        "kmodpack: error: --package kmod-kpx-lfs-osd-zfz: not in the build (it has kpx-lfs, and their binary packages)"
    );
    assert!(!t.path().join("none.iso").exists());
}
