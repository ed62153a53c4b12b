// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * sgbench - one timed file-system workload per run, for comparing file
 * systems (guest tmpfs, stargatefs, 9p, virtiofs, NFS, cifs) from inside
 * busybox-only QEMU guests. Built static like sgfstest; it runs on the host
 * too, over any directory.
 *
 *   sgbench [--mmap] [--drop-caches] WORKLOAD DIR [ARGS]
 *
 * DIR must exist; the workloads' files live in it. Every number (MIB,
 * COUNT, N, ROUNDS) is decimal digits only, 1..4294967295. "Timed" is what
 * ns= covers, measured with CLOCK_MONOTONIC; nothing else is in it.
 *
 *   seqwrite DIR MIB    timed: open DIR/seq.dat O_CREAT|O_TRUNC, MIB 1 MiB
 *                       write(2)s of the pattern (below), fsync, close.
 *                       --mmap: DIR/seq.dat is not truncated; if shorter than
 *                       MIB MiB it is extended with write(2)s and fsync'd
 *                       (untimed); timed: mmap MAP_SHARED its first MIB MiB,
 *                       memcpy the pattern in 1 MiB at a time, msync(MS_SYNC),
 *                       munmap. (On stargatefs a store through a mapping into
 *                       a hole faults, so only allocated blocks are stored to.)
 *   seqread DIR MIB     DIR/seq.dat must hold at least MIB MiB. Timed: open,
 *                       MIB 1 MiB read(2)s, close; sum= of the pages (below).
 *                       --mmap: open, mmap MAP_SHARED, memcpy 1 MiB at a time
 *                       out of the mapping, munmap, close.
 *   mmapread DIR MIB    seqread --mmap, reported as workload=mmapread.
 *   randwrite DIR MIB COUNT
 *                       DIR/seq.dat must hold at least MIB MiB. Timed: open,
 *                       COUNT 4 KiB pwrite(2)s of the pattern, fsync, close.
 *                       Offsets: x = 0x9e3779b97f4a7c15, then per operation
 *                       x ^= x << 13, x ^= x >> 7, x ^= x << 17 (xorshift64),
 *                       offset = (x % (MIB * 256)) * 4096: the same each run.
 *                       --mmap: memcpy into a shared mapping, msync(MS_SYNC).
 *   randread DIR MIB COUNT
 *                       the same offsets, 4 KiB pread(2)s; sum= of the pages.
 *                       --mmap: memcpy out of a shared mapping.
 *   append DIR COUNT    timed: open DIR/append.dat O_CREAT|O_TRUNC|O_APPEND,
 *                       COUNT 4 KiB write(2)s of the pattern (each one grows
 *                       the file: on stargatefs, space and size), fsync,
 *                       close; then (untimed) unlink.
 *   smallwrite DIR MIB COUNT
 *                       DIR/seq.dat must hold at least MIB MiB. Timed: open,
 *                       COUNT 64-byte pwrite(2)s of the pattern inside the
 *                       file at the xorshift64 sequence above, offset =
 *                       (x % (MIB * 16384)) * 64 (no growth: each one only
 *                       stamps mtime), fsync, close.
 *   create DIR N        mkdir DIR/meta (it may exist if empty; untimed).
 *                       Timed: N times open(O_CREAT|O_EXCL|O_WRONLY)+close of
 *                       DIR/meta/f000000, f000001, ... (printf "f%06u", 0..N-1).
 *   stat DIR N          timed: stat(2) of each of those N files.
 *   readdir DIR N       timed: opendir, readdir to the end, closedir of
 *                       DIR/meta; its entries but . and .. must number N.
 *   unlink DIR N        timed: unlink(2) of the N files; then rmdir DIR/meta.
 *   xwrite DIR MIB      the pattern keyed by a fresh random KEY, summed
 *                       whole first (untimed). Timed: open DIR/xfer.dat.tmp
 *                       O_CREAT|O_TRUNC, MIB 1 MiB write(2)s, fsync, close,
 *                       rename to DIR/xfer.dat. sum= of every word.
 *   xread DIR MIB       waits (untimed, up to 60 s, a stat every 1 ms) for a
 *                       DIR/xfer.dat of exactly MIB MiB. Timed: open, 1 MiB
 *                       read(2)s into one MIB MiB buffer, close (--mmap:
 *                       memcpy out of a shared mapping). sum= of every word,
 *                       taken after: equal to xwrite's when the bytes arrived.
 *                       (An older xfer.dat of that size would be read too, and
 *                       its sum differ: remove it before starting the pair.)
 *   rtt DIR N           the cost of one metadata change, on stargatefs one
 *                       request's round trip: open DIR/rtt.dat O_CREAT
 *                       (untimed), then N fchmod(2)s, 0600 and 0644 in turn,
 *                       each timed; close and unlink (untimed). ns= is their
 *                       total; median_ns=, min_ns=, max_ns= follow.
 *   pingpong DIR ROLE ROUNDS
 *                       visibility latency between two machines sharing DIR.
 *                       DIR/ping and DIR/pong hold a little-endian u64 round
 *                       number in their first 8 bytes. Each poll opens,
 *                       preads 8 bytes and closes (NFS close-to-open); a
 *                       missing file or short read is "not yet"; polls
 *                       sched_yield() in between. Each write opens O_CREAT,
 *                       pwrites 8 bytes at 0 and closes. Remove ping and pong
 *                       before starting b: an old pong of 0 would let a start
 *                       early.
 *                       ROLE b, started first: removes DIR/ping, writes 0 to
 *                       DIR/pong, prints "sgbench pingpong ready"; then for
 *                       k = 1..ROUNDS waits for ping == k (60 s for k = 1,
 *                       30 s after) and writes k to pong. Prints
 *                       "sgbench workload=pingpong-b ops=ROUNDS" at the end.
 *                       ROLE a: waits (untimed, 60 s) for pong == 0, then for
 *                       k = 1..ROUNDS: writes k to ping and waits (30 s) for
 *                       pong == k, a round trip (two one-way visibilities),
 *                       each timed. ns= is their total; median_ns= (the lower
 *                       median), min_ns=, max_ns= follow.
 *
 * --drop-caches: sync(), then "3" into /proc/sys/vm/drop_caches, right
 * before the timed part (after any untimed preparation or wait); failing
 * to open that file is an error. --mmap: only the workloads that name it.
 *
 * Success, exit 0: exactly one line on stdout (pingpong b: the ready line
 * before it):
 *   sgbench workload=NAME bytes=B ops=N ns=T [sum=HEX16] [median_ns=...]
 * bytes: data moved (MIB * 2^20, or COUNT * 4096; 0 for the metadata
 * workloads and pingpong); ops: MIB, COUNT, N (readdir: entries) or ROUNDS.
 * Failure, exit 1: "sgbench: WORKLOAD: OPERATION PATH: reason" on stderr,
 * a SIGBUS on a mapping included. Bad arguments: usage on stderr, exit 2.
 *
 * The pattern: the 8-byte little-endian word at file offset o is
 * (w + 1) * 0x9e3779b97f4a7c15 ^ KEY (mod 2^64), w = o / 8 for the first
 * word of each 4 KiB page and (o % 1 MiB) / 8 for the others: one 1 MiB
 * buffer serves every block with 256 stores, no page repeats, no word is
 * zero for KEY 0. KEY is 0 except for xwrite.
 * Sums, printed %016x: h = 0xcbf29ce484222325, then per little-endian word
 * w: h = (h ^ w) * 0x100000001b3; h ^= h >> 32 (mod 2^64). seqread,
 * mmapread and randread fold in the first word of each 4 KiB page read, in
 * order (cheap enough to sit in the timed loop, and it makes reads real);
 * xwrite and xread every word of the file.
 *
 * A failure ends the process at once: error paths leave descriptors,
 * mappings and memory to the exit.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define SGB_BLOCK (1UL << 20)
