/*
 * Reference model of mm/mmu_gather.c's table freeing (MMU_GATHER_TABLE_FREE with
 * MMU_GATHER_RCU_TABLE_FREE), written for review-bot.
 *
 * tlb_remove_table() puts a table into tlb->batch, a page allocated on demand with GFP_NOWAIT.
 * When the gather is flushed, the batch is passed to call_rcu() and every table in it goes to the
 * architecture's __tlb_remove_table() after a grace period: lockless walkers (GUP-fast with IRQs
 * off, pte_offset_map() under rcu_read_lock()) are out by then.
 * When no batch page can be had, the table is freed on the spot by tlb_remove_table_one(), after
 * tlb_remove_table_sync_one() has sent an IPI to every CPU and waited for it. That wait is not a
 * grace period: it only guarantees that no CPU is still inside an IRQ-disabled walk it began
 * before the pmd was cleared. An architecture may provide its own __tlb_remove_table_one().
 * Without MMU_GATHER_TABLE_FREE none of this exists: tables are pages of the page batch.
 */

#ifdef CONFIG_MMU_GATHER_TABLE_FREE

static void __tlb_remove_table_free(struct mmu_table_batch *batch)
{
	int i;

	for (i = 0; i < batch->nr; i++)
		__tlb_remove_table(batch->tables[i]);

	free_page((unsigned long)batch);
}

static void tlb_remove_table_smp_sync(void *arg)
{
	/* nothing to do: taking the interrupt is the point */
}

void tlb_remove_table_sync_one(void)
{
	smp_call_function(tlb_remove_table_smp_sync, NULL, 1);
}

static void tlb_remove_table_rcu(struct rcu_head *head)
{
	__tlb_remove_table_free(container_of(head, struct mmu_table_batch, rcu));
}

static void tlb_remove_table_free(struct mmu_table_batch *batch)
{
	call_rcu(&batch->rcu, tlb_remove_table_rcu);
}

/* hardware walkers may cache table entries: invalidate before the tables go */
static inline void tlb_table_invalidate(struct mmu_gather *tlb)
{
	if (tlb_needs_table_invalidate()) {
		tlb_flush_mmu_tlbonly(tlb);
	}
}

#ifndef __tlb_remove_table_one
static inline void __tlb_remove_table_one(void *table)
{
	tlb_remove_table_sync_one();
	__tlb_remove_table(table);
}
#endif

static void tlb_remove_table_one(void *table)
{
	__tlb_remove_table_one(table);
}

static void tlb_table_flush(struct mmu_gather *tlb)
{
	struct mmu_table_batch **batch = &tlb->batch;

	if (*batch) {
		tlb_table_invalidate(tlb);
		tlb_remove_table_free(*batch);
		*batch = NULL;
	}
}

void tlb_remove_table(struct mmu_gather *tlb, void *table)
{
	struct mmu_table_batch **batch = &tlb->batch;

	if (*batch == NULL) {
		*batch = (struct mmu_table_batch *)__get_free_page(GFP_NOWAIT | __GFP_NOWARN);
		if (*batch == NULL) {
			tlb_table_invalidate(tlb);
			tlb_remove_table_one(table);
			return;
		}
		(*batch)->nr = 0;
	}

	(*batch)->tables[(*batch)->nr++] = table;
	if ((*batch)->nr == MAX_TABLE_BATCH)
		tlb_table_flush(tlb);
}

#else /* !CONFIG_MMU_GATHER_TABLE_FREE */

/* tables went into the page batch (asm-generic/tlb.h): the gather has no batch of its own */
static inline void tlb_table_flush(struct mmu_gather *tlb)
{
}

#endif /* CONFIG_MMU_GATHER_TABLE_FREE */

static void tlb_flush_mmu_free(struct mmu_gather *tlb)
{
	tlb_table_flush(tlb);
	tlb_batch_pages_flush(tlb);
}

void tlb_flush_mmu(struct mmu_gather *tlb)
{
	tlb_flush_mmu_tlbonly(tlb);
	tlb_flush_mmu_free(tlb);
}
