//! Files shared between concurrent kmodpack processes (a build cell's lock,
//! the dependency generator's ledger): opened without following a symlink,
//! only when regular, and held under an exclusive `flock`.
//!
//! Why flock: the kernel releases it when the holder exits or is killed,
//! so nothing stale is left to time out or take over, and nobody can fake
//! it by writing into the file. Why `O_NOFOLLOW`: these files live in
//! directories other users or packages may write (a buildroot's parent),
//! and kmodpack runs as root — a planted symlink must not redirect a write.

use std::fs::File;
use std::os::unix::fs::OpenOptionsExt;
use std::os::unix::io::AsRawFd;
use std::path::Path;

/// Opens `path` read-write (creating it with `mode` when `create`), refusing
/// symlinks and non-regular files, and waits for an exclusive lock on it.
/// The lock lasts as long as the returned file is open.
pub fn open_locked(path: &Path, create: bool, mode: u32) -> std::io::Result<File> {
    let f = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(create)
        .mode(mode)
        // O_NONBLOCK: a FIFO planted under this name must not hang the open.
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC | libc::O_NONBLOCK)
        .open(path)
        .map_err(|e| {
            if e.raw_os_error() == Some(libc::ELOOP) {
                std::io::Error::new(
                    std::io::ErrorKind::PermissionDenied,
                    "is a symbolic link; refusing to follow it",
                )
            } else {
                e
            }
        })?;
    if !f.metadata()?.is_file() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "is not a regular file",
        ));
    }
    // SAFETY: flock on a descriptor we own; blocks until the lock is ours.
    while unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX) } != 0 {
        let e = std::io::Error::last_os_error();
        if e.kind() != std::io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
    Ok(f)
}
