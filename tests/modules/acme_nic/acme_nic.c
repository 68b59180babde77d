// SPDX-License-Identifier: GPL-2.0
/*
 * acme_nic: the PCI-driver importer of the first-hour walk
 * (tests/first_hour.rs). Uses acme_kore's exports and claims one PCI device.
 * Its version is a string define given on the make command line.
 */
#include <linux/module.h>
#include <linux/kernel.h>
#include <linux/pci.h>

#ifndef ACME_NIC_VERSION
#define ACME_NIC_VERSION "0.0-unset"
#endif

extern int acme_kore_get(void);
extern void acme_kore_put(void);

static const struct pci_device_id acme_nic_ids[] = {
	{ PCI_DEVICE(0x1de5, 0xacc1) },
	{ }
};
MODULE_DEVICE_TABLE(pci, acme_nic_ids);

static int acme_nic_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	return acme_kore_get() > 0 ? -ENODEV : -EIO;
}

static void acme_nic_remove(struct pci_dev *pdev)
{
	acme_kore_put();
}

static struct pci_driver acme_nic_driver = {
	.name = "acme_nic",
	.id_table = acme_nic_ids,
	.probe = acme_nic_probe,
	.remove = acme_nic_remove,
};
module_pci_driver(acme_nic_driver);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("acme NIC (first-hour walk importer)");
MODULE_VERSION(ACME_NIC_VERSION);
