/* SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT */
/*
 * stargate_zone.h - the Stargate zone format: the single definition of the
 * memory zone that the host service and every guest share.
 *
 * This header is included as-is by the guest kernel module and is the source
 * of the host's C# mirror, generated from it through libclang by
 * interop/Stargate.Interop.Generator (interop/README.md gives the command;
 * docs/zone-format.md explains the format). Change it only by the rules
 * below and regenerate the mirror in the same commit.
 *
 * Rules:
 *  - little-endian, fixed-width fields only; no pointers, enums, bitfields
 *    or long; every struct has explicit reserved fields and a
 *    _Static_assert on its size;
 *  - a new field goes into a reserved field and bumps the minor version; a
 *    changed meaning or offset bumps the major version;
 *  - every persisted number below (magic, versions, type codes, flags) may
 *    only be added to, never renumbered (the golden test enforces it);
 *  - crc32c is Castagnoli, initial value 0xffffffff, final xor 0xffffffff
 *    (crc of "123456789" is 0xe3069283). The superblock (its identity and
 *    geometry half), inode (host half) and directory entry carry a crc over
 *    their bytes before the crc field;
 *    a journal record's crc covers its header fields and the saved data.
 *    The journal header has none: its state and used fields are single
 *    aligned words, each written with one store. Peer and lock slots are
 *    runtime state changed with atomic instructions and have none either;
 *  - everything a reader takes from the zone is untrusted: check every
 *    offset, length, depth and name against the superblock's geometry.
 *
 * Format 2: a zone is two files (docs/zone-format.md). The structure file
 * Z is written by the host only and every guest maps it read-only (QEMU's
 * memory-backend-file readonly=on); the data file Z.data holds file data
 * and the few things a guest may write (inode hints), and guests map it
 * read-write. Since 2.1 each guest also has a private area (struct
 * sgz_area, a file of its own that only it and the host map): its request
 * ring and open table. A guest's replies are in Z, in its slot of the
 * rings region, where no guest can write them. Every offset in the format is a *zone offset* in one
 * logical space: [0, zone_size) is Z, [zone_size, zone_size +
 * data_file_size) is Z.data (zone offset zone_size + x is byte x of
 * Z.data). A guest turns a zone offset into an address in the BAR of the
 * file it lies in; the host maps both files back to back.
 *
 * Zone map (every region 4 KiB aligned, the chunk space 2 MiB aligned;
 * exact offsets and sizes are in the superblock, chosen at format time):
 *
 *   0            superblock (struct sgz_superblock, rest of the page zero)
 *   journal      undo journal of the host's structural changes
 *   peer_table   max_peers x struct sgz_peer
 *   lock_table   lock_slots x struct sgz_lock
 *   rings        max_peers x ring_bytes: each slot's host_epoch and reply
 *                ring (2.1: in Z, host-written; the request ring and open
 *                table of the same layout are in the guest's private area)
 *   inode_bitmap 1 bit per inode, set = in use
 *   page_bitmap  1 bit per 4 KiB page of the data region, set = in use
 *   chunk_usage  __le16 per 2 MiB data chunk: pages of it in use (0..512)
 *   group_owner  __le16 per allocation group: owning peer slot + 1, 0 = none
 *   inode_table  inode_count x struct sgz_inode, inode 0 unused
 *   grace_pages  1 bit per 4 KiB page of the chunk space, set = freed but
 *                pending (2.1: still set in page_bitmap, owned by no file)
 *   grace_epochs __le64 per chunk: the highest epoch of its pending pages
 *   inval_log    struct sgz_inval_header, then SGZ_INVAL_RECORDS x
 *                struct sgz_inval_record (2.1: the invalidation log)
 *   data         chunk_count x 2 MiB, the chunk space: pool_chunks at the
 *                end of Z (page-table nodes, directory pages, symlink
 *                targets: structure), then Z.data's header_chunks (data
 *                header, rings, hints; always in use, never allocated),
 *                then Z.data's data chunks (regular files' data only)
 *   hints        inode_count x struct sgz_hint, in Z.data's header chunks
 *
 * Free space in the chunk space always reads as zeros: the host zeroes (or
 * punches) what it frees, so newly allocated pages need no clearing.
 */
#ifndef _STARGATE_ZONE_H
#define _STARGATE_ZONE_H

#include <linux/types.h>

/* "STARGATE" read as a little-endian 64-bit number. */
#define SGZ_MAGIC 0x4554414752415453ULL

/*
 * Version checklist, before changing either number:
 *  1. a new field in reserved space, or a new type or flag: minor + 1;
 *  2. a field moved, resized or given another meaning: major + 1, minor 0;
 *  3. readers refuse a major above their own and name both versions;
 *  4. regenerate the C# mirror, and update the version line (and add the
 *     new values) in interop/Stargate.Interop.Tests/golden/abi-values.txt.
 * 1.1: the rings region (request and reply rings, open tables), the lock
 * table's records, the inode lock word and SGZ_INODE_ORPHAN.
 * 1.2: the caller's identity in every request (caller_uid, caller_gid,
 * ngroups and SGZ_REQ_CALLER), SGZ_REQ_SETATTR_FILE, SGZ_ATTR_KILL_PRIV,
 * SGZ_STATUS_EPROTO.
 * 2.0: two files (structure Z, read-only to guests, and data Z.data); the
 * zone offset space over both; the structure pool (pool_chunks) and the
 * header chunks; data_file_size; struct sgz_data_header; the inode lock
 * word and every guest-written inode field moved to struct sgz_hint in
 * Z.data; sgz_inode.alloc_end.
 * 2.1: the rings region moves into Z and holds only what the host writes
 * (host_epoch, the reply ring); each guest's request ring and open table
 * are in its private area (struct sgz_area, SGZ_AREA_*), which the service
 * gives the guest as its ivshmem-doorbell device; guests without one
 * (ivshmem-plain) send no requests, so the claim protocol (SGZ_CLAIM_*) is
 * unused. 2.0 was a step of issue 13 that no release carried: readers of
 * 2.1 refuse it, instead of the major version moving.
 * 2.1 also: the grace period: the grace_pages, grace_epochs and inval_log
 * regions, superblock pending_pages, struct sgz_inval_header and
 * struct sgz_inval_record, SGZ_OP_ACK (a zone without the regions frees
 * at once).
 * 2.2: extended attributes and long symlink targets: sgz_inode.xattr, the
 * xattr block (struct sgz_xattr_header, struct sgz_xattr_entry,
 * SGZ_XATTR_*), SGZ_OP_SETXATTR, SGZ_OP_REMOVEXATTR, the payload buffers of
 * the private area (SGZ_AREA_PAYLOAD, SGZ_PAYLOAD_SIZE, SGZ_REQ_PAYLOAD)
 * and SGZ_SYMLINK_TARGET_MAX.
 * 2.2 also: SGZ_OP_PUNCH; device nodes (SGZ_OP_MKNOD with a character or block
 * type and sgz_request.rdev, the kernel's new_encode_dev); O_TMPFILE
 * (SGZ_REQ_TMPFILE, SGZ_INODE_TMPFILE); SGZ_REQ_SETATTR_ACCESS;
 * SGZ_REQ_ACK_DETACH.
 * 2.2 also: the directory index: sgz_inode.index_root, struct sgz_dir_index,
 * struct sgz_dir_bucket and SGZ_DIRIDX_* (a directory without one, as
 * every directory of a 2.1 zone, is read by a scan of its pages).
 * 2.3: SGZ_OP_COPY (copy_file_range done by the host), SGZ_REQ_COPY_FSETID
 * and SGZ_COPY_MAX.
 * 2.3 also: polling for replies: sgz_ring_header.sleepers and
 * SGZ_RING_GUEST_SLEEPERS (a guest without the flag is rung after every
 * reply, as before); SGZ_CLOCK_LEAD_MAX_NS.
 */
#define SGZ_VERSION_MAJOR 2
#define SGZ_VERSION_MINOR 3

