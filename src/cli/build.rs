//! `kmodpack build`: SRPMs and binary RPMs for every kernel × arch × flavor.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use kmodpack::build::pipeline::{build_matrix, BuildRequest};
use kmodpack::build::progress::Observer;
use kmodpack::build::{Cell, CellReport, CellStatus, Report};
use kmodpack::diag::Listener;
use kmodpack::dud::pipeline::{DiskInput, DiskRequest};

use super::dud::{make_disk, FormatArg, InstallerArgs};
use super::progress::for_stderr;
use super::{CliResult, Context};

/// Build binary and source RPMs over a kernel × arch × flavor matrix.
///
/// Each INPUT is a package description (`.yaml`) or a spec file (`.spec`).
/// Every cell (package × kernel × arch × flavor) gets its own private rpm
/// tree: the SRPM is made first, then the binary RPMs are rebuilt from it, so
/// the SRPM is proven self-contained. Importer kmods are built after the
/// exporters they depend on, against the exporters' freshly built modules.
/// Results go to RESULTDIR/<package>/<kernel>/<arch>[/<flavor>]/ with the
/// full build log; a JSON report describes every cell. The exit status is 0
/// when every cell built, 1 when any cell failed or was skipped.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Spec-file inputs see the cell as rpm macros: %{kmodpack_kver}, %{kmodpack_arch}, \
%{kmodpack_flavor} (written into the SRPM), and, for the local build only, %{kmodpack_kdir} (headers), \
%{kmodpack_extra_symbols} (exporters' Module.symvers), %{kmodpack_sign_key}, %{kmodpack_sign_cert}, \
%{kmodpack_sign_hash}, %{kmodpack_sign_file} and %{_kmodpack_bin} (this binary, for the dependency generator). \
kmodpack's dependency generator is registered with --define (never --load, which --target drops) and every \
built RPM shipping modules is checked for its kmod()/ksym()/kernel() lines.",
    // The installer flags (shared with `dud build`/`dud verify`) only mean
    // something with --dud.
    mut_group("InstallerArgs", |g| g.requires("dud"))
)]
pub struct Args {
    /// Package descriptions (`*.yaml`) or spec files (`*.spec`), in any order.
    #[arg(required = true, value_name = "INPUT")]
    inputs: Vec<PathBuf>,

    /// Target kernel: a release (`5.14.0-503.11.1.el9_5.x86_64`), a headers
    /// directory (its release is read from include/generated/utsrelease.h), or
    /// RELEASE=DIR to target RELEASE while compiling against DIR. Repeatable.
    /// A release may be given with or without its `.arch` (`…el9_5` and
    /// `…el9_5.x86_64` are the same kernel; specs see `%{kmodpack_kver}` with
    /// the arch; a SUSE `uname -r` such as `5.14.21-150500.55.83-default`
    /// picks that flavor of a description's kernel). Descriptions default to the kernels they list; a release a
    /// description does not list is added to it (new Fedora kernels need no
    /// edit); spec files need at least one.
    #[arg(long = "kernel", value_name = "KVER|DIR|KVER=DIR")]
    kernels: Vec<String>,

    /// Target architecture (rpm name). Repeatable. Default: the description's
    /// arches, or this machine's arch for spec files.
    #[arg(long = "arch", value_name = "ARCH")]
    arches: Vec<String>,

    /// Kernel flavor for spec files (`%{kmodpack_flavor}`). Repeatable.
    #[arg(long = "flavor", value_name = "FLAVOR")]
    flavors: Vec<String>,

    /// Tool that builds the binary RPMs.
    #[arg(long, value_enum, default_value_t = BackendArg::Rpmbuild)]
    backend: BackendArg,

    /// mock config (`-r`), e.g. `rhel-9-{arch}` or a .cfg path; `{arch}` is
    /// replaced by each cell's arch. Required with --backend mock.
    #[arg(long, value_name = "CFG")]
    mock_config: Option<String>,

    /// Extra argument passed to every mock call (repeatable), e.g. `--mock-arg=--no-cleanup-after`.
    #[arg(long, value_name = "ARG", allow_hyphen_values = true)]
    mock_arg: Vec<String>,

    /// Where mock chroots get kmodpack (every generated spec has
    /// `BuildRequires: kmodpack`): by default this binary, packaged as an RPM
    /// into RESULTDIR/kmodpack-repo and offered with `--addrepo` (use the
    /// portable binary for chroots older than this machine). DIR: a
    /// createrepo_c'd directory of kmodpack RPMs instead (e.g. `make rpm`'s,
    /// for other arches); `none`: the mock config's repos provide kmodpack.
    #[arg(long, value_name = "DIR|none")]
    kmodpack_repo: Option<PathBuf>,

    /// Where results go. Must not exist or be empty.
    #[arg(long, value_name = "DIR", default_value = "kmodpack-results")]
    resultdir: PathBuf,

    /// Write the JSON report here (default: RESULTDIR/report.json).
    #[arg(long, value_name = "FILE.json")]
    report: Option<PathBuf>,

