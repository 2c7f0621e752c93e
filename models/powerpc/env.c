/* powerpc pte_free(): a user page table goes back through pte_fragment_free(). */

void pte_free(struct mm_struct *mm, pgtable_t ptepage)
{
	pte_fragment_free((unsigned long *)ptepage, 0);
}

/* the mm's cache of fragments not yet handed out (mm->context.pte_frag) */
void *pte_frag_get(mm_context_t *ctx)
{
	return ctx->pte_frag;
}

void pte_frag_set(mm_context_t *ctx, void *p)
{
	ctx->pte_frag = p;
}
