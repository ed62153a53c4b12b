// SPDX-License-Identifier: GPL-2.0
// Probe: inode_ops_mnt_idmap
// API: struct inode_operations .getattr takes struct mnt_idmap * (6.3+)
// Header: include/linux/fs.h
// Symbol: (*getattr)
#include <linux/fs.h>

static int __used probe_getattr(struct mnt_idmap *idmap, const struct path *path,
				struct kstat *stat, u32 request_mask, unsigned int flags)
{
	return 0;
}

static const struct inode_operations probe_iops __used = {
	.getattr = probe_getattr,
};
