// SPDX-License-Identifier: GPL-2.0
// Probe: d_revalidate_flags
// API: struct dentry_operations .d_revalidate(struct dentry *, unsigned int flags)
// Header: include/linux/dcache.h
// Symbol: (*d_revalidate)
#include <linux/dcache.h>

static int __used probe_revalidate(struct dentry *dentry, unsigned int flags)
{
	return 1;
}

static const struct dentry_operations probe_dops __used = {
	.d_revalidate = probe_revalidate,
};
