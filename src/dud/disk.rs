//! What a driver disk holds, as facts: the container, the Red Hat DDv3
//! and SUSE linuxrc trees on it, the packages, modules and repodata in
//! them. `readback.rs` reads a disk into these once; the verification
//! rules (`verify.rs`) are pure functions over them, unit-tested by
//! building facts by hand.

use super::iso::IsoFacts;
use super::package::PackageFacts;
use crate::module::KernelModule;

/// What kind of container the disk came in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    /// ISO 9660 image (with the facts read from its descriptors).
    Iso(IsoFacts),
    /// newc cpio, possibly compressed.
    Cpio,
    /// An unpacked directory.
    Directory,
}

/// Everything read from one disk.
#[derive(Debug, Clone)]
pub struct DiskFacts {
    /// Container kind.
    pub kind: Kind,
    /// Red Hat DDv3 trees (`rhdd3` beside `rpms/`), sorted by path.
    pub redhat: Vec<RedHatTree>,
    /// SUSE linuxrc trees (`linux/suse/<arch>-<dist>/`), in disk order.
    pub suse: Vec<SuseTree>,
}

/// One anaconda DDv3 tree.
#[derive(Debug, Clone)]
pub struct RedHatTree {
    /// Path relative to the disk root (`/` for the root itself).
    pub path: String,
    /// Entries of `rpms/` that are symlinks (never followed), sorted.
    pub symlinks: Vec<String>,
    /// The real `rpms/<arch>/` directories, sorted by arch.
    pub arches: Vec<ArchDir>,
    /// A `ks.cfg` beside `rhdd3` or at the disk root.
    pub ks_cfg: bool,
}

/// One `rpms/<arch>/` directory.
#[derive(Debug, Clone)]
pub struct ArchDir {
    /// The directory name.
    pub arch: String,
    /// Path relative to the disk root (the subject of its findings).
    pub path: String,
    /// Subdirectories (other than `repodata`) with RPMs somewhere below.
    pub nested_rpm_dirs: Vec<String>,
    /// `*.rpm` regular files, sorted.
    pub rpm_names: Vec<String>,
    /// `*.rpm` entries that are not regular files, with what they are.
    pub irregular: Vec<String>,
    /// The RPMs read (in `rpm_names` order).
    pub packages: Vec<PackageFacts>,
    /// The RPMs that could not be read: (file name, why).
    pub unreadable: Vec<(String, String)>,
    /// Its `repodata/`.
    pub repodata: RepodataFacts,
}

/// What `repodata/` of one `rpms/<arch>/` says, and whether the files
/// agree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RepodataFacts {
    /// No `repodata/` at all.
    Absent,
    /// `repomd.xml` or the primary metadata it points at could not be read
    /// or parsed (why, naming the file).
    Unreadable(String),
    /// The primary metadata was read.
    Primary(Primary),
}

/// The primary metadata of one repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Primary {
    /// Its `href` in `repomd.xml`.
    pub href: String,
    /// The checksum type `repomd.xml` gives for it.
    pub checksum_type: String,
    /// Does its checksum match `repomd.xml`?
    pub checksum_matches: bool,
    /// The packages it lists, or why it could not be decompressed or parsed.
    pub listed: Result<Vec<Listed>, String>,
}

/// One package listed in the primary metadata, and the file on the disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    /// `location href`.
    pub href: String,
    /// Its checksum type.
    pub checksum_type: String,
    /// The size the metadata gives.
    pub size: u64,
    /// The file on the disk: its size and, when that matches, whether its
    /// checksum does; or why it was not read.
    pub on_disk: Result<OnDisk, String>,
}

/// A listed package's file as found on the disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OnDisk {
    /// Its size in bytes.
    pub size: u64,
    /// Its checksum matches the metadata (`None`: not computed because the
    /// size differs already).
    pub checksum_matches: Option<bool>,
}

/// One linuxrc tree.
#[derive(Debug, Clone)]
pub struct SuseTree {
    /// Path relative to the disk root.
    pub path: String,
    /// `dud.config` is a regular file.
    pub dud_config: bool,
    /// `modules/` entries named like modules that are not regular files
    /// (sorted; never read).
    pub irregular_modules: Vec<String>,
    /// `modules/` module files (sorted) and what reading them gave.
    pub modules: Vec<(String, Result<KernelModule, String>)>,
    /// `modules/module.order` (empty when missing).
    pub module_order: String,
    /// `install/*.rpm` entries that are not regular files.
    pub irregular_install: Vec<String>,
    /// `install/rpms/*.rpm` entries that are not regular files.
    pub irregular_install_rpms: Vec<String>,
    /// `install/*.rpm` then `install/rpms/*.rpm` (as `rpms/<name>`): does
    /// the package carry kernel modules, or why it could not be read.
    pub rpms: Vec<(String, Result<bool, String>)>,
}
