//! The package description: the typed, validated YAML model a kmod spec is
//! rendered from.
//!
//! Why typed: kmodtool built specs from shell variables inside `%(...)` and
//! threw its errors away; here every key is known (unknown keys are errors
//! with a suggestion), every value is checked for rpm/shell safety before it
//! can reach a template, and every error names the YAML key and its line.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::locate::{duplicate_key_line, line_of};
use super::safety::{self, Check};
use super::suggest::closest;
use super::SpecError;

/// A kmod package description (the YAML file, after defaults and checks).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Description {
    /// Base name of the package: `kmod-<name>` (redhat-kabi, per-kernel) or
    /// `<name>-kmp-<flavor>` (suse-kmp).
    pub name: String,
    /// Package version, independent of the kernel.
    pub version: String,
    /// Package release (rpm Release, without `%{?dist}`, which is appended).
    #[serde(default = "default_release")]
    pub release: String,
    /// rpm Epoch of every package (only when a version went backwards).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub epoch: Option<u32>,
    /// Qualify Release with the target kernel's dist tag (`1.el9_5` for
    /// 5.14.0-503.11.1.el9_5) instead of `%{?dist}` (`.el9` on any RHEL 9
    /// builder), so builds for several minor releases never share an NVRA.
    /// Unset: on for redhat-kabi ([`Description::release_from_kernel`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub release_from_kernel: Option<bool>,
    /// One-line summary.
    pub summary: String,
    /// SPDX licence expression of the modules (e.g. `GPL-2.0-only`).
    pub license: String,
    /// Upstream URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Longer description (several lines allowed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Packaging style (template): `redhat-kabi` (default), `per-kernel`, `suse-kmp`.
    #[serde(default)]
    pub style: Style,
    /// Where the module sources come from.
    pub source: Source,
    /// How to compile.
    #[serde(default)]
    pub build: Build,
    /// The kernel modules the package builds and installs.
    pub modules: Vec<Module>,
    /// Target kernels: an explicit list, never "the newest kernel-devel".
    pub kernels: Vec<Kernel>,
    /// Other kmods this one is built against (their Module.symvers) and requires.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub depends: Vec<KmodDependency>,
    /// Also build a `-devel` subpackage carrying this kmod's Module.symvers
    /// for kmods that depend on it.
    #[serde(default)]
    pub devel: bool,
    /// Files and directories of the built tree (relative to it: generated
    /// config headers, `include/`) that the `-devel` package installs under
    /// `/usr/src/<name>-<version>/`, OpenZFS's layout, where dependent
    /// builds look (the per-kernel Module.symvers goes to `<kver>/` there;
    /// styles per-kernel and suse-kmp put these files there too, one set per kernel).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub devel_files: Vec<String>,
    /// per-kernel: also build `akmod-<name>` (RPM Fusion's akmods layout):
    /// the package's own SRPM under `/usr/src/akmods/`, which akmods on the
    /// target rebuilds with `--define 'kernels <uname -r>'` for kernels no
    /// prebuilt package exists for (Fedora, mainline: no stable kABI).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub akmod: bool,
    /// Firmware files installed under /lib/firmware.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub firmware: Vec<Firmware>,
    /// Further kmod packages from the same sources and build, each with its
    /// own modules and relations (Lustre: `kmod-lustre-osd-zfs`,
    /// `kmod-lustre-tests`). Modules no entry lists stay in the main package.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub packages: Vec<ExtraPackage>,
    /// Relations of the per-kernel style's metapackage `kmod-<name>` (the
    /// package users install by name, so the one that must obsolete and
    /// provide the names it replaces).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metapackage: Option<Relations>,
    /// Extra files from the sources (udev rules, config files) with their modes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<ExtraFile>,
    /// `/etc/modprobe.d/<package>.conf`, written from typed entries.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub modprobe: Option<Modprobe>,
    /// Modules loaded at boot: `/etc/modules-load.d/<package>.conf`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub modules_load: Vec<String>,
    /// Drivers forced into the initramfs: `/etc/dracut.conf.d/<package>.conf`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dracut: Option<Dracut>,
    /// Files of the source tree packaged as `%license`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub license_files: Vec<String>,
    /// Files of the source tree packaged as `%doc`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub doc_files: Vec<String>,
    /// Module signing; absent = modules are not signed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signing: Option<Signing>,
    /// Module compression after signing: `none`, `xz` or `zstd`. Absent:
    /// what the target kernel uses ([`Description::packaged_compression`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compress: Option<PackagedCompression>,
    /// Strip debug info from modules before signing (default true).
    #[serde(default = "yes")]
    pub strip: bool,
    /// Also build a `-debuginfo` package: the debug info split off each
    /// module before it is stripped (for crash-dump analysis), as
    /// `/usr/lib/debug/lib/modules/<kver>/.../<module>.ko.debug` (Red Hat's
    /// kernel-debuginfo layout), the module pointing at it by
    /// `.gnu_debuglink`. redhat-kabi; switch `debuginfo` turns it off.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub debuginfo: bool,
    /// Build switches, `rpmbuild --with NAME` / `--without NAME` (rpm's
    /// `%bcond`): optional packages (`packages[].switch`), extra make
    /// arguments, and what a `build.commands` step sees as `KMODPACK_WITH_<NAME>`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub switches: Vec<Switch>,
    /// Extra package relations, copied into the kmod (sub)packages.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub requires: Vec<String>,
    /// Extra `Provides:`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub provides: Vec<String>,
    /// Extra `Conflicts:`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conflicts: Vec<String>,
    /// Extra `Obsoletes:`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub obsoletes: Vec<String>,
    /// Extra BuildRequires of the source package.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub build_requires: Vec<String>,
    /// Scriptlet policy.
    #[serde(default)]
    pub scriptlets: Scriptlets,
    /// kABI stablelist handling (redhat-kabi).
    #[serde(default)]
    pub kabi: Kabi,
    /// `%changelog` entries, newest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub changelog: Vec<ChangelogEntry>,
    /// SUSE KMP settings (style suse-kmp only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suse: Option<Suse>,
}

fn default_release() -> String {
    "1".to_string()
}
fn yes() -> bool {
    true
}

/// Packaging style, one template each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Style {
    /// Red Hat kABI-tracking `kmod-<name>` (weak-modules, extra/).
    #[default]
    RedhatKabi,
    /// RPM Fusion style `kmod-<name>-<uname-r>` per kernel.
    PerKernel,
    /// SUSE Kernel Module Package `<name>-kmp-<flavor>` (updates/).
    SuseKmp,
}

