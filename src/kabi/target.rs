//! Turning a `--kernel TARGET` into [`KernelSymbols`] (the I/O edge of kabi).
//!
//! A target kernel can be named by what a release engineer has at hand:
//! - a `Module.symvers`, RHEL `/boot/symvers-<kver>.gz|.xz` (any layout);
//! - a kernel-devel / headers directory (holds `Module.symvers`);
//! - `/lib/modules/<kver>` or just `<kver>` (symvers found the way
//!   weak-modules finds it, plus Debian's `build/Module.symvers`);
//! - a kernel RPM: a symvers file in its payload when there is one, else its
//!   `kernel(sym) = 0xcrc` Provides (read in-process with the `rpm` crate).
//!
//! The vermagic check needs the kernel's own vermagic, which no symvers
//! carries: it is read from one of the kernel's modules when a module tree
//! (or a payload with modules) is available, and left unknown otherwise.

use std::path::{Path, PathBuf};

use super::KernelSymbols;
use crate::module::{self, ExportKind, KernelModule};
use crate::rpmpkg::{self, DepOp, RpmError};
use crate::symvers::{Symvers, SymversEntry, SymversFileError};

/// Why a `--kernel` argument could not be turned into a symbol table.
#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    /// Neither a file, a directory nor an installed kernel release.
    #[error("{0}: no such file, directory or installed kernel release")]
    NotFound(String),
    /// A directory that holds no symvers in any known place.
    #[error("{path}: not a kernel target: {why}")]
    NotATarget {
        /// The argument.
        path: PathBuf,
        /// What was looked for.
        why: String,
    },
    /// Unreadable file or directory.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What the OS said.
        source: std::io::Error,
    },
    /// A symvers that does not parse.
    #[error(transparent)]
    Symvers(#[from] SymversFileError),
    /// A kernel RPM that does not read.
    #[error(transparent)]
    Rpm(#[from] RpmError),
    /// A symvers inside an RPM that does not parse.
    #[error("{rpm}: {inner}: {message}")]
    RpmSymvers {
        /// The RPM.
        rpm: PathBuf,
        /// Path inside the payload.
        inner: String,
        /// What is wrong.
        message: String,
    },
}

use crate::rpmpkg::RPM_MAGIC;

/// Resolves one `--kernel` argument.
pub fn resolve(spec: &str) -> Result<KernelSymbols, TargetError> {
    let path = Path::new(spec);
    if path.is_dir() {
        return resolve_dir(path);
    }
    if path.is_file() {
        let mut head = [0u8; 4];
        let is_rpm = {
            use std::io::Read;
            let mut f = crate::fsio::open_regular(path).map_err(|source| TargetError::Io {
                path: path.into(),
                source,
            })?;
            f.read(&mut head).map_err(|source| TargetError::Io {
                path: path.into(),
                source,
            })? == 4
                && head == RPM_MAGIC
        };
        return if is_rpm {
            resolve_rpm(path)
        } else {
            resolve_symvers_file(path)
        };
    }
    if !spec.contains('/') && !spec.is_empty() {
        let dir = Path::new("/lib/modules").join(spec);
        if dir.is_dir() {
            return resolve_dir(&dir);
        }
    }
    Err(TargetError::NotFound(spec.to_string()))
}

/// The kernel release a symvers file name carries (`symvers-<kver>.gz`).
fn release_from_file_name(path: &Path) -> Option<String> {
    let name = path.file_name()?.to_str()?;
    let rest = name.strip_prefix("symvers-")?;
    let rest = rest
        .strip_suffix(".gz")
        .or_else(|| rest.strip_suffix(".xz"))
        .or_else(|| rest.strip_suffix(".zst"))
        .unwrap_or(rest);
    (!rest.is_empty()).then(|| rest.to_string())
}

fn resolve_symvers_file(path: &Path) -> Result<KernelSymbols, TargetError> {
    let symbols = Symvers::read(path)?;
    // A Module.symvers inside a headers tree: take the release from it.
    let release = release_from_file_name(path).or_else(|| path.parent().and_then(headers_release));
    let vermagic = release
        .as_deref()
        .and_then(|r| host_vermagic_for_headers(r, path.parent()));
    Ok(KernelSymbols {
        label: release
            .clone()
            .unwrap_or_else(|| path.display().to_string()),
        release,
        vermagic,
        symbols,
        source: path.display().to_string(),
        modules: Vec::new(),
    })
}

/// The release of a headers tree: `UTS_RELEASE` in
/// `include/generated/utsrelease.h` (Debian's `include/config/kernel.release`
/// holds the upstream version instead), else `include/config/kernel.release`.
fn headers_release(dir: &Path) -> Option<String> {
    if let Ok(h) = std::fs::read_to_string(dir.join("include/generated/utsrelease.h")) {
        if let Some(rest) = h.split("UTS_RELEASE \"").nth(1) {
            if let Some(r) = rest.split('"').next().filter(|r| !r.is_empty()) {
                return Some(r.to_string());
            }
        }
    }
    let text = std::fs::read_to_string(dir.join("include/config/kernel.release")).ok()?;
    let r = text.trim();
    (!r.is_empty()).then(|| r.to_string())
}

/// The vermagic of the installed kernel `release`, but only when its
/// `/lib/modules/<release>/build` is this very headers tree (or no tree was
/// given): the same release string built twice may differ in flags.
fn host_vermagic_for_headers(release: &str, headers: Option<&Path>) -> Option<String> {
    let modules = Path::new("/lib/modules").join(release);
    if let Some(h) = headers {
        let build = std::fs::canonicalize(modules.join("build")).ok()?;
        if std::fs::canonicalize(h).ok()? != build {
            return None;
        }
    }
    tree_vermagic(&modules)
}

/// vermagic of the first readable module under `<dir>/kernel` (or `<dir>`).
fn tree_vermagic(dir: &Path) -> Option<String> {
    let base = if dir.join("kernel").is_dir() {
        dir.join("kernel")
    } else {
        dir.to_path_buf()
    };
    walkdir::WalkDir::new(base)
        .sort_by_file_name()
        .into_iter()
        .flatten()
        .filter(|e| e.file_type().is_file() && module::is_module_path(e.path()))
        .take(8)
        .find_map(|e| {
            module::read(e.path())
                .ok()
                .and_then(|m| m.vermagic().map(str::to_string))
        })
}

fn resolve_dir(dir: &Path) -> Result<KernelSymbols, TargetError> {
    let symvers_file = dir.join("Module.symvers");
    if symvers_file.is_file() {
        // kernel-devel / headers directory.
        let symbols = Symvers::read(&symvers_file)?;
        let release = headers_release(dir);
        let vermagic = release
            .as_deref()
            .and_then(|r| host_vermagic_for_headers(r, Some(dir)));
        return Ok(KernelSymbols {
            label: release.clone().unwrap_or_else(|| dir.display().to_string()),
            release,
            vermagic,
            symbols,
            source: symvers_file.display().to_string(),
            modules: Vec::new(),
        });
    }
    // A module tree, /lib/modules/<kver>.
    let release = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let Some(found) = find_symvers(dir, &release) else {
        return Err(TargetError::NotATarget {
            path: dir.to_path_buf(),
            why: format!(
                "no Module.symvers, no symvers.{{xz,gz}}, no build/Module.symvers and no /boot/symvers-{release}.{{xz,gz}}"
            ),
        });
    };
    let symbols = Symvers::read(&found)?;
    Ok(KernelSymbols {
        label: release.clone(),
        release: Some(release),
        vermagic: tree_vermagic(dir),
        symbols,
        source: found.display().to_string(),
        modules: module_names(crate::scan::find_modules(&[dir.to_path_buf()]).unwrap_or_default()),
    })
}

/// Where the symvers of the module tree `dir` (release `release`) lives:
/// weak-modules' places first (`/boot/symvers-<k>.{xz,gz}`,
/// `<dir>/symvers.{xz,gz}`), then a headers tree linked as `<dir>/build`.
///
/// This order deliberately differs from the dependency generator's
/// ([`crate::deps::kernel_symvers::SEARCH_LIST`]): `kabi check` asks "will
/// it load on this installed kernel", so it reads what the kernel package
/// installed, in the order weak-modules reads it (xz before gz, as current
/// kernel-core ships); the generator runs in a buildroot where the
/// kernel-devel `Module.symvers` is what the module was built against, and
/// kernel-core's files may be absent, so it looks there first.
pub fn find_symvers(dir: &Path, release: &str) -> Option<PathBuf> {
    let mut candidates = Vec::new();
    // /boot only belongs to trees that live in /lib/modules of this system.
    if std::fs::canonicalize(dir)
        .ok()
        .and_then(|d| d.parent().map(Path::to_path_buf))
        == Some(PathBuf::from("/lib/modules"))
        || dir.parent() == Some(Path::new("/lib/modules"))
    {
        candidates.push(PathBuf::from(format!("/boot/symvers-{release}.xz")));
        candidates.push(PathBuf::from(format!("/boot/symvers-{release}.gz")));
    }
    candidates.push(dir.join("symvers.xz"));
    candidates.push(dir.join("symvers.gz"));
    candidates.push(dir.join("build/Module.symvers"));
    candidates.into_iter().find(|p| p.is_file())
}

/// Kernels installed on this machine that a module could be checked
/// against: every `/lib/modules/<kver>` with a symvers, oldest first.
pub fn installed_kernels() -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir("/lib/modules")
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            let rel = p
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            p.is_dir() && find_symvers(p, &rel).is_some()
        })
        .collect();
    found.sort_by(|a, b| version_key(a).cmp(&version_key(b)).then_with(|| a.cmp(b)));
    found
}

