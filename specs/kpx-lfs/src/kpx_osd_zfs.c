// SPDX-License-Identifier: GPL-2.0
/*
 * kpx_osd_zfs: the ZFS object storage backend (kmod-kpx-lfs-osd-zfs). It
 * imports the OSD registration of kpx_lustre, a module of another package
 * of the same build.
 */
#include <linux/module.h>
#include <linux/kernel.h>

extern int kpx_lustre_osd_register(const char *name);
extern void kpx_lustre_osd_unregister(const char *name);

static const char kpx_osd_zfs_name[] = "osd-zfs";

static int __init kpx_osd_zfs_init(void)
{
	return kpx_lustre_osd_register(kpx_osd_zfs_name);
}

static void __exit kpx_osd_zfs_exit(void)
{
	kpx_lustre_osd_unregister(kpx_osd_zfs_name);
}

module_init(kpx_osd_zfs_init);
module_exit(kpx_osd_zfs_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kmodpack example: Lustre-shaped osd-zfs backend");
MODULE_VERSION("2.15.5");
