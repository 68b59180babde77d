// SPDX-License-Identifier: GPL-2.0
/*
 * kpx_lnet: network layer of the Lustre-shaped multi-package example
 * (kmod-kpx-lfs). Exports the send call the other modules use.
 */
#include <linux/module.h>
#include <linux/kernel.h>

static unsigned long kpx_lnet_sent;

int kpx_lnet_send(const void *buf, size_t len)
{
	if (!buf)
		return -EINVAL;
	kpx_lnet_sent += len;
	return (int)len;
}
EXPORT_SYMBOL_GPL(kpx_lnet_send);

static int __init kpx_lnet_init(void)
{
	return 0;
}

static void __exit kpx_lnet_exit(void)
{
	pr_info("kpx_lnet: %lu bytes sent\n", kpx_lnet_sent);
}

#ifdef KPX_DEBUG
/* Seen by the tests of the `debug` switch (modinfo kpx_debug=on). */
MODULE_INFO(kpx_debug, "on");
#endif

module_init(kpx_lnet_init);
module_exit(kpx_lnet_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kmodpack example: Lustre-shaped network layer");
MODULE_VERSION("2.15.5");
