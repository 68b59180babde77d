//! The JSON build report: one entry per cell, written whatever happened.
//!
//! A release engineer reading a 200-cell run wants, per cell: did it build,
//! how long, where is the log, which packages came out, what they provide
//! and require (and which module symbols nothing in the build provides), and
//! whether the modules are signed as asked.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::rpmpkg::{DepOp, RpmPackage};

use super::sign::SignatureReport;

/// Outcome of a cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CellStatus {
    /// Everything asked for was built (and verified).
    Built,
    /// rpmbuild/mock failed, or a check (signing) failed.
    Failed,
    /// Not attempted because a cell it depends on did not build.
    Skipped,
}

/// One built package of a cell. Read back by the disk handoff
/// ([`crate::dud::handoff`]), which needs only `file`: the counts and
/// dependency lists default when a report leaves them out.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PackageReport {
    /// `name-version-release.arch` (`.src` for the SRPM).
    pub nevra: String,
    /// The file, in the result directory.
    pub file: PathBuf,
    /// Number of `ksym(...)` Provides.
    pub provides_ksym: usize,
    /// Number of `kernel(...)` Provides (modules installed under kernel/).
    pub provides_kernel: usize,
    /// Number of `ksym(...)` Requires.
    pub requires_ksym: usize,
    /// Number of `kernel(...)` Requires.
    pub requires_kernel: usize,
    /// Number of `kmod(...)` Provides.
    pub provides_kmod: usize,
    /// Every Provides, as rpm prints it.
    pub provides: Vec<String>,
    /// Every Requires except rpmlib()/scriptlet internals, as rpm prints it.
    pub requires: Vec<String>,
}

impl PackageReport {
    /// Summarises a package read from the result directory.
    pub fn from_package(p: &RpmPackage) -> PackageReport {
        let count = |deps: &[crate::rpmpkg::RpmDep], prefix: &str| {
            deps.iter().filter(|d| d.name.starts_with(prefix)).count()
        };
        let reqs: Vec<_> = p.requires.iter().filter(|d| !d.internal).cloned().collect();
        PackageReport {
            nevra: if p.is_source {
                format!("{}-{}-{}.src", p.name, p.version, p.release)
            } else {
                p.nevra()
            },
            file: p.path.clone(),
            provides_ksym: count(&p.provides, "ksym("),
            provides_kernel: count(&p.provides, "kernel("),
            provides_kmod: count(&p.provides, "kmod("),
            requires_ksym: count(&reqs, "ksym("),
            requires_kernel: count(&reqs, "kernel("),
            provides: p.provides.iter().map(|d| d.to_string()).collect(),
            requires: reqs.iter().map(|d| d.to_string()).collect(),
        }
    }
}

/// Everything known about one cell. Read back by the disk handoff
/// ([`crate::dud::handoff`]) from `report.json`; what it does not need
/// (timing, log, signature, unresolved symbols) may be missing there.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CellReport {
    /// `package/kver/arch[/flavor]`.
    pub id: String,
    /// Package name.
    pub package: String,
    /// Kernel release.
    pub kernel: String,
    /// Arch.
    pub arch: String,
    /// Flavor, if any.
    pub flavor: Option<String>,
    /// Outcome.
    pub status: CellStatus,
    /// Why it failed or was skipped.
    pub reason: Option<String>,
    /// Wall time in seconds (0 for skipped cells).
    #[serde(default)]
    pub duration_seconds: f64,
    /// The cell's result directory.
    #[serde(default)]
    pub result_dir: PathBuf,
    /// The full build log.
    #[serde(default)]
    pub log: PathBuf,
    /// The SRPM.
    #[serde(default)]
    pub srpm: Option<PackageReport>,
    /// Binary RPMs, sorted by file name.
    #[serde(default)]
    pub rpms: Vec<PackageReport>,
    /// `ksym(sym) = crc` Requires that no package of this cell or of the
    /// cells it depends on provides (they must come from elsewhere — or the
    /// module will not load).
    #[serde(default)]
    pub unresolved_ksyms: Vec<String>,
    /// Module signatures.
    #[serde(default)]
    pub signature: Option<SignatureReport>,
}

impl CellReport {
    /// The NEVRAs of the binary RPMs.
    pub fn nevras(&self) -> Vec<&str> {
        self.rpms.iter().map(|r| r.nevra.as_str()).collect()
    }
}