fn version_key(p: &Path) -> Vec<u64> {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|x| x.parse().ok())
        .collect()
}

fn is_symvers_name(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    name.starts_with("symvers-") || name.starts_with("symvers.") || name == "Module.symvers"
}

/// A kernel RPM: its payload's symvers when it has one, else its
/// `kernel(sym) = 0xcrc` / `ksym(sym) = 0xcrc` Provides.
fn resolve_rpm(path: &Path) -> Result<KernelSymbols, TargetError> {
    let header = rpmpkg::read_header(path)?;
    let release = header
        .provides
        .iter()
        .find(|d| d.name == "kernel-uname-r" && d.op == DepOp::Eq)
        .map(|d| d.version.clone())
        .unwrap_or_else(|| format!("{}-{}.{}", header.version, header.release, header.arch));
    let has_symvers = header
        .files
        .iter()
        .any(|f| !f.ghost && f.linkto.is_none() && is_symvers_name(&f.path));
    // One module is enough for the vermagic; a kernel-modules package holds
    // thousands, so only the first one's contents are kept.
    let first_module = header.module_paths().first().map(|p| p.to_string());
    let mut vermagic = None;
    let mut symvers = None;
    if has_symvers || first_module.is_some() {
        let (_, files) = rpmpkg::read_with_files(path, |p| {
            is_symvers_name(p) || first_module.as_deref() == Some(p)
        })?;
        for (inner, bytes) in files {
            if is_symvers_name(&inner) {
                if symvers.is_none() {
                    let s = Symvers::parse(&bytes).map_err(|e| TargetError::RpmSymvers {
                        rpm: path.to_path_buf(),
                        inner: inner.clone(),
                        message: e.to_string(),
                    })?;
                    symvers = Some((inner, s));
                }
            } else if vermagic.is_none() {
                vermagic = KernelModule::parse(&bytes)
                    .ok()
                    .and_then(|m| m.vermagic().map(str::to_string));
            }
        }
    }
    let (symbols, source) = match symvers {
        Some((inner, s)) => (s, format!("{}:{}", path.display(), inner)),
        None => {
            let entries: Vec<SymversEntry> = header
                .provides
                .iter()
                .filter(|d| d.op == DepOp::Eq)
                .filter_map(|d| {
                    let inner = d
                        .name
                        .strip_prefix("kernel(")
                        .or_else(|| d.name.strip_prefix("ksym("))?;
                    let sym = inner.strip_suffix(')')?;
                    let hex = d.version.strip_prefix("0x")?;
                    let crc = u64::from_str_radix(hex, 16).ok()? as u32;
                    Some(SymversEntry {
                        crc,
                        name: sym.to_string(),
                        module: "vmlinux".to_string(),
                        kind: ExportKind::Plain,
                        namespace: None,
                    })
                })
                .collect();
            if entries.is_empty() {
                return Err(TargetError::NotATarget {
                    path: path.to_path_buf(),
                    why: "the package has neither a symvers file nor kernel(sym) = 0xcrc Provides"
                        .into(),
                });
            }
            (
                Symvers::from_entries(entries),
                format!("{} (Provides)", path.display()),
            )
        }
    };
    Ok(KernelSymbols {
        label: release.clone(),
        release: Some(release),
        vermagic,
        symbols,
        source,
        modules: module_names(header.module_paths()),
    })
}

/// Kernel module names from module paths (`…/usb-storage.ko.xz` →
/// `usb_storage`), sorted and unique.
fn module_names<P: AsRef<Path>>(paths: impl IntoIterator<Item = P>) -> Vec<String> {
    let mut names: Vec<String> = paths
        .into_iter()
        .map(|p| module::normalize_name(&module::file_stem(p.as_ref())))
        .collect();
    names.sort();
    names.dedup();
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn release_from_names() {
        assert_eq!(
            release_from_file_name(Path::new("/boot/symvers-5.14.0-503.el9.x86_64.gz")).as_deref(),
            Some("5.14.0-503.el9.x86_64")
        );
        assert_eq!(release_from_file_name(Path::new("Module.symvers")), None);
    }
}
