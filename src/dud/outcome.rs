//! The machine-readable record of a disk build (`dud build --json`, and the
//! `dud` section of `kmodpack build --dud`'s report.json): what was asked,
//! which RPMs went on the disk and why, every dd_list verdict and finding,
//! and whether the image was written.

use std::path::PathBuf;

use serde::Serialize;

use super::handoff::Handoff;
use super::package::PackageFacts;
use super::preflight::{Finding, Format, Preflight, Severity};
use super::report::{verdict_rows, VerdictRow};
use super::target::{Origin, Target};

/// One installer target as the JSON shows it.
#[derive(Debug, Clone, Serialize)]
pub struct TargetView {
    /// Full `uname -r`.
    pub uname_r: String,
    /// `uname -m`.
    pub arch: String,
    /// anaconda version, if known.
    pub anaconda: Option<String>,
    /// `typed` or the ISO it was read from.
    pub origin: String,
}

impl TargetView {
    /// From a preflight target.
    pub fn of(t: &Target) -> TargetView {
        TargetView {
            uname_r: t.uname_r.clone(),
            arch: t.arch.clone(),
            anaconda: t.anaconda.clone(),
            origin: match &t.origin {
                Origin::CommandLine => "typed".into(),
                Origin::InstallerIso(s) => s.clone(),
            },
        }
    }
}

/// Everything about one disk build.
#[derive(Debug, Clone, Serialize)]
pub struct DiskOutcome {
    /// `redhat` or `suse`.
    pub format: &'static str,
    /// The image asked for.
    pub output: PathBuf,
    /// True once the image is in place (read back and checked).
    pub written: bool,
    /// Installer targets.
    pub targets: Vec<TargetView>,
    /// What `--from-build` took and left (absent for an explicit RPM list).
    pub handoff: Option<Handoff>,
    /// The RPMs the preflight evaluated.
    pub rpms: Vec<PathBuf>,
    /// dd_list verdicts (Red Hat).
    pub verdicts: Vec<VerdictRow>,
    /// Findings, most severe first.
    pub findings: Vec<Finding>,
    /// Error count.
    pub errors: usize,
    /// Warning count.
    pub warnings: usize,
    /// Why nothing was written, if it was not.
    pub refused: Option<String>,
}

impl DiskOutcome {
    /// An outcome before the preflight ran.
    pub fn new(format: Format, output: PathBuf, targets: &[Target]) -> DiskOutcome {
        DiskOutcome {
            format: match format {
                Format::RedHat => "redhat",
                Format::Suse => "suse",
            },
            output,
            written: false,
            targets: targets.iter().map(TargetView::of).collect(),
            handoff: None,
            rpms: Vec::new(),
            verdicts: Vec::new(),
            findings: Vec::new(),
            errors: 0,
            warnings: 0,
            refused: None,
        }
    }

    /// Records the preflight.
    pub fn set_preflight(&mut self, pkgs: &[PackageFacts], targets: &[Target], pf: &Preflight) {
        self.rpms = pkgs.iter().map(|p| p.pkg.path.clone()).collect();
        self.verdicts = verdict_rows(pkgs, targets, pf);
        self.findings = pf.findings.clone();
        self.errors = pf.errors();
        self.warnings = pf
            .findings
            .iter()
            .filter(|f| f.severity == Severity::Warning)
            .count();
    }

    /// Pretty JSON with a trailing newline.
    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self)
            .unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
        s.push('\n');
        s
    }
}
