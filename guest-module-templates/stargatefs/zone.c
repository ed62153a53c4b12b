// SPDX-License-Identifier: GPL-2.0
/*
 * stargatefs: reading the zone, through one translation from a zone offset
 * to an address (stargatefs_zone_addr()). Every function here treats the
 * zone as hostile: values are read once (READ_ONCE or into a private copy), then
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

/*
 * The one translation from a zone offset to a kernel address: [off, off +
 * len) must lie in one file, below zone_size in the structure device's
 * BAR, at or above it in the data device's (at off - zone_size). NULL when
 * it does not, or when that device was unbound: the caller fails with EIO.
 * The mount's references keep both windows mapped, so an address returned
 * just before an unbind still reads mapped memory.
 */
void *stargatefs_zone_addr(struct stargatefs_device *dev, u64 off, u64 len)
{
	const struct stargatefs_geometry *geo = &dev->geo;
	struct stargatefs_device *structure = dev->structure;

	if (off < geo->zone_size) {
		if (len > geo->zone_size - off || !structure || READ_ONCE(structure->removed))
			return NULL;
		return structure->kaddr + off;
	}
	off -= geo->zone_size;
	if (off > geo->data_file_size || len > geo->data_file_size - off || READ_ONCE(dev->removed))
		return NULL;
	return dev->kaddr + off;
}

/* True when [off, off + len) lies inside [lo, hi). */
static bool stargatefs_in_range(u64 lo, u64 hi, u64 off, u64 len)
{
	return off >= lo && off <= hi && len <= hi - off;
}

/* A region 4 KiB aligned inside [lo, hi). */
static bool stargatefs_region_ok(const struct sgz_region *r, u64 lo, u64 hi)
{
	u64 off = le64_to_cpu(r->offset), len = le64_to_cpu(r->size);

	return IS_ALIGNED(off, SGZ_PAGE_SIZE) && stargatefs_in_range(lo, hi, off, len);
}

/*
 * The rings region and the peer table, from a checked superblock whose
 * regions lie in their files: sets geo->rings_ok when every peer's area of
 * ring_bytes (at least SGZ_RING_BYTES, 64-byte aligned) fits the rings
 * region and every peer record the peer table. A zone with unsound rings
 * still mounts; its namespace changes then fail.
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
	geo->rings_ok = geo->ring_bytes >= SGZ_RING_BYTES && IS_ALIGNED(geo->ring_bytes, 64) &&
			geo->max_peers >= 2 && geo->max_peers <= SGZ_ILOCK_HOLDER_MASK &&
			(u64)geo->max_peers * geo->ring_bytes <= rings_size &&
			(u64)geo->max_peers * SGZ_PEER_SIZE <= peers_size;
	if (!geo->rings_ok)
		dev_err(d, "zone rings region unsound (%u peers of %u bytes): namespace changes disabled\n",
			geo->max_peers, geo->ring_bytes);
}

/*
 * A major version this module reads; logs one line naming both versions if
 * not. 2.0 (a step of format 2 whose request rings every guest wrote) too.
 */
static int stargatefs_version(struct device *d, __le16 major, __le16 minor)
{
	if (le16_to_cpu(major) == SGZ_VERSION_MAJOR && le16_to_cpu(minor) >= 1)
		return 0;
	if (le16_to_cpu(major) == SGZ_VERSION_MAJOR) {
		dev_err(d, "zone refused: format %u.%u kept the request rings where every guest writes; this module reads %u.%u and later: recreate the zone (stargate zone create)\n",
			le16_to_cpu(major), le16_to_cpu(minor), SGZ_VERSION_MAJOR, SGZ_VERSION_MINOR);
		return -EINVAL;
	}
	dev_err(d, "zone refused: format version %u.%u, this module reads %u.x\n",
		le16_to_cpu(major), le16_to_cpu(minor), SGZ_VERSION_MAJOR);
	return -EINVAL;
}

/* Magic and major version of a superblock; logs why it is refused. */
static int stargatefs_sb_version(struct device *d, const struct sgz_superblock *sb)
{
	if (le64_to_cpu(sb->magic) != SGZ_MAGIC) {
		dev_err(d, "zone refused: bad magic 0x%016llx (not a Stargate zone, or not formatted: stargate zone create)\n",
			le64_to_cpu(sb->magic));
		return -EINVAL;
	}
	return stargatefs_version(d, sb->version_major, sb->version_minor);
}

