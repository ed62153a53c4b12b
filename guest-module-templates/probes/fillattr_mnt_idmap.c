// SPDX-License-Identifier: GPL-2.0
// Probe: fillattr_mnt_idmap
// API: generic_fillattr(struct mnt_idmap *, struct inode *, struct kstat *) (6.3-6.5)
// Header: include/linux/fs.h
// Symbol: generic_fillattr
#include <linux/fs.h>

static_assert(__same_type(&generic_fillattr,
			  void (*)(struct mnt_idmap *, struct inode *, struct kstat *)));
