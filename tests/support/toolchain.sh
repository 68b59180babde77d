#!/bin/bash
# Checks for the Rust toolchain `make demo`/`make test`/`make dist` build
# kmodpack with, before cargo is called, and says how to get one. The
# minimum is Cargo.toml's rust-version. `toolchain.sh clippy` (run by
# `make test`) also makes sure clippy is there: the suite starts with
# `cargo clippy --all-targets -D warnings`.
set -euo pipefail
cd "$(dirname "$0")/../.."
need=$(sed -n 's/^rust-version *= *"\([0-9.]*\)"/\1/p' Cargo.toml)
how="install Rust >= $need: rustup (the Rust project's installer, then \`rustup default stable\`), or your distribution's packages (Debian 13/Ubuntu: apt-get install cargo rustc; Fedora/EL9+: dnf install cargo rust, or rust-toolset) if they are that new. To run kmodpack without building it, install the portable binary or the kmodpack RPM made on another machine (README: Installation)"
cargo=${CARGO:-cargo}
if ! command -v "$cargo" >/dev/null 2>&1; then
    echo "kmodpack: no Rust toolchain ($cargo not found); $how" >&2
    exit 1
fi
have=$("$cargo" --version 2>/dev/null | awk '{print $2}')
have=${have%%-*}
if [ -z "$have" ] || ! printf '%s\n%s\n' "$need" "$have" | sort -V -C; then
    echo "kmodpack: $cargo is version ${have:-unknown}, kmodpack needs Rust >= $need; $how" >&2
    exit 1
fi
if [ "${1:-}" = clippy ] && ! "$cargo" clippy --version >/dev/null 2>&1; then
    # clippy must match the compiler, so it comes from where cargo came from.
    if command -v rustup >/dev/null 2>&1; then
        rustup component add clippy >&2
    else
        echo "kmodpack: cargo clippy not found; install the clippy that goes with this Rust: rustup component add clippy, or your distribution's package (Debian/Ubuntu: apt-get install rust-clippy; Fedora/EL: dnf install clippy)" >&2
        exit 1
    fi
fi
