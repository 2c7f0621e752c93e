/*
 * Code around the page-table functions that the scenarios exercise and that patches to
 * pgalloc.c do not change (review-bot's own statement of it).
 *
 * __tlb_flush_mm_lazy() runs from finish_arch_post_lock_switch() in process context and takes
 * mm->context.lock with plain spin_lock(), softirqs enabled. gmap_create()/gmap_remove() do the
 * same. So an RCU callback (softirq) that takes mm->context.lock can interrupt such a holder on its
 * own CPU and spin forever.
 */

void __tlb_flush_mm_lazy(struct mm_struct *mm)
{
	spin_lock(&mm->context.lock);
	if (mm->context.flush_mm) {
		mm->context.flush_mm = 0;
	}
	spin_unlock(&mm->context.lock);
}

/*
 * The last mm_count reference: kernel/fork.c's __mmdrop() runs the architecture's destroy_context()
 * (asm-generic: empty; models/s390/mmu_context.h.c) before the mm is freed. It runs wherever the
 * last mmdrop() happens: a lazy-TLB switch with preemption disabled, an RCU callback, or exit.
 */
void __mmdrop(struct mm_struct *mm)
{
	destroy_context(mm);
	free_mm(mm);
}
