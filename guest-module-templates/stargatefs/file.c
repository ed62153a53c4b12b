// SPDX-License-Identifier: GPL-2.0
/*
 * stargatefs: regular files. They are DAX files: read and write copy
 * between the caller and the zone's pages through the kernel's DAX code,
 * and a fault installs the zone page (or the 2 MiB chunk, one PMD) itself
 * in the process's page table. stargatefs_iomap_begin() is where a file
 * offset becomes a zone offset, by walking the file's shared page table.
 *
 * A write holds the inode's zone lock word (so that size and mtime
 * updates of two machines do not interleave) and, where its range has
 * holes, first asks the host to allocate them (ALLOCATE). A write fault of
 * a shared mapping over a hole asks the same way, for the page or (a PMD
 * fault) the whole 2 MiB chunk: SIGBUS only when the zone is full.
 *
 * copy_file_range between two files of one zone is the host's too (COPY):
 * the bytes go from page to page in the host, never through this guest.
 *
 * flock() and fcntl() locks are the host's (LOCK and GETLK requests), and
 * are recorded in the local lock lists too, so that close() and exit()
 * release them through ->lock and ->flock as on any file system.
 */
#include <linux/dax.h>
#include <linux/falloc.h>
#include <linux/huge_mm.h>
#include <linux/iomap.h>
#include <linux/mm.h>
#include <linux/pagemap.h>
#include <linux/sched/signal.h>
#include <linux/splice.h>
#include <linux/uio.h>
#include <linux/writeback.h>

#include "stargatefs.h"

/* How often a blocked lock asks the host again, doorbell or not. */
#define STARGATEFS_LOCK_RETRY_MS 10

static int stargatefs_allocate(struct inode *inode, u64 pos, u64 end, bool may_invalidate);

/* Where file offset pos lies: ext, from the inode's current page-table root. */
static int stargatefs_map_file(struct inode *inode, loff_t pos, loff_t length,
			       struct stargatefs_extent *ext)
{
	struct stargatefs_inode *si = STARGATEFS_I(inode);
	u64 pt_root;
	u8 pt_depth;

	spin_lock(&si->lock);
	pt_root = si->pt_root;
	pt_depth = si->pt_depth;
	spin_unlock(&si->lock);
	return stargatefs_zone_map(stargatefs_dev(inode->i_sb), inode->i_ino, pt_root, pt_depth,
				   STARGATEFS_LEAVES_DATA, pos, length, ext);
}

static int stargatefs_iomap_begin(struct inode *inode, loff_t pos, loff_t length,
				  unsigned int flags, struct iomap *iomap,
				  struct iomap *srcmap)
{
	struct stargatefs_device *dev = stargatefs_dev(inode->i_sb);
	struct stargatefs_extent ext;
	int err;

	err = stargatefs_map_file(inode, pos, length, &ext);
	if (err)
		return err;
	/*
	 * A write fault of a shared mapping over a hole: the host allocates
	 * the faulting page, or the chunk of a PMD fault (length 2 MiB), and
	 * the walk is taken again. The invalidate lock is held shared, so the
	 * revalidation drops no entries (only holes were filled). A write(2)
	 * allocated its range before it came here.
	 */
	if (!ext.mapped && (flags & IOMAP_WRITE) && (flags & IOMAP_FAULT) &&
	    stargatefs_rpc_ready(dev)) {
		err = stargatefs_allocate(inode, pos, pos + length, false);
		if (!err)
			err = stargatefs_map_file(inode, pos, length, &ext);
		if (err)
			return err;
	}
	if (!ext.mapped && (flags & IOMAP_WRITE))
		return -ENOSPC;

	iomap->offset = pos;
	iomap->length = ext.len;
	iomap->flags = 0;
	iomap->dax_dev = dev->dax;
	if (ext.mapped) {
		iomap->type = IOMAP_MAPPED;
		/*
		 * The DAX device is over the data file: its page 0 is zone
		 * offset zone_size (a data leaf lies in the data chunks).
		 */
		iomap->addr = ext.zone_off - dev->geo.zone_size;
	} else {
		iomap->type = IOMAP_HOLE;
		iomap->addr = IOMAP_NULL_ADDR;
	}
	return 0;
}

