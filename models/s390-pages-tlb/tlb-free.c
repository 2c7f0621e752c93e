/*
 * arch/s390/include/asm/tlb.h once the destructor runs in the final free (written for review-bot):
 * what changed against ../s390-pages/tlb.h.c. The segment table is handed to mmu_gather still
 * constructed, like every other level; its destructor runs in __tlb_remove_table().
 */

static inline void pmd_free_tlb(struct mmu_gather *tlb, pmd_t *pmd,
				unsigned long address)
{
	if (mm_pmd_folded(tlb->mm))
		return;
	__tlb_adjust_range(tlb, address, PAGE_SIZE);
	tlb->mm->context.flush_mm = 1;
	tlb->freed_tables = 1;
	tlb->cleared_puds = 1;
	tlb_remove_ptdesc(tlb, pmd);
}
