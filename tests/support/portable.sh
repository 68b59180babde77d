#!/bin/bash
# Builds the portable kmodpack binaries that `make dist`/`make rpm` ship:
# statically linked (tests/support/cargo.sh), so they need no glibc at run
# time, only a Linux kernel >= 3.2 — EL7+, SLE 12+, every Fedora and Debian.
# The host's arch is the binary `make build` and `make test` use; another
# arch is cross-built with `<arch>-linux-gnu-gcc` and its static glibc
# (Debian: gcc-<arch>-linux-gnu, libc6-dev-<debarch>-cross, installed by
# `system-deps.sh dist`) when rustup has that arch's standard library.
#
#   portable.sh [ARCH...]   default: the host's arch, plus aarch64 when its
#                           cross linker and standard library are there
#
# Output: $TARGET_DIR/<arch>-unknown-linux-gnu/release/kmodpack (cargo's own
# place, so a rebuild is incremental); prints one path per line.
set -euo pipefail
cd "$(dirname "$0")/../.."
host=$(uname -m)
arches=("$@")
if [ ${#arches[@]} -eq 0 ]; then
    arches=("$host")
    if [ "$host" != aarch64 ]; then
        if ! command -v aarch64-linux-gnu-gcc >/dev/null ||
            [ "$(aarch64-linux-gnu-gcc -print-file-name=libc.a)" = libc.a ]; then
            echo "portable: no aarch64-linux-gnu-gcc with a static glibc (cross linker and libc.a); building $host only" >&2
        elif rustup target list --installed 2>/dev/null | grep -qx aarch64-unknown-linux-gnu ||
            rustup target add aarch64-unknown-linux-gnu >/dev/null 2>&1; then
            arches+=(aarch64)
        else
            echo "portable: no aarch64 standard library (rustup target add aarch64-unknown-linux-gnu failed); building $host only" >&2
        fi
    fi
fi
for arch in "${arches[@]}"; do
    triple=$arch-unknown-linux-gnu
    if [ "$arch" != "$host" ] && ! rustup target list --installed 2>/dev/null | grep -qx "$triple"; then
        rustup target add "$triple" >&2
    fi
    echo "portable: cargo build --release --locked --target $triple (static)" >&2
    KMODPACK_TRIPLE=$triple bash tests/support/cargo.sh build --release --locked >&2
    KMODPACK_TRIPLE=$triple bash tests/support/cargo.sh --bin-path
done
