// SPDX-License-Identifier: GPL-2.0
// Probe: alloc_dax_ops
// API: alloc_dax(void *, const struct dax_operations *) with .direct_access(struct dax_device *, pgoff_t, long, enum dax_access_mode, void **, pfn_t *) and .zero_page_range, kill_dax, put_dax, phys_to_pfn_t with PFN_DEV | PFN_MAP
// Header: include/linux/dax.h
// Symbol: alloc_dax
#include <linux/dax.h>
#include <linux/pfn_t.h>

static long __used probe_direct_access(struct dax_device *dax_dev, pgoff_t pgoff, long nr_pages,
				       enum dax_access_mode mode, void **kaddr, pfn_t *pfn)
{
	*pfn = phys_to_pfn_t(0, PFN_DEV | PFN_MAP);
	return nr_pages;
}

static int __used probe_zero_page_range(struct dax_device *dax_dev, pgoff_t pgoff, size_t nr_pages)
{
	return 0;
}

static const struct dax_operations probe_dax_ops = {
	.direct_access = probe_direct_access,
	.zero_page_range = probe_zero_page_range,
};

static void __used probe_dax(void *private)
{
	struct dax_device *dax_dev = alloc_dax(private, &probe_dax_ops);

	kill_dax(dax_dev);
	put_dax(dax_dev);
}
