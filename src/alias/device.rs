//! Device-side modalias strings, built exactly as the kernel prints them in
//! uevents and sysfs (`kernel-module-format.md` §8.2): fixed-width
//! uppercase hex. Case matters to fnmatch, so these are the only strings
//! the alias patterns are ever matched against.
//!
//! A field the user did not give (PCI subsystem ids, class) is written as
//! [`UNKNOWN`], a character no hex digit equals: only a `*` in the alias can
//! match it. So "claimed" means claimed for every device consistent with
//! what was given — never a guess.

use std::fmt::Write;

/// Stands for a field whose value was not given.
pub const UNKNOWN: char = '\u{1}';

/// Why a device description could not be parsed.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DeviceError {
    /// Not `VVVV:DDDD[:SVVV:SDDD]` with 1–4 hex digits each.
    #[error("bad PCI id {0:?}: expected VVVV:DDDD or VVVV:DDDD:SVVV:SDDD (hex)")]
    BadPci(String),
    /// Not `VVVV:PPPP[:BCD]`.
    #[error("bad USB id {0:?}: expected VVVV:PPPP or VVVV:PPPP:BCDDEVICE (hex)")]
    BadUsb(String),
    /// Not 6 hex digits.
    #[error("bad PCI class {0:?}: expected 6 hex digits CCSSII (base class, subclass, prog-if)")]
    BadClass(String),
}

fn hex16(s: &str) -> Option<u16> {
    (!s.is_empty() && s.len() <= 4)
        .then(|| u16::from_str_radix(s, 16).ok())
        .flatten()
}

/// A PCI function as far as it is known.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PciDevice {
    /// Vendor id, if given.
    pub vendor: Option<u16>,
    /// Device id, if given.
    pub device: Option<u16>,
    /// Subsystem vendor id, if given.
    pub subvendor: Option<u16>,
    /// Subsystem device id, if given.
    pub subdevice: Option<u16>,
    /// 24-bit class code (base, sub, prog-if), if given.
    pub class: Option<u32>,
}

impl PciDevice {
    /// Parses `VVVV:DDDD[:SVVV:SDDD]` (as `lspci -n` prints ids).
    pub fn parse_ids(s: &str) -> Result<PciDevice, DeviceError> {
        let f: Vec<&str> = s.split(':').collect();
        let ids: Option<Vec<u16>> = f.iter().map(|x| hex16(x)).collect();
        match (f.len(), ids) {
            (2, Some(v)) => Ok(PciDevice {
                vendor: Some(v[0]),
                device: Some(v[1]),
                ..Default::default()
            }),
            (4, Some(v)) => Ok(PciDevice {
                vendor: Some(v[0]),
                device: Some(v[1]),
                subvendor: Some(v[2]),
                subdevice: Some(v[3]),
                class: None,
            }),
            _ => Err(DeviceError::BadPci(s.to_string())),
        }
    }

    /// Parses a class `CCSSII` (`0x` prefix allowed).
    pub fn parse_class(s: &str) -> Result<u32, DeviceError> {
        let h = s.strip_prefix("0x").unwrap_or(s);
        if h.len() != 6 {
            return Err(DeviceError::BadClass(s.to_string()));
        }
        u32::from_str_radix(h, 16).map_err(|_| DeviceError::BadClass(s.to_string()))
    }

    /// `pci:v%08Xd%08Xsv%08Xsd%08Xbc%02Xsc%02Xi%02X` (`drivers/pci/pci-sysfs.c`).
    pub fn modalias(&self) -> String {
        let mut s = String::from("pci:");
        let mut id = |tag: &str, v: Option<u16>| {
            s.push_str(tag);
            match v {
                Some(v) => {
                    let _ = write!(s, "{:08X}", v as u32);
                }
                None => s.push(UNKNOWN),
            }
        };
        id("v", self.vendor);
        id("d", self.device);
        id("sv", self.subvendor);
        id("sd", self.subdevice);
        for (tag, shift) in [("bc", 16), ("sc", 8), ("i", 0)] {
            s.push_str(tag);
            match self.class {
                Some(c) => {
                    let _ = write!(s, "{:02X}", (c >> shift) & 0xff);
                }
                None => s.push(UNKNOWN),
            }
        }
        s
    }
}

/// A USB interface as far as it is known (ids only; interface class etc.
/// unknown unless a full `--modalias` is given).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UsbDevice {
    /// idVendor.
    pub vendor: u16,
    /// idProduct.
    pub product: u16,
    /// bcdDevice, if given.
    pub bcd: Option<u16>,
}

impl UsbDevice {
    /// Parses `VVVV:PPPP[:BCD]`.
    pub fn parse(s: &str) -> Result<UsbDevice, DeviceError> {
        let f: Vec<&str> = s.split(':').collect();
        let ids: Option<Vec<u16>> = f.iter().map(|x| hex16(x)).collect();
        match (f.len(), ids) {
            (2, Some(v)) => Ok(UsbDevice {
                vendor: v[0],
                product: v[1],
                bcd: None,
            }),
            (3, Some(v)) => Ok(UsbDevice {
                vendor: v[0],
                product: v[1],
                bcd: Some(v[2]),
            }),
            _ => Err(DeviceError::BadUsb(s.to_string())),
        }
    }

    /// `usb:v%04Xp%04Xd%04Xdc%02Xdsc%02Xdp%02Xic%02Xisc%02Xip%02Xin%02X`
    /// (`drivers/usb/core/message.c`), unknown fields as [`UNKNOWN`].
    pub fn modalias(&self) -> String {
        let mut s = format!("usb:v{:04X}p{:04X}d", self.vendor, self.product);
        match self.bcd {
            Some(b) => {
                let _ = write!(s, "{b:04X}");
            }
            None => s.push(UNKNOWN),
        }
        for tag in ["dc", "dsc", "dp", "ic", "isc", "ip", "in"] {
            s.push_str(tag);
            s.push(UNKNOWN);
        }
        s
    }
}

/// A device string for display: unknown fields shown as `*`.
pub fn display(device: &str) -> String {
    device.replace(UNKNOWN, "*")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pci_strings() {
        let mut d = PciDevice::parse_ids("103c:1234:1111:2222").unwrap();
        d.class = Some(PciDevice::parse_class("010400").unwrap());
        assert_eq!(
            d.modalias(),
            "pci:v0000103Cd00001234sv00001111sd00002222bc01sc04i00"
        );
        assert!(PciDevice::parse_ids("103c").is_err());
        assert!(PciDevice::parse_ids("103c:12345").is_err());
        assert!(PciDevice::parse_class("0104").is_err());
        assert_eq!(
            display(&PciDevice::parse_ids("8086:1572").unwrap().modalias()),
            "pci:v00008086d00001572sv*sd*bc*sc*i*"
        );
    }
}
