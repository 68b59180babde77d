//! What changed in the exports between two kernels — "which of my symbols
//! broke in this minor release". Pure: two symbol tables in, changes out.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::module::ExportKind;
use crate::symvers::{Symvers, SymversEntry};

/// How one symbol changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "change", rename_all = "snake_case")]
pub enum Change {
    /// Exported by OLD only.
    Removed {
        /// CRC in OLD.
        crc: u32,
        /// Exporter in OLD.
        module: String,
    },
    /// Exported by NEW only.
    Added {
        /// CRC in NEW.
        crc: u32,
        /// Exporter in NEW.
        module: String,
    },
    /// Exported by both with different facts (CRC, kind, namespace, exporter).
    Changed {
        /// OLD CRC.
        old_crc: u32,
        /// NEW CRC.
        new_crc: u32,
        /// OLD `EXPORT_SYMBOL*` (serialised in the Module.symvers spelling).
        old_kind: ExportKind,
        /// NEW `EXPORT_SYMBOL*`.
        new_kind: ExportKind,
        /// OLD namespace.
        old_namespace: Option<String>,
        /// NEW namespace.
        new_namespace: Option<String>,
        /// OLD exporter.
        old_module: String,
        /// NEW exporter.
        new_module: String,
    },
}

/// One changed symbol.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SymbolChange {
    /// The symbol.
    pub symbol: String,
    /// What happened to it.
    #[serde(flatten)]
    pub change: Change,
}

impl SymbolChange {
    /// True when a module built against OLD that uses the symbol would be
    /// refused by NEW (removed, CRC changed, became GPL-only or namespaced).
    /// "GPL-only" is the loader's notion ([`ExportKind::is_gpl_only`]):
    /// `EXPORT_SYMBOL_GPL_FUTURE` is still usable by any module, so a move
    /// to it breaks nobody.
    pub fn breaks_users(&self) -> bool {
        match &self.change {
            Change::Removed { .. } => true,
            Change::Added { .. } => false,
            Change::Changed {
                old_crc,
                new_crc,
                old_kind,
                new_kind,
                old_namespace,
                new_namespace,
                ..
            } => {
                old_crc != new_crc
                    || (new_kind.is_gpl_only() && !old_kind.is_gpl_only())
                    || old_namespace != new_namespace
            }
        }
    }

    /// One line: `-sym`, `+sym`, `~sym` with the facts that changed.
    pub fn to_line(&self) -> String {
        match &self.change {
            Change::Removed { crc, module } => format!("- {}\t0x{crc:08x}\t{module}", self.symbol),
            Change::Added { crc, module } => format!("+ {}\t0x{crc:08x}\t{module}", self.symbol),
            Change::Changed {
                old_crc,
                new_crc,
                old_kind,
                new_kind,
                old_namespace,
                new_namespace,
                old_module,
                new_module,
            } => {
                let mut parts = Vec::new();
                if old_crc != new_crc {
                    parts.push(format!("crc 0x{old_crc:08x} -> 0x{new_crc:08x}"));
                }
                if old_kind != new_kind {
                    parts.push(format!("{} -> {}", old_kind.as_str(), new_kind.as_str()));
                }
                if old_namespace != new_namespace {
                    parts.push(format!(
                        "namespace {} -> {}",
                        old_namespace.as_deref().unwrap_or("(none)"),
                        new_namespace.as_deref().unwrap_or("(none)")
                    ));
                }
                if old_module != new_module {
                    parts.push(format!("exporter {old_module} -> {new_module}"));
                }
                format!("~ {}\t{}", self.symbol, parts.join(", "))
            }
        }
    }
}

fn by_name(s: &Symvers) -> BTreeMap<&str, &SymversEntry> {
    // Later duplicates win, as in Symvers::get.
    s.entries.iter().map(|e| (e.name.as_str(), e)).collect()
}

/// Exports removed, added and changed from `old` to `new`, sorted by
/// symbol. With `only`, restricted to those symbols (what some modules use).
pub fn diff(old: &Symvers, new: &Symvers, only: Option<&BTreeSet<String>>) -> Vec<SymbolChange> {
    let (o, n) = (by_name(old), by_name(new));
    let names: BTreeSet<&str> = o.keys().chain(n.keys()).copied().collect();
    let mut out = Vec::new();
    for name in names {
        if only.is_some_and(|set| !set.contains(name)) {
            continue;
        }
        let change = match (o.get(name), n.get(name)) {
            (Some(a), None) => Change::Removed {
                crc: a.crc,
                module: a.module.clone(),
            },
            (None, Some(b)) => Change::Added {
                crc: b.crc,
                module: b.module.clone(),
            },
            (Some(a), Some(b)) => {
                if a.crc == b.crc
                    && a.kind == b.kind
                    && a.namespace == b.namespace
                    && a.module == b.module
                {
                    continue;
                }
                Change::Changed {
                    old_crc: a.crc,
                    new_crc: b.crc,
                    old_kind: a.kind,
                    new_kind: b.kind,
                    old_namespace: a.namespace.clone(),
                    new_namespace: b.namespace.clone(),
                    old_module: a.module.clone(),
                    new_module: b.module.clone(),
                }
            }
            (None, None) => continue,
        };
        out.push(SymbolChange {
            symbol: name.to_string(),
            change,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(kind: &str) -> Symvers {
        Symvers::parse(format!("0x00000001\tsym\tvmlinux\t{kind}\t\n").as_bytes())
            .expect("valid symvers line")
    }

    /// Breaking means "a module built against OLD is refused by NEW": the
    /// loader hides only EXPORT_SYMBOL_GPL / EXPORT_UNUSED_SYMBOL_GPL from
    /// non-GPL modules, so a move to EXPORT_SYMBOL_GPL_FUTURE is reported
    /// but breaks nobody, while a move to EXPORT_SYMBOL_GPL does.
    #[test]
    fn only_a_move_to_a_gpl_only_kind_breaks_users() {
        let cases = [
            ("EXPORT_SYMBOL", "EXPORT_SYMBOL_GPL_FUTURE", false),
            ("EXPORT_SYMBOL", "EXPORT_SYMBOL_GPL", true),
            ("EXPORT_SYMBOL_GPL_FUTURE", "EXPORT_SYMBOL_GPL", true),
            ("EXPORT_SYMBOL", "EXPORT_UNUSED_SYMBOL_GPL", true),
            ("EXPORT_SYMBOL_GPL", "EXPORT_SYMBOL", false),
        ];
        for (old, new, breaks) in cases {
            let changes = diff(&one(old), &one(new), None);
            assert_eq!(changes.len(), 1, "{old} -> {new}");
            assert_eq!(changes[0].breaks_users(), breaks, "{old} -> {new}");
            assert_eq!(changes[0].to_line(), format!("~ sym\t{old} -> {new}"));
        }
    }
}
