// SPDX-License-Identifier: GPL-2.0
/*
 * kpx_zfs: a tiny ZFS-like "storage pool" module, the exporter of the
 * kmodpack example pair. It keeps a list of transactions and exports the
 * calls a dependent kmod (kpx-lustre's OSD layer) builds against, so the
 * importer's RPM needs this kmod's ksym() Provides to install.
 */
#include <linux/module.h>
#include <linux/kernel.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/atomic.h>

struct kpx_zfs_tx {
	u64 txg;
	int flags;
};

static DEFINE_SPINLOCK(kpx_zfs_lock);
static u64 kpx_zfs_txg = 1;
static atomic_t kpx_zfs_open_tx = ATOMIC_INIT(0);

/* Opens a transaction in the current transaction group. */
struct kpx_zfs_tx *kpx_zfs_tx_create(int flags)
{
	struct kpx_zfs_tx *tx = kzalloc(sizeof(*tx), GFP_KERNEL);

	if (!tx)
		return NULL;
	spin_lock(&kpx_zfs_lock);
	tx->txg = kpx_zfs_txg;
	spin_unlock(&kpx_zfs_lock);
	tx->flags = flags;
	atomic_inc(&kpx_zfs_open_tx);
	return tx;
}
EXPORT_SYMBOL(kpx_zfs_tx_create);

/* Commits and frees a transaction; returns its transaction group. */
u64 kpx_zfs_tx_commit(struct kpx_zfs_tx *tx)
{
	u64 txg = tx->txg;

	kfree(tx);
	if (atomic_dec_and_test(&kpx_zfs_open_tx)) {
		spin_lock(&kpx_zfs_lock);
		kpx_zfs_txg++;
		spin_unlock(&kpx_zfs_lock);
	}
	return txg;
}
EXPORT_SYMBOL(kpx_zfs_tx_commit);

/* On-disk format version of the pool. */
int kpx_zfs_spa_version(void)
{
	return 5000;
}
EXPORT_SYMBOL_GPL(kpx_zfs_spa_version);

static int __init kpx_zfs_init(void)
{
	pr_info("kpx_zfs: pool format %d ready\n", kpx_zfs_spa_version());
	return 0;
}

static void __exit kpx_zfs_exit(void)
{
	pr_info("kpx_zfs: unloaded at txg %llu\n", kpx_zfs_txg);
}

module_init(kpx_zfs_init);
module_exit(kpx_zfs_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kmodpack example: ZFS-like storage pool (exporter)");
MODULE_VERSION("2.2.6");
