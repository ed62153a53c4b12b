/* SPDX-License-Identifier: GPL-2.0 */
/*
 * stargatefs: the Stargate guest file system. What differs between
 * kernels is in compat.h, and nowhere else.
 *
 * The zone (include/stargate_zone.h) arrives as BAR2 of two ivshmem PCI
 * devices: the structure file Z, read-only, and the data file Z.data. This
 * module maps the data file write-back cacheable as ZONE_DEVICE
 * (MEMORY_DEVICE_FS_DAX) pages, so that regular files can be DAX files:
 * read and write copy straight from and to the zone, and mmap installs the
 * zone's own pages (one PMD per aligned 2 MiB chunk) in the process. The
 * structure file is only read, through a plain write-back mapping.
 *
 * Trust: the zone is shared with other guests, any of which may write
 * garbage into it. Everything read from it is copied or read once, then
 * checked against the geometry taken (and checked) at mount time before it
 * is used as an offset, a length or a loop bound; a bad value gives -EIO
 * and a rate-limited log line.
 */
#ifndef _STARGATEFS_H
#define _STARGATEFS_H

#include <linux/fs.h>
#include <linux/kref.h>
#include <linux/list.h>
#include <linux/memremap.h>
#include <linux/pci.h>
#include <linux/siphash.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/wait.h>
#include <linux/workqueue.h>

#include "compat.h"
#include "stargate_zone.h"

#define STARGATEFS_NAME "stargatefs"

/* statfs f_type: "SGFS". */
#define STARGATEFS_MAGIC 0x53464753
/*
 * Bounds of every wait on the zone, the host or another machine
 * (docs/guest-module.md "Bounds and timeouts"). Each such loop also
 * reschedules and, where its caller can die, ends on a fatal signal.
 *
 * A zone inode snapshot, or a publish of size and mtime, waits at most this
 * long in all for the inode's seqcount to be even and still: a writer keeps
 * it odd for microseconds, with preemption off.
 */
#define STARGATEFS_SEQ_WAIT_MS 1000
/*
 * Reads of an inode hint's seqcount before a load gives the hint up and
 * takes the inode's own size and times: a hint is guest-written and never
 * waited for.
 */
#define STARGATEFS_HINT_TRIES 16
/* Largest directory the module reads: 64 Ki pages, 917504 entries. */
#define STARGATEFS_DIR_MAX_PAGES 65536
/* One directory search or readdir call, over every page it reads. */
#define STARGATEFS_DIR_WALK_MS 10000
/*
 * A request's wait for a free tag and then for its reply: a stalled host
 * service gives EIO after this. Long enough for a service that is killed
 * and started again to answer what was pending (LivenessTests).
 */
#define STARGATEFS_RPC_TIMEOUT_MS 10000
/*
 * A wait for an inode's zone lock word, which another machine holds for
 * its whole write, and for pinned pages before a truncate; always killable.
 */
#define STARGATEFS_LOCK_TIMEOUT_MS 60000
/*
 * A waiter's poll period: interrupts can be lost (eventfds coalesce) or
 * absent (a restarted host service has no doorbells), so every wait on the
 * device wait queue re-checks the zone at least this often.
 */
#define STARGATEFS_POLL_MS 4

/*
 * Zone geometry, copied from the superblock and checked at mount. Offsets
 * are zone offsets (stargate_zone.h): below zone_size in the structure
 * device's BAR, at or above it in the data device's.
 */
struct stargatefs_geometry {
	u64 zone_size;
	u64 data_file_size;
	u64 inode_count;
	u64 inode_table;
	u64 data_offset;	/* the chunk space: the pool's first byte */
	u64 data_size;		/* chunk_count chunks, to zone_size + data_file_size */
	u64 chunk_count;
	u64 data_chunks;	/* the first data chunk's zone offset (after the header chunks) */
	u64 hints_offset;
	u64 root_ino;
	u32 version_minor;
	u8 uuid[16];
	/* The rings region (in the header chunks) and the peer table; rings_ok when they are sound. */
	bool rings_ok;
	u64 rings_offset;
	u64 peer_table;
	u32 ring_bytes;
	u32 max_peers;
};

/*
 * A request client (rpc.c): an area device's own, used by the data device
 * mounted with it, or a data device's own when it has none (area NULL:
 * no requests, namespace changes give EROFS). area is the ring area in
 * the private area (request ring, open table); replies this slot's ring
 * area in Z (the reply ring). tag_lock guards the tag bitmaps, seq and
 * tag_seq; open_lock the open table.
 */
