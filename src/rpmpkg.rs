//! Reading RPM packages in-process (the `rpm` crate): header facts,
//! dependencies, file lists, and the kernel modules inside the payload.
//!
//! Used wherever kmodpack is handed RPMs: `deps check`, `kabi check`,
//! `alias`, `dud build|verify`. Errors name the file.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::module::{self, KernelModule};

/// Comparison operator of a dependency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum DepOp {
    /// No version.
    Any,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `=`
    Eq,
    /// `>=`
    Ge,
    /// `>`
    Gt,
}

impl DepOp {
    /// rpm's spelling (`""` for [`DepOp::Any`]).
    pub fn as_str(self) -> &'static str {
        match self {
            DepOp::Any => "",
            DepOp::Lt => "<",
            DepOp::Le => "<=",
            DepOp::Eq => "=",
            DepOp::Ge => ">=",
            DepOp::Gt => ">",
        }
    }

    fn from_flags(flags: rpm::DependencyFlags) -> DepOp {
        let lt = flags.contains(rpm::DependencyFlags::LESS);
        let gt = flags.contains(rpm::DependencyFlags::GREATER);
        let eq = flags.contains(rpm::DependencyFlags::EQUAL);
        match (lt, gt, eq) {
            (true, false, false) => DepOp::Lt,
            (true, false, true) => DepOp::Le,
            (false, false, true) => DepOp::Eq,
            (false, true, true) => DepOp::Ge,
            (false, true, false) => DepOp::Gt,
            _ => DepOp::Any,
        }
    }
}

/// One Provides/Requires/Conflicts/Obsoletes entry.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct RpmDep {
    /// Capability name (`ksym(foo)`, `kernel-modules`, ...).
    pub name: String,
    /// Operator.
    pub op: DepOp,
    /// Version (empty for [`DepOp::Any`]).
    pub version: String,
    /// `rpmlib(...)`, scriptlet-interpreter and other rpm-internal requires.
    pub internal: bool,
}

impl fmt::Display for RpmDep {
    /// `name`, or `name OP version` as `rpm -qp --provides` prints it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.op == DepOp::Any {
            write!(f, "{}", self.name)
        } else {
            write!(f, "{} {} {}", self.name, self.op.as_str(), self.version)
        }
    }
}

/// A file listed in the package header.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RpmFileInfo {
    /// Absolute install path.
    pub path: String,
    /// Mode bits incl. file type.
    pub mode: u16,
    /// Size in bytes.
    pub size: u64,
    /// Symlink target, if a symlink.
    pub linkto: Option<String>,
    /// `%ghost` (not in the payload).
    pub ghost: bool,
}

/// Header facts of one RPM.
#[derive(Debug, Clone, Serialize)]
pub struct RpmPackage {
    /// The file it was read from.
    pub path: PathBuf,
    /// Name.
    pub name: String,
    /// Epoch, if set.
    pub epoch: Option<u32>,
    /// Version.
    pub version: String,
    /// Release.
    pub release: String,
    /// Arch (`x86_64`, `noarch`; for SRPMs the build arch).
    pub arch: String,
    /// Source package (`.src.rpm`).
    pub is_source: bool,
    /// Provides.
    pub provides: Vec<RpmDep>,
    /// Requires.
    pub requires: Vec<RpmDep>,
    /// Conflicts.
    pub conflicts: Vec<RpmDep>,
    /// Obsoletes.
    pub obsoletes: Vec<RpmDep>,
    /// Supplements (SUSE KMPs: `modalias(kernel-<flavor>:<alias>)`).
    pub supplements: Vec<RpmDep>,
    /// Files.
    pub files: Vec<RpmFileInfo>,
    /// Payload compressor (`gzip`, `xz`, `zstd`, `none`).
    pub payload_compressor: String,
    /// The `%post` scriptlet's text, if any.
    pub post_install: Option<String>,
}

impl RpmPackage {
    /// `name-[epoch:]version-release.arch`.
    pub fn nevra(&self) -> String {
        match self.epoch {
            Some(e) if e > 0 => format!(
                "{}-{}:{}-{}.{}",
                self.name, e, self.version, self.release, self.arch
            ),
            _ => format!(
                "{}-{}-{}.{}",
                self.name, self.version, self.release, self.arch
            ),
        }
    }

    /// Paths of kernel-module files (`*.ko[.gz|.xz|.zst]`) listed in the header.
    pub fn module_paths(&self) -> Vec<&str> {
        self.files
            .iter()
            .filter(|f| {
                !f.ghost && f.linkto.is_none() && module::is_module_path(Path::new(&f.path))
            })
            .map(|f| f.path.as_str())
            .collect()
    }
}

