/* The fragment free of today's arch/powerpc/mm/pgtable-frag.c (see frag-destroy.c). */

/* the final free of a fragment page, at once or as the callback of its pt_rcu_head */
static void pte_free_now(struct rcu_head *head)
{
	struct ptdesc *ptdesc;

	ptdesc = container_of(head, struct ptdesc, pt_rcu_head);
	pagetable_dtor(ptdesc);
	pagetable_free(ptdesc);
}

void pte_fragment_free(unsigned long *table, int kernel)
{
	struct ptdesc *ptdesc = virt_to_ptdesc(table);

	/* a boot-time table is not the page allocator's */
	if (pagetable_is_reserved(ptdesc))
		return free_reserved_ptdesc(ptdesc);

	BUG_ON(atomic_read(&ptdesc->pt_frag_refcount) <= 0);
	if (atomic_dec_and_test(&ptdesc->pt_frag_refcount)) {
		if (kernel || !folio_test_clear_active(ptdesc_folio(ptdesc)))
			pte_free_now(&ptdesc->pt_rcu_head);
		else
			call_rcu(&ptdesc->pt_rcu_head, pte_free_now);
	}
}

#ifdef CONFIG_TRANSPARENT_HUGEPAGE
/* khugepaged's retract: mark the page deferred first, then drop the fragment's reference */
void pte_free_defer(struct mm_struct *mm, pgtable_t pgtable)
{
	struct folio *folio;

	folio = virt_to_folio(pgtable);
	folio_set_active(folio);
	pte_fragment_free((unsigned long *)pgtable, 0);
}
#endif /* CONFIG_TRANSPARENT_HUGEPAGE */
