// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * sgfstest - exercise a mounted stargatefs from inside a guest: checksums
 * through read(2) and through shared mappings, deterministic writes, stores
 * and waits on shared mappings, huge-mapping evidence from smaps. Built
 * static (no libc in the test initramfs) by integration-tests (or `make` in
 * this folder); it runs on the host too, over any file.
 *
 * Output: one line of space-separated key=value words on stdout. A failure
 * prints "error=ENAME call=CALL path=PATH" (ENAME an errno name, or SIGBUS
 * for a fault on a mapping, ETIMEDOUT for mmwait) on stdout and exits 1, so
 * a test can tell which errno the file system gave; usage errors exit 2.
 *
 *   sgfstest sum FILE                 size and crc32c, read(2) in 1 MiB blocks
 *   sgfstest mmsum FILE [populate]    the same through mmap(MAP_SHARED)
 *   sgfstest fill FILE OFF LEN SEED   pwrite the pattern of SEED over [OFF, OFF+LEN)
 *   sgfstest mmfill FILE OFF LEN SEED the same through a shared mapping, then msync
 *   sgfstest mmpoke FILE OFF U64      store a u64 through a shared mapping (no msync)
 *   sgfstest mmwait FILE OFF U64 MS   map, then poll with volatile loads until the
 *                                     u64 at OFF is U64; "mapped=1" first, flushed
 *   sgfstest mmstore FILE U64 MS      map the whole file shared and store U64 at
 *                                     the start of every page, pass after pass,
 *                                     for MS; "mapped=1" after the first pass
 *                                     (flushed), then "passes=N sigbus=0|1": a
 *                                     SIGBUS (the file shrank under the mapping)
 *                                     ends the stores and is no failure
 *   sgfstest mmhuge FILE [fixed]      map the whole file MAP_SHARED|MAP_POPULATE
 *                                     (fixed: at a 2 MiB-aligned address), touch
 *                                     every page; faults taken and the mapping's
 *                                     smaps sizes
 *   sgfstest mount SOURCE DIR [OPTIONS]
 *                                     mount(2) SOURCE on DIR as stargatefs; OPTIONS
 *                                     is a comma list: ro and remount are mount(2)
 *                                     flags, every other word goes to the file
 *                                     system as it is (suid, dev: mount(8) would
 *                                     keep those for itself)
 *   sgfstest cred                     the process's ids: "uid= euid= gid= egid="
 *   sgfstest as UID GID COMMAND [ARG...]
 *                                     drop every group, become UID:GID (real,
 *                                     effective and saved), then exec COMMAND
 *   sgfstest lockappend FILE COUNT TAG [flock|posix]
 *                                     COUNT times: lock FILE exclusively, append
 *                                     one record (below), unlock; "records=COUNT"
 *   sgfstest lockhold FILE [flock|posix] [shared]
 *                                     take the lock (waiting), print "locked=1",
 *                                     then sleep until killed
 *   sgfstest trylock FILE [flock|posix] [shared]
 *                                     one attempt without waiting: "locked=1", or
 *                                     error=EAGAIN (EWOULDBLOCK) or EACCES
 *   sgfstest checkrecords FILE TAG COUNT [TAG COUNT...]
 *                                     FILE is whole records; each TAG's numbers
 *                                     are 0..COUNT-1, each once, rising, and no
 *                                     other tag appears: "records=N", or
 *                                     error=EBADMSG and what is wrong on stderr
 *   sgfstest treesum DIR              files, directories, bytes and one crc of a
 *                                     tree (below): "files= dirs= bytes= crc="
 *   sgfstest chown FILE UID GID       chown(2): "uid= gid=" after
 *   sgfstest victim DIR SECONDS       the victim beside a hostile guest: rounds of
 *                                     create, write, read, shared-mapping stores
 *                                     and loads, a posix lock and unlock, fstat
 *                                     and unlink on its own files in DIR (made if
 *                                     missing), each checked and timed, until
 *                                     SECONDS pass or DIR/stop exists: "started=1",
 *                                     then "ops= errors= wrong= rounds= worst_ms="
 *                                     and the worst per operation as NAME_ms=
 *                                     (errors and wrong data name themselves on
 *                                     stderr); exit 0 whatever it saw
 *   sgfstest ftruncate FILE SIZE MODE open FILE O_WRONLY, fchmod it to MODE
 *                                     (octal), ftruncate the open file to SIZE:
 *                                     "size= mode=" (octal) after
 *   sgfstest xattr set FILE NAME VALUE [create|replace]
 *                                     lsetxattr(2) NAME to VALUE ("@N": N bytes
 *                                     'v'), flags XATTR_CREATE or XATTR_REPLACE:
 *                                     "size=" of the value set
 *   sgfstest xattr get FILE NAME [SIZE]
 *                                     lgetxattr(2) with a buffer of SIZE bytes
 *                                     (65536 if not given; 0 asks the size only):
 *                                     "size=N value=VALUE" (value when printable)
 *   sgfstest xattr list FILE [SIZE]   llistxattr(2) likewise: "size=N names=a,b"
 *   sgfstest xattr remove FILE NAME   lremovexattr(2): "removed=1"
 *   sgfstest symlink LINK LEN         symlink(2) LINK to a target of LEN bytes
 *                                     (a repeating "0123456789/"): "len="
 *   sgfstest readlink LINK            readlink(2) with a PATH_MAX buffer:
 *                                     "len=N crc=C" (crc32c of the target)
 *   sgfstest excl PATH                open(2) O_CREAT|O_EXCL|O_WRONLY, mode
 *                                     0644, then close: "made=1" (EEXIST if
 *                                     PATH exists, as any name does)
 *   sgfstest copy SRC DST CHUNK [sendfile]
 *                                     copy SRC into DST (made, or truncated) by
 *                                     copy_file_range(2) of at most CHUNK bytes a
 *                                     call, as cp does (on EXDEV, a copy across
 *                                     file systems, by sendfile(2) instead), or by
 *                                     sendfile(2) only (the kernel's splice copy):
 *                                     "bytes=N via=copy_file_range|sendfile us=T
 *                                     blocks=B" (B: DST's st_blocks after)
 *
 * Locks: flock (the default) is flock(2) LOCK_EX/LOCK_SH; posix is fcntl(2)
 * F_SETLKW/F_SETLK of the whole file (start 0, length 0), F_WRLCK or F_RDLCK.
 *
 * A record is 32 bytes: TAG, one space, the record's number as 8 decimal
 * digits, spaces up to byte 30, and '\n' as byte 31 ("w1 00000007" + 20
 * spaces + "\n"). TAG is 1..22 bytes without spaces; a number is below 10^8.
 * Appends use O_APPEND, so records of several writers never overlap when
 * the file system appends atomically; the lock orders them.
 *
 * The tree sum: the tree is walked depth first, the entries of each
 * directory in bytewise (strcmp) order of their names, "." and ".." left
 * out, symbolic links not followed. A directory counts in dirs (DIR itself
 * does not) and is walked where it sorts; a regular file counts in files and
 * its size in bytes, and the crc continues over its path relative to DIR
 * ("a/b/c", '/' between names, no leading "./"), one NUL byte, then its
 * content. Other entries (symbolic links, fifos, sockets, devices) are left
 * out entirely. crc is the crc32c below over that whole stream, printed as 8
 * hex digits (00000000 for a tree without files). The tests' C# mirror
 * computes the same from the host's copy of the tree.
 *
 * crc32c is Castagnoli with initial value 0xffffffff and final xor
 * 0xffffffff, as the zone header's (crc of "123456789" is 0xe3069283).
 *
 * The pattern: byte at file offset o is byte (o % 8) (little-endian) of
 * splitmix64(o / 8 + splitmix64(SEED)); it depends only on the seed and the
 * absolute offset, so any range can be written and checked on its own. The
 * tests' C# mirror is integration-tests/.../Guest/FillPattern.cs.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <setjmp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <dirent.h>
#include <grp.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#define SGFS_BLOCK (1U << 20)
#define SGFS_PAGE 4096UL
#define SGFS_CHUNK (2UL << 20)
#define SGFS_FS_TYPE "stargatefs"

/* ---- failures --------------------------------------------------------- */

/* Prints the failure line and returns 1 (the exit status). @err: an errno. */
static int sgfs_fail(const char *err_name, const char *call, const char *path)
{
	printf("error=%s call=%s path=%s\n", err_name, call, path ? path : "-");
	return 1;
}

static int sgfs_fail_errno(int err, const char *call, const char *path)
{
	const char *name = strerrorname_np(err);

	return sgfs_fail(name ? name : "EUNKNOWN", call, path);
}

/* Parses a u64 in C syntax (decimal, 0x hex); nothing else may follow. */
static bool sgfs_parse_u64(const char *text, uint64_t *value)
{
	char *end;

	errno = 0;
	*value = strtoull(text, &end, 0);
	return errno == 0 && end != text && *end == '\0' && text[0] != '-';
}

/* ---- crc32c ------------------------------------------------------------ */

static uint32_t sgfs_crc_table[256];

static void sgfs_crc_init(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;

		for (int k = 0; k < 8; k++)
			c = c & 1 ? (c >> 1) ^ 0x82f63b78U : c >> 1;
		sgfs_crc_table[i] = c;
	}
}

