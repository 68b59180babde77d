//! Build script: links the `kmodpack` binary as a position-dependent
//! executable.
//!
//! Why: rpm <= 4.19 runs the dependency generator twice per packaged file
//! (8,000 processes for a 4,000-module package), so process start is most
//! of a call's cost. A PIE binary of this size carries ~17,600 relative
//! relocations that the dynamic loader applies at every start, copying
//! ~85 pages of relocated data; linked with `-no-pie` the linker resolves
//! them once and a start maps those pages from the page cache instead.
//! This is the development build (plain `cargo build`), whose objects stay
//! position-independent code: only the link changes. The builds that run
//! or ship go through tests/support/cargo.sh, which compiles the objects
//! for a fixed address (`-C relocation-model=static`) and links them
//! statically and non-PIE for the target (no loader work at all).

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let target = std::env::var("TARGET").unwrap_or_default();
    if target.contains("linux") {
        println!("cargo:rustc-link-arg-bins=-no-pie");
    }
}
