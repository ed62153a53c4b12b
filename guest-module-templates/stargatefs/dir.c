// SPDX-License-Identifier: GPL-2.0
/*
 * stargatefs: directories. A directory's data is 4 KiB pages of
 * SGZ_DIRENTS_PER_PAGE entry slots (include/stargate_zone.h). The host
 * rewrites them while guests read, so what is read of a page (readdir a
 * copy of all of it, a lookup the entry whose name matches) is used only
 * if the directory's seqcount did not move meanwhile. A lookup goes
 * through the directory's index (2.2: struct sgz_dir_index) when it has
 * one, reading the root, the name's bucket and the slots it names; a
 * directory without one (made by a 2.1 host) is scanned page by page.
 */
#include <linux/slab.h>

#include "stargatefs.h"

/* One pass of a directory reader over the directory's checked zone inode zi. */
typedef int (*stargatefs_dir_pass)(struct inode *dir, const struct sgz_inode *zi, void *arg);

/*
 * Runs pass() over directory dir as one consistent version: its result
 * counts only if the directory's seqcount did not move meanwhile; else it
 * runs again. The directory's zone inode comes from the cached inode's
 * snapshot while its seqcount stands. Returns pass()'s result, or a
 * negative errno: -EIO also when the directory keeps changing for 1000
 * tries or past the walk's deadline, -EINTR on a fatal signal.
 */
