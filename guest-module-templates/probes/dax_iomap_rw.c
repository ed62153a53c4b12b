// SPDX-License-Identifier: GPL-2.0
// Probe: dax_iomap_rw
// API: dax_iomap_rw(struct kiocb *, struct iov_iter *, const struct iomap_ops *)
// Header: include/linux/dax.h
// Symbol: dax_iomap_rw
#include <linux/dax.h>

static_assert(__same_type(&dax_iomap_rw,
			  ssize_t (*)(struct kiocb *, struct iov_iter *, const struct iomap_ops *)));
