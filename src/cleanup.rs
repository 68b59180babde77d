//! The one place that handles SIGINT, SIGTERM and SIGHUP: scratch
//! directories and child process groups are registered here while they
//! exist, and on a signal the child groups are terminated, the directories
//! removed, and the process exits with 128 + the signal number.
//!
//! Why: Rust destructors (`TempDir`'s included) do not run when a signal
//! ends the process, so an interrupted `dud build` left half a gigabyte
//! beside its output and xorriso kept running. The handler itself only
//! writes the signal number to a pipe (async-signal-safe); a watcher thread
//! does the work. Handlers are reset to the default on `exec`, so children
//! are unaffected; each child runs in its own process group (so its whole
//! tree — rpmbuild's shells, make, gcc — can be ended at once), which is
//! why the watcher must end them itself.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::sync::{Mutex, OnceLock};

#[derive(Default)]
struct Registry {
    next: u64,
    dirs: Vec<(u64, PathBuf)>,
    groups: Vec<(u64, i32)>,
}

fn registry() -> &'static Mutex<Registry> {
    static R: OnceLock<Mutex<Registry>> = OnceLock::new();
    R.get_or_init(Default::default)
}

static PIPE_WRITE: AtomicI32 = AtomicI32::new(-1);
static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// Called by `main` before it returns: while a signal is being handled the
/// main thread must not exit first (a child killed by the watcher makes the
/// command fail normally, and its exit would skip the cleanup).
pub fn wait_if_interrupted() {
    if INTERRUPTED.load(Ordering::SeqCst) {
        loop {
            std::thread::park();
        }
    }
}

extern "C" fn on_signal(sig: libc::c_int) {
    INTERRUPTED.store(true, Ordering::SeqCst);
    let fd = PIPE_WRITE.load(Ordering::Relaxed);
    if fd >= 0 {
        let b = sig as u8;
        // SAFETY: write(2) is async-signal-safe; a full pipe only drops the byte.
        unsafe {
            libc::write(fd, (&b as *const u8).cast(), 1);
        }
    }
}

/// Installs the handlers and starts the watcher (once; later calls do nothing).
pub fn install() {
    static ONCE: OnceLock<()> = OnceLock::new();
    ONCE.get_or_init(|| {
        let mut fds = [0; 2];
        // SAFETY: pipe2 into a two-element array.
        if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
            return;
        }
        PIPE_WRITE.store(fds[1], Ordering::Relaxed);
        let read_fd = fds[0];
        let spawned = std::thread::Builder::new()
            .name("kmodpack-signals".into())
            .spawn(move || loop {
                let mut b = 0u8;
                // SAFETY: reading one byte from our own pipe.
                let n = unsafe { libc::read(read_fd, (&mut b as *mut u8).cast(), 1) };
                if n == 1 {
                    terminate(b as i32);
                } else if n < 0
                    && std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted
                {
                    continue;
                } else {
                    return;
                }
            });
        if spawned.is_err() {
            return;
        }
        for sig in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
            // SAFETY: installing a handler that only calls write(2).
            unsafe {
                let mut sa: libc::sigaction = std::mem::zeroed();
                sa.sa_sigaction = on_signal as *const () as usize;
                sa.sa_flags = libc::SA_RESTART;
                libc::sigemptyset(&mut sa.sa_mask);
                libc::sigaction(sig, &sa, std::ptr::null_mut());
            }
        }
    });
}

/// Ends registered child groups, removes registered directories, exits.
fn terminate(sig: i32) -> ! {
    let (dirs, groups) = match registry().lock() {
        Ok(r) => (
            r.dirs.iter().map(|(_, d)| d.clone()).collect::<Vec<_>>(),
            r.groups.iter().map(|(_, g)| *g).collect::<Vec<_>>(),
        ),
        Err(_) => (Vec::new(), Vec::new()),
    };
    for g in &groups {
        // SAFETY: signals a process group kmodpack created for its child.
        unsafe {
            libc::kill(-g, libc::SIGTERM);
        }
    }
    if !groups.is_empty() {
        std::thread::sleep(std::time::Duration::from_millis(300));
        for g in &groups {
            // SAFETY: as above; whatever ignored SIGTERM.
            unsafe {
                libc::kill(-g, libc::SIGKILL);
            }
        }
    }
    for d in dirs.iter().rev() {
        let _ = std::fs::remove_dir_all(d);
    }
    let name = match sig {
        libc::SIGINT => "SIGINT",
        libc::SIGTERM => "SIGTERM",
        _ => "SIGHUP",
    };
    eprintln!(
        "kmodpack: interrupted ({name}); stopped child processes and removed scratch directories"
    );
    std::process::exit(128 + sig);
}

