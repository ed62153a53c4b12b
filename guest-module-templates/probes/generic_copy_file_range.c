// SPDX-License-Identifier: GPL-2.0
// Probe: generic_copy_file_range
// API: generic_copy_file_range(struct file *, loff_t, struct file *, loff_t, size_t, unsigned int) (before 6.8: the splice copy a ->copy_file_range falls back to)
// Header: include/linux/fs.h
// Symbol: generic_copy_file_range
#include <linux/fs.h>

static ssize_t __used probe_copy(struct file *in, loff_t pos_in, struct file *out, loff_t pos_out, size_t len)
{
	return generic_copy_file_range(in, pos_in, out, pos_out, len, 0);
}
