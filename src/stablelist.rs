//! RHEL kABI stablelists (`/lib/modules/kabi-current/kabi_stablelist_<arch>`,
//! formerly `kabi_whitelist_<arch>`): the kernel symbols Red Hat promises
//! to keep stable within a major release. Symbols used from outside the list
//! are a "greylist" warning, not an error.
//!
//! Format: `[rhel9_x86_64_stablelist]` section headers, then one
//! tab-indented symbol per line. A `Module.kabi_<arch>` file (symvers syntax)
//! is accepted too: its second column is the symbol.

use std::collections::BTreeSet;
use std::path::Path;

/// The set of stablelisted symbols.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stablelist {
    /// Symbol names.
    pub symbols: BTreeSet<String>,
}

impl Stablelist {
    /// Parses a stablelist or a `Module.kabi_*` file.
    pub fn parse(text: &str) -> Stablelist {
        let mut symbols = BTreeSet::new();
        for line in text.lines() {
            let t = line.trim();
            if t.is_empty() || t.starts_with('[') || t.starts_with('#') {
                continue;
            }
            let fields: Vec<&str> = line.split('\t').filter(|f| !f.is_empty()).collect();
            let sym = if fields.len() >= 3 && fields[0].starts_with("0x") {
                fields[1]
            } else {
                t
            };
            symbols.insert(sym.to_string());
        }
        Stablelist { symbols }
    }

    /// Reads a stablelist file.
    pub fn read(path: &Path) -> std::io::Result<Stablelist> {
        Ok(Stablelist::parse(&crate::fsio::read_regular_to_string(
            path,
        )?))
    }

    /// True when `symbol` is stablelisted.
    pub fn contains(&self, symbol: &str) -> bool {
        self.symbols.contains(symbol)
    }
}
