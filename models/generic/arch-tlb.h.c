/*
 * Reference model of the table part of an architecture's asm/tlb.h with the page-based API, written
 * for review-bot: an architecture with MMU_GATHER_RCU_TABLE_FREE (arm64 in this state; arm, riscv
 * and x86 free their tables the same way) whose __*_free_tlb() run the level's destructor and hand
 * the table's page to tlb_remove_table(), and whose __tlb_remove_table() frees that page after
 * mmu_gather's grace period. PUD tables have no destructor of their own in this state.
 */

static inline void __pte_free_tlb(struct mmu_gather *tlb, pgtable_t pte,
				  unsigned long addr)
{
	pgtable_pte_page_dtor(pte);
	tlb_remove_table(tlb, pte);
}

static inline void __pmd_free_tlb(struct mmu_gather *tlb, pmd_t *pmdp,
				  unsigned long addr)
{
	struct page *page = virt_to_page(pmdp);

	pgtable_pmd_page_dtor(page);
	tlb_remove_table(tlb, page);
}

static inline void __pud_free_tlb(struct mmu_gather *tlb, pud_t *pudp,
				  unsigned long addr)
{
	tlb_remove_table(tlb, virt_to_page(pudp));
}

static inline void __tlb_remove_table(void *table)
{
	free_page_and_swap_cache((struct page *)table);
}
