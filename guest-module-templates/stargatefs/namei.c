// SPDX-License-Identifier: GPL-2.0
/*
 * stargatefs: namespace changes. Each is one request to the host
 * (docs/requests.md), then the local VFS update: the directories involved
 * are revalidated against the zone, and a new name gets the inode the
 * reply names. The host checks permissions too (with the caller's fsuid and
 * fsgid); the VFS's own checks against the revalidated inodes come first.
 */
#include <linux/dax.h>
#include <linux/namei.h>
#include <linux/pagemap.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>

#include "stargatefs.h"

/* Brings inode up to date after a change the host made; a freed inode loses its links. */
static void stargatefs_refresh(struct inode *inode)
{
	if (inode && stargatefs_revalidate(inode, true) == -ESTALE)
		clear_nlink(inode);
}

static void stargatefs_req_name(u8 *field, __le16 *len, const struct qstr *name)
{
	memcpy(field, name->name, name->len);
	*len = cpu_to_le16(name->len);
}

static struct sgz_request *stargatefs_dir_request(struct inode *dir, u32 opcode,
						  const struct qstr *name, unsigned int *tag)
{
	struct sgz_request *req;

	if (name->len > SGZ_NAME_MAX)
		return ERR_PTR(-ENAMETOOLONG);
	req = stargatefs_rpc_begin(stargatefs_dev(dir->i_sb), opcode, true, tag);
	if (IS_ERR(req))
		return req;
	req->ino = cpu_to_le64(dir->i_ino);
	req->generation = cpu_to_le32(dir->i_generation);
	stargatefs_req_name(req->name, &req->name_len, name);
	return req;
}

/*
 * The inode a make request's reply names, which must be of the type asked
 * for (and, for a directory, have no other name in this guest; for a link,
 * be old; for O_TMPFILE, have no name at all).
 */
static struct inode *stargatefs_made(struct inode *dir, const struct sgz_reply *rep, u32 opcode,
				     umode_t mode, struct inode *old, bool tmpfile)
{
	struct stargatefs_device *dev = stargatefs_dev(dir->i_sb);
	struct inode *inode = stargatefs_iget(dir->i_sb, le64_to_cpu(rep->ino),
					      le32_to_cpu(rep->generation), false);

	if (IS_ERR(inode))
		return inode;
	if ((inode->i_mode & S_IFMT) != (mode & S_IFMT) || (old && inode != old) ||
	    (S_ISDIR(mode) && !hlist_empty(&inode->i_dentry)) || (tmpfile && inode->i_nlink)) {
		stargatefs_err_ratelimited(dev, "request (opcode %u) answered with inode %lu of mode 0%o and %u links\n",
					   opcode, inode->i_ino, inode->i_mode, inode->i_nlink);
		iput(inode);
		return ERR_PTR(-EIO);
	}
	return inode;
}

/*
 * Makes name in dir through the host (create, mkdir, mknod with rdev,
 * symlink with target, link of old) and instantiates dentry with the inode
 * the reply names (stargatefs_made()).
 */
