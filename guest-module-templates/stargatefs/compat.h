/* SPDX-License-Identifier: GPL-2.0 */
/*
 * stargatefs: every difference between the kernels the module builds on,
 * in one place. The rest of the module is written once, against the
 * wrappers below.
 *
 * stargatefs_config.h is generated for the kernel at hand by
 * probes/configure.sh: one STARGATEFS_HAVE_<PROBE> per compile probe of
 * probes/ that compiled. Each wrapper names the kernel version that changed
 * the API. Where an API has several forms (a oneof line of
 * probes/probes.list), configure.sh has checked that exactly one compiled;
 * the #error branches only catch a configuration header that did not come
 * from it.
 *
 * To support a new form of an API: add its probe to probes/ and its oneof
 * line, then a branch here. No other file tests a STARGATEFS_HAVE_ define.
 */
#ifndef _STARGATEFS_COMPAT_H
#define _STARGATEFS_COMPAT_H

#include <linux/fs.h>
#include <linux/huge_mm.h>
#include <linux/mm.h>

#include "stargatefs_config.h"

/*
 * The idmap argument of inode operations (->getattr, ->setattr, ->create,
 * ...) and of generic_fillattr(): struct user_namespace * until 6.2,
 * struct mnt_idmap * from 6.3.
 */
#if defined(STARGATEFS_HAVE_INODE_OPS_MNT_IDMAP)
#define STARGATEFS_IDMAP struct mnt_idmap
#elif defined(STARGATEFS_HAVE_INODE_OPS_USER_NAMESPACE)
#define STARGATEFS_IDMAP struct user_namespace
#else
#error "stargatefs_config.h: no form of the inode operations' idmap argument"
#endif

/*
 * The idmap argument of an xattr handler's ->set: struct user_namespace *
 * until 6.2, struct mnt_idmap * from 6.3 (a probe of its own: the
 * handler's signature is a separate API from the inode operations').
 */
#if defined(STARGATEFS_HAVE_XATTR_SET_MNT_IDMAP)
#define STARGATEFS_XATTR_IDMAP struct mnt_idmap
#elif defined(STARGATEFS_HAVE_XATTR_SET_USER_NAMESPACE)
#define STARGATEFS_XATTR_IDMAP struct user_namespace
#else
#error "stargatefs_config.h: no form of the xattr handlers' set"
#endif

/* The idmap of the mount a file was opened through: file_mnt_idmap() from 6.3. */
static inline STARGATEFS_IDMAP *stargatefs_file_idmap(struct file *file)
{
#if defined(STARGATEFS_HAVE_INODE_OPS_MNT_IDMAP)
	return file_mnt_idmap(file);
#else
	return file_mnt_user_ns(file);
#endif
}

/*
 * generic_fillattr() took the request mask in 6.6; 6.3-6.5 take the idmap
 * and 6.1 the user namespace, both without the mask.
 */
static inline void stargatefs_fillattr(STARGATEFS_IDMAP *idmap, u32 request_mask,
				       struct inode *inode, struct kstat *stat)
{
#if defined(STARGATEFS_HAVE_FILLATTR_REQUEST_MASK)
	generic_fillattr(idmap, request_mask, inode, stat);
#elif defined(STARGATEFS_HAVE_FILLATTR_MNT_IDMAP) || defined(STARGATEFS_HAVE_FILLATTR_USER_NAMESPACE)
	generic_fillattr(idmap, inode, stat);
#else
#error "stargatefs_config.h: no form of generic_fillattr"
#endif
}

/*
 * The size of a ->huge_fault: an enum page_entry_size (PE_SIZE_PTE,
 * PE_SIZE_PMD) until 6.5, a page order (0, PMD_ORDER) from 6.6.
 * dax_iomap_fault() takes the same.
 */
#if defined(STARGATEFS_HAVE_HUGE_FAULT_ORDER)
typedef unsigned int stargatefs_fault_size_t;
#define STARGATEFS_FAULT_PTE 0
#define STARGATEFS_FAULT_PMD PMD_ORDER
#elif defined(STARGATEFS_HAVE_HUGE_FAULT_PE_SIZE)
typedef enum page_entry_size stargatefs_fault_size_t;
#define STARGATEFS_FAULT_PTE PE_SIZE_PTE
#define STARGATEFS_FAULT_PMD PE_SIZE_PMD
#else
#error "stargatefs_config.h: no form of huge_fault"
#endif

/* vma->vm_flags became read-only in 6.3: vm_flags_set() changes it since. */
static inline void stargatefs_vm_flags_set(struct vm_area_struct *vma, vm_flags_t flags)
{
#if defined(STARGATEFS_HAVE_VM_FLAGS_SET)
	vm_flags_set(vma, flags);
#elif defined(STARGATEFS_HAVE_VM_FLAGS_DIRECT)
	vma->vm_flags |= flags;
#else
#error "stargatefs_config.h: no form of the VMA flags"
#endif
}

