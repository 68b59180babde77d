//! `kmodpack alias`: list a module's device aliases, or say which modules
//! claim a device and through which alias (modprobe's matching rules, see
//! `kmodpack::alias`).

use std::path::PathBuf;
use std::process::ExitCode;

use kmodpack::alias::{self, device, Claim, PciDevice, UsbDevice};
use kmodpack::module::Subject;
use serde::Serialize;

use super::{print, CliResult, Context};

/// Arguments of `kmodpack alias`.
#[derive(Debug, clap::Args)]
#[command(after_long_help = "\
Without a device option, prints the modules' aliases as depmod writes them to modules.alias \
(`alias <pattern> <module>`). With one, prints `<device>\\t<module>\\t<alias>` for every alias \
that matches, or `<device>\\tnot claimed`. Matching is modprobe's: fnmatch(3) patterns \
(`*`, `?`, `[...]`), case-sensitive, against the device string the kernel builds (fixed-width \
uppercase hex); `-` and `_` are equivalent outside brackets. Fields not given (PCI subsystem \
ids, class) only match a `*` in the alias, so \"claimed\" holds for every such device.

Exit status: 0 every device claimed (or aliases listed), 1 some device not claimed, \
2 usage error or unreadable input.")]
pub struct Args {
    /// PCI device VVVV:DDDD or VVVV:DDDD:SVVV:SDDD (hex, as `lspci -nn` shows).
    #[arg(long, value_name = "VVVV:DDDD[:SVVV:SDDD]")]
    pci: Option<String>,
    /// PCI class code CCSSII (base class, subclass, prog-if; hex), alone or with --pci.
    #[arg(long, value_name = "CCSSII")]
    class: Option<String>,
    /// USB device VVVV:PPPP[:BCDDEVICE] (hex).
    #[arg(long, value_name = "VVVV:PPPP[:BCD]")]
    usb: Option<String>,
    /// A complete modalias string, as in /sys/bus/*/devices/*/modalias. Repeatable.
    #[arg(long, value_name = "STRING")]
    modalias: Vec<String>,
    /// Print one JSON document instead of text.
    #[arg(long)]
    json: bool,
    /// Modules: .ko[.gz|.xz|.zst] files, directories (recursive), kmod RPMs.
    #[arg(required = true, value_name = "MODULE|RPM|DIR")]
    inputs: Vec<PathBuf>,
}

#[derive(Serialize)]
struct DeviceJson<'a> {
    device: String,
    claimed: bool,
    claims: &'a [Claim],
}

#[derive(Serialize)]
struct ListJson {
    module: String,
    name: String,
    aliases: Vec<String>,
}

/// Runs `kmodpack alias`.
pub fn run(args: Args, _ctx: &Context) -> CliResult {
    let mut devices = Vec::new();
    if args.pci.is_some() || args.class.is_some() {
        let mut d = match &args.pci {
            Some(p) => PciDevice::parse_ids(p)?,
            None => PciDevice::default(),
        };
        if let Some(c) = &args.class {
            d.class = Some(PciDevice::parse_class(c)?);
        }
        devices.push(d.modalias());
    }
    if let Some(u) = &args.usb {
        devices.push(UsbDevice::parse(u)?.modalias());
    }
    devices.extend(args.modalias.iter().cloned());

    let modules = super::load_modules(&args.inputs)?;
    let subjects: Vec<Subject<'_>> = modules
        .iter()
        .map(|m| Subject {
            label: &m.label,
            module: &m.module,
        })
        .collect();

    if devices.is_empty() {
        let text = if args.json {
            let list: Vec<ListJson> = subjects
                .iter()
                .map(|s| ListJson {
                    module: s.label.to_string(),
                    name: s.kernel_name(),
                    aliases: alias::aliases(s.module)
                        .into_iter()
                        .map(str::to_string)
                        .collect(),
                })
                .collect();
            serde_json::to_string_pretty(&list)? + "\n"
        } else {
            let mut out = String::new();
            for s in &subjects {
                let name = s.kernel_name();
                for a in alias::aliases(s.module) {
                    out.push_str(&format!("alias {a} {name}\n"));
                }
            }
            out
        };
        print(&text)?;
        return Ok(ExitCode::SUCCESS);
    }

    let results: Vec<(String, Vec<Claim>)> = devices
        .iter()
        .map(|d| (d.clone(), alias::claims(d, &subjects)))
        .collect();
    let all_claimed = results.iter().all(|(_, c)| !c.is_empty());
    let text = if args.json {
        let docs: Vec<DeviceJson<'_>> = results
            .iter()
            .map(|(d, c)| DeviceJson {
                device: device::display(d),
                claimed: !c.is_empty(),
                claims: c,
            })
            .collect();
        serde_json::to_string_pretty(&docs)? + "\n"
    } else {
        let mut out = String::new();
        for (d, claims) in &results {
            let shown = device::display(d);
            if claims.is_empty() {
                out.push_str(&format!("{shown}\tnot claimed\n"));
            }
            for c in claims {
                out.push_str(&format!("{shown}\t{}\t{}\n", c.name, c.alias));
            }
        }
        out
    };
    print(&text)?;
    Ok(if all_claimed {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
