// SPDX-License-Identifier: GPL-2.0
// Probe: inode_ops_user_namespace
// API: struct inode_operations .getattr takes struct user_namespace * (6.1)
// Header: include/linux/fs.h
// Symbol: (*getattr)
#include <linux/fs.h>

static int __used probe_getattr(struct user_namespace *userns, const struct path *path,
				struct kstat *stat, u32 request_mask, unsigned int flags)
{
	return 0;
}

static const struct inode_operations probe_iops __used = {
	.getattr = probe_getattr,
};
