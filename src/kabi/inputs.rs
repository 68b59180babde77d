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

fn classify(path: &Path) -> Result<Vec<Source>, InputError> {
    let meta = std::fs::metadata(path).map_err(|source| InputError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    if meta.is_dir() {
        let mut files: Vec<PathBuf> = walkdir::WalkDir::new(path)
            .follow_links(true)
            .sort_by_file_name()
            .into_iter()
            .filter_map(Result::ok)
            .filter(|e| e.file_type().is_file() && module::is_module_path(e.path()))
            .map(|e| e.into_path())
            .collect();
        files.sort();
        if files.is_empty() {
            return Err(InputError::Empty(path.to_path_buf()));
        }
        return Ok(files.into_iter().map(Source::File).collect());
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

fn load_source(src: &Source) -> Result<Vec<LoadedModule>, InputError> {
    match src {
        Source::File(p) => Ok(vec![LoadedModule {
            label: p.display().to_string(),
            module: module::read(p)?,
        }]),
        Source::Rpm(p) => {
            let (_, mods) = rpmpkg::read_modules(p)?;
            if mods.is_empty() {
                return Err(InputError::Empty(p.clone()));
            }
            Ok(mods
                .into_iter()
                .map(|(inner, module)| LoadedModule {
                    label: format!("{}:{}", p.display(), inner),
                    module,
                })
                .collect())
        }
    }
}

/// Reads every module named by `paths`, in argument order, using up to
/// `available_parallelism` threads. The first error (in argument order) wins.
pub fn load(paths: &[PathBuf]) -> Result<Vec<LoadedModule>, InputError> {
    let mut sources = Vec::new();
    for p in paths {
        sources.extend(classify(p)?);
    }
    let workers = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .min(sources.len().max(1));
    let next = std::sync::atomic::AtomicUsize::new(0);
    let mut slots: Vec<Option<Result<Vec<LoadedModule>, InputError>>> =
        (0..sources.len()).map(|_| None).collect();
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
    for slot in slots {
        match slot {
            Some(Ok(mods)) => out.extend(mods),
            Some(Err(e)) => return Err(e),
            None => {}
        }
    }
    Ok(out)
}