/*
 * The data device's header (struct sgz_data_header at byte 0 of Z.data):
 * magic, version and the data file's size. A BAR that holds a superblock
 * instead is a format 1 zone (one device): refused by its version.
 */
static int stargatefs_data_header_check(struct stargatefs_device *dev,
					struct sgz_data_header *hdr)
{
	struct device *d = &dev->pdev->dev;
	struct sgz_superblock sb;

	memcpy(hdr, dev->kaddr, sizeof(*hdr));
	if (le64_to_cpu(hdr->magic) == SGZ_MAGIC) {
		memcpy(&sb, dev->kaddr, sizeof(sb));
		if (stargatefs_sb_version(d, &sb))
			return -EINVAL;
	}
	if (le64_to_cpu(hdr->magic) != SGZ_DATA_MAGIC) {
		dev_err(d, "zone refused: bad data header: magic 0x%016llx (not a Stargate data file Z.data, or not formatted: stargate zone create)\n",
			le64_to_cpu(hdr->magic));
		return -EINVAL;
	}
	if (stargatefs_version(d, hdr->version_major, hdr->version_minor))
		return -EINVAL;
	if (le64_to_cpu(hdr->data_file_size) != dev->size) {
		dev_err(d, "zone refused: bad data header: data file of %llu bytes in a %llu-byte window\n",
			le64_to_cpu(hdr->data_file_size), dev->size);
		return -EINVAL;
	}
	return 0;
}

/*
 * The structure partner of a data device: the bound structure device
 * whose superblock has the data header's uuid, with a reference taken.
 */
static struct stargatefs_device *stargatefs_partner(struct stargatefs_device *dev,
						    const struct sgz_data_header *hdr)
{
	struct device *d = &dev->pdev->dev;
	struct stargatefs_device *structure;
	bool any;

	structure = stargatefs_structure_find(hdr->uuid, &any);
	if (structure)
		return structure;
	if (!any)
		dev_err(d, "zone refused: no structure device (the read-only ivshmem-plain device of the zone's file Z) is bound beside this data device\n");
	else
		dev_err(d, "zone refused: uuid mismatch: no bound structure device has this data file's zone uuid %pU\n",
			hdr->uuid);
	return NULL;
}

/*
 * The 2.1 layout: the fixed regions (the rings among them) in Z before the
 * pool, the hints in Z.data's header chunks after the data header's page,
 * the chunk space from the pool's start to the end of Z.data.
 */
static int stargatefs_layout_check(struct device *d, const struct sgz_superblock *sb,
				   struct stargatefs_geometry *geo)
{
	static const u8 in_structure[] = { 0, 1, 2, 3, 4, 5, 6, 7, 8 };
	const struct sgz_region *regions = &sb->journal;
	u64 pool_chunks = le32_to_cpu(sb->pool_chunks);
	u64 header_chunks = le32_to_cpu(sb->header_chunks);
	u64 header_end;
	unsigned int i;

	if (pool_chunks < 1 || pool_chunks * SGZ_CHUNK_SIZE >= geo->zone_size ||
	    header_chunks < 1 || header_chunks * SGZ_CHUNK_SIZE >= geo->data_file_size ||
	    geo->chunk_count != pool_chunks + (geo->data_file_size >> SGZ_CHUNK_SHIFT)) {
		dev_err(d, "zone refused: inconsistent chunk space (%llu pool, %llu header, %llu chunks)\n",
			pool_chunks, header_chunks, geo->chunk_count);
		return -EINVAL;
	}
	geo->data_offset = geo->zone_size - pool_chunks * SGZ_CHUNK_SIZE;
	geo->data_size = geo->chunk_count * SGZ_CHUNK_SIZE;
	geo->data_chunks = geo->zone_size + header_chunks * SGZ_CHUNK_SIZE;
	header_end = geo->data_chunks;
	if (le64_to_cpu(sb->data.offset) != geo->data_offset ||
	    le64_to_cpu(sb->data.size) != geo->data_size) {
		dev_err(d, "zone refused: the data region is not the pool and Z.data\n");
		return -EINVAL;
	}
	for (i = 0; i < ARRAY_SIZE(in_structure); i++) {
		if (!stargatefs_region_ok(&regions[in_structure[i]], SGZ_PAGE_SIZE, geo->data_offset)) {
			dev_err(d, "zone refused: region %u lies outside the structure file's fixed part\n",
				in_structure[i]);
			return -EINVAL;
		}
	}
	if (!stargatefs_region_ok(&sb->hints, geo->zone_size + SGZ_PAGE_SIZE, header_end) ||
	    le64_to_cpu(sb->hints.size) / SGZ_HINT_SIZE < geo->inode_count) {
		dev_err(d, "zone refused: the hints lie outside the data file's header chunks\n");
		return -EINVAL;
	}
	geo->hints_offset = le64_to_cpu(sb->hints.offset);
	return 0;
}

