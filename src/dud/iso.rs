//! ISO 9660 images: writing with xorriso, and reading back the facts the
//! installer depends on (volume label, Rock Ridge, Joliet) natively from the
//! volume descriptors, so verification does not trust the writer.
//!
//! The image is untrusted bytes (an `--installer-iso` may be truncated or
//! hostile): no indexing that could panic.
#![deny(clippy::indexing_slicing)]

use crate::process::Command;
use std::path::Path;

use super::DudError;

/// What the installer sees of an ISO before it looks at files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IsoFacts {
    /// Primary volume identifier (trailing spaces removed).
    pub label: String,
    /// Rock Ridge (SUSP `SP` + RRIP entries on the root directory).
    pub rock_ridge: bool,
    /// A Joliet supplementary volume descriptor.
    pub joliet: bool,
}

const SECTOR: usize = 2048;

/// Longest volume label ISO 9660 can hold.
pub const MAX_LABEL: usize = 32;

/// Checks a volume label before it is handed to xorriso (which would
/// silently truncate a long one, and the OEMDRV udev match is exact).
pub fn check_label(label: &str) -> Result<(), String> {
    if label.is_empty() {
        return Err("the volume label is empty".into());
    }
    if label.len() > MAX_LABEL {
        return Err(format!(
            "volume label `{label}` is {} characters; ISO 9660 allows {MAX_LABEL}",
            label.len()
        ));
    }
    if let Some(c) = label
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.')))
    {
        return Err(format!(
            "volume label `{label}` contains `{c}`: use letters, digits, `_`, `-`, `.`"
        ));
    }
    Ok(())
}

/// The volume descriptor set: (label, Joliet?, root directory extent
/// (sector, length)). `head` = the image from byte 0, at least up to the
/// terminator (sector 16 on).
pub fn volume_descriptors(head: &[u8]) -> Result<(String, bool, (usize, usize)), String> {
    let mut label = None;
    let mut joliet = false;
    let mut root = None;
    for n in 16..=80 {
        let vd = head
            .get(n * SECTOR..(n + 1) * SECTOR)
            .ok_or("no volume descriptor set terminator (not an ISO 9660 image, or truncated)")?;
        // A sector is 2048 bytes, so every fixed field below is inside `vd`;
        // `get` keeps that a fact the compiler checks, not a comment.
        let field = |r: std::ops::Range<usize>| vd.get(r).unwrap_or_default();
        if field(1..6) != b"CD001" {
            return Err("not an ISO 9660 image (no CD001 volume descriptor at sector 16)".into());
        }
        match vd.first() {
            Some(1) => {
                label = Some(
                    String::from_utf8_lossy(field(40..72))
                        .trim_end()
                        .to_string(),
                );
                // The root directory record (bytes 156..190): extent LBA and
                // data length, both-endian; the little-endian halves.
                let le32 = |r: std::ops::Range<usize>| {
                    <[u8; 4]>::try_from(field(r)).map_or(0, u32::from_le_bytes) as usize
                };
                root = Some((le32(158..162), le32(166..170)));
            }
            Some(2) => {
                let esc = field(88..91);
                if esc == b"%/@" || esc == b"%/C" || esc == b"%/E" {
                    joliet = true;
                }
            }
            Some(255) => {
                let label = label.ok_or("no primary volume descriptor")?;
                let root = root.ok_or("no root directory")?;
                return Ok((label, joliet, root));
            }
            _ => {}
        }
    }
    Err("no volume descriptor set terminator within 64 descriptors".into())
}

/// ISO facts from an in-memory image.
pub fn facts(image: &[u8]) -> Result<IsoFacts, String> {
    let (label, joliet, (lba, len)) = volume_descriptors(image)?;
    let start = lba.saturating_mul(SECTOR);
    let dir = image
        .get(start..start.saturating_add(len.min(SECTOR)))
        .ok_or("root directory outside the image")?;
    Ok(IsoFacts {
        label,
        rock_ridge: root_has_rock_ridge(dir),
        joliet,
    })
}