#define SGB_PAGE 4096UL
#define SGB_GOLDEN 0x9e3779b97f4a7c15ULL
#define SGB_SUM_BASIS 0xcbf29ce484222325ULL
#define SGB_SUM_PRIME 0x100000001b3ULL
#define SGB_NUMBER_MAX 4294967295ULL
#define SGB_NS 1000000000ULL
#define SGB_DROP_CACHES "/proc/sys/vm/drop_caches"

static const char *sgb_workload; /* NULL until the command line names it */
static bool sgb_drop_caches;

/* The files in DIR, and DIR/meta/f of the metadata files (digits at sgb_name_digits); set by main. */
static char sgb_seq[PATH_MAX], sgb_xfer[PATH_MAX], sgb_xfer_tmp[PATH_MAX], sgb_appended[PATH_MAX];
static char sgb_meta[PATH_MAX], sgb_ping[PATH_MAX], sgb_pong[PATH_MAX], sgb_rttfile[PATH_MAX];
static char sgb_name[PATH_MAX + 32];
static size_t sgb_name_digits;

/* ---- failures, time, the result line ------------------------------------ */

/* Prints "sgbench: WORKLOAD: " (once known) and the message on stderr; returns 1, the exit status. */
__attribute__((format(printf, 1, 2)))
static int sgb_failf(const char *format, ...)
{
	va_list args;

	fprintf(stderr, "sgbench: %s%s", sgb_workload ? sgb_workload : "", sgb_workload ? ": " : "");
	va_start(args, format);
	vfprintf(stderr, format, args);
	va_end(args);
	fputc('\n', stderr);
	return 1;
}

static int sgb_usage(void);

/* A bad argument: the message, then the usage; returns 2. */
#define sgb_bad(...) (sgb_failf(__VA_ARGS__), sgb_usage())

/* Prints "OPERATION PATH: strerror(@err)"; returns 1, the exit status. */
static int sgb_fail(const char *operation, const char *path, int err)
{
	return sgb_failf("%s %s: %s", operation, path, strerror(err));
}

static uint64_t sgb_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * SGB_NS + (uint64_t)ts.tv_nsec;
}

static void sgb_sleep_1ms(void)
{
	struct timespec ts = { .tv_nsec = 1000000L };

	nanosleep(&ts, NULL);
}

/* Right before a timed part: --drop-caches, then the start time into @t0. */
static int sgb_start(uint64_t *t0)
{
	if (sgb_drop_caches) {
		int fd;

		sync();
		fd = open(SGB_DROP_CACHES, O_WRONLY | O_CLOEXEC);
		if (fd < 0)
			return sgb_failf("open %s: %s (--drop-caches needs root and /proc)",
					 SGB_DROP_CACHES, strerror(errno));
		if (write(fd, "3", 1) != 1)
			return sgb_fail("write", SGB_DROP_CACHES, errno);
		close(fd);
	}
	*t0 = sgb_now();
	return 0;
}

/* The result line; @extra is "" or " key=value" words. */
static int sgb_result(uint64_t bytes, uint64_t ops, uint64_t ns, const char *extra)
{
	printf("sgbench workload=%s bytes=%" PRIu64 " ops=%" PRIu64 " ns=%" PRIu64 "%s\n",
	       sgb_workload, bytes, ops, ns, extra);
	return fflush(stdout) ? sgb_fail("write", "stdout", errno) : 0;
}

/* " sum=HEX16", in a static buffer. */
static const char *sgb_sum_word(uint64_t sum)
{
	static char word[32];

	snprintf(word, sizeof(word), " sum=%016" PRIx64, sum);
	return word;
}

