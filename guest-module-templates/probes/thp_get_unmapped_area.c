// SPDX-License-Identifier: GPL-2.0
// Probe: thp_get_unmapped_area
// API: thp_get_unmapped_area as a struct file_operations .get_unmapped_area (with CONFIG_TRANSPARENT_HUGEPAGE)
// Header: include/linux/huge_mm.h
// Symbol: thp_get_unmapped_area
#include <linux/mm.h>
#include <linux/huge_mm.h>

#ifndef CONFIG_TRANSPARENT_HUGEPAGE
#error "CONFIG_TRANSPARENT_HUGEPAGE is off: thp_get_unmapped_area is NULL"
#endif

static const struct file_operations probe_fops __used = {
	.get_unmapped_area = thp_get_unmapped_area,
};
