// SPDX-License-Identifier: GPL-2.0
/*
 * stargatefs: the request client (docs/requests.md). A guest changes the
 * namespace by writing a request into its private area (the BAR2 of its
 * ivshmem-doorbell device, a file the host service made for this guest
 * alone), ringing the host (doorbell 0, vector 0) and waiting for the
 * reply in the same tag's reply slot, which is in the zone's structure
 * file Z (read-only here: no other guest can forge it). Also here: the
 * inode lock word (in the inode's hint, Z.data) and the open table (in the
 * private area).
 *
 * The request client lives in the area device (struct stargatefs_rpc);
 * a mounted data device points at its zone's area device's client. A
 * zone mounted without an area device (ivshmem-plain guests) sends no
 * request: namespace changes give EROFS. Waits never trust the interrupt
 * alone: eventfds coalesce, and a restarted host service has no
 * doorbells, so each wait polls every STARGATEFS_POLL_MS as well.
 *
 * A request's reply is first polled for (docs/requests.md "Polling"): the
 * host answers most requests in a few tens of microseconds, less than an
 * interrupt costs to deliver and to wake a sleeper. How long adapts as
 * KVM's halt polling does, up to the module parameter poll_us: a reply
 * that came while polling, or soon after, widens it; a late one narrows
 * it, down to none. Only a waiter that goes to sleep is counted in the
 * private area's sleepers, and the host rings the guest only then.
 */
#include <linux/bitops.h>
#include <linux/interrupt.h>
#include <linux/jiffies.h>
#include <linux/ktime.h>
#include <linux/moduleparam.h>
#include <linux/random.h>
#include <linux/sched/signal.h>

#include "stargatefs.h"

#define STARGATEFS_REGS_BAR 0
#define STARGATEFS_MSIX_BAR 1
#define STARGATEFS_REG_IVPOSITION 8
#define STARGATEFS_REG_DOORBELL 12
#define STARGATEFS_TAGS_ALL ((1UL << SGZ_RING_SLOTS) - 1)
#define STARGATEFS_POLL_US_MAX 10000

static unsigned int stargatefs_poll_us = 200;

static int stargatefs_poll_us_set(const char *val, const struct kernel_param *kp)
{
	unsigned int us;
	int err = kstrtouint(val, 10, &us);

	if (err)
		return err;
	if (us > STARGATEFS_POLL_US_MAX)
		return -EINVAL;
	WRITE_ONCE(stargatefs_poll_us, us);
	return 0;
}

static const struct kernel_param_ops stargatefs_poll_us_ops = {
	.set = stargatefs_poll_us_set,
	.get = param_get_uint,
};
module_param_cb(poll_us, &stargatefs_poll_us_ops, &stargatefs_poll_us, 0644);
MODULE_PARM_DESC(poll_us, "the longest a request polls for its reply before it sleeps, in microseconds (0-10000; 0: never polls)");

static struct sgz_request *stargatefs_req_slot(struct stargatefs_device *dev, unsigned int tag)
{
	return dev->rpc->area + SGZ_RING_REQUESTS + tag * SGZ_REQUEST_SIZE;
}

static const struct sgz_reply *stargatefs_rep_slot(struct stargatefs_device *dev, unsigned int tag)
{
	return dev->rpc->replies + SGZ_RING_REPLIES + tag * SGZ_REPLY_SIZE;
}

static void stargatefs_rpc_wake_client(struct stargatefs_rpc *rpc)
{
	atomic_inc(&rpc->wakes);
	wake_up_all(&rpc->wait);
}

/* Every wake of the device wait queue counts in wakes: a sleeper can tell it was woken. */
static void stargatefs_rpc_wake(struct stargatefs_device *dev)
{
	stargatefs_rpc_wake_client(dev->rpc);
}

static irqreturn_t stargatefs_rpc_irq(int irq, void *data)
{
	struct stargatefs_device *area = data, *user;

	WRITE_ONCE(area->own_rpc.irq_ns, ktime_get_ns());
	stargatefs_rpc_wake_client(&area->own_rpc);
	user = READ_ONCE(area->user);
	if (user)
		stargatefs_grace_kick(user);
	return IRQ_HANDLED;
}

unsigned int stargatefs_rpc_wakes(struct stargatefs_device *dev)
{
	return atomic_read(&dev->rpc->wakes);
}

