#!/bin/bash
# kabi-boot.sh KVER WORKDIR MODULE.ko...
# Boots the installed kernel KVER in qemu (TCG; no KVM needed) with a busybox
# initramfs whose /init insmods the modules in the order given and, after
# each, prints the kernel's messages for that insmod only (dmesg -c):
#   === KMODTEST insmod <file>: OK | FAIL rc=<n>
#   <dmesg lines>
# then powers off. Output on stdout (serial console, CRLF line ends).
# Used by tests/kabi_boot.rs to compare `kmodpack kabi check` with the loader.
set -euo pipefail
kver=$1; work=$2; shift 2
kernel=/boot/vmlinuz-$kver
[ -f "$kernel" ] || kernel=/lib/modules/$kver/vmlinuz
[ -f "$kernel" ] || { echo "kabi-boot: no kernel image for $kver" >&2; exit 2; }
busybox=$(command -v busybox)
file -L "$busybox" | grep -q 'statically linked' || { echo "kabi-boot: $busybox is not static (install busybox-static)" >&2; exit 2; }

d=$work/initramfs
rm -rf "$d"; mkdir -p "$d"/bin "$d"/proc "$d"/sys "$d"/dev "$d"/mods
cp "$busybox" "$d"/bin/busybox
for a in sh insmod dmesg cat mount echo poweroff reboot; do ln -s busybox "$d/bin/$a"; done
: > "$d"/mods/order
for k in "$@"; do cp "$k" "$d"/mods/; basename "$k" >> "$d"/mods/order; done
cat > "$d"/init <<'EOS'
#!/bin/sh
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev 2>/dev/null
echo "=== KMODTEST BEGIN kernel $(cat /proc/sys/kernel/osrelease)"
dmesg -c > /dev/null
for m in $(cat /mods/order); do
  if insmod /mods/$m 2>/dev/null; then r="OK"; else r="FAIL rc=$?"; fi
  echo "=== KMODTEST insmod $m: $r"
  dmesg -c
done
echo "=== KMODTEST END"
reboot -f
EOS
chmod +x "$d"/init
(cd "$d" && find . | cpio -o -H newc --quiet | gzip -1) > "$work"/initramfs.cpio.gz
exec timeout 240 qemu-system-x86_64 -accel tcg -m 512 -smp 1 -nographic -no-reboot \
  -kernel "$kernel" -initrd "$work"/initramfs.cpio.gz \
  -append "console=ttyS0 panic=-1 loglevel=1 rdinit=/init" </dev/null
