/*
 * The fragment free of arch/powerpc/mm/pgtable-frag.c once user page tables can be freed after a
 * grace period (v6.5 era, page-based API), written for review-bot; the fragment cache is
 * ../powerpc/pgtable-frag.c. The statements keep the kernel's order so that patches line up.
 *
 * pte_free_defer() marks the page Active and drops the fragment's reference like any free. Whoever
 * drops the last reference frees the page: a kernel table at once; a user table whose page is
 * Active (some fragment of it was deferred) through call_rcu() on the page's rcu_head, which
 * overlays the page's list words; any other user table at once. Both user paths run the PTE
 * destructor right before the page goes back. The Active test clears the flag, so the page is
 * queued once however many of its fragments were deferred.
 */

static void pte_free_now(struct rcu_head *head)
{
	struct page *page;

	page = container_of(head, struct page, rcu_head);
	pgtable_pte_page_dtor(page);
	__free_page(page);
}

void pte_fragment_free(unsigned long *table, int kernel)
{
	struct page *page = virt_to_page(table);

	if (PageReserved(page))
		return free_reserved_page(page);

	BUG_ON(atomic_read(&page->pt_frag_refcount) <= 0);
	if (atomic_dec_and_test(&page->pt_frag_refcount)) {
		if (kernel)
			__free_page(page);
		else if (TestClearPageActive(page))
			call_rcu(&page->rcu_head, pte_free_now);
		else
			pte_free_now(&page->rcu_head);
	}
}

void pte_free_defer(struct mm_struct *mm, pgtable_t pgtable)
{
	struct page *page;

	page = virt_to_page(pgtable);
	SetPageActive(page);
	pte_fragment_free((unsigned long *)pgtable, 0);
}
