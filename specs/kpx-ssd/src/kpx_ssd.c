// SPDX-License-Identifier: GPL-2.0
/*
 * kpx_ssd: an NVMe-like storage driver stub, the SUSE KMP example of
 * kmodpack. It claims PCI devices and asks for a firmware file, so the KMP
 * carries both a module with a device table and /lib/firmware content.
 */
#include <linux/module.h>
#include <linux/kernel.h>
#include <linux/pci.h>
#include <linux/firmware.h>

#define KPX_SSD_FW "kpx/kpx_ssd.bin"
#define KPX_SSD_QUEUE_DEPTH 64

static const struct pci_device_id kpx_ssd_ids[] = {
	{ PCI_DEVICE(0x144d, 0xa80a) },			/* an NVMe SSD */
	{ PCI_DEVICE_CLASS(0x010802, 0xffffff) },	/* any NVMe controller */
	{ }
};
MODULE_DEVICE_TABLE(pci, kpx_ssd_ids);

static int kpx_ssd_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	const struct firmware *fw;
	int ret = request_firmware(&fw, KPX_SSD_FW, &pdev->dev);

	if (ret)
		return ret;
	dev_info(&pdev->dev, "kpx_ssd: firmware %zu bytes, queue depth %d\n", fw->size, KPX_SSD_QUEUE_DEPTH);
	release_firmware(fw);
	return -ENODEV;
}

static struct pci_driver kpx_ssd_driver = {
	.name = "kpx_ssd",
	.id_table = kpx_ssd_ids,
	.probe = kpx_ssd_probe,
};

module_pci_driver(kpx_ssd_driver);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kmodpack example: NVMe-like storage driver (SUSE KMP)");
MODULE_VERSION("1.4.0");
MODULE_FIRMWARE(KPX_SSD_FW);
