/*
 * arch/s390/include/asm/pgalloc.h once every level is constructed and counted (written for
 * review-bot): what changed against ../s390-pages/pgalloc.h.c. Region-second and region-third
 * tables get the P4D and PUD constructors (marked and counted, no split lock), and their
 * immediate frees the destructor; the segment table's free runs the one destructor.
 */

static inline p4d_t *p4d_alloc_one(struct mm_struct *mm, unsigned long address)
{
	unsigned long *table = crst_table_alloc(mm);

	if (!table)
		return NULL;
	crst_table_init(table, _REGION2_ENTRY_EMPTY);
	pagetable_p4d_ctor(virt_to_ptdesc(table));

	return (p4d_t *) table;
}

static inline void p4d_free(struct mm_struct *mm, p4d_t *p4d)
{
	if (mm_p4d_folded(mm))
		return;

	pagetable_dtor(virt_to_ptdesc(p4d));
	crst_table_free(mm, (unsigned long *) p4d);
}

static inline pud_t *pud_alloc_one(struct mm_struct *mm, unsigned long address)
{
	unsigned long *table = crst_table_alloc(mm);

	if (!table)
		return NULL;
	crst_table_init(table, _REGION3_ENTRY_EMPTY);
	pagetable_pud_ctor(virt_to_ptdesc(table));

	return (pud_t *) table;
}

static inline void pud_free(struct mm_struct *mm, pud_t *pud)
{
	if (mm_pud_folded(mm))
		return;

	pagetable_dtor(virt_to_ptdesc(pud));
	crst_table_free(mm, (unsigned long *) pud);
}

static inline void pmd_free(struct mm_struct *mm, pmd_t *pmd)
{
	if (mm_pmd_folded(mm))
		return;
	pagetable_dtor(virt_to_ptdesc(pmd));
	crst_table_free(mm, (unsigned long *) pmd);
}