/// Why an RPM could not be read.
#[derive(Debug, thiserror::Error)]
pub enum RpmError {
    /// Not an RPM, truncated, or corrupt.
    #[error("{path}: not a readable RPM package: {message}")]
    Package {
        /// The file.
        path: PathBuf,
        /// What the reader said.
        message: String,
    },
    /// A kernel module inside the payload is broken.
    #[error("{path}: {inner}: {source}")]
    Module {
        /// The RPM.
        path: PathBuf,
        /// Path of the module inside the package.
        inner: String,
        /// What is wrong with it.
        source: module::ParseError,
    },
}

fn pkg_err(path: &Path, e: impl fmt::Display) -> RpmError {
    RpmError::Package {
        path: path.to_path_buf(),
        message: e.to_string().replace('\n', " "),
    }
}

fn deps(list: Result<Vec<rpm::Dependency>, rpm::Error>) -> Vec<RpmDep> {
    list.unwrap_or_default()
        .into_iter()
        .map(|d| {
            let internal = d.name.starts_with("rpmlib(")
                || d.flags.intersects(
                    rpm::DependencyFlags::INTERP
                        | rpm::DependencyFlags::SCRIPT_PRE
                        | rpm::DependencyFlags::SCRIPT_POST
                        | rpm::DependencyFlags::SCRIPT_PREUN
                        | rpm::DependencyFlags::SCRIPT_POSTUN,
                ) && !d.flags.contains(rpm::DependencyFlags::FIND_REQUIRES);
            RpmDep {
                op: DepOp::from_flags(d.flags),
                name: d.name,
                version: d.version,
                internal,
            }
        })
        .collect()
}

fn from_metadata(path: &Path, md: &rpm::PackageMetadata) -> Result<RpmPackage, RpmError> {
    let name = md.get_name().map_err(|e| pkg_err(path, e))?.to_string();
    let files = md
        .get_file_entries()
        .unwrap_or_default()
        .into_iter()
        .map(|f| RpmFileInfo {
            path: f.path().to_string_lossy().into_owned(),
            mode: f.mode().raw_mode(),
            size: f.size() as u64,
            linkto: f.linkto().filter(|l| !l.is_empty()).map(str::to_string),
            ghost: f.flags().contains(rpm::FileFlags::GHOST),
        })
        .collect();
    Ok(RpmPackage {
        path: path.to_path_buf(),
        name,
        epoch: md.get_epoch().ok(),
        version: md.get_version().map_err(|e| pkg_err(path, e))?.to_string(),
        release: md.get_release().map_err(|e| pkg_err(path, e))?.to_string(),
        arch: md.get_arch().unwrap_or("noarch").to_string(),
        is_source: md.is_source_package(),
        provides: deps(md.get_provides()),
        requires: deps(md.get_requires()),
        conflicts: deps(md.get_conflicts()),
        obsoletes: deps(md.get_obsoletes()),
        supplements: deps(md.get_supplements()),
        files,
        payload_compressor: match md.get_payload_compressor() {
            Ok(rpm::CompressionType::None) => "none",
            Ok(rpm::CompressionType::Gzip) => "gzip",
            Ok(rpm::CompressionType::Xz) => "xz",
            Ok(rpm::CompressionType::Zstd) => "zstd",
            Ok(rpm::CompressionType::Bzip2) => "bzip2",
            Err(_) => "unknown",
        }
        .to_string(),
        post_install: md.get_post_install_script().ok().map(|s| s.script),
    })
}

/// Reads only the header (fast; the payload is not decompressed).
pub fn read_header(path: &Path) -> Result<RpmPackage, RpmError> {
    let md = rpm::PackageMetadata::open(path).map_err(|e| pkg_err(path, e))?;
    from_metadata(path, &md)
}

/// Reads the header and the contents of the payload files selected by
/// `want(path)`. Returns `(install path, bytes)` in payload order.
pub fn read_with_files(
    path: &Path,
    want: impl Fn(&str) -> bool,
) -> Result<(RpmPackage, Vec<(String, Vec<u8>)>), RpmError> {
    let pkg = rpm::Package::open(path).map_err(|e| pkg_err(path, e))?;
    let info = from_metadata(path, &pkg.metadata)?;
    let mut out = Vec::new();
    for entry in pkg.files().map_err(|e| pkg_err(path, e))? {
        let file = entry.map_err(|e| pkg_err(path, format!("payload: {e}")))?;
        let p = file.metadata.path().to_string_lossy().into_owned();
        if want(&p) {
            if let Some(content) = file.into_content() {
                out.push((p, content));
            }
        }
    }
    Ok((info, out))
}

/// Reads the header and parses every kernel module in the payload.
pub fn read_modules(path: &Path) -> Result<(RpmPackage, Vec<(String, KernelModule)>), RpmError> {
    let (info, files) = read_with_files(path, |p| module::is_module_path(Path::new(p)))?;
    let mut modules = Vec::with_capacity(files.len());
    for (inner, bytes) in files {
        let m = KernelModule::parse(&bytes).map_err(|source| RpmError::Module {
            path: path.to_path_buf(),
            inner: inner.clone(),
            source,
        })?;
        modules.push((inner, m));
    }
    Ok((info, modules))
}
