// SPDX-License-Identifier: GPL-2.0
/*
 * stargatefs: reading the zone. Every function here treats the zone as
 * hostile: values are read once (READ_ONCE or into a private copy), then
 * checked against the geometry that stargatefs_zone_check() took and
 * checked at mount, before they become an offset, a length or a bound.
 */
#include <linux/jiffies.h>
#include <linux/log2.h>
#include <linux/preempt.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/string.h>

#include "stargatefs.h"

const void *stargatefs_zone_ptr(struct stargatefs_device *dev, u64 off)
{
	return dev->kaddr + off;
}

/* True when [off, off + len) lies inside a zone of zone_size bytes. */
static bool stargatefs_in_zone(u64 zone_size, u64 off, u64 len)
{
	return off <= zone_size && len <= zone_size - off;
}

static bool stargatefs_region_ok(const struct sgz_region *r, u64 zone_size)
{
	u64 off = le64_to_cpu(r->offset), len = le64_to_cpu(r->size);

	return IS_ALIGNED(off, SGZ_PAGE_SIZE) && stargatefs_in_zone(zone_size, off, len);
}

/*
 * Format 1.1's rings region and peer table, from a checked superblock whose
 * regions lie inside the zone: sets geo->rings_ok when every peer's area of
 * ring_bytes (at least SGZ_RING_BYTES, 64-byte aligned) fits the rings
 * region and every peer record the peer table. A 1.0 zone, or unsound
 * rings, still mounts; its namespace changes then fail.
 */
static void stargatefs_rings_check(struct device *d, const struct sgz_superblock *sb,
				   struct stargatefs_geometry *geo)
{
	u64 rings_size = le64_to_cpu(sb->rings.size);
	u64 peers_size = le64_to_cpu(sb->peer_table.size);

	geo->rings_offset = le64_to_cpu(sb->rings.offset);
	geo->peer_table = le64_to_cpu(sb->peer_table.offset);
	geo->ring_bytes = le32_to_cpu(sb->ring_bytes);
	geo->max_peers = le32_to_cpu(sb->max_peers);
	if (geo->version_minor < 1)
		return;
	geo->rings_ok = geo->ring_bytes >= SGZ_RING_BYTES && IS_ALIGNED(geo->ring_bytes, 64) &&
			geo->max_peers >= 2 && geo->max_peers <= SGZ_ILOCK_HOLDER_MASK &&
			(u64)geo->max_peers * geo->ring_bytes <= rings_size &&
			(u64)geo->max_peers * SGZ_PEER_SIZE <= peers_size;
	if (!geo->rings_ok)
		dev_err(d, "zone rings region unsound (%u peers of %u bytes): namespace changes disabled\n",
			geo->max_peers, geo->ring_bytes);
}

/*
 * Checks the superblock (magic, version, crc, geometry) and, when it is
 * sound, returns the geometry in out. Returns 0, or -EINVAL after one
 * log line that says why the zone is refused.
 */
