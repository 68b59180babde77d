//! The scratch directory of a cell, at a path that does not change between
//! builds.
//!
//! rpm 4.18 stores the macro-expanded spec in the SRPM header (`%{_topdir}`
//! and `%{buildroot}` included) and Kbuild records the build directory in
//! each module's debug info, so a random temporary `_topdir` makes every
//! build differ. Each cell therefore works in `/tmp/kmodpack-build/<cell>`,
//! guarded by a lock file so two concurrent kmodpack runs building the same
//! cell take turns instead of trampling each other.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The fixed parent of all cell work directories.
pub const BASE: &str = "/tmp/kmodpack-build";

/// A locked work directory; emptied when acquired, removed on drop unless kept.
#[derive(Debug)]
pub struct Workdir {
    path: PathBuf,
    lock: PathBuf,
    keep: bool,
}

impl Workdir {
    /// Locks and empties `<base>/<slug>`. Waits while another live process
    /// holds the lock; takes over a lock left by a dead one.
    pub fn acquire(base: &Path, slug: &str) -> std::io::Result<Workdir> {
        std::fs::create_dir_all(base)?;
        {
            use std::os::unix::fs::PermissionsExt;
            // Shared by every user of the machine, like /tmp itself.
            let _ = std::fs::set_permissions(base, std::fs::Permissions::from_mode(0o1777));
        }
        let path = base.join(slug);
        let lock = base.join(format!("{slug}.lock"));
        loop {
            match std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&lock)
            {
                Ok(mut f) => {
                    writeln!(f, "{}", std::process::id())?;
                    break;
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    let holder = std::fs::read_to_string(&lock)
                        .ok()
                        .and_then(|s| s.trim().parse::<u32>().ok());
                    let alive =
                        holder.is_some_and(|pid| Path::new(&format!("/proc/{pid}")).exists());
                    if !alive {
                        let _ = std::fs::remove_file(&lock);
                        continue;
                    }
                    std::thread::sleep(Duration::from_millis(500));
                }
                Err(e) => return Err(e),
            }
        }
        if path.exists() {
            std::fs::remove_dir_all(&path)?;
        }
        std::fs::create_dir_all(&path)?;
        Ok(Workdir {
            path,
            lock,
            keep: false,
        })
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Leave the directory in place (the lock is still released).
    pub fn keep(&mut self) {
        self.keep = true;
    }
}

impl Drop for Workdir {
    fn drop(&mut self) {
        if !self.keep {
            let _ = std::fs::remove_dir_all(&self.path);
        }
        let _ = std::fs::remove_file(&self.lock);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_path_every_time_and_stale_locks_are_taken_over() {
        let base = tempfile::tempdir().unwrap();
        let p1 = {
            let w = Workdir::acquire(base.path(), "cell").unwrap();
            std::fs::write(w.path().join("junk"), b"x").unwrap();
            w.path().to_path_buf()
        };
        assert!(!p1.exists(), "removed on drop");
        // A lock from a process that no longer exists.
        std::fs::write(base.path().join("cell.lock"), "4294967\n").unwrap();
        let w = Workdir::acquire(base.path(), "cell").unwrap();
        assert_eq!(w.path(), p1);
        assert!(
            std::fs::read_dir(w.path()).unwrap().next().is_none(),
            "emptied"
        );
    }
}
