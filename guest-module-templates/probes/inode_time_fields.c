// SPDX-License-Identifier: GPL-2.0
// Probe: inode_time_fields
// API: struct inode fields i_mtime, i_ctime, i_atime of type struct timespec64 (before 6.6)
// Header: include/linux/fs.h
// Symbol: i_mtime;
#include <linux/fs.h>

static void __used probe_times(struct inode *inode, struct timespec64 ts)
{
	inode->i_mtime = ts;
	inode->i_ctime = ts;
	inode->i_atime = ts;
}