/*
 * Sleeps until the device wait queue is woken after stargatefs_rpc_wakes()
 * returned seen, or for ms. Returns 0, or -EINTR on a fatal signal.
 */
int stargatefs_rpc_sleep(struct stargatefs_device *dev, unsigned int seen, unsigned int ms)
{
	long left = wait_event_killable_timeout(dev->rpc->wait,
						(unsigned int)atomic_read(&dev->rpc->wakes) != seen,
						max_t(long, 1, msecs_to_jiffies(ms)));

	return left < 0 ? -EINTR : 0;
}

/* Peer slot's record in the peer table (structure file), or NULL once it is gone. */
static const struct sgz_peer *stargatefs_peer(struct stargatefs_device *dev, u32 slot)
{
	return stargatefs_zone_addr(dev, dev->geo.peer_table + (u64)slot * SGZ_PEER_SIZE,
				    SGZ_PEER_SIZE);
}

/* True when requests may go into the area now: an area is mounted and its device is bound. */
bool stargatefs_rpc_ready(struct stargatefs_device *dev)
{
	return dev->rpc->area && !READ_ONCE(dev->rpc->lost);
}

/*
 * Sets up the client of a freshly bound device. For an area device (the
 * guest's private area on an ivshmem-doorbell device) maps BAR0, reads
 * its peer slot and takes one MSI-X vector (vector 0, whose interrupt
 * wakes the client's waiters). Returns -ENODEV when the area names
 * another slot than the device's IVPosition; a missing vector only makes
 * requests poll.
 */
int stargatefs_rpc_probe(struct stargatefs_device *dev)
{
	struct stargatefs_rpc *rpc = &dev->own_rpc;
	const struct sgz_area *hdr = dev->kaddr;
	struct pci_dev *pdev = dev->pdev;
	int err;

	dev->rpc = rpc;
	init_waitqueue_head(&rpc->wait);
	spin_lock_init(&rpc->tag_lock);
	spin_lock_init(&rpc->open_lock);
	get_random_bytes(&rpc->owner_key, sizeof(rpc->owner_key));
	rpc->irq = -1;
	if (!dev->is_area)
		return 0;
	if (!pdev->msix_cap || !(pci_resource_flags(pdev, STARGATEFS_MSIX_BAR) & IORESOURCE_MEM) ||
	    !(pci_resource_flags(pdev, STARGATEFS_REGS_BAR) & IORESOURCE_MEM)) {
		dev_err(&pdev->dev, "a private area on a device without doorbells (not ivshmem-doorbell): not bound\n");
		return -ENODEV;
	}
	rpc->regs = pci_iomap(pdev, STARGATEFS_REGS_BAR, 256);
	if (!rpc->regs) {
		dev_err(&pdev->dev, "cannot map BAR0: not bound\n");
		return -ENODEV;
	}
	rpc->slot = ioread32(rpc->regs + STARGATEFS_REG_IVPOSITION);
	if (le32_to_cpu(READ_ONCE(hdr->slot)) != rpc->slot) {
		dev_err(&pdev->dev, "the private area names peer slot %u, the device's IVPosition is %u: not bound\n",
			le32_to_cpu(READ_ONCE(hdr->slot)), rpc->slot);
		pci_iounmap(pdev, rpc->regs);
		rpc->regs = NULL;
		return -ENODEV;
	}
	/* MSI-X messages are memory writes of the device: they need bus mastering. */
	pci_set_master(pdev);
	err = pci_alloc_irq_vectors(pdev, 1, 1, PCI_IRQ_MSIX);
	if (err < 0) {
		dev_warn(&pdev->dev, "no MSI-X vector (%d): requests poll\n", err);
		return 0;
	}
	err = request_irq(pci_irq_vector(pdev, 0), stargatefs_rpc_irq, 0, STARGATEFS_NAME, dev);
	if (err) {
		dev_warn(&pdev->dev, "cannot take vector 0 (%d): requests poll\n", err);
		pci_free_irq_vectors(pdev);
		return 0;
	}
	rpc->irq = pci_irq_vector(pdev, 0);
	return 0;
}

/* Unbinding an area device: its vector goes now, and its requests fail with EIO; waiters keep polling until their mounts go. */
void stargatefs_rpc_remove(struct stargatefs_device *dev)
{
	struct stargatefs_rpc *rpc = &dev->own_rpc;

	WRITE_ONCE(rpc->lost, true);
	if (rpc->irq >= 0) {
		free_irq(rpc->irq, dev);
		pci_free_irq_vectors(dev->pdev);
		rpc->irq = -1;
	}
	stargatefs_rpc_wake_client(rpc);
}

