// SPDX-License-Identifier: GPL-2.0
/* kpx_legacy_aux: second module of the DKMS sample; uses kpx_legacy. */
#include <linux/module.h>
#include <linux/kernel.h>

extern int kpx_legacy_quirks(void);

static int __init kpx_legacy_aux_init(void)
{
	return kpx_legacy_quirks() > 0 ? 0 : -EINVAL;
}

static void __exit kpx_legacy_aux_exit(void)
{
}

module_init(kpx_legacy_aux_init);
module_exit(kpx_legacy_aux_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kmodpack test: DKMS-packaged driver, auxiliary module");