static const struct iomap_ops stargatefs_iomap_ops = {
	.iomap_begin = stargatefs_iomap_begin,
};

static ssize_t stargatefs_read_iter(struct kiocb *iocb, struct iov_iter *to)
{
	struct inode *inode = file_inode(iocb->ki_filp);
	ssize_t ret;

	if (!iov_iter_count(to))
		return 0;
	inode_lock_shared(inode);
	ret = stargatefs_revalidate(inode, true);
	if (!ret)
		ret = dax_iomap_rw(iocb, to, &stargatefs_iomap_ops);
	inode_unlock_shared(inode);
	/* atime, by the mount's rule (relatime: once after each change, and daily). */
	file_accessed(iocb->ki_filp);
	return ret;
}

/*
 * Makes every page of [pos, end) of a regular file allocated: from its
 * first hole on, ALLOCATE requests of at most SGZ_ALLOCATE_MAX
 * bytes, then a revalidation that picks up the new page table
 * (may_invalidate: see stargatefs_revalidate(); false in a fault). A
 * write holds the zone lock word; a fault needs none (allocation changes
 * no size). Returns 0 or a negative errno (nothing written).
 */
static int stargatefs_allocate(struct inode *inode, u64 pos, u64 end, bool may_invalidate)
{
	struct stargatefs_device *dev = stargatefs_dev(inode->i_sb);
	struct stargatefs_extent ext;
	struct sgz_request *req;
	struct sgz_reply rep;
	unsigned int tag;
	u64 off, len;
	int err;

	for (off = pos; off < end; off += ext.len) {
		err = stargatefs_map_file(inode, off, end - off, &ext);
		if (err)
			return err;
		if (!ext.mapped)
			break;
		/* As many turns as the write has runs: a scheduling point, and a way out for the dying. */
		if (fatal_signal_pending(current))
			return -EINTR;
		cond_resched();
	}
	if (off >= end)
		return 0;
	for (; off < end; off += len) {
		len = min_t(u64, end - off, SGZ_ALLOCATE_MAX);
		req = stargatefs_rpc_begin(dev, SGZ_OP_ALLOCATE, true, &tag);
		if (IS_ERR(req))
			return PTR_ERR(req);
		req->ino = cpu_to_le64(inode->i_ino);
		req->generation = cpu_to_le32(inode->i_generation);
		req->offset = cpu_to_le64(off);
		req->length = cpu_to_le64(len);
		stargatefs_rpc_groups(req, INVALID_GID);
		err = stargatefs_rpc_call(dev, tag, true, &rep);
		if (err)
			return err;
	}
	return stargatefs_revalidate(inode, may_invalidate);
}

/*
 * file_remove_privs() decides from i_mode, which on a nosuid superblock
 * lacks the setuid and setgid bits kept in si->hidden (stargatefs_fill()),
 * and notify_change() would find nothing to kill. So for those bits a write
 * by a caller without CAP_FSETID drops them here the same way (setgid only
 * with group execute), through our own setattr: a kill-privs request.
 */
static int stargatefs_remove_hidden_privs(struct file *file)
{
	struct inode *inode = file_inode(file);
	struct stargatefs_inode *si = STARGATEFS_I(inode);
	struct iattr attr = { .ia_valid = ATTR_FORCE };
	umode_t hidden;

	spin_lock(&si->lock);
	hidden = si->hidden;
	spin_unlock(&si->lock);
	if (hidden & S_ISUID)
		attr.ia_valid |= ATTR_KILL_SUID;
	if ((hidden & S_ISGID) && (inode->i_mode & S_IXGRP))
		attr.ia_valid |= ATTR_KILL_SGID;
	if (attr.ia_valid == ATTR_FORCE || capable(CAP_FSETID))
		return 0;
	return stargatefs_setattr(stargatefs_file_idmap(file), file->f_path.dentry, &attr);
}

