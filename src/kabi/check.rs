//! The loader's verdict: would the target kernel accept this module?
//!
//! Pure: modules and a [`KernelSymbols`] in, one [`ModuleVerdict`] per module out.
//! The rules mirror `kernel/module/` (main.c `resolve_symbol`, version.c
//! `check_version`, `same_magic`, namespace.c), in the same order per symbol
//! so that the reason reported is the one the kernel would log:
//! 1. lookup — a GPL-only export is invisible to a non-GPL module, a
//!    missing non-weak symbol is "Unknown symbol";
//! 2. CRC — the module's `__versions` CRC must equal the exporter's; a
//!    versioned module that lacks an entry for a versioned export is refused
//!    by the 6.1 kernel ("no symbol version for", verified by the qemu test);
//! 3. namespace — the exporter's namespace must be in `import_ns`.
//!
//! `module_layout` is checked like an import when the module lists it and
//! the kernel exports it (`check_modstruct_version`). Vermagic is compared
//! after the first word when the module has modversions, whole otherwise.
//!
//! Symbols are looked up in this order: the kernel image (`vmlinux`
//! entries), then the other modules being checked and the `--with`
//! providers, then the kernel's own modules — so a kmod that replaces an
//! in-tree module provides its own exports, as it would once installed.

use std::collections::{BTreeSet, HashMap};
use std::fmt;

use serde::Serialize;

use super::KernelSymbols;
use crate::module::{self, ExportKind};
use crate::stablelist::Stablelist;

pub use crate::module::Subject;

/// Extra inputs of [`check`].
#[derive(Debug, Clone, Copy, Default)]
pub struct CheckOptions<'a> {
    /// Modules that will be loaded alongside (other kmods): their exports
    /// resolve imports but they get no verdict.
    pub providers: &'a [Subject<'a>],
    /// RHEL kABI stablelist: kernel symbols used from outside it are
    /// reported in [`ModuleVerdict::greylisted`] (a warning, not a failure).
    pub stablelist: Option<&'a Stablelist>,
}

/// Why the kernel would refuse a module. Variants name the loader's check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum Reason {
    /// No exporter of a non-weak undefined symbol ("Unknown symbol").
    UnknownSymbol,
    /// CRC mismatch ("disagrees about version of symbol").
    DisagreesAboutVersion {
        /// CRC recorded in the module's `__versions`.
        module_crc: u32,
        /// CRC of the export in the target.
        kernel_crc: u32,
        /// Who exports it (`vmlinux`, a module path, a provider label).
        provider: String,
    },
    /// The export is versioned but the module has no CRC for it
    /// ("no symbol version for").
    NoSymbolVersion {
        /// Who exports it.
        provider: String,
    },
    /// The export lives in a namespace the module does not import.
    NamespaceNotImported {
        /// The export's namespace.
        namespace: String,
        /// Who exports it.
        provider: String,
    },
    /// A GPL-only export used by a module whose license is not GPL-compatible.
    GplOnly {
        /// The module's `license=` (empty when absent).
        license: String,
        /// Who exports it.
        provider: String,
    },
    /// vermagic does not match the kernel's.
    Vermagic {
        /// The module's vermagic (empty when absent).
        module: String,
        /// The kernel's.
        kernel: String,
    },
    /// The module carries no CRCs but the kernel is versioned (weak-modules
    /// refuses to reuse such a module; the kernel needs a forced load).
    NoModversions,
}

/// One reason a module would be refused, with the symbol concerned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// The symbol (`None` for vermagic / missing modversions).
    pub symbol: Option<String>,
    /// What is wrong.
    #[serde(flatten)]
    pub reason: Reason,
}

impl fmt::Display for Problem {
    /// The kernel's wording where it has one, plus the facts behind it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sym = self.symbol.as_deref().unwrap_or("");
        match &self.reason {
            Reason::UnknownSymbol => write!(f, "unknown symbol {sym}"),
            Reason::DisagreesAboutVersion { module_crc, kernel_crc, provider } => write!(
                f,
                "disagrees about version of symbol {sym} (module 0x{module_crc:08x}, {provider} 0x{kernel_crc:08x})"
            ),
            Reason::NoSymbolVersion { provider } => {
                write!(f, "no symbol version for {sym} (versioned export of {provider})")
            }
            Reason::NamespaceNotImported { namespace, provider } => {
                write!(f, "uses symbol {sym} from namespace {namespace} ({provider}), but does not import it")
            }
            Reason::GplOnly { license, provider } => {
                let lic = if license.is_empty() { "no license" } else { license };
                write!(f, "GPL-only symbol {sym} ({provider}) used by a module with license \"{lic}\"")
            }
            Reason::Vermagic { module, kernel } => {
                write!(f, "version magic '{module}' should be '{kernel}'")
            }
            Reason::NoModversions => {
                write!(f, "module has no symbol versions (__versions) but the kernel is versioned")
            }
        }
    }
}

