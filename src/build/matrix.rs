//! The build matrix: packages × kernels × arches × flavors, and the order in
//! which its cells may run.
//!
//! Pure: names and targets in, an ordered list of cells with their
//! prerequisites out. An importer kmod (Lustre-like) needs the exporter's
//! results (ZFS-like) for the same kernel and arch, so its cells wait for
//! those cells and are skipped — not attempted against stale symbols — if
//! they fail.

use std::collections::{BTreeSet, HashMap};

use std::fmt;

use serde::Serialize;

use super::kernel::KernelTarget;
use super::BuildError;

/// What the matrix needs to know about one package of the build.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Package {
    /// Source package name (`kmod-kpx_export`, or the spec's `Name`).
    pub name: String,
    /// Names of other packages of this build whose results it needs.
    pub depends_on: Vec<String>,
    /// The cells it is built for: kernel, arch, flavor.
    pub targets: Vec<BuildTarget>,
}

/// One kernel × arch × flavor a package is built for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BuildTarget {
    /// Target kernel.
    pub kernel: KernelTarget,
    /// rpm arch.
    pub arch: String,
    /// Flavor, if any.
    pub flavor: Option<String>,
}

/// The full product kernels × arches × flavors (no flavors: unflavored).
pub fn product(
    kernels: &[KernelTarget],
    arches: &[String],
    flavors: &[String],
) -> Vec<BuildTarget> {
    let flavors: Vec<Option<String>> = if flavors.is_empty() {
        vec![None]
    } else {
        flavors.iter().cloned().map(Some).collect()
    };
    let mut out = Vec::new();
    for k in kernels {
        for a in arches {
            for f in &flavors {
                out.push(BuildTarget {
                    kernel: k.clone(),
                    arch: a.clone(),
                    flavor: f.clone(),
                });
            }
        }
    }
    out
}

/// One cell: a package built for one kernel, arch and flavor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Cell {
    /// Package name.
    pub package: String,
    /// Target kernel.
    pub kernel: KernelTarget,
    /// rpm arch (`x86_64`, `aarch64`, ...).
    pub arch: String,
    /// Flavor, if the package has flavors.
    pub flavor: Option<String>,
}

impl Cell {
    /// `package/kver/arch[/flavor]`: the cell's name in messages and reports,
    /// and its directory below the result directory.
    pub fn id(&self) -> String {
        let mut s = format!("{}/{}/{}", self.package, self.kernel.release, self.arch);
        if let Some(f) = &self.flavor {
            s.push('/');
            s.push_str(f);
        }
        s
    }

    /// A single path component naming the cell (for mock's `--uniqueext`).
    pub fn slug(&self) -> String {
        self.id()
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '.' || c == '_' || c == '-' {
                    c
                } else {
                    '-'
                }
            })
            .collect()
    }
}

impl fmt::Display for Cell {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.id())
    }
}

/// A cell and the indices (into the plan) of the cells it must wait for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedCell {
    /// The cell.
    pub cell: Cell,
    /// Index of its package in the (dependency-sorted) package list.
    pub package_index: usize,
    /// Cells whose results this one needs.
    pub after: Vec<usize>,
}

/// Sorts packages so that every package comes after the ones it depends on,
/// keeping the given order otherwise (the command line is the tie-breaker, so
/// output is deterministic). Returns indices into `packages`.
pub fn package_order(packages: &[Package]) -> Result<Vec<usize>, BuildError> {
    let index: HashMap<&str, usize> = packages
        .iter()
        .enumerate()
        .map(|(i, p)| (p.name.as_str(), i))
        .collect();
    if index.len() != packages.len() {
        let mut seen = BTreeSet::new();
        for p in packages {
            if !seen.insert(p.name.as_str()) {
                return Err(BuildError::DuplicatePackage(p.name.clone()));
            }
        }
    }
    for p in packages {
        for d in &p.depends_on {
            if !index.contains_key(d.as_str()) {
                return Err(BuildError::UnknownDependency {
                    package: p.name.clone(),
                    dependency: d.clone(),
                });
            }
        }
    }
    let mut order = Vec::with_capacity(packages.len());
    let mut placed = vec![false; packages.len()];
    while order.len() < packages.len() {
        let next = (0..packages.len()).find(|&i| {
            !placed[i]
                && packages[i]
                    .depends_on
                    .iter()
                    .all(|d| placed[index[d.as_str()]])
        });
        match next {
            Some(i) => {
                placed[i] = true;
                order.push(i);
            }
            None => {
                let stuck: Vec<&str> = (0..packages.len())
                    .filter(|&i| !placed[i])
                    .map(|i| packages[i].name.as_str())
                    .collect();
                return Err(BuildError::DependencyCycle(stuck.join(", ")));
            }
        }
    }
    Ok(order)
}

