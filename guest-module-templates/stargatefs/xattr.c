// SPDX-License-Identifier: GPL-2.0
/*
 * stargatefs: extended attributes (docs/guest-module.md "Extended
 * attributes"). An inode's attributes are one xattr block of the structure
 * pool (stargate_zone.h "An xattr block"), named by the zone inode's xattr
 * field. getxattr and listxattr copy the block under the inode's seqcount
 * and check it whole (place, magic, owner, used, crc, every entry) before
 * reading a byte of it; setxattr and removexattr are requests to the host,
 * the value in the tag's payload buffer. The namespaces are user.*,
 * trusted.* and security.*; any other (system.posix_acl_* included) has no
 * handler, so the VFS answers EOPNOTSUPP.
 */
#include <linux/capability.h>
#include <linux/slab.h>
#include <linux/xattr.h>

#include "stargatefs.h"

/* An entry found in a checked copy of a block. */
struct stargatefs_xattr_entry {
	u8 index;
	u8 name_len;
	u16 value_len;
	const u8 *name;
	const u8 *value;
};

static const char *stargatefs_xattr_prefix(u8 index)
{
	switch (index) {
	case SGZ_XATTR_USER:
		return XATTR_USER_PREFIX;
	case SGZ_XATTR_TRUSTED:
		return XATTR_TRUSTED_PREFIX;
	case SGZ_XATTR_SECURITY:
		return XATTR_SECURITY_PREFIX;
	}
	return NULL;
}

static u32 stargatefs_xattr_entry_size(u32 name_len, u32 value_len)
{
	return round_up(SGZ_XATTR_ENTRY_SIZE + name_len + value_len, 4);
}

/*
 * Entry *pos of a checked block copy: fills e and moves *pos past it.
 * Returns false at the end of used or at a malformed entry (*bad set).
 */
static bool stargatefs_xattr_next(const u8 *block, u32 used, u32 *pos,
				  struct stargatefs_xattr_entry *e, bool *bad)
{
	const struct sgz_xattr_entry *raw;
	u32 size;

	if (*pos >= used)
		return false;
	if (used - *pos < SGZ_XATTR_ENTRY_SIZE)
		goto bad;
	raw = (const void *)(block + SGZ_XATTR_HEADER_SIZE + *pos);
	e->index = raw->name_index;
	e->name_len = raw->name_len;
	e->value_len = le16_to_cpu(raw->value_len);
	size = stargatefs_xattr_entry_size(e->name_len, e->value_len);
	if (!stargatefs_xattr_prefix(e->index) || !e->name_len || size > used - *pos)
		goto bad;
	e->name = (const u8 *)(raw + 1);
	e->value = e->name + e->name_len;
	*pos += size;
	return true;
bad:
	*bad = true;
	return false;
}

/*
 * A kmalloc'ed copy of inode's xattr block (kfree it), taken under the
 * zone inode's seqcount and checked whole: *used is the bytes of entries.
 * NULL when the inode has none, with no allocation and, while the inode is
 * unchanged, no copy of it (every write asks for security.capability
 * through file_remove_privs()). An ERR_PTR of -ESTALE when the inode is
 * gone, of -EIO (and a rate-limited line) when the block is not sound, as
 * for every zone read.
 */
