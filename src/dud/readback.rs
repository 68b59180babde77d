//! Reading any driver disk back (ours or anyone's: ISO, cpio(.gz) or an
//! unpacked directory) into [`DiskFacts`], and verifying it: the reader
//! gathers everything the rules (`verify.rs`) look at once, the rules
//! decide.
//!
//! No decisions are taken here. The reader never follows a symlink, never
//! opens anything but regular files below the disk root, and bounds every
//! read: a hostile disk can point anywhere, the host is never read.

use std::path::{Path, PathBuf};

use super::disk::{
    ArchDir, DiskFacts, Kind, Listed, OnDisk, Primary, RedHatTree, RepodataFacts, SuseTree,
};
use super::iso;
use super::package::read_package;
use super::preflight::ModuleChecks;
use super::target::Target;
use super::verify::{apply_rules, VerifyReport};
use super::{cpio, repodata, DudError};
use crate::module::Compression;

/// Verifies a disk image or directory.
pub fn verify_image(
    path: &Path,
    targets: &[Target],
    checks: &dyn ModuleChecks,
) -> Result<VerifyReport, DudError> {
    Ok(apply_rules(&read_image(path)?, targets, checks))
}

/// Verifies an unpacked disk tree.
pub fn verify_tree(
    root: &Path,
    kind: Kind,
    targets: &[Target],
    checks: &dyn ModuleChecks,
) -> VerifyReport {
    apply_rules(&read_tree(root, kind), targets, checks)
}

/// Path of `p` relative to `root` (`/` for the root).
fn rel(root: &Path, p: &Path) -> String {
    let r = p
        .strip_prefix(root)
        .unwrap_or(p)
        .to_string_lossy()
        .into_owned();
    if r.is_empty() {
        "/".into()
    } else {
        r
    }
}

/// Largest repodata file (repomd.xml, primary.xml.*) read from a disk.
const MAX_REPODATA: u64 = 64 << 20;
/// Largest RPM read from a disk to check it against repodata.
const MAX_DISK_RPM: u64 = 1 << 30;

/// Reads `href` below `dir` only if it stays inside the disk: a relative
/// path without `..`, no symlink on the way, a regular file of at most `cap`
/// bytes (opened without following a link or blocking on a FIFO). A hostile
/// disk's `repodata` can point anywhere; the host is never read. The error
/// names the problem, never the content.
fn read_inside(dir: &Path, href: &str, cap: u64) -> Result<Vec<u8>, String> {
    use std::io::Read;
    use std::os::unix::fs::OpenOptionsExt;
    use std::path::Component;
    let rel = Path::new(href);
    if href.is_empty()
        || !rel
            .components()
            .all(|c| matches!(c, Component::Normal(_) | Component::CurDir))
    {
        return Err(format!(
            "`{href}` points outside the repository (absolute or `..`): not read"
        ));
    }
    let mut p = dir.to_path_buf();
    for c in rel.components() {
        p.push(c);
        let m = std::fs::symlink_metadata(&p).map_err(|_| format!("{href} does not exist"))?;
        if m.file_type().is_symlink() {
            return Err(format!("{href} is a symlink on the disk: not followed"));
        }
    }
    let m = std::fs::symlink_metadata(&p).map_err(|_| format!("{href} does not exist"))?;
    if !m.is_file() {
        return Err(format!("{href} is not a regular file"));
    }
    if m.len() > cap {
        return Err(format!(
            "{href}: {} bytes, more than the {cap}-byte limit",
            m.len()
        ));
    }
    let f = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(&p)
        .map_err(|e| format!("{href}: {e}"))?;
    let mut buf = Vec::new();
    f.take(cap + 1)
        .read_to_end(&mut buf)
        .map_err(|e| format!("{href}: {e}"))?;
    if buf.len() as u64 > cap {
        return Err(format!("{href}: more than the {cap}-byte limit"));
    }
    Ok(buf)
}

