/* SPDX-License-Identifier: GPL-2.0 */
#ifndef KPX_LEGACY_H
#define KPX_LEGACY_H
/* The vendor patch defines KPX_LEGACY_FIXED here. */
#endif
