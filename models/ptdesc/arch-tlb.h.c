/*
 * Reference model of the table part of an architecture's asm/tlb.h with the struct ptdesc API,
 * before the destructor moved into __tlb_remove_table(), written for review-bot: an architecture
 * with MMU_GATHER_RCU_TABLE_FREE (arm64 and riscv in this state, x86 and arm alike) whose
 * __*_free_tlb() run the level's destructor and then hand the table to mmu_gather, and whose
 * __tlb_remove_table() returns the page after the grace period. The destructor, and with it the
 * split lock's release, thus comes before the grace period: mm/memory.c defers the lock's free.
 */

static inline void __pte_free_tlb(struct mmu_gather *tlb, pgtable_t pte,
				  unsigned long addr)
{
	struct ptdesc *ptdesc = page_ptdesc(pte);

	pagetable_pte_dtor(ptdesc);
	tlb_remove_ptdesc(tlb, ptdesc);
}

static inline void __pmd_free_tlb(struct mmu_gather *tlb, pmd_t *pmdp,
				  unsigned long addr)
{
	struct ptdesc *ptdesc = virt_to_ptdesc(pmdp);

	pagetable_pmd_dtor(ptdesc);
	tlb_remove_ptdesc(tlb, ptdesc);
}

static inline void __pud_free_tlb(struct mmu_gather *tlb, pud_t *pudp,
				  unsigned long addr)
{
	struct ptdesc *ptdesc = virt_to_ptdesc(pudp);

	pagetable_pud_dtor(ptdesc);
	tlb_remove_ptdesc(tlb, ptdesc);
}

static inline void __tlb_remove_table(void *table)
{
	free_page_and_swap_cache((struct page *)table);
}