void stargatefs_rpc_release(struct stargatefs_device *dev)
{
	if (dev->own_rpc.regs)
		pci_iounmap(dev->pdev, dev->own_rpc.regs);
}

/* The open table in the private area of dev's client (whose area is set). */
static struct sgz_open *stargatefs_open_table(struct stargatefs_device *dev)
{
	return dev->rpc->area + SGZ_RING_OPENS;
}

/*
 * At a new superblock (dev->geo and dev->area just set): the data device
 * uses its area device's client, whose request ring and open table are in
 * the private area and whose replies are in this slot's ring area in Z;
 * seq continues from the largest one the rings hold. A tag whose request
 * is still pending (sent before this mount, by this guest's earlier life)
 * is left alone until its reply is done. Without an area device the data
 * device's own client sends nothing.
 */
void stargatefs_rpc_mount(struct stargatefs_device *dev)
{
	struct stargatefs_rpc *rpc = dev->area ? &dev->area->own_rpc : &dev->own_rpc;
	unsigned int tag;
	u64 seq, done;

	dev->rpc = rpc;
	if (dev->area)
		WRITE_ONCE(dev->area->user, dev);
	spin_lock(&rpc->tag_lock);
	rpc->area = NULL;
	rpc->replies = NULL;
	rpc->ring = NULL;
	if (!dev->area || !dev->geo.rings_ok) {
		spin_unlock(&rpc->tag_lock);
		return;
	}
	if (rpc->slot == SGZ_HOST_PEER_SLOT || rpc->slot >= dev->geo.max_peers) {
		dev_warn(&dev->pdev->dev, "no reply ring for peer slot %u: namespace changes give EROFS\n",
			 rpc->slot);
		spin_unlock(&rpc->tag_lock);
		return;
	}
	rpc->replies = stargatefs_zone_addr(dev, dev->geo.rings_offset + (u64)rpc->slot * dev->geo.ring_bytes,
					    dev->geo.ring_bytes);
	if (rpc->replies) {
		rpc->area = dev->area->kaddr + SGZ_AREA_RING;
		/* No waiter sleeps yet; from now on the host may ring only when one does. */
		rpc->ring = rpc->area;
		WRITE_ONCE(rpc->ring->sleepers, 0);
		smp_wmb();
		WRITE_ONCE(rpc->ring->guest_flags,
			   cpu_to_le32(le32_to_cpu(READ_ONCE(rpc->ring->guest_flags)) | SGZ_RING_GUEST_SLEEPERS));
	}
	/* The open table's live entries (an earlier mount's, if it left any) lie below open_high. */
	for (rpc->open_high = rpc->area ? SGZ_OPEN_ENTRIES : 0; rpc->open_high > 0; rpc->open_high--) {
		const struct sgz_open *e = stargatefs_open_table(dev) + rpc->open_high - 1;

		if (READ_ONCE(e->ino) && READ_ONCE(e->count))
			break;
	}
	for (tag = 0; rpc->area && tag < SGZ_RING_SLOTS; tag++) {
		seq = le64_to_cpu(READ_ONCE(stargatefs_req_slot(dev, tag)->seq));
		done = le64_to_cpu(READ_ONCE(stargatefs_rep_slot(dev, tag)->done));
		rpc->seq = max3(rpc->seq, seq, done);
		if (seq && seq != done && !(rpc->busy & BIT(tag))) {
			rpc->busy |= BIT(tag);
			rpc->abandoned |= BIT(tag);
			rpc->tag_seq[tag] = seq;
		}
	}
	spin_unlock(&rpc->tag_lock);
}

/*
 * At the end of the superblock (no file open): the data device goes back
 * to its own client, and its area's interrupt stops kicking its grace work
 * (a handler running now finishes first).
 */
void stargatefs_rpc_unmount(struct stargatefs_device *dev)
{
	struct stargatefs_device *area = dev->area;

	if (area && READ_ONCE(area->user) == dev) {
		WRITE_ONCE(area->user, NULL);
		if (area->own_rpc.irq >= 0)
			synchronize_irq(area->own_rpc.irq);
	}
	dev->rpc = &dev->own_rpc;
}