int stargatefs_zone_check(struct stargatefs_device *dev, struct stargatefs_geometry *out)
{
	struct sgz_superblock sb;
	struct stargatefs_geometry geo = { 0 };
	struct device *d = &dev->pdev->dev;
	const struct sgz_region *regions;
	u32 crc;
	int i;

	memcpy(&sb, dev->kaddr, sizeof(sb));
	if (le64_to_cpu(sb.magic) != SGZ_MAGIC) {
		dev_err(d, "zone refused: bad magic 0x%016llx (not a Stargate zone, or not formatted: stargate zone create)\n",
			le64_to_cpu(sb.magic));
		return -EINVAL;
	}
	if (le16_to_cpu(sb.version_major) != SGZ_VERSION_MAJOR) {
		dev_err(d, "zone refused: format version %u.%u, this module reads %u.x\n",
			le16_to_cpu(sb.version_major), le16_to_cpu(sb.version_minor),
			SGZ_VERSION_MAJOR);
		return -EINVAL;
	}
	crc = stargatefs_crc32c(&sb, SGZ_SUPERBLOCK_CRC_OFFSET);
	if (crc != le32_to_cpu(sb.crc)) {
		dev_err(d, "zone refused: superblock crc 0x%08x, expected 0x%08x (corrupt superblock)\n",
			le32_to_cpu(sb.crc), crc);
		return -EINVAL;
	}

	geo.zone_size = le64_to_cpu(sb.zone_size);
	geo.inode_count = le64_to_cpu(sb.inode_count);
	geo.chunk_count = le64_to_cpu(sb.chunk_count);
	geo.inode_table = le64_to_cpu(sb.inode_table.offset);
	geo.data_offset = le64_to_cpu(sb.data.offset);
	geo.data_size = le64_to_cpu(sb.data.size);
	geo.root_ino = le64_to_cpu(sb.root_ino);
	geo.version_minor = le16_to_cpu(sb.version_minor);
	memcpy(geo.uuid, sb.uuid, sizeof(geo.uuid));

	if (geo.zone_size > dev->size || !is_power_of_2(geo.zone_size) ||
	    geo.zone_size < (1ULL << SGZ_ZONE_MIN_SHIFT)) {
		dev_err(d, "zone refused: zone size %llu does not fit the %llu-byte window\n",
			geo.zone_size, dev->size);
		return -EINVAL;
	}
	if (le32_to_cpu(sb.sb_size) != SGZ_SUPERBLOCK_SIZE ||
	    le32_to_cpu(sb.page_size) != SGZ_PAGE_SIZE ||
	    le32_to_cpu(sb.chunk_size) != SGZ_CHUNK_SIZE ||
	    le32_to_cpu(sb.inode_size) != SGZ_INODE_SIZE ||
	    le32_to_cpu(sb.dirent_size) != SGZ_DIRENT_SIZE) {
		dev_err(d, "zone refused: record sizes differ from format %u.%u\n",
			SGZ_VERSION_MAJOR, SGZ_VERSION_MINOR);
		return -EINVAL;
	}
	regions = &sb.journal;
	for (i = 0; i < 10; i++) {
		if (!stargatefs_region_ok(&regions[i], geo.zone_size)) {
			dev_err(d, "zone refused: region %d lies outside the zone\n", i);
			return -EINVAL;
		}
	}
	if (!IS_ALIGNED(geo.data_offset, SGZ_CHUNK_SIZE) ||
	    geo.chunk_count > geo.data_size / SGZ_CHUNK_SIZE ||
	    geo.inode_count < 2 ||
	    geo.inode_count > le64_to_cpu(sb.inode_table.size) / SGZ_INODE_SIZE ||
	    geo.root_ino == 0 || geo.root_ino >= geo.inode_count) {
		dev_err(d, "zone refused: inconsistent geometry\n");
		return -EINVAL;
	}
	geo.data_size = geo.chunk_count * SGZ_CHUNK_SIZE;
	stargatefs_rings_check(d, &sb, &geo);
	*out = geo;
	return 0;
}

/* Free pages and inodes: the superblock's hints, clamped to the geometry. */
void stargatefs_zone_statfs(struct stargatefs_device *dev, u64 *free_pages,
			    u64 *free_inodes)
{
	const struct sgz_superblock *sb = dev->kaddr;

	*free_pages = min(le64_to_cpu(READ_ONCE(sb->free_pages)),
			  dev->geo.chunk_count * SGZ_PAGES_PER_CHUNK);
	*free_inodes = min(le64_to_cpu(READ_ONCE(sb->free_inodes)),
			   dev->geo.inode_count - 1);
}

static struct sgz_inode *stargatefs_live_inode(struct stargatefs_device *dev, u64 ino)
{
	return dev->kaddr + dev->geo.inode_table + ino * SGZ_INODE_SIZE;
}

/*
 * One turn of a loop whose trip count the zone decides (another machine
 * may keep a seqcount odd or moving, or a directory changing, for ever): a
 * scheduling point, then -EINTR on a fatal signal when the caller can die
 * (killable), or -EIO once jiffies passed deadline. 0: go on.
 */
int stargatefs_zone_yield(unsigned long deadline, bool killable)
{
	cond_resched();
	if (killable && fatal_signal_pending(current))
		return -EINTR;
	return time_after(jiffies, deadline) ? -EIO : 0;
}