/// The verdict for one module on one kernel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ModuleVerdict {
    /// The module's label (path).
    pub module: String,
    /// The module's name as the kernel sees it.
    pub name: String,
    /// The kernel's label.
    pub kernel: String,
    /// True when nothing in `problems`.
    pub compatible: bool,
    /// Every reason for refusal, in symbol order (vermagic first).
    pub problems: Vec<Problem>,
    /// Kernel-image symbols the module uses that are outside the stablelist.
    pub greylisted: Vec<String>,
    /// Checks that could not be made (e.g. vermagic unknown).
    pub notes: Vec<String>,
}

/// Undefined symbols modpost itself ignores (`ignore_undef_symbol`): they
/// are resolved by the loader or the linker, never exported.
fn ignored(name: &str) -> bool {
    matches!(
        name,
        "__this_module" | "_GLOBAL_OFFSET_TABLE_" | ".TOC." | "TOC."
    ) || [
        "_savegpr",
        "_restgpr",
        "_savevr_",
        "_restvr_",
        "__s390_indirect_jump_r",
    ]
    .iter()
    .any(|p| name.starts_with(p))
}

/// Where a symbol was found.
struct Found<'a> {
    crc: Option<u32>,
    kind: ExportKind,
    namespace: Option<&'a str>,
    provider: &'a str,
    vmlinux: bool,
}

/// Exports of the modules being checked and of the providers.
struct ModuleExports<'a> {
    /// symbol → (index of the subject in `all`, export)
    map: HashMap<&'a str, (usize, Found<'a>)>,
}

