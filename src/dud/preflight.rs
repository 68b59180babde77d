//! Preflight: everything that would make the installer skip or break a
//! driver disk, decided from package facts before anything is written.
//!
//! Pure: RPM headers, the modules inside them and the targets go in, a
//! [`Preflight`] (per-target `dd_list` verdicts and findings) comes out.
//! Findings carry a [`Rule`] (the checklist code) so a user can look the
//! rule up with `kmodpack dud explain`. Errors refuse the build (unless `--force`), warnings are
//! printed, notes explain.
//!
//! The module-level checks that belong to other areas (kABI against the
//! installer kernel's symvers, PCI id claims) come in through
//! [`ModuleChecks`], so the same implementations serve `kabi check`,
//! `alias` and this preflight.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::Path;

use crate::module::KernelModule;
use crate::rpmpkg::{DepOp, RpmDep, RpmPackage};

use super::ddlist::{self, Verdict};
use super::package::{PackageFacts, Role};
pub use super::rule::{Rule, Severity};
use super::target::{extracts_compressed_modules, handles_payload, Target};
use crate::rpmvercmp::{evr_cmp, Evr};

/// One preflight result.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Finding {
    /// Severity.
    pub severity: Severity,
    /// The checklist rule (`kmodpack dud explain <code>`).
    pub code: Rule,
    /// What it is about: an RPM file name, `rpm: inner/path.ko`, or `disk`.
    pub subject: String,
    /// One line.
    pub message: String,
}

impl Finding {
    /// A finding about `subject`.
    pub fn new(severity: Severity, code: Rule, subject: &str, message: String) -> Finding {
        Finding {
            severity,
            code,
            subject: subject.to_string(),
            message,
        }
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}[{}]: {}: {}",
            self.severity, self.code, self.subject, self.message
        )
    }
}

/// The disk format being built (the rules differ).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// anaconda DDv3 (`rhdd3`, `rpms/<arch>/`).
    RedHat,
    /// SUSE linuxrc (`linux/suse/<arch>-<dist>/`).
    Suse,
}

/// Checks owned by other areas, plugged into preflight.
pub trait ModuleChecks {
    /// Problems loading `module` on the installer kernel (kABI: CRCs and
    /// unresolved symbols against the target symvers, with `disk` = the
    /// other modules on the disk that may export what it needs). `None`
    /// when no target symvers is known.
    fn kabi(&self, module: &KernelModule, disk: &[&KernelModule]) -> Option<Vec<String>>;
    /// Does `module` claim PCI device `id` (`VVVV:DDDD[:SSSS:SSSS]`)?
    /// `None` when the id cannot be checked.
    fn claims_pci(&self, module: &KernelModule, id: &str) -> Option<bool>;
    /// Does the installer kernel ship a module called `name` (`-` → `_`)?
    /// `None` when its module list is unknown.
    fn in_box(&self, name: &str) -> Option<bool>;
}

/// No kABI or alias data: both checks report "not checked".
#[derive(Debug, Default)]
pub struct NoChecks;

impl ModuleChecks for NoChecks {
    fn kabi(&self, _module: &KernelModule, _disk: &[&KernelModule]) -> Option<Vec<String>> {
        None
    }
    fn claims_pci(&self, _module: &KernelModule, _id: &str) -> Option<bool> {
        None
    }
    fn in_box(&self, _name: &str) -> Option<bool> {
        None
    }
}

/// Options of the preflight.
#[derive(Debug, Clone)]
pub struct Options {
    /// Disk format.
    pub format: Format,
    /// Put SRPMs into `src/`.
    pub include_sources: bool,
    /// `--pci-id` values: some module on the disk must claim each.
    pub pci_ids: Vec<String>,
}

/// Result of the preflight.
#[derive(Debug, Clone, Default)]
pub struct Preflight {
    /// `(package index, target index, verdict)` for every binary package.
    pub verdicts: Vec<(usize, usize, Verdict)>,
    /// Findings, most severe first, then in input order.
    pub findings: Vec<Finding>,
}

impl Preflight {
    /// Number of errors.
    pub fn errors(&self) -> usize {
        self.findings
            .iter()
            .filter(|f| f.severity == Severity::Error)
            .count()
    }
}