/*
 * A write, under the inode's zone lock word when the device takes
 * requests (without a live peer slot it writes only allocated pages, and
 * a hole gives ENOSPC): revalidate (O_APPEND starts at the zone's size),
 * drop setuid/setgid, allocate the holes, copy, then publish size and
 * mtime.
 */
static ssize_t stargatefs_write_iter(struct kiocb *iocb, struct iov_iter *from)
{
	struct inode *inode = file_inode(iocb->ki_filp);
	struct stargatefs_device *dev = stargatefs_dev(inode->i_sb);
	bool zone_locked = false;
	ssize_t ret;
	int err;

	inode_lock(inode);
	if (stargatefs_rpc_ready(dev)) {
		ret = stargatefs_ilock(dev, inode->i_ino, true);
		if (ret)
			goto unlock;
		zone_locked = true;
	}
	ret = stargatefs_revalidate(inode, true);
	if (ret)
		goto unlock;
	ret = generic_write_checks(iocb, from);
	if (ret <= 0)
		goto unlock;
	/*
	 * A write by someone other than the owner (without CAP_FSETID) drops
	 * set-user-id and set-group-id, as POSIX requires: the kernel sends
	 * a setattr with ATTR_KILL_*, which stargatefs_setattr makes an
	 * SGZ_ATTR_KILL_PRIV request. A shared writable mapping does not (no
	 * Linux file system drops them at page_mkwrite either).
	 */
	err = file_remove_privs(iocb->ki_filp);
	if (!err)
		err = stargatefs_remove_hidden_privs(iocb->ki_filp);
	if (err) {
		ret = err;
		goto unlock;
	}
	if (zone_locked) {
		ret = stargatefs_allocate(inode, iocb->ki_pos, iocb->ki_pos + iov_iter_count(from), true);
		if (ret)
			goto unlock;
	}
	ret = dax_iomap_rw(iocb, from, &stargatefs_iomap_ops);
	if (ret > 0) {
		err = stargatefs_zone_update_file(dev, inode->i_ino, inode->i_generation,
						  iocb->ki_pos, ktime_get_real_ns());
		if (err)
			ret = err;
		else if (iocb->ki_pos > i_size_read(inode))
			i_size_write(inode, iocb->ki_pos);
	}
unlock:
	if (zone_locked)
		stargatefs_iunlock(dev, inode->i_ino);
	inode_unlock(inode);
	return ret;
}

/*
 * Every fault of a mapping: revalidates the size and page-table root
 * (without dropping entries: the invalidate lock is held shared here),
 * then lets the DAX code map the zone page or chunk.
 */
static vm_fault_t stargatefs_huge_fault(struct vm_fault *vmf, stargatefs_fault_size_t size)
{
	struct inode *inode = file_inode(vmf->vma->vm_file);
	struct super_block *sb = inode->i_sb;
	struct stargatefs_device *dev = stargatefs_dev(sb);
	bool write = (vmf->flags & FAULT_FLAG_WRITE) && (vmf->vma->vm_flags & VM_SHARED);
	vm_fault_t ret;
	pfn_t pfn;

	if (write)
		sb_start_pagefault(sb);
	filemap_invalidate_lock_shared(inode->i_mapping);
	if (stargatefs_revalidate(inode, false))
		ret = VM_FAULT_SIGBUS;
	else
		ret = dax_iomap_fault(vmf, size, &pfn, NULL, &stargatefs_iomap_ops);
	filemap_invalidate_unlock_shared(inode->i_mapping);
	if (write) {
		if (!(ret & VM_FAULT_ERROR))
			stargatefs_zone_update_file(dev, inode->i_ino, inode->i_generation, 0,
						    ktime_get_real_ns());
		sb_end_pagefault(sb);
	}
	if (ret & VM_FAULT_NOPAGE)
		atomic_long_inc(size == STARGATEFS_FAULT_PMD ? &dev->pmd_faults : &dev->pte_faults);
	return ret;
}

static vm_fault_t stargatefs_fault(struct vm_fault *vmf)
{
	return stargatefs_huge_fault(vmf, STARGATEFS_FAULT_PTE);
}

