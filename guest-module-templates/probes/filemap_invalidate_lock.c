// SPDX-License-Identifier: GPL-2.0
// Probe: filemap_invalidate_lock
// API: filemap_invalidate_lock, filemap_invalidate_unlock, filemap_invalidate_lock_shared, filemap_invalidate_unlock_shared
// Header: include/linux/fs.h
// Symbol: filemap_invalidate_lock
#include <linux/fs.h>

static void __used probe_locks(struct address_space *mapping)
{
	filemap_invalidate_lock(mapping);
	filemap_invalidate_unlock(mapping);
	filemap_invalidate_lock_shared(mapping);
	filemap_invalidate_unlock_shared(mapping);
}
