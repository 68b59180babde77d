//! The kernel release of an x86 bzImage (`images/pxeboot/vmlinuz` on an
//! install ISO), read from the boot protocol header: the 16-bit
//! `kernel_version` field at 0x20E points (relative to 0x200) at the
//! NUL-terminated version string, whose first word is `uname -r`.
//! This is the installer's real kernel, not what someone typed.

/// Reads the release from bzImage bytes.
pub fn kernel_release(image: &[u8]) -> Result<String, String> {
    if image.get(0x202..0x206) != Some(b"HdrS") {
        return Err("not an x86 bzImage (no `HdrS` boot header at 0x202)".into());
    }
    let proto = u16::from_le_bytes([image[0x206], image[0x207]]);
    if proto < 0x200 {
        return Err(format!(
            "boot protocol {proto:#x} has no kernel_version field"
        ));
    }
    let ptr = u16::from_le_bytes([image[0x20E], image[0x20F]]) as usize;
    if ptr == 0 {
        return Err("the boot header carries no kernel version string".into());
    }
    let start = ptr + 0x200;
    let rest = image
        .get(start..)
        .ok_or("kernel_version points outside the image")?;
    let end = rest
        .iter()
        .take(512)
        .position(|&b| b == 0)
        .ok_or("unterminated kernel version string")?;
    let text =
        std::str::from_utf8(&rest[..end]).map_err(|_| "kernel version string is not text")?;
    let release = text
        .split_whitespace()
        .next()
        .ok_or("empty kernel version string")?;
    if !release.chars().next().is_some_and(|c| c.is_ascii_digit()) {
        return Err(format!(
            "kernel version string `{text}` does not start with a release"
        ));
    }
    Ok(release.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_non_bzimage() {
        assert!(kernel_release(&[0u8; 1024]).is_err());
        assert!(kernel_release(b"short").is_err());
    }
}
