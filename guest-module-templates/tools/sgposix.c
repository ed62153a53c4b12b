// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * sgposix - what a program expects of a local file system, case by case, in
 * one directory: run it on stargatefs and on the guest's own tmpfs, and the
 * two outputs must be the same line for line (integration-tests'
 * PosixTests compares them and names each line that differs). Built static
 * like the other guest tools; it runs on the host too, over any directory.
 *
 *   sgposix DIR [CASE...]    run every case (or those named) in DIR, which
 *                            must exist; each case works in DIR/CASE, made
 *                            fresh (an old one is an error)
 *   sgposix list             the cases, one per line
 *
 * Output: one line per case, "CASE key=value ...", where every value is
 * the same on any correct file system: sizes, modes, errno names (E...),
 * "ok", checksums of contents, and for times only whether they changed.
 * Never an inode number, a time or an address. A step that fails in a way
 * no case expects still prints (key=ENAME) and the run goes on; exit 0 when
 * every case ran, 2 on bad arguments, 1 when DIR is unusable. Cases that
 * change credentials (sticky, suid, ftrunc0, perms) need root: without it
 * they print "CASE skipped=not-root".
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <linux/falloc.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define KIB 1024ULL
#define MIB (1024ULL * KIB)
#define GIB (1024ULL * MIB)
/* The ids the credential cases switch to (any the guest does not use). */
#define USER_A 1000
#define USER_B 1001

/* ---- the output line ----------------------------------------------------- */

static char line[8192];
static size_t line_len;

static void put(const char *fmt, ...)
{
	va_list ap;
	int n;

	if (line_len >= sizeof(line) - 2)
		return;
	line[line_len++] = ' ';
	va_start(ap, fmt);
	n = vsnprintf(line + line_len, sizeof(line) - line_len, fmt, ap);
	va_end(ap);
	if (n > 0)
		line_len = line_len + (size_t)n < sizeof(line) ? line_len + (size_t)n : sizeof(line) - 1;
}

static const char *ename(int err)
{
	const char *name = strerrorname_np(err);

	return name ? name : "EUNKNOWN";
}

/* key=ok for ret >= 0, else key=ENAME; returns ret. */
static long step(const char *key, long ret)
{
	if (ret < 0)
		put("%s=%s", key, ename(errno));
	else
		put("%s=ok", key);
	return ret;
}

/* key=ENAME of a call expected to fail; "key=ok" when it did not. */
static void fails(const char *key, long ret)
{
	step(key, ret);
}

/* ---- helpers --------------------------------------------------------------- */

static uint64_t fnv(uint64_t h, const void *p, size_t len)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < len; i++)
		h = (h ^ b[i]) * 0x100000001b3ULL;
	return h;
}

/* The pattern byte at a file offset (seeded), as every case writes. */
static uint8_t pattern(uint64_t seed, uint64_t off)
{
	uint64_t x = (seed + off / 8) * 0x9e3779b97f4a7c15ULL;

	x ^= x >> 29;
	return (uint8_t)(x >> (8 * (off % 8)));
}

static int write_pattern(int fd, uint64_t off, uint64_t len, uint64_t seed)
{
	static uint8_t buf[256 * KIB];

	while (len) {
		size_t n = len < sizeof(buf) ? len : sizeof(buf);

		for (size_t i = 0; i < n; i++)
			buf[i] = pattern(seed, off + i);
		if (pwrite(fd, buf, n, (off_t)off) != (ssize_t)n)
			return -1;
		off += n;
		len -= n;
	}
	return 0;
}

/* "key=size:HASH" of a whole file read with pread, or key=ENAME. */
static void sum(const char *key, const char *path)
{
	static uint8_t buf[256 * KIB];
	uint64_t h = 0xcbf29ce484222325ULL, total = 0;
	ssize_t n;
	int fd = open(path, O_RDONLY);

	if (fd < 0) {
		put("%s=%s", key, ename(errno));
		return;
	}
	while ((n = pread(fd, buf, sizeof(buf), (off_t)total)) > 0) {
		h = fnv(h, buf, (size_t)n);
		total += (uint64_t)n;
	}
	if (n < 0)
		put("%s=%s", key, ename(errno));
	else
		put("%s=%" PRIu64 ":%016" PRIx64, key, total, h);
	close(fd);
}

static bool stat_ok(const char *key, const char *path, struct stat *st)
{
	if (lstat(path, st) == 0)
		return true;
	put("%s=%s", key, ename(errno));
	return false;
}

static void size_of(const char *key, const char *path)
{
	struct stat st;

	if (stat_ok(key, path, &st))
		put("%s=%lld", key, (long long)st.st_size);
}

/* 512-byte blocks allocated, rounded to whole 4 KiB pages. */
static void blocks_of(const char *key, const char *path)
{
	struct stat st;

	if (stat_ok(key, path, &st))
		put("%s=%lld", key, (long long)st.st_blocks);
}

