#!/bin/bash
# `make dist` / `make rpm`: the release artifacts from the portable binaries
# (tests/support/portable.sh builds them; `make portable` first).
#
#   dist.sh tarball  target/dist/kmodpack-<version>.tar.gz:
#                      bin/<arch>/kmodpack (x86_64, aarch64 when built),
#                      man/man1/*.1, man/man5/*.5, completions/, rpm/ (fileattrs class and
#                      macros with the @KMODPACK@ placeholder), templates/,
#                      kmodpack.spec (specs/kmodpack-bin.spec), README.md
#                    reproducible: sorted, owner 0, mtimes = SOURCE_DATE_EPOCH
#                    (default: the last commit's time)
#   dist.sh rpm      target/dist/kmodpack-<version>-1.<arch>.rpm for each
#                    arch in the tarball (rpmbuild -tb --target <arch>)
# Prints the paths written, one per line. KMODPACK_DIST_DIR overrides
# target/dist.
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$PWD
version=$(sed -n 's/^version *= *"\(.*\)"/\1/p' Cargo.toml | head -1)
target_dir=${CARGO_TARGET_DIR:-target}
case $target_dir in /*) ;; *) target_dir=$repo/$target_dir ;; esac
out=${KMODPACK_DIST_DIR:-$target_dir/dist}
name=kmodpack-$version
tarball=$out/$name.tar.gz
spec_version=$(sed -n 's/^Version: *//p' specs/kmodpack-bin.spec)
if [ "$spec_version" != "$version" ]; then
    echo "dist: specs/kmodpack-bin.spec says Version $spec_version, Cargo.toml $version" >&2
    exit 1
fi

tarball() {
    local arches=() host bin a
    for a in x86_64 aarch64; do
        bin=$target_dir/$a-unknown-linux-gnu/release/kmodpack
        [ -x "$bin" ] || continue
        # Only what portable.sh builds now: static (an older build there may
        # be dynamic) and, for the host's arch, this version.
        if ! file -b "$bin" | grep -q 'statically linked'; then
            echo "dist: skipping $bin: not statically linked (rebuild: make portable)" >&2
            continue
        fi
        if [ "$a" = "$(uname -m)" ] && [ "$("$bin" --version)" != "kmodpack $version" ]; then
            echo "dist: $bin is not kmodpack $version (rebuild: make portable)" >&2
            exit 1
        fi
        arches+=("$a")
    done
    if [ ${#arches[@]} -eq 0 ]; then
        echo "dist: no portable binary under $target_dir/*-unknown-linux-gnu/release (run: make portable)" >&2
        exit 1
    fi
    mkdir -p "$out"
    stage=$(mktemp -d "$out/.stage.XXXXXX")
    trap 'rm -rf "$stage"' EXIT
    mkdir -p "$stage/$name"/{bin,man/man1,completions,rpm}
    for a in "${arches[@]}"; do
        bin=$target_dir/$a-unknown-linux-gnu/release/kmodpack
        mkdir -p "$stage/$name/bin/$a"
        # Stripped: the host's strip for its own arch, the cross binutils'
        # (<arch>-linux-gnu-strip) or llvm-objcopy for another; shipped as
        # built when none of them can.
        out_bin=$stage/$name/bin/$a/kmodpack
        if [ "$a" = "$(uname -m)" ] && command -v strip >/dev/null && strip -o "$out_bin" "$bin"; then
            :
        elif command -v "$a-linux-gnu-strip" >/dev/null && "$a-linux-gnu-strip" -o "$out_bin" "$bin"; then
            :
        elif command -v llvm-objcopy >/dev/null && llvm-objcopy --strip-all "$bin" "$out_bin" 2>/dev/null; then
            :
        else
            echo "dist: shipping $bin unstripped (no strip for $a)" >&2
            cp "$bin" "$out_bin"
        fi
        chmod 0755 "$stage/$name/bin/$a/kmodpack"
    done
    host=$stage/$name/bin/$(uname -m)/kmodpack
    "$host" generate man "$stage/$name/man/man1" >/dev/null
    mkdir -p "$stage/$name/man/man5"
    mv "$stage/$name/man/man1"/*.5 "$stage/$name/man/man5/"
    "$host" generate completions "$stage/$name/completions" >/dev/null
    cp templates/rpm/kmodpack.attr templates/rpm/macros.kmodpack "$stage/$name/rpm/"
    mkdir -p "$stage/$name/templates"
    cp templates/*.tera "$stage/$name/templates/"
    cp specs/kmodpack-bin.spec "$stage/$name/kmodpack.spec"
    cp README.md "$stage/$name/"
    local epoch=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || echo 0)}
    tar -C "$stage" --sort=name --owner=0 --group=0 --numeric-owner --mtime="@$epoch" \
        --mode='u+rwX,go+rX,go-w' -cf - "$name" | gzip -n -9 > "$tarball.tmp"
    mv "$tarball.tmp" "$tarball"
    echo "$tarball"
}

rpms() {
    [ -f "$tarball" ] || { echo "dist: $tarball missing (run: make dist)" >&2; exit 1; }
    local a
    top=$(mktemp -d "$out/.rpmbuild.XXXXXX")
    trap 'rm -rf "$top"' EXIT
    for a in $(tar -tzf "$tarball" | sed -n "s|^$name/bin/\([^/]*\)/kmodpack$|\1|p"); do
        rpmbuild -tb --target "$a" --define "_topdir $top" "$tarball" >"$top/build-$a.log" 2>&1 || {
            cat "$top/build-$a.log" >&2
            echo "dist: rpmbuild -tb --target $a failed" >&2
            exit 1
        }
        for r in "$top"/RPMS/*/kmodpack-*.rpm; do
            cp "$r" "$out/"
            echo "$out/$(basename "$r")"
        done
        rm -rf "$top/RPMS"
    done
}

case ${1:-} in
tarball) tarball ;;
rpm) rpms ;;
*) echo "usage: dist.sh tarball|rpm" >&2; exit 2 ;;
esac
