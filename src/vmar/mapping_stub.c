// SPDX-License-Identifier: BSD-3-Clause
// STUB of the mapping core (mapping.h), for developing the VMAR layer before the real
// core (mapping.c, fault.c) lands: an anonymous private mapping with the requested
// protection stands where the VMO's pages should show. Nothing here is coherent with
// the VMO's contents; it only keeps the contracts the VMAR layer relies on (a mapping
// holds a VMO reference, splits keep both halves mapped, detaching restores the
// placeholder). It calls mmap/mprotect directly, which os.c otherwise owns: the file
// is dropped when the real core is merged.
#include <sys/mman.h>

#include "mapping.h"
#include "os.h"

static int prot_of(uint32_t perms) {
  int p = PROT_NONE;
  if (perms & ZX_VM_PERM_READ) p |= PROT_READ;
  if (perms & ZX_VM_PERM_WRITE) p |= PROT_WRITE;
  if (perms & ZX_VM_PERM_EXECUTE) p |= PROT_EXEC;
  return p;
}

zx_status_t mapping_attach(mapping_t* m, bool map_range) {
  (void)map_range;
  void* p = mmap((void*)m->base, m->len, prot_of(m->perms),
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1, 0);
  if (p == MAP_FAILED) return ZX_ERR_NO_MEMORY;
  object_ref(&m->vmo->obj);
  return ZX_OK;
}

void mapping_detach(mapping_t* m) {
  bool ok = os_placeholder(m->base, m->len);
  ZX_ASSERT(ok);
  object_unref(&m->vmo->obj);
}

void mapping_split(mapping_t* m, uintptr_t at, mapping_t* tail) {
  ZX_ASSERT(at > m->base && at < m->base + m->len);
  tail->base = at;
  tail->len = m->base + m->len - at;
  tail->vmo = m->vmo;
  tail->vmo_off = m->vmo_off + (at - m->base);
  tail->perms = m->perms;
  m->len = at - m->base;
  object_ref(&m->vmo->obj);
}

zx_status_t mapping_protect(mapping_t* m, uint32_t perms) {
  if (mprotect((void*)m->base, m->len, prot_of(perms)) != 0) return ZX_ERR_NO_MEMORY;
  m->perms = perms;
  return ZX_OK;
}

zx_status_t mapping_op_range(mapping_t* m, uint32_t op, uintptr_t addr, uint64_t len) {
  uint64_t off = m->vmo_off + (addr - m->base);
  switch (op) {
    case ZX_VMAR_OP_COMMIT:
      return vmo_commit(m->vmo, off, len);
    case ZX_VMAR_OP_DECOMMIT:
      return vmo_decommit(m->vmo, off, len);
    case ZX_VMAR_OP_ZERO:
      return vmo_zero(m->vmo, off, len);
    default:
      return ZX_OK;
  }
}

uint64_t mapping_committed_bytes(mapping_t* m) {
  (void)m;
  return 0;
}

zx_status_t fault_init(void) { return ZX_OK; }
