/*
 * Reference model of the PTE table hooks of arch/powerpc/include/asm/pgalloc.h, written for
 * review-bot: user and kernel PTE tables are fragments (pgtable-frag.c), handed out and freed by
 * pte_fragment_alloc()/pte_fragment_free() with `kernel` telling them apart. pgtable_t is the
 * fragment's address. Allocations for a user mm are charged to its memory cgroup.
 */

static inline gfp_t pgtable_gfp_flags(struct mm_struct *mm, gfp_t gfp)
{
	if (unlikely(mm == &init_mm))
		return gfp;
	return gfp | __GFP_ACCOUNT;
}

static inline pte_t *pte_alloc_one_kernel(struct mm_struct *mm)
{
	return (pte_t *)pte_fragment_alloc(mm, 1);
}

static inline pgtable_t pte_alloc_one(struct mm_struct *mm)
{
	return (pgtable_t)pte_fragment_alloc(mm, 0);
}

static inline void pte_free_kernel(struct mm_struct *mm, pte_t *pte)
{
	pte_fragment_free((unsigned long *)pte, 1);
}

static inline void pte_free(struct mm_struct *mm, pgtable_t ptepage)
{
	pte_fragment_free((unsigned long *)ptepage, 0);
}