impl Style {
    /// The name used in YAML, on the command line and as template file stem.
    pub fn as_str(self) -> &'static str {
        match self {
            Style::RedhatKabi => "redhat-kabi",
            Style::PerKernel => "per-kernel",
            Style::SuseKmp => "suse-kmp",
        }
    }
    /// All styles.
    pub const ALL: [Style; 3] = [Style::RedhatKabi, Style::PerKernel, Style::SuseKmp];
}

/// Module sources: a directory (relative to the description file) or a tarball.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Source {
    /// Directory with the sources; packed as `<name>-<version>.tar.gz` with a
    /// `<name>-<version>/` top directory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dir: Option<PathBuf>,
    /// Ready tarball; its top directory is `top_dir` (default `<name>-<version>`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tarball: Option<PathBuf>,
    /// Top directory inside the tarball.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_dir: Option<String>,
    /// Patches applied with `-p1`, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub patches: Vec<PathBuf>,
}

/// How the modules are compiled (kbuild external-module build).
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Build {
    /// Directory (inside the source tree) where `make -C <kernel> M=<dir>` runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subdir: Option<String>,
    /// Extra `make` arguments (e.g. `CONFIG_FOO=m`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub make_args: Vec<String>,
    /// Ordered shell steps run by bash in `%build` instead of kbuild's
    /// `make M=`, for trees with their own build system (a configure step,
    /// several directories). Each runs in the source top with
    /// `KMODPACK_KERNEL_RELEASE`, `KMODPACK_KERNEL_BUILD_DIR`, `KMODPACK_ARCH`,
    /// `KMODPACK_SOURCE_DIR` and `KMODPACK_JOBS` set; the modules are then
    /// taken from `modules[].path`, and one that is missing fails the build.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub commands: Vec<String>,
    /// A DKMS tree: `%build` runs its dkms.conf recipe for each target kernel
    /// the way `dkms build` does (written by `kmodpack spec --from-dkms`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dkms: Option<DkmsBuild>,
}

/// The DKMS recipe of a tree. Why run it at build time: a dkms.conf is bash
/// sourced with the kernel's variables set, so its values (MAKE, PATCH,
/// BUILT_MODULE_LOCATION, BUILD_EXCLUSIVE_*) may differ per kernel; only
/// evaluating it for the kernel being compiled is exact.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct DkmsBuild {
    /// dkms.conf, relative to the source top.
    #[serde(default = "default_dkms_conf")]
    pub conf: String,
    /// DKMS's module name (PACKAGE_NAME as DKMS sees it: `$module`).
    pub module: String,
    /// DKMS's module version (PACKAGE_VERSION unchanged, `-` included: `$module_version`).
    pub version: String,
}

fn default_dkms_conf() -> String {
    "dkms.conf".to_string()
}

/// One kernel module built and installed by the package.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Module {
    /// Module file name without `.ko`.
    pub name: String,
    /// Where kbuild leaves `<name>.ko`, relative to the source top (default: build.subdir).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Install directory under `extra/` (redhat) or `updates/` (suse); default: the package name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub install_dir: Option<String>,
}

/// One target kernel.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Kernel {
    /// rpm-facing kernel version-release without arch, e.g. `5.14.0-503.11.1.el9_5`.
    pub release: String,
    /// Architectures (rpm names), default `[x86_64]`.
    #[serde(default = "default_arches")]
    pub arches: Vec<String>,
    /// Kernel flavor/variant (`debug`, `rt`, `64k`; SUSE: `default`, `rt`); none = default kernel.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flavor: Option<String>,
    /// Kernel build tree to compile against; default `/usr/src/kernels/<uname-r>`
    /// (Red Hat) or `/usr/src/linux-<release>-obj/<arch>/<flavor>` (SUSE).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub build_dir: Option<PathBuf>,
}

fn default_arches() -> Vec<String> {
    vec!["x86_64".to_string()]
}

/// A kmod this one is built against.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct KmodDependency {
    /// Base name of the other kmod (its description's `name`).
    pub name: String,
    /// Minimum version of the other kmod (rpm version, optional).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Its Module.symvers at build time; default: where its `-devel`
    /// subpackage installs it. `{kver}` stands for the target kernel's
    /// `uname -r` (per-kernel symvers, e.g. `/usr/src/zfs-2.1.11/{kver}/Module.symvers`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub symvers: Option<PathBuf>,
}

/// A firmware file.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Firmware {
    /// Path inside the source tree.
    pub source: String,
    /// Destination under /lib/firmware.
    pub dest: String,
}

/// A further kmod package built from the same sources (`kmod-<name>-<suffix>`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ExtraPackage {
    /// Suffix of the package name: `osd-zfs` makes `kmod-<name>-osd-zfs`.
    pub name: String,
    /// One-line summary (default: the description's, with the suffix).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    /// `%description` text (default: the summary).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Names of the modules (from `modules`) this package ships.
    pub modules: Vec<String>,
    /// Relations of this package only. Why per package: a tests package must
    /// not obsolete what the core package obsoletes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub requires: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub provides: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conflicts: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub obsoletes: Vec<String>,
    /// Scriptlet policy of this package (default: the top-level `scriptlets`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scriptlets: Option<Scriptlets>,
    /// A `switches[].name`: the package (its modules and files) is built
    /// only with that switch on (Lustre's `--without zfs` drops osd-zfs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub switch: Option<String>,
}

/// A build switch: rendered as `%bcond_without <name>` (on unless
/// `rpmbuild --without <name>`) or `%bcond_with <name>` (off unless
/// `--with <name>`). Why those two forms: `%bcond <name> <default>` needs
/// rpm 4.17.1, and RHEL 8 has 4.14.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Switch {
    /// Lower-case letters, digits and `_` (part of the `with_<name>` macro).
    pub name: String,
    /// On unless `--without <name>` (true), or off unless `--with <name>`.
    #[serde(default)]
    pub default: bool,
    /// What the switch does (a comment in the spec).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    /// `make` arguments added when the switch is on (kbuild builds).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub make_args: Vec<String>,
}

/// Switch names kmodpack declares itself when the description uses the
/// feature: `sign` (with `signing`), `debuginfo` (with `debuginfo: true`).
pub const BUILTIN_SWITCHES: [&str; 2] = ["sign", "debuginfo"];

/// Package relations of one package.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Relations {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub requires: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub provides: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conflicts: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub obsoletes: Vec<String>,
}

impl Relations {
    /// Each relation checked as [`safety::relation`], the key named `<prefix>.<kind>[i]`.
    fn validate(&self, prefix: &str) -> Result<(), Violation> {
        validate_relations(
            prefix,
            [
                &self.requires,
                &self.provides,
                &self.conflicts,
                &self.obsoletes,
            ],
        )
    }
}

