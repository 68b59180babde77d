// SPDX-License-Identifier: GPL-2.0
/*
 * kpx_ldiskfs: the patched local file system of the ldiskfs backend
 * (kmod-kpx-lfs-osd-ldiskfs); kpx_osd_ldiskfs, in the same package,
 * imports its journal call.
 */
#include <linux/module.h>
#include <linux/kernel.h>

static unsigned long kpx_ldiskfs_tx;

unsigned long kpx_ldiskfs_journal_start(int credits)
{
	kpx_ldiskfs_tx += credits > 0 ? credits : 1;
	return kpx_ldiskfs_tx;
}
EXPORT_SYMBOL_GPL(kpx_ldiskfs_journal_start);

static int __init kpx_ldiskfs_init(void)
{
	return 0;
}

static void __exit kpx_ldiskfs_exit(void)
{
}

module_init(kpx_ldiskfs_init);
module_exit(kpx_ldiskfs_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kmodpack example: Lustre-shaped ldiskfs");
MODULE_VERSION("2.15.5");