/*
 * Copies zone inode ino into out as one consistent snapshot (under its
 * seqcount) and checks it. Returns 0 with *seq set to the seqcount it was
 * read under, -ENOENT for a free inode, -EINTR on a fatal signal (killable
 * only), or -EIO, also when the seqcount stays odd or keeps moving for
 * STARGATEFS_SEQ_WAIT_MS: its writer died mid-change, or a guest is hostile.
 */
static int stargatefs_load_inode(struct stargatefs_device *dev, u64 ino,
				 struct sgz_inode *out, u32 *seq, bool killable)
{
	unsigned long deadline = jiffies + msecs_to_jiffies(STARGATEFS_SEQ_WAIT_MS);
	struct sgz_inode *live;
	u32 before, crc, type;
	u64 root;
	int err;

	if (ino == 0 || ino >= dev->geo.inode_count) {
		stargatefs_err_ratelimited(dev, "inode number %llu is outside the inode table\n", ino);
		return -EIO;
	}
	live = stargatefs_live_inode(dev, ino);
	for (;;) {
		before = le32_to_cpu(READ_ONCE(live->seq));
		if (!(before & 1)) {
			smp_rmb();
			memcpy(out, live, sizeof(*out));
			smp_rmb();
			if (le32_to_cpu(READ_ONCE(live->seq)) == before)
				break;
		}
		err = stargatefs_zone_yield(deadline, killable);
		if (err) {
			if (err == -EIO)
				stargatefs_err_ratelimited(dev, "inode %llu stays mid-change (seq %u)\n",
							   ino, before);
			return err;
		}
		cpu_relax();
	}
	*seq = before;

	if (le32_to_cpu(out->mode) == 0)
		return -ENOENT;
	crc = stargatefs_crc32c(out, offsetof(struct sgz_inode, crc));
	if (crc != le32_to_cpu(out->crc)) {
		stargatefs_err_ratelimited(dev, "inode %llu: crc 0x%08x, expected 0x%08x\n",
					   ino, le32_to_cpu(out->crc), crc);
		return -EIO;
	}
	type = le32_to_cpu(out->mode) & SGZ_S_IFMT;
	root = le64_to_cpu(out->pt_root);
	if (out->pt_depth > SGZ_PT_MAX_DEPTH || (out->pt_depth && !root) ||
	    (root && (!IS_ALIGNED(root, SGZ_PAGE_SIZE) || root < dev->geo.data_offset ||
		      !stargatefs_in_zone(dev->geo.data_offset + dev->geo.data_size, root, SGZ_PAGE_SIZE)))) {
		stargatefs_err_ratelimited(dev, "inode %llu: bad page-table root (depth %u)\n",
					   ino, out->pt_depth);
		return -EIO;
	}
	if (type != SGZ_S_IFREG && type != SGZ_S_IFDIR && type != SGZ_S_IFCHR &&
	    type != SGZ_S_IFBLK && type != SGZ_S_IFIFO && type != SGZ_S_IFSOCK &&
	    type != SGZ_S_IFLNK) {
		stargatefs_err_ratelimited(dev, "inode %llu: unsupported type 0%o\n", ino, type);
		return -EIO;
	}
	if (le64_to_cpu(out->size) > SGZ_FILE_SIZE_MAX) {
		stargatefs_err_ratelimited(dev, "inode %llu: size %llu too large\n",
					   ino, le64_to_cpu(out->size));
		return -EIO;
	}
	return 0;
}

/* stargatefs_load_inode(), ended by a fatal signal too. */
int stargatefs_zone_load_inode(struct stargatefs_device *dev, u64 ino,
			       struct sgz_inode *out, u32 *seq)
{
	return stargatefs_load_inode(dev, ino, out, seq, true);
}

/*
 * True when zone inode ino is still generation and unlinked (nlink 0):
 * the last close of it in this guest must then send RELEASE. Not ended by
 * a fatal signal: the close of a killed process must still tell the host.
 */
bool stargatefs_zone_inode_orphan(struct stargatefs_device *dev, u64 ino, u32 generation)
{
	struct sgz_inode zi;
	u32 seq;

	return !stargatefs_load_inode(dev, ino, &zi, &seq, false) &&
	       le32_to_cpu(zi.generation) == generation && le32_to_cpu(zi.nlink) == 0;
}