static void settle(void)
{
	/* Longer than a coarse clock tick, so that a change moves a time. */
	struct timespec t = { 0, 30 * 1000 * 1000 };

	nanosleep(&t, NULL);
}

static bool ts_eq(struct timespec a, struct timespec b)
{
	return a.tv_sec == b.tv_sec && a.tv_nsec == b.tv_nsec;
}

/* Which of mtime and ctime moved from @before to now: "key=mc", "m", "c" or "-". */
static void moved(const char *key, const char *path, const struct stat *before)
{
	struct stat st;

	if (!stat_ok(key, path, &st))
		return;
	put("%s=%s%s%s", key, ts_eq(st.st_mtim, before->st_mtim) ? "" : "m",
	    ts_eq(st.st_ctim, before->st_ctim) ? "" : "c",
	    ts_eq(st.st_mtim, before->st_mtim) && ts_eq(st.st_ctim, before->st_ctim) ? "-" : "");
}

static int make_file(const char *path, uint64_t len, uint64_t seed)
{
	int fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0644);

	if (fd < 0)
		return -1;
	if (len && write_pattern(fd, 0, len, seed)) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Runs @fn in a child as uid:gid (no other groups); its exit status, or -1. */
static int as_user(uid_t uid, gid_t gid, int (*fn)(void *), void *arg)
{
	int status;
	pid_t pid = fork();

	if (pid < 0)
		return -1;
	if (pid == 0) {
		if (setgroups(0, NULL) || setresgid(gid, gid, gid) || setresuid(uid, uid, uid))
			_exit(125);
		_exit(fn(arg));
	}
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

/* A child's errno as its exit status (0 = the call worked). */
static void child_result(const char *key, int status)
{
	if (status < 0 || status == 125)
		put("%s=child-failed", key);
	else
		put("%s=%s", key, status ? ename(status) : "ok");
}

/* ---- mapped stores --------------------------------------------------------- */

static sigjmp_buf fault_jump;

static void on_sigbus(int sig)
{
	(void)sig;
	siglongjmp(fault_jump, 1);
}

/* Stores one pattern byte at each offset through @map; false on SIGBUS. */
static bool store_bytes(volatile uint8_t *map, const uint64_t *offs, size_t n)
{
	struct sigaction action = { .sa_handler = on_sigbus };

	sigemptyset(&action.sa_mask);
	sigaction(SIGBUS, &action, NULL);
	if (sigsetjmp(fault_jump, 1) != 0)
		return false;
	for (size_t i = 0; i < n; i++)
		map[offs[i]] = pattern(7, offs[i]);
	return true;
}

/* ftruncate to extend, map shared, store into the holes: no SIGBUS, and read(2) sees the stores. */
static void case_mmap_hole(void)
{
	const uint64_t size = 8 * MIB;
	const uint64_t offs[] = { 0, 3 * 4096 + 17, 2 * MIB + 5, 4 * MIB, 6 * MIB + 4095, size - 1 };
	volatile uint8_t *map;
	uint8_t b;
	bool same = true;
	int fd = open("f", O_RDWR | O_CREAT | O_EXCL, 0644);

	if (step("create", fd) < 0)
		return;
	step("ftruncate", ftruncate(fd, (off_t)size));
	map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED) {
		put("mmap=%s", ename(errno));
		close(fd);
		return;
	}
	put("stores=%s", store_bytes(map, offs, sizeof(offs) / sizeof(offs[0])) ? "ok" : "SIGBUS");
	step("msync", msync((void *)map, size, MS_SYNC));
	for (size_t i = 0; i < sizeof(offs) / sizeof(offs[0]); i++)
		if (pread(fd, &b, 1, (off_t)offs[i]) != 1 || b != pattern(7, offs[i]))
			same = false;
	put("readback=%s", same ? "ok" : "wrong");
	/* A byte between two stores reads as zero. */
	put("zero=%s", pread(fd, &b, 1, (off_t)(5 * MIB)) == 1 && b == 0 ? "ok" : "wrong");
	munmap((void *)map, size);
	close(fd);
	size_of("size", "f");
}

/* A store past the end of the file through a mapping gives SIGBUS. */
static void case_mmap_past_eof(void)
{
	const uint64_t offs[] = { 2 * 4096 + 1 };
	volatile uint8_t *map;
	int fd = make_file("f", 100, 1);

	if (step("create", fd) < 0)
		return;
	map = mmap(NULL, 4 * 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED) {
		put("mmap=%s", ename(errno));
		close(fd);
		return;
	}
	put("store=%s", store_bytes(map, offs, 1) ? "ok" : "SIGBUS");
	munmap((void *)map, 4 * 4096);
	close(fd);
	size_of("size", "f");
}

/* ---- copies ------------------------------------------------------------------ */