    /// Cells built at the same time (default: number of CPUs).
    #[arg(short = 'j', long = "jobs", value_name = "N")]
    jobs: Option<usize>,

    /// Only make self-contained SRPMs (no host paths in them), e.g. for
    /// Copr, Koji or OBS to rebuild.
    #[arg(long)]
    srpm_only: bool,

    /// Pass --nodeps to rpmbuild (BuildRequires not checked). Added
    /// automatically, with a note, when this machine's rpm database is not
    /// the package database (Debian/Ubuntu), since kernel-devel can never be
    /// found there.
    #[arg(long, conflicts_with = "check_builddeps")]
    nodeps: bool,

    /// Never add --nodeps automatically: let rpmbuild check BuildRequires.
    #[arg(long)]
    check_builddeps: bool,

    /// Let the real ~/.rpmmacros take part (by default HOME is a private
    /// empty directory, so personal macros cannot change the results).
    #[arg(long)]
    user_macros: bool,

    /// Extra rpm macro for every build, as 'NAME VALUE'. Repeatable.
    /// `kmodpack_sign_key` and `kmodpack_sign_cert` (with `kmodpack_sign_hash`)
    /// are taken as --sign-key/--sign-cert (--sign-hash).
    #[arg(long = "define", short = 'D', value_name = "'NAME VALUE'")]
    defines: Vec<String>,

    /// Sign every module with this private key (PEM path or PKCS#11 URI);
    /// needs --sign-cert. Overrides the description's signing section.
    #[arg(long, value_name = "KEY", requires = "sign_cert")]
    sign_key: Option<String>,

    /// X.509 certificate of the signing key (PEM or DER).
    #[arg(long, value_name = "CERT", requires = "sign_key")]
    sign_cert: Option<PathBuf>,

    /// Signature hash algorithm.
    #[arg(long, value_name = "ALGO", default_value = "sha256")]
    sign_hash: String,

    /// Turn a switch of the spec on, as `rpmbuild --with SWITCH` (a
    /// description's `switches[]`; `%bcond_with` in a spec). Repeatable.
    #[arg(long = "with", value_name = "SWITCH")]
    with: Vec<String>,

    /// Turn a switch off, as `rpmbuild --without SWITCH`: `--without zfs`
    /// drops a package of `switches`, `--without sign` builds unsigned
    /// modules without needing the description's key. Repeatable.
    #[arg(long = "without", value_name = "SWITCH")]
    without: Vec<String>,

    /// sign-file program (default: the kernel headers' scripts/sign-file).
    #[arg(long, value_name = "PATH")]
    sign_file: Option<PathBuf>,

    /// Directory whose templates replace the built-in ones (descriptions).
    #[arg(long, value_name = "DIR")]
    template_dir: Option<PathBuf>,

    /// Directory holding the sources of spec-file inputs (default: the spec's directory).
    #[arg(long, value_name = "DIR")]
    sources: Option<PathBuf>,

    /// Timestamp for reproducible builds (default: $SOURCE_DATE_EPOCH, else the
    /// newest changelog date of the first input, else the inputs' newest mtime).
    #[arg(long, value_name = "SECONDS")]
    source_date_epoch: Option<u64>,

    /// Keep the scratch rpm trees (their paths are written to the build logs).
    #[arg(long)]
    keep_work: bool,

    /// No progress lines.
    #[arg(short, long)]
    quiet: bool,

    /// After the build, assemble a driver update disk from its results (as
    /// `kmodpack dud build --from-build RESULTDIR` does) and check it; the
    /// preflight findings go into the JSON report under `dud`. Needs
    /// --installer-kernel or --installer-iso.
    #[arg(long, value_name = "OUT.iso", help_heading = "Driver update disk")]
    dud: Option<PathBuf>,

    /// Disk format (with --dud).
    #[arg(long = "dud-format", value_enum, default_value_t = FormatArg::Redhat, requires = "dud", help_heading = "Driver update disk")]
    dud_format: FormatArg,

    /// The installers the disk is for (with --dud); the installer's arch
    /// comes from each release's `.arch` suffix.
    #[command(flatten, next_help_heading = "Driver update disk")]
    installer: InstallerArgs,

    /// SUSE product for `linux/suse/<arch>-<dist>` (with --dud-format suse), e.g. sles15.
    #[arg(
        long = "dud-dist",
        value_name = "DIST",
        requires = "dud",
        help_heading = "Driver update disk"
    )]
    dud_dist: Option<String>,

    /// ISO volume label of the disk.
    #[arg(
        long = "dud-label",
        value_name = "LABEL",
        default_value = "OEMDRV",
        requires = "dud",
        help_heading = "Driver update disk"
    )]
    dud_label: String,

    /// A PCI device (VVVV:DDDD) some module on the disk must claim (with --dud). Repeatable.
    #[arg(
        long = "pci-id",
        value_name = "VVVV:DDDD",
        requires = "dud",
        help_heading = "Driver update disk"
    )]
    pci_id: Vec<String>,
}

