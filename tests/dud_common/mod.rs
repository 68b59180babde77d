//! Real kmod RPMs for the driver-update-disk tests: the kpx_export test
//! module compiled against the installed headers, packaged by rpmbuild with
//! a small spec written here (Provides variants, paths, compression), so
//! every test exercises rpm's own header and payload writer.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common;

/// How to package the test module.
#[derive(Debug, Clone)]
pub struct KmodSpec {
    /// Package name.
    pub name: String,
    /// Release.
    pub release: String,
    /// Lines of `Provides:` (verbatim, e.g. `kernel-modules >= 5.14.0-...`).
    pub provides: Vec<String>,
    /// Extra `Requires:`.
    pub requires: Vec<String>,
    /// `Supplements:` (verbatim).
    pub supplements: Vec<String>,
    /// Kernel release directory under lib/modules.
    pub kver: String,
    /// Module directory prefix: `/lib/modules` or `/usr/lib/modules`.
    pub moddir: String,
    /// Compress the module with xz (`.ko.xz`).
    pub xz: bool,
    /// Ship no module at all (a text file instead).
    pub no_module: bool,
    /// Ship firmware under /lib/firmware/kpx/ instead of the module.
    pub firmware: bool,
    /// BuildArch / --target.
    pub arch: String,
    /// `_binary_payload` (e.g. `w19.zstdio`), default xz.
    pub payload: String,
    /// Package this module file instead of the plain kpx_export build.
    pub ko: Option<PathBuf>,
    /// xz options for `xz: true`.
    pub xz_check: String,
    /// `%description` text.
    pub description: String,
    /// `%post` body (none when empty).
    pub post: String,
    /// Ship `/etc/depmod.d/kpx.conf` (a weak-updates override).
    pub depmod_override: bool,
}

impl KmodSpec {
    /// The user's kmod: built for 5.14.0-503.11.1.el9_5, `>=` Provides.
    pub fn el9(op: &str) -> KmodSpec {
        let kver = "5.14.0-503.11.1.el9_5.x86_64".to_string();
        KmodSpec {
            name: "kmod-kpx".into(),
            release: "1.el9_5".into(),
            provides: vec![format!("kernel-modules {op} {kver}")],
            requires: vec![],
            supplements: vec![],
            kver,
            moddir: "/lib/modules".into(),
            xz: false,
            no_module: false,
            firmware: false,
            arch: "x86_64".into(),
            payload: "w2.xzdio".into(),
            ko: None,
            xz_check: "--check=crc32".into(),
            description: "kpx test module packaged for driver update disk tests.".into(),
            post: String::new(),
            depmod_override: false,
        }
    }

    /// [`KmodSpec::el9`] (`>=`) named `name`, packaging the module file `ko`.
    pub fn el9_module(name: &str, ko: &Path) -> KmodSpec {
        KmodSpec {
            name: name.into(),
            ko: Some(ko.to_path_buf()),
            ..KmodSpec::el9(">=")
        }
    }
}

/// The kpx exporter and importer (`common::kpx_pair`) as el9 kmods
/// `kmod-kpx-export` and `kmod-kpx-import`: (exporter RPM, importer RPM).
pub fn kpx_pair_rpms() -> (PathBuf, PathBuf) {
    let (exporter, importer) = common::kpx_pair();
    (
        build_rpm(&KmodSpec::el9_module("kmod-kpx-export", &exporter.ko)),
        build_rpm(&KmodSpec::el9_module("kmod-kpx-import", &importer.ko)),
    )
}

