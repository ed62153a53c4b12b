// SPDX-License-Identifier: GPL-2.0
/*
 * stargatefs: inodes. A VFS inode caches a zone inode; every read, write,
 * getattr and fault revalidates it against the zone (size, times, mode,
 * page-table root) so that what the host or another guest changed is seen
 * at once. Inodes are keyed by (number, generation): a number the host
 * reused is a new inode, and the old one answers -ESTALE.
 */
#include <linux/dax.h>
#include <linux/namei.h>
#include <linux/pagemap.h>
#include <linux/time.h>

#include "stargatefs.h"

struct stargatefs_iget_key {
	u64 ino;
	u32 generation;
	bool any_generation;
};

static int stargatefs_iget_test(struct inode *inode, void *data)
{
	struct stargatefs_iget_key *key = data;

	return inode->i_ino == key->ino &&
	       (key->any_generation || inode->i_generation == key->generation);
}

static int stargatefs_iget_set(struct inode *inode, void *data)
{
	struct stargatefs_iget_key *key = data;

	inode->i_ino = key->ino;
	inode->i_generation = key->generation;
	return 0;
}

static struct timespec64 stargatefs_ts(__le64 ns)
{
	return ns_to_timespec64(le64_to_cpu(ns) > KTIME_MAX ? KTIME_MAX : le64_to_cpu(ns));
}

/*
 * Copies a checked zone inode into the VFS inode; the snapshot lock is held.
 *
 * nosuid (the default, docs/guest-module.md "Mount options"): the VFS's own
 * nosuid is a per-mount flag (MNT_NOSUID, checked by mnt_may_suid() in
 * exec) that only the caller of mount(2) sets; a file system cannot set it
 * on its mounts, and SB_NOSUID in s_flags is read by no exec path, on 6.1
 * as on 6.12. What exec does read is i_mode (bprm_fill_uid(), after our
 * ->open revalidated the inode). So on a superblock without suid, a regular
 * file's S_ISUID and S_ISGID stay out of i_mode, in si->hidden: the program
 * runs with its caller's credentials, as on a nosuid mount. getattr puts
 * them back (stat, ls and chmod u+x, which reads the mode first, see the
 * zone's bits) and setattr clears them in the zone when the VFS asks to
 * kill them (chown). A directory's S_ISGID gives no privilege and stays.
 */
static void stargatefs_fill(struct inode *inode, const struct sgz_inode *zi)
{
	struct stargatefs_inode *si = STARGATEFS_I(inode);
	umode_t mode = le32_to_cpu(zi->mode) & ~S_IFMT;

	si->hidden = 0;
	if (S_ISREG(inode->i_mode) && !stargatefs_dev(inode->i_sb)->suid)
		si->hidden = mode & (S_ISUID | S_ISGID);
	inode->i_mode = (inode->i_mode & S_IFMT) | (mode & ~si->hidden);
	i_uid_write(inode, le32_to_cpu(zi->uid));
	i_gid_write(inode, le32_to_cpu(zi->gid));
	set_nlink(inode, le32_to_cpu(zi->nlink));
	i_size_write(inode, le64_to_cpu(zi->size));
	inode->i_blocks = le64_to_cpu(zi->pages) << (SGZ_PAGE_SHIFT - 9);
	stargatefs_set_mtime(inode, stargatefs_ts(zi->mtime_ns));
	stargatefs_set_ctime(inode, stargatefs_ts(zi->ctime_ns));
	stargatefs_set_atime(inode, stargatefs_ts(zi->atime_ns));
	si->btime_ns = le64_to_cpu(zi->btime_ns);
	si->pt_root = le64_to_cpu(zi->pt_root);
	si->pt_depth = zi->pt_depth;
	si->host_crc = le32_to_cpu(zi->crc);
}

/*
 * Drops every mapping and DAX entry of a file whose layout the host
 * changed, so that later faults walk the new page table. Skipped (and the
 * old entries kept) while some page is pinned, e.g. by O_DIRECT elsewhere.
 */
void stargatefs_invalidate(struct inode *inode)
{
	struct address_space *mapping = inode->i_mapping;

	filemap_invalidate_lock(mapping);
	if (!dax_layout_busy_page(mapping))
		truncate_inode_pages(mapping, 0);
	filemap_invalidate_unlock(mapping);
}

/*
 * Brings inode up to date with its zone inode. may_invalidate is false in
 * the fault path (which holds the invalidate lock); there a changed layout
 * is picked up by the next read, write or stat. Returns 0, -ESTALE when
 * the zone inode was freed or reused, or -EIO.
 */
