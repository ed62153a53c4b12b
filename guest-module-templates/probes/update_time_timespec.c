// SPDX-License-Identifier: GPL-2.0
// Probe: update_time_timespec
// API: struct inode_operations .update_time(struct inode *, struct timespec64 *, int flags) (until 6.5)
// Header: include/linux/fs.h
// Symbol: inode_operations.update_time
#include <linux/fs.h>

static int probe_update_time(struct inode *inode, struct timespec64 *time, int flags)
{
	return 0;
}

static const struct inode_operations probe_iops __used = {
	.update_time = probe_update_time,
};