/// ISO facts read from a file without loading it (install ISOs are large).
pub fn read_facts(path: &Path) -> Result<IsoFacts, DudError> {
    use std::io::{Read, Seek, SeekFrom};
    let io = |source| DudError::Io {
        path: path.to_path_buf(),
        what: "cannot read".into(),
        source,
    };
    let bad = |message: String| DudError::Image {
        path: path.to_path_buf(),
        message,
    };
    let mut f = crate::fsio::open_regular(path).map_err(io)?;
    let mut head = Vec::new();
    f.by_ref()
        .take((81 * SECTOR) as u64)
        .read_to_end(&mut head)
        .map_err(io)?;
    let (label, joliet, (lba, len)) = volume_descriptors(&head).map_err(bad)?;
    let mut dir = vec![0u8; len.min(SECTOR)];
    f.seek(SeekFrom::Start(lba.saturating_mul(SECTOR) as u64))
        .map_err(io)?;
    f.read_exact(&mut dir)
        .map_err(|e| bad(format!("root directory outside the image: {e}")))?;
    Ok(IsoFacts {
        label,
        rock_ridge: root_has_rock_ridge(&dir),
        joliet,
    })
}

/// The `.` record of the root directory carries SUSP `SP` first and, with
/// Rock Ridge, RRIP entries (`PX`, `RR`, `NM`, `TF`, `ER`...).
fn root_has_rock_ridge(dir: &[u8]) -> bool {
    let Some(&rec_len) = dir.first() else {
        return false;
    };
    let rec_len = rec_len as usize;
    if rec_len < 34 || dir.len() < rec_len {
        return false;
    }
    let name_len = dir.get(32).copied().unwrap_or_default() as usize;
    let su_start = 33 + name_len + usize::from(name_len.is_multiple_of(2));
    let su = dir.get(su_start.min(rec_len)..rec_len).unwrap_or_default();
    if su.len() < 7 || su.get(0..2) != Some(&b"SP"[..]) || su.get(4..6) != Some(&[0xBE, 0xEF][..]) {
        return false;
    }
    let mut i = 0;
    while let (Some(sig), Some(&l)) = (su.get(i..i + 2), su.get(i + 2)) {
        let l = l as usize;
        if i + 4 > su.len() {
            break;
        }
        if matches!(sig, b"PX" | b"RR" | b"NM" | b"TF" | b"ER") {
            return true;
        }
        if l < 4 {
            break;
        }
        i += l;
    }
    false
}

/// Writes `staging` as an ISO at `out` with xorriso: Rock Ridge (real file
/// names, so repodata's hrefs exist), Joliet, owner root and fixed modes.
/// xorriso takes its volume dates and UUID from SOURCE_DATE_EPOCH.
pub fn write(staging: &Path, out: &Path, label: &str, epoch: Option<u64>) -> Result<(), DudError> {
    let mut cmd = Command::new("xorriso")
        .args([
            "-as",
            "mkisofs",
            "-quiet",
            "-input-charset",
            "utf-8",
            "-V",
            label,
            "-A",
            "kmodpack driver update disk",
        ])
        .args([
            "-R",
            "-J",
            "-joliet-long",
            "-uid",
            "0",
            "-gid",
            "0",
            "-dir-mode",
            "0555",
            "-file-mode",
            "0444",
            "-pad",
        ])
        .arg("-o")
        .arg(out)
        .arg(staging);
    if let Some(e) = epoch {
        cmd = cmd.env("SOURCE_DATE_EPOCH", e.to_string());
    }
    super::tool::run(cmd, "xorriso")?;
    Ok(())
}

/// Extracts the whole image into `dest` (Rock Ridge names when present),
/// then makes the tree writable so it can be cleaned up.
pub fn extract(image: &Path, dest: &Path) -> Result<(), DudError> {
    let cmd = Command::new("xorriso")
        .args(["-abort_on", "FAILURE", "-osirrox", "on", "-indev"])
        .arg(image)
        .args(["-extract", "/"])
        .arg(dest);
    super::tool::run(cmd, "xorriso")?;
    make_writable(dest);
    Ok(())
}

