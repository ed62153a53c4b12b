// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * sgtool - look at and poke QEMU ivshmem devices from a guest, with no
 * driver: everything goes through /sys/bus/pci/devices/DEV/{config,
 * resourceN, enable}. Built static (no libc in the test initramfs) by
 * integration-tests (or `make` in this folder).
 *
 * Every result is printed to stdout as key=value, one or more per line
 * (space separated), so scripts and the tests parse it with one rule.
 * Every failure prints one line "sgtool: error: FILE:LINE: CONDITION: ERRNO"
 * on stderr and exits 1; usage errors exit 2.
 *
 *   sgtool list                      every ivshmem device (1af4:1110)
 *   sgtool info DEV                  ivposition, BAR2 size, zone magic/size
 *   sgtool ring DEV PEER VECTOR      doorbell: (PEER << 16) | VECTOR
 *   sgtool msix DEV VECTOR CPUVEC    route MSI-X entry VECTOR to IDT vector
 *                                    CPUVEC of CPU 0, then enable MSI-X
 *   sgtool write DEV OFFSET U64      store a u64 in BAR2
 *   sgtool read DEV OFFSET           load a u64 from BAR2
 *   sgtool rpcfuzz COUNT SEED [DEV]  the hostile guest: COUNT requests of
 *                                    random and random-but-plausible bytes on
 *                                    this guest's request ring (below), in
 *                                    the private area of DEV (default: the
 *                                    first ivshmem-doorbell device);
 *                                    "sent= answered=", then the replies'
 *                                    statuses as status_ENAME=count; exit 1
 *                                    if one was not answered within 2 s
 *   sgtool attack NAME [ARG...]      the hostile guest's attacks on the service
 *                                    and other guests, one per run, each
 *                                    printing "attack NAME: OUTCOME" (what it
 *                                    tried, what it saw); the raw ones need no
 *                                    stargatefs bound to the devices:
 *     structure INO                  stores into the structure BAR (superblock,
 *                                    journal, peer/lock/inode tables, bitmaps,
 *                                    a directory page or page-table node, the
 *                                    pool), read back
 *     hint-size INO, hint-generation INO, hint-seq INO, hint-lock INO
 *                                    INO's hint: a 1 TiB size, a wrong
 *                                    generation, the seqcount held odd, the
 *                                    lock word held by no live peer; then a
 *                                    setattr of INO's times on the ring, timed
 *     data-header                    scribbles Z.data's header, then a NOP
 *     mknod                          MKNOD requests for device nodes
 *     race                           a CREATE rewritten while it is served
 *     doorbells SECONDS              every other peer's doorbells, rung
 *     fuzz COUNT SEED                rpcfuzz's requests, the worst reply time
 *     flood SECONDS                  every ring slot kept full of NOPs
 *     peer-rings [forge]             other peers' rings: requests and open
 *                                    tables (their private areas: none in my
 *                                    BARs); forge stores forged replies into
 *                                    the live ones' reply rings in Z
 *     lock INO                       a write lock on INO held until death
 *     plant DIR PROGRAM              through a suid,dev mount: a setuid-root
 *                                    copy of PROGRAM and mknod of device nodes
 *
 * ivshmem (QEMU docs/specs/ivshmem-spec.rst): BAR0 holds 32-bit registers
 * (0 IntrMask, 4 IntrStatus, 8 IVPosition, 12 Doorbell; only 32-bit
 * accesses are valid); BAR1 holds the MSI-X table and PBA (doorbell
 * variant only); BAR2 is the shared memory (the Stargate zone).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "stargate_zone.h"

#define SGTOOL_PCI_DEVICES "/sys/bus/pci/devices"
#define SGTOOL_IVSHMEM_VENDOR 0x1af4
#define SGTOOL_IVSHMEM_DEVICE 0x1110

/* BAR0 register offsets. */
#define SGTOOL_REG_IVPOSITION 8
#define SGTOOL_REG_DOORBELL 12
#define SGTOOL_BAR0_SIZE 256

/* PCI configuration space. */
#define SGTOOL_PCI_COMMAND 0x04
#define SGTOOL_PCI_COMMAND_MEMORY 0x2
#define SGTOOL_PCI_COMMAND_MASTER 0x4
#define SGTOOL_PCI_STATUS 0x06
#define SGTOOL_PCI_STATUS_CAP_LIST 0x10
#define SGTOOL_PCI_CAPABILITY_LIST 0x34
#define SGTOOL_PCI_CAP_ID_MSIX 0x11
#define SGTOOL_PCI_CONFIG_SIZE 256

/* MSI-X capability: message control at +2, table offset/BIR at +4. */
#define SGTOOL_MSIX_FLAGS 2
#define SGTOOL_MSIX_FLAGS_QSIZE 0x07ff
#define SGTOOL_MSIX_FLAGS_MASKALL 0x4000
#define SGTOOL_MSIX_FLAGS_ENABLE 0x8000
#define SGTOOL_MSIX_TABLE 4
#define SGTOOL_MSIX_TABLE_BIR 0x7
#define SGTOOL_MSIX_ENTRY_SIZE 16
#define SGTOOL_MSIX_ENTRY_LOWER_ADDR 0
#define SGTOOL_MSIX_ENTRY_UPPER_ADDR 4
#define SGTOOL_MSIX_ENTRY_DATA 8
#define SGTOOL_MSIX_ENTRY_VECTOR_CTRL 12

/*
 * x86 MSI address: 0xFEE in bits 31..20, destination APIC id in 19..12,
 * physical destination mode, no redirection hint. Data: the IDT vector in
 * bits 7..0, fixed delivery, edge triggered.
 */
#define SGTOOL_MSI_ADDRESS_CPU0 0xfee00000U

/*
 * Reports a failed check as FILE:LINE: CONDITION: ERRNO and returns @err, a
 * negative errno, from the calling function. sgtool_check_at() also names
 * the file the check was about.
 */
#define sgtool_check_at(cond, err, path)                                       \
	do {                                                                   \
		if (!(cond)) {                                                 \
			int sgtool_err_ = (err);                               \
			sgtool_report(__FILE__, __LINE__, #cond, (path),       \
				      sgtool_err_);                            \
			return sgtool_err_;                                    \
		}                                                              \
	} while (0)

#define sgtool_check(cond, err) sgtool_check_at(cond, err, NULL)

static void sgtool_report(const char *file, int line, const char *cond,
			  const char *path, int err)
{
	if (path)
		fprintf(stderr, "sgtool: error: %s:%d: %s (%s): %s\n", file, line,
			cond, path, strerror(-err));
	else
		fprintf(stderr, "sgtool: error: %s:%d: %s: %s\n", file, line, cond,
			strerror(-err));
}

/* A window of a BAR mapped through DEV/resourceN. */
struct sgtool_window {
	void *map;
	size_t map_len;
	volatile uint8_t *base; /* the requested offset inside the map */
	uint64_t bar_size;
};

/* Parses a u64 in C syntax (decimal, 0x hex, 0 octal); nothing else may follow. */
static int sgtool_parse_u64(const char *text, uint64_t *value)
{
	bool is_u64;
	char *end;

	errno = 0;
	*value = strtoull(text, &end, 0);
	is_u64 = errno == 0 && end != text && *end == '\0' && text[0] != '-';
	sgtool_check_at(is_u64, -EINVAL, text);
	return 0;
}

static int sgtool_read_fd(int fd, const char *path, char *buf, size_t len)
{
	ssize_t n = read(fd, buf, len - 1);

	sgtool_check_at(n >= 0, -errno, path);
	buf[n] = '\0';
	return 0;
}

