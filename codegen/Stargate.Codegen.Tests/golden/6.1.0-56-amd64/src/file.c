// SPDX-License-Identifier: GPL-2.0
/*
 * stargatefs: regular files. They are DAX files: read and write copy
 * between the caller and the zone's pages through the kernel's DAX code,
 * and a fault installs the zone page (or the 2 MiB chunk, one PMD) itself
 * in the process's page table. stargatefs_iomap_begin() is where a file
 * offset becomes a zone offset, by walking the file's shared page table.
 *
 * Writes go only where the host allocated pages: a hole gives -ENOSPC.
 * The file may grow up to what is allocated; allocation itself is a
 * namespace change, made by the host.
 */
#include <linux/dax.h>
#include <linux/huge_mm.h>
#include <linux/iomap.h>
#include <linux/mm.h>
#include <linux/pagemap.h>
#include <linux/uio.h>
#include <linux/writeback.h>

#include "stargatefs.h"

static int stargatefs_iomap_begin(struct inode *inode, loff_t pos, loff_t length,
				  unsigned int flags, struct iomap *iomap,
				  struct iomap *srcmap)
{
	struct stargatefs_device *dev = stargatefs_dev(inode->i_sb);
	struct stargatefs_inode *si = STARGATEFS_I(inode);
	struct stargatefs_extent ext;
	u64 pt_root;
	u8 pt_depth;
	int err;

	spin_lock(&si->lock);
	pt_root = si->pt_root;
	pt_depth = si->pt_depth;
	spin_unlock(&si->lock);

	err = stargatefs_zone_map(dev, inode->i_ino, pt_root, pt_depth, pos, length, &ext);
	if (err)
		return err;
	if (!ext.mapped && (flags & IOMAP_WRITE))
		return -ENOSPC;

	iomap->offset = pos;
	iomap->length = ext.len;
	iomap->flags = 0;
	iomap->dax_dev = dev->dax;
	if (ext.mapped) {
		iomap->type = IOMAP_MAPPED;
		/* The DAX device's page 0 is the zone's first byte. */
		iomap->addr = ext.zone_off;
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
	return ret;
}

static ssize_t stargatefs_write_iter(struct kiocb *iocb, struct iov_iter *from)
{
	struct inode *inode = file_inode(iocb->ki_filp);
	struct stargatefs_device *dev = stargatefs_dev(inode->i_sb);
	ssize_t ret;
	int err;

	inode_lock(inode);
	ret = stargatefs_revalidate(inode, true);
	if (ret)
		goto unlock;
	ret = generic_write_checks(iocb, from);
	if (ret <= 0)
		goto unlock;
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
	inode_unlock(inode);
	return ret;
}

/*
 * Every fault of a mapping: revalidates the size and page-table root
 * (without dropping entries: the invalidate lock is held shared here),
 * then lets the DAX code map the zone page or chunk.
 */
static vm_fault_t stargatefs_huge_fault(struct vm_fault *vmf, enum page_entry_size pe_size)
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
		ret = dax_iomap_fault(vmf, pe_size, &pfn, NULL, &stargatefs_iomap_ops);
	filemap_invalidate_unlock_shared(inode->i_mapping);
	if (write) {
		if (!(ret & VM_FAULT_ERROR))
			stargatefs_zone_update_file(dev, inode->i_ino, inode->i_generation, 0,
						    ktime_get_real_ns());
		sb_end_pagefault(sb);
	}
	if (ret & VM_FAULT_NOPAGE)
		atomic_long_inc(pe_size == PE_SIZE_PMD ? &dev->pmd_faults : &dev->pte_faults);
	return ret;
}

static vm_fault_t stargatefs_fault(struct vm_fault *vmf)
{
	return stargatefs_huge_fault(vmf, PE_SIZE_PTE);
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
	vma->vm_flags |= VM_HUGEPAGE;
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

const struct file_operations stargatefs_file_ops = {
	.llseek = generic_file_llseek,
	.read_iter = stargatefs_read_iter,
	.write_iter = stargatefs_write_iter,
	.mmap = stargatefs_mmap,
	.get_unmapped_area = thp_get_unmapped_area,
	.fsync = stargatefs_fsync,
	.splice_read = generic_file_splice_read,
};
