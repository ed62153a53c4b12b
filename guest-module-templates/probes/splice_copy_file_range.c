// SPDX-License-Identifier: GPL-2.0
// Probe: splice_copy_file_range
// API: splice_copy_file_range(struct file *, loff_t, struct file *, loff_t, size_t) (6.8+: the splice copy a ->copy_file_range falls back to)
// Header: include/linux/splice.h
// Symbol: splice_copy_file_range
#include <linux/fs.h>
#include <linux/splice.h>

static long __used probe_copy(struct file *in, loff_t pos_in, struct file *out, loff_t pos_out, size_t len)
{
	return splice_copy_file_range(in, pos_in, out, pos_out, len);
}
