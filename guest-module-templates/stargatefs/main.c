// SPDX-License-Identifier: GPL-2.0
/*
 * stargatefs: module entry, the ivshmem PCI driver and the DAX device over
 * each bound device's BAR2.
 */
#include <linux/dax.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/pfn_t.h>
#include <linux/sizes.h>
#ifdef CONFIG_X86_64
#include <asm/cpufeature.h>
#endif

#include "stargatefs.h"

#define STARGATEFS_IVSHMEM_VENDOR 0x1af4
#define STARGATEFS_IVSHMEM_DEVICE 0x1110
#define STARGATEFS_ZONE_BAR 2

/* Bound devices in bind order; stargatefs_devices_lock guards it and index use. */
static LIST_HEAD(stargatefs_devices);
static DEFINE_MUTEX(stargatefs_devices_lock);

/*
 * crc32c, Castagnoli, as include/stargate_zone.h defines it. Every inode,
 * directory entry and index page a guest reads is checked with it, so its
 * speed is on every lookup and readdir. Two ways, chosen once at load by
 * timing both (as the kernel's raid6 and xor code choose theirs):
 *  - SSE4.2's crc32 instruction, eight bytes at a time on general
 *    registers (no FPU state): several times faster than the table on
 *    hardware (KVM);
 *  - slicing by 8 over eight 256-entry tables: loads and xors only, which
 *    is what emulation runs fastest. Under TCG each crc32 instruction is a
 *    call into QEMU that works bytewise, and the tables are 3-4x faster.
 */
static u32 stargatefs_crc_table[8][256];
static bool stargatefs_crc_hw;

static u32 stargatefs_crc32c_table(u32 crc, const u8 *p, size_t len)
{
	u64 v;

	for (; len >= 8; p += 8, len -= 8) {
		memcpy(&v, p, sizeof(v));
		v = le64_to_cpu(v) ^ crc;
		crc = stargatefs_crc_table[7][v & 0xff] ^ stargatefs_crc_table[6][(v >> 8) & 0xff] ^
		      stargatefs_crc_table[5][(v >> 16) & 0xff] ^ stargatefs_crc_table[4][(v >> 24) & 0xff] ^
		      stargatefs_crc_table[3][(v >> 32) & 0xff] ^ stargatefs_crc_table[2][(v >> 40) & 0xff] ^
		      stargatefs_crc_table[1][(v >> 48) & 0xff] ^ stargatefs_crc_table[0][v >> 56];
	}
	for (; len; p++, len--)
		crc = stargatefs_crc_table[0][(crc ^ *p) & 0xff] ^ (crc >> 8);
	return crc;
}

#ifdef CONFIG_X86_64
static u32 stargatefs_crc32c_sse42(u32 crc, const u8 *p, size_t len)
{
	u64 c = crc, v;

	for (; len >= 8; p += 8, len -= 8) {
		memcpy(&v, p, sizeof(v));
		asm("crc32q %1, %0" : "+r"(c) : "rm"(v));
	}
	crc = c;
	for (; len; p++, len--)
		asm("crc32b %1, %0" : "+r"(crc) : "rm"(*p));
	return crc;
}
#endif

u32 stargatefs_crc32c(const void *data, size_t len)
{
#ifdef CONFIG_X86_64
	if (stargatefs_crc_hw)
		return stargatefs_crc32c_sse42(0xffffffff, data, len) ^ 0xffffffff;
#endif
	return stargatefs_crc32c_table(0xffffffff, data, len) ^ 0xffffffff;
}

/*
 * Module parameter crc, given at load only: auto (the default: the faster
 * of the two here), sse4.2 or slice-by-8. Reading it gives the way taken.
 */
enum { STARGATEFS_CRC_AUTO, STARGATEFS_CRC_SSE42, STARGATEFS_CRC_SLICE8 };
static int stargatefs_crc_asked;

static int stargatefs_crc_set(const char *val, const struct kernel_param *kp)
{
	if (sysfs_streq(val, "auto"))
		stargatefs_crc_asked = STARGATEFS_CRC_AUTO;
	else if (sysfs_streq(val, "sse4.2"))
		stargatefs_crc_asked = STARGATEFS_CRC_SSE42;
	else if (sysfs_streq(val, "slice-by-8"))
		stargatefs_crc_asked = STARGATEFS_CRC_SLICE8;
	else
		return -EINVAL;
	return 0;
}

