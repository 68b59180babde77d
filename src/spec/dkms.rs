//! `dkms.conf` import: a DKMS module becomes a kmod package description, so
//! a driver shipped for DKMS can be built once into a binary kmod RPM for
//! servers that have no compiler and no DKMS.
//!
//! A dkms.conf is a bash script that DKMS *sources* with its own variables
//! set for the kernel being built; reading it as `KEY=value` lines cannot be
//! exact (real ones use `if`, `$(...)`, multi-line values, per-kernel MAKE).
//! So the import evaluates it the way DKMS does — with DKMS's rules, as
//! `templates/dkms-recipe.bash` reproduces them — for the first target kernel, to
//! learn the package name, version and modules; and the description it
//! writes (`build.dkms`) makes the spec's `%build` run the same recipe again
//! for each kernel it compiles against. Evaluation is running code, as it is
//! for DKMS: it happens in a scratch copy of the tree, with a time, memory
//! and output bound, and a dkms.conf that prints, fails under bash, loops or
//! exits is refused with one line naming the file.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::process::{ProcessError, Sink};

use super::buildscript::DKMS_RECIPE;
use super::description::{Build, Description, DkmsBuild, Kernel, KmodDependency, Module, Source};
use super::SpecError;

/// What the import needs besides dkms.conf.
#[derive(Debug, Clone)]
pub struct ImportOptions {
    /// Target kernels (dkms.conf names none: DKMS builds for whatever is installed).
    pub kernels: Vec<Kernel>,
    /// The module's source tree (normally the directory of dkms.conf).
    pub source_dir: PathBuf,
    /// Licence (dkms.conf has none).
    pub license: Option<String>,
    /// Kernel tree dkms.conf is evaluated against (DKMS's `kernel_source_dir`);
    /// default: the first kernel's `build_dir` or `/usr/src/kernels/<release>.<arch>`.
    pub eval_build_dir: Option<PathBuf>,
    /// Time bound of one evaluation.
    pub timeout: Duration,
    /// Accept a dkms.conf that prints to stdout when sourced (DKMS discards
    /// that output; `pushd`/`popd` in real ones print the directory stack).
    /// Off by default: a dkms.conf should only set variables.
    pub allow_stdout: bool,
}

/// Default time bound for sourcing a dkms.conf.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// The imported description and what could not be carried over.
#[derive(Debug, Clone)]
pub struct Imported {
    /// The description written from dkms.conf.
    pub description: Description,
    /// Human-readable notes about settings that mean something else (or
    /// nothing) for a binary package.
    pub notes: Vec<String>,
}

/// The kernel a dkms.conf is evaluated for (DKMS's `kernelver`, `arch`,
/// `kernel_source_dir`).
#[derive(Debug, Clone)]
pub struct EvalTarget {
    /// DKMS's `kernelver` (`uname -r` of the target).
    pub kernelver: String,
    /// DKMS's `arch`.
    pub arch: String,
    /// DKMS's `kernel_source_dir` (the kernel build tree).
    pub kernel_source_dir: PathBuf,
}

/// What DKMS's read_conf leaves set, as reported by the recipe runner.
#[derive(Debug, Clone, Default)]
pub struct Evaluated {
    /// Scalar variables by name.
    pub scalars: BTreeMap<String, String>,
    /// Arrays by index (bash arrays are sparse: indices are kept as given).
    pub arrays: BTreeMap<String, BTreeMap<u64, String>>,
    /// First line the dkms.conf printed to stdout (only with `allow_stdout`).
    pub stdout: Option<String>,
}

impl Evaluated {
    fn get(&self, k: &str) -> &str {
        self.scalars.get(k).map(String::as_str).unwrap_or("")
    }
    fn array(&self, k: &str) -> Vec<(u64, &str)> {
        self.arrays
            .get(k)
            .map(|a| a.iter().map(|(i, v)| (*i, v.as_str())).collect())
            .unwrap_or_default()
    }
}