/* Frees abandoned tags whose reply arrived; tag_lock held. */
static void stargatefs_reclaim(struct stargatefs_device *dev)
{
	struct stargatefs_rpc *rpc = dev->rpc;
	unsigned int tag;

	for (tag = 0; tag < SGZ_RING_SLOTS; tag++) {
		if (!(rpc->abandoned & BIT(tag)))
			continue;
		if (le64_to_cpu(smp_load_acquire(&stargatefs_rep_slot(dev, tag)->done)) ==
		    rpc->tag_seq[tag]) {
			rpc->abandoned &= ~BIT(tag);
			rpc->busy &= ~BIT(tag);
		}
	}
}

static bool stargatefs_take_tag(struct stargatefs_device *dev, unsigned int *tag)
{
	struct stargatefs_rpc *rpc = dev->rpc;
	bool got = false;

	spin_lock(&rpc->tag_lock);
	if (rpc->abandoned)
		stargatefs_reclaim(dev);
	if (rpc->busy != STARGATEFS_TAGS_ALL) {
		*tag = ffz(rpc->busy);
		rpc->busy |= BIT(*tag);
		got = true;
	}
	spin_unlock(&rpc->tag_lock);
	return got;
}

/*
 * Sleeps on the device wait queue until cond(dev, arg) holds, re-checking
 * every STARGATEFS_POLL_MS. Returns 0, -EINTR on a fatal signal (killable
 * waits only: a wait that is not, at close or unlock, is one of a few
 * seconds at most) or once the unmount stops the grace period's work (the
 * one wait left at that point is its acknowledgement, which the unmount
 * must not sit out), or -EIO after timeout_ms.
 */
static int stargatefs_wait(struct stargatefs_device *dev, bool killable, unsigned int timeout_ms,
			   bool (*cond)(struct stargatefs_device *, void *), void *arg)
{
	unsigned long deadline = jiffies + msecs_to_jiffies(timeout_ms);
	long poll = max_t(long, 1, msecs_to_jiffies(STARGATEFS_POLL_MS));
	long left;

	for (;;) {
		if (killable)
			left = wait_event_killable_timeout(dev->rpc->wait, cond(dev, arg), poll);
		else
			left = wait_event_timeout(dev->rpc->wait, cond(dev, arg), poll);
		if (left > 0)
			return 0;
		if (!left)
			atomic64_inc(&dev->rpc->stats.ticks);
		if (left < 0 || READ_ONCE(dev->grace.stopping))
			return -EINTR;
		if (READ_ONCE(dev->rpc->lost))
			return -EIO;
		if (time_after(jiffies, deadline))
			return -EIO;
	}
}

static bool stargatefs_tag_cond(struct stargatefs_device *dev, void *arg)
{
	return stargatefs_take_tag(dev, arg);
}

/*
 * Takes a free tag and returns its request slot, zeroed but for seq, with
 * opcode, SGZ_REQ_CALLER and the caller's fsuid/fsgid (in the caller and
 * the owner fields: a chown puts the new owner in uid/gid) filled in; the
 * caller fills the rest (flags ORed in) and calls stargatefs_rpc_call().
 * Returns an ERR_PTR: -EROFS without an area, -EINTR, -EIO when no tag
 * frees up in time.
 */
struct sgz_request *stargatefs_rpc_begin(struct stargatefs_device *dev, u32 opcode,
					 bool killable, unsigned int *tag)
{
	u64 t0 = ktime_get_ns();
	struct sgz_request *req;
	int err;

	if (!dev->rpc->area)
		return ERR_PTR(-EROFS);
	if (READ_ONCE(dev->rpc->lost))
		return ERR_PTR(-EIO);
	err = stargatefs_wait(dev, killable, STARGATEFS_RPC_TIMEOUT_MS, stargatefs_tag_cond, tag);
	if (err)
		return ERR_PTR(err);
	dev->rpc->tag_t0[*tag] = t0;
	req = stargatefs_req_slot(dev, *tag);
	/* seq stays as it was (answered, so not pending) until the request is whole. */
	memset((void *)req + sizeof(req->seq), 0, SGZ_REQUEST_SIZE - sizeof(req->seq));
	req->opcode = cpu_to_le32(opcode);
	req->flags = cpu_to_le32(SGZ_REQ_CALLER);
	req->caller_uid = cpu_to_le32(from_kuid(&init_user_ns, current_fsuid()));
	req->caller_gid = cpu_to_le32(from_kgid(&init_user_ns, current_fsgid()));
	req->uid = req->caller_uid;
	req->gid = req->caller_gid;
	return req;
}

