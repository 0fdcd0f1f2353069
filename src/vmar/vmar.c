// SPDX-License-Identifier: BSD-3-Clause
// TEMPORARY stub (not committed): a flat list of mappings for testing the core.
#include "vmar.h"
#include "rwlock.h"
#include "os.h"
static rw_lock_t g_lock;
static mapping_t* g_list[4096];
static int g_n;
static uintptr_t g_base; static uint64_t g_len;
void aspace_rdlock(void) { rw_rdlock(&g_lock); }
void aspace_wrlock(void) { rw_wrlock(&g_lock); }
void aspace_unlock(void) { rw_unlock(&g_lock); }
mapping_t* aspace_lookup(uintptr_t a) {
  for (int i = 0; i < g_n; i++) if (g_list[i] && a >= g_list[i]->base && a < g_list[i]->base + g_list[i]->len) return g_list[i];
  return NULL;
}
bool aspace_contains(uintptr_t a, uint64_t n) { return g_len && a < g_base + g_len && a + n > g_base; }
uintptr_t stub_reserve(uint64_t len);
void stub_add(mapping_t* m);
void stub_remove(mapping_t* m);
uintptr_t stub_reserve(uint64_t len) { if (!g_len) { os_reserve((uint64_t)1 << 36, &g_base); g_len = (uint64_t)1 << 36; } static uint64_t used; uintptr_t r = g_base + used; used += len + (1 << 20); return r; }
void stub_add(mapping_t* m) { g_list[g_n++] = m; }
void stub_remove(mapping_t* m) { for (int i = 0; i < g_n; i++) if (g_list[i] == m) g_list[i] = NULL; }
void aspace_for_each(void (*fn)(mapping_t* m, void* ctx), void* ctx) { for (int i = 0; i < g_n; i++) if (g_list[i]) fn(g_list[i], ctx); }
