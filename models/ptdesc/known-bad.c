/*
 * A known-bad ptlock_free() for this model: it returns the split page-table lock to its cache at
 * once, although the architectures' free paths run the destructor before mmu_gather's grace
 * period. The model's scenarios must find this (the test suite checks it).
 */

void ptlock_free(struct ptdesc *ptdesc)
{
	kmem_cache_free(page_ptl_cachep, ptdesc->ptl);
}
