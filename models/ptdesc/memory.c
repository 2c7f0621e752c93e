/*
 * Reference model of the split page-table lock allocator in mm/memory.c (ALLOC_SPLIT_PTLOCKS),
 * written for review-bot, in the state where the lock is returned after a grace period.
 *
 * Each PTE (and THP PMD) table owns one slab object from page_ptl_cachep, pointed to by
 * ptdesc->ptl. Because the architectures' free paths run the destructor before mmu_gather's grace
 * period (or without one), ptlock_free() cannot free the object at once: a walker that found the
 * table under rcu_read_lock() may still spin_lock() it. It queues the object's own rcu_head
 * instead and the slab free happens in the callback.
 */

void __init ptlock_cache_init(void)
{
	page_ptl_cachep = kmem_cache_create("page->ptl", sizeof(struct pt_lock), 0,
			SLAB_PANIC, NULL);
}

bool ptlock_alloc(struct ptdesc *ptdesc)
{
	struct pt_lock *pt_lock;

	pt_lock = kmem_cache_alloc(page_ptl_cachep, GFP_KERNEL);
	if (!pt_lock)
		return false;
	ptdesc->ptl = pt_lock;
	return true;
}

static void ptlock_free_rcu(struct rcu_head *head)
{
	struct pt_lock *pt_lock;

	pt_lock = container_of(head, struct pt_lock, rcu);
	kmem_cache_free(page_ptl_cachep, pt_lock);
}

void ptlock_free(struct ptdesc *ptdesc)
{
	struct pt_lock *pt_lock = ptdesc->ptl;

	call_rcu(&pt_lock->rcu, ptlock_free_rcu);
}