/* True when inode ino changed (or is changing) since seqcount seq. */
bool stargatefs_zone_inode_moved(struct stargatefs_device *dev, u64 ino, u32 seq)
{
	smp_rmb();
	return le32_to_cpu(READ_ONCE(stargatefs_live_inode(dev, ino)->seq)) != seq;
}

/* True when [off, off + len) lies in the data region, off aligned to align. */
static bool stargatefs_in_data(struct stargatefs_device *dev, u64 off, u64 len, u64 align)
{
	return IS_ALIGNED(off, align) && off >= dev->geo.data_offset &&
	       stargatefs_in_zone(dev->geo.data_offset + dev->geo.data_size, off, len);
}

/*
 * One step of a page-table walk: the run of the file at pos that one leaf
 * entry (or one absent entry) covers. Levels count from 1 (PTE nodes).
 */
static int stargatefs_map_one(struct stargatefs_device *dev, u64 ino, u64 root,
			      u8 depth, u64 pos, struct stargatefs_extent *ext)
{
	u64 node = root, entry, frame, span;
	unsigned int level, shift, index;

	if (depth == 0 || pos >= (SGZ_PAGE_SIZE << (9 * (depth - 1))) * SGZ_PT_ENTRIES) {
		/* Past what the table can map: a hole to the end. */
		ext->mapped = false;
		ext->len = U64_MAX - pos;
		return 0;
	}
	for (level = depth; level >= 1; level--) {
		shift = SGZ_PAGE_SHIFT + 9 * (level - 1);
		span = 1ULL << shift;
		index = (pos >> shift) & (SGZ_PT_ENTRIES - 1);
		entry = le64_to_cpu(READ_ONCE(((__le64 *)(dev->kaddr + node))[index]));
		if (!(entry & SGZ_PTE_PRESENT)) {
			ext->mapped = false;
			ext->len = span - (pos & (span - 1));
			return 0;
		}
		if (entry & SGZ_PTE_HUGE) {
			frame = entry & SGZ_PMD_ADDR_MASK;
			if (level != 2 || (entry & SGZ_PTE_ADDR_MASK) != frame ||
			    !stargatefs_in_data(dev, frame, SGZ_CHUNK_SIZE, SGZ_CHUNK_SIZE))
				goto bad;
			ext->mapped = true;
			ext->zone_off = frame + (pos & (SGZ_CHUNK_SIZE - 1));
			ext->len = SGZ_CHUNK_SIZE - (pos & (SGZ_CHUNK_SIZE - 1));
			return 0;
		}
		frame = entry & SGZ_PTE_ADDR_MASK;
		if (!stargatefs_in_data(dev, frame, SGZ_PAGE_SIZE, SGZ_PAGE_SIZE))
			goto bad;
		if (level == 1) {
			ext->mapped = true;
			ext->zone_off = frame + (pos & (SGZ_PAGE_SIZE - 1));
			ext->len = SGZ_PAGE_SIZE - (pos & (SGZ_PAGE_SIZE - 1));
			return 0;
		}
		node = frame;
	}
bad:
	stargatefs_err_ratelimited(dev, "inode %llu: bad page-table entry 0x%016llx at file offset %llu\n",
				   ino, entry, pos);
	return -EIO;
}

/*
 * Maps file offset pos of inode ino (page table pt_root, pt_depth, from a
 * checked snapshot) to the longest run, up to max bytes, that is all hole
 * or all zone-contiguous. Returns 0 or -EIO. The walk is bounded by the
 * depth and the merging by a fixed step count (at most 1024 x 4 loads), so
 * it needs no scheduling point; its callers' loops have one.
 */
int stargatefs_zone_map(struct stargatefs_device *dev, u64 ino, u64 pt_root,
			u8 pt_depth, u64 pos, u64 max, struct stargatefs_extent *ext)
{
	struct stargatefs_extent next;
	unsigned int steps;
	int err;

	err = stargatefs_map_one(dev, ino, pt_root, pt_depth, pos, ext);
	if (err)
		return err;
	/* Merge following runs; bounded so a walk never runs long. */
	for (steps = 0; steps < 1024 && ext->len < max; steps++) {
		if (pos + ext->len < pos)
			break;
		err = stargatefs_map_one(dev, ino, pt_root, pt_depth, pos + ext->len, &next);
		if (err || next.mapped != ext->mapped ||
		    (next.mapped && next.zone_off != ext->zone_off + ext->len))
			break;
		if (ext->len + next.len < ext->len) {
			ext->len = U64_MAX - pos;
			break;
		}
		ext->len += next.len;
	}
	if (ext->len > max)
		ext->len = max;
	return 0;
}

