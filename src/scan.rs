//! Finding and reading many modules at once (module trees, package build
//! roots). Reading is I/O-bound on cold caches and parse-bound on warm
//! ones, so files are read on a small pool of threads; results come back in
//! sorted path order whatever the scheduling, keeping output deterministic.

use std::path::{Path, PathBuf};

use crate::module::{self, KernelModule, ModuleError};

/// Module files under `paths` (files are taken as given, directories are
/// walked without following symlinks), sorted and de-duplicated.
pub fn find_modules(paths: &[PathBuf]) -> Result<Vec<PathBuf>, ModuleError> {
    let mut out = Vec::new();
    for p in paths {
        let meta = std::fs::metadata(p).map_err(|source| ModuleError::Io {
            path: p.clone(),
            source,
        })?;
        if meta.is_dir() {
            for entry in walkdir::WalkDir::new(p).sort_by_file_name() {
                let entry = entry.map_err(|e| ModuleError::Io {
                    path: e.path().map(Path::to_path_buf).unwrap_or_else(|| p.clone()),
                    source: e
                        .into_io_error()
                        .unwrap_or_else(|| std::io::Error::other("directory loop")),
                })?;
                if entry.file_type().is_file() && module::is_module_path(entry.path()) {
                    out.push(entry.into_path());
                }
            }
        } else {
            out.push(p.clone());
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}

/// Number of reader threads: the machine's parallelism, at most 8.
pub fn default_jobs() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .min(8)
}

/// Reads and parses every file, `jobs` at a time. The result is in input
/// order; each entry is the module or the error for that file.
pub fn read_all(paths: &[PathBuf], jobs: usize) -> Vec<Result<KernelModule, ModuleError>> {
    let jobs = jobs.max(1).min(paths.len().max(1));
    if jobs == 1 {
        return paths.iter().map(|p| module::read(p)).collect();
    }
    let next = std::sync::atomic::AtomicUsize::new(0);
    let mut slots: Vec<Option<Result<KernelModule, ModuleError>>> = Vec::new();
    slots.resize_with(paths.len(), || None);
    let slots = std::sync::Mutex::new(slots);
    std::thread::scope(|s| {
        for _ in 0..jobs {
            s.spawn(|| loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(p) = paths.get(i) else { break };
                let r = module::read(p);
                if let Ok(mut slots) = slots.lock() {
                    slots[i] = Some(r);
                }
            });
        }
    });
    slots
        .into_inner()
        .unwrap_or_default()
        .into_iter()
        .zip(paths)
        .map(|(r, p)| {
            r.unwrap_or_else(|| {
                Err(ModuleError::Io {
                    path: p.clone(),
                    source: std::io::Error::other("reader thread failed"),
                })
            })
        })
        .collect()
}
