//! Spec generation: a typed package description (YAML) rendered through tera
//! templates into a kmod spec.
//!
//! This replaces kmodtool, which generated specs as shell heredocs inside
//! `%(...)` with its errors sent to /dev/null. Here the model is typed
//! ([`Description`]), validated for rpm and shell safety ([`safety`]),
//! rendered by plain templates (`templates/<style>.spec.tera`, overridable
//! with a template directory) and every generated spec hooks kmodpack's own
//! dependency generator, so ksym()/kernel()/kmod() dependencies do not depend
//! on which distro macros happen to be installed.
//!
//! Library entry points: [`Description::from_yaml_str`], [`Description::load`],
//! [`render`], [`explain`], [`dkms::import`].

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

pub mod archive;
pub mod buildscript;
mod description;
pub mod dkms;
pub mod generator;
mod locate;
mod render;
pub mod safety;
mod suggest;
pub use suggest::closest;

pub use description::{
    Build, ChangelogEntry, Description, DkmsBuild, Firmware, InitramfsPolicy, Kabi, Kernel,
    KmodDependency, Module, PackagedCompression, Scriptlets, Signing, Source, Style, SupportStatus,
    Suse, SuseTarget, Switch, Violation,
};
pub use render::{
    akmod_source, confined, context, explain, render, source_archive, source_dir, RenderContext,
    SourceArchive,
};

/// How to render a description into a spec.
#[derive(Debug, Clone, Default)]
pub struct RenderOptions {
    /// Directory whose `<style>.spec.tera` (and any `_*.tera` partials)
    /// replace the built-in templates.
    pub template_dir: Option<PathBuf>,
    /// Only these kernel releases (redhat-kabi renders exactly one release:
    /// required when the description lists several).
    pub kernel_release: Option<String>,
    /// Only the kernels of this flavor (`Some(None)`: the unflavored ones):
    /// a build cell is one kernel × arch × flavor, and redhat-kabi renders
    /// one kernel, so a description listing `rt` beside the default kernel
    /// of the same release renders one spec per flavor.
    pub kernel_flavor: Option<Option<String>>,
    /// Compile against this kernel tree for every selected kernel, instead
    /// of each kernel's `build_dir` or the distro default (e.g. Debian's
    /// `/lib/modules/<uname -r>/build` while targeting an RHEL release).
    pub kernel_build_dir: Option<PathBuf>,
    /// Module.symvers of kmod dependencies by their name, overriding the
    /// description and the `-devel` default.
    pub dependency_symvers: BTreeMap<String, PathBuf>,
    /// Default of the generator binary (`%_kmodpack_bin`) when rpm does not
    /// define it (the installed macros.kmodpack does); `None` =
    /// `%{_bindir}/kmodpack`. `rpmbuild --define '_kmodpack_bin PATH'` wins.
    pub kmodpack_command: Option<String>,
}

/// Everything that can go wrong reading, validating or rendering a description.
#[derive(Debug, thiserror::Error)]
pub enum SpecError {
    /// A description value or key is invalid; `key` is the YAML path
    /// (`kernels[0].release`), `line` its 1-based line when known.
    #[error("{}", invalid_text(origin, *line, key, message))]
    Invalid {
        /// The file the problem is in.
        origin: String,
        /// 1-based line of the key, when known.
        line: Option<usize>,
        /// YAML path of the key (`kernels[0].release`).
        key: String,
        /// What is wrong.
        message: String,
    },
    /// The description (or a template, dkms.conf) could not be read.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file that could not be read or written.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// A template failed to load or render.
    #[error("template {name}: {message}")]
    Template {
        /// The template's name.
        name: String,
        /// What went wrong.
        message: String,
    },
    /// The description cannot be rendered with these options.
    #[error("{0}")]
    Options(String),
    /// A dkms.conf could not be imported (`line` 0 = not tied to one line).
    #[error("{}", dkms_text(origin, *line, message))]
    Dkms {
        /// The dkms.conf.
        origin: String,
        /// 1-based line (0: not tied to one line).
        line: usize,
        /// What is wrong.
        message: String,
    },
}

fn dkms_text(origin: &str, line: usize, message: &str) -> String {
    if line == 0 {
        format!("{origin}: {message}")
    } else {
        format!("{origin}:{line}: {message}")
    }
}

fn invalid_text(origin: &str, line: Option<usize>, key: &str, message: &str) -> String {
    let mut s = origin.to_string();
    if let Some(l) = line {
        s.push_str(&format!(":{l}"));
    }
    if key.is_empty() {
        format!("{s}: {message}")
    } else {
        format!("{s}: `{key}`: {message}")
    }
}

impl fmt::Display for Style {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Style {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Style::ALL
            .into_iter()
            .find(|st| st.as_str() == s)
            .ok_or_else(|| {
                let names: Vec<&str> = Style::ALL.iter().map(|s| s.as_str()).collect();
                format!("unknown style `{s}`; use one of {}", names.join(", "))
            })
    }
}