static int stargatefs_crc_get(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%s\n", stargatefs_crc_hw ? "sse4.2" : "slice-by-8");
}

static const struct kernel_param_ops stargatefs_crc_ops = {
	.set = stargatefs_crc_set,
	.get = stargatefs_crc_get,
};
module_param_cb(crc, &stargatefs_crc_ops, NULL, 0444);
MODULE_PARM_DESC(crc, "crc32c by auto (the faster here, the default), sse4.2 or slice-by-8; reads the way taken");

#ifdef CONFIG_X86_64
static u32 stargatefs_crc_sink;

/* Nanoseconds of the faster of three passes of way over len bytes at buf. */
static u64 stargatefs_crc_time(u32 (*way)(u32, const u8 *, size_t), const u8 *buf, size_t len)
{
	u64 best = U64_MAX, t;
	unsigned int i;

	for (i = 0; i < 3; i++) {
		t = ktime_get_ns();
		WRITE_ONCE(stargatefs_crc_sink, way(0xffffffff, buf, len));
		best = min(best, ktime_get_ns() - t);
	}
	return best;
}
#endif

/* Whether way gives the check value of include/stargate_zone.h: crc32c("123456789") == 0xe3069283. */
static bool stargatefs_crc_checks(u32 (*way)(u32, const u8 *, size_t))
{
	return (way(0xffffffff, "123456789", 9) ^ 0xffffffff) == 0xe3069283;
}

/*
 * The tables; then the way: the instruction where the CPU has it, it gives
 * the header's check value, and it was asked for or is faster here than
 * the tables. -EINVAL when crc=sse4.2 was asked of a CPU without it.
 */
static int stargatefs_crc_init(void)
{
	bool hw_ok = false;
	u32 i, j, c;

	for (i = 0; i < 256; i++) {
		c = i;
		for (j = 0; j < 8; j++)
			c = (c & 1) ? (c >> 1) ^ 0x82f63b78 : c >> 1;
		stargatefs_crc_table[0][i] = c;
	}
	for (i = 0; i < 256; i++)
		for (j = 1; j < 8; j++)
			stargatefs_crc_table[j][i] = (stargatefs_crc_table[j - 1][i] >> 8) ^
						     stargatefs_crc_table[0][stargatefs_crc_table[j - 1][i] & 0xff];
	if (!stargatefs_crc_checks(stargatefs_crc32c_table)) {
		pr_err("stargatefs: crc32c tables give a wrong check value\n");
		return -EINVAL;
	}
#ifdef CONFIG_X86_64
	hw_ok = boot_cpu_has(X86_FEATURE_XMM4_2) && stargatefs_crc_checks(stargatefs_crc32c_sse42);
	if (hw_ok && stargatefs_crc_asked == STARGATEFS_CRC_AUTO) {
		/* 4 KiB of the tables themselves: any bytes do. */
		const u8 *buf = (const u8 *)stargatefs_crc_table;
		u64 hw = stargatefs_crc_time(stargatefs_crc32c_sse42, buf, SZ_4K);
		u64 sw = stargatefs_crc_time(stargatefs_crc32c_table, buf, SZ_4K);

		stargatefs_crc_hw = hw <= sw;
		pr_info("stargatefs: crc32c by %s (4 KiB: sse4.2 %llu ns, slice-by-8 %llu ns)\n",
			stargatefs_crc_hw ? "sse4.2" : "slice-by-8", hw, sw);
		return 0;
	}
#endif
	if (stargatefs_crc_asked == STARGATEFS_CRC_SSE42 && !hw_ok) {
		pr_err("stargatefs: crc=sse4.2, but this CPU has no working SSE4.2 crc32 instruction\n");
		return -EINVAL;
	}
	stargatefs_crc_hw = stargatefs_crc_asked == STARGATEFS_CRC_SSE42;
	pr_info("stargatefs: crc32c by %s (%s)\n", stargatefs_crc_hw ? "sse4.2" : "slice-by-8",
		stargatefs_crc_asked == STARGATEFS_CRC_AUTO ? "no SSE4.2 here" : "crc= at load");
	return 0;
}