/* Geometry. */
#define SGZ_PAGE_SHIFT 12
#define SGZ_PAGE_SIZE 4096
#define SGZ_CHUNK_SHIFT 21
#define SGZ_CHUNK_SIZE 2097152
#define SGZ_PAGES_PER_CHUNK 512
/*
 * File sizes are powers of two: QEMU refuses any other BAR2 size. The
 * limits are for the data file (the size a user asks for); the structure
 * file is the smallest power of two, at least 16 MiB, that holds the
 * fixed regions and a pool of data_file_size / SGZ_POOL_DIVISOR (at
 * least SGZ_POOL_MIN_CHUNKS chunks).
 */
#define SGZ_ZONE_MIN_SHIFT 24
#define SGZ_ZONE_MAX_SHIFT 40
#define SGZ_POOL_DIVISOR 16
#define SGZ_POOL_MIN_CHUNKS 2
/* The data file's header: "SGZDATA2" read as a little-endian 64-bit number. */
#define SGZ_DATA_MAGIC 0x32415441445a4753ULL
#define SGZ_DATA_HEADER_SIZE 64
#define SGZ_HINT_SIZE 64
#define SGZ_SUPERBLOCK_SIZE 512
/* The superblock crc covers bytes 0..379, identity and geometry only. */
#define SGZ_SUPERBLOCK_CRC_OFFSET 380
#define SGZ_INODE_SIZE 256
#define SGZ_DIRENT_SIZE 288
#define SGZ_DIR_PAGE_HEADER 64
#define SGZ_DIRENTS_PER_PAGE 14
#define SGZ_NAME_MAX 255
#define SGZ_ROOT_INO 1
/* Bytes of zone per inode at format time, and the least inode count. */
#define SGZ_BYTES_PER_INODE 16384
#define SGZ_MIN_INODES 1024
/* Peer slot of the host service; guests get slots 1..max_peers-1. */
#define SGZ_HOST_PEER_SLOT 0
#define SGZ_PEER_SIZE 128
#define SGZ_LOCK_SIZE 64
#define SGZ_RING_BYTES 16384
/*
 * A guest's private area (2.1): SGZ_AREA_SIZE bytes that only that guest
 * and the host map, the BAR2 of the guest's ivshmem-doorbell device (the
 * service makes one file per connection, ZONE.area.SLOT, and sends it as the
 * client's shared memory). struct sgz_area at 0, the ring area (the rings
 * region's layout: its request ring and open table; its reply ring is not
 * used, replies are in Z) at SGZ_AREA_RING; (2.2) at SGZ_AREA_PAYLOAD one
 * payload buffer of SGZ_PAYLOAD_SIZE bytes per ring slot: tag i's at
 * SGZ_AREA_PAYLOAD + i * SGZ_PAYLOAD_SIZE (see SGZ_REQ_PAYLOAD); the rest
 * reserved.
 * "SGZAREA2" read as a little-endian 64-bit number.
 */
#define SGZ_AREA_MAGIC 0x32414552415a4753ULL
#define SGZ_AREA_SIZE 65536
#define SGZ_AREA_RING 4096
#define SGZ_AREA_HEADER_SIZE 64
#define SGZ_AREA_PAYLOAD 24576
#define SGZ_PAYLOAD_SIZE 4096
/* sgz_area.flags: the export policy of the socket the guest came through. */
#define SGZ_AREA_READONLY 0x1
#define SGZ_AREA_ROOT_SQUASH 0x2

/*
 * Shared page tables: 4 KiB nodes of 512 little-endian __u64 entries in the
 * x86-64 page-table format. The frame bits (12..51) hold a zone offset,
 * not a physical address: a guest adds its BAR2 base. Depth d means the
 * root node's entries each cover 4 KiB << (9 * (d - 1)): depth 1 maps 2 MiB
 * (root is a PTE node), 2 maps 1 GiB, 3 maps 512 GiB, 4 maps 256 TiB.
 * SGZ_PTE_HUGE marks a 2 MiB leaf and is legal only at the PMD level (the
 * level just above PTE nodes); its frame is 2 MiB aligned.
 */
#define SGZ_PT_ENTRIES 512
#define SGZ_PT_MAX_DEPTH 4
#define SGZ_PTE_PRESENT 0x1ULL
#define SGZ_PTE_WRITABLE 0x2ULL
#define SGZ_PTE_HUGE 0x80ULL
#define SGZ_PTE_ADDR_MASK 0x000ffffffffff000ULL
#define SGZ_PMD_ADDR_MASK 0x000fffffffe00000ULL
/*
 * The largest file: what a table of SGZ_PT_MAX_DEPTH levels indexes (256 TiB).
 * Sizes, write ends, allocate ends and POSIX lock ranges stop here; the guest
 * advertises it as the super block's s_maxbytes.
 */
#define SGZ_FILE_SIZE_MAX (1ULL << 48)
_Static_assert(SGZ_FILE_SIZE_MAX == ((unsigned long long)SGZ_PAGE_SIZE << (9 * SGZ_PT_MAX_DEPTH)), "SGZ_FILE_SIZE_MAX is what a full-depth table indexes");

/* Superblock flags. */
#define SGZ_SB_CLEAN 0x1U

/* Journal. */
#define SGZ_JOURNAL_MAGIC 0x4c4e524a5a475353ULL
#define SGZ_JOURNAL_IDLE 0
#define SGZ_JOURNAL_ACTIVE 1
#define SGZ_JOURNAL_MIN_SIZE 262144
#define SGZ_JOURNAL_MAX_SIZE 67108864

/* File types in sgz_inode.mode: the Linux S_IF* values. */
#define SGZ_S_IFMT 0170000U
#define SGZ_S_IFSOCK 0140000U
#define SGZ_S_IFLNK 0120000U
#define SGZ_S_IFREG 0100000U
#define SGZ_S_IFBLK 0060000U
#define SGZ_S_IFDIR 0040000U
#define SGZ_S_IFCHR 0020000U
#define SGZ_S_IFIFO 0010000U
/* The permission bits of a mode (Linux S_IALLUGO): set-id, sticky, rwx x 3. */
#define SGZ_S_IALLUGO 0007777U

/* Entry types in sgz_dirent.type: the Linux DT_* values. */
#define SGZ_DT_FIFO 1
#define SGZ_DT_CHR 2
#define SGZ_DT_DIR 4
#define SGZ_DT_BLK 6
#define SGZ_DT_REG 8
#define SGZ_DT_LNK 10
#define SGZ_DT_SOCK 12

/* Inode flags (sgz_inode.flags, host half). */
/* Unlinked (nlink 0) but still open in some peer: freed at the last close. */
#define SGZ_INODE_ORPHAN 0x1U
/*
 * 2.2: made by O_TMPFILE and never named (an orphan too): SGZ_OP_LINK may
 * give it its first name (linkat of the open file), which clears both.
 */
#define SGZ_INODE_TMPFILE 0x2U

/*
 * The inode lock word (sgz_hint.lock), taken by guests around a write that
 * changes size or mtime and by the host around a truncate: 0 = free, else
 * bits 0..15 hold the holder's peer slot + 1 and SGZ_ILOCK_WAITERS says a
 * peer sleeps on it (the releaser then rings every live peer's vector 0).
 * Changed only with cmpxchg/xchg. The host clears the word of a dead peer.
 */
#define SGZ_ILOCK_HOLDER_MASK 0xffffULL
#define SGZ_ILOCK_WAITERS 0x10000ULL

/* Peer states in sgz_peer.state. */
#define SGZ_PEER_FREE 0
#define SGZ_PEER_LIVE 1

/* A region of the zone: byte offset and byte length. */
struct sgz_region {
	__le64 offset;
	__le64 size;
};

