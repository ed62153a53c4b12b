// SPDX-License-Identifier: GPL-2.0
/*
 * stargatefs: directories. A directory's data is 4 KiB pages of
 * SGZ_DIRENTS_PER_PAGE entry slots (include/stargate_zone.h). The host
 * rewrites them while guests read, so what is read of a page (readdir a
 * copy of all of it, a lookup the entry whose name matches) is used only
 * if the directory's seqcount did not move meanwhile.
 */
#include <linux/slab.h>

#include "stargatefs.h"

/*
 * Reads page pindex of directory dir as one consistent version: use() is
 * given the page's address in the zone (NULL for a hole) and its result
 * counts only if the directory's seqcount did not move meanwhile; else the
 * page is read again. The directory's zone inode comes from the cached
 * inode's snapshot while its seqcount stands. *pages is set to the
 * directory's page count. Returns use()'s result, 0 past the end, or a
 * negative errno: -EIO also when the directory keeps changing for 1000
 * tries or past the walk's deadline, -EINTR on a fatal signal.
 */
static int stargatefs_dir_read(struct inode *dir, u64 pindex, u64 *pages, unsigned long deadline,
			       int (*use)(const void *page, void *arg), void *arg)
{
	struct stargatefs_device *dev = stargatefs_dev(dir->i_sb);
	struct stargatefs_inode *si = STARGATEFS_I(dir);
	struct stargatefs_extent ext;
	struct sgz_inode zi;
	const void *page;
	unsigned int tries;
	u32 seq;
	int err;

	for (tries = 0; tries < 1000; tries++) {
		err = stargatefs_zone_load_cached(dev, dir->i_ino, &si->lock, &si->snap, &zi, &seq);
		if (err)
			return err == -ENOENT ? -ESTALE : err;
		if ((le32_to_cpu(zi.mode) & SGZ_S_IFMT) != SGZ_S_IFDIR)
			return -ESTALE;
		*pages = min_t(u64, le64_to_cpu(zi.size) / SGZ_PAGE_SIZE, STARGATEFS_DIR_MAX_PAGES);
		if (pindex >= *pages)
			return 0;
		err = stargatefs_zone_map(dev, dir->i_ino, le64_to_cpu(zi.pt_root), zi.pt_depth,
					  STARGATEFS_LEAVES_POOL, pindex * SGZ_PAGE_SIZE, SGZ_PAGE_SIZE, &ext);
		page = NULL;
		if (!err && ext.mapped) {
			page = stargatefs_zone_addr(dev, ext.zone_off, SGZ_PAGE_SIZE);
			if (!page)
				err = -EIO;
		}
		if (!err)
			err = use(page, arg);
		if (!stargatefs_zone_inode_moved(dev, dir->i_ino, seq))
			return err;
		err = stargatefs_zone_yield(deadline, true);
		if (err == -EINTR)
			return err;
		if (err)
			break;
	}
	stargatefs_err_ratelimited(dev, "directory %lu keeps changing under a reader\n", dir->i_ino);
	return -EIO;
}

/* stargatefs_dir_read()'s use for readdir: the page copied whole into arg, 1; a hole 0. */
static int stargatefs_dir_copy(const void *page, void *arg)
{
	if (!page)
		return 0;
	memcpy(arg, page, SGZ_PAGE_SIZE);
	return 1;
}

static struct sgz_dirent *stargatefs_slot(void *page, unsigned int i)
{
	return page + SGZ_DIR_PAGE_HEADER + i * SGZ_DIRENT_SIZE;
}

/*
 * The end of a directory walk's turn: a scheduling point, and an error
 * (logged when it is the deadline) when the walk must stop.
 */
static int stargatefs_dir_yield(struct inode *dir, unsigned long deadline)
{
	struct stargatefs_device *dev = stargatefs_dev(dir->i_sb);
	int err = stargatefs_zone_yield(deadline, true);

	if (err == -EIO)
		stargatefs_err_ratelimited(dev, "directory %lu: not read in %d s\n", dir->i_ino,
					   STARGATEFS_DIR_WALK_MS / 1000);
	return err;
}

/* What stargatefs_dir_find() looks for, and the entry it found. */
struct stargatefs_dir_search {
	const char *name;
	unsigned int len;
	u32 hash;
	struct sgz_dirent de;
};

/*
 * stargatefs_dir_read()'s use for a lookup: scans the page in place, reading
 * only each slot's hash, length and inode words; a slot that matches them
 * is copied whole and its name compared on the copy. 1 with the copy in
 * search->de, 0 when the page does not hold the name.
 */
static int stargatefs_dir_match(const void *page, void *arg)
{
	struct stargatefs_dir_search *search = arg;
	struct sgz_dirent *de = &search->de;
	unsigned int i;

	for (i = 0; page && i < SGZ_DIRENTS_PER_PAGE; i++) {
		const struct sgz_dirent *live = page + SGZ_DIR_PAGE_HEADER + i * SGZ_DIRENT_SIZE;

		if (le32_to_cpu(READ_ONCE(live->hash)) != search->hash ||
		    READ_ONCE(live->name_len) != search->len || !READ_ONCE(live->ino))
			continue;
		memcpy(de, live, sizeof(*de));
		if (de->ino && le32_to_cpu(de->hash) == search->hash && de->name_len == search->len &&
		    !memcmp(de->name, search->name, search->len))
			return 1;
	}
	return 0;
}

