/*
 * Reference model of the page-table allocation part of arch/sparc/mm/init_64.c (v6.4 era,
 * page-based API), written for review-bot. sparc64 never shares a page between PTE tables:
 * pgtable_t is the table's address, a user table is one page with the PTE constructor, a kernel
 * table one page without it. pgtable_free() is what mmu_gather's __tlb_remove_table() calls:
 * whole-page tables go through __pte_free(), smaller directories back to their slab cache.
 */

pte_t *pte_alloc_one_kernel(struct mm_struct *mm)
{
	struct page *page = alloc_page(GFP_KERNEL | __GFP_ZERO);
	pte_t *pte = NULL;

	if (page)
		pte = (pte_t *) page_address(page);

	return pte;
}

pgtable_t pte_alloc_one(struct mm_struct *mm)
{
	struct page *page = alloc_page(GFP_KERNEL | __GFP_ZERO);
	if (!page)
		return NULL;
	if (!pgtable_pte_page_ctor(page)) {
		__free_page(page);
		return NULL;
	}
	return (pte_t *) page_address(page);
}

void pte_free_kernel(struct mm_struct *mm, pte_t *pte)
{
	free_page((unsigned long)pte);
}

static void __pte_free(pgtable_t pte)
{
	struct page *page = virt_to_page(pte);

	pgtable_pte_page_dtor(page);
	__free_page(page);
}

void pte_free(struct mm_struct *mm, pgtable_t pte)
{
	__pte_free(pte);
}

void pgtable_free(void *table, bool is_page)
{
	if (is_page)
		__pte_free(table);
	else
		kmem_cache_free(pgtable_cache, table);
}

#ifdef CONFIG_TRANSPARENT_HUGEPAGE
void update_mmu_cache_pmd(struct vm_area_struct *vma, unsigned long addr,
			  pmd_t *pmd)
{
	/* TSB and TLB upkeep of huge mappings: nothing of page-table lifetime */
}
#endif
