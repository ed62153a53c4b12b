// SPDX-License-Identifier: GPL-2.0
/*
 * stargatefs: the file system type. The mount source names a bound device
 * (see stargatefs_device_find()); all mounts of one device share one
 * superblock, whose s_fs_info holds a reference to the device.
 */
#include <linux/delay.h>
#include <linux/fs_context.h>
#include <linux/fs_parser.h>
#include <linux/module.h>
#include <linux/random.h>
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
	si->hidden = 0;
	si->snap.valid = false;
	si->own_from = 0;
	si->own_to = 0;
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
	buf->f_blocks = stargatefs_zone_data_pages(dev);
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
	/*
	 * Spelled so that mount(8), which may feed these back at a remount,
	 * keeps them: allow_* reach the file system again, and nosuid and
	 * nodev become the mount's own flags, which mean the same.
	 */
	seq_puts(m, dev->suid ? ",allow_suid" : ",nosuid");
	seq_puts(m, dev->devices ? ",allow_dev" : ",nodev");
	return 0;
}

static const struct super_operations stargatefs_super_ops = {
	.alloc_inode = stargatefs_alloc_inode,
	.free_inode = stargatefs_free_inode,
	.statfs = stargatefs_statfs,
	.show_options = stargatefs_show_options,
};

/*
 * Mount options (docs/guest-module.md "Mount options"). A zone is shared
 * with other machines, whose root may put setuid files and device inodes
 * in it: unless asked, setuid and setgid bits give no privilege and device
 * inodes do not open, whatever the mount(2) flags say. suid and dev are
 * the options' names; mount(8) takes those words as its own per-mount
 * flags and never passes them on, so allow_suid and allow_dev say the same
 * through it.
 */
enum stargatefs_param {
	STARGATEFS_OPT_SUID,
	STARGATEFS_OPT_DEV,
	STARGATEFS_OPT_DEVICE,
};

static const struct fs_parameter_spec stargatefs_params[] = {
	fsparam_flag_no("suid", STARGATEFS_OPT_SUID),
	fsparam_flag("allow_suid", STARGATEFS_OPT_SUID),
	fsparam_flag_no("dev", STARGATEFS_OPT_DEV),
	fsparam_flag("allow_dev", STARGATEFS_OPT_DEV),
	/* Shown in /proc/mounts; taken back and ignored, so that its options mount again. */
	fsparam_string("device", STARGATEFS_OPT_DEVICE),
	{}
};

/*
 * fc->fs_private: the geometry checked at get_tree with the structure
 * partner it was read from and the area partner found by its uuid (both
 * referenced until a new superblock takes them), and the options given.
 */
struct stargatefs_fs_context {
	struct stargatefs_geometry geo;
	struct stargatefs_device *structure;
	struct stargatefs_device *area;
	bool suid;
	bool devices;
	unsigned int given;	/* BIT(STARGATEFS_OPT_*) named in this mount or remount */
};

static int stargatefs_parse_param(struct fs_context *fc, struct fs_parameter *param)
{
	struct stargatefs_fs_context *ctx = fc->fs_private;
	struct fs_parse_result result;
	int opt = fs_parse(fc, stargatefs_params, param, &result);

	if (opt < 0)
		return opt;
	if (opt == STARGATEFS_OPT_DEVICE)
		return 0;
	if (opt == STARGATEFS_OPT_SUID)
		ctx->suid = !result.negated;
	else
		ctx->devices = !result.negated;
	ctx->given |= BIT(opt);
	return 0;
}

/* Takes the options into the superblock; SB_I_NODEV makes may_open_dev() refuse device inodes (EACCES). */
static void stargatefs_apply_options(struct super_block *sb, const struct stargatefs_fs_context *ctx)
{
	struct stargatefs_device *dev = stargatefs_dev(sb);

	WRITE_ONCE(dev->suid, ctx->suid);
	WRITE_ONCE(dev->devices, ctx->devices);
	if (ctx->devices)
		sb->s_iflags &= ~SB_I_NODEV;
	else
		sb->s_iflags |= SB_I_NODEV;
}

