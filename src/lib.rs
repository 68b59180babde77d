//! kmodpack: package out-of-tree Linux kernel modules as RPMs and ship them
//! to installers.
//!
//! The library is organised by domain. Reading and computing is pure (bytes
//! and values in, values out): [`module`] (the `.ko` reader), [`symvers`],
//! [`deps`], [`kabi`], [`alias`], [`spec`]. Effects (processes, the file
//! system, the terminal) live at the edges: [`build`], [`dud`] and the CLI in
//! `src/cli`. Warnings from deep code go through one [`diag::Listener`]
//! instead of being printed where they are found.

// No panics on what comes from outside (issue #15; see Cargo.toml [lints]).
#![deny(clippy::unwrap_used, clippy::expect_used)]

pub mod alias;
pub mod build;
pub mod cleanup;
pub mod deps;
pub mod der;
pub mod diag;
pub mod dud;
pub mod fsio;
pub mod kabi;
pub mod ledger;
pub mod lockfile;
pub mod module;
pub mod process;
pub mod rpmpkg;
pub mod rpmrole;
pub mod rpmvercmp;
pub mod scan;
pub mod spec;
pub mod stablelist;
pub mod symvers;
