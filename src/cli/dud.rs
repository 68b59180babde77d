//! `kmodpack dud build|verify`: driver update disks the installer will
//! actually load, and a reader that says what an existing disk would do.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Subcommand, ValueEnum};

use kmodpack::dud::build::{self as dudbuild, Container, WriteRequest};
use kmodpack::dud::checks::KabiAliasChecks;
use kmodpack::dud::outcome::DiskOutcome;
use kmodpack::dud::package::{self, PackageFacts};
use kmodpack::dud::preflight::{self, Format, Preflight};
use kmodpack::dud::rule::{Rule, Section};
use kmodpack::dud::suse::{self, SuseTarget};
use kmodpack::dud::target::{Origin, Target};
use kmodpack::dud::{handoff, installer, iso, readback, stage, verify, DudError};

use super::{print, CliResult, Context};

/// Arguments of `kmodpack dud`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: DudCommand,
}

#[derive(Debug, Subcommand)]
enum DudCommand {
    /// Build a driver update disk from kmod RPMs, refusing disks the installer would ignore.
    ///
    /// Before anything is written, every RPM is evaluated the way anaconda's dd_list does
    /// (Provides: kernel-modules OP VER against the installer's full `uname -r`), and the
    /// module paths, compression, payload, arch, signatures and Requires are checked.
    /// Errors refuse the build (exit 2) unless --force; the image is written to a temporary
    /// file beside OUTPUT and renamed at the end.
    Build(BuildArgs),
    /// Read an existing disk (ours or anyone's) and report what the installer would load.
    ///
    /// Checks the label, Rock Ridge, the layout, the repodata against the RPMs (checksums
    /// and sizes) and re-runs the preflight. Exit 0 = would load, 1 = problems found or
    /// not checked (a Red Hat disk without an installer kernel: what would load is unknown).
    Verify(VerifyArgs),
    /// Explain a checklist code that `dud build` or `dud verify` printed (as `rustc --explain`).
    ///
    /// Prints what the rule demands and what the installer does when it is broken.
    /// `--list` lists every code with its section and default severity.
    Explain(ExplainArgs),
}

#[derive(Debug, clap::Args)]
struct ExplainArgs {
    /// The code in brackets in a finding, e.g. B4 (case does not matter).
    #[arg(required_unless_present = "list", conflicts_with = "list")]
    code: Option<String>,
    /// List every code instead.
    #[arg(long)]
    list: bool,
}

/// `--format` (`--dud-format` of `kmodpack build`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    /// anaconda (RHEL, CentOS, Rocky, Alma, Fedora): rhdd3 + rpms/<arch>/ + repodata.
    Redhat,
    /// SUSE linuxrc: linux/suse/<arch>-<dist>/ with install/, modules/, dud.config.
    Suse,
}

#[derive(Debug, clap::Args)]
struct BuildArgs {
    /// Disk format.
    #[arg(long, value_enum, default_value_t = FormatArg::Redhat)]
    format: FormatArg,
    /// Output image: `*.iso` (ISO 9660), or for --format suse also `*.cpio.gz`/`*.dud`
    /// (gzip newc cpio, appendable to an initrd). Its directory must exist.
    #[arg(short, long, value_name = "OUT")]
    output: PathBuf,
    #[command(flatten)]
    installer: DiskInstaller,
    /// A PCI device (VVVV:DDDD[:SSSS:SSSS]) that some module on the disk must claim. Repeatable.
    #[arg(long = "pci-id", value_name = "VVVV:DDDD")]
    pci_id: Vec<String>,
    /// ISO volume label (exact case, at most 32 characters). OEMDRV is auto-loaded by
    /// anaconda and found by SUSE's OEMDRV method.
    #[arg(long, default_value = "OEMDRV")]
    label: String,
    /// SUSE product for `linux/suse/<arch>-<dist>` (must equal linuxrc's UpdateDir), e.g. sles15.
    #[arg(long, value_name = "DIST")]
    dist: Option<String>,
    /// Copy source RPMs into `src/` (Red Hat; the installer ignores them).
    #[arg(long = "include-srpms")]
    include_srpms: bool,
    /// Write even if the preflight found errors, and replace an existing output.
    #[arg(long)]
    force: bool,
    /// Take the RPMs from a `kmodpack build` result directory (or its report.json):
    /// per installer target and package, the kmods of the cell built for its arch,
    /// flavor and kernel (else the newest older kernel) plus the noarch firmware they
    /// require; SRPMs, -devel, debuginfo and other cells stay behind, each listed
    /// with the reason. Refuses when a cell the installer needs failed.
    #[arg(long = "from-build", value_name = "RESULTDIR", conflicts_with = "rpms")]
    from_build: Option<PathBuf>,
    /// With --from-build: only these packages of the build (repeatable; default all): a
    /// description's name takes all its kmods; a binary kmod package's name (one of several a
    /// description builds) takes it and the kmods of the same build it requires.
    #[arg(long = "package", value_name = "NAME", requires = "from_build")]
    packages: Vec<String>,
    /// Print the outcome as JSON on stdout (targets, RPMs taken, verdicts, findings).
    #[arg(long)]
    json: bool,
    /// Kmod RPMs (and noarch firmware RPMs) to put on the disk, or directories of
    /// them (SRPMs, -devel and debuginfo packages found there are left out with a note).
    #[arg(value_name = "RPM|DIR", required_unless_present = "from_build")]
    rpms: Vec<PathBuf>,
}