static uint32_t sgfs_crc_soft(uint32_t crc, const uint8_t *p, size_t len)
{
	while (len--)
		crc = sgfs_crc_table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return crc;
}

/* The SSE4.2 instruction: much faster under TCG than the table. */
__attribute__((target("sse4.2")))
static uint32_t sgfs_crc_sse42(uint32_t crc, const uint8_t *p, size_t len)
{
	uint64_t c = crc;

	for (; len >= 8; len -= 8, p += 8) {
		uint64_t word;

		memcpy(&word, p, sizeof(word));
		c = __builtin_ia32_crc32di(c, word);
	}
	crc = (uint32_t)c;
	while (len--)
		crc = __builtin_ia32_crc32qi(crc, *p++);
	return crc;
}

/* Continues a running (not yet inverted) crc over @len bytes at @p. */
static uint32_t sgfs_crc_append(uint32_t crc, const uint8_t *p, size_t len)
{
	static int has_sse42 = -1;

	if (has_sse42 < 0) {
		__builtin_cpu_init();
		has_sse42 = __builtin_cpu_supports("sse4.2");
		sgfs_crc_init();
	}
	return has_sse42 ? sgfs_crc_sse42(crc, p, len) : sgfs_crc_soft(crc, p, len);
}

/* ---- the fill pattern --------------------------------------------------- */

static uint64_t sgfs_splitmix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

/* Writes the pattern of @seed for file offsets [@offset, @offset + @len) to @out. */
static void sgfs_pattern(uint64_t seed, uint64_t offset, volatile uint8_t *out, size_t len)
{
	uint64_t key = sgfs_splitmix64(seed);

	for (size_t i = 0; i < len; i++) {
		uint64_t o = offset + i;

		out[i] = (uint8_t)(sgfs_splitmix64(o / 8 + key) >> (8 * (o % 8)));
	}
}

/* ---- faults on mappings -------------------------------------------------- */

/*
 * A load or store on a mapping past what the file system can back raises
 * SIGBUS; sgfs_guarded() turns it into a false return, so that the caller
 * prints "error=SIGBUS". Accesses run as callbacks: whatever they change
 * lives behind @arg, in memory, where a jump back cannot lose it.
 */
static sigjmp_buf sgfs_fault_jump;

static void sgfs_on_sigbus(int sig)
{
	(void)sig;
	siglongjmp(sgfs_fault_jump, 1);
}

static bool sgfs_guarded(void (*access)(void *arg), void *arg)
{
	struct sigaction action = { .sa_handler = sgfs_on_sigbus };

	sigemptyset(&action.sa_mask);
	sigaction(SIGBUS, &action, NULL);
	if (sigsetjmp(sgfs_fault_jump, 1) != 0)
		return false;
	access(arg);
	return true;
}

/* ---- mappings ------------------------------------------------------------ */

/* A shared mapping of whole pages around [offset, offset + len) of a file. */
struct sgfs_map {
	void *map;
	size_t map_len;
	volatile uint8_t *at; /* file offset @offset */
	uint64_t file_size;
};

static int sgfs_map(int fd, const char *path, uint64_t offset, size_t len, int prot,
		    int extra_flags, struct sgfs_map *m)
{
	uint64_t first = offset & ~(SGFS_PAGE - 1);
	uint64_t end = (offset + len + SGFS_PAGE - 1) & ~(SGFS_PAGE - 1);
	void *map = mmap(NULL, end - first, prot, MAP_SHARED | extra_flags, fd, (off_t)first);

	if (map == MAP_FAILED)
		return sgfs_fail_errno(errno, "mmap", path);
	m->map = map;
	m->map_len = end - first;
	m->at = (volatile uint8_t *)map + (offset - first);
	return 0;
}

static void sgfs_unmap(struct sgfs_map *m)
{
	if (m->map)
		munmap(m->map, m->map_len);
}

static int sgfs_open(const char *path, int flags, int *fd)
{
	/* The mode matters only with O_CREAT (lockappend): what a shell's > would give. */
	*fd = open(path, flags | O_CLOEXEC, 0644);
	return *fd < 0 ? sgfs_fail_errno(errno, "open", path) : 0;
}

static int sgfs_size(int fd, const char *path, uint64_t *size)
{
	struct stat st;

	if (fstat(fd, &st) != 0)
		return sgfs_fail_errno(errno, "fstat", path);
	*size = (uint64_t)st.st_size;
	return 0;
}

/*
 * Opens @path (read-write if @writable) and maps [@offset, @offset + @len) of
 * it shared; @len 0 maps to the end of the file, or nothing (m->map NULL)
 * if that is empty. The file is closed again: the mapping holds it.
 */
static int sgfs_map_path(const char *path, bool writable, uint64_t offset, uint64_t len,
			 int extra_flags, struct sgfs_map *m)
{
	int prot = PROT_READ | (writable ? PROT_WRITE : 0);
	uint64_t size;
	int fd, ret;

	m->map = NULL;
	ret = sgfs_open(path, writable ? O_RDWR : O_RDONLY, &fd);
	if (ret)
		return ret;
	ret = sgfs_size(fd, path, &size);
	m->file_size = size;
	if (!ret && len == 0)
		len = size > offset ? size - offset : 0;
	if (!ret && len > 0)
		ret = sgfs_map(fd, path, offset, len, prot, extra_flags, m);
	close(fd);
	return ret;
}

/* ---- subcommands ------------------------------------------------------------ */

static int sgfs_sum(const char *path)
{
	uint8_t *buf = malloc(SGFS_BLOCK);
	uint32_t crc = 0xffffffffU;
	uint64_t size = 0;
	int fd, ret;

	if (!buf)
		return sgfs_fail_errno(ENOMEM, "malloc", path);
	ret = sgfs_open(path, O_RDONLY, &fd);
	while (!ret) {
		ssize_t n = read(fd, buf, SGFS_BLOCK);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			ret = sgfs_fail_errno(errno, "read", path);
		if (n <= 0)
			break;
		crc = sgfs_crc_append(crc, buf, (size_t)n);
		size += (uint64_t)n;
	}
	if (fd >= 0)
		close(fd);
	free(buf);
	if (!ret)
		printf("size=%" PRIu64 " crc=0x%08" PRIx32 "\n", size, ~crc);
	return ret;
}

/* A crc over a mapping: the bytes, and the running crc. */
struct sgfs_crc_job {
	const uint8_t *p;
	size_t len;
	uint32_t crc;
};

static void sgfs_crc_access(void *arg)
{
	struct sgfs_crc_job *job = arg;

	job->crc = sgfs_crc_append(job->crc, job->p, job->len);
}

static int sgfs_mmsum(const char *path, bool populate)
{
	struct sgfs_crc_job job = { .crc = 0xffffffffU };
	struct sgfs_map m;
	int ret;

	ret = sgfs_map_path(path, false, 0, 0, populate ? MAP_POPULATE : 0, &m);
	if (ret)
		return ret;
	if (m.map) {
		job.p = (const uint8_t *)m.at;
		job.len = m.file_size;
		if (!sgfs_guarded(sgfs_crc_access, &job))
			ret = sgfs_fail("SIGBUS", "load", path);
		sgfs_unmap(&m);
	}
	if (!ret)
		printf("size=%" PRIu64 " crc=0x%08" PRIx32 " populate=%d\n", m.file_size,
		       ~job.crc, populate);
	return ret;
}

