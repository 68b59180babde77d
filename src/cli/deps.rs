//! `kmodpack deps`: the rpm dependency generator (`provides`, `requires`)
//! and the install-time resolution check (`check`).
//!
//! This file is the edge: it reads stdin and the environment
//! (`RPM_BUILD_ROOT`, `KMODPACK_SYMVERS`), reads files, and prints. The
//! decisions are made in `kmodpack::deps`.

use std::collections::{HashMap, HashSet};
use std::io::Read;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Subcommand, ValueEnum};

use kmodpack::deps::check::{self, PayloadExport};
use kmodpack::deps::invariant;
use kmodpack::deps::kernel_symvers::{self, ENV_SYMVERS};
use kmodpack::deps::paths::package_path;
use kmodpack::deps::provides::{provides, ProvidesOptions};
use kmodpack::deps::requires::{self, RequiresOptions};
use kmodpack::deps::supplements::supplements;
use kmodpack::deps::{format, siblings, DepsError, Dialect, FileContent, PackagedFile};
use kmodpack::diag::Listener;
use kmodpack::module::{self, is_module_path};
use kmodpack::rpmpkg;
use kmodpack::scan;
use kmodpack::stablelist::Stablelist;
use kmodpack::symvers::Symvers;

use super::{print, CliResult, Context};

/// rpm dependency generator for kernel modules, and a resolution check.
///
/// As an rpm generator (see templates/rpm/kmodpack.attr): rpm passes file
/// paths on stdin, with the buildroot prefix, and sets RPM_BUILD_ROOT. Output
/// is sorted, unique, one dependency per line. rpm ignores a generator's exit
/// status, so on error (e.g. no kernel symvers) kmodpack also prints a line
/// rpm rejects ("!kmodpack-error: ..."), which fails the build.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: DepsCommand,
}

#[derive(Debug, Subcommand)]
enum DepsCommand {
    /// Print Provides: kmod() per module; ksym(sym) = crc for every export
    /// (kernel(sym) = crc for in-tree modules under /lib/modules/<kver>/kernel/).
    ///
    /// Meant to run as rpm's fileattrs generator (templates/rpm/kmodpack.attr):
    /// paths on stdin with the buildroot prefix, RPM_BUILD_ROOT set. Output is
    /// sorted and unique, one dependency per line. On error the exit status is
    /// 2 and, under rpm (RPM_BUILD_ROOT set), stdout also carries one
    /// "!kmodpack-error: ..." line, which rpm rejects, so the build fails
    /// although rpm ignores generator exit codes.
    Provides(GenArgs),
    /// Print Requires: kernel(sym) = crc when the target kernel exports that
    /// exact pair, else ksym(sym) = crc; imports the package satisfies itself
    /// are dropped.
    ///
    /// The target kernel's symvers is found from each module's vermagic
    /// (see --symvers); not finding it is an error, never a silent list of
    /// ksym() guesses. In-tree modules (/lib/modules/<kver>/kernel/) get no
    /// requires. Errors are reported as for `provides` (exit 2, plus a
    /// "!kmodpack-error: ..." line rpm rejects when RPM_BUILD_ROOT is set).
    Requires(GenArgs),
    /// Print Supplements: with --dialect suse, modalias(kernel-<flavor>:<alias>)
    /// for every device alias of an out-of-tree module, so zypper and the
    /// installer's repo method install the KMP where the hardware is (what
    /// SUSE's find-supplements.ksyms does). Nothing with --dialect redhat.
    Supplements(GenArgs),
    /// Resolve the ksym()/kernel() requires of RPMs against their Provides
    /// (and a kernel) and explain each failure: no provider at all, or a
    /// provider with a different CRC. RPMs shipping modules must also carry
    /// kmodpack's lines (kmod() per module, ksym() Provides per export,
    /// kernel()/ksym() Requires per import); one built without the generator
    /// is named. Exit status 1 when something does not resolve or a package
    /// lacks those lines.
    Check(CheckArgs),
}

/// Spelling of the generated dependencies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum DialectArg {
    /// ksym(sym) = 0x%08x, kernel(sym) = 0x%08x, kmod(name.ko).
    Redhat,
    /// ksym(flavor:sym) = %x, kmod(name) with - turned into _.
    Suse,
}