/*
 * The payload buffer of a tag begun with stargatefs_rpc_begin(): SGZ_PAYLOAD_SIZE
 * bytes of the private area that the request of that tag may carry
 * (SGZ_REQ_PAYLOAD, length bytes). Filled before stargatefs_rpc_call(), whose
 * release store of seq publishes it with the request; the host copies it
 * once, and the tag (with its buffer) stays taken until the reply is done.
 */
void *stargatefs_rpc_payload(struct stargatefs_device *dev, unsigned int tag)
{
	static_assert(SGZ_AREA_RING + SGZ_RING_BYTES <= SGZ_AREA_PAYLOAD);
	return dev->rpc->area - SGZ_AREA_RING + SGZ_AREA_PAYLOAD + tag * SGZ_PAYLOAD_SIZE;
}

/*
 * The caller's supplementary groups into name[] of a setattr or allocate
 * request (SGZ_REQ_GROUPS_MAX in stargate_zone.h): the first ones, with
 * want (a chgrp's new group, or INVALID_GID) first when the caller is in
 * it, so the host sees the membership that decides a chgrp even for a
 * caller in more groups than a request carries.
 */
void stargatefs_rpc_groups(struct sgz_request *req, kgid_t want)
{
	const struct group_info *groups = current_cred()->group_info;
	__le32 *gids = (__le32 *)req->name;
	u32 n = 0;
	int i;

	if (gid_valid(want) && in_group_p(want))
		gids[n++] = cpu_to_le32(from_kgid(&init_user_ns, want));
	for (i = 0; groups && i < groups->ngroups && n < SGZ_REQ_GROUPS_MAX; i++) {
		if (gid_valid(want) && gid_eq(groups->gid[i], want))
			continue;
		gids[n++] = cpu_to_le32(from_kgid(&init_user_ns, groups->gid[i]));
	}
	req->ngroups = cpu_to_le32(n);
}

struct stargatefs_done_arg {
	unsigned int tag;
	u64 seq;
};

static bool stargatefs_done_cond(struct stargatefs_device *dev, void *arg)
{
	struct stargatefs_done_arg *a = arg;

	return le64_to_cpu(smp_load_acquire(&stargatefs_rep_slot(dev, a->tag)->done)) == a->seq;
}

/*
 * Polls for the reply for up to ns (while nothing else wants this CPU).
 * True when it came.
 */
static bool stargatefs_poll_reply(struct stargatefs_device *dev, struct stargatefs_done_arg *arg,
				  u32 ns)
{
	u64 end;

	if (!ns)
		return false;
	end = ktime_get_ns() + ns;
	do {
		if (stargatefs_done_cond(dev, arg))
			return true;
		cpu_relax();
	} while (!need_resched() && ktime_get_ns() < end);
	return stargatefs_done_cond(dev, arg);
}

/*
 * Waits for the reply: polls, then sleeps counted in the private area's
 * sleepers. The count goes up before the sleeper's last look at the reply
 * (the wait's condition), and the host reads it after publishing the
 * reply: one of the two sees the other. Returns as stargatefs_wait().
 */
static int stargatefs_wait_reply(struct stargatefs_device *dev, bool killable,
				 struct stargatefs_done_arg *arg, u64 since)
{
	struct stargatefs_rpc *rpc = dev->rpc;
	atomic_t *sleepers = rpc->ring ? (atomic_t *)&rpc->ring->sleepers : NULL;
	u32 max = READ_ONCE(stargatefs_poll_us) * NSEC_PER_USEC, start = max / 8;
	u32 window = min(READ_ONCE(rpc->poll_ns), max);
	u64 irq, now;
	int err;

