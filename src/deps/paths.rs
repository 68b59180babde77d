//! Paths as rpm hands them to a generator, and what their place in the
//! file system says about a module.
//!
//! rpm passes absolute paths *with* the buildroot prefix and sets
//! `RPM_BUILD_ROOT`; what matters for the dependency (in-tree or not, which
//! kernel release directory) is the path *inside the package*. The prefix is
//! removed literally, never as a regular expression: buildroots may contain
//! regex metacharacters (`+`, `.`), which broke Red Hat's scripts.

/// The install path of `input` inside the package: `input` minus the
/// buildroot prefix, always starting with `/`. Paths outside the buildroot
/// (or without one) are returned unchanged.
pub fn package_path(input: &str, buildroot: Option<&str>) -> String {
    let root = buildroot
        .map(|r| r.trim_end_matches('/'))
        .filter(|r| !r.is_empty());
    let inner = match root {
        Some(r) => match input.strip_prefix(r) {
            Some(rest) if rest.is_empty() || rest.starts_with('/') => rest,
            _ => input,
        },
        None => input,
    };
    if inner.starts_with('/') {
        inner.to_string()
    } else {
        format!("/{inner}")
    }
}

/// A path below `/lib/modules/<release>/` or `/usr/lib/modules/<release>/`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ModulesTreePath<'a> {
    /// Everything up to and including `<release>` (`/usr/lib/modules/6.1.0-56-amd64`).
    pub tree: &'a str,
    /// The `<release>` directory name.
    pub release: &'a str,
    /// The rest (`extra/zfs/zfs.ko`).
    pub rest: &'a str,
}

/// Splits a package path into its modules tree, if it lies in one.
pub fn modules_tree(path: &str) -> Option<ModulesTreePath<'_>> {
    let after = path
        .strip_prefix("/usr/lib/modules/")
        .or_else(|| path.strip_prefix("/lib/modules/"))?;
    let (release, rest) = after.split_once('/')?;
    if release.is_empty() {
        return None;
    }
    let tree_len = path.len() - after.len() + release.len();
    Some(ModulesTreePath {
        tree: &path[..tree_len],
        release,
        rest,
    })
}

/// True for modules shipped by a kernel package: `(/usr)/lib/modules/<release>/kernel/…`
/// with a release that starts with a digit 1-9 (as Red Hat's scripts test,
/// so `/lib/modules/kabi-current/...` never counts). Those provide
/// `kernel()` rather than `ksym()` and get no requires (the kernel package
/// satisfies them itself).
pub fn is_in_tree(path: &str) -> bool {
    modules_tree(path).is_some_and(|t| {
        t.release
            .as_bytes()
            .first()
            .is_some_and(|c| (b'1'..=b'9').contains(c))
            && t.rest.starts_with("kernel/")
    })
}

/// The last path component.
pub fn file_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_buildroot_literally() {
        let br = "/home/u/rpmbuild/BUILDROOT/kmod-a+b-1.0-1.x86_64";
        assert_eq!(
            package_path(
                &format!("{br}/lib/modules/5.14.0-1.el9.x86_64/extra/a.ko"),
                Some(br)
            ),
            "/lib/modules/5.14.0-1.el9.x86_64/extra/a.ko"
        );
        assert_eq!(
            package_path(
                &format!("{br}/lib/modules/k/extra/a.ko"),
                Some(&format!("{br}/"))
            ),
            "/lib/modules/k/extra/a.ko"
        );
        // A prefix that is not a whole path component is not a buildroot.
        assert_eq!(
            package_path("/br2/lib/modules/k/a.ko", Some("/br")),
            "/br2/lib/modules/k/a.ko"
        );
        assert_eq!(
            package_path("/lib/modules/k/a.ko", None),
            "/lib/modules/k/a.ko"
        );
    }

    #[test]
    fn trees() {
        let t = modules_tree("/usr/lib/modules/6.1.0-56-amd64/extra/zfs/zfs.ko").unwrap();
        assert_eq!(
            (t.tree, t.release, t.rest),
            (
                "/usr/lib/modules/6.1.0-56-amd64",
                "6.1.0-56-amd64",
                "extra/zfs/zfs.ko"
            )
        );
        assert_eq!(modules_tree("/usr/share/doc/a.ko"), None);
        assert!(is_in_tree(
            "/lib/modules/5.14.0-1.el9.x86_64/kernel/drivers/provA_intree.ko"
        ));
        assert!(is_in_tree(
            "/usr/lib/modules/6.1.0-56-amd64/kernel/fs/ext4/ext4.ko"
        ));
        assert!(!is_in_tree(
            "/lib/modules/5.14.0-1.el9.x86_64/extra/provA.ko"
        ));
        assert!(!is_in_tree("/lib/modules/kabi-current/kernel/x.ko"));
        assert!(!is_in_tree("/kernel/fs/ext4/ext4.ko"));
    }
}