static int stargatefs_make(struct inode *dir, struct dentry *dentry, u32 opcode,
			   umode_t mode, const char *target, struct inode *old, dev_t rdev)
{
	struct stargatefs_device *dev = stargatefs_dev(dir->i_sb);
	struct sgz_request *req;
	struct sgz_reply rep;
	struct inode *inode;
	unsigned int tag;
	size_t target_len = target ? strlen(target) : 0;
	int err;

	if (target && !target_len)
		return -ENOENT;
	if (target_len > SGZ_SYMLINK_TARGET_MAX)
		return -ENAMETOOLONG;
	req = stargatefs_dir_request(dir, opcode, &dentry->d_name, &tag);
	if (IS_ERR(req))
		return PTR_ERR(req);
	req->mode = cpu_to_le32(mode);
	req->rdev = cpu_to_le64(new_encode_dev(rdev));
	if (target) {
		/* Every target goes in the tag's payload buffer: up to PATH_MAX - 1 bytes. */
		memcpy(stargatefs_rpc_payload(dev, tag), target, target_len);
		req->length = cpu_to_le64(target_len);
		req->flags |= cpu_to_le32(SGZ_REQ_PAYLOAD);
	}
	if (old) {
		req->ino2 = cpu_to_le64(old->i_ino);
		req->generation2 = cpu_to_le32(old->i_generation);
	}
	err = stargatefs_rpc_call(dev, tag, true, &rep);
	stargatefs_refresh(dir);
	if (err)
		return err;

	inode = stargatefs_made(dir, &rep, opcode, mode, old, false);
	if (IS_ERR(inode))
		return PTR_ERR(inode);
	stargatefs_dir_changed(dir, le64_to_cpu(rep.dir_change));
	/* The new name was checked at the counter its own change gave the directory. */
	if (rep.dir_change)
		WRITE_ONCE(dentry->d_time, le64_to_cpu(rep.dir_change));
	/* A name not looked up first (stargatefs_atomic_open()) is hashed here. */
	if (d_in_lookup(dentry))
		d_add(dentry, inode);
	else
		d_instantiate(dentry, inode);
	return 0;
}

static int stargatefs_create(STARGATEFS_IDMAP *idmap, struct inode *dir,
			     struct dentry *dentry, umode_t mode, bool excl)
{
	/* The zone keeps Linux's permission bits as they are. */
	static_assert(SGZ_S_IALLUGO == S_IALLUGO);
	return stargatefs_make(dir, dentry, SGZ_OP_CREATE, S_IFREG | (mode & S_IALLUGO), NULL, NULL, 0);
}

/*
 * An open of a name the dentry cache does not hold, or holds as absent.
 * O_CREAT|O_EXCL of a name not yet looked up goes straight to the host's
 * create, which answers EEXIST for a name that exists: the search of the
 * directory a lookup would make first is the host's to make anyway. Any
 * other open looks the name up as ->lookup would, and creates (O_CREAT)
 * only when it is absent; a name found is left to the VFS to open. The VFS
 * has checked the permission to create, and applied the umask, before.
 */
static int stargatefs_atomic_open(struct inode *dir, struct dentry *dentry,
				  struct file *file, unsigned int open_flag, umode_t mode)
{
	bool create = open_flag & O_CREAT;
	struct dentry *found = NULL;
	int err;

	if (!(create && (open_flag & O_EXCL) && d_in_lookup(dentry))) {
		if (d_in_lookup(dentry)) {
			found = stargatefs_lookup(dir, dentry, 0);
			if (IS_ERR(found))
				return PTR_ERR(found);
			if (found)
				dentry = found;
		}
		if (!create || d_really_is_positive(dentry))
			return finish_no_open(file, found);
	}
	err = stargatefs_make(dir, dentry, SGZ_OP_CREATE, S_IFREG | (mode & S_IALLUGO), NULL, NULL, 0);
	if (!err) {
		file->f_mode |= FMODE_CREATED;
		err = finish_open(file, dentry, NULL);
	}
	dput(found);
	return err;
}

static int stargatefs_mkdir(STARGATEFS_IDMAP *idmap, struct inode *dir,
			    struct dentry *dentry, umode_t mode)
{
	return stargatefs_make(dir, dentry, SGZ_OP_MKDIR, S_IFDIR | (mode & S_IALLUGO), NULL, NULL, 0);
}

/*
 * Fifos, sockets and device nodes (the VFS has checked CAP_MKNOD for the
 * last). A device node made here opens only where a mount allows devices
 * (dev; nodev is the default, docs/guest-module.md "Mount options").
 */
static int stargatefs_mknod(STARGATEFS_IDMAP *idmap, struct inode *dir,
			    struct dentry *dentry, umode_t mode, dev_t rdev)
{
	if (!S_ISFIFO(mode) && !S_ISSOCK(mode) && !S_ISCHR(mode) && !S_ISBLK(mode))
		return -EINVAL;
	if (!S_ISCHR(mode) && !S_ISBLK(mode))
		rdev = 0;
	return stargatefs_make(dir, dentry, SGZ_OP_MKNOD, mode, NULL, NULL, rdev);
}