/* Reads a small sysfs file (vendor, device, resource) into @buf. */
static int sgtool_read_text(const char *dev, const char *name, char *buf,
			    size_t len)
{
	char path[512];
	int fd, ret;

	snprintf(path, sizeof(path), SGTOOL_PCI_DEVICES "/%s/%s", dev, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	sgtool_check_at(fd >= 0, -errno, path);
	ret = sgtool_read_fd(fd, path, buf, len);
	close(fd);
	return ret;
}

static int sgtool_read_hex(const char *dev, const char *name, unsigned int *value)
{
	char buf[32];
	int ret;

	ret = sgtool_read_text(dev, name, buf, sizeof(buf));
	if (ret)
		return ret;
	*value = (unsigned int)strtoul(buf, NULL, 16);
	return 0;
}

/* 1 if @dev is an ivshmem device, 0 if not, negative errno on error. */
static int sgtool_is_ivshmem(const char *dev)
{
	unsigned int vendor, device;
	int ret;

	ret = sgtool_read_hex(dev, "vendor", &vendor);
	if (ret)
		return ret;
	ret = sgtool_read_hex(dev, "device", &device);
	if (ret)
		return ret;
	return vendor == SGTOOL_IVSHMEM_VENDOR && device == SGTOOL_IVSHMEM_DEVICE;
}

/* The start and size of each of the first 6 BARs, from DEV/resource. */
static int sgtool_read_bars(const char *dev, uint64_t start[6], uint64_t size[6])
{
	char buf[2048], *line;
	int ret, bar;

	ret = sgtool_read_text(dev, "resource", buf, sizeof(buf));
	if (ret)
		return ret;
	line = buf;
	for (bar = 0; bar < 6; bar++) {
		unsigned long long first, last, flags;

		sgtool_check_at(sscanf(line, "%llx %llx %llx", &first, &last, &flags) == 3,
				-EIO, dev);
		start[bar] = first;
		size[bar] = last > first ? last - first + 1 : 0;
		line = strchr(line, '\n');
		sgtool_check_at(line != NULL, -EIO, dev);
		line++;
	}
	return 0;
}

static int sgtool_check_dev(const char *dev)
{
	int is_ivshmem;

	/* A device name never walks out of /sys/bus/pci/devices. */
	sgtool_check_at(dev[0] != '\0' && strchr(dev, '/') == NULL && dev[0] != '.',
			-EINVAL, dev);
	is_ivshmem = sgtool_is_ivshmem(dev);
	if (is_ivshmem < 0)
		return is_ivshmem;
	sgtool_check_at(is_ivshmem == 1, -ENODEV, dev);
	return 0;
}

static int sgtool_write_fd(int fd, const char *path, const char *text)
{
	ssize_t n = write(fd, text, strlen(text));

	sgtool_check_at(n == (ssize_t)strlen(text), n < 0 ? -errno : -EIO, path);
	return 0;
}

/*
 * pci_enable_device() from user space: turns on memory decoding. A device
 * a driver already enabled (stargatefs) is left alone: the kernel refuses
 * the write then with EBUSY.
 */
static int sgtool_enable(const char *dev)
{
	char path[512], state[16];
	int fd, ret;

	if (sgtool_read_text(dev, "enable", state, sizeof(state)) == 0 && state[0] != '0')
		return 0;
	snprintf(path, sizeof(path), SGTOOL_PCI_DEVICES "/%s/enable", dev);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	sgtool_check_at(fd >= 0, -errno, path);
	ret = sgtool_write_fd(fd, path, "1");
	close(fd);
	return ret;
}

/* Every subcommand on a device: it must be an ivshmem device, then enabled. */
static int sgtool_open_dev(const char *dev)
{
	int ret = sgtool_check_dev(dev);

	if (ret)
		return ret;
	return sgtool_enable(dev);
}

static int sgtool_map_fd(int fd, const char *path, uint64_t offset, size_t len,
			 struct sgtool_window *win)
{
	uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
	uint64_t first, end, bar_size;
	struct stat st;
	void *map;

	sgtool_check_at(fstat(fd, &st) == 0, -errno, path);
	/* The sysfs resource file is exactly as long as the BAR. */
	bar_size = (uint64_t)st.st_size;
	sgtool_check_at(len <= bar_size && offset <= bar_size - len, -ERANGE, path);
	first = offset & ~(page - 1);
	end = (offset + len + page - 1) & ~(page - 1);
	map = mmap(NULL, end - first, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		   (off_t)first);
	sgtool_check_at(map != MAP_FAILED, -errno, path);
	win->map = map;
	win->map_len = end - first;
	win->base = (volatile uint8_t *)map + (offset - first);
	win->bar_size = bar_size;
	return 0;
}

/*
 * Maps @len bytes at @offset of BAR @bar. The mapping covers whole pages
 * around the range; @win->base points at @offset. Returns 0 or a negative
 * errno (nothing mapped).
 */
static int sgtool_map(const char *dev, int bar, uint64_t offset, size_t len,
		      struct sgtool_window *win)
{
	char path[512];
	int fd, ret;

	snprintf(path, sizeof(path), SGTOOL_PCI_DEVICES "/%s/resource%d", dev, bar);
	fd = open(path, O_RDWR | O_SYNC | O_CLOEXEC);
	sgtool_check_at(fd >= 0, -errno, path);
	ret = sgtool_map_fd(fd, path, offset, len, win);
	/* A mapping holds its own reference to the file. */
	close(fd);
	return ret;
}

static void sgtool_unmap(struct sgtool_window *win)
{
	munmap(win->map, win->map_len);
}

static uint32_t sgtool_read32(struct sgtool_window *win, size_t off)
{
	return *(volatile uint32_t *)(win->base + off);
}

static void sgtool_write32(struct sgtool_window *win, size_t off, uint32_t v)
{
	*(volatile uint32_t *)(win->base + off) = v;
}

/*
 * Calls @visit for each ivshmem device, in PCI address order, until it
 * returns non-zero; returns that value, 0 when every device was visited,
 * or a negative errno when the devices cannot be listed or told apart.
 */
static int sgtool_each_ivshmem(int (*visit)(const char *dev, void *arg), void *arg)
{
	struct dirent **names;
	int n, i, ret = 0;

	n = scandir(SGTOOL_PCI_DEVICES, &names, NULL, alphasort);
	sgtool_check_at(n >= 0, -errno, SGTOOL_PCI_DEVICES);
	for (i = 0; i < n; i++) {
		const char *dev = names[i]->d_name;

		if (!ret && dev[0] != '.') {
			ret = sgtool_is_ivshmem(dev);
			ret = ret == 1 ? visit(dev, arg) : ret;
		}
		free(names[i]);
	}
	free(names);
	return ret;
}

/* sgtool list: one line per ivshmem device. */
static int sgtool_list_one(const char *dev, void *arg)
{
	uint64_t start[6], size[6];
	int ret = sgtool_read_bars(dev, start, size);

	if (ret)
		return ret;
	/* Only ivshmem-doorbell has BAR1, the MSI-X table. */
	printf("dev=%s kind=%s bar0=0x%" PRIx64 " bar0_size=%" PRIu64
	       " bar1=%s bar2=0x%" PRIx64 " bar2_size=%" PRIu64 "\n",
	       dev, size[1] ? "doorbell" : "plain", start[0], size[0],
	       size[1] ? "msix" : "none", start[2], size[2]);
	++*(int *)arg;
	return 0;
}

static int sgtool_list(void)
{
	int count = 0, ret = sgtool_each_ivshmem(sgtool_list_one, &count);

	if (ret < 0)
		return ret;
	printf("count=%d\n", count);
	return 0;
}

static int sgtool_info(const char *dev)
{
	struct sgtool_window regs, zone;
	uint64_t magic, zone_size;
	int32_t ivposition;
	int ret;

	ret = sgtool_open_dev(dev);
	if (ret)
		return ret;
	ret = sgtool_map(dev, 0, 0, SGTOOL_BAR0_SIZE, &regs);
	if (ret)
		return ret;
	ret = sgtool_map(dev, 2, 0, 4096, &zone);
	if (ret)
		goto unmap_regs;

	ivposition = (int32_t)sgtool_read32(&regs, SGTOOL_REG_IVPOSITION);
	magic = *(volatile uint64_t *)(zone.base + offsetof(struct sgz_superblock, magic));
	zone_size = *(volatile uint64_t *)(zone.base + offsetof(struct sgz_superblock, zone_size));
	printf("dev=%s\n", dev);
	printf("ivposition=%" PRId32 "\n", ivposition);
	printf("bar2_size=%" PRIu64 "\n", zone.bar_size);
	printf("magic=0x%016" PRIx64 "\n", magic);
	printf("zone_size=%" PRIu64 "\n", zone_size);

	sgtool_unmap(&zone);
unmap_regs:
	sgtool_unmap(&regs);
	return ret;
}

static int sgtool_ring(const char *dev, const char *peer_arg, const char *vector_arg)
{
	struct sgtool_window regs;
	uint64_t peer, vector;
	int ret;

	ret = sgtool_parse_u64(peer_arg, &peer);
	if (ret)
		return ret;
	ret = sgtool_parse_u64(vector_arg, &vector);
	if (ret)
		return ret;
	sgtool_check(peer <= 0xffff, -EINVAL);
	sgtool_check(vector <= 0xffff, -EINVAL);
	ret = sgtool_open_dev(dev);
	if (ret)
		return ret;
	ret = sgtool_map(dev, 0, 0, SGTOOL_BAR0_SIZE, &regs);
	if (ret)
		return ret;
	sgtool_write32(&regs, SGTOOL_REG_DOORBELL, (uint32_t)(peer << 16 | vector));
	sgtool_unmap(&regs);
	printf("rang=%s peer=%" PRIu64 " vector=%" PRIu64 "\n", dev, peer, vector);
	return 0;
}

static int sgtool_config_read(int fd, unsigned int off, void *buf, size_t len)
{
	ssize_t n = pread(fd, buf, len, off);

	sgtool_check(n == (ssize_t)len, n < 0 ? -errno : -EIO);
	return 0;
}

static int sgtool_config_write16(int fd, unsigned int off, uint16_t value)
{
	ssize_t n = pwrite(fd, &value, sizeof(value), off);

	sgtool_check(n == (ssize_t)sizeof(value), n < 0 ? -errno : -EIO);
	return 0;
}

/* Config space offset of the MSI-X capability, or a negative errno. */
static int sgtool_find_msix(const uint8_t *config)
{
	unsigned int pos, hops;
	uint16_t status;

	memcpy(&status, config + SGTOOL_PCI_STATUS, sizeof(status));
	sgtool_check(status & SGTOOL_PCI_STATUS_CAP_LIST, -ENODEV);
	pos = config[SGTOOL_PCI_CAPABILITY_LIST] & ~3U;
	/* 48 hops at most, as the kernel's PCI_FIND_CAP_TTL: a loop ends. */
	for (hops = 0; pos >= 0x40 && hops < 48; hops++) {
		sgtool_check(pos + 8 <= SGTOOL_PCI_CONFIG_SIZE, -EIO);
		if (config[pos] == SGTOOL_PCI_CAP_ID_MSIX)
			return (int)pos;
		pos = config[pos + 1] & ~3U;
	}
	/* No MSI-X: an ivshmem-plain device, or a doorbell with vectors=0. */
	sgtool_report(__FILE__, __LINE__, "an MSI-X capability (id 0x11) in config space",
		      NULL, -ENODEV);
	return -ENODEV;
}

/*
 * Routes MSI-X entry @vector of @dev to IDT vector @cpuvec of CPU 0 and
 * enables MSI-X behind the kernel's back, so that a doorbell rung at this
 * guest shows up as "No irq handler for vector" on the console (an unused
 * vector reaches common_interrupt, which says so with pr_emerg). The entry
 * is written while masked, then unmasked, then MSI-X is enabled with the
 * function mask clear: QEMU delivers a doorbell only while MSI-X is
 * enabled and the entry unmasked, and drops one that comes earlier.
 */
static int sgtool_msix(const char *dev, const char *vector_arg, const char *cpuvec_arg)
{
	uint8_t config[SGTOOL_PCI_CONFIG_SIZE];
	uint32_t table, bir, table_offset;
	uint16_t command, flags, qsize;
	uint64_t vector, cpuvec;
	struct sgtool_window win;
	char path[512];
	int fd, cap, ret;
	size_t entry;

	ret = sgtool_parse_u64(vector_arg, &vector);
	if (ret)
		return ret;
	ret = sgtool_parse_u64(cpuvec_arg, &cpuvec);
	if (ret)
		return ret;
	/* 0..0x1f are exceptions; 0xec and up are the kernel's system vectors. */
	sgtool_check(cpuvec >= 0x20 && cpuvec <= 0xff, -EINVAL);
	ret = sgtool_open_dev(dev);
	if (ret)
		return ret;

	snprintf(path, sizeof(path), SGTOOL_PCI_DEVICES "/%s/config", dev);
	fd = open(path, O_RDWR | O_CLOEXEC);
	sgtool_check_at(fd >= 0, -errno, path);
	ret = sgtool_config_read(fd, 0, config, sizeof(config));
	if (ret)
		goto close_config;

	/* Memory space for the BARs; bus master, or QEMU drops the MSI write. */
	memcpy(&command, config + SGTOOL_PCI_COMMAND, sizeof(command));
	command |= SGTOOL_PCI_COMMAND_MEMORY | SGTOOL_PCI_COMMAND_MASTER;
	ret = sgtool_config_write16(fd, SGTOOL_PCI_COMMAND, command);
	if (ret)
		goto close_config;

	cap = sgtool_find_msix(config);
	if (cap < 0) {
		ret = cap;
		goto close_config;
	}
	memcpy(&flags, config + cap + SGTOOL_MSIX_FLAGS, sizeof(flags));
	memcpy(&table, config + cap + SGTOOL_MSIX_TABLE, sizeof(table));
	qsize = (flags & SGTOOL_MSIX_FLAGS_QSIZE) + 1;
	bir = table & SGTOOL_MSIX_TABLE_BIR;
	table_offset = table & ~SGTOOL_MSIX_TABLE_BIR;
	if (vector >= qsize || bir > 5) {
		ret = -EINVAL;
		sgtool_report(__FILE__, __LINE__, "vector < table_size && bir <= 5", NULL, ret);
		goto close_config;
	}

	entry = (size_t)vector * SGTOOL_MSIX_ENTRY_SIZE;
	ret = sgtool_map(dev, (int)bir, table_offset + entry, SGTOOL_MSIX_ENTRY_SIZE, &win);
	if (ret)
		goto close_config;
	sgtool_write32(&win, SGTOOL_MSIX_ENTRY_VECTOR_CTRL, 1);
	sgtool_write32(&win, SGTOOL_MSIX_ENTRY_LOWER_ADDR, SGTOOL_MSI_ADDRESS_CPU0);
	sgtool_write32(&win, SGTOOL_MSIX_ENTRY_UPPER_ADDR, 0);
	sgtool_write32(&win, SGTOOL_MSIX_ENTRY_DATA, (uint32_t)cpuvec);
	sgtool_write32(&win, SGTOOL_MSIX_ENTRY_VECTOR_CTRL, 0);

	flags |= SGTOOL_MSIX_FLAGS_ENABLE;
	flags &= (uint16_t)~SGTOOL_MSIX_FLAGS_MASKALL;
	ret = sgtool_config_write16(fd, (unsigned int)cap + SGTOOL_MSIX_FLAGS, flags);
	if (ret)
		goto unmap_table;
	ret = sgtool_config_read(fd, (unsigned int)cap + SGTOOL_MSIX_FLAGS, &flags,
				 sizeof(flags));
	if (ret)
		goto unmap_table;
	if (!(flags & SGTOOL_MSIX_FLAGS_ENABLE) || (flags & SGTOOL_MSIX_FLAGS_MASKALL)) {
		ret = -EIO;
		sgtool_report(__FILE__, __LINE__,
			      "MSI-X enabled and function unmasked after the write", path, ret);
		goto unmap_table;
	}

	printf("dev=%s msix_cap=0x%x table_bar=%" PRIu32 " table_offset=0x%" PRIx32
	       " table_size=%u\n", dev, (unsigned int)cap, bir, table_offset,
	       (unsigned int)qsize);
	printf("vector=%" PRIu64 " cpuvec=0x%" PRIx64 " address=0x%08" PRIx32
	       " data=0x%" PRIx32 " ctrl=%" PRIu32 " msix_flags=0x%04x\n", vector,
	       cpuvec, sgtool_read32(&win, SGTOOL_MSIX_ENTRY_LOWER_ADDR),
	       sgtool_read32(&win, SGTOOL_MSIX_ENTRY_DATA),
	       sgtool_read32(&win, SGTOOL_MSIX_ENTRY_VECTOR_CTRL), (unsigned int)flags);

unmap_table:
	sgtool_unmap(&win);
close_config:
	close(fd);
	return ret;
}

static int sgtool_zone_u64(const char *dev, const char *offset_arg,
			   const char *value_arg)
{
	struct sgtool_window zone;
	uint64_t offset, value = 0;
	int ret;

	ret = sgtool_parse_u64(offset_arg, &offset);
	if (ret)
		return ret;
	sgtool_check(offset % 8 == 0, -EINVAL);
	if (value_arg) {
		ret = sgtool_parse_u64(value_arg, &value);
		if (ret)
			return ret;
	}
	ret = sgtool_open_dev(dev);
	if (ret)
		return ret;
	ret = sgtool_map(dev, 2, offset, sizeof(uint64_t), &zone);
	if (ret)
		return ret;
	if (value_arg) {
		*(volatile uint64_t *)zone.base = value;
		/* The other guest reads it through its own mapping: no cache to flush. */
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
	}
	value = *(volatile uint64_t *)zone.base;
	sgtool_unmap(&zone);
	printf("offset=0x%" PRIx64 " value=0x%016" PRIx64 "\n", offset, value);
	return 0;
}

/* ---- rpcfuzz: the hostile guest --------------------------------------------- */

#define SGTOOL_FUZZ_WAIT_MS 2000

/* xorshift64*: the fuzz is the same for the same seed. */
static uint64_t sgtool_rand(uint64_t *state)
{
	uint64_t x = *state;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return x * 0x2545f4914f6cdd1dULL;
}

static uint64_t sgtool_pick(uint64_t *state, const uint64_t *choices, size_t n)
{
	return choices[sgtool_rand(state) % n];
}

/* A u64 that tends to sit on a boundary: 0, small, near a limit, or anything. */
static uint64_t sgtool_edgy(uint64_t *state, uint64_t plausible)
{
	static const uint64_t edges[] = {
		0, 1, 4095, 4096, 2ULL << 20, 1ULL << 30, (1ULL << 30) + 1, 1ULL << 48,
		(1ULL << 48) + 1, 0x7fffffffffffffffULL, 0xfffffffffffff000ULL, ~0ULL,
	};

	switch (sgtool_rand(state) % 4) {
	case 0:
		return sgtool_pick(state, edges, sizeof(edges) / sizeof(edges[0]));
	case 1:
		return sgtool_rand(state);
	default:
		return plausible ? sgtool_rand(state) % plausible : 0;
	}
}

/* @len bytes of a name: letters mixed with '/', NUL and dots, or exactly "." or "..". */
static void sgtool_fuzz_name(uint64_t *state, uint8_t *name, size_t len)
{
	static const uint8_t alphabet[] = "abcxyz09._-/\0\377 ";
	uint64_t form = sgtool_rand(state) % 8;

	for (size_t i = 0; i < len; i++)
		name[i] = form == 0 ? alphabet[sgtool_rand(state) % (sizeof(alphabet) - 1)]
				    : (uint8_t)('a' + sgtool_rand(state) % 26);
	if (form == 1 && len >= 1)
		name[0] = '.';
	if (form == 2 && len >= 2)
		memcpy(name, "..", 2);
}

/*
 * Fills @req (everything but seq) with pure random bytes (one request in
 * four) or with a request a guest could have meant: known and unknown
 * opcodes, every flag bit, names with '/', NUL, "." and "..", lengths from
 * 0 past the field, the root and inode numbers inside and outside the
 * table, any generation, sizes and ranges up to and past the largest file.
 */
static void sgtool_fuzz_request(uint64_t *state, struct sgz_request *req, uint64_t inode_count,
				uint64_t root_ino)
{
	static const uint64_t modes[] = {
		SGZ_S_IFREG | 0644, SGZ_S_IFDIR | 0755, SGZ_S_IFIFO | 0600, SGZ_S_IFSOCK | 0600,
		SGZ_S_IFLNK | 0777, SGZ_S_IFCHR | 0600, SGZ_S_IFBLK | 0600, 07777, 0xffffffff,
	};
	static const uint64_t name_lens[] = { 0, 1, 2, 8, 255, 256, 767, 768, 769, 0xffff };
	uint8_t *bytes = (uint8_t *)req;
	uint64_t r;

	if (sgtool_rand(state) % 4 == 0) {
		for (size_t i = sizeof(req->seq); i < sizeof(*req); i++)
			bytes[i] = (uint8_t)sgtool_rand(state);
		return;
	}
	memset(bytes + sizeof(req->seq), 0, sizeof(*req) - sizeof(req->seq));
	/* Mostly known opcodes (pure random bytes test the unknown ones enough), some 0, 15 or any. */
	r = sgtool_rand(state) % 20;
	req->opcode = (uint32_t)(r < 17 ? 1 + r % SGZ_OP_NOP : r == 17 ? 0 : r == 18 ? SGZ_OP_NOP + 1 : sgtool_rand(state));
	req->flags = (uint32_t)(sgtool_rand(state) % 3 ? sgtool_rand(state) % 4 : sgtool_rand(state));
	req->uid = (uint32_t)(sgtool_rand(state) % 2 ? 0 : sgtool_edgy(state, 2000));
	req->gid = (uint32_t)(sgtool_rand(state) % 2 ? 0 : sgtool_edgy(state, 2000));
	/* The root half the time: requests on a live directory reach past the inode checks. */
	req->ino = sgtool_rand(state) % 2 ? root_ino : sgtool_edgy(state, inode_count + 2);
	req->ino2 = sgtool_rand(state) % 2 ? root_ino : sgtool_edgy(state, inode_count + 2);
	req->generation = (uint32_t)sgtool_edgy(state, 4);
	req->generation2 = (uint32_t)sgtool_edgy(state, 4);
	req->mode = (uint32_t)sgtool_pick(state, modes, sizeof(modes) / sizeof(modes[0]));
	req->name_len = (uint16_t)sgtool_pick(state, name_lens, sizeof(name_lens) / sizeof(name_lens[0]));
	req->name2_len = (uint16_t)sgtool_pick(state, name_lens, sizeof(name_lens) / sizeof(name_lens[0]));
	req->rdev = sgtool_rand(state) % 4 ? 0 : sgtool_rand(state);
	req->offset = sgtool_edgy(state, 1 << 20);
	req->length = sgtool_edgy(state, 1 << 20);
	req->atime_ns = sgtool_rand(state) % 2 ? SGZ_TIME_NOW : sgtool_rand(state);
	req->mtime_ns = sgtool_rand(state) % 2 ? SGZ_TIME_NOW : sgtool_rand(state);
	req->valid = (uint32_t)(sgtool_rand(state) % 3 ? sgtool_rand(state) % 128 : sgtool_rand(state));
	req->lock_type = (uint32_t)(sgtool_rand(state) % 4 ? sgtool_rand(state) % 4 : sgtool_rand(state));
	req->owner = sgtool_rand(state);
	req->pid = (uint32_t)sgtool_rand(state);
	/* A 1.2 guest's caller fields, mostly: without SGZ_REQ_CALLER the host refuses all (EPROTO). */
	if (sgtool_rand(state) % 8)
		req->flags |= SGZ_REQ_CALLER;
	req->caller_uid = sgtool_rand(state) % 2 ? req->uid : (uint32_t)sgtool_edgy(state, 2000);
	req->caller_gid = sgtool_rand(state) % 2 ? req->gid : (uint32_t)sgtool_edgy(state, 2000);
	if (sgtool_rand(state) % 8 == 0)
		req->ngroups = (uint32_t)(sgtool_rand(state) % 2 ? sgtool_rand(state) % (SGZ_REQ_GROUPS_MAX + 2) : sgtool_rand(state));
	sgtool_fuzz_name(state, req->name, sizeof(req->name));
	sgtool_fuzz_name(state, req->name2, sizeof(req->name2));
}

/*
 * True when DEV's BAR2 starts with a superblock (SGZ_MAGIC): the zone's
 * structure file Z.
 */
static int sgtool_is_structure(const char *dev)
{
	struct sgtool_window win;
	uint64_t magic;
	int ret;

	ret = sgtool_open_dev(dev);
	if (!ret)
		ret = sgtool_map(dev, 2, 0, sizeof(magic), &win);
	if (ret)
		return ret;
	magic = *(volatile uint64_t *)win.base;
	sgtool_unmap(&win);
	return magic == SGZ_MAGIC;
}

/* The kinds of a zone's devices (docs/guest-module.md "Devices"). */
enum sgtool_kind {
	SGTOOL_DATA,		/* ivshmem-plain, not a structure file: Z.data */
	SGTOOL_STRUCTURE,	/* ivshmem-plain whose BAR2 is Z */
	SGTOOL_BELL,		/* ivshmem-doorbell: this guest's private area */
};

static int sgtool_kind_of(const char *dev)
{
	uint64_t start[6], size[6];
	int ret = sgtool_read_bars(dev, start, size);

	if (ret)
		return ret;
	if (size[1])
		return SGTOOL_BELL;
	ret = sgtool_is_structure(dev);
	return ret < 0 ? ret : ret ? SGTOOL_STRUCTURE : SGTOOL_DATA;
}

struct sgtool_find {
	char *dev;
	size_t len;
	enum sgtool_kind kind;
};

static int sgtool_find_one(const char *dev, void *arg)
{
	struct sgtool_find *f = arg;

	if (sgtool_kind_of(dev) != (int)f->kind)
		return 0;
	snprintf(f->dev, f->len, "%s", dev);
	return 1;
}

/* The first ivshmem device (in PCI address order) of @kind. */
static int sgtool_find_ivshmem(char *dev, size_t len, enum sgtool_kind kind)
{
	struct sgtool_find f = { dev, len, kind };
	int ret = sgtool_each_ivshmem(sgtool_find_one, &f);

	if (ret < 0)
		return ret;
	sgtool_check_at(ret == 1, -ENODEV, SGTOOL_PCI_DEVICES);
	return 0;
}

static void sgtool_sleep_ms(long ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/*
 * This guest's side of the zone, with no driver: its data device, the
 * structure device, its doorbell device (BAR0's registers, and in BAR2 its
 * private area with its request ring), its reply ring (in the structure
 * device: read-only), and what the superblock says (read once; untrusted).
 */
struct sgtool_ring {
	char dev[256];
	char structure[256];
	char bell[256];
	struct sgtool_window regs;
	struct sgtool_window area;
	struct sgtool_window replies;
	int32_t slot;
	uint64_t seq;
	uint64_t data_size;
	struct sgz_superblock sb;
};

static volatile uint8_t *sgtool_req_slot(struct sgtool_ring *r, unsigned int tag)
{
	return r->area.base + SGZ_RING_REQUESTS + (size_t)tag * SGZ_REQUEST_SIZE;
}

static volatile struct sgz_reply *sgtool_rep_slot(struct sgtool_ring *r, unsigned int tag)
{
	return (volatile struct sgz_reply *)(r->replies.base + SGZ_RING_REPLIES + (size_t)tag * SGZ_REPLY_SIZE);
}

/* Stores one request on ring slot @tag and waits for its reply: its status, or -ETIMEDOUT. */
static int64_t sgtool_fuzz_send(struct sgtool_ring *r, unsigned int tag, const struct sgz_request *req, uint64_t seq)
{
	volatile uint8_t *slot = sgtool_req_slot(r, tag);
	volatile struct sgz_reply *reply = sgtool_rep_slot(r, tag);
	const uint8_t *bytes = (const uint8_t *)req;

	for (size_t i = sizeof(req->seq); i < sizeof(*req); i++)
		slot[i] = bytes[i];
	/* Release: the body is visible before the seq that makes it pending. */
	__atomic_thread_fence(__ATOMIC_RELEASE);
	*(volatile uint64_t *)slot = seq;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	sgtool_write32(&r->regs, SGTOOL_REG_DOORBELL, (uint32_t)(0 << 16 | 0));
	for (int waited = 0; waited <= SGTOOL_FUZZ_WAIT_MS; waited++) {
		if (reply->done == seq) {
			__atomic_thread_fence(__ATOMIC_ACQUIRE);
			return (int64_t)reply->status;
		}
		sgtool_sleep_ms(1);
	}
	return -ETIMEDOUT;
}

/*
 * Finds the devices (@dev_arg the doorbell device, or the first one; the
 * first data and structure devices), maps BAR0, this guest's ring area in
 * its private area and its reply ring in the structure device, and copies
 * the superblock. Seqs start past every one the rings have seen. Returns 0
 * or a negative errno (nothing left mapped).
 */
static int sgtool_ring_open(struct sgtool_ring *r, const char *dev_arg)
{
	struct sgtool_window sb, data;
	uint64_t rings_offset, rings_size, zone_size;
	int ret = 0;

	memset(r, 0, sizeof(*r));
	if (dev_arg)
		snprintf(r->bell, sizeof(r->bell), "%s", dev_arg);
	else
		ret = sgtool_find_ivshmem(r->bell, sizeof(r->bell), SGTOOL_BELL);
	if (!ret)
		ret = sgtool_find_ivshmem(r->dev, sizeof(r->dev), SGTOOL_DATA);
	if (!ret)
		ret = sgtool_find_ivshmem(r->structure, sizeof(r->structure), SGTOOL_STRUCTURE);
	if (!ret)
		ret = sgtool_open_dev(r->bell);
	if (ret)
		return ret;
	ret = sgtool_map(r->bell, 0, 0, SGTOOL_BAR0_SIZE, &r->regs);
	if (ret)
		return ret;
	ret = sgtool_map(r->dev, 2, 0, sizeof(uint64_t), &data);
	if (ret)
		goto unmap_regs;
	r->data_size = data.bar_size;
	sgtool_unmap(&data);
	ret = sgtool_map(r->structure, 2, 0, sizeof(struct sgz_superblock), &sb);
	if (ret)
		goto unmap_regs;
	memcpy(&r->sb, (const void *)sb.base, sizeof(r->sb));
	sgtool_unmap(&sb);
	r->slot = (int32_t)sgtool_read32(&r->regs, SGTOOL_REG_IVPOSITION);
	zone_size = r->sb.zone_size;
	rings_offset = r->sb.rings.offset;
	rings_size = r->sb.rings.size;
	/*
	 * The zone is as untrusted here as anywhere: the reply ring must lie
	 * inside the rings region and the structure file (format 2.1).
	 */
	if (r->slot < 1 || (uint32_t)r->slot >= r->sb.max_peers || r->sb.ring_bytes < SGZ_RING_OPENS ||
	    rings_size / r->sb.ring_bytes < r->sb.max_peers || rings_offset > zone_size ||
	    zone_size - rings_offset < rings_size) {
		ret = -EIO;
		sgtool_report(__FILE__, __LINE__, "ivposition and the superblock's rings region name a reply ring in Z",
			      r->structure, ret);
		goto unmap_regs;
	}
	ret = sgtool_map(r->bell, 2, SGZ_AREA_RING, SGZ_RING_BYTES, &r->area);
	if (ret)
		goto unmap_regs;
	ret = sgtool_map(r->structure, 2, rings_offset + (uint64_t)r->slot * r->sb.ring_bytes, SGZ_RING_BYTES, &r->replies);
	if (ret)
		goto unmap_area;
	for (unsigned int tag = 0; tag < SGZ_RING_SLOTS; tag++) {
		uint64_t asked = *(volatile uint64_t *)sgtool_req_slot(r, tag);
		uint64_t done = sgtool_rep_slot(r, tag)->done;

		r->seq = asked > r->seq ? asked : r->seq;
		r->seq = done > r->seq ? done : r->seq;
	}
	return 0;

unmap_area:
	sgtool_unmap(&r->area);
unmap_regs:
	sgtool_unmap(&r->regs);
	return ret;
}

static void sgtool_ring_close(struct sgtool_ring *r)
{
	sgtool_unmap(&r->replies);
	sgtool_unmap(&r->area);
	sgtool_unmap(&r->regs);
}

/* The next seq of this guest's requests: rising by one, never 0. */
static uint64_t sgtool_ring_next(struct sgtool_ring *r)
{
	if (++r->seq == 0)
		r->seq = 1;
	return r->seq;
}

static int sgtool_rpcfuzz(const char *count_arg, const char *seed_arg, const char *dev_arg)
{
	uint64_t count, seed, state, sent = 0, answered = 0, histogram[257] = { 0 };
	struct sgtool_ring ring;
	struct sgz_request req;
	int ret;

	ret = sgtool_parse_u64(count_arg, &count);
	if (!ret)
		ret = sgtool_parse_u64(seed_arg, &seed);
	if (!ret)
		ret = sgtool_ring_open(&ring, dev_arg);
	if (ret)
		return ret;

	state = seed ? seed : 0x9e3779b97f4a7c15ULL;
	for (uint64_t i = 0; i < count; i++) {
		unsigned int tag = (unsigned int)(sgtool_rand(&state) % SGZ_RING_SLOTS);
		int64_t status;

		sgtool_fuzz_request(&state, &req, ring.sb.inode_count, ring.sb.root_ino);
		status = sgtool_fuzz_send(&ring, tag, &req, sgtool_ring_next(&ring));
		sent++;
		if (status < 0)
			continue;
		answered++;
		histogram[status < 256 ? status : 256]++;
	}

	printf("sent=%" PRIu64 " answered=%" PRIu64 "\n", sent, answered);
	for (int status = 0; status <= 256; status++) {
		const char *name = status == 0 ? "0" : status == 256 ? "OTHER" : strerrorname_np(status);

		if (!histogram[status])
			continue;
		if (name)
			printf("status_%s=%" PRIu64 "\n", name, histogram[status]);
		else
			printf("status_%d=%" PRIu64 "\n", status, histogram[status]);
	}
	/* The counts come first, then the failure line, whatever buffers stdout. */
	fflush(stdout);
	if (answered != sent) {
		ret = -ETIMEDOUT;
		sgtool_report(__FILE__, __LINE__, "every request answered within 2 s", ring.dev, ret);
	}
	sgtool_ring_close(&ring);
	return ret;
}

static int sgtool_usage(void)
{
	fputs("usage: sgtool list\n"
	      "       sgtool info DEV\n"
	      "       sgtool ring DEV PEER VECTOR\n"
	      "       sgtool msix DEV VECTOR CPUVEC\n"
	      "       sgtool write DEV OFFSET U64\n"
	      "       sgtool read DEV OFFSET\n"
	      "       sgtool rpcfuzz COUNT SEED [DEV]\n"
	      "       sgtool attack structure INO | hint-size INO | hint-generation INO | hint-seq INO |\n"
	      "                     hint-lock INO | data-header | mknod | race | fuzz COUNT SEED |\n"
	      "                     flood SECONDS | doorbells SECONDS |\n"
	      "                     peer-rings [forge] | lock INO | plant DIR PROGRAM\n"
	      "DEV is a PCI address as in /sys/bus/pci/devices (0000:00:04.0)\n",
	      stderr);
	return 2;
}

/* ---- attack: every attack a guest's kernel or root can try --------------------- */

/*
 * Each attack prints one line, "attack NAME: OUTCOME", saying what it tried
 * and what it saw; the test that runs it beside a victim guest judges the
 * outcome and what the victim saw (docs/security.md has the table). An
 * attack that cannot run at all (no device, a bad superblock) fails as
 * every subcommand does.
 */

#define SGTOOL_ATTACK_POISON 0xdeadbeefdeadbeefULL
#define SGTOOL_ATTACK_HUGE_SIZE (1ULL << 40)

static uint64_t sgtool_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000ULL + (uint64_t)ts.tv_nsec / 1000;
}

/* Maps the whole of BAR2 of @dev. */
static int sgtool_map_bar2(const char *dev, struct sgtool_window *win)
{
	struct sgtool_window probe;
	int ret = sgtool_map(dev, 2, 0, sizeof(uint64_t), &probe);

	if (ret)
		return ret;
	sgtool_unmap(&probe);
	return sgtool_map(dev, 2, 0, probe.bar_size, win);
}

static volatile uint64_t *sgtool_u64_at(struct sgtool_window *win, uint64_t offset)
{
	return (volatile uint64_t *)(win->base + offset);
}

/* A request of this guest as root (caller 0:0): what a guest kernel sends for its root. */
static void sgtool_attack_request(struct sgz_request *req, uint32_t opcode, uint64_t ino, uint32_t generation)
{
	memset(req, 0, sizeof(*req));
	req->opcode = opcode;
	req->flags = SGZ_REQ_CALLER;
	req->ino = ino;
	req->generation = generation;
}

/* Sends @req on tag 0 and waits (at most 2 s): its status or -ETIMEDOUT, and the time taken in @us. */
static int64_t sgtool_attack_send(struct sgtool_ring *r, const struct sgz_request *req, uint64_t *us)
{
	uint64_t t0 = sgtool_now_us();
	int64_t status = sgtool_fuzz_send(r, 0, req, sgtool_ring_next(r));

	*us = sgtool_now_us() - t0;
	return status;
}

static const char *sgtool_status_name(int64_t status)
{
	const char *name;

	if (status == 0)
		return "0";
	if (status < 0)
		return "no reply";
	name = status < 256 ? strerrorname_np((int)status) : NULL;
	return name ? name : "an unknown status";
}

/*
 * Stores into the structure device at everything a guest once rewrote to
 * hurt others, then reads each back: the superblock, the journal, the peer
 * and lock tables, the bitmaps, the root directory's and @ino's inodes, the
 * root's first structure page (a directory page or page-table node) and
 * the pool's first page. QEMU maps the device read-only: no store may reach.
 */
static int sgtool_attack_structure(struct sgtool_ring *r, uint64_t ino)
{
	const struct sgz_superblock *sb = &r->sb;
	struct sgtool_window z;
	uint64_t targets[16], root, file, root_pt = 0;
	unsigned int n = 0, reached = 0;
	int ret = sgtool_map_bar2(r->structure, &z);

	if (ret)
		return ret;
	root = sb->inode_table.offset + sb->root_ino * SGZ_INODE_SIZE;
	file = sb->inode_table.offset + ino * SGZ_INODE_SIZE;
	targets[n++] = 0;					/* superblock magic */
	targets[n++] = offsetof(struct sgz_superblock, free_pages);
	targets[n++] = sb->journal.offset;
	targets[n++] = sb->journal.offset + 8;
	targets[n++] = sb->peer_table.offset;			/* the host's peer slot */
	targets[n++] = sb->peer_table.offset + (uint64_t)r->slot * SGZ_PEER_SIZE;
	targets[n++] = sb->lock_table.offset;
	targets[n++] = sb->inode_bitmap.offset;
	targets[n++] = sb->page_bitmap.offset;
	targets[n++] = root;					/* mode, uid */
	targets[n++] = root + offsetof(struct sgz_inode, size);
	targets[n++] = file + offsetof(struct sgz_inode, pt_root);
	targets[n++] = file + offsetof(struct sgz_inode, seq);
	if (root + SGZ_INODE_SIZE <= z.bar_size)
		root_pt = *sgtool_u64_at(&z, root + offsetof(struct sgz_inode, pt_root));
	if (root_pt && root_pt < z.bar_size - 8)
		targets[n++] = root_pt;				/* a directory page or page-table node */
	targets[n++] = sb->data.offset;				/* the pool's first page */
	for (unsigned int i = 0; i < n; i++) {
		uint64_t at = targets[i] & ~7ULL, before;

		if (at > z.bar_size - 8)
			continue;
		before = *sgtool_u64_at(&z, at);
		*sgtool_u64_at(&z, at) = before ^ SGTOOL_ATTACK_POISON;
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		/* Only the poisoned value shows a store that reached: the host writes these words too. */
		if (*sgtool_u64_at(&z, at) == (before ^ SGTOOL_ATTACK_POISON)) {
			reached++;
			*sgtool_u64_at(&z, at) = before; /* a hole: put it back so the others survive the test */
		}
	}
	printf("attack structure: %u stores to the structure BAR (superblock, journal, peer, lock and inode tables, bitmaps, "
	       "a directory page or page-table node, the pool), %u reached it\n", n, reached);
	sgtool_unmap(&z);
	return 0;
}

/* @ino's hint in Z.data (mapped by @data), or NULL if the superblock puts it outside. */
static volatile struct sgz_hint *sgtool_hint(struct sgtool_ring *r, struct sgtool_window *data, uint64_t ino)
{
	uint64_t at = r->sb.hints.offset + ino * SGZ_HINT_SIZE;

	if (ino >= r->sb.inode_count || at < r->sb.zone_size || at - r->sb.zone_size > data->bar_size - SGZ_HINT_SIZE)
		return NULL;
	return (volatile struct sgz_hint *)(data->base + (at - r->sb.zone_size));
}

/* The host's inode @ino, read through the structure device into @inode. */
static int sgtool_inode(struct sgtool_ring *r, uint64_t ino, struct sgz_inode *inode)
{
	struct sgtool_window w;
	int ret;

	sgtool_check(ino && ino < r->sb.inode_count, -EINVAL);
	ret = sgtool_map(r->structure, 2, r->sb.inode_table.offset + ino * SGZ_INODE_SIZE, SGZ_INODE_SIZE, &w);
	if (ret)
		return ret;
	memcpy(inode, (const void *)w.base, sizeof(*inode));
	sgtool_unmap(&w);
	return 0;
}

/* A setattr of @ino's times (explicit values, as utimes with times): it makes the host fold the hint. */
static int64_t sgtool_attack_touch(struct sgtool_ring *r, uint64_t ino, uint32_t generation, uint64_t *us)
{
	struct sgz_request req;

	sgtool_attack_request(&req, SGZ_OP_SETATTR, ino, generation);
	req.valid = SGZ_ATTR_ATIME | SGZ_ATTR_MTIME;
	req.atime_ns = 1000000000ULL;
	req.mtime_ns = 1000000000ULL;
	return sgtool_attack_send(r, &req, us);
}

/*
 * The inode hint attacks on @ino: a size far beyond alloc_end, a hint of
 * the wrong generation, the seqcount held odd, the lock word held by a
 * holder that is no live peer. After each, a setattr of the file's times
 * through this guest's ring (the host folds the hint then) shows what the
 * host took: its time and status, and the inode's size after.
 */
static int sgtool_attack_hints(struct sgtool_ring *r, const char *which, uint64_t ino)
{
	struct sgtool_window data;
	volatile struct sgz_hint *hint;
	struct sgz_inode inode, after;
	uint64_t us;
	int64_t status;
	int ret = sgtool_map_bar2(r->dev, &data);

	if (ret)
		return ret;
	ret = sgtool_inode(r, ino, &inode);
	hint = sgtool_hint(r, &data, ino);
	if (!ret && !hint) {
		ret = -EIO;
		sgtool_report(__FILE__, __LINE__, "the superblock's hints region is in the data device", r->dev, ret);
	}
	if (ret)
		goto unmap;

	if (!strcmp(which, "hint-generation")) {
		hint->generation = inode.generation + 1;
		hint->size = SGTOOL_ATTACK_HUGE_SIZE;
		hint->seq = (hint->seq + 2) & ~1U;
		status = sgtool_attack_touch(r, ino, inode.generation, &us);
		ret = sgtool_inode(r, ino, &after);
		printf("attack hint-generation: a 1 TiB size hint of generation %u for inode %" PRIu64 " (generation %u, size %" PRIu64
		       "): setattr %s in %" PRIu64 " ms, size after %" PRIu64 "\n", inode.generation + 1, ino, inode.generation,
		       (uint64_t)inode.size, sgtool_status_name(status), us / 1000, (uint64_t)after.size);
	} else if (!strcmp(which, "hint-size")) {
		hint->generation = inode.generation;
		hint->size = SGTOOL_ATTACK_HUGE_SIZE;
		hint->seq = (hint->seq + 2) & ~1U;
		status = sgtool_attack_touch(r, ino, inode.generation, &us);
		ret = sgtool_inode(r, ino, &after);
		printf("attack hint-size: a 1 TiB size hint for inode %" PRIu64 " (alloc_end %" PRIu64 "): setattr %s in %" PRIu64
		       " ms, size after %" PRIu64 " (%s alloc_end)\n", ino, (uint64_t)inode.alloc_end, sgtool_status_name(status),
		       us / 1000, (uint64_t)after.size, after.size <= inode.alloc_end ? "within" : "beyond");
	} else if (!strcmp(which, "hint-seq")) {
		hint->seq |= 1;
		status = sgtool_attack_touch(r, ino, inode.generation, &us);
		printf("attack hint-seq: the seqcount of inode %" PRIu64 "'s hint held odd: setattr %s in %" PRIu64 " ms\n",
		       ino, sgtool_status_name(status), us / 1000);
	} else {
		/* A holder that is no live peer: nobody's death releases it; the host takes it over. */
		uint64_t holder = r->sb.max_peers;

		hint->lock = holder;
		status = sgtool_attack_touch(r, ino, inode.generation, &us);
		printf("attack hint-lock: the lock word of inode %" PRIu64 " set to holder %" PRIu64
		       " (no live peer): setattr %s in %" PRIu64 " ms\n", ino, holder, sgtool_status_name(status), us / 1000);
	}
unmap:
	sgtool_unmap(&data);
	return ret;
}

/*
 * Scribbles the data header (Z.data byte 0: magic and uuid), which guests
 * can write, then asks the service a NOP: it must go on serving.
 */
static int sgtool_attack_data_header(struct sgtool_ring *r)
{
	struct sgtool_window data;
	struct sgz_request req;
	unsigned int reached = 0;
	uint64_t us;
	int64_t status;
	int ret = sgtool_map(r->dev, 2, 0, SGZ_DATA_HEADER_SIZE, &data);

	if (ret)
		return ret;
	for (unsigned int i = 0; i < 4; i++) {
		uint64_t before = *sgtool_u64_at(&data, 8 * i);

		*sgtool_u64_at(&data, 8 * i) = before ^ SGTOOL_ATTACK_POISON;
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		reached += *sgtool_u64_at(&data, 8 * i) != before;
	}
	sgtool_attack_request(&req, SGZ_OP_NOP, 0, 0);
	status = sgtool_attack_send(r, &req, &us);
	printf("attack data-header: 4 stores over the data header's magic and uuid, %u reached it (the data file is "
	       "guest-writable); a NOP after it: %s in %" PRIu64 " ms\n", reached, sgtool_status_name(status), us / 1000);
	sgtool_unmap(&data);
	return 0;
}

/* rpcfuzz's generator on this guest's own ring: @count requests, the worst reply time. */
static int sgtool_attack_fuzz(struct sgtool_ring *r, uint64_t count, uint64_t seed)
{
	uint64_t state = seed ? seed : 0x9e3779b97f4a7c15ULL, answered = 0, worst = 0;
	struct sgz_request req;

	for (uint64_t i = 0; i < count; i++) {
		unsigned int tag = (unsigned int)(sgtool_rand(&state) % SGZ_RING_SLOTS);
		uint64_t t0 = sgtool_now_us(), us;
		int64_t status;

		sgtool_fuzz_request(&state, &req, r->sb.inode_count, r->sb.root_ino);
		status = sgtool_fuzz_send(r, tag, &req, sgtool_ring_next(r));
		us = sgtool_now_us() - t0;
		worst = us > worst ? us : worst;
		answered += status >= 0;
	}
	printf("attack fuzz: %" PRIu64 " forged and malformed requests in my ring (seed %" PRIu64 "), %" PRIu64
	       " answered, worst reply %" PRIu64 " ms\n", count, seed, answered, worst / 1000);
	return 0;
}

/*
 * A request flood: every slot of this guest's ring kept full of NOPs for
 * @seconds, the doorbell rung after every refill; then up to 2 s for the
 * last ones.
 */
static int sgtool_attack_flood(struct sgtool_ring *r, uint64_t seconds)
{
	uint64_t sent = 0, answered = 0, asked[SGZ_RING_SLOTS] = { 0 };
	uint64_t end = sgtool_now_us() + seconds * 1000000ULL, drain;
	struct sgz_request req;

	sgtool_attack_request(&req, SGZ_OP_NOP, 0, 0);
	for (bool flooding = true; flooding || answered < sent;) {
		bool refilled = false;

		flooding = sgtool_now_us() < end;
		for (unsigned int tag = 0; tag < SGZ_RING_SLOTS; tag++) {
			volatile uint8_t *slot = sgtool_req_slot(r, tag);
			volatile struct sgz_reply *reply = sgtool_rep_slot(r, tag);

			if (asked[tag] && reply->done != asked[tag])
				continue;
			answered += asked[tag] != 0;
			asked[tag] = 0;
			if (!flooding)
				continue;
			for (size_t i = sizeof(req.seq); i < sizeof(req); i++)
				slot[i] = ((const uint8_t *)&req)[i];
			__atomic_thread_fence(__ATOMIC_RELEASE);
			asked[tag] = sgtool_ring_next(r);
			*(volatile uint64_t *)slot = asked[tag];
			sent++;
			refilled = true;
		}
		if (refilled) {
			__atomic_thread_fence(__ATOMIC_SEQ_CST);
			sgtool_write32(&r->regs, SGTOOL_REG_DOORBELL, 0);
		}
		if (!flooding && answered < sent) {
			drain = sgtool_now_us();
			if (drain > end + 2000000ULL)
				break;
			sgtool_sleep_ms(1);
		}
	}
	printf("attack flood: %" PRIu64 " NOP requests in %" PRIu64 " s with all %u ring slots kept full, %" PRIu64
	       " answered\n", sent, seconds, SGZ_RING_SLOTS, answered);
	return 0;
}

/*
 * A request changed while the service handles it: a CREATE of
 * /hostile-race in the root directory whose name and name_len this guest
 * keeps rewriting ("/ostile-race", 0xffff) from the doorbell until the
 * reply. The service copies a request once and checks the copy.
 */
static int sgtool_attack_race(struct sgtool_ring *r)
{
	volatile struct sgz_request *live = (volatile struct sgz_request *)sgtool_req_slot(r, 0);
	volatile struct sgz_reply *reply = sgtool_rep_slot(r, 0);
	static const char name[] = "hostile-race";
	uint64_t seq, rewrites = 0, end = sgtool_now_us() + 2000000ULL;
	struct sgz_inode root;
	struct sgz_request req;
	int ret = sgtool_inode(r, r->sb.root_ino, &root);

	if (ret)
		return ret;
	sgtool_attack_request(&req, SGZ_OP_CREATE, r->sb.root_ino, root.generation);
	req.mode = SGZ_S_IFREG | 0644;
	req.name_len = sizeof(name) - 1;
	memcpy(req.name, name, sizeof(name) - 1);
	for (size_t i = sizeof(req.seq); i < sizeof(req); i++)
		((volatile uint8_t *)live)[i] = ((const uint8_t *)&req)[i];
	__atomic_thread_fence(__ATOMIC_RELEASE);
	seq = sgtool_ring_next(r);
	live->seq = seq;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	sgtool_write32(&r->regs, SGTOOL_REG_DOORBELL, 0);
	while (reply->done != seq && sgtool_now_us() < end) {
		live->name[0] = rewrites % 2 ? 'h' : '/';
		live->name_len = rewrites % 2 ? sizeof(name) - 1 : 0xffff;
		live->opcode = rewrites % 2 ? SGZ_OP_CREATE : SGZ_OP_MKNOD;
		rewrites++;
	}
	printf("attack race: a CREATE whose name, name_len and opcode I rewrote %" PRIu64 " times while it was served: %s\n",
	       rewrites, reply->done == seq ? sgtool_status_name(reply->status) : "no reply");
	return 0;
}

/*
 * Doorbells: every other peer id, every vector, rung as fast as this guest
 * can for @seconds (QEMU ignores ids and vectors that do not exist).
 */
static int sgtool_attack_doorbells(struct sgtool_ring *r, uint64_t seconds)
{
	uint64_t end = sgtool_now_us() + seconds * 1000000ULL, rung = 0;

	while (sgtool_now_us() < end)
		for (uint32_t peer = 0; peer < r->sb.max_peers; peer++)
			for (uint32_t vector = 0; vector < 4; vector++)
				if ((int32_t)peer != r->slot) {
					sgtool_write32(&r->regs, SGTOOL_REG_DOORBELL, peer << 16 | vector);
					rung++;
				}
	printf("attack doorbells: %" PRIu64 " doorbells rung at every other peer and vector in %" PRIu64 " s\n", rung,
	       seconds);
	return 0;
}

struct sgtool_areas {
	int32_t mine;
	int found;
};

static int sgtool_other_area(const char *dev, void *arg)
{
	struct sgtool_areas *a = arg;
	struct sgtool_window win;
	uint64_t start[6], size[6];

	if (sgtool_read_bars(dev, start, size) || size[2] != SGZ_AREA_SIZE || sgtool_open_dev(dev) ||
	    sgtool_map(dev, 2, 0, sizeof(struct sgz_area), &win))
		return 0;
	a->found += ((volatile struct sgz_area *)win.base)->magic == SGZ_AREA_MAGIC &&
		    (int32_t)((volatile struct sgz_area *)win.base)->slot != a->mine;
	sgtool_unmap(&win);
	return 0;
}

/*
 * Other peers' request areas in this guest's devices: every ivshmem device
 * whose BAR2 is a private area (SGZ_AREA_SIZE, SGZ_AREA_MAGIC) naming
 * another slot than this guest's. Returns the count, or a negative errno.
 */
static int sgtool_other_areas(struct sgtool_ring *r)
{
	struct sgtool_areas a = { r->slot, 0 };
	int ret = sgtool_each_ivshmem(sgtool_other_area, &a);

	return ret < 0 ? ret : a.found;
}

/*
 * Other peers' rings, as far as this guest's devices reach (format 2.1):
 * a peer's request ring and open table are in its private area, which no
 * other guest should be given (sgtool_other_areas looks at every device);
 * a peer's replies are in its slot of the rings region in Z. With @forge, a
 * forged reply (done and status) is stored into tag 0 of every other live
 * peer's reply ring through the structure device and read back.
 */
/* Flipped into a reply's done by a forged store: far above any seq a peer reaches. */
#define SGTOOL_FORGED_DONE (1ULL << 62)

static int sgtool_attack_peer_rings(struct sgtool_ring *r, bool forge)
{
	const struct sgz_superblock *sb = &r->sb;
	struct sgtool_window peers, z;
	unsigned int live = 0, forged = 0, reached = 0;
	int others = sgtool_other_areas(r);
	int ret;

	if (others < 0)
		return others;
	ret = sgtool_map(r->structure, 2, sb->peer_table.offset, (size_t)sb->max_peers * SGZ_PEER_SIZE, &peers);
	if (ret)
		return ret;
	for (uint32_t slot = 1; slot < sb->max_peers; slot++) {
		volatile struct sgz_reply *reply;
		uint64_t done;

		if ((int32_t)slot == r->slot ||
		    ((volatile struct sgz_peer *)(peers.base + (size_t)slot * SGZ_PEER_SIZE))->state != SGZ_PEER_LIVE)
			continue;
		live++;
		if (!forge)
			continue;
		ret = sgtool_map(r->structure, 2, sb->rings.offset + (uint64_t)slot * sb->ring_bytes, SGZ_RING_BYTES, &z);
		if (ret)
			break;
		reply = (volatile struct sgz_reply *)(z.base + SGZ_RING_REPLIES);
		/*
		 * A value no reply of the host ever carries: done is a request's
		 * seq, and the victim's next reply on tag 0 may well be done + 1,
		 * published between the store and the read back.
		 */
		done = reply->done ^ SGTOOL_FORGED_DONE;
		reply->status = SGZ_STATUS_EIO;
		reply->done = done;
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		forged++;
		reached += reply->done == done;
		sgtool_unmap(&z);
	}
	sgtool_unmap(&peers);
	if (ret)
		return ret;
	if (others)
		printf("attack peer-rings: %d other peers' request areas in my devices: reachable; ", others);
	else
		printf("attack peer-rings: no other peer's request area in any of my devices (I am slot %d): none reachable; ",
		       r->slot);
	printf("%u other live peers, their replies in the structure file: %u forged stores, %u reached\n",
	       live, forged, reached);
	return 0;
}

/*
 * A byte-range lock taken through this guest's ring (a posix write lock of
 * the whole file @ino, for a forged owner and pid), kept until this guest
 * dies: the test powers the guest off, and the victim must get the lock.
 */
static int sgtool_attack_lock(struct sgtool_ring *r, uint64_t ino)
{
	struct sgz_inode inode;
	struct sgz_request req;
	uint64_t us;
	int64_t status;
	int ret = sgtool_inode(r, ino, &inode);

	if (ret)
		return ret;
	sgtool_attack_request(&req, SGZ_OP_LOCK, ino, inode.generation);
	req.lock_type = SGZ_LOCK_WRITE;
	req.owner = 0x686f7374696c65ULL;
	req.pid = 4242;
	status = sgtool_attack_send(r, &req, &us);
	printf("attack lock: a write lock on all of inode %" PRIu64 " through my ring: %s in %" PRIu64
	       " ms; held until this guest dies\n", ino, sgtool_status_name(status), us / 1000);
	return 0;
}

/* Copies @program to @path and makes it setuid (the caller is root: setuid root). */
static int sgtool_copy_setuid(const char *program, const char *path)
{
	char buf[65536];
	ssize_t n = 0;
	int in, out, ret = 0;

	in = open(program, O_RDONLY | O_CLOEXEC);
	sgtool_check_at(in >= 0, -errno, program);
	out = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);
	if (out < 0) {
		ret = -errno;
		sgtool_report(__FILE__, __LINE__, "open(O_CREAT)", path, ret);
		close(in);
		return ret;
	}
	while (!ret && (n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, (size_t)n) != n)
			ret = -EIO;
	if (!ret && n < 0)
		ret = -errno;
	if (!ret && fchmod(out, 04755) != 0)
		ret = -errno;
	if (close(out) != 0 && !ret)
		ret = -errno;
	close(in);
	if (ret)
		sgtool_report(__FILE__, __LINE__, "copy and chmod 4755", path, ret);
	return ret;
}

