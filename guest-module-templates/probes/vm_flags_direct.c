// SPDX-License-Identifier: GPL-2.0
// Probe: vm_flags_direct
// API: vma->vm_flags assignable (before 6.3)
// Header: include/linux/mm_types.h
// Symbol: vm_flags;
#include <linux/mm.h>

static void __used probe_mmap(struct vm_area_struct *vma)
{
	vma->vm_flags |= VM_MIXEDMAP | VM_HUGEPAGE;
}
