"""Relevance over the whole 2023 linux-s390 year: the computed set of relevant formal postings
equals the list below, each checked by reading its diff.

Formal posting: a message whose subject starts with a [..PATCH..] tag and carries a diff (replies
with inline diffs are not formal). Relevance is decided from the code only (bot.sites.analyze).
Relevant since the generic page-table code is modeled: the ptdesc conversion of the constructors,
destructors and split-lock functions of include/linux/mm.h and include/asm-generic. Not relevant,
by design: the ptdesc conversions of architectures no model covers, s390 gmap/KVM, drivers,
WARN-only and comment-only changes (e.g. "[PATCH v3 13/13] mm/pgtable: notes on
pte_offset_map[_lock]()").
"""

from __future__ import annotations

import re

import pytest

from bot.sites import analyze
from tests.corpus import year
from tests.test_sites_helpers import decompressed, iter_mbox, to_posting

_FORMAL = re.compile(r"^\[[^\]]*PATCH[^\]]*\]", re.I)

RELEVANT = [
    # [PATCH 2/3] mmu_gather IPI fallback of table freeing (tlb_remove_table_sync_one)
    "20230404134224.137038-3-ypodemsk@redhat.com",
    # [PATCH 3/3] mmu_gather IPI fallback of table freeing (tlb_remove_table_sync_one)
    "20230404134224.137038-4-ypodemsk@redhat.com",
    # [PATCH 02/33] s390 fragment A/P bits move from _refcount to pt_frag_refcount in page_table_*()
    "20230417205048.15870-3-vishal.moola@gmail.com",
    # [PATCH 13/33] powerpc pte_fragment_free(): dtor + final free via ptdesc
    "20230417205048.15870-14-vishal.moola@gmail.com",
    # [PATCH 16/33] s390 page_table_alloc/free/__tlb_remove_table frees via ptdesc
    "20230417205048.15870-17-vishal.moola@gmail.com",
    # [PATCH 30/33] sparc64 __pte_free(): the dtor + free that pte_free_now() runs
    "20230417205048.15870-31-vishal.moola@gmail.com",
    # [PATCH v2 03/34] s390 fragment A/P bits move from _refcount to pt_frag_refcount in page_table_*()
    "20230501192829.17086-4-vishal.moola@gmail.com",
    # [PATCH v2 14/34] powerpc pte_fragment_free(): dtor + final free via ptdesc
    "20230501192829.17086-15-vishal.moola@gmail.com",
    # [PATCH v2 17/34] s390 page_table_alloc/free/__tlb_remove_table frees via ptdesc
    "20230501192829.17086-18-vishal.moola@gmail.com",
    # [PATCH v2 31/34] sparc64 __pte_free(): the dtor + free that pte_free_now() runs
    "20230501192829.17086-32-vishal.moola@gmail.com",
    # [PATCH 01/12] reader side: rcu_read_lock/unlock in __pte_offset_map()
    "88c445ae-552-5243-31a4-2674bac62d4d@google.com",
    # [PATCH 02/12] reader side (PAE): changes __pte_offset_map(), the RCU walker entry
    "923480d5-35ab-7cac-79d0-343d16e29318@google.com",
    # [PATCH 05/12] powerpc pte_free_defer(): call_rcu on the shared page's rcu_head
    "28eb289f-ea2c-8eb9-63bb-9f7d7b9ccc11@google.com",
    # [PATCH 06/12] sparc pte_free_defer(): call_rcu, dtor + free in the callback
    "f8d84fb8-eb9-6649-7137-715c6010468c@google.com",
    # [PATCH 07/12] s390 pte_free_defer(): call_rcu on page->rcu_head, fragment bits, list ops
    "6dd63b39-e71f-2e8b-7e0-83e02f3bcb39@google.com",
    # [PATCH 08/12] generic pte_free_defer(): call_rcu with pte_free_now() callback
    "739964d-c535-4db4-90ec-2166285b4d47@google.com",
    # [PATCH 09/12] khugepaged caller: adds pte_free_defer() of the retracted table
    "2e9996fa-d238-e7c-1194-834a2bd1f60@google.com",
    # [PATCH 10/12] khugepaged caller: adds pte_free_defer() of the retracted table
    "563340a4-7ac9-7cc8-33d8-f7cc6ef19ea6@google.com",
    # [PATCH v3 03/34] s390 fragment A/P bits move from _refcount to pt_frag_refcount in page_table_*()
    "20230531213032.25338-4-vishal.moola@gmail.com",
    # [PATCH v3 14/34] powerpc pte_fragment_free(): dtor + final free via ptdesc
    "20230531213032.25338-15-vishal.moola@gmail.com",
    # [PATCH v3 17/34] s390 page_table_alloc/free/__tlb_remove_table frees via ptdesc
    "20230531213032.25338-18-vishal.moola@gmail.com",
    # [PATCH v3 31/34] sparc64 __pte_free(): the dtor + free that pte_free_now() runs
    "20230531213032.25338-32-vishal.moola@gmail.com",
    # [PATCH v4 03/34] s390 fragment A/P bits move from _refcount to pt_frag_refcount in page_table_*()
    "20230612210423.18611-4-vishal.moola@gmail.com",
    # [PATCH v4 14/34] powerpc pte_fragment_free(): dtor + final free via ptdesc
    "20230612210423.18611-15-vishal.moola@gmail.com",
    # [PATCH v4 17/34] s390 page_table_alloc/free/__tlb_remove_table frees via ptdesc
    "20230612210423.18611-18-vishal.moola@gmail.com",
    # [PATCH v4 31/34] sparc64 __pte_free(): the dtor + free that pte_free_now() runs
    "20230612210423.18611-32-vishal.moola@gmail.com",
    # [PATCH v2 01/12] reader side: rcu_read_lock/unlock in __pte_offset_map()
    "53514a65-9053-1e8a-c76a-c158f8965@google.com",
    # [PATCH v2 02/12] reader side (PAE): changes __pte_offset_map(), the RCU walker entry
    "df1884ce-93c-efa-2354-4d749eb25f1@google.com",
    # [PATCH v2 05/12] powerpc pte_free_defer(): call_rcu on the shared page's rcu_head
    "5cd9f442-61da-4c3d-eca-b7f44d22aa5f@google.com",
    # [PATCH v2 06/12] sparc pte_free_defer(): call_rcu, dtor + free in the callback
    "cb3feef8-f49e-7a54-a6d6-2e9b188f7564@google.com",
    # [PATCH v2 07/12] s390 pte_free_defer(): call_rcu on page->rcu_head, fragment bits, list ops
    "a722dbec-bd9e-1213-1edd-53cd547aa4f@google.com",
    # [PATCH v2 08/12] generic pte_free_defer(): call_rcu with pte_free_now() callback
    "3e5961a2-26e5-d1ab-5c4c-527e273e3cc5@google.com",
    # [PATCH v2 09/12] khugepaged caller: adds pte_free_defer() of the retracted table
    "f03ea9a-5386-eb78-50d7-b6a93959d01e@google.com",
    # [PATCH v2 10/12] khugepaged caller: adds pte_free_defer() of the retracted table
    "f99eb35-635c-8447-8a27-378d11d1e097@google.com",
    # [PATCH mm 10/12] khugepaged caller: adds pte_free_defer() of the retracted table
    "1bf7bd26-7d6-77a1-150-c9665ad14d71@google.com",
    # [PATCH v2 2/2] mmu_gather IPI fallback of table freeing (tlb_remove_table_sync_one)
    "20230620144618.125703-3-ypodemsk@redhat.com",
    # [PATCH v5 13/33] powerpc pte_fragment_free(): dtor + final free via ptdesc
    "20230622205745.79707-14-vishal.moola@gmail.com",
    # [PATCH v5 16/33] s390 page_table_alloc/free/__tlb_remove_table frees via ptdesc
    "20230622205745.79707-17-vishal.moola@gmail.com",
    # [PATCH v5 30/33] sparc64 __pte_free(): the dtor + free that pte_free_now() runs
    "20230622205745.79707-31-vishal.moola@gmail.com",
    # [PATCH v6 13/33] powerpc pte_fragment_free(): dtor + final free via ptdesc
    "20230627031431.29653-14-vishal.moola@gmail.com",
    # [PATCH v6 16/33] s390 page_table_alloc/free/__tlb_remove_table frees via ptdesc
    "20230627031431.29653-17-vishal.moola@gmail.com",
    # [PATCH v6 30/33] sparc64 __pte_free(): the dtor + free that pte_free_now() runs
    "20230627031431.29653-31-vishal.moola@gmail.com",
    # [PATCH v3 01/13] reader side: rcu_read_lock/unlock in __pte_offset_map()
    "d3b01da5-2a6-833c-6681-67a3e024a16f@google.com",
    # [PATCH v3 02/13] reader side (PAE): changes __pte_offset_map(), the RCU walker entry
    "3adcd8f-9191-2df1-d7ea-c4877698aad@google.com",
    # [PATCH v3 05/13] powerpc pte_free_defer(): call_rcu on the shared page's rcu_head
    "6e3ca5f1-334d-4b14-b92d-fc8e99914fcb@google.com",
    # [PATCH v3 06/13] sparc pte_free_defer(): call_rcu, dtor + free in the callback
    "dc4f318d-a66a-5622-dc44-9018ea814b37@google.com",
    # [PATCH v3 07/13] s390 pte_free_defer(): call_rcu on page->rcu_head, fragment bits, list ops
    "94eccf5f-264c-8abe-4567-e77f4b4e14a@google.com",
    # [PATCH v3 08/13] generic pte_free_defer(): call_rcu with pte_free_now() callback
    "78e921b0-b681-a1b0-dc20-44c9efa4ef3c@google.com",
    # [PATCH v3 09/13] khugepaged caller: adds pte_free_defer() of the retracted table
    "f88970d9-d347-9762-ae6d-da978e8a4df@google.com",
    # [PATCH v3 10/13] khugepaged caller: adds pte_free_defer() of the retracted table
    "b53be6a4-7715-51f9-aad-f1347dcb7c4@google.com",
    # [PATCH v3 07/13 fix] v3 07 fix: changes the WARN in s390 pte_free_defer()
    "3bc095ba-a180-ce3b-82b1-2bfc64612f3@google.com",
    # [PATCH mm-unstable v7 12/31] powerpc pte_fragment_free(): dtor + final free via ptdesc
    "20230725042051.36691-13-vishal.moola@gmail.com",
    # [PATCH mm-unstable v7 14/31] s390 page_table_alloc/free/__tlb_remove_table frees via ptdesc
    "20230725042051.36691-15-vishal.moola@gmail.com",
    # [PATCH mm-unstable v7 28/31] sparc64 __pte_free(): the dtor + free that pte_free_now() runs
    "20230725042051.36691-29-vishal.moola@gmail.com",
    # [PATCH mm-unstable v8 12/31] powerpc pte_fragment_free(): dtor + final free via ptdesc
    "20230731170332.69404-13-vishal.moola@gmail.com",
    # [PATCH mm-unstable v8 14/31] s390 page_table_alloc/free/__tlb_remove_table frees via ptdesc
    "20230731170332.69404-15-vishal.moola@gmail.com",
    # [PATCH mm-unstable v8 28/31] sparc64 __pte_free(): the dtor + free that pte_free_now() runs
    "20230731170332.69404-29-vishal.moola@gmail.com",
    # [PATCH mm-unstable v9 12/31] powerpc pte_fragment_free(): dtor + final free via ptdesc
    "20230807230513.102486-13-vishal.moola@gmail.com",
    # [PATCH mm-unstable v9 14/31] s390 page_table_alloc/free/__tlb_remove_table frees via ptdesc
    "20230807230513.102486-15-vishal.moola@gmail.com",
    # [PATCH mm-unstable v9 28/31] sparc64 __pte_free(): the dtor + free that pte_free_now() runs
    "20230807230513.102486-29-vishal.moola@gmail.com",
    # The ptdesc conversion of the page-table API (nine revisions): each changes a constructor,
    # destructor or split-lock function (ptlock_*, pagetable_*/pgtable_*_page_[cd]tor, tlb_remove_ptdesc)
    # or the generic allocators that call them; the generic models judge them.
    # mm: Convert pmd_ptlock_free() to use ptdescs
    "20230417205048.15870-11-vishal.moola@gmail.com",
    "20230501192829.17086-12-vishal.moola@gmail.com",
    "20230531213032.25338-12-vishal.moola@gmail.com",
    "20230612210423.18611-12-vishal.moola@gmail.com",
    "20230622205745.79707-11-vishal.moola@gmail.com",
    "20230627031431.29653-11-vishal.moola@gmail.com",
    "20230725042051.36691-10-vishal.moola@gmail.com",
    "20230731170332.69404-10-vishal.moola@gmail.com",
    "20230807230513.102486-10-vishal.moola@gmail.com",
    # mm: Convert pmd_ptlock_init() to use ptdescs
    "20230417205048.15870-9-vishal.moola@gmail.com",
    "20230501192829.17086-10-vishal.moola@gmail.com",
    "20230531213032.25338-10-vishal.moola@gmail.com",
    "20230612210423.18611-10-vishal.moola@gmail.com",
    "20230622205745.79707-9-vishal.moola@gmail.com",
    "20230627031431.29653-9-vishal.moola@gmail.com",
    "20230725042051.36691-8-vishal.moola@gmail.com",
    "20230731170332.69404-8-vishal.moola@gmail.com",
    "20230807230513.102486-8-vishal.moola@gmail.com",
    # mm: Convert ptlock_alloc() to use ptdescs
    "20230417205048.15870-7-vishal.moola@gmail.com",
    "20230501192829.17086-8-vishal.moola@gmail.com",
    "20230531213032.25338-8-vishal.moola@gmail.com",
    "20230612210423.18611-8-vishal.moola@gmail.com",
    "20230622205745.79707-7-vishal.moola@gmail.com",
    "20230627031431.29653-7-vishal.moola@gmail.com",
    "20230725042051.36691-6-vishal.moola@gmail.com",
    "20230731170332.69404-6-vishal.moola@gmail.com",
    "20230807230513.102486-6-vishal.moola@gmail.com",
    # mm: Convert ptlock_free() to use ptdescs
    "20230417205048.15870-12-vishal.moola@gmail.com",
    "20230501192829.17086-13-vishal.moola@gmail.com",
    "20230531213032.25338-13-vishal.moola@gmail.com",
    "20230612210423.18611-13-vishal.moola@gmail.com",
    "20230622205745.79707-12-vishal.moola@gmail.com",
    "20230627031431.29653-12-vishal.moola@gmail.com",
    "20230725042051.36691-11-vishal.moola@gmail.com",
    "20230731170332.69404-11-vishal.moola@gmail.com",
    "20230807230513.102486-11-vishal.moola@gmail.com",
    # mm: Convert ptlock_init() to use ptdescs
    "20230417205048.15870-10-vishal.moola@gmail.com",
    "20230501192829.17086-11-vishal.moola@gmail.com",
    "20230531213032.25338-11-vishal.moola@gmail.com",
    "20230612210423.18611-11-vishal.moola@gmail.com",
    "20230622205745.79707-10-vishal.moola@gmail.com",
    "20230627031431.29653-10-vishal.moola@gmail.com",
    "20230725042051.36691-9-vishal.moola@gmail.com",
    "20230731170332.69404-9-vishal.moola@gmail.com",
    "20230807230513.102486-9-vishal.moola@gmail.com",
    # mm: Convert ptlock_ptr() to use ptdescs
    "20230417205048.15870-8-vishal.moola@gmail.com",
    "20230501192829.17086-9-vishal.moola@gmail.com",
    "20230531213032.25338-9-vishal.moola@gmail.com",
    "20230612210423.18611-9-vishal.moola@gmail.com",
    "20230622205745.79707-8-vishal.moola@gmail.com",
    "20230627031431.29653-8-vishal.moola@gmail.com",
    "20230725042051.36691-7-vishal.moola@gmail.com",
    "20230731170332.69404-7-vishal.moola@gmail.com",
    "20230807230513.102486-7-vishal.moola@gmail.com",
    # mm: Create ptdesc equivalents for pgtable_{pte,pmd}_page_{cto
    "20230725042051.36691-12-vishal.moola@gmail.com",
    "20230731170332.69404-12-vishal.moola@gmail.com",
    "20230807230513.102486-12-vishal.moola@gmail.com",
    # mm: Create ptdesc equivalents for pgtable_{pte,pmd}_page_{ctor,dtor}
    "20230417205048.15870-13-vishal.moola@gmail.com",
    "20230501192829.17086-14-vishal.moola@gmail.com",
    "20230531213032.25338-14-vishal.moola@gmail.com",
    "20230612210423.18611-14-vishal.moola@gmail.com",
    "20230622205745.79707-13-vishal.moola@gmail.com",
    "20230627031431.29653-13-vishal.moola@gmail.com",
    # mm: Remove pgtable_{pmd, pte}_page_{ctor, dtor}() wrappers
    "20230417205048.15870-34-vishal.moola@gmail.com",
    "20230501192829.17086-35-vishal.moola@gmail.com",
    "20230531213032.25338-35-vishal.moola@gmail.com",
    "20230612210423.18611-35-vishal.moola@gmail.com",
    "20230622205745.79707-34-vishal.moola@gmail.com",
    "20230627031431.29653-34-vishal.moola@gmail.com",
    "20230725042051.36691-32-vishal.moola@gmail.com",
    "20230731170332.69404-32-vishal.moola@gmail.com",
    "20230807230513.102486-32-vishal.moola@gmail.com",
    # mm: add utility functions for ptdesc
    "20230417205048.15870-5-vishal.moola@gmail.com",
    "20230501192829.17086-6-vishal.moola@gmail.com",
    "20230531213032.25338-6-vishal.moola@gmail.com",
    "20230612210423.18611-6-vishal.moola@gmail.com",
    "20230622205745.79707-5-vishal.moola@gmail.com",
    "20230627031431.29653-5-vishal.moola@gmail.com",
    "20230725042051.36691-4-vishal.moola@gmail.com",
    "20230731170332.69404-4-vishal.moola@gmail.com",
    "20230807230513.102486-4-vishal.moola@gmail.com",
    # pgalloc: Convert various functions to use ptdescs
    "20230417205048.15870-19-vishal.moola@gmail.com",
    "20230501192829.17086-20-vishal.moola@gmail.com",
    "20230531213032.25338-20-vishal.moola@gmail.com",
    "20230612210423.18611-20-vishal.moola@gmail.com",
    "20230622205745.79707-19-vishal.moola@gmail.com",
    "20230627031431.29653-19-vishal.moola@gmail.com",
    "20230725042051.36691-17-vishal.moola@gmail.com",
    "20230731170332.69404-17-vishal.moola@gmail.com",
    "20230807230513.102486-17-vishal.moola@gmail.com",
    # s390: Convert various gmap functions to use ptdescs
    "20230622205745.79707-16-vishal.moola@gmail.com",
    "20230627031431.29653-16-vishal.moola@gmail.com",
]

