/*
 * Reference model of the page-table part of include/linux/mm.h as it is today, written for
 * review-bot: one destructor for every level, run where the table is finally freed.
 *
 * Constructors: a PTE or PMD table of a user mm gets a split lock (ptlock_init(): a slab object
 * of its own that ptdesc->ptl points to, the ALLOC_SPLIT_PTLOCKS configuration); tables of
 * init_mm get none. Then every level's table is marked PGTY_table and counted in NR_PAGETABLE
 * (__pagetable_ctor()). There is one destructor, pagetable_dtor(): it returns the split lock
 * (a table without one has ptl == NULL, and nothing is returned), then unmarks and uncounts.
 * pagetable_dtor_free() is that destructor followed by the free of the page.
 *
 * Every free path of a constructed table runs pagetable_dtor() exactly once: the immediate frees
 * of asm-generic/pgalloc.h (pte_free(), pmd_free(), ...) for tables no walker can reach, and
 * __tlb_remove_table() for tables handed to mmu_gather, which runs after mmu_gather's grace
 * period. Since ptlock_free() returns the lock at once (mm/memory.c), the destructor must not run
 * before that grace period: a walker that found the table under rcu_read_lock() may still take
 * its lock.
 */

static inline void pagetable_free(struct ptdesc *pt)
{
	struct page *page = ptdesc_page(pt);

	__free_pages(page, compound_order(page));
}

/* the split lock is the slab object ptdesc->ptl points to */
static inline spinlock_t *ptlock_ptr(struct ptdesc *ptdesc)
{
	return ptdesc->ptl;
}

static inline spinlock_t *pte_lockptr(struct mm_struct *mm, pmd_t *pmd)
{
	return ptlock_ptr(page_ptdesc(pmd_page(*pmd)));
}

static inline bool ptlock_init(struct ptdesc *ptdesc)
{
	/* a fresh page has ptl == 0; anything else means the word is in use */
	VM_BUG_ON_PAGE(*(unsigned long *)&ptdesc->ptl, ptdesc_page(ptdesc));
	if (!ptlock_alloc(ptdesc))
		return false;
	spin_lock_init(ptlock_ptr(ptdesc));
	return true;
}

/* what every level's constructor does after its lock: mark the folio a page table, count it */
static inline void __pagetable_ctor(struct ptdesc *ptdesc)
{
	struct folio *folio = ptdesc_folio(ptdesc);

	__folio_set_pgtable(folio);
	lruvec_stat_add_folio(folio, NR_PAGETABLE);
}

/* the one destructor: the lock goes back first, then the mark and the count */
static inline void pagetable_dtor(struct ptdesc *ptdesc)
{
	struct folio *folio = ptdesc_folio(ptdesc);

	ptlock_free(ptdesc);
	__folio_clear_pgtable(folio);
	lruvec_stat_sub_folio(folio, NR_PAGETABLE);
}

static inline void pagetable_dtor_free(struct ptdesc *ptdesc)
{
	pagetable_dtor(ptdesc);
	pagetable_free(ptdesc);
}

static inline bool pagetable_pte_ctor(struct mm_struct *mm, struct ptdesc *ptdesc)
{
	if (mm != &init_mm && !ptlock_init(ptdesc))
		return false;
	__pagetable_ctor(ptdesc);
	return true;
}

/* the ptdesc of the page that holds a pmd table, from a pointer to one of its entries */
static inline struct page *pmd_pgtable_page(pmd_t *pmd)
{
	unsigned long mask = ~(PTRS_PER_PMD * sizeof(pmd_t) - 1);

	return virt_to_page((void *)((unsigned long) pmd & mask));
}

static inline struct ptdesc *pmd_ptdesc(pmd_t *pmd)
{
	return page_ptdesc(pmd_pgtable_page(pmd));
}

static inline spinlock_t *pmd_lockptr(struct mm_struct *mm, pmd_t *pmd)
{
	return ptlock_ptr(pmd_ptdesc(pmd));
}

/* a PMD table also carries the deposited PTE tables of THP mappings (pmd_huge_pte) */
static inline bool pmd_ptlock_init(struct ptdesc *ptdesc)
{
	ptdesc->pmd_huge_pte = NULL;
	return ptlock_init(ptdesc);
}

static inline spinlock_t *pmd_lock(struct mm_struct *mm, pmd_t *pmd)
{
	spinlock_t *ptl = pmd_lockptr(mm, pmd);

	spin_lock(ptl);
	return ptl;
}

static inline bool pagetable_pmd_ctor(struct mm_struct *mm, struct ptdesc *ptdesc)
{
	if (mm != &init_mm && !pmd_ptlock_init(ptdesc))
		return false;
	__pagetable_ctor(ptdesc);
	return true;
}

/* PUD, P4D and PGD tables are locked by mm->page_table_lock: no lock of their own */
static inline void pagetable_pud_ctor(struct ptdesc *ptdesc)
{
	__pagetable_ctor(ptdesc);
}

static inline void pagetable_p4d_ctor(struct ptdesc *ptdesc)
{
	__pagetable_ctor(ptdesc);
}

static inline void pagetable_pgd_ctor(struct ptdesc *ptdesc)
{
	__pagetable_ctor(ptdesc);
}