/// Builds the RPM (cached by spec text under target/dud-rpms) and returns its path.
pub fn build_rpm(spec: &KmodSpec) -> PathBuf {
    let ko = spec
        .ko
        .clone()
        .unwrap_or_else(|| common::build_module("kpx_export", &[], &[]).ko);
    let ko_name = ko.file_name().unwrap().to_string_lossy().into_owned();
    let mut body = String::new();
    body.push_str(&format!(
        "Name: {}\nVersion: 1.0\nRelease: {}\nSummary: kpx test kmod\nLicense: GPL-2.0-only\nBuildArch: {}\n",
        spec.name, spec.release, spec.arch
    ));
    for p in &spec.provides {
        body.push_str(&format!("Provides: {p}\n"));
    }
    for r in &spec.requires {
        body.push_str(&format!("Requires: {r}\n"));
    }
    for r in &spec.supplements {
        body.push_str(&format!("Supplements: {r}\n"));
    }
    body.push_str("%define debug_package %{nil}\n");
    body.push_str(&format!("%define _binary_payload {}\n", spec.payload));
    body.push_str(&format!("%description\n{}\n%install\n", spec.description));
    let dir = format!("{}/{}/extra/kpx", spec.moddir, spec.kver);
    if !spec.firmware {
        body.push_str(&format!("mkdir -p %{{buildroot}}{dir}\n"));
    }
    if spec.firmware {
        body.push_str("mkdir -p %{buildroot}/lib/firmware/kpx\necho blob > %{buildroot}/lib/firmware/kpx/kpx.bin\n");
        body.push_str("%files\n/lib/firmware/kpx/\n");
    } else if spec.no_module {
        body.push_str(&format!("echo readme > %{{buildroot}}{dir}/README\n"));
    } else {
        body.push_str(&format!(
            "install -m 0644 {} %{{buildroot}}{dir}/{ko_name}\n",
            ko.display()
        ));
        if spec.xz {
            body.push_str(&format!(
                "xz {} %{{buildroot}}{dir}/{ko_name}\n",
                spec.xz_check
            ));
        }
    }
    if spec.depmod_override {
        body.push_str("mkdir -p %{buildroot}/etc/depmod.d\necho 'override kpx_export * weak-updates/kpx' > %{buildroot}/etc/depmod.d/kpx.conf\n");
    }
    if !spec.post.is_empty() {
        body.push_str(&format!("%post\n{}\n", spec.post));
    }
    if !spec.firmware {
        body.push_str(&format!(
            "%files\n{}/{}/extra/kpx/\n",
            spec.moddir, spec.kver
        ));
    }
    if spec.depmod_override {
        body.push_str("/etc/depmod.d/kpx.conf\n");
    }

    use std::collections::hash_map::DefaultHasher;
    use std::hash::{Hash, Hasher};
    let mut h = DefaultHasher::new();
    body.hash(&mut h);
    std::fs::read(&ko).unwrap().hash(&mut h);
    let rpm_name = format!("{}-1.0-{}.{}.rpm", spec.name, spec.release, spec.arch);
    cached_rpmbuild(
        &format!("kmod-{:016x}", h.finish()),
        &spec.arch,
        &rpm_name,
        |_| body,
    )
}

/// `--define`s hooking kmodpack's dependency generator in as `kmodpack
/// build` does (a disk is made of kmodpack-built kmods, and the preflight
/// refuses modules without its lines); the headers' Module.symvers stands in
/// for every module's kernel.
fn generator_defines(scratch: &Path) -> Vec<String> {
    use kmodpack::build::rpmbuild::{attr_defines, prepare_fileattrs};
    let exe = Path::new(env!("CARGO_BIN_EXE_kmodpack"));
    let attrs = scratch.join("fileattrs");
    prepare_fileattrs(&attrs, exe).unwrap();
    let mut d: Vec<String> = attr_defines(exe)
        .into_iter()
        .map(|(k, v)| format!("{k} {v}"))
        .collect();
    d.push(format!("_fileattrsdir {}", attrs.display()));
    d.push(format!("_kmodpack_bin {}", exe.display()));
    d.push(format!(
        "_kmodpack_symvers {}",
        common::kernel_symvers().display()
    ));
    d
}

/// Builds `rpm_name` for `arch` with rpmbuild from the spec text `spec`
/// returns (given a scratch directory for extra sources), once: the result is
/// kept under target/dud-rpms/<key>/. Reproducible (SOURCE_DATE_EPOCH, fixed
/// build host), modules left unstripped.
fn cached_rpmbuild(
    key: &str,
    arch: &str,
    rpm_name: &str,
    spec: impl FnOnce(&Path) -> String,
) -> PathBuf {
    let cache = common::repo().join("target/dud-rpms").join(key);
    let out = cache.join(rpm_name);
    if out.is_file() {
        return out;
    }
    std::fs::create_dir_all(cache.parent().unwrap()).unwrap();
    let top = tempfile::Builder::new()
        .prefix(".rpmbuild-")
        .tempdir_in(cache.parent().unwrap())
        .unwrap();
    let body = spec(top.path());
    let spec_path = top.path().join("test.spec");
    std::fs::write(&spec_path, &body).unwrap();
    let mut cmd = Command::new("rpmbuild");
    if key.starts_with("kmod-") {
        for d in generator_defines(top.path()) {
            cmd.arg("--define").arg(d);
        }
    }
    let (code, o, e) = common::run(
        cmd.args(["-bb", "--target", arch])
            .arg("--define")
            .arg(format!("_topdir {}", top.path().display()))
            .args([
                "--define",
                "__os_install_post %{nil}",
                "--define",
                "_build_id_links none",
                "--define",
                "use_source_date_epoch_as_buildtime 1",
                "--define",
                "clamp_mtime_to_source_date_epoch 1",
                "--define",
                "_buildhost reproducible",
            ])
            .env("SOURCE_DATE_EPOCH", "1700000000")
            .arg(&spec_path),
    );
    assert_eq!(code, 0, "rpmbuild failed:\n{o}\n{e}\n{body}");
    let built = top.path().join("RPMS").join(arch).join(rpm_name);
    assert!(
        built.is_file(),
        "rpmbuild did not produce {}:\n{o}",
        built.display()
    );
    let staged = top.path().join("out");
    std::fs::create_dir(&staged).unwrap();
    std::fs::rename(&built, staged.join(rpm_name)).unwrap();
    if std::fs::rename(&staged, &cache).is_err() {
        // Someone else built the same spec concurrently.
    }
    out
}

