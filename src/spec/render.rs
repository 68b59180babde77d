//! Rendering: the description becomes a flat, precomputed [`RenderContext`]
//! (names, paths, kernel cells, quoted make arguments) and a tera template
//! turns that into the spec.
//!
//! Why precompute: templates stay declarative (no string surgery, no
//! decisions that tests cannot see), the same context is what
//! `kmodpack spec --explain` prints, and user templates in a
//! `--template-dir` get exactly the same values the built-in ones use.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::description::{Description, InitramfsPolicy, PackagedCompression, Style, SupportStatus};
use super::{safety, RenderOptions, SpecError};

/// Built-in templates, compiled in so the binary works from any directory.
const BUILTIN: &[(&str, &str)] = &[
    (
        "redhat-kabi.spec.tera",
        include_str!("../../templates/redhat-kabi.spec.tera"),
    ),
    (
        "per-kernel.spec.tera",
        include_str!("../../templates/per-kernel.spec.tera"),
    ),
    (
        "suse-kmp.spec.tera",
        include_str!("../../templates/suse-kmp.spec.tera"),
    ),
    ("_common.tera", include_str!("../../templates/_common.tera")),
];

/// Where the generated spec's `-devel` subpackages put Module.symvers, and
/// where dependent kmods look for it by default.
pub const DEVEL_SYMVERS_DIR: &str = "/usr/src/kmodpack";

/// rpm condition "this is no akmods rebuild": akmods (RPM Fusion) rebuilds
/// an akmod's SRPM with `--define 'kernels <uname -r>'`, as kmodtool's
/// `--for-kernels` does; without it the spec builds its listed kernels.
const NOT_AKMODS_REBUILD: &str = "%if !0%{?kernels:1}";

/// The cell an akmods rebuild compiles: the kernel in `%{kernels}`, for the
/// arch akmodsbuild passes as `--target`, against the tree the spec picks
/// at parse time (`%{_kmodpack_akmods_tree}`, see the per-kernel template).
fn akmods_kernel(name: &str) -> KernelContext {
    KernelContext {
        release: "%{kernels}".into(),
        arch: "%{_target_cpu}".into(),
        arches: Vec::new(),
        flavor: None,
        uname: "%{kernels}".into(),
        kernel_pkg: "kernel".into(),
        build_dir: "%{_kmodpack_akmods_tree}".into(),
        id: "akmods".into(),
        kmp_suffix: String::new(),
        pkg_name: format!("kmod-{name}-%{{kernels}}"),
        uname_version: "%{_kmodpack_akmods_version}".into(),
        akmods: true,
        open: "%if 0%{?kernels:1}".into(),
        close: "%endif".into(),
        relations: RelationsContext::default(),
        refs: BuildRefs::default(),
    }
}

/// File name of an akmod spec's copy of itself (`Source90`).
fn akmod_spec_source_name(desc: &Description) -> String {
    if desc.akmod {
        format!("{}-kmod.akmod.spec", desc.name)
    } else {
        String::new()
    }
}

/// The extra source an akmod spec needs beside its archive and patches: the
/// rendered spec text itself, under the name its `Source90` gives. `None`
/// without `akmod`.
pub fn akmod_source(desc: &Description, spec_text: &str) -> Option<(String, Vec<u8>)> {
    desc.akmod
        .then(|| (akmod_spec_source_name(desc), spec_text.as_bytes().to_vec()))
}