/* ---- files and mappings ----------------------------------------------------- */

static int sgb_open(const char *path, int flags, int *fd)
{
	*fd = open(path, flags | O_CLOEXEC, 0644);
	return *fd < 0 ? sgb_fail("open", path, errno) : 0;
}

static int sgb_close(int fd, const char *path)
{
	return close(fd) ? sgb_fail("close", path, errno) : 0;
}

static int sgb_fsync(int fd, const char *path)
{
	return fsync(fd) ? sgb_fail("fsync", path, errno) : 0;
}

/*
 * Moves all @len bytes between @buf and the file: write(2)/read(2) at the
 * file position if @off < 0, else pwrite(2)/pread(2) at @off. The end of
 * the file before @len bytes were read is an error.
 */
static int sgb_io(int fd, bool writing, void *buf, size_t len, off_t off, const char *path)
{
	static const char *const calls[2][2] = { { "read", "pread" }, { "write", "pwrite" } };
	uint8_t *p = buf;

	while (len) {
		ssize_t n = writing ? (off < 0 ? write(fd, p, len) : pwrite(fd, p, len, off))
				    : (off < 0 ? read(fd, p, len) : pread(fd, p, len, off));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || (n == 0 && writing))
			return sgb_fail(calls[writing][off >= 0], path, n < 0 ? errno : EIO);
		if (n == 0)
			return sgb_failf("read %s: end of file %zu bytes early", path, len);
		p += n;
		len -= (size_t)n;
		off = off < 0 ? off : off + n;
	}
	return 0;
}

/* Fails unless @path is a regular file of at least @bytes bytes. */
static int sgb_need_size(const char *path, uint64_t bytes)
{
	struct stat st;

	if (stat(path, &st) != 0)
		return sgb_fail("stat", path, errno);
	if (!S_ISREG(st.st_mode))
		return sgb_failf("stat %s: not a regular file", path);
	if ((uint64_t)st.st_size < bytes)
		return sgb_failf("size of %s: %jd bytes, fewer than the %" PRIu64
				 " asked for (run seqwrite with as many MiB first)",
				 path, (intmax_t)st.st_size, bytes);
	return 0;
}

/*
 * A fault on a mapping (a hole the file system cannot back, a file cut
 * short under it) raises SIGBUS: the handler prints the line sgb_map
 * prepared and exits 1, like any other failure.
 */
static char sgb_bus_line[PATH_MAX + 128];
static size_t sgb_bus_len;

static void sgb_on_sigbus(int sig)
{
	ssize_t n = write(STDERR_FILENO, sgb_bus_line, sgb_bus_len);

	(void)sig;
	(void)n;
	_exit(1);
}

