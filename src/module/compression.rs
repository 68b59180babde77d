//! Compressed modules (`.ko.gz`, `.ko.xz`, `.ko.zst`), detected by magic
//! bytes rather than by file name, because distributions rename and
//! repackage freely and the kernel's own loader goes by content too.

use std::io::Read;

/// How a module file was stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Compression {
    /// A plain ELF file.
    None,
    /// gzip (`1f 8b`).
    Gzip,
    /// xz (`fd 37 7a 58 5a 00`).
    Xz,
    /// zstd (`28 b5 2f fd`).
    Zstd,
}

impl Compression {
    /// Detects the container format from the first bytes of a file.
    pub fn detect(bytes: &[u8]) -> Compression {
        if bytes.starts_with(&[0x1f, 0x8b]) {
            Compression::Gzip
        } else if bytes.starts_with(&[0xfd, b'7', b'z', b'X', b'Z', 0x00]) {
            Compression::Xz
        } else if bytes.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
            Compression::Zstd
        } else {
            Compression::None
        }
    }

    /// The conventional file suffix (`""`, `".gz"`, `".xz"`, `".zst"`).
    pub fn suffix(self) -> &'static str {
        match self {
            Compression::None => "",
            Compression::Gzip => ".gz",
            Compression::Xz => ".xz",
            Compression::Zstd => ".zst",
        }
    }
}

/// Upper bound on a decompressed module: the largest real modules are a few
/// tens of MB with debug info; a "zip bomb" must not take the machine down.
pub const MAX_DECOMPRESSED: u64 = 1 << 30;

/// Decompresses `bytes` if they are compressed; returns `None` for plain
/// data so callers can keep borrowing the original buffer.
pub fn decompress(bytes: &[u8]) -> Result<Option<(Compression, Vec<u8>)>, String> {
    let kind = Compression::detect(bytes);
    let mut out = Vec::new();
    let result = match kind {
        Compression::None => return Ok(None),
        Compression::Gzip => flate2::read::MultiGzDecoder::new(bytes)
            .take(MAX_DECOMPRESSED + 1)
            .read_to_end(&mut out),
        Compression::Xz => liblzma::read::XzDecoder::new_multi_decoder(bytes)
            .take(MAX_DECOMPRESSED + 1)
            .read_to_end(&mut out),
        Compression::Zstd => match zstd::stream::read::Decoder::new(bytes) {
            Ok(d) => d.take(MAX_DECOMPRESSED + 1).read_to_end(&mut out),
            Err(e) => Err(e),
        },
    };
    let name = match kind {
        Compression::Gzip => "gzip",
        Compression::Xz => "xz",
        Compression::Zstd => "zstd",
        Compression::None => unreachable!("returned above"),
    };
    match result {
        Ok(_) if out.len() as u64 > MAX_DECOMPRESSED => Err(format!(
            "{name} data expands to more than {MAX_DECOMPRESSED} bytes"
        )),
        Ok(_) => Ok(Some((kind, out))),
        Err(e) => Err(format!("corrupt {name} data: {e}")),
    }
}
