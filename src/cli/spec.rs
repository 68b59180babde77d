//! `kmodpack spec`: render a kmod spec from a package description, show the
//! effective description, or import a dkms.conf.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use kmodpack::diag::Listener;
use kmodpack::spec::{self, Description, Kernel, RenderOptions, Style};

use super::{CliResult, Context};

/// Arguments of `kmodpack spec`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  \
    kmodpack spec specs/kpx-zfs/kpx-zfs.yaml -o kmod-kpx-zfs.spec --sources SOURCES/\n  \
    kmodpack spec specs/kpx-zfs/kpx-zfs.yaml --explain\n  \
    kmodpack spec --from-dkms vendor/aacraid/dkms.conf --kernel 5.14.0-503.11.1.el9_5 -o aacraid.yaml")]
pub struct Args {
    /// The package description (YAML; see README "Package description reference").
    #[arg(
        value_name = "DESCRIPTION.yaml",
        required_unless_present = "from_dkms",
        conflicts_with = "from_dkms"
    )]
    pub description: Option<PathBuf>,

    /// Write the spec (or, with --from-dkms, the description) to FILE instead of standard
    /// output (`-` is standard output). An existing FILE is an error unless --force.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Overwrite existing output files.
    #[arg(long)]
    pub force: bool,

    /// Render with this style instead of the description's `style`
    /// (redhat-kabi, per-kernel, suse-kmp).
    #[arg(long, value_name = "STYLE")]
    pub style: Option<Style>,

    /// Only this kernel release (rpm form, e.g. 5.14.0-503.11.1.el9_5). redhat-kabi renders one
    /// release, so this is required when the description lists several. With --from-dkms: a
    /// target kernel (repeatable).
    #[arg(long = "kernel", value_name = "RELEASE")]
    pub kernels: Vec<String>,

    /// Compile against this kernel build tree for every selected kernel, instead of each
    /// kernel's `build_dir` or the distro default (/usr/src/kernels/<uname -r>); e.g.
    /// /lib/modules/$(uname -r)/build on a Debian build host targeting an RHEL release.
    #[arg(long, value_name = "DIR")]
    pub kernel_build_dir: Option<PathBuf>,

    /// Module.symvers of a kmod dependency, as NAME=FILE (repeatable); overrides the
    /// description and the -devel package default.
    #[arg(long = "dependency-symvers", value_name = "NAME=FILE")]
    pub dependency_symvers: Vec<String>,

    /// Use templates from DIR: a `<style>.spec.tera` (or `_common.tera`) there replaces the
    /// built-in one; see templates/ in the source tree for the variables.
    #[arg(long, value_name = "DIR")]
    pub template_dir: Option<PathBuf>,

    /// Default generator binary in the spec (rpm macro %_kmodpack_bin), used when rpm does not
    /// define it: the installed macros.kmodpack sets it to the installed binary, else
    /// %{_bindir}/kmodpack. rpmbuild --define '_kmodpack_bin PATH' overrides both.
    #[arg(long, value_name = "PATH")]
    pub kmodpack_command: Option<String>,

    /// Print the effective description (defaults filled in, derived package names, paths and
    /// kernels) as YAML instead of the spec.
    #[arg(long)]
    pub explain: bool,

    /// Also write the spec's sources (Source0 tarball, patches) into DIR, e.g. rpmbuild's SOURCES.
    #[arg(long, value_name = "DIR")]
    pub sources: Option<PathBuf>,

    /// Import a DKMS module: read this dkms.conf and print a package description for it
    /// (needs --kernel; review the notes printed on standard error).
    #[arg(long, value_name = "DKMS.CONF")]
    pub from_dkms: Option<PathBuf>,

    /// With --from-dkms: architectures of the target kernels (repeatable; default x86_64).
    #[arg(long = "arch", value_name = "ARCH", requires = "from_dkms")]
    pub arches: Vec<String>,

    /// With --from-dkms: the modules' licence (dkms.conf has none; default GPL-2.0-only).
    #[arg(long, value_name = "SPDX", requires = "from_dkms")]
    pub license: Option<String>,

    /// With --from-dkms: accept a dkms.conf that prints to stdout when sourced
    /// (DKMS discards that output, e.g. from `pushd`); an error otherwise.
    #[arg(long, requires = "from_dkms")]
    pub allow_stdout: bool,
}

