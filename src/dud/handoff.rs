//! `kmodpack build` → `kmodpack dud build`: which RPMs of a result
//! directory go onto a driver disk, and why.
//!
//! A result directory holds, per cell (`<package>/<kernel>/<arch>[/<flavor>]`),
//! an SRPM, the binary kmods, `-devel` packages, maybe debuginfo, and the
//! cells that failed or were skipped. Picking the right files by hand is the
//! manual step that produces disks the installer ignores, so the choice is
//! made here from the build's own `report.json`:
//!
//! * per installer target and package, the cell for the installer's arch and
//!   flavor whose kernel is the installer's, else the newest one older than
//!   it (kABI-tracking kmods load on later z-streams); if that cell failed or
//!   was skipped the disk is refused, naming the cell and its reason;
//! * from that cell the binary kmods ([`crate::rpmrole::classify`], read from
//!   the headers) and the noarch firmware packages a kmod requires; SRPMs,
//!   `-devel`, debuginfo and debugsource stay behind;
//! * every cell and RPM not taken is listed with the reason.
//!
//! The files are found below the given result directory by cell id and file
//! name only (never by the paths written in the report), so a moved result
//! directory works and a report cannot point outside it.

use std::cmp::Ordering;
use std::collections::BTreeSet;
use std::path::{Component, Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::build::{CellReport, CellStatus};
use crate::rpmpkg::{RpmError, RpmPackage};
use crate::rpmrole::{classify, RpmRole};

use super::preflight::Format;
use super::DudError;
use crate::rpmvercmp::rpmvercmp;

/// Largest report.json read (a 10 000-cell report is a few MB).
const MAX_REPORT: u64 = 64 << 20;

/// The part of `report.json` the handoff reads.
#[derive(Debug, Clone, Deserialize)]
pub struct BuildResults {
    /// `--srpm-only` runs have no binary RPMs.
    #[serde(default)]
    pub srpm_only: bool,
    /// The result directory as the build saw it.
    pub resultdir: PathBuf,
    /// Cells in plan order.
    pub cells: Vec<CellReport>,
}

/// Reads `R/report.json` (or the report file given) and returns it with the
/// directory its cells live in.
pub fn load(from: &Path) -> Result<(BuildResults, PathBuf), DudError> {
    let (report, root) = if from.is_dir() {
        (from.join("report.json"), Some(from.to_path_buf()))
    } else {
        (from.to_path_buf(), None)
    };
    let bad = |message: String| DudError::Image {
        path: report.clone(),
        message,
    };
    let meta = std::fs::symlink_metadata(&report).map_err(|source| DudError::Io {
        path: report.clone(),
        what: "cannot read the build report (give a `kmodpack build` result directory or its report.json)".into(),
        source,
    })?;
    if !meta.is_file() {
        return Err(bad("not a regular file".into()));
    }
    if meta.len() > MAX_REPORT {
        return Err(bad(format!(
            "{} bytes: larger than any build report ({MAX_REPORT} bytes)",
            meta.len()
        )));
    }
    let text = std::fs::read_to_string(&report).map_err(|source| DudError::Io {
        path: report.clone(),
        what: "cannot read".into(),
        source,
    })?;
    let results: BuildResults = serde_json::from_str(&text).map_err(|e| {
        bad(format!(
            "not a kmodpack build report ({e}); give the directory `kmodpack build --resultdir` wrote, or its report.json"
        ))
    })?;
    let root = match root {
        Some(r) => r,
        None => {
            // Beside the report (the default place), else where the build
            // said (absolute, or relative to where it ran).
            let parent = report
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .unwrap_or(Path::new("."))
                .to_path_buf();
            let holds_cells = |dir: &Path| {
                results
                    .cells
                    .first()
                    .is_some_and(|c| safe_rel(Path::new(&c.id)) && dir.join(&c.id).is_dir())
            };
            if !holds_cells(&parent) && holds_cells(&results.resultdir) {
                results.resultdir.clone()
            } else {
                parent
            }
        }
    };
    Ok((results, root))
}

/// What the installer runs: arch, flavor and kernel release without either.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Want {
    /// The full `uname -r`.
    pub uname_r: String,
    /// `uname -m`.
    pub arch: String,
    /// Flavor (`rt`, `debug`, `64k`; SUSE `default`, `rt`); `default` when none.
    pub flavor: String,
    /// The release without `.arch`, `+flavor` or SUSE `-flavor`.
    pub release: String,
}