static int sgb_map(int fd, size_t len, int prot, const char *path, uint8_t **map)
{
	int n = snprintf(sgb_bus_line, sizeof(sgb_bus_line),
			 "sgbench: %s: access through a mapping of %s: SIGBUS\n", sgb_workload, path);
	void *p;

	sgb_bus_len = n < (int)sizeof(sgb_bus_line) ? (size_t)n : sizeof(sgb_bus_line) - 1;
	p = mmap(NULL, len, prot, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return sgb_fail("mmap", path, errno);
	*map = p;
	return 0;
}

static int sgb_unmap(uint8_t *map, size_t len, const char *path)
{
	return munmap(map, len) ? sgb_fail("munmap", path, errno) : 0;
}

/* ---- the pattern and the sums ------------------------------------------------- */

static uint64_t sgb_word(uint64_t w, uint64_t key)
{
	return (w + 1) * SGB_GOLDEN ^ key;
}

/* Stamps the first word of each page of [@at, @at + @len) as file offset @off on. */
static void sgb_stamp(uint64_t *at, uint64_t off, size_t len, uint64_t key)
{
	for (size_t o = 0; o < len; o += SGB_PAGE)
		at[o / 8] = sgb_word((off + o) / 8, key);
}

/* A page-aligned 1 MiB buffer holding the pattern of @key (as block 0), or NULL (reported). */
static uint64_t *sgb_block(uint64_t key)
{
	uint64_t *block = aligned_alloc(SGB_PAGE, SGB_BLOCK);

	if (!block)
		sgb_failf("malloc of 1 MiB: %s", strerror(ENOMEM));
	for (size_t i = 0; block && i < SGB_BLOCK / 8; i++)
		block[i] = sgb_word(i, key);
	return block;
}

/* The step of the sums over one word (x86: memory order is little-endian). */
static uint64_t sgb_mix(uint64_t h, const uint8_t *at)
{
	uint64_t w;

	memcpy(&w, at, sizeof(w));
	h = (h ^ w) * SGB_SUM_PRIME;
	return h ^ (h >> 32); /* a multiply alone never carries high bits down */
}

/* Folds in the first word of each page of @buf (@step SGB_PAGE) or every word (@step 8). */
static uint64_t sgb_sum(uint64_t h, const uint8_t *buf, size_t len, size_t step)
{
	for (size_t o = 0; o < len; o += step)
		h = sgb_mix(h, buf + o);
	return h;
}

/* ---- data workloads -------------------------------------------------------------- */

/*
 * seqwrite and xwrite: the pattern of @key into @path with write(2), fsync,
 * close, all timed; for xwrite (@final) the rename to @final too. @extra:
 * words for the result line.
 */
static int sgb_write_file(const char *path, const char *final, uint64_t mib, uint64_t key,
			  const char *extra)
{
	uint64_t *block = sgb_block(key), t0;
	int fd, ret;

	if (!block)
		return 1;
	ret = sgb_start(&t0);
	ret = ret ? ret : sgb_open(path, O_CREAT | O_TRUNC | O_WRONLY, &fd);
	for (uint64_t k = 0; !ret && k < mib; k++) {
		sgb_stamp(block, k * SGB_BLOCK, SGB_BLOCK, key);
		ret = sgb_io(fd, true, block, SGB_BLOCK, -1, path);
	}
	ret = ret ? ret : sgb_fsync(fd, path);
	ret = ret ? ret : sgb_close(fd, path);
	if (!ret && final && rename(path, final) != 0)
		ret = sgb_failf("rename %s to %s: %s", path, final, strerror(errno));
	t0 = sgb_now() - t0;
	free(block);
	return ret ? ret : sgb_result(mib * SGB_BLOCK, mib, t0, extra);
}

/* seqwrite --mmap: DIR/seq.dat extended to @mib MiB (untimed), then stored to through a mapping. */
static int sgb_mmwrite(uint64_t mib)
{
	const char *path = sgb_seq;
	uint64_t size = mib * SGB_BLOCK, *block = sgb_block(0), have = 0, t0;
	struct stat st;
	uint8_t *map;
	int fd, ret;

	if (!block)
		return 1;
	ret = sgb_open(path, O_CREAT | O_RDWR, &fd);
	if (!ret && fstat(fd, &st) != 0)
		ret = sgb_fail("fstat", path, errno);
	have = ret ? 0 : (uint64_t)st.st_size;
	for (uint64_t k = have / SGB_BLOCK; !ret && k < mib; k++) {
		uint64_t skip = k == have / SGB_BLOCK ? have % SGB_BLOCK : 0;

		sgb_stamp(block, k * SGB_BLOCK, SGB_BLOCK, 0);
		ret = sgb_io(fd, true, (uint8_t *)block + skip, SGB_BLOCK - skip,
			     (off_t)(k * SGB_BLOCK + skip), path);
	}
	if (!ret && have < size)
		ret = sgb_fsync(fd, path);
	ret = ret ? ret : sgb_start(&t0);
	ret = ret ? ret : sgb_map(fd, size, PROT_WRITE, path, &map);
	for (uint64_t k = 0; !ret && k < mib; k++) {
		sgb_stamp(block, k * SGB_BLOCK, SGB_BLOCK, 0);
		memcpy(map + k * SGB_BLOCK, block, SGB_BLOCK);
	}
	if (!ret && msync(map, size, MS_SYNC) != 0)
		ret = sgb_fail("msync", path, errno);
	ret = ret ? ret : sgb_unmap(map, size, path);
	t0 = sgb_now() - t0;
	ret = ret ? ret : sgb_close(fd, path);
	free(block);
	return ret ? ret : sgb_result(size, mib, t0, "");
}

/*
 * seqread, mmapread and xread: @mib MiB of @path in 1 MiB steps through
 * read(2) or (@mapped) a shared mapping, open to close timed. Into one
 * 1 MiB buffer, with the page sum on the way; or (@whole, xread) into one
 * @mib MiB buffer, summed whole after the timing.
 */
static int sgb_read_file(const char *path, uint64_t mib, bool mapped, bool whole)
{
	uint64_t size = mib * SGB_BLOCK, sum = SGB_SUM_BASIS, t0;
	uint8_t *buf = aligned_alloc(SGB_PAGE, whole ? size : SGB_BLOCK), *map;
	int fd, ret;

	if (!buf)
		return sgb_failf("malloc of %" PRIu64 " MiB: %s", whole ? mib : 1, strerror(ENOMEM));
	memset(buf, 0, whole ? size : SGB_BLOCK); /* its page faults are not the file system's */
	ret = sgb_start(&t0);
	ret = ret ? ret : sgb_open(path, O_RDONLY, &fd);
	if (!ret && mapped)
		ret = sgb_map(fd, size, PROT_READ, path, &map);
	for (uint64_t k = 0; !ret && k < mib; k++) {
		uint8_t *to = whole ? buf + k * SGB_BLOCK : buf;

		if (mapped)
			memcpy(to, map + k * SGB_BLOCK, SGB_BLOCK);
		else
			ret = sgb_io(fd, false, to, SGB_BLOCK, -1, path);
		if (!whole)
			sum = sgb_sum(sum, to, SGB_BLOCK, SGB_PAGE);
	}
	if (!ret && mapped)
		ret = sgb_unmap(map, size, path);
	ret = ret ? ret : sgb_close(fd, path);
	t0 = sgb_now() - t0;
	if (whole)
		sum = sgb_sum(sum, buf, size, 8);
	free(buf);
	return ret ? ret : sgb_result(size, mib, t0, sgb_sum_word(sum));
}

/* randwrite (@writing) and randread: @count 4 KiB pages at the fixed xorshift64 offsets. */
static int sgb_random(uint64_t mib, uint64_t count, bool writing, bool mapped)
{
	const char *path = sgb_seq;
	uint64_t size = mib * SGB_BLOCK, x = SGB_GOLDEN, sum = SGB_SUM_BASIS, t0;
	uint64_t *block = sgb_block(0);
	uint8_t *map, *page = (uint8_t *)block;
	int fd, ret;

	if (!block)
		return 1;
	ret = sgb_need_size(path, size);
	ret = ret ? ret : sgb_start(&t0);
	ret = ret ? ret : sgb_open(path, !writing ? O_RDONLY : mapped ? O_RDWR : O_WRONLY, &fd);
	if (!ret && mapped)
		ret = sgb_map(fd, size, writing ? PROT_WRITE : PROT_READ, path, &map);
	for (uint64_t i = 0; !ret && i < count; i++) {
		uint64_t off;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		off = x % (size / SGB_PAGE) * SGB_PAGE;
		if (writing) {
			/* The page of the pattern that belongs at @off. */
			page = (uint8_t *)block + off % SGB_BLOCK;
			sgb_stamp((uint64_t *)page, off, SGB_PAGE, 0);
		}
		if (mapped)
			memcpy(writing ? map + off : page, writing ? page : map + off, SGB_PAGE);
		else
			ret = sgb_io(fd, writing, page, SGB_PAGE, (off_t)off, path);
		sum = writing ? sum : sgb_mix(sum, page);
	}
	if (!ret && writing && mapped && msync(map, size, MS_SYNC) != 0)
		ret = sgb_fail("msync", path, errno);
	if (!ret && writing && !mapped)
		ret = sgb_fsync(fd, path);
	if (!ret && mapped)
		ret = sgb_unmap(map, size, path);
	ret = ret ? ret : sgb_close(fd, path);
	t0 = sgb_now() - t0;
	free(block);
	return ret ? ret : sgb_result(count * SGB_PAGE, count, t0, writing ? "" : sgb_sum_word(sum));
}

/* append: @count 4 KiB write(2)s, each growing DIR/append.dat by one page. */
static int sgb_append(uint64_t count)
{
	const char *path = sgb_appended;
	uint64_t *block = sgb_block(0), t0;
	int fd, ret;

	if (!block)
		return 1;
	ret = sgb_start(&t0);
	ret = ret ? ret : sgb_open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, &fd);
	for (uint64_t i = 0; !ret && i < count; i++) {
		uint64_t off = i * SGB_PAGE;

		sgb_stamp(block + off % SGB_BLOCK / 8, off, SGB_PAGE, 0);
		ret = sgb_io(fd, true, (uint8_t *)block + off % SGB_BLOCK, SGB_PAGE, (off_t)off, path);
	}
	ret = ret ? ret : sgb_fsync(fd, path);
	ret = ret ? ret : sgb_close(fd, path);
	t0 = sgb_now() - t0;
	free(block);
	if (!ret && unlink(path) != 0)
		ret = sgb_fail("unlink", path, errno);
	return ret ? ret : sgb_result(count * SGB_PAGE, count, t0, "");
}