/*
 * The superblock, at zone offset 0; the rest of page 0 is zero. Two halves,
 * as in the inode: bytes 0..383 are identity and geometry, fixed at format
 * time and sealed by crc (over 0..379); bytes 384..511 are the host's
 * running state (free counts, flags, the writer), changed inside journalled
 * changes and not covered by the crc, so that a reader never sees the seal
 * broken while the host is mid-change. Readers check the first half before
 * trusting any offset, and treat the second half as hints.
 *
 *   0  magic            8  version_major/minor, 12 sb_size
 *  16  zone_size        24 uuid[16]          40 created_ns
 *  48  page_size, chunk_size, inode_size, dirent_size (__le32 each)
 *  64  inode_count      72 chunk_count       80 group_chunks, max_peers
 *  88  ring_bytes, lock_slots
 *  96  regions: 10 x struct sgz_region (160 bytes)
 * 256  root_ino        264 data_file_size    272 pool_chunks, header_chunks
 * 280  hints (struct sgz_region)
 * 296  grace_pages, grace_epochs, inval_log (2.1, struct sgz_region each)
 * 344  reserved0[36]
 * 380  crc over bytes 0..379
 * 384  free_pages      392 free_inodes       400 inode_hint
 * 408  flags           412 reserved1         416 open_count
 * 424  writer_pid      432 writer_since_ns   440 writer_cmd[32]
 * 472  pending_pages (2.1)  480 reserved2[32]
 */
struct sgz_superblock {
	__le64 magic;
	__le16 version_major;
	__le16 version_minor;
	__le32 sb_size;
	/* Bytes of the structure file Z (it must be that long). */
	__le64 zone_size;
	__u8 uuid[16];
	__le64 created_ns;
	__le32 page_size;
	__le32 chunk_size;
	__le32 inode_size;
	__le32 dirent_size;
	__le64 inode_count;
	/* 2 MiB chunks in the data region. */
	__le64 chunk_count;
	/* Chunks per allocation group (a power of two); see group_owner. */
	__le32 group_chunks;
	__le32 max_peers;
	__le32 ring_bytes;
	__le32 lock_slots;
	struct sgz_region journal;
	struct sgz_region peer_table;
	struct sgz_region lock_table;
	struct sgz_region rings;
	struct sgz_region inode_bitmap;
	struct sgz_region page_bitmap;
	struct sgz_region chunk_usage;
	struct sgz_region group_owner;
	struct sgz_region inode_table;
	struct sgz_region data;
	__le64 root_ino;
	/* 2.0: bytes of Z.data (a power of two); zone offsets past zone_size are in it. */
	__le64 data_file_size;
	/* 2.0: chunks of the chunk space in Z (the structure pool), then Z.data's header chunks. */
	__le32 pool_chunks;
	__le32 header_chunks;
	/* 2.0: inode_count x struct sgz_hint, in Z.data's header chunks. */
	struct sgz_region hints;
	/* 2.1: the grace period (docs/zone-format.md); every 2.1 zone has them. */
	struct sgz_region grace_pages;
	struct sgz_region grace_epochs;
	struct sgz_region inval_log;
	__u8 reserved0[36];
	__le32 crc;
	/* Free 4 KiB pages in the data region, and free inodes. */
	__le64 free_pages;
	__le64 free_inodes;
	/* Where the host starts looking for a free inode. */
	__le64 inode_hint;
	/* SGZ_SB_* flags; SGZ_SB_CLEAN is clear while a writer has it open. */
	__le32 flags;
	__le32 reserved1;
	/* Times the zone was opened for writing. */
	__le64 open_count;
	/* The writer that has the zone open (or had, if not clean). */
	__le64 writer_pid;
	__le64 writer_since_ns;
	__u8 writer_cmd[32];
	/* 2.1: data pages freed but pending in the grace period (in use, not free). */
	__le64 pending_pages;
	__u8 reserved2[32];
};
_Static_assert(sizeof(struct sgz_region) == 16, "sgz_region size");
_Static_assert(sizeof(struct sgz_superblock) == SGZ_SUPERBLOCK_SIZE, "sgz_superblock size");
_Static_assert(__builtin_offsetof(struct sgz_superblock, crc) == SGZ_SUPERBLOCK_CRC_OFFSET,
	       "the superblock crc seals bytes 0..379");
_Static_assert(__builtin_offsetof(struct sgz_superblock, free_pages) == SGZ_SUPERBLOCK_CRC_OFFSET + 4,
	       "the running state follows the crc");

/*
 * An inode: 256 bytes in the inode table, inode number = index.
 *
 * Only the host writes an inode (it is in Z), inside a journalled change.
 * crc covers bytes 0..123. Bytes 128..255 change more often: the host makes
 * seq odd before and even after changing them (a seqcount), and readers
 * retry while it is odd or moved. What guests write in place (size, mtime
 * and ctime after a write into allocated space, and the lock word) is in
 * the inode's struct sgz_hint in Z.data.
 *
 *   0 mode  4 uid  8 gid  12 nlink  16 generation  20 flags
 *  24 parent  32 pt_root  40 pt_depth, reserved0[7]  48 pages
 *  56 btime_ns  64 rdev  72 entries  80 xattr (2.2)  88 index_root (2.2)
 *  96 reserved1[28]  124 crc
 * 128 seq  132 reserved2  136 size  144 mtime_ns  152 ctime_ns
 * 160 atime_ns  168 change  176 alloc_end  184 reserved3  192 reserved4[8]
 */
struct sgz_inode {
	/* SGZ_S_IF* | permission bits; 0 = free inode. */
	__le32 mode;
	__le32 uid;
	__le32 gid;
	__le32 nlink;
	/* Bumped each time the inode number is reused. */
	__le32 generation;
	/* SGZ_INODE_* flags (1.1); 0 in a 1.0 zone. */
	__le32 flags;
	/* Directories: the parent directory's inode number. */
	__le64 parent;
	/* Zone offset of the page-table root node; 0 = no pages. */
	__le64 pt_root;
	/* 0 (no table) .. SGZ_PT_MAX_DEPTH. */
	__u8 pt_depth;
	__u8 reserved0[7];
	/* 4 KiB pages held: data pages and page-table nodes. */
	__le64 pages;
	__le64 btime_ns;
	/* Device number of a character or block special file. */
	__le64 rdev;
	/* Directories: live entries. */
	__le64 entries;
	/* 2.2: zone offset of the inode's xattr block in the structure pool; 0 = none. */
	__le64 xattr;
	/*
	 * 2.2, directories: zone offset of the index's root page (struct
	 * sgz_dir_index, in the structure pool); 0 = no index (read the pages).
	 */
	__le64 index_root;
	__u8 reserved1[28];
	__le32 crc;
	/* Seqcount over this half: odd while a writer changes it. */
	__le32 seq;
	__le32 reserved2;
	__le64 size;
	__le64 mtime_ns;
	__le64 ctime_ns;
	__le64 atime_ns;
	/* Bumped on every change to the inode or, for a directory, its entries. */
	__le64 change;
	/*
	 * 2.0: an upper bound of the end of the file's allocated bytes (never
	 * below it): the most a guest's size hint can raise the size to.
	 */
	__le64 alloc_end;
	__le64 reserved3;
	__le64 reserved4[8];
};
_Static_assert(sizeof(struct sgz_inode) == SGZ_INODE_SIZE, "sgz_inode size");
_Static_assert(__builtin_offsetof(struct sgz_inode, crc) == 124, "inode crc covers bytes 0..123");
_Static_assert(__builtin_offsetof(struct sgz_inode, seq) == 128, "the guest half starts at byte 128");

/*
 * The data file's header, at byte 0 of Z.data (zone offset zone_size); the
 * rest of that page is zero. Written by the host at format and at every
 * service start; a guest checks it names the structure file's uuid and
 * sizes before it mounts the pair.
 *   0 magic  8 version_major/minor  12 reserved0  16 uuid[16]
 *  32 zone_size  40 data_file_size  48 reserved[2]
 */
struct sgz_data_header {
	__le64 magic;
	__le16 version_major;
	__le16 version_minor;
	__le32 reserved0;
	/* The zone's uuid (equal to the superblock's). */
	__u8 uuid[16];
	/* The structure file's size, and this file's. */
	__le64 zone_size;
	__le64 data_file_size;
	__le64 reserved[2];
};
_Static_assert(sizeof(struct sgz_data_header) == SGZ_DATA_HEADER_SIZE, "sgz_data_header size");

