/*
 * Reference model of the page-table part of include/linux/mm.h with the page-based API (before
 * struct ptdesc), written for review-bot. The statements keep the kernel's order.
 *
 * page->ptl points to the split page-table lock, a slab object of its own (ALLOC_SPLIT_PTLOCKS).
 * The PTE constructor allocates it, marks the page PageTable and counts it in NR_PAGETABLE; the
 * destructor frees the lock at once, clears the mark and uncounts. The PMD constructor does the
 * same for PMD tables (with THP they carry deposited PTE tables in pmd_huge_pte). Freeing the lock
 * at once is safe only as long as no walker can still reach the table when the destructor runs.
 */

static inline spinlock_t *ptlock_ptr(struct page *page)
{
	return page->ptl;
}

static inline spinlock_t *pte_lockptr(struct mm_struct *mm, pmd_t *pmd)
{
	return ptlock_ptr(pmd_page(*pmd));
}

static inline bool ptlock_init(struct page *page)
{
	/* page->ptl is zero on a fresh page; anything else means the word is in use */
	VM_BUG_ON_PAGE(*(unsigned long *)&page->ptl, page);
	if (!ptlock_alloc(page))
		return false;
	spin_lock_init(ptlock_ptr(page));
	return true;
}

static inline bool pgtable_pte_page_ctor(struct page *page)
{
	if (!ptlock_init(page))
		return false;
	__SetPageTable(page);
	inc_lruvec_page_state(page, NR_PAGETABLE);
	return true;
}

static inline void pgtable_pte_page_dtor(struct page *page)
{
	ptlock_free(page);
	__ClearPageTable(page);
	dec_lruvec_page_state(page, NR_PAGETABLE);
}

/* the page of the pmd table an entry pointer lies in */
static struct page *pmd_to_page(pmd_t *pmd)
{
	unsigned long mask = ~(PTRS_PER_PMD * sizeof(pmd_t) - 1);
	return virt_to_page((void *)((unsigned long) pmd & mask));
}

static inline spinlock_t *pmd_lockptr(struct mm_struct *mm, pmd_t *pmd)
{
	return ptlock_ptr(pmd_to_page(pmd));
}

static inline bool pmd_ptlock_init(struct page *page)
{
	page->pmd_huge_pte = NULL;
	return ptlock_init(page);
}

static inline void pmd_ptlock_free(struct page *page)
{
	VM_BUG_ON_PAGE(page->pmd_huge_pte, page);
	ptlock_free(page);
}

static inline spinlock_t *pmd_lock(struct mm_struct *mm, pmd_t *pmd)
{
	spinlock_t *ptl = pmd_lockptr(mm, pmd);
	spin_lock(ptl);
	return ptl;
}

static inline bool pgtable_pmd_page_ctor(struct page *page)
{
	if (!pmd_ptlock_init(page))
		return false;
	__SetPageTable(page);
	inc_lruvec_page_state(page, NR_PAGETABLE);
	return true;
}

static inline void pgtable_pmd_page_dtor(struct page *page)
{
	pmd_ptlock_free(page);
	__ClearPageTable(page);
	dec_lruvec_page_state(page, NR_PAGETABLE);
}