/// A scratch directory kmodpack created for itself: removed when dropped
/// (unless [`ScratchDir::keep`] was called) and, while it lives, on
/// SIGINT/SIGTERM/SIGHUP too — the one type behind every private temporary
/// directory (disk staging and unpacking, the dkms.conf sandbox, a build
/// cell's work directory).
///
/// Why one type: a `TempDir` alone is not removed when a signal ends the
/// process, and registering the directory separately in every caller left
/// windows (a directory filled before it was registered) and four copies of
/// the same pairing.
#[derive(Debug)]
pub struct ScratchDir {
    path: PathBuf,
    /// Unregistered on drop or on `keep`.
    on_signal: Option<DirGuard>,
}

impl ScratchDir {
    /// A fresh private (mode 0700) directory named `<prefix><random>` in the
    /// system temporary directory (`$TMPDIR`).
    pub fn new(prefix: &str) -> std::io::Result<ScratchDir> {
        Self::new_in(&std::env::temp_dir(), prefix)
    }

    /// A fresh private directory named `<prefix><random>` in `parent` (e.g.
    /// beside an output, so that the finished file is renamed into place).
    pub fn new_in(parent: &Path, prefix: &str) -> std::io::Result<ScratchDir> {
        use std::os::unix::fs::PermissionsExt;
        // tempfile creates directories with the umask's mode (0755 under the
        // usual 022); a scratch tree of unpacked RPMs is nobody else's.
        let dir = tempfile::Builder::new()
            .prefix(prefix)
            .permissions(std::fs::Permissions::from_mode(0o700))
            .tempdir_in(parent)?;
        Ok(Self::adopt(dir.keep()))
    }

    /// Takes charge of `path`, a directory the caller has just created
    /// itself (never one found in place): from now on it is removed on drop
    /// and on a signal.
    pub fn adopt(path: PathBuf) -> ScratchDir {
        let on_signal = Some(register_dir(&path));
        ScratchDir { path, on_signal }
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Leave the directory in place when dropped or interrupted.
    pub fn keep(&mut self) {
        self.on_signal = None;
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        if self.on_signal.take().is_some() {
            // remove_dir_all does not follow symlinks inside the tree.
            let _ = std::fs::remove_dir_all(&self.path);
        }
    }
}

/// Removes its directory on a signal while it lives (dropping it only
/// unregisters: the owner, a [`ScratchDir`], removes the directory itself).
#[derive(Debug)]
struct DirGuard(u64);

impl Drop for DirGuard {
    fn drop(&mut self) {
        if let Ok(mut r) = registry().lock() {
            r.dirs.retain(|(id, _)| *id != self.0);
        }
    }
}

/// Registers `dir` for removal if a signal ends the process.
fn register_dir(dir: &Path) -> DirGuard {
    let mut r = registry().lock().unwrap_or_else(|e| e.into_inner());
    r.next += 1;
    let id = r.next;
    r.dirs.push((id, dir.to_path_buf()));
    DirGuard(id)
}

/// Ends its child's process group on a signal while it lives.
#[derive(Debug)]
pub struct GroupGuard(u64);

impl Drop for GroupGuard {
    fn drop(&mut self) {
        if let Ok(mut r) = registry().lock() {
            r.groups.retain(|(id, _)| *id != self.0);
        }
    }
}

/// Registers the process group `pgid` (a child [`crate::process`] started
/// as a group leader) to be ended if a signal ends kmodpack.
pub fn register_group(pgid: u32) -> GroupGuard {
    let mut r = registry().lock().unwrap_or_else(|e| e.into_inner());
    r.next += 1;
    let id = r.next;
    r.groups.push((id, pgid as i32));
    GroupGuard(id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn registered(p: &Path) -> bool {
        let r = registry().lock().unwrap_or_else(|e| e.into_inner());
        r.dirs.iter().any(|(_, d)| d == p)
    }

    #[test]
    fn a_scratch_dir_is_private_registered_and_removed_on_drop() {
        let parent = tempfile::tempdir().unwrap();
        let s = ScratchDir::new_in(parent.path(), "kmodpack-test-").unwrap();
        let p = s.path().to_path_buf();
        assert!(p.starts_with(parent.path()));
        assert!(p
            .file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("kmodpack-test-"));
        assert_eq!(
            std::fs::metadata(&p).unwrap().permissions().mode() & 0o777,
            0o700
        );
        assert!(registered(&p), "removed on a signal while it lives");
        std::fs::write(p.join("f"), b"x").unwrap();
        drop(s);
        assert!(!p.exists(), "removed on drop");
        assert!(!registered(&p), "unregistered on drop");
    }

    #[test]
    fn a_kept_scratch_dir_stays_and_is_unregistered() {
        let parent = tempfile::tempdir().unwrap();
        let p = parent.path().join("cell");
        std::fs::create_dir(&p).unwrap();
        let mut s = ScratchDir::adopt(p.clone());
        assert!(registered(&p));
        s.keep();
        assert!(!registered(&p), "a kept directory survives a signal");
        drop(s);
        assert!(p.is_dir(), "kept");
    }
}
