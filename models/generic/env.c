/*
 * Code around the generic page-table files that the scenarios call and that patches to those
 * files do not change (review-bot's statement of it), for the page-based API; the generic
 * *_free_tlb() macros and the IPI helpers are in ../common/gather-env.c.
 *
 * The architecture is one with MMU_GATHER_RCU_TABLE_FREE whose __*_free_tlb() run the level's
 * destructor and hand the table's page to tlb_remove_table(), and whose __tlb_remove_table()
 * frees that page (arm64 in this state). A pmd entry holds the address of the PTE table it points
 * to; pmd_populate() stores it, pte_offset_kernel() indexes into it.
 */

void __pte_free_tlb(struct mmu_gather *tlb, pgtable_t pte, unsigned long addr)
{
	pgtable_pte_page_dtor(pte);
	tlb_remove_table(tlb, pte);
}

void __pmd_free_tlb(struct mmu_gather *tlb, pmd_t *pmdp, unsigned long addr)
{
	struct page *page = virt_to_page(pmdp);

	pgtable_pmd_page_dtor(page);
	tlb_remove_table(tlb, page);
}

void __pud_free_tlb(struct mmu_gather *tlb, pud_t *pudp, unsigned long addr)
{
	tlb_remove_table(tlb, virt_to_page(pudp));
}

void __tlb_remove_table(void *table)
{
	free_page_and_swap_cache((struct page *)table);
}

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
