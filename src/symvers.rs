//! `Module.symvers` and its relatives (`/boot/symvers-*.gz|.xz`, RHEL
//! `Module.kabi_*`): reading every era's layout, writing the modern one.
//!
//! Layouts (`kernel-module-format.md` §5.1), told apart per line:
//! - 4 columns `crc sym module export` (before 5.4; RHEL 7/8);
//! - 5 columns `crc sym module export namespace` (5.6+, 5.4.y);
//! - 5 columns `crc sym namespace module export` (5.4–5.5 only).

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

fn parse_crc(s: &str) -> Option<u32> {
    let hex = s
        .strip_prefix("0x")
        .or_else(|| s.strip_prefix("0X"))
        .unwrap_or(s);
    if hex.is_empty() || hex.len() > 16 {
        return None;
    }
    u64::from_str_radix(hex, 16).ok().map(|v| v as u32)
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

    /// Parses symvers text, gzip/xz/zstd-compressed or plain.
    pub fn parse(bytes: &[u8]) -> Result<Symvers, SymversError> {
        let decompressed = compression::decompress(bytes).map_err(SymversError::Compression)?;
        let text = match &decompressed {
            Some((_, d)) => d.as_slice(),
            None => bytes,
        };
        let mut entries = Vec::new();
        for (n, raw) in text.split(|&b| b == b'\n').enumerate() {
            let line = String::from_utf8_lossy(raw);
            let line = line.trim_end_matches('\r');
            if line.trim().is_empty() || line.starts_with('#') {
                continue;
            }
            let err = |message: String| SymversError::Line {
                line: n + 1,
                message,
            };
            let f: Vec<&str> = line.split('\t').collect();
            let (crc, name, module, export, ns) = match f.len() {
                4 => (f[0], f[1], f[2], f[3], ""),
                5 if f[3].starts_with("EXPORT_") => (f[0], f[1], f[2], f[3], f[4]),
                5 if f[4].starts_with("EXPORT_") => (f[0], f[1], f[3], f[4], f[2]),
                3 => (f[0], f[1], f[2], "EXPORT_SYMBOL", ""),
                k => {
                    return Err(err(format!(
                        "expected 4 or 5 tab-separated fields, found {k}"
                    )))
                }
            };
            let crc = parse_crc(crc).ok_or_else(|| err(format!("bad CRC {crc:?}")))?;
            if name.is_empty() {
                return Err(err("empty symbol name".into()));
            }
            let kind = ExportKind::parse(export)
                .ok_or_else(|| err(format!("unknown export type {export:?}")))?;
            entries.push(SymversEntry {
                crc,
                name: name.to_string(),
                module: module.to_string(),
                kind,
                namespace: (!ns.is_empty()).then(|| ns.to_string()),
            });
        }
        Ok(Symvers::from_entries(entries))
    }

    /// Reads and parses a symvers file.
    pub fn read(path: &Path) -> Result<Symvers, SymversFileError> {
        let bytes = std::fs::read(path).map_err(|source| SymversFileError::Io {
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
        self.index.get(name).map(|&i| &self.entries[i])
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