/// Reads `repodata/` of one `rpms/<arch>` directory and checks each listed
/// file's size and checksum.
pub fn read_repodata(dir: &Path) -> RepodataFacts {
    if std::fs::symlink_metadata(dir.join("repodata")).is_err() {
        return RepodataFacts::Absent;
    }
    let repomd = match read_inside(dir, "repodata/repomd.xml", MAX_REPODATA) {
        Ok(t) => String::from_utf8_lossy(&t).into_owned(),
        Err(e) => return RepodataFacts::Unreadable(e),
    };
    let pref = match repodata::primary_ref(&repomd) {
        Ok(p) => p,
        Err(e) => return RepodataFacts::Unreadable(format!("repodata/repomd.xml: {e}")),
    };
    let raw = match read_inside(dir, &pref.href, MAX_REPODATA) {
        Ok(b) => b,
        Err(e) => return RepodataFacts::Unreadable(format!("repomd.xml: {e}")),
    };
    let checksum_matches =
        repodata::digest(&pref.checksum_type, &raw).as_deref() == Some(pref.checksum.as_str());
    let listed = match crate::module::compression::decompress(&raw) {
        Ok(Some((_, b))) => Ok(String::from_utf8_lossy(&b).into_owned()),
        Ok(None) => Ok(String::from_utf8_lossy(&raw).into_owned()),
        Err(e) => Err(format!("{}: {e}", pref.href)),
    }
    .and_then(|text| repodata::packages(&text).map_err(|e| format!("{}: {e}", pref.href)))
    .map(|listed| {
        listed
            .into_iter()
            .map(|l| {
                let on_disk = read_inside(dir, &l.href, MAX_DISK_RPM).map(|bytes| {
                    let size = bytes.len() as u64;
                    OnDisk {
                        size,
                        checksum_matches: (size == l.size).then(|| {
                            repodata::digest(&l.checksum_type, &bytes).as_deref()
                                == Some(l.checksum.as_str())
                        }),
                    }
                });
                Listed {
                    href: l.href,
                    checksum_type: l.checksum_type,
                    size: l.size,
                    on_disk,
                }
            })
            .collect()
    });
    RepodataFacts::Primary(Primary {
        href: pref.href,
        checksum_type: pref.checksum_type,
        checksum_matches,
        listed,
    })
}

/// `*.rpm` regular files of `dir` (sorted), and the other `*.rpm` entries
/// (symlinks, FIFOs, directories), which are never read: a symlink could
/// point at the host, and the installer does not see what it points to.
fn list_rpms(dir: &Path) -> (Vec<String>, Vec<String>) {
    let mut good = Vec::new();
    let mut bad = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if !name.ends_with(".rpm") {
            continue;
        }
        match e.file_type() {
            Ok(t) if t.is_file() => good.push(name),
            Ok(t) if t.is_symlink() => bad.push(format!("{name} is a symlink")),
            _ => bad.push(format!("{name} is not a regular file")),
        }
    }
    good.sort();
    bad.sort();
    (good, bad)
}

/// Names of the entries of `dir` whose own type (never a link's target)
/// passes `kind`, sorted.
fn entries(dir: &Path, kind: fn(&std::fs::FileType) -> bool) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| kind(&t)))
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// Real subdirectories of `dir` (symlinks to directories are not followed).
fn subdirs(dir: &Path) -> Vec<String> {
    entries(dir, std::fs::FileType::is_dir)
}