/// Runs every check: per package by checklist section (each a function
/// below, in this order), then the rules about the disk as a whole.
pub fn run(
    pkgs: &[PackageFacts],
    targets: &[Target],
    opts: &Options,
    checks: &dyn ModuleChecks,
) -> Preflight {
    let mut out = Preflight::default();
    let target_arches: BTreeSet<&str> = targets.iter().map(|t| t.arch.as_str()).collect();
    let on_disk: Vec<&PackageFacts> = pkgs
        .iter()
        .filter(|p| matches!(p.role(), Role::Arch | Role::Noarch))
        .collect();
    let all_modules: Vec<&KernelModule> = on_disk
        .iter()
        .flat_map(|p| p.modules.iter().map(|(_, m)| m))
        .collect();

    // Verdicts are computed first so the per-package findings can use them.
    let mut verdicts = Vec::new();
    if opts.format == Format::RedHat {
        for (pi, p) in pkgs.iter().enumerate() {
            if !matches!(p.role(), Role::Arch | Role::Noarch) {
                continue;
            }
            for (ti, t) in targets.iter().enumerate() {
                if p.role() == Role::Arch && p.pkg.arch != t.arch {
                    continue;
                }
                verdicts.push((pi, ti, ddlist::evaluate(&p.pkg.provides, &t.uname_r)));
            }
        }
    }

    let mut findings: Vec<Finding> = Vec::new();
    let mut names: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    let mut kabi_unchecked = false;
    // C3 is about the disk (Secure Boot on the installer): said once, listing
    // every unsigned module, rather than once per RPM.
    let mut unsigned_all: Vec<String> = Vec::new();
    let mut unsigned_count = 0;
    for (pi, p) in pkgs.iter().enumerate() {
        let (role_findings, goes_on_disk) = package_role(p, targets, &target_arches, opts);
        findings.extend(role_findings);
        if !goes_on_disk {
            continue;
        }
        names
            .entry(p.pkg.name.as_str())
            .or_default()
            .push(format!("{}-{}", p.pkg.version, p.pkg.release));
        let files = Files::of(&p.pkg);
        findings.extend(module_placement(p, &files, opts.format));
        findings.extend(generator_invariant(p));
        if opts.format == Format::RedHat {
            findings.extend(firmware_placement(p, &files));
        }
        if opts.format == Format::RedHat {
            findings.extend(dd_list(p, pi, &files, &verdicts, targets));
            findings.extend(description(p));
        }
        findings.extend(xz_checks(p));
        let m = modules(p, targets, opts, checks, &all_modules);
        findings.extend(m.findings);
        kabi_unchecked |= m.kabi_unchecked;
        if !m.unsigned.is_empty() {
            unsigned_count += m.unsigned.len();
            unsigned_all.push(format!("{}: {}", p.file_name(), m.unsigned.join(", ")));
        }
        findings.extend(m.signed);
        if opts.format == Format::Suse {
            findings.extend(supplements(p));
        }
        if opts.format == Format::RedHat && !p.modules.is_empty() {
            findings.extend(after_reboot(p));
        }
        findings.extend(requires(p, &on_disk, targets));
    }
    let mut add = |severity, code, subject: &str, message: String| {
        findings.push(Finding::new(severity, code, subject, message))
    };
    // B10/B3: duplicate names.
    for (name, evrs) in &names {
        if evrs.len() > 1 {
            add(
                Severity::Warning,
                Rule::B3,
                "disk",
                format!(
                    "{name} is on the disk {} times ({}): every matching build is extracted and the last one found wins (unspecified order); build one disk per installer kernel",
                    evrs.len(),
                    evrs.join(", ")
                ),
            );
        }
    }
    if opts.format == Format::Suse {
        for f in suse_installer_modules(pkgs, &on_disk, targets) {
            add(f.severity, f.code, &f.subject, f.message);
        }
    }
    if !unsigned_all.is_empty() {
        // Named in a stable order whatever order the RPMs were given in.
        unsigned_all.sort();
        add(
            Severity::Warning,
            Rule::C3,
            "disk",
            format!(
                "{} unsigned module(s) ({}): with UEFI Secure Boot on, the installer kernel refuses them (\"Key was rejected by service\"); sign them with a key enrolled in db/MOK before booting the installer, or boot with Secure Boot off",
                unsigned_count,
                unsigned_all.join("; ")
            ),
        );
    }
    if kabi_unchecked {
        add(
            Severity::Note,
            Rule::C2,
            "disk",
            "kABI not checked: give --target-symvers (the installer kernel's symvers, kernel-core RPM or headers) to know the modules load".into(),
        );
    }
    for f in one_package_per_module(pkgs, &verdicts, targets) {
        add(f.severity, f.code, &f.subject, f.message);
    }
    // Every target arch needs at least one accepted module package.
    if opts.format == Format::RedHat {
        for (ti, t) in targets.iter().enumerate() {
            let any = verdicts
                .iter()
                .any(|(pi, vti, v)| *vti == ti && v.flags.modules && !pkgs[*pi].modules.is_empty());
            if !any {
                add(
                    Severity::Error,
                    Rule::B2,
                    "disk",
                    format!("no package on the disk is accepted by installer kernel {} ({}): the installer would load nothing", t.uname_r, t.arch),
                );
            }
        }
    }
    for f in pci_claims(&opts.pci_ids, &all_modules, checks) {
        add(f.severity, f.code, &f.subject, f.message);
    }
    out.verdicts = verdicts;
    out.findings = findings;
    out.findings.sort_by_key(|f| f.severity);
    out
}

fn short(path: &str) -> &str {
    path.trim_start_matches('/')
}

/// B7 by role: debuginfo, -devel and source packages stay off the disk (a
/// note each); a binary package for no installer arch is an error. Says
/// whether the package goes on the disk (and gets the other checks).
fn package_role(
    p: &PackageFacts,
    targets: &[Target],
    target_arches: &BTreeSet<&str>,
    opts: &Options,
) -> (Vec<Finding>, bool) {
    let subj = p.file_name();
    let note = |m: &str| vec![Finding::new(Severity::Note, Rule::B7, &subj, m.into())];
    match p.role() {
        Role::Debug => (
            note("debuginfo/debugsource package: left off the disk"),
            false,
        ),
        Role::Devel => (
            note("-devel package (build-time files for other kmods, no modules): left off the disk"),
            false,
        ),
        Role::Source => (
            note(if opts.include_sources && opts.format == Format::RedHat {
                "source package: copied to src/ (the installer ignores it)"
            } else {
                "source package: left off the disk (use --include-srpms to ship it in src/)"
            }),
            false,
        ),
        Role::Arch if !targets.is_empty() && !target_arches.contains(p.pkg.arch.as_str()) => (
            vec![Finding::new(
                Severity::Error,
                Rule::B7,
                &subj,
                format!(
                    "RPM arch {} matches no installer target ({}): it would sit in rpms/{} where no installer looks",
                    p.pkg.arch,
                    target_arches.iter().copied().collect::<Vec<_>>().join(", "),
                    p.pkg.arch
                ),
            )],
            true,
        ),
        _ => (Vec::new(), true),
    }
}