impl Args {
    /// The output file, or `None` for standard output (no `-o`, or `-o -`).
    fn output_file(&self) -> Option<&Path> {
        self.output.as_deref().filter(|p| *p != Path::new("-"))
    }
}

/// Runs `kmodpack spec`.
pub fn run(args: Args, ctx: &Context) -> CliResult {
    if let Some(conf) = &args.from_dkms {
        return from_dkms(&args, conf, ctx);
    }
    let path = args
        .description
        .as_ref()
        .ok_or("a description file is required")?;
    let mut desc = Description::load(path)?;
    if let Some(style) = args.style {
        desc.style = style;
        desc.validate()
            .map_err(|v| format!("{}: `{}`: {}", path.display(), v.key, v.message))?;
    }
    if args.kernels.len() > 1 {
        return Err("--kernel selects one release when rendering; give it once".into());
    }
    let mut opts = RenderOptions {
        template_dir: args.template_dir.clone(),
        kernel_release: args.kernels.first().cloned(),
        kernel_build_dir: args.kernel_build_dir.clone(),
        kmodpack_command: args.kmodpack_command.clone(),
        ..Default::default()
    };
    for pair in &args.dependency_symvers {
        let (name, file) = pair
            .split_once('=')
            .ok_or_else(|| format!("--dependency-symvers `{pair}`: expected NAME=FILE"))?;
        if !desc.depends.iter().any(|d| d.name == name) {
            return Err(format!(
                "--dependency-symvers: `{name}` is not in the description's `depends`"
            )
            .into());
        }
        opts.dependency_symvers
            .insert(name.to_string(), PathBuf::from(file));
    }
    let text = if args.explain {
        spec::explain(&desc, &opts)?
    } else {
        spec::render(&desc, &opts)?
    };
    // Everything is checked before anything is written: the sources are
    // packed in memory and no output may exist (without --force).
    let sources = match &args.sources {
        Some(dir) => {
            let mut files = collect_sources(&desc, path)?;
            if !args.explain {
                // An akmod spec carries a copy of itself (never the explanation).
                files.extend(spec::akmod_source(&desc, &text));
            }
            if !args.force {
                for (name, _) in &files {
                    refuse_existing(&dir.join(name))?;
                }
            }
            Some((dir, files))
        }
        None => None,
    };
    if let (Some(o), false) = (args.output_file(), args.force) {
        refuse_existing(o)?;
    }
    if let Some((dir, files)) = &sources {
        write_sources(files, dir, args.force, ctx)?;
    }
    emit(&text, args.output_file(), args.force)?;
    Ok(ExitCode::SUCCESS)
}

fn from_dkms(args: &Args, conf: &Path, ctx: &Context) -> CliResult {
    if args.kernels.is_empty() {
        return Err(
            "--from-dkms needs at least one --kernel RELEASE (dkms.conf names no target kernel)"
                .into(),
        );
    }
    if !conf.is_file() {
        return Err(format!("{}: not a readable dkms.conf", conf.display()).into());
    }
    let dir = conf
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let dir = dir
        .canonicalize()
        .map_err(|e| format!("{}: {e}", dir.display()))?;
    let arches = if args.arches.is_empty() {
        vec!["x86_64".to_string()]
    } else {
        args.arches.clone()
    };
    let kernels = args
        .kernels
        .iter()
        .map(|r| Kernel {
            release: r.clone(),
            arches: arches.clone(),
            flavor: None,
            build_dir: args.kernel_build_dir.clone(),
        })
        .collect();
    let opts = spec::dkms::ImportOptions {
        kernels,
        source_dir: dir,
        license: args.license.clone(),
        eval_build_dir: args.kernel_build_dir.clone(),
        timeout: spec::dkms::DEFAULT_TIMEOUT,
        allow_stdout: args.allow_stdout,
    };
    let imported = spec::dkms::import(conf, &opts)?;
    for n in &imported.notes {
        ctx.listener.warning(&format!("{}: {n}", conf.display()));
    }
    let yaml = serde_yaml::to_string(&imported.description)
        .map_err(|e| format!("cannot write the description: {e}"))?;
    let text = format!(
        "# Package description imported by `kmodpack spec --from-dkms` from {}.\n# Review it (licence, summary, kernels), then: kmodpack spec THIS.yaml\n{yaml}",
        conf.display()
    );
    emit(&text, args.output_file(), args.force)?;
    Ok(ExitCode::SUCCESS)
}

