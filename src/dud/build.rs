//! Building a disk end to end: check the output path, read the RPMs, run
//! the preflight, write into a temporary directory next to the output and
//! rename at the very end, so a failure never leaves a half-written disk.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::module::{self, KernelModule};
use crate::rpmpkg::{self, RpmError};

use super::layout::{self, Layout};
use super::preflight::{PackageFacts, Preflight};
use super::{iso, stage, suse, DudError};

/// Output container.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Container {
    /// ISO 9660 (Rock Ridge + Joliet).
    Iso,
    /// gzip-compressed newc cpio (SUSE: appendable to an initrd).
    CpioGz,
}

impl Container {
    /// From the output file name: `.cpio.gz`/`.dud`/`.cpio` = cpio, else ISO.
    pub fn from_path(p: &Path) -> Container {
        let n = p
            .file_name()
            .map(|n| n.to_string_lossy().to_lowercase())
            .unwrap_or_default();
        if n.ends_with(".cpio.gz") || n.ends_with(".cpio") || n.ends_with(".dud") {
            Container::CpioGz
        } else {
            Container::Iso
        }
    }
}

/// Refuses a missing output directory or an existing output (unless
/// `force`). Runs first, before any input is read.
pub fn check_output(out: &Path, force: bool) -> Result<(), DudError> {
    let dir = parent_dir(out);
    if !dir.is_dir() {
        return Err(DudError::NoOutputDir(dir));
    }
    if out.is_dir() {
        return Err(DudError::Usage(format!(
            "{}: is a directory; give the image file name",
            out.display()
        )));
    }
    if out.symlink_metadata().is_ok() && !force {
        return Err(DudError::OutputExists(out.to_path_buf()));
    }
    Ok(())
}

fn parent_dir(out: &Path) -> PathBuf {
    match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
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

/// What to write.
#[derive(Debug, Clone)]
pub struct WriteRequest {
    /// The output image.
    pub output: PathBuf,
    /// ISO or cpio.gz.
    pub container: Container,
    /// Volume label (ISO).
    pub label: String,
    /// The tree.
    pub layout: Layout,
    /// Replace an existing output.
    pub force: bool,
    /// SOURCE_DATE_EPOCH.
    pub epoch: Option<u64>,
}

/// Writes the disk: staging tree and image both live in a temporary
/// directory beside the output; the image is renamed into place last.
pub fn write(req: &WriteRequest) -> Result<(), DudError> {
    let dir = parent_dir(&req.output);
    let tmp = tempfile::Builder::new()
        .prefix(".kmodpack-dud-")
        .tempdir_in(&dir)
        .map_err(|source| DudError::Io {
            path: dir.clone(),
            what: "cannot create a temporary directory in".into(),
            source,
        })?;
    let _on_signal = crate::cleanup::register_dir(tmp.path());
    let staging = tmp.path().join("disk");
    std::fs::create_dir(&staging).map_err(|source| DudError::Io {
        path: staging.clone(),
        what: "cannot create".into(),
        source,
    })?;
    stage::materialise(&req.layout, &staging, req.epoch)?;
    let image = tmp.path().join("image");
    match req.container {
        Container::Iso => iso::write(&staging, &image, &req.label, req.epoch)?,
        Container::CpioGz => {
            let bytes =
                super::cpio::archive_dir(&staging, req.epoch.unwrap_or(0)).map_err(|source| {
                    DudError::Io {
                        path: staging.clone(),
                        what: "cannot archive".into(),
                        source,
                    }
                })?;
            let gz = super::cpio::gzip(&bytes);
            std::fs::write(&image, gz).map_err(|source| DudError::Io {
                path: image.clone(),
                what: "cannot write".into(),
                source,
            })?;
        }
    }
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(&image, std::fs::Permissions::from_mode(0o644));
    }
    reread(&image, req)?;
    if !req.force && req.output.symlink_metadata().is_ok() {
        return Err(DudError::OutputExists(req.output.clone()));
    }
    std::fs::rename(&image, &req.output).map_err(|source| DudError::Io {
        path: req.output.clone(),
        what: "cannot move the image into place".into(),
        source,
    })?;
    Ok(())
}

/// The Red Hat layout for the preflight's accepted world.
pub fn redhat_layout(
    pkgs: &[PackageFacts],
    arches: &BTreeSet<String>,
    include_sources: bool,
) -> Layout {
    let names: Vec<String> = pkgs
        .iter()
        .filter(|p| !p.modules.is_empty())
        .map(|p| p.pkg.nevra())
        .collect();
    let description = format!(
        "Driver Update Disk version 3 (kmodpack): {}",
        names.join(", ")
    );
    layout::redhat(pkgs, arches, include_sources, &description)
}

/// The SUSE layout.
pub fn suse_layout(pkgs: &[PackageFacts], target: &suse::SuseTarget) -> Layout {
    suse::layout(pkgs, target)
}

/// True if any finding is an error.
pub fn refused(pf: &Preflight) -> bool {
    pf.errors() > 0
}

/// Reads the finished image back before it is moved into place: the label,
/// Rock Ridge, the layout and the repodata must be what anaconda needs.
fn reread(image: &Path, req: &WriteRequest) -> Result<(), DudError> {
    let rep = super::verify::verify_image(image, &[], &super::preflight::NoChecks)?;
    let mut problems: Vec<String> = rep
        .findings
        .iter()
        .filter(|f| {
            f.severity == super::preflight::Severity::Error
                && (f.code.starts_with('D') || f.code.starts_with('E'))
        })
        .map(|f| f.to_string())
        .collect();
    if let super::verify::Kind::Iso(facts) = &rep.kind {
        if facts.label != req.label {
            problems.push(format!(
                "label reads back as `{}`, not `{}`",
                facts.label, req.label
            ));
        }
        if !facts.rock_ridge {
            problems.push("no Rock Ridge on the written image".into());
        }
    }
    match problems.first() {
        None => Ok(()),
        Some(p) => Err(DudError::Image {
            path: req.output.clone(),
            message: format!("the written image failed its re-read, not installed: {p}"),
        }),
    }
}
