/*
 * Reference model of arch/s390/mm/pgalloc.c with 2K fragments once pte_free_defer() exists
 * (v6.6 to the end of the 2K tables), written for review-bot: what changed against
 * ../s390/pgalloc.c, whose A/P bit diagram and list and lock rules still hold. The functions
 * stated here replace that file's; the CRST and PGSTE tables are unchanged.
 *
 * A deferred half marks its page Active (PageActive). An Active page is kept off
 * mm->context.pgtable_list (page->lru is the memory of the page->rcu_head the final free will
 * queue), so neither half of it is handed out again; every list removal is list_del_init(), so a
 * page that is on no list can be removed again harmlessly. Whichever path drops the last half
 * (page_table_free() at once, or __tlb_remove_table() after mmu_gather's grace period) tests and
 * clears Active: set, it queues pte_free_now() with call_rcu() on the page's rcu_head; clear, it
 * calls pte_free_now() directly. pte_free_now() runs the page-table destructor and frees the page.
 * So the page of a deferred half goes back only after a grace period that began once both halves
 * were freed, and the rcu_head is queued once per page.
 */

unsigned long *page_table_alloc(struct mm_struct *mm)
{
	unsigned long *table;
	struct page *page;
	unsigned int mask, bit;

	/* Reuse a free half of the first listed page, if it has one */
	if (!mm_alloc_pgste(mm)) {
		table = NULL;
		spin_lock_bh(&mm->context.lock);
		if (!list_empty(&mm->context.pgtable_list)) {
			page = list_first_entry(&mm->context.pgtable_list,
						struct page, lru);
			mask = atomic_read(&page->_refcount) >> 24;
			/* a pending half counts as in use until __tlb_remove_table() */
			mask = (mask | (mask >> 4)) & 0x03U;
			if (mask != 0x03U) {
				table = (unsigned long *) page_to_virt(page);
				bit = mask & 1;		/* =1 -> second 2K */
				if (bit)
					table += PTRS_PER_PTE;
				atomic_xor_bits(&page->_refcount,
							0x01U << (bit + 24));
				list_del_init(&page->lru);
			}
		}
		spin_unlock_bh(&mm->context.lock);
		if (table)
			return table;
	}
	/* Otherwise a new page */
	page = alloc_page(GFP_KERNEL);
	if (!page)
		return NULL;
	if (!pgtable_pte_page_ctor(page)) {
		__free_page(page);
		return NULL;
	}
	arch_set_page_dat(page, 0);
	/* Initialize page table */
	table = (unsigned long *) page_to_virt(page);
	if (mm_alloc_pgste(mm)) {
		/* Return 4K page table with PGSTEs: on no list, so its list_head starts empty */
		INIT_LIST_HEAD(&page->lru);
		atomic_xor_bits(&page->_refcount, 0x03U << 24);
		memset64((u64 *)table, _PAGE_INVALID, PTRS_PER_PTE);
		memset64((u64 *)table + PTRS_PER_PTE, 0, PTRS_PER_PTE);
	} else {
		/* Return the first 2K fragment of the page */
		atomic_xor_bits(&page->_refcount, 0x01U << 24);
		memset64((u64 *)table, _PAGE_INVALID, 2 * PTRS_PER_PTE);
		spin_lock_bh(&mm->context.lock);
		list_add(&page->lru, &mm->context.pgtable_list);
		spin_unlock_bh(&mm->context.lock);
	}
	return table;
}

/* a page released with bits left, or still on a list, is reported (CONFIG_DEBUG_VM) */
static void page_table_release_check(struct page *page, void *table,
				     unsigned int half, unsigned int mask)
{
	char msg[128];

	if (!IS_ENABLED(CONFIG_DEBUG_VM))
		return;
	if (!mask && list_empty(&page->lru))
		return;
	dump_page(page, msg);
}

/* the final free of a page of page tables: destructor, then the page */
static void pte_free_now(struct rcu_head *head)
{
	struct page *page;

	page = container_of(head, struct page, rcu_head);
	pgtable_pte_page_dtor(page);
	__free_page(page);
}