/* mknod(2) of @path: "made", or the errno's name. */
static const char *sgtool_try_mknod(const char *path, mode_t mode, dev_t dev)
{
	const char *name;

	if (mknod(path, mode, dev) == 0)
		return "made";
	name = strerrorname_np(errno);
	return name ? name : "an unknown errno";
}

/*
 * Through this guest's own mount (mounted suid,dev), a setuid-root copy of
 * @program and two device nodes, /dev/mem's (char 1:1) and a disk's (block
 * 8:0), both mode 0666: the victim's default (nosuid,nodev) mount must give
 * no privilege and open no device. The module refuses device nodes; the
 * outcome says what each mknod gave.
 */
static int sgtool_attack_plant(const char *dir, const char *program)
{
	char path[3][512];
	const char *mem, *disk;
	struct stat st;
	int ret;

	snprintf(path[0], sizeof(path[0]), "%s/suid-root", dir);
	snprintf(path[1], sizeof(path[1]), "%s/mem", dir);
	snprintf(path[2], sizeof(path[2]), "%s/disk", dir);
	ret = sgtool_copy_setuid(program, path[0]);
	if (ret)
		return ret;
	sgtool_check_at(stat(path[0], &st) == 0, -errno, path[0]);
	mem = sgtool_try_mknod(path[1], S_IFCHR | 0666, makedev(1, 1));
	disk = sgtool_try_mknod(path[2], S_IFBLK | 0666, makedev(8, 0));
	printf("attack plant: %s mode %o owner %u; mknod of char 1:1 %s, of block 8:0 %s; through my suid,dev mount\n",
	       path[0], (unsigned int)(st.st_mode & 07777), (unsigned int)st.st_uid, mem, disk);
	return 0;
}

