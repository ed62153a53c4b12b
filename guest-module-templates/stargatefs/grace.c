// SPDX-License-Identifier: GPL-2.0
/*
 * stargatefs: the guest's half of the grace period (docs/zone-format.md
 * "The grace period", docs/guest-module.md). When the host frees the data
 * pages of a file (a truncate, unlink or replace by any machine), it keeps
 * them in use until every live guest has acknowledged, and names the file
 * in the invalidation log in Z. This guest reads the log after its own
 * cursor, drops every user mapping and DAX entry of each file it has in its
 * inode cache, and then acknowledges the epoch with SGZ_OP_ACK. A later
 * fault revalidates the inode and walks the new page table: it finds the
 * hole (SIGBUS) or the new layout, never the freed pages.
 *
 * Runs from a delayed work on system_long_wq: kicked by the area device's
 * vector 0 interrupt when the log moved (stargatefs_grace_kick()), and
 * every STARGATEFS_GRACE_POLL_MS for a guest whose interrupt was lost (or
 * whose service restarted: no doorbells). Never from the interrupt,
 * never holding a lock the request path holds while it waits: an inode whose
 * i_rwsem is taken is tried again on the next run, and nothing is
 * acknowledged until every inode before it in the log has been dropped.
 *
 * Everything read from the log is checked: the header's magic and size at
 * mount, each record's seq and rising epoch, the ring not overrun past the
 * cursor. Anything else (a log that went backwards after a service restart,
 * a record that was overwritten) drops the mappings of every inode of the
 * superblock, which is always safe.
 */
#include <linux/dax.h>
#include <linux/mm.h>
#include <linux/pagemap.h>
#include <linux/sched.h>

#include "stargatefs.h"

/* A run for a guest whose doorbell did not ring (a lost interrupt, a restarted service). */
#define STARGATEFS_GRACE_POLL_MS 50

static const struct sgz_inval_header *stargatefs_grace_header(struct stargatefs_device *dev)
{
	return stargatefs_zone_addr(dev, dev->grace.log, SGZ_INVAL_HEADER_SIZE);
}

static int stargatefs_grace_test(struct inode *inode, void *data)
{
	return inode->i_generation == *(u32 *)data;
}

/*
 * Drops every user mapping and DAX entry of inode, as a truncate to 0
 * would, with faults held off by the invalidate lock. Returns 0, or
 * -EBUSY when a read or write holds the inode or a page is pinned
 * (tried again on the next run).
 */
static int stargatefs_grace_drop(struct inode *inode)
{
	struct address_space *mapping = inode->i_mapping;
	struct page *busy;

	if (!S_ISREG(inode->i_mode))
		return 0;
	if (!inode_trylock(inode))
		return -EBUSY;
	filemap_invalidate_lock(mapping);
	unmap_mapping_range(mapping, 0, 0, 1);
	busy = dax_layout_busy_page(mapping);
	if (!busy)
		truncate_inode_pages(mapping, 0);
	filemap_invalidate_unlock(mapping);
	inode_unlock(inode);
	return busy ? -EBUSY : 0;
}

/* Drops the mappings of the cached inode ino of generation, if this guest has it. */
static int stargatefs_grace_drop_ino(struct super_block *sb, u64 ino, u32 generation)
{
	struct inode *inode = ilookup5(sb, ino, stargatefs_grace_test, &generation);
	int err;

	if (!inode)
		return 0;
	err = stargatefs_grace_drop(inode);
	iput(inode);
	return err;
}

/* Drops the mappings of every regular inode of sb. Returns 0 or -EBUSY (some were left). */
static int stargatefs_grace_drop_all(struct super_block *sb)
{
	struct inode *inode, *prev = NULL;
	int err = 0;

	spin_lock(&sb->s_inode_list_lock);
	list_for_each_entry(inode, &sb->s_inodes, i_sb_list) {
		if (!S_ISREG(inode->i_mode) || !igrab(inode))
			continue;
		spin_unlock(&sb->s_inode_list_lock);
		/* The previous one is put outside the list lock: iput may evict. */
		iput(prev);
		prev = inode;
		if (stargatefs_grace_drop(inode))
			err = -EBUSY;
		cond_resched();
		spin_lock(&sb->s_inode_list_lock);
	}
	spin_unlock(&sb->s_inode_list_lock);
	iput(prev);
	return err;
}

/*
 * Tells the host this guest dropped everything up to epoch; with detach
 * (flags SGZ_REQ_ACK_DETACH), that its mount ended and it maps nothing.
 */
