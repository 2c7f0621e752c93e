/*
 * Reference model of arch/s390/mm/pgalloc.c once s390 stopped sharing pages between page tables
 * (every PTE table is one 4K page: 256 entries and their 256 PGSTEs), with the struct ptdesc API,
 * before the destructor of the upper levels moved into __tlb_remove_table(). Written for
 * review-bot; the statements keep the kernel's order so that patches to the file line up.
 *
 * CRST tables (region and segment tables: pgd, p4d, pud, pmd) are order-2 allocations of
 * crst_table_alloc(); PTE tables are single pages with the PTE constructor (split lock).
 * mmu_gather hands every table to __tlb_remove_table() after its grace period, which tells the
 * two kinds apart by the allocation order: a CRST table is only freed (its level's destructor ran
 * in *_free_tlb()), a PTE table gets its destructor and is freed. pte_free_defer() queues the
 * table's own rcu_head (pt_rcu_head, which overlays pt_list; the page is on no list, pt_list is
 * used by gmap's shadow tables only) and the callback does the same as a PTE table's free.
 * Pages with PGSTEs for KVM guests come from page_table_alloc_pgste() without a constructor.
 */

unsigned long *crst_table_alloc(struct mm_struct *mm)
{
	struct ptdesc *ptdesc = pagetable_alloc(GFP_KERNEL, CRST_ALLOC_ORDER);
	unsigned long *table;

	if (!ptdesc)
		return NULL;
	table = ptdesc_to_virt(ptdesc);
	__arch_set_page_dat(table, 1UL << CRST_ALLOC_ORDER);
	return table;
}

void crst_table_free(struct mm_struct *mm, unsigned long *table)
{
	pagetable_free(virt_to_ptdesc(table));
}

#ifdef CONFIG_PGSTE

struct page *page_table_alloc_pgste(struct mm_struct *mm)
{
	struct ptdesc *ptdesc;
	u64 *table;

	ptdesc = pagetable_alloc(GFP_KERNEL, 0);
	if (ptdesc) {
		table = (u64 *)ptdesc_to_virt(ptdesc);
		__arch_set_page_dat(table, 1);
		memset64(table, _PAGE_INVALID, PTRS_PER_PTE);
		memset64(table + PTRS_PER_PTE, 0, PTRS_PER_PTE);
	}
	return ptdesc_page(ptdesc);
}

void page_table_free_pgste(struct page *page)
{
	pagetable_free(page_ptdesc(page));
}

#endif /* CONFIG_PGSTE */

unsigned long *page_table_alloc(struct mm_struct *mm)
{
	struct ptdesc *ptdesc;
	unsigned long *table;

	ptdesc = pagetable_alloc(GFP_KERNEL, 0);
	if (!ptdesc)
		return NULL;
	if (!pagetable_pte_ctor(ptdesc)) {
		pagetable_free(ptdesc);
		return NULL;
	}
	table = ptdesc_to_virt(ptdesc);
	__arch_set_page_dat(table, 1);
	/* the page is on no list: pt_list serves gmap's shadow tables only */
	INIT_LIST_HEAD(&ptdesc->pt_list);
	memset64((u64 *)table, _PAGE_INVALID, PTRS_PER_PTE);
	memset64((u64 *)table + PTRS_PER_PTE, 0, PTRS_PER_PTE);
	return table;
}

static void pagetable_pte_dtor_free(struct ptdesc *ptdesc)
{
	pagetable_pte_dtor(ptdesc);
	pagetable_free(ptdesc);
}

void page_table_free(struct mm_struct *mm, unsigned long *table)
{
	struct ptdesc *ptdesc = virt_to_ptdesc(table);

	pagetable_pte_dtor_free(ptdesc);
}

void __tlb_remove_table(void *table)
{
	struct ptdesc *ptdesc = virt_to_ptdesc(table);
	struct page *page = ptdesc_page(ptdesc);

	if (compound_order(page) == CRST_ALLOC_ORDER) {
		/* a region or segment table: its level's destructor has run already */
		pagetable_free(ptdesc);
		return;
	}
	pagetable_pte_dtor_free(ptdesc);
}

#ifdef CONFIG_TRANSPARENT_HUGEPAGE
static void pte_free_now(struct rcu_head *head)
{
	struct ptdesc *ptdesc = container_of(head, struct ptdesc, pt_rcu_head);

	pagetable_pte_dtor_free(ptdesc);
}

void pte_free_defer(struct mm_struct *mm, pgtable_t pgtable)
{
	struct ptdesc *ptdesc = virt_to_ptdesc(pgtable);

	call_rcu(&ptdesc->pt_rcu_head, pte_free_now);
	/* no THP for KVM guests: a table with PGSTEs never gets here */
	WARN_ON_ONCE(mm_has_pgste(mm));
}
#endif /* CONFIG_TRANSPARENT_HUGEPAGE */