static void case_copy_file_range(void)
{
	int in = make_file("a", 3 * MIB + 123, 2), out;
	loff_t off_in = 4096 + 7, off_out = 100;
	ssize_t n;
	uint64_t left;

	if (step("create", in) < 0)
		return;
	out = open("b", O_RDWR | O_CREAT | O_EXCL, 0644);
	/* The whole file, with the file offsets, in as many calls as it takes. */
	for (left = 3 * MIB + 123; left; left -= (uint64_t)n) {
		n = copy_file_range(in, NULL, out, NULL, left, 0);
		if (n <= 0)
			break;
	}
	if (left)
		put("whole=%s", n < 0 ? ename(errno) : "short");
	else
		put("whole=ok");
	close(out);
	sum("a", "a");
	sum("b", "b");
	/* A middle range at explicit offsets into a new file: a hole before off_out. */
	out = open("c", O_RDWR | O_CREAT | O_EXCL, 0644);
	n = copy_file_range(in, &off_in, out, &off_out, MIB, 0);
	put("range=%s", n < 0 ? ename(errno) : n == (ssize_t)MIB ? "ok" : "short");
	put("offsets=%lld,%lld", (long long)off_in, (long long)off_out);
	/* Past the end of the source: 0 bytes. */
	off_in = 4 * MIB;
	n = copy_file_range(in, &off_in, out, NULL, 10, 0);
	put("eof=%zd", n);
	/* Overlapping ranges of one file are refused. */
	off_in = 0;
	off_out = 4096;
	fails("overlap", copy_file_range(in, &off_in, in, &off_out, 8192, 0));
	close(in);
	close(out);
	sum("c", "c");
}

static void case_sendfile_splice(void)
{
	int in = make_file("a", MIB + 999, 3), out, pipefd[2];
	off_t off = 0;
	loff_t loff = 0;
	ssize_t n;
	uint64_t left;

	if (step("create", in) < 0)
		return;
	out = open("s", O_RDWR | O_CREAT | O_EXCL, 0644);
	for (left = MIB + 999; left; left -= (uint64_t)n)
		if ((n = sendfile(out, in, &off, left)) <= 0)
			break;
	put("sendfile=%s", left ? "failed" : "ok");
	close(out);
	sum("s", "s");
	/* file -> pipe -> file, 64 KiB at a time. */
	out = open("p", O_RDWR | O_CREAT | O_EXCL, 0644);
	if (step("pipe", pipe(pipefd)) == 0) {
		for (left = MIB + 999; left; left -= (uint64_t)n) {
			n = splice(in, &loff, pipefd[1], NULL, left < 65536 ? left : 65536, 0);
			if (n <= 0 || splice(pipefd[0], NULL, out, NULL, (size_t)n, 0) != n)
				break;
		}
		put("splice=%s", left ? ename(errno) : "ok");
		close(pipefd[0]);
		close(pipefd[1]);
	}
	close(out);
	close(in);
	sum("p", "p");
}

/* ---- special files ----------------------------------------------------------- */

static void kind_of(const char *key, const char *path)
{
	struct stat st;

	if (!stat_ok(key, path, &st))
		return;
	put("%s=%c%04o:%u:%u", key, S_ISCHR(st.st_mode) ? 'c' : S_ISBLK(st.st_mode) ? 'b' :
	    S_ISFIFO(st.st_mode) ? 'p' : S_ISSOCK(st.st_mode) ? 's' : S_ISREG(st.st_mode) ? 'f' :
	    S_ISDIR(st.st_mode) ? 'd' : S_ISLNK(st.st_mode) ? 'l' : '?',
	    st.st_mode & 07777, major(st.st_rdev), minor(st.st_rdev));
}

static void case_mknod(void)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX, .sun_path = "sock" };
	int s;

	umask(022);
	step("fifo", mknod("fifo", S_IFIFO | 0640, 0));
	step("chr", mknod("chr", S_IFCHR | 0666, makedev(1, 3)));
	step("blk", mknod("blk", S_IFBLK | 0600, makedev(8, 0)));
	step("sock", mknod("sock0", S_IFSOCK | 0644, 0));
	step("reg", mknod("reg", S_IFREG | 0644, 0));
	s = socket(AF_UNIX, SOCK_STREAM, 0);
	step("bind", bind(s, (struct sockaddr *)&addr, sizeof(addr)));
	close(s);
	fails("exists", mknod("fifo", S_IFIFO | 0644, 0));
	kind_of("fifo", "fifo");
	kind_of("chr", "chr");
	kind_of("blk", "blk");
	kind_of("sock0", "sock0");
	kind_of("reg", "reg");
	kind_of("bound", "sock");
	size_of("chr_size", "chr");
}

/* ---- sizes and holes ------------------------------------------------------------ */