/*
 * An inode hint: 64 bytes per inode in the hints region (Z.data), inode n at
 * hints.offset + 64 n. Guests write it, so nobody trusts it:
 *  - lock is the inode lock word (SGZ_ILOCK_*), taken with cmpxchg by a
 *    guest around a write that changes size or mtime, and by the host
 *    around a truncate or a change of times, which it never waits for;
 *  - seq is a seqcount over generation..change, taken from even to odd
 *    with a cmpxchg by a guest that holds lock, to publish a write into
 *    space the host allocated: size (raised, never lowered), mtime and
 *    ctime, and change bumped. generation names the inode generation the
 *    hint is about.
 * A reader (guest or host) that reads an even, unmoved seq and a generation
 * equal to the inode's takes size = max(inode.size, min(hint.size,
 * inode.alloc_end)), mtime and ctime = the later of the inode's and the
 * hint's, change = inode.change + hint.change; otherwise the inode's own.
 * The host reads a hint a bounded number of times and never waits on it;
 * it folds a hint into the inode, and sets the hint's generation to 0,
 * while it holds lock.
 *   0 lock  8 seq  12 generation  16 size  24 mtime_ns  32 ctime_ns
 *  40 change  48 reserved[2]
 */
struct sgz_hint {
	__le64 lock;
	__le32 seq;
	__le32 generation;
	__le64 size;
	__le64 mtime_ns;
	__le64 ctime_ns;
	__le64 change;
	__le64 reserved[2];
};
_Static_assert(sizeof(struct sgz_hint) == SGZ_HINT_SIZE, "sgz_hint size");

/*
 * A directory entry slot, 288 bytes. A directory's data is an array of
 * 4 KiB pages, each a 64-byte reserved header followed by
 * SGZ_DIRENTS_PER_PAGE slots; slot i lives in page i / 14 at
 * 64 + (i % 14) * 288. A slot with ino 0 is free. Entries are unordered;
 * readers compare hash before name.
 *
 *   0 ino  8 generation  12 hash  16 name_len  17 type  18 reserved0
 *  20 reserved1  24 name[256]  280 reserved2  284 crc (over 0..283)
 */
struct sgz_dirent {
	__le64 ino;
	/* The inode's generation when the entry was made. */
	__le32 generation;
	/* crc32c of the name bytes. */
	__le32 hash;
	__u8 name_len;
	/* SGZ_DT_* */
	__u8 type;
	__le16 reserved0;
	__le32 reserved1;
	/* name_len bytes, no NUL, no '/', not "." or ".."; the rest zero. */
	__u8 name[256];
	__le32 reserved2;
	__le32 crc;
};
_Static_assert(sizeof(struct sgz_dirent) == SGZ_DIRENT_SIZE, "sgz_dirent size");
_Static_assert(__builtin_offsetof(struct sgz_dirent, crc) == SGZ_DIRENT_SIZE - 4, "the dirent crc is its last field");
_Static_assert(SGZ_DIR_PAGE_HEADER + SGZ_DIRENTS_PER_PAGE * SGZ_DIRENT_SIZE == SGZ_PAGE_SIZE,
	       "directory page layout");

/*
 * The directory index (2.2): an extendible hash of the directory's slots by
 * name hash, in 4 KiB pages of the structure pool that the directory owns
 * (counted in its sgz_inode.pages; only the host writes them, inside the
 * journalled change that writes the entries). sgz_inode.index_root is the
 * root page: bucket[h & ((1 << depth) - 1)] is the page number (zone offset
 * >> 12) of the bucket page that holds every indexed slot whose name hash h
 * ends in those bits. A bucket page of local depth d (d <= depth) is named
 * by the 2^(depth - d) root entries that agree on h's low d bits. A bucket
 * holds count (hash, slot) pairs in any order; when it is full it splits in
 * two on the next bit (the root doubling first if need be); at depth
 * SGZ_DIRIDX_MAX_DEPTH a full bucket instead chains an overflow page
 * (next), so any number of names may share a hash. Pairs are never
 * reordered across buckets except by a split; nothing is merged back. The
 * index is dropped (its pages freed) when the directory's last entry goes.
 * Readers under the directory's seqcount find h's bucket, follow at most
 * pages - 1 next links, and compare each pair whose hash is h against the
 * entry in that slot (hash, then name); a reader checks every page number
 * lies in the structure pool and every slot below the directory's slots,
 * and takes a magic or count out of range as a corrupt index (EIO).
 *
 * Root:    0 magic  4 depth  5 reserved0[3]  8 pages  12 entries
 *         16 reserved[12]  64 bucket[512]  2112 reserved2[1984]
 * Bucket:  0 magic  4 depth  5 reserved0  6 count  8 next  12 reserved1
 *         16 pairs[2 * 510]: (hash, slot) each
 */
#define SGZ_DIRIDX_MAGIC 0x58444753U
#define SGZ_DIRIDX_BUCKET_MAGIC 0x42444753U
#define SGZ_DIRIDX_MAX_DEPTH 9
#define SGZ_DIRIDX_ROOT_ENTRIES 512
#define SGZ_DIRIDX_BUCKET_PAIRS 510

struct sgz_dir_index {
	/* SGZ_DIRIDX_MAGIC ("SGDX"). */
	__le32 magic;
	/* The root's depth: 0..SGZ_DIRIDX_MAX_DEPTH; 2^depth entries in use. */
	__u8 depth;
	__u8 reserved0[3];
	/* Pages of the index, root included. */
	__le32 pages;
	/* Pairs held: the directory's live entries. */
	__le32 entries;
	__le32 reserved[12];
	/* Page numbers (zone offset >> 12) of the bucket pages. */
	__le32 bucket[SGZ_DIRIDX_ROOT_ENTRIES];
	__u8 reserved2[1984];
};
_Static_assert(sizeof(struct sgz_dir_index) == SGZ_PAGE_SIZE, "sgz_dir_index size");
_Static_assert(__builtin_offsetof(struct sgz_dir_index, bucket) == 64, "sgz_dir_index bucket offset");

struct sgz_dir_bucket {
	/* SGZ_DIRIDX_BUCKET_MAGIC ("SGDB"). */
	__le32 magic;
	/* Local depth: its pairs' hashes agree on this many low bits. */
	__u8 depth;
	__u8 reserved0;
	/* Pairs in use, pairs[0..count). */
	__le16 count;
	/* Overflow page number (zone offset >> 12), 0 = none; only at SGZ_DIRIDX_MAX_DEPTH. */
	__le32 next;
	__le32 reserved1;
	/* Pair i: pairs[2i] the name hash (sgz_dirent.hash), pairs[2i + 1] the slot. */
	__le32 pairs[2 * SGZ_DIRIDX_BUCKET_PAIRS];
};
_Static_assert(sizeof(struct sgz_dir_bucket) == SGZ_PAGE_SIZE, "sgz_dir_bucket size");

/*
 * The undo journal, at superblock journal.offset. Before the host changes a
 * range of the zone inside a change, it appends a record holding the
 * range's old bytes, then raises used; state is ACTIVE for the whole
 * change and IDLE after it. A reader that finds ACTIVE with no live writer
 * copies the records back, newest first, then sets IDLE: the zone is then
 * exactly as before the change.
 *
 *   0 magic  8 state  12 reserved0  16 sequence  24 used  32 reserved[4]
 */
struct sgz_journal_header {
	__le64 magic;
	/* SGZ_JOURNAL_IDLE or SGZ_JOURNAL_ACTIVE. */
	__le32 state;
	__le32 reserved0;
	/* Number of changes started since format. */
	__le64 sequence;
	/* Bytes of records after this header. */
	__le64 used;
	__le64 reserved[4];
};
_Static_assert(sizeof(struct sgz_journal_header) == 64, "sgz_journal_header size");

/*
 * One journal record, followed by length bytes of old data padded to 8.
 * crc covers offset, length and the data.
 *   0 offset  8 length  12 crc
 */
