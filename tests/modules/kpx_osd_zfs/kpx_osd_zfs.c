// SPDX-License-Identifier: GPL-2.0
/*
 * kpx_osd_zfs: a test importer for kmodpack shaped like Lustre's osd-zfs: it
 * stores objects through OpenZFS's DMU and SA interfaces and so imports the
 * nine exports osd-zfs is known for (dmu_tx_commit, dmu_request_arcbuf,
 * dmu_objset_space, dmu_object_set_blocksize, sa_handle_get_from_db,
 * txg_wait_synced, dmu_tx_hold_zap_by_dnode, dmu_tx_hold_zap,
 * sa_replace_all_by_template). Compiled against the headers of
 * kmod-zfs-devel; never run (the test checks packaging and dependencies).
 */
#include <sys/dmu.h>
#include <sys/dmu_tx.h>
#include <sys/dmu_objset.h>
#include <sys/sa.h>
#include <sys/txg.h>
#include <linux/module.h>

int kpx_osd_zfs_store(objset_t *os, dmu_tx_t *tx, dnode_t *dn, dmu_buf_t *db,
		      uint64_t obj, sa_bulk_attr_t *attrs, int count);

/* One object write the way osd-zfs does it: declare, size, attributes, commit. */
int kpx_osd_zfs_store(objset_t *os, dmu_tx_t *tx, dnode_t *dn, dmu_buf_t *db,
		      uint64_t obj, sa_bulk_attr_t *attrs, int count)
{
	uint64_t refd, avail, usedobjs, availobjs;
	sa_handle_t *hdl;
	struct arc_buf *abuf;
	int rc;

	dmu_objset_space(os, &refd, &avail, &usedobjs, &availobjs);
	dmu_tx_hold_zap(tx, obj, 1, "kpx");
	dmu_tx_hold_zap_by_dnode(tx, dn, 1, "kpx");
	rc = dmu_object_set_blocksize(os, obj, 4096, 0, tx);
	if (rc)
		return rc;
	abuf = dmu_request_arcbuf(db, 4096);
	if (abuf == NULL)
		return -ENOMEM;
	rc = sa_handle_get_from_db(os, db, NULL, SA_HDL_PRIVATE, &hdl);
	if (rc)
		return rc;
	rc = sa_replace_all_by_template(hdl, attrs, count, tx);
	dmu_tx_commit(tx);
	txg_wait_synced(dmu_objset_pool(os), 0);
	return rc;
}

static int __init kpx_osd_zfs_init(void)
{
	return 0;
}

static void __exit kpx_osd_zfs_exit(void)
{
}

module_init(kpx_osd_zfs_init);
module_exit(kpx_osd_zfs_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kmodpack test importer shaped like Lustre's osd-zfs");
MODULE_VERSION("1.0");