/// Where the package's other modules are looked for (to drop requires the
/// package satisfies itself).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum SiblingsArg {
    /// Under rpm (buildroot known, no --multifile): the modules earlier
    /// `provides` calls recorded for this package (file beside the buildroot),
    /// else the buildroot scan. Otherwise "input".
    Auto,
    /// Only the modules given in this call (and no ledger is written).
    Input,
    /// Every module below the same /lib/modules/<kver>/ of the buildroot
    /// (all subpackages: the scan cannot tell them apart).
    Buildroot,
}

#[derive(Debug, clap::Args)]
struct GenArgs {
    /// Files to examine. Without any, paths are read from stdin, one per line
    /// (all of stdin is read, as rpm requires). Files that are not kernel
    /// modules (.ko, .ko.gz, .ko.xz, .ko.zst) or modules.builtin are ignored,
    /// and so are symlinks; .ko.bz2 is an error (not supported).
    paths: Vec<PathBuf>,
    /// Dependency spelling.
    #[arg(long, value_enum, default_value_t = DialectArg::Redhat)]
    dialect: DialectArg,
    /// SUSE kernel flavor for ksym(flavor:sym) (default: last '-' part of
    /// each module's vermagic release, e.g. "default").
    #[arg(long, value_name = "NAME")]
    flavor: Option<String>,
    /// Kernel symvers to use instead of the search list (repeatable or
    /// colon-separated; files are merged; "{kver}" is replaced by each module's kernel release). Also
    /// taken from $KMODPACK_SYMVERS (colon-separated). Search list, first
    /// match wins: /usr/src/kernels/<kver>/Module.symvers,
    /// /lib/modules/<kver>/build/Module.symvers, /boot/symvers-<kver>.{gz,xz},
    /// /lib/modules/<kver>/symvers.{gz,xz}. Nothing found is an error.
    #[arg(long, value_name = "FILE")]
    symvers: Vec<String>,
    /// Look for kernel symvers and stablelists below DIR instead of /.
    #[arg(long, value_name = "DIR", default_value = "/")]
    sysroot: PathBuf,
    /// The buildroot prefix of the input paths (default: $RPM_BUILD_ROOT).
    #[arg(long, value_name = "DIR")]
    buildroot: Option<String>,
    /// Where to find the package's other modules for dropping self-satisfied
    /// requires.
    #[arg(long, value_enum, default_value_t = SiblingsArg::Auto)]
    siblings: SiblingsArg,
    /// Emit rpm >= 4.20 multifile output (";<path>" marker before each file's
    /// dependencies). Only with `%__NAME_protocol multifile`.
    #[arg(long)]
    multifile: bool,
    /// Warn about kernel() requires not on a RHEL kABI stablelist: a file,
    /// or "auto" for /lib/modules/kabi-current/kabi_stablelist_<arch> (then
    /// kabi_whitelist_<arch>), arch taken from the modules. Requires only.
    #[arg(long, value_name = "FILE|auto")]
    stablelist: Option<String>,
    /// The (sub)package name (rpm: %{name}); with --dialect suse, kernel-*
    /// packages get no requires, as SUSE's scripts do.
    #[arg(long, value_name = "NAME")]
    package: Option<String>,
    /// Threads reading modules in batch use (default: number of CPUs, at most 8).
    #[arg(short, long, value_name = "N")]
    jobs: Option<usize>,
}

#[derive(Debug, clap::Args)]
struct CheckArgs {
    /// RPM packages to resolve together (kmods, and optionally a kernel RPM).
    #[arg(required = true)]
    rpms: Vec<PathBuf>,
    /// A kernel's symvers, counted as providing kernel(sym) = 0x%08x for each
    /// line (vmlinux and in-tree modules), like a RHEL kernel package.
    #[arg(long, value_name = "FILE")]
    symvers: Vec<PathBuf>,
}

