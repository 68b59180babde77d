// SPDX-License-Identifier: GPL-2.0
/*
 * kpx_osd_ldiskfs: the ldiskfs object storage backend
 * (kmod-kpx-lfs-osd-ldiskfs): imports from kpx_ldiskfs (same package)
 * and from kpx_lustre (the core package).
 */
#include <linux/module.h>
#include <linux/kernel.h>

extern int kpx_lustre_osd_register(const char *name);
extern void kpx_lustre_osd_unregister(const char *name);
extern unsigned long kpx_ldiskfs_journal_start(int credits);

static const char kpx_osd_ldiskfs_name[] = "osd-ldiskfs";

static int __init kpx_osd_ldiskfs_init(void)
{
	kpx_ldiskfs_journal_start(8);
	return kpx_lustre_osd_register(kpx_osd_ldiskfs_name);
}

static void __exit kpx_osd_ldiskfs_exit(void)
{
	kpx_lustre_osd_unregister(kpx_osd_ldiskfs_name);
}

module_init(kpx_osd_ldiskfs_init);
module_exit(kpx_osd_ldiskfs_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kmodpack example: Lustre-shaped osd-ldiskfs backend");
MODULE_VERSION("2.15.5");
