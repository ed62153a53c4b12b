// SPDX-License-Identifier: GPL-2.0
/*
 * stargatefs: the file system type. The mount source names a bound device
 * (see stargatefs_device_find()); all mounts of one device share one
 * superblock, whose s_fs_info holds a reference to the device.
 */
#include <linux/fs_context.h>
#include <linux/module.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/statfs.h>

#include "stargatefs.h"

static struct kmem_cache *stargatefs_inode_cache;

static struct inode *stargatefs_alloc_inode(struct super_block *sb)
{
	struct stargatefs_inode *si = alloc_inode_sb(sb, stargatefs_inode_cache, GFP_KERNEL);

	if (!si)
		return NULL;
	spin_lock_init(&si->lock);
	si->pt_root = 0;
	si->pt_depth = 0;
	si->host_crc = 0;
	return &si->vfs;
}

static void stargatefs_free_inode(struct inode *inode)
{
	kmem_cache_free(stargatefs_inode_cache, STARGATEFS_I(inode));
}

static void stargatefs_inode_once(void *p)
{
	struct stargatefs_inode *si = p;

	inode_init_once(&si->vfs);
}

static int stargatefs_statfs(struct dentry *dentry, struct kstatfs *buf)
{
	struct stargatefs_device *dev = stargatefs_dev(dentry->d_sb);
	u64 free_pages, free_inodes, id[2];

	stargatefs_zone_statfs(dev, &free_pages, &free_inodes);
	buf->f_type = STARGATEFS_MAGIC;
	buf->f_bsize = SGZ_PAGE_SIZE;
	buf->f_frsize = SGZ_PAGE_SIZE;
	buf->f_blocks = dev->geo.chunk_count * SGZ_PAGES_PER_CHUNK;
	buf->f_bfree = free_pages;
	buf->f_bavail = free_pages;
	buf->f_files = dev->geo.inode_count - 1;
	buf->f_ffree = free_inodes;
	buf->f_namelen = SGZ_NAME_MAX;
	memcpy(&id[0], dev->geo.uuid, sizeof(id));
	buf->f_fsid = u64_to_fsid(id[0] ^ id[1]);
	return 0;
}

static int stargatefs_show_options(struct seq_file *m, struct dentry *root)
{
	struct stargatefs_device *dev = stargatefs_dev(root->d_sb);

	seq_printf(m, ",device=%s", pci_name(dev->pdev));
	return 0;
}

static const struct super_operations stargatefs_super_ops = {
	.alloc_inode = stargatefs_alloc_inode,
	.free_inode = stargatefs_free_inode,
	.statfs = stargatefs_statfs,
	.show_options = stargatefs_show_options,
};

static int stargatefs_fill_super(struct super_block *sb, struct fs_context *fc)
{
	struct stargatefs_device *dev = stargatefs_dev(sb);
	struct inode *root;

	/* Only a new superblock takes the geometry: a live one keeps its own. */
	dev->geo = *(struct stargatefs_geometry *)fc->fs_private;
	stargatefs_rpc_mount(dev, !sb_rdonly(sb));
	sb->s_magic = STARGATEFS_MAGIC;
	sb->s_op = &stargatefs_super_ops;
	sb->s_d_op = &stargatefs_dentry_ops;
	sb->s_blocksize = SGZ_PAGE_SIZE;
	sb->s_blocksize_bits = SGZ_PAGE_SHIFT;
	sb->s_maxbytes = SGZ_FILE_SIZE_MAX;	/* what a full-depth page table indexes */
	sb->s_time_gran = 1;

	root = stargatefs_iget(sb, dev->geo.root_ino, 0, true);
	if (IS_ERR(root)) {
		errorf(fc, "stargatefs: cannot read the root directory: %ld", PTR_ERR(root));
		return PTR_ERR(root);
	}
	if (!S_ISDIR(root->i_mode)) {
		iput(root);
		return invalf(fc, "stargatefs: the root inode is not a directory");
	}
	sb->s_root = d_make_root(root);
	return sb->s_root ? 0 : -ENOMEM;
}

static int stargatefs_get_tree(struct fs_context *fc)
{
	struct stargatefs_device *dev;
	int err;

	if (!fc->source)
		return invalf(fc, "stargatefs: no source: mount -t stargatefs INDEX|PCI-ADDRESS DIR");
	dev = stargatefs_device_find(fc->source);
	if (!dev)
		return invalf(fc, "stargatefs: no Stargate device %s (cat /proc/bus/pci/devices, or dmesg | grep stargatefs)",
			      fc->source);
	/* Checked at every mount: the host may have reformatted the zone. */
	err = stargatefs_zone_check(dev, fc->fs_private);
	if (err) {
		stargatefs_device_put(dev);
		return err;
	}
	/* get_tree_keyed() hands the reference to a new superblock, or leaves it in fc. */
	return get_tree_keyed(fc, stargatefs_fill_super, dev);
}

static void stargatefs_free_fc(struct fs_context *fc)
{
	if (fc->s_fs_info)
		stargatefs_device_put(fc->s_fs_info);
	kfree(fc->fs_private);
}

static const struct fs_context_operations stargatefs_context_ops = {
	.get_tree = stargatefs_get_tree,
	.free = stargatefs_free_fc,
};

static int stargatefs_init_fs_context(struct fs_context *fc)
{
	fc->fs_private = kzalloc(sizeof(struct stargatefs_geometry), GFP_KERNEL);
	if (!fc->fs_private)
		return -ENOMEM;
	fc->ops = &stargatefs_context_ops;
	return 0;
}

static void stargatefs_kill_sb(struct super_block *sb)
{
	struct stargatefs_device *dev = stargatefs_dev(sb);

	kill_anon_super(sb);
	if (dev) {
		stargatefs_rpc_unmount(dev);
		stargatefs_device_put(dev);
	}
}

static struct file_system_type stargatefs_type = {
	.owner = THIS_MODULE,
	.name = STARGATEFS_NAME,
	.init_fs_context = stargatefs_init_fs_context,
	.kill_sb = stargatefs_kill_sb,
};

int stargatefs_register(void)
{
	int err;

	stargatefs_inode_cache = kmem_cache_create("stargatefs_inode",
						   sizeof(struct stargatefs_inode), 0,
						   SLAB_RECLAIM_ACCOUNT | SLAB_ACCOUNT,
						   stargatefs_inode_once);
	if (!stargatefs_inode_cache)
		return -ENOMEM;
	err = register_filesystem(&stargatefs_type);
	if (err)
		kmem_cache_destroy(stargatefs_inode_cache);
	return err;
}

void stargatefs_unregister(void)
{
	unregister_filesystem(&stargatefs_type);
	/* Inodes are freed after an RCU grace period. */
	rcu_barrier();
	kmem_cache_destroy(stargatefs_inode_cache);
}
