//! The writer: materialises a [`Layout`] in a staging directory, runs
//! `createrepo_c` last (after every RPM is final), and pins modes and
//! timestamps so two builds with the same `SOURCE_DATE_EPOCH` give the same
//! bytes.

use crate::process::Command;
use std::fs::{self, File, FileTimes};
use std::path::Path;
use std::time::{Duration, SystemTime};

use super::layout::{Content, Layout};
use super::DudError;

/// `SOURCE_DATE_EPOCH` from the environment, if set and valid.
pub fn source_date_epoch() -> Option<u64> {
    std::env::var("SOURCE_DATE_EPOCH").ok()?.trim().parse().ok()
}

fn io(path: &Path, what: &str) -> impl FnOnce(std::io::Error) -> DudError {
    let path = path.to_path_buf();
    let what = what.to_string();
    move |source| DudError::Io { path, what, source }
}

/// Writes `layout` under `root` (which must exist and be empty).
pub fn materialise(layout: &Layout, root: &Path, epoch: Option<u64>) -> Result<(), DudError> {
    for d in layout.dirs() {
        let p = root.join(&d);
        fs::create_dir_all(&p).map_err(io(&p, "cannot create directory"))?;
    }
    for f in &layout.files {
        let dest = root.join(&f.path);
        match &f.content {
            Content::Copy(src) => {
                fs::copy(src, &dest).map_err(io(src, "cannot copy"))?;
            }
            Content::Bytes(b) => fs::write(&dest, b).map_err(io(&dest, "cannot write"))?,
        }
        set_mode(&dest, if f.executable { 0o755 } else { 0o644 })?;
    }
    if let Some(e) = epoch {
        pin_times(root, e)?;
    }
    for r in &layout.repos {
        createrepo(&root.join(r), epoch)?;
    }
    for d in layout.dirs() {
        set_mode(&root.join(d), 0o755)?;
    }
    if let Some(e) = epoch {
        pin_times(root, e)?;
    }
    Ok(())
}

fn set_mode(path: &Path, mode: u32) -> Result<(), DudError> {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(mode))
        .map_err(io(path, "cannot set mode of"))
}

/// Sets every mtime/atime under `root` (deepest first) to `epoch`: xorriso
/// honours SOURCE_DATE_EPOCH for its own dates but copies file mtimes.
pub fn pin_times(root: &Path, epoch: u64) -> Result<(), DudError> {
    let t = SystemTime::UNIX_EPOCH + Duration::from_secs(epoch);
    let times = FileTimes::new().set_accessed(t).set_modified(t);
    for e in walkdir::WalkDir::new(root).contents_first(true) {
        let e = e.map_err(|e| DudError::Io {
            path: root.to_path_buf(),
            what: "cannot walk".into(),
            source: e.into(),
        })?;
        let f = File::open(e.path()).map_err(io(e.path(), "cannot open"))?;
        f.set_times(times)
            .map_err(io(e.path(), "cannot set time of"))?;
    }
    Ok(())
}

/// Runs `createrepo_c` on one `rpms/<arch>` directory: gzip metadata (not
/// the zstd default of createrepo_c >= 1.0 that old yum/dnf cannot read),
/// sha256, no sqlite (anaconda's dnf does not need it), and with
/// SOURCE_DATE_EPOCH a fixed revision and timestamp.
pub fn createrepo(dir: &Path, epoch: Option<u64>) -> Result<(), DudError> {
    let mut cmd = Command::new("createrepo_c").args([
        "--quiet",
        "--no-database",
        "--general-compress-type=gz",
        "--checksum=sha256",
    ]);
    if let Some(e) = epoch {
        cmd = cmd
            .arg(format!("--revision={e}"))
            .arg("--set-timestamp-to-revision");
    }
    let cmd = cmd.arg(dir);
    super::tool::run(cmd, "createrepo_c")?;
    Ok(())
}
