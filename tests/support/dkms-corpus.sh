#!/bin/bash
# Fetches the DKMS corpus that tests/dkms_corpus.rs and `make corpus` run:
# every `*-dkms` package of this machine's Debian release, main component,
# plus zfs-dkms (OpenZFS) from contrib — downloaded with `apt-get download`
# (never vendored) and unpacked into a cache kept between runs.
#
# The machine's apt configuration is not changed: a private sources list
# names the archive the machine's apt already uses (debian-archive.sh, or
# KMODPACK_DEBIAN_MIRROR) with main and contrib, and apt runs with its own
# lists and cache directories under the corpus cache.
#
# Usage: dkms-corpus.sh [CACHE]   (default: $KMODPACK_DKMS_CORPUS or
# /var/cache/kmodpack-tests/dkms-corpus). Writes CACHE/corpus.tsv:
#   package <TAB> version <TAB> component <TAB> unpacked tree
# KMODPACK_DKMS_CORPUS_REFRESH=1 updates the package lists first.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cache=${1:-${KMODPACK_DKMS_CORPUS:-/var/cache/kmodpack-tests/dkms-corpus}}

if ! command -v apt-get >/dev/null 2>&1; then
    echo "dkms-corpus: no apt-get here; the DKMS corpus is Debian's" >&2
    exit 1
fi
codename=$(sed -n 's/^VERSION_CODENAME=["]\{0,1\}\([^"]*\)["]\{0,1\}$/\1/p' /etc/os-release | head -1)
archive=${KMODPACK_DEBIAN_MIRROR:-$(bash "$here/debian-archive.sh")}
keyring=/usr/share/keyrings/debian-archive-keyring.gpg

mkdir -p "$cache/apt/lists/partial" "$cache/apt/cache/archives/partial" \
    "$cache/apt/sources.list.d" "$cache/debs" "$cache/trees"
printf 'deb [signed-by=%s] %s %s main contrib\n' "$keyring" "$archive" "$codename" \
    >"$cache/apt/sources.list.new"
if ! cmp -s "$cache/apt/sources.list.new" "$cache/apt/sources.list" 2>/dev/null; then
    mv "$cache/apt/sources.list.new" "$cache/apt/sources.list"
    rm -f "$cache/apt/lists/"*_Packages* 2>/dev/null || :
else
    rm -f "$cache/apt/sources.list.new"
fi
apt_opts=(
    -o "Dir::Etc::sourcelist=$cache/apt/sources.list"
    -o "Dir::Etc::sourceparts=$cache/apt/sources.list.d"
    -o "Dir::State::Lists=$cache/apt/lists"
    -o "Dir::Cache=$cache/apt/cache"
    -o "APT::Sandbox::User=root"
)
if [ "${KMODPACK_DKMS_CORPUS_REFRESH:-0}" = 1 ] || ! ls "$cache/apt/lists/"*_Packages* >/dev/null 2>&1; then
    echo "dkms-corpus: reading the package lists of $archive $codename (main contrib)" >&2
    apt-get "${apt_opts[@]}" update -q >/dev/null
fi

# The packages: *-dkms in main (dh-dkms is debhelper's addon, not a module),
# and zfs-dkms from contrib.
mapfile -t names < <(apt-cache "${apt_opts[@]}" search --names-only -- '-dkms$' |
    awk '{print $1}' | grep -v '^dh-dkms$' | LC_ALL=C sort -u)
rows=()
for p in "${names[@]}"; do
    section=$(apt-cache "${apt_opts[@]}" show --no-all-versions "$p" | sed -n 's/^Section: //p' | head -1)
    case $section in
    contrib/* | non-free*) [ "$p" = zfs-dkms ] || continue; component=contrib ;;
    *) component=main ;;
    esac
    version=$(apt-cache "${apt_opts[@]}" show --no-all-versions "$p" | sed -n 's/^Version: //p' | head -1)
    rows+=("$p	$version	$component")
done

cd "$cache/debs"
for r in "${rows[@]}"; do
    IFS=$'\t' read -r p version component <<<"$r"
    # apt writes an epoch's `:` as %3a in file names.
    if ! ls "${p}_${version/:/%3a}_"*.deb >/dev/null 2>&1; then
        echo "dkms-corpus: downloading $p $version" >&2
        apt-get "${apt_opts[@]}" download -q "$p=$version" >/dev/null
    fi
done

out="$cache/corpus.tsv.new"
: >"$out"
for r in "${rows[@]}"; do
    IFS=$'\t' read -r p version component <<<"$r"
    deb=$(ls "$cache/debs/${p}_${version/:/%3a}_"*.deb | head -1)
    tree="$cache/trees/${p}_${version#*:}"
    if [ ! -d "$tree" ]; then
        rm -rf "$tree.tmp"
        dpkg-deb -x "$deb" "$tree.tmp"
        mv "$tree.tmp" "$tree"
    fi
    printf '%s\t%s\t%s\t%s\n' "$p" "$version" "$component" "$tree" >>"$out"
done
mv "$out" "$cache/corpus.tsv"
echo "dkms-corpus: $(wc -l <"$cache/corpus.tsv") packages in $cache" >&2
