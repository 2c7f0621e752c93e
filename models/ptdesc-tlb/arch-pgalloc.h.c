/*
 * Reference model of the *_free_tlb() hooks an architecture keeps in its asm/pgalloc.h rather
 * than its asm/tlb.h, as they are today, written for review-bot: riscv's static inlines (a PUD or
 * P4D table exists only when the mm has that many levels, pgtable_l4/l5_enabled); loongarch and
 * the other architectures without an asm/tlb.h hook of their own define the same calls as one-line
 * macros, which a patch shows whole.
 *
 * As in arch-tlb.h.c, every hook hands the table to mmu_gather still constructed
 * (tlb_remove_ptdesc()); the destructor runs once, in the final free. Where the architecture frees
 * tables by RCU (MMU_GATHER_RCU_TABLE_FREE: riscv on SMP) that is __tlb_remove_table() after the
 * gather's grace period; where it does not (loongarch), tlb_remove_ptdesc() itself runs the
 * destructor and puts the page in the gather's page batch, freed after the TLB flush
 * (asm-generic/tlb.h). Either way no hook runs a destructor of its own.
 */

static inline void __pud_free_tlb(struct mmu_gather *tlb, pud_t *pud,
				  unsigned long addr)
{
	if (pgtable_l4_enabled)
		tlb_remove_ptdesc(tlb, virt_to_ptdesc(pud));
}

static inline void __p4d_free_tlb(struct mmu_gather *tlb, p4d_t *p4d,
				  unsigned long addr)
{
	if (pgtable_l5_enabled)
		tlb_remove_ptdesc(tlb, virt_to_ptdesc(p4d));
}

static inline void __pmd_free_tlb(struct mmu_gather *tlb, pmd_t *pmd,
				  unsigned long addr)
{
	tlb_remove_ptdesc(tlb, virt_to_ptdesc(pmd));
}

static inline void __pte_free_tlb(struct mmu_gather *tlb, pgtable_t pte,
				  unsigned long addr)
{
	tlb_remove_ptdesc(tlb, page_ptdesc(pte));
}
