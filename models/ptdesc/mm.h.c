/*
 * Reference model of the page-table part of include/linux/mm.h (the struct ptdesc API), written
 * for review-bot, in the state where every architecture runs the page-table destructor in its own
 * free path (*_free_tlb(), pte_free(), pmd_free()) before mmu_gather frees the page.
 * The statements keep the kernel's order, so that patches to the header line up with them.
 *
 * struct ptdesc is the struct page of a page-table page under page-table names: pt_list and
 * pt_rcu_head share the words of lru/rcu_head, pmd_huge_pte follows, ptl points to the split
 * page-table lock (the ALLOC_SPLIT_PTLOCKS configuration: a spinlock_t larger than a long lives
 * in its own slab object, here a struct pt_lock that also carries an rcu_head).
 *
 * Constructor of a level with a split lock (PTE; PMD with THP): allocate the lock, then mark the
 * folio PGTY_table and count it in NR_PAGETABLE. Destructor: free the lock, clear the mark,
 * uncount, in that order. PUD tables have no split lock: their ctor/dtor only mark and count.
 * A walker that reached a table under rcu_read_lock() may still spin on its lock after the pmd
 * was cleared, so the lock must stay valid until a grace period has passed.
 */

static inline void pagetable_free(struct ptdesc *pt)
{
	struct page *page = ptdesc_page(pt);

	__free_pages(page, compound_order(page));
}

/* the lock lives in the struct pt_lock the ptdesc points to */
static inline spinlock_t *ptlock_ptr(struct ptdesc *ptdesc)
{
	return &(ptdesc->ptl->ptl);
}

static inline spinlock_t *pte_lockptr(struct mm_struct *mm, pmd_t *pmd)
{
	return ptlock_ptr(page_ptdesc(pmd_page(*pmd)));
}

static inline bool ptlock_init(struct ptdesc *ptdesc)
{
	/* a fresh page has ptl == 0; anything else means someone else uses the word */
	VM_BUG_ON_PAGE(*(unsigned long *)&ptdesc->ptl, ptdesc_page(ptdesc));
	if (!ptlock_alloc(ptdesc))
		return false;
	spin_lock_init(ptlock_ptr(ptdesc));
	return true;
}

static inline bool pagetable_pte_ctor(struct ptdesc *ptdesc)
{
	struct folio *folio = ptdesc_folio(ptdesc);

	if (!ptlock_init(ptdesc))
		return false;
	__folio_set_pgtable(folio);
	lruvec_stat_add_folio(folio, NR_PAGETABLE);
	return true;
}

static inline void pagetable_pte_dtor(struct ptdesc *ptdesc)
{
	struct folio *folio = ptdesc_folio(ptdesc);

	ptlock_free(ptdesc);
	__folio_clear_pgtable(folio);
	lruvec_stat_sub_folio(folio, NR_PAGETABLE);
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

static inline void pmd_ptlock_free(struct ptdesc *ptdesc)
{
	VM_BUG_ON_PAGE(ptdesc->pmd_huge_pte, ptdesc_page(ptdesc));
	ptlock_free(ptdesc);
}

static inline spinlock_t *pmd_lock(struct mm_struct *mm, pmd_t *pmd)
{
	spinlock_t *ptl = pmd_lockptr(mm, pmd);

	spin_lock(ptl);
	return ptl;
}

static inline bool pagetable_pmd_ctor(struct ptdesc *ptdesc)
{
	struct folio *folio = ptdesc_folio(ptdesc);

	if (!pmd_ptlock_init(ptdesc))
		return false;
	__folio_set_pgtable(folio);
	lruvec_stat_add_folio(folio, NR_PAGETABLE);
	return true;
}

static inline void pagetable_pmd_dtor(struct ptdesc *ptdesc)
{
	struct folio *folio = ptdesc_folio(ptdesc);

	pmd_ptlock_free(ptdesc);
	__folio_clear_pgtable(folio);
	lruvec_stat_sub_folio(folio, NR_PAGETABLE);
}

/* PUD tables are locked by mm->page_table_lock: nothing to allocate or free */
static inline void pagetable_pud_ctor(struct ptdesc *ptdesc)
{
	struct folio *folio = ptdesc_folio(ptdesc);

	__folio_set_pgtable(folio);
	lruvec_stat_add_folio(folio, NR_PAGETABLE);
}

static inline void pagetable_pud_dtor(struct ptdesc *ptdesc)
{
	struct folio *folio = ptdesc_folio(ptdesc);

	__folio_clear_pgtable(folio);
	lruvec_stat_sub_folio(folio, NR_PAGETABLE);
}