/// `kmodpack deps provides|requires|supplements ...` (`args`, the whole
/// command line) parsed with the arguments of that one generator: `None`
/// when it is no generator call or clap does not accept it as a run (an
/// error, `--help`, `--version`; see `super::Cli::parse_args`). Why not the
/// derived tree: rpm <= 4.19 runs two generator calls per packaged file,
/// and building clap's definition of every subcommand and flag was a fifth
/// of the instructions of a call; this builds the path to one of them only,
/// from the same derived definitions (`GlobalArgs`, [`GenArgs`]).
pub fn parse_generator(args: &[std::ffi::OsString]) -> Option<(super::GlobalArgs, Args)> {
    use clap::FromArgMatches as _;
    if args.get(1)? != "deps" {
        return None;
    }
    let (name, command): (&'static str, fn(GenArgs) -> DepsCommand) = match args.get(2)?.to_str()? {
        "provides" => ("provides", DepsCommand::Provides),
        "requires" => ("requires", DepsCommand::Requires),
        "supplements" => ("supplements", DepsCommand::Supplements),
        _ => return None,
    };
    let top = generator_command(name).try_get_matches_from(args).ok()?;
    let (_, deps) = top.subcommand()?;
    let (_, matches) = deps.subcommand()?;
    let global = super::GlobalArgs::from_arg_matches(&top).ok()?;
    let generator = GenArgs::from_arg_matches(matches).ok()?;
    Some((
        global,
        Args {
            command: command(generator),
        },
    ))
}

/// clap's tree `kmodpack deps <name>` for [`parse_generator`]: the global
/// flags and one generator's [`GenArgs`], nothing else.
fn generator_command(name: &'static str) -> clap::Command {
    use clap::Args as _;
    let generator = GenArgs::augment_args(clap::Command::new(name));
    super::GlobalArgs::augment_args(clap::Command::new("kmodpack"))
        .subcommand(clap::Command::new("deps").subcommand(generator))
}

impl Args {
    /// True for the rpm generators (not `check`).
    pub fn is_generator(&self) -> bool {
        !matches!(self.command, DepsCommand::Check(_))
    }
}

/// Runs `kmodpack deps`.
pub fn run(args: Args, ctx: &Context) -> CliResult {
    match args.command {
        DepsCommand::Provides(a) => generate(a, Generator::Provides, ctx),
        DepsCommand::Requires(a) => generate(a, Generator::Requires, ctx),
        DepsCommand::Supplements(a) => generate(a, Generator::Supplements, ctx),
        DepsCommand::Check(a) => run_check(a),
    }
}

/// Which dependency list a generator call prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Generator {
    Provides,
    Requires,
    Supplements,
}

fn generate(args: GenArgs, generator: Generator, ctx: &Context) -> CliResult {
    let under_rpm = std::env::var_os("RPM_BUILD_ROOT").is_some();
    let result = (|| {
        let inputs = input_paths(&args.paths)?;
        let buildroot = args
            .buildroot
            .clone()
            .or_else(|| std::env::var("RPM_BUILD_ROOT").ok())
            .filter(|b| !b.is_empty());
        if buildroot
            .as_deref()
            .is_some_and(|b| b.trim_matches('/').is_empty())
        {
            // rpmbuild itself refuses this; kmodpack would read the whole
            // system as the package and write its ledger as `/.kmodpack-ledger`.
            return Err("the buildroot (RPM_BUILD_ROOT or --buildroot) is `/`: refusing to treat the whole system as a package".into());
        }
        // One file (rpm <= 4.19's call) needs no thread count: asking for
        // one reads the cgroup's CPU quota files.
        let jobs = args.jobs.unwrap_or_else(|| match inputs.len() {
            0 | 1 => 1,
            _ => scan::default_jobs(),
        });
        let files = read_files(&inputs, buildroot.as_deref(), jobs)?;
        let dialect = match args.dialect {
            DialectArg::Redhat => Dialect::Redhat,
            DialectArg::Suse => Dialect::Suse,
        };
        let ledger = buildroot
            .as_deref()
            .filter(|_| !args.multifile && args.siblings != SiblingsArg::Input)
            .map(|b| siblings::ledger_path(Path::new(b)));
        let spelling = ProvidesOptions {
            dialect,
            flavor: args.flavor.clone(),
        };
        let deps = match generator {
            Generator::Requires => requires_of(
                &args,
                dialect,
                &files,
                buildroot.as_deref(),
                ledger.as_deref(),
                ctx,
            )?,
            Generator::Provides => {
                let deps = provides(&files, &spelling)?;
                if let Some(l) = &ledger {
                    siblings::record_exports(
                        l,
                        &files,
                        args.package.as_deref().unwrap_or(""),
                        &ctx.listener,
                    );
                }
                deps
            }
            Generator::Supplements => supplements(&files, &spelling)?,
        };
        let text = format::render(&deps, args.multifile);
        // The process ends after printing: freeing a batch's ~500,000 small
        // strings (names, modinfo) one by one would cost more than rendering.
        std::mem::forget((files, deps));
        Ok::<_, Box<dyn std::error::Error + Send + Sync>>(text)
    })();
    match result {
        Ok(text) => {
            print(&text)?;
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            if under_rpm {
                // rpm ignores our exit status but fails the build on a
                // dependency token that does not start with [A-Za-z0-9_/].
                let _ = print(&format!(
                    "!kmodpack-error: {}\n",
                    super::render_error(e.as_ref())
                ));
            }
            Err(e)
        }
    }
}