/// Limits of the scratch copy of the tree.
const MAX_TREE_BYTES: u64 = 4 << 30;
const MAX_TREE_ENTRIES: usize = 200_000;
/// Bytes of the runner's report read back.
const MAX_REPORT: u64 = 16 << 20;

/// A scratch copy of a source tree: dkms.conf runs there, never in the original.
pub struct Scratch {
    /// Removed on drop and if a signal ends kmodpack first.
    dir: crate::cleanup::ScratchDir,
}

impl Scratch {
    /// Copies `tree` (symlinks copied as links, never followed; special files skipped).
    pub fn copy_of(tree: &Path) -> Result<Scratch, String> {
        let dir = crate::cleanup::ScratchDir::new("kmodpack-dkms-")
            .map_err(|e| format!("cannot create a scratch directory: {e}"))?;
        let root = dir.path().join("tree");
        let (mut bytes, mut entries) = (0u64, 0usize);
        for e in walkdir::WalkDir::new(tree).follow_links(false) {
            let e = e.map_err(|e| format!("{}: {e}", tree.display()))?;
            entries += 1;
            if entries > MAX_TREE_ENTRIES {
                return Err(format!(
                    "{}: more than {MAX_TREE_ENTRIES} files; not a module source tree",
                    tree.display()
                ));
            }
            let rel = e.path().strip_prefix(tree).unwrap_or(Path::new(""));
            let to = root.join(rel);
            let ft = e.file_type();
            let io =
                |r: std::io::Result<()>| r.map_err(|err| format!("{}: {err}", e.path().display()));
            if ft.is_dir() {
                io(std::fs::create_dir_all(&to))?;
            } else if ft.is_symlink() {
                let target = std::fs::read_link(e.path())
                    .map_err(|err| format!("{}: {err}", e.path().display()))?;
                io(std::os::unix::fs::symlink(target, &to))?;
            } else if ft.is_file() {
                bytes += e.metadata().map(|m| m.len()).unwrap_or(0);
                if bytes > MAX_TREE_BYTES {
                    return Err(format!(
                        "{}: larger than {} GiB; not a module source tree",
                        tree.display(),
                        MAX_TREE_BYTES >> 30
                    ));
                }
                io(std::fs::copy(e.path(), &to).map(|_| ()))?;
            }
        }
        Ok(Scratch { dir })
    }

    /// The copied tree.
    pub fn tree(&self) -> PathBuf {
        self.dir.path().join("tree")
    }
}

