// SPDX-License-Identifier: GPL-2.0
// Probe: huge_fault_pe_size
// API: vm_operations_struct .huge_fault(struct vm_fault *, enum page_entry_size) and dax_iomap_fault(vmf, enum page_entry_size, pfn_t *, int *, const struct iomap_ops *) (6.1)
// Header: include/linux/mm.h
// Symbol: (*huge_fault)
#include <linux/mm.h>
#include <linux/dax.h>

static vm_fault_t __used probe_huge_fault(struct vm_fault *vmf, enum page_entry_size pe_size)
{
	pfn_t pfn;

	return dax_iomap_fault(vmf, PE_SIZE_PMD, &pfn, NULL, NULL);
}

static const struct vm_operations_struct probe_vm_ops __used = {
	.huge_fault = probe_huge_fault,
};

static_assert(__same_type(&dax_iomap_fault,
			  vm_fault_t (*)(struct vm_fault *, enum page_entry_size, pfn_t *, int *,
					 const struct iomap_ops *)));