void page_table_free(struct mm_struct *mm, unsigned long *table)
{
	unsigned int mask, bit, half;
	struct page *page;

	page = virt_to_page(table);
	if (!mm_alloc_pgste(mm)) {
		/* Free 2K page table fragment of a 4K page */
		bit = ((unsigned long) table & ~PAGE_MASK)/(PTRS_PER_PTE*sizeof(pte_t));
		spin_lock_bh(&mm->context.lock);
		/* A off, temporary P on: the sibling's __tlb_remove_table cannot free the page yet */
		mask = atomic_xor_bits(&page->_refcount, 0x11U << (bit + 24));
		mask >>= 24;
		if ((mask & 0x03U) && !PageActive(page)) {
			/* the other half is in use and nothing was deferred: this half is reusable now */
			list_add(&page->lru, &mm->context.pgtable_list);
		} else {
			/* off the list (a no-op when it is on none) */
			list_del_init(&page->lru);
		}
		spin_unlock_bh(&mm->context.lock);
		mask = atomic_xor_bits(&page->_refcount, 0x10U << (bit + 24));
		mask >>= 24;
		if (mask != 0x00U)
			return;
		half = 0x01U << bit;
	} else {
		half = 0x03U;
		mask = atomic_xor_bits(&page->_refcount, 0x03U << 24);
		mask >>= 24;
	}

	page_table_release_check(page, table, half, mask);
	if (TestClearPageActive(page))
		call_rcu(&page->rcu_head, pte_free_now);
	else
		pte_free_now(&page->rcu_head);
}

void page_table_free_rcu(struct mmu_gather *tlb, unsigned long *table,
			 unsigned long vmaddr)
{
	struct mm_struct *mm;
	struct page *page;
	unsigned int bit, mask;

	mm = tlb->mm;
	page = virt_to_page(table);
	if (mm_alloc_pgste(mm)) {
		gmap_unlink(mm, table, vmaddr);
		table = (unsigned long *) ((unsigned long)table | 0x03U);
		tlb_remove_table(tlb, table);
		return;
	}
	bit = ((unsigned long) table & ~PAGE_MASK) / (PTRS_PER_PTE*sizeof(pte_t));
	spin_lock_bh(&mm->context.lock);
	/* A off, P on until __tlb_remove_table(), after the batch's grace period */
	mask = atomic_xor_bits(&page->_refcount, 0x11U << (bit + 24));
	mask >>= 24;
	if ((mask & 0x03U) && !PageActive(page)) {
		/* reusable once __tlb_remove_table() has cleared its P bit: to the end of the list */
		list_add_tail(&page->lru, &mm->context.pgtable_list);
	} else {
		list_del_init(&page->lru);
	}
	spin_unlock_bh(&mm->context.lock);
	table = (unsigned long *) ((unsigned long) table | (0x01U << bit));
	tlb_remove_table(tlb, table);
}

void __tlb_remove_table(void *_table)
{
	unsigned int mask = (unsigned long) _table & 0x03U, half = mask;
	void *table = (void *)((unsigned long) _table ^ mask);
	struct page *page = virt_to_page(table);

	switch (half) {
	case 0x00U:	/* pmd, pud, or p4d */
		free_pages((unsigned long) table, CRST_ALLOC_ORDER);
		return;
	case 0x01U:	/* lower 2K of a 4K page table */
	case 0x02U:	/* higher 2K of a 4K page table */
		mask = atomic_xor_bits(&page->_refcount, mask << (4 + 24));
		mask >>= 24;
		if (mask != 0x00U)
			return;
		break;
	case 0x03U:	/* 4K page table with pgstes */
		mask = atomic_xor_bits(&page->_refcount, 0x03U << 24);
		mask >>= 24;
		break;
	}

	page_table_release_check(page, table, half, mask);
	if (TestClearPageActive(page))
		call_rcu(&page->rcu_head, pte_free_now);
	else
		pte_free_now(&page->rcu_head);
}

#ifdef CONFIG_TRANSPARENT_HUGEPAGE
/* mark the page Active (no half of it is reused), then free the half as page_table_free() does */
void pte_free_defer(struct mm_struct *mm, pgtable_t pgtable)
{
	struct page *page;

	page = virt_to_page(pgtable);
	SetPageActive(page);
	page_table_free(mm, (unsigned long *)pgtable);
	/* no THP for KVM guests: a table with PGSTEs, which needs gmap_unlink(), never gets here */
	WARN_ON_ONCE(mm_has_pgste(mm));
}
#endif /* CONFIG_TRANSPARENT_HUGEPAGE */
