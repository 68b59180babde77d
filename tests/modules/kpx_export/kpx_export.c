// SPDX-License-Identifier: GPL-2.0
/*
 * kpx_export: a test exporter for kmodpack (the "ZFS" side).
 * Exports one plain, one GPL-only, one namespaced GPL symbol and a data
 * object, so every export kind and the namespace column are exercised.
 */
#include <linux/module.h>
#include <linux/kernel.h>

#ifndef KPX_VARIANT
#define KPX_VARIANT 0
#endif

#if KPX_VARIANT == 1
/* "Changed signature" variant: a different prototype gives a different CRC. */
long kpx_add(long a, long b, long c) { return a + b + c; }
#else
int kpx_add(int a, int b) { return a + b; }
#endif
EXPORT_SYMBOL(kpx_add);

int kpx_gpl_mul(int a, int b) { return a * b; }
EXPORT_SYMBOL_GPL(kpx_gpl_mul);

int kpx_ns_sub(int a, int b) { return a - b; }
EXPORT_SYMBOL_NS_GPL(kpx_ns_sub, KPX_NS);

struct kpx_ops {
	int (*op)(int, int);
	unsigned long flags;
};
struct kpx_ops kpx_default_ops = { .flags = 1 };
EXPORT_SYMBOL(kpx_default_ops);

static int __init kpx_export_init(void)
{
	pr_info("kpx_export: loaded\n");
	return 0;
}

static void __exit kpx_export_exit(void)
{
	pr_info("kpx_export: unloaded\n");
}

module_init(kpx_export_init);
module_exit(kpx_export_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kmodpack test exporter");
MODULE_VERSION("1.0");
