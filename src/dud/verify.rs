//! Reading any driver disk back (ours or anyone's: ISO, cpio(.gz) or an
//! unpacked directory) and saying what the installer would do with it:
//! label and Rock Ridge, the DDv3 or linuxrc layout, the repodata against
//! the RPMs beside it, and the full preflight again per installer kernel.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::iso::{self, IsoFacts};
use super::package::{read_package, PackageFacts};
use super::preflight::{self, Finding, Format, ModuleChecks, Rule, Severity};
use super::repodata;
use super::target::{extracts_compressed_modules, Target};
use super::{cpio, DudError};
use crate::module::Compression;

/// What kind of container the disk came in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    /// ISO 9660 image (with the facts read from its descriptors).
    Iso(IsoFacts),
    /// newc cpio, possibly compressed.
    Cpio,
    /// An unpacked directory.
    Directory,
}

/// One `dd_list` verdict on the disk.
#[derive(Debug, Clone)]
pub struct DiskVerdict {
    /// RPM path on the disk.
    pub rpm: String,
    /// Installer kernel.
    pub target: String,
    /// Accepted?
    pub accepted: bool,
    /// Why.
    pub reason: String,
}

/// The result of verifying a disk.
#[derive(Debug, Clone)]
pub struct VerifyReport {
    /// Container kind.
    pub kind: Kind,
    /// Driver update trees found (`/` for a DDv3 tree at the root,
    /// `linux/suse/x86_64-sles15` for SUSE).
    pub trees: Vec<String>,
    /// Per-RPM, per-target verdicts (Red Hat).
    pub verdicts: Vec<DiskVerdict>,
    /// Per target: the module files the installer would load.
    pub loads: Vec<(String, Vec<String>)>,
    /// Findings, most severe first.
    pub findings: Vec<Finding>,
    /// What could not be checked (and why): a disk is not OK while this
    /// is not empty.
    pub unchecked: Vec<String>,
}

impl VerifyReport {
    /// Number of errors.
    pub fn errors(&self) -> usize {
        self.findings
            .iter()
            .filter(|f| f.severity == Severity::Error)
            .count()
    }
}

fn finding(severity: Severity, code: Rule, subject: &str, message: String) -> Finding {
    Finding {
        severity,
        code,
        subject: subject.to_string(),
        message,
    }
}

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

