/*
 * Reference model of the table hooks of arch/powerpc/include/asm/book3s/64/pgalloc.h as they are
 * today, written for review-bot.
 *
 * PMD tables come from and go back to the PMD fragment cache (arch/powerpc/mm/book3s64/pgtable.c);
 * PUD tables are objects of a slab cache of their size (PGT_CACHE(PUD_CACHE_INDEX)), not pages, and
 * carry no constructor. The *_free_tlb() hooks flush the page-walk cache for the address and hand
 * the table to mmu_gather with its level (pgtable_free_tlb()), unconstructed state and all: the
 * destructor runs only in the final free after the grace period.
 */

static inline pud_t *pud_alloc_one(struct mm_struct *mm, unsigned long addr)
{
	pud_t *pud;

	pud = kmem_cache_alloc(PGT_CACHE(PUD_CACHE_INDEX),
			       pgtable_gfp_flags(mm, GFP_KERNEL));
	/* the PGD refers to it by a value kmemleak cannot read as a pointer */
	kmemleak_ignore(pud);

	return pud;
}

static inline void __pud_free(pud_t *pud)
{
	kmem_cache_free(PGT_CACHE(PUD_CACHE_INDEX), pud);
}

static inline void pud_free(struct mm_struct *mm, pud_t *pud)
{
	return __pud_free(pud);
}

static inline void __pud_free_tlb(struct mmu_gather *tlb, pud_t *pud,
				  unsigned long address)
{
	/* the entries are all none by now: flush the page-walk cache */
	flush_tlb_pgtable(tlb, address);
	pgtable_free_tlb(tlb, pud, PUD_INDEX);
}

static inline pmd_t *pmd_alloc_one(struct mm_struct *mm, unsigned long addr)
{
	return pmd_fragment_alloc(mm, addr);
}

static inline void pmd_free(struct mm_struct *mm, pmd_t *pmd)
{
	pmd_fragment_free((unsigned long *)pmd);
}

static inline void __pmd_free_tlb(struct mmu_gather *tlb, pmd_t *pmd,
				  unsigned long address)
{
	flush_tlb_pgtable(tlb, address);
	return pgtable_free_tlb(tlb, pmd, PMD_INDEX);
}

static inline void __pte_free_tlb(struct mmu_gather *tlb, pgtable_t table,
				  unsigned long address)
{
	flush_tlb_pgtable(tlb, address);
	pgtable_free_tlb(tlb, table, PTE_INDEX);
}
