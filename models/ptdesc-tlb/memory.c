/*
 * Reference model of the split page-table lock allocator in mm/memory.c (ALLOC_SPLIT_PTLOCKS) as
 * it is today, written for review-bot: the lock is a bare spinlock_t in a slab object of its own,
 * and ptlock_free() returns it at once.
 *
 * Returning it at once is safe only because the destructor that calls ptlock_free() runs where
 * the table itself is freed: in __tlb_remove_table(), after mmu_gather's grace period, or in an
 * immediate free of a table no walker can reach. (For a while the lock carried an rcu_head and
 * was returned by call_rcu(); that was dropped when the destructor moved into
 * __tlb_remove_table().) A table built without a lock (init_mm's) has ptl == NULL.
 */

void __init ptlock_cache_init(void)
{
	page_ptl_cachep = kmem_cache_create("page->ptl", sizeof(spinlock_t), 0,
			SLAB_PANIC, NULL);
}

bool ptlock_alloc(struct ptdesc *ptdesc)
{
	spinlock_t *ptl;

	ptl = kmem_cache_alloc(page_ptl_cachep, GFP_KERNEL);
	if (!ptl)
		return false;
	ptdesc->ptl = ptl;
	return true;
}

void ptlock_free(struct ptdesc *ptdesc)
{
	if (ptdesc->ptl)
		kmem_cache_free(page_ptl_cachep, ptdesc->ptl);
}