/// Reads an unpacked disk tree at `root`.
pub fn read_tree(root: &Path, kind: Kind) -> DiskFacts {
    // Red Hat DDv3 trees anywhere on the medium (anaconda walks it all).
    let mut dd_roots: Vec<PathBuf> = walkdir::WalkDir::new(root)
        .sort_by_file_name()
        .into_iter()
        .flatten()
        .filter(|e| {
            e.file_type().is_dir()
                && e.path().join("rhdd3").is_file()
                && e.path().join("rpms").is_dir()
        })
        .map(|e| e.path().to_path_buf())
        .collect();
    dd_roots.sort();
    let redhat = dd_roots
        .iter()
        .map(|dd| read_redhat_tree(root, dd))
        .collect();
    // SUSE linuxrc trees, at the root or below a numbered directory.
    let mut suse = Vec::new();
    for base in std::iter::once(root.to_path_buf()).chain(
        subdirs(root)
            .into_iter()
            .filter(|d| d.chars().all(|c| c.is_ascii_digit()))
            .map(|d| root.join(d)),
    ) {
        let s = base.join("linux/suse");
        for d in subdirs(&s) {
            suse.push(read_suse_tree(root, &s.join(d)));
        }
    }
    DiskFacts { kind, redhat, suse }
}

fn read_redhat_tree(root: &Path, dd: &Path) -> RedHatTree {
    let rpms = dd.join("rpms");
    let symlinks = entries(&rpms, std::fs::FileType::is_symlink);
    let arches = subdirs(&rpms)
        .into_iter()
        .map(|arch| read_arch_dir(root, &rpms.join(&arch), arch))
        .collect();
    RedHatTree {
        path: rel(root, dd),
        symlinks,
        arches,
        ks_cfg: dd.join("ks.cfg").is_file() || root.join("ks.cfg").is_file(),
    }
}

fn read_arch_dir(root: &Path, dir: &Path, arch: String) -> ArchDir {
    let nested_rpm_dirs = subdirs(dir)
        .into_iter()
        .filter(|s| s != "repodata")
        .filter(|sub| {
            walkdir::WalkDir::new(dir.join(sub))
                .into_iter()
                .flatten()
                .any(|e| e.file_name().to_string_lossy().ends_with(".rpm"))
        })
        .collect();
    let (rpm_names, irregular) = list_rpms(dir);
    let mut packages = Vec::new();
    let mut unreadable = Vec::new();
    for name in &rpm_names {
        match read_package(&dir.join(name)) {
            Ok(p) => packages.push(p),
            Err(e) => unreadable.push((name.clone(), e.to_string())),
        }
    }
    ArchDir {
        arch,
        path: rel(root, dir),
        nested_rpm_dirs,
        rpm_names,
        irregular,
        packages,
        unreadable,
        repodata: read_repodata(dir),
    }
}

fn read_suse_tree(root: &Path, sd: &Path) -> SuseTree {
    let mut names = Vec::new();
    let mut irregular_modules = Vec::new();
    for e in std::fs::read_dir(sd.join("modules"))
        .into_iter()
        .flatten()
        .flatten()
    {
        let n = e.file_name().to_string_lossy().into_owned();
        if !crate::module::is_module_path(Path::new(&n)) {
            continue;
        }
        if e.file_type().is_ok_and(|t| t.is_file()) {
            names.push(n);
        } else {
            irregular_modules.push(n);
        }
    }
    names.sort();
    irregular_modules.sort();
    let modules = names
        .into_iter()
        .map(|m| {
            let read = crate::module::read(&sd.join("modules").join(&m)).map_err(|e| e.to_string());
            (m, read)
        })
        .collect();
    // install/*.rpm (one `rpm -U` by YaST) and install/rpms/*.rpm (one
    // call each from update.post, as SUSE's own tools and kmodpack do).
    let (top, irregular_install) = list_rpms(&sd.join("install"));
    let (sub, irregular_install_rpms) = list_rpms(&sd.join("install/rpms"));
    let rpms = top
        .into_iter()
        .chain(sub.into_iter().map(|r| format!("rpms/{r}")))
        .map(|r| {
            let read = read_package(&sd.join("install").join(&r))
                .map(|p| !p.modules.is_empty())
                .map_err(|e| e.to_string());
            (r, read)
        })
        .collect();
    SuseTree {
        path: rel(root, sd),
        dud_config: sd.join("dud.config").is_file(),
        irregular_modules,
        modules,
        module_order: std::fs::read_to_string(sd.join("modules/module.order")).unwrap_or_default(),
        irregular_install,
        irregular_install_rpms,
        rpms,
    }
}

