/*
 * Code around the generic page-table files that the scenarios call and that patches to those
 * files do not change (review-bot's statement of it), for the page-based API; the generic
 * *_free_tlb() macros and the IPI helpers are in ../common/gather-env.c.
 *
 * The architecture's own table freeing (its asm/tlb.h) is arch-tlb.h.c. A pmd entry holds the
 * address of the PTE table it points to; pmd_populate() stores it, pte_offset_kernel() indexes
 * into it.
 */

void pmd_populate(struct mm_struct *mm, pmd_t *pmd, pgtable_t pte)
{
	*pmd = (pmd_t)page_address(pte);
}

pmd_t pmdp_get_lockless(pmd_t *pmdp)
{
	return *pmdp;
}

int pmd_none(pmd_t pmd)
{
	return pmd_val(pmd) == 0;
}

pte_t *pte_offset_kernel(pmd_t *pmd, unsigned long address)
{
	return (pte_t *)pmd_val(*pmd) + ((address >> PAGE_SHIFT) & (PTRS_PER_PTE - 1));
}

int pmd_same(pmd_t a, pmd_t b)
{
	return pmd_val(a) == pmd_val(b);
}