struct sgz_journal_record {
	__le64 offset;
	__le32 length;
	__le32 crc;
};
_Static_assert(sizeof(struct sgz_journal_record) == 16, "sgz_journal_record size");

/*
 * A peer slot: the host (slot 0) or a guest. Also holds the peer's
 * allocation partition: the group it fills and the chunk it takes 4 KiB
 * pages from, so that peers do not interleave their chunks.
 *
 *   0 state  4 ivposition  8 pid  16 since_ns  24 heartbeat
 *  32 alloc_group  36 page_chunk  40 reserved[88]
 */
struct sgz_peer {
	/* SGZ_PEER_* */
	__le32 state;
	/* The peer's ivshmem id. */
	__le32 ivposition;
	__le64 pid;
	__le64 since_ns;
	__le64 heartbeat;
	/* Allocation group being filled, + 1; 0 = none. */
	__le32 alloc_group;
	/* Chunk that 4 KiB pages are taken from, + 1; 0 = none. */
	__le32 page_chunk;
	__u8 reserved[88];
};
_Static_assert(sizeof(struct sgz_peer) == SGZ_PEER_SIZE, "sgz_peer size");

/*
 * A lock table slot: one granted flock() or fcntl() byte-range lock. Only the
 * host writes the table, inside journalled changes, when it grants or drops
 * a lock for a peer's SGZ_OP_LOCK request (or for a host process); word 0 is
 * a free slot. A lock survives a restart of the host service; the host drops
 * every slot of a peer that dies.
 *
 *   0 word  8 ino  16 owner  24 start  32 end  40 pid  44 generation
 *  48 reserved[2]
 *
 * word: bits 0..15 holder peer slot + 1, bits 16..19 SGZ_LOCK_KIND_*,
 * bit 20 set for an exclusive (write) lock. owner is the holder's opaque
 * owner id (one open file for flock, one process's file table for fcntl);
 * start..end is inclusive, end = SGZ_LOCK_EOF for "to the end of file".
 */
#define SGZ_LOCK_HOLDER_MASK 0xffffULL
#define SGZ_LOCK_KIND_SHIFT 16
#define SGZ_LOCK_KIND_FLOCK 1
#define SGZ_LOCK_KIND_POSIX 2
#define SGZ_LOCK_EXCLUSIVE 0x100000ULL
#define SGZ_LOCK_EOF 0xffffffffffffffffULL

struct sgz_lock {
	__le64 word;
	__le64 ino;
	__le64 owner;
	__le64 start;
	__le64 end;
	/* The locking process's id in its own machine (what F_GETLK reports). */
	__le32 pid;
	/* The inode's generation when the lock was taken. */
	__le32 generation;
	__le64 reserved[2];
};
_Static_assert(sizeof(struct sgz_lock) == SGZ_LOCK_SIZE, "sgz_lock size");

/*
 * A ring area: ring_bytes laid out as below. Peer slot p's area in the
 * rings region (Z) starts at rings.offset + p * ring_bytes; there the host
 * writes host_epoch and the reply ring. The guest's own copy of the layout,
 * at SGZ_AREA_RING in its private area, holds its request ring and its open
 * table (2.1; in 2.0 one area in Z.data held all four):
 *
 *      0 struct sgz_ring_header
 *     64 SGZ_RING_SLOTS x struct sgz_request   (the request ring)
 *   9280 SGZ_RING_SLOTS x struct sgz_reply     (the reply ring)
 *  10304 SGZ_OPEN_ENTRIES x struct sgz_open    (the open table)
 *
 * The rings are indexed by tag (0..SGZ_RING_SLOTS-1): request i is answered
 * by reply i. A guest writes a request into a slot it owns, then its seq
 * (last, with a release store; seqs rise by one per request and are never
 * 0), then rings the host's vector 0. The host copies the request out,
 * checks every field, applies it (a structural change and the reply's
 * body, seq included, in one journalled change), then stores done = seq
 * and rings the guest's vector 0. A slot is pending while request.seq is
 * not reply.done; the host takes pending slots of one peer in seq order.
 * With no doorbells (a restarted host service, whose eventfds QEMU never
 * learns) both sides poll. docs/requests.md has the
 * tables.
 */
#define SGZ_RING_SLOTS 8
#define SGZ_REQUEST_SIZE 1152
#define SGZ_REPLY_SIZE 128
#define SGZ_OPEN_SIZE 16
#define SGZ_RING_REQUESTS 64
#define SGZ_RING_REPLIES 9280
#define SGZ_RING_OPENS 10304
#define SGZ_OPEN_ENTRIES 380
#define SGZ_SYMLINK_MAX 768
/*
 * 2.2: the longest symlink target (PATH_MAX - 1): a guest sends it in its
 * payload buffer (SGZ_REQ_PAYLOAD), the host keeps it in one page of the
 * structure pool. name2 (SGZ_SYMLINK_MAX bytes) still carries a target of a
 * request without SGZ_REQ_PAYLOAD.
 */
#define SGZ_SYMLINK_TARGET_MAX 4095

/* Request opcodes (sgz_request.opcode). */
#define SGZ_OP_CREATE 1
#define SGZ_OP_MKDIR 2
#define SGZ_OP_MKNOD 3
#define SGZ_OP_SYMLINK 4
#define SGZ_OP_LINK 5
#define SGZ_OP_UNLINK 6
#define SGZ_OP_RMDIR 7
#define SGZ_OP_RENAME 8
#define SGZ_OP_SETATTR 9
#define SGZ_OP_ALLOCATE 10
#define SGZ_OP_LOCK 11
#define SGZ_OP_GETLK 12
#define SGZ_OP_RELEASE 13
#define SGZ_OP_NOP 14
/* 2.1: the caller dropped every inode of the invalidation log up to epoch offset. */
#define SGZ_OP_ACK 15
/*
 * 2.2: set (flags SGZ_XATTR_CREATE / SGZ_XATTR_REPLACE) or remove one
 * extended attribute of inode ino: its full name ("user.x") in name2,
 * name2_len bytes; setxattr's value in the payload (SGZ_REQ_PAYLOAD,
 * length bytes, 0 allowed); the caller's groups in name[].
 */
#define SGZ_OP_SETXATTR 16
#define SGZ_OP_REMOVEXATTR 17
/*
 * 2.2: fallocate's PUNCH_HOLE (and the first half of ZERO_RANGE): the pages
 * wholly inside [offset, offset + length) of file ino are freed (a 2 MiB
 * leaf only if wholly inside), the rest of the range reads as zeros; the
 * size stays. length 1..SGZ_ALLOCATE_MAX. The caller holds the lock word.
 */
#define SGZ_OP_PUNCH 18
/*
 * 2.3: copy_file_range inside one zone, done by the host: length bytes
 * (1..SGZ_COPY_MAX) from offset of regular file ino/generation (the source)
 * to offset rdev of regular file ino2/generation2 (the destination), fewer
 * where the source ends. The caller needs read permission on the source and
 * write permission on the destination, whose lock word it holds; the ranges
 * of one file must not overlap. A hole of the source stays a hole where the
 * destination has one, and is zeroed where the destination has pages. The
 * destination grows to the copy's end, mtime and ctime move, and setuid and
 * setgid (with group execute) drop unless SGZ_REQ_COPY_FSETID. The caller's
 * groups are in name[]. reply.size is the number of bytes copied.
 */
#define SGZ_OP_COPY 19

/*
 * Opcodes whose reply names an inode (sgz_reply.ino and generation): bit
 * (1 << opcode) is set for each. Every other reply carries ino 0.
 */
#define SGZ_OP_MASK_INODE_REPLY ((1U << SGZ_OP_CREATE) | (1U << SGZ_OP_MKDIR) | (1U << SGZ_OP_MKNOD) | \
				 (1U << SGZ_OP_SYMLINK) | (1U << SGZ_OP_LINK))

/*
 * Opcodes whose successful reply gives sgz_reply.dir_change (and, for a
 * rename between two directories, dir2_change): those that make, remove or
 * rename a name (not an O_TMPFILE create, which names nothing).
 */
