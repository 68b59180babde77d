#!/bin/bash
# `make fuzz`: coverage-guided fuzzing of the readers with cargo-fuzz
# (libFuzzer), seeded from the real fixtures. FUZZ_SECONDS per target
# (default 300). Stable toolchains need RUSTC_BOOTSTRAP=1 for the sanitizer flags.
set -euo pipefail
cd "$(dirname "$0")/../.."
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
export RUSTC_BOOTSTRAP=1
secs="${FUZZ_SECONDS:-300}"
fuzz=tests/fuzz
mkdir -p $fuzz/corpus/module_reader $fuzz/corpus/symvers_reader $fuzz/corpus/description_spec
find ../shared/kabi-fixtures -name '*.ko*' -exec cp -f {} $fuzz/corpus/module_reader/ \;
find tests/modules target/test-modules -name '*.ko' -exec cp -f {} $fuzz/corpus/module_reader/ \; 2>/dev/null || true
cp -f ../shared/kabi-fixtures/rhel-kabi/* $fuzz/corpus/symvers_reader/
cp -f ../shared/kabi-fixtures/expected/*Module.symvers-lines.txt $fuzz/corpus/symvers_reader/
cp -f tests/data/spec/*.yaml $fuzz/corpus/description_spec/ 2>/dev/null || true
for t in module_reader symvers_reader description_spec; do
    echo "== fuzzing $t for ${secs}s"
    cargo fuzz run --fuzz-dir $fuzz $t $fuzz/corpus/$t -- -max_total_time="$secs" -max_len=1048576 -rss_limit_mb=2048
done