/// Requires, Provides, Conflicts and Obsoletes lists (in that order), each
/// value checked as [`safety::relation`]; keys `<prefix>.requires[i]`, or
/// `requires[i]` without a prefix.
fn validate_relations(prefix: &str, lists: [&[String]; 4]) -> Result<(), Violation> {
    for (list, what) in lists
        .into_iter()
        .zip(["requires", "provides", "conflicts", "obsoletes"])
    {
        for (j, d) in list.iter().enumerate() {
            let key = match prefix {
                "" => format!("{what}[{j}]"),
                p => format!("{p}.{what}[{j}]"),
            };
            safety::relation(d).map_err(|m| viol(&key, &m))?;
        }
    }
    Ok(())
}

/// A file of the source tree installed outside `/lib/modules`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ExtraFile {
    /// Path inside the source tree.
    pub source: String,
    /// Absolute install path; under `/etc` it is `%config(noreplace)`.
    pub dest: String,
    /// Octal mode, quoted (`"0644"`, the default; `"0755"` for scripts).
    #[serde(default = "default_mode")]
    pub mode: String,
    /// The `packages[].name` that ships it (default: the main package).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub package: Option<String>,
}

fn default_mode() -> String {
    "0644".to_string()
}

/// Typed `/etc/modprobe.d` entries.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Modprobe {
    /// Module parameters: `options <module> <options>`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<ModprobeOptions>,
    /// Modules never auto-loaded, e.g. the in-tree driver this one replaces.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub blacklist: Vec<String>,
    /// Load-order dependencies modprobe cannot see from symbols.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub softdeps: Vec<Softdep>,
}

/// `options <module> <options>`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ModprobeOptions {
    pub module: String,
    pub options: String,
}

/// `softdep <module> pre: <pre...> post: <post...>`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Softdep {
    pub module: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pre: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub post: Vec<String>,
}

/// dracut configuration.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Dracut {
    /// Drivers always put into the initramfs (`add_drivers+=`): boot-critical
    /// storage drivers that dracut's host-only scan would otherwise miss.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub add_drivers: Vec<String>,
}

/// Module signing with the kernel's `scripts/sign-file`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Signing {
    /// Private key (PEM) or PKCS#11 URI, at build time.
    pub key: String,
    /// X.509 certificate (PEM or DER) matching the key.
    pub cert: String,
    /// Hash algorithm (`sha256`, `sha384`, `sha512`).
    #[serde(default = "default_hash")]
    pub hash: String,
}

fn default_hash() -> String {
    "sha256".to_string()
}

/// Compression of the packaged modules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PackagedCompression {
    /// Plain `.ko`.
    #[default]
    None,
    /// `.ko.xz` with `--check=crc32` (the in-kernel decompressor's only check).
    Xz,
    /// `.ko.zst`, as SLE 16 and Tumbleweed kernels ship their own modules.
    Zstd,
}

/// SUSE KMP settings: what `%kernel_module_package` and the kernel's
/// packaging decide for a real KMP, made explicit.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Suse {
    /// The product the KMPs are for; decides the module directory, the
    /// scriptlets and the default compression.
    #[serde(default)]
    pub target: SuseTarget,
    /// The support status modpost records in each module (`Module.supported`).
    #[serde(default)]
    pub supported: SupportStatus,
    /// Per-flavor preamble: relations only the `<name>-kmp-<flavor>` of this
    /// flavor gets (the preamble `%kernel_module_package -p` expands per flavor).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub flavors: BTreeMap<String, Relations>,
}

/// The SUSE product a KMP is built for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SuseTarget {
    /// SLE 15 / Leap 15: modules in `/lib/modules`, weak-modules2 scriptlets.
    #[default]
    Sle15,
    /// SLE 16: usrmerged (`/usr/lib/modules`), `.ko.zst`, suse-kernel-rpm-scriptlets.
    Sle16,
    /// openSUSE Tumbleweed: as SLE 16.
    Tumbleweed,
}

impl SuseTarget {
    /// Its name in the description.
    pub fn as_str(self) -> &'static str {
        match self {
            SuseTarget::Sle15 => "sle15",
            SuseTarget::Sle16 => "sle16",
            SuseTarget::Tumbleweed => "tumbleweed",
        }
    }

    /// Whether `/lib` is merged into `/usr/lib` there (`%usrmerged`).
    pub fn usrmerged(self) -> bool {
        self != SuseTarget::Sle15
    }
}

/// A module's SUSE support status, recorded by modpost as the `supported`
/// modinfo tag from `Module.supported`. Without one, a SLE kernel taints
/// with `N` and, with `allow_unsupported_modules 0` (SLE's default), refuses
/// to load the module.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SupportStatus {
    /// Supported by a third party (`supported: external`, taint `X`): what
    /// a vendor's KMP is.
    #[default]
    External,
    /// Supported by SUSE (`supported: yes`): only for SUSE's own KMPs.
    Yes,
    /// No `Module.supported`: the module is unsupported.
    No,
}

/// What the install/remove scriptlets do.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Scriptlets {
    /// Call weak-modules (redhat-kabi) so compatible later kernels use the modules.
    #[serde(default = "yes")]
    pub weak_modules: bool,
    /// Run depmod for the target kernel(s).
    #[serde(default = "yes")]
    pub depmod: bool,
    /// Initramfs regeneration: `auto` (once per affected kernel, in %posttrans) or `never`.
    #[serde(default)]
    pub initramfs: InitramfsPolicy,
}

impl Default for Scriptlets {
    fn default() -> Self {
        Scriptlets {
            weak_modules: true,
            depmod: true,
            initramfs: InitramfsPolicy::Auto,
        }
    }
}

/// Initramfs regeneration policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum InitramfsPolicy {
    /// Rebuild once per affected kernel that has an initramfs.
    #[default]
    Auto,
    /// Never touch the initramfs.
    Never,
}

/// kABI stablelist handling.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Kabi {
    /// Write `greylist.txt` (kernel symbols used that are not on the stablelist)
    /// and BuildRequire `kernel-abi-stablelists`.
    #[serde(default = "yes")]
    pub greylist: bool,
}

impl Default for Kabi {
    fn default() -> Self {
        Kabi { greylist: true }
    }
}

/// One `%changelog` entry.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ChangelogEntry {
    /// `Sat Nov 21 2026`-style date as rpm wants it.
    pub date: String,
    /// `Name <email>`.
    pub author: String,
    /// `version-release` the entry describes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Lines of the entry (each becomes `- line`).
    pub changes: Vec<String>,
}

