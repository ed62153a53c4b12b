// SPDX-License-Identifier: GPL-2.0
// Probe: huge_fault_order
// API: vm_operations_struct .huge_fault(struct vm_fault *, unsigned int order) and dax_iomap_fault(vmf, unsigned int order, pfn_t *, int *, const struct iomap_ops *) called with PMD_ORDER (6.6+)
// Header: include/linux/mm.h
// Symbol: (*huge_fault)
#include <linux/mm.h>
#include <linux/dax.h>

// An enum is compatible with unsigned int, so the signatures alone would pass on 6.1 too; the
// order form is the one whose callers pass PMD_ORDER, which came with it.
static vm_fault_t __used probe_huge_fault(struct vm_fault *vmf, unsigned int order)
{
	pfn_t pfn;

	return dax_iomap_fault(vmf, PMD_ORDER, &pfn, NULL, NULL);
}

static const struct vm_operations_struct probe_vm_ops __used = {
	.huge_fault = probe_huge_fault,
};

static_assert(__same_type(&dax_iomap_fault,
			  vm_fault_t (*)(struct vm_fault *, unsigned int, pfn_t *, int *,
					 const struct iomap_ops *)));
