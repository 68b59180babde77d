//! `kmodpack dud build|verify`: driver update disks the installer will
//! actually load, and a reader that says what an existing disk would do.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Subcommand, ValueEnum};

use kmodpack::dud::build::{Container, WriteRequest};
use kmodpack::dud::checks::KabiAliasChecks;
use kmodpack::dud::handoff::Handoff;
use kmodpack::dud::outcome::DiskOutcome;
use kmodpack::dud::package::PackageFacts;
use kmodpack::dud::pipeline::{self, DiskInput, DiskListener, DiskRequest};
use kmodpack::dud::preflight::{Format, Preflight};
use kmodpack::dud::rule::{Rule, Section};
use kmodpack::dud::target::Target;
use kmodpack::dud::{readback, report, verify};

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

impl From<FormatArg> for Format {
    fn from(f: FormatArg) -> Format {
        match f {
            FormatArg::Redhat => Format::RedHat,
            FormatArg::Suse => Format::Suse,
        }
    }
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

/// The preflight as text: targets, per-RPM verdicts, findings (the
/// sections `dud verify` prints too, rendered by the same functions).
fn preflight_text(
    pkgs: &[PackageFacts],
    targets: &[Target],
    pf: &Preflight,
    format: Format,
) -> String {
    [
        report::targets_section(targets, format),
        report::verdicts_section(&report::verdict_rows(pkgs, targets, pf)),
        report::findings_section(&pf.findings),
    ]
    .concat()
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

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The disk pipeline's listener for the terminal: text on stdout (nothing
/// with `--json`, whose document is printed at the end), warnings through
/// the context's listener. The first write error is kept and returned.
struct DiskPrinter<'a> {
    json: bool,
    ctx: &'a Context,
    failed: std::cell::RefCell<Option<std::io::Error>>,
}

impl DiskPrinter<'_> {
    fn say(&self, text: &str) {
        if self.json || self.failed.borrow().is_some() {
            return;
        }
        if let Err(e) = print(text) {
            *self.failed.borrow_mut() = Some(e);
        }
    }
}

impl DiskListener for DiskPrinter<'_> {
    fn handoff(&self, root: &std::path::Path, h: &Handoff) {
        self.say(&format!("from build {}:\n", root.display()));
        let mut text = h.lines().join("\n");
        text.push('\n');
        self.say(&text);
    }
    fn note(&self, message: &str) {
        self.say(&format!("{message}\n"));
    }
    fn warning(&self, message: &str) {
        kmodpack::diag::Listener::warning(&self.ctx.listener, message);
    }
    fn preflight(&self, pkgs: &[PackageFacts], targets: &[Target], pf: &Preflight, format: Format) {
        self.say(&preflight_text(pkgs, targets, pf, format));
    }
    fn written(&self, req: &WriteRequest, format: Format) {
        self.say(&format!(
            "wrote {} ({}; read back and checked): {}\n",
            req.output.display(),
            if req.container == Container::Iso {
                format!("ISO 9660 label {}, Rock Ridge + Joliet", req.label)
            } else {
                "gzip newc cpio".to_string()
            },
            contents_summary(&req.layout)
        ));
        self.say(&usage_hints(format, &req.output, &req.label, req.container));
    }
}

/// Runs the disk pipeline for `dud build` and `build --dud`, showing its
/// steps on stdout unless `json`.
pub fn make_disk(
    spec: &DiskRequest,
    json: bool,
    input: &DiskInput,
    ctx: &Context,
) -> Result<DiskOutcome, BoxError> {
    let printer = DiskPrinter {
        json,
        ctx,
        failed: std::cell::RefCell::new(None),
    };
    let outcome = pipeline::make_disk(spec, input, &printer)?;
    if let Some(e) = printer.failed.into_inner() {
        return Err(e.into());
    }
    Ok(outcome)
}

fn build(a: BuildArgs, ctx: &Context) -> CliResult {
    let spec = DiskRequest {
        format: a.format.into(),
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
    };
    let input = match &a.from_build {
        Some(from) => DiskInput::Build {
            from: from.clone(),
            packages: a.packages.clone(),
        },
        None => DiskInput::Rpms(a.rpms.clone()),
    };
    let outcome = make_disk(&spec, a.json, &input, ctx)?;
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
    let targets = pipeline::installer_targets(
        &a.installer.kernels.installer_kernel,
        &a.installer.kernels.installer_iso,
        a.installer.kernels.anaconda_version.as_deref(),
        a.installer.arch.as_deref(),
        false,
    )?;
    let (kernel, kernel_note) = pipeline::kernel_symbols(
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
    s.push_str(&report::targets_section(&targets, format));
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
    s.push_str(&report::verdicts_section(&rep.verdicts));
    let mut nothing = false;
    for (t, mods) in &rep.loads {
        if mods.is_empty() {
            nothing = true;
            s.push_str(&format!("would load on {t}: NOTHING\n"));
        } else {
            s.push_str(&format!("would load on {t}: {}\n", mods.join(", ")));
        }
    }
    s.push_str(&report::findings_section(&rep.findings));
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
            "verdicts": rep.verdicts,
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
