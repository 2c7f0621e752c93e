/*
 * The fragment free of arch/powerpc/mm/pgtable-frag.c before pte_free_defer() (see
 * pgtable-frag.c): whoever drops a page's last fragment reference frees it at once, with the PTE
 * destructor first for a user table.
 */

void pte_fragment_free(unsigned long *table, int kernel)
{
	struct page *page = virt_to_page(table);

	if (PageReserved(page))
		return free_reserved_page(page);

	BUG_ON(atomic_read(&page->pt_frag_refcount) <= 0);
	if (atomic_dec_and_test(&page->pt_frag_refcount)) {
		if (!kernel)
			pgtable_pte_page_dtor(page);
		__free_page(page);
	}
}
