//! The kernel release of an x86 bzImage (`images/pxeboot/vmlinuz` on an
//! install ISO), read from the boot protocol header: the 16-bit
//! `kernel_version` field at 0x20E points (relative to 0x200) at the
//! NUL-terminated version string, whose first word is `uname -r`.
//! This is the installer's real kernel, not what someone typed.

// A parser of untrusted bytes: no indexing that can panic (issue #15).
#![deny(clippy::indexing_slicing)]

/// Reads the release from bzImage bytes.
pub fn kernel_release(image: &[u8]) -> Result<String, String> {
    if image.get(0x202..0x206) != Some(b"HdrS") {
        return Err("not an x86 bzImage (no `HdrS` boot header at 0x202)".into());
    }
    // The header fields read below end at 0x210; a truncated image (a cut
    // download, a hostile ISO) must be an error, not a panic.
    let le16 = |at: usize| {
        image
            .get(at..)
            .and_then(|b| b.first_chunk::<2>())
            .map(|b| u16::from_le_bytes(*b))
            .ok_or("truncated bzImage: the boot header ends before 0x210")
    };
    let proto = le16(0x206)?;
    if proto < 0x200 {
        return Err(format!(
            "boot protocol {proto:#x} has no kernel_version field"
        ));
    }
    let ptr = le16(0x20E)? as usize;
    if ptr == 0 {
        return Err("the boot header carries no kernel version string".into());
    }
    let start = ptr + 0x200;
    let rest = image
        .get(start..)
        .ok_or("kernel_version points outside the image")?;
    let bytes = crate::module::until_nul(rest.get(..512).unwrap_or(rest))
        .ok_or("unterminated kernel version string")?;
    let text = std::str::from_utf8(bytes).map_err(|_| "kernel version string is not text")?;
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

    #[test]
    fn truncated_header_is_an_error_not_a_panic() {
        // "HdrS" present, image cut anywhere inside the fields that follow.
        for len in 0x206..0x210 {
            let mut img = vec![0u8; len];
            img[0x202..0x206].copy_from_slice(b"HdrS");
            if len >= 0x208 {
                img[0x206..0x208].copy_from_slice(&0x20fu16.to_le_bytes());
            }
            assert_eq!(
                kernel_release(&img),
                Err("truncated bzImage: the boot header ends before 0x210".to_string()),
                "len {len:#x}"
            );
        }
    }
}