/// Sources `conf` (a path inside the scratch tree) as DKMS's read_conf does
/// for `target`, with `module`/`module_version` set as DKMS has them (empty
/// on the first read, as `dkms add` does). `origin` names the file in errors.
pub fn evaluate(
    scratch: &Scratch,
    conf: &Path,
    target: &EvalTarget,
    module: (&str, &str),
    timeout: Duration,
    allow_stdout: bool,
    origin: &str,
) -> Result<Evaluated, SpecError> {
    let err = |message: String| SpecError::Dkms {
        origin: origin.to_string(),
        line: 0,
        message,
    };
    let work = tempfile::Builder::new()
        .prefix("work-")
        .tempdir_in(scratch.dir.path())
        .map_err(|e| err(format!("cannot create a scratch directory: {e}")))?;
    let recipe = work.path().join("dkms-recipe.bash");
    std::fs::write(&recipe, DKMS_RECIPE).map_err(|e| err(e.to_string()))?;
    let report = work.path().join("report");
    // ulimit bounds memory (an expansion bomb) and file size (a printing loop).
    let wrapper = "ulimit -v 2097152 && ulimit -f 65536 && exec bash \"$0\" eval";
    let file = |name: &str| {
        std::fs::File::create(work.path().join(name))
            .map_err(|e| err(format!("cannot create a scratch file: {e}")))
    };
    let run = crate::process::Command::new("bash")
        .args(["-c", wrapper])
        .arg(&recipe)
        .env_clear()
        .env(
            "PATH",
            "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        )
        .env("LC_ALL", "C")
        .env("HOME", work.path())
        .env("KMODPACK_DKMS_CONF", conf)
        .env("KMODPACK_SOURCE_DIR", scratch.tree())
        .env("KMODPACK_KERNEL_RELEASE", &target.kernelver)
        .env("KMODPACK_KERNEL_BUILD_DIR", &target.kernel_source_dir)
        .env("KMODPACK_ARCH", &target.arch)
        .env("KMODPACK_JOBS", "1")
        .env("KMODPACK_WORK", work.path())
        .env("KMODPACK_DKMS_MODULE", module.0)
        .env("KMODPACK_DKMS_MODULE_VERSION", module.1)
        .dir(scratch.tree())
        .stdout(Sink::File(file("report")?))
        .stderr(Sink::File(file("runner.stderr")?))
        .timeout(timeout)
        // Whatever the script left running in the background goes too (the
        // runner ends the process group when bash exits).
        .run_unchecked();
    let status = match run {
        Ok(out) => out.status,
        Err(ProcessError::TimedOut { .. }) => {
            return Err(err(format!(
                "sourcing it did not finish within {} s (a dkms.conf is code; kmodpack runs it with a time bound)",
                timeout.as_secs()
            )))
        }
        Err(e) => return Err(err(e.to_string())),
    };
    let first_line = |name: &str| -> Option<String> {
        let text = read_bounded(&work.path().join(name), 4096);
        text.lines()
            .map(str::trim)
            .find(|l| !l.is_empty())
            .map(|l| l.chars().take(200).collect())
    };
    if let Some(l) = first_line("conf.stderr") {
        return Err(err(format!(
            "sourcing it with bash wrote to stderr (a dkms.conf must only set variables): {l}"
        )));
    }
    let stdout = first_line("conf.stdout");
    if let (Some(l), false) = (&stdout, allow_stdout) {
        return Err(err(format!(
            "sourcing it printed to stdout (a dkms.conf must only set variables; DKMS discards that output, --allow-stdout accepts it): {l}"
        )));
    }
    let raw = std::fs::File::open(&report)
        .and_then(|f| {
            let mut v = Vec::new();
            std::io::Read::read_to_end(&mut std::io::Read::take(f, MAX_REPORT), &mut v)?;
            Ok(v)
        })
        .map_err(|e| err(e.to_string()))?;
    let fields: Vec<String> = raw
        .split(|b| *b == 0)
        .map(|f| String::from_utf8_lossy(f).into_owned())
        .collect();
    let mut ev = Evaluated {
        stdout,
        ..Evaluated::default()
    };
    let mut complete = false;
    for rec in fields.chunks(3) {
        let [key, idx, val] = rec else { break };
        if key == "end" {
            complete = true;
            break;
        }
        if idx.is_empty() {
            ev.scalars.insert(key.clone(), val.clone());
        } else {
            let i: u64 = idx.parse().unwrap_or(u64::MAX);
            ev.arrays
                .entry(key.clone())
                .or_default()
                .insert(i, val.clone());
        }
    }
    if !complete {
        let why = first_line("runner.stderr").unwrap_or_else(|| match status.code() {
            Some(c) => format!("bash exited with status {c}"),
            None => "bash was killed (memory or file size bound)".to_string(),
        });
        return Err(err(format!("sourcing it did not complete: {why}")));
    }
    if let Some((_, e)) = ev.array("kmodpack_errors").first() {
        return Err(err(e.to_string()));
    }
    Ok(ev)
}

fn read_bounded(p: &Path, max: u64) -> String {
    let mut v = Vec::new();
    if let Ok(f) = std::fs::File::open(p) {
        let _ = std::io::Read::read_to_end(&mut std::io::Read::take(f, max), &mut v);
    }
    String::from_utf8_lossy(&v).into_owned()
}

/// The release of a kernel build tree (`include/generated/utsrelease.h`).
pub fn tree_release(build_dir: &Path) -> Option<String> {
    let text = std::fs::read_to_string(build_dir.join("include/generated/utsrelease.h")).ok()?;
    text.lines().find_map(|l| {
        l.strip_prefix("#define UTS_RELEASE \"")?
            .strip_suffix('"')
            .map(str::to_string)
    })
}

/// `uname -m` for an rpm arch (DKMS's `arch`).
fn uname_arch(rpm_arch: &str) -> &str {
    match rpm_arch {
        "armv7hl" => "armv7l",
        a => a,
    }
}

/// Imports the dkms.conf at `conf` (inside `opts.source_dir`).
pub fn import(conf: &Path, opts: &ImportOptions) -> Result<Imported, SpecError> {
    let o = conf.display().to_string();
    let err = |message: String| SpecError::Dkms {
        origin: o.clone(),
        line: 0,
        message,
    };
    let rel = conf
        .canonicalize()
        .ok()
        .and_then(|c| {
            let dir = opts.source_dir.canonicalize().ok()?;
            c.strip_prefix(dir).ok().map(Path::to_path_buf)
        })
        .ok_or_else(|| {
            err(format!(
                "is not inside the source tree {}",
                opts.source_dir.display()
            ))
        })?;
    let rel_s = rel
        .to_str()
        .ok_or_else(|| err("path is not UTF-8".into()))?
        .to_string();
    let first = opts
        .kernels
        .first()
        .ok_or_else(|| err("no target kernel".into()))?;
    let mut arches = first.arches.clone();
    let build_dir = opts
        .eval_build_dir
        .clone()
        .or_else(|| first.build_dir.clone())
        .unwrap_or_else(|| {
            PathBuf::from(format!(
                "/usr/src/kernels/{}.{}",
                first.release,
                arches.first().map(String::as_str).unwrap_or("x86_64")
            ))
        });
    let mut notes = Vec::new();
    let kernelver = match tree_release(&build_dir) {
        Some(r) => r,
        None => {
            let k = format!(
                "{}.{}",
                first.release,
                arches.first().map(String::as_str).unwrap_or("x86_64")
            );
            notes.push(format!(
                "kernel tree {} not found: dkms.conf evaluated for kernelver `{k}` without its tree (%build evaluates it again against the real one)",
                build_dir.display()
            ));
            k
        }
    };
    let mut target = EvalTarget {
        kernelver,
        arch: uname_arch(arches.first().map(String::as_str).unwrap_or("x86_64")).to_string(),
        kernel_source_dir: build_dir,
    };
    let scratch = Scratch::copy_of(&opts.source_dir).map_err(&err)?;
    let conf_in = scratch.tree().join(&rel);
    // First read as `dkms add` does (no module yet), then with DKMS's module/version.
    let pass1 = evaluate(
        &scratch,
        &conf_in,
        &target,
        ("", ""),
        opts.timeout,
        opts.allow_stdout,
        &o,
    )?;
    let name = pass1.get("package_name").to_string();
    let version_raw = pass1.get("package_version").to_string();
    // BUILD_EXCLUSIVE_ARCH is a bash regex (=~, unanchored): keep the arches it allows.
    let excl_arch = pass1.get("BUILD_EXCLUSIVE_ARCH").to_string();
    if !excl_arch.is_empty() {
        match regex::Regex::new(&excl_arch) {
            Ok(re) => {
                let before = arches.clone();
                arches.retain(|a| re.is_match(uname_arch(a)));
                if arches.is_empty() {
                    return Err(err(format!(
                        "BUILD_EXCLUSIVE_ARCH `{excl_arch}` excludes every requested arch ({}); DKMS would not build it there",
                        before.join(", ")
                    )));
                }
                target.arch = uname_arch(&arches[0]).to_string();
            }
            Err(_) => notes.push(format!(
                "BUILD_EXCLUSIVE_ARCH `{excl_arch}` is not a regex kmodpack can read; %build checks it with bash for each kernel"
            )),
        }
    }
    let ev = evaluate(
        &scratch,
        &conf_in,
        &target,
        (&name, &version_raw),
        opts.timeout,
        opts.allow_stdout,
        &o,
    )?;
    if let Some(l) = &ev.stdout {
        notes.push(format!(
            "sourcing it prints to stdout (`{l}`); accepted with --allow-stdout, discarded as DKMS discards it"
        ));
    }
    if !ev.get("build_exclude").is_empty() {
        return Err(err(format!(
            "{}; DKMS would not build it for the kernel it was evaluated against ({}, {})",
            ev.get("kmodpack_exclude_reason"),
            target.kernelver,
            target.kernel_source_dir.display()
        )));
    }
    let version = if version_raw.contains('-') {
        let fixed = version_raw.replace('-', "_");
        notes.push(format!("PACKAGE_VERSION `{version_raw}` contains `-` (rpm's version-release separator); the package version is `{fixed}` (DKMS's $module_version stays `{version_raw}` in %build)"));
        fixed
    } else {
        version_raw.clone()
    };

    let mut modules = Vec::new();
    if !ev.get("kmodpack_defaulted_record").is_empty() {
        notes.push(format!(
            "no BUILT_MODULE_NAME[0]: one module named after PACKAGE_NAME (`{name}`), as DKMS does"
        ));
    }
    let dest_names = ev.array("dest_module_name");
    for (idx, m) in ev.array("built_module_name") {
        if modules.iter().any(|x: &Module| x.name == m) {
            return Err(err(format!(
                "module `{m}` is listed twice in BUILT_MODULE_NAME"
            )));
        }
        if let Some((_, d)) = dest_names.iter().find(|(i, _)| *i == idx) {
            if *d != m {
                notes.push(format!(
                    "DEST_MODULE_NAME[{idx}] `{d}` renames the module at install; the kmod keeps the built name `{m}` (its modinfo name)"
                ));
            }
        }
        modules.push(Module {
            name: m.to_string(),
            path: None,
            install_dir: None,
        });
    }
    for (idx, d) in ev.array("DEST_MODULE_LOCATION") {
        notes.push(format!(
            "DEST_MODULE_LOCATION[{idx}] `{d}`: kmods install to extra/<name>/ (Red Hat) or updates/ (SUSE), where DKMS itself puts them on those distributions"
        ));
    }
    let strips = ev.array("strip");
    let no_strip = strips.iter().filter(|(_, v)| *v == "no").count();
    let strip = no_strip == 0;
    if no_strip > 0 && no_strip < strips.len() {
        notes.push("STRIP[] says `no` for some modules only; kmodpack strips all modules or none, so none is stripped".into());
    }
    let mut description = Description {
        name: name.clone(),
        version,
        release: "1".to_string(),
        epoch: None,
        release_from_kernel: None,
        summary: format!(
            "{name} kernel module{} (imported from DKMS)",
            if modules.len() > 1 { "s" } else { "" }
        ),
        license: opts.license.clone().unwrap_or_else(|| {
            notes.push("dkms.conf has no licence: `license` set to GPL-2.0-only; check the module's MODULE_LICENSE".into());
            "GPL-2.0-only".to_string()
        }),
        url: None,
        description: None,
        style: Default::default(),
        source: Source {
            dir: Some(opts.source_dir.clone()),
            tarball: None,
            top_dir: None,
            patches: Vec::new(),
        },
        build: Build {
            subdir: None,
            make_args: Vec::new(),
            commands: Vec::new(),
            dkms: Some(DkmsBuild {
                conf: rel_s,
                module: name.clone(),
                version: version_raw.clone(),
            }),
        },
        modules,
        kernels: opts.kernels.clone(),
        depends: ev
            .array("BUILD_DEPENDS")
            .into_iter()
            .map(|(_, n)| KmodDependency {
                name: n.to_string(),
                version: None,
                symvers: None,
            })
            .collect(),
        devel: false,
        devel_files: Vec::new(),
        akmod: false,
        firmware: Vec::new(),
        packages: Vec::new(),
        metapackage: None,
        files: Vec::new(),
        modprobe: None,
        modules_load: Vec::new(),
        dracut: None,
        license_files: Vec::new(),
        doc_files: Vec::new(),
        signing: None,
        compress: Default::default(),
        strip,
        debuginfo: false,
        switches: Vec::new(),
        requires: Vec::new(),
        provides: Vec::new(),
        conflicts: Vec::new(),
        obsoletes: Vec::new(),
        build_requires: Vec::new(),
        scriptlets: Default::default(),
        kabi: Default::default(),
        changelog: Vec::new(),
        suse: None,
    };
    if let Ok(re) = regex::Regex::new(&excl_arch) {
        if !excl_arch.is_empty() {
            for k in &mut description.kernels {
                k.arches.retain(|a| re.is_match(uname_arch(a)));
            }
            description.kernels.retain(|k| !k.arches.is_empty());
        }
    }
    if ev.get("NO_WEAK_MODULES").eq_ignore_ascii_case("yes") {
        description.scriptlets.weak_modules = false;
        notes.push("NO_WEAK_MODULES=yes: the kmod does not call weak-modules (scriptlets.weak_modules: false)".into());
    }
    let obsolete_by = ev.get("obsolete_by");
    if !obsolete_by.is_empty() {
        let before = description.kernels.len();
        description
            .kernels
            .retain(|k| crate::rpmvercmp::rpmvercmp(&k.release, obsolete_by).is_lt());
        if description.kernels.is_empty() {
            return Err(err(format!(
                "OBSOLETE_BY `{obsolete_by}`: every target kernel is that version or newer, where DKMS does not install the module"
            )));
        }
        notes.push(format!(
            "OBSOLETE_BY `{obsolete_by}`: DKMS does not install the module on kernels of that version or newer{}",
            if before > description.kernels.len() { "; those target kernels were dropped" } else { "" }
        ));
    }
    if !ev.get("BUILD_EXCLUSIVE_KERNEL").is_empty() || !ev.get("BUILD_EXCLUSIVE_CONFIG").is_empty()
    {
        notes.push("BUILD_EXCLUSIVE_KERNEL/CONFIG are checked in %build for each kernel, as DKMS checks them: a kernel they exclude stops that build with `kmodpack: skipped: <reason>`".into());
    }
    for (k, what) in [
        ("post_add", "POST_ADD"),
        ("post_install", "POST_INSTALL"),
        ("pre_install", "PRE_INSTALL"),
        ("post_remove", "POST_REMOVE"),
    ] {
        let v = ev.get(k);
        if !v.is_empty() {
            notes.push(format!("{what} `{v}` is not run: DKMS runs it on the target at add/install/remove time; a binary package has no such step (move what it does into the description's requires or scriptlets)"));
        }
    }
    if !ev.get("AUTOINSTALL").is_empty() {
        notes.push("AUTOINSTALL: a kmod package is not rebuilt on kernel updates; weak-modules (redhat-kabi) or one package per kernel (per-kernel) take that role".into());
    }
    for k in ["SIGN_FILE", "MOK_SIGNING_KEY", "MOK_CERTIFICATE"] {
        if !ev.get(k).is_empty() {
            notes.push(format!(
                "{k} is not used: the description's `signing` signs the modules in %install"
            ));
        }
    }
    for k in [
        "REMAKE_INITRD",
        "MODULES_CONF",
        "MODULES_CONF_OBSOLETES",
        "MODULES_CONF_ALIAS_TYPE",
        "MODULES_CONF_OBSOLETE_ONLY",
    ] {
        if !ev.array(k).is_empty() {
            notes.push(format!("{k} is deprecated and ignored by DKMS 3 too; the initramfs is handled by scriptlets.initramfs and modprobe settings belong in a modprobe.d file"));
        }
    }
    let clean = ev.get("CLEAN");
    if !clean.is_empty() {
        notes.push(format!(
            "CLEAN `{clean}` is not run: %build compiles a fresh copy of the tree"
        ));
    }
    description.validate().map_err(|v| {
        err(format!(
            "imported description is invalid: `{}`: {}",
            v.key, v.message
        ))
    })?;
    Ok(Imported { description, notes })
}
