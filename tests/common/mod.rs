//! Shared test support: fixtures, the installed kernel, and real modules
//! compiled from `tests/modules/` against the installed kernel headers.
//!
//! Nothing here fakes a component: if the kernel headers are missing the
//! tests fail and say to run `make test` (which installs them).
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// The repository root.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `../shared/kabi-fixtures` (real modules and oracle outputs).
pub fn fixtures() -> PathBuf {
    let p = repo().join("../shared/kabi-fixtures");
    assert!(
        p.is_dir(),
        "{} missing: the shared fixtures must sit beside the repository",
        p.display()
    );
    p
}

/// The kmodpack binary built for this test run.
pub fn kmodpack() -> Command {
    Command::new(env!("CARGO_BIN_EXE_kmodpack"))
}

/// Runs a command, returning (status code, stdout, stderr).
pub fn run(cmd: &mut Command) -> (i32, String, String) {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Runs a command with `input` on its stdin, returning (status code,
/// stdout, stderr).
pub fn run_stdin(cmd: &mut Command, input: &str) -> (i32, String, String) {
    use std::io::Write;
    use std::process::Stdio;
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let o = child.wait_with_output().unwrap();
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// The newest installed kernel release that has headers with a
/// Module.symvers (never hard-coded: Debian point releases move it).
pub fn kernel_release() -> String {
    let mut found: Vec<String> = std::fs::read_dir("/lib/modules")
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.path().join("build/Module.symvers").is_file())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    found.sort_by(|a, b| version_cmp(a, b));
    found.pop().expect("no kernel headers with Module.symvers under /lib/modules/*/build: run `make test` (installs linux-headers-amd64)")
}

fn version_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    let key = |s: &str| -> Vec<u64> {
        s.split(|c: char| !c.is_ascii_digit())
            .filter_map(|x| x.parse().ok())
            .collect()
    };
    key(a).cmp(&key(b))
}

/// `/lib/modules/<kver>/build`.
pub fn headers_dir() -> PathBuf {
    PathBuf::from(format!("/lib/modules/{}/build", kernel_release()))
}

/// The headers' Module.symvers.
pub fn kernel_symvers() -> PathBuf {
    headers_dir().join("Module.symvers")
}

/// A spec of a noarch stand-in kernel package `name` providing
/// `kernel(sym) = crc` for every line of the headers' Module.symvers (what
/// a Red Hat kernel provides), with no files.
pub fn kernel_exports_spec(name: &str) -> String {
    kernel_double_spec(name, "1", "1", &[])
}

/// [`kernel_exports_spec`] with the package's version and release and
/// further `Provides:` (e.g. `kernel-core-uname-r = <uname -r>`), for a
/// stand-in that satisfies what a Red Hat kmod requires of its kernel.
pub fn kernel_double_spec(name: &str, version: &str, release: &str, provides: &[&str]) -> String {
    let mut spec = format!(
        "Name: {name}\nVersion: {version}\nRelease: {release}\nSummary: kernel exports of {}\nLicense: GPL-2.0-only\nBuildArch: noarch\n",
        kernel_release()
    );
    for p in provides {
        spec += &format!("Provides: {p}\n");
    }
    for line in std::fs::read_to_string(kernel_symvers()).unwrap().lines() {
        let f: Vec<&str> = line.split('\t').collect();
        if f.len() < 2 {
            continue;
        }
        let crc = u32::from_str_radix(f[0].trim_start_matches("0x"), 16).unwrap();
        spec += &format!("Provides: kernel({}) = 0x{crc:08x}\n", f[1]);
    }
    spec + "%description\nkernel exports.\n%files\n"
}

/// A compiled test module: its directory holds `<name>.ko` and `Module.symvers`.
#[derive(Debug, Clone)]
pub struct BuiltModule {
    pub dir: PathBuf,
    pub ko: PathBuf,
    pub symvers: PathBuf,
}

/// Compiles `tests/modules/<name>` against the installed headers, with
/// extra `make` variables (e.g. `KPX_VARIANT=1`) and exporters' Module.symvers
/// (KBUILD_EXTRA_SYMBOLS). Results are cached under `target/test-modules`
/// keyed by everything that affects the build; concurrent callers are safe
/// (each builds in its own directory and the first rename wins).
pub fn build_module(name: &str, make_vars: &[&str], extra_symbols: &[&Path]) -> BuiltModule {
    use std::collections::hash_map::DefaultHasher;
    use std::hash::{Hash, Hasher};
    let kver = kernel_release();
    let src = repo().join("tests/modules").join(name);
    let mut h = DefaultHasher::new();
    kver.hash(&mut h);
    make_vars.hash(&mut h);
    for f in ["Kbuild", &format!("{name}.c")] {
        std::fs::read(src.join(f)).unwrap_or_default().hash(&mut h);
    }
    for s in extra_symbols {
        std::fs::read(s).unwrap_or_default().hash(&mut h);
    }
    let cache = repo().join("target/test-modules").join(&kver);
    let dest = cache.join(format!("{name}-{:016x}", h.finish()));
    let done = |dir: &Path| BuiltModule {
        dir: dir.to_path_buf(),
        ko: dir.join(format!("{name}.ko")),
        symvers: dir.join("Module.symvers"),
    };
    if dest.join(format!("{name}.ko")).is_file() {
        return done(&dest);
    }
    std::fs::create_dir_all(&cache).unwrap();
    let tmp = tempfile::Builder::new()
        .prefix(".build-")
        .tempdir_in(&cache)
        .unwrap();
    for f in ["Kbuild", &format!("{name}.c")] {
        std::fs::copy(src.join(f), tmp.path().join(f)).unwrap();
    }
    let mut cmd = Command::new("make");
    cmd.arg("-s")
        .arg("-C")
        .arg(headers_dir())
        .arg(format!("M={}", tmp.path().display()));
    if !extra_symbols.is_empty() {
        let list: Vec<String> = extra_symbols
            .iter()
            .map(|p| p.display().to_string())
            .collect();
        cmd.arg(format!("KBUILD_EXTRA_SYMBOLS={}", list.join(" ")));
    }
    cmd.args(make_vars).arg("modules");
    let (code, out, err) = run(&mut cmd);
    assert_eq!(code, 0, "building test module {name} failed:\n{out}\n{err}");
    let built = tmp.keep();
    if std::fs::rename(&built, &dest).is_err() {
        // Another test got there first; use its result.
        let _ = std::fs::remove_dir_all(&built);
    }
    done(&dest)
}

/// The exporter/importer pair, built in dependency order.
pub fn kpx_pair() -> (BuiltModule, BuiltModule) {
    let exp = build_module("kpx_export", &[], &[]);
    let imp = build_module("kpx_import", &[], &[&exp.symvers]);
    (exp, imp)
}

/// Every file below `dir` whose name ends with `suffix` (`.rpm`, `.ko`), sorted.
pub fn files_below(dir: &Path, suffix: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = walkdir::WalkDir::new(dir)
        .into_iter()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().ends_with(suffix))
        .map(|e| e.into_path())
        .collect();
    v.sort();
    v
}

