#!/bin/bash
# Installs the system packages a make target uses, when they are missing.
# Debian/Ubuntu (apt-get) and Fedora/RHEL (dnf). Idempotent and quiet when
# everything is present.
#
#   system-deps.sh demo   what `make demo` needs: rpmbuild, a C compiler and
#                         kernel headers, createrepo_c and xorriso for the
#                         disk. Nothing else (no qemu, llvm, dnf, chroots).
#   system-deps.sh test   (default) all of the above plus what the suite
#                         uses: qemu and a kernel image, llvm, dnf, the rpm
#                         4.20/4.16 chroots.
#   system-deps.sh bench  the test set (hyperfine is in it).
#   system-deps.sh dist   the demo set plus the aarch64 cross linker
#                         (`make portable`, `make dist`, `make rpm`).
set -euo pipefail
mode=${1:-test}
case $mode in demo | test | bench | dist) ;; *)
    echo "system-deps: unknown mode '$mode' (demo, test, bench or dist)" >&2
    exit 2
    ;;
esac
here=$(cd "$(dirname "$0")" && pwd)

# command -> apt package / dnf package, per set.
demo_cmds=(rpm rpmbuild rpmspec createrepo_c xorriso gcc make strip depmod zstd xz gzip gawk openssl file)
demo_apt=(rpm createrepo-c xorriso kmod build-essential linux-headers-amd64 zstd xz-utils
          gzip gawk openssl file binutils ca-certificates)
demo_dnf=(rpm-build rpm createrepo_c xorriso kmod gcc make elfutils-libelf-devel kernel-devel
          zstd xz gzip gawk openssl file binutils glibc-static)
test_cmds=(man groff rpm2cpio isoinfo bsdtar cpio qemu-system-x86_64 busybox modprobe hyperfine as llvm-mc
           python3 taskset dnf dkms patch /usr/bin/time)
test_apt=(man-db groff-base rpm2cpio genisoimage libarchive-tools cpio qemu-system-x86 busybox-static
          linux-image-amd64 hyperfine python3 util-linux llvm dnf dkms patch time
          libxtables-dev pkg-config)
test_dnf=(man-db groff-base genisoimage bsdtar cpio qemu-system-x86-core busybox kernel-core hyperfine python3
          util-linux llvm dnf dkms patch time iptables-devel pkgconf)

cmds=("${demo_cmds[@]}")
apt_pkgs=("${demo_apt[@]}")
dnf_pkgs=("${demo_dnf[@]}")
if [ "$mode" = test ] || [ "$mode" = bench ]; then
    cmds+=("${test_cmds[@]}")
    apt_pkgs+=("${test_apt[@]}")
    dnf_pkgs+=("${test_dnf[@]}")
fi
missing=()
for c in "${cmds[@]}"; do
    command -v "$c" >/dev/null 2>&1 || missing+=("$c")
done
# kmodpack links glibc statically (tests/support/cargo.sh): libc.a is in
# Debian's libc6-dev (build-essential) and in Fedora/EL's glibc-static.
if ! command -v gcc >/dev/null 2>&1 || [ "$(gcc -print-file-name=libc.a)" = libc.a ]; then
    missing+=(libc.a)
fi
# The DKMS corpus's in-suite subset (iptables-netflow's configure) needs xtables.h.
if [ "$mode" = test ] || [ "$mode" = bench ]; then
    [ -f /usr/include/xtables.h ] || missing+=(xtables.h)