/// Everything a template may use. Also what `--explain` prints.
#[derive(Debug, Clone, Serialize)]
pub struct RenderContext {
    /// Spec style (`per-kernel`, `redhat-kabi`, `suse-kmp`, …).
    pub style: String,
    /// Module package name (the description's `name`).
    pub name: String,
    /// The (main) binary package name: `kmod-<name>` or, for suse-kmp, `<name>-kmp`.
    pub pkg_name: String,
    /// The spec `Name:` (source package).
    pub spec_name: String,
    /// Package version.
    pub version: String,
    /// Package release.
    pub release: String,
    /// rpm Epoch, if any.
    pub epoch: Option<u32>,
    /// Release gets the target kernel's dist tag (redhat-kabi).
    pub release_from_kernel: bool,
    /// `-<flavor>` when redhat-kabi renders a flavored kernel (`debug`, `rt`,
    /// `64k`), else empty: part of every package name and kmod Provides.
    pub flavor_suffix: String,
    /// One-line summary.
    pub summary: String,
    /// License tag.
    pub license: String,
    /// Upstream URL, if any.
    pub url: Option<String>,
    /// `%description` lines (the summary when no description is given).
    pub description_lines: Vec<String>,
    /// Source0: the archive and its top directory.
    pub source: SourceArchive,
    /// Patch file names, `Patch0`, `Patch1`, … in order.
    pub patches: Vec<String>,
    /// Where `make M=` runs, relative to the source top (`.` by default).
    pub build_subdir: String,
    /// `/<build_subdir>` or empty: appended to a directory to reach the build subdir.
    pub build_subdir_suffix: String,
    /// `make` arguments, each already single-quoted for the shell.
    pub make_args: Vec<String>,
    /// `kbuild` (`make M=`), `commands` (build.commands) or `dkms` (the
    /// dkms.conf recipe); the last two run [`super::buildscript`] as `Source1`.
    pub build_mode: String,
    /// File name of that script (`Source1`), empty for kbuild.
    pub build_script: String,
    /// Every module the build produces (all packages).
    pub modules: Vec<ModuleContext>,
    /// The modules of the main package (all of them without `packages`).
    pub main_modules: Vec<ModuleContext>,
    /// Distinct install directories of the main package's modules.
    pub install_dirs: Vec<String>,
    /// Relations of the per-kernel metapackage (`metapackage`).
    pub metapackage: RelationsContext,
    /// The further kmod packages (`packages` of the description).
    pub subpackages: Vec<SubpackageContext>,
    /// suse-kmp: the main KMP (`suffix` empty) and then `subpackages`; each
    /// `pkg_name` is `<name>[-<suffix>]-kmp`, completed by `-<flavor>` per kernel.
    pub kmp_units: Vec<SubpackageContext>,
    /// Files outside the module tree: copied from the sources (`files`) or
    /// generated (`modprobe`, `modules_load`, `dracut`), in install order.
    pub extra_files: Vec<FileContext>,
    /// `%license` and `%doc` files of the main package (paths in the sources).
    pub license_files: Vec<String>,
    /// `%doc` files of the main package (paths in the sources).
    pub doc_files: Vec<String>,
    /// The kernels (redhat-kabi: exactly one, arch left to `%{_target_cpu}`).
    pub kernels: Vec<KernelContext>,
    /// The kernels the per-kernel template compiles for: `kernels`, plus
    /// with `akmod` the one akmods names at rebuild time (`%{kernels}`).
    pub build_kernels: Vec<KernelContext>,
    /// per-kernel: also build `akmod-<name>` carrying this package's SRPM.
    pub akmod: bool,
    /// `Source90` of an akmod spec: a copy of the spec itself, from which
    /// `%install` makes the SRPM akmod-<name> carries (rpm has no macro naming
    /// the spec file being built, and `%{_specdir}/%{name}.spec` is only
    /// there when the spec was put there under that name).
    pub akmod_spec_source: String,
    /// Every target arch (ExclusiveArch).
    pub arches: Vec<String>,
    /// Other kmod packages this one is built against.
    pub depends: Vec<DependencyContext>,
    /// Whether a `-devel` subpackage ships Module.symvers.
    pub devel: bool,
    /// Where the `-devel` subpackage puts Module.symvers.
    pub devel_symvers_dir: String,
    /// `/usr/src/<name>-<version>`: the -devel tree in OpenZFS's layout
    /// (`devel_files` at its top, `<kver>/Module.symvers` per kernel).
    pub devel_dir: String,
    /// `devel_files`, relative to the built tree.
    pub devel_files: Vec<String>,
    /// Where the built tree's `devel_files` are after `%build`, relative to
    /// the source top: `.` (kbuild) or the build script's copy.
    pub devel_files_from: String,
    /// Firmware files shipped with the modules.
    pub firmware: Vec<FirmwareContext>,
    /// Module signing, when requested.
    pub signing: Option<SigningContext>,
    /// `none`, `xz` or `zstd`.
    pub compress: String,
    /// `.ko`, `.ko.xz` or `.ko.zst`: suffix of the packaged files.
    pub module_suffix: String,
    /// Whether modules are stripped of debug information.
    pub strip: bool,
    /// Whether a `-debuginfo` package gets the debug info split off the
    /// modules (switch `debuginfo`).
    pub debuginfo: bool,
    /// The description's switches (`%bcond_with`/`%bcond_without`); `sign`
    /// and `debuginfo` are declared by the templates with their features.
    pub switches: Vec<SwitchContext>,
    /// Whether some switch adds make arguments (the `%build` collects them
    /// in `"$@"`).
    pub switch_make_args: bool,
    /// ` KMODPACK_WITH_<NAME>='1 or 0'` for every switch: the environment
    /// of a build script (`build.commands`, `build.dkms`).
    pub switch_env: String,
    /// Extra `Requires:` of the kmod packages.
    pub requires: Vec<String>,
    /// Extra `Provides:`.
    pub provides: Vec<String>,
    /// Extra `Conflicts:`.
    pub conflicts: Vec<String>,
    /// Extra `Obsoletes:`.
    pub obsoletes: Vec<String>,
    /// Extra `BuildRequires:` of the source package.
    pub build_requires: Vec<String>,
    /// Whether scriptlets call weak-modules.
    pub weak_modules: bool,
    /// Whether scriptlets run depmod.
    pub depmod: bool,
    /// Whether scriptlets regenerate the initramfs.
    pub initramfs: bool,
    /// Whether the kABI stablelist (greylist) is generated.
    pub greylist: bool,
    /// `%changelog` entries.
    pub changelog: Vec<ChangelogContext>,
    /// Default `%_kmodpack_bin` (the generator binary).
    pub kmodpack_command: String,
    /// `redhat` or `suse`: dependency dialect the generator is asked for.
    pub dialect: String,
    /// suse-kmp: the SUSE target (`sle15`, `sle16`, `tumbleweed`).
    pub suse_target: String,
    /// suse-kmp: `1` where the target is usrmerged, else `0` (`%usrmerged`).
    pub usrmerged: String,
    /// suse-kmp: the module tree, `/lib/modules` or (usrmerged) `/usr/lib/modules`.
    pub module_root: String,
    /// suse-kmp: the firmware tree, `/lib/firmware` or (usrmerged) `/usr/lib/firmware`.
    pub firmware_root: String,
    /// suse-kmp: the `Module.supported` flag of every module (`external`,
    /// `yes`), empty for none.
    pub supported: String,
}

/// One module.
#[derive(Debug, Clone, Serialize)]
pub struct ModuleContext {
    pub name: String,
    /// Directory of the built `.ko`, relative to the source top.
    pub path: String,
    /// The built `.ko`, relative to the source top (`name.ko` or `path/name.ko`).
    pub built: String,
    pub install_dir: String,
    /// Installed file name (`name.ko` or `name.ko.xz`).
    pub file: String,
    /// The switch its package needs (`switch` empty: always installed).
    #[serde(flatten)]
    pub guard: SwitchGuard,
}

/// The rpm conditionals around what a switch turns on (a package of
/// `packages`, its modules, its files). Tera macros cannot wrap a block, so,
/// as for the kernel cells' `open`/`close`, they are computed here and a
/// template wraps a section with one field reference on each side instead of
/// an `{% if switch %}` pair around each conditional line. All empty without
/// a switch.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SwitchGuard {
    /// The switch (empty: always built and installed).
    pub switch: String,
    /// `\n%if %{with <switch>}`. It starts with the newline so that
    /// `{{- x.if_open }}` adds the whole line, or nothing at all: an empty
    /// field on a line of its own would leave a blank line in the spec.
    pub if_open: String,
    /// `\n%endif`, closing `if_open` (same newline rule).
    pub if_close: String,
    /// `%{?with_<switch>:`, closed by `cond_close` (`}`): the inline form,
    /// for one word of a line (a module in a `for ko in ...` list).
    pub cond_open: String,
    /// See `cond_open`.
    pub cond_close: String,
}

impl SwitchGuard {
    fn new(switch: Option<&str>) -> Self {
        match switch {
            None | Some("") => SwitchGuard::default(),
            Some(s) => SwitchGuard {
                switch: s.to_string(),
                if_open: format!("\n%if %{{with {s}}}"),
                if_close: "\n%endif".to_string(),
                cond_open: format!("%{{?with_{s}:"),
                cond_close: "}".to_string(),
            },
        }
    }
}