fn strip_arch<'a>(release: &'a str, arch: &str) -> &'a str {
    release
        .strip_suffix(arch)
        .and_then(|r| r.strip_suffix('.'))
        .unwrap_or(release)
}

impl Want {
    /// From an installer `uname -r` and arch: Red Hat spells a flavor
    /// `…x86_64+rt`, SUSE `…-default`.
    pub fn new(uname_r: &str, arch: &str, format: Format) -> Want {
        let (base, flavor) = match format {
            Format::RedHat => match uname_r.split_once('+') {
                Some((b, f)) => (b, f.to_string()),
                None => (uname_r, "default".to_string()),
            },
            Format::Suse => match uname_r.rsplit_once('-') {
                Some((b, f))
                    if !f.is_empty()
                        && f.chars().all(|c| c.is_ascii_alphanumeric())
                        && f.chars().any(|c| c.is_ascii_alphabetic()) =>
                {
                    (b, f.to_string())
                }
                _ => (uname_r, "default".to_string()),
            },
        };
        Want {
            uname_r: uname_r.to_string(),
            arch: arch.to_string(),
            flavor,
            release: strip_arch(base, arch).to_string(),
        }
    }
}

fn cell_flavor(c: &CellReport) -> &str {
    c.flavor.as_deref().unwrap_or("default")
}

fn cell_release(c: &CellReport) -> String {
    let k = c.kernel.split('+').next().unwrap_or(&c.kernel);
    let k = strip_arch(k, &c.arch);
    let suffix = format!("-{}", cell_flavor(c));
    k.strip_suffix(&suffix).unwrap_or(k).to_string()
}

/// The cell of `cells` (one package, already filtered to the installer's
/// arch and flavor) an installer running `want` needs: the same kernel
/// release, else the newest older one. `None` when every cell targets a
/// newer kernel.
pub fn best_cell<'a>(cells: &[&'a CellReport], want: &Want) -> Option<&'a CellReport> {
    if let Some(c) = cells.iter().find(|c| cell_release(c) == want.release) {
        return Some(c);
    }
    cells
        .iter()
        .filter(|c| rpmvercmp(&cell_release(c), &want.release) != Ordering::Greater)
        .max_by(|a, b| rpmvercmp(&cell_release(a), &cell_release(b)))
        .copied()
}

/// One RPM the handoff took or left behind.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Pick {
    /// The file below the result directory.
    pub file: PathBuf,
    /// The cell it came from.
    pub cell: String,
    /// Its role, read from the header.
    pub role: RpmRole,
    /// Why it was taken or left.
    pub why: String,
}

/// A cell that contributed nothing, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CellNote {
    /// Cell id.
    pub cell: String,
    /// built / failed / skipped.
    pub status: CellStatus,
    /// Why it is not on the disk.
    pub why: String,
}

/// The outcome of the handoff.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Handoff {
    /// The RPMs for the disk.
    pub taken: Vec<Pick>,
    /// RPMs of the chosen cells left behind (SRPM, -devel, debuginfo, ...).
    pub left: Vec<Pick>,
    /// Cells not used (other kernels/flavors/arches, failed, skipped).
    pub cells: Vec<CellNote>,
    /// Why no disk can be made (a needed cell failed, no cell for an arch).
    pub refusals: Vec<String>,
}

impl Handoff {
    /// The files to put on the disk, in order.
    pub fn files(&self) -> Vec<PathBuf> {
        self.taken.iter().map(|p| p.file.clone()).collect()
    }