static const struct vm_operations_struct stargatefs_vm_ops = {
	.fault = stargatefs_fault,
	.huge_fault = stargatefs_huge_fault,
	.page_mkwrite = stargatefs_fault,
	.pfn_mkwrite = stargatefs_fault,
};

static int stargatefs_mmap(struct file *file, struct vm_area_struct *vma)
{
	file_accessed(file);
	vma->vm_ops = &stargatefs_vm_ops;
	stargatefs_vm_flags_set(vma, VM_HUGEPAGE);
	return 0;
}

/*
 * The zone is ordinary memory that every peer sees coherently: a store is
 * visible to the host and other guests without any flush. fsync writes
 * back the DAX entries' dirty state (flushing CPU caches, for zones that
 * live on persistent memory) and returns once that is done.
 */
static int stargatefs_fsync(struct file *file, loff_t start, loff_t end, int datasync)
{
	return file_write_and_wait_range(file, start, end);
}

/* PUNCH requests for [pos, end), at most SGZ_ALLOCATE_MAX bytes each. */
static int stargatefs_punch(struct inode *inode, u64 pos, u64 end)
{
	struct stargatefs_device *dev = stargatefs_dev(inode->i_sb);
	struct sgz_request *req;
	struct sgz_reply rep;
	unsigned int tag;
	u64 len;
	int err;

	for (; pos < end; pos += len) {
		len = min_t(u64, end - pos, SGZ_ALLOCATE_MAX);
		req = stargatefs_rpc_begin(dev, SGZ_OP_PUNCH, true, &tag);
		if (IS_ERR(req))
			return PTR_ERR(req);
		req->ino = cpu_to_le64(inode->i_ino);
		req->generation = cpu_to_le32(inode->i_generation);
		req->offset = cpu_to_le64(pos);
		req->length = cpu_to_le64(len);
		stargatefs_rpc_groups(req, INVALID_GID);
		err = stargatefs_rpc_call(dev, tag, true, &rep);
		if (err)
			return err;
	}
	return 0;
}

/*
 * fallocate: the default mode and KEEP_SIZE allocate (ALLOCATE) and, without
 * KEEP_SIZE, publish the new size as a write does; PUNCH_HOLE frees the
 * range's pages (PUNCH) with every mapping of the range broken first, as a
 * truncate does; ZERO_RANGE is a punch, then an allocation (ext4's
 * semantics: the range reads as zeros and is allocated). Other modes
 * (COLLAPSE_RANGE, INSERT_RANGE, UNSHARE_RANGE) get EOPNOTSUPP, as on tmpfs.
 */
static long stargatefs_fallocate(struct file *file, int mode, loff_t offset, loff_t len)
{
	struct inode *inode = file_inode(file);
	struct stargatefs_device *dev = stargatefs_dev(inode->i_sb);
	bool hole = mode & (FALLOC_FL_PUNCH_HOLE | FALLOC_FL_ZERO_RANGE);
	u64 end = (u64)offset + (u64)len;
	long err;

	if (mode & ~(FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE | FALLOC_FL_ZERO_RANGE))
		return -EOPNOTSUPP;
	if (!stargatefs_rpc_ready(dev))
		return -EROFS;
	inode_lock(inode);
	err = stargatefs_ilock(dev, inode->i_ino, true);
	if (err)
		goto unlock_inode;
	err = stargatefs_revalidate(inode, true);
	if (!err && !(mode & FALLOC_FL_KEEP_SIZE))
		err = inode_newsize_ok(inode, end);
	if (!err)
		err = file_modified(file);
	if (err)
		goto unlock;
	if (hole) {
		filemap_invalidate_lock(inode->i_mapping);
		err = stargatefs_break_layouts(inode);
		if (!err) {
			truncate_pagecache_range(inode, offset, end - 1);
			err = stargatefs_punch(inode, offset, min_t(u64, end, i_size_read(inode)));
		}
		filemap_invalidate_unlock(inode->i_mapping);
		if (err)
			goto unlock;
	}
	if (!(mode & FALLOC_FL_PUNCH_HOLE))
		err = stargatefs_allocate(inode, offset, end, true);
	if (!err && (hole || (!(mode & FALLOC_FL_KEEP_SIZE) && end > i_size_read(inode))))
		err = stargatefs_zone_update_file(dev, inode->i_ino, inode->i_generation,
						  (mode & FALLOC_FL_KEEP_SIZE) ? 0 : end, ktime_get_real_ns());
	if (!err && !(mode & FALLOC_FL_KEEP_SIZE) && end > i_size_read(inode))
		i_size_write(inode, end);
unlock:
	stargatefs_iunlock(dev, inode->i_ino);
	stargatefs_revalidate(inode, true);
unlock_inode:
	inode_unlock(inode);
	return err;
}

