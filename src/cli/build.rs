//! `kmodpack build`: SRPMs and binary RPMs for every kernel × arch × flavor.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use kmodpack::build::description::{DescriptionInput, Selection};
use kmodpack::build::input::{SpecFile, SpecProvider};
use kmodpack::build::kernel::{host_arch, KernelTarget};
use kmodpack::build::matrix::{product, BuildTarget};
use kmodpack::build::mock::{KmodpackSource, MockSettings};
use kmodpack::build::progress::{self, Observer};

use super::progress::for_stderr;
use kmodpack::build::repro::{
    epoch_from_changelog, epoch_from_date, epoch_from_env, EpochSource, Reproducibility,
};
use kmodpack::build::rpmbuild::{host_rpmdb_is_foreign, GeneratorHook, RpmbuildSettings};
use kmodpack::build::sign::SigningRequest;
use kmodpack::build::{runner, Backend, BuildError, BuildOptions, CellStatus, Report};
use kmodpack::diag::Listener;

use kmodpack::dud::preflight::Format;

use super::dud::{make_disk, FormatArg, InstallerArgs};
use super::{CliResult, Context};
use kmodpack::dud::pipeline::{precheck, DiskInput, DiskRequest};

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
            format: match self.dud_format {
                FormatArg::Redhat => Format::RedHat,
                FormatArg::Suse => Format::Suse,
            },
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

/// A parsed `--kernel` value.
struct KernelArg {
    /// Headers to compile against.
    target: KernelTarget,
}

fn parse_kernel(arg: &str, require_headers: bool) -> Result<KernelArg, BuildError> {
    if let Some((rel, dir)) = arg.split_once('=') {
        let headers = KernelTarget::resolve(dir, true)?;
        if rel.is_empty()
            || rel
                .chars()
                .any(|c| c.is_whitespace() || c == '%' || c == '/')
        {
            return Err(BuildError::Usage(format!(
                "--kernel {arg:?}: bad release before '='"
            )));
        }
        return Ok(KernelArg {
            target: KernelTarget {
                release: rel.to_string(),
                headers: headers.headers,
            },
        });
    }
    let t = KernelTarget::resolve(arg, require_headers)?;
    Ok(KernelArg { target: t })
}

fn parse_defines(defs: &[String]) -> Result<Vec<(String, String)>, BuildError> {
    defs.iter()
        .map(|d| {
            let (k, v) = d
                .trim()
                .split_once(char::is_whitespace)
                .unwrap_or((d.trim(), ""));
            if k.is_empty() || !k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                return Err(BuildError::Usage(format!(
                    "--define {d:?}: expected 'NAME VALUE'"
                )));
            }
            Ok((k.to_string(), v.trim().to_string()))
        })
        .collect()
}

/// The signing asked for on the command line: `--sign-key`/`--sign-cert`
/// (with `--sign-hash`), or the spec macros `-D 'kmodpack_sign_key KEY'` and
/// `-D 'kmodpack_sign_cert CERT'` (with `kmodpack_sign_hash`), which are taken
/// out of `defines` and become the same request — so either way the
/// description's own key is not needed and the signatures are verified.
/// Paths are relative to the current directory, made absolute: rpmbuild runs
/// sign-file from its own build directory.
fn command_line_signing(
    args: &Args,
    defines: &mut Vec<(String, String)>,
) -> Result<Option<SigningRequest>, BuildError> {
    let mut take = |name: &str| {
        let found = defines.iter().rposition(|(k, _)| k == name);
        let value = found.map(|i| defines[i].1.clone());
        defines.retain(|(k, _)| k != name);
        value
    };
    let (d_key, d_cert, d_hash) = (
        take("kmodpack_sign_key"),
        take("kmodpack_sign_cert"),
        take("kmodpack_sign_hash"),
    );
    let (key, cert, hash) = match (&args.sign_key, &args.sign_cert) {
        (Some(k), Some(c)) => (k.clone(), c.display().to_string(), args.sign_hash.clone()),
        _ => match (d_key, d_cert) {
            (Some(k), Some(c)) => (k, c, d_hash.unwrap_or_else(|| args.sign_hash.clone())),
            (None, None) => return Ok(None),
            (Some(_), None) | (None, Some(_)) => {
                return Err(BuildError::Usage(
                    "-D 'kmodpack_sign_key KEY' and -D 'kmodpack_sign_cert CERT' go together \
                     (or use --sign-key KEY --sign-cert CERT)"
                        .into(),
                ))
            }
        },
    };
    let absolute = |p: &str| {
        std::path::absolute(p).map_err(|source| BuildError::Io {
            path: p.into(),
            source,
        })
    };
    let key = if key.starts_with("pkcs11:") {
        key
    } else {
        let abs = absolute(&key)?;
        if !abs.is_file() {
            return Err(BuildError::Usage(format!(
                "{key}: signing key given on the command line: no such file"
            )));
        }
        abs.display().to_string()
    };
    let cert = absolute(&cert)?;
    Ok(Some(SigningRequest::new(key, &cert, hash)?))
}

