//! Reading RPM packages in-process (the `rpm` crate): header facts,
//! dependencies, file lists, and the kernel modules inside the payload.
//!
//! Used wherever kmodpack is handed RPMs: `deps check`, `kabi check`,
//! `alias`, `dud build|verify`. Errors name the file.

// A parser of untrusted bytes: no indexing that can panic (issue #15).
#![deny(clippy::indexing_slicing)]

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

/// The RPM lead's magic bytes.
pub const RPM_MAGIC: [u8; 4] = [0xed, 0xab, 0xee, 0xdb];

/// Largest payload file kept in memory (a selected file, e.g. a module).
/// Real modules are at most tens of MB even with debug info; a bigger
/// selected file is refused rather than allocated (a sparse 3 GB "module"
/// compresses to a few KB).
pub const MAX_PAYLOAD_FILE: u64 = 512 << 20;

/// Largest total of the selected payload files of one RPM kept in memory.
pub const MAX_PAYLOAD_SELECTED: u64 = 1 << 30;

/// Opens an RPM (regular files only, see [`crate::fsio`]) and parses its
/// lead and headers, leaving the reader at the payload. A file that is not
/// an RPM is named for what it is, never dumped.
fn open_rpm(
    path: &Path,
) -> Result<(std::io::BufReader<std::fs::File>, rpm::PackageMetadata), RpmError> {
    use std::io::BufRead;
    let f = crate::fsio::open_regular(path).map_err(|e| pkg_err(path, e))?;
    let mut r = std::io::BufReader::new(f);
    let head = r.fill_buf().map_err(|e| pkg_err(path, e))?;
    if !head.starts_with(&RPM_MAGIC) {
        return Err(pkg_err(
            path,
            format!(
                "{} (an RPM starts with the bytes ed ab ee db)",
                what_is(head)
            ),
        ));
    }
    let md = rpm::PackageMetadata::parse(&mut r).map_err(|e| {
        // The rpm crate's parse errors quote the raw input; keep only the gist.
        let msg = e.to_string();
        let short = msg
            .split(['[', '\n'])
            .next()
            .unwrap_or("")
            .trim()
            .trim_end_matches(':');
        pkg_err(path, format!("corrupt or truncated RPM header ({short})"))
    })?;
    Ok((r, md))
}

/// A short description of what `head` (a file's first bytes) looks like.
fn what_is(head: &[u8]) -> &'static str {
    use crate::module::compression::Compression;
    if head.is_empty() {
        return "an empty file";
    }
    if head.starts_with(b"\x7fELF") {
        return "an ELF file (a kernel module or program?), not an RPM";
    }
    if head.starts_with(b"070701") || head.starts_with(b"070702") {
        return "a cpio archive, not an RPM";
    }
    match Compression::detect(head) {
        Compression::None => {}
        _ => return "compressed data (gzip, xz or zstd), not an RPM",
    }
    let start = head.get(..head.len().min(512)).unwrap_or(head);
    if !start.contains(&0) && std::str::from_utf8(start).is_ok() {
        "a text file, not an RPM"
    } else {
        "not an RPM package"
    }
}

/// Reads only the header (fast; the payload is not decompressed).
pub fn read_header(path: &Path) -> Result<RpmPackage, RpmError> {
    let (_, md) = open_rpm(path)?;
    from_metadata(path, &md)
}

/// Payload files as (install path, contents).
pub type NamedFiles = Vec<(String, Vec<u8>)>;

