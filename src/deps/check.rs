//! `deps check`: resolve the `ksym()`/`kernel()` requires of a set of RPMs
//! against their Provides (and a kernel), before `yum install` does.
//!
//! The point is the diagnosis that rpm's "nothing provides ksym(dmu_tx_commit)
//! = 0x…" hides (Lustre on ZFS, `rpm-ksym-generators.md` §9): either **no
//! package provides the symbol at all** — typically the provider kmod was
//! built without `ksym()` Provides, which we can prove by finding the export
//! in its payload — or **a provider exists with a different CRC**, i.e. the
//! requiring kmod was built against another version of the provider (or of
//! the kernel). The two need opposite fixes.
//!
//! Matching follows rpm for the forms generators emit: an unversioned
//! Provides satisfies any version; `=` versions must be equal strings (CRCs
//! are fixed-width in each dialect, so string equality is rpm's answer).

use std::collections::{BTreeMap, HashMap};

use crate::rpmpkg::{DepOp, RpmDep, RpmPackage};
use crate::symvers::Symvers;

/// A symbol exported by a module found in a package's payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PayloadExport {
    /// The package (`name-version-release.arch`).
    pub package: String,
    /// The module path inside the package.
    pub module: String,
    /// Its CRC (`None` without MODVERSIONS).
    pub crc: Option<u32>,
}

/// Why a requirement does not resolve.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// Nobody provides the capability name. `in_payload` lists modules in
    /// the given packages that export the symbol anyway (the provider was
    /// built without ksym() Provides).
    NoProvider {
        /// Exports found in payloads.
        in_payload: Vec<PayloadExport>,
    },
    /// Providers exist, with other versions (CRCs).
    CrcMismatch {
        /// (provider, what it provides).
        providers: Vec<(String, String)>,
    },
}

/// One unresolved requirement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unresolved {
    /// The requiring package.
    pub package: String,
    /// The requirement, as rpm prints it.
    pub require: String,
    /// What is wrong.
    pub problem: Problem,
    /// Same symbol and CRC, provided under the other prefix (`kernel()` for a
    /// `ksym()` require or vice versa): the requiring package's generator
    /// did not know the target kernel's exports.
    pub other_prefix: Option<(String, String)>,
}

impl std::fmt::Display for Unresolved {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: requires {}: ", self.package, self.require)?;
        match &self.problem {
            Problem::NoProvider { in_payload } if in_payload.is_empty() => write!(
                f,
                "no provider: no package provides {}",
                capability_name(&self.require)
            )?,
            Problem::NoProvider { in_payload } => {
                write!(
                    f,
                    "no provider: no package provides {}, but ",
                    capability_name(&self.require)
                )?;
                let parts: Vec<String> = in_payload
                    .iter()
                    .map(|e| {
                        let crc = e
                            .crc
                            .map(|c| format!("CRC 0x{c:08x}"))
                            .unwrap_or_else(|| "no CRC".into());
                        format!("{} contains {} exporting it ({crc})", e.package, e.module)
                    })
                    .collect();
                write!(f, "{}: that package was built without ksym() Provides (rebuild it with kmodpack deps)", parts.join("; "))?
            }
            Problem::CrcMismatch { providers } => {
                let parts: Vec<String> = providers
                    .iter()
                    .map(|(p, d)| format!("{p} provides {d}"))
                    .collect();
                write!(
                    f,
                    "CRC mismatch: {} (built against a different version of the provider)",
                    parts.join("; ")
                )?
            }
        }
        if let Some((p, d)) = &self.other_prefix {
            write!(f, "; note: {p} provides {d} — the requiring package was generated without this kernel's symvers")?;
        }
        Ok(())
    }
}

/// The kernel() requires nobody could check because no kernel was given
/// (no `--symvers`, no package providing `kernel(…)`): each would be a
/// "no provider" line for the same reason, so they are counted instead.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Unchecked {
    /// kernel() requires set aside.
    pub count: usize,
    /// Kernel releases the packages' modules are installed for (sorted).
    pub releases: Vec<String>,
}

impl std::fmt::Display for Unchecked {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kver = match self.releases.as_slice() {
            [one] => one.as_str(),
            _ => "<kver>",
        };
        write!(
            f,
            "note: {} kernel() requirement(s) not checked: no kernel given \
             (pass --symvers /usr/src/kernels/{kver}/Module.symvers or /lib/modules/{kver}/build/Module.symvers, \
             or the kernel's RPM)",
            self.count
        )?;
        if self.releases.len() > 1 {
            write!(f, "; the modules are for {}", self.releases.join(", "))?;
        }
        Ok(())
    }
}