static void stargatefs_device_release(struct kref *kref)
{
	struct stargatefs_device *dev =
		container_of(kref, struct stargatefs_device, kref);

	stargatefs_rpc_release(dev);
	if (dev->is_structure || dev->is_area) {
		memunmap(dev->kaddr);
	} else {
		stargatefs_grace_release(dev);
		put_dax(dev->dax);
		memunmap_pages(&dev->pgmap);
	}
	pci_release_region(dev->pdev, STARGATEFS_ZONE_BAR);
	pci_disable_device(dev->pdev);
	pci_dev_put(dev->pdev);
	kfree(dev);
}

void stargatefs_device_put(struct stargatefs_device *dev)
{
	kref_put(&dev->kref, stargatefs_device_release);
}

/*
 * The bound data device that a mount source names: its index in bind
 * order ("0") or its PCI address ("0000:00:04.0"). Returns it with a
 * reference taken, or NULL. A structure or area device is never a mount
 * source.
 */
struct stargatefs_device *stargatefs_device_find(const char *source)
{
	struct stargatefs_device *dev, *found = NULL;
	unsigned int index;
	bool by_index = kstrtouint(source, 10, &index) == 0;

	mutex_lock(&stargatefs_devices_lock);
	list_for_each_entry(dev, &stargatefs_devices, node) {
		if (dev->is_structure || dev->is_area)
			continue;
		if (by_index ? dev->index == index :
			       strcmp(pci_name(dev->pdev), source) == 0) {
			kref_get(&dev->kref);
			found = dev;
			break;
		}
	}
	mutex_unlock(&stargatefs_devices_lock);
	return found;
}

/*
 * The bound structure device (area false) whose superblock, or area device
 * (area true) whose header, carries uuid, with a reference taken, or NULL;
 * *any says whether any device of that kind is bound at all.
 */
static struct stargatefs_device *stargatefs_find_by_uuid(bool area, const u8 *uuid, bool *any)
{
	struct stargatefs_device *dev, *found = NULL;
	const u8 *theirs;
	u8 id[16];

	*any = false;
	mutex_lock(&stargatefs_devices_lock);
	list_for_each_entry(dev, &stargatefs_devices, node) {
		if (area ? !dev->is_area : !dev->is_structure)
			continue;
		*any = true;
		theirs = area ? ((const struct sgz_area *)dev->kaddr)->uuid :
				((const struct sgz_superblock *)dev->kaddr)->uuid;
		memcpy(id, theirs, sizeof(id));
		if (!memcmp(id, uuid, sizeof(id))) {
			kref_get(&dev->kref);
			found = dev;
			break;
		}
	}
	mutex_unlock(&stargatefs_devices_lock);
	return found;
}

/*
 * The structure partner of a zone. The superblock's uuid is fixed at
 * format and sealed by its crc, which the mount checks next, on the device
 * found here.
 */
struct stargatefs_device *stargatefs_structure_find(const u8 *uuid, bool *any)
{
	return stargatefs_find_by_uuid(false, uuid, any);
}

/*
 * The area partner of a zone (this guest's private area), or NULL: the
 * zone is then mounted without requests. The area is the host's word to
 * this guest alone; its uuid only pairs it with the zone.
 */
struct stargatefs_device *stargatefs_area_find(const u8 *uuid)
{
	bool any;

	return stargatefs_find_by_uuid(true, uuid, &any);
}

/* The lowest index no bound device holds; stargatefs_devices_lock held. */
static int stargatefs_free_index(void)
{
	struct stargatefs_device *dev;
	int index = 0;
	bool taken;

	do {
		taken = false;
		list_for_each_entry(dev, &stargatefs_devices, node) {
			if (!dev->is_structure && dev->index == index) {
				taken = true;
				index++;
				break;
			}
		}
	} while (taken);
	return index;
}

static long stargatefs_dax_direct_access(struct dax_device *dax, pgoff_t pgoff,
					 long nr_pages, enum dax_access_mode mode,
					 void **kaddr, pfn_t *pfn)
{
	struct stargatefs_device *dev = dax_get_private(dax);
	u64 pages = dev->size >> PAGE_SHIFT;
	u64 offset = (u64)pgoff << PAGE_SHIFT;

	if (pgoff >= pages)
		return -ERANGE;
	if (kaddr)
		*kaddr = dev->kaddr + offset;
	if (pfn)
		*pfn = phys_to_pfn_t(dev->phys + offset, PFN_DEV | PFN_MAP);
	return pages - pgoff;
}

