/*
 * Reference model of arch/powerpc/mm/pgtable-frag.c as it is today (struct ptdesc, one page-table
 * destructor for every level), written for review-bot. The statements keep the kernel's order so
 * that patches to the file line up with them. The fragment cache's lookup is ../powerpc's
 * (pgtable-frag.c, unchanged since); this file restates the teardown of the cache, the other files
 * of this model the page's allocation (frag-alloc.c) and its free (frag-free.c).
 *
 * The fragment cache is as in ../powerpc/pgtable-frag.c: PTE_FRAG_NR tables per page, handed out
 * once from mm->context.pte_frag, counted in ptdesc->pt_frag_refcount (PTE_FRAG_NR when the rest of
 * the page went to the cache, 1 when it did not), never handed out again once freed. User and
 * kernel tables alike are built by pagetable_pte_ctor(mm, ptdesc), which gives a user mm's table a
 * split lock and init_mm's none.
 *
 * Whoever drops the last reference frees the page. pte_free_now() is the one final free: the
 * destructor (the split lock goes back at once, include/linux/mm.h), then the page. A kernel
 * table, or a user table whose page was never deferred, goes at once; a user page one of whose
 * fragments pte_free_defer() retracted (it set the folio's Active flag before dropping that
 * fragment's reference) goes through call_rcu() on its own pt_rcu_head, so walkers under
 * rcu_read_lock() and the split lock they may take stay valid until the grace period ends. The
 * Active test clears the flag: the page is queued once however many fragments were deferred.
 * Tables munmap frees come here from __tlb_remove_table() (arch/powerpc/mm/book3s64/pgtable.c),
 * after mmu_gather's own grace period, through the same pte_fragment_free().
 */

void pte_frag_destroy(void *pte_frag)
{
	int count;
	struct ptdesc *ptdesc;

	ptdesc = virt_to_ptdesc(pte_frag);
	/* the cache's position tells how many fragments were handed out */
	count = ((unsigned long)pte_frag & ~PAGE_MASK) >> PTE_FRAG_SIZE_SHIFT;
	/* drop the references of the rest: the last one frees the page */
	if (atomic_sub_and_test(PTE_FRAG_NR - count, &ptdesc->pt_frag_refcount)) {
		pagetable_dtor(ptdesc);
		pagetable_free(ptdesc);
	}
}