/// Who will read the disk: the installer(s) the preflight evaluates against.
/// Shared by `dud build`, `dud verify` and `build --dud`.
#[derive(Debug, clap::Args)]
pub(crate) struct InstallerArgs {
    /// Installer kernel release, the full `uname -r` of the installer
    /// (e.g. 5.14.0-503.14.1.el9_5.x86_64). Repeat for several installers.
    #[arg(long = "installer-kernel", value_name = "KVER")]
    pub(crate) installer_kernel: Vec<String>,
    /// Read the installer kernel release (and anaconda version where the ISO carries an
    /// anaconda RPM) from an install ISO (images/pxeboot/vmlinuz) instead of trusting a typed value.
    #[arg(long = "installer-iso", value_name = "ISO")]
    pub(crate) installer_iso: Vec<PathBuf>,
    /// anaconda version of the installer (e.g. 34.25.5.11): gates compressed-module and
    /// zstd-payload support.
    #[arg(long = "anaconda-version", value_name = "V")]
    pub(crate) anaconda_version: Option<String>,
    /// The installer kernel's symbols for the kABI check, as `kabi check --kernel` takes
    /// them: a Module.symvers/symvers-KVER.gz file, a headers directory, /lib/modules/KVER
    /// or a kernel RPM. Every module's imports and CRCs are checked as the loader would.
    #[arg(long = "target-symvers", value_name = "FILE")]
    pub(crate) target_symvers: Option<PathBuf>,
}

/// The installers and their arch: `dud build` and `dud verify` (in `build`,
/// `--arch` is the build matrix's, and the arch comes from the release).
#[derive(Debug, clap::Args)]
struct DiskInstaller {
    #[command(flatten)]
    kernels: InstallerArgs,
    /// Installer architecture (`uname -m`) when the kernel release has no `.arch` suffix.
    #[arg(long, value_name = "ARCH")]
    arch: Option<String>,
}

#[derive(Debug, clap::Args)]
struct VerifyArgs {
    /// The disk: an ISO image, a cpio(.gz) archive or an unpacked directory.
    #[arg(value_name = "IMAGE")]
    image: PathBuf,
    #[command(flatten)]
    installer: DiskInstaller,
    /// Print the result as JSON on stdout (container, trees, verdicts, what would load,
    /// findings, what was not checked, result).
    #[arg(long)]
    json: bool,
}

/// The installer kernel's symbols for the kABI check: `--target-symvers`,
/// else the kernel-core RPM of the first `--installer-iso` when it carries
/// one. Returns them with a line saying where they came from.
fn kernel_symbols(
    given: Option<&std::path::Path>,
    isos: &[PathBuf],
    targets: &[Target],
) -> Result<
    (Option<kmodpack::kabi::KernelSymbols>, Option<String>),
    Box<dyn std::error::Error + Send + Sync>,
> {
    if let Some(p) = given {
        let k = kmodpack::kabi::resolve(&p.to_string_lossy())?;
        let note = format!("kABI: checked against {}", k.source);
        return Ok((Some(k), Some(note)));
    }
    for (iso_path, t) in isos.iter().zip(
        targets
            .iter()
            .filter(|t| matches!(t.origin, Origin::InstallerIso(_))),
    ) {
        let tmp = tempfile::tempdir()?;
        let _on_signal = kmodpack::cleanup::register_dir(tmp.path());
        if let Some(rpm) = installer::extract_kernel_rpm(iso_path, &t.uname_r, tmp.path())? {
            let name = rpm
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let k = kmodpack::kabi::resolve(&rpm.to_string_lossy())?;
            let note = format!("kABI: checked against {name} from {}", iso_path.display());
            return Ok((Some(k), Some(note)));
        }
    }
    Ok((None, None))
}