static void seek(const char *key, int fd, off_t off, int whence)
{
	off_t r = lseek(fd, off, whence);

	if (r < 0)
		put("%s=%s", key, ename(errno));
	else
		put("%s=%lld", key, (long long)r);
}

static void case_sparse(void)
{
	int fd = open("f", O_RDWR | O_CREAT | O_EXCL, 0644);
	uint8_t b = 0x5a, r = 0;

	if (step("create", fd) < 0)
		return;
	/* Far past any test zone: only the written page may be allocated. */
	ssize_t n;

	n = pwrite(fd, &b, 1, (off_t)(64 * GIB + 1));
	if (n < 0)
		put("pwrite=%s", ename(errno));
	else
		put("pwrite=%zd", n);
	n = pread(fd, &r, 1, (off_t)(64 * GIB + 1));
	put("pread=%zd:%u", n, r);
	r = 1;
	n = pread(fd, &r, 1, (off_t)(32 * GIB));
	put("hole=%zd:%u", n, r);
	size_of("size", "f");
	blocks_of("blocks", "f");
	seek("data_at", fd, 0, SEEK_DATA);
	step("ftruncate_big", ftruncate(fd, (off_t)(1024 * GIB)));
	size_of("size2", "f");
	step("ftruncate_small", ftruncate(fd, 5));
	size_of("size3", "f");
	blocks_of("blocks3", "f");
	fails("ftruncate_neg", ftruncate(fd, -1));
	close(fd);
}

static void case_seek_data_hole(void)
{
	int fd = open("f", O_RDWR | O_CREAT | O_EXCL, 0644);

	if (step("create", fd) < 0)
		return;
	write_pattern(fd, 0, 4096, 4);
	write_pattern(fd, MIB, 8192, 4);
	step("ftruncate", ftruncate(fd, (off_t)(3 * MIB)));
	seek("data0", fd, 0, SEEK_DATA);
	seek("hole0", fd, 0, SEEK_HOLE);
	seek("data1", fd, 4096, SEEK_DATA);
	seek("hole1", fd, (off_t)MIB + 100, SEEK_HOLE);
	seek("data2", fd, (off_t)MIB + 8192, SEEK_DATA);
	seek("hole2", fd, (off_t)(2 * MIB), SEEK_HOLE);
	seek("data_end", fd, (off_t)(3 * MIB), SEEK_DATA);
	seek("hole_end", fd, (off_t)(3 * MIB), SEEK_HOLE);
	close(fd);
}

static void falloc(const char *key, int fd, int mode, off_t off, off_t len, const char *path)
{
	step(key, fallocate(fd, mode, off, len));
	size_of("size", path);
	blocks_of("blocks", path);
}

static void case_fallocate(void)
{
	int fd = open("f", O_RDWR | O_CREAT | O_EXCL, 0644);

	if (step("create", fd) < 0)
		return;
	falloc("default", fd, 0, 0, (off_t)MIB, "f");
	falloc("keep_size", fd, FALLOC_FL_KEEP_SIZE, (off_t)MIB, (off_t)MIB, "f");
	write_pattern(fd, 0, MIB, 5);
	falloc("punch", fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 64 * 1024, 128 * 1024, "f");
	sum("after_punch", "f");
	falloc("punch_partial", fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 300 * 1024 + 10, 5000, "f");
	sum("after_partial", "f");
	fails("punch_no_keep", fallocate(fd, FALLOC_FL_PUNCH_HOLE, 0, 4096));
	fails("collapse", fallocate(fd, FALLOC_FL_COLLAPSE_RANGE, 0, (off_t)MIB));
	fails("insert", fallocate(fd, FALLOC_FL_INSERT_RANGE, 0, (off_t)MIB));
	fails("bad_len", fallocate(fd, 0, 0, 0));
	close(fd);
}

/* ZERO_RANGE: ext4 has it, tmpfs does not (EOPNOTSUPP). */
static void case_zero_range(void)
{
	int fd = make_file("f", MIB, 6);

	if (step("create", fd) < 0)
		return;
	uint8_t buf[3];
	bool zeros = true;

	step("zero", fallocate(fd, FALLOC_FL_ZERO_RANGE, 4096 + 3, 10000));
	sum("after", "f");
	/* The bytes around and at both ends of the range, then a sample inside. */
	pread(fd, buf, 3, 4096 + 2);
	zeros = buf[0] == pattern(6, 4096 + 2) && !buf[1] && !buf[2];
	pread(fd, buf, 3, 4096 + 3 + 10000 - 2);
	zeros = zeros && !buf[0] && !buf[1] && buf[2] == pattern(6, 4096 + 3 + 10000);
	put("zeros=%s", zeros ? "ok" : "wrong");
	step("zero_extend", fallocate(fd, FALLOC_FL_ZERO_RANGE, (off_t)MIB - 10, 100));
	size_of("size", "f");
	step("zero_keep", fallocate(fd, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE, (off_t)(2 * MIB), 100));
	size_of("size2", "f");
	close(fd);
}

