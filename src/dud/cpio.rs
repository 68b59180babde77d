//! The "newc" cpio format (what `cpio -H newc` and the kernel's initramfs
//! unpacker read), written natively so SUSE disks are byte-reproducible:
//! owner root, one fixed mtime, entries in sorted order, inode numbers
//! assigned in that order. A gzip-compressed newc archive can be appended
//! to an initrd.
//!
//! Kept hand-written (issue #15 weighed a crate): the writer is small, every
//! reproducibility choice is spelled out here rather than left to a crate's
//! defaults, and `tests/dud_suse.rs` reads its output back with GNU cpio and
//! libarchive's bsdtar.

use std::io::{self, Write};
use std::path::Path;

const MAGIC: &[u8; 6] = b"070701";
const TRAILER: &str = "TRAILER!!!";

/// One archive member.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// Path without a leading `/` or `./`.
    pub path: String,
    /// Mode including the file type bits.
    pub mode: u32,
    /// Contents (empty for directories).
    pub data: Vec<u8>,
}

impl Member {
    /// Directory?
    pub fn is_dir(&self) -> bool {
        self.mode & 0o170000 == 0o040000
    }
}

fn pad4(out: &mut Vec<u8>) {
    while !out.len().is_multiple_of(4) {
        out.push(0);
    }
}

fn header(out: &mut Vec<u8>, ino: u32, mode: u32, nlink: u32, mtime: u64, size: usize, name: &str) {
    out.extend_from_slice(MAGIC);
    let fields = [
        ino,
        mode,
        0,
        0,
        nlink,
        mtime as u32,
        size as u32,
        0,
        0,
        0,
        0,
        (name.len() + 1) as u32,
        0,
    ];
    for f in fields {
        out.extend_from_slice(format!("{f:08X}").as_bytes());
    }
    out.extend_from_slice(name.as_bytes());
    out.push(0);
    pad4(out);
}

/// Serialises members (in the given order) plus the trailer.
pub fn write(members: &[Member], mtime: u64) -> Vec<u8> {
    let mut out = Vec::new();
    for (i, m) in members.iter().enumerate() {
        header(
            &mut out,
            i as u32 + 1,
            m.mode,
            if m.is_dir() { 2 } else { 1 },
            mtime,
            m.data.len(),
            &m.path,
        );
        out.extend_from_slice(&m.data);
        pad4(&mut out);
    }
    header(&mut out, 0, 0, 1, 0, 0, TRAILER);
    out
}

/// Archives a directory tree (sorted; directories before their contents;
/// modes kept, owners root).
pub fn archive_dir(root: &Path, mtime: u64) -> io::Result<Vec<u8>> {
    use std::os::unix::fs::PermissionsExt;
    let mut members = Vec::new();
    for e in walkdir::WalkDir::new(root).min_depth(1).sort_by_file_name() {
        let e = e.map_err(io::Error::other)?;
        let rel = e.path().strip_prefix(root).map_err(io::Error::other)?;
        let path = rel.to_string_lossy().into_owned();
        let md = e.metadata().map_err(io::Error::other)?;
        let perm = md.permissions().mode() & 0o7777;
        if md.is_dir() {
            members.push(Member {
                path,
                mode: 0o040000 | perm,
                data: Vec::new(),
            });
        } else {
            members.push(Member {
                path,
                mode: 0o100000 | perm,
                data: std::fs::read(e.path())?,
            });
        }
    }
    Ok(write(&members, mtime))
}

/// gzip -9 with no name and a zero mtime in the gzip header.
pub fn gzip(data: &[u8]) -> Vec<u8> {
    let mut enc = flate2::GzBuilder::new()
        .mtime(0)
        .write(Vec::new(), flate2::Compression::best());
    // Writing into a Vec cannot fail.
    let _ = enc.write_all(data);
    enc.finish().unwrap_or_default()
}

fn hex_field(b: &[u8], at: usize) -> Result<u32, String> {
    let s = b.get(at..at + 8).ok_or("truncated cpio header")?;
    let s = std::str::from_utf8(s).map_err(|_| "bad cpio header")?;
    u32::from_str_radix(s, 16).map_err(|_| format!("bad cpio header field `{s}`"))
}

/// Parses a newc archive (several concatenated archives, as in an initrd,
/// are read until the data ends). Returns the members without the trailers.
pub fn parse(data: &[u8]) -> Result<Vec<Member>, String> {
    let mut out = Vec::new();
    let mut i = 0usize;
    while i < data.len() {
        if data[i..].iter().all(|&b| b == 0) {
            break;
        }
        let h = data.get(i..i + 110).ok_or("truncated cpio header")?;
        if &h[0..6] != MAGIC && &h[0..6] != b"070702" {
            return Err(format!(
                "not a newc cpio archive (magic `{}` at byte {i})",
                String::from_utf8_lossy(&h[0..6])
            ));
        }
        let mode = hex_field(h, 14)?;
        let size = hex_field(h, 54)? as usize;
        let namesize = hex_field(h, 94)? as usize;
        let name_start = i + 110;
        let name = data
            .get(name_start..name_start + namesize.saturating_sub(1))
            .ok_or("truncated cpio name")?;
        let name = String::from_utf8_lossy(name).into_owned();
        let mut j = name_start + namesize;
        j = j.div_ceil(4) * 4;
        let body = data
            .get(j..j + size)
            .ok_or_else(|| format!("{name}: truncated cpio data"))?;
        i = (j + size).div_ceil(4) * 4;
        if name == TRAILER {
            continue;
        }
        let path = name
            .trim_start_matches("./")
            .trim_start_matches('/')
            .to_string();
        if path.is_empty() || path == "." {
            continue;
        }
        if path.split('/').any(|c| c == "..") {
            return Err(format!("{path}: member escapes the archive root"));
        }
        out.push(Member {
            path,
            mode,
            data: body.to_vec(),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let m = vec![
            Member {
                path: "a".into(),
                mode: 0o040755,
                data: vec![],
            },
            Member {
                path: "a/b".into(),
                mode: 0o100644,
                data: b"hello".to_vec(),
            },
        ];
        assert_eq!(parse(&write(&m, 7)).unwrap(), m);
    }
}