/// `rpm -qp ARGS RPM` lines: rpm itself is the oracle for package metadata.
pub fn rpm_qp(rpm: &Path, args: &[&str]) -> Vec<String> {
    let (code, out, err) = run(Command::new("rpm").arg("-qp").args(args).arg(rpm));
    assert_eq!(code, 0, "rpm -qp {args:?} {}: {err}", rpm.display());
    out.lines().map(str::to_string).collect()
}

/// Unpacks an RPM's payload into `dest` with rpm2cpio | cpio.
pub fn rpm_unpack(rpm: &Path, dest: &Path) {
    std::fs::create_dir_all(dest).unwrap();
    let status = Command::new("sh")
        .arg("-c")
        .arg(format!("rpm2cpio '{}' | cpio -idm --quiet", rpm.display()))
        .current_dir(dest)
        .status()
        .unwrap();
    assert!(status.success(), "unpacking {}", rpm.display());
}

/// Whether an ELF executable is statically linked (no dynamic section).
pub fn is_static(bin: &Path) -> bool {
    let data = std::fs::read(bin).unwrap_or_else(|e| panic!("{}: {e}", bin.display()));
    let file = elf::ElfBytes::<elf::endian::AnyEndian>::minimal_parse(&data)
        .unwrap_or_else(|e| panic!("{}: {e}", bin.display()));
    file.dynamic().unwrap().is_none()
}

