// SPDX-License-Identifier: GPL-2.0
/*
 * kpx_lustre: the core of the Lustre-shaped example (kmod-kpx-lfs). It
 * imports kpx_lnet_send from a module of its own package and exports the
 * OSD registration the backend packages (osd-zfs, osd-ldiskfs) import.
 */
#include <linux/module.h>
#include <linux/kernel.h>

extern int kpx_lnet_send(const void *buf, size_t len);

static const char *kpx_lustre_osd;

int kpx_lustre_osd_register(const char *name)
{
	if (kpx_lustre_osd)
		return -EBUSY;
	kpx_lustre_osd = name;
	return kpx_lnet_send(name, 1) < 0 ? -EIO : 0;
}
EXPORT_SYMBOL_GPL(kpx_lustre_osd_register);

void kpx_lustre_osd_unregister(const char *name)
{
	if (kpx_lustre_osd == name)
		kpx_lustre_osd = NULL;
}
EXPORT_SYMBOL_GPL(kpx_lustre_osd_unregister);

static int __init kpx_lustre_init(void)
{
	return 0;
}

static void __exit kpx_lustre_exit(void)
{
}

module_init(kpx_lustre_init);
module_exit(kpx_lustre_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kmodpack example: Lustre-shaped core");
MODULE_VERSION("2.15.5");