static u8 *stargatefs_xattr_read(struct inode *inode, u32 *used)
{
	struct stargatefs_device *dev = stargatefs_dev(inode->i_sb);
	struct stargatefs_inode *si = STARGATEFS_I(inode);
	unsigned long deadline = jiffies + msecs_to_jiffies(STARGATEFS_SEQ_WAIT_MS);
	const struct sgz_xattr_header *hdr;
	struct stargatefs_xattr_entry e;
	struct sgz_inode zi;
	unsigned int tries;
	const void *src;
	u32 seq, count, n, pos;
	u8 *block = NULL;
	u64 off = 0;
	bool bad;
	int err;

	for (tries = 0; tries < 1000; tries++) {
		err = stargatefs_zone_load_cached(dev, inode->i_ino, &si->lock, &si->snap, &zi, &seq);
		if (err)
			goto fail;
		err = -ESTALE;
		if (le32_to_cpu(zi.generation) != inode->i_generation)
			goto fail;
		off = le64_to_cpu(zi.xattr);
		if (off) {
			/* A page of the structure pool: after the fixed regions, inside Z. */
			if (off < dev->geo.data_offset || off % SGZ_PAGE_SIZE ||
			    off > dev->geo.zone_size - SGZ_XATTR_BLOCK_SIZE)
				goto bad;
			err = -ENOMEM;
			if (!block)
				block = kmalloc(SGZ_XATTR_BLOCK_SIZE, GFP_KERNEL);
			if (!block)
				goto fail;
			err = -EIO;
			src = stargatefs_zone_addr(dev, off, SGZ_XATTR_BLOCK_SIZE);
			if (!src)
				goto fail;
			memcpy(block, src, SGZ_XATTR_BLOCK_SIZE);
		}
		if (!stargatefs_zone_inode_moved(dev, inode->i_ino, seq))
			break;
		err = stargatefs_zone_yield(deadline, true);
		if (err)
			goto fail;
	}
	err = -EIO;
	if (tries == 1000)
		goto fail;
	*used = 0;
	if (!off) {
		kfree(block);
		return NULL;
	}

	hdr = (const void *)block;
	*used = le16_to_cpu(hdr->used);
	count = le16_to_cpu(hdr->count);
	if (le32_to_cpu(hdr->magic) != SGZ_XATTR_MAGIC || le64_to_cpu(hdr->ino) != inode->i_ino ||
	    le32_to_cpu(hdr->generation) != inode->i_generation || !count ||
	    *used > SGZ_XATTR_BLOCK_SIZE - SGZ_XATTR_HEADER_SIZE ||
	    stargatefs_crc32c(block + offsetof(struct sgz_xattr_header, count),
			      SGZ_XATTR_HEADER_SIZE + *used - offsetof(struct sgz_xattr_header, count)) !=
	    le32_to_cpu(hdr->crc))
		goto bad;
	bad = false;
	for (n = 0, pos = 0; stargatefs_xattr_next(block, *used, &pos, &e, &bad); n++)
		;
	if (!bad && n == count)
		return block;
bad:
	stargatefs_err_ratelimited(dev, "inode %lu: bad xattr block at zone offset 0x%llx\n",
				   inode->i_ino, off);
	err = -EIO;
fail:
	kfree(block);
	return ERR_PTR(err == -ENOENT ? -ESTALE : err);
}

static int stargatefs_xattr_get(const struct xattr_handler *handler, struct dentry *dentry,
				struct inode *inode, const char *name, void *buffer, size_t size)
{
	struct stargatefs_xattr_entry e;
	size_t len = strlen(name);
	u32 used, pos = 0;
	bool bad = false;
	u8 *block;
	int err;

	block = stargatefs_xattr_read(inode, &used);
	if (IS_ERR_OR_NULL(block))
		return block ? PTR_ERR(block) : -ENODATA;
	err = -ENODATA;
	while (stargatefs_xattr_next(block, used, &pos, &e, &bad)) {
		if (e.index != handler->flags || e.name_len != len || memcmp(e.name, name, len))
			continue;
		err = e.value_len;
		if (size && e.value_len > size)
			err = -ERANGE;
		else if (size)
			memcpy(buffer, e.value, e.value_len);
		break;
	}
	kfree(block);
	return err;
}