/// What a path given to `dud verify` is, decided from its bytes (never
/// from its name: anyone's disk may be called anything).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sniffed {
    /// An unpacked tree.
    Directory,
    /// A plain newc cpio archive.
    Cpio,
    /// gzip/xz/zstd/...: a compressed cpio if it is a disk at all.
    Compressed,
    /// ISO 9660 (`CD001` at sector 16).
    Iso,
    /// None of these.
    Unknown,
}

/// What kind of file `path` is, from its bytes.
fn sniff(path: &Path) -> Result<Sniffed, DudError> {
    use std::io::{Read, Seek, SeekFrom};
    if path.is_dir() {
        return Ok(Sniffed::Directory);
    }
    let io = |source| DudError::Io {
        path: path.to_path_buf(),
        what: "cannot read".into(),
        source,
    };
    let mut f = crate::fsio::open_regular(path).map_err(io)?;
    let mut magic = [0u8; 6];
    let n = f.read(&mut magic).map_err(io)?;
    if n >= 6 && (&magic == b"070701" || &magic == b"070702") {
        return Ok(Sniffed::Cpio);
    }
    if Compression::detect(&magic[..n]) != Compression::None {
        return Ok(Sniffed::Compressed);
    }
    let mut cd = [0u8; 5];
    if f.seek(SeekFrom::Start(32769)).is_ok() && f.read_exact(&mut cd).is_ok() && &cd == b"CD001" {
        return Ok(Sniffed::Iso);
    }
    Ok(Sniffed::Unknown)
}

/// Reads a disk image or directory: an image is unpacked into a private
/// temporary directory first (removed on return and on SIGINT/SIGTERM).
pub fn read_image(path: &Path) -> Result<DiskFacts, DudError> {
    let bad = |message: String| DudError::Image {
        path: path.to_path_buf(),
        message,
    };
    let kind = sniff(path)?;
    if kind == Sniffed::Directory {
        return Ok(read_tree(path, Kind::Directory));
    }
    let tmp = super::scratch_dir(None)?;
    let root = tmp.path().join("disk");
    std::fs::create_dir(&root).map_err(|source| DudError::Io {
        path: root.clone(),
        what: "cannot create".into(),
        source,
    })?;
    match kind {
        Sniffed::Iso => {
            let facts = iso::read_facts(path)?;
            iso::extract(path, &root)?;
            Ok(read_tree(&root, Kind::Iso(facts)))
        }
        Sniffed::Cpio | Sniffed::Compressed => {
            let raw = std::fs::read(path).map_err(|source| DudError::Io { path: path.to_path_buf(), what: "cannot read".into(), source })?;
            let data = match crate::module::compression::decompress(&raw).map_err(bad)? {
                Some((_, d)) => d,
                None => raw,
            };
            let members = cpio::parse(&data).map_err(bad)?;
            unpack(&members, &root)?;
            Ok(read_tree(&root, Kind::Cpio))
        }
        Sniffed::Directory | Sniffed::Unknown => Err(bad("not a driver disk: neither an ISO 9660 image, a cpio archive (plain, gzip, xz, zstd) nor a directory".into())),
    }
}

fn unpack(members: &[cpio::Member], root: &Path) -> Result<(), DudError> {
    for m in members {
        let dest = root.join(&m.path);
        let io = |source| DudError::Io {
            path: dest.clone(),
            what: "cannot unpack".into(),
            source,
        };
        if m.is_dir() {
            std::fs::create_dir_all(&dest).map_err(io)?;
        } else if m.mode & 0o170000 == 0o100000 {
            if let Some(parent) = dest.parent() {
                std::fs::create_dir_all(parent).map_err(io)?;
            }
            std::fs::write(&dest, &m.data).map_err(io)?;
        }
    }
    Ok(())
}
