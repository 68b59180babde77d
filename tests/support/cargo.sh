#!/bin/bash
# Every build of kmodpack that is run or shipped goes through here: `make
# build` (install, demo, bench), `make test` (clippy and the suite) and `make
# portable` (dist, rpm). On Linux with glibc it links the binary statically
# (crt-static, non-PIE), for two reasons:
# - speed: rpm <= 4.19 runs the dependency generator once per packaged file,
#   8,000 processes for a 4,000-module package. A static binary has no
#   dynamic loader work at start: 0.98 ms per call against 1.32 ms dynamic
#   (/bin/cat: 0.85 ms), the difference between 1.08x and 1.23x the fork
#   floor in `make bench`;
# - portability: it needs no glibc of any version at run time, only a Linux
#   kernel >= 3.2 (the one the build host's glibc supports), so the binary
#   built here runs on EL7+ and SLE 12+ as well as Debian.
# The flags go to the target only (CARGO_BUILD_TARGET, i.e. `--target`, the
# host's triple, given): crt-static also reaching the host's proc-macro
# crates would fail the build. A plain `cargo build` still works (dynamic, non-PIE: see
# build.rs) for development.
# Output: target/<triple>/release/ instead of target/release/.
#
#   cargo.sh ARGS...      runs cargo ARGS with that target and those flags
#   cargo.sh --bin-path   prints the release binary's absolute path
#   KMODPACK_TRIPLE=aarch64-unknown-linux-gnu cargo.sh build ...
#                         cross-builds (with $arch-linux-gnu-gcc as linker)
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo=${CARGO:-cargo}
host=$("${RUSTC:-rustc}" -vV 2>/dev/null | sed -n "s/^host: //p" || true)
triple=${KMODPACK_TRIPLE:-$host}
if [ "${1:-}" = --bin-path ]; then
    dir=${CARGO_TARGET_DIR:-target}
    case $dir in /*) ;; *) dir=$PWD/$dir ;; esac
    echo "$dir/$triple/release/kmodpack"
    exit 0
fi
if [ -z "$triple" ]; then
    echo "cargo.sh: ${RUSTC:-rustc} -vV names no host triple: is Rust installed? (make toolchain says how)" >&2
    exit 1
fi
case $triple in
*-linux-gnu)
    # RUSTFLAGS, not CARGO_TARGET_<triple>_RUSTFLAGS: cargo takes the first
    # source it finds, so flags a build system exports (rpm's %build) would
    # otherwise silently replace these. With --target set they reach only
    # the target, never build scripts or proc-macros.
    if [ -n "${CARGO_ENCODED_RUSTFLAGS:-}" ]; then
        echo "cargo.sh: CARGO_ENCODED_RUSTFLAGS is set and would override the static link flags; unset it or pass the flags as RUSTFLAGS" >&2
        exit 1
    fi
    export RUSTFLAGS="${RUSTFLAGS:-} -C target-feature=+crt-static -C relocation-model=static"
    if [ "$triple" != "$host" ]; then
        env=$(echo "$triple" | tr 'a-z-' 'A-Z_')
        linker=CARGO_TARGET_${env}_LINKER
        export "$linker=${!linker:-${triple%%-*}-linux-gnu-gcc}"
    fi
    ;;
esac
export CARGO_BUILD_TARGET=$triple
exec "$cargo" "$@"
