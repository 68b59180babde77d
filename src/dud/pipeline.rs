//! The disk pipeline, in cargo-deb's `process` shape: a [`DiskRequest`]
//! (what the user asked for), a [`DiskInput`] (RPMs, or a build's result
//! directory) and a [`DiskListener`] in, a [`DiskOutcome`] out. `dud build`
//! and `build --dud` call it; the listener is how the CLI shows the
//! handoff, the preflight and what was written, so nothing here prints.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::kabi::KernelSymbols;

use super::build::{self, Container, WriteRequest};
use super::checks::KabiAliasChecks;
use super::handoff::{self, Handoff};
use super::outcome::{DiskOutcome, TargetView};
use super::package::{self, PackageFacts};
use super::preflight::{self, Format, Preflight};
use super::suse::{self, SuseTarget};
use super::target::{Origin, Target};
use super::{installer, iso, stage, DudError};

/// What the pipeline tells while it runs.
pub trait DiskListener {
    /// The RPMs chosen from a build's result directory `root`.
    fn handoff(&self, root: &Path, handoff: &Handoff);
    /// A one-line note (duplicate inputs dropped, where the kABI symbols
    /// come from).
    fn note(&self, message: &str);
    /// A warning (writing despite preflight errors with `force`).
    fn warning(&self, message: &str);
    /// The preflight's verdicts and findings.
    fn preflight(&self, pkgs: &[PackageFacts], targets: &[Target], pf: &Preflight, format: Format);
    /// The disk (of `format`) was written, read back and checked.
    fn written(&self, request: &WriteRequest, format: Format);
}

/// Everything that decides a disk, whoever asks for it (`dud build`, or
/// `kmodpack build --dud` after its matrix).
#[derive(Debug, Clone)]
pub struct DiskRequest {
    /// Red Hat or SUSE.
    pub format: Format,
    /// The image.
    pub output: PathBuf,
    /// ISO volume label.
    pub label: String,
    /// SUSE product (`linux/suse/<arch>-<dist>`).
    pub dist: Option<String>,
    /// SRPMs into `src/`.
    pub include_srpms: bool,
    /// Write despite errors; replace the output.
    pub force: bool,
    /// `--pci-id` values.
    pub pci_ids: Vec<String>,
    /// `--installer-kernel` values.
    pub installer_kernels: Vec<String>,
    /// `--installer-iso` values.
    pub installer_isos: Vec<PathBuf>,
    /// `--anaconda-version`.
    pub anaconda: Option<String>,
    /// `--arch`.
    pub arch: Option<String>,
    /// `--target-symvers`.
    pub target_symvers: Option<PathBuf>,
}

/// Where the disk's RPMs come from.
#[derive(Debug, Clone)]
pub enum DiskInput {
    /// RPM files and directories of them.
    Rpms(Vec<PathBuf>),
    /// A `kmodpack build` result directory or report.json, optionally limited to packages.
    Build {
        /// Result directory or report.
        from: PathBuf,
        /// Package names (empty: all).
        packages: Vec<String>,
    },
}

