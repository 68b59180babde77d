// SPDX-License-Identifier: GPL-2.0
/*
 * kpx_wdt: a software watchdog, the per-kernel example of kmodpack. It uses
 * only a timer, so it builds unchanged for every kernel it is packaged for.
 */
#include <linux/module.h>
#include <linux/kernel.h>
#include <linux/timer.h>
#include <linux/jiffies.h>

static unsigned int timeout = 30;
module_param(timeout, uint, 0444);
MODULE_PARM_DESC(timeout, "Seconds between watchdog ticks (default 30)");

static struct timer_list kpx_wdt_timer;
static unsigned long kpx_wdt_ticks;

static void kpx_wdt_tick(struct timer_list *t)
{
	kpx_wdt_ticks++;
	mod_timer(&kpx_wdt_timer, jiffies + timeout * HZ);
}

static int __init kpx_wdt_init(void)
{
	if (!timeout)
		return -EINVAL;
	timer_setup(&kpx_wdt_timer, kpx_wdt_tick, 0);
	mod_timer(&kpx_wdt_timer, jiffies + timeout * HZ);
	pr_info("kpx_wdt: ticking every %u s\n", timeout);
	return 0;
}

static void __exit kpx_wdt_exit(void)
{
	del_timer_sync(&kpx_wdt_timer);
	pr_info("kpx_wdt: stopped after %lu ticks\n", kpx_wdt_ticks);
}

module_init(kpx_wdt_init);
module_exit(kpx_wdt_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kmodpack example: software watchdog (per-kernel packages)");
MODULE_VERSION("0.9");