static void case_truncate(void)
{
	int fd = make_file("f", 10000, 8), ro;
	struct stat before;

	if (step("create", fd) < 0)
		return;
	step("shrink", ftruncate(fd, 5000));
	step("grow", ftruncate(fd, 9000));
	sum("sum", "f");
	ro = open("f", O_RDONLY);
	fails("readonly_fd", ftruncate(ro, 10));
	close(ro);
	lstat("f", &before);
	settle();
	step("same", ftruncate(fd, 9000));
	moved("same_times", "f", &before);
	settle();
	step("truncate", truncate("f", 10));
	moved("times", "f", &before);
	close(fd);
}

/* ---- the namespace -------------------------------------------------------------- */

static void case_rename(void)
{
	int fd;
	struct stat a, b;

	close(make_file("f", 10, 9));
	close(make_file("g", 20, 9));
	mkdir("d", 0755);
	mkdir("e", 0755);
	close(make_file("e/x", 1, 9));
	mkdir("d/sub", 0755);
	fails("noreplace", renameat2(AT_FDCWD, "f", AT_FDCWD, "g", RENAME_NOREPLACE));
	fails("nonempty", rename("d", "e"));
	fails("file_onto_dir", rename("f", "d"));
	fails("dir_onto_file", rename("d", "f"));
	fails("into_self", rename("d", "d/sub/x"));
	fails("missing", rename("nope", "x"));
	fails("dot", rename("d/.", "z"));
	step("exchange", renameat2(AT_FDCWD, "f", AT_FDCWD, "d", RENAME_EXCHANGE));
	kind_of("f_after", "f");
	size_of("d_after", "d/sub/.");
	step("exchange_back", renameat2(AT_FDCWD, "f", AT_FDCWD, "d", RENAME_EXCHANGE));
	step("replace", rename("f", "g"));
	size_of("g", "g");
	fails("old_gone", access("f", F_OK));
	step("empty_dir_onto_empty", rename("d/sub", "e2"));
	mkdir("e3", 0755);
	step("dir_onto_empty_dir", rename("e2", "e3"));
	/* Two names of one inode: rename is a no-op and both stay. */
	step("link", link("g", "h"));
	step("same_inode", rename("g", "h"));
	lstat("g", &a);
	lstat("h", &b);
	put("both=%s nlink=%lu", a.st_ino == b.st_ino ? "ok" : "wrong", (unsigned long)b.st_nlink);
	/* A directory's nlink follows its subdirectories. */
	mkdir("n", 0755);
	mkdir("n/a", 0755);
	mkdir("n/b", 0755);
	lstat("n", &a);
	put("dir_nlink=%lu", (unsigned long)a.st_nlink);
	step("move_subdir", rename("n/a", "e3/a"));
	lstat("n", &a);
	lstat("e3", &b);
	put("dir_nlink2=%lu,%lu", (unsigned long)a.st_nlink, (unsigned long)b.st_nlink);
	fd = open("d", O_RDONLY | O_DIRECTORY);
	step("opendir", fd);
	close(fd);
	/* Last: tmpfs leaves a whiteout (a 0:0 character device) behind. */
	close(make_file("wsrc", 1, 9));
	step("whiteout", renameat2(AT_FDCWD, "wsrc", AT_FDCWD, "wdst", RENAME_WHITEOUT));
}

static void case_link_unlink(void)
{
	struct stat st;
	char name[300];

	close(make_file("f", 10, 10));
	mkdir("d", 0755);
	close(make_file("d/x", 1, 10));
	fails("link_dir", link("d", "d2"));
	fails("link_exists", link("f", "d/x"));
	fails("link_missing", link("nope", "y"));
	step("link", link("f", "d/f2"));
	lstat("f", &st);
	put("nlink=%lu", (unsigned long)st.st_nlink);
	fails("unlink_dir", unlink("d"));
	fails("rmdir_file", rmdir("f"));
	fails("rmdir_nonempty", rmdir("d"));
	fails("rmdir_dot", rmdir("d/."));
	fails("unlink_missing", unlink("nope"));
	fails("mkdir_exists", mkdir("d", 0755));
	fails("create_excl", open("f", O_CREAT | O_EXCL | O_RDWR, 0644));
	fails("notdir", open("f/x", O_RDONLY));
	memset(name, 'n', 256);
	name[256] = 0;
	fails("name_256", open(name, O_CREAT | O_RDWR, 0644));
	name[255] = 0;
	step("name_255", open(name, O_CREAT | O_RDWR, 0644));
	step("unlink_255", unlink(name));
	step("unlink", unlink("f"));
	lstat("d/f2", &st);
	put("nlink2=%lu", (unsigned long)st.st_nlink);
	step("unlink_x", unlink("d/x"));
	step("unlink_f2", unlink("d/f2"));
	step("rmdir", rmdir("d"));
}

