// SPDX-License-Identifier: GPL-2.0
/*
 * kpx_lnet: the network driver half of the Lustre-like kmodpack example.
 * It claims a few PCI devices (so `kmodpack alias` and driver update disks
 * have a real id table to match) and exports a send call to kpx_osd.
 */
#include <linux/module.h>
#include <linux/kernel.h>
#include <linux/pci.h>

#ifndef KPX_LNET_MTU
#define KPX_LNET_MTU 4096
#endif

static const struct pci_device_id kpx_lnet_ids[] = {
	{ PCI_DEVICE(0x15b3, 0x101b) },				/* a ConnectX-6-like HCA */
	{ PCI_DEVICE_SUB(0x8086, 0x1572, 0x8086, 0x0004) },	/* one X710 board */
	{ PCI_DEVICE_CLASS(0x020700, 0xffff00) },		/* any InfiniBand controller */
	{ }
};
MODULE_DEVICE_TABLE(pci, kpx_lnet_ids);

static unsigned long kpx_lnet_sent;

/* Queues a message of len bytes; returns the bytes accepted. */
int kpx_lnet_send(const void *buf, size_t len)
{
	if (!buf)
		return -EINVAL;
	kpx_lnet_sent += len;
	return len > KPX_LNET_MTU ? KPX_LNET_MTU : (int)len;
}
EXPORT_SYMBOL_GPL(kpx_lnet_send);

static int kpx_lnet_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	dev_info(&pdev->dev, "kpx_lnet: would drive %04x:%04x\n", pdev->vendor, pdev->device);
	return -ENODEV;
}

static struct pci_driver kpx_lnet_driver = {
	.name = "kpx_lnet",
	.id_table = kpx_lnet_ids,
	.probe = kpx_lnet_probe,
};

static int __init kpx_lnet_init(void)
{
	return pci_register_driver(&kpx_lnet_driver);
}

static void __exit kpx_lnet_exit(void)
{
	pci_unregister_driver(&kpx_lnet_driver);
	pr_info("kpx_lnet: %lu bytes sent\n", kpx_lnet_sent);
}

module_init(kpx_lnet_init);
module_exit(kpx_lnet_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kmodpack example: Lustre-like network driver with a PCI id table");
MODULE_VERSION("2.15.5");
