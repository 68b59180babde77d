//! The setup scripts behind `make demo` / `make test`
//! (tests/support/system-deps.sh, debian-archive.sh, toolchain.sh): the demo
//! installs only what it uses, the chroots come from the archive the
//! machine's apt already uses (one-line and deb822 sources), and a missing
//! Rust toolchain is reported with how to get one.
//!
//! apt-get and cargo are test doubles here (shell scripts with the real
//! names that log their arguments): installing packages or removing the
//! toolchain for real is not something a test may do to the machine.

mod common;

use std::path::Path;
use std::process::Command;

use common::{repo, run};

fn write_exe(path: &Path, body: &str) {
    std::fs::write(path, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(path, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
}

/// A PATH holding only the few tools the script itself needs and a logging
/// `apt-get`: every package command is "missing".
fn bare_path(dir: &Path) -> std::path::PathBuf {
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    for tool in ["id", "basename", "dirname", "sed", "sort", "cat", "bash"] {
        let (code, out, _) = run(Command::new("bash").args(["-c", &format!("command -v {tool}")]));
        assert_eq!(code, 0, "{tool} not found");
        std::os::unix::fs::symlink(out.trim(), bin.join(tool)).unwrap();
    }
    let log = dir.join("apt.log");
    write_exe(
        &bin.join("apt-get"),
        &format!("echo \"$*\" >> {}", log.display()),
    );
    bin
}

#[test]
fn make_demo_installs_only_what_the_demo_uses() {
    let tmp = tempfile::tempdir().unwrap();
    let bin = bare_path(tmp.path());
    let (code, out, err) = run(Command::new(bin.join("bash"))
        .arg(repo().join("tests/support/system-deps.sh"))
        .arg("demo")
        .env("PATH", &bin));
    assert_eq!(code, 0, "{out}\n{err}");
    let log = std::fs::read_to_string(tmp.path().join("apt.log")).unwrap();
    let install = log
        .lines()
        .find(|l| l.starts_with("install "))
        .unwrap_or_else(|| panic!("no apt-get install: {log}"));
    let pkgs: Vec<&str> = install.split_whitespace().collect();
    for needed in [
        "rpm",
        "createrepo-c",
        "xorriso",
        "build-essential",
        "linux-headers-amd64",
        "kmod",
    ] {
        assert!(pkgs.contains(&needed), "demo needs {needed}: {install}");
    }
    for not_needed in [
        "qemu-system-x86",
        "llvm",
        "dnf",
        "debootstrap",
        "linux-image-amd64",
        "hyperfine",
    ] {
        assert!(
            !pkgs.contains(&not_needed),
            "demo does not need {not_needed}: {install}"
        );
    }
    // Nothing beyond the packages: no chroot, no portable toolchain.
    assert_eq!(log.lines().count(), 2, "{log}");
    assert!(!err.contains("bootstrapping"), "{err}");

    let (code, _, err) = run(Command::new(bin.join("bash"))
        .arg(repo().join("tests/support/system-deps.sh"))
        .arg("everything")
        .env("PATH", &bin));
    assert_eq!(code, 2);
    assert!(err.contains("unknown mode 'everything'"), "{err}");
}

/// Runs debian-archive.sh on an apt directory made of `files`.
fn archive(os_release: &str, files: &[(&str, &str)]) -> (i32, String, String) {
    let tmp = tempfile::tempdir().unwrap();
    let etc = tmp.path().join("apt");
    std::fs::create_dir_all(etc.join("sources.list.d")).unwrap();
    for (name, text) in files {
        std::fs::write(etc.join(name), text).unwrap();
    }
    std::fs::write(tmp.path().join("os-release"), os_release).unwrap();
    run(Command::new("bash")
        .arg(repo().join("tests/support/debian-archive.sh"))
        .env("APT_ETC", &etc)
        .env("OS_RELEASE", tmp.path().join("os-release")))
}

const BOOKWORM: &str =
    "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nID=debian\nVERSION_CODENAME=bookworm\n";

#[test]
fn chroot_archive_comes_from_the_machines_apt_sources() {
    // One-line format, with options and a security line first.
    let (code, out, err) = archive(
        BOOKWORM,
        &[(
            "sources.list",
            "# local mirror\ndeb http://security.example.org/debian-security bookworm-security main\n\
             deb-src http://src.example.org/debian bookworm main\n\
             deb [arch=amd64 signed-by=/usr/share/keyrings/k.gpg] http://mirror.example.org/debian/ bookworm main contrib\n",
        )],
    );
    assert_eq!(
        (code, out.as_str()),
        (0, "http://mirror.example.org/debian\n"),
        "{err}"
    );

    // deb822 (Debian 12's default), a disabled paragraph, a folded URIs field
    // and another vendor's repository; sources.list absent.
    let (code, out, err) = archive(
        BOOKWORM,
        &[
            (
                "sources.list.d/vendor.sources",
                "Types: deb\nURIs: https://vendor.example.com/apt\nSuites: nodistro\nComponents: main\n",
            ),
            (
                "sources.list.d/debian.sources",
                "Types: deb\nURIs: http://old.example.org/debian\nSuites: bookworm\nComponents: main\nEnabled: no\n\n\
                 # the archive\nTypes: deb deb-src\nURIs:\n http://deb822.example.net/debian\nSuites: bookworm bookworm-updates\n\
                 Components: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n\n\
                 Types: deb\nURIs: http://deb822.example.net/debian-security\nSuites: bookworm-security\nComponents: main\n",
            ),
        ],
    );
    assert_eq!(
        (code, out.as_str()),
        (0, "http://deb822.example.net/debian\n"),
        "{err}"
    );

    // Not Debian (no archive to take) and no matching entry: exit 1, a message.
    let (code, out, err) = archive(
        "ID=ubuntu\nVERSION_CODENAME=noble\n",
        &[(
            "sources.list",
            "deb http://archive.example.com/ubuntu noble main\n",
        )],
    );
    assert_eq!((code, out.as_str()), (1, ""));
    assert!(err.contains("not a Debian release"), "{err}");
    let (code, _, err) = archive(
        BOOKWORM,
        &[(
            "sources.list",
            "deb http://x.example/debian bullseye main\n",
        )],
    );
    assert_eq!(code, 1);
    assert!(err.contains("no deb entry for bookworm"), "{err}");

    // The code names no mirror host: the default is gone from the script.
    let script = std::fs::read_to_string(repo().join("tests/support/system-deps.sh")).unwrap();
    assert!(
        !script.contains("http://"),
        "system-deps.sh names an archive host"
    );
}

#[test]
fn missing_or_old_toolchain_says_how_to_get_one() {
    let tmp = tempfile::tempdir().unwrap();
    let toolchain = repo().join("tests/support/toolchain.sh");
    let (code, _, err) = run(Command::new("bash")
        .arg(&toolchain)
        .env("CARGO", tmp.path().join("no-cargo-here")));
    assert_eq!(code, 1);
    assert!(
        err.contains("no Rust toolchain") && err.contains("rustup"),
        "{err}"
    );
    let old = tmp.path().join("cargo");
    write_exe(&old, "echo 'cargo 1.70.0 (ec8a8a0ca 2023-04-25)'");
    let (code, _, err) = run(Command::new("bash").arg(&toolchain).env("CARGO", &old));
    assert_eq!(code, 1);
    assert!(
        err.contains("version 1.70.0") && err.contains("needs Rust >="),
        "{err}"
    );
    // The installed toolchain passes (it builds this test), and `make test`
    // finds its clippy (the suite starts with cargo clippy -D warnings).
    let (code, _, err) = run(Command::new("bash").arg(&toolchain));
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = run(Command::new("bash").arg(&toolchain).arg("clippy"));
    assert_eq!(code, 0, "{err}");
    // A new enough cargo without clippy, and no rustup to add it: say how.
    let bin = bare_path(&tmp.path().join("bare"));
    let (code, awk, _) = run(Command::new("bash").args(["-c", "command -v awk"]));
    assert_eq!(code, 0, "awk not found");
    std::os::unix::fs::symlink(awk.trim(), bin.join("awk")).unwrap();
    let no_clippy = bin.join("cargo");
    write_exe(
        &no_clippy,
        "case \"$1\" in --version) echo 'cargo 99.0.0 (0 2099-01-01)';; *) echo 'no such command: clippy' >&2; exit 101;; esac",
    );
    let (code, _, err) = run(Command::new(bin.join("bash"))
        .arg(&toolchain)
        .arg("clippy")
        .env("PATH", &bin)
        .env("CARGO", &no_clippy));
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("cargo clippy not found") && err.contains("rustup component add clippy"),
        "{err}"
    );
    // make demo / make test check it before cargo runs.
    // Under `make test` this runs inside make: MAKELEVEL/MAKEFLAGS would make
    // the inner make print "make[1]: Entering directory" first.
    let (code, out, err) = run(Command::new("make")
        .env_remove("MAKELEVEL")
        .env_remove("MAKEFLAGS")
        .env_remove("MFLAGS")
        .arg("--no-print-directory")
        .arg("-n")
        .arg("demo")
        .arg("test")
        .arg(format!("CARGO={}", old.display()))
        .current_dir(repo()));
    assert_eq!(code, 0, "{err}");
    let first = out.lines().next().unwrap_or_default();
    assert!(first.contains("toolchain.sh"), "{out}");
}
