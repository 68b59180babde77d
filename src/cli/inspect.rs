//! `kmodpack inspect`: what a kernel module contains.
//!
//! Three views: a readable report, `--json` for machines, and
//! `--modversions`, which prints exactly what `modprobe --dump-modversions`
//! prints — except that kmodpack also reads extended modversions (6.14+),
//! which kmod cannot.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use kmodpack::module::{self, modversions, KernelModule, ModversionsSource};

use super::{CliResult, Context};

/// Arguments of `kmodpack inspect`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Print a JSON array with one object per file (path, ELF facts,
    /// modinfo, imports, undefined symbols, exports, signature).
    #[arg(long, conflicts_with = "modversions")]
    pub json: bool,

    /// Print only the versioned imports, one `0x%08x<TAB>name` line each in
    /// file order: the text of `modprobe --dump-modversions`.
    #[arg(long)]
    pub modversions: bool,

    /// Module files (`.ko`, `.ko.gz`, `.ko.xz`, `.ko.zst`; detected by content), or
    /// kmod RPMs (every module in the payload).
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
}

#[derive(serde::Serialize)]
struct JsonEntry<'a> {
    path: String,
    #[serde(flatten)]
    module: &'a KernelModule,
}

/// Runs `kmodpack inspect`.
pub fn run(args: Args, _ctx: &Context) -> CliResult {
    // Read everything first: a bad file stops us before any output. An RPM
    // shows the modules in its payload, labelled `package.rpm:/path`.
    let mut modules = Vec::with_capacity(args.files.len());
    let mut labels = Vec::with_capacity(args.files.len());
    for f in &args.files {
        if kmodpack::kabi::is_rpm_file(f) {
            for m in super::load_modules(std::slice::from_ref(f))? {
                labels.push(m.label);
                modules.push(m.module);
            }
        } else {
            modules.push(module::read(f)?);
            labels.push(f.display().to_string());
        }
    }
    let out = if args.modversions {
        modules
            .iter()
            .map(|m| modversions::dump(&m.imports))
            .collect::<String>()
    } else if args.json {
        let entries: Vec<JsonEntry> = labels
            .iter()
            .zip(&modules)
            .map(|(p, m)| JsonEntry {
                path: p.clone(),
                module: m,
            })
            .collect();
        let mut s = serde_json::to_string_pretty(&entries)?;
        s.push('\n');
        s
    } else {
        let mut s = String::new();
        for (i, (p, m)) in labels.iter().zip(&modules).enumerate() {
            if i > 0 {
                s.push('\n');
            }
            s.push_str(&report(p, m));
        }
        s
    };
    super::print(&out)?;
    Ok(ExitCode::SUCCESS)
}

/// The human-readable report for one module.
fn report(path: &str, m: &KernelModule) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "{path}");
    let comp = match m.compression {
        module::Compression::None => String::new(),
        c => format!(", {}-compressed", &c.suffix()[1..]),
    };
    let _ = writeln!(
        s,
        "  elf:          ELF{} {}-endian {}{comp}, {} bytes",
        m.elf.bits,
        if m.elf.big_endian { "big" } else { "little" },
        m.elf.arch(),
        m.elf_len
    );
    for key in [
        "name",
        "vermagic",
        "license",
        "version",
        "description",
        "depends",
        "import_ns",
    ] {
        let vals: Vec<&str> = m.modinfo.get_all(key).collect();
        if !vals.is_empty() {
            let _ = writeln!(s, "  {:<13} {}", format!("{key}:"), vals.join(", "));
        }
    }
    match &m.signature {
        None => {
            let _ = writeln!(s, "  signature:    none");
        }
        Some(sig) => {
            let _ = writeln!(
                s,
                "  signature:    {}, signer {:?}, key {}, hash {}, {} bytes",
                sig.id_type.as_str(),
                sig.signer.as_deref().unwrap_or("?"),
                sig.key_id.as_deref().unwrap_or("?"),
                sig.hash_algo.as_deref().unwrap_or("?"),
                sig.sig_len
            );
        }
    }
    let _ = writeln!(s, "  modinfo ({} entries):", m.modinfo.entries.len());
    for (k, v) in &m.modinfo.entries {
        let _ = writeln!(s, "    {k}={v}");
    }
    let source = match m.modversions {
        ModversionsSource::None => "none: built without CONFIG_MODVERSIONS",
        ModversionsSource::Basic => "__versions",
        ModversionsSource::Variable => "__versions, variable-length records",
        ModversionsSource::Extended => "extended modversions",
    };
    let _ = writeln!(s, "  imports ({}, {source}):", m.imports.len());
    for i in &m.imports {
        let _ = writeln!(s, "    0x{:08x}  {}", i.crc, i.name);
    }
    let _ = writeln!(s, "  exports ({}):", m.exports.len());
    for e in &m.exports {
        let crc = e
            .crc
            .map(|c| format!("0x{c:08x}"))
            .unwrap_or_else(|| "(no crc)  ".into());
        let ns = e
            .namespace
            .as_deref()
            .map(|n| format!("  namespace {n}"))
            .unwrap_or_default();
        let _ = writeln!(s, "    {crc}  {}  {}{ns}", e.name, e.kind.as_str());
    }
    let weak = m.undefined.iter().filter(|u| u.weak).count();
    let _ = writeln!(
        s,
        "  undefined symbols: {} ({weak} weak)",
        m.undefined.len()
    );
    s
}
