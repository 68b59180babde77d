// SPDX-License-Identifier: GPL-2.0
/*
 * acme_kore: the exporter of the first-hour walk (tests/first_hour.rs), a
 * new user's own "core" module that a driver builds against.
 */
#include <linux/module.h>
#include <linux/kernel.h>

static int acme_kore_users;

int acme_kore_get(void)
{
	return ++acme_kore_users;
}
EXPORT_SYMBOL(acme_kore_get);

void acme_kore_put(void)
{
	acme_kore_users--;
}
EXPORT_SYMBOL_GPL(acme_kore_put);

static int __init acme_kore_init(void)
{
	return 0;
}

static void __exit acme_kore_exit(void)
{
}

module_init(acme_kore_init);
module_exit(acme_kore_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("acme core (first-hour walk exporter)");
MODULE_VERSION("1.0");
