/*
 * A known-bad pte_free_defer() for this model: it frees the table at once, as if no lockless
 * reader could still be walking it. The model's scenarios must find this (the test suite checks
 * it); a model whose scenarios pass this code would pass any deferral.
 */

void pte_free_defer(struct mm_struct *mm, pgtable_t pgtable)
{
	pte_fragment_free((unsigned long *)pgtable, 0);
}