/* set and remove (value NULL): one request; the host checks the caller's permission too. */
static int stargatefs_xattr_set(const struct xattr_handler *handler, STARGATEFS_XATTR_IDMAP *idmap,
				struct dentry *dentry, struct inode *inode, const char *name,
				const void *value, size_t size, int flags)
{
	struct stargatefs_device *dev = stargatefs_dev(inode->i_sb);
	const char *prefix = stargatefs_xattr_prefix(handler->flags);
	size_t plen = strlen(prefix), len = strlen(name);
	struct sgz_request *req;
	struct sgz_reply rep;
	unsigned int tag;
	u32 opcode = value ? SGZ_OP_SETXATTR : SGZ_OP_REMOVEXATTR;
	int err;

	static_assert(SGZ_XATTR_CREATE == XATTR_CREATE && SGZ_XATTR_REPLACE == XATTR_REPLACE);
	if (plen + len > SGZ_XATTR_NAME_MAX)
		return -ERANGE;
	/* No block holds more: as ext4 without ea_inode, a value that cannot fit is ENOSPC. */
	if (value && size > SGZ_XATTR_BLOCK_SIZE - SGZ_XATTR_HEADER_SIZE)
		return -ENOSPC;
	req = stargatefs_rpc_begin(dev, opcode, true, &tag);
	if (IS_ERR(req))
		return PTR_ERR(req);
	req->ino = cpu_to_le64(inode->i_ino);
	req->generation = cpu_to_le32(inode->i_generation);
	memcpy(req->name2, prefix, plen);
	memcpy(req->name2 + plen, name, len);
	req->name2_len = cpu_to_le16(plen + len);
	stargatefs_rpc_groups(req, INVALID_GID);
	/* Asked only where it counts: capable() marks the task as having used the capability. */
	if (handler->flags != SGZ_XATTR_USER && capable(CAP_SYS_ADMIN))
		req->flags |= cpu_to_le32(SGZ_REQ_XATTR_ADMIN);
	if (value) {
		req->flags |= cpu_to_le32(SGZ_REQ_PAYLOAD | (flags & (XATTR_CREATE | XATTR_REPLACE)));
		memcpy(stargatefs_rpc_payload(dev, tag), value, size);
		req->length = cpu_to_le64(size);
	}
	err = stargatefs_rpc_call(dev, tag, true, &rep);
	if (stargatefs_revalidate(inode, true) == -ESTALE)
		clear_nlink(inode);
	return err;
}

/* The names of every attribute the caller may see (trusted.* needs CAP_SYS_ADMIN), NUL-terminated. */
ssize_t stargatefs_listxattr(struct dentry *dentry, char *list, size_t size)
{
	struct inode *inode = d_inode(dentry);
	struct stargatefs_xattr_entry e;
	bool bad = false;
	u32 used, pos = 0;
	ssize_t total = 0;
	const char *prefix;
	size_t plen;
	u8 *block;

	block = stargatefs_xattr_read(inode, &used);
	if (IS_ERR(block))
		return PTR_ERR(block);
	while (stargatefs_xattr_next(block, used, &pos, &e, &bad)) {
		if (e.index == SGZ_XATTR_TRUSTED && !capable(CAP_SYS_ADMIN))
			continue;
		prefix = stargatefs_xattr_prefix(e.index);
		plen = strlen(prefix);
		if (size) {
			if (total + plen + e.name_len + 1 > size) {
				total = -ERANGE;
				break;
			}
			memcpy(list + total, prefix, plen);
			memcpy(list + total + plen, e.name, e.name_len);
			list[total + plen + e.name_len] = 0;
		}
		total += plen + e.name_len + 1;
	}
	kfree(block);
	return total;
}

static const struct xattr_handler stargatefs_xattr_user = {
	.prefix = XATTR_USER_PREFIX,
	.flags = SGZ_XATTR_USER,
	.get = stargatefs_xattr_get,
	.set = stargatefs_xattr_set,
};

static const struct xattr_handler stargatefs_xattr_trusted = {
	.prefix = XATTR_TRUSTED_PREFIX,
	.flags = SGZ_XATTR_TRUSTED,
	.get = stargatefs_xattr_get,
	.set = stargatefs_xattr_set,
};

static const struct xattr_handler stargatefs_xattr_security = {
	.prefix = XATTR_SECURITY_PREFIX,
	.flags = SGZ_XATTR_SECURITY,
	.get = stargatefs_xattr_get,
	.set = stargatefs_xattr_set,
};

/* sb->s_xattr: const elements, so it fits both the 6.1 and the 6.7+ type of s_xattr. */
const struct xattr_handler *stargatefs_xattr_handlers[] = {
	&stargatefs_xattr_user,
	&stargatefs_xattr_trusted,
	&stargatefs_xattr_security,
	NULL,
};
