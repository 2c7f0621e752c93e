/*
 * A known-bad pair for this model: the destructor back in the architecture's free path, before
 * the table is handed to mmu_gather, with __tlb_remove_table() freeing only the page. The split
 * lock is then returned at once while walkers that found the table may still take it, before the
 * gather's grace period. The model's scenarios must find this (the test suite checks it).
 */

void __pte_free_tlb(struct mmu_gather *tlb, pgtable_t pte, unsigned long addr)
{
	struct ptdesc *ptdesc = page_ptdesc(pte);

	pagetable_dtor(ptdesc);
	tlb_remove_ptdesc(tlb, ptdesc);
}

void __tlb_remove_table(void *table)
{
	pagetable_free((struct ptdesc *)table);
}

void __pmd_free_tlb(struct mmu_gather *tlb, pmd_t *pmdp, unsigned long addr)
{
	struct ptdesc *ptdesc = virt_to_ptdesc(pmdp);

	pagetable_dtor(ptdesc);
	tlb_remove_ptdesc(tlb, ptdesc);
}

void __pud_free_tlb(struct mmu_gather *tlb, pud_t *pudp, unsigned long addr)
{
	struct ptdesc *ptdesc = virt_to_ptdesc(pudp);

	pagetable_dtor(ptdesc);
	tlb_remove_ptdesc(tlb, ptdesc);
}