/* smallwrite: @count 64-byte pwrite(2)s inside DIR/seq.dat, at the xorshift64 offsets. */
static int sgb_smallwrite(uint64_t mib, uint64_t count)
{
	const char *path = sgb_seq;
	uint64_t size = mib * SGB_BLOCK, x = SGB_GOLDEN, t0, words[8];
	int fd, ret;

	ret = sgb_need_size(path, size);
	ret = ret ? ret : sgb_start(&t0);
	ret = ret ? ret : sgb_open(path, O_WRONLY, &fd);
	for (uint64_t i = 0; !ret && i < count; i++) {
		uint64_t off;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		off = x % (size / sizeof(words)) * sizeof(words);
		for (size_t k = 0; k < 8; k++)
			words[k] = sgb_word(off / 8 + k, 0);
		ret = sgb_io(fd, true, words, sizeof(words), (off_t)off, path);
	}
	ret = ret ? ret : sgb_fsync(fd, path);
	ret = ret ? ret : sgb_close(fd, path);
	t0 = sgb_now() - t0;
	return ret ? ret : sgb_result(count * sizeof(words), count, t0, "");
}

/* xwrite: a KEY no earlier run is likely to have used (getrandom, else the clocks and pid). */
static int sgb_xwrite(uint64_t mib)
{
	uint64_t key, sum = SGB_SUM_BASIS, *block;

	if (getrandom(&key, sizeof(key), GRND_NONBLOCK) != (ssize_t)sizeof(key)) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		key = sgb_word((uint64_t)ts.tv_sec * SGB_NS + (uint64_t)ts.tv_nsec, sgb_now()) ^
		      (uint64_t)getpid() << 40;
	}
	block = sgb_block(key);
	if (!block)
		return 1;
	/* The very blocks sgb_write_file writes next. */
	for (uint64_t k = 0; k < mib; k++) {
		sgb_stamp(block, k * SGB_BLOCK, SGB_BLOCK, key);
		sum = sgb_sum(sum, (uint8_t *)block, SGB_BLOCK, 8);
	}
	free(block);
	return sgb_write_file(sgb_xfer_tmp, sgb_xfer, mib, key, sgb_sum_word(sum));
}

/* xread: waits (untimed) for DIR/xfer.dat of exactly @mib MiB, then reads it whole. */
static int sgb_xread(uint64_t mib, bool mapped)
{
	uint64_t size = mib * SGB_BLOCK, deadline = sgb_now() + 60 * SGB_NS;
	struct stat st;

	for (;;) {
		int err = stat(sgb_xfer, &st) != 0 ? errno : 0;

		if (!err && S_ISREG(st.st_mode) && (uint64_t)st.st_size == size)
			return sgb_read_file(sgb_xfer, mib, mapped, true);
		if (err && err != ENOENT)
			return sgb_fail("stat", sgb_xfer, err);
		if (sgb_now() > deadline)
			return sgb_failf("wait for %s: no regular file of %" PRIu64 " bytes after 60 s (%s)",
					 sgb_xfer, size, err ? "it is missing" : "its size differs");
		sgb_sleep_1ms();
	}
}

/* ---- metadata workloads ---------------------------------------------------------- */

/* Counts the entries of DIR/meta other than "." and "..". */
static int sgb_count(uint64_t *count)
{
	DIR *dir = opendir(sgb_meta);
	struct dirent *d;

	if (!dir)
		return sgb_fail("opendir", sgb_meta, errno);
	*count = 0;
	for (errno = 0; (d = readdir(dir)); errno = 0)
		if (strcmp(d->d_name, ".") && strcmp(d->d_name, ".."))
			(*count)++;
	if (errno)
		return sgb_fail("readdir", sgb_meta, errno);
	return closedir(dir) ? sgb_fail("closedir", sgb_meta, errno) : 0;
}