/*
 * Device nodes asked of the host directly, past this guest's module: a
 * MKNOD request for a char 1:1 and a block 8:0 node in the root directory.
 */
static int sgtool_attack_mknod(struct sgtool_ring *r)
{
	static const struct {
		uint32_t type;
		uint64_t rdev;
		const char *name;
	} nodes[] = {
		{ SGZ_S_IFCHR, (1 << 8) | 1, "hostile-mem" },
		{ SGZ_S_IFBLK, 8 << 8, "hostile-disk" },
	};
	struct sgz_inode root;
	struct sgz_request req;
	const char *status[2];
	uint64_t us, worst = 0;
	int ret = sgtool_inode(r, r->sb.root_ino, &root);

	if (ret)
		return ret;
	for (int i = 0; i < 2; i++) {
		sgtool_attack_request(&req, SGZ_OP_MKNOD, r->sb.root_ino, root.generation);
		req.mode = nodes[i].type | 0666;
		req.rdev = nodes[i].rdev;
		req.name_len = (uint16_t)strlen(nodes[i].name);
		memcpy(req.name, nodes[i].name, req.name_len);
		status[i] = sgtool_status_name(sgtool_attack_send(r, &req, &us));
		worst = us > worst ? us : worst;
	}
	printf("attack mknod: MKNOD requests on my ring for /hostile-mem (char 1:1) and /hostile-disk (block 8:0): %s "
	       "and %s, within %" PRIu64 " ms\n", status[0], status[1], worst / 1000);
	return 0;
}