/// Paths from the command line, else every line of stdin.
fn input_paths(args: &[PathBuf]) -> std::io::Result<Vec<String>> {
    if !args.is_empty() {
        return Ok(args
            .iter()
            .map(|p| p.to_string_lossy().into_owned())
            .collect());
    }
    let mut raw = Vec::new();
    std::io::stdin().lock().read_to_end(&mut raw)?;
    Ok(String::from_utf8_lossy(&raw)
        .split('\n')
        .map(|l| l.trim_end_matches('\r'))
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect())
}

/// Reads the files that yield dependencies, on up to `jobs` threads
/// (results and the first error in input order). Symlinks are skipped: the
/// module lives (and is provided) at the link target, which under rpm is
/// often outside the buildroot (weak-updates).
fn read_files(
    inputs: &[String],
    buildroot: Option<&str>,
    jobs: usize,
) -> Result<Vec<PackagedFile>, DepsError> {
    scan::map_with_reader(
        inputs,
        jobs,
        module::Reader::without_undefined,
        |reader, i| read_file(reader, i, buildroot),
    )
    .into_iter()
    .collect()
}

fn read_file(
    reader: &mut module::Reader,
    input: &str,
    buildroot: Option<&str>,
) -> Result<PackagedFile, DepsError> {
    let p = Path::new(input);
    let io = |source| module::ModuleError::Io {
        path: p.to_path_buf(),
        source,
    };
    let is_link = || {
        p.symlink_metadata()
            .is_ok_and(|m| m.file_type().is_symlink())
    };
    let content = if input.ends_with("/modules.builtin") && !is_link() {
        let text = kmodpack::fsio::read_regular(p).map_err(io)?;
        FileContent::Builtin(String::from_utf8_lossy(&text).into_owned())
    } else if is_module_path(p) {
        // O_NOFOLLOW: a symlink fails with ELOOP, saving a stat per file.
        // O_NONBLOCK: a FIFO named like a module must not hang the build;
        // like a device it is no module (the fstat below), so it is skipped.
        let opened = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_NOCTTY)
            .open(p);
        match opened {
            Ok(f) if !f.metadata().map_err(io)?.is_file() => FileContent::Other,
            Ok(f) => FileContent::Module(Box::new(reader.read_file(f, p)?)),
            Err(e) if e.raw_os_error() == Some(libc::ELOOP) => FileContent::Other,
            Err(e) => return Err(io(e).into()),
        }
    } else {
        FileContent::Other
    };
    Ok(PackagedFile {
        input: input.to_string(),
        path: package_path(input, buildroot),
        content,
    })
}

