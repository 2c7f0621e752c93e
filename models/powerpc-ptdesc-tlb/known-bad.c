/*
 * A known-bad pte_free_defer() for this model: it drops the fragment's reference before it marks
 * the page deferred. A sibling freed in between drops the last reference of a page that is not
 * yet Active and frees it at once, destructor and all, while walkers may still be inside the
 * retracted table; the deferral then marks a freed page. The model's scenarios must catch this
 * (the test suite checks it).
 */

void pte_free_defer(struct mm_struct *mm, pgtable_t pgtable)
{
	struct folio *folio;

	folio = virt_to_folio(pgtable);
	pte_fragment_free((unsigned long *)pgtable, 0);
	folio_set_active(folio);
}