/*
 * SEEK_DATA and SEEK_HOLE from the file's page table (allocated pages are
 * data, holes are holes: a range allocated ahead of the written bytes reads
 * as zeros and counts as data); every other whence as any file.
 */
static loff_t stargatefs_llseek(struct file *file, loff_t offset, int whence)
{
	struct inode *inode = file_inode(file);
	int err;

	if (whence != SEEK_DATA && whence != SEEK_HOLE)
		return generic_file_llseek(file, offset, whence);
	inode_lock_shared(inode);
	err = stargatefs_revalidate(inode, true);
	if (err)
		offset = err;
	else if (whence == SEEK_DATA)
		offset = iomap_seek_data(inode, offset, &stargatefs_iomap_ops);
	else
		offset = iomap_seek_hole(inode, offset, &stargatefs_iomap_ops);
	inode_unlock_shared(inode);
	return offset < 0 ? offset : vfs_setpos(file, offset, inode->i_sb->s_maxbytes);
}

static int stargatefs_writepages(struct address_space *mapping,
				 struct writeback_control *wbc)
{
	return dax_writeback_mapping_range(mapping, stargatefs_dev(mapping->host->i_sb)->dax,
					   wbc);
}

const struct address_space_operations stargatefs_aops = {
	.writepages = stargatefs_writepages,
	.direct_IO = noop_direct_IO,
	.dirty_folio = noop_dirty_folio,
};

/*
 * Counts the open in the guest's open table (so that the host keeps the
 * file's data while it is open here, even once its last name goes), then
 * checks the file still exists.
 */
static int stargatefs_open(struct inode *inode, struct file *file)
{
	struct stargatefs_device *dev = stargatefs_dev(inode->i_sb);
	int err;

	err = stargatefs_open_add(dev, inode->i_ino, inode->i_generation);
	if (err)
		return err;
	err = stargatefs_revalidate(inode, true);
	if (err)
		stargatefs_open_drop(dev, inode->i_ino, inode->i_generation);
	return err;
}

/*
 * The guest's last close of an unlinked file tells the host, which may free
 * it then.
 *
 * Every close with no mapping of the file left in this guest first drops the
 * DAX entries that earlier mappings left in the page cache. Once no open here
 * holds the file, another machine may delete it and the host may give its
 * pages to another file; entries kept here would still tie those pages to
 * this inode (page->mapping), and mapping them for the other file would
 * trip the kernel's DAX checks. An unused cached inode is never reclaimed
 * while it has DAX entries, so nothing else would drop them.
 */
static int stargatefs_release(struct inode *inode, struct file *file)
{
	struct stargatefs_device *dev = stargatefs_dev(inode->i_sb);
	struct sgz_request *req;
	struct sgz_reply rep;
	unsigned int tag;
	int err;

	if (inode->i_mapping->nrpages && !mapping_mapped(inode->i_mapping))
		stargatefs_invalidate(inode);
	if (!stargatefs_open_drop(dev, inode->i_ino, inode->i_generation) ||
	    !stargatefs_zone_inode_orphan(dev, inode->i_ino, inode->i_generation))
		return 0;
	/* Not killable: a process killed with the file open still closes it. */
	req = stargatefs_rpc_begin(dev, SGZ_OP_RELEASE, false, &tag);
	if (IS_ERR(req))
		return 0;
	req->ino = cpu_to_le64(inode->i_ino);
	req->generation = cpu_to_le32(inode->i_generation);
	err = stargatefs_rpc_call(dev, tag, false, &rep);
	if (err)
		stargatefs_err_ratelimited(dev, "release of unlinked inode %lu: %d\n", inode->i_ino, err);
	return 0;
}