static int stargatefs_dir_stable(struct inode *dir, unsigned long deadline,
				 stargatefs_dir_pass pass, void *arg)
{
	struct stargatefs_device *dev = stargatefs_dev(dir->i_sb);
	struct stargatefs_inode *si = STARGATEFS_I(dir);
	struct sgz_inode zi;
	unsigned int tries;
	u32 seq;
	int err;

	for (tries = 0; tries < 1000; tries++) {
		err = stargatefs_zone_load_cached(dev, dir->i_ino, &si->lock, &si->snap, &zi, &seq);
		if (err)
			return err == -ENOENT ? -ESTALE : err;
		if ((le32_to_cpu(zi.mode) & SGZ_S_IFMT) != SGZ_S_IFDIR)
			return -ESTALE;
		err = pass(dir, &zi, arg);
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

/* What stargatefs_dir_read() reads: page pindex, given to use(); the page count goes to *pages. */
struct stargatefs_dir_page {
	u64 pindex;
	u64 *pages;
	int (*use)(const void *page, void *arg);
	void *arg;
};

static int stargatefs_dir_page_pass(struct inode *dir, const struct sgz_inode *zi, void *arg)
{
	struct stargatefs_device *dev = stargatefs_dev(dir->i_sb);
	struct stargatefs_dir_page *read = arg;
	struct stargatefs_extent ext;
	const void *page = NULL;
	int err;

	*read->pages = min_t(u64, le64_to_cpu(zi->size) / SGZ_PAGE_SIZE, STARGATEFS_DIR_MAX_PAGES);
	if (read->pindex >= *read->pages)
		return 0;
	err = stargatefs_zone_map(dev, dir->i_ino, le64_to_cpu(zi->pt_root), zi->pt_depth,
				  STARGATEFS_LEAVES_POOL, read->pindex * SGZ_PAGE_SIZE, SGZ_PAGE_SIZE, &ext);
	if (err)
		return err;
	if (ext.mapped) {
		page = stargatefs_zone_addr(dev, ext.zone_off, SGZ_PAGE_SIZE);
		if (!page)
			return -EIO;
	}
	return read->use(page, read->arg);
}

/*
 * Reads page pindex of directory dir as one consistent version
 * (stargatefs_dir_stable()): use() is given the page's address in the zone
 * (NULL for a hole). *pages is set to the directory's page count. Returns
 * use()'s result, 0 past the end, or a negative errno.
 */
static int stargatefs_dir_read(struct inode *dir, u64 pindex, u64 *pages, unsigned long deadline,
			       int (*use)(const void *page, void *arg), void *arg)
{
	struct stargatefs_dir_page read = { .pindex = pindex, .pages = pages, .use = use, .arg = arg };

	return stargatefs_dir_stable(dir, deadline, stargatefs_dir_page_pass, &read);
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
 * Slot i of a directory page in place: 1 with the slot copied into
 * search->de when it holds search's name (hash, length and inode words read
 * live, the name compared on the copy), else 0.
 */
static int stargatefs_dir_match_one(const void *page, unsigned int i,
				    struct stargatefs_dir_search *search)
{
	const struct sgz_dirent *live = page + SGZ_DIR_PAGE_HEADER + i * SGZ_DIRENT_SIZE;
	struct sgz_dirent *de = &search->de;

	if (le32_to_cpu(READ_ONCE(live->hash)) != search->hash ||
	    READ_ONCE(live->name_len) != search->len || !READ_ONCE(live->ino))
		return 0;
	memcpy(de, live, sizeof(*de));
	return de->ino && le32_to_cpu(de->hash) == search->hash && de->name_len == search->len &&
	       !memcmp(de->name, search->name, search->len);
}

/*
 * stargatefs_dir_read()'s use for a scan: each slot of the page in place
 * (stargatefs_dir_match_one()); 1 with the copy in search->de, 0 when the
 * page does not hold the name.
 */
static int stargatefs_dir_match(const void *page, void *arg)
{
	unsigned int i;
	int got;

	for (i = 0; page && i < SGZ_DIRENTS_PER_PAGE; i++) {
		got = stargatefs_dir_match_one(page, i, arg);
		if (got)
			return got;
	}
	return 0;
}

/* Whether page number number names a whole page of the structure pool; its zone offset in *off. */
static bool stargatefs_dir_index_page(struct stargatefs_device *dev, u32 number, u64 *off)
{
	*off = (u64)number << SGZ_PAGE_SHIFT;
	return number && *off >= dev->geo.data_offset && *off < dev->geo.zone_size &&
	       dev->geo.zone_size - *off >= SGZ_PAGE_SIZE;
}

/*
 * stargatefs_dir_match() for the one slot an index pair names: 1 with the
 * entry copied into search->de when it holds the name, 0 when it holds
 * another, -EUCLEAN when the slot lies in a hole.
 */
static int stargatefs_dir_index_slot(struct stargatefs_device *dev, struct inode *dir,
				     const struct sgz_inode *zi, u64 slot,
				     struct stargatefs_dir_search *search)
{
	u64 pindex = slot / SGZ_DIRENTS_PER_PAGE;
	struct stargatefs_extent ext;
	const void *page;
	int err;

	err = stargatefs_zone_map(dev, dir->i_ino, le64_to_cpu(zi->pt_root), zi->pt_depth,
				  STARGATEFS_LEAVES_POOL, pindex * SGZ_PAGE_SIZE, SGZ_PAGE_SIZE, &ext);
	if (err)
		return err;
	if (!ext.mapped)
		return -EUCLEAN;
	page = stargatefs_zone_addr(dev, ext.zone_off, SGZ_PAGE_SIZE);
	if (!page)
		return -EIO;
	return stargatefs_dir_match_one(page, slot % SGZ_DIRENTS_PER_PAGE, search);
}

/*
 * One pass over the index at zone offset root of directory dir, whose
 * checked snapshot is zi: the name's bucket page, its overflow pages, and
 * the slot of each pair with the name's hash. Every value is checked
 * before use (pages in the pool, magics, depth, counts, slots below the
 * directory's, at most the index's pages - 1 overflow hops, which the
 * inode's pages bound). Returns 1 found, 0 not there, -EUCLEAN for an
 * index that does not hold together (corrupt, or torn by a change: the
 * caller tells which by the seqcount), or another negative errno.
 */
static int stargatefs_dir_index_probe(struct stargatefs_device *dev, struct inode *dir,
				      const struct sgz_inode *zi, u64 root,
				      struct stargatefs_dir_search *search, unsigned long deadline)
{
	u64 slots = min_t(u64, le64_to_cpu(zi->size) / SGZ_PAGE_SIZE, STARGATEFS_DIR_MAX_PAGES) *
		    SGZ_DIRENTS_PER_PAGE;
	const struct sgz_dir_index *r;
	const struct sgz_dir_bucket *b;
	u32 depth, pages, number, count, i, hops;
	u64 off;
	int err;

	if ((root & (SGZ_PAGE_SIZE - 1)) || root >> SGZ_PAGE_SHIFT > U32_MAX ||
	    !stargatefs_dir_index_page(dev, root >> SGZ_PAGE_SHIFT, &off))
		return -EUCLEAN;
	r = stargatefs_zone_addr(dev, root, SGZ_PAGE_SIZE);
	if (!r)
		return -EIO;
	depth = READ_ONCE(r->depth);
	pages = le32_to_cpu(READ_ONCE(r->pages));
	if (le32_to_cpu(READ_ONCE(r->magic)) != SGZ_DIRIDX_MAGIC || depth > SGZ_DIRIDX_MAX_DEPTH ||
	    pages < 2 || pages > le64_to_cpu(zi->pages))
		return -EUCLEAN;
	number = le32_to_cpu(READ_ONCE(r->bucket[search->hash & ((1U << depth) - 1)]));
	for (hops = 0; ; hops++) {
		if (hops >= pages - 1 || !stargatefs_dir_index_page(dev, number, &off))
			return -EUCLEAN;
		if (hops % 64 == 63 && time_after(jiffies, deadline))
			return -ETIMEDOUT;
		b = stargatefs_zone_addr(dev, off, SGZ_PAGE_SIZE);
		if (!b)
			return -EIO;
		count = le16_to_cpu(READ_ONCE(b->count));
		if (le32_to_cpu(READ_ONCE(b->magic)) != SGZ_DIRIDX_BUCKET_MAGIC ||
		    count > SGZ_DIRIDX_BUCKET_PAIRS || READ_ONCE(b->depth) > depth)
			return -EUCLEAN;
		for (i = 0; i < count; i++) {
			u64 slot;

			if (le32_to_cpu(READ_ONCE(b->pairs[2 * i])) != search->hash)
				continue;
			slot = le32_to_cpu(READ_ONCE(b->pairs[2 * i + 1]));
			if (slot >= slots)
				return -EUCLEAN;
			err = stargatefs_dir_index_slot(dev, dir, zi, slot, search);
			if (err)
				return err;
		}
		number = le32_to_cpu(READ_ONCE(b->next));
		if (!number)
			return 0;
	}
}

/* What stargatefs_dir_index_pass() looks for, and until when. */
struct stargatefs_dir_index_search {
	struct stargatefs_dir_search *search;
	unsigned long deadline;
};

static int stargatefs_dir_index_pass(struct inode *dir, const struct sgz_inode *zi, void *arg)
{
	struct stargatefs_dir_index_search *find = arg;
	u64 root = le64_to_cpu(zi->index_root);

	if (!root)
		return -ENODATA;
	return stargatefs_dir_index_probe(stargatefs_dev(dir->i_sb), dir, zi, root, find->search,
					  find->deadline);
}

/*
 * Finds search's name through directory dir's index, as one consistent
 * version (stargatefs_dir_stable()). Returns 1 found (search->de holds the
 * entry), 0 not there, -ENODATA when the directory has no index (the caller
 * scans its pages), or a negative errno: -EIO for an index that does not
 * hold together at a stable seqcount, or that is not read by the deadline.
 */
static int stargatefs_dir_index_find(struct inode *dir, struct stargatefs_dir_search *search,
				     unsigned long deadline)
{
	struct stargatefs_dir_index_search find = { .search = search, .deadline = deadline };
	struct stargatefs_device *dev = stargatefs_dev(dir->i_sb);
	int err = stargatefs_dir_stable(dir, deadline, stargatefs_dir_index_pass, &find);

	if (err == -EUCLEAN)
		stargatefs_err_ratelimited(dev, "directory %lu: corrupt index\n", dir->i_ino);
	if (err == -ETIMEDOUT)
		stargatefs_err_ratelimited(dev, "directory %lu: index not read in %d s\n",
					   dir->i_ino, STARGATEFS_DIR_WALK_MS / 1000);
	return err == -EUCLEAN || err == -ETIMEDOUT ? -EIO : err;
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
	int err, got;
	u32 seq;

	atomic_long_inc(&dev->dir_finds);
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
	/* The index when there is one (found, absent, or an error); else a scan. */
	got = stargatefs_dir_index_find(dir, search, deadline);
	for (pindex = 0; got == -ENODATA && pindex < pages; pindex++) {
		got = stargatefs_dir_read(dir, pindex, &pages, deadline, stargatefs_dir_match, search);
		if (!got)
			got = stargatefs_dir_yield(dir, deadline) ?: -ENODATA;
	}
	if (got < 0 && got != -ENODATA) {
		err = got;
	} else if (got <= 0) {
		err = -ENOENT;
	} else if (!stargatefs_dirent_valid(dev, &search->de)) {
		stargatefs_err_ratelimited(dev, "directory %lu: corrupt entry for a name\n", dir->i_ino);
		err = -EIO;
	} else {
		*ino = le64_to_cpu(search->de.ino);
		*generation = le32_to_cpu(search->de.generation);
		err = 0;
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