int stargatefs_revalidate(struct inode *inode, bool may_invalidate)
{
	struct stargatefs_device *dev = stargatefs_dev(inode->i_sb);
	struct stargatefs_inode *si = STARGATEFS_I(inode);
	struct sgz_inode zi;
	bool relaid, shrunk;
	u32 seq;
	int err;

	err = stargatefs_zone_load_cached(dev, inode->i_ino, &si->lock, &si->snap, &zi, &seq);
	if (err)
		return err == -ENOENT ? -ESTALE : err;
	if (le32_to_cpu(zi.generation) != inode->i_generation ||
	    (le32_to_cpu(zi.mode) & S_IFMT) != (inode->i_mode & S_IFMT))
		return -ESTALE;

	spin_lock(&si->lock);
	relaid = si->host_crc != le32_to_cpu(zi.crc);
	shrunk = le64_to_cpu(zi.size) < i_size_read(inode);
	stargatefs_fill(inode, &zi);
	spin_unlock(&si->lock);

	if (may_invalidate && S_ISREG(inode->i_mode) && (relaid || shrunk) &&
	    inode->i_mapping->nrpages)
		stargatefs_invalidate(inode);
	return 0;
}

/*
 * The VFS inode for zone inode ino. any_generation: accept whatever
 * generation the zone holds (the root); otherwise the zone inode must
 * still have generation, or the entry that named it is stale.
 */
struct inode *stargatefs_iget(struct super_block *sb, u64 ino, u32 generation,
			      bool any_generation)
{
	struct stargatefs_device *dev = stargatefs_dev(sb);
	struct stargatefs_iget_key key = { ino, generation, any_generation };
	struct stargatefs_snapshot snap;
	struct sgz_inode zi;
	struct inode *inode;
	u32 seq, mode;
	int err;

	err = stargatefs_zone_load_fresh(dev, ino, &snap, &zi, &seq);
	if (err)
		return ERR_PTR(err == -ENOENT ? -ESTALE : err);
	if (!any_generation && le32_to_cpu(zi.generation) != generation)
		return ERR_PTR(-ESTALE);
	key.generation = le32_to_cpu(zi.generation);
	key.any_generation = false;

	inode = iget5_locked(sb, ino, stargatefs_iget_test, stargatefs_iget_set, &key);
	if (!inode)
		return ERR_PTR(-ENOMEM);
	if (!(inode->i_state & I_NEW)) {
		err = stargatefs_revalidate(inode, true);
		if (err) {
			iput(inode);
			return ERR_PTR(err);
		}
		return inode;
	}

	mode = le32_to_cpu(zi.mode);
	inode->i_mode = mode & S_IFMT;
	spin_lock(&STARGATEFS_I(inode)->lock);
	STARGATEFS_I(inode)->snap = snap;
	stargatefs_fill(inode, &zi);
	spin_unlock(&STARGATEFS_I(inode)->lock);

	switch (mode & S_IFMT) {
	case S_IFREG:
		inode->i_op = &stargatefs_file_inode_ops;
		inode->i_fop = &stargatefs_file_ops;
		inode->i_mapping->a_ops = &stargatefs_aops;
		inode->i_flags |= S_DAX;
		break;
	case S_IFDIR:
		inode->i_op = &stargatefs_dir_inode_ops;
		inode->i_fop = &stargatefs_dir_ops;
		break;
	case S_IFLNK:
		inode->i_op = &stargatefs_symlink_inode_ops;
		break;
	default:
		inode->i_op = &stargatefs_file_inode_ops;
		init_special_inode(inode, inode->i_mode, new_decode_dev(le64_to_cpu(zi.rdev)));
		break;
	}
	unlock_new_inode(inode);
	return inode;
}

int stargatefs_getattr(STARGATEFS_IDMAP *idmap, const struct path *path,
		       struct kstat *stat, u32 request_mask, unsigned int flags)
{
	struct inode *inode = d_inode(path->dentry);
	int err = stargatefs_revalidate(inode, true);

	if (err)
		return err;
	stargatefs_fillattr(idmap, request_mask, inode, stat);
	/* The zone's mode, setuid bits a nosuid superblock keeps from exec included. */
	spin_lock(&STARGATEFS_I(inode)->lock);
	stat->mode |= STARGATEFS_I(inode)->hidden;
	stat->btime = ns_to_timespec64(min_t(u64, STARGATEFS_I(inode)->btime_ns, KTIME_MAX));
	spin_unlock(&STARGATEFS_I(inode)->lock);
	stat->result_mask |= STATX_BTIME;
	return 0;
}

/*
 * The VFS's time updates. Only an access time is sent (touch_atime, which
 * the mount's relatime or strictatime rule let through): one SETATTR with
 * SGZ_REQ_SETATTR_ACCESS, which moves atime alone. A write's mtime and
 * ctime travel with the write (the hint, or the request that made the
 * change), so those flags are done already. touch_atime ignores failures,
 * and so does this: a read never fails for its atime.
 */