/*
 * The shortest copy_file_range sent to the host as COPY: below it the
 * kernel's splice copy through this guest costs less than a request
 * (measured under TCG: docs/performance.md, "Copies inside a zone").
 */
#define STARGATEFS_COPY_MIN (64 * 1024)

/*
 * copy_file_range between two files of this zone, done by the host in COPY
 * requests of at most SGZ_COPY_MAX bytes. Holds the destination's inode
 * lock and zone lock word, as a write does; the source needs neither (the
 * host copies what its pages hold, as a read would). Afterwards the
 * destination is revalidated as after ALLOCATE: the host changed its size,
 * times, mode (setuid and setgid dropped) and page table, so its cached
 * attributes and DAX entries follow. Returns the bytes copied (fewer at the
 * source's end, or when a fatal signal came between two requests) or a
 * negative errno: -EOPNOTSUPP from a host that knows no COPY (ENOSYS), and
 * the caller copies by splice instead.
 */
static ssize_t stargatefs_host_copy(struct file *file_in, loff_t pos_in,
				    struct file *file_out, loff_t pos_out, size_t len)
{
	struct inode *src = file_inode(file_in);
	struct inode *dst = file_inode(file_out);
	struct stargatefs_device *dev = stargatefs_dev(dst->i_sb);
	struct sgz_request *req;
	struct sgz_reply rep;
	unsigned int tag;
	size_t done = 0;
	u64 n, copied;
	int err;

	inode_lock(dst);
	err = stargatefs_ilock(dev, dst->i_ino, true);
	if (err)
		goto unlock_inode;
	err = stargatefs_revalidate(dst, true);
	if (!err && src != dst)
		err = stargatefs_revalidate(src, true);
	while (!err && done < len) {
		n = min_t(u64, len - done, SGZ_COPY_MAX);
		req = stargatefs_rpc_begin(dev, SGZ_OP_COPY, true, &tag);
		if (IS_ERR(req)) {
			err = PTR_ERR(req);
			break;
		}
		req->ino = cpu_to_le64(src->i_ino);
		req->generation = cpu_to_le32(src->i_generation);
		req->offset = cpu_to_le64(pos_in + done);
		req->ino2 = cpu_to_le64(dst->i_ino);
		req->generation2 = cpu_to_le32(dst->i_generation);
		req->rdev = cpu_to_le64(pos_out + done);
		req->length = cpu_to_le64(n);
		if (capable(CAP_FSETID))
			req->flags |= cpu_to_le32(SGZ_REQ_COPY_FSETID);
		stargatefs_rpc_groups(req, INVALID_GID);
		err = stargatefs_rpc_call(dev, tag, true, &rep);
		if (err)
			break;
		copied = le64_to_cpu(rep.size);
		if (copied > n) {
			stargatefs_err_ratelimited(dev, "copy to inode %lu: the host copied %llu of %llu bytes\n",
						   dst->i_ino, copied, n);
			err = -EIO;
			break;
		}
		done += copied;
		if (copied < n || fatal_signal_pending(current))
			break;
	}
	if (done)
		stargatefs_revalidate(dst, true);
	stargatefs_iunlock(dev, dst->i_ino);
unlock_inode:
	inode_unlock(dst);
	if (err == -ENOSYS)
		err = -EOPNOTSUPP;
	return done ? done : err;
}

/*
 * copy_file_range: the host copies between two files of this zone (same
 * superblock) from STARGATEFS_COPY_MIN bytes on; anything else (another
 * stargatefs mount, a short copy, a device that takes no requests, a host
 * without COPY, the kernel's COPY_FILE_SPLICE) is the kernel's splice copy,
 * which the VFS leaves to a file system that has this operation. Copies
 * between stargatefs and another file system never come here: the VFS
 * refuses them with EXDEV, and programs copy by read and write then.
 */
