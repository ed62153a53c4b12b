// SPDX-License-Identifier: GPL-2.0
// Probe: file_lock_fields
// API: struct file_lock's fl_owner, fl_flags, fl_type and fl_pid, declared in linux/fs.h (before 6.9)
// Header: include/linux/fs.h
// Symbol: struct file_lock {
#include <linux/fs.h>

static int __used probe_lock(struct file *file, struct file_lock *fl)
{
	fl->fl_type = F_UNLCK;
	fl->fl_flags &= ~FL_SLEEP;
	fl->fl_pid = 0;
	return fl->fl_owner ? locks_lock_file_wait(file, fl) : 0;
}
