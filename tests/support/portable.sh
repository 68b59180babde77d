#!/bin/bash
# Builds the portable kmodpack binaries: glibc 2.17 as the baseline (EL7+,
# SLE 12+, every Fedora), linked by zig through cargo-zigbuild (both from
# PyPI, installed by `system-deps.sh dist|test` into a virtualenv).
#
#   portable.sh [ARCH...]   default: x86_64, plus aarch64 when rustup has
#                           (or can add) its standard library
#
# Output: $TARGET_DIR/<arch>-unknown-linux-gnu/release/kmodpack (cargo's own
# place, so a rebuild is incremental); prints one path per line.
set -euo pipefail
cd "$(dirname "$0")/../.."
GLIBC=2.17
venv=${KMODPACK_ZIGBUILD_VENV:-/var/cache/kmodpack-tests/zigbuild}
if [ ! -x "$venv/bin/cargo-zigbuild" ]; then
    echo "portable: cargo-zigbuild is not installed in $venv (run: make portable, or tests/support/system-deps.sh dist)" >&2
    exit 1
fi
# cargo-zigbuild finds zig through the venv's python (`python -m ziglang`).
export PATH="$venv/bin:$PATH"
target_dir=${CARGO_TARGET_DIR:-target}
arches=("$@")
if [ ${#arches[@]} -eq 0 ]; then
    arches=(x86_64)
    if rustup target list --installed 2>/dev/null | grep -qx aarch64-unknown-linux-gnu ||
        rustup target add aarch64-unknown-linux-gnu >/dev/null 2>&1; then
        arches+=(aarch64)
    else
        echo "portable: no aarch64 standard library (rustup target add aarch64-unknown-linux-gnu failed); building x86_64 only" >&2
    fi
fi
for arch in "${arches[@]}"; do
    triple=$arch-unknown-linux-gnu
    if [ "$arch" != "$(uname -m)" ] && ! rustup target list --installed 2>/dev/null | grep -qx "$triple"; then
        rustup target add "$triple" >&2
    fi
    echo "portable: cargo zigbuild --release --locked --target $triple.$GLIBC" >&2
    cargo zigbuild --release --locked --target "$triple.$GLIBC" >&2
    echo "$target_dir/$triple/release/kmodpack"
done