/// Runs `kmodpack dud`.
pub fn run(args: Args, ctx: &Context) -> CliResult {
    match args.command {
        DudCommand::Build(a) => build(a, ctx),
        DudCommand::Verify(a) => verify(a, ctx),
        DudCommand::Explain(a) => explain(&a),
    }
}

/// `dud explain`: one rule in full, or the list of all.
fn explain(a: &ExplainArgs) -> CliResult {
    let text = match &a.code {
        Some(code) if !a.list => {
            let rule: Rule = code.parse()?;
            format!(
                "{} ({}, {}): {}\n\n{}\n",
                rule,
                rule.section().title(),
                rule.severity(),
                rule.title(),
                wrap(rule.text(), 78)
            )
        }
        _ => {
            let mut s = String::new();
            for section in Section::ALL {
                let rules: Vec<&Rule> = Rule::ALL
                    .iter()
                    .filter(|r| r.section() == section)
                    .collect();
                if rules.is_empty() {
                    continue;
                }
                s.push_str(&format!("{}: {}\n", section.letter(), section.title()));
                for r in rules {
                    s.push_str(&format!(
                        "  {:<4}{:<9}{}\n",
                        r.code(),
                        r.severity().to_string(),
                        r.title()
                    ));
                }
            }
            s
        }
    };
    print(&text)?;
    Ok(ExitCode::SUCCESS)
}

/// Greedy word wrap at `width` columns (a word longer than that stays whole).
fn wrap(text: &str, width: usize) -> String {
    let mut out = String::new();
    let mut line = 0;
    for word in text.split_whitespace() {
        if line > 0 && line + 1 + word.len() > width {
            out.push('\n');
            line = 0;
        } else if line > 0 {
            out.push(' ');
            line += 1;
        }
        out.push_str(word);
        line += word.len();
    }
    out
}

