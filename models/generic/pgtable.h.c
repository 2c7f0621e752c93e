/*
 * Reference model of the PTE-table mapping helpers of include/linux/pgtable.h (without
 * CONFIG_HIGHPTE: a PTE table is always mapped), at the base of the "free retracted page table by
 * RCU" series, written for review-bot. pte_offset_map() maps the table the pmd points to (or
 * returns NULL when it points to none); pte_unmap() ends the walk.
 */

static inline pte_t *__pte_map(pmd_t *pmd, unsigned long address)
{
	return pte_offset_kernel(pmd, address);
}
static inline void pte_unmap(pte_t *pte)
{
	/* rcu_read_unlock() to be added later */
}

static inline pte_t *pte_offset_map(pmd_t *pmd, unsigned long addr)
{
	return __pte_offset_map(pmd, addr, NULL);
}