/* An open file stays readable after its last name goes. */
static void case_open_unlinked(void)
{
	int fd = make_file("f", 5000, 11);
	struct stat st;
	char buf[16];

	if (step("create", fd) < 0)
		return;
	step("unlink", unlink("f"));
	fstat(fd, &st);
	put("nlink=%lu size=%lld", (unsigned long)st.st_nlink, (long long)st.st_size);
	put("write=%zd", pwrite(fd, "tail", 4, 5000));
	put("read=%zd", pread(fd, buf, sizeof(buf), 4996));
	fstat(fd, &st);
	put("size2=%lld", (long long)st.st_size);
	close(fd);
}

static void case_tmpfile(void)
{
	int fd = open(".", O_TMPFILE | O_RDWR, 0600), fd2;
	struct stat st;
	char path[64];

	if (step("open", fd) < 0)
		return;
	put("write=%zd", write(fd, "hello", 5));
	fstat(fd, &st);
	put("nlink=%lu mode=%o size=%lld", (unsigned long)st.st_nlink, st.st_mode & 07777, (long long)st.st_size);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	step("linkat", linkat(AT_FDCWD, path, AT_FDCWD, "named", AT_SYMLINK_FOLLOW));
	fstat(fd, &st);
	put("nlink2=%lu", (unsigned long)st.st_nlink);
	sum("named", "named");
	close(fd);
	fd2 = open(".", O_TMPFILE | O_RDWR | O_EXCL, 0600);
	if (step("open_excl", fd2) >= 0) {
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd2);
		fails("linkat_excl", linkat(AT_FDCWD, path, AT_FDCWD, "named2", AT_SYMLINK_FOLLOW));
		close(fd2);
	}
	fails("tmpfile_ro", open(".", O_TMPFILE | O_RDONLY, 0600));
}

static void case_symlink(void)
{
	static char target[4097];
	char buf[4200];
	ssize_t n;

	step("short", symlink("target", "s"));
	n = readlink("s", buf, sizeof(buf));
	put("short_len=%zd", n);
	memset(target, 'a', 4095);
	for (int i = 100; i < 4095; i += 100)
		target[i] = '/';
	target[4095] = 0;
	step("long", symlink(target, "l"));
	n = readlink("l", buf, sizeof(buf));
	put("long_len=%zd same=%s", n, n == 4095 && !memcmp(buf, target, 4095) ? "ok" : "wrong");
	size_of("long_size", "l");
	target[4095] = 'a';
	target[4096] = 0;
	fails("too_long", symlink(target, "t"));
	fails("empty", symlink("", "e"));
	fails("exists", symlink("x", "s"));
	kind_of("kind", "s");
	step("dangling_open", open("s", O_RDONLY));
	fails("nofollow", open("s", O_RDONLY | O_NOFOLLOW));
}

static void case_readdir(void)
{
	char name[32];
	DIR *d;
	struct dirent *e;
	uint64_t h = 0;
	int count = 0;

	for (int i = 0; i < 200; i++) {
		snprintf(name, sizeof(name), "entry-%03d", i);
		close(make_file(name, 0, 0));
	}
	for (int i = 0; i < 200; i += 3) {
		snprintf(name, sizeof(name), "entry-%03d", i);
		unlink(name);
	}
	d = opendir(".");
	if (!d) {
		put("opendir=%s", ename(errno));
		return;
	}
	/* A sum that does not depend on the order. */
	while ((e = readdir(d))) {
		h += fnv(0xcbf29ce484222325ULL, e->d_name, strlen(e->d_name)) ^ e->d_type;
		count++;
	}
	closedir(d);
	put("entries=%d sum=%016" PRIx64, count, h);
}

/* ---- times ----------------------------------------------------------------------- */

