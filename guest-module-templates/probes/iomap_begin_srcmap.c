// SPDX-License-Identifier: GPL-2.0
// Probe: iomap_begin_srcmap
// API: struct iomap_ops .iomap_begin(struct inode *, loff_t, loff_t, unsigned int, struct iomap *, struct iomap *srcmap) and struct iomap .dax_dev
// Header: include/linux/iomap.h
// Symbol: (*iomap_begin)
#include <linux/iomap.h>

static int __used probe_iomap_begin(struct inode *inode, loff_t pos, loff_t length,
				    unsigned int flags, struct iomap *iomap, struct iomap *srcmap)
{
	iomap->dax_dev = NULL;
	return 0;
}

static const struct iomap_ops probe_iomap_ops __used = {
	.iomap_begin = probe_iomap_begin,
};
