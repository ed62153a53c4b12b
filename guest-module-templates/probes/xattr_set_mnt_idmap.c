// SPDX-License-Identifier: GPL-2.0
// Probe: xattr_set_mnt_idmap
// API: struct xattr_handler .set takes struct mnt_idmap * (6.3+)
// Header: include/linux/xattr.h
// Symbol: (*set)
#include <linux/fs.h>
#include <linux/xattr.h>

static int __used probe_set(const struct xattr_handler *handler, struct mnt_idmap *idmap,
			    struct dentry *dentry, struct inode *inode, const char *name,
			    const void *value, size_t size, int flags)
{
	return 0;
}

static const struct xattr_handler probe_handler __used = {
	.prefix = XATTR_USER_PREFIX,
	.set = probe_set,
};
