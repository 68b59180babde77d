//! The report sections `dud build` and `dud verify` both print: installer
//! targets, anaconda `dd_list` verdicts and findings. Both commands produce
//! the same rows ([`Target`], [`VerdictRow`], [`Finding`]) and each section
//! is rendered here once, so what a build says before writing a disk and
//! what verify says after reading it back cannot drift apart.

use serde::Serialize;

use super::ddlist::Verdict;
use super::package::PackageFacts;
use super::preflight::{Finding, Format, Preflight};
use super::target::{Origin, Target};

/// One `dd_list` verdict: an RPM on one installer kernel. The same row in
/// `dud build`'s outcome (RPM by file name) and `dud verify`'s report (RPM
/// by its path on the disk), in text and in JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VerdictRow {
    /// The RPM: file name (build) or path on the disk (verify).
    pub rpm: String,
    /// Installer kernel (`uname -r`).
    pub target: String,
    /// Accepted by dd_list?
    pub accepted: bool,
    /// Why.
    pub reason: String,
}

impl VerdictRow {
    /// The row for verdict `v` on RPM `rpm` and installer `target`.
    pub fn new(rpm: String, target: &Target, v: &Verdict) -> VerdictRow {
        VerdictRow {
            rpm,
            target: target.uname_r.clone(),
            accepted: v.accepted(),
            reason: v.reason(),
        }
    }
}

/// A preflight's verdicts as rows, RPMs named by file name (`pkgs` and
/// `targets` are what the preflight ran on, so every index is in range: one
/// that is not is a caller's bug, caught in debug builds and its row left
/// out in release builds rather than a panic).
pub fn verdict_rows(pkgs: &[PackageFacts], targets: &[Target], pf: &Preflight) -> Vec<VerdictRow> {
    pf.verdicts
        .iter()
        .filter_map(|(pi, ti, v)| {
            debug_assert!(
                *pi < pkgs.len() && *ti < targets.len(),
                "verdict ({pi}, {ti}) outside {} packages x {} targets",
                pkgs.len(),
                targets.len()
            );
            Some(VerdictRow::new(
                pkgs.get(*pi)?.file_name(),
                targets.get(*ti)?,
                v,
            ))
        })
        .collect()
}

/// One target line; a SUSE installer has no anaconda, so none is mentioned.
pub fn describe_target(t: &Target, format: Format) -> String {
    let mut s = format!(
        "{} ({}",
        t.uname_r,
        if t.arch.is_empty() {
            "arch from the RPMs"
        } else {
            &t.arch
        }
    );
    match (&t.anaconda, format) {
        (_, Format::Suse) => {}
        (Some(a), _) => s.push_str(&format!(", anaconda {a}")),
        (None, _) => s.push_str(", anaconda version unknown"),
    }
    match &t.origin {
        Origin::CommandLine => s.push_str(", typed"),
        Origin::InstallerIso(src) => s.push_str(&format!(", read from {src}")),
    }
    s.push(')');
    s
}

/// `heading:` and one indented line per item; nothing when there are none.
fn section<T>(heading: &str, items: &[T], line: impl Fn(&T) -> String) -> String {
    if items.is_empty() {
        return String::new();
    }
    let mut s = format!("{heading}:\n");
    for item in items {
        s.push_str("  ");
        s.push_str(&line(item));
        s.push('\n');
    }
    s
}

/// `installer targets:` (nothing without targets).
pub fn targets_section(targets: &[Target], format: Format) -> String {
    section("installer targets", targets, |t| describe_target(t, format))
}

/// `anaconda dd_list verdicts:` (nothing without verdicts: a SUSE disk).
pub fn verdicts_section(rows: &[VerdictRow]) -> String {
    section("anaconda dd_list verdicts", rows, |v| {
        format!(
            "{:<8}  {}  on {}: {}",
            if v.accepted { "ACCEPTED" } else { "IGNORED" },
            v.rpm,
            v.target,
            v.reason
        )
    })
}

/// `findings:` (nothing without findings).
pub fn findings_section(findings: &[Finding]) -> String {
    section("findings", findings, |f| f.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dud::preflight::{Rule, Severity};

    fn target(anaconda: Option<&str>, origin: Origin) -> Target {
        Target {
            uname_r: "5.14.0-503.14.1.el9_5.x86_64".into(),
            arch: "x86_64".into(),
            anaconda: anaconda.map(str::to_string),
            origin,
        }
    }

    #[test]
    fn empty_sections_print_nothing() {
        assert_eq!(targets_section(&[], Format::RedHat), "");
        assert_eq!(verdicts_section(&[]), "");
        assert_eq!(findings_section(&[]), "");
    }

    #[test]
    fn targets_name_anaconda_only_for_red_hat() {
        let typed = target(Some("34.25.5.11"), Origin::CommandLine);
        let iso = target(None, Origin::InstallerIso("boot.iso".into()));
        assert_eq!(
            targets_section(&[typed.clone(), iso], Format::RedHat),
            "installer targets:\n\
             \x20 5.14.0-503.14.1.el9_5.x86_64 (x86_64, anaconda 34.25.5.11, typed)\n\
             \x20 5.14.0-503.14.1.el9_5.x86_64 (x86_64, anaconda version unknown, read from boot.iso)\n"
        );
        assert_eq!(
            describe_target(&typed, Format::Suse),
            "5.14.0-503.14.1.el9_5.x86_64 (x86_64, typed)"
        );
    }

    #[test]
    fn verdicts_and_findings_are_one_line_each() {
        let rows = [
            VerdictRow {
                rpm: "a.rpm".into(),
                target: "K".into(),
                accepted: true,
                reason: "why".into(),
            },
            VerdictRow {
                rpm: "b.rpm".into(),
                target: "K".into(),
                accepted: false,
                reason: "why not".into(),
            },
        ];
        assert_eq!(
            verdicts_section(&rows),
            "anaconda dd_list verdicts:\n  ACCEPTED  a.rpm  on K: why\n  IGNORED   b.rpm  on K: why not\n"
        );
        let f = Finding::new(Severity::Error, Rule::B4, "a.rpm", "no module".into());
        assert_eq!(
            findings_section(&[f]),
            "findings:\n  error[B4]: a.rpm: no module\n"
        );
    }
}