/// One build switch.
#[derive(Debug, Clone, Serialize)]
pub struct SwitchContext {
    pub name: String,
    /// On unless `--without <name>` (`%bcond_without`).
    pub default: bool,
    pub summary: String,
    /// Its make arguments, each single-quoted for the shell.
    pub make_args: Vec<String>,
}

/// A further kmod package of the same build.
#[derive(Debug, Clone, Serialize)]
pub struct SubpackageContext {
    /// The suffix (`osd-zfs`).
    pub suffix: String,
    /// Binary package name (`kmod-<name>-<suffix>`, with `-<flavor>` for a flavored kernel).
    pub pkg_name: String,
    pub summary: String,
    pub description_lines: Vec<String>,
    pub modules: Vec<ModuleContext>,
    pub install_dirs: Vec<String>,
    pub requires: Vec<String>,
    pub provides: Vec<String>,
    pub conflicts: Vec<String>,
    pub obsoletes: Vec<String>,
    pub weak_modules: bool,
    pub depmod: bool,
    pub initramfs: bool,
    /// The switch the package needs (`switch` empty: always built).
    #[serde(flatten)]
    pub guard: SwitchGuard,
}

/// Relations of one package (every list present, empty or not).
#[derive(Debug, Clone, Default, Serialize)]
pub struct RelationsContext {
    pub requires: Vec<String>,
    pub provides: Vec<String>,
    pub conflicts: Vec<String>,
    pub obsoletes: Vec<String>,
}

impl From<super::description::Relations> for RelationsContext {
    fn from(r: super::description::Relations) -> Self {
        RelationsContext {
            requires: r.requires,
            provides: r.provides,
            conflicts: r.conflicts,
            obsoletes: r.obsoletes,
        }
    }
}

/// A file installed outside the module tree.
#[derive(Debug, Clone, Serialize)]
pub struct FileContext {
    /// Path in the sources (empty for a generated file).
    pub source: String,
    /// Content of a generated file, one entry a line (empty for a copied one).
    pub lines: Vec<String>,
    /// Absolute install path.
    pub dest: String,
    /// Its directory (for `install -d`).
    pub dir: String,
    /// Octal mode as written (`0644`).
    pub mode: String,
    /// Under `/etc`: `%config(noreplace)`.
    pub config: bool,
    /// Binary package shipping it; empty = the main package.
    pub package: String,
    /// The switch that package needs (`switch` empty: always installed).
    #[serde(flatten)]
    pub guard: SwitchGuard,
}

/// One kernel build cell.
#[derive(Debug, Clone, Serialize)]
pub struct KernelContext {
    /// rpm kernel version-release, e.g. `5.14.0-503.11.1.el9_5`.
    pub release: String,
    /// The arch of this cell (empty for redhat-kabi: `%{_target_cpu}`).
    pub arch: String,
    pub arches: Vec<String>,
    pub flavor: Option<String>,
    /// `uname -r` of the kernel (redhat-kabi: with `%{_target_cpu}`).
    pub uname: String,
    /// Kernel package base: `kernel` or `kernel-<flavor>` (SUSE: `kernel-<flavor>`).
    pub kernel_pkg: String,
    /// Kernel tree to compile against.
    pub build_dir: String,
    /// A macro-safe identifier for this cell.
    pub id: String,
    /// SUSE KMP version suffix `_k<release with - as _>`.
    pub kmp_suffix: String,
    /// Binary package of this cell (per-kernel, suse-kmp).
    pub pkg_name: String,
    /// The akmods cell of an akmod spec: the kernel named at rebuild time by
    /// `--define 'kernels <uname -r>'` (false for the listed kernels).
    pub akmods: bool,
    /// per-kernel: the conditional line(s) opening this cell's sections
    /// (`%ifarch <arch>`; with `akmod` also "not an akmods rebuild", and for
    /// the akmods cell "an akmods rebuild") and the matching `%endif`s.
    pub open: String,
    /// See `open`.
    pub close: String,
    /// `uname` where rpm wants a version (`kernel-modules-for-kernel =`):
    /// the same, but for the akmods cell, whose `%{kernels}` may be any
    /// `uname -r` (Debian's `6.1.0-57-amd64` has two `-`), with every `-`
    /// after the first as `_`.
    pub uname_version: String,
    /// suse-kmp: the per-flavor preamble (`suse.flavors.<flavor>`).
    pub relations: RelationsContext,
    /// How `%build`/`%install` refer to this cell's tree and its inputs.
    #[serde(flatten)]
    pub refs: BuildRefs,
}

/// The fields of a [`KernelContext`] that refer to overridable macros and to
/// `depends`, computed once ([`KernelContext::with_build_refs`]) so that
/// templates get them whole instead of assembling them.
#[derive(Debug, Clone, Default, Serialize)]
pub struct BuildRefs {
    /// per-kernel, suse-kmp: `../<source top dir>-<id>`, this cell's private
    /// copy of the sources, where it is compiled (redhat-kabi: `.`).
    pub copy_dir: String,
    /// The kernel tree as `%build`/`%install` refer to it: `build_dir`
    /// unless `--define 'kmodpack_kernel_build_dir DIR'` says otherwise
    /// (redhat-kabi: `%{kmodpack_kernel_build_dir}`, whose `%global`
    /// default is `build_dir`).
    pub build_dir_ref: String,
    /// The `sign-file` of that tree, overridable with `kmodpack_sign_file`
    /// (redhat-kabi: `%{kmodpack_sign_file}`, likewise).
    pub sign_file: String,
    /// Per entry of `depends`, in order: its Module.symvers for this kernel
    /// (KBUILD_EXTRA_SYMBOLS), overridable with its `symvers_macro`.
    pub symvers_refs: Vec<String>,
    /// ` <devel_var>='<devel_ref>'` per entry of `depends` (per-kernel and
    /// suse-kmp also ` <devel_var>_KERNEL='<devel_ref>/<uname>'`, the
    /// kernel's part of a per-kernel -devel tree): the build's environment.
    pub devel_env: String,
}