/// `ksym(...) = crc` Requires of `rpms` that neither they nor `available`
/// (Provides of the prerequisite cells) satisfy. Sorted, unique.
pub fn unresolved_ksyms(rpms: &[RpmPackage], available: &[RpmPackage]) -> Vec<String> {
    let provided: BTreeSet<(String, String)> = rpms
        .iter()
        .chain(available)
        .flat_map(|p| p.provides.iter())
        .filter(|d| d.name.starts_with("ksym("))
        .map(|d| (d.name.clone(), d.version.clone()))
        .collect();
    let provided_any: BTreeSet<&str> = provided.iter().map(|(n, _)| n.as_str()).collect();
    let mut out = BTreeSet::new();
    for d in rpms
        .iter()
        .flat_map(|p| p.requires.iter())
        .filter(|d| d.name.starts_with("ksym("))
    {
        let ok = match d.op {
            DepOp::Eq => provided.contains(&(d.name.clone(), d.version.clone())),
            _ => provided_any.contains(d.name.as_str()),
        };
        if !ok {
            out.insert(d.to_string());
        }
    }
    out.into_iter().collect()
}

/// The whole run.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// kmodpack version that produced it.
    pub kmodpack_version: &'static str,
    /// `rpmbuild` or `mock`.
    pub backend: String,
    /// True when only SRPMs were requested.
    pub srpm_only: bool,
    /// SOURCE_DATE_EPOCH used.
    pub source_date_epoch: u64,
    /// Where it came from.
    pub source_date_epoch_from: super::repro::EpochSource,
    /// Result directory.
    pub resultdir: PathBuf,
    /// Counts.
    pub summary: Summary,
    /// One entry per cell, in plan order.
    pub cells: Vec<CellReport>,
    /// The driver update disk assembled from these results (`build --dud`):
    /// RPMs taken and left, dd_list verdicts, preflight findings, written or not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dud: Option<crate::dud::outcome::DiskOutcome>,
}

/// Cell counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// Cells in the matrix.
    pub total: usize,
    /// Built.
    pub built: usize,
    /// Failed.
    pub failed: usize,
    /// Skipped (a prerequisite failed).
    pub skipped: usize,
}

impl Summary {
    /// Counts the statuses of `cells`.
    pub fn of(cells: &[CellReport]) -> Summary {
        let n = |s| cells.iter().filter(|c| c.status == s).count();
        Summary {
            total: cells.len(),
            built: n(CellStatus::Built),
            failed: n(CellStatus::Failed),
            skipped: n(CellStatus::Skipped),
        }
    }
}

impl Report {
    /// True when every cell built.
    pub fn all_built(&self) -> bool {
        self.summary.built == self.summary.total
    }

    /// Pretty JSON with a trailing newline.
    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self)
            .unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
        s.push('\n');
        s
    }

    /// Writes the report atomically (temp file + rename), so a reader never
    /// sees half a report.
    pub fn write(&self, path: &Path) -> std::io::Result<()> {
        let dir = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
        std::io::Write::write_all(&mut tmp, self.to_json().as_bytes())?;
        tmp.persist(path).map_err(|e| e.error)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rpmpkg::RpmDep;

    fn pkg(name: &str, provides: &[(&str, &str)], requires: &[(&str, &str)]) -> RpmPackage {
        let dep = |(n, v): &(&str, &str)| RpmDep {
            name: n.to_string(),
            op: if v.is_empty() { DepOp::Any } else { DepOp::Eq },
            version: v.to_string(),
            internal: false,
        };
        RpmPackage {
            path: PathBuf::from(format!("{name}.rpm")),
            name: name.into(),
            epoch: None,
            version: "1".into(),
            release: "1".into(),
            arch: "x86_64".into(),
            is_source: false,
            provides: provides.iter().map(dep).collect(),
            requires: requires.iter().map(dep).collect(),
            conflicts: vec![],
            obsoletes: vec![],
            supplements: vec![],
            files: vec![],
            payload_compressor: "gzip".into(),
            post_install: None,
        }
    }

    #[test]
    fn unresolved_ksyms_respect_crcs_and_prerequisites() {
        let exp = pkg("exp", &[("ksym(a)", "0x1"), ("ksym(b)", "0x2")], &[]);
        let imp = pkg(
            "imp",
            &[],
            &[
                ("ksym(a)", "0x1"),
                ("ksym(b)", "0x3"),
                ("ksym(c)", "0x4"),
                ("kernel(kfree)", "0x5"),
            ],
        );
        assert_eq!(
            unresolved_ksyms(std::slice::from_ref(&imp), std::slice::from_ref(&exp)),
            vec!["ksym(b) = 0x3", "ksym(c) = 0x4"]
        );
        assert_eq!(unresolved_ksyms(&[imp], &[]).len(), 3);
        let r = PackageReport::from_package(&exp);
        assert_eq!(
            (r.provides_ksym, r.requires_ksym, r.nevra.as_str()),
            (2, 0, "exp-1-1.x86_64")
        );
    }
}
