//! Support for the `kmodpack build` tests: staged inputs, runs, the report.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common;

/// An RHEL-style target release compiled against the installed Debian
/// headers (Debian's own release is not a valid rpm version).
pub const TARGET: &str = "5.14.0-503.11.1.el9_5.x86_64";

/// `--kernel TARGET=<installed headers>`.
pub fn kernel_arg() -> String {
    kernel_arg_for(TARGET)
}

/// `--kernel RELEASE=<installed headers>`.
pub fn kernel_arg_for(release: &str) -> String {
    format!("--kernel={release}={}", common::headers_dir().display())
}

/// Copies `tests/data/build/<spec>` and the sources of
/// `tests/modules/<module>` into a fresh directory; returns it and the spec path.
pub fn stage_spec(spec: &str, module: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let repo = common::repo();
    std::fs::copy(
        repo.join("tests/data/build").join(spec),
        dir.path().join(spec),
    )
    .unwrap();
    for e in std::fs::read_dir(repo.join("tests/modules").join(module)).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), dir.path().join(e.file_name())).unwrap();
    }
    let p = dir.path().join(spec);
    (dir, p)
}

/// A spec text written into its own directory (with the sources of `module`, if any).
pub fn stage_text(name: &str, text: &str, module: Option<&str>) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    if let Some(m) = module {
        for e in std::fs::read_dir(common::repo().join("tests/modules").join(m)).unwrap() {
            let e = e.unwrap();
            std::fs::copy(e.path(), dir.path().join(e.file_name())).unwrap();
        }
    }
    let p = dir.path().join(name);
    std::fs::write(&p, text).unwrap();
    (dir, p)
}

/// Copies the sources of `tests/modules/<module>` into `to` (created).
pub fn copy_module(module: &str, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(common::repo().join("tests/modules").join(module)).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
    }
}

/// Result of one `kmodpack build`.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    pub resultdir: PathBuf,
    pub report: serde_json::Value,
}

impl Run {
    /// The report entry of the cell whose id starts with `package/`.
    pub fn cell(&self, package: &str) -> &serde_json::Value {
        self.report["cells"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["package"] == package)
            .unwrap_or_else(|| panic!("no cell of {package} in the report:\n{}", self.report))
    }

    /// Binary RPM files of a cell (from the report).
    pub fn rpms(&self, package: &str) -> Vec<PathBuf> {
        self.cell(package)["rpms"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| PathBuf::from(r["file"].as_str().unwrap()))
            .collect()
    }

    /// The binary RPM of a cell whose file name starts with `prefix-<digit>`.
    pub fn rpm(&self, package: &str, name: &str) -> PathBuf {
        self.rpms(package)
            .into_iter()
            .find(|p| {
                let f = p.file_name().unwrap().to_string_lossy().into_owned();
                f.strip_prefix(&format!("{name}-"))
                    .is_some_and(|r| r.starts_with(|c: char| c.is_ascii_digit()))
            })
            .unwrap_or_else(|| panic!("no {name} rpm in cell {package}"))
    }

    /// Everything a failing assertion should show.
    pub fn explain(&self) -> String {
        format!(
            "exit {}\nstdout:\n{}\nstderr:\n{}\nreport:\n{}",
            self.code, self.stdout, self.stderr, self.report
        )
    }
}

/// Runs `kmodpack build ARGS --resultdir <fresh dir>` (with `cmd_setup` to
/// change the environment) and reads the report.
pub fn build(args: &[&str], cmd_setup: impl FnOnce(&mut Command)) -> (tempfile::TempDir, Run) {
    let out = tempfile::tempdir().unwrap();
    let resultdir = out.path().join("results");
    let mut cmd = common::kmodpack();
    cmd.arg("build")
        .args(args)
        .arg("--resultdir")
        .arg(&resultdir);
    cmd_setup(&mut cmd);
    let (code, stdout, stderr) = common::run(&mut cmd);
    let report = std::fs::read_to_string(resultdir.join("report.json"))
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or(serde_json::Value::Null);
    (
        out,
        Run {
            code,
            stdout,
            stderr,
            resultdir,
            report,
        },
    )
}

/// `rpm -qp --QUERY FILE` lines (the independent oracle for package metadata).
pub fn rpm_query(query: &str, rpm: &Path) -> Vec<String> {
    common::rpm_qp(rpm, &[query])
}

#[allow(unused_imports)]
pub use crate::common::rpm_unpack as unpack;

/// The Module.symvers (modpost's) a `-devel` RPM ships, unpacked into a
/// fresh directory (kept alive by the returned guard).
pub fn devel_symvers(devel: &Path) -> (tempfile::TempDir, PathBuf) {
    let root = tempfile::tempdir().unwrap();
    unpack(devel, root.path());
    let found = walkdir::WalkDir::new(root.path())
        .into_iter()
        .flatten()
        .find(|e| e.file_name() == "Module.symvers")
        .unwrap_or_else(|| panic!("no Module.symvers in {}", devel.display()))
        .into_path();
    (root, found)
}

/// sha256 of every RPM below `dir`, by path relative to it.
pub fn rpm_digests(dir: &Path) -> Vec<(String, String)> {
    use sha2::{Digest, Sha256};
    let mut v: Vec<(String, String)> = walkdir::WalkDir::new(dir)
        .into_iter()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().ends_with(".rpm"))
        .map(|e| {
            let rel = e.path().strip_prefix(dir).unwrap().display().to_string();
            (
                rel,
                hex::encode(Sha256::digest(std::fs::read(e.path()).unwrap())),
            )
        })
        .collect();
    v.sort();
    v
}

/// A throwaway signing key: (key, cert, signer CN, serial as modinfo prints it).
pub fn throwaway_key(dir: &Path) -> (PathBuf, PathBuf, String, String) {
    let key = dir.join("signing_key.pem");
    let cert = dir.join("signing_cert.pem");
    let cn = "kmodpack test signer";
    let (code, _, err) = common::run(Command::new("openssl").args([
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "2",
        "-sha256",
        "-subj",
        &format!("/CN={cn}/O=kmodpack tests"),
        "-addext",
        "keyUsage=digitalSignature",
        "-addext",
        "extendedKeyUsage=codeSigning",
        "-keyout",
        key.to_str().unwrap(),
        "-out",
        cert.to_str().unwrap(),
    ]));
    assert_eq!(code, 0, "openssl req: {err}");
    let (_, serial, _) = common::run(
        Command::new("openssl")
            .args(["x509", "-noout", "-serial", "-in"])
            .arg(&cert),
    );
    let hexs = serial
        .trim()
        .trim_start_matches("serial=")
        .trim_start_matches("00")
        .to_string();
    let hexs = if hexs.len() % 2 == 1 {
        format!("0{hexs}")
    } else {
        hexs
    };
    let colon: Vec<String> = hexs
        .as_bytes()
        .chunks(2)
        .map(|c| String::from_utf8_lossy(c).to_uppercase())
        .collect();
    (key, cert, cn.to_string(), colon.join(":"))
}