impl Description {
    /// Parses and validates a description. `origin` names the file in
    /// errors (and is the base for relative source paths in [`Description::base_dir`]).
    pub fn from_yaml_str(text: &str, origin: &Path) -> Result<Description, SpecError> {
        let origin_s = origin.display().to_string();
        if let Some((line, message)) = too_complex(text) {
            return Err(SpecError::Invalid {
                origin: origin_s,
                line: Some(line),
                key: String::new(),
                message,
            });
        }
        let mut desc: Description =
            serde_yaml::from_str(text).map_err(|e| yaml_error(&e, text, &origin_s))?;
        desc.normalize_releases();
        desc.validate().map_err(|v| SpecError::Invalid {
            origin: origin_s.clone(),
            line: line_of(text, &v.key),
            key: v.key,
            message: v.message,
        })?;
        Ok(desc)
    }

    /// One spelling of a kernel release: `5.14.0-503.11.1.el9_5.x86_64`
    /// (`uname -r`) is accepted for `5.14.0-503.11.1.el9_5` when the arch it
    /// ends with is one of the kernel's `arches` (the default `[x86_64]`
    /// included), and stored without it. A suffix naming an arch the kernel
    /// does not list stays, and validation says what to write instead.
    pub fn normalize_releases(&mut self) {
        for k in &mut self.kernels {
            if let Some(stripped) = safety::split_arch(&k.release)
                .filter(|(_, a)| k.arches.iter().any(|x| x == a))
                .map(|(r, _)| r.to_string())
            {
                k.release = stripped;
            }
        }
    }

    /// The compression of the packaged modules: `compress`, else what the
    /// target kernel's own modules use (SLE 16 and Tumbleweed: zstd), else none.
    pub fn packaged_compression(&self) -> PackagedCompression {
        match (self.compress, self.style, &self.suse) {
            (Some(c), _, _) => c,
            (None, Style::SuseKmp, Some(s)) if s.target.usrmerged() => PackagedCompression::Zstd,
            _ => PackagedCompression::None,
        }
    }

    /// The SUSE target (`suse.target`, SLE 15 without one).
    pub fn suse_target(&self) -> SuseTarget {
        self.suse.as_ref().map(|s| s.target).unwrap_or_default()
    }

    /// `suse`: only for style suse-kmp; every per-flavor preamble names a
    /// flavor of `kernels` and has valid relations.
    fn validate_suse(&self) -> Result<(), Violation> {
        let Some(s) = &self.suse else { return Ok(()) };
        if self.style != Style::SuseKmp {
            return Err(viol(
                "suse",
                &format!(
                    "is for style suse-kmp only (this description renders as {})",
                    self.style.as_str()
                ),
            ));
        }
        let flavors: BTreeSet<&str> = self
            .kernels
            .iter()
            .map(|k| k.flavor.as_deref().unwrap_or("default"))
            .collect();
        for (f, rel) in &s.flavors {
            let key = format!("suse.flavors.{f}");
            if !flavors.contains(f.as_str()) {
                return Err(viol(
                    &key,
                    &format!(
                        "no kernel of flavor `{f}` in `kernels` (flavors: {})",
                        flavors.iter().copied().collect::<Vec<_>>().join(", ")
                    ),
                ));
            }
            rel.validate(&key)?;
        }
        Ok(())
    }

    /// Reads and parses a description file.
    pub fn load(path: &Path) -> Result<Description, SpecError> {
        let io = |source| SpecError::Io {
            path: path.to_path_buf(),
            source,
        };
        let f = crate::fsio::open_regular(path).map_err(io)?;
        let mut text = String::new();
        use std::io::Read;
        f.take(MAX_DESCRIPTION_BYTES as u64 + 1)
            .read_to_string(&mut text)
            .map_err(io)?;
        Description::from_yaml_str(&text, path)
    }