static int stargatefs_grace_send(struct stargatefs_device *dev, u64 epoch, u32 flags)
{
	struct sgz_reply reply;
	struct sgz_request *req;
	unsigned int tag;
	int err;

	req = stargatefs_rpc_begin(dev, SGZ_OP_ACK, false, &tag);
	if (IS_ERR(req))
		return PTR_ERR(req);
	req->offset = cpu_to_le64(epoch);
	req->flags |= cpu_to_le32(flags);
	err = stargatefs_rpc_call(dev, tag, false, &reply);
	if (err)
		stargatefs_err_ratelimited(dev, "grace period: the acknowledgement of epoch %llu failed: %d\n",
					   epoch, err);
	return err;
}

static int stargatefs_grace_ack(struct stargatefs_device *dev, u64 epoch)
{
	return stargatefs_grace_send(dev, epoch, 0);
}

/*
 * Reads the log records after the cursor up to head and drops what they
 * name. Returns 0 when all are dropped, -EBUSY when one must be tried
 * again (the cursor stops before it), -ESTALE when the log cannot be
 * trusted to hold every record after the cursor (the caller drops all).
 */
static int stargatefs_grace_read(struct stargatefs_device *dev, struct super_block *sb, u64 head)
{
	struct stargatefs_grace *g = &dev->grace;
	struct sgz_inval_record rec;
	const void *slot;
	u64 seq, epoch, last = 0, ino;
	int err;

	for (seq = g->cursor + 1; seq <= head; seq++) {
		slot = stargatefs_zone_addr(dev, g->log + SGZ_INVAL_HEADER_SIZE +
					    ((seq - 1) % SGZ_INVAL_RECORDS) * SGZ_INVAL_RECORD_SIZE,
					    SGZ_INVAL_RECORD_SIZE);
		if (!slot)
			return -ESTALE;
		memcpy(&rec, slot, sizeof(rec));
		epoch = le64_to_cpu(rec.epoch);
		ino = le64_to_cpu(rec.ino);
		/* Overwritten while we read (the ring wrapped), or epochs going down: lost records. */
		if (le64_to_cpu(rec.seq) != seq || epoch < last)
			return -ESTALE;
		last = epoch;
		if (ino && ino < dev->geo.inode_count) {
			err = stargatefs_grace_drop_ino(sb, ino, le32_to_cpu(rec.generation));
			if (err)
				return err;
		}
		WRITE_ONCE(g->cursor, seq);
		cond_resched();
	}
	return 0;
}

static void stargatefs_grace_run(struct stargatefs_device *dev, struct super_block *sb)
{
	struct stargatefs_grace *g = &dev->grace;
	const struct sgz_inval_header *hdr = stargatefs_grace_header(dev);
	u64 posted, head;
	int err;

	if (!hdr)
		return;
	/* The host stores head before posted_epoch: a new epoch's records are all there. */
	posted = le64_to_cpu(READ_ONCE(hdr->posted_epoch));
	smp_rmb();
	head = le64_to_cpu(READ_ONCE(hdr->head));
	if (posted == g->acked && head == g->cursor)
		return;

	if (posted < g->acked || head < g->cursor || head - g->cursor > SGZ_INVAL_RECORDS)
		err = -ESTALE;
	else
		err = stargatefs_grace_read(dev, sb, head);
	if (err == -ESTALE) {
		/* Some record is lost: every mapping goes, then the log is followed from its head. */
		if (stargatefs_grace_drop_all(sb))
			return;
		WRITE_ONCE(g->cursor, head);
		/* A log that went backwards is a new service's: acknowledge what it posts, whatever we said before. */
		if (posted < g->acked)
			WRITE_ONCE(g->acked, 0);
		err = 0;
	}
	if (err || posted <= g->acked)
		return;
	if (!stargatefs_grace_ack(dev, posted))
		WRITE_ONCE(g->acked, posted);
}

static void stargatefs_grace_work(struct work_struct *work)
{
	struct stargatefs_grace *g = container_of(to_delayed_work(work), struct stargatefs_grace, work);
	struct stargatefs_device *dev = container_of(g, struct stargatefs_device, grace);
	struct super_block *sb = READ_ONCE(g->sb);

	if (!sb)
		return;
	stargatefs_grace_run(dev, sb);
	queue_delayed_work(system_long_wq, &g->work, max_t(long, 1, msecs_to_jiffies(STARGATEFS_GRACE_POLL_MS)));
}

/*
 * At the end of a mount: finds the invalidation log (a zone of format 2.1
 * or later with a request area), starts following it from its head, and
 * starts the work. The first run acknowledges the posted epoch: nothing
 * before this mount was mapped here.
 */