/// Checks the request, selects and reads the RPMs, runs the preflight and
/// writes the disk unless it is refused; tells `listener` each step. The
/// outcome says whether the image was written, and why not.
pub fn make_disk(
    spec: &DiskRequest,
    input: &DiskInput,
    listener: &dyn DiskListener,
) -> Result<DiskOutcome, DudError> {
    precheck(spec)?;
    let format = spec.format;
    let container = build::Container::from_path(&spec.output);
    let dist = spec.dist.clone();
    let mut targets = installer_targets(
        &spec.installer_kernels,
        &spec.installer_isos,
        spec.anaconda.as_deref(),
        spec.arch.as_deref(),
        format == Format::RedHat,
    )?;
    let mut outcome = DiskOutcome::new(format, spec.output.clone(), &targets);
    let rpm_paths: Vec<PathBuf> = match input {
        DiskInput::Rpms(given) => {
            let found = crate::scan::find_rpms(given)?;
            if found.is_empty() {
                return Err(DudError::Usage(format!(
                    "no RPMs in {}",
                    given
                        .iter()
                        .map(|p| p.display().to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                )));
            }
            found
        }
        DiskInput::Build { from, packages } => {
            let (results, root) = handoff::load(from)?;
            if format == Format::Suse {
                let arches: BTreeSet<&str> =
                    results.cells.iter().map(|c| c.arch.as_str()).collect();
                fill_suse_arch(&mut targets, &arches)?;
            }
            let want: Vec<(String, String)> = targets
                .iter()
                .map(|t| (t.uname_r.clone(), t.arch.clone()))
                .collect();
            let h = handoff::select(&results, &root, &want, format, packages, &|p| {
                crate::rpmpkg::read_header(p)
            })?;
            listener.handoff(&root, &h);
            let files = h.files();
            let refusals = h.refusals.clone();
            outcome.handoff = Some(h);
            outcome.targets = targets.iter().map(TargetView::of).collect();
            if !refusals.is_empty() {
                let why = format!(
                    "refusing to write {}: the build does not have what the installer needs: {}",
                    spec.output.display(),
                    refusals.join("; ")
                );
                outcome.refused = Some(why);
                return Ok(outcome);
            }
            if files.is_empty() {
                outcome.refused = Some(format!(
                    "refusing to write {}: the build has no kernel module package for these installers",
                    spec.output.display()
                ));
                return Ok(outcome);
            }
            files
        }
    };
    let mut read = Vec::with_capacity(rpm_paths.len());
    for p in &rpm_paths {
        read.push(package::read_package(p)?);
    }
    let (pkgs, notes) = package::unique_names(read)?;
    for n in &notes {
        listener.note(&format!("note: {n}"));
    }
    if format == Format::Suse {
        let rpm_arches: BTreeSet<&str> = pkgs
            .iter()
            .map(|p| p.pkg.arch.as_str())
            .filter(|a| *a != "noarch" && *a != "src")
            .collect();
        fill_suse_arch(&mut targets, &rpm_arches)?;
        outcome.targets = targets.iter().map(TargetView::of).collect();
    }
    let (kernel, kernel_note) = kernel_symbols(
        spec.target_symvers.as_deref(),
        &spec.installer_isos,
        &targets,
    )?;
    if let Some(n) = &kernel_note {
        listener.note(n);
    }
    let checks = KabiAliasChecks { kernel };
    let opts = preflight::Options {
        format,
        include_sources: spec.include_srpms,
        pci_ids: spec.pci_ids.clone(),
    };
    let pf = preflight::run(&pkgs, &targets, &opts, &checks);
    outcome.set_preflight(&pkgs, &targets, &pf);
    listener.preflight(&pkgs, &targets, &pf, format);
    if pf.errors() > 0 && !spec.force {
        outcome.refused = Some(
            DudError::Refused {
                path: spec.output.clone(),
                errors: pf.errors(),
            }
            .to_string(),
        );
        return Ok(outcome);
    }
    if pf.errors() > 0 {
        listener.warning(&format!(
            "--force: writing {} despite {} preflight error(s)",
            spec.output.display(),
            pf.errors()
        ));
    }
    let layout = match format {
        Format::RedHat => {
            let arches: BTreeSet<String> = targets.iter().map(|t| t.arch.clone()).collect();
            build::redhat_layout(&pkgs, &arches, spec.include_srpms)
        }
        Format::Suse => {
            let t = &targets[0];
            if targets.iter().any(|x| x.arch != t.arch) {
                return Err(DudError::Usage(
                    "a SUSE disk serves one architecture: build one per --arch".into(),
                ));
            }
            let st = SuseTarget {
                arch: t.arch.clone(),
                dist: dist.unwrap_or_default(),
                uname_r: Some(t.uname_r.clone()),
            };
            build::suse_layout(&pkgs, &st)
        }
    };
    let req = WriteRequest {
        output: spec.output.clone(),
        container,
        label: spec.label.clone(),
        layout,
        force: spec.force,
        epoch: stage::source_date_epoch(),
    };
    build::write(&req)?;
    outcome.written = true;
    listener.written(&req, format);
    Ok(outcome)
}

/// The checks that need no input: run before a long `kmodpack build` so a
/// typo in the disk options fails in a second, not after the matrix.
pub fn precheck(spec: &DiskRequest) -> Result<(), DudError> {
    let format = spec.format;
    let container = build::Container::from_path(&spec.output);
    if format == Format::RedHat && container != Container::Iso {
        return Err(DudError::Usage(format!(
            "{}: a Red Hat driver disk is an ISO image (name it *.iso)",
            spec.output.display()
        )));
    }
    if container == Container::Iso {
        iso::check_label(&spec.label).map_err(DudError::Usage)?;
    }
    for id in &spec.pci_ids {
        crate::alias::PciDevice::parse_ids(id).map_err(|e| {
            DudError::Usage(format!(
                "--pci-id {id}: {e} (expected VVVV:DDDD[:SSSS:SSSS])"
            ))
        })?;
    }
    build::check_output(&spec.output, spec.force)?;
    if spec.installer_kernels.is_empty() && spec.installer_isos.is_empty() {
        return Err(DudError::Usage(
            "no installer target: give --installer-kernel KVER (the installer's full `uname -r`) or --installer-iso ISO".into(),
        ));
    }
    match format {
        Format::Suse => {
            let d = spec.dist.clone().ok_or_else(|| {
                DudError::Usage(
                    "--format suse needs --dist (linuxrc's UpdateDir product, e.g. sles15)".into(),
                )
            })?;
            suse::check_dist(&d).map_err(DudError::Usage)?;
        }
        Format::RedHat => {}
    }
    Ok(())
}

/// SUSE targets typed without an arch take the one arch of the inputs.
fn fill_suse_arch(targets: &mut [Target], arches: &BTreeSet<&str>) -> Result<(), DudError> {
    for t in targets.iter_mut() {
        if t.arch.is_empty() {
            match arches.iter().collect::<Vec<_>>().as_slice() {
                [one] => t.arch = one.to_string(),
                _ => {
                    return Err(DudError::Usage(
                        "give --arch: the RPMs do not name one architecture".into(),
                    ))
                }
            }
        }
    }
    Ok(())
}

/// The installer kernel's symbols for the kABI check: `--target-symvers`,
/// else the kernel-core RPM of the first `--installer-iso` when it carries
/// one. Returns them with a line saying where they came from.
pub fn kernel_symbols(
    given: Option<&Path>,
    isos: &[PathBuf],
    targets: &[Target],
) -> Result<(Option<KernelSymbols>, Option<String>), DudError> {
    if let Some(p) = given {
        let k = crate::kabi::resolve(&p.to_string_lossy())?;
        let note = format!("kABI: checked against {}", k.source);
        return Ok((Some(k), Some(note)));
    }
    for (iso_path, t) in isos.iter().zip(
        targets
            .iter()
            .filter(|t| matches!(t.origin, Origin::InstallerIso(_))),
    ) {
        let tmp = super::scratch_dir(None)?;
        if let Some(rpm) = installer::extract_kernel_rpm(iso_path, &t.uname_r, tmp.path())? {
            let name = rpm
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let k = crate::kabi::resolve(&rpm.to_string_lossy())?;
            let note = format!("kABI: checked against {name} from {}", iso_path.display());
            return Ok((Some(k), Some(note)));
        }
    }
    Ok((None, None))
}

/// The installer targets of typed releases and install ISOs (a typed SUSE
/// release may lack `.arch` when `need_arch_suffix` is false).
pub fn installer_targets(
    kvers: &[String],
    isos: &[PathBuf],
    anaconda: Option<&str>,
    arch: Option<&str>,
    need_arch_suffix: bool,
) -> Result<Vec<Target>, DudError> {
    let mut out = Vec::new();
    for k in kvers {
        let t = match Target::new(k, arch, anaconda, Origin::CommandLine) {
            Ok(t) => t,
            // SUSE releases (`…-default`) carry no `.arch`: the arch comes
            // from the RPMs (build) or the disk's tree (verify).
            Err(_)
                if !need_arch_suffix
                    && arch.is_none()
                    && !k.is_empty()
                    && !k.chars().any(|c| c.is_whitespace() || c.is_control()) =>
            {
                Target {
                    uname_r: k.clone(),
                    arch: String::new(),
                    anaconda: anaconda.map(str::to_string),
                    origin: Origin::CommandLine,
                }
            }
            Err(e) => return Err(e.into()),
        };
        out.push(t);
    }
    for iso_path in isos {
        let found = installer::read_install_iso(iso_path)?;
        let a = anaconda.map(str::to_string).or(found.anaconda.clone());
        let arch = arch.map(str::to_string).or(found.arch.clone());
        let t = Target::new(
            &found.uname_r,
            arch.as_deref(),
            a.as_deref(),
            Origin::InstallerIso(found.source.clone()),
        )?;
        out.push(t);
    }
    Ok(out)
}