#define SGZ_OP_MASK_DIR_CHANGE (SGZ_OP_MASK_INODE_REPLY | (1U << SGZ_OP_UNLINK) | (1U << SGZ_OP_RMDIR) | \
				(1U << SGZ_OP_RENAME))

/*
 * sgz_request.flags of SGZ_OP_RENAME: the Linux RENAME_* values. Any bit
 * outside SGZ_RENAME_KNOWN, or both together, is refused with EINVAL.
 */
#define SGZ_RENAME_NOREPLACE 0x1U
#define SGZ_RENAME_EXCHANGE 0x2U
#define SGZ_RENAME_KNOWN (SGZ_RENAME_NOREPLACE | SGZ_RENAME_EXCHANGE)
/*
 * sgz_request.flags of SGZ_OP_LOCK and SGZ_OP_GETLK. Any bit outside
 * SGZ_REQ_LOCK_KNOWN (for GETLK: outside SGZ_REQ_LOCK_FLOCK) is refused with
 * EINVAL.
 */
#define SGZ_REQ_LOCK_FLOCK 0x1U
#define SGZ_REQ_LOCK_WAIT 0x2U
#define SGZ_REQ_LOCK_KNOWN (SGZ_REQ_LOCK_FLOCK | SGZ_REQ_LOCK_WAIT)
/*
 * sgz_request.flags of SGZ_OP_SETATTR: the change goes through a file the
 * caller opened for writing (ftruncate: the kernel's ATTR_FILE), so a size
 * change needs no write permission. Any other bit is refused with EINVAL.
 */
#define SGZ_REQ_SETATTR_FILE 0x1U
/*
 * sgz_request.flags of SGZ_OP_SETATTR (2.2): an access-time update (the
 * kernel's touch_atime, by the mount's relatime or strictatime rule):
 * valid is exactly SGZ_ATTR_ATIME with atime_ns SGZ_TIME_NOW; read
 * permission is enough, ctime stays, and atime becomes the host's clock
 * (never at or before the file's mtime and ctime, whatever clock wrote them).
 */
#define SGZ_REQ_SETATTR_ACCESS 0x2U
/*
 * sgz_request.flags of SGZ_OP_CREATE (2.2): an O_TMPFILE in directory ino:
 * no name (name_len 0), made with nlink 0 as an orphan with
 * SGZ_INODE_TMPFILE, which the host keeps for the caller until its open
 * table names it (or SGZ_TMPFILE_HOLD_MS pass) and then as any orphan.
 */
#define SGZ_REQ_TMPFILE 0x1U
/*
 * sgz_request.flags of SGZ_OP_ACK (2.2): the caller's mount ended and it
 * maps nothing of the zone: the grace period stops waiting for it until its
 * next ACK without the flag, which a mount sends before it returns.
 */
#define SGZ_REQ_ACK_DETACH 0x1U
/*
 * sgz_request.flags of SGZ_OP_COPY (2.3): the caller has CAP_FSETID, so the
 * destination keeps setuid and setgid (as a write by it would). Any other
 * bit is refused with EINVAL.
 */
#define SGZ_REQ_COPY_FSETID 0x1U
#define SGZ_TMPFILE_HOLD_MS 10000
/*
 * sgz_request.flags of every opcode: caller_uid, caller_gid and ngroups
 * (and the groups, see SGZ_REQ_GROUPS_MAX) are filled in. Since 1.2 a
 * guest sets it in every request, and the host refuses a request without
 * it with EPROTO: in an older guest's request those fields were reserved
 * zeros, which would read as uid 0. The host takes it out before reading
 * the opcode's own flags.
 */
#define SGZ_REQ_CALLER 0x80000000U
/*
 * 2.2: sgz_request.flags of every opcode: the request carries length bytes
 * (0..SGZ_PAYLOAD_SIZE) in its tag's payload buffer of the private area
 * (SGZ_AREA_PAYLOAD): a symlink's target, a setxattr's value. The host
 * copies those bytes once, with the request, before it checks anything,
 * and never reads the buffer again. Taken out with SGZ_REQ_CALLER.
 */
#define SGZ_REQ_PAYLOAD 0x40000000U
/*
 * sgz_request.flags of SGZ_OP_SETXATTR and SGZ_OP_REMOVEXATTR: the Linux
 * XATTR_CREATE and XATTR_REPLACE values (setxattr only, not both), and
 * SGZ_REQ_XATTR_ADMIN: the caller has CAP_SYS_ADMIN in the guest's initial
 * user namespace (trusted.* needs it). Any other bit is refused with EINVAL.
 */
#define SGZ_XATTR_CREATE 0x1U
#define SGZ_XATTR_REPLACE 0x2U
#define SGZ_REQ_XATTR_ADMIN 0x4U
/*
 * The most supplementary groups a request carries. Requests without an
 * entry name (SGZ_OP_SETATTR, SGZ_OP_ALLOCATE, SGZ_OP_COPY) carry the caller's
 * supplementary gids in name[]: ngroups little-endian __le32 values. A
 * caller in more groups sends the first SGZ_REQ_GROUPS_MAX, but always
 * the group a chgrp gives when the caller is in it. Every other opcode
 * has ngroups 0; the host refuses more with EINVAL.
 */
#define SGZ_REQ_GROUPS_MAX 16

/* sgz_request.valid of SGZ_OP_SETATTR. */
#define SGZ_ATTR_MODE 0x1U
#define SGZ_ATTR_UID 0x2U
#define SGZ_ATTR_GID 0x4U
#define SGZ_ATTR_SIZE 0x8U
#define SGZ_ATTR_ATIME 0x10U
#define SGZ_ATTR_MTIME 0x20U
/*
 * Drop set-user-id, and set-group-id if group-execute is set, as a write or
 * truncate by someone who is not the owner must (the kernel's
 * ATTR_KILL_SUID / ATTR_KILL_SGID). It never sets a bit, so the host
 * accepts it from any caller; mode is not read.
 */
#define SGZ_ATTR_KILL_PRIV 0x40U
/* Every SGZ_ATTR_* bit: a valid with any other bit is refused with EINVAL. */
#define SGZ_ATTR_KNOWN (SGZ_ATTR_MODE | SGZ_ATTR_UID | SGZ_ATTR_GID | SGZ_ATTR_SIZE | SGZ_ATTR_ATIME | SGZ_ATTR_MTIME | \
			SGZ_ATTR_KILL_PRIV)
/* A time of SGZ_TIME_NOW means the host's clock at the change. */
#define SGZ_TIME_NOW 0xffffffffffffffffULL
/*
 * 2.3: a hint's mtime or ctime further ahead of the reader's clock than
 * this (one day) is forged or broken: a change takes its time from the
 * clock, not one nanosecond past it, so that one guest cannot push a
 * file's times out of reach of every later change.
 */
#define SGZ_CLOCK_LEAD_MAX_NS 86400000000000ULL

/*
 * The most bytes one SGZ_OP_ALLOCATE may name (sgz_request.length 1..this;
 * a guest sends a bigger range in pieces). The host also allocates a write
 * of its own in changes of at most this much, so one change fits the
 * smallest journal.
 */
#define SGZ_ALLOCATE_MAX (1ULL << 30)
/*
 * 2.3: the most bytes one SGZ_OP_COPY may name: a few milliseconds of the
 * host's loop at memory speed (a guest sends a longer copy in pieces).
 */
#define SGZ_COPY_MAX (1ULL << 22)

/*
 * sgz_reply.status: 0, or one of these positive Linux (asm-generic) errno
 * values; a guest returns its negation. docs/requests.md says when each is
 * sent.
 */
