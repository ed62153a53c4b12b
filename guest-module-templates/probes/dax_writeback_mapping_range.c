// SPDX-License-Identifier: GPL-2.0
// Probe: dax_writeback_mapping_range
// API: dax_writeback_mapping_range(struct address_space *, struct dax_device *, struct writeback_control *)
// Header: include/linux/dax.h
// Symbol: dax_writeback_mapping_range
#include <linux/dax.h>

static int __used probe_writepages(struct address_space *mapping, struct dax_device *dax_dev,
				   struct writeback_control *wbc)
{
	return dax_writeback_mapping_range(mapping, dax_dev, wbc);
}