static int sgfs_fill(const char *path, uint64_t offset, uint64_t len, uint64_t seed)
{
	uint8_t *buf = malloc(SGFS_BLOCK);
	uint64_t done = 0;
	int fd, ret;

	if (!buf)
		return sgfs_fail_errno(ENOMEM, "malloc", path);
	ret = sgfs_open(path, O_WRONLY, &fd);
	while (!ret && done < len) {
		size_t n = len - done < SGFS_BLOCK ? (size_t)(len - done) : SGFS_BLOCK;
		ssize_t w;

		sgfs_pattern(seed, offset + done, buf, n);
		w = pwrite(fd, buf, n, (off_t)(offset + done));
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			printf("written=%" PRIu64 " ", done);
			ret = sgfs_fail_errno(w < 0 ? errno : EIO, "pwrite", path);
			break;
		}
		done += (uint64_t)w;
	}
	if (fd >= 0)
		close(fd);
	free(buf);
	if (!ret)
		printf("written=%" PRIu64 "\n", done);
	return ret;
}

/* The pattern stored through a mapping. */
struct sgfs_fill_job {
	uint64_t seed, offset;
	volatile uint8_t *at;
	size_t len;
};

static void sgfs_fill_access(void *arg)
{
	struct sgfs_fill_job *job = arg;

	sgfs_pattern(job->seed, job->offset, job->at, job->len);
}

static int sgfs_mmfill(const char *path, uint64_t offset, uint64_t len, uint64_t seed)
{
	struct sgfs_fill_job job = { .seed = seed, .offset = offset, .len = len };
	struct sgfs_map m;
	int ret;

	if (len == 0)
		return sgfs_fail_errno(EINVAL, "mmfill", path);
	ret = sgfs_map_path(path, true, offset, len, 0, &m);
	if (ret)
		return ret;
	job.at = m.at;
	if (!sgfs_guarded(sgfs_fill_access, &job))
		ret = sgfs_fail("SIGBUS", "store", path);
	else if (msync(m.map, m.map_len, MS_SYNC) != 0)
		ret = sgfs_fail_errno(errno, "msync", path);
	sgfs_unmap(&m);
	if (!ret)
		printf("written=%" PRIu64 "\n", len);
	return ret;
}

/* One u64 stored through a mapping, then loaded back. */
struct sgfs_poke_job {
	volatile uint64_t *at;
	uint64_t value;
};

static void sgfs_poke_access(void *arg)
{
	struct sgfs_poke_job *job = arg;

	/* A plain store, no msync: others see it through their own mappings. */
	*job->at = job->value;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	job->value = *job->at;
}

static int sgfs_mmpoke(const char *path, uint64_t offset, uint64_t value)
{
	struct sgfs_poke_job job = { .value = value };
	struct sgfs_map m;
	int ret;

	if (offset % 8)
		return sgfs_fail_errno(EINVAL, "mmpoke", path);
	ret = sgfs_map_path(path, true, offset, 8, 0, &m);
	if (ret)
		return ret;
	job.at = (volatile uint64_t *)m.at;
	if (!sgfs_guarded(sgfs_poke_access, &job))
		ret = sgfs_fail("SIGBUS", "store", path);
	sgfs_unmap(&m);
	if (!ret)
		printf("offset=%" PRIu64 " value=0x%016" PRIx64 "\n", offset, job.value);
	return ret;
}

static uint64_t sgfs_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Stores a u64 at the start of every page of a mapping, pass after pass. */
struct sgfs_store_job {
	volatile uint8_t *at;
	uint64_t len, value, timeout_ms, passes;
};

static void sgfs_store_access(void *arg)
{
	struct sgfs_store_job *job = arg;
	uint64_t start = sgfs_now_ms(), off;

	for (;;) {
		for (off = 0; off + 8 <= job->len; off += 4096)
			*(volatile uint64_t *)(job->at + off) = job->value;
		if (++job->passes == 1) {
			/* Every page is mapped now: whoever waits for this line may change the file. */
			printf("mapped=1\n");
			fflush(stdout);
		}
		if (sgfs_now_ms() - start > job->timeout_ms)
			return;
	}
}

static int sgfs_mmstore(const char *path, uint64_t value, uint64_t timeout_ms)
{
	struct sgfs_store_job job = { .value = value, .timeout_ms = timeout_ms };
	struct sgfs_map m;
	bool sigbus;
	int ret;

	ret = sgfs_map_path(path, true, 0, 0, 0, &m);
	if (ret)
		return ret;
	if (!m.map)
		return sgfs_fail_errno(EINVAL, "mmstore", path);
	job.at = m.at;
	job.len = m.file_size;
	sigbus = !sgfs_guarded(sgfs_store_access, &job);
	sgfs_unmap(&m);
	printf("passes=%" PRIu64 " sigbus=%d\n", job.passes, sigbus ? 1 : 0);
	return 0;
}

/* Polls a u64 of a mapping until it holds @want or @timeout_ms pass. */
struct sgfs_wait_job {
	volatile uint64_t *at;
	uint64_t want, timeout_ms, value, elapsed_ms;
};

static void sgfs_wait_access(void *arg)
{
	const struct timespec pause = { .tv_nsec = 1000000 };
	struct sgfs_wait_job *job = arg;
	uint64_t start;

	job->value = *job->at;
	/* Whoever waits for this line knows the mapping is in place. */
	printf("mapped=1 initial=0x%016" PRIx64 "\n", job->value);
	fflush(stdout);
	start = sgfs_now_ms();
	for (;;) {
		job->value = *job->at;
		job->elapsed_ms = sgfs_now_ms() - start;
		if (job->value == job->want || job->elapsed_ms > job->timeout_ms)
			return;
		nanosleep(&pause, NULL);
	}
}

static int sgfs_mmwait(const char *path, uint64_t offset, uint64_t want, uint64_t timeout_ms)
{
	struct sgfs_wait_job job = { .want = want, .timeout_ms = timeout_ms };
	struct sgfs_map m;
	int ret;

	if (offset % 8)
		return sgfs_fail_errno(EINVAL, "mmwait", path);
	ret = sgfs_map_path(path, false, offset, 8, 0, &m);
	if (ret)
		return ret;
	job.at = (volatile uint64_t *)m.at;
	if (!sgfs_guarded(sgfs_wait_access, &job))
		ret = sgfs_fail("SIGBUS", "load", path);
	sgfs_unmap(&m);
	if (ret)
		return ret;
	if (job.value != want) {
		printf("value=0x%016" PRIx64 " ", job.value);
		return sgfs_fail_errno(ETIMEDOUT, "mmwait", path);
	}
	printf("seen=1 after_ms=%" PRIu64 " value=0x%016" PRIx64 "\n", job.elapsed_ms,
	       job.value);
	return 0;
}

/* The "Key:   N kB" lines of the smaps block of the mapping at @start. */
struct sgfs_smaps {
	long size_kb, rss_kb, file_pmd_mapped_kb, anon_huge_kb;
	char vmflags[128];
};

static int sgfs_read_smaps(uintptr_t start, struct sgfs_smaps *s)
{
	FILE *f = fopen("/proc/self/smaps", "re");
	bool inside = false, found = false;
	char line[512];

	if (!f)
		return sgfs_fail_errno(errno, "fopen", "/proc/self/smaps");
	memset(s, 0, sizeof(*s));
	while (fgets(line, sizeof(line), f)) {
		unsigned long from, to;
		char key[64];
		long kb;

		/* A block starts with "FROM-TO perms offset dev inode path". */
		if (sscanf(line, "%lx-%lx ", &from, &to) == 2) {
			inside = from == start;
			found |= inside;
			continue;
		}
		if (!inside)
			continue;
		if (sscanf(line, "VmFlags: %127[^\n]", s->vmflags) == 1)
			continue;
		if (sscanf(line, "%63[^:]: %ld kB", key, &kb) != 2)
			continue;
		if (!strcmp(key, "Size"))
			s->size_kb = kb;
		else if (!strcmp(key, "Rss"))
			s->rss_kb = kb;
		else if (!strcmp(key, "FilePmdMapped"))
			s->file_pmd_mapped_kb = kb;
		else if (!strcmp(key, "AnonHugePages"))
			s->anon_huge_kb = kb;
	}
	fclose(f);
	/* "rd sh mr " becomes one word: "rd,sh,mr". */
	for (size_t n = strlen(s->vmflags); n > 0 && s->vmflags[n - 1] == ' '; n--)
		s->vmflags[n - 1] = '\0';
	for (char *c = s->vmflags; *c; c++)
		if (*c == ' ')
			*c = ',';
	return found ? 0 : sgfs_fail_errno(ENOENT, "smaps", "/proc/self/smaps");
}

