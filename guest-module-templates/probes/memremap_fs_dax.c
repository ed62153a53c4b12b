// SPDX-License-Identifier: GPL-2.0
// Probe: memremap_fs_dax
// API: memremap_pages()/memunmap_pages() of a struct dev_pagemap with .range/.nr_range and type MEMORY_DEVICE_FS_DAX
// Header: include/linux/memremap.h
// Symbol: memremap_pages
#include <linux/memremap.h>

static void * __used probe_map(int nid, struct dev_pagemap *pgmap, u64 start, u64 size)
{
	pgmap->type = MEMORY_DEVICE_FS_DAX;
	pgmap->range.start = start;
	pgmap->range.end = start + size - 1;
	pgmap->nr_range = 1;
	return memremap_pages(pgmap, nid);
}

static void __used probe_unmap(struct dev_pagemap *pgmap)
{
	memunmap_pages(pgmap);
}