fi
# Kernel headers with a Module.symvers; the suite also boots the matching
# kernel image under qemu.
have_kernel=no
for d in /lib/modules/*/; do
    [ -f "$d/build/Module.symvers" ] || continue
    if [ "$mode" = demo ] || [ "$mode" = dist ] || [ -f "/boot/vmlinuz-$(basename "$d")" ] || [ -f "$d/vmlinuz" ]; then
        have_kernel=yes
    fi
done
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

if [ ${#missing[@]} -ne 0 ] || [ $have_kernel = no ]; then
    echo "system-deps ($mode): missing: ${missing[*]:-} kernel-headers:$have_kernel" >&2
    if command -v apt-get >/dev/null 2>&1; then
        export DEBIAN_FRONTEND=noninteractive
        $SUDO apt-get update -q
        $SUDO apt-get install -y -q --no-install-recommends "${apt_pkgs[@]}"
    elif command -v dnf >/dev/null 2>&1; then
        $SUDO dnf install -y "${dnf_pkgs[@]}"
    else
        echo "system-deps: neither apt-get nor dnf found; install the packages listed in README.md by hand" >&2
        exit 1
    fi
fi
[ "$mode" = demo ] && exit 0

# The portable build (tests/support/portable.sh) cross-links aarch64 with
# the cross gcc and its static glibc, where the distribution packages them
# (Debian; Fedora has no cross glibc, so there the build is the host's arch).
if [ "$mode" = dist ] && [ "$(uname -m)" = x86_64 ] && command -v apt-get >/dev/null 2>&1 &&
    { ! command -v aarch64-linux-gnu-gcc >/dev/null 2>&1 ||
        [ "$(aarch64-linux-gnu-gcc -print-file-name=libc.a)" = libc.a ]; }; then
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -q
    $SUDO apt-get install -y -q --no-install-recommends gcc-aarch64-linux-gnu libc6-dev-arm64-cross
fi

[ "$mode" = dist ] && exit 0

# Other rpm versions for tests/deps_rpm.rs, as minimal Debian chroots
# (~250 MB and about a minute each, kept between runs): rpm 4.20 (Debian 13)
# runs generators with the multifile protocol; rpm 4.16 (Debian 11, the
# version RHEL 9 ships) once per file; the 4.16 chroot (glibc 2.31) also runs
# the portable binary. A chroot is made only where apt-get exists and, for
# 4.20, the host's rpm is older; KMODPACK_RPM420_ROOT / KMODPACK_RPM416_ROOT
# override the places. The archive is the one this machine's apt sources
# already use (tests/support/debian-archive.sh), or KMODPACK_DEBIAN_MIRROR.
rpm_ver=$(rpmbuild --version 2>/dev/null | sed -n 's/^RPM version //p')
chroot_rpm() { # suite root
    local suite=$1 root=$2 archive
    [ -x "$root/usr/bin/rpmbuild" ] && return 0
    command -v apt-get >/dev/null 2>&1 || return 0
    archive=${KMODPACK_DEBIAN_MIRROR:-$(bash "$here/debian-archive.sh")} || {
        echo "system-deps: set KMODPACK_DEBIAN_MIRROR to a Debian archive URL to bootstrap the $suite chroot" >&2
        return 1
    }
    echo "system-deps: bootstrapping Debian $suite with its rpm in $root from $archive" >&2
    command -v debootstrap >/dev/null 2>&1 || $SUDO apt-get install -y -q debootstrap
    $SUDO rm -rf "$root.tmp"
    $SUDO mkdir -p "$(dirname "$root")"
    $SUDO debootstrap --variant=minbase --include=rpm "$suite" "$root.tmp" "$archive" >/dev/null
    $SUDO mv "$root.tmp" "$root"
}
if ! printf '4.20\n%s\n' "$rpm_ver" | sort -V -C; then
    chroot_rpm trixie "${KMODPACK_RPM420_ROOT:-/var/cache/kmodpack-tests/trixie-rpm}"
fi
chroot_rpm bullseye "${KMODPACK_RPM416_ROOT:-/var/cache/kmodpack-tests/bullseye-rpm}"

# `kmodpack build` of YAML inputs compiles, so the chroots also get gcc, make,
# xz and their own Debian kernel headers (tests/deps_rpm.rs compiles against
# those: the host's kbuild tools need a newer glibc than Debian 11 has).
chroot_toolchain() { # root
    local root=$1 arch
    [ -x "$root/usr/bin/rpmbuild" ] || return 0
    if [ -x "$root/usr/bin/gcc" ] && [ -x "$root/usr/bin/make" ] && [ -x "$root/usr/bin/xz" ] \
        && ls "$root"/lib/modules/*/build/Makefile >/dev/null 2>&1; then
        return 0
    fi
    arch=$($SUDO chroot "$root" dpkg --print-architecture)
    echo "system-deps: installing gcc, make, xz and linux-headers-$arch into $root" >&2
    $SUDO chroot "$root" apt-get update -q >/dev/null
    $SUDO chroot "$root" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
        --no-install-recommends gcc make xz-utils "linux-headers-$arch" >/dev/null
}
chroot_toolchain "${KMODPACK_RPM420_ROOT:-/var/cache/kmodpack-tests/trixie-rpm}"
chroot_toolchain "${KMODPACK_RPM416_ROOT:-/var/cache/kmodpack-tests/bullseye-rpm}"