/* create, stat and unlink (@op its first letter): one call per file, timed. */
static int sgb_files(uint64_t n, char op)
{
	uint64_t t0, have;
	struct stat st;
	int fd, ret;

	if (op == 'c') {
		if (mkdir(sgb_meta, 0755) != 0 && errno != EEXIST)
			return sgb_fail("mkdir", sgb_meta, errno);
		if (sgb_count(&have))
			return 1;
		if (have)
			return sgb_failf("%s is not empty (%" PRIu64 " entries; unlink them first)",
					 sgb_meta, have);
	}
	ret = sgb_start(&t0);
	for (uint64_t i = 0; !ret && i < n; i++) {
		snprintf(sgb_name + sgb_name_digits, 24, "%06" PRIu64, i);
		if (op == 'c' && (fd = open(sgb_name, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0644)) < 0)
			ret = sgb_fail("open", sgb_name, errno);
		else if (op == 'c')
			ret = sgb_close(fd, sgb_name);
		else if (op == 's' && stat(sgb_name, &st) != 0)
			ret = sgb_fail("stat", sgb_name, errno);
		else if (op == 's' && !S_ISREG(st.st_mode))
			ret = sgb_failf("stat %s: not a regular file", sgb_name);
		else if (op == 'u' && unlink(sgb_name) != 0)
			ret = sgb_fail("unlink", sgb_name, errno);
	}
	t0 = sgb_now() - t0;
	if (!ret && op == 'u' && rmdir(sgb_meta) != 0)
		ret = sgb_fail("rmdir", sgb_meta, errno);
	return ret ? ret : sgb_result(0, n, t0, "");
}

static int sgb_readdir(uint64_t n)
{
	uint64_t t0, count;
	int ret = sgb_start(&t0);

	ret = ret ? ret : sgb_count(&count);
	t0 = sgb_now() - t0;
	if (!ret && count != n)
		ret = sgb_failf("readdir %s: %" PRIu64 " entries, expected %" PRIu64, sgb_meta, count, n);
	return ret ? ret : sgb_result(0, count, t0, "");
}

/*
 * dirscale: in one empty directory, create N files, stat each, rename each
 * (f* to r*) and unlink each: four timed loops, whose totals are printed as
 * create_ns, stat_ns, rename_ns and unlink_ns (ns is their sum, ops N). The
 * harness runs it for growing N: a directory index keeps each operation's
 * cost flat.
 */
static int sgb_dirscale(uint64_t n)
{
	char target[PATH_MAX + 32], extra[160];
	uint64_t t0, have, ns[4];
	struct stat st;
	int fd, ret = 0;

	if (mkdir(sgb_meta, 0755) != 0 && errno != EEXIST)
		return sgb_fail("mkdir", sgb_meta, errno);
	if (sgb_count(&have))
		return 1;
	if (have)
		return sgb_failf("%s is not empty (%" PRIu64 " entries; unlink them first)", sgb_meta, have);
	memcpy(target, sgb_name, sgb_name_digits);
	target[sgb_name_digits - 1] = 'r';
	for (int step = 0; !ret && step < 4; step++) {
		ret = sgb_start(&t0);
		for (uint64_t i = 0; !ret && i < n; i++) {
			snprintf(sgb_name + sgb_name_digits, 24, "%06" PRIu64, i);
			snprintf(target + sgb_name_digits, 24, "%06" PRIu64, i);
			if (step == 0 && (fd = open(sgb_name, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0644)) < 0)
				ret = sgb_fail("open", sgb_name, errno);
			else if (step == 0)
				ret = sgb_close(fd, sgb_name);
			else if (step == 1 && stat(sgb_name, &st) != 0)
				ret = sgb_fail("stat", sgb_name, errno);
			else if (step == 2 && rename(sgb_name, target) != 0)
				ret = sgb_fail("rename", sgb_name, errno);
			else if (step == 3 && unlink(target) != 0)
				ret = sgb_fail("unlink", target, errno);
		}
		ns[step] = sgb_now() - t0;
	}
	if (!ret && rmdir(sgb_meta) != 0)
		ret = sgb_fail("rmdir", sgb_meta, errno);
	if (ret)
		return ret;
	snprintf(extra, sizeof(extra), " create_ns=%" PRIu64 " stat_ns=%" PRIu64 " rename_ns=%" PRIu64
		 " unlink_ns=%" PRIu64, ns[0], ns[1], ns[2], ns[3]);
	return sgb_result(0, n, ns[0] + ns[1] + ns[2] + ns[3], extra);
}

/* ---- pingpong ------------------------------------------------------------------------ */

static int sgb_put(const char *path, uint64_t value, int flags)
{
	int fd, ret = sgb_open(path, O_WRONLY | O_CREAT | flags, &fd);

	/* Little-endian on x86 as it stands in memory. */
	ret = ret ? ret : sgb_io(fd, true, &value, sizeof(value), 0, path);
	return ret ? ret : sgb_close(fd, path);
}