static int stargatefs_fill_super(struct super_block *sb, struct fs_context *fc)
{
	struct stargatefs_device *dev = stargatefs_dev(sb);
	struct stargatefs_fs_context *ctx = fc->fs_private;
	struct inode *root;

	/* Only a new superblock takes the geometry and the partner: a live one keeps its own. */
	dev->geo = ctx->geo;
	dev->structure = ctx->structure;
	ctx->structure = NULL;
	dev->area = ctx->area;
	ctx->area = NULL;
	stargatefs_apply_options(sb, ctx);
	stargatefs_rpc_mount(dev);
	sb->s_magic = STARGATEFS_MAGIC;
	sb->s_op = &stargatefs_super_ops;
	sb->s_d_op = &stargatefs_dentry_ops;
	sb->s_xattr = stargatefs_xattr_handlers;
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
	if (!sb->s_root)
		return -ENOMEM;
	stargatefs_grace_mount(sb);
	return 0;
}

/*
 * A read-write mount (or a remount read-write) of data device dev, named
 * name, needs a service connection and a data device that takes stores:
 * refused (EROFS, one line) without an area device (ivshmem-plain: no
 * service, so no grace period waits for this guest's mappings before freed
 * pages go to another file), when the area says the guest's export is
 * read-only, or when a store to the probe word (inode 0's hint, which no
 * file uses) does not read back, as on a device QEMU maps with
 * readonly=on. Another guest's probe may overwrite it in between: tried a
 * few times.
 */
static int stargatefs_writable(struct fs_context *fc, const char *name, struct stargatefs_device *dev,
			       struct stargatefs_device *area_dev, const struct stargatefs_geometry *geo)
{
	const struct sgz_area *area = area_dev ? area_dev->kaddr : NULL;
	struct sgz_hint *unused = dev->kaddr + (geo->hints_offset - geo->zone_size);
	__le64 *probe = &unused->size;
	u64 nonce;
	int i;

	if (!area) {
		errorf(fc, "stargatefs: %s has no area device (ivshmem-plain, no stargate serve): mount -o ro; a guest that writes needs the service, whose grace period keeps freed pages from reaching its mappings",
		       name);
		return -EROFS;
	}
	if (le32_to_cpu(READ_ONCE(area->flags)) & SGZ_AREA_READONLY) {
		errorf(fc, "stargatefs: %s is exported read-only to this guest (serve --socket PATH,ro): mount -o ro",
		       name);
		return -EROFS;
	}
	for (i = 0; i < 5; i++) {
		nonce = get_random_u64() | 1;
		WRITE_ONCE(*probe, cpu_to_le64(nonce));
		if (le64_to_cpu(READ_ONCE(*probe)) == nonce)
			return 0;
		msleep(1);
	}
	errorf(fc, "stargatefs: %s: the data device drops stores (QEMU maps Z.data with readonly=on): mount -o ro",
	       name);
	return -EROFS;
}

