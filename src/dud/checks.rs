//! The preflight's module checks, answered by the `kabi` and `alias`
//! libraries: the same loader verdict `kmodpack kabi check` prints and the
//! same alias matching as `kmodpack alias`, so a disk is never judged by a
//! second, diverging implementation.

use crate::module::KernelModule;

use super::preflight::ModuleChecks;

/// The kABI and alias checks, through the library APIs of `kabi check`
/// and `alias` (the same decisions those subcommands print).
pub struct KabiAliasChecks {
    /// The installer kernel's symbols (`None`: kABI not checked).
    pub kernel: Option<crate::kabi::KernelSymbols>,
}

impl ModuleChecks for KabiAliasChecks {
    fn kabi(&self, module: &KernelModule, disk: &[&KernelModule]) -> Option<Vec<String>> {
        use crate::kabi::{check, CheckOptions, Subject};
        let kernel = self.kernel.as_ref()?;
        let label = module.name().unwrap_or("module").to_string();
        let others: Vec<String> = disk
            .iter()
            .map(|m| m.name().unwrap_or("module").to_string())
            .collect();
        let providers: Vec<Subject<'_>> = disk
            .iter()
            .zip(&others)
            .filter(|(m, _)| !std::ptr::eq(**m, module))
            .map(|(m, l)| Subject {
                label: l,
                module: m,
            })
            .collect();
        let verdicts = check(
            &[Subject {
                label: &label,
                module,
            }],
            kernel,
            &CheckOptions {
                providers: &providers,
                stablelist: None,
            },
        );
        Some(
            verdicts
                .into_iter()
                .flat_map(|v| {
                    v.problems
                        .into_iter()
                        .map(move |p| format!("would not load on {}: {p}", v.kernel))
                })
                .collect(),
        )
    }

    fn in_box(&self, name: &str) -> Option<bool> {
        let kernel = self.kernel.as_ref()?;
        (!kernel.modules.is_empty()).then(|| {
            kernel
                .modules
                .binary_search_by(|m| m.as_str().cmp(name))
                .is_ok()
        })
    }

    fn claims_pci(&self, module: &KernelModule, id: &str) -> Option<bool> {
        let dev = crate::alias::PciDevice::parse_ids(id).ok()?;
        let label = module.name().unwrap_or("module");
        Some(
            !crate::alias::claims(&dev.modalias(), &[crate::module::Subject { label, module }])
                .is_empty(),
        )
    }
}
