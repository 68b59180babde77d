//! The dependency generator's per-package ledger on disk: a directory of
//! empty files whose names are the facts (see `deps::siblings` for what
//! they mean and when they are written).
//!
//! Why a directory of names: a requires call asks about its own imports
//! only, one `fstatat` each, so its cost does not grow with the package
//! (the 4,023-module package of the benchmark has ~20,000 exports). Why
//! `*at` calls on one descriptor: the directory lives beside the buildroot,
//! in a directory other packages' builds may write, and kmodpack runs as
//! root — the directory is opened once without following a symlink and
//! every entry is made, tested or removed relative to it, never through a
//! path that could be swapped for a symlink in between. rpmbuild runs one
//! build's generator calls one after another (`deps::siblings`), but
//! nothing stops two processes from using one buildroot's ledger at once
//! (two builds given the same buildroot, a generator run by hand):
//! concurrent calls serialise on an exclusive `flock` of the directory,
//! released when the process exits.

use std::ffi::CString;
use std::fs::File;
use std::io::{Error, ErrorKind, Result};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::os::unix::io::AsRawFd;
use std::path::Path;

/// An open, locked ledger directory.
#[derive(Debug)]
pub struct Ledger {
    dir: File,
}

fn name(entry: &str) -> Result<CString> {
    if entry.is_empty() || entry.contains('/') || entry == "." || entry == ".." {
        return Err(Error::new(
            ErrorKind::InvalidInput,
            "not a ledger entry name",
        ));
    }
    CString::new(entry).map_err(|_| Error::new(ErrorKind::InvalidInput, "NUL in a ledger entry"))
}

fn check(rc: libc::c_int) -> Result<()> {
    if rc == 0 {
        Ok(())
    } else {
        Err(Error::last_os_error())
    }
}

