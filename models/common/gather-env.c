/*
 * Code shared by the models of the generic page-table code (review-bot's statement of it): the
 * generic *_free_tlb() macros of asm-generic/tlb.h, which widen the gather's range, mark that
 * tables are freed and call the architecture's __*_free_tlb(); and the IPIs of mm/mmu_gather.c
 * (smp_call_function() runs the function on every other CPU and waits; the model's mm runs on
 * every CPU, so an IPI to the CPUs of a mask reaches all of them).
 */

void pte_free_tlb(struct mmu_gather *tlb, pgtable_t ptep, unsigned long address)
{
	tlb_flush_pmd_range(tlb, address, PAGE_SIZE);
	tlb->freed_tables = 1;
	__pte_free_tlb(tlb, ptep, address);
}

void pmd_free_tlb(struct mmu_gather *tlb, pmd_t *pmdp, unsigned long address)
{
	tlb_flush_pud_range(tlb, address, PAGE_SIZE);
	tlb->freed_tables = 1;
	__pmd_free_tlb(tlb, pmdp, address);
}

void pud_free_tlb(struct mmu_gather *tlb, pud_t *pudp, unsigned long address)
{
	tlb_flush_p4d_range(tlb, address, PAGE_SIZE);
	tlb->freed_tables = 1;
	__pud_free_tlb(tlb, pudp, address);
}

void smp_call_function(smp_call_func_t func, void *info, int wait)
{
	ipi_all_cpus();
	func(info);
}

/* the mask of the online CPUs (its identity only: the IPIs here reach every CPU) */
struct cpumask *cpu_online_mask;

/* an IPI to the CPUs of a mask: the model's mm runs on every CPU, so that is all of them */
void on_each_cpu_mask(const struct cpumask *mask, smp_call_func_t func, void *info, bool wait)
{
	ipi_all_cpus();
	func(info);
}

/* an IPI to the CPUs of a mask for which cond_func() holds (every one of them without it): the
 * predicates in use skip CPUs that run user code, and the model's walkers all run in the kernel */
void on_each_cpu_cond_mask(smp_cond_func_t cond_func, smp_call_func_t func, void *info, bool wait,
			   const struct cpumask *mask)
{
	ipi_all_cpus();
	func(info);
}