/// The payload paths the placement rules look at.
struct Files<'a> {
    /// Kernel module files (`*.ko*`).
    modules: Vec<&'a str>,
    /// Regular firmware files under `/lib/firmware` or `/usr/lib/firmware`.
    firmware: Vec<&'a str>,
}

impl<'a> Files<'a> {
    fn of(pkg: &'a RpmPackage) -> Files<'a> {
        Files {
            modules: pkg.module_paths(),
            firmware: pkg
                .files
                .iter()
                .filter(|f| !f.ghost && (f.mode & 0o170000) == 0o100000)
                .map(|f| f.path.as_str())
                .filter(|f| {
                    short(f).starts_with("lib/firmware/")
                        || short(f).starts_with("usr/lib/firmware/")
                })
                .collect(),
        }
    }
}

/// B4: what dd_extract and the installer's module search will see.
/// For SUSE, `usr/lib/modules` is where a usrmerged product's KMPs (SLE 16,
/// Tumbleweed) put them: linuxrc loads the copies in the disk's `modules/`
/// and rpm installs the KMP into the target system, so both trees are fine.
fn module_placement(p: &PackageFacts, files: &Files<'_>, format: Format) -> Vec<Finding> {
    let subj = p.file_name();
    let mut out = Vec::new();
    if files.modules.is_empty() && files.firmware.is_empty() {
        out.push(Finding::new(
            Severity::Error,
            Rule::B4,
            &subj,
            "contains no kernel module (*.ko*) and no firmware: nothing for the installer to load"
                .into(),
        ));
    }
    for f in &files.modules {
        let s = short(f);
        if format == Format::Suse
            && (s.starts_with("usr/lib/modules/") || s.starts_with("lib/modules/"))
        {
            continue;
        }
        if s.starts_with("usr/lib/modules/") {
            out.push(Finding::new(
                Severity::Error,
                Rule::B4,
                &subj,
                format!("{f}: under /usr/lib/modules; the installer only loads modules from /lib/modules/<kver>/ (build with %_modulesdir or INSTALL_MOD_PATH pointing at /lib/modules)"),
            ));
        } else if !s.starts_with("lib/modules/") {
            out.push(Finding::new(
                Severity::Error,
                Rule::B4,
                &subj,
                format!("{f}: not under /lib/modules/<kver>/: the installer never loads it"),
            ));
        }
    }
    out
}

/// C7: the dependency lines kmodpack's generator gives every module
/// (without them dnf/zypper install the kmod on any kernel, and its
/// importers cannot resolve it).
fn generator_invariant(p: &PackageFacts) -> Vec<Finding> {
    let subj = p.file_name();
    crate::deps::invariant::check(&p.pkg, &p.modules)
        .into_iter()
        .map(|v| {
            Finding::new(
                Severity::Error,
                Rule::C7,
                &subj,
                format!("{v} ({})", crate::deps::invariant::CAUSE),
            )
        })
        .collect()
}

/// B4 (firmware): dd_extract takes firmware from `/lib/firmware` only.
fn firmware_placement(p: &PackageFacts, files: &Files<'_>) -> Vec<Finding> {
    let subj = p.file_name();
    files
        .firmware
        .iter()
        .filter(|f| short(f).starts_with("usr/lib/firmware/"))
        .map(|f| {
            Finding::new(
                Severity::Error,
                Rule::B4,
                &subj,
                format!("{f}: dd_extract only takes firmware from /lib/firmware/, not /usr/lib/firmware/"),
            )
        })
        .collect()
}

/// Red Hat only: B1 (the Provides dd_list needs), B2 (each installer's
/// verdict on package `pi`), B5 (compressed modules against the anaconda
/// version), B6 (payload compression in dd_extract).
fn dd_list(
    p: &PackageFacts,
    pi: usize,
    files: &Files<'_>,
    verdicts: &[(usize, usize, Verdict)],
    targets: &[Target],
) -> Vec<Finding> {
    let subj = p.file_name();
    let pkg = &p.pkg;
    let mut out = Vec::new();
    let mut add =
        |severity, code, message: String| out.push(Finding::new(severity, code, &subj, message));
    // B1: the Provides dd_list needs.
    let versioned = pkg.provides.iter().any(|d| {
        (d.name == "kernel-modules" || d.name == "installer-enhancement") && d.op != DepOp::Any
    });
    if !versioned {
        let msg = if !pkg.provides.iter().any(|d| d.name == "kernel-modules") {
            "no `Provides: kernel-modules >= <installer uname -r>`: anaconda's dd_list skips this package without a word".to_string()
        } else {
            "`Provides: kernel-modules` has no version: anaconda's dd_list skips unversioned Provides".to_string()
        };
        add(Severity::Error, Rule::B1, msg);
    }
    // B2: per target.
    for (vpi, ti, v) in verdicts {
        if *vpi != pi || !versioned {
            continue;
        }
        let Some(t) = targets.get(*ti) else {
            continue;
        };
        if !v.accepted() {
            add(
                Severity::Error,
                Rule::B2,
                format!("IGNORED by installer kernel {}: {}", t.uname_r, v.reason()),
            );
        } else if !v.flags.modules && !files.modules.is_empty() {
            add(
                Severity::Error,
                Rule::B2,
                format!(
                    "accepted by {} only as installer-enhancement: its modules are not extracted",
                    t.uname_r
                ),
            );
        }
    }
    let relevant = || {
        targets
            .iter()
            .filter(|t| pkg.arch == "noarch" || t.arch == pkg.arch)
    };
    // B5: compressed modules vs the anaconda version.
    if let Some(first) = files.modules.iter().find(|f| !f.ends_with(".ko")) {
        for t in relevant() {
            match &t.anaconda {
                Some(a) if !extracts_compressed_modules(a) => add(
                    Severity::Error,
                    Rule::B5,
                    format!(
                        "{first}: compressed module, but anaconda {a} (installer {}) extracts only plain .ko files (fixed in 34.25.5.11 for RHEL 9, 39.32 for Fedora, never for RHEL 8): the package is accepted and nothing is loaded; build the kmod with uncompressed modules",
                        t.uname_r
                    ),
                ),
                Some(_) => {}
                None => add(
                    Severity::Warning,
                    Rule::B5,
                    format!(
                        "{first}: compressed module; anaconda before 34.25.5.11 (RHEL <= 9.4, all RHEL 8) extracts only plain .ko files. Give --anaconda-version or --installer-iso to check (installer {})",
                        t.uname_r
                    ),
                ),
            }
        }
    }
    // B6: payload decompression in dd_extract (said once).
    if relevant().any(|t| !handles_payload(t.anaconda.as_deref(), &pkg.payload_compressor)) {
        add(
            Severity::Warning,
            Rule::B6,
            format!(
                "{} payload: anaconda before 45.11 (every RHEL branch so far) may fail to unpack it in the installer; build with `%define _binary_payload w2.xzdio`",
                pkg.payload_compressor
            ),
        );
    }
    out
}

/// B9 (Red Hat): dd_list separates packages with "\n---\n" in its output.
fn description(p: &PackageFacts) -> Option<Finding> {
    p.description
        .as_deref()
        .is_some_and(|d| d.lines().any(|l| l == "---"))
        .then(|| {
            Finding::new(
                Severity::Warning,
                Rule::B9,
                &p.file_name(),
                "%description has a line `---`: anaconda splits dd_list output on it and misreads the disk".into(),
            )
        })
}

/// B5 (second half): the kernel's in-kernel xz decoder only knows CRC32
/// checks.
fn xz_checks(p: &PackageFacts) -> Vec<Finding> {
    let subj = p.file_name();
    p.module_bytes
        .iter()
        .filter_map(|(inner, bytes)| {
            let check = xz_check(bytes).filter(|c| *c != 1)?;
            Some(Finding::new(
                Severity::Warning,
                Rule::B5,
                &subj,
                format!(
                    "{}: xz with {} integrity check; in-kernel decompression needs `xz --check=crc32` (\"decompression failed with status 6\")",
                    short(inner),
                    match check {
                        0 => "no",
                        4 => "a CRC64",
                        10 => "a SHA-256",
                        _ => "an unusual",
                    }
                ),
            ))
        })
        .collect()
}

/// What the module checks of one package found.
struct ModuleSection {
    /// B7 (ELF machine), C6 (in-box driver), C2 (kABI), G3 (SUSE media
    /// kernel), in module order.
    findings: Vec<Finding>,
    /// C3: the note naming the signed modules and their signers.
    signed: Option<Finding>,
    /// The unsigned modules' file names (C3 is said once for the disk).
    unsigned: Vec<String>,
    /// Some module's kABI could not be checked (no target symvers).
    kabi_unchecked: bool,
}

/// C (and B7, G3): the modules themselves.
fn modules(
    p: &PackageFacts,
    targets: &[Target],
    opts: &Options,
    checks: &dyn ModuleChecks,
    all_modules: &[&KernelModule],
) -> ModuleSection {
    let subj = p.file_name();
    let pkg = &p.pkg;
    let mut out = ModuleSection {
        findings: Vec::new(),
        signed: None,
        unsigned: Vec::new(),
        kabi_unchecked: false,
    };
    let mut signed = Vec::new();
    for (inner, m) in &p.modules {
        let msubj = format!("{subj}: {}", short(inner));
        // The ELF machine decides where the module can load at all.
        let elf_arch = m.elf.arch();
        let wrong: Vec<&str> = targets
            .iter()
            .filter(|t| {
                !t.arch.is_empty()
                    && (pkg.arch == "noarch" || pkg.arch == t.arch)
                    && t.arch != elf_arch
            })
            .map(|t| t.uname_r.as_str())
            .collect();
        if !wrong.is_empty() {
            out.findings.push(Finding::new(
                Severity::Error,
                Rule::B7,
                &msubj,
                format!(
                    "{elf_arch} module in a {} package: installer {} cannot load it",
                    pkg.arch,
                    wrong.join(", ")
                ),
            ));
        }
        match &m.signature {
            Some(s) => signed.push(format!(
                "{} ({})",
                short(inner),
                s.signer.clone().unwrap_or_else(|| "PKCS#7 signer".into())
            )),
            None => out
                .unsigned
                .push(inner.rsplit('/').next().unwrap_or(inner).to_string()),
        }
        // C6: an update for an in-box driver cannot replace it once it is bound.
        let name = m.name().map(str::to_string).unwrap_or_else(|| {
            crate::module::normalize_name(&crate::module::file_stem(Path::new(inner)))
        });
        if checks.in_box(&name) == Some(true) {
            out.findings.push(Finding::new(
                Severity::Warning,
                Rule::C6,
                &msubj,
                format!("replaces the installer kernel's own {name} module: if that driver is already in use (for example the installation media sits behind it), the update cannot take over until reboot"),
            ));
        }
        match checks.kabi(m, all_modules) {
            Some(problems) => {
                for pr in problems {
                    out.findings
                        .push(Finding::new(Severity::Error, Rule::C2, &msubj, pr));
                }
            }
            None => out.kabi_unchecked = true,
        }
        if opts.format == Format::Suse {
            for problem in super::suse::media_kernel_mismatches(m, targets) {
                out.findings
                    .push(Finding::new(Severity::Warning, Rule::G3, &msubj, problem));
            }
        }
    }
    if !signed.is_empty() {
        out.signed = Some(Finding::new(
            Severity::Note,
            Rule::C3,
            &subj,
            format!(
                "signed module(s) {}: under Secure Boot they load only if that key is the distro key or enrolled in db/MOK before boot",
                signed.join(", ")
            ),
        ));
    }
    out
}

/// G4 (SUSE): the repo method installs only what is required, selected or
/// supplemented.
fn supplements(p: &PackageFacts) -> Option<Finding> {
    (!p.modules.is_empty()
        && !p
            .pkg
            .supplements
            .iter()
            .any(|s| s.name.starts_with("modalias(")))
    .then(|| {
        Finding::new(
            Severity::Warning,
            Rule::G4,
            &p.file_name(),
            "no `Supplements: modalias(…)`: with the repo method the installer installs this KMP only if a pattern requires it or the user selects it (kmodpack deps --dialect suse generates them from the module aliases)".into(),
        )
    })
}

/// F2 (Red Hat): after the install, on the installed system's later
/// kernels.
fn after_reboot(p: &PackageFacts) -> Vec<Finding> {
    let subj = p.file_name();
    after_reboot_problems(&p.pkg)
        .into_iter()
        .map(|problem| Finding::new(Severity::Warning, Rule::F2, &subj, problem))
        .collect()
}

/// F1: Requires that the disk or the target kernel must satisfy.
fn requires(p: &PackageFacts, on_disk: &[&PackageFacts], targets: &[Target]) -> Vec<Finding> {
    let subj = p.file_name();
    p.pkg
        .requires
        .iter()
        .filter(|r| !r.internal)
        .filter_map(|r| unresolved_require(r, &p.pkg, on_disk, targets))
        .map(|(severity, message)| Finding::new(severity, Rule::F1, &subj, message))
        .collect()
}

/// A finding about the disk as a whole.
fn disk_finding(severity: Severity, code: Rule, message: String) -> Finding {
    Finding::new(severity, code, "disk", message)
}

/// Rule G2 for the whole disk: linuxrc loads only `modules/`, filled from
/// the modules built for the installer kernel or its flavor; a Red Hat kmod
/// (`…el9_5.x86_64/extra/`) gives none, so the installer would load nothing.
fn suse_installer_modules(
    pkgs: &[PackageFacts],
    on_disk: &[&PackageFacts],
    targets: &[Target],
) -> Vec<Finding> {
    let mut out = Vec::new();
    if on_disk.iter().any(|p| !p.modules.is_empty()) {
        for t in targets {
            let st = super::suse::SuseTarget {
                arch: t.arch.clone(),
                dist: String::new(),
                uname_r: Some(t.uname_r.clone()),
            };
            if super::suse::installer_modules(pkgs, &st).is_empty() {
                let kvers: BTreeSet<&str> = on_disk
                    .iter()
                    .flat_map(|p| p.modules.iter())
                    .filter_map(|(inner, _)| super::suse::path_kver(inner))
                    .collect();
                out.push(disk_finding(
                    Severity::Error,
                    Rule::G2,
                    format!(
                        "no module is built for the installer kernel {} or its flavor (the packages install for {}): modules/ stays empty and linuxrc loads nothing; a Red Hat kmod is not a SUSE KMP (build it with style suse-kmp for the installer's kernel)",
                        t.uname_r,
                        kvers.into_iter().collect::<Vec<_>>().join(", ")
                    ),
                ));
            }
        }
    }
    out
}

/// Rule C4: every `--pci-id` must be claimed by a module on the disk (a
/// `pci:` alias matching it), or the installer binds no driver to the device.
fn pci_claims(
    ids: &[String],
    modules: &[&KernelModule],
    checks: &dyn ModuleChecks,
) -> Vec<Finding> {
    let mut out = Vec::new();
    for id in ids {
        let answers: Vec<(Option<bool>, &str)> = modules
            .iter()
            .map(|m| (checks.claims_pci(m, id), m.name().unwrap_or("?")))
            .collect();
        let claimed: Vec<String> = answers
            .iter()
            .filter(|(a, _)| *a == Some(true))
            .map(|(_, n)| n.to_string())
            .collect();
        out.push(if answers.iter().any(|(a, _)| a.is_none()) && claimed.is_empty() {
            disk_finding(
                Severity::Note,
                Rule::C4,
                format!("PCI device {id}: not checked (alias matching unavailable)"),
            )
        } else if claimed.is_empty() {
            disk_finding(
                Severity::Error,
                Rule::C4,
                format!("no module on the disk claims PCI device {id} (no matching pci: alias): the installer would not bind a driver to it"),
            )
        } else {
            disk_finding(
                Severity::Note,
                Rule::C4,
                format!("PCI device {id} is claimed by {}", claimed.join(", ")),
            )
        });
    }
    out
}

/// Rule B3 per installer: one module name in several packages that
/// `dd_list` accepts for the same installer; all are extracted and which
/// one wins is unspecified.
fn one_package_per_module(
    pkgs: &[PackageFacts],
    verdicts: &[(usize, usize, Verdict)],
    targets: &[Target],
) -> Vec<Finding> {
    let mut out = Vec::new();
    for (ti, t) in targets.iter().enumerate() {
        let mut by_module: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (pi, _, _) in verdicts
            .iter()
            .filter(|(_, vti, v)| *vti == ti && v.flags.modules)
        {
            for (inner, _) in &pkgs[*pi].modules {
                let base = inner.rsplit('/').next().unwrap_or(inner);
                let stem = crate::module::strip_module_suffix(base).to_string();
                by_module
                    .entry(stem)
                    .or_default()
                    .push(pkgs[*pi].file_name());
            }
        }
        for (m, from) in by_module.iter().filter(|(_, v)| v.len() > 1) {
            out.push(disk_finding(
                Severity::Warning,
                Rule::B3,
                format!(
                    "module {m} comes from {} packages accepted by {} ({}): all are extracted and which one wins is unspecified",
                    from.len(),
                    t.uname_r,
                    from.join(", ")
                ),
            ));
        }
    }
    out
}

/// What keeps a kABI-tracking kmod working on the installed system after the
/// installer's job is done (checklist F2): `%post` running weak-modules, so
/// the modules are linked into later compatible kernels, and a depmod.d
/// override, so they win over an in-box driver of the same name there.
/// Per-kernel kmods (`Requires: kernel-uname-r = …`, kmodtool style) are
/// rebuilt for each kernel and need neither.
fn after_reboot_problems(pkg: &RpmPackage) -> Vec<String> {
    let per_kernel = pkg.requires.iter().any(|r| {
        r.op == DepOp::Eq
            && matches!(
                r.name.as_str(),
                "kernel-uname-r" | "kernel-core-uname-r" | "kernel-modules-core-uname-r"
            )
    });
    if per_kernel {
        return Vec::new();
    }
    let mut out = Vec::new();
    if !pkg
        .post_install
        .as_deref()
        .is_some_and(|s| s.contains("weak-modules"))
    {
        out.push("%post does not run weak-modules: once installed, the modules stay with the kernel they were built for and kernel updates leave the driver behind (kmodpack spec's redhat-kabi template does this)".to_string());
    }
    let has_override = pkg.files.iter().any(|f| {
        (f.path.starts_with("/etc/depmod.d/") || f.path.starts_with("/usr/lib/depmod.d/"))
            && f.path.ends_with(".conf")
    });
    if !has_override {
        out.push("no /etc/depmod.d/*.conf override: on kernels that reach the modules through weak-updates, an in-box driver of the same name is preferred after reboot".to_string());
    }
    out
}

/// The integrity check type of an xz stream (`None` if not xz).
pub fn xz_check(bytes: &[u8]) -> Option<u8> {
    if bytes.len() < 12 || bytes[..6] != [0xFD, b'7', b'z', b'X', b'Z', 0] {
        return None;
    }
    Some(bytes[7] & 0x0F)
}

const KERNEL_PACKAGES: &[&str] = &[
    "kernel",
    "kernel-core",
    "kernel-modules-core",
    "kernel-modules",
    "kernel-default",
];
const KERNEL_UNAME_R: &[&str] = &[
    "kernel-uname-r",
    "kernel-core-uname-r",
    "kernel-modules-core-uname-r",
];

/// Does the installer target kernel itself (as the target system's kernel
/// package) satisfy `r`? `None` = not a kernel-package requirement.
fn kernel_satisfies(r: &RpmDep, t: &Target) -> Option<bool> {
    let want = Evr::parse(&r.version);
    let check = |have: &Evr<'_>| match r.op {
        DepOp::Any => true,
        op => {
            let c = evr_cmp(have, &want);
            match op {
                DepOp::Lt => c.is_lt(),
                DepOp::Le => c.is_le(),
                DepOp::Eq => c.is_eq(),
                DepOp::Ge => c.is_ge(),
                DepOp::Gt => c.is_gt(),
                DepOp::Any => true,
            }
        }
    };
    if KERNEL_UNAME_R.contains(&r.name.as_str()) {
        // Provided as `kernel-uname-r = <uname -r>`, parsed by rpm like any EVR.
        return Some(check(&Evr::parse(&t.uname_r)));
    }
    if KERNEL_PACKAGES.contains(&r.name.as_str()) {
        let suffix = format!(".{}", t.arch);
        let vr = t.uname_r.strip_suffix(&suffix).unwrap_or(&t.uname_r);
        return Some(check(&Evr::parse(vr)));
    }
    None
}