/* Polls @path (reopened each time) until it holds @want, for @limit_s seconds; @what names the wait. */
static int sgb_await(const char *path, uint64_t want, const char *what, uint64_t limit_s, bool sleepy)
{
	uint64_t deadline = sgb_now() + limit_s * SGB_NS, value = 0;
	bool seen = false;

	for (;;) {
		int fd = open(path, O_RDONLY | O_CLOEXEC);

		if (fd < 0 && errno != ENOENT)
			return sgb_fail("open", path, errno);
		if (fd >= 0) {
			uint64_t got;
			ssize_t n;

			do
				n = pread(fd, &got, sizeof(got), 0);
			while (n < 0 && errno == EINTR);
			if (n < 0)
				return sgb_fail("pread", path, errno);
			if (sgb_close(fd, path))
				return 1;
			if (n == (ssize_t)sizeof(got) && got == want)
				return 0;
			if (n == (ssize_t)sizeof(got)) {
				seen = true;
				value = got;
			}
		}
		if (sgb_now() > deadline)
			return sgb_failf("%s: no change seen in %" PRIu64 " s (%s %s %" PRIu64 ")", what,
					 limit_s, path, seen ? "last held" : "never had 8 bytes, wanted",
					 seen ? value : want);
		if (sleepy)
			sgb_sleep_1ms();
		else
			sched_yield();
	}
}

