//! The scratch directory of a cell: private to the caller, at a path that
//! does not change between builds.
//!
//! rpm 4.18 stores the macro-expanded spec in the SRPM header (`%{_topdir}`
//! and `%{buildroot}` included) and Kbuild records the build directory in
//! each module's debug info, so a random temporary `_topdir` makes every
//! build differ. Each cell therefore works in `<base>/<cell>`, where `<base>`
//! is `$TMPDIR/kmodpack-build-<uid>` (`/tmp/kmodpack-build-0` for root): the
//! same path on every machine for the same user, and naming no home
//! directory in the SRPM.
//!
//! Why not a shared `/tmp/kmodpack-build`: a world-writable parent lets
//! another local user plant a symlink or a directory there first, and
//! kmodpack runs as root. So the base is created mode 0700, must be a real
//! directory (never a symlink) owned by the caller and not writable by
//! others — otherwise the build stops and says so (set `TMPDIR` to a private
//! directory to sidestep a squatter) —, the cell directory is created fresh
//! with `mkdir` (which fails rather than follow anything planted), and two
//! concurrent runs building the same cell take turns on an `flock` — a
//! kernel lock that dies with its holder, never a PID written in a file
//! that anyone could fake.

use std::fs::File;
use std::os::unix::fs::{DirBuilderExt, MetadataExt};
use std::path::{Path, PathBuf};

/// The caller's work base: `<temp dir>/kmodpack-build-<euid>`, the temp dir
/// being the standard library's (`$TMPDIR`, else the system default), made
/// absolute so a relative `TMPDIR` cannot move it with the current directory.
pub fn default_base() -> PathBuf {
    let tmp = std::path::absolute(std::env::temp_dir()).unwrap_or_else(|_| std::env::temp_dir());
    // SAFETY: geteuid has no preconditions and cannot fail.
    tmp.join(format!("kmodpack-build-{}", unsafe { libc::geteuid() }))
}

/// A locked work directory; emptied when acquired, removed on drop unless kept.
#[derive(Debug)]
pub struct Workdir {
    /// Removed on drop and if a signal ends kmodpack first (unless kept).
    /// Declared before the lock: fields drop in order, so the directory is
    /// gone before the next run waiting on the flock gets it.
    dir: crate::cleanup::ScratchDir,
    /// Held for the directory's lifetime; closing it releases the flock.
    _lock: File,
}

/// Why `base` cannot be used, if it cannot: it must be a directory (not a
/// symlink to one), owned by this user, and not group- or world-writable.
fn check_private(base: &Path) -> std::io::Result<()> {
    let m = std::fs::symlink_metadata(base)?;
    let bad = |why: &str| {
        Err(std::io::Error::new(
            std::io::ErrorKind::PermissionDenied,
            format!(
                "{} {why}; refusing to build there (remove it, or set TMPDIR to a private directory)",
                base.display()
            ),
        ))
    };
    if m.file_type().is_symlink() {
        return bad("is a symbolic link");
    }
    if !m.is_dir() {
        return bad("is not a directory");
    }
    // SAFETY: geteuid has no preconditions and cannot fail.
    let me = unsafe { libc::geteuid() };
    if m.uid() != me {
        return bad(&format!(
            "is owned by uid {}, not by this user (uid {me})",
            m.uid()
        ));
    }
    if m.mode() & 0o022 != 0 {
        return bad(&format!(
            "is writable by others (mode {:o})",
            m.mode() & 0o7777
        ));
    }
    Ok(())
}

