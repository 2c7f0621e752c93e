/*
 * sparc64 page tables (arch/sparc/mm/init_64.c), review-bot's statement of them: one PTE table
 * per page (sparc64 does not share a page between tables), pgtable_t is the table's address.
 */

pgtable_t pte_alloc_one(struct mm_struct *mm)
{
	struct page *page = alloc_page(GFP_KERNEL);

	if (!page)
		return NULL;
	if (!pgtable_pte_page_ctor(page)) {
		__free_page(page);
		return NULL;
	}
	return (pte_t *) page_address(page);
}

static void __pte_free(pgtable_t pte)
{
	struct page *page = virt_to_page(pte);

	pgtable_pte_page_dtor(page);
	__free_page(page);
}

void pte_free(struct mm_struct *mm, pgtable_t pte)
{
	__pte_free(pte);
}
