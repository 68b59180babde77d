//! `Module.symvers` and its relatives (`/boot/symvers-*.gz|.xz`, RHEL
//! `Module.kabi_*`): reading every era's layout, writing the modern one.
//!
//! Layouts (`kernel-module-format.md` §5.1), told apart per line:
//! - 4 columns `crc sym module export` (before 5.4; RHEL 7/8);
//! - 5 columns `crc sym module export namespace` (5.6+, 5.4.y);
//! - 5 columns `crc sym namespace module export` (5.4–5.5 only).

// A parser of untrusted bytes: no indexing that can panic (issue #15).
#![deny(clippy::indexing_slicing)]

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::module::{compression, ExportKind, KernelModule};

/// One exported symbol of a kernel build.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SymversEntry {
    /// CRC (0 when built without MODVERSIONS).
    pub crc: u32,
    /// Symbol name.
    pub name: String,
    /// `vmlinux` or the module path without `.ko` (`drivers/usb/storage/usb-storage`).
    pub module: String,
    /// Export kind.
    pub kind: ExportKind,
    /// Namespace, `None` when empty.
    pub namespace: Option<String>,
}

impl SymversEntry {
    /// The modern 5-column line, `\n`-terminated (namespace column empty when none).
    pub fn to_line(&self) -> String {
        format!(
            "0x{:08x}\t{}\t{}\t{}\t{}\n",
            self.crc,
            self.name,
            self.module,
            self.kind.as_str(),
            self.namespace.as_deref().unwrap_or("")
        )
    }

    /// True when the symbol is exported by the kernel image itself.
    pub fn is_vmlinux(&self) -> bool {
        self.module == "vmlinux"
    }
}

/// A parsed symvers file with a by-name index.
#[derive(Debug, Clone, Default)]
pub struct Symvers {
    /// Entries in file order.
    pub entries: Vec<SymversEntry>,
    index: HashMap<String, usize>,
}

/// A line that is not in any known symvers layout.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SymversError {
    /// Bad line.
    #[error("line {line}: {message}")]
    Line {
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// No symbol at all: a kernel always exports thousands, so an empty
    /// file is a broken or truncated one, never a valid answer.
    #[error("no symbols (empty or only comments): not a kernel's symvers")]
    Empty,
    /// Compressed data that does not decode.
    #[error("{0}")]
    Compression(String),
}

/// A [`SymversError`] or I/O error with its file.
#[derive(Debug, thiserror::Error)]
pub enum SymversFileError {
    /// Unreadable.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What the OS said.
        source: std::io::Error,
    },
    /// Not a symvers file.
    #[error("{path}: {source}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        source: SymversError,
    },
}

/// One line of a symvers file, borrowed from the text. Every reader of
/// symvers text (kabi checks, the dependency generator, the disk checks)
/// goes through [`parse_line`], so all of them accept exactly the same files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Line<'a> {
    /// The CRC (32 bits, as modpost writes and the module loader compares).
    pub crc: u32,
    /// Symbol name.
    pub name: &'a str,
    /// `vmlinux` or the module path.
    pub module: &'a str,
    /// Export kind.
    pub kind: ExportKind,
    /// Namespace, empty when none.
    pub namespace: &'a str,
}

/// Parses one symvers line (without its `\n`; a trailing `\r` is ignored).
/// `Ok(None)` for an empty line or a `#` comment. One strictness for every
/// caller: 3, 4 or 5 tab-separated fields in a known layout, a `0x` CRC that
/// fits 32 bits (never silently truncated), a non-empty name without white
/// space, a known `EXPORT_*` kind, valid UTF-8.
pub fn parse_line(raw: &[u8]) -> Result<Option<Line<'_>>, String> {
    let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
    if raw.first().is_none_or(|&b| b == b'#') {
        return Ok(None);
    }
    let line = std::str::from_utf8(raw).map_err(|_| "not UTF-8 text".to_string())?;
    let mut f = [""; 5];
    let mut n = 0;
    for part in line.split('\t') {
        if n == 5 {
            n += 1;
            break;
        }
        if let Some(slot) = f.get_mut(n) {
            *slot = part;
        }
        n += 1;
    }
    let (crc, name, module, export, ns) = match n {
        4 => (f[0], f[1], f[2], f[3], ""),
        5 if f[3].starts_with("EXPORT_") => (f[0], f[1], f[2], f[3], f[4]),
        5 if f[4].starts_with("EXPORT_") => (f[0], f[1], f[3], f[4], f[2]),
        3 => (f[0], f[1], f[2], "EXPORT_SYMBOL", ""),
        _ => {
            let shown: String = line.chars().take(60).collect();
            return Err(format!(
                "expected 3 to 5 tab-separated fields `CRC<TAB>symbol<TAB>module<TAB>EXPORT_*[<TAB>namespace]`, got {shown:?}"
            ));
        }
    };
    let crc = parse_crc(crc)?;
    if name.is_empty() || name.contains(char::is_whitespace) {
        return Err(format!("bad symbol name {name:?}"));
    }
    let kind =
        ExportKind::parse(export).ok_or_else(|| format!("unknown export type {export:?}"))?;
    Ok(Some(Line {
        crc,
        name,
        module,
        kind,
        namespace: ns,
    }))
}

