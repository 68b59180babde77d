//! `kmodpack kabi check|diff`: will these modules load on that kernel, and
//! what changed between two kernels. Formatting only; the decisions are in
//! `kmodpack::kabi`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::process::ExitCode;

use kmodpack::diag::Listener;
use kmodpack::kabi::{self, CheckOptions, KernelSymbols, LoadedModule, ModuleVerdict, Subject};
use kmodpack::stablelist::Stablelist;
use serde::Serialize;

use super::{print, CliResult, Context};

/// Arguments of `kmodpack kabi`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: KabiCommand,
}

#[derive(Debug, clap::Subcommand)]
enum KabiCommand {
    /// Would the kernel loader accept these modules on these kernels?
    ///
    /// Follows the loader: every undefined symbol must resolve (kernel, other
    /// checked modules, --with providers), each import's CRC must equal the
    /// exporter's (incl. module_layout), namespaces must be imported, GPL-only
    /// exports need a GPL-compatible license, vermagic must agree (when the
    /// kernel's vermagic can be read from one of its modules).
    /// Output: `<module>: <kernel>: compatible` or `... INCOMPATIBLE` followed by
    /// one indented `<name>: <reason>` line per refused symbol, in the kernel's
    /// wording (unknown symbol, disagrees about version of symbol, no symbol
    /// version for, uses symbol ... from namespace ..., GPL-only symbol, version
    /// magic). Kernel symbols outside --stablelist are warnings on stderr.
    ///
    /// Exit status: 0 every module compatible with every kernel, 1 otherwise,
    /// 2 usage error or unreadable input.
    Check(CheckArgs),
    /// Exports removed, added and changed between two kernels.
    ///
    /// One line per symbol, sorted: `- sym\tcrc\texporter` (removed), `+ sym\tcrc\texporter`
    /// (added), `~ sym\t<what changed>` (CRC, EXPORT_SYMBOL[_GPL], namespace,
    /// exporter); with --used-by, followed by `\t(used by <modules>)`.
    ///
    /// Exit status: 0 when no listed change would break a module using the
    /// symbol (only additions), 1 when something was removed or changed its
    /// CRC, GPL-only status or namespace, 2 on errors.
    Diff(DiffArgs),
}

#[derive(Debug, clap::Args)]
struct CheckArgs {
    /// Target kernel: a Module.symvers or symvers-<kver>.gz|.xz, a kernel-devel/headers
    /// directory, /lib/modules/<kver> (or just <kver>), or a kernel RPM (symvers in its
    /// payload, else its kernel(sym) = 0xcrc Provides). Repeat for a verdict per kernel.
    #[arg(long = "kernel", value_name = "TARGET")]
    kernels: Vec<String>,
    /// Check against every kernel installed on this machine (each /lib/modules/<kver>
    /// with a symvers), as weak-modules would, and list the kernels where each module
    /// would be reused.
    #[arg(long)]
    installed: bool,
    /// Modules that will be loaded alongside (other kmods: a .ko, a directory or an
    /// RPM): their exports resolve imports. Repeatable.
    #[arg(long = "with", value_name = "PROVIDER")]
    with: Vec<PathBuf>,
    /// RHEL kABI stablelist (kabi_stablelist_<arch> or Module.kabi_<arch>): kernel
    /// symbols used from outside it are reported as warnings (greylist).
    #[arg(long, value_name = "FILE")]
    stablelist: Option<PathBuf>,
    /// Print one JSON document instead of text.
    #[arg(long)]
    json: bool,
    /// Modules to check: .ko[.gz|.xz|.zst] files, directories (recursive), kmod RPMs.
    #[arg(required = true, value_name = "MODULE|RPM|DIR")]
    inputs: Vec<PathBuf>,
}