/*
 * A struct file_lock field (owner, flags, type, pid) as an lvalue: fl_<field>
 * until 6.8; from 6.9 the common part is struct file_lock_core c, its
 * fields flc_<field>, declared in linux/filelock.h.
 */
#if defined(STARGATEFS_HAVE_FILE_LOCK_CORE)
#include <linux/filelock.h>
#define STARGATEFS_FL(fl, field) ((fl)->c.flc_##field)
#elif defined(STARGATEFS_HAVE_FILE_LOCK_FIELDS)
#define STARGATEFS_FL(fl, field) ((fl)->fl_##field)
#else
#error "stargatefs_config.h: no form of struct file_lock"
#endif

/*
 * Inode timestamps: the fields i_mtime, i_ctime and i_atime until 6.5
 * (i_ctime went private in 6.6, the others in 6.7); the setters
 * inode_set_*time_to_ts() from 6.7.
 */
#if defined(STARGATEFS_HAVE_INODE_TIME_ACCESSORS)
#define stargatefs_set_mtime(inode, ts) inode_set_mtime_to_ts(inode, ts)
#define stargatefs_set_ctime(inode, ts) inode_set_ctime_to_ts(inode, ts)
#define stargatefs_set_atime(inode, ts) inode_set_atime_to_ts(inode, ts)
#elif defined(STARGATEFS_HAVE_INODE_TIME_FIELDS)
#define stargatefs_set_mtime(inode, ts) ((inode)->i_mtime = (ts))
#define stargatefs_set_ctime(inode, ts) ((inode)->i_ctime = (ts))
#define stargatefs_set_atime(inode, ts) ((inode)->i_atime = (ts))
#else
#error "stargatefs_config.h: no form of the inode timestamps"
#endif

/* ->splice_read of a file: generic_file_splice_read() until 6.4, filemap_splice_read() from 6.5. */
#if defined(STARGATEFS_HAVE_FILEMAP_SPLICE_READ)
#define stargatefs_splice_read filemap_splice_read
#elif defined(STARGATEFS_HAVE_GENERIC_FILE_SPLICE_READ)
#define stargatefs_splice_read generic_file_splice_read
#else
#error "stargatefs_config.h: no form of splice_read"
#endif

/*
 * The kernel's splice copy, which a ->copy_file_range must call itself when
 * it cannot copy (the VFS no longer falls back once the file system has the
 * operation): generic_copy_file_range() until 6.7, splice_copy_file_range()
 * from 6.8 (without flags).
 */
#if defined(STARGATEFS_HAVE_SPLICE_COPY_FILE_RANGE)
#define stargatefs_splice_copy(in, pos_in, out, pos_out, len) \
	splice_copy_file_range(in, pos_in, out, pos_out, len)
#elif defined(STARGATEFS_HAVE_GENERIC_COPY_FILE_RANGE)
#define stargatefs_splice_copy(in, pos_in, out, pos_out, len) \
	generic_copy_file_range(in, pos_in, out, pos_out, len, 0)
#else
#error "stargatefs_config.h: no form of the splice copy"
#endif

/*
 * ->get_unmapped_area that aligns mappings to 2 MiB, so that a chunk can be
 * one PMD. Only with transparent huge pages, which PREEMPT_RT kernels lack
 * (Debian's rt flavour, 6.1 and 6.12): there mappings get the default
 * placement and 4 KiB faults only.
 */
#if defined(STARGATEFS_HAVE_THP_GET_UNMAPPED_AREA)
#define stargatefs_get_unmapped_area thp_get_unmapped_area
#else
#define stargatefs_get_unmapped_area NULL
#endif

/*
 * ->update_time: (inode, flags) from 6.6, (inode, struct timespec64 *,
 * flags) before; the file system's own function takes (inode, flags) and
 * STARGATEFS_UPDATE_TIME(name, fn) defines the kernel's form around it.
 */
#if defined(STARGATEFS_HAVE_UPDATE_TIME_FLAGS)
#define STARGATEFS_UPDATE_TIME(name, fn) \
	static int name(struct inode *inode, int flags) { return fn(inode, flags); }
#elif defined(STARGATEFS_HAVE_UPDATE_TIME_TIMESPEC)
#define STARGATEFS_UPDATE_TIME(name, fn) \
	static int name(struct inode *inode, struct timespec64 *time, int flags) { return fn(inode, flags); }
#else
#error "stargatefs_config.h: no form of update_time"
#endif

#endif /* _STARGATEFS_COMPAT_H */