/// The portable kmodpack binary: the suite's own binary, which `make test`
/// builds statically through tests/support/cargo.sh (no glibc needed at run
/// time); `KMODPACK_PORTABLE_BIN` overrides. Fails when it is dynamically
/// linked (a plain `cargo test`, not `make test`) or another version than
/// this run's binary.
pub fn portable_kmodpack() -> PathBuf {
    let bin = std::env::var_os("KMODPACK_PORTABLE_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_kmodpack")));
    assert!(
        is_static(&bin),
        "{} is dynamically linked: build through tests/support/cargo.sh (`make test`, `make portable`)",
        bin.display()
    );
    let version = |cmd: &mut Command| run(cmd.arg("--version")).1;
    assert_eq!(
        version(&mut Command::new(&bin)),
        version(&mut kmodpack()),
        "{} is stale: run `make portable`",
        bin.display()
    );
    bin
}

/// The Debian 11 chroot: rpm 4.16 (RHEL 9's version), glibc 2.31.
pub const RPM416: (&str, &str) = ("KMODPACK_RPM416_ROOT", "bullseye-rpm");
/// The Debian 13 chroot: rpm 4.20 (the multifile generator protocol).
pub const RPM420: (&str, &str) = ("KMODPACK_RPM420_ROOT", "trixie-rpm");

/// A chroot with another rpm (`RPM416`, `RPM420`) as tests/support/system-deps.sh
/// bootstraps it under /var/cache/kmodpack-tests/ (its environment variable
/// overrides the place). Fails when it is not there: `make test` makes it,
/// so a missing one is a broken setup, never a skip.
pub fn rpm_chroot((env, name): (&str, &str)) -> PathBuf {
    let root = PathBuf::from(
        std::env::var(env).unwrap_or_else(|_| format!("/var/cache/kmodpack-tests/{name}")),
    );
    assert!(
        root.join("usr/bin/rpmbuild").exists() && root.join("usr/bin/rpmspec").exists(),
        "{} missing or without rpmbuild/rpmspec: make test bootstraps it (tests/support/system-deps.sh)",
        root.display()
    );
    root
}

/// The rpm 4.16 chroot (see `rpm_chroot`).
pub fn bullseye_root() -> PathBuf {
    rpm_chroot(RPM416)
}

/// A throwaway rpm database in a fresh temporary directory (`rpm --root
/// <dir> --initdb`), where a test installs packages with the real rpm and
/// looks at what landed. Debian's rpm refuses to install anything without
/// `--force-debian` (its packages are dpkg's), so every install passes it
/// where rpm has that option (other rpms do not know it); the directory
/// goes away with the value.
pub struct RpmRoot {
    dir: tempfile::TempDir,
}

impl RpmRoot {
    /// A root with an empty database; fails the test when rpm cannot make it.
    pub fn new() -> RpmRoot {
        let root = RpmRoot {
            dir: tempfile::tempdir().unwrap(),
        };
        let (code, _, err) = root.rpm(&["--initdb"]);
        assert_eq!(
            code,
            0,
            "rpm --root {} --initdb: {err}",
            root.path().display()
        );
        root
    }

    /// The root directory (the installed files are below it).
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// `rpm --root <root>`, to add arguments to.
    fn command(&self) -> Command {
        let mut cmd = Command::new("rpm");
        cmd.arg("--root").arg(self.path());
        cmd
    }

    /// `rpm --root <root> ARGS`: (status code, stdout, stderr).
    pub fn rpm(&self, args: &[&str]) -> (i32, String, String) {
        run(self.command().args(args))
    }

    /// `rpm --root <root> -i [--force-debian] FLAGS RPMS` (flags such as
    /// `--test`, `--nodeps`, `--noscripts`): (status code, stdout, stderr).
    pub fn install(&self, flags: &[&str], rpms: &[&Path]) -> (i32, String, String) {
        static DEBIAN: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
        let debian = *DEBIAN.get_or_init(|| {
            run(Command::new("rpm").arg("--help"))
                .1
                .contains("--force-debian")
        });
        let mut cmd = self.command();
        cmd.arg("-i");
        if debian {
            cmd.arg("--force-debian");
        }
        run(cmd.args(flags).args(rpms))
    }
}