    /// Checks every value; the first problem wins (with its key path).
    pub fn validate(&self) -> Result<(), Violation> {
        let v = |key: &str, value: &str, check: Check| -> Result<(), Violation> {
            safety::check(value, check).map_err(|message| Violation {
                key: key.to_string(),
                message,
            })
        };
        v("name", &self.name, Check::PackageName)?;
        v("version", &self.version, Check::RpmVersion)?;
        v("release", &self.release, Check::RpmVersion)?;
        if self.release_from_kernel == Some(true) && self.style != Style::RedhatKabi {
            return Err(viol(
                "release_from_kernel",
                "is supported for style redhat-kabi only (one target kernel per spec, so one dist tag)",
            ));
        }
        v("summary", &self.summary, Check::Line)?;
        v("license", &self.license, Check::Line)?;
        if let Some(u) = &self.url {
            v("url", u, Check::Url)?;
        }
        if let Some(d) = &self.description {
            v("description", d, Check::Text)?;
        }
        // Sources.
        match (&self.source.dir, &self.source.tarball) {
            (Some(_), Some(_)) => {
                return Err(viol("source", "give either `dir` or `tarball`, not both"))
            }
            (None, None) => {
                return Err(viol(
                    "source",
                    "give `dir` (a source directory) or `tarball`",
                ))
            }
            _ => {}
        }
        if let Some(d) = &self.source.dir {
            let s = path_str(d)?;
            v("source.dir", &s, Check::Path)?;
            // An absolute directory is the explicit opt-in for a tree kept
            // elsewhere (what `--from-dkms` writes); never `/` or `..`.
            if !s.starts_with('/') || s.trim_matches('/').is_empty() {
                inside_tree("source.dir", &s)?;
            }
        }
        if let Some(t) = &self.source.tarball {
            let s = path_str(t)?;
            v("source.tarball", &s, Check::Path)?;
            inside_tree("source.tarball", &s)?;
            v("source.tarball", &file_name(t), Check::FileName)?;
        }
        if let Some(t) = &self.source.top_dir {
            v("source.top_dir", t, Check::RelPath)?;
        }
        for (i, p) in self.source.patches.iter().enumerate() {
            let key = format!("source.patches[{i}]");
            let s = path_str(p)?;
            v(&key, &s, Check::Path)?;
            inside_tree(&key, &s)?;
            v(&key, &file_name(p), Check::FileName)?;
        }
        if let Some(s) = &self.build.subdir {
            v("build.subdir", s, Check::RelPath)?;
        }
        for (i, a) in self.build.make_args.iter().enumerate() {
            v(&format!("build.make_args[{i}]"), a, Check::MakeArg)?;
        }
        self.validate_build_steps()?;
        // Modules.
        if self.modules.is_empty() {
            return Err(viol(
                "modules",
                "list at least one module (its .ko name without `.ko`)",
            ));
        }
        let mut seen = BTreeSet::new();
        for (i, m) in self.modules.iter().enumerate() {
            v(&format!("modules[{i}].name"), &m.name, Check::ModuleName)?;
            if !seen.insert(crate::module::normalize_name(&m.name)) {
                return Err(viol(
                    &format!("modules[{i}].name"),
                    &format!("module `{}` is listed twice", m.name),
                ));
            }
            if let Some(p) = &m.path {
                v(&format!("modules[{i}].path"), p, Check::RelPath)?;
            }
            if let Some(p) = &m.install_dir {
                v(&format!("modules[{i}].install_dir"), p, Check::RelPath)?;
            }
        }
        // Kernels.
        if self.kernels.is_empty() {
            return Err(viol(
                "kernels",
                "list the target kernels explicitly (release and arches); kmodpack never picks \"the newest kernel-devel\"",
            ));
        }
        let mut flavors = BTreeSet::new();
        let mut cells = BTreeSet::new();
        for (i, k) in self.kernels.iter().enumerate() {
            let key = format!("kernels[{i}].release");
            safety::kernel_release(&k.release, &k.arches).map_err(|m| viol(&key, &m))?;
            if k.arches.is_empty() {
                return Err(viol(
                    &format!("kernels[{i}].arches"),
                    "list at least one architecture",
                ));
            }
            for (j, a) in k.arches.iter().enumerate() {
                v(&format!("kernels[{i}].arches[{j}]"), a, Check::Arch)?;
            }
            if let Some(f) = &k.flavor {
                v(&format!("kernels[{i}].flavor"), f, Check::Flavor)?;
            }
            if let Some(b) = &k.build_dir {
                v(
                    &format!("kernels[{i}].build_dir"),
                    &path_str(b)?,
                    Check::Path,
                )?;
            }
            if self.style == Style::SuseKmp && !flavors.insert(k.flavor.clone().unwrap_or_default())
            {
                return Err(viol(
                    &format!("kernels[{i}].flavor"),
                    "suse-kmp builds one kernel per flavor (`<name>-kmp-<flavor>`); this flavor is already listed",
                ));
            }
            if self.style != Style::SuseKmp {
                for a in &k.arches {
                    if !cells.insert((k.release.clone(), a.clone(), k.flavor.clone())) {
                        return Err(viol(
                            &key,
                            "this kernel (release, arch, flavor) is listed twice",
                        ));
                    }
                }
            }
        }
        for (i, d) in self.depends.iter().enumerate() {
            v(&format!("depends[{i}].name"), &d.name, Check::PackageName)?;
            if d.name == self.name {
                return Err(viol(
                    &format!("depends[{i}].name"),
                    "a kmod cannot depend on itself",
                ));
            }
            if let Some(ver) = &d.version {
                v(&format!("depends[{i}].version"), ver, Check::RpmVersion)?;
            }
            if let Some(s) = &d.symvers {
                // `{kver}` is replaced by the kernel's uname -r before rendering.
                let p = path_str(s)?.replace("{kver}", "kver");
                v(&format!("depends[{i}].symvers"), &p, Check::Path)?;
            }
        }
        for (i, f) in self.devel_files.iter().enumerate() {
            v(&format!("devel_files[{i}]"), f, Check::RelPath)?;
            if !self.devel {
                return Err(viol(
                    "devel_files",
                    "the files go into the -devel package: set `devel: true` too",
                ));
            }
        }
        if self.akmod {
            if self.style != Style::PerKernel {
                return Err(viol(
                    "akmod",
                    "is supported for style per-kernel only (akmods rebuilds one kmod-<name>-<uname -r> per kernel)",
                ));
            }
            let kernel_independent = !self.firmware.is_empty()
                || !self.files.is_empty()
                || self.modprobe.is_some()
                || !self.modules_load.is_empty()
                || self.dracut.is_some();
            if kernel_independent {
                return Err(viol(
                    "akmod",
                    "cannot be combined with firmware, files, modprobe, modules_load or dracut: those kernel-independent files live in the metapackage, which an akmods rebuild does not make; package them separately (RPM Fusion's <name>-kmod-common)",
                ));
            }
        }
        for (i, f) in self.firmware.iter().enumerate() {
            v(&format!("firmware[{i}].source"), &f.source, Check::RelPath)?;
            v(&format!("firmware[{i}].dest"), &f.dest, Check::RelPath)?;
        }
        if let Some(s) = &self.signing {
            v("signing.key", &s.key, Check::Path)?;
            v("signing.cert", &s.cert, Check::Path)?;
            const HASHES: [&str; 5] = ["sha256", "sha384", "sha512", "sha224", "sha1"];
            if !HASHES.contains(&s.hash.as_str()) {
                let hint = closest(&s.hash, &HASHES)
                    .map(|c| format!(" (did you mean `{c}`?)"))
                    .unwrap_or_default();
                return Err(viol(
                    "signing.hash",
                    &format!(
                        "unknown hash `{}`{hint}; use one of {}",
                        s.hash,
                        HASHES.join(", ")
                    ),
                ));
            }
        }
        validate_relations(
            "",
            [
                &self.requires,
                &self.provides,
                &self.conflicts,
                &self.obsoletes,
            ],
        )?;
        for (i, d) in self.build_requires.iter().enumerate() {
            v(&format!("build_requires[{i}]"), d, Check::Dependency)?;
        }
        if let Some(m) = &self.metapackage {
            m.validate("metapackage")?;
        }
        self.validate_suse()?;
        self.validate_switches()?;
        self.validate_packages()?;
        self.validate_files()?;
        for (i, c) in self.changelog.iter().enumerate() {
            v(&format!("changelog[{i}].date"), &c.date, Check::Line)?;
            safety::changelog_date(&c.date)
                .map_err(|m| viol(&format!("changelog[{i}].date"), &m))?;
            v(&format!("changelog[{i}].author"), &c.author, Check::Line)?;
            if let Some(ver) = &c.version {
                v(&format!("changelog[{i}].version"), ver, Check::Line)?;
            }
            if c.changes.is_empty() {
                return Err(viol(
                    &format!("changelog[{i}].changes"),
                    "list at least one change (rpm refuses an empty changelog entry)",
                ));
            }
            for (j, l) in c.changes.iter().enumerate() {
                v(&format!("changelog[{i}].changes[{j}]"), l, Check::Line)?;
            }
        }
        Ok(())
    }

