// SPDX-License-Identifier: GPL-2.0
// Probe: update_time_flags
// API: struct inode_operations .update_time(struct inode *, int flags) (6.6+: the file system sets the times itself)
// Header: include/linux/fs.h
// Symbol: inode_operations.update_time
#include <linux/fs.h>

static int probe_update_time(struct inode *inode, int flags)
{
	return 0;
}

static const struct inode_operations probe_iops __used = {
	.update_time = probe_update_time,
};