/*
 * Publishes a guest write to file ino: size grows to new_size if that is
 * larger, and mtime and ctime become now_ns, under the inode's seqcount
 * taken from even to odd with a compare-and-swap (so that two guests do
 * not interleave). Nothing is written if the inode is no longer the
 * generation the caller wrote to (the host freed or reused it meanwhile).
 * Returns 0, -ESTALE, -EINTR on a fatal signal, or -EIO when the seqcount
 * stays odd or keeps moving for STARGATEFS_SEQ_WAIT_MS.
 */
int stargatefs_zone_update_file(struct stargatefs_device *dev, u64 ino, u32 generation,
				u64 new_size, u64 now_ns)
{
	unsigned long deadline = jiffies + msecs_to_jiffies(STARGATEFS_SEQ_WAIT_MS);
	struct sgz_inode *live = stargatefs_live_inode(dev, ino);
	u32 seq;
	int err;

	for (;;) {
		seq = le32_to_cpu(READ_ONCE(live->seq));
		if (!(seq & 1)) {
			/*
			 * Not preemptible while the seqcount is odd, as the kernel's
			 * own seqcount writers: a reader of this inode spins until it
			 * is even (stargatefs_load_inode), and on a fully preemptible
			 * kernel (PREEMPT_RT) a reader that preempted this task on its
			 * CPU would spin out its wait and fail with EIO. Nothing below
			 * sleeps.
			 */
			preempt_disable();
			if (cmpxchg((u32 *)&live->seq, seq, seq + 1) == seq)
				break;
			preempt_enable();
		}
		err = stargatefs_zone_yield(deadline, true);
		if (err) {
			if (err == -EIO)
				stargatefs_err_ratelimited(dev, "inode %llu stays mid-change (seq %u)\n",
							   ino, seq);
			return err;
		}
		cpu_relax();
	}
	smp_mb();
	if (le32_to_cpu(READ_ONCE(live->generation)) != generation ||
	    (le32_to_cpu(READ_ONCE(live->mode)) & SGZ_S_IFMT) != SGZ_S_IFREG) {
		/* Changed nothing: put the seqcount back as it was. */
		smp_store_release((u32 *)&live->seq, seq);
		preempt_enable();
		return -ESTALE;
	}
	if (new_size > le64_to_cpu(READ_ONCE(live->size)))
		WRITE_ONCE(live->size, cpu_to_le64(new_size));
	WRITE_ONCE(live->mtime_ns, cpu_to_le64(now_ns));
	WRITE_ONCE(live->ctime_ns, cpu_to_le64(now_ns));
	WRITE_ONCE(live->change, cpu_to_le64(le64_to_cpu(READ_ONCE(live->change)) + 1));
	smp_wmb();
	WRITE_ONCE(live->seq, cpu_to_le32(seq + 2));
	preempt_enable();
	return 0;
}

/*
 * Checks a private copy of a directory entry: crc, name (1..255 bytes, no
 * '/' or NUL, not "." or ".."), type and inode number.
 */
bool stargatefs_dirent_valid(struct stargatefs_device *dev, const struct sgz_dirent *de)
{
	u32 crc = stargatefs_crc32c(de, offsetof(struct sgz_dirent, crc));
	unsigned int len = de->name_len;
	u64 ino = le64_to_cpu(de->ino);

	if (crc != le32_to_cpu(de->crc) || len == 0 || ino == 0 ||
	    ino >= dev->geo.inode_count ||
	    memchr(de->name, '/', len) || memchr(de->name, 0, len) ||
	    (len == 1 && de->name[0] == '.') ||
	    (len == 2 && de->name[0] == '.' && de->name[1] == '.'))
		return false;
	switch (de->type) {
	case SGZ_DT_REG:
	case SGZ_DT_DIR:
	case SGZ_DT_CHR:
	case SGZ_DT_BLK:
	case SGZ_DT_FIFO:
	case SGZ_DT_SOCK:
	case SGZ_DT_LNK:
		return true;
	default:
		return false;
	}
}