static int stargatefs_dax_zero_page_range(struct dax_device *dax, pgoff_t pgoff,
					  size_t nr_pages)
{
	struct stargatefs_device *dev = dax_get_private(dax);
	u64 pages = dev->size >> PAGE_SHIFT;

	if (pgoff >= pages || nr_pages > pages - pgoff)
		return -ERANGE;
	memset(dev->kaddr + ((u64)pgoff << PAGE_SHIFT), 0, nr_pages << PAGE_SHIFT);
	return 0;
}

static const struct dax_operations stargatefs_dax_ops = {
	.direct_access = stargatefs_dax_direct_access,
	.zero_page_range = stargatefs_dax_zero_page_range,
};

/* Maps BAR2 as ZONE_DEVICE pages and puts a DAX device over them. */
static int stargatefs_map_window(struct stargatefs_device *dev)
{
	struct pci_dev *pdev = dev->pdev;
	void *kaddr;
	int err;

	dev->pgmap.type = MEMORY_DEVICE_FS_DAX;
	dev->pgmap.range.start = dev->phys;
	dev->pgmap.range.end = dev->phys + dev->size - 1;
	dev->pgmap.nr_range = 1;
	kaddr = memremap_pages(&dev->pgmap, dev_to_node(&pdev->dev));
	if (IS_ERR(kaddr)) {
		dev_err(&pdev->dev, "cannot map the zone window write-back: %ld\n",
			PTR_ERR(kaddr));
		return PTR_ERR(kaddr);
	}
	dev->kaddr = kaddr;

	dev->dax = alloc_dax(dev, &stargatefs_dax_ops);
	if (IS_ERR_OR_NULL(dev->dax)) {
		err = dev->dax ? PTR_ERR(dev->dax) : -ENOMEM;
		dev_err(&pdev->dev, "cannot create the DAX device: %d\n", err);
		goto unmap_pages;
	}
	/* Plain RAM: no machine-check-safe copies needed. */
	set_dax_nomc(dev->dax);
	return 0;

unmap_pages:
	memunmap_pages(&dev->pgmap);
	return err;
}

/*
 * True when BAR2 starts with a format 2 superblock: the device is a
 * structure device. A superblock of another major version (a format 1
 * zone, one device) makes a data device, whose mount then names both
 * versions.
 */
static bool stargatefs_is_structure(struct pci_dev *pdev, resource_size_t start)
{
	const struct sgz_superblock *sb;
	u64 magic;
	u16 major;

	sb = memremap(start, SGZ_PAGE_SIZE, MEMREMAP_WB);
	if (!sb)
		return false;
	magic = le64_to_cpu(READ_ONCE(sb->magic));
	major = le16_to_cpu(READ_ONCE(sb->version_major));
	memunmap((void *)sb);
	if (magic == SGZ_MAGIC && major != SGZ_VERSION_MAJOR)
		dev_warn(&pdev->dev, "zone format version %u.x in BAR2, this module reads %u.x: bound as a data device, its mount is refused\n",
			 major, SGZ_VERSION_MAJOR);
	return magic == SGZ_MAGIC && major == SGZ_VERSION_MAJOR;
}

/*
 * Maps a structure device's BAR2 write-back for reading. QEMU maps it
 * read-only and drops stores; the module makes none.
 */
static int stargatefs_map_structure(struct stargatefs_device *dev)
{
	dev->kaddr = memremap(dev->phys, dev->size, MEMREMAP_WB);
	if (!dev->kaddr) {
		dev_err(&dev->pdev->dev, "cannot map the structure file write-back\n");
		return -ENOMEM;
	}
	return 0;
}

/*
 * Maps a private area (BAR2 of SGZ_AREA_SIZE bytes): an area device when
 * it starts with SGZ_AREA_MAGIC of this major version, else -ENODEV.
 */