/*
 * Checks a data device's zone: its data header, its structure partner's
 * superblock (magic, version, crc, geometry, the 2.1 layout) and that the
 * two are one zone. Returns 0 with the geometry in out and the partner,
 * referenced, in *structure; or -EINVAL after one log line that says why
 * the zone is refused.
 */
int stargatefs_zone_check(struct stargatefs_device *dev, struct stargatefs_geometry *out,
			  struct stargatefs_device **structure)
{
	struct sgz_superblock sb;
	struct sgz_data_header hdr;
	struct stargatefs_geometry geo = { 0 };
	struct stargatefs_device *partner;
	struct device *d = &dev->pdev->dev;
	u32 crc;
	int err;

	err = stargatefs_data_header_check(dev, &hdr);
	if (err)
		return err;
	partner = stargatefs_partner(dev, &hdr);
	if (!partner)
		return -EINVAL;
	err = -EINVAL;
	memcpy(&sb, partner->kaddr, sizeof(sb));
	if (stargatefs_sb_version(d, &sb))
		goto put_partner;
	crc = stargatefs_crc32c(&sb, SGZ_SUPERBLOCK_CRC_OFFSET);
	if (crc != le32_to_cpu(sb.crc)) {
		dev_err(d, "zone refused: superblock crc 0x%08x, expected 0x%08x (corrupt superblock)\n",
			le32_to_cpu(sb.crc), crc);
		goto put_partner;
	}
	/* The uuid is under the crc: compared again on the checked copy. */
	if (memcmp(sb.uuid, hdr.uuid, sizeof(sb.uuid))) {
		dev_err(d, "zone refused: uuid mismatch: data header %pU, superblock %pU\n",
			hdr.uuid, sb.uuid);
		goto put_partner;
	}

	geo.zone_size = le64_to_cpu(sb.zone_size);
	geo.data_file_size = le64_to_cpu(sb.data_file_size);
	geo.inode_count = le64_to_cpu(sb.inode_count);
	geo.chunk_count = le64_to_cpu(sb.chunk_count);
	geo.inode_table = le64_to_cpu(sb.inode_table.offset);
	geo.root_ino = le64_to_cpu(sb.root_ino);
	geo.version_minor = le16_to_cpu(sb.version_minor);
	memcpy(geo.uuid, sb.uuid, sizeof(geo.uuid));