/*
 * What the requests of one client cost (rpc.c), in the area device's
 * sysfs file stargatefs_requests: totals since the device was bound.
 * enqueue is from stargatefs_rpc_begin() to the doorbell (the tag, the
 * slot, the caller's filling in), doorbell the doorbell's MMIO write, wait
 * from the doorbell to the reply seen; wake (woken of them) from vector
 * 0's interrupt to the sleeper running again; ticks counts waits of any
 * kind that ended a poll period (STARGATEFS_POLL_MS) without a wake-up.
 */
struct stargatefs_rpc_stats {
	atomic64_t requests, polled, slept, woken, ticks;
	atomic64_t enqueue_ns, doorbell_ns, wait_ns, wake_ns;
};

struct stargatefs_rpc {
	void __iomem *regs;		/* BAR0 of the area's doorbell device, else NULL */
	int irq;			/* vector 0's irq, or -1 */
	u32 slot;			/* own peer slot (IVPosition) */
	void *area;
	const void *replies;
	wait_queue_head_t wait;		/* woken by vector 0 and by freed tags */
	atomic_t wakes;			/* times wait was woken */
	spinlock_t tag_lock;
	unsigned long busy;		/* tags in use, or abandoned */
	unsigned long abandoned;	/* tags whose waiter gave up; freed when their reply is done */
	u64 tag_seq[SGZ_RING_SLOTS];
	u64 seq;			/* the last seq sent */
	spinlock_t open_lock;
	unsigned int open_high;		/* open table entries at or above it are all free */
	siphash_key_t owner_key;	/* hashes lock owners: no kernel pointer enters the zone */
	bool lost;			/* the area device was unbound: requests fail with EIO */
	struct sgz_ring_header *ring;	/* the private area's ring header (sleepers), or NULL */
	u64 tag_t0[SGZ_RING_SLOTS];	/* when each tag's request was begun (ktime ns) */
	u64 irq_ns;			/* when vector 0 last fired (ktime ns) */
	u32 poll_ns;			/* how long a request polls for its reply now (rpc.c) */
	struct stargatefs_rpc_stats stats;
};

/* The guest's half of the grace period (grace.c): where it follows the invalidation log. */
struct stargatefs_grace {
	struct super_block *sb;		/* the mount it drops inodes of; NULL: not followed */
	struct delayed_work work;
	u64 log;			/* zone offset of the invalidation log */
	u64 cursor;			/* seq of the last record handled */
	u64 acked;			/* the last epoch acknowledged to the host */
	bool stopping;			/* set at unmount: the work's request waits end at once */
};

/*
 * One bound ivshmem device. Lives from probe until the last of its mounts
 * and its PCI binding is gone (kref); the zone window stays mapped that
 * long, so a mount never sees its memory vanish under it.
 *
 * A zone is two or three devices (docs/guest-module.md "Devices"): a
 * structure device, whose BAR2 is the read-only structure file Z (it
 * starts with SGZ_MAGIC), mapped with memremap() and never stored to, with
 * no index and no DAX device; a data device, whose BAR2 is Z.data, mapped
 * as ZONE_DEVICE pages under a DAX device, with a mount index; and, for a
 * guest the host service serves, an area device: the ivshmem-doorbell
 * device whose BAR2 is this guest's private area (SGZ_AREA_MAGIC), with
 * the request client. A mount of a data device holds a reference on its
 * structure partner and on its area partner.
 */
struct stargatefs_device {
	struct kref kref;
	struct list_head node;		/* in stargatefs_devices, until remove */
	struct pci_dev *pdev;
	bool is_structure;		/* BAR2 is a structure file Z */
	bool is_area;			/* BAR2 is a guest's private area */
	bool removed;			/* unbound: zone reads through it give NULL (EIO) */
	int index;			/* data devices, bind order: the mount source "0", "1", ... */
	phys_addr_t phys;		/* BAR2 */
	u64 size;
	void *kaddr;			/* write-back kernel mapping of BAR2 */
	struct dev_pagemap pgmap;	/* data devices */
	struct dax_device *dax;		/* data devices */
	struct stargatefs_geometry geo;	/* valid while mounted */
	/* The partners, referenced while mounted (a data device's superblock); area may be NULL. */
	struct stargatefs_device *structure;
	struct stargatefs_device *area;
	/*
	 * The superblock's mount options (valid while mounted; super.c):
	 * suid lets the VFS see setuid and setgid bits of regular files,
	 * devices (SB_I_NODEV clear) lets device inodes open.
	 */
	bool suid;
	bool devices;
	atomic_long_t pmd_faults;	/* faults served with a 2 MiB mapping */
	atomic_long_t pte_faults;	/* ... and with a 4 KiB one */
	atomic_long_t dir_finds;	/* names searched for in a directory of the zone */
	struct stargatefs_rpc own_rpc;
	struct stargatefs_rpc *rpc;	/* own_rpc, or the mounted area's */
	struct stargatefs_grace grace;	/* data devices */
	/* An area device: the data device mounted with it, whose grace work its interrupt kicks. */
	struct stargatefs_device *user;
};