static int stargatefs_map_area(struct stargatefs_device *dev)
{
	const struct sgz_area *hdr;

	dev->kaddr = memremap(dev->phys, dev->size, MEMREMAP_WB);
	if (!dev->kaddr) {
		dev_err(&dev->pdev->dev, "cannot map the private area write-back\n");
		return -ENOMEM;
	}
	hdr = dev->kaddr;
	if (le64_to_cpu(READ_ONCE(hdr->magic)) != SGZ_AREA_MAGIC ||
	    le16_to_cpu(READ_ONCE(hdr->version_major)) != SGZ_VERSION_MAJOR) {
		dev_err(&dev->pdev->dev, "a 64 KiB BAR2 that is no Stargate private area of format %u.x (magic 0x%016llx): not bound\n",
			SGZ_VERSION_MAJOR, le64_to_cpu(READ_ONCE(hdr->magic)));
		memunmap(dev->kaddr);
		return -ENODEV;
	}
	dev->is_area = true;
	return 0;
}

static int stargatefs_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct stargatefs_device *dev;
	resource_size_t start = pci_resource_start(pdev, STARGATEFS_ZONE_BAR);
	resource_size_t len = pci_resource_len(pdev, STARGATEFS_ZONE_BAR);
	int err;

	if (!(pci_resource_flags(pdev, STARGATEFS_ZONE_BAR) & IORESOURCE_MEM) || !len) {
		dev_err(&pdev->dev, "no memory BAR2: not an ivshmem zone\n");
		return -ENODEV;
	}
	if (len != SGZ_AREA_SIZE && (!is_power_of_2(len) || len < ((resource_size_t)1 << SGZ_ZONE_MIN_SHIFT) ||
	    !IS_ALIGNED(start, SZ_2M))) {
		dev_err(&pdev->dev, "BAR2 of %llu bytes at a 2 MiB misaligned or odd size: not a Stargate zone\n",
			(u64)len);
		return -ENODEV;
	}

	dev = kzalloc(sizeof(*dev), GFP_KERNEL);
	if (!dev)
		return -ENOMEM;
	kref_init(&dev->kref);
	dev->pdev = pci_dev_get(pdev);
	dev->phys = start;
	dev->size = len;
	dev->index = -1;

	err = pci_enable_device(pdev);
	if (err)
		goto free_dev;
	err = pci_request_region(pdev, STARGATEFS_ZONE_BAR, STARGATEFS_NAME);
	if (err) {
		dev_err(&pdev->dev, "BAR2 is busy: %d\n", err);
		goto disable_device;
	}
	if (len == SGZ_AREA_SIZE) {
		err = stargatefs_map_area(dev);
		if (err)
			goto release_region;
	} else {
		dev->is_structure = stargatefs_is_structure(pdev, start);
		err = dev->is_structure ? stargatefs_map_structure(dev) : stargatefs_map_window(dev);
		if (err)
			goto release_region;
		if (!dev->is_structure)
			stargatefs_grace_probe(dev);
	}
	err = stargatefs_rpc_probe(dev);
	if (err)
		goto unmap;

	mutex_lock(&stargatefs_devices_lock);
	if (!dev->is_structure && !dev->is_area)
		dev->index = stargatefs_free_index();
	list_add_tail(&dev->node, &stargatefs_devices);
	mutex_unlock(&stargatefs_devices_lock);
	pci_set_drvdata(pdev, dev);
	if (dev->is_structure)
		dev_info(&pdev->dev, "zone structure file of %llu MiB (read-only): mounted with its data device\n",
			 dev->size >> 20);
	else if (dev->is_area)
		dev_info(&pdev->dev, "private area of peer slot %u: mounted with its zone's data device\n",
			 dev->own_rpc.slot);
	else
		dev_info(&pdev->dev, "zone data window of %llu MiB: mount -t stargatefs %d (or %s)\n",
			 dev->size >> 20, dev->index, pci_name(pdev));
	return 0;

unmap:
	if (dev->is_structure || dev->is_area) {
		memunmap(dev->kaddr);
	} else {
		put_dax(dev->dax);
		memunmap_pages(&dev->pgmap);
	}
release_region:
	pci_release_region(pdev, STARGATEFS_ZONE_BAR);
disable_device:
	pci_disable_device(pdev);
free_dev:
	pci_dev_put(pdev);
	kfree(dev);
	return err;
}

/*
 * Unbinding ends DAX access at once (reads and faults then fail), and
 * every zone read of a mount that uses the device gives EIO from then on;
 * the window stays mapped until the last mount of the device is gone.
 */