	if (geo.zone_size > partner->size || !is_power_of_2(geo.zone_size) ||
	    geo.zone_size < (1ULL << SGZ_ZONE_MIN_SHIFT)) {
		dev_err(d, "zone refused: zone size %llu does not fit the %llu-byte structure window\n",
			geo.zone_size, partner->size);
		goto put_partner;
	}
	if (geo.data_file_size != dev->size || geo.data_file_size < (1ULL << SGZ_ZONE_MIN_SHIFT) ||
	    geo.data_file_size > (1ULL << SGZ_ZONE_MAX_SHIFT) ||
	    le64_to_cpu(hdr.zone_size) != geo.zone_size ||
	    le64_to_cpu(hdr.data_file_size) != geo.data_file_size) {
		dev_err(d, "zone refused: bad data header: sizes %llu + %llu, the superblock says %llu + %llu\n",
			le64_to_cpu(hdr.zone_size), le64_to_cpu(hdr.data_file_size),
			geo.zone_size, geo.data_file_size);
		goto put_partner;
	}
	if (le32_to_cpu(sb.sb_size) != SGZ_SUPERBLOCK_SIZE ||
	    le32_to_cpu(sb.page_size) != SGZ_PAGE_SIZE ||
	    le32_to_cpu(sb.chunk_size) != SGZ_CHUNK_SIZE ||
	    le32_to_cpu(sb.inode_size) != SGZ_INODE_SIZE ||
	    le32_to_cpu(sb.dirent_size) != SGZ_DIRENT_SIZE) {
		dev_err(d, "zone refused: record sizes differ from format %u.%u\n",
			SGZ_VERSION_MAJOR, SGZ_VERSION_MINOR);
		goto put_partner;
	}
	if (geo.inode_count < 2 ||
	    geo.inode_count > le64_to_cpu(sb.inode_table.size) / SGZ_INODE_SIZE ||
	    geo.root_ino == 0 || geo.root_ino >= geo.inode_count) {
		dev_err(d, "zone refused: inconsistent geometry\n");
		goto put_partner;
	}
	if (stargatefs_layout_check(d, &sb, &geo))
		goto put_partner;
	stargatefs_rings_check(d, &sb, &geo);
	*out = geo;
	*structure = partner;
	return 0;

put_partner:
	stargatefs_device_put(partner);
	return err;
}

/*
 * Free data pages and inodes: the superblock's hints, clamped to the
 * geometry (free_pages counts data chunks' pages only: what df shows).
 * Zeros once the structure device is gone.
 */
void stargatefs_zone_statfs(struct stargatefs_device *dev, u64 *free_pages,
			    u64 *free_inodes)
{
	const struct sgz_superblock *sb = stargatefs_zone_addr(dev, 0, sizeof(*sb));

	*free_pages = 0;
	*free_inodes = 0;
	if (!sb)
		return;
	*free_pages = min(le64_to_cpu(READ_ONCE(sb->free_pages)), stargatefs_zone_data_pages(dev));
	*free_inodes = min(le64_to_cpu(READ_ONCE(sb->free_inodes)),
			   dev->geo.inode_count - 1);
}

/* 4 KiB pages of the data chunks: what a regular file's data may use. */
u64 stargatefs_zone_data_pages(struct stargatefs_device *dev)
{
	return (dev->geo.zone_size + dev->geo.data_file_size - dev->geo.data_chunks) >> SGZ_PAGE_SHIFT;
}

/* Zone inode ino (checked < inode_count) in the structure file, or NULL once it is gone. */
static const struct sgz_inode *stargatefs_live_inode(struct stargatefs_device *dev, u64 ino)
{
	return stargatefs_zone_addr(dev, dev->geo.inode_table + ino * SGZ_INODE_SIZE, SGZ_INODE_SIZE);
}

/* Inode ino's hint (checked < inode_count) in the data file, or NULL once it is gone. */
static struct sgz_hint *stargatefs_hint(struct stargatefs_device *dev, u64 ino)
{
	return stargatefs_zone_addr(dev, dev->geo.hints_offset + ino * SGZ_HINT_SIZE, SGZ_HINT_SIZE);
}

