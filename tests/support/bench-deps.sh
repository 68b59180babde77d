#!/bin/bash
# `kmodpack deps` speed over every module of the installed kernel, batch
# (all paths on stdin, rpm >= 4.20 multifile / manual use) and one path per
# call (rpm <= 4.19), against `cat` of the same files.
# Targets (issue 3): batch provides+requires <= 2x warm cat; one call
# <= 5 ms including loading the kernel symvers (rpm itself costs ~3 ms/call).
# The modules are seen through a scratch buildroot whose
# lib/modules/<kver>/extra is a symlink to the kernel's tree, so they are
# treated as out-of-tree kmods: requires are then really computed (in-tree
# modules get none) and provides are ksym() — the kmod case we care about.
# The generator's files beside the buildroot stay in the scratch directory.
set -euo pipefail
: "${KMODPACK:?}" "${KVER:?}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/br/lib/modules/$KVER"
ln -s "/lib/modules/$KVER/kernel" "$tmp/br/lib/modules/$KVER/extra"
tree=$tmp/br/lib/modules/$KVER/extra
find -L "$tree" -name '*.ko*' | LC_ALL=C sort > "$tmp/all"
n=$(wc -l < "$tmp/all")
bytes=$(xargs stat -c %s < "$tmp/all" | awk '{s+=$1} END {print s}')
# The median-size module for the single-call figures.
one=$(xargs stat -c '%s %n' < "$tmp/all" | sort -n | awk -v m=$((n / 2)) 'NR == m {print $2}')
export RPM_BUILD_ROOT=$tmp/br
echo "modules: $n files, $((bytes / 1000000)) MB; kernel symvers $(wc -l < /lib/modules/$KVER/build/Module.symvers) lines"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores (wall times include scheduling delay; CPU = user+sys)"

# Batch: the whole package on stdin, so the package's own modules are all
# in the input (--siblings input; the same holds under rpm >= 4.20 multifile).
hyperfine --style basic --warmup 2 --runs 10 --export-json "$tmp/batch.json" \
    -n 'cat (warm)' "xargs cat < $tmp/all > /dev/null" \
    -n 'provides' "$KMODPACK deps provides --siblings input < $tmp/all > /dev/null" \
    -n 'requires' "$KMODPACK deps requires --siblings input < $tmp/all > /dev/null" \
    -n 'provides+requires' "$KMODPACK deps provides --siblings input < $tmp/all > /dev/null; $KMODPACK deps requires --siblings input < $tmp/all > /dev/null" \
    > /dev/null

# As rpm runs them for a one-module package: the ledger beside the
# buildroot lists this package's modules only.
rm -rf "$tmp/br.kmodpack-ledger"
hyperfine -N --style basic --warmup 10 --runs 200 --export-json "$tmp/one.json" \
    -n 'true (process start)' "/bin/true" \
    -n 'cat one' "cat $one" \
    -n 'provides one' "$KMODPACK deps provides $one" \
    -n 'requires one' "$KMODPACK deps requires $one" \
    > /dev/null

rm -rf "$tmp/br.kmodpack-ledger"
hyperfine --style basic --runs 1 --export-json "$tmp/percall.json" \
    -n 'cat, one per call' "xargs -n1 cat < $tmp/all > /dev/null" \
    -n 'provides, one per call' "xargs -n1 $KMODPACK deps provides < $tmp/all > /dev/null" \
    -n 'requires, one per call' "xargs -n1 $KMODPACK deps requires < $tmp/all > /dev/null" \
    > /dev/null

python3 - "$tmp" "$n" "$one" <<'PY'
import json, sys
tmp, n, one = sys.argv[1], int(sys.argv[2]), sys.argv[3]
def load(name):
    return {x["command"]: x for x in json.load(open(f"{tmp}/{name}.json"))["results"]}
def cpu(x):
    return x["user"] + x["system"]
b = load("batch")
cat = b["cat (warm)"]
print("batch (all paths in one call):")
for k, x in b.items():
    print(f"  {k:22s} wall {x['mean']*1000:8.1f} ms ({x['mean']/cat['mean']:4.2f}x cat)   CPU {cpu(x)*1000:8.1f} ms ({cpu(x)/cpu(cat):4.2f}x cat)")
pr = b["provides+requires"]
r = pr["mean"] / cat["mean"]
print(f"batch target (provides+requires <= 2.0x warm cat, wall): {'MET' if r <= 2.0 else 'MISSED'} ({r:.2f}x; CPU {cpu(pr)/cpu(cat):.2f}x)")
o = load("one")
print(f"one call ({one}):")
for k, x in o.items():
    print(f"  {k:22s} wall median {x['median']*1000:6.2f} ms, mean {x['mean']*1000:6.2f} ms   CPU {cpu(x)*1000:6.2f} ms")
req = o["requires one"]
print(f"one-call target (requires incl. symvers <= 5 ms, wall median): {'MET' if req['median'] <= 0.005 else 'MISSED'} ({req['median']*1000:.2f} ms; CPU {cpu(req)*1000:.2f} ms)")
p = load("percall")
print(f"one path per call over all {n} modules (as rpm <= 4.19 runs it):")
for k, x in p.items():
    print(f"  {k:24s} {x['mean']:7.2f} s  = {x['mean']/n*1000:5.2f} ms per file")
PY