/*
 * Finds name in directory dir. Returns 0 with its inode number and the
 * generation the entry recorded, -ENOENT, or another negative errno
 * (-EIO past STARGATEFS_DIR_WALK_MS, -EINTR on a fatal signal).
 * *change is the directory's change counter when the search began.
 */
int stargatefs_dir_find(struct inode *dir, const char *name, unsigned int len,
			u64 *ino, u32 *generation, u64 *change)
{
	unsigned long deadline = jiffies + msecs_to_jiffies(STARGATEFS_DIR_WALK_MS);
	struct stargatefs_device *dev = stargatefs_dev(dir->i_sb);
	struct stargatefs_inode *si = STARGATEFS_I(dir);
	struct stargatefs_dir_search *search;
	u64 pindex, pages = 1;
	struct sgz_inode zi;
	u32 seq;
	int err;

	err = stargatefs_zone_load_cached(dev, dir->i_ino, &si->lock, &si->snap, &zi, &seq);
	if (err)
		return err == -ENOENT ? -ESTALE : err;
	*change = le64_to_cpu(zi.change);

	search = kmalloc(sizeof(*search), GFP_KERNEL);
	if (!search)
		return -ENOMEM;
	search->name = name;
	search->len = len;
	search->hash = stargatefs_crc32c(name, len);
	err = -ENOENT;
	for (pindex = 0; pindex < pages; pindex++) {
		int got = stargatefs_dir_read(dir, pindex, &pages, deadline,
					      stargatefs_dir_match, search);

		if (got < 0) {
			err = got;
			break;
		}
		if (got) {
			if (!stargatefs_dirent_valid(dev, &search->de)) {
				stargatefs_err_ratelimited(dev, "directory %lu: corrupt entry for a name in page %llu\n",
							   dir->i_ino, pindex);
				err = -EIO;
				break;
			}
			*ino = le64_to_cpu(search->de.ino);
			*generation = le32_to_cpu(search->de.generation);
			err = 0;
			break;
		}
		got = stargatefs_dir_yield(dir, deadline);
		if (got) {
			err = got;
			break;
		}
	}
	kfree(search);
	return err;
}

struct dentry *stargatefs_lookup(struct inode *dir, struct dentry *dentry,
				 unsigned int flags)
{
	struct inode *inode = NULL;
	u64 ino, change;
	u32 generation;
	int err;

	if (dentry->d_name.len > SGZ_NAME_MAX)
		return ERR_PTR(-ENAMETOOLONG);
	err = stargatefs_dir_find(dir, dentry->d_name.name, dentry->d_name.len,
				  &ino, &generation, &change);
	if (err && err != -ENOENT)
		return ERR_PTR(err);
	if (!err) {
		inode = stargatefs_iget(dir->i_sb, ino, generation, false);
		if (IS_ERR(inode))
			return ERR_CAST(inode);
	}
	dentry->d_time = change;
	return d_splice_alias(inode, dentry);
}

/* One getdents call: every page it reads within STARGATEFS_DIR_WALK_MS. */
static int stargatefs_readdir(struct file *file, struct dir_context *ctx)
{
	unsigned long deadline = jiffies + msecs_to_jiffies(STARGATEFS_DIR_WALK_MS);
	struct inode *dir = file_inode(file);
	struct stargatefs_device *dev = stargatefs_dev(dir->i_sb);
	u64 slot, pindex, pages = STARGATEFS_DIR_MAX_PAGES;
	int err = 0;
	void *page;

	if (!dir_emit_dots(file, ctx))
		return 0;
	page = kmalloc(SGZ_PAGE_SIZE, GFP_KERNEL);
	if (!page)
		return -ENOMEM;
	/* ctx->pos: 0 and 1 are the dots, 2 + n is slot n. */
	for (pindex = (ctx->pos - 2) / SGZ_DIRENTS_PER_PAGE; pindex < pages; pindex++) {
		int got = stargatefs_dir_read(dir, pindex, &pages, deadline,
					      stargatefs_dir_copy, page);

		if (got < 0) {
			err = got;
			break;
		}
		for (slot = (ctx->pos - 2) % SGZ_DIRENTS_PER_PAGE;
		     got && slot < SGZ_DIRENTS_PER_PAGE; slot++) {
			struct sgz_dirent *de = stargatefs_slot(page, slot);

			if (de->ino) {
				if (!stargatefs_dirent_valid(dev, de)) {
					stargatefs_err_ratelimited(dev, "directory %lu: corrupt entry in page %llu slot %llu\n",
								   dir->i_ino, pindex, slot);
					err = -EIO;
					goto out;
				}
				if (!dir_emit(ctx, de->name, de->name_len,
					      le64_to_cpu(de->ino), de->type))
					goto out;
			}
			ctx->pos++;
		}
		if (!got)
			ctx->pos = 2 + (pindex + 1) * SGZ_DIRENTS_PER_PAGE;
		err = stargatefs_dir_yield(dir, deadline);
		if (err)
			break;
	}
out:
	kfree(page);
	return err;
}

const struct file_operations stargatefs_dir_ops = {
	.llseek = generic_file_llseek,
	.read = generic_read_dir,
	.iterate_shared = stargatefs_readdir,
};
