// SPDX-License-Identifier: GPL-2.0
// Probe: noop_dirty_folio
// API: struct address_space_operations .dirty_folio = noop_dirty_folio and .direct_IO = noop_direct_IO
// Header: include/linux/pagemap.h
// Symbol: noop_dirty_folio
#include <linux/fs.h>
#include <linux/pagemap.h>

static const struct address_space_operations probe_aops __used = {
	.dirty_folio = noop_dirty_folio,
	.direct_IO = noop_direct_IO,
};
