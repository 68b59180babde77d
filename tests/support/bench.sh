#!/bin/bash
# `make bench`: runs every tests/support/bench-*.sh in order. Each prints
# its own figures; README.md quotes them with this command.
set -euo pipefail
cd "$(dirname "$0")/../.."
export KMODPACK="${KMODPACK:-$(bash tests/support/cargo.sh --bin-path)}"
export KVER="${KVER:-$(for d in /lib/modules/*/build/Module.symvers; do basename "$(dirname "$(dirname "$d")")"; done | sort -V | tail -1)}"
echo "kmodpack bench: kernel $KVER, $(nproc) cores, $(date -u +%Y-%m-%d)"
for b in tests/support/bench-*.sh; do
    echo
    echo "== $(basename "$b" .sh)"
    bash "$b"
done
