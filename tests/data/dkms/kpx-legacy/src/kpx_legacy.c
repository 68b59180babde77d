// SPDX-License-Identifier: GPL-2.0
/*
 * kpx_legacy: a DKMS-packaged storage driver stub for kmodpack's dkms.conf
 * import test. It only compiles with the vendor patch applied and with the
 * KPX_LEGACY_QUIRKS make variable from dkms.conf's MAKE line, so a built
 * RPM proves both were carried over.
 */
#include <linux/module.h>
#include <linux/kernel.h>
#include "kpx_legacy.h"

#ifndef KPX_LEGACY_FIXED
#error "kpx_legacy.h lacks KPX_LEGACY_FIXED: patches/0001 was not applied"
#endif
#if !KPX_LEGACY_QUIRKS
#error "KPX_LEGACY_QUIRKS=1 from dkms.conf's MAKE line was not passed"
#endif

int kpx_legacy_quirks(void)
{
	return KPX_LEGACY_QUIRKS + KPX_LEGACY_FIXED;
}
EXPORT_SYMBOL_GPL(kpx_legacy_quirks);

static int __init kpx_legacy_init(void)
{
	pr_info("kpx_legacy: quirks %d\n", kpx_legacy_quirks());
	return 0;
}

static void __exit kpx_legacy_exit(void)
{
}

module_init(kpx_legacy_init);
module_exit(kpx_legacy_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kmodpack test: DKMS-packaged driver");
MODULE_VERSION("3.1-7");
