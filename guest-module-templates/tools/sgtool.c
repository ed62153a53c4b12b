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
 *                                    DEV (default: the first ivshmem device
 *                                    that is not a zone's structure file);
 *                                    "sent= answered=", then the replies'
 *                                    statuses as status_ENAME=count; exit 1
 *                                    if one was not answered within 2 s
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

static int sgtool_list(void)
{
	struct dirent **names;
	int count = 0, n, i, ret = 0;

	n = scandir(SGTOOL_PCI_DEVICES, &names, NULL, alphasort);
	sgtool_check_at(n >= 0, -errno, SGTOOL_PCI_DEVICES);
	for (i = 0; i < n && ret >= 0; i++) {
		const char *dev = names[i]->d_name;
		uint64_t start[6], size[6];

		if (dev[0] == '.')
			continue;
		ret = sgtool_is_ivshmem(dev);
		if (ret <= 0)
			continue;
		ret = sgtool_read_bars(dev, start, size);
		if (ret)
			break;
		/* Only ivshmem-doorbell has BAR1, the MSI-X table. */
		printf("dev=%s kind=%s bar0=0x%" PRIx64 " bar0_size=%" PRIu64
		       " bar1=%s bar2=0x%" PRIx64 " bar2_size=%" PRIu64 "\n",
		       dev, size[1] ? "doorbell" : "plain", start[0], size[0],
		       size[1] ? "msix" : "none", start[2], size[2]);
		count++;
	}
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
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

/* The first ivshmem device in /sys/bus/pci/devices, for rpcfuzz without DEV. */
/*
 * True when DEV's BAR2 starts with a superblock (SGZ_MAGIC): the zone's
 * structure file Z. A zone is two devices; the other one, the data file
 * Z.data, holds the rings.
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

/* The first ivshmem device (in PCI address order) that is, or is not, a structure device. */
static int sgtool_find_ivshmem(char *dev, size_t len, bool structure)
{
	struct dirent **names;
	int n, i, found = 0;

	n = scandir(SGTOOL_PCI_DEVICES, &names, NULL, alphasort);
	sgtool_check_at(n >= 0, -errno, SGTOOL_PCI_DEVICES);
	for (i = 0; i < n; i++) {
		if (!found && names[i]->d_name[0] != '.' && sgtool_is_ivshmem(names[i]->d_name) == 1 &&
		    sgtool_is_structure(names[i]->d_name) == (int)structure) {
			snprintf(dev, len, "%s", names[i]->d_name);
			found = 1;
		}
		free(names[i]);
	}
	free(names);
	sgtool_check_at(found, -ENODEV, SGTOOL_PCI_DEVICES);
	return 0;
}

static void sgtool_sleep_ms(long ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* Stores one request on ring slot @tag and waits for its reply: its status, or -ETIMEDOUT. */
static int64_t sgtool_fuzz_send(volatile uint8_t *area, struct sgtool_window *regs,
				unsigned int tag, const struct sgz_request *req, uint64_t seq)
{
	volatile uint8_t *slot = area + SGZ_RING_REQUESTS + (size_t)tag * SGZ_REQUEST_SIZE;
	volatile struct sgz_reply *reply =
		(volatile struct sgz_reply *)(area + SGZ_RING_REPLIES + (size_t)tag * SGZ_REPLY_SIZE);
	const uint8_t *bytes = (const uint8_t *)req;

	for (size_t i = sizeof(req->seq); i < sizeof(*req); i++)
		slot[i] = bytes[i];
	/* Release: the body is visible before the seq that makes it pending. */
	__atomic_thread_fence(__ATOMIC_RELEASE);
	*(volatile uint64_t *)slot = seq;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	sgtool_write32(regs, SGTOOL_REG_DOORBELL, (uint32_t)(0 << 16 | 0));
	for (int waited = 0; waited <= SGTOOL_FUZZ_WAIT_MS; waited++) {
		if (reply->done == seq) {
			__atomic_thread_fence(__ATOMIC_ACQUIRE);
			return (int64_t)reply->status;
		}
		sgtool_sleep_ms(1);
	}
	return -ETIMEDOUT;
}

static int sgtool_rpcfuzz(const char *count_arg, const char *seed_arg, const char *dev_arg)
{
	uint64_t count, seed, state, seq = 0, sent = 0, answered = 0, histogram[257] = { 0 };
	uint64_t rings_offset, rings_size, inode_count, root_ino, area_offset, zone_size, data_size;
	uint32_t ring_bytes, max_peers;
	struct sgtool_window regs, sb, area, data;
	struct sgz_request req;
	char dev[256], structure[256];
	int32_t slot;
	int ret;

	ret = sgtool_parse_u64(count_arg, &count);
	if (!ret)
		ret = sgtool_parse_u64(seed_arg, &seed);
	if (!ret && dev_arg)
		snprintf(dev, sizeof(dev), "%s", dev_arg);
	else if (!ret)
		ret = sgtool_find_ivshmem(dev, sizeof(dev), false);
	if (!ret)
		ret = sgtool_find_ivshmem(structure, sizeof(structure), true);
	if (!ret)
		ret = sgtool_open_dev(dev);
	if (ret)
		return ret;
	ret = sgtool_map(dev, 0, 0, SGTOOL_BAR0_SIZE, &regs);
	if (ret)
		return ret;
	/* The superblock is in the structure device; the rings in DEV's data file, past zone_size. */
	ret = sgtool_map(dev, 2, 0, sizeof(uint64_t), &data);
	if (ret)
		goto unmap_regs;
	data_size = data.bar_size;
	sgtool_unmap(&data);
	ret = sgtool_map(structure, 2, 0, sizeof(struct sgz_superblock), &sb);
	if (ret)
		goto unmap_regs;
	slot = (int32_t)sgtool_read32(&regs, SGTOOL_REG_IVPOSITION);
	{
		volatile struct sgz_superblock *super = (volatile struct sgz_superblock *)sb.base;

		zone_size = super->zone_size;
		rings_offset = super->rings.offset;
		rings_size = super->rings.size;
		ring_bytes = super->ring_bytes;
		max_peers = super->max_peers;
		inode_count = super->inode_count;
		root_ino = super->root_ino;
	}
	sgtool_unmap(&sb);
	/*
	 * The zone is as untrusted here as anywhere: the area must lie inside
	 * the rings region and the data file's BAR2 (zone offset zone_size is
	 * its byte 0).
	 */
	if (slot < 1 || (uint32_t)slot >= max_peers || ring_bytes < SGZ_RING_OPENS ||
	    rings_size / ring_bytes < max_peers || rings_offset < zone_size ||
	    rings_offset - zone_size > data_size || data_size - (rings_offset - zone_size) < rings_size) {
		ret = -EIO;
		sgtool_report(__FILE__, __LINE__, "ivposition and the superblock's rings region name an area in BAR2",
			      dev, ret);
		goto unmap_regs;
	}
	area_offset = rings_offset - zone_size + (uint64_t)slot * ring_bytes;
	ret = sgtool_map(dev, 2, area_offset, ring_bytes, &area);
	if (ret)
		goto unmap_regs;

	/* Seqs rise by one per request of this peer: start past every one the area has seen. */
	for (unsigned int tag = 0; tag < SGZ_RING_SLOTS; tag++) {
		uint64_t asked = *(volatile uint64_t *)(area.base + SGZ_RING_REQUESTS + (size_t)tag * SGZ_REQUEST_SIZE);
		uint64_t done = ((volatile struct sgz_reply *)(area.base + SGZ_RING_REPLIES +
							      (size_t)tag * SGZ_REPLY_SIZE))->done;

		seq = asked > seq ? asked : seq;
		seq = done > seq ? done : seq;
	}

	state = seed ? seed : 0x9e3779b97f4a7c15ULL;
	for (uint64_t i = 0; i < count; i++) {
		unsigned int tag = (unsigned int)(sgtool_rand(&state) % SGZ_RING_SLOTS);
		int64_t status;

		sgtool_fuzz_request(&state, &req, inode_count, root_ino);
		if (++seq == 0)
			seq = 1;
		status = sgtool_fuzz_send(area.base, &regs, tag, &req, seq);
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
		sgtool_report(__FILE__, __LINE__, "every request answered within 2 s", dev, ret);
	}
	sgtool_unmap(&area);
unmap_regs:
	sgtool_unmap(&regs);
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
	      "DEV is a PCI address as in /sys/bus/pci/devices (0000:00:04.0)\n",
	      stderr);
	return 2;
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
	else
		return sgtool_usage();
	fflush(stdout);
	return ret ? 1 : 0;
}
