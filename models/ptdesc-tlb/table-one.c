/*
 * mm/mmu_gather.c's single-table fallback as it is today, written for review-bot: the rest of the
 * file is ../ptdesc/mmu_gather.c (batch, grace period, final frees through __tlb_remove_table()).
 *
 * When no batch page can be had, tlb_remove_table_one() hands the one table to
 * __tlb_remove_table_one(). With PT_RECLAIM (every architecture that frees tables by RCU and takes
 * the generic __tlb_remove_table()) that queues the table's own rcu_head (pt_rcu_head) and the
 * final free runs after a grace period too. Without it, tlb_remove_table_sync_one() first sends an
 * IPI to every CPU and waits, which only guarantees that no CPU is still inside an IRQ-disabled
 * walk begun before the pmd was cleared, and the table is freed on the spot.
 */

#ifdef CONFIG_PT_RECLAIM
/* the single table's final free, from its own rcu_head after a grace period */
static inline void __tlb_remove_table_one_rcu(struct rcu_head *head)
{
	struct ptdesc *ptdesc;

	ptdesc = container_of(head, struct ptdesc, pt_rcu_head);
	__tlb_remove_table(ptdesc);
}

static inline void __tlb_remove_table_one(void *table)
{
	struct ptdesc *ptdesc;

	ptdesc = table;
	call_rcu(&ptdesc->pt_rcu_head, __tlb_remove_table_one_rcu);
}
#else
static inline void __tlb_remove_table_one(void *table)
{
	tlb_remove_table_sync_one();
	__tlb_remove_table(table);
}
#endif
