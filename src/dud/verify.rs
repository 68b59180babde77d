//! Saying what the installer would do with a disk read back by
//! `readback.rs`: label and Rock Ridge, the DDv3 or linuxrc layout, the
//! repodata against the RPMs beside it, and the full preflight again per
//! installer kernel.
//!
//! Every rule here is a pure function over [`DiskFacts`] (and the installer
//! targets): the reader gathers, these decide, so each rule is unit-tested
//! by feeding it facts.

use std::collections::{BTreeMap, BTreeSet};

pub use super::disk::Kind;
use super::disk::{ArchDir, DiskFacts, RedHatTree, RepodataFacts, SuseTree};
use super::iso::IsoFacts;
use super::package::PackageFacts;
use super::preflight::{self, Finding, Format, ModuleChecks, Rule, Severity};
use super::report::VerdictRow;
use super::target::{extracts_compressed_modules, Target};
use crate::module::Compression;

/// The result of verifying a disk.
#[derive(Debug, Clone)]
pub struct VerifyReport {
    /// Container kind.
    pub kind: Kind,
    /// Driver update trees found (`/` for a DDv3 tree at the root,
    /// `linux/suse/x86_64-sles15` for SUSE).
    pub trees: Vec<String>,
    /// Per-RPM, per-target verdicts (Red Hat), RPMs by path on the disk.
    pub verdicts: Vec<VerdictRow>,
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

/// Checks the ISO-level facts (label, Rock Ridge, Joliet).
pub fn check_iso(facts: &IsoFacts, expected_label: Option<&str>) -> Vec<Finding> {
    let mut out = Vec::new();
    if !facts.rock_ridge && !facts.joliet {
        out.push(Finding::new(
            Severity::Error,
            Rule::E2,
            "image",
            "no Rock Ridge and no Joliet: file names are cut to 8.3 (RHDD3.;1, KMOD_FAK.RPM;1) and repodata points at files that do not exist".into(),
        ));
    } else if !facts.rock_ridge {
        out.push(Finding::new(Severity::Warning, Rule::E2, "image", "Joliet but no Rock Ridge: Linux reads Joliet names, but modes and long names are safer with Rock Ridge".into()));
    }
    match expected_label {
        Some(l) if facts.label != l => out.push(Finding::new(
            Severity::Error,
            Rule::E2,
            "image",
            format!("volume label is `{}`, expected `{l}`", facts.label),
        )),
        _ => {}
    }
    if facts.label != "OEMDRV" {
        out.push(Finding::new(
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

/// Every rule over the facts of one disk, in checklist order per tree;
/// findings end up most severe first (stable within a severity).
pub fn apply_rules(
    facts: &DiskFacts,
    targets: &[Target],
    checks: &dyn ModuleChecks,
) -> VerifyReport {
    let mut rep = VerifyReport {
        kind: facts.kind.clone(),
        trees: Vec::new(),
        verdicts: Vec::new(),
        loads: Vec::new(),
        findings: Vec::new(),
        unchecked: Vec::new(),
    };
    if let Kind::Iso(f) = &facts.kind {
        rep.findings.extend(check_iso(f, None));
    }
    // Per installer kernel for anaconda trees; a linuxrc tree has its own entry.
    let mut loads: BTreeMap<String, Vec<String>> = if facts.redhat.is_empty() {
        BTreeMap::new()
    } else {
        targets
            .iter()
            .map(|t| (t.uname_r.clone(), Vec::new()))
            .collect()
    };
    for tree in &facts.redhat {
        rep.trees.push(tree.path.clone());
        rep.findings.extend(tree_targets(tree, targets));
        for dir in &tree.arches {
            rep.findings.extend(arch_contents(dir));
            let (findings, verdicts) = arch_preflight(dir, targets, checks);
            rep.findings.extend(findings);
            for v in verdicts {
                if let Some(l) = v.loads {
                    loads.entry(v.verdict.target.clone()).or_default().extend(l);
                }
                rep.verdicts.push(v.verdict);
            }
            rep.findings.extend(check_repodata(dir));
        }
        rep.findings.extend(kickstart(tree));
    }
    for tree in &facts.suse {
        rep.trees.push(tree.path.clone());
        let (findings, loaded) = suse_tree(tree, targets);
        rep.findings.extend(findings);
        loads.insert(format!("linuxrc ({})", tree.path), loaded);
    }
    let (findings, unchecked) = whole_disk(facts, targets);
    rep.findings.extend(findings);
    rep.unchecked.extend(unchecked);
    rep.loads = loads.into_iter().collect();
    rep.findings.sort_by_key(|f| f.severity);
    rep
}

/// D3 (symlinks in `rpms/`), A1 (an installer kernel without arch) and E1
/// (no `rpms/<arch>/` for an installer) for one DDv3 tree.
fn tree_targets(tree: &RedHatTree, targets: &[Target]) -> Vec<Finding> {
    let mut out: Vec<Finding> = tree
        .symlinks
        .iter()
        .map(|name| {
            Finding::new(
                Severity::Error,
                Rule::D3,
                &tree.path,
                format!("rpms/{name} is a symlink: not followed (it can point outside the disk)"),
            )
        })
        .collect();
    let arches: Vec<&str> = tree.arches.iter().map(|a| a.arch.as_str()).collect();
    for t in targets {
        if t.arch.is_empty() {
            out.push(Finding::new(
                Severity::Error,
                Rule::A1,
                &tree.path,
                format!(
                    "installer kernel {}: no `.<arch>` suffix, and anaconda compares against the full `uname -r` \
                     (e.g. 5.14.0-503.14.1.el9_5.x86_64); give that, or --arch",
                    t.uname_r
                ),
            ));
        } else if !arches.contains(&t.arch.as_str()) {
            out.push(Finding::new(
                Severity::Error,
                Rule::E1,
                &tree.path,
                format!(
                    "no rpms/{}/: the installer on {} finds no driver disk here (has: {})",
                    t.arch,
                    t.uname_r,
                    arches.join(", ")
                ),
            ));
        }
    }
    out
}

/// What sits in one `rpms/<arch>/`: D3 (RPMs in subdirectories, entries
/// that are not regular files), B1 (unreadable RPMs), B7 (a package of
/// another arch).
fn arch_contents(dir: &ArchDir) -> Vec<Finding> {
    let subj = &dir.path;
    let mut out: Vec<Finding> = dir
        .nested_rpm_dirs
        .iter()
        .map(|sub| {
            Finding::new(
                Severity::Error,
                Rule::D3,
                subj,
                format!("RPMs in the subdirectory {sub}/: dd_list only reads rpms/<arch>/*.rpm"),
            )
        })
        .collect();
    out.extend(dir.irregular.iter().map(|b| {
        Finding::new(
            Severity::Error,
            Rule::D3,
            subj,
            format!("{b}: not read (a disk must hold the RPMs themselves; links can point outside the disk)"),
        )
    }));
    out.extend(dir.unreadable.iter().map(|(name, e)| {
        Finding::new(
            Severity::Error,
            Rule::B1,
            &format!("{subj}/{name}"),
            e.clone(),
        )
    }));
    for p in &dir.packages {
        if p.pkg.arch != dir.arch && p.pkg.arch != "noarch" && !p.pkg.is_source {
            out.push(Finding::new(
                Severity::Error,
                Rule::B7,
                &format!("{subj}/{}", p.file_name()),
                format!(
                    "{} package in rpms/{}/: it cannot load on a {} installer",
                    p.pkg.arch, dir.arch, dir.arch
                ),
            ));
        }
    }
    out
}

/// A verdict and what the installer would load because of it.
struct PackageVerdict {
    verdict: VerdictRow,
    /// The module files loaded (`None`: the package's modules are not
    /// extracted).
    loads: Option<Vec<String>>,
}

/// The whole preflight over the packages of one `rpms/<arch>/`, for the
/// installer kernels of that arch, with subjects made disk paths.
fn arch_preflight(
    dir: &ArchDir,
    targets: &[Target],
    checks: &dyn ModuleChecks,
) -> (Vec<Finding>, Vec<PackageVerdict>) {
    let subj = &dir.path;
    let arch_targets: Vec<Target> = targets
        .iter()
        .filter(|t| t.arch == dir.arch)
        .cloned()
        .collect();
    let opts = preflight::Options {
        format: Format::RedHat,
        include_sources: false,
        pci_ids: Vec::new(),
    };
    let pf = preflight::run(&dir.packages, &arch_targets, &opts, checks);
    let findings = pf
        .findings
        .into_iter()
        .map(|mut f| {
            f.subject = if f.subject != "disk" {
                format!("{subj}/{}", f.subject)
            } else {
                subj.clone()
            };
            f
        })
        .collect();
    let verdicts = pf
        .verdicts
        .iter()
        .filter_map(|(pi, ti, v)| {
            let t = arch_targets.get(*ti)?;
            let p = dir.packages.get(*pi)?;
            Some(PackageVerdict {
                loads: v.flags.modules.then(|| loads_of(p, t)),
                verdict: VerdictRow::new(format!("{subj}/{}", p.file_name()), t, v),
            })
        })
        .collect();
    (findings, verdicts)
}

/// The module files installer `t` would load from a package whose
/// modules it extracts: compressed modules only where anaconda can.
fn loads_of(p: &PackageFacts, t: &Target) -> Vec<String> {
    let compressed_ok = t
        .anaconda
        .as_deref()
        .map(extracts_compressed_modules)
        .unwrap_or(true);
    p.modules
        .iter()
        .filter(|(_, m)| m.compression == Compression::None || compressed_ok)
        .map(|(inner, _)| {
            let base = inner.rsplit('/').next().unwrap_or(inner);
            format!("{base} ({})", p.file_name())
        })
        .collect()
}

/// D1/D2: `repodata/` of one `rpms/<arch>/` against the RPMs in it.
pub fn check_repodata(dir: &ArchDir) -> Vec<Finding> {
    let subject = dir.path.as_str();
    let err = |m: String| Finding::new(Severity::Error, Rule::D2, subject, m);
    let primary = match &dir.repodata {
        RepodataFacts::Absent => {
            return vec![Finding::new(
                Severity::Note,
                Rule::D1,
                subject,
                "no repodata/: anaconda runs createrepo_c itself on boot.iso".into(),
            )]
        }
        RepodataFacts::Unreadable(e) => return vec![err(e.clone())],
        RepodataFacts::Primary(p) => p,
    };
    let mut out = Vec::new();
    if !primary.checksum_matches {
        out.push(err(format!(
            "{}: {} checksum differs from repomd.xml (stale metadata)",
            primary.href, primary.checksum_type
        )));
    }
    if primary.href.ends_with(".zst") {
        out.push(Finding::new(
            Severity::Warning,
            Rule::D1,
            subject,
            format!("{}: zstd metadata cannot be read by old yum/dnf; write it with --general-compress-type=gz", primary.href),
        ));
    }
    let listed = match &primary.listed {
        Ok(l) => l,
        Err(e) => {
            out.push(err(e.clone()));
            return out;
        }
    };
    for l in listed {
        match &l.on_disk {
            Err(e) => out.push(err(format!("repodata lists {}: {e}", l.href))),
            Ok(d) if d.size != l.size => out.push(err(format!(
                "{}: {} bytes on the disk, repodata says {}",
                l.href, d.size, l.size
            ))),
            Ok(d) if d.checksum_matches == Some(false) => out.push(err(format!(
                "{}: {} differs from repodata (stale metadata: anaconda would install the wrong package)",
                l.href, l.checksum_type
            ))),
            Ok(_) => {}
        }
    }
    let seen: BTreeSet<&str> = listed.iter().map(|l| l.href.as_str()).collect();
    for rpm in &dir.rpm_names {
        if !seen.contains(rpm.as_str()) {
            out.push(err(format!(
                "{rpm} is not listed in repodata (stale metadata)"
            )));
        }
    }
    out
}

/// E4: a kickstart beside the tree or at the disk root.
fn kickstart(tree: &RedHatTree) -> Option<Finding> {
    tree.ks_cfg.then(|| {
        Finding::new(
            Severity::Warning,
            Rule::E4,
            &tree.path,
            "ks.cfg on an OEMDRV disk is used as the kickstart when no inst.ks is given".into(),
        )
    })
}

/// G1–G3 for one linuxrc tree, and the modules linuxrc would load from
/// it (`module.order` first, then the rest in name order).
fn suse_tree(tree: &SuseTree, targets: &[Target]) -> (Vec<Finding>, Vec<String>) {
    let path = &tree.path;
    let mut out = Vec::new();
    if !tree.dud_config {
        out.push(Finding::new(
            Severity::Warning,
            Rule::G1,
            path,
            "no dud.config (linuxrc uses it for the update id and name)".into(),
        ));
    }
    for n in &tree.irregular_modules {
        out.push(Finding::new(
            Severity::Error,
            Rule::G2,
            &format!("{path}/modules/{n}"),
            "not a regular file (a symlink can point outside the disk): not read".into(),
        ));
    }
    let mods: Vec<&String> = tree.modules.iter().map(|(m, _)| m).collect();
    if !mods.is_empty() && tree.module_order.trim().is_empty() {
        out.push(Finding::new(
            Severity::Warning,
            Rule::G2,
            path,
            "modules/ without module.order: linuxrc loads them in directory order".into(),
        ));
    }
    let mut loaded: Vec<String> = Vec::new();
    for name in tree
        .module_order
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
    {
        let stem = crate::module::strip_module_suffix(name);
        if let Some(f) = mods
            .iter()
            .find(|m| crate::module::strip_module_suffix(m) == stem)
        {
            loaded.push((*f).clone());
        }
    }
    for m in &mods {
        if !loaded.contains(m) {
            loaded.push((*m).clone());
        }
    }
    for (m, read) in &tree.modules {
        let subject = format!("{path}/modules/{m}");
        match read {
            Ok(km) => {
                for problem in super::suse::media_kernel_mismatches(km, targets) {
                    out.push(Finding::new(Severity::Warning, Rule::G3, &subject, problem));
                }
            }
            Err(e) => out.push(Finding::new(Severity::Error, Rule::G2, &subject, e.clone())),
        }
    }
    out.extend(irregular_install(
        &tree.irregular_install,
        &format!("{path}/install"),
    ));
    out.extend(irregular_install(
        &tree.irregular_install_rpms,
        &format!("{path}/install/rpms"),
    ));
    let mut kmps_with_modules = 0;
    for (r, read) in &tree.rpms {
        match read {
            Ok(true) => kmps_with_modules += 1,
            Ok(false) => {}
            Err(e) => out.push(Finding::new(
                Severity::Error,
                Rule::G2,
                &format!("{path}/install/{r}"),
                e.clone(),
            )),
        }
    }
    if loaded.is_empty() && kmps_with_modules > 0 {
        out.push(Finding::new(
            Severity::Error,
            Rule::G2,
            path,
            format!("no modules/: linuxrc loads nothing in the installer; the {kmps_with_modules} package(s) with modules in install/ only reach the installed system"),
        ));
    }
    if loaded.is_empty() && tree.rpms.is_empty() {
        out.push(Finding::new(
            Severity::Error,
            Rule::G2,
            path,
            "no modules/ and no install/*.rpm: nothing to load or install".into(),
        ));
    }
    (out, loaded)
}

/// `install/` entries named `*.rpm` that are not regular files (D3: the
/// same rule as on a Red Hat tree).
fn irregular_install(bad: &[String], subject: &str) -> Vec<Finding> {
    bad.iter()
        .map(|b| {
            Finding::new(
                Severity::Error,
                Rule::D3,
                subject,
                format!("{b}: not read (a disk must hold the RPMs themselves; links can point outside the disk)"),
            )
        })
        .collect()
}

/// E1 (no tree at all) and A1 (no installer kernel for a DDv3 tree), and
/// what could not be checked.
fn whole_disk(facts: &DiskFacts, targets: &[Target]) -> (Vec<Finding>, Vec<String>) {
    let mut out = Vec::new();
    let mut unchecked = Vec::new();
    if facts.redhat.is_empty() && facts.suse.is_empty() {
        out.push(Finding::new(
            Severity::Error,
            Rule::E1,
            "disk",
            "no driver update tree: neither rhdd3 beside rpms/<arch>/ (anaconda) nor linux/suse/<arch>-<dist>/ (linuxrc); the installer finds nothing"
                .into(),
        ));
    }
    if targets.is_empty() && !facts.redhat.is_empty() {
        out.push(Finding::new(
            Severity::Note,
            Rule::A1,
            "disk",
            "no installer kernel given: dd_list verdicts need --installer-kernel or --installer-iso".into(),
        ));
        unchecked.push(
            "which RPMs anaconda's dd_list accepts and what would load: no installer kernel (--installer-kernel KVER or --installer-iso ISO)".into(),
        );
    }
    (out, unchecked)
}

#[cfg(test)]
mod tests {
    //! The rules fed with facts directly: no disk, no file system.
    use super::super::disk::{Listed, OnDisk, Primary};
    use super::super::target::Origin;
    use super::*;

    fn target(uname_r: &str, arch: &str) -> Target {
        Target {
            uname_r: uname_r.into(),
            arch: arch.into(),
            anaconda: None,
            origin: Origin::CommandLine,
        }
    }

    fn arch_dir(arch: &str, rpms: &[&str], repodata: RepodataFacts) -> ArchDir {
        ArchDir {
            arch: arch.into(),
            path: format!("rpms/{arch}"),
            nested_rpm_dirs: Vec::new(),
            rpm_names: rpms.iter().map(|r| r.to_string()).collect(),
            irregular: Vec::new(),
            packages: Vec::new(),
            unreadable: Vec::new(),
            repodata,
        }
    }

    fn codes(f: &[Finding]) -> Vec<(Severity, Rule)> {
        f.iter().map(|f| (f.severity, f.code)).collect()
    }

    fn listed(href: &str, size: u64, on_disk: Result<OnDisk, String>) -> Listed {
        Listed {
            href: href.into(),
            checksum_type: "sha256".into(),
            size,
            on_disk,
        }
    }

    #[test]
    fn repodata_absent_is_a_note_not_an_error() {
        let f = check_repodata(&arch_dir("x86_64", &["a.rpm"], RepodataFacts::Absent));
        assert_eq!(codes(&f), [(Severity::Note, Rule::D1)]);
    }

    #[test]
    fn repodata_stale_in_every_way_the_installer_would_trip_on() {
        let primary = Primary {
            href: "repodata/x-primary.xml.zst".into(),
            checksum_type: "sha256".into(),
            checksum_matches: false,
            listed: Ok(vec![
                listed(
                    "a.rpm",
                    10,
                    Ok(OnDisk {
                        size: 10,
                        checksum_matches: Some(true),
                    }),
                ),
                listed(
                    "b.rpm",
                    10,
                    Ok(OnDisk {
                        size: 12,
                        checksum_matches: None,
                    }),
                ),
                listed(
                    "c.rpm",
                    10,
                    Ok(OnDisk {
                        size: 10,
                        checksum_matches: Some(false),
                    }),
                ),
                listed("../etc/passwd", 10, Err("points outside".into())),
            ]),
        };
        let dir = arch_dir(
            "x86_64",
            &["a.rpm", "b.rpm", "c.rpm", "d.rpm"],
            RepodataFacts::Primary(primary),
        );
        let msgs: Vec<String> = check_repodata(&dir)
            .iter()
            .map(|f| format!("{:?} {} {}", f.severity, f.code, f.message))
            .collect();
        assert_eq!(
            msgs,
            [
                "Error D2 repodata/x-primary.xml.zst: sha256 checksum differs from repomd.xml (stale metadata)",
                "Warning D1 repodata/x-primary.xml.zst: zstd metadata cannot be read by old yum/dnf; write it with --general-compress-type=gz",
                "Error D2 b.rpm: 12 bytes on the disk, repodata says 10",
                "Error D2 c.rpm: sha256 differs from repodata (stale metadata: anaconda would install the wrong package)",
                "Error D2 repodata lists ../etc/passwd: points outside",
                "Error D2 d.rpm is not listed in repodata (stale metadata)",
            ]
        );
    }

    #[test]
    fn repodata_unreadable_primary_stops_after_the_checksum() {
        let primary = Primary {
            href: "repodata/p.xml.gz".into(),
            checksum_type: "sha256".into(),
            checksum_matches: true,
            listed: Err("repodata/p.xml.gz: not gzip".into()),
        };
        let f = check_repodata(&arch_dir(
            "x86_64",
            &["a.rpm"],
            RepodataFacts::Primary(primary),
        ));
        assert_eq!(codes(&f), [(Severity::Error, Rule::D2)]);
        assert_eq!(f[0].message, "repodata/p.xml.gz: not gzip");
    }

    #[test]
    fn installer_without_arch_or_without_its_directory() {
        let tree = RedHatTree {
            path: "/".into(),
            symlinks: vec!["aarch64".into()],
            arches: vec![arch_dir("x86_64", &[], RepodataFacts::Absent)],
            ks_cfg: false,
        };
        let targets = [
            target("5.14.0-503.11.1.el9_5", ""),
            target("5.14.0-503.11.1.el9_5.x86_64", "x86_64"),
            target("5.14.0-503.11.1.el9_5.ppc64le", "ppc64le"),
        ];
        let f = tree_targets(&tree, &targets);
        assert_eq!(
            codes(&f),
            [
                (Severity::Error, Rule::D3),
                (Severity::Error, Rule::A1),
                (Severity::Error, Rule::E1)
            ]
        );
        assert!(f[2].message.starts_with("no rpms/ppc64le/"), "{}", f[2]);
        assert!(f[2].message.ends_with("(has: x86_64)"), "{}", f[2]);
        assert!(kickstart(&tree).is_none());
    }

    #[test]
    fn foreign_arch_package_and_unreadable_rpm() {
        let mut dir = arch_dir("x86_64", &["bad.rpm", "kmod-x.rpm"], RepodataFacts::Absent);
        dir.unreadable.push(("bad.rpm".into(), "not an RPM".into()));
        dir.packages.push(PackageFacts {
            pkg: crate::rpmrole::sample("kmod-x", "aarch64", &[]),
            modules: Vec::new(),
            module_bytes: Vec::new(),
            description: None,
        });
        dir.nested_rpm_dirs.push("old".into());
        let f = arch_contents(&dir);
        assert_eq!(
            codes(&f),
            [
                (Severity::Error, Rule::D3),
                (Severity::Error, Rule::B1),
                (Severity::Error, Rule::B7)
            ]
        );
        assert_eq!(f[1].subject, "rpms/x86_64/bad.rpm");
        assert_eq!(f[2].subject, "rpms/x86_64/kmod-x.rpm");
    }

    fn suse(modules: &[&str], order: &str, rpms: Vec<(String, Result<bool, String>)>) -> SuseTree {
        SuseTree {
            path: "linux/suse/x86_64-sles15".into(),
            dud_config: true,
            irregular_modules: Vec::new(),
            modules: modules
                .iter()
                .map(|m| (m.to_string(), Err("unreadable".to_string())))
                .collect(),
            module_order: order.into(),
            irregular_install: Vec::new(),
            irregular_install_rpms: Vec::new(),
            rpms,
        }
    }

    #[test]
    fn linuxrc_loads_module_order_first_then_the_rest() {
        let (f, loaded) = suse_tree(
            &suse(&["a.ko", "b.ko.xz", "c.ko"], "# x\nc\nb.ko\n", vec![]),
            &[],
        );
        assert_eq!(loaded, ["c.ko", "b.ko.xz", "a.ko"]);
        // Each unreadable module is a G2 error; nothing about module.order.
        assert_eq!(codes(&f), [(Severity::Error, Rule::G2); 3]);
    }

    #[test]
    fn linuxrc_tree_that_loads_nothing() {
        let (f, loaded) = suse_tree(&suse(&[], "", vec![("kmp.rpm".into(), Ok(true))]), &[]);
        assert!(loaded.is_empty());
        assert_eq!(codes(&f), [(Severity::Error, Rule::G2)]);
        assert!(
            f[0].message.contains("the 1 package(s) with modules"),
            "{}",
            f[0]
        );
        let (f, _) = suse_tree(&suse(&["a.ko"], " \n", vec![]), &[]);
        assert_eq!(
            codes(&f),
            [(Severity::Warning, Rule::G2), (Severity::Error, Rule::G2)]
        );
        let mut empty = suse(&[], "", vec![]);
        empty.dud_config = false;
        let (f, _) = suse_tree(&empty, &[]);
        assert_eq!(
            codes(&f),
            [(Severity::Warning, Rule::G1), (Severity::Error, Rule::G2)]
        );
        assert!(f[1].message.starts_with("no modules/ and no install/*.rpm"));
    }

    #[test]
    fn a_disk_with_no_tree_and_a_tree_without_installer_kernel() {
        let mut facts = DiskFacts {
            kind: Kind::Directory,
            redhat: Vec::new(),
            suse: Vec::new(),
        };
        let (f, unchecked) = whole_disk(&facts, &[]);
        assert_eq!(codes(&f), [(Severity::Error, Rule::E1)]);
        assert!(unchecked.is_empty());
        facts.redhat.push(RedHatTree {
            path: "/".into(),
            symlinks: Vec::new(),
            arches: Vec::new(),
            ks_cfg: true,
        });
        let (f, unchecked) = whole_disk(&facts, &[]);
        assert_eq!(codes(&f), [(Severity::Note, Rule::A1)]);
        assert_eq!(unchecked.len(), 1);
        // The whole report: sorted by severity, ks.cfg warned about.
        let rep = apply_rules(&facts, &[], &preflight::NoChecks);
        assert_eq!(
            codes(&rep.findings),
            [(Severity::Warning, Rule::E4), (Severity::Note, Rule::A1)]
        );
        assert_eq!(rep.trees, ["/"]);
    }
}