#[derive(Debug, clap::Args)]
struct DiffArgs {
    /// The old kernel (same forms as `kabi check --kernel`).
    #[arg(value_name = "OLD")]
    old: String,
    /// The new kernel.
    #[arg(value_name = "NEW")]
    new: String,
    /// Only symbols these modules use (.ko files, directories, kmod RPMs): "which of
    /// my symbols broke".
    #[arg(long = "used-by", value_name = "MODULE|RPM|DIR", num_args = 1..)]
    used_by: Vec<PathBuf>,
    /// Print one JSON document instead of text.
    #[arg(long)]
    json: bool,
}

/// Runs `kmodpack kabi`.
pub fn run(args: Args, ctx: &Context) -> CliResult {
    match args.command {
        KabiCommand::Check(a) => run_check(a, ctx),
        KabiCommand::Diff(a) => run_diff(a, ctx),
    }
}

#[derive(Serialize)]
struct KernelJson<'a> {
    label: &'a str,
    release: Option<&'a str>,
    vermagic: Option<&'a str>,
    source: &'a str,
    symbols: usize,
}

impl<'a> KernelJson<'a> {
    fn new(k: &'a KernelSymbols) -> Self {
        KernelJson {
            label: &k.label,
            release: k.release.as_deref(),
            vermagic: k.vermagic.as_deref(),
            source: &k.source,
            symbols: k.symbols.len(),
        }
    }
}

#[derive(Serialize)]
struct CheckJson<'a> {
    compatible: bool,
    kernels: Vec<KernelJson<'a>>,
    verdicts: &'a [ModuleVerdict],
    /// module label → kernels where it would load.
    reused_by: BTreeMap<&'a str, Vec<&'a str>>,
}

fn subjects(mods: &[LoadedModule]) -> Vec<Subject<'_>> {
    mods.iter()
        .map(|m| Subject {
            label: &m.label,
            module: &m.module,
        })
        .collect()
}

