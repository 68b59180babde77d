//! Exported symbols, recovered from `.symtab` labels.
//!
//! Decoding `__ksymtab` itself would need per-arch, per-era struct layouts
//! and relocation processing. The labels modpost/export.h leave behind carry
//! the same facts in every era (`kernel-module-format.md` §3.2):
//! - `__ksymtab_<sym>` in section `__ksymtab*`: the export and, from the
//!   section name, its kind (plain / GPL / ...);
//! - `__crc_<sym>`: its CRC, either absolute (SHN_ABS, ≤5.18) or a u32 stored
//!   at the label (MODULE_REL_CRCS, 5.19+ `__kcrctab`);
//! - `__kstrtabns_<sym>`: its namespace string (5.4+);
//! - `__flags_<sym>` in `__kflagstab` (proposed): bit 0 = GPL-only.
//!
//! This reproduces Debian 6.1's Module.symvers for all 4023 modules.

// A parser of untrusted bytes: no indexing that can panic (issue #15).
#![deny(clippy::indexing_slicing)]

use serde::Serialize;

/// The kind of export, as written in Module.symvers' fourth column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum ExportKind {
    /// `EXPORT_SYMBOL`.
    #[serde(rename = "EXPORT_SYMBOL")]
    Plain,
    /// `EXPORT_SYMBOL_GPL`.
    #[serde(rename = "EXPORT_SYMBOL_GPL")]
    Gpl,
    /// `EXPORT_SYMBOL_GPL_FUTURE` (removed in 5.12).
    #[serde(rename = "EXPORT_SYMBOL_GPL_FUTURE")]
    GplFuture,
    /// `EXPORT_UNUSED_SYMBOL` (removed in 5.12).
    #[serde(rename = "EXPORT_UNUSED_SYMBOL")]
    Unused,
    /// `EXPORT_UNUSED_SYMBOL_GPL` (removed in 5.12).
    #[serde(rename = "EXPORT_UNUSED_SYMBOL_GPL")]
    UnusedGpl,
}

impl ExportKind {
    /// Module.symvers spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            ExportKind::Plain => "EXPORT_SYMBOL",
            ExportKind::Gpl => "EXPORT_SYMBOL_GPL",
            ExportKind::GplFuture => "EXPORT_SYMBOL_GPL_FUTURE",
            ExportKind::Unused => "EXPORT_UNUSED_SYMBOL",
            ExportKind::UnusedGpl => "EXPORT_UNUSED_SYMBOL_GPL",
        }
    }

    /// Parses the Module.symvers spelling.
    pub fn parse(s: &str) -> Option<ExportKind> {
        Some(match s {
            "EXPORT_SYMBOL" => ExportKind::Plain,
            "EXPORT_SYMBOL_GPL" => ExportKind::Gpl,
            "EXPORT_SYMBOL_GPL_FUTURE" => ExportKind::GplFuture,
            "EXPORT_UNUSED_SYMBOL" => ExportKind::Unused,
            "EXPORT_UNUSED_SYMBOL_GPL" => ExportKind::UnusedGpl,
            _ => return None,
        })
    }

    /// Kind from the name of the `__ksymtab*` section holding the entry.
    pub fn from_section(section: &str) -> Option<ExportKind> {
        Some(match section {
            "__ksymtab" => ExportKind::Plain,
            "__ksymtab_gpl" => ExportKind::Gpl,
            "__ksymtab_gpl_future" => ExportKind::GplFuture,
            "__ksymtab_unused" => ExportKind::Unused,
            "__ksymtab_unused_gpl" => ExportKind::UnusedGpl,
            _ => return None,
        })
    }

    /// Only usable by modules with a GPL-compatible license.
    pub fn is_gpl_only(self) -> bool {
        matches!(self, ExportKind::Gpl | ExportKind::UnusedGpl)
    }
}

/// One exported symbol.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Export {
    /// Symbol name.
    pub name: String,
    /// CRC, or `None` when the module was built without MODVERSIONS
    /// (Module.symvers then says `0x00000000`).
    pub crc: Option<u32>,
    /// EXPORT_SYMBOL, EXPORT_SYMBOL_GPL, ...
    pub kind: ExportKind,
    /// Symbol namespace, `None` when not namespaced.
    pub namespace: Option<String>,
}
