// SPDX-License-Identifier: GPL-2.0
// Probe: fillattr_user_namespace
// API: generic_fillattr(struct user_namespace *, struct inode *, struct kstat *) (6.1)
// Header: include/linux/fs.h
// Symbol: generic_fillattr
#include <linux/fs.h>

static_assert(__same_type(&generic_fillattr,
			  void (*)(struct user_namespace *, struct inode *, struct kstat *)));
