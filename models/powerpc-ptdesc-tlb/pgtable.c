/*
 * Reference model of the table part of arch/powerpc/mm/book3s64/pgtable.c as it is today, written
 * for review-bot: the PMD fragment cache and the final free of tables mmu_gather batched.
 *
 * PMD tables are fragments too: PMD_FRAG_NR per page, handed out from mm->context.pmd_frag like
 * the PTE fragments (pgtable-frag.c), counted in pt_frag_refcount. The page gets the PMD
 * constructor (a split lock for a user mm, and pmd_huge_pte cleared) when it is allocated, and
 * whoever drops the last fragment reference runs the one destructor and frees the page.
 *
 * powerpc brings its own __tlb_remove_table() (__HAVE_ARCH_TLB_REMOVE_TABLE): the *_free_tlb()
 * hooks (asm/book3s/64/pgalloc.h) hand mmu_gather the table's address with the table's level in
 * its low bits (pgtable_free_tlb(); every table is aligned far beyond MAX_PGTABLE_INDEX_SIZE).
 * After the gather's grace period (or at once after the IPI when no batch page could be had),
 * __tlb_remove_table() splits address and level again and pgtable_free() frees the table the way
 * its level is freed: a PTE fragment through pte_fragment_free() (which still defers a page a
 * fragment of which pte_free_defer() retracted), a PMD fragment through pmd_fragment_free(), a PUD
 * table back to its slab cache. No destructor runs before the grace period. The PGD is never
 * freed this way; the 4K-page hugepd directories (HTLB_16M/16G) are left out.
 */

static pmd_t *get_pmd_from_cache(struct mm_struct *mm)
{
	void *pmd_frag, *ret;

	if (PMD_FRAG_NR == 1)
		return NULL;

	spin_lock(&mm->page_table_lock);
	ret = mm->context.pmd_frag;
	if (ret) {
		pmd_frag = ret + PMD_FRAG_SIZE;
		/* the last fragment of the page: nothing left to hand out */
		if (((unsigned long)pmd_frag & ~PAGE_MASK) == 0)
			pmd_frag = NULL;
		mm->context.pmd_frag = pmd_frag;
	}
	spin_unlock(&mm->page_table_lock);
	return (pmd_t *)ret;
}

static pmd_t *__alloc_for_pmdcache(struct mm_struct *mm)
{
	void *ret = NULL;
	struct ptdesc *ptdesc;
	gfp_t gfp = GFP_KERNEL_ACCOUNT | __GFP_ZERO;

	if (mm == &init_mm)
		gfp &= ~__GFP_ACCOUNT;
	ptdesc = pagetable_alloc(gfp, 0);
	if (!ptdesc)
		return NULL;
	if (!pagetable_pmd_ctor(mm, ptdesc)) {
		pagetable_free(ptdesc);
		return NULL;
	}

	atomic_set(&ptdesc->pt_frag_refcount, 1);

	ret = ptdesc_address(ptdesc);
	/* one fragment per page: the page is the table */
	if (PMD_FRAG_NR == 1)
		return ret;

	spin_lock(&mm->page_table_lock);
	/* the rest of the page goes to the mm's cache, unless another page got there first */
	if (likely(!mm->context.pmd_frag)) {
		atomic_set(&ptdesc->pt_frag_refcount, PMD_FRAG_NR);
		mm->context.pmd_frag = ret + PMD_FRAG_SIZE;
	}
	spin_unlock(&mm->page_table_lock);

	return (pmd_t *)ret;
}

pmd_t *pmd_fragment_alloc(struct mm_struct *mm, unsigned long vmaddr)
{
	pmd_t *pmd;

	pmd = get_pmd_from_cache(mm);
	if (pmd)
		return pmd;

	return __alloc_for_pmdcache(mm);
}

void pmd_fragment_free(unsigned long *pmd)
{
	struct ptdesc *ptdesc = virt_to_ptdesc(pmd);

	/* a boot-time table is not the page allocator's */
	if (pagetable_is_reserved(ptdesc))
		return free_reserved_ptdesc(ptdesc);

	BUG_ON(atomic_read(&ptdesc->pt_frag_refcount) <= 0);
	if (atomic_dec_and_test(&ptdesc->pt_frag_refcount)) {
		pagetable_dtor(ptdesc);
		pagetable_free(ptdesc);
	}
}

/* a gathered table's final free, by the level its pointer carries */
static inline void pgtable_free(void *table, int index)
{
	switch (index) {
	case PTE_INDEX:
		pte_fragment_free(table, 0);
		break;
	case PMD_INDEX:
		pmd_fragment_free(table);
		break;
	case PUD_INDEX:
		__pud_free(table);
		break;
	/* the PGD never comes here */
	default:
		BUG();
	}
}

void pgtable_free_tlb(struct mmu_gather *tlb, void *table, int index)
{
	unsigned long pgf = (unsigned long)table;

	BUG_ON(index > MAX_PGTABLE_INDEX_SIZE);
	pgf |= index;
	tlb_remove_table(tlb, (void *)pgf);
}

void __tlb_remove_table(void *_table)
{
	void *table = (void *)((unsigned long)_table & ~MAX_PGTABLE_INDEX_SIZE);
	unsigned int index = (unsigned long)_table & MAX_PGTABLE_INDEX_SIZE;

	return pgtable_free(table, index);
}
