// SPDX-License-Identifier: BSD-3-Clause
// fzl's mappers and fbl::RefPtr against the C calls: what CreateAndMap and Map map, their
// errors in order, the cache policy and rights they apply, unmapping on Unmap, on
// destruction and on move-assignment; OwnedVmoMapper's ownership; VmarManager's region,
// its parent chain and its destruction with the last reference.
#include <fbl/ref_counted.h>
#include <fbl/ref_ptr.h>
#include <lib/fzl/owned-vmo-mapper.h>
#include <lib/fzl/vmar-manager.h>
#include <lib/fzl/vmo-mapper.h>
#include <lib/zx/vmar.h>
#include <lib/zx/vmo.h>
#include <string.h>

#include <utility>

#include "cxx_helpers.h"

static zx_info_vmo_t vmo_info(const zx::vmo& v) {
  zx_info_vmo_t info{};
  cr_assert_eq(v.get_info(ZX_INFO_VMO, &info, sizeof(info), nullptr, nullptr), ZX_OK);
  return info;
}

// ---- fbl ----

namespace {
int g_deleted = 0;
class Counted : public fbl::RefCounted<Counted> {
 public:
  explicit Counted(int v) : value(v) {}
  ~Counted() { g_deleted++; }
  int value;
};
}  // namespace

Test(cxx_fbl, ref_ptr_counts_and_deletes_once) {
  g_deleted = 0;
  fbl::RefPtr<Counted> a = fbl::MakeRefCounted<Counted>(5);
  cr_assert(a);
  cr_assert_eq(a->ref_count_debug(), 1);
  fbl::RefPtr<Counted> b = a;
  cr_assert_eq(a->ref_count_debug(), 2);
  cr_assert(a == b);
  fbl::RefPtr<Counted> c(std::move(b));
  cr_assert(b == nullptr);
  cr_assert_eq(c->ref_count_debug(), 2);
  fbl::RefPtr<Counted> d(a.get());  // from a raw pointer: adds a reference
  cr_assert_eq(a->ref_count_debug(), 3);
  d.reset();
  c = nullptr;
  cr_assert_eq(g_deleted, 0);
  Counted* raw = a.leak_ref();
  cr_assert(a == nullptr);
  cr_assert_eq(g_deleted, 0);
  fbl::RefPtr<Counted> back = fbl::AdoptRef(raw);  // takes the leaked reference back
  fbl::RefPtr<Counted>& alias = back;
  back = alias;  // assigning a pointer to itself keeps the object alive
  cr_assert_eq(back->value, 5);
  back.reset();
  cr_assert_eq(g_deleted, 1);
}

// ---- VmoMapper ----

Test(cxx_fzl, create_and_map_maps_the_whole_vmo) {
  fzl::VmoMapper m;
  cr_assert_null(m.start());
  cr_assert_eq(m.size(), 0u);
  cr_assert(m.manager() == nullptr);
  zx::vmo vmo;
  cr_assert_eq(m.CreateAndMap(3 * page(), ZX_VM_PERM_READ | ZX_VM_PERM_WRITE, nullptr, &vmo),
               ZX_OK);
  cr_assert_not_null(m.start());
  cr_assert_eq(m.size(), 3 * page());
  cr_assert_eq(basic_info(vmo.get()).rights, ZX_DEFAULT_VMO_RIGHTS);
  auto* p = static_cast<uint8_t*>(m.start());
  p[2 * page() + 1] = 9;
  uint8_t b = 0;
  cr_assert_eq(vmo.read(&b, 2 * page() + 1, 1), ZX_OK);
  cr_assert_eq(b, 9);
  cr_assert_eq(vmo_info(vmo).num_mappings, 1u);
  m.Unmap();
  cr_assert_null(m.start());
  cr_assert_eq(m.size(), 0u);
  cr_assert_eq(vmo_info(vmo).num_mappings, 0u);
  m.Unmap();  // nothing mapped: nothing happens
}

