//! SUSE linuxrc driver update layout (driver-update-disks.md §5):
//! `linux/suse/<arch>-<dist>/` with `dud.config`, `install/` (the KMPs in
//! `install/rpms/` and an `update.post` that installs each one with its own
//! `rpm` call, logging to `/var/log/DUD.log`), and `modules/` holding the `.ko` files for the
//! installer kernel flavour with a `module.order` in dependency order
//! (linuxrc loads `modules/` in the installer; mkdud does not extract the
//! modules from KMPs, which is why a KMP-only DUD from it loads nothing).

use std::collections::{BTreeMap, BTreeSet};

use sha2::{Digest, Sha256};

use crate::module::{file_stem, normalize_name, KernelModule};

use super::layout::{Content, Layout};
use super::package::{PackageFacts, Role};
use super::target::Target;

/// A SUSE installer target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SuseTarget {
    /// `uname -m`.
    pub arch: String,
    /// The product part of linuxrc's `UpdateDir` (`sles15`, `leap15.6`, `tw`).
    pub dist: String,
    /// Installer kernel release (`6.4.0-150600.21-default`), if known.
    pub uname_r: Option<String>,
}

impl SuseTarget {
    /// `linux/suse/<arch>-<dist>`.
    pub fn update_dir(&self) -> String {
        format!("linux/suse/{}-{}", self.arch, self.dist)
    }
}

/// Checks a dist name (it becomes a directory name).
pub fn check_dist(dist: &str) -> Result<(), String> {
    if dist.is_empty()
        || !dist
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '_')
    {
        return Err(format!("--dist `{dist}`: expected a linuxrc product name such as sles15, sles15.6, leap15.6 or tw"));
    }
    Ok(())
}

/// The kernel release directory of a module path (`lib/modules/<kver>/...`).
pub fn path_kver(inner: &str) -> Option<&str> {
    let s = inner.trim_start_matches('/');
    let rest = s
        .strip_prefix("lib/modules/")
        .or_else(|| s.strip_prefix("usr/lib/modules/"))?;
    rest.split('/').next()
}

fn flavor(kver: &str) -> &str {
    kver.rsplit('-').next().unwrap_or(kver)
}

/// The modules (inner path, bytes) to load in the installer: those built
/// for its exact kernel release if any, else those of its flavour
/// (`-default` when the release is unknown).
pub fn installer_modules<'a>(
    pkgs: &'a [PackageFacts],
    t: &SuseTarget,
) -> Vec<(&'a str, &'a [u8], &'a PackageFacts)> {
    let all: Vec<(&str, &[u8], &PackageFacts)> = pkgs
        .iter()
        .filter(|p| p.role() == Role::Noarch || (p.role() == Role::Arch && p.pkg.arch == t.arch))
        .flat_map(|p| {
            p.module_bytes
                .iter()
                .map(move |(i, b)| (i.as_str(), b.as_slice(), p))
        })
        .collect();
    let exact: Vec<_> = match &t.uname_r {
        Some(k) => all
            .iter()
            .copied()
            .filter(|(i, _, _)| path_kver(i) == Some(k.as_str()))
            .collect(),
        None => Vec::new(),
    };
    if !exact.is_empty() {
        return exact;
    }
    let want = t.uname_r.as_deref().map(flavor).unwrap_or("default");
    all.into_iter()
        .filter(|(i, _, _)| path_kver(i).map(flavor) == Some(want))
        .collect()
}

/// Module names in load order: every module after the disk modules it
/// depends on (modinfo `depends`), ties by name. Dependencies outside the
/// disk are left to modprobe.
pub fn module_order(mods: &[(String, Vec<String>)]) -> Vec<String> {
    let names: BTreeSet<String> = mods.iter().map(|(n, _)| normalize_name(n)).collect();
    let deps: BTreeMap<String, Vec<String>> = mods
        .iter()
        .map(|(n, d)| {
            (
                normalize_name(n),
                d.iter()
                    .map(|x| normalize_name(x))
                    .filter(|x| names.contains(x))
                    .collect(),
            )
        })
        .collect();
    let mut done: Vec<String> = Vec::new();
    let mut placed = BTreeSet::new();
    while placed.len() < names.len() {
        let ready: Vec<String> = names
            .iter()
            .filter(|n| {
                !placed.contains(*n) && deps[*n].iter().all(|d| placed.contains(d) || d == *n)
            })
            .cloned()
            .collect();
        // A dependency cycle: emit the rest by name rather than loop.
        let step = if ready.is_empty() {
            names
                .iter()
                .filter(|n| !placed.contains(*n))
                .cloned()
                .collect()
        } else {
            ready
        };
        for n in step {
            placed.insert(n.clone());
            done.push(n);
        }
    }
    // Report names as the files are spelled (dashes kept).
    let spelled: BTreeMap<String, String> = mods
        .iter()
        .map(|(n, _)| (normalize_name(n), n.clone()))
        .collect();
    done.into_iter()
        .map(|n| spelled.get(&n).cloned().unwrap_or(n))
        .collect()
}