/*
 * sgtool attack NAME [ARG...]: one attack (above) per run. The raw ones map
 * the devices through sysfs, so no stargatefs may be bound to them; plant
 * works through a mount.
 */
static int sgtool_attack(int argc, char **argv)
{
	const char *name = argv[0];
	struct sgtool_ring ring;
	uint64_t n[2] = { 0, 0 };
	int ret = 0, want = 0;

	if (!strcmp(name, "plant"))
		return argc == 3 ? sgtool_attack_plant(argv[1], argv[2]) : sgtool_usage();
	if (!strcmp(name, "structure") || !strcmp(name, "lock") || !strncmp(name, "hint-", 5) ||
	    !strcmp(name, "flood") || !strcmp(name, "doorbells"))
		want = 1;
	else if (!strcmp(name, "fuzz"))
		want = 2;
	else if (!strcmp(name, "peer-rings"))
		want = argc == 2 && !strcmp(argv[1], "forge") ? -1 : 0;
	else if (strcmp(name, "data-header") && strcmp(name, "mknod") && strcmp(name, "race"))
		return sgtool_usage();
	if (want >= 0 && argc != want + 1)
		return sgtool_usage();
	for (int i = 0; i < want && !ret; i++)
		ret = sgtool_parse_u64(argv[1 + i], &n[i]);
	if (!ret)
		ret = sgtool_ring_open(&ring, NULL);
	if (ret)
		return ret;
	if (!strcmp(name, "structure"))
		ret = sgtool_attack_structure(&ring, n[0]);
	else if (!strcmp(name, "hint-size") || !strcmp(name, "hint-generation") || !strcmp(name, "hint-seq") ||
		 !strcmp(name, "hint-lock"))
		ret = sgtool_attack_hints(&ring, name, n[0]);
	else if (!strcmp(name, "data-header"))
		ret = sgtool_attack_data_header(&ring);
	else if (!strcmp(name, "mknod"))
		ret = sgtool_attack_mknod(&ring);
	else if (!strcmp(name, "race"))
		ret = sgtool_attack_race(&ring);
	else if (!strcmp(name, "doorbells"))
		ret = sgtool_attack_doorbells(&ring, n[0]);
	else if (!strcmp(name, "fuzz"))
		ret = sgtool_attack_fuzz(&ring, n[0], n[1]);
	else if (!strcmp(name, "flood"))
		ret = sgtool_attack_flood(&ring, n[0]);
	else if (!strcmp(name, "peer-rings"))
		ret = sgtool_attack_peer_rings(&ring, want < 0);
	else if (!strcmp(name, "lock"))
		ret = sgtool_attack_lock(&ring, n[0]);
	else
		ret = sgtool_usage() ? -EINVAL : 0;
	sgtool_ring_close(&ring);
	return ret;
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : "";
	int ret;

	if (!strcmp(cmd, "list") && argc == 2)
		ret = sgtool_list();
	else if (!strcmp(cmd, "info") && argc == 3)
		ret = sgtool_info(argv[2]);
	else if (!strcmp(cmd, "ring") && argc == 5)
		ret = sgtool_ring(argv[2], argv[3], argv[4]);
	else if (!strcmp(cmd, "msix") && argc == 5)
		ret = sgtool_msix(argv[2], argv[3], argv[4]);
	else if (!strcmp(cmd, "write") && argc == 5)
		ret = sgtool_zone_u64(argv[2], argv[3], argv[4]);
	else if (!strcmp(cmd, "read") && argc == 4)
		ret = sgtool_zone_u64(argv[2], argv[3], NULL);
	else if (!strcmp(cmd, "rpcfuzz") && (argc == 4 || argc == 5))
		ret = sgtool_rpcfuzz(argv[2], argv[3], argc == 5 ? argv[4] : NULL);
	else if (!strcmp(cmd, "attack") && argc >= 3)
		ret = sgtool_attack(argc - 2, argv + 2);
	else
		return sgtool_usage();
	fflush(stdout);
	return ret ? 1 : 0;
}
