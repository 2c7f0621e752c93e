/*
 * mm/mmu_gather.c's single-table fallback in the page-based era (v6.4), written for review-bot:
 * the rest of the file is ../ptdesc/mmu_gather.c. When no batch page can be had, the table is
 * freed on the spot by tlb_remove_table_one(), right after tlb_remove_table_sync_one() has sent an
 * IPI to every CPU and waited for it (no grace period: only IRQ-disabled walkers that began before
 * the pmd was cleared are known to be out). khugepaged calls the same IPI after clearing a pmd.
 */

static void tlb_remove_table_one(void *table)
{
	tlb_remove_table_sync_one();
	__tlb_remove_table(table);
}