static int stargatefs_update_times(struct inode *inode, int flags)
{
	struct stargatefs_device *dev = stargatefs_dev(inode->i_sb);
	struct sgz_request *req;
	struct sgz_reply rep;
	unsigned int tag;

	if (!(flags & S_ATIME) || !stargatefs_rpc_ready(dev))
		return 0;
	req = stargatefs_rpc_begin(dev, SGZ_OP_SETATTR, true, &tag);
	if (IS_ERR(req))
		return 0;
	req->ino = cpu_to_le64(inode->i_ino);
	req->generation = cpu_to_le32(inode->i_generation);
	req->flags |= cpu_to_le32(SGZ_REQ_SETATTR_ACCESS);
	req->valid = cpu_to_le32(SGZ_ATTR_ATIME);
	req->atime_ns = cpu_to_le64(SGZ_TIME_NOW);
	req->mtime_ns = cpu_to_le64(SGZ_TIME_NOW);
	stargatefs_rpc_groups(req, INVALID_GID);
	if (!stargatefs_rpc_call(dev, tag, true, &rep))
		stargatefs_revalidate(inode, false);
	return 0;
}

STARGATEFS_UPDATE_TIME(stargatefs_update_time, stargatefs_update_times)

const struct inode_operations stargatefs_file_inode_ops = {
	.getattr = stargatefs_getattr,
	.setattr = stargatefs_setattr,
	.listxattr = stargatefs_listxattr,
	.update_time = stargatefs_update_time,
};

/*
 * A reply's dir_change for dir (docs/requests.md): this guest's request
 * moved the directory's change counter from change - 1 to change, and the
 * VFS updates the one name it changed; every dentry of dir checked at
 * change - 1, or anywhere in a span of own changes ending there, holds at
 * change. 0 (not given) changes nothing.
 */
void stargatefs_dir_changed(struct inode *dir, u64 change)
{
	struct stargatefs_inode *si = STARGATEFS_I(dir);

	if (!change)
		return;
	spin_lock(&si->lock);
	if (!si->own_to || si->own_to != change - 1)
		si->own_from = change - 1;
	si->own_to = change;
	spin_unlock(&si->lock);
}

/* Whether a dentry of dir checked at counter stamp is valid while dir's counter is now. */
static bool stargatefs_stamp_current(struct inode *dir, u64 stamp, u64 now)
{
	struct stargatefs_inode *si = STARGATEFS_I(dir);
	bool current_;

	if (stamp == now)
		return true;
	spin_lock(&si->lock);
	current_ = si->own_to && now == si->own_to && stamp >= si->own_from && stamp <= si->own_to;
	spin_unlock(&si->lock);
	return current_;
}

/*
 * In an RCU path walk: valid (1) when the directory's cached copy is still
 * the zone's and its change counter is the dentry's, or a later one this
 * guest's own changes led to (stargatefs_dir_changed()); otherwise -ECHILD,
 * and the walk asks again with references held.
 */
static int stargatefs_d_revalidate_rcu(struct dentry *dentry)
{
	struct dentry *parent = READ_ONCE(dentry->d_parent);
	struct inode *dir = d_inode_rcu(parent);
	struct sgz_inode zi;
	u32 seq;

	if (!dir || !stargatefs_zone_snapshot(stargatefs_dev(dir->i_sb), dir->i_ino,
					      &STARGATEFS_I(dir)->lock, &STARGATEFS_I(dir)->snap,
					      &zi, &seq))
		return -ECHILD;
	if (le32_to_cpu(zi.generation) != dir->i_generation ||
	    !stargatefs_stamp_current(dir, READ_ONCE(dentry->d_time), le64_to_cpu(zi.change)))
		return -ECHILD;
	return 1;
}

/*
 * A cached dentry, positive or negative, stays valid while its directory's
 * change counter has not moved (the host bumps it at every entry made,
 * removed or renamed, by any machine) but by this guest's own changes;
 * after that it is looked up again and kept only if the name still leads
 * to the same inode number and generation (or still to none).
 */
static int stargatefs_d_revalidate(struct dentry *dentry, unsigned int flags)
{
	struct stargatefs_device *dev;
	struct dentry *parent;
	struct inode *dir, *inode;
	struct sgz_inode zi;
	u64 ino, change;
	u32 generation, seq;
	int err, valid;

	if (flags & LOOKUP_RCU)
		return stargatefs_d_revalidate_rcu(dentry);
	parent = dget_parent(dentry);
	dir = d_inode(parent);
	dev = stargatefs_dev(dir->i_sb);
	inode = d_inode(dentry);
	err = stargatefs_zone_load_cached(dev, dir->i_ino, &STARGATEFS_I(dir)->lock,
					  &STARGATEFS_I(dir)->snap, &zi, &seq);
	if (!err && le32_to_cpu(zi.generation) != dir->i_generation) {
		/* The directory was removed and its number reused: nothing under it stands. */
		dput(parent);
		return 0;
	}
	if (!err && stargatefs_stamp_current(dir, dentry->d_time, le64_to_cpu(zi.change))) {
		dput(parent);
		return 1;
	}
	err = stargatefs_dir_find(dir, dentry->d_name.name, dentry->d_name.len,
				  &ino, &generation, &change);
	if (err == -ENOENT)
		valid = !inode;
	else if (err)
		valid = 0;
	else
		valid = inode && inode->i_ino == ino && inode->i_generation == generation;
	if (valid)
		dentry->d_time = change;
	dput(parent);
	return valid;
}

const struct dentry_operations stargatefs_dentry_ops = {
	.d_revalidate = stargatefs_d_revalidate,
};