impl KernelContext {
    /// Fills [`BuildRefs`] for this cell.
    fn with_build_refs(
        mut self,
        style: Style,
        top_dir: &str,
        depends: &[DependencyContext],
    ) -> Self {
        let per_kernel = style != Style::RedhatKabi;
        let or = |m: &str, default: &str| format!("%{{?{m}}}%{{!?{m}:{default}}}");
        let r = &mut self.refs;
        if per_kernel {
            r.copy_dir = format!("../{top_dir}-{}", self.id);
            r.build_dir_ref = or("kmodpack_kernel_build_dir", &self.build_dir);
            r.sign_file = or(
                "kmodpack_sign_file",
                &format!("{}/scripts/sign-file", r.build_dir_ref),
            );
        } else {
            r.copy_dir = ".".into();
            r.build_dir_ref = "%{kmodpack_kernel_build_dir}".into();
            r.sign_file = "%{kmodpack_sign_file}".into();
        }
        r.symvers_refs = depends
            .iter()
            .map(|d| match per_kernel {
                true => or(
                    &d.symvers_macro,
                    &d.symvers.replace("%{kverrel}", &self.uname),
                ),
                false => d.symvers_ref.clone(),
            })
            .collect();
        r.devel_env = depends
            .iter()
            .map(|d| {
                let (var, dref) = (&d.devel_var, &d.devel_ref);
                match per_kernel {
                    true => format!(" {var}='{dref}' {var}_KERNEL='{dref}/{}'", self.uname),
                    false => format!(" {var}='{dref}'"),
                }
            })
            .collect();
        self
    }
}

/// A kmod this one builds against.
#[derive(Debug, Clone, Serialize)]
pub struct DependencyContext {
    pub name: String,
    /// Its binary package (`kmod-<name>`).
    pub pkg_name: String,
    pub version: Option<String>,
    /// rpm macro holding its Module.symvers path (`kmodpack_symvers_<name>`).
    pub symvers_macro: String,
    /// `%{<symvers_macro>}`: the reference to use in scripts.
    pub symvers_ref: String,
    /// Default of that macro (may contain `%{kverrel}`).
    pub symvers: String,
    /// rpm macro holding its -devel tree (`kmodpack_devel_<name>`), the
    /// directory its headers and generated config headers are in.
    pub devel_macro: String,
    /// `%{<devel_macro>}`.
    pub devel_ref: String,
    /// Default of that macro: the newest `/usr/src/<name>-<version>` on the
    /// build host (where its `-devel` package installs them).
    pub devel_default: String,
    /// Environment (and make) variable the build sees it as:
    /// `KMODPACK_DEVEL_<NAME>` (upper case, `-` as `_`).
    pub devel_var: String,
}

/// A firmware file.
#[derive(Debug, Clone, Serialize)]
pub struct FirmwareContext {
    pub source: String,
    pub dest: String,
}

/// Signing settings (defaults of the `kmodpack_sign_*` macros).
#[derive(Debug, Clone, Serialize)]
pub struct SigningContext {
    pub key: String,
    pub cert: String,
    pub hash: String,
}

/// One `%changelog` entry.
#[derive(Debug, Clone, Serialize)]
pub struct ChangelogContext {
    pub header: String,
    pub changes: Vec<String>,
}

/// The Source0 of the spec and where its content comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SourceArchive {
    /// `Source0:` file name (`<name>-<version>.tar.gz` for a directory).
    pub file_name: String,
    /// Top directory inside the archive (`%setup -n`).
    pub top_dir: String,
    /// Source directory to pack, as written in the description (relative to it).
    pub dir: Option<PathBuf>,
    /// Ready tarball, as written in the description.
    pub tarball: Option<PathBuf>,
    /// Patches, as written in the description.
    pub patches: Vec<PathBuf>,
}

/// What goes into SOURCES for this description: Source0 name, top dir and
/// the paths (resolved against `base_dir`, the description's directory).
pub fn source_archive(desc: &Description, base_dir: &Path) -> SourceArchive {
    let top = desc
        .source
        .top_dir
        .clone()
        .unwrap_or_else(|| format!("{}-{}", desc.name, desc.version));
    let resolve = |p: &PathBuf| {
        if p.is_absolute() {
            p.clone()
        } else {
            base_dir.join(p)
        }
    };
    let file_name = match &desc.source.tarball {
        Some(t) => t
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_default(),
        None => format!("{}-{}.tar.gz", desc.name, desc.version),
    };
    SourceArchive {
        file_name,
        top_dir: top,
        dir: desc.source.dir.as_ref().map(resolve),
        tarball: desc.source.tarball.as_ref().map(resolve),
        patches: desc.source.patches.iter().map(resolve).collect(),
    }
}

/// `p` with every symlink resolved; the error names `p`.
fn real(p: &Path) -> Result<PathBuf, String> {
    p.canonicalize()
        .map_err(|e| format!("{}: {e}", p.display()))
}

/// The real path of a source or patch `path`, if it stays inside the
/// description's directory `base` once symlinks are resolved (a link in the
/// tree pointing at `/etc/shadow` must not be copied into an SRPM), and is
/// a regular file or (for `source.dir`) a directory.
pub fn confined(base: &Path, path: &Path) -> Result<PathBuf, String> {
    let (b, p) = (real(base)?, real(path)?);
    if !p.starts_with(&b) {
        return Err(format!(
            "{}: leads outside the description's directory {} (through a symbolic link); refusing to copy it",
            path.display(),
            b.display()
        ));
    }
    let m = std::fs::metadata(&p).map_err(|e| format!("{}: {e}", path.display()))?;
    if !m.is_file() && !m.is_dir() {
        return Err(format!(
            "{}: {}, not a regular file",
            path.display(),
            crate::fsio::kind_name(&m.file_type())
        ));
    }
    Ok(p)
}

/// The real path of `source.dir`: an absolute one (the documented opt-in)
/// may lie elsewhere, but never be `/` or contain the description itself —
/// packing a parent would put the whole surrounding tree into the SRPM.
pub fn source_dir(base: &Path, dir: &Path) -> Result<PathBuf, String> {
    let (b, d) = (real(base)?, real(dir)?);
    if d == Path::new("/") || (b.starts_with(&d) && b != d) {
        return Err(format!(
            "source.dir {}: is `/` or a parent of the description's directory {}; refusing to pack it",
            dir.display(),
            b.display()
        ));
    }
    if !d.is_dir() {
        return Err(format!("source.dir {}: not a directory", dir.display()));
    }
    Ok(d)
}