/* A 2 MiB-aligned address with room for @len bytes, reserved (PROT_NONE). */
static int sgfs_aligned_address(size_t len, void **addr)
{
	void *area = mmap(NULL, len + SGFS_CHUNK, PROT_NONE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	if (area == MAP_FAILED)
		return sgfs_fail_errno(errno, "mmap", "anonymous");
	*addr = (void *)(((uintptr_t)area + SGFS_CHUNK - 1) & ~(SGFS_CHUNK - 1));
	return 0;
}

/* Page faults this process has taken, minor and major. */
static long sgfs_faults(void)
{
	struct rusage usage;

	getrusage(RUSAGE_SELF, &usage);
	return usage.ru_minflt + usage.ru_majflt;
}

/* Loads one byte of every page of a mapping. */
struct sgfs_touch_job {
	const volatile uint8_t *p;
	uint64_t size, sum;
};

static void sgfs_touch_access(void *arg)
{
	struct sgfs_touch_job *job = arg;

	for (uint64_t o = 0; o < job->size; o += SGFS_PAGE)
		job->sum += job->p[o];
}

/*
 * Maps the whole file with MAP_POPULATE and touches every page. "faults"
 * counts the faults both took: one per 2 MiB chunk mapped by a PMD, one per
 * 4 KiB page otherwise (a DAX PMD may not show as FilePmdMapped in smaps,
 * which counts only pages that are neither anonymous nor device pages).
 */
static int sgfs_mmhuge(const char *path, bool fixed)
{
	struct sgfs_touch_job job = { 0 };
	void *addr = NULL, *p;
	struct sgfs_smaps s;
	long faults;
	int fd, ret;

	ret = sgfs_open(path, O_RDONLY, &fd);
	if (ret)
		return ret;
	ret = sgfs_size(fd, path, &job.size);
	if (!ret && job.size == 0)
		ret = sgfs_fail_errno(EINVAL, "mmhuge", path);
	if (!ret && fixed)
		ret = sgfs_aligned_address(job.size, &addr);
	if (ret) {
		close(fd);
		return ret;
	}
	faults = sgfs_faults();
	p = mmap(addr, job.size, PROT_READ,
		 MAP_SHARED | MAP_POPULATE | (fixed ? MAP_FIXED : 0), fd, 0);
	close(fd);
	if (p == MAP_FAILED)
		return sgfs_fail_errno(errno, "mmap", path);
	job.p = p;
	if (!sgfs_guarded(sgfs_touch_access, &job)) {
		munmap(p, job.size);
		return sgfs_fail("SIGBUS", "load", path);
	}
	faults = sgfs_faults() - faults;
	ret = sgfs_read_smaps((uintptr_t)p, &s);
	munmap(p, job.size);
	if (ret)
		return ret;
	printf("addr=0x%" PRIxPTR " aligned=%d size=%" PRIu64 " pages=%" PRIu64
	       " chunks=%" PRIu64 " faults=%ld size_kb=%ld rss_kb=%ld"
	       " file_pmd_mapped_kb=%ld anon_huge_kb=%ld vmflags=%s\n",
	       (uintptr_t)p, ((uintptr_t)p & (SGFS_CHUNK - 1)) == 0, job.size,
	       (job.size + SGFS_PAGE - 1) / SGFS_PAGE, (job.size + SGFS_CHUNK - 1) / SGFS_CHUNK,
	       faults, s.size_kb, s.rss_kb, s.file_pmd_mapped_kb, s.anon_huge_kb,
	       s.vmflags[0] ? s.vmflags : "-");
	return 0;
}

/* @options: "ro" and "remount" become mount(2) flags, the other words its data. */
static int sgfs_mount(const char *source, const char *dir, const char *options)
{
	char words[256], data[256] = "";
	unsigned long flags = 0;
	char *word, *rest;

	if (options && strlen(options) >= sizeof(words))
		return sgfs_fail_errno(EINVAL, "mount-options", options);
	snprintf(words, sizeof(words), "%s", options ? options : "");
	for (word = strtok_r(words, ",", &rest); word; word = strtok_r(NULL, ",", &rest)) {
		if (!strcmp(word, "ro"))
			flags |= MS_RDONLY;
		else if (!strcmp(word, "remount"))
			flags |= MS_REMOUNT;
		else
			snprintf(data + strlen(data), sizeof(data) - strlen(data), "%s%s",
				 data[0] ? "," : "", word);
	}
	if (mount(source, dir, SGFS_FS_TYPE, flags, data[0] ? data : NULL) != 0)
		return sgfs_fail_errno(errno, "mount", dir);
	printf("mounted=%s source=%s ro=%d\n", dir, source, (flags & MS_RDONLY) != 0);
	return 0;
}

static int sgfs_cred(void)
{
	printf("uid=%u euid=%u gid=%u egid=%u\n", (unsigned int)getuid(), (unsigned int)geteuid(),
	       (unsigned int)getgid(), (unsigned int)getegid());
	return 0;
}

/* Runs argv[0] as @uid:@gid with no supplementary groups; returns only on failure. */
static int sgfs_as(uint64_t uid, uint64_t gid, char **argv)
{
	if (uid > UINT32_MAX - 1 || gid > UINT32_MAX - 1)
		return sgfs_fail_errno(EINVAL, "as", argv[0]);
	if (setgroups(0, NULL) != 0)
		return sgfs_fail_errno(errno, "setgroups", argv[0]);
	if (setresgid((gid_t)gid, (gid_t)gid, (gid_t)gid) != 0)
		return sgfs_fail_errno(errno, "setresgid", argv[0]);
	if (setresuid((uid_t)uid, (uid_t)uid, (uid_t)uid) != 0)
		return sgfs_fail_errno(errno, "setresuid", argv[0]);
	fflush(stdout);
	execvp(argv[0], argv);
	return sgfs_fail_errno(errno, "exec", argv[0]);
}

/* ---- locks and records ------------------------------------------------------ */

#define SGFS_RECORD 32
#define SGFS_TAG_MAX 22
#define SGFS_RECORD_NUMBERS 100000000ULL

/* Takes (@wait) or tries a whole-file lock on @fd; 0, or the failure line's exit status. */
static int sgfs_lock(int fd, const char *path, bool posix, bool shared, bool wait)
{
	if (posix) {
		struct flock fl = {
			.l_type = shared ? F_RDLCK : F_WRLCK,
			.l_whence = SEEK_SET,
		};

		while (fcntl(fd, wait ? F_SETLKW : F_SETLK, &fl) != 0)
			if (errno != EINTR)
				return sgfs_fail_errno(errno, "fcntl", path);
		return 0;
	}
	while (flock(fd, (shared ? LOCK_SH : LOCK_EX) | (wait ? 0 : LOCK_NB)) != 0)
		if (errno != EINTR)
			return sgfs_fail_errno(errno, "flock", path);
	return 0;
}

static int sgfs_unlock(int fd, const char *path, bool posix)
{
	if (posix) {
		struct flock fl = { .l_type = F_UNLCK, .l_whence = SEEK_SET };

		return fcntl(fd, F_SETLK, &fl) ? sgfs_fail_errno(errno, "fcntl", path) : 0;
	}
	return flock(fd, LOCK_UN) ? sgfs_fail_errno(errno, "flock", path) : 0;
}

static bool sgfs_valid_tag(const char *tag)
{
	size_t len = strlen(tag);

	return len >= 1 && len <= SGFS_TAG_MAX && !strchr(tag, ' ') && !strchr(tag, '\n');
}

static int sgfs_lockappend(const char *path, uint64_t count, const char *tag, bool posix)
{
	int fd, ret = 0;

	ret = sgfs_open(path, O_WRONLY | O_APPEND | O_CREAT, &fd);
	for (uint64_t i = 0; !ret && i < count; i++) {
		char record[SGFS_RECORD + 1];
		ssize_t n;

		snprintf(record, sizeof(record), "%s %08" PRIu64 "%*s\n", tag, i,
			 (int)(SGFS_RECORD - 1 - strlen(tag) - 9), "");
		ret = sgfs_lock(fd, path, posix, false, true);
		if (ret)
			break;
		do
			n = write(fd, record, SGFS_RECORD);
		while (n < 0 && errno == EINTR);
		if (n != SGFS_RECORD)
			ret = sgfs_fail_errno(n < 0 ? errno : EIO, "write", path);
		if (sgfs_unlock(fd, path, posix) && !ret)
			ret = 1;
	}
	if (fd >= 0)
		close(fd);
	if (!ret)
		printf("records=%" PRIu64 "\n", count);
	return ret;
}

static int sgfs_lockhold(const char *path, bool posix, bool shared, bool wait)
{
	int fd, ret;

	/* fcntl needs the file open for reading (F_RDLCK) or writing (F_WRLCK). */
	ret = sgfs_open(path, shared ? O_RDONLY : O_RDWR, &fd);
	if (!ret)
		ret = sgfs_lock(fd, path, posix, shared, wait);
	if (ret) {
		if (fd >= 0)
			close(fd);
		return ret;
	}
	printf("locked=1\n");
	fflush(stdout);
	if (!wait) {
		close(fd);
		return 0;
	}
	for (;;)
		pause();
}

/* Reads all of @path into a malloc'd buffer. */
static int sgfs_read_all(const char *path, uint8_t **data, uint64_t *size)
{
	uint64_t done = 0;
	int fd, ret;

	*data = NULL;
	ret = sgfs_open(path, O_RDONLY, &fd);
	if (!ret)
		ret = sgfs_size(fd, path, size);
	if (!ret && !(*data = malloc(*size ? *size : 1)))
		ret = sgfs_fail_errno(ENOMEM, "malloc", path);
	while (!ret && done < *size) {
		ssize_t n = read(fd, *data + done, *size - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			ret = sgfs_fail_errno(n < 0 ? errno : EIO, "read", path);
		else
			done += (uint64_t)n;
	}
	if (fd >= 0)
		close(fd);
	return ret;
}

/*
 * True if the record at @rec is TAG (@tag_len bytes, then the space), 8
 * digits, spaces and the final newline; @number gets the digits' value.
 */
static bool sgfs_record_shape(const char *rec, size_t tag_len, uint64_t *number)
{
	size_t i;

	if (tag_len > SGFS_TAG_MAX || rec[SGFS_RECORD - 1] != '\n')
		return false;
	*number = 0;
	for (i = tag_len + 1; i < tag_len + 9; i++) {
		if (rec[i] < '0' || rec[i] > '9')
			return false;
		*number = *number * 10 + (uint64_t)(rec[i] - '0');
	}
	for (; i < SGFS_RECORD - 1; i++)
		if (rec[i] != ' ')
			return false;
	return true;
}

static int sgfs_bad_records(const char *path, uint64_t record, const char *what)
{
	fprintf(stderr, "sgfstest: %s: record %" PRIu64 " (byte %" PRIu64 "): %s\n", path,
		record, record * SGFS_RECORD, what);
	return sgfs_fail("EBADMSG", "checkrecords", path);
}

static int sgfs_checkrecords(const char *path, char **tags, const uint64_t *counts, int ntags)
{
	uint64_t *next = calloc((size_t)ntags, sizeof(*next));
	uint64_t size = 0, records;
	uint8_t *data;
	int ret;

	if (!next)
		return sgfs_fail_errno(ENOMEM, "malloc", path);
	ret = sgfs_read_all(path, &data, &size);
	records = size / SGFS_RECORD;
	if (!ret && size % SGFS_RECORD) {
		fprintf(stderr, "sgfstest: %s: size %" PRIu64 " is not whole %d-byte records\n",
			path, size, SGFS_RECORD);
		ret = sgfs_fail("EBADMSG", "checkrecords", path);
	}
	for (uint64_t r = 0; !ret && r < records; r++) {
		const char *rec = (const char *)data + r * SGFS_RECORD;
		const char *space = memchr(rec, ' ', SGFS_TAG_MAX + 1);
		char message[160];
		uint64_t number = 0;
		size_t tag_len;
		int t;

		if (!space || space == rec || !sgfs_record_shape(rec, (size_t)(space - rec), &number)) {
			ret = sgfs_bad_records(path, r, "not TAG NNNNNNNN padded to 31 bytes and a newline");
			break;
		}
		tag_len = (size_t)(space - rec);
		for (t = 0; t < ntags; t++)
			if (strlen(tags[t]) == tag_len && !memcmp(tags[t], rec, tag_len))
				break;
		if (t == ntags) {
			snprintf(message, sizeof(message), "tag '%.*s' is not one of the expected",
				 (int)tag_len, rec);
			ret = sgfs_bad_records(path, r, message);
		} else if (number != next[t]) {
			snprintf(message, sizeof(message), "tag %s: number %" PRIu64 " where %" PRIu64
				 " was due (lost, repeated or reordered)", tags[t], number, next[t]);
			ret = sgfs_bad_records(path, r, message);
		} else if (++next[t] > counts[t]) {
			snprintf(message, sizeof(message), "tag %s: more than %" PRIu64 " records",
				 tags[t], counts[t]);
			ret = sgfs_bad_records(path, r, message);
		}
	}
	for (int t = 0; !ret && t < ntags; t++) {
		if (next[t] != counts[t]) {
			fprintf(stderr, "sgfstest: %s: tag %s has %" PRIu64 " records of %" PRIu64 "\n",
				path, tags[t], next[t], counts[t]);
			ret = sgfs_fail("EBADMSG", "checkrecords", path);
		}
	}
	free(data);
	free(next);
	if (!ret)
		printf("records=%" PRIu64 "\n", records);
	return ret;
}

/* ---- the tree sum -------------------------------------------------------------- */

struct sgfs_tree {
	uint64_t files, dirs, bytes;
	uint32_t crc;
	uint8_t *buf;
};

static int sgfs_by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static int sgfs_skip_dots(const struct dirent *d)
{
	return strcmp(d->d_name, ".") && strcmp(d->d_name, "..");
}

/* Adds regular file @path (shown as @rel) to the sum. */
static int sgfs_tree_file(struct sgfs_tree *t, const char *path, const char *rel)
{
	int fd, ret;

	t->crc = sgfs_crc_append(t->crc, (const uint8_t *)rel, strlen(rel) + 1);
	ret = sgfs_open(path, O_RDONLY | O_NOFOLLOW, &fd);
	while (!ret) {
		ssize_t n = read(fd, t->buf, SGFS_BLOCK);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			ret = sgfs_fail_errno(errno, "read", path);
		if (n <= 0)
			break;
		t->crc = sgfs_crc_append(t->crc, t->buf, (size_t)n);
		t->bytes += (uint64_t)n;
	}
	if (fd >= 0)
		close(fd);
	t->files++;
	return ret;
}

/* Walks directory @path, whose path relative to the root is @rel ("" for the root). */
static int sgfs_tree_dir(struct sgfs_tree *t, const char *path, const char *rel)
{
	struct dirent **names;
	int n, i, ret = 0;

	n = scandir(path, &names, sgfs_skip_dots, sgfs_by_name);
	if (n < 0)
		return sgfs_fail_errno(errno, "scandir", path);
	for (i = 0; i < n; i++) {
		char *child = NULL, *child_rel = NULL;
		struct stat st;

		if (!ret && (asprintf(&child, "%s/%s", path, names[i]->d_name) < 0 ||
			     asprintf(&child_rel, "%s%s%s", rel, rel[0] ? "/" : "",
				      names[i]->d_name) < 0))
			ret = sgfs_fail_errno(ENOMEM, "asprintf", path);
		if (!ret && lstat(child, &st) != 0)
			ret = sgfs_fail_errno(errno, "lstat", child);
		if (!ret && S_ISDIR(st.st_mode)) {
			t->dirs++;
			ret = sgfs_tree_dir(t, child, child_rel);
		} else if (!ret && S_ISREG(st.st_mode)) {
			ret = sgfs_tree_file(t, child, child_rel);
		}
		free(child);
		free(child_rel);
		free(names[i]);
	}
	free(names);
	return ret;
}

static int sgfs_treesum(const char *dir)
{
	struct sgfs_tree t = { .crc = 0xffffffffU, .buf = malloc(SGFS_BLOCK) };
	int ret;

	if (!t.buf)
		return sgfs_fail_errno(ENOMEM, "malloc", dir);
	ret = sgfs_tree_dir(&t, dir, "");
	free(t.buf);
	if (!ret)
		printf("files=%" PRIu64 " dirs=%" PRIu64 " bytes=%" PRIu64 " crc=%08" PRIx32 "\n",
		       t.files, t.dirs, t.bytes, ~t.crc);
	return ret;
}

/* ---- identity and attributes ----------------------------------------------- */

static int sgfs_chown(const char *path, uint64_t uid, uint64_t gid)
{
	struct stat st;

	if (chown(path, (uid_t)uid, (gid_t)gid))
		return sgfs_fail_errno(errno, "chown", path);
	if (stat(path, &st))
		return sgfs_fail_errno(errno, "stat", path);
	printf("uid=%u gid=%u\n", (unsigned int)st.st_uid, (unsigned int)st.st_gid);
	return 0;
}

/* ---- extended attributes and long symlinks ----------------------------- */

static int sgfs_usage(void);

static bool sgfs_printable(const char *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (p[i] <= ' ' || p[i] > '~')
			return false;
	return true;
}

static int sgfs_xattr(int argc, char **argv)
{
	const char *op = argv[2], *path = argv[3];
	static char buf[65536];
	uint64_t size = sizeof(buf);
	ssize_t n;

	if (!strcmp(op, "set") && (argc == 6 || argc == 7)) {
		const char *value = argv[5];
		int flags = 0;
		size_t len = strlen(value);

		if (argc == 7 && !strcmp(argv[6], "create"))
			flags = XATTR_CREATE;
		else if (argc == 7 && !strcmp(argv[6], "replace"))
			flags = XATTR_REPLACE;
		else if (argc == 7)
			return sgfs_usage();
		if (value[0] == '@') {
			if (!sgfs_parse_u64(value + 1, &size) || size > sizeof(buf))
				return sgfs_usage();
			memset(buf, 'v', size);
			value = buf;
			len = size;
		}
		if (lsetxattr(path, argv[4], value, len, flags))
			return sgfs_fail_errno(errno, "lsetxattr", path);
		printf("size=%zu\n", len);
		return 0;
	}
	if (!strcmp(op, "get") && (argc == 5 || argc == 6)) {
		if (argc == 6 && (!sgfs_parse_u64(argv[5], &size) || size > sizeof(buf)))
			return sgfs_usage();
		n = lgetxattr(path, argv[4], size ? buf : NULL, size);
		if (n < 0)
			return sgfs_fail_errno(errno, "lgetxattr", path);
		if (size && n > 0 && sgfs_printable(buf, (size_t)n))
			printf("size=%zd value=%.*s\n", n, (int)n, buf);
		else
			printf("size=%zd\n", n);
		return 0;
	}
	if (!strcmp(op, "list") && (argc == 4 || argc == 5)) {
		if (argc == 5 && (!sgfs_parse_u64(argv[4], &size) || size > sizeof(buf)))
			return sgfs_usage();
		n = llistxattr(path, size ? buf : NULL, size);
		if (n < 0)
			return sgfs_fail_errno(errno, "llistxattr", path);
		printf("size=%zd", n);
		if (size) {
			printf(" names=");
			for (ssize_t i = 0; i < n; i += (ssize_t)strlen(buf + i) + 1)
				printf("%s%s", i ? "," : "", buf + i);
		}
		printf("\n");
		return 0;
	}
	if (!strcmp(op, "remove") && argc == 5) {
		if (lremovexattr(path, argv[4]))
			return sgfs_fail_errno(errno, "lremovexattr", path);
		printf("removed=1\n");
		return 0;
	}
	return sgfs_usage();
}

static int sgfs_symlink(const char *link, uint64_t len)
{
	static const char pattern[] = "0123456789/";
	char *target = malloc(len + 1);

	if (!target)
		return sgfs_fail_errno(ENOMEM, "malloc", link);
	for (uint64_t i = 0; i < len; i++)
		target[i] = pattern[i % (sizeof(pattern) - 1)];
	target[len] = 0;
	if (symlink(target, link)) {
		free(target);
		return sgfs_fail_errno(errno, "symlink", link);
	}
	free(target);
	printf("len=%" PRIu64 "\n", len);
	return 0;
}

static int sgfs_readlink(const char *link)
{
	static char target[4096];
	ssize_t n = readlink(link, target, sizeof(target));

	if (n < 0)
		return sgfs_fail_errno(errno, "readlink", link);
	printf("len=%zd crc=%08x\n", n, ~sgfs_crc_append(0xffffffffu, (const uint8_t *)target, (size_t)n));
	return 0;
}

static int sgfs_excl(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);

	if (fd < 0)
		return sgfs_fail_errno(errno, "open", path);
	close(fd);
	printf("made=1\n");
	return 0;
}

static int sgfs_ftruncate(const char *path, uint64_t size, const char *mode_text)
{
	char *end;
	unsigned long mode = strtoul(mode_text, &end, 8);
	struct stat st;
	int fd, ret;

	if (!*mode_text || *end || mode > 07777)
		return sgfs_fail("EINVAL", "mode", mode_text);
	ret = sgfs_open(path, O_WRONLY, &fd);
	if (ret)
		return ret;
	if (fchmod(fd, (mode_t)mode))
		ret = sgfs_fail_errno(errno, "fchmod", path);
	else if (ftruncate(fd, (off_t)size))
		ret = sgfs_fail_errno(errno, "ftruncate", path);
	else if (fstat(fd, &st))
		ret = sgfs_fail_errno(errno, "fstat", path);
	else
		printf("size=%llu mode=%o\n", (unsigned long long)st.st_size, (unsigned int)(st.st_mode & 07777));
	close(fd);
	return ret;
}

/* ---- command line ---------------------------------------------------------- */

/* ---- victim: a steady workload that measures itself -------------------------- */

#define SGFS_VICTIM_FILES 4
#define SGFS_VICTIM_BYTES (16 * 1024)

enum sgfs_victim_op {
	SGFS_OP_CREATE,
	SGFS_OP_WRITE,
	SGFS_OP_READ,
	SGFS_OP_MMAP,
	SGFS_OP_LOCK,
	SGFS_OP_STAT,
	SGFS_OP_UNLINK,
	SGFS_OP_COUNT
};

static const char *const sgfs_victim_names[SGFS_OP_COUNT] = {
	"create", "write", "read", "mmap", "lock", "stat", "unlink",
};

struct sgfs_victim {
	uint64_t ops, errors, wrong;
	uint64_t worst_us[SGFS_OP_COUNT];
	uint64_t started_us;
};

static uint64_t sgfs_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000ULL + (uint64_t)ts.tv_nsec / 1000;
}

