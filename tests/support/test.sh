#!/bin/bash
# `make test`: the whole suite, then one closing line summing every test
# binary's result ("N passed, N failed, N skipped"), so a log reader sees
# the total rather than the last binary's (the doc-tests, usually empty).
set -uo pipefail
cd "$(dirname "$0")/../.."
mkdir -p target
# The DKMS corpus (Debian's *-dkms packages and zfs-dkms), fetched once into
# /var/cache/kmodpack-tests/dkms-corpus for tests/dkms_corpus.rs.
bash tests/support/dkms-corpus.sh || exit 1
# Lints over every target (library, CLI, tests, benches) before the tests;
# a lint failure fails `make test` but the tests still run. Both build
# through cargo.sh: the suite runs the static binary that is shipped
# (target/<host triple>/release/kmodpack, also the portable one).
bash tests/support/toolchain.sh clippy || exit 1
bash tests/support/cargo.sh clippy --release --locked --all-targets -- -D warnings 2>&1 | tee target/clippy.log
clippy=${PIPESTATUS[0]}
bash tests/support/cargo.sh test --release --locked --no-fail-fast -- --test-threads=2 2>&1 | tee target/test.log
status=${PIPESTATUS[0]}
if [ "$clippy" -ne 0 ]; then
    echo "cargo clippy --all-targets -D warnings failed (target/clippy.log)" >&2
    [ "$status" -ne 0 ] || status=$clippy
fi
awk '/^test result:/ { p += $4; f += $6; s += $8 }
     END { printf "%d passed, %d failed, %d skipped\n", p, f, s }' target/test.log
exit "$status"