/// Builds the render context (the values templates see).
pub fn context(desc: &Description, opts: &RenderOptions) -> Result<RenderContext, SpecError> {
    check_options(opts)?;
    let style = desc.style;
    let mut selected = desc.kernels_matching(opts.kernel_release.as_deref());
    if let Some(f) = &opts.kernel_flavor {
        selected.retain(|k| &k.flavor == f);
    }
    if selected.is_empty() {
        let have: Vec<&str> = desc.kernels.iter().map(|k| k.release.as_str()).collect();
        return Err(SpecError::Options(format!(
            "no kernel with release `{}` in the description (it lists {})",
            opts.kernel_release.as_deref().unwrap_or(""),
            have.join(", ")
        )));
    }
    let releases: BTreeSet<&str> = selected.iter().map(|k| k.release.as_str()).collect();
    if style == Style::RedhatKabi && (releases.len() > 1 || selected.len() > 1) {
        return Err(SpecError::Options(format!(
            "redhat-kabi builds one kABI-tracking package against one kernel, but {} kernels are selected ({}); \
             choose one with --kernel RELEASE (weak-modules then reuses it on compatible later kernels), or use style per-kernel",
            selected.len(),
            releases.into_iter().collect::<Vec<_>>().join(", ")
        )));
    }
    let compression = desc.packaged_compression();
    let suffix = match compression {
        PackagedCompression::None => ".ko",
        PackagedCompression::Xz => ".ko.xz",
        PackagedCompression::Zstd => ".ko.zst",
    };
    let build_mode = if desc.build.dkms.is_some() {
        "dkms"
    } else if !desc.build.commands.is_empty() {
        "commands"
    } else {
        "kbuild"
    };
    // The build script collects every module (and Module.symvers) into one directory.
    let scripted = build_mode != "kbuild";
    let build_subdir = if scripted {
        super::buildscript::BUILT_DIR.to_string()
    } else {
        desc.build.subdir.clone().unwrap_or_else(|| ".".to_string())
    };
    let modules: Vec<ModuleContext> = desc
        .modules
        .iter()
        .map(|m| ModuleContext {
            name: m.name.clone(),
            path: m.path.clone().unwrap_or_else(|| build_subdir.clone()),
            built: match (scripted, m.path.as_deref().unwrap_or(&build_subdir)) {
                (true, _) => format!("{}/{}.ko", super::buildscript::BUILT_DIR, m.name),
                (false, "." | "") => format!("{}.ko", m.name),
                (false, p) => format!("{}/{}.ko", p.trim_end_matches('/'), m.name),
            },
            install_dir: desc.install_dir_of(m),
            file: format!("{}{suffix}", m.name),
            guard: SwitchGuard::new(desc.switch_of(&m.name)),
        })
        .collect();
    let of_package = |pkg: Option<&str>| -> Vec<ModuleContext> {
        modules
            .iter()
            .filter(|m| desc.package_of(&m.name) == pkg)
            .cloned()
            .collect()
    };
    let dirs_of = |ms: &[ModuleContext]| -> Vec<String> {
        ms.iter()
            .map(|m| m.install_dir.clone())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect()
    };
    let main_modules = of_package(None);
    let install_dirs = dirs_of(&main_modules);
    let override_dir = opts
        .kernel_build_dir
        .as_ref()
        .map(|p| p.display().to_string());
    let mut kernels = Vec::new();
    let mut arches = BTreeSet::new();
    for k in &selected {
        arches.extend(k.arches.iter().cloned());
        let explicit = override_dir
            .clone()
            .or_else(|| k.build_dir.as_ref().map(|p| p.display().to_string()));
        let flavor = k.flavor.clone();
        let cells: Vec<String> = if style == Style::RedhatKabi {
            vec![String::new()]
        } else {
            k.arches.clone()
        };
        for arch in cells {
            let (uname, kernel_pkg, default_dir, pkg_name) = match style {
                Style::RedhatKabi => {
                    let plus = flavor.as_ref().map(|f| format!("+{f}")).unwrap_or_default();
                    let pkg = flavor
                        .as_ref()
                        .map(|f| format!("kernel-{f}"))
                        .unwrap_or_else(|| "kernel".into());
                    let name = match &flavor {
                        Some(f) => format!("kmod-{}-{f}", desc.name),
                        None => format!("kmod-{}", desc.name),
                    };
                    (
                        format!("{}.%{{_target_cpu}}{plus}", k.release),
                        pkg,
                        "/usr/src/kernels/%{kverrel}".to_string(),
                        name,
                    )
                }
                Style::PerKernel => {
                    let plus = flavor.as_ref().map(|f| format!("+{f}")).unwrap_or_default();
                    let uname = format!("{}.{arch}{plus}", k.release);
                    let pkg = flavor
                        .as_ref()
                        .map(|f| format!("kernel-{f}"))
                        .unwrap_or_else(|| "kernel".into());
                    let name = format!("kmod-{}-{uname}", desc.name);
                    (
                        uname.clone(),
                        pkg,
                        format!("/usr/src/kernels/{uname}"),
                        name,
                    )
                }
                Style::SuseKmp => {
                    let f = flavor.clone().unwrap_or_else(|| "default".to_string());
                    let uname = format!("{}-{f}", k.release);
                    (
                        uname,
                        format!("kernel-{f}"),
                        format!("/usr/src/linux-{}-obj/{arch}/{f}", k.release),
                        format!("{}-kmp-{f}", desc.name),
                    )
                }
            };
            let id = macro_id(
                &[
                    k.release.as_str(),
                    arch.as_str(),
                    flavor.as_deref().unwrap_or(""),
                ]
                .iter()
                .filter(|s| !s.is_empty())
                .copied()
                .collect::<Vec<_>>()
                .join("_"),
            );
            kernels.push(KernelContext {
                release: k.release.clone(),
                arch: arch.clone(),
                arches: k.arches.clone(),
                flavor: if style == Style::SuseKmp {
                    Some(flavor.clone().unwrap_or_else(|| "default".into()))
                } else {
                    flavor.clone()
                },
                uname_version: uname.clone(),
                uname,
                kernel_pkg,
                build_dir: explicit.clone().unwrap_or(default_dir),
                id,
                kmp_suffix: format!("_k{}", k.release.replace('-', "_")),
                pkg_name,
                akmods: false,
                open: if desc.akmod {
                    format!("{NOT_AKMODS_REBUILD}\n%ifarch {arch}")
                } else {
                    format!("%ifarch {arch}")
                },
                close: if desc.akmod {
                    "%endif\n%endif".to_string()
                } else {
                    "%endif".to_string()
                },
                relations: match (style, &desc.suse) {
                    (Style::SuseKmp, Some(s)) => s
                        .flavors
                        .get(flavor.as_deref().unwrap_or("default"))
                        .cloned()
                        .map(RelationsContext::from)
                        .unwrap_or_default(),
                    _ => RelationsContext::default(),
                },
                refs: BuildRefs::default(),
            });
        }
    }
    // redhat-kabi renders one kernel: its flavor suffixes every package name,
    // its kmod-<name> and <name>-kmod Provides and the kmods it depends on: a
    // kmod-foo-debug must not satisfy an importer's `Requires: kmod-foo`.
    let flavor_suffix = match (style, selected.first().and_then(|k| k.flavor.as_ref())) {
        (Style::RedhatKabi, Some(f)) => format!("-{f}"),
        _ => String::new(),
    };
    let depends: Vec<DependencyContext> = desc
        .depends
        .iter()
        .map(|d| {
            let symvers = opts
                .dependency_symvers
                .get(&d.name)
                .or(d.symvers.as_ref())
                .map(|p| p.display().to_string().replace("{kver}", "%{kverrel}"))
                .unwrap_or_else(|| {
                    format!("{DEVEL_SYMVERS_DIR}/{}/%{{kverrel}}/Module.symvers", d.name)
                });
            let id = macro_id(&d.name);
            DependencyContext {
                devel_macro: format!("kmodpack_devel_{id}"),
                devel_ref: format!("%{{kmodpack_devel_{id}}}"),
                devel_default: format!(
                    "%(ls -d /usr/src/{}-[0-9]* 2>/dev/null | sort -V | tail -n 1)",
                    d.name
                ),
                devel_var: format!("KMODPACK_DEVEL_{}", id.to_ascii_uppercase()),
                name: d.name.clone(),
                pkg_name: match style {
                    Style::SuseKmp => format!("{}-kmp", d.name),
                    _ => format!("kmod-{}{flavor_suffix}", d.name),
                },
                version: d.version.clone(),
                symvers_macro: format!("kmodpack_symvers_{}", macro_id(&d.name)),
                symvers_ref: format!("%{{kmodpack_symvers_{}}}", macro_id(&d.name)),
                symvers,
            }
        })
        .collect();
    let source = source_archive(desc, Path::new(""));
    let with_refs = |k: KernelContext| k.with_build_refs(style, &source.top_dir, &depends);
    let kernels: Vec<KernelContext> = kernels.into_iter().map(with_refs).collect();
    // The cells `%build` compiles: the listed kernels, plus an akmod's
    // rebuild cell.
    let mut build_kernels = kernels.clone();
    if desc.akmod {
        build_kernels.push(with_refs(akmods_kernel(&desc.name)));
    }
    if desc.metapackage.is_some() && style != Style::PerKernel {
        return Err(SpecError::Options(format!(
            "`metapackage`: style {} has no metapackage (only per-kernel's kmod-{} is one); \
             put these relations into the top-level requires/provides/conflicts/obsoletes",
            style.as_str(),
            desc.name
        )));
    }
    let subpackages: Vec<SubpackageContext> = desc
        .packages
        .iter()
        .map(|p| {
            let ms = of_package(Some(&p.name));
            let sc = p.scriptlets.as_ref().unwrap_or(&desc.scriptlets);
            let summary = p
                .summary
                .clone()
                .unwrap_or_else(|| format!("{} ({})", desc.summary, p.name));
            SubpackageContext {
                suffix: p.name.clone(),
                pkg_name: match style {
                    // The flavor is appended per kernel: `<name>-<suffix>-kmp-<flavor>`.
                    Style::SuseKmp => format!("{}-{}-kmp", desc.name, p.name),
                    _ => format!("kmod-{}-{}{flavor_suffix}", desc.name, p.name),
                },
                description_lines: match &p.description {
                    Some(d) => d.trim_end().lines().map(str::to_string).collect(),
                    None => vec![summary.clone()],
                },
                summary,
                install_dirs: dirs_of(&ms),
                modules: ms,
                requires: p.requires.clone(),
                provides: p.provides.clone(),
                conflicts: p.conflicts.clone(),
                obsoletes: p.obsoletes.clone(),
                weak_modules: sc.weak_modules,
                depmod: sc.depmod,
                initramfs: sc.initramfs == InitramfsPolicy::Auto,
                guard: SwitchGuard::new(p.switch.as_deref()),
            }
        })
        .collect();
    let extra_files = extra_files(desc, &flavor_suffix)?;
    let description_lines: Vec<String> = match &desc.description {
        Some(d) => d.trim_end().lines().map(|l| l.to_string()).collect(),
        None => vec![desc.summary.clone()],
    };
    // suse-kmp: the main KMP and those of `packages`, rendered alike per flavor.
    let kmp_units: Vec<SubpackageContext> = if style == Style::SuseKmp {
        let main = SubpackageContext {
            suffix: String::new(),
            pkg_name: format!("{}-kmp", desc.name),
            summary: desc.summary.clone(),
            description_lines: description_lines.clone(),
            modules: main_modules.clone(),
            install_dirs: install_dirs.clone(),
            requires: desc.requires.clone(),
            provides: desc.provides.clone(),
            conflicts: desc.conflicts.clone(),
            obsoletes: desc.obsoletes.clone(),
            weak_modules: desc.scriptlets.weak_modules,
            depmod: desc.scriptlets.depmod,
            initramfs: desc.scriptlets.initramfs == InitramfsPolicy::Auto,
            // The main KMP is never dropped by a switch.
            guard: SwitchGuard::default(),
        };
        std::iter::once(main)
            .chain(subpackages.iter().cloned())
            .collect()
    } else {
        Vec::new()
    };
    let changelog = desc
        .changelog
        .iter()
        .map(|c| ChangelogContext {
            header: match &c.version {
                Some(v) => format!("{} {} - {v}", c.date, c.author),
                None => format!("{} {}", c.date, c.author),
            },
            changes: c.changes.clone(),
        })
        .collect();
    Ok(RenderContext {
        style: style.as_str().to_string(),
        name: desc.name.clone(),
        pkg_name: match style {
            Style::SuseKmp => format!("{}-kmp", desc.name),
            _ => format!("kmod-{}", desc.name),
        },
        spec_name: match style {
            Style::RedhatKabi => format!("kmod-{}", desc.name),
            Style::PerKernel => format!("{}-kmod", desc.name),
            Style::SuseKmp => desc.name.clone(),
        },
        version: desc.version.clone(),
        release: desc.release.clone(),
        epoch: desc.epoch,
        release_from_kernel: desc.release_from_kernel(),
        summary: desc.summary.clone(),
        license: desc.license.clone(),
        url: desc.url.clone(),
        description_lines,
        source,
        patches: desc
            .source
            .patches
            .iter()
            .map(|p| {
                p.file_name()
                    .map(|f| f.to_string_lossy().into_owned())
                    .unwrap_or_default()
            })
            .collect(),
        build_subdir_suffix: match build_subdir.trim_end_matches('/') {
            "." | "" => String::new(),
            d => format!("/{d}"),
        },
        build_subdir,
        make_args: desc
            .build
            .make_args
            .iter()
            .map(|a| super::buildscript::quote(a))
            .collect(),
        build_mode: build_mode.to_string(),
        build_script: if scripted {
            super::buildscript::FILE_NAME.to_string()
        } else {
            String::new()
        },
        modules,
        main_modules,
        install_dirs,
        subpackages,
        kmp_units,
        flavor_suffix,
        metapackage: desc
            .metapackage
            .clone()
            .map(RelationsContext::from)
            .unwrap_or_default(),
        extra_files,
        license_files: desc.license_files.clone(),
        doc_files: desc.doc_files.clone(),
        kernels,
        build_kernels,
        akmod: desc.akmod,
        akmod_spec_source: akmod_spec_source_name(desc),
        arches: arches.into_iter().collect(),
        depends,
        devel: desc.devel,
        devel_symvers_dir: DEVEL_SYMVERS_DIR.to_string(),
        devel_dir: format!("/usr/src/{}-{}", desc.name, desc.version),
        devel_files: desc
            .devel_files
            .iter()
            .map(|f| f.trim_end_matches('/').to_string())
            .collect(),
        devel_files_from: if scripted {
            format!("{}/devel", super::buildscript::BUILT_DIR)
        } else {
            ".".to_string()
        },
        firmware: desc
            .firmware
            .iter()
            .map(|f| FirmwareContext {
                source: f.source.clone(),
                dest: f.dest.clone(),
            })
            .collect(),
        signing: desc.signing.as_ref().map(|s| SigningContext {
            key: s.key.clone(),
            cert: s.cert.clone(),
            hash: s.hash.clone(),
        }),
        compress: match compression {
            PackagedCompression::None => "none".into(),
            PackagedCompression::Xz => "xz".into(),
            PackagedCompression::Zstd => "zstd".into(),
        },
        module_suffix: suffix.to_string(),
        strip: desc.strip,
        debuginfo: desc.debuginfo,
        switches: desc
            .switches
            .iter()
            .map(|s| SwitchContext {
                name: s.name.clone(),
                default: s.default,
                // A spec comment: rpm expands macros there too.
                summary: s.summary.clone().unwrap_or_default().replace('%', "%%"),
                make_args: s
                    .make_args
                    .iter()
                    .map(|a| super::buildscript::quote(a))
                    .collect(),
            })
            .collect(),
        switch_make_args: desc.switches.iter().any(|s| !s.make_args.is_empty()),
        switch_env: desc
            .switches
            .iter()
            .map(|s| {
                format!(
                    " KMODPACK_WITH_{}='%{{?with_{n}:1}}%{{!?with_{n}:0}}'",
                    s.name.to_ascii_uppercase(),
                    n = s.name
                )
            })
            .collect(),
        requires: desc.requires.clone(),
        provides: desc.provides.clone(),
        conflicts: desc.conflicts.clone(),
        obsoletes: desc.obsoletes.clone(),
        build_requires: desc.build_requires.clone(),
        weak_modules: desc.scriptlets.weak_modules,
        depmod: desc.scriptlets.depmod,
        initramfs: desc.scriptlets.initramfs == InitramfsPolicy::Auto,
        greylist: desc.kabi.greylist,
        changelog,
        kmodpack_command: opts
            .kmodpack_command
            .clone()
            .unwrap_or_else(|| "%{_bindir}/kmodpack".to_string()),
        dialect: if style == Style::SuseKmp {
            "suse".into()
        } else {
            "redhat".into()
        },
        suse_target: desc.suse_target().as_str().to_string(),
        usrmerged: if desc.suse_target().usrmerged() {
            "1"
        } else {
            "0"
        }
        .to_string(),
        module_root: if style == Style::SuseKmp && desc.suse_target().usrmerged() {
            "/usr/lib/modules"
        } else {
            "/lib/modules"
        }
        .to_string(),
        firmware_root: if style == Style::SuseKmp && desc.suse_target().usrmerged() {
            "/usr/lib/firmware"
        } else {
            "/lib/firmware"
        }
        .to_string(),
        supported: match desc.suse.as_ref().map(|s| s.supported).unwrap_or_default() {
            SupportStatus::External => "external",
            SupportStatus::Yes => "yes",
            SupportStatus::No => "",
        }
        .to_string(),
    })
}