impl Ledger {
    /// Opens the ledger directory at `path` (made with mode 0755 when
    /// `create`) and waits for its lock. `Ok(None)` when it does not exist
    /// and `create` is false. A symlink or a non-directory at `path` is an
    /// error, never followed.
    pub fn open(path: &Path, create: bool) -> Result<Option<Ledger>> {
        if create {
            match std::fs::DirBuilder::new().mode(0o755).create(path) {
                Err(e) if e.kind() != ErrorKind::AlreadyExists => return Err(e),
                _ => {}
            }
        }
        let opened = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_DIRECTORY | libc::O_NOFOLLOW | libc::O_CLOEXEC)
            .open(path);
        let dir = match opened {
            Ok(d) => d,
            Err(e) if e.kind() == ErrorKind::NotFound && !create => return Ok(None),
            // With O_DIRECTORY, Linux reports a symlink as ENOTDIR.
            Err(e) if matches!(e.raw_os_error(), Some(libc::ELOOP | libc::ENOTDIR)) => {
                let link = path
                    .symlink_metadata()
                    .is_ok_and(|m| m.file_type().is_symlink());
                return Err(if link {
                    Error::new(
                        ErrorKind::PermissionDenied,
                        "is a symbolic link; refusing to follow it",
                    )
                } else {
                    Error::new(ErrorKind::InvalidInput, "is not a directory")
                });
            }
            Err(e) => return Err(e),
        };
        // SAFETY: flock on a descriptor we own; blocks until the lock is ours.
        while unsafe { libc::flock(dir.as_raw_fd(), libc::LOCK_EX) } != 0 {
            let e = Error::last_os_error();
            if e.kind() != ErrorKind::Interrupted {
                return Err(e);
            }
        }
        Ok(Some(Ledger { dir }))
    }

    /// True when `entry` exists (as anything: a planted symlink counts as
    /// present but is never followed).
    pub fn has(&self, entry: &str) -> Result<bool> {
        let n = name(entry)?;
        // SAFETY: a zeroed stat is a valid out-buffer; n is NUL-terminated.
        let mut st: libc::stat = unsafe { std::mem::zeroed() };
        let rc = unsafe {
            libc::fstatat(
                self.dir.as_raw_fd(),
                n.as_ptr(),
                &mut st,
                libc::AT_SYMLINK_NOFOLLOW,
            )
        };
        match check(rc) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Adds `entry` as an empty regular file (nothing when it exists).
    pub fn add(&self, entry: &str) -> Result<()> {
        let n = name(entry)?;
        // SAFETY: mknodat creates a new node and never follows an existing one.
        let rc =
            unsafe { libc::mknodat(self.dir.as_raw_fd(), n.as_ptr(), libc::S_IFREG | 0o644, 0) };
        match check(rc) {
            Err(e) if e.kind() != ErrorKind::AlreadyExists => Err(e),
            _ => Ok(()),
        }
    }

    /// The text of the regular file `entry` (at most 4 KiB), `None` when
    /// absent. A symlink or other non-regular entry reads as absent.
    pub fn read(&self, entry: &str) -> Result<Option<String>> {
        let Some((fd, _)) = self.open_regular(entry)? else {
            return Ok(None);
        };
        let mut text = String::new();
        std::io::Read::read_to_string(&mut std::io::Read::take(&fd, 4096), &mut text)?;
        Ok(Some(text))
    }

    /// The regular file `entry`, opened for reading, and its metadata;
    /// `None` when absent, a symlink (never followed) or not a regular file.
    fn open_regular(&self, entry: &str) -> Result<Option<(File, std::fs::Metadata)>> {
        let fd = match self.open_at(entry, libc::O_RDONLY) {
            Ok(f) => f,
            Err(e) if e.kind() == ErrorKind::NotFound || e.raw_os_error() == Some(libc::ELOOP) => {
                return Ok(None)
            }
            Err(e) => return Err(e),
        };
        let meta = fd.metadata()?;
        Ok(meta.is_file().then_some((fd, meta)))
    }

    /// Replaces the content of the regular file `entry` with `text`.
    pub fn write(&self, entry: &str, text: &str) -> Result<()> {
        let f = self.open_at(entry, libc::O_WRONLY | libc::O_CREAT | libc::O_TRUNC)?;
        if !f.metadata()?.is_file() {
            return Err(Error::new(ErrorKind::InvalidInput, "is not a regular file"));
        }
        std::io::Write::write_all(&mut &f, text.as_bytes())
    }

    /// The content of the regular file `entry`, mapped read-only; `None`
    /// when absent (or a symlink, or not a regular file). Why a mapping: a
    /// requires call binary-searches the kernel exports index (hundreds of
    /// KB) for a few dozen names, touching a few pages of it. Entries read
    /// this way are only ever replaced whole by [`replace`](Self::replace)
    /// (a rename), never written in place, so the mapped file keeps its size.
    pub fn map(&self, entry: &str) -> Result<Option<Mapped>> {
        let Some((f, meta)) = self.open_regular(entry)? else {
            return Ok(None);
        };
        let len = usize::try_from(meta.len())
            .map_err(|_| Error::new(ErrorKind::InvalidData, "ledger entry too large"))?;
        if len == 0 {
            return Ok(Some(Mapped {
                ptr: std::ptr::null_mut(),
                len: 0,
            }));
        }
        // SAFETY: a private read-only mapping of a descriptor we own; the
        // mapping outlives the descriptor (closed on return) by design.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ,
                libc::MAP_PRIVATE,
                f.as_raw_fd(),
                0,
            )
        };
        if ptr == libc::MAP_FAILED {
            return Err(Error::last_os_error());
        }
        Ok(Some(Mapped { ptr, len }))
    }

    /// Makes `entry` a regular file holding `bytes`, atomically: written
    /// under a temporary name in the ledger, then renamed over `entry`, so
    /// a reader sees the old content or the new, never part of it.
    pub fn replace(&self, entry: &str, bytes: &[u8]) -> Result<()> {
        let target = name(entry)?;
        let tmp_entry = format!(".new-{}-{entry}", std::process::id());
        let tmp = name(&tmp_entry)?;
        // A leftover of a killed process with the same id.
        // SAFETY: unlinkat removes the name itself, never a link's target.
        unsafe { libc::unlinkat(self.dir.as_raw_fd(), tmp.as_ptr(), 0) };
        let f = self.open_at(&tmp_entry, libc::O_WRONLY | libc::O_CREAT | libc::O_EXCL)?;
        let written = std::io::Write::write_all(&mut &f, bytes);
        drop(f);
        // SAFETY: both names are relative to our directory descriptor;
        // renameat replaces the name `entry`, never a link's target.
        let renamed = written.and_then(|()| {
            check(unsafe {
                libc::renameat(
                    self.dir.as_raw_fd(),
                    tmp.as_ptr(),
                    self.dir.as_raw_fd(),
                    target.as_ptr(),
                )
            })
        });
        if renamed.is_err() {
            // SAFETY: as above.
            unsafe { libc::unlinkat(self.dir.as_raw_fd(), tmp.as_ptr(), 0) };
        }
        renamed
    }

    fn open_at(&self, entry: &str, flags: libc::c_int) -> Result<File> {
        let n = name(entry)?;
        let flags = flags | libc::O_NOFOLLOW | libc::O_CLOEXEC | libc::O_NONBLOCK | libc::O_NOCTTY;
        // SAFETY: openat relative to our directory descriptor; the returned
        // descriptor is owned by the File.
        let fd = unsafe { libc::openat(self.dir.as_raw_fd(), n.as_ptr(), flags, 0o644) };
        if fd < 0 {
            return Err(Error::last_os_error());
        }
        // SAFETY: fd was just returned by openat and is ours alone.
        Ok(unsafe { <File as std::os::unix::io::FromRawFd>::from_raw_fd(fd) })
    }

    /// Removes every entry but subdirectories (which kmodpack never makes).
    pub fn clear(&self) -> Result<()> {
        // SAFETY: dup gives fdopendir a descriptor of its own, which
        // closedir closes; entries are removed relative to our descriptor.
        let dup = unsafe { libc::dup(self.dir.as_raw_fd()) };
        if dup < 0 {
            return Err(Error::last_os_error());
        }
        let d = unsafe { libc::fdopendir(dup) };
        if d.is_null() {
            let e = Error::last_os_error();
            unsafe { libc::close(dup) };
            return Err(e);
        }
        unsafe { libc::rewinddir(d) };
        let mut names: Vec<CString> = Vec::new();
        loop {
            let ent = unsafe { libc::readdir(d) };
            if ent.is_null() {
                break;
            }
            // SAFETY: d_name is NUL-terminated within the dirent readdir returned.
            let n = unsafe { std::ffi::CStr::from_ptr((*ent).d_name.as_ptr()) };
            if n.to_bytes() != b"." && n.to_bytes() != b".." {
                names.push(n.to_owned());
            }
        }
        unsafe { libc::closedir(d) };
        for n in names {
            // SAFETY: unlinkat removes the name itself, never a link's target.
            let rc = unsafe { libc::unlinkat(self.dir.as_raw_fd(), n.as_ptr(), 0) };
            match check(rc) {
                Err(e)
                    if e.raw_os_error() != Some(libc::EISDIR)
                        && e.kind() != ErrorKind::NotFound =>
                {
                    return Err(Error::new(
                        e.kind(),
                        format!(
                            "{}: {e}",
                            Path::new(std::ffi::OsStr::from_bytes(n.as_bytes())).display()
                        ),
                    ))
                }
                _ => {}
            }
        }
        Ok(())
    }
}