/*
 * O_TMPFILE: the host makes a regular file with no name (nlink 0, an orphan
 * it keeps for this guest until the open below puts it in the open table);
 * linkat() of the open file names it (SGZ_OP_LINK), unless it was opened
 * O_EXCL; its last close without a name frees it, as any orphan's.
 */
static int stargatefs_tmpfile(STARGATEFS_IDMAP *idmap, struct inode *dir,
			      struct file *file, umode_t mode)
{
	static const struct qstr none = QSTR_INIT("", 0);
	struct stargatefs_device *dev = stargatefs_dev(dir->i_sb);
	struct sgz_request *req;
	struct sgz_reply rep;
	struct inode *inode;
	unsigned int tag;
	int err;

	req = stargatefs_dir_request(dir, SGZ_OP_CREATE, &none, &tag);
	if (IS_ERR(req))
		return PTR_ERR(req);
	req->mode = cpu_to_le32(S_IFREG | (mode & S_IALLUGO));
	req->flags |= cpu_to_le32(SGZ_REQ_TMPFILE);
	err = stargatefs_rpc_call(dev, tag, true, &rep);
	stargatefs_refresh(dir);
	if (err)
		return err;
	inode = stargatefs_made(dir, &rep, SGZ_OP_CREATE, S_IFREG, NULL, true);
	if (IS_ERR(inode))
		return PTR_ERR(inode);
	/* d_tmpfile() takes away the one link a new inode has. */
	set_nlink(inode, 1);
	d_tmpfile(file, inode);
	return finish_open_simple(file, 0);
}

static int stargatefs_symlink(STARGATEFS_IDMAP *idmap, struct inode *dir,
			      struct dentry *dentry, const char *target)
{
	return stargatefs_make(dir, dentry, SGZ_OP_SYMLINK, S_IFLNK | 0777, target, NULL, 0);
}

static int stargatefs_link(struct dentry *old_dentry, struct inode *dir, struct dentry *dentry)
{
	struct inode *old = d_inode(old_dentry);

	return stargatefs_make(dir, dentry, SGZ_OP_LINK, old->i_mode, NULL, old, 0);
}

static int stargatefs_remove(struct inode *dir, struct dentry *dentry, u32 opcode)
{
	struct sgz_request *req;
	struct sgz_reply rep;
	unsigned int tag;
	int err;

	req = stargatefs_dir_request(dir, opcode, &dentry->d_name, &tag);
	if (IS_ERR(req))
		return PTR_ERR(req);
	err = stargatefs_rpc_call(stargatefs_dev(dir->i_sb), tag, true, &rep);
	stargatefs_refresh(dir);
	if (!err) {
		stargatefs_dir_changed(dir, le64_to_cpu(rep.dir_change));
		stargatefs_refresh(d_inode(dentry));
	}
	return err;
}

static int stargatefs_unlink(struct inode *dir, struct dentry *dentry)
{
	return stargatefs_remove(dir, dentry, SGZ_OP_UNLINK);
}

static int stargatefs_rmdir(struct inode *dir, struct dentry *dentry)
{
	return stargatefs_remove(dir, dentry, SGZ_OP_RMDIR);
}

static int stargatefs_rename(STARGATEFS_IDMAP *idmap, struct inode *old_dir,
			     struct dentry *old_dentry, struct inode *new_dir,
			     struct dentry *new_dentry, unsigned int flags)
{
	struct sgz_request *req;
	struct sgz_reply rep;
	unsigned int tag;
	int err;