/* Inode ino's lock word, in its hint; NULL for a number outside the table or a gone device. */
__le64 *stargatefs_zone_lock_word(struct stargatefs_device *dev, u64 ino)
{
	struct sgz_hint *hint;

	if (ino == 0 || ino >= dev->geo.inode_count)
		return NULL;
	hint = stargatefs_hint(dev, ino);
	return hint ? &hint->lock : NULL;
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

/* True when [off, off + len) lies in the structure pool, off aligned to align. */
static bool stargatefs_in_pool(struct stargatefs_device *dev, u64 off, u64 len, u64 align)
{
	return IS_ALIGNED(off, align) &&
	       stargatefs_in_range(dev->geo.data_offset, dev->geo.zone_size, off, len);
}

/* True when [off, off + len) lies in the data chunks, off aligned to align. */
static bool stargatefs_in_data_chunks(struct stargatefs_device *dev, u64 off, u64 len, u64 align)
{
	return IS_ALIGNED(off, align) &&
	       stargatefs_in_range(dev->geo.data_chunks, dev->geo.zone_size + dev->geo.data_file_size,
				   off, len);
}

/*
 * Merges a regular file's hint into a checked snapshot zi: the effective
 * size, mtime, ctime and change (stargate_zone.h, struct sgz_hint). The
 * hint is read under its seqcount at most STARGATEFS_HINT_TRIES times; one
 * that stays odd or moving, or names another generation, is ignored. The
 * size it gives is clamped to the inode's alloc_end. Returns 0, or -EIO
 * once the data device is gone.
 */
static int stargatefs_merge_hint(struct stargatefs_device *dev, u64 ino, struct sgz_inode *zi)
{
	const struct sgz_hint *live = stargatefs_hint(dev, ino);
	struct sgz_hint hint;
	unsigned int tries;
	u32 before;
	u64 size, latest;

	if (!live)
		return -EIO;
	for (tries = 0; tries < STARGATEFS_HINT_TRIES; tries++) {
		before = le32_to_cpu(READ_ONCE(live->seq));
		if (!(before & 1)) {
			smp_rmb();
			memcpy(&hint, live, sizeof(hint));
			smp_rmb();
			if (le32_to_cpu(READ_ONCE(live->seq)) == before)
				goto copied;
		}
		cpu_relax();
	}
	return 0;
copied:
	if (le32_to_cpu(hint.generation) != le32_to_cpu(zi->generation))
		return 0;
	size = min3(le64_to_cpu(hint.size), le64_to_cpu(zi->alloc_end), SGZ_FILE_SIZE_MAX);
	if (size > le64_to_cpu(zi->size))
		zi->size = cpu_to_le64(size);
	/* A hint's time more than a day ahead of this clock is forged: not shown. */
	latest = ktime_get_real_ns() + SGZ_CLOCK_LEAD_MAX_NS;
	if (le64_to_cpu(hint.mtime_ns) > le64_to_cpu(zi->mtime_ns) && le64_to_cpu(hint.mtime_ns) < latest)
		zi->mtime_ns = hint.mtime_ns;
	if (le64_to_cpu(hint.ctime_ns) > le64_to_cpu(zi->ctime_ns) && le64_to_cpu(hint.ctime_ns) < latest)
		zi->ctime_ns = hint.ctime_ns;
	zi->change = cpu_to_le64(le64_to_cpu(zi->change) + le64_to_cpu(hint.change));
	return 0;
}

/*
 * Copies zone inode ino into out as one consistent snapshot (under its
 * seqcount) and checks it, the hint not merged (the callers below merge
 * it where they need the effective size and times). Returns 0 with *seq set to the
 * seqcount it was read under, -ENOENT for a free inode, -EINTR on a fatal
 * signal (killable only), or -EIO, also when the seqcount stays odd or
 * keeps moving for STARGATEFS_SEQ_WAIT_MS: its writer died mid-change.
 */
static int stargatefs_load_inode(struct stargatefs_device *dev, u64 ino,
				 struct sgz_inode *out, u32 *seq, bool killable)
{
	unsigned long deadline = jiffies + msecs_to_jiffies(STARGATEFS_SEQ_WAIT_MS);
	const struct sgz_inode *live;
	u32 before, crc, type;
	u64 root;
	int err;

	if (ino == 0 || ino >= dev->geo.inode_count) {
		stargatefs_err_ratelimited(dev, "inode number %llu is outside the inode table\n", ino);
		return -EIO;
	}
	live = stargatefs_live_inode(dev, ino);
	if (!live)
		return -EIO;
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
	    (root && !stargatefs_in_pool(dev, root, SGZ_PAGE_SIZE, SGZ_PAGE_SIZE))) {
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

/* Guests publish only regular files' writes: no other inode takes a hint. */
static int stargatefs_merge_if_file(struct stargatefs_device *dev, u64 ino, struct sgz_inode *zi)
{
	return (le32_to_cpu(zi->mode) & SGZ_S_IFMT) == SGZ_S_IFREG ?
	       stargatefs_merge_hint(dev, ino, zi) : 0;
}

/* stargatefs_load_inode() with the hint merged, ended by a fatal signal too. */
int stargatefs_zone_load_inode(struct stargatefs_device *dev, u64 ino,
			       struct sgz_inode *out, u32 *seq)
{
	int err = stargatefs_load_inode(dev, ino, out, seq, true);

	return err ? err : stargatefs_merge_if_file(dev, ino, out);
}

/* Keeps raw, checked under seqcount seq, as snap's copy; snap's lock is held, or snap is private. */
static void stargatefs_zone_keep(struct stargatefs_snapshot *snap, const struct sgz_inode *raw, u32 seq)
{
	memcpy(&snap->raw, raw, sizeof(snap->raw));
	snap->seq = seq;
	snap->valid = true;
}

/*
 * The checked copy of zone inode ino that snap holds (guarded by lock),
 * while the zone inode's seqcount is still the one it was read under (into
 * seq); false when there is none. Never sleeps: RCU path walks use it.
 */
bool stargatefs_zone_snapshot(struct stargatefs_device *dev, u64 ino, spinlock_t *lock,
			      struct stargatefs_snapshot *snap, struct sgz_inode *out, u32 *seq)
{
	const struct sgz_inode *live = NULL;
	bool hit = false;
	u32 now;

	if (ino != 0 && ino < dev->geo.inode_count)
		live = stargatefs_live_inode(dev, ino);
	if (!live)
		return false;
	now = le32_to_cpu(READ_ONCE(live->seq));
	spin_lock(lock);
	if (snap->valid && snap->seq == now && !(now & 1)) {
		memcpy(out, &snap->raw, sizeof(*out));
		hit = true;
	}
	spin_unlock(lock);
	*seq = now;
	return hit;
}

/*
 * stargatefs_zone_load_inode() for an inode this guest caches: while the
 * zone inode's seqcount is still the one snap was read under, its checked
 * copy stands (only the host writes the structure file, and every change
 * it makes moves the seqcount), so the copy and its crc are not taken
 * again; the hint, which guests write, is merged afresh every time. snap
 * is guarded by lock.
 */
int stargatefs_zone_load_cached(struct stargatefs_device *dev, u64 ino, spinlock_t *lock,
				struct stargatefs_snapshot *snap, struct sgz_inode *out, u32 *seq)
{
	int err;

	if (!stargatefs_zone_snapshot(dev, ino, lock, snap, out, seq)) {
		err = stargatefs_load_inode(dev, ino, out, seq, true);
		if (err)
			return err;
		spin_lock(lock);
		stargatefs_zone_keep(snap, out, *seq);
		spin_unlock(lock);
	}
	return stargatefs_merge_if_file(dev, ino, out);
}

/*
 * stargatefs_zone_load_inode() that also fills snap, which no one else
 * sees yet (an inode not yet in the inode cache): stargatefs_iget() keeps
 * it, so that the new inode's first getattr or revalidation takes neither
 * the copy nor the crc again.
 */
int stargatefs_zone_load_fresh(struct stargatefs_device *dev, u64 ino,
			       struct stargatefs_snapshot *snap, struct sgz_inode *out, u32 *seq)
{
	int err = stargatefs_load_inode(dev, ino, out, seq, true);

	if (err)
		return err;
	stargatefs_zone_keep(snap, out, *seq);
	return stargatefs_merge_if_file(dev, ino, out);
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

/* True when inode ino changed (or is changing) since seqcount seq, or is gone. */
bool stargatefs_zone_inode_moved(struct stargatefs_device *dev, u64 ino, u32 seq)
{
	const struct sgz_inode *live = stargatefs_live_inode(dev, ino);

	smp_rmb();
	return !live || le32_to_cpu(READ_ONCE(live->seq)) != seq;
}

/*
 * One step of a page-table walk: the run of the file at pos that one leaf
 * entry (or one absent entry) covers. Levels count from 1 (PTE nodes).
 * Nodes lie in the structure pool; leaves in the data chunks (a regular
 * file's data) or in the pool (directory and symlink pages).
 */
static int stargatefs_map_one(struct stargatefs_device *dev, u64 ino, u64 root,
			      u8 depth, enum stargatefs_leaves leaves, u64 pos,
			      struct stargatefs_extent *ext)
{
	u64 node = root, entry = 0, frame, span;
	const __le64 *table;
	unsigned int level, shift, index;
	bool leaf_ok;

	if (depth == 0 || pos >= ((u64)SGZ_PAGE_SIZE << (9 * (depth - 1))) * SGZ_PT_ENTRIES) {
		/* Past what the table can map: a hole to the end. */
		ext->mapped = false;
		ext->len = U64_MAX - pos;
		return 0;
	}
	for (level = depth; level >= 1; level--) {
		shift = SGZ_PAGE_SHIFT + 9 * (level - 1);
		span = 1ULL << shift;
		index = (pos >> shift) & (SGZ_PT_ENTRIES - 1);
		table = stargatefs_zone_addr(dev, node, SGZ_PAGE_SIZE);
		if (!table)
			return -EIO;
		entry = le64_to_cpu(READ_ONCE(table[index]));
		if (!(entry & SGZ_PTE_PRESENT)) {
			ext->mapped = false;
			ext->len = span - (pos & (span - 1));
			return 0;
		}
		if (entry & SGZ_PTE_HUGE) {
			frame = entry & SGZ_PMD_ADDR_MASK;
			leaf_ok = leaves == STARGATEFS_LEAVES_DATA ?
				  stargatefs_in_data_chunks(dev, frame, SGZ_CHUNK_SIZE, SGZ_CHUNK_SIZE) :
				  stargatefs_in_pool(dev, frame, SGZ_CHUNK_SIZE, SGZ_CHUNK_SIZE);
			if (level != 2 || (entry & SGZ_PTE_ADDR_MASK) != frame || !leaf_ok)
				goto bad;
			ext->mapped = true;
			ext->zone_off = frame + (pos & (SGZ_CHUNK_SIZE - 1));
			ext->len = SGZ_CHUNK_SIZE - (pos & (SGZ_CHUNK_SIZE - 1));
			return 0;
		}
		frame = entry & SGZ_PTE_ADDR_MASK;
		if (level == 1) {
			leaf_ok = leaves == STARGATEFS_LEAVES_DATA ?
				  stargatefs_in_data_chunks(dev, frame, SGZ_PAGE_SIZE, SGZ_PAGE_SIZE) :
				  stargatefs_in_pool(dev, frame, SGZ_PAGE_SIZE, SGZ_PAGE_SIZE);
			if (!leaf_ok)
				goto bad;
			ext->mapped = true;
			ext->zone_off = frame + (pos & (SGZ_PAGE_SIZE - 1));
			ext->len = SGZ_PAGE_SIZE - (pos & (SGZ_PAGE_SIZE - 1));
			return 0;
		}
		if (!stargatefs_in_pool(dev, frame, SGZ_PAGE_SIZE, SGZ_PAGE_SIZE))
			goto bad;
		node = frame;
	}
bad:
	stargatefs_err_ratelimited(dev, "inode %llu: bad page-table entry 0x%016llx at file offset %llu\n",
				   ino, entry, pos);
	return -EIO;
}

/*
 * Maps file offset pos of inode ino (page table pt_root, pt_depth, from a
 * checked snapshot; leaves where its type's pages must lie) to the longest
 * run, up to max bytes, that is all hole or all zone-contiguous. Returns 0
 * or -EIO. The walk is bounded by the depth and the merging by a fixed
 * step count (at most 1024 x 4 loads), so it needs no scheduling point;
 * its callers' loops have one.
 */
int stargatefs_zone_map(struct stargatefs_device *dev, u64 ino, u64 pt_root,
			u8 pt_depth, enum stargatefs_leaves leaves, u64 pos, u64 max,
			struct stargatefs_extent *ext)
{
	struct stargatefs_extent next;
	unsigned int steps;
	int err;

	err = stargatefs_map_one(dev, ino, pt_root, pt_depth, leaves, pos, ext);
	if (err)
		return err;
	/* Merge following runs; bounded so a walk never runs long. */
	for (steps = 0; steps < 1024 && ext->len < max; steps++) {
		if (pos + ext->len < pos)
			break;
		err = stargatefs_map_one(dev, ino, pt_root, pt_depth, leaves, pos + ext->len, &next);
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
 * Publishes a guest write to file ino into its hint (the inode is in the
 * read-only structure file): size grows to new_size if that is larger, and
 * mtime and ctime become now_ns, under the hint's seqcount taken from even
 * to odd with a compare-and-swap (so that two guests do not interleave).
 * The caller holds the lock word, except at a fault. A hint about another
 * generation starts afresh. Nothing is written if the inode is no longer
 * the generation the caller wrote to (the host freed or reused it
 * meanwhile). Returns 0, -ESTALE, -EINTR on a fatal signal, or -EIO when
 * the seqcount stays odd or keeps moving for STARGATEFS_SEQ_WAIT_MS, or a
 * device is gone.
 */
int stargatefs_zone_update_file(struct stargatefs_device *dev, u64 ino, u32 generation,
				u64 new_size, u64 now_ns)
{
	unsigned long deadline = jiffies + msecs_to_jiffies(STARGATEFS_SEQ_WAIT_MS);
	const struct sgz_inode *live;
	struct sgz_hint *hint;
	u64 size, change, lead, hinted;
	u32 seq;
	int err;

	if (ino == 0 || ino >= dev->geo.inode_count)
		return -EIO;
	live = stargatefs_live_inode(dev, ino);
	hint = stargatefs_hint(dev, ino);
	if (!live || !hint)
		return -EIO;
	for (;;) {
		seq = le32_to_cpu(READ_ONCE(hint->seq));
		if (!(seq & 1)) {
			/*
			 * Not preemptible while the seqcount is odd, as the kernel's
			 * own seqcount writers: another guest's publish spins until it
			 * is even, and on a fully preemptible kernel (PREEMPT_RT) a
			 * task that preempted this one on its CPU would spin out its
			 * wait and fail with EIO. Nothing below sleeps.
			 */
			preempt_disable();
			if (cmpxchg((u32 *)&hint->seq, cpu_to_le32(seq), cpu_to_le32(seq + 1)) ==
			    cpu_to_le32(seq))
				break;
			preempt_enable();
		}
		err = stargatefs_zone_yield(deadline, true);
		if (err) {
			if (err == -EIO)
				stargatefs_err_ratelimited(dev, "inode %llu: hint stays mid-change (seq %u)\n",
							   ino, seq);
			return err;
		}
		cpu_relax();
	}
	smp_mb();
	if (le32_to_cpu(READ_ONCE(live->generation)) != generation ||
	    (le32_to_cpu(READ_ONCE(live->mode)) & SGZ_S_IFMT) != SGZ_S_IFREG) {
		/* Changed nothing: put the seqcount back as it was. */
		smp_store_release((u32 *)&hint->seq, cpu_to_le32(seq));
		preempt_enable();
		return -ESTALE;
	}
	/*
	 * Times never run backwards: readers take the later of the inode's
	 * times (the host's clock) and the hint's (this guest's), and a guest
	 * clock behind the host's would otherwise hide the write. One
	 * nanosecond past the latest time seen marks the change instead.
	 */
	lead = now_ns + SGZ_CLOCK_LEAD_MAX_NS;
	now_ns = max3(now_ns, le64_to_cpu(READ_ONCE(live->mtime_ns)) + 1,
		      le64_to_cpu(READ_ONCE(live->ctime_ns)) + 1);
	if (le32_to_cpu(READ_ONCE(hint->generation)) != generation) {
		WRITE_ONCE(hint->generation, cpu_to_le32(generation));
		size = new_size;
		change = 1;
	} else {
		size = max(le64_to_cpu(READ_ONCE(hint->size)), new_size);
		change = le64_to_cpu(READ_ONCE(hint->change)) + 1;
		/* Other guests wrote the hint: a time a day ahead of this clock is not followed. */
		hinted = max(le64_to_cpu(READ_ONCE(hint->mtime_ns)), le64_to_cpu(READ_ONCE(hint->ctime_ns)));
		if (hinted < lead)
			now_ns = max(now_ns, hinted + 1);
	}
	WRITE_ONCE(hint->size, cpu_to_le64(size));
	WRITE_ONCE(hint->mtime_ns, cpu_to_le64(now_ns));
	WRITE_ONCE(hint->ctime_ns, cpu_to_le64(now_ns));
	WRITE_ONCE(hint->change, cpu_to_le64(change));
	smp_wmb();
	WRITE_ONCE(hint->seq, cpu_to_le32(seq + 2));
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
