// SPDX-License-Identifier: GPL-2.0
/*
 * kpx_import: a test importer for kmodpack (the "Lustre" side). Uses every
 * kind of kpx_export export, imports its namespace, and carries a PCI id
 * table so alias matching has something real to match.
 */
#include <linux/module.h>
#include <linux/kernel.h>
#include <linux/pci.h>

struct kpx_ops {
	int (*op)(int, int);
	unsigned long flags;
};
extern int kpx_add(int a, int b);
extern int kpx_gpl_mul(int a, int b);
extern int kpx_ns_sub(int a, int b);
extern struct kpx_ops kpx_default_ops;

#ifndef KPX_NO_IMPORT_NS
MODULE_IMPORT_NS(KPX_NS);
#endif

static const struct pci_device_id kpx_import_ids[] = {
	{ PCI_DEVICE(0x1af4, 0x10f1) },
	{ PCI_DEVICE_SUB(0x8086, 0x1572, 0x8086, 0x0001) },
	{ PCI_DEVICE_CLASS(0x010802, 0xffffff) },
	{ }
};
MODULE_DEVICE_TABLE(pci, kpx_import_ids);

static int kpx_import_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	return -ENODEV;
}

static struct pci_driver kpx_import_driver = {
	.name = "kpx_import",
	.id_table = kpx_import_ids,
	.probe = kpx_import_probe,
};

static int __init kpx_import_init(void)
{
	int r = kpx_add(2, 3) + kpx_gpl_mul(2, 3) + kpx_ns_sub(9, 1) + (int)kpx_default_ops.flags;

	pr_info("kpx_import: loaded result=%d\n", r);
	return pci_register_driver(&kpx_import_driver);
}

static void __exit kpx_import_exit(void)
{
	pci_unregister_driver(&kpx_import_driver);
}

module_init(kpx_import_init);
module_exit(kpx_import_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kmodpack test importer");
MODULE_VERSION("1.0");
