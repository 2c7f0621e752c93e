/*
 * Reference model of an architecture's asm/tlb.h once the page-table destructor runs in
 * __tlb_remove_table() (x86, arm, arm64, riscv and the architectures that follow them), written
 * for review-bot: the table part only.
 *
 * The *_free_tlb() hooks hand a table to mmu_gather as it is, still constructed: no destructor
 * runs here, so the split lock stays valid while walkers that found the table may still take it.
 * __tlb_remove_table() is each table's final free, after mmu_gather's grace period (or from the
 * single-table fallback): the destructor (which returns the split lock at once), then the page.
 * Later the architectures dropped their own copy for the identical generic one in
 * asm-generic/tlb.h; a file in either state lines up with this one.
 *
 * A path that frees a table without the RCU batch (riscv when remote fences are IPIs, not SBI
 * calls) runs the destructor itself and hands the page to the ordinary page batch, freed after the
 * TLB flush.
 */

static inline void __tlb_remove_table(void *table)
{
	struct ptdesc *ptdesc = (struct ptdesc *)table;

	pagetable_dtor(ptdesc);
	pagetable_free(ptdesc);
}

static inline void __pte_free_tlb(struct mmu_gather *tlb, pgtable_t pte,
				  unsigned long addr)
{
	struct ptdesc *ptdesc = page_ptdesc(pte);

	tlb_remove_ptdesc(tlb, ptdesc);
}

static inline void __pmd_free_tlb(struct mmu_gather *tlb, pmd_t *pmdp,
				  unsigned long addr)
{
	struct ptdesc *ptdesc = virt_to_ptdesc(pmdp);

	tlb_remove_ptdesc(tlb, ptdesc);
}

static inline void __pud_free_tlb(struct mmu_gather *tlb, pud_t *pudp,
				  unsigned long addr)
{
	struct ptdesc *ptdesc = virt_to_ptdesc(pudp);

	tlb_remove_ptdesc(tlb, ptdesc);
}

static inline void __p4d_free_tlb(struct mmu_gather *tlb, p4d_t *p4dp,
				  unsigned long addr)
{
	struct ptdesc *ptdesc = virt_to_ptdesc(p4dp);

	tlb_remove_ptdesc(tlb, ptdesc);
}
