// SPDX-License-Identifier: GPL-2.0
// Probe: fillattr_request_mask
// API: generic_fillattr(struct mnt_idmap *, u32 request_mask, struct inode *, struct kstat *) (6.6+)
// Header: include/linux/fs.h
// Symbol: generic_fillattr
#include <linux/fs.h>

static_assert(__same_type(&generic_fillattr,
			  void (*)(struct mnt_idmap *, u32, struct inode *, struct kstat *)));
