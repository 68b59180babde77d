// SPDX-License-Identifier: GPL-2.0
/*
 * kpx_lustre_tests: the test module of the Lustre-shaped example
 * (kmod-kpx-lfs-tests); sends a probe over kpx_lnet (core package).
 */
#include <linux/module.h>
#include <linux/kernel.h>

extern int kpx_lnet_send(const void *buf, size_t len);

static int __init kpx_lustre_tests_init(void)
{
	static const char probe[] = "kpx_lustre_tests";

	return kpx_lnet_send(probe, sizeof(probe)) < 0 ? -EIO : 0;
}

static void __exit kpx_lustre_tests_exit(void)
{
}

module_init(kpx_lustre_tests_init);
module_exit(kpx_lustre_tests_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kmodpack example: Lustre-shaped test module");
MODULE_VERSION("2.15.5");
