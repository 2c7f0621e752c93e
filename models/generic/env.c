/*
 * The generic one-table-per-page case (include/asm-generic/pgalloc.h), review-bot's statement
 * of it: pgtable_t is the struct page of the table, and pte_free() ignores the mm.
 */

pgtable_t pte_alloc_one(struct mm_struct *mm)
{
	struct page *pte;

	pte = alloc_page(GFP_KERNEL);
	if (!pte)
		return NULL;
	if (!pgtable_pte_page_ctor(pte)) {
		__free_page(pte);
		return NULL;
	}
	return pte;
}

void pte_free(struct mm_struct *mm, struct page *pte_page)
{
	pgtable_pte_page_dtor(pte_page);
	__free_page(pte_page);
}