/// Runs `kmodpack build`.
pub fn run(args: Args, ctx: &Context) -> CliResult {
    let mock = args.backend == BackendArg::Mock;
    if !mock && args.kmodpack_repo.is_some() {
        return Err(BuildError::Usage(
            "--kmodpack-repo is for --backend mock (rpmbuild runs this binary directly)".into(),
        )
        .into());
    }
    let disk = args.disk();
    if let Some(d) = &disk {
        if args.srpm_only {
            return Err(BuildError::Usage(
                "--dud needs binary RPMs: it cannot be combined with --srpm-only".into(),
            )
            .into());
        }
        precheck(d)?;
    }
    let kernels: Vec<KernelArg> = args
        .kernels
        .iter()
        .map(|k| parse_kernel(k, !mock && !args.srpm_only))
        .collect::<Result<_, _>>()?;
    let arches: Vec<String> = if args.arches.is_empty() {
        vec![host_arch().to_string()]
    } else {
        args.arches.clone()
    };

    // Reproducibility: one timestamp for every cell (and the source tarballs).
    let (epoch, epoch_source) = source_date_epoch(&args);

    // Inputs.
    let mut defines = parse_defines(&args.defines)?;
    let signing = command_line_signing(&args, &mut defines)?;
    let mut specs: Vec<SpecFile> = Vec::new();
    let mut inputs: Vec<Box<dyn SpecProvider>> = Vec::new();
    for input in &args.inputs {
        let ext = input.extension().and_then(|e| e.to_str()).unwrap_or("");
        match ext {
            "spec" => {
                if kernels.is_empty() {
                    return Err(BuildError::Usage(format!(
                        "{}: a spec file needs at least one --kernel (descriptions list their kernels, specs do not)",
                        input.display()
                    ))
                    .into());
                }
                let targets: Vec<BuildTarget> = product(
                    &kernels.iter().map(|k| k.target.clone()).collect::<Vec<_>>(),
                    &arches,
                    &args.flavors,
                );
                specs.push(SpecFile::read(input, args.sources.as_deref(), targets)?);
            }
            "yaml" | "yml" => {
                let sel = Selection {
                    kernels: kernels.iter().map(|k| k.target.clone()).collect(),
                    arches: args.arches.clone(),
                    require_headers: !mock && !args.srpm_only,
                    signing: signing.clone(),
                };
                let d = DescriptionInput::load(input, &sel, args.template_dir.as_deref(), epoch)?;
                inputs.push(Box::new(d));
            }
            _ => {
                return Err(BuildError::Usage(format!(
                    "{}: not a description (.yaml) or spec file (.spec)",
                    input.display()
                ))
                .into())
            }
        }
    }
    let names: Vec<(String, Vec<String>)> = specs
        .iter()
        .map(|s| (s.package().name.clone(), s.binary_names()))
        .collect();
    for s in &mut specs {
        s.resolve_dependencies(&names);
    }
    inputs.extend(
        specs
            .into_iter()
            .map(|s| Box::new(s) as Box<dyn SpecProvider>),
    );

    // Notes go through the progress observer (or the listener when quiet).
    let observer: Box<dyn Observer> = if args.quiet {
        Box::new(progress::Silent)
    } else {
        for_stderr()
    };
    let note = |m: &str| {
        if args.quiet {
            ctx.listener.info(m)
        } else {
            observer.note(m)
        }
    };

    let mut nodeps = args.nodeps;
    if !nodeps && !args.check_builddeps && !mock && !args.srpm_only && host_rpmdb_is_foreign() {
        nodeps = true;
        note("this machine's rpm database does not list rpm itself (not an rpm-based system): passing --nodeps to rpmbuild, BuildRequires (kernel-devel, ...) are not checked; --check-builddeps turns this off");
    }
    let exe = std::env::current_exe()
        .map_err(|e| format!("cannot locate the running kmodpack binary: {e}"))?;
    let rpmbuild = RpmbuildSettings {
        program: "rpmbuild".into(),
        nodeps,
        user_macros: args.user_macros,
        defines,
        repro: Reproducibility {
            source_date_epoch: epoch,
            buildhost: "kmodpack".into(),
        },
        generator: Some(GeneratorHook {
            kmodpack: exe,
            fileattrs_dir: None,
        }),
    };
    if kmodpack::build::process::which("rpmbuild").is_none() {
        return Err(BuildError::ToolMissing {
            program: "rpmbuild".into(),
            hint: "install rpm-build (Fedora/EL) or rpm (Debian/Ubuntu)".into(),
        }
        .into());
    }
    let backend = if mock {
        let config = args
            .mock_config
            .clone()
            .ok_or_else(|| BuildError::Usage("--backend mock needs --mock-config CFG".into()))?;
        Backend::Mock(MockSettings {
            program: "mock".into(),
            config,
            defines: rpmbuild.defines.clone(),
            buildhost: rpmbuild.repro.buildhost.clone(),
            extra_args: args.mock_arg.clone(),
            kmodpack: match &args.kmodpack_repo {
                None => KmodpackSource::SelfPackage,
                Some(p) if p.as_os_str() == "none" => KmodpackSource::Config,
                Some(p) => KmodpackSource::Repo(p.clone()),
            },
        })
    } else {
        Backend::Rpmbuild
    };
    let opts = BuildOptions {
        backend,
        rpmbuild,
        resultdir: args.resultdir.clone(),
        jobs: args
            .jobs
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get())),
        srpm_only: args.srpm_only,
        keep_work: args.keep_work,
        signing,
        sign_file: args.sign_file.clone(),
        epoch_source,
        createrepo: "createrepo_c".into(),
        workbase: kmodpack::build::workdir::default_base(),
    };
    let mut report = runner::run(&inputs, &opts, observer.as_ref())?;
    let report_path = args
        .report
        .clone()
        .unwrap_or_else(|| args.resultdir.join("report.json"));
    report
        .write(&report_path)
        .map_err(|e| format!("{}: {e}", report_path.display()))?;
    super::print(&summary(&report, &report_path))?;
    let code = if report.all_built() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    };
    let Some(d) = disk else {
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
            report
                .write(&report_path)
                .map_err(|e| format!("{}: {e}", report_path.display()))?;
            return Err(e);
        }
    };
    let refused = outcome.refused.clone();
    report.dud = Some(outcome);
    report
        .write(&report_path)
        .map_err(|e| format!("{}: {e}", report_path.display()))?;
    match refused {
        Some(why) => Err(why.into()),
        None => Ok(code),
    }
}

fn source_date_epoch(args: &Args) -> (u64, EpochSource) {
    if let Some(e) = args.source_date_epoch {
        return (e, EpochSource::Flag);
    }
    if let Some(e) = epoch_from_env() {
        return (e, EpochSource::Environment);
    }
    if let Some(first) = args.inputs.first() {
        let text = std::fs::read_to_string(first).unwrap_or_default();
        let from_changelog = if first.extension().is_some_and(|e| e == "spec") {
            epoch_from_changelog(&text)
        } else {
            kmodpack::spec::Description::from_yaml_str(&text, first)
                .ok()
                .and_then(|d| epoch_from_date(&d.changelog.first()?.date))
        };
        if let Some(e) = from_changelog {
            return (e, EpochSource::Changelog);
        }
    }
    let newest = args
        .inputs
        .iter()
        .filter_map(|p| std::fs::metadata(p).ok()?.modified().ok())
        .filter_map(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map(|d| d.as_secs())
        .max()
        .unwrap_or(0);
    (newest, EpochSource::InputMtime)
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