static void case_times(void)
{
	struct stat before, dir;
	int fd = make_file("f", 10, 12);
	struct timespec set[2] = { { 1000000000, 123456789 }, { 1100000000, 987654321 } };

	if (step("create", fd) < 0)
		return;
#define AROUND(key, path, call)                 \
	do {                                    \
		lstat(path, &before);           \
		settle();                       \
		call;                           \
		moved(key, path, &before);      \
	} while (0)
	AROUND("write", "f", pwrite(fd, "x", 1, 3));
	AROUND("chmod", "f", chmod("f", 0600));
	AROUND("chown", "f", chown("f", -1, -1));
	AROUND("link", "f", link("f", "g"));
	AROUND("unlink_other", "f", unlink("g"));
	/* A rename changes the file's ctime (as ext4 and tmpfs do), not its mtime. */
	lstat("f", &before);
	settle();
	rename("f", "f2");
	moved("rename", "f2", &before);
	AROUND("truncate", "f2", ftruncate(fd, 3));
	AROUND("read", "f2", pread(fd, (char[4]){ 0 }, 4, 0));
	AROUND("dir_create", ".", close(make_file("n", 0, 0)));
	AROUND("dir_unlink", ".", unlink("n"));
	AROUND("dir_mkdir", ".", mkdir("sub", 0755));
	AROUND("dir_rename_within", ".", rename("sub", "sub2"));
	lstat("sub2", &dir);
	settle();
	close(make_file("sub2/x", 0, 0));
	moved("subdir_create", "sub2", &dir);
	step("utimensat", utimensat(AT_FDCWD, "f2", set, 0));
	lstat("f2", &before);
	put("set_atime=%lld.%09ld set_mtime=%lld.%09ld", (long long)before.st_atim.tv_sec, before.st_atim.tv_nsec,
	    (long long)before.st_mtim.tv_sec, before.st_mtim.tv_nsec);
	/* relatime: an atime at or before mtime moves on the next read; then it stays. */
	set[0].tv_sec = 900000000;
	utimensat(AT_FDCWD, "f2", set, 0);
	settle();
	pread(fd, (char[4]){ 0 }, 4, 0);
	close(fd);
	fd = open("f2", O_RDONLY);
	pread(fd, (char[4]){ 0 }, 4, 0);
	lstat("f2", &before);
	put("relatime=%s", before.st_atim.tv_sec > 1100000000 ? "moved" : "kept");
	settle();
	pread(fd, (char[4]){ 0 }, 4, 0);
	lstat("f2", &dir);
	put("relatime2=%s", ts_eq(before.st_atim, dir.st_atim) ? "kept" : "moved");
	close(fd);
#undef AROUND
}

static void case_statx(void)
{
	struct statx stx;
	int fd = make_file("f", 4097, 13);

	if (step("create", fd) < 0)
		return;
	close(fd);
	if (step("statx", statx(AT_FDCWD, "f", AT_SYMLINK_NOFOLLOW, STATX_ALL | STATX_BTIME, &stx)) < 0)
		return;
	put("basic=%s", (stx.stx_mask & STATX_BASIC_STATS) == STATX_BASIC_STATS ? "ok" : "partial");
	put("btime=%s", !(stx.stx_mask & STATX_BTIME) ? "none" :
	    stx.stx_btime.tv_sec <= stx.stx_mtime.tv_sec ? "ok" : "after-mtime");
	put("size=%llu blksize=%u", (unsigned long long)stx.stx_size, stx.stx_blksize);
}

/* ---- credentials ----------------------------------------------------------------- */

static int try_write(void *path)
{
	int fd = open(path, O_WRONLY | O_APPEND);

	if (fd < 0 || write(fd, "u", 1) != 1)
		return errno;
	return close(fd) ? errno : 0;
}

static int try_unlink(void *path)
{
	return unlink(path) ? errno : 0;
}

static int try_rename(void *path)
{
	return rename(path, "sticky/moved") ? errno : 0;
}

static int try_chmod(void *path)
{
	return chmod(path, 0777) ? errno : 0;
}

static int try_chown(void *path)
{
	return chown(path, USER_A, USER_A) ? errno : 0;
}

static int try_ftruncate0(void *path)
{
	int fd = open(path, O_WRONLY);

	if (fd < 0)
		return errno;
	if (fchmod(fd, 0) || ftruncate(fd, 2))
		return errno;
	return close(fd) ? errno : 0;
}

static int try_create(void *path)
{
	int fd = open(path, O_CREAT | O_EXCL | O_WRONLY, 0644);

	return fd < 0 ? errno : close(fd) ? errno : 0;
}

static void mode_of(const char *key, const char *path)
{
	struct stat st;

	if (stat_ok(key, path, &st))
		put("%s=%o:%u:%u", key, st.st_mode & 07777, st.st_uid, st.st_gid);
}