/* The last checked copy of a zone inode and the seqcount it was read under (stargatefs_zone_load_cached()). */
struct stargatefs_snapshot {
	struct sgz_inode raw;
	u32 seq;
	bool valid;
};

/* The VFS inode, and the zone inode state it was last checked against. */
struct stargatefs_inode {
	struct inode vfs;
	spinlock_t lock;		/* guards the snapshot below */
	u64 pt_root;
	u8 pt_depth;
	u32 host_crc;			/* crc of the host half at the last load */
	/* Mode bits of the zone inode kept out of i_mode (nosuid: S_ISUID, S_ISGID). */
	umode_t hidden;
	u64 btime_ns;			/* birth time (statx), the zone's */
	struct stargatefs_snapshot snap;	/* the zone inode, hint not merged */
	/*
	 * A directory's change counters from own_from to own_to were all this
	 * guest's own changes (replies' dir_change): a dentry checked at any of
	 * them is valid while the zone's counter is own_to. Under lock; 0 = none.
	 */
	u64 own_from, own_to;
};

static inline struct stargatefs_inode *STARGATEFS_I(struct inode *inode)
{
	return container_of(inode, struct stargatefs_inode, vfs);
}

static inline struct stargatefs_device *stargatefs_dev(struct super_block *sb)
{
	return sb->s_fs_info;
}

/* What a page-table walk's leaves must lie in: file data in data chunks, the rest in the pool. */
enum stargatefs_leaves {
	STARGATEFS_LEAVES_DATA,
	STARGATEFS_LEAVES_POOL,
};

/* A run of file bytes: zone_off is valid when mapped. */
struct stargatefs_extent {
	u64 zone_off;
	u64 len;
	bool mapped;
};

/* main.c */
struct stargatefs_device *stargatefs_device_find(const char *source);
struct stargatefs_device *stargatefs_structure_find(const u8 *uuid, bool *any);
struct stargatefs_device *stargatefs_area_find(const u8 *uuid);
void stargatefs_device_put(struct stargatefs_device *dev);
u32 stargatefs_crc32c(const void *data, size_t len);

/* zone.c */
int stargatefs_zone_check(struct stargatefs_device *dev, struct stargatefs_geometry *out,
			  struct stargatefs_device **structure);
void *stargatefs_zone_addr(struct stargatefs_device *dev, u64 off, u64 len);
int stargatefs_zone_yield(unsigned long deadline, bool killable);
int stargatefs_zone_load_inode(struct stargatefs_device *dev, u64 ino,
			       struct sgz_inode *out, u32 *seq);
bool stargatefs_zone_snapshot(struct stargatefs_device *dev, u64 ino, spinlock_t *lock,
			      struct stargatefs_snapshot *snap, struct sgz_inode *out, u32 *seq);
int stargatefs_zone_load_fresh(struct stargatefs_device *dev, u64 ino,
			       struct stargatefs_snapshot *snap, struct sgz_inode *out, u32 *seq);
int stargatefs_zone_load_cached(struct stargatefs_device *dev, u64 ino, spinlock_t *lock,
				struct stargatefs_snapshot *snap, struct sgz_inode *out, u32 *seq);
bool stargatefs_zone_inode_moved(struct stargatefs_device *dev, u64 ino, u32 seq);
int stargatefs_zone_map(struct stargatefs_device *dev, u64 ino, u64 pt_root,
			u8 pt_depth, enum stargatefs_leaves leaves, u64 pos, u64 max,
			struct stargatefs_extent *ext);
