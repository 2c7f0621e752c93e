/*
 * Reference model of arch/powerpc/mm/pgtable-frag.c at the base of the "free retracted page
 * table by RCU" series (v6.4 era, page-based API), written for review-bot. The statements keep
 * the kernel's order so that patches to the file line up with them.
 *
 * This file states the fragment cache; how the last reference frees the page is in
 * fragment-free.c (before pte_free_defer()) or ../powerpc-deferred/pgtable-frag.c (after it).
 *
 * A page holds PTE_FRAG_NR page-table fragments. The mm hands them out one after another from
 * mm->context.pte_frag (pte_frag_get()/pte_frag_set()); a new page starts with
 * pt_frag_refcount = PTE_FRAG_NR when the rest of it goes to that cache (1 when it does not), and
 * each fragment free drops one reference. A freed fragment is never handed out again: the page is
 * freed, with the page-table destructor for user tables, by whoever drops the count to zero.
 * At mm teardown pte_frag_destroy() drops the references of the fragments never handed out.
 * pt_frag_refcount shares its word of struct page with pt_mm; rcu_head overlays words 1-2.
 */

void pte_frag_destroy(void *pte_frag)
{
	int count;
	struct page *page;

	page = virt_to_page(pte_frag);
	/* the cache's position tells how many fragments were handed out */
	count = ((unsigned long)pte_frag & ~PAGE_MASK) >> PTE_FRAG_SIZE_SHIFT;
	/* drop the references of the rest */
	if (atomic_sub_and_test(PTE_FRAG_NR - count, &page->pt_frag_refcount)) {
		pgtable_pte_page_dtor(page);
		__free_page(page);
	}
}

static pte_t *get_pte_from_cache(struct mm_struct *mm)
{
	void *pte_frag, *ret;

	if (PTE_FRAG_NR == 1)
		return NULL;

	spin_lock(&mm->page_table_lock);
	ret = pte_frag_get(&mm->context);
	if (ret) {
		pte_frag = ret + PTE_FRAG_SIZE;
		/* the last fragment of the page: nothing left to hand out */
		if (((unsigned long)pte_frag & ~PAGE_MASK) == 0)
			pte_frag = NULL;
		pte_frag_set(&mm->context, pte_frag);
	}
	spin_unlock(&mm->page_table_lock);
	return (pte_t *)ret;
}

static pte_t *__alloc_for_ptecache(struct mm_struct *mm, int kernel)
{
	void *ret = NULL;
	struct page *page;

	if (!kernel) {
		page = alloc_page(PGALLOC_GFP | __GFP_ACCOUNT);
		if (!page)
			return NULL;
		if (!pgtable_pte_page_ctor(page)) {
			__free_page(page);
			return NULL;
		}
	} else {
		page = alloc_page(PGALLOC_GFP);
		if (!page)
			return NULL;
	}

	atomic_set(&page->pt_frag_refcount, 1);

	ret = page_address(page);
	/* one fragment per page: the page is the table */
	if (PTE_FRAG_NR == 1)
		return ret;
	spin_lock(&mm->page_table_lock);
	/* the rest of the page goes to the mm's cache, unless another page got there first */
	if (likely(!pte_frag_get(&mm->context))) {
		atomic_set(&page->pt_frag_refcount, PTE_FRAG_NR);
		pte_frag_set(&mm->context, ret + PTE_FRAG_SIZE);
	}
	spin_unlock(&mm->page_table_lock);

	return (pte_t *)ret;
}

pte_t *pte_fragment_alloc(struct mm_struct *mm, int kernel)
{
	pte_t *pte;

	pte = get_pte_from_cache(mm);
	if (pte)
		return pte;

	return __alloc_for_ptecache(mm, kernel);
}
