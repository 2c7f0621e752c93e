/*
 * arch/s390/include/asm/mmu_context.h as the s390 model reads it (review-bot's own statement):
 * what a new mm's context starts with, and what its teardown does.
 *
 * init_new_context() sets up the per-mm lock and the lists the page-table code uses; the rest of
 * it (the address-space control element, the PGSTE flags) touches nothing the model tracks and is
 * left out. destroy_context() is the asm-generic empty one: __mmdrop() calls it (models/s390/env.c),
 * so a patch that gives s390 its own runs there.
 */

#define init_new_context init_new_context
static inline int init_new_context(struct task_struct *tsk,
				   struct mm_struct *mm)
{
	unsigned long asce_type, init_entry;

	spin_lock_init(&mm->context.lock);
	INIT_LIST_HEAD(&mm->context.pgtable_list);
	INIT_LIST_HEAD(&mm->context.gmap_list);
	cpumask_clear(&mm->context.cpu_attach_mask);
	atomic_set(&mm->context.flush_count, 0);
	mm->context.gmap_asce = 0;
	mm->context.flush_mm = 0;
	return 0;
}

#define destroy_context(mm)	do { } while (0)