	if (stargatefs_poll_reply(dev, arg, window)) {
		atomic64_inc(&rpc->stats.polled);
		WRITE_ONCE(rpc->poll_ns, clamp(window * 2, start, max));
		return 0;
	}
	atomic64_inc(&rpc->stats.slept);
	if (sleepers) {
		atomic_inc(sleepers);
		smp_mb__after_atomic();
	}
	err = stargatefs_wait(dev, killable, STARGATEFS_RPC_TIMEOUT_MS, stargatefs_done_cond, arg);
	if (sleepers)
		atomic_dec(sleepers);
	irq = READ_ONCE(rpc->irq_ns);
	now = ktime_get_ns();
	if (!err && irq > since && irq <= now) {
		atomic64_inc(&rpc->stats.woken);
		atomic64_add(now - irq, &rpc->stats.wake_ns);
	}
	/* A reply a longer poll would have caught widens the window; a late one narrows it. */
	if (!err && now - since <= max)
		WRITE_ONCE(rpc->poll_ns, clamp(window * 2, start, max));
	else if (!err)
		WRITE_ONCE(rpc->poll_ns, window / 2 < start ? 0 : window / 2);
	return err;
}

ssize_t stargatefs_rpc_stats_show(struct stargatefs_device *dev, char *buf)
{
	struct stargatefs_rpc_stats *st = &dev->own_rpc.stats;

	return sysfs_emit(buf, "requests=%lld polled=%lld slept=%lld woken=%lld enqueue_ns=%lld doorbell_ns=%lld wait_ns=%lld wake_ns=%lld ticks=%lld poll_us=%u poll_ns=%u\n",
			  atomic64_read(&st->requests), atomic64_read(&st->polled),
			  atomic64_read(&st->slept), atomic64_read(&st->woken),
			  atomic64_read(&st->enqueue_ns), atomic64_read(&st->doorbell_ns),
			  atomic64_read(&st->wait_ns), atomic64_read(&st->wake_ns),
			  atomic64_read(&st->ticks), READ_ONCE(stargatefs_poll_us), READ_ONCE(dev->own_rpc.poll_ns));
}

static void stargatefs_put_tag(struct stargatefs_device *dev, unsigned int tag)
{
	spin_lock(&dev->rpc->tag_lock);
	dev->rpc->busy &= ~BIT(tag);
	spin_unlock(&dev->rpc->tag_lock);
	stargatefs_rpc_wake(dev);
}

/*
 * Sends the request in tag's slot and waits for its reply, which is copied
 * into reply once checked (status a possible errno, a made inode's number
 * inside the table). Returns 0, the negated status, -EIO for a bad reply or
 * none in STARGATEFS_RPC_TIMEOUT_MS, or -EINTR on a fatal signal; after
 * -EINTR and -EIO the tag stays taken until the host answers it.
 */
/*
 * A reply's status is returned as -status: the zone's SGZ_STATUS_* are the
 * Linux errno values, checked here so that a header change cannot drift.
 */
static_assert(SGZ_STATUS_EPERM == EPERM);
static_assert(SGZ_STATUS_ENOENT == ENOENT);
static_assert(SGZ_STATUS_EIO == EIO);
static_assert(SGZ_STATUS_EAGAIN == EAGAIN);
static_assert(SGZ_STATUS_EACCES == EACCES);
static_assert(SGZ_STATUS_EBUSY == EBUSY);
static_assert(SGZ_STATUS_EEXIST == EEXIST);
static_assert(SGZ_STATUS_EXDEV == EXDEV);
static_assert(SGZ_STATUS_ENOTDIR == ENOTDIR);
static_assert(SGZ_STATUS_EISDIR == EISDIR);
static_assert(SGZ_STATUS_EINVAL == EINVAL);
static_assert(SGZ_STATUS_ENFILE == ENFILE);
static_assert(SGZ_STATUS_EFBIG == EFBIG);
static_assert(SGZ_STATUS_ENOSPC == ENOSPC);
static_assert(SGZ_STATUS_EROFS == EROFS);
static_assert(SGZ_STATUS_EMLINK == EMLINK);
static_assert(SGZ_STATUS_ENAMETOOLONG == ENAMETOOLONG);
static_assert(SGZ_STATUS_ENOLCK == ENOLCK);
static_assert(SGZ_STATUS_ENOSYS == ENOSYS);
static_assert(SGZ_STATUS_ENOTEMPTY == ENOTEMPTY);
static_assert(SGZ_STATUS_ESTALE == ESTALE);

int stargatefs_rpc_call(struct stargatefs_device *dev, unsigned int tag, bool killable,
			struct sgz_reply *reply)
{
	struct stargatefs_rpc *rpc = dev->rpc;
	struct sgz_request *req = stargatefs_req_slot(dev, tag);
	struct stargatefs_done_arg arg = { .tag = tag };
	u32 opcode = le32_to_cpu(req->opcode), status;
	u64 ino, t_ring, t_rung;
	int err;

