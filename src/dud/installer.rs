//! Reading the installer's own facts from an install ISO (in progress).

use std::path::Path;

use super::DudError;

/// What an install ISO says about its installer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstallerFacts {
    /// `uname -r` of the installer kernel.
    pub uname_r: String,
    /// Architecture, if the ISO names it.
    pub arch: Option<String>,
    /// anaconda version, if an anaconda RPM is on the ISO.
    pub anaconda: Option<String>,
    /// `ISO:member` the release was read from.
    pub source: String,
}

/// Reads the installer facts from an install ISO.
pub fn read_install_iso(path: &Path) -> Result<InstallerFacts, DudError> {
    Err(DudError::Image { path: path.to_path_buf(), message: "reading install ISOs is not implemented yet".into() })
}
