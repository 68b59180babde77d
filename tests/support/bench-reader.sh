#!/bin/bash
# Reader speed: read and parse every module of the installed kernel
# (`kmodpack symvers` over the whole tree: ELF, .modinfo, __versions,
# exports, signature) against a warm `cat` of the same files.
# Target (issue 2): within 2x of a warm cat.
set -euo pipefail
tree=/lib/modules/$KVER/kernel
n=$(find "$tree" -name '*.ko*' | wc -l)
bytes=$(find "$tree" -name '*.ko*' -printf '%s\n' | awk '{s+=$1} END {print s}')
echo "modules: $n files, $((bytes / 1000000)) MB under $tree"
hyperfine --style basic --warmup 2 --runs 10 --export-json /tmp/kmodpack-bench-reader.json \
    -n 'cat (warm)' "find $tree -name '*.ko*' -print0 | xargs -0 cat > /dev/null" \
    -n 'kmodpack symvers -j1' "$KMODPACK symvers -j1 --root $tree $tree > /dev/null" \
    -n 'kmodpack symvers' "$KMODPACK symvers --root $tree $tree > /dev/null"
python3 - <<'PY'
import json
r = {x["command"]: x["mean"] for x in json.load(open("/tmp/kmodpack-bench-reader.json"))["results"]}
cat = r["cat (warm)"]
for k, v in r.items():
    print(f"  {k:24s} {v*1000:8.1f} ms  {v/cat:5.2f}x cat")
ratio = r["kmodpack symvers"] / cat
print(f"reader target (<= 2.0x warm cat): {'MET' if ratio <= 2.0 else 'MISSED'} ({ratio:.2f}x)")
PY