impl Workdir {
    /// Locks and empties `<base>/<slug>`, creating `base` (mode 0700) if
    /// needed. Waits while another process holds the cell's lock.
    pub fn acquire(base: &Path, slug: &str) -> std::io::Result<Workdir> {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(base)?;
        check_private(base)?;
        let path = base.join(slug);
        let lock = crate::lockfile::open_locked(&base.join(format!("{slug}.lock")), true, 0o600)?;
        // remove_dir_all does not follow a symlink: it removes the link.
        match std::fs::symlink_metadata(&path) {
            Ok(m) if m.is_dir() => std::fs::remove_dir_all(&path)?,
            Ok(_) => std::fs::remove_file(&path)?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
        std::fs::DirBuilder::new().mode(0o700).create(&path)?;
        Ok(Workdir {
            dir: crate::cleanup::ScratchDir::adopt(path),
            _lock: lock,
        })
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Leave the directory in place (the lock is still released).
    pub fn keep(&mut self) {
        self.dir.keep();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn same_path_every_time_private_and_a_pid_file_does_not_block() {
        let tmp = tempfile::tempdir().unwrap();
        let base = tmp.path().join("cache/kmodpack/build");
        let p1 = {
            let w = Workdir::acquire(&base, "cell").unwrap();
            std::fs::write(w.path().join("junk"), b"x").unwrap();
            w.path().to_path_buf()
        };
        assert!(!p1.exists(), "removed on drop");
        assert_eq!(
            std::fs::metadata(&base).unwrap().permissions().mode() & 0o777,
            0o700
        );
        // A live PID written into the lock file (the old scheme) means nothing.
        std::fs::write(base.join("cell.lock"), format!("{}\n", std::process::id())).unwrap();
        let w = Workdir::acquire(&base, "cell").unwrap();
        assert_eq!(w.path(), p1);
        assert!(
            std::fs::read_dir(w.path()).unwrap().next().is_none(),
            "emptied"
        );
    }

    #[test]
    fn planted_symlinks_and_shared_bases_are_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let target = tmp.path().join("victim");
        std::fs::create_dir(&target).unwrap();
        std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o755)).unwrap();
        let base = tmp.path().join("base");
        std::os::unix::fs::symlink(&target, &base).unwrap();
        let e = Workdir::acquire(&base, "cell").unwrap_err();
        assert!(e.to_string().contains("is a symbolic link"), "{e}");
        assert_eq!(
            std::fs::metadata(&target).unwrap().permissions().mode() & 0o7777,
            0o755,
            "the symlink's target was not touched"
        );
        assert!(std::fs::read_dir(&target).unwrap().next().is_none());
        let shared = tmp.path().join("shared");
        std::fs::create_dir(&shared).unwrap();
        std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o1777)).unwrap();
        let e = Workdir::acquire(&shared, "cell").unwrap_err();
        assert!(e.to_string().contains("writable by others"), "{e}");
        // A symlink planted as the cell directory or as its lock file.
        let ok = tmp.path().join("ok");
        std::fs::DirBuilder::new().mode(0o700).create(&ok).unwrap();
        std::os::unix::fs::symlink(&target, ok.join("cell")).unwrap();
        std::fs::write(target.join("keep"), b"x").unwrap();
        let w = Workdir::acquire(&ok, "cell").unwrap();
        assert!(!w
            .path()
            .symlink_metadata()
            .unwrap()
            .file_type()
            .is_symlink());
        assert!(
            target.join("keep").exists(),
            "the link was removed, not followed"
        );
        drop(w);
        std::os::unix::fs::symlink(target.join("keep"), ok.join("other.lock")).unwrap();
        assert!(
            Workdir::acquire(&ok, "other").is_err(),
            "lock symlink followed"
        );
        assert_eq!(std::fs::read(target.join("keep")).unwrap(), b"x");
    }

    #[test]
    fn a_held_lock_makes_the_second_run_wait() {
        let tmp = tempfile::tempdir().unwrap();
        let base = tmp.path().join("b");
        let first = Workdir::acquire(&base, "cell").unwrap();
        let b2 = base.clone();
        let (tx, rx) = std::sync::mpsc::channel();
        let t = std::thread::spawn(move || {
            let w = Workdir::acquire(&b2, "cell").unwrap();
            tx.send(()).unwrap();
            drop(w);
        });
        assert!(
            rx.recv_timeout(std::time::Duration::from_millis(300))
                .is_err(),
            "did not wait"
        );
        drop(first);
        rx.recv_timeout(std::time::Duration::from_secs(10))
            .expect("got the lock after release");
        t.join().unwrap();
    }
}
