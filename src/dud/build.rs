//! Building a disk end to end: check the output path, read the RPMs, run
//! the preflight, write into a temporary directory next to the output and
//! rename at the very end, so a failure never leaves a half-written disk.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use super::layout::{self, Layout};
use super::package::PackageFacts;
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
    let tmp = super::scratch_dir(Some(&dir))?;
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

/// Reads the finished image back before it is moved into place: the label,
/// Rock Ridge, the layout and the repodata must be what anaconda needs.
fn reread(image: &Path, req: &WriteRequest) -> Result<(), DudError> {
    let rep = super::readback::verify_image(image, &[], &super::preflight::NoChecks)?;
    let mut problems: Vec<String> = rep
        .findings
        .iter()
        .filter(|f| f.severity == super::preflight::Severity::Error && f.code.section().is_disk())
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
