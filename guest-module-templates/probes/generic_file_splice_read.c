// SPDX-License-Identifier: GPL-2.0
// Probe: generic_file_splice_read
// API: generic_file_splice_read(struct file *, loff_t *, struct pipe_inode_info *, size_t, unsigned int) as struct file_operations .splice_read (before 6.5)
// Header: include/linux/fs.h
// Symbol: splice_read
#include <linux/fs.h>

static const struct file_operations probe_fops __used = {
	.splice_read = generic_file_splice_read,
};