	/* The Linux RENAME_* values are the zone's; whiteouts are for overlayfs's upper layers. */
	static_assert(SGZ_RENAME_NOREPLACE == RENAME_NOREPLACE && SGZ_RENAME_EXCHANGE == RENAME_EXCHANGE);
	if (flags & ~SGZ_RENAME_KNOWN)
		return -EINVAL;
	if (new_dentry->d_name.len > SGZ_NAME_MAX)
		return -ENAMETOOLONG;
	req = stargatefs_dir_request(old_dir, SGZ_OP_RENAME, &old_dentry->d_name, &tag);
	if (IS_ERR(req))
		return PTR_ERR(req);
	req->flags |= cpu_to_le32(flags);
	req->ino2 = cpu_to_le64(new_dir->i_ino);
	req->generation2 = cpu_to_le32(new_dir->i_generation);
	stargatefs_req_name(req->name2, &req->name2_len, &new_dentry->d_name);
	err = stargatefs_rpc_call(stargatefs_dev(old_dir->i_sb), tag, true, &rep);
	stargatefs_refresh(old_dir);
	if (new_dir != old_dir)
		stargatefs_refresh(new_dir);
	if (!err) {
		u64 old_change = le64_to_cpu(rep.dir_change);
		u64 new_change = new_dir != old_dir ? le64_to_cpu(rep.dir2_change) : old_change;

		stargatefs_dir_changed(old_dir, old_change);
		if (new_dir != old_dir)
			stargatefs_dir_changed(new_dir, new_change);
		/*
		 * The VFS moves the dentries next: each is then checked at its new
		 * directory's counter after this change (0, not given: at none).
		 */
		WRITE_ONCE(old_dentry->d_time, new_change);
		if (flags & RENAME_EXCHANGE)
			WRITE_ONCE(new_dentry->d_time, old_change);
		stargatefs_refresh(d_inode(old_dentry));
		stargatefs_refresh(d_inode(new_dentry));
	}
	return err;
}

static u64 stargatefs_time_ns(const struct iattr *attr, unsigned int set_flag,
			      const struct timespec64 *ts)
{
	s64 ns;

	if (!(attr->ia_valid & set_flag))
		return SGZ_TIME_NOW;
	ns = timespec64_to_ns(ts);
	return ns < 0 ? 0 : ns;
}

/*
 * Waits until no page of the file is pinned (O_DIRECT, GUP) and every
 * mapping of it is gone, so that its DAX entries can be dropped.
 * The invalidate lock is held.
 */
int stargatefs_break_layouts(struct inode *inode)
{
	unsigned long deadline = jiffies + msecs_to_jiffies(STARGATEFS_LOCK_TIMEOUT_MS);

	while (dax_layout_busy_page(inode->i_mapping)) {
		if (fatal_signal_pending(current))
			return -EINTR;
		if (time_after(jiffies, deadline))
			return -EBUSY;
		schedule_timeout_killable(max_t(long, 1, msecs_to_jiffies(STARGATEFS_POLL_MS)));
	}
	return 0;
}

/*
 * A chown's ATTR_KILL_SUID / ATTR_KILL_SGID, for bits a nosuid superblock
 * keeps out of i_mode (stargatefs_fill()): the VFS did not see them, so
 * the mode change that clears them in the zone is made here.
 */
static void stargatefs_kill_hidden(struct inode *inode, struct iattr *attr)
{
	umode_t kill = 0, hidden;

	if (attr->ia_valid & ATTR_KILL_SUID)
		kill |= S_ISUID;
	if (attr->ia_valid & ATTR_KILL_SGID)
		kill |= S_ISGID;
	spin_lock(&STARGATEFS_I(inode)->lock);
	hidden = STARGATEFS_I(inode)->hidden;
	spin_unlock(&STARGATEFS_I(inode)->lock);
	if (!(hidden & kill) || (attr->ia_valid & ATTR_MODE))
		return;
	attr->ia_valid |= ATTR_MODE;
	attr->ia_mode = (inode->i_mode | hidden) & ~kill;
}

/*
 * chmod, chown, utimes and truncate, as one SETATTR request. A size change
 * holds the inode's zone lock word (writers on other machines wait) and
 * the invalidate lock, with every mapping of the file broken, so that no
 * DAX entry outlives the pages the host frees.
 */