/// Expands the matrix. Cells come out package by package (in dependency
/// order), then in the order of the package's targets. A cell of an importer
/// waits for the exporter's cells of the same kernel and arch (and the same
/// flavor, when the exporter has it).
pub fn plan(packages: &[Package]) -> Result<Vec<PlannedCell>, BuildError> {
    let order = package_order(packages)?;
    let mut cells: Vec<PlannedCell> = Vec::new();
    for &pi in &order {
        let p = &packages[pi];
        for t in &p.targets {
            let after = cells
                .iter()
                .enumerate()
                .filter(|(_, c)| {
                    p.depends_on.contains(&c.cell.package)
                        && c.cell.kernel.release == t.kernel.release
                        && c.cell.arch == t.arch
                        && flavor_matches(&c.cell, &t.flavor, packages)
                })
                .map(|(i, _)| i)
                .collect();
            cells.push(PlannedCell {
                cell: Cell {
                    package: p.name.clone(),
                    kernel: t.kernel.clone(),
                    arch: t.arch.clone(),
                    flavor: t.flavor.clone(),
                },
                package_index: pi,
                after,
            });
        }
    }
    Ok(cells)
}

/// Does exporter cell `dep` serve an importer cell of flavor `flavor`?
/// The exporter's cell of the same flavor when it has one (an unflavored
/// importer needs the unflavored exporter, not its `rt` build), else any.
fn flavor_matches(dep: &Cell, flavor: &Option<String>, packages: &[Package]) -> bool {
    let dep_has = packages
        .iter()
        .any(|p| p.name == dep.package && p.targets.iter().any(|t| &t.flavor == flavor));
    !dep_has || &dep.flavor == flavor
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pkg(name: &str, deps: &[&str], flavors: &[&str]) -> Package {
        let ks = [k("5.14.0-1.el9.x86_64"), k("5.14.0-2.el9.x86_64")];
        let arches = ["x86_64".to_string(), "aarch64".to_string()];
        let fl: Vec<String> = flavors.iter().map(|s| s.to_string()).collect();
        Package {
            name: name.into(),
            depends_on: deps.iter().map(|s| s.to_string()).collect(),
            targets: product(&ks, &arches, &fl),
        }
    }

    fn k(r: &str) -> KernelTarget {
        KernelTarget {
            release: r.into(),
            headers: None,
        }
    }

    #[test]
    fn unflavored_importer_waits_for_the_unflavored_exporter_only() {
        let two = |name: &str, deps: &[&str]| Package {
            name: name.into(),
            depends_on: deps.iter().map(|s| s.to_string()).collect(),
            targets: [None, Some("rt".to_string())]
                .into_iter()
                .map(|flavor| BuildTarget {
                    kernel: k("5.14.0-1.el9"),
                    arch: "x86_64".into(),
                    flavor,
                })
                .collect(),
        };
        let plan = plan(&[two("exp", &[]), two("imp", &["exp"])]).unwrap();
        let ids: Vec<String> = plan.iter().map(|c| c.cell.id()).collect();
        for c in &plan[2..] {
            assert_eq!(c.after.len(), 1, "{} {ids:?}", c.cell);
            assert_eq!(plan[c.after[0]].cell.flavor, c.cell.flavor, "{}", c.cell);
        }
    }

    #[test]
    fn importer_is_ordered_after_exporter_whatever_the_command_line() {
        let ps = [
            pkg("lustre", &["zfs"], &[]),
            pkg("zfs", &[], &[]),
            pkg("other", &[], &[]),
        ];
        assert_eq!(package_order(&ps).unwrap(), vec![1, 0, 2]);
    }

    #[test]
    fn cycles_unknown_and_duplicate_packages_are_errors() {
        let cyc = [pkg("a", &["b"], &[]), pkg("b", &["a"], &[])];
        assert_eq!(
            package_order(&cyc).unwrap_err().to_string(),
            "dependency cycle between packages: a, b"
        );
        let unk = [pkg("a", &["zfs"], &[])];
        assert!(matches!(
            package_order(&unk),
            Err(BuildError::UnknownDependency { .. })
        ));
        let dup = [pkg("a", &[], &[]), pkg("a", &[], &[])];
        assert!(matches!(
            package_order(&dup),
            Err(BuildError::DuplicatePackage(_))
        ));
    }

    #[test]
    fn matrix_is_the_full_product_with_per_kernel_arch_prerequisites() {
        let ps = [
            pkg("exp", &[], &[]),
            pkg("imp", &["exp"], &["default", "debug"]),
        ];
        let plan = plan(&ps).unwrap();
        assert_eq!(plan.len(), 4 + 8);
        let ids: Vec<String> = plan.iter().map(|c| c.cell.id()).collect();
        assert_eq!(ids[0], "exp/5.14.0-1.el9.x86_64/x86_64");
        assert_eq!(ids[4], "imp/5.14.0-1.el9.x86_64/x86_64/default");
        for c in &plan[4..] {
            assert_eq!(c.after.len(), 1, "{}", c.cell);
            let dep = &plan[c.after[0]].cell;
            assert_eq!(dep.package, "exp");
            assert_eq!(dep.kernel, c.cell.kernel);
            assert_eq!(dep.arch, c.cell.arch);
        }
        assert!(plan[..4].iter().all(|c| c.after.is_empty()));
    }

    #[test]
    fn slug_is_one_path_component() {
        let c = Cell {
            package: "kmod-a".into(),
            kernel: k("6.1.0-56-amd64"),
            arch: "x86_64".into(),
            flavor: Some("rt".into()),
        };
        assert_eq!(c.slug(), "kmod-a-6.1.0-56-amd64-x86_64-rt");
    }
}