/* Ends the operation @op started at v->started_us: counts it, keeps the worst time, counts @failed. */
static bool sgfs_victim_done(struct sgfs_victim *v, enum sgfs_victim_op op, bool failed, const char *path)
{
	uint64_t us = sgfs_now_us() - v->started_us;
	int err = errno;

	v->ops++;
	if (us > v->worst_us[op])
		v->worst_us[op] = us;
	if (failed) {
		/* The first few on stderr: which operation, which file, which errno. */
		if (v->errors < 8)
			fprintf(stderr, "victim: %s %s: %s\n", sgfs_victim_names[op], path,
				strerrorname_np(err) ? strerrorname_np(err) : "?");
		v->errors++;
	}
	return !failed;
}

static bool sgfs_victim_same(struct sgfs_victim *v, const uint8_t *got, uint64_t seed, uint64_t offset,
			     size_t len, const char *path, const char *how)
{
	static uint8_t want[SGFS_VICTIM_BYTES];

	sgfs_pattern(seed, offset, want, len);
	if (!memcmp(got, want, len))
		return true;
	if (v->wrong < 8)
		fprintf(stderr, "victim: %s %s: wrong data at [%" PRIu64 ", +%zu)\n", how, path, offset, len);
	v->wrong++;
	return false;
}

struct sgfs_victim_job {
	volatile uint8_t *at;
	uint64_t seed;
	uint8_t copy[SGFS_VICTIM_BYTES];
};

