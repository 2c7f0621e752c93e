/*
 * Reference model of the split page-table lock allocator in mm/memory.c (ALLOC_SPLIT_PTLOCKS)
 * with the page-based API, written for review-bot: one slab object per table, page->ptl points
 * to it, and ptlock_free() returns it at once.
 */

bool ptlock_alloc(struct page *page)
{
	spinlock_t *ptl;

	ptl = kmem_cache_alloc(page_ptl_cachep, GFP_KERNEL);
	if (!ptl)
		return false;
	page->ptl = ptl;
	return true;
}

void ptlock_free(struct page *page)
{
	kmem_cache_free(page_ptl_cachep, page->ptl);
}
