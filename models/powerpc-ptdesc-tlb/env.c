/*
 * Code around today's powerpc table files that the scenarios call and patches to those files do
 * not change (review-bot's statement of it). The fragment cache accessors are ../powerpc/env.c's,
 * the generic destructor and split lock ../ptdesc-tlb's, mmu_gather's batch ../ptdesc/mmu_gather.c
 * (its single-table fallback is the IPI, then the free: powerpc has its own __tlb_remove_table(),
 * so no PT_RECLAIM), the generic *_free_tlb() macros ../common/gather-env.c's.
 */

/* the page-walk cache flush of a *_free_tlb() hook (radix): the model has no such cache */
void flush_tlb_pgtable(struct mmu_gather *tlb, unsigned long address)
{
}

/* the slab cache of tables of 2^shift entries (pgtable_cache[]): its identity only */
struct kmem_cache *PGT_CACHE(int shift)
{
	return pgtable_cache_base + shift;
}