/// The files of `files` and the generated config files of `modprobe`,
/// `modules_load` and `dracut` (named after the main package, in the main
/// package), with their packages resolved. A generated file may not be
/// installed by `files` too.
fn extra_files(desc: &Description, flavor_suffix: &str) -> Result<Vec<FileContext>, SpecError> {
    let stem = match desc.style {
        Style::SuseKmp => desc.name.clone(),
        _ => format!("kmod-{}{flavor_suffix}", desc.name),
    };
    let dir_of = |d: &str| {
        Path::new(d)
            .parent()
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| "/".into())
    };
    let mut generated: Vec<(&str, String, Vec<String>)> = Vec::new();
    if let Some(mp) = &desc.modprobe {
        let mut lines = vec![format!(
            "# {stem}: generated by kmodpack from the package description"
        )];
        lines.extend(mp.blacklist.iter().map(|b| format!("blacklist {b}")));
        lines.extend(
            mp.options
                .iter()
                .map(|o| format!("options {} {}", o.module, o.options)),
        );
        for sd in &mp.softdeps {
            let mut l = format!("softdep {}", sd.module);
            if !sd.pre.is_empty() {
                l.push_str(&format!(" pre: {}", sd.pre.join(" ")));
            }
            if !sd.post.is_empty() {
                l.push_str(&format!(" post: {}", sd.post.join(" ")));
            }
            lines.push(l);
        }
        generated.push(("modprobe", format!("/etc/modprobe.d/{stem}.conf"), lines));
    }
    if !desc.modules_load.is_empty() {
        let mut lines = vec![format!(
            "# {stem}: generated by kmodpack from the package description"
        )];
        lines.extend(desc.modules_load.iter().cloned());
        generated.push((
            "modules_load",
            format!("/etc/modules-load.d/{stem}.conf"),
            lines,
        ));
    }
    if let Some(d) = desc.dracut.as_ref().filter(|d| !d.add_drivers.is_empty()) {
        generated.push((
            "dracut",
            format!("/etc/dracut.conf.d/{stem}.conf"),
            vec![
                format!("# {stem}: generated by kmodpack from the package description"),
                format!("add_drivers+=\" {} \"", d.add_drivers.join(" ")),
            ],
        ));
    }
    let depmod_confs = format!("/etc/depmod.d/kmod-{}", desc.name);
    let mut out = Vec::new();
    for f in &desc.files {
        if let Some((key, _, _)) = generated.iter().find(|(_, d, _)| *d == f.dest) {
            return Err(SpecError::Options(format!(
                "files: `{}` is also written from `{key}`; drop one of them",
                f.dest
            )));
        }
        if desc.style == Style::RedhatKabi && f.dest.starts_with(&depmod_confs) {
            return Err(SpecError::Options(format!(
                "files: `{}` collides with the depmod.d files the packages write",
                f.dest
            )));
        }
        out.push(FileContext {
            source: f.source.clone(),
            lines: Vec::new(),
            dir: dir_of(&f.dest),
            dest: f.dest.clone(),
            mode: f.mode.clone(),
            config: f.dest.starts_with("/etc/"),
            package: match &f.package {
                Some(p) if desc.style == Style::SuseKmp => format!("{}-{p}-kmp", desc.name),
                Some(p) => format!("kmod-{}-{p}{flavor_suffix}", desc.name),
                None => String::new(),
            },
            guard: SwitchGuard::new(f.package.as_deref().and_then(|p| desc.package_switch(p))),
        });
    }
    out.extend(generated.into_iter().map(|(_, dest, lines)| FileContext {
        source: String::new(),
        lines,
        dir: dir_of(&dest),
        dest,
        mode: "0644".into(),
        config: true,
        package: String::new(),
        guard: SwitchGuard::default(),
    }));
    Ok(out)
}