fn parse_crc(s: &str) -> Result<u32, String> {
    let hex = s
        .strip_prefix("0x")
        .or_else(|| s.strip_prefix("0X"))
        .filter(|h| !h.is_empty() && h.len() <= 16 && h.bytes().all(|b| b.is_ascii_hexdigit()))
        .ok_or_else(|| format!("bad CRC {s:?} (expected 0x and hex digits)"))?;
    let v = u64::from_str_radix(hex, 16).map_err(|_| format!("bad CRC {s:?}"))?;
    u32::try_from(v).map_err(|_| {
        format!("CRC {s} does not fit in 32 bits (module CRCs are 32-bit; it would be truncated)")
    })
}

/// A symbol listed twice with different CRCs: which CRC a lookup sees would
/// depend on line order, so callers warn (the last line wins, as in modpost).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conflict {
    /// Symbol name.
    pub name: String,
    /// The CRC that loses.
    pub first: u32,
    /// The CRC that wins (later line or file).
    pub last: u32,
}

impl std::fmt::Display for Conflict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "symbol {} is listed twice with different CRCs (0x{:08x}, then 0x{:08x}); using the later one",
            self.name, self.first, self.last
        )
    }
}

impl Symvers {
    /// Builds a symvers from entries (later duplicates of a name win the index,
    /// as with modpost).
    pub fn from_entries(entries: Vec<SymversEntry>) -> Symvers {
        let index = entries
            .iter()
            .enumerate()
            .map(|(i, e)| (e.name.clone(), i))
            .collect();
        Symvers { entries, index }
    }

    /// Names listed more than once with different CRCs, in file order.
    pub fn conflicts(&self) -> Vec<Conflict> {
        let mut first: HashMap<&str, u32> = HashMap::new();
        let mut out = Vec::new();
        for e in &self.entries {
            match first.get(e.name.as_str()) {
                Some(&c) if c != e.crc => out.push(Conflict {
                    name: e.name.clone(),
                    first: c,
                    last: e.crc,
                }),
                _ => {}
            }
            first.insert(&e.name, e.crc);
        }
        out
    }

    /// Parses symvers text, gzip/xz/zstd-compressed or plain.
    pub fn parse(bytes: &[u8]) -> Result<Symvers, SymversError> {
        let decompressed = compression::decompress(bytes).map_err(SymversError::Compression)?;
        let text = match &decompressed {
            Some((_, d)) => d.as_slice(),
            None => bytes,
        };
        let mut entries = Vec::new();
        for (n, raw) in text.split(|&b| b == b'\n').enumerate() {
            let err = |message: String| SymversError::Line {
                line: n + 1,
                message,
            };
            let Some(l) = parse_line(raw).map_err(err)? else {
                continue;
            };
            entries.push(SymversEntry {
                crc: l.crc,
                name: l.name.to_string(),
                module: l.module.to_string(),
                kind: l.kind,
                namespace: (!l.namespace.is_empty()).then(|| l.namespace.to_string()),
            });
        }
        if entries.is_empty() {
            return Err(SymversError::Empty);
        }
        Ok(Symvers::from_entries(entries))
    }

    /// Reads and parses a symvers file.
    pub fn read(path: &Path) -> Result<Symvers, SymversFileError> {
        let bytes = crate::fsio::read_regular(path).map_err(|source| SymversFileError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Symvers::parse(&bytes).map_err(|source| SymversFileError::Parse {
            path: path.to_path_buf(),
            source,
        })
    }

    /// Looks a symbol up by name.
    pub fn get(&self, name: &str) -> Option<&SymversEntry> {
        self.index.get(name).and_then(|&i| self.entries.get(i))
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Adds entries (e.g. a provider module's exports); later names win.
    pub fn extend(&mut self, more: impl IntoIterator<Item = SymversEntry>) {
        for e in more {
            self.index.insert(e.name.clone(), self.entries.len());
            self.entries.push(e);
        }
    }
}

/// Module.symvers entries for a module's exports, with `module` as the
/// third column. CRC is 0 for exports without one (no MODVERSIONS).
pub fn module_entries(module: &KernelModule, module_column: &str) -> Vec<SymversEntry> {
    module
        .exports
        .iter()
        .map(|e| SymversEntry {
            crc: e.crc.unwrap_or(0),
            name: e.name.clone(),
            module: module_column.to_string(),
            kind: e.kind,
            namespace: e.namespace.clone(),
        })
        .collect()
}
