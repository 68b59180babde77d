// SPDX-License-Identifier: GPL-2.0
/*
 * kabi_probe: a test module for `kmodpack kabi check` agreement with the
 * real kernel loader. Uses a GPL-only export of kpx_export (so a test can
 * flip its license and see GPL-only refused), and with make var
 * KABI_PROBE_MISSING=1 also a symbol nobody exports (missing provider;
 * build with KBUILD_MODPOST_WARN=1).
 */
#include <linux/module.h>
#include <linux/kernel.h>

extern int kpx_gpl_mul(int a, int b);
#ifdef KABI_PROBE_MISSING
extern int kabi_probe_absent(int a);
#endif

static int __init kabi_probe_init(void)
{
	int r = kpx_gpl_mul(6, 7);
#ifdef KABI_PROBE_MISSING
	r += kabi_probe_absent(1);
#endif
	pr_info("kabi_probe: loaded result=%d\n", r);
	return 0;
}

static void __exit kabi_probe_exit(void)
{
}

module_init(kabi_probe_init);
module_exit(kabi_probe_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kmodpack kabi agreement probe");
