//! Compressed modules (`.ko.gz`, `.ko.xz`, `.ko.zst`), detected by magic
//! bytes rather than by file name, because distributions rename and
//! repackage freely and the kernel's own loader goes by content too.

// A parser of untrusted bytes: no indexing that can panic (issue #15).
#![deny(clippy::indexing_slicing)]

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

/// Upper bound on one decompressed module (or symvers file): the largest
/// real modules are a few tens of MB with debug info; a "zip bomb" (2 GB of
/// zeros in a few KB) is refused at this size instead of being held.
pub const MAX_DECOMPRESSED: u64 = 512 << 20;

/// Past this many decompressed bytes a decompression needs the process's
/// single "large" slot, so parallel readers (`deps -j N`) never hold more
/// than `N × LARGE` plus one [`MAX_DECOMPRESSED`] at once, whatever the
/// input: four hard-linked 2 GB bombs no longer add up.
pub const LARGE: u64 = 64 << 20;

fn large_slot() -> &'static (std::sync::Mutex<bool>, std::sync::Condvar) {
    static S: std::sync::OnceLock<(std::sync::Mutex<bool>, std::sync::Condvar)> =
        std::sync::OnceLock::new();
    S.get_or_init(Default::default)
}

/// Holds the large slot until dropped.
struct LargeSlot;

impl LargeSlot {
    fn acquire() -> LargeSlot {
        let (m, cv) = large_slot();
        let mut busy = m.lock().unwrap_or_else(|e| e.into_inner());
        while *busy {
            busy = cv.wait(busy).unwrap_or_else(|e| e.into_inner());
        }
        *busy = true;
        LargeSlot
    }
}

impl Drop for LargeSlot {
    fn drop(&mut self) {
        let (m, cv) = large_slot();
        *m.lock().unwrap_or_else(|e| e.into_inner()) = false;
        cv.notify_one();
    }
}

/// Reads `r` to the end into `out`, at most `MAX_DECOMPRESSED + 1` bytes,
/// taking the large slot once the output passes [`LARGE`].
fn read_bounded(mut r: impl Read, out: &mut Vec<u8>) -> std::io::Result<()> {
    let mut slot = None;
    let mut chunk = vec![0u8; 1 << 20];
    loop {
        let n = match r.read(&mut chunk) {
            Ok(0) => return Ok(()),
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if slot.is_none() && (out.len() + n) as u64 > LARGE {
            slot = Some(LargeSlot::acquire());
        }
        out.extend_from_slice(chunk.get(..n).unwrap_or_default());
        if out.len() as u64 > MAX_DECOMPRESSED {
            return Ok(());
        }
    }
}

/// Decompresses `bytes` if they are compressed; returns `None` for plain
/// data so callers can keep borrowing the original buffer.
pub fn decompress(bytes: &[u8]) -> Result<Option<(Compression, Vec<u8>)>, String> {
    let kind = Compression::detect(bytes);
    let mut out = Vec::new();
    let result = match kind {
        Compression::None => return Ok(None),
        Compression::Gzip => read_bounded(flate2::read::MultiGzDecoder::new(bytes), &mut out),
        Compression::Xz => {
            read_bounded(liblzma::read::XzDecoder::new_multi_decoder(bytes), &mut out)
        }
        Compression::Zstd => match zstd::stream::read::Decoder::new(bytes) {
            Ok(d) => read_bounded(d, &mut out),
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
            "{name} data expands to more than {} MiB (the limit for one module)",
            MAX_DECOMPRESSED >> 20
        )),
        Ok(_) => Ok(Some((kind, out))),
        Err(e) => Err(format!("corrupt {name} data: {e}")),
    }
}
