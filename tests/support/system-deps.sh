#!/bin/bash
# Installs the system packages kmodpack's tests, demo and benchmarks use,
# when they are missing. Debian/Ubuntu (apt-get) and Fedora/RHEL (dnf).
# Idempotent and quiet when everything is present.
set -euo pipefail

need_cmds=(rpm rpmbuild rpmspec rpm2cpio createrepo_c xorriso isoinfo bsdtar cpio
           qemu-system-x86_64 busybox modprobe depmod gcc make zstd xz gawk openssl
           hyperfine file strip as llvm-mc gzip python3 taskset dnf)
missing=()
for c in "${need_cmds[@]}"; do
    command -v "$c" >/dev/null 2>&1 || missing+=("$c")
done
# Kernel headers with a Module.symvers and the matching kernel image.
have_kernel=no
for d in /lib/modules/*/; do
    if [ -f "$d/build/Module.symvers" ] && { [ -f "/boot/vmlinuz-$(basename "$d")" ] || [ -f "$d/vmlinuz" ]; }; then
        have_kernel=yes
    fi
done
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

if [ ${#missing[@]} -ne 0 ] || [ $have_kernel = no ]; then
    echo "system-deps: missing: ${missing[*]:-} kernel-headers+image:$have_kernel" >&2
    if command -v apt-get >/dev/null 2>&1; then
        export DEBIAN_FRONTEND=noninteractive
        $SUDO apt-get update -q
        $SUDO apt-get install -y -q --no-install-recommends \
            rpm rpm2cpio createrepo-c xorriso genisoimage libarchive-tools cpio \
            qemu-system-x86 busybox-static kmod build-essential \
            linux-headers-amd64 linux-image-amd64 zstd xz-utils gawk openssl \
            hyperfine file binutils ca-certificates python3 util-linux llvm gzip dnf
    elif command -v dnf >/dev/null 2>&1; then
        $SUDO dnf install -y \
            rpm-build rpm createrepo_c xorriso genisoimage bsdtar cpio \
            qemu-system-x86-core busybox kmod gcc make elfutils-libelf-devel \
            kernel-devel kernel-core zstd xz gawk openssl hyperfine file binutils python3 util-linux llvm gzip
    else
        echo "system-deps: neither apt-get nor dnf found; install the packages listed in README.md by hand" >&2
        exit 1
    fi
fi

# Other rpm versions for tests/deps_rpm.rs, as minimal Debian chroots
# (~250 MB and about a minute each, kept between runs): rpm 4.20 (Debian 13)
# runs generators with the multifile protocol; rpm 4.16 (Debian 11, the
# version RHEL 9 ships) once per file. A chroot is made only where apt-get
# exists and, for 4.20, the host's rpm is older; KMODPACK_RPM420_ROOT /
# KMODPACK_RPM416_ROOT override the places. Without them the tests say
# SKIPPED.
rpm_ver=$(rpmbuild --version 2>/dev/null | sed -n 's/^RPM version //p')
chroot_rpm() { # suite root
    local suite=$1 root=$2
    [ -x "$root/usr/bin/rpmbuild" ] && return 0
    command -v apt-get >/dev/null 2>&1 || return 0
    echo "system-deps: bootstrapping Debian $suite with its rpm in $root" >&2
    command -v debootstrap >/dev/null 2>&1 || $SUDO apt-get install -y -q debootstrap
    $SUDO rm -rf "$root.tmp"
    $SUDO mkdir -p "$(dirname "$root")"
    $SUDO debootstrap --variant=minbase --include=rpm "$suite" "$root.tmp" \
        "${KMODPACK_DEBIAN_MIRROR:-http://deb.debian.org/debian}" >/dev/null
    $SUDO mv "$root.tmp" "$root"
}
if ! printf '4.20\n%s\n' "$rpm_ver" | sort -V -C; then
    chroot_rpm trixie "${KMODPACK_RPM420_ROOT:-/var/cache/kmodpack-tests/trixie-rpm}"
fi
chroot_rpm bullseye "${KMODPACK_RPM416_ROOT:-/var/cache/kmodpack-tests/bullseye-rpm}"
