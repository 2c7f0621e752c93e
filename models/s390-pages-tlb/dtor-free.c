/*
 * arch/s390/mm/pgalloc.c with whole-page tables once every level's destructor runs in the final
 * free (written for review-bot): what changed against ../s390-pages/pgalloc.c.
 *
 * There is one destructor for every level, pagetable_dtor(), and the final free of any table is
 * destructor and page together (pagetable_dtor_free()). mmu_gather's __tlb_remove_table() no
 * longer tells CRST tables from PTE tables: every table it gets, after the grace period, is
 * destructed and freed there (s390 kept this copy for a while; then the identical generic one of
 * asm-generic/tlb.h took its place). So no *_free_tlb() runs a destructor, and the split locks of
 * PTE and PMD tables stay valid until walkers are out. page_table_free() frees at once and is for
 * tables no walker can reach; pte_free_defer()'s callback does the same after a grace period.
 */

static void pagetable_dtor_free(struct ptdesc *ptdesc)
{
	pagetable_dtor(ptdesc);
	pagetable_free(ptdesc);
}

void page_table_free(struct mm_struct *mm, unsigned long *table)
{
	struct ptdesc *ptdesc = virt_to_ptdesc(table);

	pagetable_dtor_free(ptdesc);
}

void __tlb_remove_table(void *table)
{
	struct ptdesc *ptdesc = virt_to_ptdesc(table);

	pagetable_dtor_free(ptdesc);
}

#ifdef CONFIG_TRANSPARENT_HUGEPAGE
static void pte_free_now(struct rcu_head *head)
{
	struct ptdesc *ptdesc = container_of(head, struct ptdesc, pt_rcu_head);

	pagetable_dtor_free(ptdesc);
}
#endif /* CONFIG_TRANSPARENT_HUGEPAGE */