    /// `build.commands` / `build.dkms`: one way to build, and values that can
    /// reach the generated build script safely.
    fn validate_build_steps(&self) -> Result<(), Violation> {
        let b = &self.build;
        if b.dkms.is_some() && !b.commands.is_empty() {
            return Err(viol(
                "build.commands",
                "give either `commands` or `dkms`, not both",
            ));
        }
        if (b.dkms.is_some() || !b.commands.is_empty()) && !b.make_args.is_empty() {
            return Err(viol(
                "build.make_args",
                "make_args apply to kbuild builds only; put them into the commands (or MAKE[] of dkms.conf)",
            ));
        }
        if (b.dkms.is_some() || !b.commands.is_empty()) && b.subdir.is_some() {
            return Err(viol(
                "build.subdir",
                "subdir applies to kbuild builds only; with commands give each module's `path`",
            ));
        }
        for (i, c) in b.commands.iter().enumerate() {
            if c.trim().is_empty() {
                return Err(viol(&format!("build.commands[{i}]"), "must not be empty"));
            }
            if c.contains('\0') {
                return Err(viol(
                    &format!("build.commands[{i}]"),
                    "contains a NUL character",
                ));
            }
        }
        if let Some(d) = &b.dkms {
            safety::check(&d.conf, Check::RelPath).map_err(|m| viol("build.dkms.conf", &m))?;
            for (key, val) in [
                ("build.dkms.module", &d.module),
                ("build.dkms.version", &d.version),
            ] {
                safety::check(val, Check::ShellWord).map_err(|m| viol(key, &m))?;
                if val.contains(char::is_whitespace) {
                    return Err(viol(key, &format!("`{val}` contains a space")));
                }
            }
        }
        Ok(())
    }

    /// `switches[]` (unique macro-safe names, not a built-in one, safe make
    /// arguments for kbuild builds only) and `debuginfo`.
    fn validate_switches(&self) -> Result<(), Violation> {
        let mut names = BTreeSet::new();
        let scripted = self.build.dkms.is_some() || !self.build.commands.is_empty();
        for (i, s) in self.switches.iter().enumerate() {
            let key = format!("switches[{i}].name");
            let ok = s.name.starts_with(|c: char| c.is_ascii_lowercase())
                && s.name.len() <= 32
                && s.name
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
            if !ok {
                return Err(viol(
                    &key,
                    &format!(
                        "`{}`: a switch name is a lower-case letter followed by lower-case letters, digits or `_` (at most 32)",
                        s.name
                    ),
                ));
            }
            if BUILTIN_SWITCHES.contains(&s.name.as_str()) {
                return Err(viol(
                    &key,
                    &format!(
                        "`{}` is declared by kmodpack itself (`sign` with `signing`, `debuginfo` with `debuginfo: true`); choose another name",
                        s.name
                    ),
                ));
            }
            if !names.insert(s.name.as_str()) {
                return Err(viol(&key, &format!("switch `{}` is listed twice", s.name)));
            }
            if let Some(t) = &s.summary {
                safety::check(t, Check::Line)
                    .map_err(|m| viol(&format!("switches[{i}].summary"), &m))?;
            }
            if scripted && !s.make_args.is_empty() {
                return Err(viol(
                    &format!("switches[{i}].make_args"),
                    &format!(
                        "make_args apply to kbuild builds only; build.commands see the switch as KMODPACK_WITH_{}=1 or 0",
                        s.name.to_ascii_uppercase()
                    ),
                ));
            }
            for (j, a) in s.make_args.iter().enumerate() {
                safety::check(a, Check::MakeArg)
                    .map_err(|m| viol(&format!("switches[{i}].make_args[{j}]"), &m))?;
            }
        }
        for (i, p) in self.packages.iter().enumerate() {
            if let Some(s) = &p.switch {
                if !names.contains(s.as_str()) {
                    let known: Vec<&str> = names.iter().copied().collect();
                    let hint = closest(s, &known)
                        .map(|c| format!(" (did you mean `{c}`?)"))
                        .unwrap_or_default();
                    return Err(viol(
                        &format!("packages[{i}].switch"),
                        &format!("`{s}` is not a `switches[].name`{hint}"),
                    ));
                }
            }
        }
        if self.debuginfo {
            if !self.strip {
                return Err(viol(
                    "debuginfo",
                    "the debug info is split off when the modules are stripped: `strip: false` keeps it in the modules, drop one of them",
                ));
            }
            if self.style != Style::RedhatKabi {
                return Err(viol("debuginfo", "is supported for style redhat-kabi only"));
            }
        }
        Ok(())
    }

    /// Whether Release carries the target kernel's dist tag: as written, else
    /// on for redhat-kabi. Why on by default: a packager building one
    /// description for several RHEL minor releases gets `.el9` from
    /// `%{?dist}` on every RHEL 9 builder (and nothing on other hosts), so the
    /// builds for 9.4 and 9.5 would share one NVRA and a repository could hold
    /// only one of them; `1.el9_5` is also what ELRepo's builders produce.
    pub fn release_from_kernel(&self) -> bool {
        self.release_from_kernel
            .unwrap_or(self.style == Style::RedhatKabi)
    }

    /// The switch that must be on for module `module` to be built into a
    /// package (that of its `packages[]` entry), if any.
    pub fn switch_of(&self, module: &str) -> Option<&str> {
        let pkg = self.package_of(module)?;
        self.package_switch(pkg)
    }

    /// Every switch the rendered spec declares: `switches[].name`, then the
    /// built-in ones of the features it uses ([`BUILTIN_SWITCHES`]: `sign`
    /// with `signing`, `debuginfo` with `debuginfo: true`), as the templates'
    /// `bconds` declare them.
    pub fn switch_names(&self) -> Vec<&str> {
        let [sign, debuginfo] = BUILTIN_SWITCHES;
        let mut names: Vec<&str> = self.switches.iter().map(|s| s.name.as_str()).collect();
        if self.signing.is_some() {
            names.push(sign);
        }
        if self.debuginfo {
            names.push(debuginfo);
        }
        names
    }

    /// The switch of `packages[].name` `pkg`, if any.
    pub fn package_switch(&self, pkg: &str) -> Option<&str> {
        self.packages
            .iter()
            .find(|p| p.name == pkg)
            .and_then(|p| p.switch.as_deref())
    }