static ssize_t stargatefs_copy_file_range(struct file *file_in, loff_t pos_in,
					  struct file *file_out, loff_t pos_out,
					  size_t len, unsigned int flags)
{
	struct inode *dst = file_inode(file_out);
	ssize_t ret = -EXDEV;

	if (file_inode(file_in)->i_sb == dst->i_sb && !flags && len >= STARGATEFS_COPY_MIN &&
	    stargatefs_rpc_ready(stargatefs_dev(dst->i_sb)))
		ret = stargatefs_host_copy(file_in, pos_in, file_out, pos_out, len);
	if (ret == -EXDEV || ret == -EOPNOTSUPP)
		return stargatefs_splice_copy(file_in, pos_in, file_out, pos_out, len);
	if (ret > 0)
		file_accessed(file_in);
	return ret;
}

/* A lock owner as the zone sees it: a keyed hash, never a kernel pointer. */
static u64 stargatefs_lock_owner(struct stargatefs_device *dev, const void *owner)
{
	return siphash_1u64((u64)(unsigned long)owner, &dev->rpc->owner_key);
}

/*
 * Sends one LOCK or GETLK request for fl (flags: SGZ_REQ_LOCK_*) and
 * copies the reply. Returns 0, the host's errno (EAGAIN: refused), or
 * ENOLCK on a device that takes no requests.
 */
static int stargatefs_lock_request(struct file *file, struct file_lock *fl, u32 opcode,
				   u32 flags, bool killable, struct sgz_reply *rep)
{
	struct inode *inode = file_inode(file);
	struct stargatefs_device *dev = stargatefs_dev(inode->i_sb);
	bool flock = flags & SGZ_REQ_LOCK_FLOCK;
	struct sgz_request *req;
	unsigned int tag;
	u32 type;

	switch (STARGATEFS_FL(fl, type)) {
	case F_RDLCK:
		type = SGZ_LOCK_READ;
		break;
	case F_WRLCK:
		type = SGZ_LOCK_WRITE;
		break;
	case F_UNLCK:
		type = SGZ_LOCK_UNLOCK;
		break;
	default:
		return -EINVAL;
	}
	req = stargatefs_rpc_begin(dev, opcode, killable, &tag);
	if (IS_ERR(req))
		return PTR_ERR(req) == -EROFS ? -ENOLCK : PTR_ERR(req);
	req->ino = cpu_to_le64(inode->i_ino);
	req->generation = cpu_to_le32(inode->i_generation);
	req->flags |= cpu_to_le32(flags);
	req->lock_type = cpu_to_le32(type);
	if (!flock) {
		req->offset = cpu_to_le64(fl->fl_start);
		req->length = cpu_to_le64(fl->fl_end == OFFSET_MAX ? 0 :
					  fl->fl_end - fl->fl_start + 1);
	}
	req->owner = cpu_to_le64(stargatefs_lock_owner(dev, flock ? (void *)file :
						       (void *)STARGATEFS_FL(fl, owner)));
	req->pid = cpu_to_le32(STARGATEFS_FL(fl, pid));
	return stargatefs_rpc_call(dev, tag, killable, rep);
}

/*
 * Takes or drops a lock at the host, then records it locally. An unlock
 * drops the local record first and is not killable (it runs at close and
 * exit). A blocking lock refused with EAGAIN asks again when the host rings
 * (it does when a lock on the inode goes) or every
 * STARGATEFS_LOCK_RETRY_MS.
 */
