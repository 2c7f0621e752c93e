/*
 * Code around the generic page-table files that the scenarios call and that patches to those
 * files do not change (review-bot's statement of it; the generic *_free_tlb() macros and the IPI
 * helpers are in ../common/gather-env.c).
 *
 * The architecture here is one with MMU_GATHER_RCU_TABLE_FREE whose free paths run the level's
 * destructor and then hand the table to mmu_gather (arm64 and riscv do so in this state), and whose
 * __tlb_remove_table() returns the page. The *_alloc_one() wrappers stand for alloc_hooks(), which
 * only adds allocation profiling.
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

void __pte_free_tlb(struct mmu_gather *tlb, pgtable_t pte, unsigned long addr)
{
	struct ptdesc *ptdesc = page_ptdesc(pte);

	pagetable_pte_dtor(ptdesc);
	tlb_remove_ptdesc(tlb, ptdesc);
}

void __pmd_free_tlb(struct mmu_gather *tlb, pmd_t *pmdp, unsigned long addr)
{
	struct ptdesc *ptdesc = virt_to_ptdesc(pmdp);

	pagetable_pmd_dtor(ptdesc);
	tlb_remove_ptdesc(tlb, ptdesc);
}

void __pud_free_tlb(struct mmu_gather *tlb, pud_t *pudp, unsigned long addr)
{
	struct ptdesc *ptdesc = virt_to_ptdesc(pudp);

	pagetable_pud_dtor(ptdesc);
	tlb_remove_ptdesc(tlb, ptdesc);
}

void __tlb_remove_table(void *table)
{
	free_page_and_swap_cache((struct page *)table);
}