static void case_credentials(void)
{
	if (geteuid() != 0) {
		put("skipped=not-root");
		return;
	}
	umask(0);
	/* setuid and setgid go when someone else writes. */
	close(make_file("suid", 1, 14));
	chmod("suid", 06777);
	child_result("write_other", as_user(USER_A, USER_A, try_write, "suid"));
	mode_of("suid_after", "suid");
	/* chmod and chown by others. */
	close(make_file("mine", 1, 14));
	child_result("chmod_other", as_user(USER_A, USER_A, try_chmod, "mine"));
	child_result("chown_other", as_user(USER_A, USER_A, try_chown, "mine"));
	chown("mine", USER_A, USER_A);
	child_result("chmod_owner", as_user(USER_A, USER_A, try_chmod, "mine"));
	child_result("chown_owner", as_user(USER_A, USER_A, try_chown, "mine"));
	mode_of("mine_after", "mine");
	/* A chmod to setgid by a non-member of the group drops setgid. */
	chown("mine", USER_A, 0);
	chmod("mine", 0644);
	{
		struct stat st;
		pid_t pid = fork();

		if (pid == 0) {
			if (setgroups(0, NULL) || setresgid(USER_A, USER_A, USER_A) || setresuid(USER_A, USER_A, USER_A))
				_exit(125);
			_exit(chmod("mine", 02755) ? errno : 0);
		}
		int status;

		waitpid(pid, &status, 0);
		child_result("chmod_sgid", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
		if (lstat("mine", &st) == 0)
			put("sgid_kept=%s", st.st_mode & S_ISGID ? "yes" : "no");
	}
	/* ftruncate follows the open file's access mode, not the mode bits. */
	close(make_file("t", 10, 14));
	chown("t", USER_A, USER_A);
	child_result("ftruncate_mode0", as_user(USER_A, USER_A, try_ftruncate0, "t"));
	mode_of("t_after", "t");
	size_of("t_size", "t");
	/* Sticky directories: only the owner of the file or the directory. */
	mkdir("sticky", 01777);
	child_result("create_a", as_user(USER_A, USER_A, try_create, "sticky/a"));
	child_result("unlink_b", as_user(USER_B, USER_B, try_unlink, "sticky/a"));
	child_result("rename_b", as_user(USER_B, USER_B, try_rename, "sticky/a"));
	child_result("unlink_a", as_user(USER_A, USER_A, try_unlink, "sticky/a"));
	/* A non-sticky directory the user cannot write. */
	mkdir("closed", 0755);
	child_result("create_closed", as_user(USER_A, USER_A, try_create, "closed/x"));
	/* setgid directories pass their group (and the bit to subdirectories). */
	mkdir("sg", 0777);
	chown("sg", 0, USER_B);
	chmod("sg", 02777);
	child_result("create_sg", as_user(USER_A, USER_A, try_create, "sg/f"));
	mode_of("sg_file", "sg/f");
	mkdir("sg/d", 0755);
	mode_of("sg_dir", "sg/d");
}

/* ---- the table ---------------------------------------------------------------------- */

static const struct {
	const char *name;
	void (*run)(void);
} cases[] = {
	{ "mmap_hole", case_mmap_hole },
	{ "mmap_past_eof", case_mmap_past_eof },
	{ "copy_file_range", case_copy_file_range },
	{ "sendfile_splice", case_sendfile_splice },
	{ "mknod", case_mknod },
	{ "sparse", case_sparse },
	{ "seek_data_hole", case_seek_data_hole },
	{ "fallocate", case_fallocate },
	{ "zero_range", case_zero_range },
	{ "truncate", case_truncate },
	{ "rename", case_rename },
	{ "link_unlink", case_link_unlink },
	{ "open_unlinked", case_open_unlinked },
	{ "tmpfile", case_tmpfile },
	{ "symlink", case_symlink },
	{ "readdir", case_readdir },
	{ "times", case_times },
	{ "statx", case_statx },
	{ "credentials", case_credentials },
};
#define NCASES (sizeof(cases) / sizeof(cases[0]))

static int run_case(int dirfd, size_t i)
{
	int saved = open(".", O_RDONLY | O_DIRECTORY);

	line_len = (size_t)snprintf(line, sizeof(line), "%s", cases[i].name);
	if (mkdirat(dirfd, cases[i].name, 0755) || fchdir(dirfd) || chdir(cases[i].name)) {
		fprintf(stderr, "sgposix: %s: cannot make and enter its directory: %s\n", cases[i].name, strerror(errno));
		return 1;
	}
	umask(022);
	cases[i].run();
	printf("%s\n", line);
	fflush(stdout);
	if (saved >= 0) {
		fchdir(saved);
		close(saved);
	}
	return 0;
}

int main(int argc, char **argv)
{
	int dirfd, status = 0;

	if (argc == 2 && !strcmp(argv[1], "list")) {
		for (size_t i = 0; i < NCASES; i++)
			printf("%s\n", cases[i].name);
		return 0;
	}
	if (argc < 2) {
		fprintf(stderr, "usage: sgposix DIR [CASE...] | sgposix list\n");
		return 2;
	}
	for (int a = 2; a < argc; a++) {
		size_t i;

		for (i = 0; i < NCASES && strcmp(cases[i].name, argv[a]); i++)
			;
		if (i == NCASES) {
			fprintf(stderr, "sgposix: no case '%s' (sgposix list names them)\n", argv[a]);
			return 2;
		}
	}
	dirfd = open(argv[1], O_RDONLY | O_DIRECTORY);
	if (dirfd < 0) {
		fprintf(stderr, "sgposix: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	for (size_t i = 0; i < NCASES && !status; i++) {
		bool chosen = argc == 2;

		for (int a = 2; a < argc; a++)
			chosen |= !strcmp(cases[i].name, argv[a]);
		if (chosen)
			status = run_case(dirfd, i);
	}
	return status;
}