static int stargatefs_set_lock(struct file *file, struct file_lock *fl, u32 flags)
{
	struct stargatefs_device *dev = stargatefs_dev(file_inode(file)->i_sb);
	unsigned int fl_flags = STARGATEFS_FL(fl, flags);
	bool wait = fl_flags & FL_SLEEP;
	struct sgz_reply rep;
	unsigned int seen;
	int err, local;

	if (STARGATEFS_FL(fl, type) == F_UNLCK) {
		local = locks_lock_file_wait(file, fl);
		err = stargatefs_lock_request(file, fl, SGZ_OP_LOCK, flags, false, &rep);
		return local ? local : err;
	}
	for (;;) {
		err = stargatefs_lock_request(file, fl, SGZ_OP_LOCK,
					      flags | (wait ? SGZ_REQ_LOCK_WAIT : 0), true, &rep);
		if (err != -EAGAIN || !wait)
			break;
		/* Counted after the reply: the request's own wakes must not end the sleep. */
		seen = stargatefs_rpc_wakes(dev);
		err = stargatefs_rpc_sleep(dev, seen, STARGATEFS_LOCK_RETRY_MS);
		if (err)
			return err;
	}
	if (err)
		return err;
	/* The host granted it: the local record cannot conflict, and must not wait. */
	STARGATEFS_FL(fl, flags) = fl_flags & ~FL_SLEEP;
	local = locks_lock_file_wait(file, fl);
	STARGATEFS_FL(fl, flags) = fl_flags;
	if (local) {
		STARGATEFS_FL(fl, type) = F_UNLCK;
		stargatefs_lock_request(file, fl, SGZ_OP_LOCK, flags, false, &rep);
	}
	return local;
}

/* F_GETLK: the conflicting lock the host reports, its pid as the reply gives it. */
static int stargatefs_get_lock(struct file *file, struct file_lock *fl)
{
	struct stargatefs_device *dev = stargatefs_dev(file_inode(file)->i_sb);
	struct sgz_reply rep;
	u64 start, end;
	int err;

	err = stargatefs_lock_request(file, fl, SGZ_OP_GETLK, 0, true, &rep);
	if (err)
		return err;
	start = le64_to_cpu(rep.lock_start);
	end = le64_to_cpu(rep.lock_end);
	switch (le32_to_cpu(rep.lock_type)) {
	case SGZ_LOCK_UNLOCK:
		STARGATEFS_FL(fl, type) = F_UNLCK;
		return 0;
	case SGZ_LOCK_READ:
		STARGATEFS_FL(fl, type) = F_RDLCK;
		break;
	case SGZ_LOCK_WRITE:
		STARGATEFS_FL(fl, type) = F_WRLCK;
		break;
	default:
		goto bad;
	}
	if (start > OFFSET_MAX || (end != SGZ_LOCK_EOF && (end > OFFSET_MAX || end < start)))
		goto bad;
	fl->fl_start = start;
	fl->fl_end = end == SGZ_LOCK_EOF ? OFFSET_MAX : end;
	STARGATEFS_FL(fl, pid) = le32_to_cpu(rep.lock_pid);
	return 0;
bad:
	stargatefs_err_ratelimited(dev, "getlk of inode %lu: bad reply (type %u, %llu..%llu)\n",
				   file_inode(file)->i_ino, le32_to_cpu(rep.lock_type), start, end);
	return -EIO;
}

static int stargatefs_lock(struct file *file, int cmd, struct file_lock *fl)
{
	if (!(STARGATEFS_FL(fl, flags) & FL_POSIX))
		return -ENOLCK;
	if (IS_GETLK(cmd))
		return stargatefs_get_lock(file, fl);
	return stargatefs_set_lock(file, fl, 0);
}

static int stargatefs_flock(struct file *file, int cmd, struct file_lock *fl)
{
	if (!(STARGATEFS_FL(fl, flags) & FL_FLOCK))
		return -ENOLCK;
	return stargatefs_set_lock(file, fl, SGZ_REQ_LOCK_FLOCK);
}

const struct file_operations stargatefs_file_ops = {
	.open = stargatefs_open,
	.release = stargatefs_release,
	.llseek = stargatefs_llseek,
	.read_iter = stargatefs_read_iter,
	.write_iter = stargatefs_write_iter,
	.mmap = stargatefs_mmap,
	.get_unmapped_area = stargatefs_get_unmapped_area,
	.fsync = stargatefs_fsync,
	.lock = stargatefs_lock,
	.flock = stargatefs_flock,
	.splice_read = stargatefs_splice_read,
	.splice_write = iter_file_splice_write,
	.fallocate = stargatefs_fallocate,
	.copy_file_range = stargatefs_copy_file_range,
};
