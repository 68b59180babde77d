//! Modules named on the command line: `.ko[.gz|.xz|.zst]` files, directories
//! (searched recursively), and kmod RPMs (payload read in-process, so
//! compressed modules inside packages work without unpacking anything).
//!
//! Reading is the expensive part of checking a whole kernel tree (4000
//! files, 400 MB), so files are parsed on all cores; results keep the order
//! of the arguments (directories sorted by path) so output is deterministic.

use std::path::{Path, PathBuf};

use crate::module::{self, KernelModule, ModuleError};
use crate::rpmpkg::{self, RpmError};

/// A module read from an input, with the label reports use for it.
#[derive(Debug, Clone)]
pub struct LoadedModule {
    /// The file path, or `package.rpm:/path/inside`.
    pub label: String,
    /// The parsed module.
    pub module: KernelModule,
}

/// Why an input could not be read.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    /// Missing or unreadable path.
    #[error("{path}: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// What the OS said.
        source: std::io::Error,
    },
    /// A broken module file.
    #[error(transparent)]
    Module(#[from] ModuleError),
    /// A broken RPM.
    #[error(transparent)]
    Rpm(#[from] RpmError),
    /// A file that is neither a module nor an RPM.
    #[error("{0}: neither a kernel module (*.ko, *.ko.gz|xz|zst) nor an RPM package")]
    NotAModule(PathBuf),
    /// A directory or package without modules.
    #[error("{0}: contains no kernel modules")]
    Empty(PathBuf),
}

use crate::rpmpkg::RPM_MAGIC;

enum Source {
    File(PathBuf),
    Rpm(PathBuf),
}

impl Source {
    fn path(&self) -> &Path {
        match self {
            Source::File(p) | Source::Rpm(p) => p,
        }
    }
}

/// Is `path` a regular file starting with the RPM lead magic? (Never opens
/// a FIFO or device: those are left to the readers, which name them.)
pub fn is_rpm_file(path: &Path) -> bool {
    use std::io::Read;
    if !std::fs::metadata(path).is_ok_and(|m| m.is_file()) {
        return false;
    }
    let mut head = [0u8; 4];
    std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut head))
        .is_ok()
        && head == RPM_MAGIC
}

fn classify(path: &Path) -> Result<Vec<Source>, InputError> {
    let meta = std::fs::metadata(path).map_err(|source| InputError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    if meta.is_dir() {
        // Module trees and result directories alike: modules and the RPMs
        // beside them (SRPMs, -devel and debuginfo are skipped when loaded).
        let mut files: Vec<Source> = walkdir::WalkDir::new(path)
            .follow_links(true)
            .sort_by_file_name()
            .into_iter()
            .filter_map(Result::ok)
            .filter(|e| e.file_type().is_file())
            .filter_map(|e| {
                if module::is_module_path(e.path()) {
                    Some(Source::File(e.into_path()))
                } else if e.path().extension().is_some_and(|x| x == "rpm") {
                    Some(Source::Rpm(e.into_path()))
                } else {
                    None
                }
            })
            .collect();
        files.sort_by(|a, b| a.path().cmp(b.path()));
        if files.is_empty() {
            return Err(InputError::Empty(path.to_path_buf()));
        }
        return Ok(files);
    }
    let mut head = [0u8; 4];
    {
        use std::io::Read;
        let mut f = crate::fsio::open_regular(path).map_err(|source| InputError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let _ = f.read(&mut head).map_err(|source| InputError::Io {
            path: path.to_path_buf(),
            source,
        })?;
    }
    if head == RPM_MAGIC {
        Ok(vec![Source::Rpm(path.to_path_buf())])
    } else if module::is_module_path(path) || head == *b"\x7fELF" {
        Ok(vec![Source::File(path.to_path_buf())])
    } else {
        Err(InputError::NotAModule(path.to_path_buf()))
    }
}

/// The modules of one source, or why an RPM was skipped (a source package,
/// `-devel`, debuginfo: globbing a result directory is a normal input).
fn load_source(src: &Source) -> Result<Result<Vec<LoadedModule>, String>, InputError> {
    match src {
        Source::File(p) => Ok(Ok(vec![LoadedModule {
            label: p.display().to_string(),
            module: module::read(p)?,
        }])),
        Source::Rpm(p) => {
            let role = crate::rpmrole::classify(&rpmpkg::read_header(p)?);
            if role != crate::rpmrole::RpmRole::Kmod {
                let name = p
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                return Ok(Err(format!("{name} ({})", role.describe())));
            }
            let (_, mods) = rpmpkg::read_modules(p)?;
            if mods.is_empty() {
                return Err(InputError::Empty(p.clone()));
            }
            Ok(Ok(mods
                .into_iter()
                .map(|(inner, module)| LoadedModule {
                    label: format!("{}:{}", p.display(), inner),
                    module,
                })
                .collect()))
        }
    }
}

/// Reads every module named by `paths`, in argument order, using up to
/// `available_parallelism` threads. The first error (in argument order) wins.
/// RPMs without modules (SRPMs, `-devel`, debuginfo) are skipped silently;
/// [`load_noted`] says which.
pub fn load(paths: &[PathBuf]) -> Result<Vec<LoadedModule>, InputError> {
    load_noted(paths).map(|(mods, _)| mods)
}

/// [`load`], plus one note naming the RPMs skipped because they ship no
/// modules (`None` when none was). Fails when nothing is left to read.
pub fn load_noted(paths: &[PathBuf]) -> Result<(Vec<LoadedModule>, Option<String>), InputError> {
    let mut sources = Vec::new();
    for p in paths {
        sources.extend(classify(p)?);
    }
    let workers = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .min(sources.len().max(1));
    let next = std::sync::atomic::AtomicUsize::new(0);
    type Slot = Option<Result<Result<Vec<LoadedModule>, String>, InputError>>;
    let mut slots: Vec<Slot> = (0..sources.len()).map(|_| None).collect();
    let results = std::sync::Mutex::new(&mut slots);
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(src) = sources.get(i) else { break };
                let r = load_source(src);
                if let Ok(mut guard) = results.lock() {
                    guard[i] = Some(r);
                }
            });
        }
    });
    let mut out = Vec::new();
    let mut skipped = Vec::new();
    for slot in slots {
        match slot {
            Some(Ok(Ok(mods))) => out.extend(mods),
            Some(Ok(Err(why))) => skipped.push(why),
            Some(Err(e)) => return Err(e),
            None => {}
        }
    }
    let note = (!skipped.is_empty()).then(|| {
        format!(
            "skipped {} RPM(s) without kernel modules: {}",
            skipped.len(),
            skipped.join(", ")
        )
    });
    if out.is_empty() && !skipped.is_empty() {
        let what = paths
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(", ");
        return Err(InputError::Empty(PathBuf::from(format!(
            "{what} ({})",
            note.unwrap_or_default()
        ))));
    }
    Ok((out, note))
}