int stargatefs_zone_update_file(struct stargatefs_device *dev, u64 ino, u32 generation,
				u64 new_size, u64 now_ns);
bool stargatefs_zone_inode_orphan(struct stargatefs_device *dev, u64 ino, u32 generation);
void stargatefs_zone_statfs(struct stargatefs_device *dev, u64 *free_pages,
			    u64 *free_inodes);
u64 stargatefs_zone_data_pages(struct stargatefs_device *dev);
bool stargatefs_dirent_valid(struct stargatefs_device *dev,
			     const struct sgz_dirent *de);
__le64 *stargatefs_zone_lock_word(struct stargatefs_device *dev, u64 ino);

/* rpc.c */
int stargatefs_rpc_probe(struct stargatefs_device *dev);
void stargatefs_rpc_remove(struct stargatefs_device *dev);
void stargatefs_rpc_release(struct stargatefs_device *dev);
void stargatefs_rpc_mount(struct stargatefs_device *dev);
void stargatefs_rpc_unmount(struct stargatefs_device *dev);
bool stargatefs_rpc_ready(struct stargatefs_device *dev);
void stargatefs_rpc_groups(struct sgz_request *req, kgid_t want);
void *stargatefs_rpc_payload(struct stargatefs_device *dev, unsigned int tag);
struct sgz_request *stargatefs_rpc_begin(struct stargatefs_device *dev, u32 opcode,
					 bool killable, unsigned int *tag);
int stargatefs_rpc_call(struct stargatefs_device *dev, unsigned int tag, bool killable,
			struct sgz_reply *reply);
unsigned int stargatefs_rpc_wakes(struct stargatefs_device *dev);
int stargatefs_rpc_sleep(struct stargatefs_device *dev, unsigned int seen, unsigned int ms);
ssize_t stargatefs_rpc_stats_show(struct stargatefs_device *dev, char *buf);
int stargatefs_ilock(struct stargatefs_device *dev, u64 ino, bool killable);
void stargatefs_iunlock(struct stargatefs_device *dev, u64 ino);
int stargatefs_open_add(struct stargatefs_device *dev, u64 ino, u32 generation);
bool stargatefs_open_drop(struct stargatefs_device *dev, u64 ino, u32 generation);

/* grace.c */
void stargatefs_grace_probe(struct stargatefs_device *dev);
void stargatefs_grace_release(struct stargatefs_device *dev);
void stargatefs_grace_mount(struct super_block *sb);
void stargatefs_grace_unmount(struct super_block *sb);
void stargatefs_grace_kick(struct stargatefs_device *dev);

/* inode.c */
extern const struct dentry_operations stargatefs_dentry_ops;
int stargatefs_getattr(STARGATEFS_IDMAP *idmap, const struct path *path,
		       struct kstat *stat, u32 request_mask, unsigned int flags);
struct inode *stargatefs_iget(struct super_block *sb, u64 ino, u32 generation,
			      bool any_generation);
int stargatefs_revalidate(struct inode *inode, bool may_invalidate);
void stargatefs_dir_changed(struct inode *dir, u64 change);
int stargatefs_break_layouts(struct inode *inode);
void stargatefs_invalidate(struct inode *inode);

/* file.c */
extern const struct inode_operations stargatefs_file_inode_ops;
extern const struct file_operations stargatefs_file_ops;
extern const struct address_space_operations stargatefs_aops;

/* namei.c */
extern const struct inode_operations stargatefs_dir_inode_ops;
extern const struct inode_operations stargatefs_symlink_inode_ops;
int stargatefs_setattr(STARGATEFS_IDMAP *idmap, struct dentry *dentry, struct iattr *attr);

/* dir.c */
extern const struct file_operations stargatefs_dir_ops;
int stargatefs_dir_find(struct inode *dir, const char *name, unsigned int len,
			u64 *ino, u32 *generation, u64 *change);
struct dentry *stargatefs_lookup(struct inode *dir, struct dentry *dentry,
				 unsigned int flags);

/* xattr.c */
extern const struct xattr_handler *stargatefs_xattr_handlers[];
ssize_t stargatefs_listxattr(struct dentry *dentry, char *list, size_t size);
/* super.c */
int stargatefs_register(void);
void stargatefs_unregister(void);

#define stargatefs_err_ratelimited(dev, fmt, ...) \
	dev_err_ratelimited(&(dev)->pdev->dev, fmt, ##__VA_ARGS__)

#endif /* _STARGATEFS_H */
