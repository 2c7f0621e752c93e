/*
 * Code around arch/sparc/mm/init_64.c that the scenarios call (review-bot's statement of it):
 * sparc64's __tlb_remove_table() hands a whole-page table to pgtable_free(); the batch itself is
 * mmu_gather's (here the tlb_remove_table() primitive: freed after a grace period).
 */

void __tlb_remove_table(void *table)
{
	pgtable_free(table, 1);
}

void pgtable_free_tlb(struct mmu_gather *tlb, void *table, bool is_page)
{
	tlb_remove_table(tlb, table);
}