fn requires_of(
    args: &GenArgs,
    dialect: Dialect,
    files: &[PackagedFile],
    buildroot: Option<&str>,
    ledger: Option<&Path>,
    ctx: &Context,
) -> Result<Vec<format::FileDeps>, Box<dyn std::error::Error + Send + Sync>> {
    let opts = RequiresOptions {
        dialect,
        flavor: args.flavor.clone(),
        package: args.package.clone(),
    };
    let mut overrides: Vec<String> = args
        .symvers
        .iter()
        .flat_map(|s| s.split(':'))
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect();
    if overrides.is_empty() {
        if let Ok(env) = std::env::var(ENV_SYMVERS) {
            overrides.extend(env.split(':').filter(|s| !s.is_empty()).map(str::to_string));
        }
    }
    let search_buildroot = match args.siblings {
        SiblingsArg::Input => None,
        SiblingsArg::Buildroot => buildroot,
        SiblingsArg::Auto => buildroot.filter(|_| !args.multifile),
    };
    let needed = requires::needed_kernels(files, &opts)?;
    let mut own = requires::own_exports(files);
    let wanted = match search_buildroot {
        Some(_) => requires::lookups(files, &own),
        None => Vec::new(),
    };
    // Marked by every call; kept open only by one that asks it something.
    let package = args.package.as_deref().unwrap_or("");
    let ledger = ledger
        .filter(|_| args.siblings == SiblingsArg::Auto)
        .and_then(|l| siblings::package_ledger(l, package, &ctx.listener))
        .filter(|_| !(needed.is_empty() && wanted.is_empty()));
    let mut kernels = HashMap::new();
    for (release, names) in needed {
        let located = kernel_symvers::locate(release, &overrides, &args.sysroot)?;
        let k = siblings::kernel_exports(&located, names.as_ref(), ledger.as_ref())?;
        for c in &k.conflicts {
            ctx.listener.warning(&format!("kernel {release}: {c}"));
        }
        ctx.listener.info(&format!(
            "kernel {release}: symvers {}",
            located
                .paths
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ));
        kernels.insert(release.to_string(), k);
    }
    if let Some(br) = search_buildroot {
        let listed = match &ledger {
            Some(l) if !wanted.is_empty() => {
                siblings::add_listed(l, &wanted, &mut own, &ctx.listener)
            }
            _ => false,
        };
        if !wanted.is_empty() && !listed {
            let given: Vec<&str> = files.iter().map(|f| f.input.as_str()).collect();
            let wanting: Vec<&str> = files
                .iter()
                .filter(|f| requires::wants_kernel(f))
                .map(|f| f.path.as_str())
                .collect();
            for sib in siblings::find(Path::new(br), &wanting, &given) {
                match module::read(&sib) {
                    Ok(m) => own.add_module(&m),
                    Err(e) => ctx
                        .listener
                        .warning(&format!("ignoring sibling module: {e}")),
                }
            }
        }
    }
    let deps = requires::requires(files, &kernels, &own, &opts)?;
    if let Some(sl) = &args.stablelist {
        stablelist_warnings(sl, &args.sysroot, files, &deps, ctx)?;
    }
    Ok(deps)
}

fn stablelist_warnings(
    which: &str,
    sysroot: &Path,
    files: &[PackagedFile],
    deps: &[format::FileDeps],
    ctx: &Context,
) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let path = if which == "auto" {
        let Some(arch) = files.iter().find_map(|f| f.module()).map(|m| m.elf.arch()) else {
            return Ok(());
        };
        let dir = sysroot.join("lib/modules/kabi-current");
        let found = [
            format!("kabi_stablelist_{arch}"),
            format!("kabi_whitelist_{arch}"),
        ]
        .into_iter()
        .map(|n| dir.join(n))
        .find(|p| p.is_file());
        match found {
            Some(p) => p,
            None => {
                ctx.listener.warning(&format!(
                    "no kABI stablelist for {arch} in {}: stablelist check skipped",
                    dir.display()
                ));
                return Ok(());
            }
        }
    } else {
        PathBuf::from(which)
    };
    let list = Stablelist::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    for sym in requires::outside_stablelist(deps, &list) {
        ctx.listener.warning(&format!(
            "kernel({sym}) is not on the kABI stablelist {}",
            path.display()
        ));
    }
    Ok(())
}

