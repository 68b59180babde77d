#!/bin/bash
# kabi check speed: every module of the installed kernel checked against its
# own symvers (what weak-modules asks depmod to do for a whole tree), versus
# `depmod -naeE <symvers>` on the same tree (no files written).
# Target (issue 6): faster than depmod. Also shown pinned to one core
# (taskset), since kmodpack reads modules on all cores and depmod uses one.
set -euo pipefail
tree=/lib/modules/$KVER
symvers=$tree/build/Module.symvers
n=$(find "$tree/kernel" -name '*.ko*' | wc -l)
echo "modules: $n under $tree/kernel, symvers $symvers ($(wc -l < "$symvers") lines)"
# Sanity: both must find the tree consistent (kmodpack exit 0, depmod silent).
"$KMODPACK" kabi check --kernel "$tree" "$tree/kernel" > /tmp/kmodpack-bench-kabi.txt
echo "kmodpack verdicts: $(grep -c ': compatible$' /tmp/kmodpack-bench-kabi.txt) compatible of $(wc -l < /tmp/kmodpack-bench-kabi.txt)"
echo "depmod warnings: $(depmod -naeE "$symvers" "$KVER" 2>&1 >/dev/null | grep -c 'needs unknown\|disagrees' || true)"
hyperfine --style basic --warmup 1 --runs 5 --export-json /tmp/kmodpack-bench-kabi.json \
    -n 'depmod -naeE' "depmod -naeE $symvers $KVER > /dev/null" \
    -n 'kmodpack kabi check' "$KMODPACK kabi check --kernel $tree $tree/kernel > /dev/null" \
    -n 'kmodpack kabi check (1 core)' "taskset -c 0 $KMODPACK kabi check --kernel $tree $tree/kernel > /dev/null"
python3 - <<'PY'
import json
res = {x["command"]: x for x in json.load(open("/tmp/kmodpack-bench-kabi.json"))["results"]}
d = res["depmod -naeE"]
dcpu = d["user"] + d["system"]
for k, x in res.items():
    cpu = x["user"] + x["system"]
    print(f"  {k:30s} wall {x['mean']*1000:7.1f} ms ({d['mean']/x['mean']:4.2f}x depmod)  cpu {cpu*1000:7.1f} ms ({dcpu/cpu:4.2f}x depmod)")
k = res["kmodpack kabi check"]
ok = k["mean"] < d["mean"] and k["user"] + k["system"] < dcpu
print(f"kabi target (faster than depmod -naeE, wall and cpu): {'MET' if ok else 'MISSED'}")
PY
