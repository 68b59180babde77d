// SPDX-License-Identifier: GPL-2.0
/*
 * kpx_devel_user: imports kpx_export's kpx_add through the prototype of the
 * exporter's installed header, and needs the exporter's generated
 * configuration header (kpx_config.h, written by its build like OpenZFS's
 * zfs_config.h): it does not compile without the exporter's -devel tree.
 */
#include <linux/module.h>
#include <kpx/kpx_export.h>

#ifndef KPX_CONFIG_MAGIC
#error "the exporter's generated kpx_config.h was not included"
#endif

static int __init kpx_devel_user_init(void)
{
	return kpx_add(KPX_CONFIG_MAGIC, -KPX_CONFIG_MAGIC);
}

static void __exit kpx_devel_user_exit(void)
{
}

module_init(kpx_devel_user_init);
module_exit(kpx_devel_user_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kmodpack test importer built against an exporter's -devel headers");