/// Sets aside the kernel() "no provider" findings when `packages` hold no
/// kernel (nothing provides a `kernel(…)` capability) and none was given.
pub fn set_aside_kernel(
    findings: Vec<Unresolved>,
    packages: &[RpmPackage],
    kernel_given: bool,
) -> (Vec<Unresolved>, Unchecked) {
    let has_kernel = kernel_given
        || packages
            .iter()
            .any(|p| p.provides.iter().any(|d| d.name.starts_with("kernel(")));
    if has_kernel {
        return (findings, Unchecked::default());
    }
    let (kernel, rest): (Vec<Unresolved>, Vec<Unresolved>) = findings.into_iter().partition(|f| {
        capability_name(&f.require).starts_with("kernel(")
            && matches!(f.problem, Problem::NoProvider { .. })
    });
    let mut releases: Vec<String> = packages
        .iter()
        .flat_map(|p| p.module_paths())
        .filter_map(|m| {
            let rest = m.strip_prefix("/usr").unwrap_or(m);
            rest.strip_prefix("/lib/modules/")?
                .split('/')
                .next()
                .map(str::to_string)
        })
        .collect();
    releases.sort();
    releases.dedup();
    (
        rest,
        Unchecked {
            count: kernel.len(),
            releases,
        },
    )
}

/// `ksym(foo) = 0x1` → `ksym(foo)`.
fn capability_name(require: &str) -> &str {
    require.split(" ").next().unwrap_or(require)
}

/// `ksym(sym)`, `ksym(flavor:sym)`, `kernel(sym)` → ("ksym"|"kernel", "sym").
pub fn ksym_parts(name: &str) -> Option<(&str, &str)> {
    let (prefix, rest) = name.split_once('(')?;
    if prefix != "ksym" && prefix != "kernel" {
        return None;
    }
    let inner = rest.strip_suffix(')')?;
    let sym = inner.rsplit_once(':').map(|(_, s)| s).unwrap_or(inner);
    Some((prefix, sym))
}

fn parse_hex(v: &str) -> Option<u32> {
    let h = v.strip_prefix("0x").unwrap_or(v);
    u64::from_str_radix(h, 16).ok().map(|x| x as u32)
}

/// Provides of a kernel, as Red Hat kernels carry them: `kernel(sym) = 0x%08x`
/// for every line of its symvers (vmlinux and in-tree modules).
pub fn kernel_provides(symvers: &Symvers) -> Vec<RpmDep> {
    symvers
        .entries
        .iter()
        .map(|e| RpmDep {
            name: format!("kernel({})", e.name),
            op: DepOp::Eq,
            version: format!("0x{:08x}", e.crc),
            internal: false,
        })
        .collect()
}