fn run_check(args: CheckArgs) -> CliResult {
    let mut packages = Vec::with_capacity(args.rpms.len());
    let mut payloads = Vec::new();
    let mut broken = Vec::new();
    for p in &args.rpms {
        let pkg = rpmpkg::read_header(p)?;
        if !pkg.module_paths().is_empty() {
            let (pkg, mods) = rpmpkg::read_modules(p)?;
            broken.extend(invariant::describe(
                &pkg.nevra(),
                &invariant::check(&pkg, &mods),
            ));
            payloads.push((pkg.nevra(), mods));
        }
        packages.push(pkg);
    }
    let mut extra = Vec::new();
    for s in &args.symvers {
        extra.extend(check::kernel_provides(&Symvers::read(s)?));
    }
    let label = match args.symvers.as_slice() {
        [] => String::new(),
        [one] => format!("kernel symvers {}", one.display()),
        _ => "kernel symvers".to_string(),
    };
    let (mut checked, mut findings) = check::check(&packages, &label, &extra, &HashMap::new());
    if findings
        .iter()
        .any(|f| matches!(f.problem, check::Problem::NoProvider { .. }))
    {
        // Explain "nothing provides": look for the symbols in the payloads.
        let wanted: HashSet<&str> = findings
            .iter()
            .filter_map(|f| check::ksym_parts(f.require.split(' ').next()?).map(|(_, s)| s))
            .collect();
        let mut exports: HashMap<String, Vec<PayloadExport>> = HashMap::new();
        for (nevra, mods) in &payloads {
            for (inner, m) in mods {
                for e in m
                    .exports
                    .iter()
                    .filter(|e| wanted.contains(e.name.as_str()))
                {
                    exports
                        .entry(e.name.clone())
                        .or_default()
                        .push(PayloadExport {
                            package: nevra.clone(),
                            module: inner.clone(),
                            crc: e.crc,
                        });
                }
            }
        }
        (checked, findings) = check::check(&packages, &label, &extra, &exports);
    }
    let (findings, unchecked) =
        check::set_aside_kernel(findings, &packages, !args.symvers.is_empty());
    let mut out = String::new();
    for line in &broken {
        out.push_str(line);
        out.push('\n');
    }
    for f in &findings {
        out.push_str(&f.to_string());
        out.push('\n');
    }
    if unchecked.count > 0 {
        out.push_str(&format!("{unchecked}\n"));
    }
    out.push_str(&format!(
        "{} ksym()/kernel() requirement(s) checked, {} unresolved\n",
        checked - unchecked.count,
        findings.len()
    ));
    if !broken.is_empty() {
        out.push_str(&format!(
            "{} module(s) lack the dependency lines of kmodpack's generator\n",
            broken.len()
        ));
    }
    print(&out)?;
    Ok(if findings.is_empty() && broken.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

#[cfg(test)]
mod tests {
    use std::ffi::OsString;

    use clap::Parser;

    use super::super::{Cli, Command};
    use super::{generator_command, parse_generator};

    fn argv(line: &str) -> Vec<OsString> {
        line.split(' ').map(OsString::from).collect()
    }

    /// The fast path must parse every run the derived tree accepts to the
    /// same values (compared through `Debug`, which shows every field).
    #[test]
    fn parse_generator_agrees_with_the_derived_tree() {
        for name in ["provides", "requires", "supplements"] {
            generator_command(name).debug_assert();
        }
        let lines = [
            "kmodpack deps provides",
            "kmodpack deps requires a.ko b.ko",
            "kmodpack deps supplements --dialect suse x.ko",
            "kmodpack deps requires a.ko -v",
            "kmodpack deps requires --verbose --dialect=suse --flavor default a.ko",
            "kmodpack deps requires --symvers s1 --symvers s2:s3 --symvers=s4",
            "kmodpack deps requires --sysroot /sr --buildroot /br --siblings buildroot",
            "kmodpack deps requires --siblings input --multifile --stablelist auto",
            "kmodpack deps provides --package kmod-foo -j 3 a.ko",
            "kmodpack deps provides --jobs=2 --siblings auto",
            "kmodpack deps requires -- -v --symvers",
            "kmodpack deps requires a.ko -- --dialect",
        ];
        for line in lines {
            let args = argv(line);
            let (global, deps) =
                parse_generator(&args).unwrap_or_else(|| panic!("fast path refused `{line}`"));
            let fast = Cli {
                global,
                command: Command::Deps(deps),
            };
            let full = Cli::try_parse_from(&args).unwrap_or_else(|e| panic!("`{line}`: {e}"));
            assert_eq!(format!("{fast:?}"), format!("{full:?}"), "`{line}`");
        }
    }

    /// What is not a run (help, version, an error) goes to the whole tree,
    /// so that its messages are the usual ones.
    #[test]
    fn parse_generator_declines_help_version_and_errors() {
        let lines = [
            "kmodpack deps provides -h",
            "kmodpack deps provides --help",
            "kmodpack deps requires -V",
            "kmodpack deps requires --version",
            "kmodpack deps requires --no-such-flag",
            "kmodpack deps requires --dialect debian",
            "kmodpack deps requires -j many",
            "kmodpack deps check a.rpm",
            "kmodpack inspect a.ko",
            "kmodpack",
        ];
        for line in lines {
            assert!(parse_generator(&argv(line)).is_none(), "`{line}`");
        }
        // Those the derived tree rejects too (or answers with help/version).
        for line in &lines[..7] {
            assert!(Cli::try_parse_from(argv(line)).is_err(), "`{line}`");
        }
        // A flag before the generator's name is no call rpm makes: declined
        // (only found by position), and the whole tree parses it.
        for line in [
            "kmodpack -v deps provides a.ko",
            "kmodpack deps -v requires a.ko",
        ] {
            assert!(parse_generator(&argv(line)).is_none(), "`{line}`");
            assert!(Cli::try_parse_from(argv(line)).is_ok(), "`{line}`");
        }
    }
}