fn dep_satisfied_by(r: &RpmDep, p: &RpmDep) -> bool {
    if p.name != r.name {
        return false;
    }
    if r.op == DepOp::Any || p.op == DepOp::Any {
        return true;
    }
    // Both versioned: rpm's range overlap, for the common `=` provide.
    let (pv, rv) = (Evr::parse(&p.version), Evr::parse(&r.version));
    let c = evr_cmp(&pv, &rv);
    match (p.op, r.op) {
        (DepOp::Eq, DepOp::Eq) => c.is_eq(),
        (DepOp::Eq, DepOp::Ge) => c.is_ge(),
        (DepOp::Eq, DepOp::Gt) => c.is_gt(),
        (DepOp::Eq, DepOp::Le) => c.is_le(),
        (DepOp::Eq, DepOp::Lt) => c.is_lt(),
        _ => true,
    }
}

fn unresolved_require(
    r: &RpmDep,
    pkg: &RpmPackage,
    disk: &[&PackageFacts],
    targets: &[Target],
) -> Option<(Severity, String)> {
    // Satisfied on the disk (including the package itself: rpm ignores self-requires).
    let on_disk = disk.iter().any(|p| {
        p.pkg.provides.iter().any(|pv| dep_satisfied_by(r, pv))
            || (p.pkg.name == r.name && r.op == DepOp::Any)
            || p.pkg.files.iter().any(|f| f.path == r.name)
    }) || pkg.provides.iter().any(|pv| dep_satisfied_by(r, pv));
    if on_disk {
        return None;
    }
    let relevant: Vec<&Target> = targets
        .iter()
        .filter(|t| pkg.arch == "noarch" || t.arch == pkg.arch)
        .collect();
    let mut failing = Vec::new();
    for t in &relevant {
        if let Some(false) = kernel_satisfies(r, t) {
            failing.push(t.uname_r.as_str());
        }
    }
    if !failing.is_empty() {
        return Some((
            Severity::Error,
            format!(
                "Requires: {r} is not met by the installed system's kernel {} (\"nothing provides {r}\" mid-install)",
                failing.join(", ")
            ),
        ));
    }
    if kernel_satisfies(r, relevant.first()?).is_some() {
        return None;
    }
    if r.name.starts_with("kernel(") || r.name.starts_with("ksym(") {
        // Checked symbol by symbol by the kABI check when a symvers is given.
        return None;
    }
    if r.name.starts_with('/') || r.name.starts_with("rpmlib(") {
        return None;
    }
    Some((
        Severity::Note,
        format!("Requires: {r} is not on the disk: it must come from the installer's repositories"),
    ))
}