fn run_check(a: CheckArgs, ctx: &Context) -> CliResult {
    let mut specs = a.kernels.clone();
    if a.installed {
        specs.extend(
            kabi::installed_kernels()
                .iter()
                .map(|p| p.display().to_string()),
        );
    }
    if specs.is_empty() {
        return Err(if a.installed {
            "--installed: no installed kernel with a symvers under /lib/modules".into()
        } else {
            "kabi check: give at least one --kernel TARGET (or --installed)".into()
        });
    }
    let kernels = specs
        .iter()
        .map(|s| kabi::resolve(s))
        .collect::<Result<Vec<_>, _>>()?;
    let stablelist = match &a.stablelist {
        Some(p) => Some(Stablelist::read(p).map_err(|e| format!("{}: {e}", p.display()))?),
        None => None,
    };
    let modules = super::load_modules(&a.inputs)?;
    let providers = if a.with.is_empty() {
        Vec::new()
    } else {
        super::load_modules(&a.with)?
    };
    let subj = subjects(&modules);
    let prov = subjects(&providers);
    let options = CheckOptions {
        providers: &prov,
        stablelist: stablelist.as_ref(),
    };

    let mut verdicts = Vec::new();
    for k in &kernels {
        ctx.listener.info(&format!(
            "kernel {}: {} symbols from {}",
            k.label,
            k.symbols.len(),
            k.source
        ));
        for c in k.symbols.conflicts() {
            ctx.listener
                .warning(&format!("kernel {} ({}): {c}", k.label, k.source));
        }
        if k.vermagic.is_none() {
            ctx.listener.info(&format!(
                "kernel {}: vermagic unknown (no module of that kernel to read it from); not checked",
                k.label
            ));
        }
        verdicts.extend(kabi::check(&subj, k, &options));
    }
    for v in &verdicts {
        if !v.greylisted.is_empty() {
            ctx.listener.warning(&format!(
                "{}: {}: {} kernel symbol(s) outside the kABI stablelist: {}",
                v.module,
                v.kernel,
                v.greylisted.len(),
                v.greylisted.join(" ")
            ));
        }
    }
    let compatible = verdicts.iter().all(|v| v.compatible);
    let mut reused_by: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for m in &modules {
        reused_by.entry(m.label.as_str()).or_default();
    }
    for v in verdicts.iter().filter(|v| v.compatible) {
        reused_by
            .entry(v.module.as_str())
            .or_default()
            .push(v.kernel.as_str());
    }

    let text = if a.json {
        let doc = CheckJson {
            compatible,
            kernels: kernels.iter().map(KernelJson::new).collect(),
            verdicts: &verdicts,
            reused_by: reused_by.clone(),
        };
        serde_json::to_string_pretty(&doc)? + "\n"
    } else {
        let mut out = String::new();
        for v in &verdicts {
            if v.compatible {
                out.push_str(&format!("{}: {}: compatible\n", v.module, v.kernel));
            } else {
                out.push_str(&format!("{}: {}: INCOMPATIBLE\n", v.module, v.kernel));
                for p in &v.problems {
                    out.push_str(&format!("  {}: {}\n", v.name, p));
                }
            }
        }
        if a.installed {
            for m in &modules {
                let ks = &reused_by[m.label.as_str()];
                let list = if ks.is_empty() {
                    "none".to_string()
                } else {
                    ks.join(" ")
                };
                out.push_str(&format!("{}: would be reused by: {}\n", m.label, list));
            }
        }
        out
    };
    print(&text)?;
    Ok(if compatible {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

#[derive(Serialize)]
struct DiffJson<'a> {
    old: KernelJson<'a>,
    new: KernelJson<'a>,
    breaking: bool,
    changes: Vec<DiffEntry<'a>>,
}

#[derive(Serialize)]
struct DiffEntry<'a> {
    #[serde(flatten)]
    change: &'a kabi::SymbolChange,
    breaks_users: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    used_by: Vec<&'a str>,
}

fn run_diff(a: DiffArgs, _ctx: &Context) -> CliResult {
    let old = kabi::resolve(&a.old)?;
    let new = kabi::resolve(&a.new)?;
    let users = if a.used_by.is_empty() {
        Vec::new()
    } else {
        super::load_modules(&a.used_by)?
    };
    // symbol → names of the modules using it
    let mut used: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for m in &users {
        let name = m
            .module
            .name()
            .map(str::to_string)
            .unwrap_or_else(|| m.label.clone());
        let syms = m
            .module
            .undefined
            .iter()
            .map(|u| u.name.as_str())
            .chain(m.module.imports.iter().map(|i| i.name.as_str()));
        for s in syms {
            used.entry(s.trim_start_matches('.').to_string())
                .or_default()
                .insert(name.clone());
        }
    }
    let only: Option<BTreeSet<String>> =
        (!a.used_by.is_empty()).then(|| used.keys().cloned().collect());
    let changes = kabi::diff(&old.symbols, &new.symbols, only.as_ref());
    let breaking = changes.iter().any(|c| c.breaks_users());
    let users_of = |sym: &str| -> Vec<&str> {
        used.get(sym)
            .map(|s| s.iter().map(String::as_str).collect())
            .unwrap_or_default()
    };
    let text = if a.json {
        let doc = DiffJson {
            old: KernelJson::new(&old),
            new: KernelJson::new(&new),
            breaking,
            changes: changes
                .iter()
                .map(|c| DiffEntry {
                    change: c,
                    breaks_users: c.breaks_users(),
                    used_by: users_of(&c.symbol),
                })
                .collect(),
        };
        serde_json::to_string_pretty(&doc)? + "\n"
    } else {
        let mut out = String::new();
        for c in &changes {
            out.push_str(&c.to_line());
            let u = users_of(&c.symbol);
            if !u.is_empty() {
                out.push_str(&format!("\t(used by {})", u.join(", ")));
            }
            out.push('\n');
        }
        out
    };
    print(&text)?;
    Ok(if breaking {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
