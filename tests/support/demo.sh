#!/bin/bash
# `make demo`: the whole kmodpack job on the bundled example (specs/kpx-zfs,
# an exporter like ZFS, and specs/kpx-lustre, an importer like Lustre with a
# PCI id table):
#   spec -> build (rpmbuild, kmodpack as the dependency generator) handing its
#   results to the driver update disk (build --dud) -> deps check -> kabi check
#   -> alias -> dud verify.
# The modules are compiled against this machine's kernel headers while the
# packages target an RHEL 9.5 kernel release: Debian's release string
# (e.g. 6.1.0-56-amd64) is not a valid rpm version, so anaconda's
# `kernel-modules >= <release>` selection could not be expressed with it.
# The last line printed is the path of the driver update disk.
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$PWD
KMODPACK="${KMODPACK:-$(bash "$repo/tests/support/cargo.sh" --bin-path)}"
OUT="${DEMO_OUT:-$repo/out/demo}"
KVER="${KVER:-$(for d in /lib/modules/*/build/Module.symvers; do basename "$(dirname "$(dirname "$d")")"; done | sort -V | tail -1)}"
TARGET_RELEASE="5.14.0-503.11.1.el9_5"          # what the packages say they are for
INSTALLER_KERNEL="5.14.0-503.14.1.el9_5.x86_64"  # the installer that will load the disk
ANACONDA="34.25.5.11"                            # its anaconda (RHEL 9.5 line: extracts .ko.xz)
HEADERS="/lib/modules/$KVER/build"
[ -n "$KVER" ] && [ -f "$HEADERS/Module.symvers" ] || { echo "demo: no kernel headers with Module.symvers under /lib/modules (run: make demo)" >&2; exit 1; }

step() { printf '\n==> %s\n' "$*"; }
rm -rf "$OUT"
mkdir -p "$OUT/specs"

step "1. Render kmod specs from the package descriptions (kmodpack spec)"
for pkg in kpx-zfs kpx-lustre; do
    "$KMODPACK" spec "specs/$pkg/$pkg.yaml" --kernel-build-dir "$HEADERS" -o "$OUT/specs/kmod-$pkg.spec"
    echo "    $OUT/specs/kmod-$pkg.spec ($(wc -l < "$OUT/specs/kmod-$pkg.spec") lines)"
done

step "2. Build and sign the RPMs with rpmbuild against $HEADERS, targeting $TARGET_RELEASE, and hand them to a driver update disk for the $INSTALLER_KERNEL installer, anaconda $ANACONDA (kmodpack build --dud)"
# A throwaway Secure Boot signing key (use your enrolled MOK/db key for real).
mkdir -p "$OUT/keys"
openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -sha256 -batch \
    -subj "/CN=kmodpack demo signing key/" \
    -addext "keyUsage=digitalSignature" -addext "extendedKeyUsage=codeSigning" \
    -keyout "$OUT/keys/signing_key.pem" -out "$OUT/keys/signing_cert.pem" 2>/dev/null
# The disk takes the kmods of the cells that built (never the SRPMs, -devel or
# debuginfo packages), runs anaconda's rules on them and writes the ISO; the
# findings go into report.json under "dud".
"$KMODPACK" build specs/kpx-zfs/kpx-zfs.yaml specs/kpx-lustre/kpx-lustre.yaml \
    --kernel "$TARGET_RELEASE.x86_64=$HEADERS" \
    --sign-key "$OUT/keys/signing_key.pem" --sign-cert "$OUT/keys/signing_cert.pem" \
    --resultdir "$OUT/results" --report "$OUT/report.json" \
    --dud "$OUT/kpx-dd.iso" --installer-kernel "$INSTALLER_KERNEL" --anaconda-version "$ANACONDA" \
    --target-symvers "$HEADERS/Module.symvers" --pci-id 15b3:101b
# The RPMs the handoff put on the disk (report.json: dud.handoff.taken).
mapfile -t kmods < <(python3 -c 'import json, sys
for p in json.load(open(sys.argv[1]))["dud"]["handoff"]["taken"]:
    print(p["file"])' "$OUT/report.json")
for r in "${kmods[@]}"; do
    prov=$(rpm -qp --provides "$r" 2>/dev/null | grep -c '^ksym(' || true)
    kreq=$(rpm -qp --requires "$r" 2>/dev/null | grep -c '^kernel(' || true)
    kreq2=$(rpm -qp --requires "$r" 2>/dev/null | grep -c '^ksym(' || true)
    printf '    %-60s ksym Provides: %3s  kernel() Requires: %3s  ksym() Requires: %3s\n' "$(basename "$r")" "$prov" "$kreq" "$kreq2"
done

step "3. Resolve every ksym()/kernel() Require across the packages on the disk and the kernel (kmodpack deps check)"
"$KMODPACK" deps check --symvers "$HEADERS/Module.symvers" "${kmods[@]}"

step "4. Will the modules load on kernel $KVER? (kmodpack kabi check)"
"$KMODPACK" kabi check --kernel "$HEADERS/Module.symvers" "${kmods[@]}"

step "5. Which module drives the ConnectX-like HCA 15b3:101b? (kmodpack alias)"
"$KMODPACK" alias --pci 15b3:101b "${kmods[@]}"

step "6. Read the disk back as the installer would (kmodpack dud verify)"
"$KMODPACK" dud verify "$OUT/kpx-dd.iso" --installer-kernel "$INSTALLER_KERNEL" --anaconda-version "$ANACONDA"

step "Done. Boot the installer with inst.dd (or attach the disk: label OEMDRV is loaded automatically)."
echo "$OUT/kpx-dd.iso"