Test(cxx_fzl, create_and_map_errors_in_order) {
  fzl::VmoMapper m;
  // Size 0 comes first, even when already mapped.
  cr_assert_eq(m.CreateAndMap(0), ZX_ERR_INVALID_ARGS);
  cr_assert_eq(m.CreateAndMap(page()), ZX_OK);
  void* start = m.start();
  cr_assert_eq(m.CreateAndMap(0), ZX_ERR_INVALID_ARGS);
  cr_assert_eq(m.CreateAndMap(page()), ZX_ERR_BAD_STATE);
  cr_assert_eq(m.start(), start);  // the mapping is untouched
  m.Unmap();
  // The VMO cannot be created: its status, nothing mapped.
  cr_assert_eq(m.CreateAndMap(page(), ZX_VM_PERM_READ, nullptr, nullptr, ZX_RIGHT_SAME_RIGHTS, 0,
                              ~0u),
               ZX_ERR_INVALID_ARGS);
  cr_assert_null(m.start());
  // The mapping fails (execute without the right): its status, nothing mapped.
  zx::vmo out;
  cr_assert_eq(m.CreateAndMap(page(), ZX_VM_PERM_READ | ZX_VM_PERM_EXECUTE, nullptr, &out),
               ZX_ERR_ACCESS_DENIED);
  cr_assert_null(m.start());
  cr_assert_not(out.is_valid());
  // Rights that cannot be set undo the mapping, and vmo_out stays empty.
  cr_assert_eq(m.CreateAndMap(page(), ZX_VM_PERM_READ, nullptr, &out, ZX_RIGHT_READ | (1u << 30)),
               ZX_ERR_INVALID_ARGS);
  cr_assert_null(m.start());
  cr_assert_not(out.is_valid());
  // Reduced rights are applied.
  cr_assert_eq(m.CreateAndMap(page(), ZX_VM_PERM_READ, nullptr, &out, ZX_RIGHT_READ), ZX_OK);
  cr_assert_eq(basic_info(out.get()).rights, ZX_RIGHT_READ);
}

Test(cxx_fzl, create_and_map_sets_the_cache_policy) {
  fzl::VmoMapper m;
  zx::vmo vmo;
  cr_assert_eq(m.CreateAndMap(page(), ZX_VM_PERM_READ | ZX_VM_PERM_WRITE, nullptr, &vmo,
                              ZX_RIGHT_SAME_RIGHTS, ZX_CACHE_POLICY_WRITE_COMBINING),
               ZX_OK);
  cr_assert_eq(vmo_info(vmo).cache_policy, ZX_CACHE_POLICY_WRITE_COMBINING);
  static_cast<volatile uint8_t*>(m.start())[0] = 1;
  m.Unmap();
  // An invalid policy: zx_vmo_set_cache_policy's status, nothing mapped.
  cr_assert_eq(m.CreateAndMap(page(), ZX_VM_PERM_READ, nullptr, &vmo, ZX_RIGHT_SAME_RIGHTS, 7),
               ZX_ERR_INVALID_ARGS);
  cr_assert_null(m.start());
}

Test(cxx_fzl, map_ranges_and_errors) {
  zx::vmo vmo;
  cr_assert_eq(zx::vmo::create(4 * page(), 0, &vmo), ZX_OK);
  uint8_t seven = 7;
  cr_assert_eq(vmo.write(&seven, 2 * page(), 1), ZX_OK);
  fzl::VmoMapper m;
  cr_assert_eq(m.Map(zx::vmo()), ZX_ERR_INVALID_ARGS);
  cr_assert_eq(m.Map(vmo, 4 * page(), page()), ZX_ERR_OUT_OF_RANGE);
  cr_assert_eq(m.Map(vmo, page(), UINT64_MAX), ZX_ERR_OUT_OF_RANGE);  // wraps
  cr_assert_eq(m.Map(vmo, 1, page()), ZX_ERR_INVALID_ARGS);  // from zx_vmar_map
  cr_assert_null(m.start());
  // Size 0: from the offset to the end.
  cr_assert_eq(m.Map(vmo, page(), 0, ZX_VM_PERM_READ), ZX_OK);
  cr_assert_eq(m.size(), 3 * page());
  cr_assert_eq(static_cast<uint8_t*>(m.start())[page()], 7);
  cr_assert_eq(m.Map(vmo), ZX_ERR_BAD_STATE);
  cr_assert_eq(vmo_info(vmo).num_mappings, 1u);
}

Test(cxx_fzl, destruction_and_moves_unmap) {
  zx::vmo vmo;
  cr_assert_eq(zx::vmo::create(page(), 0, &vmo), ZX_OK);
  {
    fzl::VmoMapper m;
    cr_assert_eq(m.Map(vmo), ZX_OK);
    cr_assert_eq(vmo_info(vmo).num_mappings, 1u);
  }
  cr_assert_eq(vmo_info(vmo).num_mappings, 0u);

  fzl::VmoMapper a;
  cr_assert_eq(a.Map(vmo), ZX_OK);
  void* start = a.start();
  fzl::VmoMapper b(std::move(a));
  cr_assert_null(a.start());
  cr_assert_eq(a.size(), 0u);
  cr_assert_eq(b.start(), start);
  a.Unmap();  // the moved-from mapper owns nothing
  cr_assert_eq(vmo_info(vmo).num_mappings, 1u);
  fzl::VmoMapper c;
  cr_assert_eq(c.Map(vmo), ZX_OK);
  cr_assert_eq(vmo_info(vmo).num_mappings, 2u);
  c = std::move(b);  // c's own mapping goes
  cr_assert_eq(vmo_info(vmo).num_mappings, 1u);
  cr_assert_eq(c.start(), start);
}

