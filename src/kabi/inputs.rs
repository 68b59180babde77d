//! Modules named on the command line: `.ko[.gz|.xz|.zst]` files, directories
//! (searched recursively), and kmod RPMs (payload read in-process, so
//! compressed modules inside packages work without unpacking anything).
//!
//! Reading is the expensive part of checking a whole kernel tree (4000
//! files, 400 MB), so files are parsed on [`crate::scan`]'s pool of reader
//! threads; results keep the order of the arguments (directories sorted by
//! path) so output is deterministic.
//!
//! This is not a second reader beside `scan` (issue #15 item 4): `scan`
//! owns finding files under directories (one walk, symlinks never
//! followed) and the bounded thread pool; this module only adds what the
//! module-taking commands (`kabi check`, `alias`, `inspect`) accept on top —
//! RPMs read in-process and classified by role, a bare ELF file named
//! without `.ko`, the `package.rpm:/path` labels and the note about skipped
//! RPMs.

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

fn is_rpm_name(path: &Path) -> bool {
    path.extension().is_some_and(|x| x == "rpm")
}

fn classify(path: &Path) -> Result<Vec<Source>, InputError> {
    let meta = std::fs::metadata(path).map_err(|source| InputError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    if meta.is_dir() {
        // Module trees and result directories alike: modules and the RPMs
        // beside them (SRPMs, -devel and debuginfo are skipped when loaded),
        // found by the one directory walk (`scan`: symlinks not followed,
        // sorted).
        let files = crate::scan::find_files(&[path.to_path_buf()], |p| {
            module::is_module_path(p) || is_rpm_name(p)
        })?;
        if files.is_empty() {
            return Err(InputError::Empty(path.to_path_buf()));
        }
        return Ok(files
            .into_iter()
            .map(|p| {
                if module::is_module_path(&p) {
                    Source::File(p)
                } else {
                    Source::Rpm(p)
                }
            })
            .collect());
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
fn load_source(
    reader: &mut module::Reader,
    src: &Source,
) -> Result<Result<Vec<LoadedModule>, String>, InputError> {
    match src {
        Source::File(p) => Ok(Ok(vec![LoadedModule {
            label: p.display().to_string(),
            module: reader.read(p)?,
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

/// Reads every module named by `paths`, in argument order, on
/// [`crate::scan`]'s reader pool. The first error (in argument order) wins.
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
    let results = crate::scan::map_with_reader(
        &sources,
        crate::scan::default_jobs(),
        module::Reader::default,
        load_source,
    );
    let mut out = Vec::new();
    let mut skipped = Vec::new();
    for result in results {
        match result {
            Ok(Ok(mods)) => out.extend(mods),
            Ok(Err(why)) => skipped.push(why),
            Err(e) => return Err(e),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_directory_is_walked_without_following_symlinks() {
        let tmp = tempfile::tempdir().unwrap();
        let elsewhere = tmp.path().join("elsewhere");
        std::fs::create_dir(&elsewhere).unwrap();
        std::fs::write(elsewhere.join("x.ko"), b"not a module").unwrap();
        let tree = tmp.path().join("tree");
        std::fs::create_dir(&tree).unwrap();
        std::os::unix::fs::symlink(&elsewhere, tree.join("linked")).unwrap();
        std::os::unix::fs::symlink(elsewhere.join("x.ko"), tree.join("y.ko")).unwrap();
        match load(std::slice::from_ref(&tree)) {
            Err(InputError::Empty(p)) => assert_eq!(p, tree),
            other => panic!("expected an empty tree, got {other:?}"),
        }
        // The same file found by a walk that reaches it is read (and refused).
        let e = load(&[elsewhere]).unwrap_err();
        assert!(matches!(e, InputError::Module(_)), "{e}");
    }
}