MUST = {  # pte-free-defer 05-08 of v1/v2/v3 and the v3 07 fix
    "28eb289f-ea2c-8eb9-63bb-9f7d7b9ccc11@google.com", "f8d84fb8-eb9-6649-7137-715c6010468c@google.com",
    "6dd63b39-e71f-2e8b-7e0-83e02f3bcb39@google.com", "739964d-c535-4db4-90ec-2166285b4d47@google.com",
    "5cd9f442-61da-4c3d-eca-b7f44d22aa5f@google.com", "cb3feef8-f49e-7a54-a6d6-2e9b188f7564@google.com",
    "a722dbec-bd9e-1213-1edd-53cd547aa4f@google.com", "3e5961a2-26e5-d1ab-5c4c-527e273e3cc5@google.com",
    "6e3ca5f1-334d-4b14-b92d-fc8e99914fcb@google.com", "dc4f318d-a66a-5622-dc44-9018ea814b37@google.com",
    "94eccf5f-264c-8abe-4567-e77f4b4e14a@google.com", "78e921b0-b681-a1b0-dc20-44c9efa4ef3c@google.com",
    "3bc095ba-a180-ce3b-82b1-2bfc64612f3@google.com",
}


@pytest.fixture(scope="module")
def year_result():
    path = decompressed(year())
    try:
        formal, relevant = 0, set()
        for msg in iter_mbox(path):
            if not _FORMAL.match(" ".join(str(msg.get("Subject", "")).split())):
                continue
            p = to_posting(msg)
            if not p.files:
                continue
            formal += 1
            if analyze(p).relevant:
                relevant.add(p.msgid)
        return formal, relevant
    finally:
        path.unlink()
        path.parent.rmdir()


def test_list_is_consistent():
    assert len(RELEVANT) == len(set(RELEVANT)) == 152
    assert MUST <= set(RELEVANT)


def test_year_relevant_set_is_exactly_the_reviewed_list(year_result):
    formal, relevant = year_result
    assert formal > 3000  # the whole year was read, not a truncated stream
    assert relevant == set(RELEVANT), (sorted(relevant - set(RELEVANT)), sorted(set(RELEVANT) - relevant))