/// The option values that end up in the spec get the same checks as the
/// description's paths: they are rendered inside `%{!?macro:...}` and shell
/// code too, and every caller (`spec`, `build`, library users) goes through here.
fn check_options(opts: &RenderOptions) -> Result<(), SpecError> {
    let path = |what: String, p: &Path| -> Result<(), SpecError> {
        let s = p
            .to_str()
            .ok_or_else(|| SpecError::Options(format!("{what}: must be UTF-8")))?;
        safety::check(s, safety::Check::Path)
            .map_err(|m| SpecError::Options(format!("{what}: {m}")))
    };
    if let Some(dir) = &opts.kernel_build_dir {
        path("--kernel-build-dir".into(), dir)?;
    }
    for (name, file) in &opts.dependency_symvers {
        // `{kver}` is replaced by the kernel's uname -r when rendering.
        let what = format!("--dependency-symvers {name}");
        let f = file
            .to_str()
            .ok_or_else(|| SpecError::Options(format!("{what}: must be UTF-8")))?;
        path(what, Path::new(&f.replace("{kver}", "kver")))?;
    }
    if let Some(c) = &opts.kmodpack_command {
        path("--kmodpack-command".into(), Path::new(c))?;
    }
    Ok(())
}

/// An rpm-macro-safe identifier (letters, digits, `_`).
fn macro_id(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect()
}

