//! The `.modinfo` section: NUL-separated `key=value` strings.
//!
//! Keys repeat (alias, depends, import_ns, softdep, firmware, parm, ...) and
//! order matters to people comparing with `modinfo`, so entries are kept as
//! an ordered list rather than a map. Old kernels pad entries with runs of
//! NULs (RHEL 6 ext4), which are skipped.

// A parser of untrusted bytes: no indexing that can panic (issue #15).
#![deny(clippy::indexing_slicing)]

use serde::Serialize;

/// All `.modinfo` entries of a module, in file order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Modinfo {
    /// `(key, value)` pairs in file order; a key may occur many times.
    pub entries: Vec<(String, String)>,
}

impl Modinfo {
    /// Parses the raw section contents. Strings without `=` are kept with an
    /// empty value, as the kernel's `get_modinfo` would simply never match them.
    pub fn parse(data: &[u8]) -> Modinfo {
        let entries = data
            .split(|&b| b == 0)
            .filter(|s| !s.is_empty())
            .map(|s| {
                let s = String::from_utf8_lossy(s);
                match s.split_once('=') {
                    Some((k, v)) => (k.to_string(), v.to_string()),
                    None => (s.to_string(), String::new()),
                }
            })
            .collect();
        Modinfo { entries }
    }

    /// The first value of `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.entries
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Every value of `key`, in order.
    pub fn get_all<'a>(&'a self, key: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.entries
            .iter()
            .filter(move |(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// `depends=` split on commas (names as on disk, e.g. `xhci-hcd`).
    pub fn depends(&self) -> Vec<String> {
        self.get_all("depends")
            .flat_map(|v| v.split(','))
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect()
    }
}
