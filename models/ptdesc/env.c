/*
 * Code around the generic page-table files that the scenarios call and that patches to those
 * files do not change (review-bot's statement of it; the generic *_free_tlb() macros and the IPI
 * helpers are in ../common/gather-env.c).
 *
 * The architecture's own table freeing (its asm/tlb.h) is arch-tlb.h.c. The *_alloc_one()
 * wrappers stand for alloc_hooks(), which only adds allocation profiling.
 */

pgtable_t pte_alloc_one(struct mm_struct *mm)
{
	return pte_alloc_one_noprof(mm);
}

pte_t *pte_alloc_one_kernel(struct mm_struct *mm)
{
	return pte_alloc_one_kernel_noprof(mm);
}

pmd_t *pmd_alloc_one(struct mm_struct *mm, unsigned long addr)
{
	return pmd_alloc_one_noprof(mm, addr);
}

pud_t *pud_alloc_one(struct mm_struct *mm, unsigned long addr)
{
	return pud_alloc_one_noprof(mm, addr);
}

p4d_t *p4d_alloc_one(struct mm_struct *mm, unsigned long addr)
{
	return p4d_alloc_one_noprof(mm, addr);
}
