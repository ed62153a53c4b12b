// SPDX-License-Identifier: GPL-2.0
// Probe: file_lock_core
// API: struct file_lock's owner, flags, type and pid in .c (struct file_lock_core), declared in linux/filelock.h (6.9+)
// Header: include/linux/filelock.h
// Symbol: struct file_lock_core {
#include <linux/fs.h>
#include <linux/filelock.h>

static int __used probe_lock(struct file *file, struct file_lock *fl)
{
	fl->c.flc_type = F_UNLCK;
	fl->c.flc_flags &= ~FL_SLEEP;
	fl->c.flc_pid = 0;
	return fl->c.flc_owner ? locks_lock_file_wait(file, fl) : 0;
}