fn targets(
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

/// One target line; a SUSE installer has no anaconda, so none is mentioned.
fn describe(t: &Target, format: Format) -> String {
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

/// The preflight as text: targets, per-RPM verdicts, findings.
pub fn report(pkgs: &[PackageFacts], targets: &[Target], pf: &Preflight, format: Format) -> String {
    let mut s = String::new();
    s.push_str("installer targets:\n");
    for t in targets {
        s.push_str(&format!("  {}\n", describe(t, format)));
    }
    if !pf.verdicts.is_empty() {
        s.push_str("anaconda dd_list verdicts:\n");
        for (pi, ti, v) in &pf.verdicts {
            s.push_str(&format!(
                "  {:<8}  {}  on {}: {}\n",
                if v.accepted() { "ACCEPTED" } else { "IGNORED" },
                pkgs[*pi].file_name(),
                targets[*ti].uname_r,
                v.reason()
            ));
        }
    }
    if !pf.findings.is_empty() {
        s.push_str("findings:\n");
        for f in &pf.findings {
            s.push_str(&format!("  {f}\n"));
        }
    }
    s
}

/// `rpms/x86_64/: 2 RPMs + repodata` (per directory holding RPMs or modules).
fn contents_summary(layout: &kmodpack::dud::layout::Layout) -> String {
    let mut dirs: std::collections::BTreeMap<String, (usize, usize)> =
        std::collections::BTreeMap::new();
    for f in &layout.files {
        let (dir, name) = f.path.rsplit_once('/').unwrap_or(("", f.path.as_str()));
        let e = dirs.entry(format!("{dir}/")).or_default();
        if name.ends_with(".rpm") {
            e.0 += 1;
        } else if kmodpack::module::is_module_path(std::path::Path::new(name)) {
            e.1 += 1;
        }
    }
    let mut parts = Vec::new();
    for (dir, (rpms, mods)) in dirs {
        let repo = layout.repos.iter().any(|r| format!("{r}/") == dir);
        if rpms > 0 {
            parts.push(format!(
                "{dir} {rpms} RPM{}{}",
                if rpms == 1 { "" } else { "s" },
                if repo { " + repodata" } else { "" }
            ));
        }
        if mods > 0 {
            parts.push(format!(
                "{dir} {mods} module{}",
                if mods == 1 { "" } else { "s" }
            ));
        }
    }
    parts.join(", ")
}

/// What to type at the installer for this disk.
pub fn usage_hints(
    format: Format,
    output: &std::path::Path,
    label: &str,
    container: Container,
) -> String {
    let name = output
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    match format {
        Format::RedHat => {
            let mut s = String::from("use it at the installer:\n");
            if label == "OEMDRV" {
                s.push_str("  attach it (USB stick, virtual CD) with label OEMDRV: anaconda loads it without any boot option\n");
            }
            s.push_str(&format!(
                "  boot option:  inst.dd=hd:LABEL={label}   (waits for the device; never `dd=` on RHEL 9+)\n\
                 \x20 interactive:  inst.dd   (menu; disables OEMDRV auto-load)\n\
                 \x20 network:      inst.dd=https://HOST/PATH/{name}   (the URL must end in .iso)\n\
                 \x20 kickstart:    driverdisk LABEL={label}   or   driverdisk --source=https://HOST/PATH/{name}\n"
            ));
            s
        }
        Format::Suse => match container {
            Container::CpioGz => format!(
                "use it at the installer:\n  boot option:  dud=https://HOST/PATH/{name}   (Agama: inst.dud=https://HOST/PATH/{name})\n\
                 \x20 or append it to the installer initrd:  cat {name} >> initrd\n"
            ),
            Container::Iso => format!(
                "use it at the installer:\n  attach it with label {label} (YaST OEMDRV method), or boot with dud=https://HOST/PATH/{name}\n"
            ),
        },
    }
}

/// Everything that decides a disk, whoever asks for it (`dud build`, or
/// `kmodpack build --dud` after its matrix).
#[derive(Debug, Clone)]
pub struct DiskSpec {
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
    /// JSON on stdout instead of text.
    pub json: bool,
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

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Checks the request, selects and reads the RPMs, runs the preflight and
/// writes the disk unless it is refused. Text goes to stdout unless
/// `spec.json`; the outcome says whether the image was written.
pub fn make_disk(
    spec: &DiskSpec,
    input: &DiskInput,
    ctx: &Context,
) -> Result<DiskOutcome, BoxError> {
    let say = |t: &str| -> std::io::Result<()> {
        if spec.json {
            Ok(())
        } else {
            print(t)
        }
    };
    precheck(spec)?;
    let format = spec.format;
    let container = dudbuild::Container::from_path(&spec.output);
    let dist = spec.dist.clone();
    let mut targets = targets(
        &spec.installer_kernels,
        &spec.installer_isos,
        spec.anaconda.as_deref(),
        spec.arch.as_deref(),
        format == Format::RedHat,
    )?;
    let mut outcome = DiskOutcome::new(format, spec.output.clone(), &targets);
    let rpm_paths: Vec<PathBuf> = match input {
        DiskInput::Rpms(given) => {
            let found = kmodpack::scan::find_rpms(given)?;
            if found.is_empty() {
                return Err(DudError::Usage(format!(
                    "no RPMs in {}",
                    given
                        .iter()
                        .map(|p| p.display().to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
                .into());
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
                kmodpack::rpmpkg::read_header(p)
            })?;
            say(&format!("from build {}:\n", root.display()))?;
            let mut text = h.lines().join("\n");
            text.push('\n');
            say(&text)?;
            let files = h.files();
            let refusals = h.refusals.clone();
            outcome.handoff = Some(h);
            outcome.targets = targets
                .iter()
                .map(kmodpack::dud::outcome::TargetView::of)
                .collect();
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
        say(&format!("note: {n}\n"))?;
    }
    if format == Format::Suse {
        let rpm_arches: BTreeSet<&str> = pkgs
            .iter()
            .map(|p| p.pkg.arch.as_str())
            .filter(|a| *a != "noarch" && *a != "src")
            .collect();
        fill_suse_arch(&mut targets, &rpm_arches)?;
        outcome.targets = targets
            .iter()
            .map(kmodpack::dud::outcome::TargetView::of)
            .collect();
    }
    let (kernel, kernel_note) = kernel_symbols(
        spec.target_symvers.as_deref(),
        &spec.installer_isos,
        &targets,
    )?;
    if let Some(n) = &kernel_note {
        say(&format!("{n}\n"))?;
    }
    let checks = KabiAliasChecks { kernel };
    let opts = preflight::Options {
        format,
        include_sources: spec.include_srpms,
        pci_ids: spec.pci_ids.clone(),
    };
    let pf = preflight::run(&pkgs, &targets, &opts, &checks);
    outcome.set_preflight(&pkgs, &targets, &pf);
    say(&report(&pkgs, &targets, &pf, format))?;
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
        kmodpack::diag::Listener::warning(
            &ctx.listener,
            &format!(
                "--force: writing {} despite {} preflight error(s)",
                spec.output.display(),
                pf.errors()
            ),
        );
    }
    let layout = match format {
        Format::RedHat => {
            let arches: BTreeSet<String> = targets.iter().map(|t| t.arch.clone()).collect();
            dudbuild::redhat_layout(&pkgs, &arches, spec.include_srpms)
        }
        Format::Suse => {
            let t = &targets[0];
            if targets.iter().any(|x| x.arch != t.arch) {
                return Err(DudError::Usage(
                    "a SUSE disk serves one architecture: build one per --arch".into(),
                )
                .into());
            }
            let st = SuseTarget {
                arch: t.arch.clone(),
                dist: dist.unwrap_or_default(),
                uname_r: Some(t.uname_r.clone()),
            };
            dudbuild::suse_layout(&pkgs, &st)
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
    dudbuild::write(&req)?;
    outcome.written = true;
    say(&format!(
        "wrote {} ({}; read back and checked): {}\n",
        spec.output.display(),
        if container == Container::Iso {
            format!("ISO 9660 label {}, Rock Ridge + Joliet", spec.label)
        } else {
            "gzip newc cpio".to_string()
        },
        contents_summary(&req.layout)
    ))?;
    say(&usage_hints(format, &spec.output, &spec.label, container))?;
    Ok(outcome)
}

/// The checks that need no input: run before a long `kmodpack build` so a
/// typo in the disk options fails in a second, not after the matrix.
pub fn precheck(spec: &DiskSpec) -> Result<(), BoxError> {
    let format = spec.format;
    let container = dudbuild::Container::from_path(&spec.output);
    if format == Format::RedHat && container != Container::Iso {
        return Err(DudError::Usage(format!(
            "{}: a Red Hat driver disk is an ISO image (name it *.iso)",
            spec.output.display()
        ))
        .into());
    }
    if container == Container::Iso {
        iso::check_label(&spec.label).map_err(DudError::Usage)?;
    }
    for id in &spec.pci_ids {
        kmodpack::alias::PciDevice::parse_ids(id).map_err(|e| {
            DudError::Usage(format!(
                "--pci-id {id}: {e} (expected VVVV:DDDD[:SSSS:SSSS])"
            ))
        })?;
    }
    dudbuild::check_output(&spec.output, spec.force)?;
    if spec.installer_kernels.is_empty() && spec.installer_isos.is_empty() {
        return Err(DudError::Usage(
            "no installer target: give --installer-kernel KVER (the installer's full `uname -r`) or --installer-iso ISO".into(),
        )
        .into());
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

fn build(a: BuildArgs, ctx: &Context) -> CliResult {
    let spec = DiskSpec {
        format: match a.format {
            FormatArg::Redhat => Format::RedHat,
            FormatArg::Suse => Format::Suse,
        },
        output: a.output.clone(),
        label: a.label.clone(),
        dist: a.dist.clone(),
        include_srpms: a.include_srpms,
        force: a.force,
        pci_ids: a.pci_id.clone(),
        installer_kernels: a.installer.kernels.installer_kernel.clone(),
        installer_isos: a.installer.kernels.installer_iso.clone(),
        anaconda: a.installer.kernels.anaconda_version.clone(),
        arch: a.installer.arch.clone(),
        target_symvers: a.installer.kernels.target_symvers.clone(),
        json: a.json,
    };
    let input = match &a.from_build {
        Some(from) => DiskInput::Build {
            from: from.clone(),
            packages: a.packages.clone(),
        },
        None => DiskInput::Rpms(a.rpms.clone()),
    };
    let outcome = make_disk(&spec, &input, ctx)?;
    if a.json {
        print(&outcome.to_json())?;
    }
    match &outcome.refused {
        None => Ok(ExitCode::SUCCESS),
        Some(why) => Err(why.clone().into()),
    }
}

fn verify(a: VerifyArgs, _ctx: &Context) -> CliResult {
    // The disk's format is known only once it is read: a SUSE release
    // (`…-default`) has no `.arch`, and a Red Hat tree flags one without it.
    let targets = targets(
        &a.installer.kernels.installer_kernel,
        &a.installer.kernels.installer_iso,
        a.installer.kernels.anaconda_version.as_deref(),
        a.installer.arch.as_deref(),
        false,
    )?;
    let (kernel, kernel_note) = kernel_symbols(
        a.installer.kernels.target_symvers.as_deref(),
        &a.installer.kernels.installer_iso,
        &targets,
    )?;
    let checks = KabiAliasChecks { kernel };
    let rep = readback::verify_image(&a.image, &targets, &checks)?;
    let mut s = String::new();
    match &rep.kind {
        verify::Kind::Iso(f) => s.push_str(&format!(
            "disk: ISO 9660, label {}, Rock Ridge {}, Joliet {}\n",
            f.label,
            if f.rock_ridge { "yes" } else { "NO" },
            if f.joliet { "yes" } else { "no" }
        )),
        verify::Kind::Cpio => s.push_str("disk: cpio archive\n"),
        verify::Kind::Directory => s.push_str("disk: directory\n"),
    }
    let suse_only = !rep.trees.is_empty()
        && rep
            .trees
            .iter()
            .all(|t| t.starts_with("linux/suse/") || t.contains("/linux/suse/"));
    let format = if suse_only {
        Format::Suse
    } else {
        Format::RedHat
    };
    if !targets.is_empty() {
        s.push_str("installer targets:\n");
        for t in &targets {
            s.push_str(&format!("  {}\n", describe(t, format)));
        }
    }
    if let Some(n) = &kernel_note {
        s.push_str(&format!("{n}\n"));
    }
    s.push_str(&format!(
        "driver update trees: {}\n",
        if rep.trees.is_empty() {
            "none".to_string()
        } else {
            rep.trees.join(", ")
        }
    ));
    if !rep.verdicts.is_empty() {
        s.push_str("anaconda dd_list verdicts:\n");
        for v in &rep.verdicts {
            s.push_str(&format!(
                "  {:<8}  {}  on {}: {}\n",
                if v.accepted { "ACCEPTED" } else { "IGNORED" },
                v.rpm,
                v.target,
                v.reason
            ));
        }
    }
    let mut nothing = false;
    for (t, mods) in &rep.loads {
        if mods.is_empty() {
            nothing = true;
            s.push_str(&format!("would load on {t}: NOTHING\n"));
        } else {
            s.push_str(&format!("would load on {t}: {}\n", mods.join(", ")));
        }
    }
    if !rep.findings.is_empty() {
        s.push_str("findings:\n");
        for f in &rep.findings {
            s.push_str(&format!("  {f}\n"));
        }
    }
    for u in &rep.unchecked {
        s.push_str(&format!("not checked: {u}\n"));
    }
    let ok = rep.errors() == 0 && !nothing && rep.unchecked.is_empty();
    let result = if ok {
        "OK".to_string()
    } else if rep.errors() == 0 && !nothing {
        "NOT CHECKED (see above: no verdict on what the installer would load)".to_string()
    } else {
        format!(
            "{} error(s){}",
            rep.errors(),
            if nothing { ", nothing would load" } else { "" }
        )
    };
    s.push_str(&format!("result: {result}\n"));
    if a.json {
        let kind = match &rep.kind {
            verify::Kind::Iso(f) => serde_json::json!({
                "type": "iso", "label": f.label, "rock_ridge": f.rock_ridge, "joliet": f.joliet
            }),
            verify::Kind::Cpio => serde_json::json!({"type": "cpio"}),
            verify::Kind::Directory => serde_json::json!({"type": "directory"}),
        };
        let j = serde_json::json!({
            "image": a.image,
            "disk": kind,
            "targets": targets.iter().map(kmodpack::dud::outcome::TargetView::of).collect::<Vec<_>>(),
            "kabi": kernel_note,
            "trees": rep.trees,
            "verdicts": rep.verdicts.iter().map(|v| serde_json::json!({
                "rpm": v.rpm, "target": v.target, "accepted": v.accepted, "reason": v.reason
            })).collect::<Vec<_>>(),
            "loads": rep.loads.iter().map(|(t, m)| serde_json::json!({"target": t, "modules": m})).collect::<Vec<_>>(),
            "findings": rep.findings,
            "unchecked": rep.unchecked,
            "errors": rep.errors(),
            "ok": ok,
            "result": result,
        });
        let mut text = serde_json::to_string_pretty(&j).map_err(|e| e.to_string())?;
        text.push('\n');
        print(&text)?;
    } else {
        print(&s)?;
    }
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