/// Reads the header and the contents of the payload files selected by
/// `want(path)`. Returns `(install path, bytes)` in payload order.
///
/// The payload is streamed: decompressed and walked entry by entry, with
/// unselected files skipped without being stored, so memory is bounded by
/// the selected files ([`MAX_PAYLOAD_FILE`] each, [`MAX_PAYLOAD_SELECTED`]
/// in all), not by the payload (a decompression bomb is refused, not held).
pub fn read_with_files(
    path: &Path,
    want: impl Fn(&str) -> bool,
) -> Result<(RpmPackage, NamedFiles), RpmError> {
    use std::io::Read;
    let (r, md) = open_rpm(path)?;
    let info = from_metadata(path, &md)?;
    let err = |m: String| pkg_err(path, format!("payload: {m}"));
    let mut payload: Box<dyn Read> = match md.get_payload_compressor() {
        Ok(rpm::CompressionType::None) => Box::new(r),
        Ok(rpm::CompressionType::Gzip) => Box::new(flate2::bufread::MultiGzDecoder::new(r)),
        Ok(rpm::CompressionType::Xz) => Box::new(liblzma::bufread::XzDecoder::new_multi_decoder(r)),
        Ok(rpm::CompressionType::Zstd) => {
            Box::new(zstd::stream::read::Decoder::with_buffer(r).map_err(|e| err(e.to_string()))?)
        }
        Ok(rpm::CompressionType::Bzip2) => {
            return Err(err("bzip2-compressed payloads are not supported".into()))
        }
        Err(e) => return Err(err(e.to_string())),
    };
    let mut out = Vec::new();
    let mut selected = 0u64;
    let io = |e: std::io::Error| err(format!("{e} (truncated or corrupt)"));
    loop {
        let mut h = [0u8; 110];
        payload.read_exact(&mut h[..6]).map_err(io)?;
        if &h[..6] == b"07070X" {
            return Err(err(
                "rpm's large-file cpio format (07070X, files of 4 GiB or more) is not supported"
                    .into(),
            ));
        }
        if &h[..6] != b"070701" && &h[..6] != b"070702" {
            return Err(err("not a cpio newc archive".into()));
        }
        payload.read_exact(&mut h[6..]).map_err(io)?;
        let field = |i: usize| -> Result<u64, RpmError> {
            let t = std::str::from_utf8(h.get(6 + 8 * i..14 + 8 * i).unwrap_or_default())
                .map_err(|_| err("bad cpio header".into()))?;
            u64::from_str_radix(t, 16).map_err(|_| err(format!("bad cpio header field {t:?}")))
        };
        let (mode, size, namesize) = (field(1)?, field(6)?, field(11)?);
        if namesize == 0 || namesize > 4096 {
            return Err(err(format!("cpio name of {namesize} bytes")));
        }
        let mut name = vec![0u8; namesize as usize];
        payload.read_exact(&mut name).map_err(io)?;
        name.pop();
        let pad = (4 - (110 + namesize) % 4) % 4;
        std::io::copy(&mut payload.by_ref().take(pad), &mut std::io::sink()).map_err(io)?;
        let name = String::from_utf8_lossy(&name).into_owned();
        if name == "TRAILER!!!" {
            break;
        }
        let p = format!("/{}", name.trim_start_matches('.').trim_start_matches('/'));
        let regular = mode & 0o170000 == 0o100000;
        if regular && size > 0 && want(&p) {
            if size > MAX_PAYLOAD_FILE {
                return Err(err(format!(
                    "{p} is {size} bytes, over the {} MiB limit for a file read into memory",
                    MAX_PAYLOAD_FILE >> 20
                )));
            }
            selected += size;
            if selected > MAX_PAYLOAD_SELECTED {
                return Err(err(format!(
                    "the selected files add up to more than the {} MiB limit",
                    MAX_PAYLOAD_SELECTED >> 20
                )));
            }
            let mut data = Vec::with_capacity(size as usize);
            payload
                .by_ref()
                .take(size)
                .read_to_end(&mut data)
                .map_err(io)?;
            if data.len() as u64 != size {
                return Err(err(format!("{p}: truncated")));
            }
            out.push((p, data));
        } else {
            let skipped = std::io::copy(&mut payload.by_ref().take(size), &mut std::io::sink())
                .map_err(io)?;
            if skipped != size {
                return Err(err(format!("{p}: truncated")));
            }
        }
        let pad = (4 - size % 4) % 4;
        std::io::copy(&mut payload.by_ref().take(pad), &mut std::io::sink()).map_err(io)?;
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