// ---- VmarManager ----

Test(cxx_fzl, vmar_manager_regions) {
  cr_assert(fzl::VmarManager::Create(0) == nullptr);
  fbl::RefPtr<fzl::VmarManager> parent = fzl::VmarManager::Create(16 * page());
  cr_assert(parent != nullptr);
  cr_assert(parent->vmar().is_valid());
  cr_assert_eq(parent->size(), 16 * page());
  cr_assert(parent->parent() == nullptr);
  zx_info_vmar_t vi{};
  cr_assert_eq(parent->vmar().get_info(ZX_INFO_VMAR, &vi, sizeof(vi), nullptr, nullptr), ZX_OK);
  cr_assert_eq(vi.base, reinterpret_cast<uintptr_t>(parent->start()));
  cr_assert_eq(vi.len, 16 * page());

  fbl::RefPtr<fzl::VmarManager> child = fzl::VmarManager::Create(4 * page(), parent);
  cr_assert(child != nullptr);
  cr_assert(child->parent() == parent);
  cr_assert_eq(parent->ref_count_debug(), 2);
  auto cbase = reinterpret_cast<uintptr_t>(child->start());
  cr_assert(cbase >= vi.base && cbase + 4 * page() <= vi.base + vi.len);
  // Larger than the parent: the allocation fails.
  cr_assert(fzl::VmarManager::Create(32 * page(), parent) == nullptr);

  zx::vmo vmo;
  cr_assert_eq(zx::vmo::create(2 * page(), 0, &vmo), ZX_OK);
  fzl::VmoMapper m;
  cr_assert_eq(m.Map(vmo, 0, 0, ZX_VM_PERM_READ | ZX_VM_PERM_WRITE, child), ZX_OK);
  auto start = reinterpret_cast<uintptr_t>(m.start());
  cr_assert(start >= cbase && start + m.size() <= cbase + 4 * page());
  cr_assert_eq(child->ref_count_debug(), 2);
  m.Unmap();
  cr_assert_eq(child->ref_count_debug(), 1);

  // The last reference destroys the region with what is still mapped in it.
  zx_vaddr_t addr = 0;
  cr_assert_eq(child->vmar().map(ZX_VM_PERM_READ, 0, vmo, 0, page(), &addr), ZX_OK);
  cr_assert_eq(vmo_info(vmo).num_mappings, 1u);
  zx::vmar region;
  cr_assert_eq(child->vmar().duplicate(ZX_RIGHT_SAME_RIGHTS, &region), ZX_OK);
  child.reset();
  cr_assert_eq(vmo_info(vmo).num_mappings, 0u);
  cr_assert_eq(region.map(ZX_VM_PERM_READ, 0, vmo, 0, page(), &addr), ZX_ERR_BAD_STATE);
  cr_assert_eq(parent->ref_count_debug(), 1);
}

// ---- OwnedVmoMapper ----

Test(cxx_fzl, owned_mapper_owns_the_vmo) {
  fzl::OwnedVmoMapper m;
  cr_assert_eq(m.CreateAndMap(2 * page(), "owned"), ZX_OK);
  cr_assert(m.vmo().is_valid());
  cr_assert_eq(m.size(), 2 * page());
  char name[ZX_MAX_NAME_LEN] = {};
  cr_assert_eq(m.vmo().get_property(ZX_PROP_NAME, name, sizeof(name)), ZX_OK);
  cr_assert_str_eq(name, "owned");
  zx_handle_t raw = m.vmo().get();
  m.Reset();
  cr_assert_not(handle_valid(raw));
  cr_assert_null(m.start());

  zx::vmo vmo;
  cr_assert_eq(zx::vmo::create(4 * page(), 0, &vmo), ZX_OK);
  raw = vmo.get();
  cr_assert_eq(m.Map(std::move(vmo), page()), ZX_OK);
  cr_assert_eq(m.vmo().get(), raw);
  cr_assert_eq(m.size(), page());
  fzl::OwnedVmoMapper moved;
  moved = std::move(m);
  cr_assert_not(m.vmo().is_valid());
  cr_assert_eq(moved.vmo().get(), raw);
  zx::vmo back = moved.Release();
  cr_assert_eq(back.get(), raw);
  cr_assert_null(moved.start());
  cr_assert_eq(vmo_info(back).num_mappings, 0u);
  // A failed Map closes the VMO it was given.
  zx::vmo small;
  cr_assert_eq(zx::vmo::create(page(), 0, &small), ZX_OK);
  raw = small.get();
  cr_assert_eq(moved.Map(std::move(small), 2 * page()), ZX_ERR_OUT_OF_RANGE);
  cr_assert_not(handle_valid(raw));
  cr_assert_not(moved.vmo().is_valid());
}