    /// Human-readable lines: what was taken and what was not.
    pub fn lines(&self) -> Vec<String> {
        let name = |p: &Path| {
            p.file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default()
        };
        let mut out = Vec::new();
        for p in &self.taken {
            out.push(format!("  took  {}  ({})", name(&p.file), p.why));
        }
        for p in &self.left {
            out.push(format!("  left  {}  ({})", name(&p.file), p.why));
        }
        for c in &self.cells {
            let st = match c.status {
                CellStatus::Built => "unused",
                CellStatus::Failed => "FAILED",
                CellStatus::Skipped => "skipped",
            };
            out.push(format!("  {st:<6} cell {}: {}", c.cell, c.why));
        }
        out
    }
}

/// A cell id or file name from the report used as a path below the result
/// directory: plain components only.
fn safe_rel(s: &Path) -> bool {
    !s.as_os_str().is_empty() && s.components().all(|c| matches!(c, Component::Normal(_)))
}

/// The first of `kmods` that requires `p` (its name or one of its Provides).
fn requirer<'a>(kmods: &'a [RpmPackage], p: &RpmPackage) -> Option<&'a RpmPackage> {
    let caps: BTreeSet<&str> = std::iter::once(p.name.as_str())
        .chain(p.provides.iter().map(|d| d.name.as_str()))
        .collect();
    kmods
        .iter()
        .find(|k| k.requires.iter().any(|d| caps.contains(d.name.as_str())))
}

/// The binary package name of a report's `name-version-release.arch`.
fn nevra_name(nevra: &str) -> &str {
    nevra.rsplitn(3, '-').nth(2).unwrap_or(nevra)
}

