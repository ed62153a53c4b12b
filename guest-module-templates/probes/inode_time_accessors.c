// SPDX-License-Identifier: GPL-2.0
// Probe: inode_time_accessors
// API: inode_set_mtime_to_ts, inode_get_mtime, inode_set_ctime_to_ts, inode_set_atime_to_ts (6.7+)
// Header: include/linux/fs.h
// Symbol: inode_get_mtime
#include <linux/fs.h>

static void __used probe_times(struct inode *inode, struct timespec64 ts)
{
	inode_set_mtime_to_ts(inode, ts);
	inode_set_ctime_to_ts(inode, inode_get_mtime(inode));
	inode_set_atime_to_ts(inode, ts);
}
