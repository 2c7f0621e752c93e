/*
 * Reference model of the table part of include/asm-generic/tlb.h, written for review-bot, in the
 * state where the architectures run the destructor before they hand a table to mmu_gather.
 *
 * With MMU_GATHER_TABLE_FREE a table goes into the gather's batch (tlb_remove_table(), see
 * mm/mmu_gather.c); a batch holds as many table pointers as fit in one page next to its header.
 * "Page-like" directories of architectures without it go through the ordinary page batch, which
 * is freed after the TLB flush, not after a grace period.
 */

#define MAX_TABLE_BATCH ((PAGE_SIZE - sizeof(struct mmu_table_batch)) / sizeof(void *))

static inline void tlb_remove_ptdesc(struct mmu_gather *tlb, void *pt)
{
	tlb_remove_table(tlb, pt);
}

static inline void tlb_remove_page_ptdesc(struct mmu_gather *tlb, struct ptdesc *pt)
{
	tlb_remove_page(tlb, ptdesc_page(pt));
}