/// Chooses the RPMs for `targets` (uname -r, arch) from `results` (whose
/// cells live below `root`). `packages` limits the packages (empty: all of
/// the report): a description's name takes all its kmods; a binary
/// package's name (`kmod-lustre-osd-zfs` of a description that builds
/// several) takes that kmod and the kmods of the same cell it requires
/// (by name or ksym()), so a disk never lacks the core a backend needs.
/// `read` reads an RPM header.
pub fn select(
    results: &BuildResults,
    root: &Path,
    targets: &[(String, String)],
    format: Format,
    packages: &[String],
    read: &dyn Fn(&Path) -> Result<RpmPackage, RpmError>,
) -> Result<Handoff, DudError> {
    let bad_report = |message: String| DudError::Image {
        path: root.join("report.json"),
        message,
    };
    if results.srpm_only {
        return Err(bad_report(
            "an --srpm-only build: there are no binary RPMs to put on a disk".into(),
        ));
    }
    let mut names: Vec<&str> = Vec::new();
    for c in &results.cells {
        if !names.contains(&c.package.as_str()) {
            names.push(&c.package);
        }
    }
    // --package by binary package name: the descriptions that build it.
    let mut whole: BTreeSet<&str> = BTreeSet::new();
    let mut rpm_names: BTreeSet<&str> = BTreeSet::new();
    let mut holders: BTreeSet<&str> = BTreeSet::new();
    for p in packages {
        if names.contains(&p.as_str()) {
            whole.insert(p);
            continue;
        }
        let cells: Vec<&CellReport> = results
            .cells
            .iter()
            .filter(|c| c.rpms.iter().any(|r| nevra_name(&r.nevra) == p))
            .collect();
        if cells.is_empty() {
            return Err(DudError::Usage(format!(
                "--package {p}: not in the build (it has {}, and their binary packages)",
                names.join(", ")
            )));
        }
        rpm_names.insert(p);
        holders.extend(cells.iter().map(|c| c.package.as_str()));
    }
    if !packages.is_empty() {
        names.retain(|n| whole.contains(n) || holders.contains(n));
    }
    let mut out = Handoff::default();
    let mut chosen: Vec<(&CellReport, String)> = Vec::new();
    for (uname_r, arch) in targets {
        let want = Want::new(uname_r, arch, format);
        for pkg in &names {
            let all: Vec<&CellReport> =
                results.cells.iter().filter(|c| c.package == *pkg).collect();
            let here: Vec<&CellReport> = all
                .iter()
                .copied()
                .filter(|c| c.arch == want.arch && cell_flavor(c) == want.flavor)
                .collect();
            if here.is_empty() {
                let have: Vec<&str> = all.iter().map(|c| c.id.as_str()).collect();
                out.refusals.push(format!(
                    "{pkg}: no cell for the installer {uname_r} (arch {}, flavor {}); the build has {}",
                    want.arch,
                    want.flavor,
                    have.join(", ")
                ));
                continue;
            }
            match best_cell(&here, &want) {
                None => out.refusals.push(format!(
                    "{pkg}: every cell for {} targets a newer kernel than the installer {uname_r} ({})",
                    want.arch,
                    here.iter().map(|c| c.id.as_str()).collect::<Vec<_>>().join(", ")
                )),
                Some(c) if c.status != CellStatus::Built => out.refusals.push(format!(
                    "{pkg}: the cell the installer {uname_r} needs, {}, {}: {}",
                    c.id,
                    if c.status == CellStatus::Failed {
                        "failed"
                    } else {
                        "was skipped"
                    },
                    c.reason.as_deref().unwrap_or("no reason recorded")
                )),
                Some(c) => {
                    if !chosen.iter().any(|(x, _)| x.id == c.id) {
                        chosen.push((c, uname_r.clone()));
                    }
                }
            }
        }
    }
    for c in &results.cells {
        if !names.contains(&c.package.as_str()) || chosen.iter().any(|(x, _)| x.id == c.id) {
            continue;
        }
        let why = match c.status {
            CellStatus::Built => {
                "no installer target needs it (other kernel, arch or flavor)".to_string()
            }
            _ => format!(
                "{}; not on the disk",
                c.reason.as_deref().unwrap_or("no reason recorded")
            ),
        };
        out.cells.push(CellNote {
            cell: c.id.clone(),
            status: c.status,
            why,
        });
    }
    // The chosen cells' RPMs, classified from their headers.
    let mut kmods: Vec<RpmPackage> = Vec::new();
    let mut firmware: Vec<(RpmPackage, String)> = Vec::new();
    // Kmods of a cell whose description was not chosen whole, not named by
    // --package: taken below only when a taken kmod requires them.
    let mut optional: Vec<(Pick, RpmPackage)> = Vec::new();
    for (c, uname_r) in &chosen {
        if !safe_rel(Path::new(&c.id)) {
            return Err(bad_report(format!(
                "cell id `{}` is not a path below the result directory",
                c.id
            )));
        }
        if let Some(name) = c.srpm.as_ref().and_then(|r| r.file.file_name()) {
            out.left.push(Pick {
                file: root.join(&c.id).join(name),
                cell: c.id.clone(),
                role: RpmRole::Source,
                why: "source package: the installer never reads it".into(),
            });
        }
        if c.rpms.is_empty() {
            out.refusals.push(format!(
                "{}: built, but the report lists no binary RPMs",
                c.id
            ));
        }
        for r in &c.rpms {
            let name = r.file.file_name().map(Path::new).unwrap_or(Path::new(""));
            if !safe_rel(name) {
                return Err(bad_report(format!(
                    "cell {}: RPM `{}` has no file name",
                    c.id,
                    r.file.display()
                )));
            }
            let file = root.join(&c.id).join(name);
            let pkg = read(&file)?;
            let role = classify(&pkg);
            match role {
                RpmRole::Kmod => {
                    let pick = Pick {
                        file,
                        cell: c.id.clone(),
                        role,
                        why: format!("kmod of cell {} for the installer {uname_r}", c.id),
                    };
                    if rpm_names.is_empty()
                        || whole.contains(c.package.as_str())
                        || rpm_names.contains(pkg.name.as_str())
                    {
                        out.taken.push(pick);
                        kmods.push(pkg);
                    } else {
                        optional.push((pick, pkg));
                    }
                }
                RpmRole::Firmware => firmware.push((pkg, c.id.clone())),
                _ => out.left.push(Pick {
                    file,
                    cell: c.id.clone(),
                    role,
                    why: format!("{}: never on a driver disk", role.describe()),
                }),
            }
        }
    }
    while let Some((i, by)) = optional
        .iter()
        .enumerate()
        .find_map(|(i, (_, o))| requirer(&kmods, o).map(|k| (i, k.name.clone())))
    {
        let (mut pick, pkg) = optional.remove(i);
        pick.why = format!("{}, required by {by}", pick.why);
        out.taken.push(pick);
        kmods.push(pkg);
    }
    for (mut pick, _) in optional {
        pick.why =
            "kmod of the same build that no --package names and no kmod on the disk requires"
                .into();
        out.left.push(pick);
    }
    for (fw, cell) in firmware {
        match requirer(&kmods, &fw) {
            Some(k) if fw.arch == "noarch" || kmods.iter().any(|x| x.arch == fw.arch) => {
                out.taken.push(Pick {
                    file: fw.path.clone(),
                    cell,
                    role: RpmRole::Firmware,
                    why: format!("firmware required by {}", k.name),
                })
            }
            _ => out.left.push(Pick {
                file: fw.path.clone(),
                cell,
                role: RpmRole::Firmware,
                why: "firmware package no kmod on the disk requires".into(),
            }),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cell(id: &str, status: CellStatus) -> CellReport {
        let parts: Vec<&str> = id.split('/').collect();
        CellReport {
            id: id.into(),
            package: parts[0].into(),
            kernel: parts[1].into(),
            arch: parts[2].into(),
            flavor: parts.get(3).map(|s| s.to_string()),
            status,
            reason: Some("rpmbuild --rebuild failed (exit status 1)".into()),
            duration_seconds: 0.0,
            result_dir: PathBuf::new(),
            log: PathBuf::new(),
            srpm: None,
            rpms: vec![],
            unresolved_ksyms: vec![],
            signature: None,
        }
    }

    #[test]
    fn want_parses_both_spellings() {
        let w = Want::new("5.14.0-503.14.1.el9_5.x86_64+rt", "x86_64", Format::RedHat);
        assert_eq!(
            (w.release.as_str(), w.flavor.as_str()),
            ("5.14.0-503.14.1.el9_5", "rt")
        );
        let w = Want::new("5.14.0-503.14.1.el9_5.x86_64", "x86_64", Format::RedHat);
        assert_eq!(
            (w.release.as_str(), w.flavor.as_str()),
            ("5.14.0-503.14.1.el9_5", "default")
        );
        let w = Want::new("5.14.21-150500.55.83-default", "x86_64", Format::Suse);
        assert_eq!(
            (w.release.as_str(), w.flavor.as_str()),
            ("5.14.21-150500.55.83", "default")
        );
    }

    #[test]
    fn exact_kernel_first_then_newest_older() {
        let a = cell("p/5.14.0-503.11.1.el9_5/x86_64", CellStatus::Built);
        let b = cell("p/5.14.0-503.14.1.el9_5/x86_64", CellStatus::Failed);
        let c = cell("p/5.14.0-427.1.1.el9_4/x86_64", CellStatus::Built);
        let cells = [&a, &b, &c];
        let want = |k: &str| Want::new(k, "x86_64", Format::RedHat);
        assert_eq!(
            best_cell(&cells, &want("5.14.0-503.14.1.el9_5.x86_64"))
                .unwrap()
                .id,
            b.id
        );
        assert_eq!(
            best_cell(&cells, &want("5.14.0-503.13.1.el9_5.x86_64"))
                .unwrap()
                .id,
            a.id
        );
        assert_eq!(
            best_cell(&cells, &want("5.14.0-427.9.1.el9_4.x86_64"))
                .unwrap()
                .id,
            c.id
        );
        assert!(best_cell(&cells, &want("5.14.0-362.1.1.el9_3.x86_64")).is_none());
    }
}
