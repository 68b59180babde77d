// SPDX-License-Identifier: GPL-2.0
/*
 * mpt3sas (stand-in): NOT the Broadcom/LSI driver. A small PCI driver with
 * the real module's name, version and two of its PCI IDs (SAS3008 and
 * SAS3108), so tests/elrepo_mpt3sas.rs can package it as ELRepo packages
 * kmod-mpt3sas and compare the RPM's Provides/Requires/files/scriptlets
 * with ELRepo's spec. It claims no device: probe always declines.
 */
#include <linux/module.h>
#include <linux/kernel.h>
#include <linux/pci.h>

#define MPT3SAS_DRIVER_VERSION "43.100.00.00"

static int max_queue_depth = -1;
module_param(max_queue_depth, int, 0444);
MODULE_PARM_DESC(max_queue_depth, " max controller queue depth (stand-in: unused)");

static const struct pci_device_id mpt3sas_pci_table[] = {
	{ PCI_DEVICE(0x1000, 0x0097) },	/* SAS3008 */
	{ PCI_DEVICE(0x1000, 0x005d) },	/* SAS3108 */
	{ }
};
MODULE_DEVICE_TABLE(pci, mpt3sas_pci_table);

static int mpt3sas_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	dev_info(&pdev->dev, "mpt3sas stand-in: not a real driver\n");
	return -ENODEV;
}

static void mpt3sas_remove(struct pci_dev *pdev)
{
}

static struct pci_driver mpt3sas_driver = {
	.name = "mpt3sas",
	.id_table = mpt3sas_pci_table,
	.probe = mpt3sas_probe,
	.remove = mpt3sas_remove,
};
module_pci_driver(mpt3sas_driver);

MODULE_DESCRIPTION("LSI MPT Fusion SAS 3.0 Device Driver (test stand-in)");
MODULE_LICENSE("GPL");
MODULE_VERSION(MPT3SAS_DRIVER_VERSION);