/// The RHEL 9.5 installer kernel the disk tests target.
pub const INSTALLER_95: &str = "5.14.0-503.14.1.el9_5.x86_64";

/// A path as a command-line argument.
pub fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// `kmodpack dud build -o <out> --installer-kernel 9.5 <args...>`.
pub fn build_disk(out: &Path, args: &[&str]) -> (i32, String, String) {
    let mut all = vec!["build", "-o", s(out), "--installer-kernel", INSTALLER_95];
    all.extend(args);
    dud(&all)
}

/// Extracts an ISO with libarchive's bsdtar into the new directory `dest`.
pub fn extract_iso(iso: &Path, dest: &Path) {
    std::fs::create_dir(dest).unwrap();
    let (c, _, e) = common::run(Command::new("bsdtar").args(["-xf", s(iso), "-C", s(dest)]));
    assert_eq!(c, 0, "{e}");
}

/// A fresh scratch directory for one test.
pub fn scratch() -> tempfile::TempDir {
    let base = common::repo().join("target/dud-scratch");
    std::fs::create_dir_all(&base).unwrap();
    tempfile::Builder::new()
        .prefix("t-")
        .tempdir_in(base)
        .unwrap()
}

/// A dnf repository (createrepo_c) holding a stand-in kernel that provides
/// the headers' exports, so the kmods' kernel() Requires resolve.
pub fn kernel_exports_repo(dir: &Path) -> PathBuf {
    let rpm = cached_rpmbuild(
        &format!("kernel-exports-{}", common::kernel_release()),
        "noarch",
        "kernel-kpxtest-1-1.noarch.rpm",
        |_| common::kernel_exports_spec("kernel-kpxtest"),
    );
    let repo = dir.join("kernel-repo");
    std::fs::create_dir_all(&repo).unwrap();
    std::fs::copy(&rpm, repo.join(rpm.file_name().unwrap())).unwrap();
    let (c, o, e) = common::run(Command::new("createrepo_c").arg("--no-database").arg(&repo));
    assert_eq!(c, 0, "{o}{e}");
    repo
}

/// Runs `kmodpack dud ARGS`.
pub fn dud(args: &[&str]) -> (i32, String, String) {
    common::run(common::kmodpack().arg("dud").args(args))
}