static void stargatefs_remove(struct pci_dev *pdev)
{
	struct stargatefs_device *dev = pci_get_drvdata(pdev);

	mutex_lock(&stargatefs_devices_lock);
	list_del(&dev->node);
	mutex_unlock(&stargatefs_devices_lock);
	if (dev->is_area)
		stargatefs_rpc_remove(dev);
	else if (!dev->is_structure)
		kill_dax(dev->dax);
	WRITE_ONCE(dev->removed, true);
	stargatefs_device_put(dev);
}

/*
 * Counters in the PCI device's sysfs folder: faults served with one 2 MiB
 * mapping and with 4 KiB ones, the mount index, and (an area device) what
 * its requests cost (struct stargatefs_rpc_stats).
 */
static ssize_t stargatefs_pmd_faults_show(struct device *d, struct device_attribute *attr,
					  char *buf)
{
	struct stargatefs_device *dev = pci_get_drvdata(to_pci_dev(d));

	return sysfs_emit(buf, "%ld\n", atomic_long_read(&dev->pmd_faults));
}
static DEVICE_ATTR_RO(stargatefs_pmd_faults);

static ssize_t stargatefs_pte_faults_show(struct device *d, struct device_attribute *attr,
					  char *buf)
{
	struct stargatefs_device *dev = pci_get_drvdata(to_pci_dev(d));

	return sysfs_emit(buf, "%ld\n", atomic_long_read(&dev->pte_faults));
}
static DEVICE_ATTR_RO(stargatefs_pte_faults);

static ssize_t stargatefs_dir_finds_show(struct device *d, struct device_attribute *attr,
					 char *buf)
{
	struct stargatefs_device *dev = pci_get_drvdata(to_pci_dev(d));

	return sysfs_emit(buf, "%ld\n", atomic_long_read(&dev->dir_finds));
}
static DEVICE_ATTR_RO(stargatefs_dir_finds);

static ssize_t stargatefs_index_show(struct device *d, struct device_attribute *attr,
				     char *buf)
{
	struct stargatefs_device *dev = pci_get_drvdata(to_pci_dev(d));

	return sysfs_emit(buf, "%d\n", dev->index);
}
static DEVICE_ATTR_RO(stargatefs_index);

static ssize_t stargatefs_requests_show(struct device *d, struct device_attribute *attr,
					char *buf)
{
	return stargatefs_rpc_stats_show(pci_get_drvdata(to_pci_dev(d)), buf);
}
static DEVICE_ATTR_RO(stargatefs_requests);

static struct attribute *stargatefs_attrs[] = {
	&dev_attr_stargatefs_requests.attr,
	&dev_attr_stargatefs_pmd_faults.attr,
	&dev_attr_stargatefs_pte_faults.attr,
	&dev_attr_stargatefs_dir_finds.attr,
	&dev_attr_stargatefs_index.attr,
	NULL,
};
ATTRIBUTE_GROUPS(stargatefs);

static const struct pci_device_id stargatefs_pci_ids[] = {
	{ PCI_DEVICE(STARGATEFS_IVSHMEM_VENDOR, STARGATEFS_IVSHMEM_DEVICE) },
	{ }
};
MODULE_DEVICE_TABLE(pci, stargatefs_pci_ids);

static struct pci_driver stargatefs_pci_driver = {
	.name = STARGATEFS_NAME,
	.id_table = stargatefs_pci_ids,
	.probe = stargatefs_probe,
	.remove = stargatefs_remove,
	.dev_groups = stargatefs_groups,
};

static int __init stargatefs_init(void)
{
	int err;

	err = stargatefs_crc_init();
	if (err)
		return err;
	err = stargatefs_register();
	if (err)
		return err;
	err = pci_register_driver(&stargatefs_pci_driver);
	if (err)
		goto unregister_fs;
	return 0;

unregister_fs:
	stargatefs_unregister();
	return err;
}

static void __exit stargatefs_exit(void)
{
	pci_unregister_driver(&stargatefs_pci_driver);
	stargatefs_unregister();
}

module_init(stargatefs_init);
module_exit(stargatefs_exit);
MODULE_DESCRIPTION("Stargate shared memory file system for ivshmem zones");
MODULE_LICENSE("GPL");
MODULE_VERSION(STARGATEFS_VERSION);
