#!/bin/bash
# rpmbuild of one package holding every module of the installed kernel
# (copied below extra/, so they are out-of-tree kmods to the generators;
# uncompressed payload, __os_install_post off), three ways in one run:
# no generator, a no-op forked generator (a `cat >/dev/null` script as
# provides and requires: the fork floor of rpm <= 4.19's one call per file)
# and kmodpack's class registered as `kmodpack build` does (stock attrs
# linked into a private fileattrs directory, kmodpack.attr's macros).
# kmodpack runs twice: in-process (the default on rpm >= 4.16: parametric
# Lua generators, one batch per package and kind; target <= 1.10x the
# generator-free build) and forked once per file (%{kmodpack_forked}: the
# plain commands handed to rpm, as rpm < 4.16 runs them; target <= 1.15x
# the fork floor). Their packages are compared file by file: they
# must not differ. ROUNDS (default 3) rounds of every row, interleaved;
# the medians are compared. Every row runs twice per round: with this
# rpm's own elf.attr, and with modules excluded from elfdeps as the target
# distributions configure it (see run() below).
set -euo pipefail
: "${KMODPACK:?}" "${KVER:?}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=$(find "/lib/modules/$KVER/kernel" -name '*.ko*' | wc -l)
mkdir -p "$tmp/SPECS" "$tmp/none" "$tmp/noop" "$tmp/kmodpack"
cat > "$tmp/SPECS/bench.spec" <<SPEC
Name: kmodpack-bench
Version: 1
Release: 1
Summary: every module of $KVER
License: GPL-2.0-only
%global __os_install_post %{nil}
%global debug_package %{nil}
%global _binary_payload w0.ufdio
%global _build_id_links none
%description
rpmbuild benchmark package.
%install
mkdir -p %{buildroot}/lib/modules/$KVER/extra
cp -a /lib/modules/$KVER/kernel/. %{buildroot}/lib/modules/$KVER/extra/
%files
/lib/modules/$KVER/extra/
SPEC
# The forked row's spec: the opt-out line after the %global lines.
sed 's/^%description$/%{kmodpack_forked}\n%description/' "$tmp/SPECS/bench.spec" > "$tmp/SPECS/bench-forked.spec"
# Class names come from the directory; stock macros from rpm's own path.
for d in none noop kmodpack; do
    for a in /usr/lib/rpm/fileattrs/*.attr; do ln -s "$a" "$tmp/$d/"; done
done
printf '#!/bin/sh\ncat >/dev/null\n' > "$tmp/noop.sh"
chmod 0755 "$tmp/noop.sh"
printf '%%__noop_provides %s\n%%__noop_requires %s\n%%__noop_path ^/lib/modules/.*\\.ko$\n' \
    "$tmp/noop.sh" "$tmp/noop.sh" > "$tmp/noop/noop.attr"
sed "s|@KMODPACK@|$KMODPACK|" templates/rpm/kmodpack.attr > "$tmp/kmodpack/kmodpack.attr"
TIMEFORMAT=%R
# elf: "stock" runs this rpm's own elf.attr; "nomod" excludes modules from
# elfdeps as the suite's other rpms do (rpm 4.16's elf.attr, RHEL 9's
# version: %__elf_flags exeonly, and .ko files are not executable; rpm
# 4.20's: %__elf_exclude_path for /lib/modules/*.ko). Debian 12's rpm 4.18
# runs elfdeps on every .ko: 8,046 forks that print nothing, in every row.
run() {
    local d=$1 elf=$2
    local extra=()
    case $d in
        noop) extra=(--load "$tmp/noop/noop.attr") ;;
        kmodpack|forked) extra=(--load "$tmp/kmodpack/kmodpack.attr"
                         --define "_kmodpack_symvers /lib/modules/$KVER/build/Module.symvers") ;;
    esac
    [ "$elf" = nomod ] && extra+=(--define '__elf_exclude_path ^/lib/modules/.*[.]ko$')
    local spec=$tmp/SPECS/bench.spec
    [ "$d" = forked ] && spec=$tmp/SPECS/bench-forked.spec
    rm -rf "$tmp/top"
    { time rpmbuild -bb --quiet --define "_topdir $tmp/top" --define "_fileattrsdir $tmp/${d/forked/kmodpack}" \
        "${extra[@]}" "$spec" >/dev/null 2>"$tmp/$d.log"; } 2>&1
}
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
# Rounds of all rows, interleaved, so that drift of the machine (page cache,
# other load) reaches every row alike; the medians are compared.
rounds=${ROUNDS:-3}
echo "rpmbuild $(rpmbuild --version | awk '{print $3}'), $n modules, $rounds interleaved rounds; load average: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
declare -A t
rows=(none noop forked kmodpack)
for r in $(seq "$rounds"); do
    line="round $r:"
    for elf in stock nomod; do
        for d in "${rows[@]}"; do
            s=$(run "$d" "$elf")
            t[$d.$elf]="${t[$d.$elf]:-} $s"
            line="$line $d/$elf $s"
            if [ "$r" = 1 ] && [ "$elf" = stock ]; then
                case $d in
                forked) mv "$tmp"/top/RPMS/*/*.rpm "$tmp/forked.rpm" ;;
                kmodpack) mv "$tmp"/top/RPMS/*/*.rpm "$tmp/kmodpack.rpm" ;;
                esac
            fi
        done
    done
    echo "$line"
done
rpm -qp --provides "$tmp/kmodpack.rpm" | grep -c '^ksym(' | sed 's/^/  ksym() Provides in the kmodpack package: /'
for tag in FILEPROVIDE FILEREQUIRE; do
    qf="[%{FILENAMES}\t%{$tag}\n]"
    d=$(diff <(rpm -qp --qf "$qf" "$tmp/forked.rpm") <(rpm -qp --qf "$qf" "$tmp/kmodpack.rpm") | grep -c '^[<>]' || true)
    echo "  $tag lines differing between forked and in-process: $d"
done
for elf in stock nomod; do
    # shellcheck disable=SC2086
    none=$(median ${t[none.$elf]}) noop=$(median ${t[noop.$elf]})
    # shellcheck disable=SC2086
    fork=$(median ${t[forked.$elf]}) kmp=$(median ${t[kmodpack.$elf]})
    case $elf in
    stock) what="this rpm's elf.attr (elfdeps on every .ko)" ;;
    nomod) what="elfdeps off for modules, as rpm 4.16 and 4.20 configure it" ;;
    esac
    echo "$what, medians:"
    echo "  no generator:              ${none} s"
    echo "  no-op forked script:       ${noop} s (fork floor)"
    echo "  kmodpack forked per file:  ${fork} s"
    echo "  kmodpack in-process (Lua): ${kmp} s"
    awk -v a="$kmp" -v f="$fork" -v b="$noop" -v c="$none" 'BEGIN {
        printf "  forked / fork floor: %.2fx (target <= 1.15x); in-process / no generator: %.2fx (target <= 1.10x)\n", f / b, a / c }'
done