static int stargatefs_get_tree(struct fs_context *fc)
{
	struct stargatefs_fs_context *ctx = fc->fs_private;
	struct stargatefs_device *dev;
	struct super_block *sb;
	int err;

	if (!fc->source)
		return invalf(fc, "stargatefs: no source: mount -t stargatefs INDEX|PCI-ADDRESS DIR");
	dev = stargatefs_device_find(fc->source);
	if (!dev)
		return invalf(fc, "stargatefs: no Stargate data device %s (cat /proc/bus/pci/devices, or dmesg | grep stargatefs)",
			      fc->source);
	/* Checked at every mount: the host may have reformatted the zone. */
	err = stargatefs_zone_check(dev, &ctx->geo, &ctx->structure);
	if (err) {
		stargatefs_device_put(dev);
		return err;
	}
	ctx->area = stargatefs_area_find(ctx->geo.uuid);
	if (!(fc->sb_flags & SB_RDONLY)) {
		err = stargatefs_writable(fc, fc->source, dev, ctx->area, &ctx->geo);
		if (err) {
			stargatefs_device_put(dev);
			return err;
		}
	}
	/* get_tree_keyed() hands the reference to a new superblock, or leaves it in fc. */
	err = get_tree_keyed(fc, stargatefs_fill_super, dev);
	if (err)
		return err;
	/*
	 * All mounts of a device share its superblock, and with it suid and
	 * dev: a mount that asks for other ones than the live superblock has
	 * would silently not get them. Undone as vfs_get_super() undoes a
	 * failed reconfiguration: the superblock is still locked here.
	 */
	sb = fc->root->d_sb;
	if (READ_ONCE(dev->suid) != ctx->suid || READ_ONCE(dev->devices) != ctx->devices) {
		dput(fc->root);
		fc->root = NULL;
		deactivate_locked_super(sb);
		return invalf(fc, "stargatefs: %s is mounted %s,%s: unmount it, or mount -o remount with the options",
			      fc->source, dev->suid ? "suid" : "nosuid", dev->devices ? "dev" : "nodev");
	}
	return 0;
}

/*
 * mount -o remount: the options named change, the others stay; read-write
 * only as a read-write mount would be allowed (stargatefs_writable()).
 */
static int stargatefs_reconfigure(struct fs_context *fc)
{
	struct super_block *sb = fc->root->d_sb;
	struct stargatefs_device *dev = stargatefs_dev(sb);
	struct stargatefs_fs_context *ctx = fc->fs_private;
	int err;

	if ((fc->sb_flags_mask & SB_RDONLY) && !(fc->sb_flags & SB_RDONLY) && sb_rdonly(sb)) {
		err = stargatefs_writable(fc, pci_name(dev->pdev), dev, dev->area, &dev->geo);
		if (err)
			return err;
	}
	if (!(ctx->given & BIT(STARGATEFS_OPT_SUID)))
		ctx->suid = dev->suid;
	if (!(ctx->given & BIT(STARGATEFS_OPT_DEV)))
		ctx->devices = dev->devices;
	stargatefs_apply_options(sb, ctx);
	return 0;
}

static void stargatefs_free_fc(struct fs_context *fc)
{
	struct stargatefs_fs_context *ctx = fc->fs_private;

	if (fc->s_fs_info)
		stargatefs_device_put(fc->s_fs_info);
	if (ctx && ctx->structure)
		stargatefs_device_put(ctx->structure);
	if (ctx && ctx->area)
		stargatefs_device_put(ctx->area);
	kfree(ctx);
}

static const struct fs_context_operations stargatefs_context_ops = {
	.parse_param = stargatefs_parse_param,
	.get_tree = stargatefs_get_tree,
	.reconfigure = stargatefs_reconfigure,
	.free = stargatefs_free_fc,
};

static int stargatefs_init_fs_context(struct fs_context *fc)
{
	fc->fs_private = kzalloc(sizeof(struct stargatefs_fs_context), GFP_KERNEL);
	if (!fc->fs_private)
		return -ENOMEM;
	fc->ops = &stargatefs_context_ops;
	return 0;
}

static void stargatefs_kill_sb(struct super_block *sb)
{
	struct stargatefs_device *dev = stargatefs_dev(sb);

	stargatefs_grace_unmount(sb);
	kill_anon_super(sb);
	if (dev) {
		stargatefs_rpc_unmount(dev);
		if (dev->structure)
			stargatefs_device_put(dev->structure);
		dev->structure = NULL;
		if (dev->area)
			stargatefs_device_put(dev->area);
		dev->area = NULL;
		stargatefs_device_put(dev);
	}
}

static struct file_system_type stargatefs_type = {
	.owner = THIS_MODULE,
	.name = STARGATEFS_NAME,
	.init_fs_context = stargatefs_init_fs_context,
	.parameters = stargatefs_params,
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