/// Checks every ksym()/kernel() require of `packages` against the Provides
/// of all of them plus `extra_provides` (a kernel given as symvers; label
/// `extra_label`). `payload_exports` maps a symbol to modules exporting it
/// in the packages' payloads (may be empty; used only to explain failures).
pub fn check(
    packages: &[RpmPackage],
    extra_label: &str,
    extra_provides: &[RpmDep],
    payload_exports: &HashMap<String, Vec<PayloadExport>>,
) -> (usize, Vec<Unresolved>) {
    // capability name -> [(provider, dep)]
    let mut index: BTreeMap<&str, Vec<(String, &RpmDep)>> = BTreeMap::new();
    for p in packages {
        for d in &p.provides {
            index
                .entry(d.name.as_str())
                .or_default()
                .push((p.nevra(), d));
        }
    }
    for d in extra_provides {
        index
            .entry(d.name.as_str())
            .or_default()
            .push((extra_label.to_string(), d));
    }
    let satisfies = |prov: &RpmDep, req: &RpmDep| {
        prov.op == DepOp::Any
            || req.op == DepOp::Any
            || (prov.op == DepOp::Eq && req.op == DepOp::Eq && prov.version == req.version)
    };

    let mut checked = 0;
    let mut findings = Vec::new();
    for p in packages {
        let mut reqs: Vec<&RpmDep> = p
            .requires
            .iter()
            .filter(|r| ksym_parts(&r.name).is_some())
            .collect();
        reqs.sort();
        reqs.dedup();
        for r in reqs {
            checked += 1;
            let provs = index.get(r.name.as_str()).map(Vec::as_slice).unwrap_or(&[]);
            if provs.iter().any(|(_, d)| satisfies(d, r)) {
                continue;
            }
            let Some((prefix, sym)) = ksym_parts(&r.name) else {
                continue; // filtered above: only ksym()/kernel() requires get here
            };
            let other_name =
                r.name
                    .replacen(prefix, if prefix == "ksym" { "kernel" } else { "ksym" }, 1);
            let other_prefix = index
                .get(other_name.as_str())
                .and_then(|v| v.iter().find(|(_, d)| d.version == r.version))
                .map(|(who, d)| (who.clone(), d.to_string()));
            let problem = if provs.is_empty() {
                let want = parse_hex(&r.version);
                let mut in_payload: Vec<PayloadExport> =
                    payload_exports.get(sym).cloned().unwrap_or_default();
                in_payload.retain(|e| e.package != p.nevra());
                // Exports with the required CRC first: they are the likely intended provider.
                in_payload.sort_by_key(|e| (e.crc != want, e.package.clone(), e.module.clone()));
                Problem::NoProvider { in_payload }
            } else {
                Problem::CrcMismatch {
                    providers: provs
                        .iter()
                        .map(|(w, d)| (w.clone(), d.to_string()))
                        .collect(),
                }
            };
            findings.push(Unresolved {
                package: p.nevra(),
                require: r.to_string(),
                problem,
                other_prefix,
            });
        }
    }
    (checked, findings)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dep(name: &str, v: &str) -> RpmDep {
        RpmDep {
            name: name.into(),
            op: if v.is_empty() { DepOp::Any } else { DepOp::Eq },
            version: v.into(),
            internal: false,
        }
    }

    fn pkg(name: &str, provides: Vec<RpmDep>, requires: Vec<RpmDep>) -> RpmPackage {
        RpmPackage {
            path: name.into(),
            name: name.into(),
            epoch: None,
            version: "1".into(),
            release: "1".into(),
            arch: "x86_64".into(),
            is_source: false,
            provides,
            requires,
            conflicts: vec![],
            obsoletes: vec![],
            supplements: vec![],
            files: vec![],
            payload_compressor: "gzip".into(),
            post_install: None,
        }
    }

    #[test]
    fn iml_1226_crc_mismatch_vs_no_provider() {
        // whamcloud/integrated-manager-for-lustre #1226 CRC pairs.
        let osd = pkg(
            "kmod-lustre-osd-zfs",
            vec![],
            vec![
                dep("ksym(dmu_tx_abort)", "0x35bb1699"),
                dep("ksym(dmu_tx_commit)", "0x00000001"),
                dep("kernel(printk)", "0x1111aaaa"),
            ],
        );
        let zfs = pkg(
            "kmod-zfs",
            vec![dep("ksym(dmu_tx_abort)", "0xb8455fc1")],
            vec![],
        );
        let kernel = vec![dep("kernel(printk)", "0x1111aaaa")];
        let (n, f) = check(&[osd, zfs], "kernel", &kernel, &HashMap::new());
        assert_eq!(n, 3);
        assert_eq!(f.len(), 2);
        assert_eq!(f[0].require, "ksym(dmu_tx_abort) = 0x35bb1699");
        assert_eq!(
            f[0].problem,
            Problem::CrcMismatch {
                providers: vec![(
                    "kmod-zfs-1-1.x86_64".into(),
                    "ksym(dmu_tx_abort) = 0xb8455fc1".into()
                )]
            }
        );
        assert!(f[0].to_string().contains(
            "CRC mismatch: kmod-zfs-1-1.x86_64 provides ksym(dmu_tx_abort) = 0xb8455fc1"
        ));
        assert_eq!(f[1].problem, Problem::NoProvider { in_payload: vec![] });
        assert!(f[1]
            .to_string()
            .ends_with("no provider: no package provides ksym(dmu_tx_commit)"));
    }

    #[test]
    fn provider_without_ksym_provides_is_named() {
        let osd = pkg(
            "kmod-lustre-osd-zfs",
            vec![],
            vec![dep("ksym(dmu_tx_commit)", "0x12345678")],
        );
        let zfs = pkg("kmod-zfs", vec![], vec![]);
        let mut pe = HashMap::new();
        pe.insert(
            "dmu_tx_commit".to_string(),
            vec![PayloadExport {
                package: "kmod-zfs-1-1.x86_64".into(),
                module: "/lib/modules/k/extra/zfs.ko".into(),
                crc: Some(0x12345678),
            }],
        );
        let (_, f) = check(&[osd, zfs], "kernel", &[], &pe);
        let msg = f[0].to_string();
        assert!(msg.contains("kmod-zfs-1-1.x86_64 contains /lib/modules/k/extra/zfs.ko exporting it (CRC 0x12345678)"), "{msg}");
        assert!(msg.contains("built without ksym() Provides"));
    }

    #[test]
    fn kernel_prefix_hint_and_suse_names() {
        let m = pkg("kmod-m", vec![], vec![dep("ksym(printk)", "0x1111aaaa")]);
        let (_, f) = check(
            &[m],
            "kernel-5.14",
            &[dep("kernel(printk)", "0x1111aaaa")],
            &HashMap::new(),
        );
        assert_eq!(
            f[0].other_prefix,
            Some(("kernel-5.14".into(), "kernel(printk) = 0x1111aaaa".into()))
        );
        assert_eq!(ksym_parts("ksym(default:printk)"), Some(("ksym", "printk")));
        assert_eq!(ksym_parts("kmod(x.ko)"), None);
    }
}