/* Stores the pattern of job->seed over the mapping's first page, then copies the whole mapping out. */
static void sgfs_victim_access(void *arg)
{
	struct sgfs_victim_job *job = arg;

	sgfs_pattern(job->seed, 0, job->at, SGFS_PAGE);
	for (size_t i = 0; i < SGFS_VICTIM_BYTES; i++)
		job->copy[i] = job->at[i];
}

/*
 * One round on DIR/v<i % 4>: create, write 16 KiB of the pattern of seed i,
 * read it back, map it shared and store seed i + 1 over the first page and
 * read the mapping, read the file again, take and drop a posix lock of the
 * whole file, fstat it, unlink it. Every data check counts in wrong.
 */
static void sgfs_victim_round(struct sgfs_victim *v, const char *dir, uint64_t i)
{
	static struct sgfs_victim_job job;
	static uint8_t buf[SGFS_VICTIM_BYTES];
	struct flock fl = { .l_whence = SEEK_SET };
	char path[512];
	struct stat st;
	void *map;
	int fd;

	snprintf(path, sizeof(path), "%s/v%" PRIu64, dir, i % SGFS_VICTIM_FILES);
	v->started_us = sgfs_now_us();
	fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (!sgfs_victim_done(v, SGFS_OP_CREATE, fd < 0, path))
		return;
	sgfs_pattern(i, 0, buf, sizeof(buf));
	v->started_us = sgfs_now_us();
	sgfs_victim_done(v, SGFS_OP_WRITE, pwrite(fd, buf, sizeof(buf), 0) != (ssize_t)sizeof(buf), path);
	memset(buf, 0, sizeof(buf));
	v->started_us = sgfs_now_us();
	if (sgfs_victim_done(v, SGFS_OP_READ, pread(fd, buf, sizeof(buf), 0) != (ssize_t)sizeof(buf), path))
		sgfs_victim_same(v, buf, i, 0, sizeof(buf), path, "read");

	v->started_us = sgfs_now_us();
	map = mmap(NULL, SGFS_VICTIM_BYTES, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (map != MAP_FAILED) {
		job.at = map;
		job.seed = i + 1;
		if (!sgfs_guarded(sgfs_victim_access, &job)) {
			munmap(map, SGFS_VICTIM_BYTES);
			map = MAP_FAILED;
			errno = EFAULT; /* SIGBUS on the mapping */
		} else {
			munmap(map, SGFS_VICTIM_BYTES);
		}
	}
	if (sgfs_victim_done(v, SGFS_OP_MMAP, map == MAP_FAILED, path)) {
		sgfs_victim_same(v, job.copy, i + 1, 0, SGFS_PAGE, path, "mmap store");
		sgfs_victim_same(v, job.copy + SGFS_PAGE, i, SGFS_PAGE, sizeof(buf) - SGFS_PAGE, path, "mmap read");
		v->started_us = sgfs_now_us();
		if (sgfs_victim_done(v, SGFS_OP_READ, pread(fd, buf, SGFS_PAGE, 0) != (ssize_t)SGFS_PAGE, path))
			sgfs_victim_same(v, buf, i + 1, 0, SGFS_PAGE, path, "read after mmap");
	}

	fl.l_type = F_WRLCK;
	v->started_us = sgfs_now_us();
	if (sgfs_victim_done(v, SGFS_OP_LOCK, fcntl(fd, F_SETLKW, &fl) != 0, path)) {
		fl.l_type = F_UNLCK;
		v->started_us = sgfs_now_us();
		sgfs_victim_done(v, SGFS_OP_LOCK, fcntl(fd, F_SETLK, &fl) != 0, path);
	}
	v->started_us = sgfs_now_us();
	if (sgfs_victim_done(v, SGFS_OP_STAT, fstat(fd, &st) != 0, path) && st.st_size != SGFS_VICTIM_BYTES) {
		if (v->wrong < 8)
			fprintf(stderr, "victim: stat %s: size %lld, not %d\n", path, (long long)st.st_size, SGFS_VICTIM_BYTES);
		v->wrong++;
	}
	close(fd);
	v->started_us = sgfs_now_us();
	sgfs_victim_done(v, SGFS_OP_UNLINK, unlink(path) != 0, path);
}

/*
 * sgfstest victim DIR SECONDS: rounds (above) until SECONDS pass or the
 * file DIR/stop exists; then "ops= errors= wrong= rounds= worst_ms=" and
 * each operation's worst as NAME_ms=, in milliseconds with one decimal.
 */
static int sgfs_victim(const char *dir, uint64_t seconds)
{
	struct sgfs_victim v = { 0 };
	uint64_t end = sgfs_now_us() + seconds * 1000000ULL, rounds = 0, worst = 0;
	char stop[512];

	snprintf(stop, sizeof(stop), "%s/stop", dir);
	if (mkdir(dir, 0755) != 0 && errno != EEXIST)
		return sgfs_fail_errno(errno, "mkdir", dir);
	printf("started=1\n");
	fflush(stdout);
	while (sgfs_now_us() < end && access(stop, F_OK) != 0)
		sgfs_victim_round(&v, dir, rounds++);
	for (int op = 0; op < SGFS_OP_COUNT; op++)
		worst = v.worst_us[op] > worst ? v.worst_us[op] : worst;
	printf("ops=%" PRIu64 " errors=%" PRIu64 " wrong=%" PRIu64 " rounds=%" PRIu64 " worst_ms=%.1f", v.ops, v.errors,
	       v.wrong, rounds, (double)worst / 1000.0);
	for (int op = 0; op < SGFS_OP_COUNT; op++)
		printf(" %s_ms=%.1f", sgfs_victim_names[op], (double)v.worst_us[op] / 1000.0);
	printf("\n");
	return 0;
}

static int sgfs_usage(void)
{
	fputs("usage: sgfstest sum FILE\n"
	      "       sgfstest mmsum FILE [populate]\n"
	      "       sgfstest fill FILE OFFSET LENGTH SEED\n"
	      "       sgfstest mmfill FILE OFFSET LENGTH SEED\n"
	      "       sgfstest mmpoke FILE OFFSET U64\n"
	      "       sgfstest mmwait FILE OFFSET U64 TIMEOUT_MS\n"
	      "       sgfstest mmstore FILE U64 TIMEOUT_MS\n"
	      "       sgfstest mmhuge FILE [fixed]\n"
	      "       sgfstest mount SOURCE DIR [OPTIONS]\n"
	      "       sgfstest cred\n"
	      "       sgfstest as UID GID COMMAND [ARG...]\n"
	      "       sgfstest lockappend FILE COUNT TAG [flock|posix]\n"
	      "       sgfstest lockhold FILE [flock|posix] [shared]\n"
	      "       sgfstest trylock FILE [flock|posix] [shared]\n"
	      "       sgfstest checkrecords FILE TAG COUNT [TAG COUNT...]\n"
	      "       sgfstest treesum DIR\n"
	      "       sgfstest chown FILE UID GID\n"
	      "       sgfstest ftruncate FILE SIZE MODE\n"
	      "       sgfstest xattr set FILE NAME VALUE|@LEN [create|replace]\n"
	      "       sgfstest xattr get FILE NAME [SIZE]\n"
	      "       sgfstest xattr list FILE [SIZE]\n"
	      "       sgfstest xattr remove FILE NAME\n"
	      "       sgfstest symlink LINK LEN\n"
	      "       sgfstest readlink LINK\n"
	      "       sgfstest excl PATH\n"
	      "       sgfstest copy SRC DST CHUNK [sendfile]\n"
	      "       sgfstest victim DIR SECONDS\n",
	      stderr);
	return 2;
}

/* Parses argv[first..first+count) as u64s into @values; false if one is not. */
static bool sgfs_numbers(char **argv, int first, int count, uint64_t *values)
{
	for (int i = 0; i < count; i++)
		if (!sgfs_parse_u64(argv[first + i], &values[i]))
			return false;
	return true;
}

/*
 * Parses the optional "[flock|posix] [shared]" words from argv[first] on:
 * false if a word is anything else (or shared is not allowed and given).
 */
static bool sgfs_lock_words(int argc, char **argv, int first, bool allow_shared,
			    bool *posix, bool *shared)
{
	*posix = false;
	*shared = false;
	if (first < argc && (!strcmp(argv[first], "flock") || !strcmp(argv[first], "posix")))
		*posix = !strcmp(argv[first++], "posix");
	if (allow_shared && first < argc && !strcmp(argv[first], "shared")) {
		*shared = true;
		first++;
	}
	return first == argc;
}

/* checkrecords FILE TAG COUNT...: the pairs after FILE. */
static int sgfs_checkrecords_args(int argc, char **argv)
{
	int ntags = (argc - 3) / 2;
	uint64_t *counts;
	char **tags;
	int ret;

	if (argc < 5 || (argc - 3) % 2)
		return sgfs_usage();
	counts = calloc((size_t)ntags, sizeof(*counts));
	tags = calloc((size_t)ntags, sizeof(*tags));
	if (!counts || !tags) {
		free(counts);
		free(tags);
		return sgfs_fail_errno(ENOMEM, "malloc", argv[2]);
	}
	ret = 0;
	for (int t = 0; t < ntags && !ret; t++) {
		tags[t] = argv[3 + 2 * t];
		if (!sgfs_valid_tag(tags[t]) || !sgfs_parse_u64(argv[4 + 2 * t], &counts[t]) ||
		    counts[t] > SGFS_RECORD_NUMBERS)
			ret = -1;
	}
	ret = ret ? sgfs_usage() : sgfs_checkrecords(argv[2], tags, counts, ntags);
	free(counts);
	free(tags);
	return ret;
}

static int sgfs_copy(const char *from, const char *to, uint64_t chunk, bool by_sendfile)
{
	uint64_t total = 0, started;
	struct stat st;
	ssize_t n = 0;
	int in, out, ret;

	if (chunk == 0 || chunk > 0x7ffff000)
		return sgfs_fail("EINVAL", "chunk", to);
	ret = sgfs_open(from, O_RDONLY, &in);
	if (ret)
		return ret;
	ret = sgfs_open(to, O_WRONLY | O_CREAT | O_TRUNC, &out);
	if (ret) {
		close(in);
		return ret;
	}
	started = sgfs_now_us();
	for (;;) {
		if (!by_sendfile) {
			n = copy_file_range(in, NULL, out, NULL, (size_t)chunk, 0);
			if (n < 0 && errno == EXDEV && total == 0) {
				by_sendfile = true;
				continue;
			}
		} else {
			n = sendfile(out, in, NULL, (size_t)chunk);
		}
		if (n <= 0)
			break;
		total += (uint64_t)n;
	}
	if (n < 0)
		ret = sgfs_fail_errno(errno, by_sendfile ? "sendfile" : "copy_file_range", to);
	else if (fstat(out, &st))
		ret = sgfs_fail_errno(errno, "fstat", to);
	else
		printf("bytes=%" PRIu64 " via=%s us=%" PRIu64 " blocks=%lld\n", total,
		       by_sendfile ? "sendfile" : "copy_file_range", sgfs_now_us() - started, (long long)st.st_blocks);
	close(in);
	close(out);
	return ret;
}

int main(int argc, char **argv)
{
	bool posix, shared;
	const char *cmd = argc > 1 ? argv[1] : "";
	uint64_t n[3];
	int ret;

	if (!strcmp(cmd, "sum") && argc == 3)
		ret = sgfs_sum(argv[2]);
	else if (!strcmp(cmd, "mmsum") && (argc == 3 || (argc == 4 && !strcmp(argv[3], "populate"))))
		ret = sgfs_mmsum(argv[2], argc == 4);
	else if (!strcmp(cmd, "fill") && argc == 6 && sgfs_numbers(argv, 3, 3, n))
		ret = sgfs_fill(argv[2], n[0], n[1], n[2]);
	else if (!strcmp(cmd, "mmfill") && argc == 6 && sgfs_numbers(argv, 3, 3, n))
		ret = sgfs_mmfill(argv[2], n[0], n[1], n[2]);
	else if (!strcmp(cmd, "mmpoke") && argc == 5 && sgfs_numbers(argv, 3, 2, n))
		ret = sgfs_mmpoke(argv[2], n[0], n[1]);
	else if (!strcmp(cmd, "mmwait") && argc == 6 && sgfs_numbers(argv, 3, 3, n))
		ret = sgfs_mmwait(argv[2], n[0], n[1], n[2]);
	else if (!strcmp(cmd, "mmstore") && argc == 5 && sgfs_numbers(argv, 3, 2, n))
		ret = sgfs_mmstore(argv[2], n[0], n[1]);
	else if (!strcmp(cmd, "mmhuge") && (argc == 3 || (argc == 4 && !strcmp(argv[3], "fixed"))))
		ret = sgfs_mmhuge(argv[2], argc == 4);
	else if (!strcmp(cmd, "mount") && (argc == 4 || argc == 5))
		ret = sgfs_mount(argv[2], argv[3], argc == 5 ? argv[4] : NULL);
	else if (!strcmp(cmd, "cred") && argc == 2)
		ret = sgfs_cred();
	else if (!strcmp(cmd, "as") && argc >= 5 && sgfs_numbers(argv, 2, 2, n))
		ret = sgfs_as(n[0], n[1], argv + 4);
	else if (!strcmp(cmd, "lockappend") && argc >= 5 && sgfs_numbers(argv, 3, 1, n) &&
		 n[0] <= SGFS_RECORD_NUMBERS && sgfs_valid_tag(argv[4]) &&
		 sgfs_lock_words(argc, argv, 5, false, &posix, &shared))
		ret = sgfs_lockappend(argv[2], n[0], argv[4], posix);
	else if (!strcmp(cmd, "lockhold") && argc >= 3 &&
		 sgfs_lock_words(argc, argv, 3, true, &posix, &shared))
		ret = sgfs_lockhold(argv[2], posix, shared, true);
	else if (!strcmp(cmd, "trylock") && argc >= 3 &&
		 sgfs_lock_words(argc, argv, 3, true, &posix, &shared))
		ret = sgfs_lockhold(argv[2], posix, shared, false);
	else if (!strcmp(cmd, "checkrecords"))
		return sgfs_checkrecords_args(argc, argv);
	else if (!strcmp(cmd, "treesum") && argc == 3)
		ret = sgfs_treesum(argv[2]);
	else if (!strcmp(cmd, "chown") && argc == 5 && sgfs_numbers(argv, 3, 2, n))
		ret = sgfs_chown(argv[2], n[0], n[1]);
	else if (!strcmp(cmd, "ftruncate") && argc == 5 && sgfs_numbers(argv, 3, 1, n))
		ret = sgfs_ftruncate(argv[2], n[0], argv[4]);
	else if (!strcmp(cmd, "xattr") && argc >= 4)
		ret = sgfs_xattr(argc, argv);
	else if (!strcmp(cmd, "symlink") && argc == 4 && sgfs_numbers(argv, 3, 1, n))
		ret = sgfs_symlink(argv[2], n[0]);
	else if (!strcmp(cmd, "readlink") && argc == 3)
		ret = sgfs_readlink(argv[2]);
	else if (!strcmp(cmd, "excl") && argc == 3)
		ret = sgfs_excl(argv[2]);
	else if (!strcmp(cmd, "copy") && (argc == 5 || (argc == 6 && !strcmp(argv[5], "sendfile"))) &&
		 sgfs_numbers(argv, 4, 1, n))
		ret = sgfs_copy(argv[2], argv[3], n[0], argc == 6);
	else if (!strcmp(cmd, "victim") && argc == 4 && sgfs_numbers(argv, 3, 1, n))
		ret = sgfs_victim(argv[2], n[0]);
	else
		return sgfs_usage();
	fflush(stdout);
	return ret ? 1 : 0;
}
