// SPDX-License-Identifier: GPL-2.0
// Probe: vm_flags_set
// API: vm_flags_set(struct vm_area_struct *, vm_flags_t), vma->vm_flags read-only (6.3+)
// Header: include/linux/mm.h
// Symbol: vm_flags_set
#include <linux/mm.h>

static void __used probe_mmap(struct vm_area_struct *vma)
{
	vm_flags_set(vma, VM_MIXEDMAP | VM_HUGEPAGE);
}