    /// `packages[]`: unique names, each module in one package at most, the
    /// main package keeps at least one, and no install directory is shared
    /// between packages (each package owns its directories in `%files`).
    fn validate_packages(&self) -> Result<(), Violation> {
        let mut names = BTreeSet::new();
        let mut owner: std::collections::BTreeMap<String, usize> = Default::default();
        let known: Vec<String> = self
            .modules
            .iter()
            .map(|m| crate::module::normalize_name(&m.name))
            .collect();
        let known_refs: Vec<&str> = self.modules.iter().map(|m| m.name.as_str()).collect();
        for (i, p) in self.packages.iter().enumerate() {
            let key = format!("packages[{i}].name");
            safety::check(&p.name, Check::PackageName).map_err(|m| viol(&key, &m))?;
            if p.name == "devel" || p.name.starts_with("devel-") {
                return Err(viol(
                    &key,
                    "`devel` names the -devel package (`devel: true`); choose another suffix",
                ));
            }
            if !names.insert(p.name.clone()) {
                return Err(viol(&key, &format!("package `{}` is listed twice", p.name)));
            }
            if let Some(s) = &p.summary {
                safety::check(s, Check::Line)
                    .map_err(|m| viol(&format!("packages[{i}].summary"), &m))?;
            }
            if let Some(d) = &p.description {
                safety::check(d, Check::Text)
                    .map_err(|m| viol(&format!("packages[{i}].description"), &m))?;
            }
            if p.modules.is_empty() {
                return Err(viol(
                    &format!("packages[{i}].modules"),
                    "list at least one module (names from `modules`)",
                ));
            }
            for (j, m) in p.modules.iter().enumerate() {
                let key = format!("packages[{i}].modules[{j}]");
                let n = crate::module::normalize_name(m);
                if !known.contains(&n) {
                    let hint = closest(m, &known_refs)
                        .map(|c| format!(" (did you mean `{c}`?)"))
                        .unwrap_or_default();
                    return Err(viol(
                        &key,
                        &format!("`{m}` is not one of the description's `modules`{hint}"),
                    ));
                }
                if let Some(other) = owner.insert(n, i) {
                    return Err(viol(
                        &key,
                        &format!(
                            "module `{m}` is already in package `{}`; a module belongs to one package",
                            self.packages[other].name
                        ),
                    ));
                }
            }
            validate_relations(
                &format!("packages[{i}]"),
                [&p.requires, &p.provides, &p.conflicts, &p.obsoletes],
            )?;
        }
        if !self.packages.is_empty() && owner.len() == self.modules.len() {
            return Err(viol(
                "packages",
                &format!(
                    "every module is in a `packages` entry; leave at least one for the main package kmod-{}",
                    self.name
                ),
            ));
        }
        // Install directories: one package each.
        let mut dirs: std::collections::BTreeMap<String, String> = Default::default();
        for (i, m) in self.modules.iter().enumerate() {
            let pkg = self.package_of(&m.name).unwrap_or("");
            let dir = self.install_dir_of(m);
            if let Some(prev) = dirs.insert(dir.clone(), pkg.to_string()) {
                if prev != pkg {
                    return Err(viol(
                        &format!("modules[{i}].install_dir"),
                        &format!(
                            "install directory `{dir}` would be shared by two packages; give the modules of each package their own"
                        ),
                    ));
                }
            }
        }
        Ok(())
    }

    /// The `packages[].name` shipping module `module` (None: the main package).
    pub fn package_of(&self, module: &str) -> Option<&str> {
        let n = crate::module::normalize_name(module);
        self.packages
            .iter()
            .find(|p| {
                p.modules
                    .iter()
                    .any(|m| crate::module::normalize_name(m) == n)
            })
            .map(|p| p.name.as_str())
    }

    /// Where `m` is installed under `extra/`/`updates/`: its `install_dir`,
    /// else the name of the package that ships it without `kmod-`.
    pub fn install_dir_of(&self, m: &Module) -> String {
        m.install_dir
            .clone()
            .unwrap_or_else(|| match self.package_of(&m.name) {
                Some(p) => format!("{}-{p}", self.name),
                None => self.name.clone(),
            })
    }

    /// `files`, `modprobe`, `modules_load`, `dracut`, `license_files`,
    /// `doc_files`: paths that stay where they belong, modes without
    /// set-id bits, module names and option strings safe in a config file.
    fn validate_files(&self) -> Result<(), Violation> {
        let mut dests = BTreeSet::new();
        for (i, f) in self.files.iter().enumerate() {
            safety::check(&f.source, Check::RelPath)
                .map_err(|m| viol(&format!("files[{i}].source"), &m))?;
            let key = format!("files[{i}].dest");
            safety::install_path(&f.dest).map_err(|m| viol(&key, &m))?;
            if !dests.insert(f.dest.trim_end_matches('/').to_string()) {
                return Err(viol(&key, &format!("`{}` is installed twice", f.dest)));
            }
            safety::file_mode(&f.mode).map_err(|m| viol(&format!("files[{i}].mode"), &m))?;
            if let Some(p) = &f.package {
                if !self.packages.iter().any(|x| &x.name == p) {
                    let names: Vec<&str> = self.packages.iter().map(|x| x.name.as_str()).collect();
                    let hint = closest(p, &names)
                        .map(|c| format!("did you mean `{c}`? "))
                        .unwrap_or_default();
                    return Err(viol(
                        &format!("files[{i}].package"),
                        &format!(
                            "`{p}` is not a `packages[].name`; {hint}leave it out for the main package"
                        ),
                    ));
                }
            }
        }
        let module = |key: String, m: &str| -> Result<(), Violation> {
            safety::check(m, Check::ModuleName).map_err(|e| viol(&key, &e))
        };
        if let Some(mp) = &self.modprobe {
            for (i, o) in mp.options.iter().enumerate() {
                module(format!("modprobe.options[{i}].module"), &o.module)?;
                safety::config_words(&o.options)
                    .map_err(|m| viol(&format!("modprobe.options[{i}].options"), &m))?;
            }
            for (i, b) in mp.blacklist.iter().enumerate() {
                module(format!("modprobe.blacklist[{i}]"), b)?;
            }
            for (i, s) in mp.softdeps.iter().enumerate() {
                module(format!("modprobe.softdeps[{i}].module"), &s.module)?;
                if s.pre.is_empty() && s.post.is_empty() {
                    return Err(viol(
                        &format!("modprobe.softdeps[{i}]"),
                        "give `pre` or `post` modules",
                    ));
                }
                for (j, m) in s.pre.iter().enumerate() {
                    module(format!("modprobe.softdeps[{i}].pre[{j}]"), m)?;
                }
                for (j, m) in s.post.iter().enumerate() {
                    module(format!("modprobe.softdeps[{i}].post[{j}]"), m)?;
                }
            }
        }
        for (i, m) in self.modules_load.iter().enumerate() {
            module(format!("modules_load[{i}]"), m)?;
        }
        if let Some(d) = &self.dracut {
            for (i, m) in d.add_drivers.iter().enumerate() {
                module(format!("dracut.add_drivers[{i}]"), m)?;
            }
        }
        for (list, what) in [
            (&self.license_files, "license_files"),
            (&self.doc_files, "doc_files"),
        ] {
            for (i, f) in list.iter().enumerate() {
                let key = format!("{what}[{i}]");
                safety::check(f, Check::RelPath).map_err(|m| viol(&key, &m))?;
                safety::no_glob(f).map_err(|m| viol(&key, &m))?;
            }
        }
        Ok(())
    }

    /// The kernels whose release is `release` (all when `None`).
    pub fn kernels_matching(&self, release: Option<&str>) -> Vec<&Kernel> {
        self.kernels
            .iter()
            .filter(|k| release.is_none_or(|r| k.release == r))
            .collect()
    }
}

