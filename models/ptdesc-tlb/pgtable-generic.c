/*
 * Reference model of the parts of mm/pgtable-generic.c as they are today that map PTE tables for
 * lockless walkers and defer the free of a retracted one, written for review-bot.
 *
 * pte_free_defer() (one PTE table per page): the table's own rcu_head, pt_rcu_head of its ptdesc
 * (the words of page->rcu_head, which no list of the generic code uses), is queued, and
 * pte_free_now() frees the table after the grace period with pte_free(): destructor (split lock)
 * and page together. A page holds one table, so the head is never queued twice.
 *
 * __pte_offset_map() enters rcu_read_lock() before it reads the pmd, and the walk stays inside it
 * until pte_unmap(): a table retracted meanwhile (pte_free_defer(), or a reclaim of an empty table
 * through mmu_gather) and its lock stay valid until the walker is out. It refuses anything that is
 * not a PTE table, leaving the read-side section again. __pte_offset_map_lock() takes the table's
 * split lock and re-checks that the pmd still points at the same table, retrying when it does not.
 */

#ifdef CONFIG_TRANSPARENT_HUGEPAGE
static void pte_free_now(struct rcu_head *head)
{
	struct ptdesc *ptdesc = container_of(head, struct ptdesc, pt_rcu_head);

	pte_free(NULL /* the mm is not used */, ptdesc_page(ptdesc));
}

void pte_free_defer(struct mm_struct *mm, pgtable_t pgtable)
{
	struct ptdesc *ptdesc = page_ptdesc(pgtable);

	call_rcu(&ptdesc->pt_rcu_head, pte_free_now);
}
#endif /* CONFIG_TRANSPARENT_HUGEPAGE */

pte_t *___pte_offset_map(pmd_t *pmd, unsigned long addr, pmd_t *pmdvalp)
{
	pmd_t pmdval;

	rcu_read_lock();
	pmdval = pmdp_get_lockless(pmd);
	if (pmdvalp)
		*pmdvalp = pmdval;
	if (unlikely(pmd_none(pmdval) || is_pmd_migration_entry(pmdval)))
		goto nomap;
	if (unlikely(pmd_trans_huge(pmdval)))
		goto nomap;
	if (unlikely(pmd_bad(pmdval))) {
		pmd_clear_bad(pmd);
		goto nomap;
	}
	return __pte_map(&pmdval, addr);
nomap:
	rcu_read_unlock();
	return NULL;
}

pte_t *pte_offset_map_ro_nolock(struct mm_struct *mm, pmd_t *pmd,
				unsigned long addr, spinlock_t **ptlp)
{
	pmd_t pmdval;
	pte_t *pte;

	pte = __pte_offset_map(pmd, addr, &pmdval);
	if (likely(pte))
		*ptlp = pte_lockptr(mm, &pmdval);
	return pte;
}

pte_t *__pte_offset_map_lock(struct mm_struct *mm, pmd_t *pmd,
			     unsigned long addr, spinlock_t **ptlp)
{
	spinlock_t *ptl;
	pmd_t pmdval;
	pte_t *pte;
again:
	pte = __pte_offset_map(pmd, addr, &pmdval);
	if (unlikely(!pte))
		return pte;
	ptl = pte_lockptr(mm, &pmdval);
	spin_lock(ptl);
	if (likely(pmd_same(pmdval, pmdp_get_lockless(pmd)))) {
		*ptlp = ptl;
		return pte;
	}
	pte_unmap_unlock(pte, ptl);
	goto again;
}
