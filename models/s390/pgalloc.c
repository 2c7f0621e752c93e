/*
 * Reference model of arch/s390/mm/pgalloc.c page-table fragments, at the base of the
 * "free retracted page table by RCU" series (v6.4 era), written for review-bot.
 *
 * A 4K page holds two 2K PTE tables ("halves"). The upper byte of page->_refcount tracks them:
 *
 *   bit (value)  meaning
 *   0x01  A0     half 0 (offset 0)  allocated
 *   0x02  A1     half 1 (offset 2K) allocated
 *   0x10  P0     half 0 pending free (set on free, cleared by __tlb_remove_table)
 *   0x20  P1     half 1 pending free
 *
 * For one half A and P are exclusive: a free flips A to P in one xor (0x11 << bit).
 * A page is on mm->context.pgtable_list (linked through page->lru, which is the same memory as
 * page->rcu_head) while exactly one half is allocated and the other is free or pending.
 * mm->context.lock protects the list and the A bits, not the P bits or the page itself.
 * page_table_alloc() looks only at the first listed page.
 * page_table_free() sets a temporary P while it manipulates the list, so that a lockless
 * __tlb_remove_table() of the sibling cannot see the mask reach zero and free the page meanwhile.
 * Only the functions the scenarios run are modeled; the pgste (KVM) paths are kept in outline.
 */

unsigned long *crst_table_alloc(struct mm_struct *mm)
{
	struct page *page = alloc_pages(GFP_KERNEL, CRST_ALLOC_ORDER);

	if (!page)
		return NULL;
	arch_set_page_dat(page, CRST_ALLOC_ORDER);
	return (unsigned long *) page_to_virt(page);
}

void crst_table_free(struct mm_struct *mm, unsigned long *table)
{
	free_pages((unsigned long)table, CRST_ALLOC_ORDER);
}

#ifdef CONFIG_PGSTE

/* KVM's gmap shadow tables: a whole page with PGSTEs, no constructor, on no list */
struct page *page_table_alloc_pgste(struct mm_struct *mm)
{
	struct page *page;
	u64 *table;

	page = alloc_page(GFP_KERNEL);
	if (page) {
		table = (u64 *)page_to_virt(page);
		memset64(table, _PAGE_INVALID, PTRS_PER_PTE);
		memset64(table + PTRS_PER_PTE, 0, PTRS_PER_PTE);
	}
	return page;
}

void page_table_free_pgste(struct page *page)
{
	__free_page(page);
}

#endif /* CONFIG_PGSTE */

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
				list_del(&page->lru);
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
		/* Return 4K page table with PGSTEs */
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

static void page_table_release_check(struct page *page, void *table,
				     unsigned int half, unsigned int mask)
{
	char msg[128];

	if (!IS_ENABLED(CONFIG_DEBUG_VM) || !mask)
		return;
	dump_page(page, msg);
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
		if (mask & 0x03U)
			list_add(&page->lru, &mm->context.pgtable_list);
		else
			list_del(&page->lru);
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
	pgtable_pte_page_dtor(page);
	__free_page(page);
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
	if (mask & 0x03U)
		list_add_tail(&page->lru, &mm->context.pgtable_list);
	else
		list_del(&page->lru);
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
	pgtable_pte_page_dtor(page);
	__free_page(page);
}

/*
 * The kernel's own "base" address-space tables (base_asce_alloc(): identity mappings for I/O
 * translation, on no mm): CRST tables allocated and freed as whole pages, never shared, never
 * walked by the mm's lockless walkers.
 */
static unsigned long *base_crst_alloc(unsigned long val)
{
	unsigned long *table;

	table =	(unsigned long *)__get_free_pages(GFP_KERNEL, CRST_ALLOC_ORDER);
	if (table)
		crst_table_init(table, val);
	return table;
}

static void base_crst_free(unsigned long *table)
{
	free_pages((unsigned long)table, CRST_ALLOC_ORDER);
}