/// Reads an RPM path's file name for messages.
pub fn display_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kmod(requires: &[(&str, DepOp, &str)], post: Option<&str>, files: &[&str]) -> RpmPackage {
        let mut p = crate::rpmrole::sample("kmod-x", "x86_64", files);
        p.requires = requires
            .iter()
            .map(|(n, op, v)| RpmDep {
                name: n.to_string(),
                op: *op,
                version: v.to_string(),
                internal: false,
            })
            .collect();
        p.post_install = post.map(str::to_string);
        p
    }

    fn facts(pkg: RpmPackage) -> PackageFacts {
        PackageFacts {
            pkg,
            modules: Vec::new(),
            module_bytes: Vec::new(),
            description: None,
        }
    }

    fn target(uname_r: &str, arch: &str, anaconda: Option<&str>) -> Target {
        Target {
            uname_r: uname_r.into(),
            arch: arch.into(),
            anaconda: anaconda.map(str::to_string),
            origin: super::super::target::Origin::CommandLine,
        }
    }

    fn codes(f: &[Finding]) -> Vec<(Severity, Rule)> {
        f.iter().map(|f| (f.severity, f.code)).collect()
    }

    const KO: &str = "/lib/modules/5.14.0-503.11.1.el9_5.x86_64/extra/x/x.ko";

    #[test]
    fn role_keeps_debug_and_foreign_arch_packages_off() {
        let opts = Options {
            format: Format::RedHat,
            include_sources: false,
            pci_ids: Vec::new(),
        };
        let targets = [target("5.14.0-503.11.1.el9_5.x86_64", "x86_64", None)];
        let arches: BTreeSet<&str> = ["x86_64"].into();
        let debug = facts(crate::rpmrole::sample(
            "kmod-x-debuginfo",
            "x86_64",
            &["/usr/lib/debug/lib/modules/x.ko.debug"],
        ));
        let (f, on) = package_role(&debug, &targets, &arches, &opts);
        assert!(!on);
        assert_eq!(codes(&f), [(Severity::Note, Rule::B7)]);
        let arm = facts(crate::rpmrole::sample("kmod-x", "aarch64", &[KO]));
        let (f, on) = package_role(&arm, &targets, &arches, &opts);
        assert!(on);
        assert_eq!(codes(&f), [(Severity::Error, Rule::B7)]);
        assert!(f[0].message.contains("(x86_64)"), "{}", f[0]);
        let (f, on) = package_role(&arm, &[], &BTreeSet::new(), &opts);
        assert!(on && f.is_empty());
    }

    #[test]
    fn placement_of_modules_and_firmware() {
        let p = facts(crate::rpmrole::sample(
            "kmod-x",
            "x86_64",
            &[
                "/usr/lib/modules/6.1.0/extra/a.ko",
                "/opt/b.ko",
                KO,
                "/usr/lib/firmware/x.bin",
                "/lib/firmware/y.bin",
            ],
        ));
        let files = Files::of(&p.pkg);
        let f = module_placement(&p, &files, Format::RedHat);
        assert_eq!(codes(&f), [(Severity::Error, Rule::B4); 2]);
        assert!(f[0]
            .message
            .starts_with("/usr/lib/modules/6.1.0/extra/a.ko: under /usr/lib/modules"));
        assert!(f[1]
            .message
            .starts_with("/opt/b.ko: not under /lib/modules"));
        // linuxrc: a usrmerged KMP (SLE 16, Tumbleweed) is fine, /opt is not.
        let f = module_placement(&p, &files, Format::Suse);
        assert_eq!(codes(&f), [(Severity::Error, Rule::B4)]);
        assert!(f[0]
            .message
            .starts_with("/opt/b.ko: not under /lib/modules"));
        let f = firmware_placement(&p, &files);
        assert_eq!(codes(&f), [(Severity::Error, Rule::B4)]);
        assert!(f[0].message.starts_with("/usr/lib/firmware/x.bin:"));
        let empty = facts(crate::rpmrole::sample("kmod-x", "x86_64", &["/etc/x.conf"]));
        let f = module_placement(&empty, &Files::of(&empty.pkg), Format::RedHat);
        assert_eq!(codes(&f), [(Severity::Error, Rule::B4)]);
        assert!(f[0].message.starts_with("contains no kernel module"));
    }

    #[test]
    fn dd_list_needs_a_versioned_provides() {
        let targets = [target(
            "5.14.0-503.11.1.el9_5.x86_64",
            "x86_64",
            Some("34.25.4.9"),
        )];
        let mut p = facts(crate::rpmrole::sample(
            "kmod-x",
            "x86_64",
            &[&format!("{KO}.xz")],
        ));
        p.pkg.payload_compressor = "zstd".into();
        let verdicts = vec![(0, 0, ddlist::evaluate(&p.pkg.provides, &targets[0].uname_r))];
        let f = dd_list(&p, 0, &Files::of(&p.pkg), &verdicts, &targets);
        // No Provides: B1 (and no B2, which needs one); the compressed
        // module on an old anaconda: B5; zstd payload: B6.
        assert_eq!(
            codes(&f),
            [
                (Severity::Error, Rule::B1),
                (Severity::Error, Rule::B5),
                (Severity::Warning, Rule::B6)
            ]
        );
        assert!(f[0].message.starts_with("no `Provides: kernel-modules >="));
        p.pkg.provides.push(RpmDep {
            name: "kernel-modules".into(),
            op: DepOp::Any,
            version: String::new(),
            internal: false,
        });
        let f = dd_list(&p, 0, &Files::of(&p.pkg), &verdicts, &targets);
        assert!(f[0]
            .message
            .starts_with("`Provides: kernel-modules` has no version"));
    }

    #[test]
    fn description_separator_and_missing_supplements() {
        let mut p = facts(crate::rpmrole::sample("kmod-x", "x86_64", &[KO]));
        assert!(description(&p).is_none());
        p.description = Some("a\n---\nb".into());
        assert_eq!(description(&p).map(|f| f.code), Some(Rule::B9));
        // G4 is about packages with modules only.
        assert!(supplements(&p).is_none());
    }

    #[test]
    fn xz_check_other_than_crc32_is_named() {
        let mut p = facts(crate::rpmrole::sample("kmod-x", "x86_64", &[KO]));
        let xz = |check: u8| {
            let mut b = vec![0xFD, b'7', b'z', b'X', b'Z', 0, 0, check];
            b.resize(16, 0);
            b
        };
        p.module_bytes = vec![("/a.ko.xz".into(), xz(1)), ("/b.ko.xz".into(), xz(4))];
        let f = xz_checks(&p);
        assert_eq!(codes(&f), [(Severity::Warning, Rule::B5)]);
        assert!(f[0]
            .message
            .starts_with("b.ko.xz: xz with a CRC64 integrity check"));
    }

    #[test]
    fn f2_only_for_kabi_tracking_kmods() {
        let ko = "/lib/modules/5.14.0-503.11.1.el9_5.x86_64/extra/x/x.ko";
        assert_eq!(after_reboot_problems(&kmod(&[], None, &[ko])).len(), 2);
        let done = kmod(
            &[],
            Some("/usr/sbin/weak-modules --add-modules"),
            &[ko, "/etc/depmod.d/kmod-x.conf"],
        );
        assert!(after_reboot_problems(&done).is_empty());
        // kmodtool-style: one kmod per kernel, pinned to it.
        let pinned = kmod(
            &[("kernel-uname-r", DepOp::Eq, "5.14.0-503.11.1.el9_5.x86_64")],
            None,
            &[ko],
        );
        assert!(after_reboot_problems(&pinned).is_empty());
        // `>=` is not pinned.
        let ranged = kmod(&[("kernel-uname-r", DepOp::Ge, "5.14.0")], None, &[ko]);
        assert_eq!(after_reboot_problems(&ranged).len(), 2);
    }
}