/// A read-only mapping of a ledger entry ([`Ledger::map`]).
#[derive(Debug)]
pub struct Mapped {
    ptr: *mut libc::c_void,
    len: usize,
}

impl std::ops::Deref for Mapped {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        if self.len == 0 {
            return &[];
        }
        // SAFETY: ptr..ptr+len is a live PROT_READ mapping owned by self.
        unsafe { std::slice::from_raw_parts(self.ptr.cast::<u8>(), self.len) }
    }
}

impl Drop for Mapped {
    fn drop(&mut self) {
        if self.len != 0 {
            // SAFETY: unmapping exactly the mapping made in Ledger::map.
            unsafe { libc::munmap(self.ptr, self.len) };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_are_made_tested_and_cleared_without_following_links() {
        let t = tempfile::tempdir().unwrap();
        let p = t.path().join("l");
        assert!(Ledger::open(&p, false).unwrap().is_none());
        let l = Ledger::open(&p, true).unwrap().unwrap();
        assert!(!l.has("x1.a").unwrap());
        l.add("x1.a").unwrap();
        l.add("x1.a").unwrap();
        assert!(l.has("x1.a").unwrap());
        assert_eq!(l.read("package").unwrap(), None);
        l.write("package", "kmod-a").unwrap();
        assert_eq!(l.read("package").unwrap().as_deref(), Some("kmod-a"));
        let victim = t.path().join("victim");
        std::fs::write(&victim, "precious").unwrap();
        std::os::unix::fs::symlink(&victim, p.join("planted")).unwrap();
        assert!(l.has("planted").unwrap());
        assert_eq!(l.read("planted").unwrap(), None);
        assert!(l.write("planted", "x").is_err());
        assert!(l.map("absent").unwrap().is_none());
        assert!(l.map("planted").unwrap().is_none());
        l.replace("index", b"first").unwrap();
        l.replace("index", b"second, longer").unwrap();
        assert_eq!(&*l.map("index").unwrap().unwrap(), b"second, longer");
        l.replace("empty", b"").unwrap();
        assert_eq!(&*l.map("empty").unwrap().unwrap(), b"");
        // Replacing a planted symlink replaces the link, not its target.
        l.replace("planted", b"x").unwrap();
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
        assert_eq!(&*l.map("planted").unwrap().unwrap(), b"x");
        l.clear().unwrap();
        assert!(!l.has("x1.a").unwrap() && !l.has("planted").unwrap());
        assert!(!l.has("index").unwrap());
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
        assert!(l.add("../escape").is_err());
        drop(l);
        let link = t.path().join("link");
        std::os::unix::fs::symlink(&p, &link).unwrap();
        let e = Ledger::open(&link, true).unwrap_err();
        assert!(e.to_string().contains("symbolic link"), "{e}");
        std::fs::write(t.path().join("file"), "").unwrap();
        assert!(Ledger::open(&t.path().join("file"), true).is_err());
    }
}