int stargatefs_setattr(STARGATEFS_IDMAP *idmap, struct dentry *dentry, struct iattr *attr)
{
	struct inode *inode = d_inode(dentry);
	struct stargatefs_device *dev = stargatefs_dev(inode->i_sb);
	bool size = (attr->ia_valid & ATTR_SIZE) && S_ISREG(inode->i_mode);
	struct sgz_request *req;
	struct sgz_reply rep;
	unsigned int tag;
	u32 valid = 0;
	int err;

	err = setattr_prepare(idmap, dentry, attr);
	if (err)
		return err;
	/* Setuid and setgid bits a nosuid superblock keeps out of i_mode: a kill clears them too. */
	stargatefs_kill_hidden(inode, attr);
	/*
	 * notify_change turns ATTR_KILL_SUID / ATTR_KILL_SGID (a write or
	 * truncate by a non-owner, a chown) into ATTR_MODE: the host takes
	 * that as kill privs, which any caller may ask and which only clears.
	 * An explicit chmod never carries a kill bit.
	 */
	if ((attr->ia_valid & ATTR_MODE) && (attr->ia_valid & (ATTR_KILL_SUID | ATTR_KILL_SGID)))
		valid |= SGZ_ATTR_KILL_PRIV;
	else if (attr->ia_valid & ATTR_MODE)
		valid |= SGZ_ATTR_MODE;
	if (attr->ia_valid & ATTR_UID)
		valid |= SGZ_ATTR_UID;
	if (attr->ia_valid & ATTR_GID)
		valid |= SGZ_ATTR_GID;
	if (attr->ia_valid & ATTR_ATIME)
		valid |= SGZ_ATTR_ATIME;
	if (attr->ia_valid & ATTR_MTIME)
		valid |= SGZ_ATTR_MTIME;
	if (size)
		valid |= SGZ_ATTR_SIZE;
	/* Nothing but ctime (a chown to -1:-1): a request with no field, which moves ctime alone. */
	if (!valid && !(attr->ia_valid & ATTR_CTIME))
		return stargatefs_revalidate(inode, true);

	if (size) {
		err = stargatefs_ilock(dev, inode->i_ino, true);
		if (err)
			return err;
		filemap_invalidate_lock(inode->i_mapping);
		err = stargatefs_break_layouts(inode);
		if (err)
			goto unlock;
	}
	req = stargatefs_rpc_begin(dev, SGZ_OP_SETATTR, true, &tag);
	if (IS_ERR(req)) {
		err = PTR_ERR(req);
		goto unlock;
	}
	req->ino = cpu_to_le64(inode->i_ino);
	req->generation = cpu_to_le32(inode->i_generation);
	req->valid = cpu_to_le32(valid);
	req->mode = cpu_to_le32(attr->ia_mode & S_IALLUGO);
	/* ftruncate (and open's O_TRUNC) go through a file open for writing: no write permission needed. */
	if ((attr->ia_valid & ATTR_FILE) && attr->ia_file && (attr->ia_file->f_mode & FMODE_WRITE))
		req->flags |= cpu_to_le32(SGZ_REQ_SETATTR_FILE);
	stargatefs_rpc_groups(req, (valid & SGZ_ATTR_GID) ? attr->ia_gid : INVALID_GID);
	/*
	 * docs/requests.md: setattr's uid and gid fields carry the new owner
	 * when SGZ_ATTR_UID / SGZ_ATTR_GID is set; the caller's fsuid / fsgid
	 * and groups, which the host checks the change against, are in the
	 * caller fields.
	 */
	if (valid & SGZ_ATTR_UID)
		req->uid = cpu_to_le32(from_kuid(&init_user_ns, attr->ia_uid));
	if (valid & SGZ_ATTR_GID)
		req->gid = cpu_to_le32(from_kgid(&init_user_ns, attr->ia_gid));
	req->offset = cpu_to_le64(size ? attr->ia_size : 0);
	req->atime_ns = cpu_to_le64(stargatefs_time_ns(attr, ATTR_ATIME_SET, &attr->ia_atime));
	req->mtime_ns = cpu_to_le64(stargatefs_time_ns(attr, ATTR_MTIME_SET, &attr->ia_mtime));
	err = stargatefs_rpc_call(dev, tag, true, &rep);
	if (size && !err)
		truncate_setsize(inode, attr->ia_size);
unlock:
	if (size)
		filemap_invalidate_unlock(inode->i_mapping);
	stargatefs_refresh(inode);
	if (size)
		stargatefs_iunlock(dev, inode->i_ino);
	return err;
}

