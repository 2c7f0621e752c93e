/*
 * Code around the s390 page-table files that the scenarios call (review-bot's statement of it):
 * the PTE-table macros of asm/pgalloc.h, which hand PTE tables out and back through
 * page_table_alloc()/page_table_free() for user and kernel tables alike.
 */

pgtable_t pte_alloc_one(struct mm_struct *mm)
{
	return (pte_t *)page_table_alloc(mm);
}

pte_t *pte_alloc_one_kernel(struct mm_struct *mm)
{
	return (pte_t *)page_table_alloc(mm);
}

void pte_free(struct mm_struct *mm, pgtable_t pte)
{
	page_table_free(mm, (unsigned long *) pte);
}

void pte_free_kernel(struct mm_struct *mm, pte_t *pte)
{
	page_table_free(mm, (unsigned long *) pte);
}
