/*
 * Reference model of the table part of include/asm-generic/tlb.h as it is today, written for
 * review-bot.
 *
 * With MMU_GATHER_TABLE_FREE a table goes into the gather's batch (tlb_remove_table(), see
 * mm/mmu_gather.c), under its ptdesc name through tlb_remove_ptdesc(); a batch holds as many table
 * pointers as fit in one page next to its header. The final free of each table is
 * __tlb_remove_table(): an architecture may bring its own (__HAVE_ARCH_TLB_REMOVE_TABLE: powerpc,
 * sparc), the others take the generic one here, which runs the page-table destructor and frees
 * the page (pagetable_dtor_free()). So the destructor, and with it the split lock's return, comes
 * after the gather's grace period, never in the architecture's *_free_tlb().
 *
 * Architectures without MMU_GATHER_TABLE_FREE (csky, hexagon, loongarch, m68k, mips, nios2,
 * openrisc, sh, um) have page-sized directories and no batch of tables: their tlb_remove_table()
 * runs the destructor itself and hands the page to the ordinary page batch, which frees it after
 * the TLB flush (its IPI is what holds lockless walkers off there), not after a grace period.
 * Nothing else runs their destructor: their *_free_tlb() hooks must not.
 */

#define MAX_TABLE_BATCH ((PAGE_SIZE - sizeof(struct mmu_table_batch)) / sizeof(void *))

#ifndef __HAVE_ARCH_TLB_REMOVE_TABLE
/* the generic final free of a gathered table: destructor, then page */
static inline void __tlb_remove_table(void *table)
{
	struct ptdesc *ptdesc = (struct ptdesc *)table;

	pagetable_dtor_free(ptdesc);
}
#endif

static inline void tlb_remove_ptdesc(struct mmu_gather *tlb, struct ptdesc *pt)
{
	tlb_remove_table(tlb, pt);
}

#ifndef CONFIG_MMU_GATHER_TABLE_FREE
/* a directory is a page: destruct it now, free it with the page batch after the TLB flush */
static inline void tlb_remove_table(struct mmu_gather *tlb, void *table)
{
	struct page *page = (struct page *)table;

	pagetable_dtor(page_ptdesc(page));
	tlb_remove_page(tlb, page);
}
#endif /* !CONFIG_MMU_GATHER_TABLE_FREE */