#define SGZ_STATUS_OK 0
#define SGZ_STATUS_EPERM 1
#define SGZ_STATUS_ENOENT 2
#define SGZ_STATUS_EIO 5
#define SGZ_STATUS_EAGAIN 11
#define SGZ_STATUS_EACCES 13
#define SGZ_STATUS_EBUSY 16
#define SGZ_STATUS_EEXIST 17
#define SGZ_STATUS_EXDEV 18
#define SGZ_STATUS_ENOTDIR 20
#define SGZ_STATUS_EISDIR 21
#define SGZ_STATUS_EINVAL 22
#define SGZ_STATUS_ENFILE 23
#define SGZ_STATUS_EFBIG 27
#define SGZ_STATUS_ENOSPC 28
#define SGZ_STATUS_EROFS 30
#define SGZ_STATUS_EMLINK 31
#define SGZ_STATUS_ENAMETOOLONG 36
#define SGZ_STATUS_ENOLCK 37
#define SGZ_STATUS_ENOSYS 38
#define SGZ_STATUS_ENOTEMPTY 39
#define SGZ_STATUS_ENODATA 61
#define SGZ_STATUS_EPROTO 71
#define SGZ_STATUS_EOPNOTSUPP 95
#define SGZ_STATUS_ESTALE 116

/* Lock types (sgz_request.lock_type, sgz_reply.lock_type). */
#define SGZ_LOCK_UNLOCK 0
#define SGZ_LOCK_READ 1
#define SGZ_LOCK_WRITE 2

/*
 * Unused since 2.1 (a plain guest has no private area and sends no
 * requests); the values stay reserved. In 2.0, a guest without doorbells
 * (ivshmem-plain: no IVPosition, no peer slot from the server) claimed a free slot's area itself: it reads the slot FREE in the
 * peer table, then cmpxchg(claim, 0 -> nonce), nonce random and neither 0 nor
 * SGZ_CLAIM_HOST, trying slots from max_peers-1 down. The host makes a
 * claimed FREE slot a live peer (pid 0) and serves it by polling. The guest
 * bumps heartbeat at least every SGZ_CLAIM_HEARTBEAT_MS; a heartbeat
 * unchanged for SGZ_CLAIM_TIMEOUT_MS, or claim stored back to 0, is the
 * guest's departure (the host then zeroes the area). The host stores
 * SGZ_CLAIM_HOST, with the same cmpxchg, into the area of a slot it gives a
 * doorbell QEMU, so the two never share a slot.
 */
#define SGZ_CLAIM_HOST 0xffffffffffffffffULL
/*
 * sgz_ring_header.guest_flags (private area), 2.3: the guest keeps
 * sleepers, so the host rings it after a reply only while one of its
 * waiters sleeps (a guest that polls for its reply needs no interrupt).
 * Without it the host rings after every reply.
 */
#define SGZ_RING_GUEST_SLEEPERS 0x1
#define SGZ_CLAIM_HEARTBEAT_MS 100
#define SGZ_CLAIM_TIMEOUT_MS 3000

/*
 * Head of a peer's ring area. In the rings region (Z) only host_epoch is
 * used; in a private area only guest_flags and sleepers (claim and
 * heartbeat: 2.0).
 *   0 host_epoch  8 guest_flags  12 sleepers  16 claim  24 heartbeat
 *  32 reserved[4]
 */
struct sgz_ring_header {
	/* Bumped by the host each time a host service starts serving the zone. */
	__le64 host_epoch;
	/* Written by the guest: SGZ_RING_GUEST_* (a hint to the host about this guest alone). */
	__le32 guest_flags;
	/*
	 * 2.3, with SGZ_RING_GUEST_SLEEPERS: how many of the guest's waiters
	 * sleep on a reply (docs/requests.md "Polling"). The guest increments
	 * it, then looks at its reply once more, before it sleeps; the host
	 * publishes a reply, then reads it, and rings the guest's vector 0 only
	 * when it is not 0. Untrusted: a wrong count only slows or wakes that
	 * guest itself.
	 */
	__le32 sleepers;
	/* 0 = unclaimed; a plain guest's nonce, or SGZ_CLAIM_HOST (cmpxchg only). */
	__le64 claim;
	/* Bumped by the plain guest holding the claim. */
	__le64 heartbeat;
	__le64 reserved[4];
};
_Static_assert(sizeof(struct sgz_ring_header) == SGZ_RING_REQUESTS, "sgz_ring_header size");

/*
 * Head of a guest's private area, written by the host before the guest
 * sees the area (a guest may overwrite its own copy: nothing else reads it
 * back).
 *   0 magic  8 version_major  10 version_minor  12 slot  16 uuid[16]
 *  32 flags  36 reserved0  40 reserved[3]
 */
struct sgz_area {
	__le64 magic;
	__le16 version_major;
	__le16 version_minor;
	/* The guest's peer slot (its IVPosition). */
	__le32 slot;
	/* The zone's uuid. */
	__u8 uuid[16];
	/* SGZ_AREA_* */
	__le32 flags;
	__le32 reserved0;
	__le64 reserved[3];
};
_Static_assert(sizeof(struct sgz_area) == SGZ_AREA_HEADER_SIZE, "sgz_area size");
_Static_assert(SGZ_AREA_RING + SGZ_RING_BYTES <= SGZ_AREA_SIZE, "the ring area fits the private area");
_Static_assert(SGZ_AREA_RING + SGZ_RING_BYTES <= SGZ_AREA_PAYLOAD, "the payload buffers follow the ring area");
_Static_assert(SGZ_AREA_PAYLOAD + SGZ_RING_SLOTS * SGZ_PAYLOAD_SIZE <= SGZ_AREA_SIZE, "a payload buffer per ring slot fits the private area");

/*
 * A request, SGZ_REQUEST_SIZE bytes, written by a guest (untrusted).
 *
 *   0 seq  8 opcode  12 flags  16 uid  20 gid  24 ino  32 ino2
 *  40 generation  44 generation2  48 mode  52 name_len  54 name2_len
 *  56 rdev  64 offset  72 length  80 atime_ns  88 mtime_ns  96 valid
 * 100 lock_type  104 owner  112 pid  116 caller_uid  120 caller_gid
 * 124 ngroups  128 name[256]  384 name2[768]
 *
 * ino/generation name the directory (create, mkdir, mknod, symlink, link's
 * new name, unlink, rmdir, rename's source) or the file (setattr,
 * allocate, lock, getlk, release, link's target in ino2/generation2);
 * ino2/generation2 are rename's target directory. name is the entry's name;
 * name2 is rename's new name or a symlink's target (or, for setattr and
 * allocate, name holds the caller's groups: SGZ_REQ_GROUPS_MAX).
 * 2.2: setxattr and removexattr name the inode in ino/generation, carry
 * the attribute's full name in name2 and the caller's groups in name; with
 * SGZ_REQ_PAYLOAD, length counts the bytes in the tag's payload buffer (a
 * symlink's target, a setxattr's value).
 * caller_uid/caller_gid are the caller's fsuid/fsgid (in the guest's
 * initial user namespace), checked against mode bits by the host.
 * uid/gid are the owner: the new inode's (create, mkdir, mknod, symlink:
 * the caller's own) or a chown's new owner and group (setattr with
 * SGZ_ATTR_UID / SGZ_ATTR_GID); other opcodes send the caller's.
 */
struct sgz_request {
	__le64 seq;
	__le32 opcode;
	__le32 flags;
	__le32 uid;
	__le32 gid;
	__le64 ino;
	__le64 ino2;
	__le32 generation;
	__le32 generation2;
	/* New inode's type and permission bits; setattr's mode. */
	__le32 mode;
	__le16 name_len;
	__le16 name2_len;
	/* Mknod's device number; copy's destination offset (2.3). */
	__le64 rdev;
	/* Setattr's size, allocate's start, a lock's start, copy's source offset. */
	__le64 offset;
	/* Allocate's and copy's length, a lock's length (0 = to end of file). */
	__le64 length;
	__le64 atime_ns;
	__le64 mtime_ns;
	/* SGZ_ATTR_* of setattr. */
	__le32 valid;
	__le32 lock_type;
	/* Lock owner id (opaque to the host). */
	__le64 owner;
	__le32 pid;
	/* Since 1.2, valid with SGZ_REQ_CALLER in flags. */
	__le32 caller_uid;
	__le32 caller_gid;
	/* Supplementary gids in name[] (setattr, allocate), 0..SGZ_REQ_GROUPS_MAX. */
	__le32 ngroups;
	__u8 name[256];
	__u8 name2[SGZ_SYMLINK_MAX];
};
_Static_assert(sizeof(struct sgz_request) == SGZ_REQUEST_SIZE, "sgz_request size");
_Static_assert(__builtin_offsetof(struct sgz_request, name) == 128, "request names follow the fixed fields");

