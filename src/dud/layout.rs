//! What goes where on a disk, decided before anything touches the file
//! system. A [`Layout`] is a sorted list of files (with their bytes or the
//! input they are copied from) plus the directories `createrepo_c` must
//! index; the writer (`stage`) only materialises it.
//!
//! Only the anaconda DDv3 layout is produced for Red Hat: `rhdd3` beside
//! `rpms/<uname -m>/` with the RPMs directly inside. The legacy
//! `ks-modules/` or loose-`.ko` layouts cannot be expressed here.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use super::package::{PackageFacts, Role};

/// Where a file's bytes come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Content {
    /// Copied from an input file.
    Copy(PathBuf),
    /// Generated.
    Bytes(Vec<u8>),
}

/// One file on the disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Relative path with `/` separators (`rpms/x86_64/kmod-foo.rpm`).
    pub path: String,
    /// Its bytes.
    pub content: Content,
    /// Executable (scripts)?
    pub executable: bool,
}

/// A whole disk tree.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Layout {
    /// Files, sorted by path.
    pub files: Vec<Entry>,
    /// Directories to index with createrepo_c after the RPMs are in place.
    pub repos: Vec<String>,
}

impl Layout {
    /// Every directory implied by the files (sorted, parents first).
    pub fn dirs(&self) -> Vec<String> {
        let mut set = BTreeSet::new();
        for f in &self.files {
            let mut p = f.path.as_str();
            while let Some((parent, _)) = p.rsplit_once('/') {
                set.insert(parent.to_string());
                p = parent;
            }
        }
        for r in &self.repos {
            set.insert(r.clone());
        }
        set.into_iter().collect()
    }

    fn add(&mut self, path: String, content: Content, executable: bool) {
        self.files.push(Entry {
            path,
            content,
            executable,
        });
    }

    fn finish(mut self) -> Layout {
        self.files.sort_by(|a, b| a.path.cmp(&b.path));
        self.files.dedup_by(|a, b| a.path == b.path);
        self
    }
}

/// The `rhdd3` marker text (its content is free text; anaconda only checks
/// that it exists).
pub fn rhdd3_text(description: &str) -> String {
    let one_line: String = description
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    format!("{}\n", one_line.trim())
}

/// The anaconda DDv3 layout for `arches` (each installer's `uname -m`).
pub fn redhat(
    pkgs: &[PackageFacts],
    arches: &BTreeSet<String>,
    include_sources: bool,
    description: &str,
) -> Layout {
    let mut l = Layout::default();
    l.add(
        "rhdd3".into(),
        Content::Bytes(rhdd3_text(description).into_bytes()),
        false,
    );
    let mut used: BTreeMap<String, bool> = BTreeMap::new();
    for p in pkgs {
        let name = p.file_name();
        match p.role() {
            Role::Arch if arches.contains(&p.pkg.arch) => {
                l.add(
                    format!("rpms/{}/{name}", p.pkg.arch),
                    Content::Copy(p.pkg.path.clone()),
                    false,
                );
                used.insert(p.pkg.arch.clone(), true);
            }
            Role::Noarch => {
                for a in arches {
                    l.add(
                        format!("rpms/{a}/{name}"),
                        Content::Copy(p.pkg.path.clone()),
                        false,
                    );
                }
            }
            Role::Source if include_sources => l.add(
                format!("src/{name}"),
                Content::Copy(p.pkg.path.clone()),
                false,
            ),
            _ => {}
        }
    }
    l.repos = arches.iter().map(|a| format!("rpms/{a}")).collect();
    l.finish()
}
