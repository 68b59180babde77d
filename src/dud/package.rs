//! Package facts: what one input RPM is (its header, the kernel modules in
//! its payload, its role on a disk), read once and shared by the preflight,
//! the layouts and `dud verify`.
//!
//! This is the bottom of the `dud` layers: it reads RPMs through
//! [`crate::rpmpkg`] and classifies them with [`crate::rpmrole`], and knows
//! nothing of disks, rules or images, so both `build` and `verify` depend on
//! it and never on each other's internals.

use std::path::Path;

use crate::module::{self, KernelModule};
use crate::rpmpkg::{self, RpmError, RpmPackage};
use crate::rpmrole::RpmRole;

use super::DudError;

/// What one input RPM is for, decided from its header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// A binary package for one architecture: goes to `rpms/<arch>/`.
    Arch,
    /// `noarch`: copied into every `rpms/<arch>/` (dd_list never looks at
    /// the RPM's arch, only the directory's name).
    Noarch,
    /// Source package: `src/` when asked, otherwise left out.
    Source,
    /// debuginfo/debugsource: never on a disk.
    Debug,
    /// `-devel` (Module.symvers for other kmod builds): never on a disk.
    Devel,
}

/// The facts preflight needs about one input RPM.
#[derive(Debug, Clone)]
pub struct PackageFacts {
    /// Header facts.
    pub pkg: RpmPackage,
    /// Kernel modules in the payload (install path, parsed module).
    pub modules: Vec<(String, KernelModule)>,
    /// The same modules' bytes as stored in the payload (SUSE `modules/`).
    pub module_bytes: Vec<(String, Vec<u8>)>,
    /// `%description` (dd_list's output format breaks on a `---` line).
    pub description: Option<String>,
}

impl PackageFacts {
    /// File name of the RPM (the subject of its findings).
    pub fn file_name(&self) -> String {
        self.pkg
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| self.pkg.nevra())
    }

    /// The package's role on a disk (from [`crate::rpmrole::classify`]).
    pub fn role(&self) -> Role {
        match crate::rpmrole::classify(&self.pkg) {
            RpmRole::Source => Role::Source,
            RpmRole::Debuginfo | RpmRole::Debugsource => Role::Debug,
            RpmRole::Devel => Role::Devel,
            _ if self.pkg.arch == "noarch" => Role::Noarch,
            _ => Role::Arch,
        }
    }
}

/// Reads one input RPM: header, module bytes and parsed modules. Source and
/// debug packages are read by header only.
pub fn read_package(path: &Path) -> Result<PackageFacts, DudError> {
    if module::is_module_path(path) {
        return Err(DudError::Usage(format!(
            "{}: a loose kernel module is never loaded from a driver disk (anaconda only reads kmod RPMs with a \
             `kernel-modules` Provides from rpms/<arch>/); package it first (kmodpack spec / kmodpack build)",
            path.display()
        )));
    }
    let head = rpmpkg::read_header(path)?;
    let description = rpm::PackageMetadata::open(path)
        .ok()
        .and_then(|m| m.get_description().ok().map(str::to_string));
    use crate::rpmrole::RpmRole;
    if matches!(
        crate::rpmrole::classify(&head),
        RpmRole::Source | RpmRole::Debuginfo | RpmRole::Debugsource | RpmRole::Devel
    ) {
        return Ok(PackageFacts {
            pkg: head,
            modules: Vec::new(),
            module_bytes: Vec::new(),
            description,
        });
    }
    let (pkg, files) = rpmpkg::read_with_files(path, |p| module::is_module_path(Path::new(p)))?;
    let mut modules: Vec<(String, KernelModule)> = Vec::with_capacity(files.len());
    for (inner, bytes) in &files {
        let m = KernelModule::parse(bytes).map_err(|source| RpmError::Module {
            path: path.to_path_buf(),
            inner: inner.clone(),
            source,
        })?;
        modules.push((inner.clone(), m));
    }
    Ok(PackageFacts {
        pkg,
        modules,
        module_bytes: files,
        description,
    })
}

/// Two inputs with one file name would be one path on the disk, so only
/// one of them would be there. The same file given twice (same bytes) is
/// taken once, with a note; two different RPMs are refused, naming both.
pub fn unique_names(pkgs: Vec<PackageFacts>) -> Result<(Vec<PackageFacts>, Vec<String>), DudError> {
    let mut out: Vec<PackageFacts> = Vec::with_capacity(pkgs.len());
    let mut notes = Vec::new();
    for p in pkgs {
        let name = p.file_name();
        if let Some(q) = out.iter().find(|q| q.file_name() == name) {
            if digest_file(&q.pkg.path)? == digest_file(&p.pkg.path)? {
                notes.push(format!(
                    "{name}: given twice ({} and {}), identical: put on the disk once",
                    q.pkg.path.display(),
                    p.pkg.path.display()
                ));
                continue;
            }
            return Err(DudError::Usage(format!(
                "{name}: two different RPMs have this file name ({} and {}), and a disk holds one file per name; rename one or leave one out",
                q.pkg.path.display(),
                p.pkg.path.display()
            )));
        }
        out.push(p);
    }
    Ok((out, notes))
}

fn digest_file(path: &Path) -> Result<Vec<u8>, DudError> {
    use sha2::Digest;
    let io = |source| DudError::Io {
        path: path.to_path_buf(),
        what: "cannot read".into(),
        source,
    };
    let mut f = std::fs::File::open(path).map_err(io)?;
    let mut h = sha2::Sha256::new();
    std::io::copy(&mut f, &mut h).map_err(io)?;
    Ok(h.finalize().to_vec())
}