	/* Published and numbered under one lock: the host takes a peer's slots in seq order. */
	spin_lock(&rpc->tag_lock);
	if (++rpc->seq == 0)
		rpc->seq = 1;
	arg.seq = rpc->seq;
	rpc->tag_seq[tag] = arg.seq;
	smp_store_release(&req->seq, cpu_to_le64(arg.seq));
	spin_unlock(&rpc->tag_lock);
	t_ring = ktime_get_ns();
	if (rpc->regs)
		writel((SGZ_HOST_PEER_SLOT << 16) | 0, rpc->regs + STARGATEFS_REG_DOORBELL);
	t_rung = ktime_get_ns();

	err = stargatefs_wait_reply(dev, killable, &arg, t_rung);
	atomic64_inc(&rpc->stats.requests);
	atomic64_add(t_ring - rpc->tag_t0[tag], &rpc->stats.enqueue_ns);
	atomic64_add(t_rung - t_ring, &rpc->stats.doorbell_ns);
	atomic64_add(ktime_get_ns() - t_rung, &rpc->stats.wait_ns);
	if (err) {
		spin_lock(&rpc->tag_lock);
		rpc->abandoned |= BIT(tag);
		spin_unlock(&rpc->tag_lock);
		if (err == -EIO)
			stargatefs_err_ratelimited(dev, "request %llu (opcode %u) got no reply in %d s\n",
						   arg.seq, opcode, STARGATEFS_RPC_TIMEOUT_MS / 1000);
		return err;
	}
	memcpy(reply, stargatefs_rep_slot(dev, tag), sizeof(*reply));
	stargatefs_put_tag(dev, tag);

	status = le32_to_cpu(reply->status);
	ino = le64_to_cpu(reply->ino);
	if (le64_to_cpu(reply->seq) != arg.seq || status > MAX_ERRNO) {
		stargatefs_err_ratelimited(dev, "request %llu (opcode %u): bad reply (seq %llu, status %u)\n",
					   arg.seq, opcode, le64_to_cpu(reply->seq), status);
		return -EIO;
	}
	if (status)
		return -(int)status;
	if (opcode < 32 && (SGZ_OP_MASK_INODE_REPLY & (1U << opcode)) &&
	    (ino == 0 || ino >= dev->geo.inode_count)) {
		stargatefs_err_ratelimited(dev, "request %llu (opcode %u): reply names inode %llu\n",
					   arg.seq, opcode, ino);
		return -EIO;
	}
	return 0;
}

struct stargatefs_ilock_arg {
	__le64 *word;
	u64 mine;
};

/* Tries once to take the lock word; marks it wanted when another peer holds it. */
static bool stargatefs_ilock_cond(struct stargatefs_device *dev, void *arg)
{
	struct stargatefs_ilock_arg *a = arg;
	u64 old = le64_to_cpu(READ_ONCE(*a->word));

	if (!old)
		return cmpxchg((u64 *)a->word, 0, cpu_to_le64(a->mine)) == 0;
	if (!(old & SGZ_ILOCK_WAITERS))
		cmpxchg((u64 *)a->word, cpu_to_le64(old), cpu_to_le64(old | SGZ_ILOCK_WAITERS));
	return false;
}

/*
 * Takes zone inode ino's lock word for this guest (holder = slot + 1),
 * waiting on the doorbell and by polling while another peer holds it.
 * Returns 0, -EROFS without an area, -EINTR, or -EIO when it stays taken
 * for STARGATEFS_LOCK_TIMEOUT_MS.
 */
int stargatefs_ilock(struct stargatefs_device *dev, u64 ino, bool killable)
{
	struct stargatefs_ilock_arg arg;

	if (!stargatefs_rpc_ready(dev))
		return -EROFS;
	arg.word = stargatefs_zone_lock_word(dev, ino);
	if (!arg.word)
		return -EIO;
	arg.mine = dev->rpc->slot + 1;
	if (stargatefs_ilock_cond(dev, &arg))
		return 0;
	return stargatefs_wait(dev, killable, STARGATEFS_LOCK_TIMEOUT_MS, stargatefs_ilock_cond, &arg);
}