impl Args {
    /// The disk asked for with --dud, if any.
    fn disk(&self) -> Option<DiskRequest> {
        Some(DiskRequest {
            format: self.dud_format.into(),
            output: self.dud.clone()?,
            label: self.dud_label.clone(),
            dist: self.dud_dist.clone(),
            include_srpms: false,
            force: false,
            pci_ids: self.pci_id.clone(),
            installer_kernels: self.installer.installer_kernel.clone(),
            installer_isos: self.installer.installer_iso.clone(),
            anaconda: self.installer.anaconda_version.clone(),
            arch: None,
            target_symvers: self.installer.target_symvers.clone(),
        })
    }
}

/// `--backend` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum BackendArg {
    /// rpmbuild on this machine (private _topdir per cell).
    Rpmbuild,
    /// mock chroots (`mock -r CFG --rebuild SRPM`).
    Mock,
}

/// `--quiet`: no cell lines, notes only through the warning listener's
/// info channel (shown with `--verbose`).
struct QuietNotes<'a>(&'a dyn Listener);

impl Observer for QuietNotes<'_> {
    fn started(&self, _: &Cell, _: usize, _: usize) {}
    fn finished(&self, _: &CellReport, _: usize, _: usize) {}
    fn note(&self, message: &str) {
        self.0.info(message)
    }
}

impl Args {
    /// The library's request: the flags as given.
    fn request(&self) -> BuildRequest {
        BuildRequest {
            inputs: self.inputs.clone(),
            kernels: self.kernels.clone(),
            arches: self.arches.clone(),
            flavors: self.flavors.clone(),
            mock: self.backend == BackendArg::Mock,
            mock_config: self.mock_config.clone(),
            mock_args: self.mock_arg.clone(),
            kmodpack_repo: self.kmodpack_repo.clone(),
            resultdir: self.resultdir.clone(),
            jobs: self.jobs,
            srpm_only: self.srpm_only,
            nodeps: self.nodeps,
            check_builddeps: self.check_builddeps,
            user_macros: self.user_macros,
            defines: self.defines.clone(),
            with: self.with.clone(),
            without: self.without.clone(),
            sign_key: self.sign_key.clone(),
            sign_cert: self.sign_cert.clone(),
            sign_hash: self.sign_hash.clone(),
            sign_file: self.sign_file.clone(),
            template_dir: self.template_dir.clone(),
            sources: self.sources.clone(),
            source_date_epoch: self.source_date_epoch,
            keep_work: self.keep_work,
            disk: self.disk(),
        }
    }
}

/// Runs `kmodpack build`.
pub fn run(args: Args, ctx: &Context) -> CliResult {
    let request = args.request();
    let observer: Box<dyn Observer + '_> = if args.quiet {
        Box::new(QuietNotes(&ctx.listener))
    } else {
        for_stderr()
    };
    let mut report = build_matrix(&request, observer.as_ref())?;
    let report_path = args
        .report
        .clone()
        .unwrap_or_else(|| args.resultdir.join("report.json"));
    // Written after the matrix, and again with the disk's outcome.
    let write_report = |r: &Report| {
        r.write(&report_path)
            .map_err(|e| format!("{}: {e}", report_path.display()))
    };
    write_report(&report)?;
    super::print(&summary(&report, &report_path))?;
    let code = if report.all_built() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    };
    let Some(d) = request.disk else {
        return Ok(code);
    };
    // The disk is assembled from exactly what was just reported.
    super::print(&format!("\ndriver update disk {}:\n", d.output.display()))?;
    let input = DiskInput::Build {
        from: report_path.clone(),
        packages: Vec::new(),
    };
    let outcome = make_disk(&d, false, &input, ctx);
    let outcome = match outcome {
        Ok(o) => o,
        Err(e) => {
            // Record what stopped the disk, then fail as `dud build` would.
            let mut o = kmodpack::dud::outcome::DiskOutcome::new(d.format, d.output.clone(), &[]);
            o.refused = Some(super::render_error(e.as_ref()));
            report.dud = Some(o);
            write_report(&report)?;
            return Err(e);
        }
    };
    let refused = outcome.refused.clone();
    report.dud = Some(outcome);
    write_report(&report)?;
    match refused {
        Some(why) => Err(why.into()),
        None => Ok(code),
    }
}

/// The text printed on stdout at the end: one line per cell and the totals.
fn summary(report: &Report, report_path: &Path) -> String {
    let mut out = String::new();
    for c in &report.cells {
        let status = match c.status {
            CellStatus::Built => "built",
            CellStatus::Failed => "FAILED",
            CellStatus::Skipped => "skipped",
        };
        let mut files: Vec<String> = c
            .srpm
            .iter()
            .chain(&c.rpms)
            .map(|p| p.nevra.clone())
            .collect();
        if c.status != CellStatus::Built {
            files = vec![c.reason.clone().unwrap_or_default()];
        }
        out.push_str(&format!("{status:<7} {}  {}\n", c.id, files.join(" ")));
    }
    let s = report.summary;
    out.push_str(&format!(
        "{} cell(s): {} built, {} failed, {} skipped; report: {}\n",
        s.total,
        s.built,
        s.failed,
        s.skipped,
        report_path.display()
    ));
    out
}