/*
 * A symlink's target: size bytes (1..SGZ_SYMLINK_TARGET_MAX, one pool page) at the start of its
 * data, copied under the inode's seqcount and checked to hold no NUL.
 */
static const char *stargatefs_get_link(struct dentry *dentry, struct inode *inode,
				       struct delayed_call *done)
{
	unsigned long deadline = jiffies + msecs_to_jiffies(STARGATEFS_SEQ_WAIT_MS);
	struct stargatefs_device *dev;
	struct stargatefs_extent ext;
	struct sgz_inode zi;
	const void *target;
	unsigned int tries;
	u64 size = 0;
	char *buf;
	u32 seq;
	int err;

	if (!dentry)
		return ERR_PTR(-ECHILD);
	dev = stargatefs_dev(inode->i_sb);
	buf = kmalloc(SGZ_SYMLINK_TARGET_MAX + 1, GFP_KERNEL);
	if (!buf)
		return ERR_PTR(-ENOMEM);
	err = -EIO;
	for (tries = 0; tries < 1000; tries++) {
		err = stargatefs_zone_load_inode(dev, inode->i_ino, &zi, &seq);
		if (err) {
			err = err == -ENOENT ? -ESTALE : err;
			break;
		}
		if (le32_to_cpu(zi.generation) != inode->i_generation ||
		    (le32_to_cpu(zi.mode) & SGZ_S_IFMT) != SGZ_S_IFLNK) {
			err = -ESTALE;
			break;
		}
		size = le64_to_cpu(zi.size);
		err = -EIO;
		if (!size || size > SGZ_SYMLINK_TARGET_MAX ||
		    stargatefs_zone_map(dev, inode->i_ino, le64_to_cpu(zi.pt_root), zi.pt_depth,
					STARGATEFS_LEAVES_POOL, 0, size, &ext) || !ext.mapped || ext.len < size)
			break;
		target = stargatefs_zone_addr(dev, ext.zone_off, size);
		if (!target)
			break;
		memcpy(buf, target, size);
		if (!stargatefs_zone_inode_moved(dev, inode->i_ino, seq)) {
			err = memchr(buf, 0, size) ? -EIO : 0;
			break;
		}
		err = stargatefs_zone_yield(deadline, true);
		if (err)
			break;
		err = -EIO;
	}
	if (err) {
		if (err == -EIO)
			stargatefs_err_ratelimited(dev, "symlink %lu: bad target (%llu bytes)\n",
						   inode->i_ino, size);
		kfree(buf);
		return ERR_PTR(err);
	}
	buf[size] = 0;
	set_delayed_call(done, kfree_link, buf);
	return buf;
}

const struct inode_operations stargatefs_dir_inode_ops = {
	.lookup = stargatefs_lookup,
	.create = stargatefs_create,
	.atomic_open = stargatefs_atomic_open,
	.mkdir = stargatefs_mkdir,
	.mknod = stargatefs_mknod,
	.symlink = stargatefs_symlink,
	.tmpfile = stargatefs_tmpfile,
	.link = stargatefs_link,
	.unlink = stargatefs_unlink,
	.rmdir = stargatefs_rmdir,
	.rename = stargatefs_rename,
	.getattr = stargatefs_getattr,
	.setattr = stargatefs_setattr,
	.listxattr = stargatefs_listxattr,
};

const struct inode_operations stargatefs_symlink_inode_ops = {
	.get_link = stargatefs_get_link,
	.getattr = stargatefs_getattr,
	.setattr = stargatefs_setattr,
	.listxattr = stargatefs_listxattr,
};