static int sgb_by_value(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* " median_ns=... min_ns=... max_ns=..." of n times into extra (which sorts them). */
static void sgb_spread(uint64_t *times, uint64_t n, char *extra, size_t size)
{
	qsort(times, n, sizeof(*times), sgb_by_value);
	snprintf(extra, size, " median_ns=%" PRIu64 " min_ns=%" PRIu64 " max_ns=%" PRIu64,
		 times[(n - 1) / 2], times[0], times[n - 1]);
}

static int sgb_rtt(uint64_t n)
{
	uint64_t *times = calloc(n, sizeof(*times)), total = 0, t0;
	const char *path = sgb_rttfile;
	char extra[96];
	int fd, ret;

	if (!times)
		return sgb_failf("malloc of %" PRIu64 " times: %s", n, strerror(ENOMEM));
	ret = sgb_open(path, O_RDWR | O_CREAT, &fd);
	ret = ret ? ret : sgb_start(&t0);
	for (uint64_t i = 0; !ret && i < n; i++) {
		t0 = sgb_now();
		if (fchmod(fd, i % 2 ? 0644 : 0600) != 0)
			ret = sgb_fail("fchmod", path, errno);
		times[i] = sgb_now() - t0;
		total += times[i];
	}
	ret = ret ? ret : sgb_close(fd, path);
	if (!ret && unlink(path) != 0)
		ret = sgb_fail("unlink", path, errno);
	if (ret)
		return ret;
	sgb_spread(times, n, extra, sizeof(extra));
	free(times);
	return sgb_result(0, n, total, extra);
}

static int sgb_pingpong(bool role_a, uint64_t rounds)
{
	uint64_t *trips = role_a ? calloc(rounds, sizeof(*trips)) : NULL, total = 0, t0;
	char what[48], extra[96];
	int ret;

	if (role_a && !trips)
		return sgb_failf("malloc of %" PRIu64 " round times: %s", rounds, strerror(ENOMEM));
	if (role_a) {
		ret = sgb_await(sgb_pong, 0, "start (is role b running on DIR?)", 60, true);
	} else {
		/* A ping left by an earlier run would answer round 1 before a does. */
		ret = unlink(sgb_ping) != 0 && errno != ENOENT ? sgb_fail("unlink", sgb_ping, errno) : 0;
		ret = ret ? ret : sgb_put(sgb_pong, 0, O_TRUNC);
	}
	ret = ret ? ret : sgb_start(&t0);
	if (!ret && !role_a) {
		printf("sgbench pingpong ready\n");
		ret = fflush(stdout) ? sgb_fail("write", "stdout", errno) : 0;
	}
	for (uint64_t k = 1; !ret && k <= rounds; k++) {
		snprintf(what, sizeof(what), "round %" PRIu64, k);
		if (role_a) {
			t0 = sgb_now();
			ret = sgb_put(sgb_ping, k, 0);
			ret = ret ? ret : sgb_await(sgb_pong, k, what, 30, false);
			trips[k - 1] = sgb_now() - t0;
			total += trips[k - 1];
		} else {
			/* Round 1 includes a's start. */
			ret = sgb_await(sgb_ping, k, what, k == 1 ? 60 : 30, false);
			ret = ret ? ret : sgb_put(sgb_pong, k, 0);
		}
	}
	if (ret)
		return ret;
	if (!role_a) {
		printf("sgbench workload=pingpong-b ops=%" PRIu64 "\n", rounds);
		return fflush(stdout) ? sgb_fail("write", "stdout", errno) : 0;
	}
	sgb_spread(trips, rounds, extra, sizeof(extra));
	free(trips);
	return sgb_result(0, rounds, total, extra);
}

/* ---- command line ------------------------------------------------------------------ */

static int sgb_usage(void)
{
	fputs("usage: sgbench [--mmap] [--drop-caches] WORKLOAD DIR [ARGS]\n"
	      "  seqwrite DIR MIB | seqread DIR MIB | mmapread DIR MIB\n"
	      "  randwrite DIR MIB COUNT | randread DIR MIB COUNT\n"
	      "  append DIR COUNT | smallwrite DIR MIB COUNT\n"
	      "  create DIR N | stat DIR N | readdir DIR N | unlink DIR N | dirscale DIR N\n"
	      "  rtt DIR N\n"
	      "  xwrite DIR MIB | xread DIR MIB | pingpong DIR a|b ROUNDS\n"
	      "numbers: decimal, 1..4294967295. --mmap: seqwrite, seqread, mmapread,\n"
	      "randwrite, randread, xread. See the top of sgbench.c.\n",
	      stderr);
	return 2;
}

/* Decimal digits only, 1..SGB_NUMBER_MAX. */
static bool sgb_number(const char *text, uint64_t *value)
{
	char *end;

	if (text[0] < '0' || text[0] > '9')
		return false;
	errno = 0;
	*value = strtoull(text, &end, 10);
	return errno == 0 && *end == '\0' && *value >= 1 && *value <= SGB_NUMBER_MAX;
}

/* @out = DIR/@name; false if that is too long. */
static bool sgb_path(char *out, const char *dir, const char *name)
{
	return snprintf(out, PATH_MAX, "%s/%s", dir, name) < PATH_MAX;
}

static const struct {
	const char *name, *args[2]; /* the words after DIR */
	bool mmap_ok;
} sgb_workloads[] = {
	{ "seqwrite", { "MIB" }, true },	   { "seqread", { "MIB" }, true },
	{ "mmapread", { "MIB" }, true },	   { "randwrite", { "MIB", "COUNT" }, true },
	{ "randread", { "MIB", "COUNT" }, true }, { "create", { "N" }, false },
	{ "stat", { "N" }, false },		   { "readdir", { "N" }, false },
	{ "unlink", { "N" }, false },		   { "xwrite", { "MIB" }, false },
	{ "xread", { "MIB" }, true },		   { "pingpong", { "ROLE", "ROUNDS" }, false },
	{ "append", { "COUNT" }, false },	   { "smallwrite", { "MIB", "COUNT" }, false },
	{ "dirscale", { "N" }, false },	   { "rtt", { "N" }, false },
};

int main(int argc, char **argv)
{
	size_t i = 0, count = sizeof(sgb_workloads) / sizeof(sgb_workloads[0]);
	struct sigaction bus = { .sa_handler = sgb_on_sigbus };
	bool mapped = false;
	uint64_t n[2] = { 0, 0 };
	const char *dir, *w;
	struct stat st;
	int a = 1, nargs;

	for (; a < argc && !strncmp(argv[a], "--", 2); a++) {
		if (!strcmp(argv[a], "--mmap"))
			mapped = true;
		else if (!strcmp(argv[a], "--drop-caches"))
			sgb_drop_caches = true;
		else
			return sgb_bad("unknown option %s", argv[a]);
	}
	if (a >= argc)
		return sgb_usage();
	while (i < count && strcmp(argv[a], sgb_workloads[i].name))
		i++;
	if (i == count)
		return sgb_bad("unknown workload '%s'", argv[a]);
	w = sgb_workload = sgb_workloads[i].name;
	nargs = sgb_workloads[i].args[1] ? 2 : 1;
	if (argc - a - 2 != nargs)
		return sgb_bad("want DIR %s%s%s", sgb_workloads[i].args[0], nargs == 2 ? " " : "",
			       nargs == 2 ? sgb_workloads[i].args[1] : "");
	if (mapped && !sgb_workloads[i].mmap_ok)
		return sgb_bad("--mmap does not apply");
	dir = argv[a + 1];
	for (int k = 0; k < nargs; k++) {
		const char *arg = argv[a + 2 + k];

		if (!strcmp(sgb_workloads[i].args[k], "ROLE")) {
			if (strcmp(arg, "a") && strcmp(arg, "b"))
				return sgb_bad("ROLE '%s': want a or b", arg);
			n[k] = arg[0] == 'a';
		} else if (!sgb_number(arg, &n[k])) {
			return sgb_bad("%s '%s': want a decimal number 1..%llu", sgb_workloads[i].args[k],
				       arg, SGB_NUMBER_MAX);
		}
	}
	if (stat(dir, &st) != 0)
		return sgb_fail("stat", dir, errno);
	if (!S_ISDIR(st.st_mode))
		return sgb_fail("stat", dir, ENOTDIR);
	if (!sgb_path(sgb_seq, dir, "seq.dat") || !sgb_path(sgb_xfer, dir, "xfer.dat") ||
	    !sgb_path(sgb_xfer_tmp, dir, "xfer.dat.tmp") || !sgb_path(sgb_meta, dir, "meta") ||
	    !sgb_path(sgb_ping, dir, "ping") || !sgb_path(sgb_appended, dir, "append.dat") || !sgb_path(sgb_pong, dir, "pong") ||
	    !sgb_path(sgb_rttfile, dir, "rtt.dat") ||
	    !sgb_path(sgb_name, dir, "meta/f"))
		return sgb_fail("paths in", dir, ENAMETOOLONG);
	sgb_name_digits = strlen(sgb_name);
	sigemptyset(&bus.sa_mask);
	sigaction(SIGBUS, &bus, NULL);

	if (!strcmp(w, "seqwrite"))
		return mapped ? sgb_mmwrite(n[0]) : sgb_write_file(sgb_seq, NULL, n[0], 0, "");
	if (!strcmp(w, "seqread") || !strcmp(w, "mmapread"))
		return sgb_need_size(sgb_seq, n[0] * SGB_BLOCK) ? 1 :
		       sgb_read_file(sgb_seq, n[0], mapped || w[0] == 'm', false);
	if (!strcmp(w, "randwrite") || !strcmp(w, "randread"))
		return sgb_random(n[0], n[1], w[4] == 'w', mapped);
	if (!strcmp(w, "create") || !strcmp(w, "stat") || !strcmp(w, "unlink"))
		return sgb_files(n[0], w[0]);
	if (!strcmp(w, "readdir"))
		return sgb_readdir(n[0]);
	if (!strcmp(w, "dirscale"))
		return sgb_dirscale(n[0]);
	if (!strcmp(w, "rtt"))
		return sgb_rtt(n[0]);
	if (!strcmp(w, "xwrite"))
		return sgb_xwrite(n[0]);
	if (!strcmp(w, "append"))
		return sgb_append(n[0]);
	if (!strcmp(w, "smallwrite"))
		return sgb_smallwrite(n[0], n[1]);
	if (!strcmp(w, "xread"))
		return sgb_xread(n[0], mapped);
	return sgb_pingpong(n[0], n[1]);
}