/*
 * Rings vector 0 of every live peer but this guest. The peer table is
 * untrusted: only the low 16 bits of an ivposition are used, and QEMU
 * ignores a doorbell to a peer it does not know.
 */
static void stargatefs_ring_peers(struct stargatefs_device *dev)
{
	const struct sgz_peer *peer;
	u32 i, ivposition;

	/* Without a doorbell, the peers' waits poll. */
	if (!dev->rpc->regs)
		return;
	for (i = 0; i < dev->geo.max_peers; i++) {
		peer = stargatefs_peer(dev, i);
		if (i == dev->rpc->slot || !peer || le32_to_cpu(READ_ONCE(peer->state)) != SGZ_PEER_LIVE)
			continue;
		ivposition = le32_to_cpu(READ_ONCE(peer->ivposition)) & 0xffff;
		if (ivposition != dev->rpc->slot)
			writel(ivposition << 16, dev->rpc->regs + STARGATEFS_REG_DOORBELL);
	}
}

/* Releases a lock word stargatefs_ilock() took, waking the peers that wait for it. */
void stargatefs_iunlock(struct stargatefs_device *dev, u64 ino)
{
	__le64 *word = stargatefs_zone_lock_word(dev, ino);
	u64 old = word ? le64_to_cpu(xchg((u64 *)word, 0)) : 0;

	if (old & SGZ_ILOCK_WAITERS)
		stargatefs_ring_peers(dev);
	stargatefs_rpc_wake(dev);
}

/*
 * Counts one more open of (ino, generation) in the open table, which the
 * host reads when a file's last name goes. Returns 0, -ENFILE when the
 * table is full, or 0 without an area (nothing to tell the host).
 */
int stargatefs_open_add(struct stargatefs_device *dev, u64 ino, u32 generation)
{
	struct sgz_open *table, *free = NULL, *e;
	unsigned int i;
	int err = 0;

	if (!stargatefs_rpc_ready(dev))
		return 0;
	table = stargatefs_open_table(dev);
	spin_lock(&dev->rpc->open_lock);
	for (i = 0; i < dev->rpc->open_high; i++) {
		e = &table[i];
		if (!e->ino || !e->count) {
			if (!free)
				free = e;
			continue;
		}
		if (le64_to_cpu(e->ino) == ino && le32_to_cpu(e->generation) == generation &&
		    le32_to_cpu(e->count) < U32_MAX) {
			WRITE_ONCE(e->count, cpu_to_le32(le32_to_cpu(e->count) + 1));
			goto out;
		}
	}
	if (!free && dev->rpc->open_high < SGZ_OPEN_ENTRIES)
		free = &table[dev->rpc->open_high++];
	if (!free) {
		err = -ENFILE;
		goto out;
	}
	WRITE_ONCE(free->ino, cpu_to_le64(ino));
	WRITE_ONCE(free->generation, cpu_to_le32(generation));
	/* The count makes the entry live: the host must see it with its inode. */
	smp_wmb();
	WRITE_ONCE(free->count, cpu_to_le32(1));
out:
	spin_unlock(&dev->rpc->open_lock);
	smp_mb();
	return err;
}

/*
 * Counts one open of (ino, generation) less. Returns true when it was the
 * guest's last (the entry is then free).
 */
bool stargatefs_open_drop(struct stargatefs_device *dev, u64 ino, u32 generation)
{
	struct sgz_open *table, *e;
	bool last = false;
	unsigned int i;
	u32 count;

	if (!dev->rpc->area)
		return false;
	table = stargatefs_open_table(dev);
	spin_lock(&dev->rpc->open_lock);
	for (i = 0; i < dev->rpc->open_high; i++) {
		e = &table[i];
		count = le32_to_cpu(e->count);
		if (!count || le64_to_cpu(e->ino) != ino || le32_to_cpu(e->generation) != generation)
			continue;
		WRITE_ONCE(e->count, cpu_to_le32(count - 1));
		if (count == 1) {
			WRITE_ONCE(e->ino, 0);
			last = true;
		}
		break;
	}
	/* The scans stop at the last live entry: a guest with few files open looks at few. */
	while (last && dev->rpc->open_high > 0 &&
	       (!table[dev->rpc->open_high - 1].ino || !table[dev->rpc->open_high - 1].count))
		dev->rpc->open_high--;
	spin_unlock(&dev->rpc->open_lock);
	smp_mb();
	return last;
}