/*
 * A reply, SGZ_REPLY_SIZE bytes, written by the host only.
 *
 *   0 seq  8 done  16 status  20 generation  24 ino  32 size
 *  40 lock_type  44 lock_pid  48 lock_start  56 lock_end  64 dir_change
 *  72 dir2_change  80 reserved[6]
 *
 * status is 0 or a positive Linux errno. ino/generation: the inode made
 * (create, mkdir, mknod, symlink) or linked. size: allocate's new
 * allocated end; copy's bytes copied (2.3). lock_*: the conflicting lock of a refused lock or getlk
 * (lock_type SGZ_LOCK_UNLOCK if none). dir_change (opcodes in
 * SGZ_OP_MASK_DIR_CHANGE, status 0): the directory's change counter once
 * the request's change committed; the request moved it from dir_change - 1
 * and nothing else did. dir2_change: the same for a rename's new directory
 * when it is another. 0 means not given (an older service wrote zeros here).
 */
struct sgz_reply {
	__le64 seq;
	/* = seq once the reply may be read; stored last, after the change commits. */
	__le64 done;
	__le32 status;
	__le32 generation;
	__le64 ino;
	__le64 size;
	__le32 lock_type;
	__le32 lock_pid;
	__le64 lock_start;
	__le64 lock_end;
	__le64 dir_change;
	__le64 dir2_change;
	__le64 reserved[6];
};
_Static_assert(sizeof(struct sgz_reply) == SGZ_REPLY_SIZE, "sgz_reply size");
_Static_assert(SGZ_RING_REQUESTS + SGZ_RING_SLOTS * SGZ_REQUEST_SIZE == SGZ_RING_REPLIES, "reply ring place");
_Static_assert(SGZ_RING_REPLIES + SGZ_RING_SLOTS * SGZ_REPLY_SIZE == SGZ_RING_OPENS, "open table place");
_Static_assert(SGZ_RING_OPENS + SGZ_OPEN_ENTRIES * SGZ_OPEN_SIZE <= SGZ_RING_BYTES, "a peer's area");

/*
 * An open table entry, written by its guest only (untrusted): the guest
 * has count open files on inode ino of that generation; count 0 (or ino 0)
 * is a free entry. The host keeps an unlinked inode (SGZ_INODE_ORPHAN)
 * while any live peer's table names it, and frees it when none does: at
 * that guest's SGZ_OP_RELEASE, or when the peer is gone.
 *   0 ino  8 generation  12 count
 */
struct sgz_open {
	__le64 ino;
	__le32 generation;
	__le32 count;
};
_Static_assert(sizeof(struct sgz_open) == SGZ_OPEN_SIZE, "sgz_open size");

/*
 * The invalidation log (2.1), at inval_log in Z: written by the host only,
 * inside the journalled change that frees a file's data pages; guests read
 * it. Each such change takes a new epoch (posted_epoch + 1), appends one
 * record per inode whose pages it freed, and then raises head and
 * posted_epoch. Record n (counting from 0, forever) is in slot
 * n % SGZ_INVAL_RECORDS and carries seq = n + 1; epochs never go down
 * along the log. A guest keeps its own cursor: when head - cursor exceeds
 * SGZ_INVAL_RECORDS, or the log went backwards, it lost records and drops
 * the mappings of every inode. After dropping its mappings of every inode
 * named up to an epoch, it sends SGZ_OP_ACK with that epoch (never above
 * posted_epoch). The freed pages stay in use (grace_pages) until every
 * live peer acknowledged their epoch.
 *   header:  0 magic  8 posted_epoch  16 head  24 records  28 record_size
 *           32 reserved[4]
 *   record:  0 seq  8 epoch  16 ino  24 generation  28 reserved
 */
/* "SGZINVAL" read as a little-endian 64-bit number. */
#define SGZ_INVAL_MAGIC 0x4c41564e495a4753ULL
#define SGZ_INVAL_RECORDS 1024
#define SGZ_INVAL_HEADER_SIZE 64
#define SGZ_INVAL_RECORD_SIZE 32

struct sgz_inval_header {
	__le64 magic;
	__le64 posted_epoch;
	/* Records ever appended; the newest has seq head. */
	__le64 head;
	__le32 records;
	__le32 record_size;
	__le64 reserved[4];
};
_Static_assert(sizeof(struct sgz_inval_header) == SGZ_INVAL_HEADER_SIZE, "sgz_inval_header size");

struct sgz_inval_record {
	__le64 seq;
	__le64 epoch;
	__le64 ino;
	__le32 generation;
	__le32 reserved;
};
_Static_assert(sizeof(struct sgz_inval_record) == SGZ_INVAL_RECORD_SIZE, "sgz_inval_record size");

/*
 * An xattr block (2.2): one 4 KiB page of the structure pool that holds all
 * of one inode's extended attributes, named by sgz_inode.xattr (0 = the
 * inode has none; a block with no entry is freed). Written by the host only,
 * inside the journalled change that holds the inode's seqcount; a reader
 * copies it under that seqcount and checks magic, ino, generation, count,
 * used and crc before it believes a byte. As ext4 without ea_inode: every
 * name and value of one inode together fit one block, or the set gives
 * ENOSPC.
 *   header:  0 magic  4 crc  8 count  10 used  12 reserved0  16 ino
 *           24 generation  28 reserved1
 * Then count entries from byte SGZ_XATTR_HEADER_SIZE, used bytes in all,
 * each SGZ_XATTR_ENTRY_SIZE bytes (name_index, name_len, value_len) then
 * name_len bytes of the name after its namespace prefix, then value_len
 * bytes of value, zero-padded to a multiple of 4; names are unique within
 * a namespace. The rest of the block is zero. crc covers the bytes from
 * count to the end of the entries (8 .. SGZ_XATTR_HEADER_SIZE + used), as
 * a journal record's covers what follows it.
 */
/* "XATR" read as a little-endian 32-bit number. */
#define SGZ_XATTR_MAGIC 0x52544158U
#define SGZ_XATTR_BLOCK_SIZE 4096
#define SGZ_XATTR_HEADER_SIZE 32
#define SGZ_XATTR_ENTRY_SIZE 4
/* The longest full name ("user." included), Linux XATTR_NAME_MAX. */
#define SGZ_XATTR_NAME_MAX 255
/* sgz_xattr_entry.name_index: the namespace, whose prefix the name drops. */
#define SGZ_XATTR_USER 1
#define SGZ_XATTR_TRUSTED 2
#define SGZ_XATTR_SECURITY 3

struct sgz_xattr_header {
	__le32 magic;
	__le32 crc;
	/* Entries, and the bytes they take after the header. */
	__le16 count;
	__le16 used;
	__le32 reserved0;
	/* The inode that owns the block, and its generation. */
	__le64 ino;
	__le32 generation;
	__le32 reserved1;
};
_Static_assert(sizeof(struct sgz_xattr_header) == SGZ_XATTR_HEADER_SIZE, "sgz_xattr_header size");
_Static_assert(__builtin_offsetof(struct sgz_xattr_header, count) == 8, "the xattr crc covers count onwards");
_Static_assert(SGZ_XATTR_BLOCK_SIZE == SGZ_PAGE_SIZE, "an xattr block is one pool page");

struct sgz_xattr_entry {
	/* SGZ_XATTR_USER, SGZ_XATTR_TRUSTED or SGZ_XATTR_SECURITY. */
	__u8 name_index;
	/* 1..255 bytes of name after the prefix. */
	__u8 name_len;
	__le16 value_len;
};
_Static_assert(sizeof(struct sgz_xattr_entry) == SGZ_XATTR_ENTRY_SIZE, "sgz_xattr_entry size");

#endif /* _STARGATE_ZONE_H */
