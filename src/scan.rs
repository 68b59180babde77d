//! Finding and reading many modules at once (module trees, package build
//! roots). Reading is I/O-bound on cold caches and parse-bound on warm
//! ones, so files are read on a small pool of threads; results come back in
//! sorted path order whatever the scheduling, keeping output deterministic.
//!
//! The one home of both for every command: `symvers`, `deps` and the
//! module-taking commands' inputs (`kabi::inputs`, which adds RPMs and
//! labels on top) all walk and read through here.

use std::path::{Path, PathBuf};

use crate::module::{self, KernelModule, ModuleError};

/// Module files under `paths` (files are taken as given, directories are
/// walked without following symlinks), sorted and de-duplicated.
pub fn find_modules(paths: &[PathBuf]) -> Result<Vec<PathBuf>, ModuleError> {
    find_files(paths, module::is_module_path)
}

/// `*.rpm` files under `paths` (a result directory handed over whole), as
/// [`find_modules`] finds modules.
pub fn find_rpms(paths: &[PathBuf]) -> Result<Vec<PathBuf>, ModuleError> {
    find_files(paths, |p| p.extension().is_some_and(|e| e == "rpm"))
}

/// Files under `paths` that `want`: files are taken as given, directories
/// are walked without following symlinks; sorted and de-duplicated.
pub fn find_files(
    paths: &[PathBuf],
    want: impl Fn(&Path) -> bool,
) -> Result<Vec<PathBuf>, ModuleError> {
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
                if entry.file_type().is_file() && want(entry.path()) {
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
    map_with_reader(paths, jobs, module::Reader::default, |reader, p| {
        reader.read(p)
    })
}

/// Runs `f` on every item on up to `jobs` threads, each with its own
/// [`module::Reader`] from `reader` (so buffers are reused), and returns the
/// results in input order. Threads take the next item as they finish one,
/// so a few huge modules do not leave the other threads idle.
pub fn map_with_reader<T, R, F>(
    items: &[T],
    jobs: usize,
    reader: fn() -> module::Reader,
    f: F,
) -> Vec<R>
where
    T: Sync,
    R: Send,
    F: Fn(&mut module::Reader, &T) -> R + Sync,
{
    let jobs = jobs.max(1).min(items.len().max(1));
    if jobs == 1 {
        let mut reader = reader();
        return items.iter().map(|i| f(&mut reader, i)).collect();
    }
    let next = std::sync::atomic::AtomicUsize::new(0);
    let parts: Vec<Vec<(usize, R)>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..jobs)
            .map(|_| {
                s.spawn(|| {
                    let mut reader = reader();
                    let mut done = Vec::new();
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(item) = items.get(i) else { break };
                        done.push((i, f(&mut reader, item)));
                    }
                    done
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect()
    });
    let mut all: Vec<(usize, R)> = parts.into_iter().flatten().collect();
    all.sort_unstable_by_key(|(i, _)| *i);
    all.into_iter().map(|(_, r)| r).collect()
}