fn sh_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// `install/update.post`: one `rpm` call per package of `install/rpms/`
/// into the new system, each logged to `/var/log/DUD.log`; a KMP whose
/// kernel flavor is not installed there is skipped (and logged), and one
/// failing package does not stop the others. The packages sit in
/// `install/rpms/`, not `install/`, because YaST runs one `rpm -U` over
/// `install/*.rpm`, which fails as a whole when any flavor does not match.
/// `rpms` are (file name, flavor of its modules if known).
pub fn update_post(rpms: &[(String, Option<String>)]) -> String {
    let mut s = String::from(
        "#!/bin/sh\n\
         # Written by kmodpack: install each driver package of rpms/ into the new\n\
         # system with its own rpm call and log to /var/log/DUD.log.\n\
         dir=$(dirname \"$0\")/rpms\n\
         root=${DUD_ROOT:-/mnt}\n\
         log=\"$root/var/log/DUD.log\"\n\
         mkdir -p \"$root/var/log\"\n",
    );
    for (r, flavor) in rpms {
        let q = sh_quote(r);
        let shown = r.replace(['"', '$', '`', '\\'], "_");
        let install = format!(
            "echo \"kmodpack: installing {shown}\" >>\"$log\"\n\
             rpm --root \"$root\" -Uvh --replacepkgs \"$dir\"/{q} >>\"$log\" 2>&1 || echo \"kmodpack: {shown} failed\" >>\"$log\"\n"
        );
        match flavor.as_deref().filter(|f| f.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')) {
            Some(f) => s.push_str(&format!(
                "if ls -d \"$root\"/lib/modules/*-{f} >/dev/null 2>&1; then\n{install}\
                 else\n\
                 echo \"kmodpack: skipped {shown}: no kernel-{f} in the installed system\" >>\"$log\"\n\
                 fi\n"
            )),
            None => s.push_str(&install),
        }
    }
    s
}

/// The kernel flavor of a package's modules (`default` in
/// `lib/modules/6.4.0-150600.21-default/…`), if they agree on one.
fn package_flavor(p: &PackageFacts) -> Option<String> {
    let flavors: BTreeSet<&str> = p
        .modules
        .iter()
        .filter_map(|(inner, _)| path_kver(inner))
        .map(flavor)
        .collect();
    match flavors.into_iter().collect::<Vec<_>>().as_slice() {
        [one] if one.chars().all(|c| c.is_ascii_alphabetic()) => Some(one.to_string()),
        _ => None,
    }
}

/// Rule G3: linuxrc loads `modules/*.ko` into the media's kernel, so a
/// module whose vermagic names another release loads only if its kABI
/// matches. One message per installer target it was not built for (none
/// when the module has no vermagic release to compare).
pub fn media_kernel_mismatches(module: &KernelModule, targets: &[Target]) -> Vec<String> {
    let Some(rel) = module.kernel_release() else {
        return Vec::new();
    };
    targets
        .iter()
        .filter(|t| rel != t.uname_r)
        .map(|t| {
            format!(
                "built for {rel}, the installer runs {}: it loads only if the kABI matches (give --target-symvers)",
                t.uname_r
            )
        })
        .collect()
}

/// The whole SUSE tree.
pub fn layout(pkgs: &[PackageFacts], t: &SuseTarget) -> Layout {
    let base = t.update_dir();
    let mut files = Vec::new();
    let mut rpms = Vec::new();
    let mut id = Sha256::new();
    for p in pkgs {
        if p.role() == Role::Noarch || (p.role() == Role::Arch && p.pkg.arch == t.arch) {
            let name = p.file_name();
            id.update(p.pkg.nevra().as_bytes());
            files.push((
                format!("{base}/install/rpms/{name}"),
                Content::Copy(p.pkg.path.clone()),
                false,
            ));
            rpms.push((name, package_flavor(p)));
        }
    }
    rpms.sort();
    files.push((
        format!("{base}/install/update.post"),
        Content::Bytes(update_post(&rpms).into_bytes()),
        true,
    ));
    let mut seen = BTreeSet::new();
    let mut order_in = Vec::new();
    for (inner, bytes, p) in installer_modules(pkgs, t) {
        let base_name = inner.rsplit('/').next().unwrap_or(inner).to_string();
        if !seen.insert(base_name.clone()) {
            continue;
        }
        let deps = p
            .modules
            .iter()
            .find(|(i, _)| i == inner)
            .map(|(_, m)| m.modinfo.depends())
            .unwrap_or_default();
        order_in.push((file_stem(std::path::Path::new(&base_name)), deps));
        files.push((
            format!("{base}/modules/{base_name}"),
            Content::Bytes(bytes.to_vec()),
            false,
        ));
    }
    let order = module_order(&order_in);
    if !order.is_empty() {
        let mut text = order.join("\n");
        text.push('\n');
        files.push((
            format!("{base}/modules/module.order"),
            Content::Bytes(text.into_bytes()),
            false,
        ));
    }
    let mut cfg = format!(
        "UpdateID:\tkmodpack-{}\n",
        &hex::encode(id.finalize())[..16]
    );
    let mut names: Vec<String> = pkgs
        .iter()
        .filter(|p| p.role() == Role::Noarch || (p.role() == Role::Arch && p.pkg.arch == t.arch))
        .map(|p| p.pkg.nevra())
        .collect();
    names.sort();
    for n in names {
        cfg.push_str(&format!("UpdateName:\t{n}\n"));
    }
    files.push((
        format!("{base}/dud.config"),
        Content::Bytes(cfg.into_bytes()),
        false,
    ));
    let mut l = Layout::default();
    for (path, content, executable) in files {
        l.files.push(super::layout::Entry {
            path,
            content,
            executable,
        });
    }
    l.files.sort_by(|a, b| a.path.cmp(&b.path));
    l
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_puts_dependencies_first() {
        let m = vec![
            ("kpx_import".to_string(), vec!["kpx_export".to_string()]),
            ("kpx_export".to_string(), vec![]),
            ("zzz".to_string(), vec!["libcrc32c".to_string()]),
        ];
        assert_eq!(module_order(&m), vec!["kpx_export", "zzz", "kpx_import"]);
    }
}
