//! Imports with CRCs: the `__versions` table and extended modversions.
//!
//! Layouts handled (see `kernel-module-format.md` §2):
//! - classic `struct modversion_info { unsigned long crc; char name[64 - sizeof(long)]; }`:
//!   4+60 bytes on ELF32, 8+56 on ELF64, target byte order;
//! - Ubuntu 6.2–6.8 variable-length records `{ u32 next; u32 crc; char name[]; }`;
//! - 6.14+ extended modversions: `__version_ext_crcs` (u32 array) with
//!   `__version_ext_names` (concatenated NUL-terminated names). They are a
//!   superset of `__versions` and the only place long (Rust) names live, so
//!   they are preferred when present.
//!
//! One leading `.` is stripped from names (ppc64 ELFv1 function descriptors),
//! as kmod and the kernel do.

// A parser of untrusted bytes: no indexing that can panic (issue #15).
#![deny(clippy::indexing_slicing)]

use serde::Serialize;

/// One imported symbol and the CRC the module was built against.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct Import {
    /// Symbol name, leading `.` stripped.
    pub name: String,
    /// CRC recorded at build time.
    pub crc: u32,
}

/// Where the module's import CRCs came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ModversionsSource {
    /// No `__versions` and no extended tables: a kernel built without
    /// CONFIG_MODVERSIONS. Valid; the module simply carries no CRCs.
    None,
    /// Classic fixed 64-byte `__versions` records.
    Basic,
    /// Ubuntu's variable-length `__versions` records.
    Variable,
    /// 6.14+ `__version_ext_crcs` + `__version_ext_names`.
    Extended,
}

fn read_u32(data: &[u8], off: usize, big_endian: bool) -> Option<u32> {
    let b: [u8; 4] = data.get(off..off.checked_add(4)?)?.try_into().ok()?;
    Some(if big_endian {
        u32::from_be_bytes(b)
    } else {
        u32::from_le_bytes(b)
    })
}

fn strip_dot(name: &[u8]) -> String {
    let name = name.strip_prefix(b".").unwrap_or(name);
    String::from_utf8_lossy(name).into_owned()
}

/// Parses a `__versions` section. `is_64` is the ELF class, `big_endian`
/// the ELF data encoding.
pub fn parse_versions(
    data: &[u8],
    is_64: bool,
    big_endian: bool,
) -> Result<(ModversionsSource, Vec<Import>), String> {
    if data.is_empty() {
        return Ok((ModversionsSource::Basic, Vec::new()));
    }
    let classic = data.len().is_multiple_of(64)
        && (!is_64
            || data.chunks_exact(64).all(|rec| {
                let high = if big_endian {
                    rec.get(0..4)
                } else {
                    rec.get(4..8)
                };
                high == Some(&[0, 0, 0, 0])
            }));
    if classic {
        return parse_classic(data, is_64, big_endian).map(|v| (ModversionsSource::Basic, v));
    }
    if is_64 {
        if let Ok(v) = parse_variable(data, big_endian) {
            return Ok((ModversionsSource::Variable, v));
        }
    }
    if !data.len().is_multiple_of(64) {
        return Err(format!(
            "__versions: size {} is not a multiple of 64 bytes",
            data.len()
        ));
    }
    Err("__versions: CRC slots have non-zero high halves and no variable-length layout fits".into())
}

fn parse_classic(data: &[u8], is_64: bool, big_endian: bool) -> Result<Vec<Import>, String> {
    let crc_len = if is_64 { 8 } else { 4 };
    let mut out = Vec::with_capacity(data.len() / 64);
    for (i, rec) in data.chunks_exact(64).enumerate() {
        let crc_off = if is_64 && big_endian { 4 } else { 0 };
        let crc = read_u32(rec, crc_off, big_endian).ok_or("__versions: short record")?;
        let name = rec
            .get(crc_len..)
            .and_then(super::until_nul)
            .ok_or_else(|| format!("__versions: entry {i} has a name without NUL terminator"))?;
        out.push(Import {
            name: strip_dot(name),
            crc,
        });
    }
    Ok(out)
}

fn parse_variable(data: &[u8], big_endian: bool) -> Result<Vec<Import>, String> {
    let mut out = Vec::new();
    let mut off = 0usize;
    while off + 8 <= data.len() {
        let next = read_u32(data, off, big_endian).ok_or("short")? as usize;
        if next == 0 {
            // Trailing zero padding.
            if data.get(off..).unwrap_or_default().iter().all(|&b| b == 0) {
                break;
            }
            return Err("zero-length record".into());
        }
        if next < 9 || !next.is_multiple_of(4) || off + next > data.len() {
            return Err(format!("bad record length {next}"));
        }
        let crc = read_u32(data, off + 4, big_endian).ok_or("short")?;
        let name = data
            .get(off + 8..off + next)
            .and_then(super::until_nul)
            .ok_or("name without NUL")?;
        if name.is_empty() {
            return Err("empty name".into());
        }
        out.push(Import {
            name: strip_dot(name),
            crc,
        });
        off += next;
    }
    if out.is_empty() {
        return Err("no records".into());
    }
    Ok(out)
}

/// Parses the extended modversions pair: the i-th CRC belongs to the i-th
/// name. Extra trailing NULs after the last name (string-literal padding) are
/// allowed; running out of names is an error.
pub fn parse_extended(crcs: &[u8], names: &[u8], big_endian: bool) -> Result<Vec<Import>, String> {
    if !crcs.len().is_multiple_of(4) {
        return Err(format!(
            "__version_ext_crcs: size {} is not a multiple of 4",
            crcs.len()
        ));
    }
    let count = crcs.len() / 4;
    let mut out = Vec::with_capacity(count);
    let mut pos = 0usize;
    for i in 0..count {
        let rest = names.get(pos..).unwrap_or(&[]);
        let name = super::until_nul(rest).ok_or_else(|| {
            format!(
                "__version_ext_names: name {i} missing or without NUL terminator ({count} CRCs)"
            )
        })?;
        let crc = read_u32(crcs, i * 4, big_endian).ok_or("__version_ext_crcs: short")?;
        pos += name.len() + 1;
        out.push(Import {
            name: strip_dot(name),
            crc,
        });
    }
    Ok(out)
}

/// Formats imports as `modprobe --dump-modversions` does: `0x%08x\tname\n`.
pub fn dump(imports: &[Import]) -> String {
    let mut s = String::with_capacity(imports.len() * 32);
    for i in imports {
        s.push_str(&format!("0x{:08x}\t{}\n", i.crc, i.name));
    }
    s
}