/// Largest description accepted (real ones are a few KB).
pub const MAX_DESCRIPTION_BYTES: usize = 1 << 20;

/// Deepest `[`/`{` nesting accepted (real descriptions use 2 or 3).
pub const MAX_FLOW_DEPTH: usize = 64;

/// Refuses input the YAML parser would spend minutes on: the parser is
/// quadratic in flow-collection nesting (100,000 `[` took 33 s), so the text
/// is sized and its bracket depth counted (outside quotes and comments)
/// before parsing. Returns the 1-based line and the message.
fn too_complex(text: &str) -> Option<(usize, String)> {
    if text.len() > MAX_DESCRIPTION_BYTES {
        return Some((
            1,
            format!(
                "the description is {} bytes; the limit is {} MiB",
                text.len(),
                MAX_DESCRIPTION_BYTES >> 20
            ),
        ));
    }
    let (mut depth, mut line) = (0usize, 1usize);
    let mut quote: Option<char> = None;
    let mut comment = false;
    let mut prev = ' ';
    for c in text.chars() {
        if c == '\n' {
            line += 1;
            comment = false;
        } else if comment {
        } else if let Some(q) = quote {
            if c == q {
                quote = None;
            }
        } else {
            match c {
                '#' if prev.is_whitespace() => comment = true,
                '\'' | '"' if prev.is_whitespace() || "[{,:".contains(prev) => quote = Some(c),
                '[' | '{' => {
                    depth += 1;
                    if depth > MAX_FLOW_DEPTH {
                        return Some((
                            line,
                            format!("`[`/`{{` nested more than {MAX_FLOW_DEPTH} deep; a description never needs that"),
                        ));
                    }
                }
                ']' | '}' => depth = depth.saturating_sub(1),
                _ => {}
            }
        }
        prev = c;
    }
    None
}

/// A validation problem: the YAML key path (`kernels[0].release`) and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// YAML path of the key.
    pub key: String,
    /// What is wrong.
    pub message: String,
}

fn viol(key: &str, message: &str) -> Violation {
    Violation {
        key: key.to_string(),
        message: message.to_string(),
    }
}

/// Sources and patches are copied into SOURCES and the SRPM, so they must
/// come from the description's own tree: a relative path without `..`
/// (never `/etc/shadow` or `../../etc/hostname`). Symlinks inside the tree
/// that lead out of it are refused when the files are read.
fn inside_tree(key: &str, s: &str) -> Result<(), Violation> {
    if s.starts_with('/')
        || Path::new(s)
            .components()
            .any(|c| c == std::path::Component::ParentDir)
    {
        return Err(viol(
            key,
            &format!(
                "`{s}` is outside the description's directory; sources and patches are copied into the SRPM, \
                 so give a path relative to the description, without `..` (move or copy the files next to it)"
            ),
        ));
    }
    Ok(())
}

fn path_str(p: &Path) -> Result<String, Violation> {
    Ok(p.to_str()
        .ok_or_else(|| viol("path", "paths must be UTF-8"))?
        .to_string())
}

fn file_name(p: &Path) -> String {
    p.file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// The text between `prefix` (which ends with a backtick) and the next
/// backtick at the start of a serde message.
fn backticked<'a>(msg: &'a str, prefix: &str) -> Option<&'a str> {
    msg.strip_prefix(prefix)?.split_once('`').map(|(v, _)| v)
}

/// serde's "unknown field|variant `x`, expected [one of ]…": (kind, x, the
/// candidates as serde lists them).
fn serde_unknown(msg: &str) -> Option<(&str, &str, &str)> {
    let (what, rest) = msg.strip_prefix("unknown ")?.split_once(" `")?;
    if what != "field" && what != "variant" {
        return None;
    }
    let (bad, rest) = rest.split_once('`')?;
    let candidates = rest.strip_prefix(", expected ")?;
    Some((
        what,
        bad,
        candidates.strip_prefix("one of ").unwrap_or(candidates),
    ))
}

/// Turns a serde_yaml error into one line that names the key, the line and,
/// for unknown keys or values, the closest valid one.
fn yaml_error(e: &serde_yaml::Error, text: &str, origin: &str) -> SpecError {
    let raw = e.to_string();
    let line = e.location().map(|l| l.line());
    // serde_yaml: "kernels[0]: unknown field `relase`, expected one of `release`, ... at line 5 column 5"
    let (path, rest) = match raw.split_once(": ") {
        Some((p, r)) if !p.contains(' ') && !p.is_empty() => (p.to_string(), r.to_string()),
        _ => (String::new(), raw.clone()),
    };
    let rest = match rest.find(" at line ") {
        Some(i) => rest[..i].to_string(),
        None => rest,
    };
    let mut message = rest.clone();
    let mut key = path.clone();
    if let Some((what, bad, candidates)) = serde_unknown(&rest) {
        let bad = bad.to_string();
        // serde lists the candidates as "`a`, `b` or `c`" (or "`a` or `b`"):
        // take what is between backticks rather than splitting on words.
        let expected: Vec<String> = candidates
            .split('`')
            .skip(1)
            .step_by(2)
            .map(str::to_string)
            .collect();
        let exp_refs: Vec<&str> = expected.iter().map(String::as_str).collect();
        let hint = closest(&bad, &exp_refs)
            .map(|s| format!("did you mean `{s}`? "))
            .unwrap_or_default();
        if what == "field" {
            key = if path.is_empty() {
                bad.clone()
            } else {
                format!("{path}.{bad}")
            };
            message = format!(
                "unknown key `{bad}`; {hint}valid keys here: {}",
                expected.join(", ")
            );
        } else {
            message = format!(
                "unknown value `{bad}`; {hint}valid values: {}",
                expected.join(", ")
            );
        }
    } else if let Some(missing) = backticked(&rest, "missing field `") {
        let missing = missing.to_string();
        message = format!("required key `{missing}` is missing");
        if key.is_empty() {
            key = missing;
        }
    }
    if let Some(dup) = backticked(&rest, "duplicate field `") {
        let dup = dup.to_string();
        message = format!("key `{dup}` is given twice");
        let second = line.and_then(|l| duplicate_key_line(text, l, &dup));
        key = if path.is_empty() {
            dup
        } else {
            format!("{path}.{dup}")
        };
        if second.is_some() {
            return SpecError::Invalid {
                origin: origin.to_string(),
                line: second,
                key,
                message,
            };
        }
    }
    let line = line.or_else(|| {
        if key.is_empty() {
            None
        } else {
            line_of(text, &key)
        }
    });
    SpecError::Invalid {
        origin: origin.to_string(),
        line,
        key,
        message,
    }
}