impl<'a> ModuleExports<'a> {
    fn new(all: &[Subject<'a>]) -> ModuleExports<'a> {
        let mut map = HashMap::new();
        for (i, s) in all.iter().enumerate() {
            for e in &s.module.exports {
                map.entry(e.name.as_str()).or_insert((
                    i,
                    Found {
                        crc: e.crc,
                        kind: e.kind,
                        namespace: e.namespace.as_deref(),
                        provider: s.label,
                        vmlinux: false,
                    },
                ));
            }
        }
        ModuleExports { map }
    }
}

/// Is the module's name matched by a `module:<pattern>[,<pattern>]`
/// namespace (recent kernels; tail-glob `*` only)?
fn module_namespace_matches(ns: &str, name: &str) -> bool {
    let Some(patterns) = ns.strip_prefix("module:") else {
        return false;
    };
    patterns.split(',').any(|p| match p.strip_suffix('*') {
        Some(prefix) => name.starts_with(prefix),
        None => p == name,
    })
}

/// `same_magic`: with modversions the first word (the release) is skipped.
fn same_magic(module: &str, kernel: &str, has_crcs: bool) -> bool {
    if has_crcs {
        let tail = |s: &str| s.find(' ').map(|i| s[i..].to_string()).unwrap_or_default();
        tail(module) == tail(kernel)
    } else {
        module == kernel
    }
}

/// Checks every module of `modules` against `kernel`. The modules resolve
/// each other's imports (they are installed together). Pure: no I/O.
pub fn check(
    modules: &[Subject<'_>],
    kernel: &KernelSymbols,
    options: &CheckOptions<'_>,
) -> Vec<ModuleVerdict> {
    let all: Vec<Subject<'_>> = modules
        .iter()
        .chain(options.providers.iter())
        .copied()
        .collect();
    let exports = ModuleExports::new(&all);
    let versioned = kernel.is_versioned();
    modules
        .iter()
        .enumerate()
        .map(|(i, s)| check_one(i, s, kernel, versioned, &exports, options.stablelist))
        .collect()
}

fn check_one(
    index: usize,
    subject: &Subject<'_>,
    kernel: &KernelSymbols,
    versioned: bool,
    exports: &ModuleExports<'_>,
    stablelist: Option<&Stablelist>,
) -> ModuleVerdict {
    let m = subject.module;
    let name = subject.kernel_name();
    let mut problems = Vec::new();
    let mut notes = Vec::new();
    let mut greylisted = BTreeSet::new();
    let has_crcs = m.has_modversions();

    match (&kernel.vermagic, m.vermagic()) {
        (Some(kv), Some(mv)) if !same_magic(mv, kv, has_crcs) => problems.push(Problem {
            symbol: None,
            reason: Reason::Vermagic {
                module: mv.to_string(),
                kernel: kv.clone(),
            },
        }),
        (Some(kv), None) => problems.push(Problem {
            symbol: None,
            reason: Reason::Vermagic {
                module: String::new(),
                kernel: kv.clone(),
            },
        }),
        (None, _) => notes.push(format!(
            "vermagic not checked: not known for {}",
            kernel.label
        )),
        _ => {}
    }
    if versioned && !has_crcs {
        problems.push(Problem {
            symbol: None,
            reason: Reason::NoModversions,
        });
    }

    // What must resolve: undefined symbols (weak ones may stay unresolved)
    // plus module_layout when the module lists it.
    let mut deps: Vec<(&str, bool)> = Vec::new();
    for u in &m.undefined {
        let n = u.name.strip_prefix('.').unwrap_or(&u.name);
        if !ignored(&u.name) && !ignored(n) {
            deps.push((n, u.weak));
        }
    }
    if versioned && has_crcs && kernel.symbols.get("module_layout").is_some() {
        deps.push(("module_layout", false));
    }
    deps.sort();
    deps.dedup_by(|a, b| {
        a.0 == b.0 && {
            b.1 &= a.1;
            true
        }
    });

    let license = m.license().unwrap_or("");
    let gpl_ok = module::license_is_gpl_compatible(license);
    let imported_ns: BTreeSet<&str> = m.modinfo.get_all("import_ns").collect();

    // The module's own CRCs, sorted for lookup (modules import hundreds).
    let mut crcs: Vec<(&str, u32)> = m.imports.iter().map(|i| (i.name.as_str(), i.crc)).collect();
    crcs.sort_unstable();
    let import_crc = |sym: &str| {
        crcs.binary_search_by(|(n, _)| (*n).cmp(sym))
            .ok()
            .map(|i| crcs[i].1)
    };

    for (sym, weak) in deps {
        let kernel_entry = kernel.symbols.get(sym);
        let from_kernel = |vmlinux_only: bool| {
            kernel_entry
                .filter(|e| e.is_vmlinux() || !vmlinux_only)
                .map(|e| Found {
                    crc: if versioned { Some(e.crc) } else { None },
                    kind: e.kind,
                    namespace: e.namespace.as_deref(),
                    provider: e.module.as_str(),
                    vmlinux: e.is_vmlinux(),
                })
        };
        let from_modules = || {
            exports
                .map
                .get(sym)
                .filter(|(owner, _)| *owner != index)
                .map(|(_, f)| Found {
                    crc: f.crc,
                    kind: f.kind,
                    namespace: f.namespace,
                    provider: f.provider,
                    vmlinux: false,
                })
        };
        let found = from_kernel(true)
            .or_else(from_modules)
            .or_else(|| from_kernel(false));
        let problem = |reason| Problem {
            symbol: Some(sym.to_string()),
            reason,
        };
        let Some(found) = found else {
            if !weak {
                problems.push(problem(Reason::UnknownSymbol));
            }
            continue;
        };
        if found.kind.is_gpl_only() && !gpl_ok {
            problems.push(problem(Reason::GplOnly {
                license: license.to_string(),
                provider: found.provider.to_string(),
            }));
            continue;
        }
        if let (Some(crc), true) = (found.crc, has_crcs) {
            match import_crc(sym) {
                Some(mine) if mine == crc => {}
                Some(mine) => {
                    problems.push(problem(Reason::DisagreesAboutVersion {
                        module_crc: mine,
                        kernel_crc: crc,
                        provider: found.provider.to_string(),
                    }));
                    continue;
                }
                None => {
                    problems.push(problem(Reason::NoSymbolVersion {
                        provider: found.provider.to_string(),
                    }));
                    continue;
                }
            }
        }
        if let Some(ns) = found.namespace {
            if !imported_ns.contains(ns) && !module_namespace_matches(ns, &name) {
                problems.push(problem(Reason::NamespaceNotImported {
                    namespace: ns.to_string(),
                    provider: found.provider.to_string(),
                }));
                continue;
            }
        }
        if let Some(list) = stablelist {
            if found.vmlinux && sym != "module_layout" && !list.contains(sym) {
                greylisted.insert(sym.to_string());
            }
        }
    }

    ModuleVerdict {
        module: subject.label.to_string(),
        name,
        kernel: kernel.label.clone(),
        compatible: problems.is_empty(),
        problems,
        greylisted: greylisted.into_iter().collect(),
        notes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::module::{
        Compression, ElfInfo, Export, Import, KernelModule, Modinfo, ModversionsSource,
        UndefinedSymbol,
    };
    use crate::symvers::{Symvers, SymversEntry};

    const MAGIC: &str = "6.1.0-56-amd64 SMP preempt mod_unload modversions ";

    fn module(
        name: &str,
        imports: &[(&str, u32)],
        undefined: &[(&str, bool)],
        exports: &[(&str, Option<u32>)],
    ) -> KernelModule {
        KernelModule {
            elf: ElfInfo {
                bits: 64,
                big_endian: false,
                machine: 62,
                file_type: 1,
            },
            compression: Compression::None,
            modinfo: Modinfo {
                entries: vec![
                    ("license".into(), "GPL".into()),
                    ("name".into(), name.into()),
                    ("vermagic".into(), MAGIC.into()),
                ],
            },
            modversions: if imports.is_empty() {
                ModversionsSource::None
            } else {
                ModversionsSource::Basic
            },
            imports: imports
                .iter()
                .map(|(n, c)| Import {
                    name: n.to_string(),
                    crc: *c,
                })
                .collect(),
            undefined: undefined
                .iter()
                .map(|(n, w)| UndefinedSymbol {
                    name: n.to_string(),
                    weak: *w,
                })
                .collect(),
            exports: exports
                .iter()
                .map(|(n, c)| Export {
                    name: n.to_string(),
                    crc: *c,
                    kind: ExportKind::Plain,
                    namespace: None,
                })
                .collect(),
            signature: None,
            elf_len: 0,
        }
    }

    fn kernel(entries: &[(&str, u32, &str, Option<&str>)]) -> KernelSymbols {
        let e = entries
            .iter()
            .map(|(n, c, m, ns)| SymversEntry {
                crc: *c,
                name: n.to_string(),
                module: m.to_string(),
                kind: ExportKind::Plain,
                namespace: ns.map(str::to_string),
            })
            .collect();
        let mut k = KernelSymbols::from_symvers("k", Symvers::from_entries(e));
        k.vermagic = Some(MAGIC.into());
        k
    }

    fn one(m: &KernelModule, k: &KernelSymbols, providers: &[Subject<'_>]) -> ModuleVerdict {
        let options = CheckOptions {
            providers,
            stablelist: None,
        };
        check(
            &[Subject {
                label: "m.ko",
                module: m,
            }],
            k,
            &options,
        )
        .remove(0)
    }

    fn reasons(v: &ModuleVerdict) -> Vec<(Option<&str>, &Reason)> {
        v.problems
            .iter()
            .map(|p| (p.symbol.as_deref(), &p.reason))
            .collect()
    }

    #[test]
    fn weak_missing_is_fine_strong_missing_is_not() {
        let k = kernel(&[
            ("module_layout", 1, "vmlinux", None),
            ("a", 2, "vmlinux", None),
        ]);
        let m = module(
            "m",
            &[("module_layout", 1), ("a", 2)],
            &[
                ("a", false),
                ("w", true),
                ("s", false),
                ("__this_module", false),
            ],
            &[],
        );
        let v = one(&m, &k, &[]);
        assert_eq!(reasons(&v), vec![(Some("s"), &Reason::UnknownSymbol)]);
    }

    #[test]
    fn module_layout_is_checked() {
        let k = kernel(&[("module_layout", 1, "vmlinux", None)]);
        let m = module("m", &[("module_layout", 9)], &[], &[]);
        let v = one(&m, &k, &[]);
        assert_eq!(v.problems.len(), 1);
        assert_eq!(v.problems[0].symbol.as_deref(), Some("module_layout"));
        assert!(matches!(
            v.problems[0].reason,
            Reason::DisagreesAboutVersion {
                module_crc: 9,
                kernel_crc: 1,
                ..
            }
        ));
    }

    #[test]
    fn provider_replaces_in_tree_module_but_not_vmlinux() {
        // The kmod was built against the provider's zfs_x (CRC 7), the
        // in-tree copy exports CRC 5: the provider wins.
        let k = kernel(&[
            ("zfs_x", 5, "extra/zfs", None),
            ("printk", 3, "vmlinux", None),
        ]);
        let prov = module("zfs", &[], &[], &[("zfs_x", Some(7)), ("printk", Some(8))]);
        let m = module(
            "m",
            &[("zfs_x", 7), ("printk", 3)],
            &[("zfs_x", false), ("printk", false)],
            &[],
        );
        let providers = [Subject {
            label: "zfs.ko",
            module: &prov,
        }];
        assert!(one(&m, &k, &providers).compatible);
        // A kmod cannot replace a vmlinux symbol.
        let m2 = module(
            "m",
            &[("zfs_x", 7), ("printk", 8)],
            &[("printk", false)],
            &[],
        );
        assert!(!one(&m2, &k, &providers).compatible);
    }

    #[test]
    fn unversioned_exporter_and_unversioned_kernel() {
        let k = kernel(&[("module_layout", 1, "vmlinux", None)]);
        // Provider without CRCs: nothing to compare (the kernel accepts).
        let prov = module("p", &[], &[], &[("p_fn", None)]);
        let m = module("m", &[("module_layout", 1)], &[("p_fn", false)], &[]);
        assert!(
            one(
                &m,
                &k,
                &[Subject {
                    label: "p.ko",
                    module: &prov
                }]
            )
            .compatible
        );
        // Versioned provider but no CRC in the module: refused.
        let prov = module("p", &[], &[], &[("p_fn", Some(4))]);
        let v = one(
            &m,
            &k,
            &[Subject {
                label: "p.ko",
                module: &prov,
            }],
        );
        assert_eq!(
            reasons(&v),
            vec![(
                Some("p_fn"),
                &Reason::NoSymbolVersion {
                    provider: "p.ko".into()
                }
            )]
        );
        // A kernel without MODVERSIONS checks no CRCs, and a module without
        // __versions is only refused by a versioned kernel.
        let k0 = kernel(&[("a", 0, "vmlinux", None)]);
        let m0 = module("m", &[], &[("a", false)], &[]);
        assert!(one(&m0, &k0, &[]).compatible);
        let k1 = kernel(&[("a", 3, "vmlinux", None)]);
        assert_eq!(
            reasons(&one(&m0, &k1, &[])),
            vec![(None, &Reason::NoModversions)]
        );
    }

    #[test]
    fn namespaces_and_module_patterns() {
        let k = kernel(&[
            ("x", 1, "vmlinux", Some("NS")),
            ("y", 2, "vmlinux", Some("module:kvm*")),
        ]);
        let mut m = module(
            "kvm_intel",
            &[("x", 1), ("y", 2)],
            &[("x", false), ("y", false)],
            &[],
        );
        let v = one(&m, &k, &[]);
        assert_eq!(v.problems.len(), 1);
        assert!(
            matches!(&v.problems[0].reason, Reason::NamespaceNotImported { namespace, .. } if namespace == "NS")
        );
        m.modinfo.entries.push(("import_ns".into(), "NS".into()));
        assert!(one(&m, &k, &[]).compatible);
    }

    #[test]
    fn vermagic_with_and_without_modversions() {
        let mut k = kernel(&[("a", 0, "vmlinux", None)]);
        k.vermagic = Some("6.1.0-99-amd64 SMP preempt mod_unload modversions ".into());
        let mut m = module("m", &[("a", 0)], &[("a", false)], &[]);
        assert!(
            one(&m, &k, &[]).compatible,
            "release differs, flags equal, module versioned"
        );
        m.modversions = ModversionsSource::None;
        m.imports.clear();
        assert!(matches!(
            reasons(&one(&m, &k, &[]))[..],
            [(None, Reason::Vermagic { .. })]
        ));
        k.vermagic = None;
        let v = one(&m, &k, &[]);
        assert!(v.compatible && v.notes.len() == 1);
    }

    #[test]
    fn same_magic_skips_release_only_with_crcs() {
        let a = "6.1.0-56-amd64 SMP preempt mod_unload modversions ";
        let b = "6.1.0-57-amd64 SMP preempt mod_unload modversions ";
        assert!(same_magic(a, b, true));
        assert!(!same_magic(a, b, false));
        assert!(!same_magic(
            a,
            "6.1.0-56-amd64 SMP mod_unload modversions ",
            true
        ));
    }

    #[test]
    fn module_namespaces() {
        assert!(module_namespace_matches("module:kvm*,vfio", "kvm_intel"));
        assert!(module_namespace_matches("module:kvm*,vfio", "vfio"));
        assert!(!module_namespace_matches("module:kvm*,vfio", "vfio_pci"));
        assert!(!module_namespace_matches("USB_STORAGE", "uas"));
    }
}