/// Writes to the file atomically (temp file + rename) or to stdout.
fn emit(
    text: &str,
    output: Option<&Path>,
    force: bool,
) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    match output {
        None => super::print(text)?,
        Some(p) => write_new(p, text.as_bytes(), force)?,
    }
    Ok(())
}

fn refuse_existing(p: &Path) -> Result<(), String> {
    if p.symlink_metadata().is_ok() {
        return Err(format!(
            "{}: already exists (use --force to overwrite)",
            p.display()
        ));
    }
    Ok(())
}

/// Writes `p` atomically (temp file + rename) with the mode a plain create
/// would give (0666 less the umask), not the temp file's private 0600.
fn write_new(p: &Path, data: &[u8], force: bool) -> Result<(), String> {
    use std::os::unix::fs::PermissionsExt;
    if !force {
        refuse_existing(p)?;
    }
    let dir = p
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut tmp =
        tempfile::NamedTempFile::new_in(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    tmp.write_all(data)
        .map_err(|e| format!("{}: {e}", p.display()))?;
    // SAFETY: umask(2) cannot fail; it is set straight back.
    let mask = unsafe {
        let m = libc::umask(0o022);
        libc::umask(m);
        m
    };
    tmp.as_file()
        .set_permissions(std::fs::Permissions::from_mode(0o666 & !(mask as u32)))
        .map_err(|e| format!("{}: {e}", p.display()))?;
    tmp.persist(p)
        .map_err(|e| format!("{}: {}", p.display(), e.error))?;
    Ok(())
}

/// The files `--sources` writes, read and packed in memory first: nothing
/// is created (not even the directory) unless every one of them, and the
/// spec itself, can be produced.
fn collect_sources(desc: &Description, desc_path: &Path) -> Result<Vec<(String, Vec<u8>)>, String> {
    let base = desc_path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let src = spec::source_archive(desc, base);
    let mtime = kmodpack::build::repro::epoch_from_env().unwrap_or(0);
    let read = |p: &Path| -> Result<Vec<u8>, String> {
        let real = spec::confined(base, p)?;
        kmodpack::fsio::read_regular(&real).map_err(|e| format!("{}: {e}", p.display()))
    };
    let data = match (&src.dir, &src.tarball) {
        (Some(d), _) => {
            let real = spec::source_dir(base, d)?;
            spec::archive::pack_dir(&real, &src.top_dir, mtime).map_err(|e| e.to_string())?
        }
        (None, Some(t)) => read(t)?,
        (None, None) => return Err("the description has no source".into()),
    };
    let mut files = vec![(src.file_name.clone(), data)];
    for p in &src.patches {
        let name = p
            .file_name()
            .ok_or_else(|| format!("{}: not a file", p.display()))?
            .to_string_lossy()
            .into_owned();
        files.push((name, read(p)?));
    }
    if let Some(script) = spec::buildscript::script(desc) {
        files.push((
            spec::buildscript::FILE_NAME.to_string(),
            script.into_bytes(),
        ));
    }
    Ok(files)
}

fn write_sources(
    files: &[(String, Vec<u8>)],
    dir: &Path,
    force: bool,
    ctx: &Context,
) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    for (name, data) in files {
        write_new(&dir.join(name), data, force)?;
    }
    ctx.listener
        .info(&format!("wrote {} to {}", files[0].0, dir.display()));
    Ok(())
}