/// Extracts single members (ISO paths) into `dest/<basename>`; members that
/// do not exist are skipped (the caller checks what arrived).
pub fn extract_members(image: &Path, members: &[&str], dest: &Path) -> Result<(), DudError> {
    for m in members {
        let name = m.rsplit('/').next().unwrap_or(m);
        let cmd = Command::new("xorriso")
            .args(["-osirrox", "on", "-indev"])
            .arg(image)
            .args(["-extract", m])
            .arg(dest.join(name));
        // A missing member is reported by xorriso as a failure; that is fine.
        let _ = super::tool::run(cmd, "xorriso");
    }
    make_writable(dest);
    Ok(())
}

/// Lists every file path in an image (`/`-rooted, Rock Ridge names).
pub fn list(image: &Path) -> Result<Vec<String>, DudError> {
    let cmd = Command::new("xorriso")
        .args(["-indev"])
        .arg(image)
        .args(["-find", "/", "-type", "f", "-exec", "lsdl", "--"]);
    let out = super::tool::run(cmd, "xorriso")?;
    let text = String::from_utf8_lossy(&out.stdout);
    // lsdl lines end with the quoted path.
    Ok(text
        .lines()
        .filter_map(|l| {
            let start = l.find(" '/")?;
            let quoted = l.get(start + 2..)?.strip_suffix('\'')?;
            Some(quoted.replace("'\"'\"'", "'"))
        })
        .collect())
}

fn make_writable(root: &Path) {
    use std::os::unix::fs::PermissionsExt;
    for e in walkdir::WalkDir::new(root).into_iter().flatten() {
        if let Ok(md) = e.metadata() {
            let mode = md.permissions().mode() | 0o200 | if md.is_dir() { 0o700 } else { 0 };
            let _ = std::fs::set_permissions(e.path(), std::fs::Permissions::from_mode(mode));
        }
    }
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)]
mod tests {
    use super::*;

    /// A descriptor set by hand: primary (label, root extent) then terminator.
    fn head(root_lba: u32, root_len: u32) -> Vec<u8> {
        let mut img = vec![0u8; 18 * SECTOR];
        let pvd = &mut img[16 * SECTOR..17 * SECTOR];
        pvd[0] = 1;
        pvd[1..6].copy_from_slice(b"CD001");
        pvd[40..72].fill(b' ');
        pvd[40..46].copy_from_slice(b"OEMDRV");
        pvd[158..162].copy_from_slice(&root_lba.to_le_bytes());
        pvd[166..170].copy_from_slice(&root_len.to_le_bytes());
        let term = &mut img[17 * SECTOR..18 * SECTOR];
        term[0] = 255;
        term[1..6].copy_from_slice(b"CD001");
        img
    }

    #[test]
    fn descriptors_give_label_and_root_extent() {
        let (label, joliet, root) = volume_descriptors(&head(20, 2048)).unwrap();
        assert_eq!(
            (label.as_str(), joliet, root),
            ("OEMDRV", false, (20, 2048))
        );
    }

    /// Truncated or hostile images are errors, never panics.
    #[test]
    fn truncated_and_hostile_images_are_errors() {
        let full = head(20, 2048);
        for cut in [0, 100, 16 * SECTOR, 16 * SECTOR + 200, 17 * SECTOR + 3] {
            assert!(volume_descriptors(&full[..cut]).is_err(), "cut at {cut}");
            assert!(facts(&full[..cut]).is_err(), "cut at {cut}");
        }
        // The root directory points past the end (and past usize arithmetic).
        assert!(facts(&head(u32::MAX, u32::MAX)).is_err());
        // A root record without SUSP entries reads as no Rock Ridge.
        let mut img = head(17, 2048);
        img.extend(vec![0u8; SECTOR]);
        img[17 * SECTOR] = 255;
        assert!(!facts(&img).map(|f| f.rock_ridge).unwrap_or(true));
    }
}
