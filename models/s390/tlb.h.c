/*
 * Reference model of the page-table part of arch/s390/include/asm/tlb.h at the base of the "free
 * retracted page table by RCU" series (v6.4 era, page-based API), written for review-bot.
 *
 * Each *_free_tlb() widens the gather's range, marks that tables are freed (and which level's
 * entries were cleared) and hands the table over: a 2K PTE table to page_table_free_rcu()
 * (pgalloc.c), which keeps the A/P bits of its page; a region or segment table to mmu_gather as it
 * is (tlb_remove_table(): freed whole by __tlb_remove_table() after a grace period, its pointer's
 * two low bits zero). The segment table's destructor runs here, before the table is gathered; only
 * walkers with IRQs off (GUP-fast) may still be inside a table munmap unlinked, and none of them
 * takes its lock. Folded levels own no table and return early.
 */

static inline void pte_free_tlb(struct mmu_gather *tlb, pgtable_t pte,
                                unsigned long address)
{
	__tlb_adjust_range(tlb, address, PAGE_SIZE);
	tlb->mm->context.flush_mm = 1;
	tlb->freed_tables = 1;
	tlb->cleared_pmds = 1;
	/* page_table_free_rcu takes care of the allocation bit masks */
	page_table_free_rcu(tlb, (unsigned long *) pte, address);
}

static inline void pmd_free_tlb(struct mmu_gather *tlb, pmd_t *pmd,
				unsigned long address)
{
	if (mm_pmd_folded(tlb->mm))
		return;
	pgtable_pmd_page_dtor(virt_to_page(pmd));
	__tlb_adjust_range(tlb, address, PAGE_SIZE);
	tlb->mm->context.flush_mm = 1;
	tlb->freed_tables = 1;
	tlb->cleared_puds = 1;
	tlb_remove_table(tlb, pmd);
}

static inline void p4d_free_tlb(struct mmu_gather *tlb, p4d_t *p4d,
				unsigned long address)
{
	if (mm_p4d_folded(tlb->mm))
		return;
	__tlb_adjust_range(tlb, address, PAGE_SIZE);
	tlb->mm->context.flush_mm = 1;
	tlb->freed_tables = 1;
	tlb_remove_table(tlb, p4d);
}

static inline void pud_free_tlb(struct mmu_gather *tlb, pud_t *pud,
				unsigned long address)
{
	if (mm_pud_folded(tlb->mm))
		return;
	tlb->mm->context.flush_mm = 1;
	tlb->freed_tables = 1;
	tlb->cleared_p4ds = 1;
	tlb_remove_table(tlb, pud);
}
