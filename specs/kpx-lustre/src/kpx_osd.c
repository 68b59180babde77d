// SPDX-License-Identifier: GPL-2.0
/*
 * kpx_osd: the object storage half of the Lustre-like kmodpack example, an
 * "osd-zfs" that stores objects in kpx_zfs transactions and ships them over
 * kpx_lnet. It imports symbols from another kmod (kpx-zfs, built separately
 * and found through its Module.symvers) and from a module of its own package.
 */
#include <linux/module.h>
#include <linux/kernel.h>

struct kpx_zfs_tx;
extern struct kpx_zfs_tx *kpx_zfs_tx_create(int flags);
extern u64 kpx_zfs_tx_commit(struct kpx_zfs_tx *tx);
extern int kpx_zfs_spa_version(void);
extern int kpx_lnet_send(const void *buf, size_t len);

static int __init kpx_osd_init(void)
{
	static const char hello[] = "kpx_osd online";
	struct kpx_zfs_tx *tx = kpx_zfs_tx_create(0);
	u64 txg;

	if (!tx)
		return -ENOMEM;
	txg = kpx_zfs_tx_commit(tx);
	pr_info("kpx_osd: pool v%d, txg %llu, sent %d bytes\n",
		kpx_zfs_spa_version(), txg, kpx_lnet_send(hello, sizeof(hello)));
	return 0;
}

static void __exit kpx_osd_exit(void)
{
}

module_init(kpx_osd_init);
module_exit(kpx_osd_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kmodpack example: Lustre-like OSD on kpx_zfs (importer)");
MODULE_VERSION("2.15.5");