void stargatefs_grace_mount(struct super_block *sb)
{
	struct stargatefs_device *dev = stargatefs_dev(sb);
	struct stargatefs_grace *g = &dev->grace;
	const struct sgz_superblock *zsb = stargatefs_zone_addr(dev, 0, sizeof(*zsb));
	const struct sgz_inval_header *hdr;
	u64 off, len;

	g->sb = NULL;
	g->log = 0;
	WRITE_ONCE(g->stopping, false);
	if (!zsb || !dev->rpc->area)
		return;
	off = le64_to_cpu(zsb->inval_log.offset);
	len = le64_to_cpu(zsb->inval_log.size);
	if (off % SGZ_PAGE_SIZE || off < SGZ_PAGE_SIZE || off > dev->geo.data_offset ||
	    len > dev->geo.data_offset - off ||
	    len < SGZ_INVAL_HEADER_SIZE + (u64)SGZ_INVAL_RECORDS * SGZ_INVAL_RECORD_SIZE) {
		stargatefs_err_ratelimited(dev, "grace period: the invalidation log region is not sound: not followed\n");
		return;
	}
	g->log = off;
	hdr = stargatefs_grace_header(dev);
	if (!hdr || le64_to_cpu(hdr->magic) != SGZ_INVAL_MAGIC ||
	    le32_to_cpu(hdr->records) != SGZ_INVAL_RECORDS ||
	    le32_to_cpu(hdr->record_size) != SGZ_INVAL_RECORD_SIZE) {
		stargatefs_err_ratelimited(dev, "grace period: the invalidation log header is not sound: not followed\n");
		g->log = 0;
		return;
	}
	g->cursor = le64_to_cpu(READ_ONCE(hdr->head));
	g->acked = 0;
	/*
	 * Before the mount returns (and anything can be mapped): the posted
	 * epoch, so that a host that stopped waiting for this guest when its
	 * last mount ended (SGZ_REQ_ACK_DETACH) waits for it again. Nothing
	 * before this mount was mapped here. The work repeats it if this fails.
	 */
	if (!stargatefs_grace_ack(dev, le64_to_cpu(READ_ONCE(hdr->posted_epoch))))
		g->acked = le64_to_cpu(READ_ONCE(hdr->posted_epoch));
	WRITE_ONCE(g->sb, sb);
	queue_delayed_work(system_long_wq, &g->work, 0);
}

/* At the start of kill_sb: no run after this returns. */
void stargatefs_grace_unmount(struct super_block *sb)
{
	struct stargatefs_device *dev = stargatefs_dev(sb);

	if (!dev || !READ_ONCE(dev->grace.sb))
		return;
	WRITE_ONCE(dev->grace.sb, NULL);
	/* A run waiting on a stalled service for its acknowledgement gives up within a poll. */
	WRITE_ONCE(dev->grace.stopping, true);
	cancel_delayed_work_sync(&dev->grace.work);
	/*
	 * Nothing of the zone is mapped now: the host may stop waiting for
	 * this guest. Best effort, and never long: with stopping set the wait
	 * gives up after one poll (a stalled service keeps waiting for us).
	 */
	stargatefs_grace_send(dev, 0, SGZ_REQ_ACK_DETACH);
}

/* At probe of a data device, before its interrupt can fire. */
void stargatefs_grace_probe(struct stargatefs_device *dev)
{
	INIT_DELAYED_WORK(&dev->grace.work, stargatefs_grace_work);
}

/* At the device's release (its interrupt is gone): a run kicked after the last unmount ends. */
void stargatefs_grace_release(struct stargatefs_device *dev)
{
	cancel_delayed_work_sync(&dev->grace.work);
}

/*
 * From the device's interrupt: run now (a work item; nothing here sleeps)
 * if the log moved past what this guest followed. Most interrupts are
 * replies to requests, and a work run for each would cost every request a
 * context switch. The host posts an epoch before it rings for it, so the
 * interrupt sees it; a kick missed in a race with a running run is caught
 * by the next poll.
 */
void stargatefs_grace_kick(struct stargatefs_device *dev)
{
	struct stargatefs_grace *g = &dev->grace;
	const struct sgz_inval_header *hdr;

	if (!READ_ONCE(g->sb))
		return;
	hdr = stargatefs_grace_header(dev);
	if (hdr && le64_to_cpu(READ_ONCE(hdr->posted_epoch)) == READ_ONCE(g->acked) &&
	    le64_to_cpu(READ_ONCE(hdr->head)) == READ_ONCE(g->cursor))
		return;
	mod_delayed_work(system_long_wq, &g->work, 0);
}
