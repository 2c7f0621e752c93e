/*
 * A known-bad pte_free_defer() for this model: it frees the table at once, as if no lockless
 * walker could still be inside it. The model's scenarios must find this.
 */

void pte_free_defer(struct mm_struct *mm, pgtable_t pgtable)
{
	page_table_free(mm, (unsigned long *)pgtable);
}
