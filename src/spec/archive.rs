//! The spec's Source0 for a source directory: a reproducible `.tar.gz`
//! (sorted entries, fixed owner, mode and mtime, no gzip timestamp), so
//! two renders of the same sources give byte-identical SRPM inputs.
//!
//! Written here rather than by `tar(1)` because GNU and BSD tar disagree on
//! the flags that make archives reproducible.

use std::io::Write;
use std::path::{Path, PathBuf};

use super::SpecError;

/// Packs `dir` as `<top>/...` into a gzip-compressed ustar archive.
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
    let mut tar = Vec::new();
    append(&mut tar, &format!("{top}/"), b'5', 0o755, &[], "", mtime)
        .map_err(|m| io(dir, std::io::Error::other(m)))?;
    for (name, path) in entries {
        let meta = std::fs::symlink_metadata(&path).map_err(|e| io(&path, e))?;
        let ft = meta.file_type();
        let res = if ft.is_dir() {
            append(&mut tar, &format!("{name}/"), b'5', 0o755, &[], "", mtime)
        } else if ft.is_symlink() {
            let target = std::fs::read_link(&path).map_err(|e| io(&path, e))?;
            append(
                &mut tar,
                &name,
                b'2',
                0o777,
                &[],
                &target.to_string_lossy(),
                mtime,
            )
        } else if ft.is_file() {
            let data = std::fs::read(&path).map_err(|e| io(&path, e))?;
            use std::os::unix::fs::PermissionsExt;
            let mode = if meta.permissions().mode() & 0o111 != 0 {
                0o755
            } else {
                0o644
            };
            append(&mut tar, &name, b'0', mode, &data, "", mtime)
        } else {
            Err(
                "special files (devices, sockets, fifos) cannot go into a source archive"
                    .to_string(),
            )
        };
        res.map_err(|m| io(&path, std::io::Error::other(m)))?;
    }
    tar.extend_from_slice(&[0u8; 1024]);
    let mut gz = flate2::GzBuilder::new()
        .mtime(0)
        .write(Vec::new(), flate2::Compression::best());
    gz.write_all(&tar).map_err(|e| io(dir, e))?;
    gz.finish().map_err(|e| io(dir, e))
}

fn append(
    out: &mut Vec<u8>,
    name: &str,
    kind: u8,
    mode: u32,
    data: &[u8],
    link: &str,
    mtime: u64,
) -> Result<(), String> {
    let mut h = [0u8; 512];
    let (prefix, base) =
        split_name(name).ok_or_else(|| format!("path `{name}` is too long for a ustar archive"))?;
    if link.len() > 100 {
        return Err(format!("symlink target of `{name}` is too long"));
    }
    h[..base.len()].copy_from_slice(base.as_bytes());
    octal(&mut h[100..108], mode as u64);
    octal(&mut h[108..116], 0);
    octal(&mut h[116..124], 0);
    octal(&mut h[124..136], data.len() as u64);
    octal(&mut h[136..148], mtime);
    h[148..156].copy_from_slice(b"        ");
    h[156] = kind;
    h[157..157 + link.len()].copy_from_slice(link.as_bytes());
    h[257..263].copy_from_slice(b"ustar\0");
    h[263..265].copy_from_slice(b"00");
    h[265..269].copy_from_slice(b"root");
    h[297..301].copy_from_slice(b"root");
    h[345..345 + prefix.len()].copy_from_slice(prefix.as_bytes());
    let sum: u32 = h.iter().map(|b| *b as u32).sum();
    let s = format!("{sum:06o}\0 ");
    h[148..156].copy_from_slice(s.as_bytes());
    out.extend_from_slice(&h);
    out.extend_from_slice(data);
    let pad = (512 - data.len() % 512) % 512;
    out.extend(std::iter::repeat_n(0u8, pad));
    Ok(())
}

fn octal(field: &mut [u8], v: u64) {
    let w = field.len() - 1;
    let s = format!("{v:0w$o}");
    field[..w].copy_from_slice(&s.as_bytes()[s.len() - w..]);
    field[w] = 0;
}

/// ustar name (≤100) with optional prefix (≤155), split at a '/'.
fn split_name(name: &str) -> Option<(&str, &str)> {
    if name.len() <= 100 {
        return Some(("", name));
    }
    let bytes = name.as_bytes();
    for i in (0..name.len()).rev() {
        if bytes[i] == b'/' && i <= 155 && name.len() - i - 1 <= 100 && i + 1 < name.len() {
            return Some((&name[..i], &name[i + 1..]));
        }
    }
    None
}
