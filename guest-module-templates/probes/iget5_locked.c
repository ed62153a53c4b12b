// SPDX-License-Identifier: GPL-2.0
// Probe: iget5_locked
// API: iget5_locked(struct super_block *, unsigned long, test, set, void *)
// Header: include/linux/fs.h
// Symbol: iget5_locked
#include <linux/fs.h>

static int __used probe_test(struct inode *inode, void *data)
{
	return 1;
}

static int __used probe_set(struct inode *inode, void *data)
{
	return 0;
}

static struct inode * __used probe_iget(struct super_block *sb, unsigned long hash, void *key)
{
	return iget5_locked(sb, hash, probe_test, probe_set, key);
}
