/*
 * Code around the generic page-table files that the scenarios call and that patches to those
 * files do not change (review-bot's statement of it): the mapping helpers of
 * include/linux/pgtable.h as they are today (without HIGHPTE: a PTE table is always mapped). The
 * walk opens with ___pte_offset_map(), inside rcu_read_lock(), and pte_unmap() leaves it. The
 * allocation wrappers are ../ptdesc/env.c's, the pmd helpers ../generic/env.c's, the generic
 * *_free_tlb() macros and the IPI helpers ../common/gather-env.c's.
 */

pte_t *__pte_map(pmd_t *pmd, unsigned long address)
{
	return pte_offset_kernel(pmd, address);
}

pte_t *__pte_offset_map(pmd_t *pmd, unsigned long addr, pmd_t *pmdvalp)
{
	return ___pte_offset_map(pmd, addr, pmdvalp);
}

pte_t *pte_offset_map(pmd_t *pmd, unsigned long addr)
{
	return __pte_offset_map(pmd, addr, NULL);
}

void pte_unmap(pte_t *pte)
{
	rcu_read_unlock();
}

void pte_unmap_unlock(pte_t *pte, spinlock_t *ptl)
{
	spin_unlock(ptl);
	pte_unmap(pte);
}
