//! The spec's Source0 for a source directory: a reproducible `.tar.gz`
//! (sorted entries, fixed owner, mode and mtime, no gzip timestamp), so
//! two renders of the same sources give byte-identical SRPM inputs.
//!
//! Written with the `tar` crate and explicit headers rather than by
//! `tar(1)`, because GNU and BSD tar disagree on the flags that make
//! archives reproducible.

use std::path::{Path, PathBuf};

use super::SpecError;

/// Packs `dir` as `<top>/...` into a gzip-compressed (GNU) tar archive.
/// `mtime` is the timestamp of every entry (SOURCE_DATE_EPOCH or 0).
/// Symlinks are stored as links; other special files are refused.
pub fn pack_dir(dir: &Path, top: &str, mtime: u64) -> Result<Vec<u8>, SpecError> {
    let io = |path: &Path, source: std::io::Error| SpecError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut entries: Vec<(String, PathBuf)> = Vec::new();
    for e in walkdir::WalkDir::new(dir).min_depth(1).sort_by_file_name() {
        let e = e.map_err(|err| {
            let p = err.path().unwrap_or(dir).to_path_buf();
            let source = err
                .into_io_error()
                .unwrap_or_else(|| std::io::Error::other("walk failed"));
            io(&p, source)
        })?;
        let rel = e.path().strip_prefix(dir).unwrap_or(e.path());
        let rel = rel
            .to_str()
            .ok_or_else(|| io(e.path(), std::io::Error::other("file name is not UTF-8")))?;
        entries.push((format!("{top}/{rel}"), e.path().to_path_buf()));
    }
    let gz = flate2::GzBuilder::new()
        .mtime(0)
        .write(Vec::new(), flate2::Compression::best());
    let mut tar = tar::Builder::new(gz);
    let add_dir = |tar: &mut tar::Builder<_>, name: &str| {
        let mut h = header(tar::EntryType::Directory, 0o755, 0, mtime);
        tar.append_data(&mut h, format!("{name}/"), std::io::empty())
    };
    add_dir(&mut tar, top).map_err(|e| io(dir, e))?;
    for (name, path) in entries {
        let meta = std::fs::symlink_metadata(&path).map_err(|e| io(&path, e))?;
        let ft = meta.file_type();
        let res = if ft.is_dir() {
            add_dir(&mut tar, &name)
        } else if ft.is_symlink() {
            let target = std::fs::read_link(&path).map_err(|e| io(&path, e))?;
            let mut h = header(tar::EntryType::Symlink, 0o777, 0, mtime);
            tar.append_link(&mut h, &name, &target)
        } else if ft.is_file() {
            let data = read_regular(&path).map_err(|e| io(&path, e))?;
            use std::os::unix::fs::PermissionsExt;
            let mode = if meta.permissions().mode() & 0o111 != 0 {
                0o755
            } else {
                0o644
            };
            let mut h = header(tar::EntryType::Regular, mode, data.len() as u64, mtime);
            tar.append_data(&mut h, &name, data.as_slice())
        } else {
            Err(std::io::Error::other(
                "special files (devices, sockets, fifos) cannot go into a source archive",
            ))
        };
        res.map_err(|e| io(&path, e))?;
    }
    let gz = tar.into_inner().map_err(|e| io(dir, e))?;
    gz.finish().map_err(|e| io(dir, e))
}

/// A header that depends only on what is archived: owner root:root (uid
/// and gid 0), the given mode and mtime. GNU format, so a path longer than
/// ustar's 255 bytes gets a long-name entry and a size or time too large
/// for the octal field is stored in base-256 instead of being cut.
fn header(kind: tar::EntryType, mode: u32, size: u64, mtime: u64) -> tar::Header {
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(kind);
    h.set_mode(mode);
    h.set_uid(0);
    h.set_gid(0);
    // Names of 4 bytes always fit the 32-byte fields.
    let _ = h.set_username("root");
    let _ = h.set_groupname("root");
    h.set_size(size);
    h.set_mtime(mtime);
    h
}

/// A regular file's bytes, refusing to follow a symlink swapped in after
/// the walk looked at it.
fn read_regular(path: &Path) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)?;
    let mut data = Vec::new();
    f.read_to_end(&mut data)?;
    Ok(data)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_times_beyond_the_octal_fields_are_kept() {
        // 12 octal digits end at 8 GiB - 1 and at the year 2242.
        let big = 9u64 << 30;
        let late = 1u64 << 34;
        let h = header(tar::EntryType::Regular, 0o644, big, late);
        assert_eq!(h.size().unwrap(), big);
        assert_eq!(h.mtime().unwrap(), late);
        assert_eq!((h.uid().unwrap(), h.gid().unwrap()), (0, 0));
        assert_eq!(h.username().unwrap(), Some("root"));
    }

    #[test]
    fn long_paths_reproducible_headers_and_gnu_tar_reads_it() {
        let src = tempfile::tempdir().unwrap();
        // A path of more than 255 bytes below the top directory.
        let deep = src.path().join("d".repeat(120)).join("e".repeat(120));
        std::fs::create_dir_all(&deep).unwrap();
        std::fs::write(deep.join(format!("{}.c", "f".repeat(90))), b"int x;\n").unwrap();
        std::fs::write(src.path().join("b.sh"), b"#!/bin/sh\n").unwrap();
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(
                src.path().join("b.sh"),
                std::fs::Permissions::from_mode(0o700),
            )
            .unwrap();
        }
        std::os::unix::fs::symlink("b.sh".repeat(40), src.path().join("a-link")).unwrap();
        let bytes = pack_dir(src.path(), "top-1.0", 1_700_000_000).unwrap();
        assert_eq!(
            bytes,
            pack_dir(src.path(), "top-1.0", 1_700_000_000).unwrap()
        );
        let out = tempfile::tempdir().unwrap();
        let file = out.path().join("t.tar.gz");
        std::fs::write(&file, &bytes).unwrap();
        // GNU tar (what rpmbuild's %setup runs) lists it.
        let listed = std::process::Command::new("tar")
            .args(["--numeric-owner", "--full-time", "-tvzf"])
            .arg(&file)
            .env("TZ", "UTC")
            .output()
            .expect("GNU tar is needed for this test");
        assert!(listed.status.success(), "{listed:?}");
        let text = String::from_utf8(listed.stdout).unwrap();
        let long = format!(
            "top-1.0/{}/{}/{}.c",
            "d".repeat(120),
            "e".repeat(120),
            "f".repeat(90)
        );
        assert!(long.len() > 255);
        let lines: Vec<&str> = text.lines().collect();
        let names: Vec<&str> = lines
            .iter()
            .map(|l| l.split(" 2023-11-14 22:13:20 ").nth(1).unwrap_or("?"))
            .collect();
        assert_eq!(
            names,
            vec![
                "top-1.0/".to_string(),
                format!("top-1.0/a-link -> {}", "b.sh".repeat(40)),
                "top-1.0/b.sh".to_string(),
                format!("top-1.0/{}/", "d".repeat(120)),
                format!("top-1.0/{}/{}/", "d".repeat(120), "e".repeat(120)),
                long,
            ]
        );
        assert!(lines[0].starts_with("drwxr-xr-x 0/0 "), "{text}");
        assert!(lines[2].starts_with("-rwxr-xr-x 0/0 "), "{text}");
        assert!(lines[5].starts_with("-rw-r--r-- 0/0 "), "{text}");
    }
}