/// Lists the entries of a directory (names), sorted.
pub fn ls(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// A tiny real RPM named like anaconda's (for install-ISO fixtures): the
/// version is what `--installer-iso` must read from its header.
pub fn anaconda_rpm(version: &str) -> PathBuf {
    cached_rpmbuild(
        &format!("anaconda-{version}"),
        "x86_64",
        &format!("anaconda-dracut-{version}-1.el9.x86_64.rpm"),
        |_| {
            format!(
                "Name: anaconda-dracut\nVersion: {version}\nRelease: 1.el9\nSummary: stand-in\nLicense: GPL-2.0-or-later\n\
                 BuildArch: x86_64\n%description\nstand-in carrying the version\n%files\n"
            )
        },
    )
}

/// The installed Debian kernel image (a real bzImage).
pub fn debian_vmlinuz() -> PathBuf {
    let p = PathBuf::from(format!("/boot/vmlinuz-{}", common::kernel_release()));
    assert!(
        p.is_file(),
        "{} missing (linux-image-amd64 is required)",
        p.display()
    );
    p
}

/// An install-ISO stand-in: images/pxeboot/vmlinuz (a real bzImage),
/// .treeinfo and an anaconda-dracut RPM under BaseOS/Packages/a/.
pub fn install_iso(dir: &Path, anaconda: Option<&str>) -> PathBuf {
    let tree = dir.join("install-tree");
    std::fs::create_dir_all(tree.join("images/pxeboot")).unwrap();
    std::fs::copy(debian_vmlinuz(), tree.join("images/pxeboot/vmlinuz")).unwrap();
    std::fs::write(
        tree.join(".treeinfo"),
        "[header]\ntype = productmd.treeinfo\nversion = 1.2\n\n[general]\narch = x86_64\nfamily = Test\n\n[tree]\narch = x86_64\n",
    )
    .unwrap();
    if let Some(v) = anaconda {
        std::fs::create_dir_all(tree.join("BaseOS/Packages/a")).unwrap();
        let rpm = anaconda_rpm(v);
        std::fs::copy(
            &rpm,
            tree.join("BaseOS/Packages/a")
                .join(rpm.file_name().unwrap()),
        )
        .unwrap();
    }
    let iso = dir.join("install.iso");
    mkisofs(&tree, &iso, &["-R", "-J", "-V", "Test-9-5-x86_64-dvd"]);
    iso
}

/// `xorriso -as mkisofs -quiet OPTIONS -o ISO TREE` (fails the test when xorriso does).
pub fn mkisofs(tree: &Path, iso: &Path, options: &[&str]) {
    let (code, o, e) = common::run(
        Command::new("xorriso")
            .args(["-as", "mkisofs", "-quiet"])
            .args(options)
            .arg("-o")
            .arg(iso)
            .arg(tree),
    );
    assert_eq!(code, 0, "{o}{e}");
}

/// A copy of the installed Debian bzImage whose version string (pointed
/// to by the boot header) is replaced by `release`: a realistic installer
/// kernel image for an RHEL-style release this machine does not have.
pub fn vmlinuz_with_release(release: &str, dest: &Path) {
    let mut img = std::fs::read(debian_vmlinuz()).unwrap();
    let ptr = u16::from_le_bytes([img[0x20E], img[0x20F]]) as usize + 0x200;
    let old_len = img[ptr..].iter().position(|&b| b == 0).unwrap();
    let new =
        format!("{release} (mockbuild@x86-64-01.build.eng.rdu2.redhat.com) #1 SMP PREEMPT_DYNAMIC");
    assert!(new.len() <= old_len, "replacement version string too long");
    img[ptr..ptr + new.len()].copy_from_slice(new.as_bytes());
    img[ptr + new.len()] = 0;
    std::fs::write(dest, img).unwrap();
}

/// A kernel-core RPM for `release` carrying /lib/modules/<release>/symvers.gz
/// (the installed kernel's real Module.symvers) and `kernel-uname-r`.
pub fn kernel_core_rpm(release: &str) -> PathBuf {
    let (ver, rest) = release.split_once('-').unwrap();
    let (rel, arch) = rest.rsplit_once('.').unwrap();
    cached_rpmbuild(
        &format!("kernel-core-{release}"),
        arch,
        &format!("kernel-core-{release}.rpm"),
        |scratch| {
            let symvers_gz = scratch.join("symvers.gz");
            let (c, _, e) = common::run(Command::new("sh").arg("-c").arg(format!(
                "gzip -9c < {} > {}",
                common::kernel_symvers().display(),
                symvers_gz.display()
            )));
            assert_eq!(c, 0, "{e}");
            format!(
                "Name: kernel-core\nVersion: {ver}\nRelease: {rel}\nSummary: stand-in\nLicense: GPL-2.0-only\nBuildArch: {arch}\n\
                 Provides: kernel-uname-r = {release}\n%description\nstand-in carrying the symvers\n%install\n\
                 mkdir -p %{{buildroot}}/lib/modules/{release}\ninstall -m 0644 {} %{{buildroot}}/lib/modules/{release}/symvers.gz\n\
                 %files\n/lib/modules/{release}/\n",
                symvers_gz.display()
            )
        },
    )
}

/// An RHEL-like install ISO: vmlinuz reporting `release`, .treeinfo,
/// anaconda-dracut and kernel-core RPMs in BaseOS/Packages.
pub fn rhel_install_iso(dir: &Path, release: &str, anaconda: &str) -> PathBuf {
    let tree = dir.join("rhel-tree");
    std::fs::create_dir_all(tree.join("images/pxeboot")).unwrap();
    vmlinuz_with_release(release, &tree.join("images/pxeboot/vmlinuz"));
    std::fs::write(tree.join(".treeinfo"), "[general]\narch = x86_64\n").unwrap();
    for (sub, rpm) in [
        ("a", anaconda_rpm(anaconda)),
        ("k", kernel_core_rpm(release)),
    ] {
        let d = tree.join("BaseOS/Packages").join(sub);
        std::fs::create_dir_all(&d).unwrap();
        std::fs::copy(&rpm, d.join(rpm.file_name().unwrap())).unwrap();
    }
    let iso = dir.join("rhel-install.iso");
    mkisofs(&tree, &iso, &["-R", "-J", "-V", "RHEL-9-5-0-BaseOS-x86_64"]);
    iso
}