/// Renders the spec for `desc`. Besides the [`RenderContext`], templates
/// get `in_process_generator`: kmodpack.attr's in-process generator as
/// `%define` lines ([`super::generator::spec_defines`]).
pub fn render(desc: &Description, opts: &RenderOptions) -> Result<String, SpecError> {
    let ctx = context(desc, opts)?;
    let tera = load_templates(opts.template_dir.as_deref())?;
    let name = format!("{}.spec.tera", ctx.style);
    let mut tctx = tera::Context::from_serialize(&ctx).map_err(|e| SpecError::Template {
        name: name.clone(),
        message: tera_message(&e),
    })?;
    // Not part of the context `--explain` shows: the same text for every
    // spec (kmodpack.attr's in-process generator).
    tctx.insert(
        "in_process_generator",
        super::generator::spec_defines().trim_end(),
    );
    let out = tera.render(&name, &tctx).map_err(|e| SpecError::Template {
        name: name.clone(),
        message: tera_message(&e),
    })?;
    Ok(tidy(&out))
}

/// The effective description: the render context as YAML (every default
/// filled in, every derived name and path shown).
pub fn explain(desc: &Description, opts: &RenderOptions) -> Result<String, SpecError> {
    let ctx = context(desc, opts)?;
    serde_yaml::to_string(&ctx)
        .map_err(|e| SpecError::Options(format!("cannot show the description: {e}")))
}

fn load_templates(dir: Option<&Path>) -> Result<tera::Tera, SpecError> {
    let mut tera = tera::Tera::default();
    tera.autoescape_on(vec![]);
    let mut files: Vec<(String, String)> = BUILTIN
        .iter()
        .map(|(n, t)| (n.to_string(), t.to_string()))
        .collect();
    if let Some(dir) = dir {
        let entries = std::fs::read_dir(dir).map_err(|source| SpecError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        let mut names: Vec<PathBuf> = entries
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "tera"))
            .collect();
        names.sort();
        for p in names {
            let text = std::fs::read_to_string(&p).map_err(|source| SpecError::Io {
                path: p.clone(),
                source,
            })?;
            let n = p
                .file_name()
                .map(|f| f.to_string_lossy().into_owned())
                .unwrap_or_default();
            files.retain(|(existing, _)| *existing != n);
            files.push((n, text));
        }
    }
    tera.add_raw_templates(files)
        .map_err(|e| SpecError::Template {
            name: "(loading)".into(),
            message: tera_message(&e),
        })?;
    Ok(tera)
}

fn tera_message(e: &tera::Error) -> String {
    let mut msg = e.to_string();
    let mut src = std::error::Error::source(e);
    while let Some(s) = src {
        msg.push_str(": ");
        msg.push_str(&s.to_string());
        src = s.source();
    }
    msg.replace('\n', " ")
}

/// Collapses runs of blank lines left by template conditionals and ends
/// the spec with exactly one newline.
fn tidy(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut blank = 0;
    for line in s.lines() {
        let line = line.trim_end();
        if line.is_empty() {
            blank += 1;
            if blank > 1 {
                continue;
            }
        } else {
            blank = 0;
        }
        out.push_str(line);
        out.push('\n');
    }
    while out.ends_with("\n\n") {
        out.pop();
    }
    out
}