/// Checks the ISO-level facts (label, Rock Ridge, Joliet).
pub fn check_iso(facts: &IsoFacts, expected_label: Option<&str>) -> Vec<Finding> {
    let mut out = Vec::new();
    if !facts.rock_ridge && !facts.joliet {
        out.push(finding(
            Severity::Error,
            Rule::E2,
            "image",
            "no Rock Ridge and no Joliet: file names are cut to 8.3 (RHDD3.;1, KMOD_FAK.RPM;1) and repodata points at files that do not exist".into(),
        ));
    } else if !facts.rock_ridge {
        out.push(finding(Severity::Warning, Rule::E2, "image", "Joliet but no Rock Ridge: Linux reads Joliet names, but modes and long names are safer with Rock Ridge".into()));
    }
    match expected_label {
        Some(l) if facts.label != l => out.push(finding(
            Severity::Error,
            Rule::E2,
            "image",
            format!("volume label is `{}`, expected `{l}`", facts.label),
        )),
        _ => {}
    }
    if facts.label != "OEMDRV" {
        out.push(finding(
            Severity::Note,
            Rule::E5,
            "image",
            format!(
                "label `{}` is not OEMDRV: not auto-loaded; boot with inst.dd=hd:LABEL={}",
                facts.label, facts.label
            ),
        ));
    }
    out
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

/// Checks `repodata/` of one `rpms/<arch>` directory against the RPMs in it.
pub fn check_repodata(dir: &Path, subject: &str) -> Vec<Finding> {
    let mut out = Vec::new();
    let mut err = |m: String| out.push(finding(Severity::Error, Rule::D2, subject, m));
    if std::fs::symlink_metadata(dir.join("repodata")).is_err() {
        return vec![finding(
            Severity::Note,
            Rule::D1,
            subject,
            "no repodata/: anaconda runs createrepo_c itself on boot.iso".into(),
        )];
    }
    let repomd = match read_inside(dir, "repodata/repomd.xml", MAX_REPODATA) {
        Ok(t) => String::from_utf8_lossy(&t).into_owned(),
        Err(e) => {
            err(e);
            return out;
        }
    };
    let pref = match repodata::primary_ref(&repomd) {
        Ok(p) => p,
        Err(e) => {
            err(format!("repodata/repomd.xml: {e}"));
            return out;
        }
    };
    let raw = match read_inside(dir, &pref.href, MAX_REPODATA) {
        Ok(b) => b,
        Err(e) => {
            err(format!("repomd.xml: {e}"));
            return out;
        }
    };
    if repodata::digest(&pref.checksum_type, &raw).as_deref() != Some(pref.checksum.as_str()) {
        err(format!(
            "{}: {} checksum differs from repomd.xml (stale metadata)",
            pref.href, pref.checksum_type
        ));
    }
    if pref.href.ends_with(".zst") {
        out.push(finding(
            Severity::Warning,
            Rule::D1,
            subject,
            format!("{}: zstd metadata cannot be read by old yum/dnf; write it with --general-compress-type=gz", pref.href),
        ));
    }
    let text = match crate::module::compression::decompress(&raw) {
        Ok(Some((_, b))) => String::from_utf8_lossy(&b).into_owned(),
        Ok(None) => String::from_utf8_lossy(&raw).into_owned(),
        Err(e) => {
            out.push(finding(
                Severity::Error,
                Rule::D2,
                subject,
                format!("{}: {e}", pref.href),
            ));
            return out;
        }
    };
    let listed = match repodata::packages(&text) {
        Ok(l) => l,
        Err(e) => {
            out.push(finding(
                Severity::Error,
                Rule::D2,
                subject,
                format!("{}: {e}", pref.href),
            ));
            return out;
        }
    };
    let mut seen = std::collections::BTreeSet::new();
    for l in &listed {
        seen.insert(l.href.clone());
        match read_inside(dir, &l.href, MAX_DISK_RPM) {
            Err(e) => out.push(finding(
                Severity::Error,
                Rule::D2,
                subject,
                format!("repodata lists {}: {e}", l.href),
            )),
            Ok(bytes) => {
                if bytes.len() as u64 != l.size {
                    out.push(finding(
                        Severity::Error,
                        Rule::D2,
                        subject,
                        format!(
                            "{}: {} bytes on the disk, repodata says {}",
                            l.href,
                            bytes.len(),
                            l.size
                        ),
                    ));
                } else if repodata::digest(&l.checksum_type, &bytes).as_deref()
                    != Some(l.checksum.as_str())
                {
                    out.push(finding(
                        Severity::Error,
                        Rule::D2,
                        subject,
                        format!("{}: {} differs from repodata (stale metadata: anaconda would install the wrong package)", l.href, l.checksum_type),
                    ));
                }
            }
        }
    }
    for rpm in list_rpms(dir).0 {
        if !seen.contains(&rpm) {
            out.push(finding(
                Severity::Error,
                Rule::D2,
                subject,
                format!("{rpm} is not listed in repodata (stale metadata)"),
            ));
        }
    }
    out
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

/// Findings for the `*.rpm` entries of `dir` that are not regular files.
fn irregular_rpms(bad: &[String], subject: &str) -> Vec<Finding> {
    bad.iter()
        .map(|b| {
            finding(
                Severity::Error,
                Rule::D3,
                subject,
                format!("{b}: not read (a disk must hold the RPMs themselves; links can point outside the disk)"),
            )
        })
        .collect()
}

/// Real subdirectories of `dir` (symlinks to directories are not followed).
fn subdirs(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// Verifies an unpacked disk tree.
pub fn verify_tree(
    root: &Path,
    kind: Kind,
    targets: &[Target],
    checks: &dyn ModuleChecks,
) -> Result<VerifyReport, DudError> {
    let mut rep = VerifyReport {
        kind: kind.clone(),
        trees: Vec::new(),
        verdicts: Vec::new(),
        loads: Vec::new(),
        findings: Vec::new(),
        unchecked: Vec::new(),
    };
    if let Kind::Iso(f) = &kind {
        rep.findings.extend(check_iso(f, None));
    }
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
    // Per installer kernel for anaconda trees; a linuxrc tree has its own entry.
    let mut loads: BTreeMap<String, Vec<String>> = if dd_roots.is_empty() {
        BTreeMap::new()
    } else {
        targets
            .iter()
            .map(|t| (t.uname_r.clone(), Vec::new()))
            .collect()
    };
    for dd in &dd_roots {
        let tree = rel(root, dd);
        rep.trees.push(tree.clone());
        let arches = subdirs(&dd.join("rpms"));
        for e in std::fs::read_dir(dd.join("rpms"))
            .into_iter()
            .flatten()
            .flatten()
        {
            if e.file_type().is_ok_and(|t| t.is_symlink()) {
                rep.findings.push(finding(
                    Severity::Error,
                    Rule::D3,
                    &tree,
                    format!(
                        "rpms/{} is a symlink: not followed (it can point outside the disk)",
                        e.file_name().to_string_lossy()
                    ),
                ));
            }
        }
        for t in targets {
            if t.arch.is_empty() {
                rep.findings.push(finding(
                    Severity::Error,
                    Rule::A1,
                    &tree,
                    format!(
                        "installer kernel {}: no `.<arch>` suffix, and anaconda compares against the full `uname -r` \
                         (e.g. 5.14.0-503.14.1.el9_5.x86_64); give that, or --arch",
                        t.uname_r
                    ),
                ));
                continue;
            }
            if !arches.contains(&t.arch) {
                rep.findings.push(finding(
                    Severity::Error,
                    Rule::E1,
                    &tree,
                    format!(
                        "no rpms/{}/: the installer on {} finds no driver disk here (has: {})",
                        t.arch,
                        t.uname_r,
                        arches.join(", ")
                    ),
                ));
            }
        }
        for arch in &arches {
            let dir = dd.join("rpms").join(arch);
            let subj = rel(root, &dir);
            for sub in subdirs(&dir).into_iter().filter(|s| s != "repodata") {
                let nested = walkdir::WalkDir::new(dir.join(&sub))
                    .into_iter()
                    .flatten()
                    .any(|e| e.file_name().to_string_lossy().ends_with(".rpm"));
                if nested {
                    rep.findings.push(finding(
                        Severity::Error,
                        Rule::D3,
                        &subj,
                        format!(
                            "RPMs in the subdirectory {sub}/: dd_list only reads rpms/<arch>/*.rpm"
                        ),
                    ));
                }
            }
            let mut pkgs: Vec<PackageFacts> = Vec::new();
            let (rpm_names, irregular) = list_rpms(&dir);
            rep.findings.extend(irregular_rpms(&irregular, &subj));
            for name in rpm_names {
                match read_package(&dir.join(&name)) {
                    Ok(p) => pkgs.push(p),
                    Err(e) => rep.findings.push(finding(
                        Severity::Error,
                        Rule::B1,
                        &format!("{subj}/{name}"),
                        e.to_string(),
                    )),
                }
            }
            for p in &pkgs {
                if p.pkg.arch != *arch && p.pkg.arch != "noarch" && !p.pkg.is_source {
                    rep.findings.push(finding(
                        Severity::Error,
                        Rule::B7,
                        &format!("{subj}/{}", p.file_name()),
                        format!(
                            "{} package in rpms/{arch}/: it cannot load on a {arch} installer",
                            p.pkg.arch
                        ),
                    ));
                }
            }
            let arch_targets: Vec<Target> = targets
                .iter()
                .filter(|t| t.arch == *arch)
                .cloned()
                .collect();
            let opts = preflight::Options {
                format: Format::RedHat,
                include_sources: false,
                pci_ids: Vec::new(),
            };
            let pf = preflight::run(&pkgs, &arch_targets, &opts, checks);
            for mut f in pf.findings {
                if f.subject != "disk" {
                    f.subject = format!("{subj}/{}", f.subject);
                } else {
                    f.subject = subj.clone();
                }
                rep.findings.push(f);
            }
            for (pi, ti, v) in &pf.verdicts {
                let t = &arch_targets[*ti];
                let p = &pkgs[*pi];
                rep.verdicts.push(DiskVerdict {
                    rpm: format!("{subj}/{}", p.file_name()),
                    target: t.uname_r.clone(),
                    accepted: v.accepted(),
                    reason: v.reason(),
                });
                if v.flags.modules {
                    let compressed_ok = t
                        .anaconda
                        .as_deref()
                        .map(extracts_compressed_modules)
                        .unwrap_or(true);
                    for (inner, m) in &p.modules {
                        if m.compression == Compression::None || compressed_ok {
                            let base = inner.rsplit('/').next().unwrap_or(inner);
                            loads
                                .entry(t.uname_r.clone())
                                .or_default()
                                .push(format!("{base} ({})", p.file_name()));
                        }
                    }
                }
            }
            rep.findings.extend(check_repodata(&dir, &subj));
        }
        if dd.join("ks.cfg").is_file() || root.join("ks.cfg").is_file() {
            rep.findings.push(finding(
                Severity::Warning,
                Rule::E4,
                &tree,
                "ks.cfg on an OEMDRV disk is used as the kickstart when no inst.ks is given".into(),
            ));
        }
    }
    // SUSE linuxrc trees.
    let mut suse_dirs = Vec::new();
    for base in std::iter::once(root.to_path_buf()).chain(
        subdirs(root)
            .into_iter()
            .filter(|d| d.chars().all(|c| c.is_ascii_digit()))
            .map(|d| root.join(d)),
    ) {
        let s = base.join("linux/suse");
        for d in subdirs(&s) {
            suse_dirs.push(s.join(d));
        }
    }
    for sd in &suse_dirs {
        let tree = rel(root, sd);
        rep.trees.push(tree.clone());
        if !sd.join("dud.config").is_file() {
            rep.findings.push(finding(
                Severity::Warning,
                Rule::G1,
                &tree,
                "no dud.config (linuxrc uses it for the update id and name)".into(),
            ));
        }
        let mut mods: Vec<String> = Vec::new();
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
                mods.push(n);
            } else {
                rep.findings.push(finding(
                    Severity::Error,
                    Rule::G2,
                    &format!("{tree}/modules/{n}"),
                    "not a regular file (a symlink can point outside the disk): not read".into(),
                ));
            }
        }
        mods.sort();
        let order = std::fs::read_to_string(sd.join("modules/module.order")).unwrap_or_default();
        if !mods.is_empty() && order.trim().is_empty() {
            rep.findings.push(finding(
                Severity::Warning,
                Rule::G2,
                &tree,
                "modules/ without module.order: linuxrc loads them in directory order".into(),
            ));
        }
        let mut loaded = Vec::new();
        for name in order
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
        {
            let stem = crate::module::strip_module_suffix(name);
            if let Some(f) = mods
                .iter()
                .find(|m| crate::module::strip_module_suffix(m) == stem)
            {
                loaded.push(f.clone());
            }
        }
        for m in &mods {
            if !loaded.contains(m) {
                loaded.push(m.clone());
            }
        }
        for m in &mods {
            match crate::module::read(&sd.join("modules").join(m)) {
                Ok(km) => {
                    let subject = format!("{tree}/modules/{m}");
                    for problem in super::suse::media_kernel_mismatches(&km, targets) {
                        rep.findings
                            .push(finding(Severity::Warning, Rule::G3, &subject, problem));
                    }
                }
                Err(e) => rep.findings.push(finding(
                    Severity::Error,
                    Rule::G2,
                    &format!("{tree}/modules/{m}"),
                    e.to_string(),
                )),
            }
        }
        // install/*.rpm (one `rpm -U` by YaST) and install/rpms/*.rpm (one
        // call each from update.post, as SUSE's own tools and kmodpack do).
        let (top, bad_top) = list_rpms(&sd.join("install"));
        let (sub, bad_sub) = list_rpms(&sd.join("install/rpms"));
        rep.findings
            .extend(irregular_rpms(&bad_top, &format!("{tree}/install")));
        rep.findings
            .extend(irregular_rpms(&bad_sub, &format!("{tree}/install/rpms")));
        let rpms: Vec<String> = top
            .into_iter()
            .chain(sub.into_iter().map(|r| format!("rpms/{r}")))
            .collect();
        let mut kmps_with_modules = 0;
        for r in &rpms {
            match read_package(&sd.join("install").join(r)) {
                Ok(p) if !p.modules.is_empty() => kmps_with_modules += 1,
                Ok(_) => {}
                Err(e) => rep.findings.push(finding(
                    Severity::Error,
                    Rule::G2,
                    &format!("{tree}/install/{r}"),
                    e.to_string(),
                )),
            }
        }
        if loaded.is_empty() && kmps_with_modules > 0 {
            rep.findings.push(finding(
                Severity::Error,
                Rule::G2,
                &tree,
                format!("no modules/: linuxrc loads nothing in the installer; the {kmps_with_modules} package(s) with modules in install/ only reach the installed system"),
            ));
        }
        if loaded.is_empty() && rpms.is_empty() {
            rep.findings.push(finding(
                Severity::Error,
                Rule::G2,
                &tree,
                "no modules/ and no install/*.rpm: nothing to load or install".into(),
            ));
        }
        let label = format!("linuxrc ({tree})");
        loads.insert(label, loaded);
    }
    if dd_roots.is_empty() && suse_dirs.is_empty() {
        rep.findings.push(finding(
            Severity::Error,
            Rule::E1,
            "disk",
            "no driver update tree: neither rhdd3 beside rpms/<arch>/ (anaconda) nor linux/suse/<arch>-<dist>/ (linuxrc); the installer finds nothing"
                .into(),
        ));
    }
    if targets.is_empty() && !dd_roots.is_empty() {
        rep.findings.push(finding(
            Severity::Note,
            Rule::A1,
            "disk",
            "no installer kernel given: dd_list verdicts need --installer-kernel or --installer-iso".into(),
        ));
        rep.unchecked.push(
            "which RPMs anaconda's dd_list accepts and what would load: no installer kernel (--installer-kernel KVER or --installer-iso ISO)".into(),
        );
    }
    rep.loads = loads.into_iter().collect();
    rep.findings.sort_by_key(|f| f.severity);
    Ok(rep)
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

/// Verifies a disk image or directory.
pub fn verify_image(
    path: &Path,
    targets: &[Target],
    checks: &dyn ModuleChecks,
) -> Result<VerifyReport, DudError> {
    let bad = |message: String| DudError::Image {
        path: path.to_path_buf(),
        message,
    };
    let kind = sniff(path)?;
    if kind == Sniffed::Directory {
        return verify_tree(path, Kind::Directory, targets, checks);
    }
    let tmp = tempfile::tempdir().map_err(|source| DudError::Io {
        path: std::env::temp_dir(),
        what: "cannot create a temporary directory in".into(),
        source,
    })?;
    let _on_signal = crate::cleanup::register_dir(tmp.path());
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
            verify_tree(&root, Kind::Iso(facts), targets, checks)
        }
        Sniffed::Cpio | Sniffed::Compressed => {
            let raw = std::fs::read(path).map_err(|source| DudError::Io { path: path.to_path_buf(), what: "cannot read".into(), source })?;
            let data = match crate::module::compression::decompress(&raw).map_err(bad)? {
                Some((_, d)) => d,
                None => raw,
            };
            let members = cpio::parse(&data).map_err(bad)?;
            unpack(&members, &root)?;
            verify_tree(&root, Kind::Cpio, targets, checks)
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
