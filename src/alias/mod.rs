//! Device aliases: does a module drive this device?
//!
//! A module's `alias=` entries in `.modinfo` are fnmatch patterns written by
//! modpost's file2alias; a device's modalias is a fixed-format string. Who
//! claims a device is answered the way modprobe answers it over depmod's
//! `modules.alias`: both sides normalised (`-` → `_` outside brackets) and
//! [`fnmatch`]ed with flags 0. Pure: modules and a device string in,
//! claims out.

pub mod device;
pub mod fnmatch;

use serde::Serialize;

pub use device::{DeviceError, PciDevice, UsbDevice, UNKNOWN};
pub use fnmatch::fnmatch;

use crate::module::KernelModule;
use crate::module::Subject;

/// libkmod's `alias_normalize`: `-` becomes `_` except inside `[...]`;
/// `None` for an unmatched bracket (depmod skips such aliases).
pub fn normalize(alias: &str) -> Option<String> {
    let mut out = String::with_capacity(alias.len());
    let mut chars = alias.chars();
    while let Some(c) = chars.next() {
        match c {
            '-' => out.push('_'),
            ']' => return None,
            '[' => {
                out.push('[');
                loop {
                    match chars.next() {
                        Some(']') => {
                            out.push(']');
                            break;
                        }
                        Some(x) => out.push(x),
                        None => return None,
                    }
                }
            }
            c => out.push(c),
        }
    }
    Some(out)
}

/// The `alias=` patterns of a module, in `.modinfo` order.
pub fn aliases(module: &KernelModule) -> Vec<&str> {
    module.modinfo.get_all("alias").collect()
}

/// One module claiming a device through one alias.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Claim {
    /// The module's label (path).
    pub module: String,
    /// Its name as modprobe prints it.
    pub name: String,
    /// The alias pattern that matched, as written in the module.
    pub alias: String,
}

/// Every (module, alias) whose pattern matches `device` (a modalias string,
/// possibly with [`UNKNOWN`] fields). Modules in input order, aliases in
/// `.modinfo` order.
pub fn claims(device: &str, modules: &[Subject<'_>]) -> Vec<Claim> {
    let dev = normalize(device).unwrap_or_else(|| device.to_string());
    let mut out = Vec::new();
    for s in modules {
        for a in aliases(s.module) {
            let Some(pat) = normalize(a) else { continue };
            if fnmatch(&pat, &dev) {
                out.push(Claim {
                    module: s.label.to_string(),
                    name: s.kernel_name(),
                    alias: a.to_string(),
                });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::normalize;

    #[test]
    fn normalize_like_libkmod() {
        assert_eq!(normalize("usb:v-x[a-b]-").as_deref(), Some("usb:v_x[a-b]_"));
        assert_eq!(normalize("a]"), None);
        assert_eq!(normalize("a[b"), None);
    }
}
