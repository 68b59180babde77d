#!/bin/bash
# Prints the Debian archive URL this machine's apt already uses, so the test
# chroots are bootstrapped from it (no mirror is named in the project).
# Reads sources.list and sources.list.d/*.list (one-line format) and
# sources.list.d/*.sources (deb822), as apt does, and takes the first `deb`
# entry for the machine's own Debian release (VERSION_CODENAME in
# os-release, without -updates/-security/-backports). Exits 1 with a
# message when there is none (not Debian, or only other archives).
#
# APT_ETC (default /etc/apt) and OS_RELEASE (default /etc/os-release) point
# elsewhere for tests.
set -euo pipefail
etc=${APT_ETC:-/etc/apt}
os_release=${OS_RELEASE:-/etc/os-release}

codename=$(sed -n 's/^VERSION_CODENAME=["]\{0,1\}\([^"]*\)["]\{0,1\}$/\1/p' "$os_release" 2>/dev/null | head -1)
id=$(sed -n 's/^ID=["]\{0,1\}\([^"]*\)["]\{0,1\}$/\1/p' "$os_release" 2>/dev/null | head -1)
if [ "$id" != debian ] || [ -z "$codename" ]; then
    echo "debian-archive: $os_release is not a Debian release with a VERSION_CODENAME" >&2
    exit 1
fi

files=()
[ -f "$etc/sources.list" ] && files+=("$etc/sources.list")
for f in "$etc"/sources.list.d/*.list "$etc"/sources.list.d/*.sources; do
    [ -f "$f" ] && files+=("$f")
done

# One "URI SUITE..." line per deb entry, in apt's file order.
entries() {
    local f
    for f in "${files[@]}"; do
        case $f in
        *.sources)
            # deb822: paragraphs separated by blank lines; fields may fold
            # onto continuation lines; Enabled: no disables a paragraph.
            awk '
                function flush() {
                    if (types ~ /(^| )deb( |$)/ && enabled != "no") {
                        n = split(uris, u, " ")
                        for (i = 1; i <= n; i++) print u[i] " " suites
                    }
                    types = uris = suites = field = ""; enabled = "yes"
                }
                BEGIN { enabled = "yes" }
                /^[ \t]*#/ { next }
                /^[ \t]*$/ { flush(); next }
                /^[ \t]/ { v = $0; gsub(/^[ \t]+|[ \t]+$/, "", v)
                           if (field == "uris") uris = uris " " v
                           else if (field == "suites") suites = suites " " v
                           else if (field == "types") types = types " " v
                           next }
                { f = tolower($0); sub(/:.*/, "", f); v = $0; sub(/^[^:]*:[ \t]*/, "", v)
                  sub(/[ \t]+$/, "", v); field = f
                  if (f == "types") types = v
                  else if (f == "uris") uris = v
                  else if (f == "suites") suites = v
                  else if (f == "enabled") enabled = tolower(v) }
                END { flush() }
            ' "$f"
            ;;
        *)
            # One-line: deb [options] URI suite [component...]
            awk '
                /^[ \t]*deb[ \t]/ {
                    sub(/#.*/, "")
                    sub(/^[ \t]*deb[ \t]+/, "")
                    if ($0 ~ /^\[/) sub(/^\[[^]]*\][ \t]*/, "")
                    print $1 " " $2
                }
            ' "$f"
            ;;
        esac
    done
}

while read -r uri suites; do
    for s in $suites; do
        if [ "$s" = "$codename" ]; then
            echo "${uri%/}"
            exit 0
        fi
    done
done < <(entries)
echo "debian-archive: no deb entry for $codename in $etc/sources.list or $etc/sources.list.d" >&2
exit 1
