/* powerpc pte_free(): a user page table goes back through pte_fragment_free(). */

void pte_free(struct mm_struct *mm, pgtable_t ptepage)
{
	pte_fragment_free((unsigned long *)ptepage, 0);
}
